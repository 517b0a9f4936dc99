//! `/metrics` on its own listener, parsed as Prometheus parses it: the counters
//! move by exactly what a flow, a replay and an admin revoke did.

use crate::support::*;
use prometheus_parse::{Scrape, Value};

/// One scrape, parsed by a real text-format parser.
async fn scrape(server: &TestServer) -> Scrape {
    let addr = server.metrics_addr.expect("metrics are on");
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("parses")
}

/// The value of the sample `name` whose labels include all of `labels` (0 when
/// absent: a labelled counter appears on its first increment).
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == name)
        .filter(|sample| labels.iter().all(|(k, v)| sample.labels.get(k) == Some(v)))
        .map(|sample| match &sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.iter().map(|b| b.count).fold(0.0, f64::max),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

async fn metrics_server() -> (TestServer, String, String) {
    let server = TestServer::spawn_with(|config| {
        config.metrics_addr = Some(([127, 0, 0, 1], 0).into());
    })
    .await;
    let mut admin = server.admin();
    let (id, secret) = create_client(&mut admin, REDIRECT_URI).await;
    create_user(&mut admin, "alice", PASSWORD).await;
    (server, id, secret)
}

#[tokio::test]
async fn counters_move_by_exactly_a_flow_a_replay_and_an_admin_revoke() {
    let (server, id, secret) = metrics_server().await;
    let before = scrape(&server).await;

    // Two flows: two codes exchanged.
    let first = tokens_for(&server, &id, &secret).await;
    let second = tokens_for(&server, &id, &secret).await;
    // One refresh, then the replay of the rotated token.
    let old = first["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&server, &id, &secret, old).await.status(), 200);
    let replay = refresh(&server, &id, &secret, old).await;
    assert_eq!(replay.status(), 400);
    // One admin revoke of the second family.
    let family = newest_family(&server);
    let revoked = server
        .admin()
        .revoke_family(proto::RevokeFamilyRequest {
            id: family.id.to_string(),
            note: "metrics test".into(),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.revoked, 1);
    // One wrong password.
    let mut browser = Browser::new(&server);
    let page = browser.authorize(&authorize_query(&id, "s")).await;
    let page = page.text().await.unwrap();
    let wrong = browser.login(&page, "alice", "not the password").await;
    assert_eq!(wrong.status(), 200);
    drop(second);

    let after = scrape(&server).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let issued = "gatehouse_tokens_issued_total";
    assert_eq!(delta(issued, &[("grant_type", "authorization_code")]), 2.0);
    assert_eq!(delta(issued, &[("grant_type", "refresh_token")]), 1.0);
    assert_eq!(delta("gatehouse_refresh_replays_total", &[]), 1.0);
    assert_eq!(delta("gatehouse_code_reuse_total", &[]), 0.0);
    let revoked = "gatehouse_families_revoked_total";
    assert_eq!(delta(revoked, &[("reason", "refresh_replay")]), 1.0);
    assert_eq!(delta(revoked, &[("reason", "admin")]), 1.0);
    let errors = "gatehouse_oauth_errors_total";
    assert_eq!(
        delta(
            errors,
            &[("endpoint", "/token"), ("error", "invalid_grant")]
        ),
        1.0
    );
    let token_requests = |status| {
        delta(
            "gatehouse_http_requests_total",
            &[("route", "/token"), ("method", "POST"), ("status", status)],
        )
    };
    assert_eq!(token_requests("200"), 3.0);
    assert_eq!(token_requests("400"), 1.0);
    assert_eq!(
        delta(
            "gatehouse_http_request_duration_seconds",
            &[("route", "/token"), ("status", "200")]
        ),
        3.0,
        "the histogram's +Inf bucket counts every request"
    );
    assert_eq!(
        delta(
            "gatehouse_admin_calls_total",
            &[("method", "RevokeFamily"), ("code", "OK")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            "gatehouse_failures_total",
            &[
                ("kind", "login_failed"),
                ("reason", "wrong_username_or_password")
            ]
        ),
        1.0
    );
    // Three password checks: two logins and the wrong one.
    assert_eq!(delta("gatehouse_password_checks_total", &[]), 3.0);
    assert!(delta("gatehouse_writer_batch_jobs", &[]) >= 1.0);
    assert!(value(&after, "gatehouse_database_bytes", &[]) > 0.0);
    assert_eq!(value(&after, "gatehouse_pending_authorizations", &[]), 1.0);
    assert!(value(&after, "gatehouse_browser_sessions", &[]) >= 1.0);
}

#[tokio::test]
async fn admin_failures_and_resource_errors_are_counted_by_code() {
    let (server, _, _) = metrics_server().await;
    let before = scrape(&server).await;
    let refused = server
        .admin_without_token()
        .list_clients(proto::ListClientsRequest::default())
        .await;
    assert_eq!(refused.unwrap_err().code(), tonic::Code::Unauthenticated);
    assert_eq!(me(&server, Some("Bearer gat_nothing")).await.status(), 401);
    let after = scrape(&server).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert_eq!(
        delta(
            "gatehouse_admin_calls_total",
            &[("method", "ListClients"), ("code", "Unauthenticated")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            "gatehouse_oauth_errors_total",
            &[
                ("endpoint", "/api/public/v1/me"),
                ("error", "invalid_token")
            ]
        ),
        1.0
    );
}

#[tokio::test]
async fn without_metrics_addr_there_is_no_metrics_listener_and_no_public_route() {
    let server = TestServer::spawn().await;
    assert!(server.metrics_addr.is_none());
    let response = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 404, "never on the public plane");
}

#[tokio::test]
async fn refresh_retries_are_counted_apart_and_are_no_replays() {
    let (server, _, _) = metrics_server().await;
    let reply = server
        .admin()
        .create_client(proto::CreateClientRequest {
            name: "Mobile".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            scopes: vec!["profile".into()],
            refresh_retry_window_secs: 30,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (id, secret) = (reply.client.unwrap().id, reply.client_secret);
    let first = tokens_for(&server, &id, &secret).await;
    let before = scrape(&server).await;
    let rotated = first["refresh_token"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(refresh(&server, &id, &secret, rotated).await.status(), 200);
    }
    let after = scrape(&server).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert_eq!(delta("gatehouse_refresh_retries_total", &[]), 2.0);
    let issued = &[("grant_type", "refresh_token")];
    assert_eq!(delta("gatehouse_tokens_issued_total", issued), 3.0);
    assert_eq!(delta("gatehouse_refresh_replays_total", &[]), 0.0);
}
