//! `gatehouse bench` end to end: a short run of every workload, as JSON.

#[tokio::test]
async fn a_short_bench_run_reports_every_workload_without_errors() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "bench",
            "--duration",
            "1",
            "--concurrency",
            "4",
            "--families",
            "4",
        ])
        .args([
            "--revoke-families",
            "200",
            "--scale-families",
            "300",
            "--json",
        ])
        .output()
        .await
        .expect("run gatehouse bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench failed: {stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    let workloads: Vec<&str> = report["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["workload"].as_str().unwrap())
        .collect();
    assert_eq!(
        workloads,
        ["introspect", "me", "refresh", "refresh-window", "flow"]
    );
    for workload in report["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["baselines"].as_array().unwrap())
    {
        assert!(workload["requests"].as_u64().unwrap() > 0, "{workload}");
        assert_eq!(workload["errors"], serde_json::json!({}), "{workload}");
    }
    assert!(
        report["workloads"][0]["ratio_to_baseline"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(
        report["workloads"][2]["writes_per_commit"]
            .as_f64()
            .unwrap()
            >= 1.0,
        "refresh writes are counted"
    );
    // The server runs as a child process: its own CPU, and the writer's figures.
    for workload in report["workloads"].as_array().unwrap() {
        assert!(
            workload["server_cpu_us_per_request"].as_f64().unwrap() > 0.0,
            "{workload}"
        );
    }
    let refresh = &report["workloads"][2];
    assert!(
        refresh["writer_busy_us_per_write"].as_f64().unwrap() > 0.0,
        "{refresh}"
    );
    assert!(refresh["commit_ms"].as_f64().unwrap() > 0.0, "{refresh}");
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    assert_eq!(report["revoke"]["families"], 200);
    assert_eq!(report["scale"]["families"], 300);
    assert!(report["rss_peak_kib"].as_u64().unwrap() > 0);
    assert!(stderr.contains("seeding"), "a progress line on stderr");
}

#[tokio::test]
async fn metrics_cost_runs_each_workload_with_metrics_off_then_on() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "bench",
            "--duration",
            "1",
            "--concurrency",
            "4",
            "--families",
            "4",
        ])
        .args(["--workload", "refresh", "--workload", "introspect"])
        .args(["--metrics-cost", "--json"])
        .output()
        .await
        .expect("run gatehouse bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench failed: {stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    let costs = report["metrics_cost"].as_array().unwrap();
    let names: Vec<&str> = costs
        .iter()
        .map(|c| c["workload"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["refresh", "introspect"]);
    for cost in costs {
        assert!(
            cost["off_requests_per_sec"].as_f64().unwrap() > 0.0,
            "{cost}"
        );
        assert!(
            cost["on_requests_per_sec"].as_f64().unwrap() > 0.0,
            "{cost}"
        );
    }
}
