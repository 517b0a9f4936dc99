//! Bench figures: latency percentiles, errors by status and code, ratios to
//! the baseline, memory; printed as a table or one JSON document.

use super::machine::{MachineInfo, ServerCost};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// An HTTP answer other than success: status and OAuth error code.
    Status(u16, String),
    Failed(String),
}

impl Outcome {
    pub async fn of(response: reqwest::Response) -> Outcome {
        let status = response.status().as_u16();
        if response.status().is_success() {
            let _ = response.bytes().await;
            return Outcome::Ok;
        }
        let code = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|body| body["error"].as_str().map(str::to_owned))
            .unwrap_or_default();
        Outcome::Status(status, code)
    }
}

impl Outcome {
    /// An answer read whole: success, or the status and the OAuth error code.
    pub fn answer(status: u16, body: &[u8]) -> Outcome {
        if (200..300).contains(&status) {
            return Outcome::Ok;
        }
        let code = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|body| body["error"].as_str().map(str::to_owned))
            .unwrap_or_default();
        Outcome::Status(status, code)
    }
}

pub struct Sample {
    pub micros: u32,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadResult {
    pub workload: &'static str,
    pub requests: usize,
    pub seconds: f64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// "STATUS error_code" (or the transport error) → count.
    pub errors: BTreeMap<String, usize>,
    /// requests/s divided by the baseline run just before it.
    pub ratio_to_baseline: Option<f64>,
    /// What the run cost the server, its writer and the machine.
    #[serde(flatten)]
    pub cost: ServerCost,
}

impl WorkloadResult {
    pub fn new(
        workload: &'static str,
        samples: Vec<Sample>,
        elapsed: Duration,
        cost: ServerCost,
    ) -> Self {
        let mut micros: Vec<u32> = samples.iter().map(|s| s.micros).collect();
        micros.sort_unstable();
        let percentile = |p: f64| -> f64 {
            if micros.is_empty() {
                return 0.0;
            }
            let index = ((micros.len() as f64 * p).ceil() as usize).clamp(1, micros.len()) - 1;
            micros[index] as f64 / 1000.0
        };
        let mut errors = BTreeMap::new();
        for sample in &samples {
            match &sample.outcome {
                Outcome::Ok => {}
                Outcome::Status(status, code) => {
                    *errors
                        .entry(format!("{status} {code}").trim().to_owned())
                        .or_insert(0) += 1
                }
                Outcome::Failed(error) => {
                    *errors.entry(format!("transport: {error}")).or_insert(0) += 1
                }
            }
        }
        let seconds = elapsed.as_secs_f64();
        WorkloadResult {
            workload,
            requests: samples.len(),
            seconds,
            requests_per_sec: samples.len() as f64 / seconds.max(1e-9),
            p50_ms: percentile(0.50),
            p99_ms: percentile(0.99),
            max_ms: percentile(1.0),
            errors,
            ratio_to_baseline: None,
            cost,
        }
    }

    /// Every error is unexpected: the workloads only send valid requests.
    pub fn unexpected(&self) -> Vec<(String, usize)> {
        self.errors.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RevokeResult {
    pub families: i64,
    pub millis: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScaleResult {
    pub families: usize,
    pub seed_secs: f64,
    pub first_page_ms_median: f64,
    pub first_page_ms_max: f64,
    pub bytes_per_family: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: MachineInfo,
    pub concurrency: usize,
    pub baselines: Vec<WorkloadResult>,
    pub workloads: Vec<WorkloadResult>,
    pub revoke: Option<RevokeResult>,
    pub scale: Option<ScaleResult>,
    pub rss_idle_kib: Option<u64>,
    pub rss_peak_kib: Option<u64>,
    /// Resident memory around the authorize-flood workload.
    pub flood_memory: Option<FloodMemory>,
    /// Each workload with metrics off and on (`--metrics-cost`).
    pub metrics_cost: Vec<MetricsCost>,
    /// What recording one /token request's metrics takes, in nanoseconds.
    pub metrics_record_ns: Option<f64>,
}

/// One workload run against a server without metrics, then one with them.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsCost {
    pub workload: &'static str,
    pub off_requests_per_sec: f64,
    pub on_requests_per_sec: f64,
    pub off_p99_ms: f64,
    pub on_p99_ms: f64,
    /// How much slower with metrics, in percent (negative: faster, i.e. noise).
    pub cost_percent: f64,
}

impl MetricsCost {
    pub fn new(off: &WorkloadResult, on: &WorkloadResult) -> Self {
        MetricsCost {
            workload: off.workload,
            off_requests_per_sec: off.requests_per_sec,
            on_requests_per_sec: on.requests_per_sec,
            off_p99_ms: off.p99_ms,
            on_p99_ms: on.p99_ms,
            cost_percent: (1.0 - on.requests_per_sec / off.requests_per_sec.max(1e-9)) * 100.0,
        }
    }
}

/// Resident memory (KiB) before, at the peak of, and after a flood.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FloodMemory {
    pub before_kib: u64,
    pub peak_kib: u64,
    pub after_kib: u64,
}

/// Samples resident memory every 50 ms while a workload runs.
pub struct MemorySampler {
    pid: u32,
    before_kib: u64,
    peak: Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl MemorySampler {
    pub fn start(pid: u32) -> Self {
        let before_kib = resident_kib(pid).unwrap_or(0);
        let peak = Arc::new(std::sync::atomic::AtomicU64::new(before_kib));
        let sampled = peak.clone();
        let task = tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(50));
            loop {
                interval.tick().await;
                sampled.fetch_max(resident_kib(pid).unwrap_or(0), Ordering::Relaxed);
            }
        });
        MemorySampler {
            pid,
            before_kib,
            peak,
            task,
        }
    }

    pub async fn finish(self) -> FloodMemory {
        self.task.abort();
        let after_kib = resident_kib(self.pid).unwrap_or(0);
        FloodMemory {
            before_kib: self.before_kib,
            peak_kib: self.peak.load(Ordering::Relaxed).max(after_kib),
            after_kib,
        }
    }
}

impl Report {
    pub fn new(concurrency: usize, machine: MachineInfo) -> Self {
        Report {
            machine,
            concurrency,
            baselines: Vec::new(),
            workloads: Vec::new(),
            revoke: None,
            scale: None,
            rss_idle_kib: None,
            rss_peak_kib: None,
            flood_memory: None,
            metrics_cost: Vec::new(),
            metrics_record_ns: None,
        }
    }

    pub fn add(&mut self, baseline: WorkloadResult, mut result: WorkloadResult) {
        result.ratio_to_baseline =
            Some(result.requests_per_sec / baseline.requests_per_sec.max(1e-9));
        self.baselines.push(baseline);
        self.workloads.push(result);
    }

    pub fn print(&self, json: bool) {
        if json {
            println!("{}", serde_json::to_string_pretty(self).unwrap_or_default());
            return;
        }
        println!(
            "gatehouse bench — concurrency {}; {} cores, Linux {}, {}",
            self.concurrency, self.machine.cores, self.machine.kernel, self.machine.cpu
        );
        println!(
            "{:<15} {:>9} {:>9} {:>7} {:>7} {:>7} {:>6} {:>7} {:>8} {:>7} {:>6}  errors",
            "workload",
            "requests",
            "req/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "vs base",
            "srv CPU",
            "µs/req",
            "machine",
            "load"
        );
        let percent = |value: Option<f64>| value.map_or("-".to_owned(), |v| format!("{v:.0}%"));
        for (baseline, result) in self.baselines.iter().zip(&self.workloads) {
            for (row, ratio) in [
                (baseline, String::new()),
                (result, percent(result.ratio_to_baseline.map(|r| r * 100.0))),
            ] {
                let errors = if row.errors.is_empty() {
                    "none".to_owned()
                } else {
                    format!("{:?}", row.errors)
                };
                let cost = &row.cost;
                println!(
                    "{:<15} {:>9} {:>9.0} {:>7.2} {:>7.2} {:>7.2} {:>6} {:>7} {:>8} {:>7} {:>6}  {errors}",
                    row.workload,
                    row.requests,
                    row.requests_per_sec,
                    row.p50_ms,
                    row.p99_ms,
                    row.max_ms,
                    ratio,
                    percent(cost.server_cpu_percent),
                    cost.server_cpu_us_per_request.map_or("-".to_owned(), |v| format!("{v:.1}")),
                    percent(cost.machine_busy_percent),
                    cost.load_average.map_or("-".to_owned(), |v| format!("{v:.2}")),
                );
                if let Some(per_commit) = cost.writes_per_commit {
                    let micros =
                        |value: Option<f64>| value.map_or("-".to_owned(), |v| format!("{v:.1} µs"));
                    let durable = match (cost.commits_per_sync, cost.sync_ms) {
                        (Some(commits), Some(sync)) => format!(
                            "COMMIT {:.2} ms; WAL fsync {sync:.2} ms for {commits:.1} COMMITs",
                            cost.commit_ms.unwrap_or(0.0)
                        ),
                        _ => format!("COMMIT (fsync) {:.2} ms", cost.commit_ms.unwrap_or(0.0)),
                    };
                    let log = match (cost.log_checkpoints, cost.wal_mib) {
                        (Some(checkpoints), Some(mib)) => format!(
                            "; log {mib:.1} MiB after {checkpoints:.0} checkpoints by the writer"
                        ),
                        _ => String::new(),
                    };
                    println!(
                        "{:<15} {per_commit:.1} writes per COMMIT; writer busy {} and on CPU {} per write; {durable}{log}",
                        "  writer",
                        micros(cost.writer_busy_us_per_write),
                        micros(cost.writer_cpu_us_per_write),
                    );
                }
            }
        }
        println!(
            "(srv CPU: the server process, % of one core; machine: all cores busy, every process; load: 1-minute load average; load generator CPU in --json)"
        );
        for cost in &self.metrics_cost {
            println!(
                "metrics        {:<14} {:>9.0} req/s off, {:>9.0} on ({:+.1} %); p99 {:.2} → {:.2} ms",
                cost.workload,
                cost.off_requests_per_sec,
                cost.on_requests_per_sec,
                -cost.cost_percent,
                cost.off_p99_ms,
                cost.on_p99_ms
            );
        }
        if let Some(ns) = self.metrics_record_ns {
            println!("metrics        recording one /token request: {ns:.0} ns");
        }
        if let Some(revoke) = &self.revoke {
            println!(
                "revoke-client  {} families revoked in one transaction in {:.1} ms",
                revoke.families, revoke.millis
            );
        }
        if let Some(scale) = &self.scale {
            println!(
                "scale          {} families seeded in {:.1} s; first filtered page median {:.2} ms, max {:.2} ms; {:.0} bytes per family",
                scale.families, scale.seed_secs, scale.first_page_ms_median, scale.first_page_ms_max, scale.bytes_per_family
            );
        }
        let kib = |value: Option<u64>| {
            value
                .map(|v| format!("{:.1} MiB", v as f64 / 1024.0))
                .unwrap_or("unknown".into())
        };
        println!(
            "memory         server resident idle {}, peak {}",
            kib(self.rss_idle_kib),
            kib(self.rss_peak_kib)
        );
        if let Some(flood) = self.flood_memory {
            println!(
                "flood memory   server resident before {}, peak {}, after {}",
                kib(Some(flood.before_kib)),
                kib(Some(flood.peak_kib)),
                kib(Some(flood.after_kib))
            );
        }
    }
}

/// A progress line on stderr while a workload runs.
pub async fn progress(name: &'static str, done: Arc<AtomicUsize>, deadline: Instant) {
    let mut interval = tokio::time::interval(Duration::from_millis(500));
    loop {
        interval.tick().await;
        let left = deadline.saturating_duration_since(Instant::now()).as_secs();
        eprint!(
            "\r\x1b[2K{name}: {} requests, {left} s left",
            done.load(Ordering::Relaxed)
        );
    }
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The server's resident memory now, in KiB (Linux).
pub fn resident_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// The server's peak resident memory, in KiB (Linux).
pub fn peak_resident_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}
