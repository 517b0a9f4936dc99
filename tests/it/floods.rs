//! Floods: what anonymous callers can push at the server, with the bound that
//! holds each one. Real server, real HTTP, bounded loops; every assertion is a
//! count or a byte size, never a duration.

use crate::support::*;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

/// Sends `total` requests, `concurrency` at a time; returns the statuses seen.
async fn hammer<F, Fut>(total: usize, concurrency: usize, request: F) -> BTreeMap<u16, usize>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = reqwest::Result<reqwest::Response>> + Send,
{
    let request = Arc::new(request);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (request, next) = (request.clone(), next.clone());
            tokio::spawn(async move {
                let mut statuses = BTreeMap::new();
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= total {
                        return statuses;
                    }
                    let status = match request(n).await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let _ = response.bytes().await;
                            status
                        }
                        Err(_) => 0,
                    };
                    *statuses.entry(status).or_insert(0) += 1;
                }
            })
        })
        .collect();
    let mut all = BTreeMap::new();
    for worker in workers {
        for (status, count) in worker.await.unwrap() {
            *all.entry(status).or_insert(0) += count;
        }
    }
    all
}

/// A field of /proc/PID/status in KiB.
fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn event_rows(data_dir: &Path) -> i64 {
    let conn = rusqlite::Connection::open(data_dir.join("gatehouse.db")).unwrap();
    conn.query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .unwrap()
}

/// 300,000 anonymous /authorize requests, no cookies: the pending-request cache
/// holds its byte bound, a logged-in browser keeps its session, and a new
/// user still completes the whole flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn authorize_flood_keeps_memory_bounded_and_sessions_alive() {
    let root = tempfile::tempdir().unwrap();
    let (data_dir, client_id, secret, _) = seeded_data_dir(root.path(), 0);
    let mut server = ChildServer::start(&data_dir, "").await;
    let pid = server.child.id().unwrap();
    let base = server.url("");
    let mut resident = Browser::at(&base);
    let first = resident.obtain_code(&client_id, "alice").await;
    assert!(first.contains_key("code"));
    let before_kib = proc_kib(pid, "VmRSS:");

    let http = reqwest::Client::new();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(authorize_query(&client_id, "flood"))
        .finish();
    let url = format!("{base}/authorize?{query}");
    let statuses = hammer(300_000, 32, move |_| http.get(&url).send()).await;
    assert_eq!(
        statuses,
        BTreeMap::from([(200, 300_000)]),
        "every request got its login page"
    );

    let peak_kib = proc_kib(pid, "VmHWM:");
    let grown_mib = (peak_kib.saturating_sub(before_kib)) as f64 / 1024.0;
    eprintln!(
        "authorize flood: 300,000 requests; resident {} MiB before, peak {} MiB (+{grown_mib:.1} MiB)",
        before_kib / 1024,
        peak_kib / 1024
    );
    assert!(
        grown_mib < 64.0,
        "resident memory grew by {grown_mib:.1} MiB"
    );

    // The logged-in browser skips login: consent was remembered, so a code at once.
    let again = resident
        .authorize(&authorize_query(&client_id, "after"))
        .await;
    assert_eq!(again.status(), 303, "the session survived the flood");
    assert!(query_of(&location(&again)).contains_key("code"));
    // A new user logs in, consents and gets tokens.
    let mut newcomer = Browser::at(&base);
    let code = newcomer.obtain_code(&client_id, "alice").await["code"].clone();
    let body = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];
    let tokens = reqwest::Client::new()
        .post(server.url("/token"))
        .header("authorization", basic_header(&client_id, &secret))
        .form(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(tokens.status(), 200);
    server.kill().await;
}

/// 100,000 failed client authentications, from random client ids and from one
/// real id with wrong secrets: a few rows, carrying the true counts; no
/// made-up id is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_auth_flood_adds_a_few_rows_with_the_true_counts() {
    let (server, id, _) = partner_setup().await;
    let rows_before = event_rows(&server.data_dir());
    let http = reqwest::Client::new();
    let (url, real) = (server.url("/token"), id.clone());
    let statuses = hammer(100_000, 32, move |n| {
        let client = if n % 2 == 0 {
            format!("made-up-{n}")
        } else {
            real.clone()
        };
        http.post(&url)
            .header("authorization", basic_header(&client, "gcs_wrong"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
            .send()
    })
    .await;
    assert_eq!(statuses, BTreeMap::from([(401, 100_000)]));
    let rows = flushed_failures(&server, "client_auth_failed", 100_000).await;
    let added = event_rows(&server.data_dir()) - rows_before;
    eprintln!("client auth flood: 100,000 failures → {added} event rows: {rows:#?}");
    assert!(added <= 4, "{added} rows added");
    let total = |client: Option<&str>| -> i64 {
        rows.iter()
            .filter(|e| e.client_id.as_ref().map(|id| id.as_str()) == client)
            .map(|e| e.count)
            .sum()
    };
    assert_eq!(total(None), 50_000, "unknown clients");
    assert_eq!(total(Some(&id)), 50_000, "the real client");
    assert!(rows.iter().all(|e| e
        .client_id
        .as_ref()
        .is_none_or(|client| client.as_str() == id)));
    assert!(rows.iter().all(|e| e.source == "127.0.0.1"));
    let status = status(&server).await;
    assert_eq!(status.security_events_last_hour, 100_000);
}

/// A login page for `browser` (its own pending request).
async fn login_page(browser: &mut Browser, client_id: &str) -> String {
    let response = browser.authorize(&authorize_query(client_id, "s")).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn password_checks(server: &TestServer) -> i64 {
    status(server).await.password_checks
}

/// 50 parallel wrong passwords for one user, each from its own pending request:
/// at most 5 password checks run; the rest get the lockout message; after the
/// lockout the right password works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_get_at_most_five_checks() {
    let (server, id, _) = partner_setup().await;
    let mut browsers = Vec::new();
    for _ in 0..50 {
        let mut browser = Browser::new(&server);
        let page = login_page(&mut browser, &id).await;
        browsers.push((browser, page));
    }
    let checks_before = password_checks(&server).await;
    let attempts: Vec<_> = browsers
        .into_iter()
        .map(|(mut browser, page)| {
            tokio::spawn(async move {
                let response = browser.login(&page, "alice", "wrong password").await;
                (response.status().as_u16(), response.text().await.unwrap())
            })
        })
        .collect();
    let (mut wrong, mut locked) = (0, 0);
    for attempt in attempts {
        let (status, page) = attempt.await.unwrap();
        match status {
            200 if page.contains("Wrong username or password") => wrong += 1,
            429 if page.contains("too many attempts, try again in") => locked += 1,
            other => panic!("unexpected {other}: {page}"),
        }
    }
    let checks = password_checks(&server).await - checks_before;
    eprintln!(
        "50 parallel wrong passwords: {checks} password checks, {wrong} wrong, {locked} locked out"
    );
    assert_eq!(checks, 5);
    assert_eq!((wrong, locked), (5, 45));

    server.clock.advance(2);
    let mut browser = Browser::new(&server);
    let page = login_page(&mut browser, &id).await;
    let response = browser.login(&page, "alice", PASSWORD).await;
    assert_eq!(
        response.status(),
        303,
        "the right password after the lockout"
    );
}

/// Logs in as `username` with a wrong password, sending `forwarded` as
/// X-Forwarded-For; returns the status.
async fn wrong_login_from(server: &TestServer, id: &str, username: &str, forwarded: &str) -> u16 {
    let mut browser = Browser::new(server);
    let page = login_page(&mut browser, id).await;
    let response = reqwest::Client::new()
        .post(server.url("/login"))
        .header("x-forwarded-for", forwarded)
        .header(
            "cookie",
            format!("gh_browser={}", browser.cookie("gh_browser").unwrap()),
        )
        .form(&[
            ("txn", hidden(&page, "txn").as_str()),
            ("csrf", hidden(&page, "csrf").as_str()),
            ("username", username),
            ("password", "wrong password"),
        ])
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

/// Behind a trusted proxy, the per-address limit keys on the forwarded client:
/// one address locked out does not lock out another.
#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_is_throttled_apart() {
    let server = TestServer::spawn_with(|config| {
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let mut admin = server.admin();
    let (id, _) = create_client(&mut admin, REDIRECT_URI).await;
    for n in 0..30 {
        // Another username each time: only the address limit is in play.
        let status = wrong_login_from(&server, &id, &format!("user{n}"), "198.51.100.1").await;
        assert_eq!(status, 200, "failure {n}");
    }
    let status = wrong_login_from(&server, &id, "fresh", "203.0.113.9, 198.51.100.1").await;
    assert_eq!(
        status, 429,
        "the 31st failure from 198.51.100.1 in a minute"
    );
    let status = wrong_login_from(&server, &id, "fresh", "198.51.100.2").await;
    assert_eq!(status, 200, "another client address is not locked out");

    let rows = flushed_failures(&server, "login_failed", 32).await;
    let from = |source: &str| -> i64 {
        rows.iter()
            .filter(|e| e.source == source)
            .map(|e| e.count)
            .sum()
    };
    assert_eq!((from("198.51.100.1"), from("198.51.100.2")), (31, 1));
}

/// From a peer that is not a trusted proxy, X-Forwarded-For is ignored: a
/// client cannot pick a fresh address per request.
#[tokio::test]
async fn from_an_untrusted_peer_the_forwarded_header_is_ignored() {
    let (server, id, _) = partner_setup().await;
    for n in 0..30 {
        let forwarded = format!("198.51.100.{n}");
        let status = wrong_login_from(&server, &id, &format!("user{n}"), &forwarded).await;
        assert_eq!(status, 200, "failure {n}");
    }
    let status = wrong_login_from(&server, &id, "fresh", "192.0.2.77").await;
    assert_eq!(status, 429, "all 31 came from 127.0.0.1");
}

/// The release binary has no fail points: `GATEHOUSE_FAILPOINTS` that makes the
/// test build fail every token lookup changes nothing there.
#[tokio::test]
async fn the_release_binary_ignores_fail_points() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "--locked", "--bin", "gatehouse"])
        .current_dir(manifest)
        .status()
        .expect("run cargo build --release");
    assert!(built.success(), "cargo build --release");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| manifest.join("target"));
    let release = target.join("release/gatehouse");

    let root = tempfile::tempdir().unwrap();
    let (data_dir, _, _, issued) = seeded_data_dir(root.path(), 1);
    let bearer = format!("Bearer {}", issued[0].0);
    let me = |server: &ChildServer| {
        reqwest::Client::new()
            .get(server.url("/api/public/v1/me"))
            .header("authorization", bearer.clone())
            .send()
    };
    let mut test_build = ChildServer::start(&data_dir, "lookup.before=error").await;
    let failed = me(&test_build).await.unwrap().status();
    assert!(
        failed.is_server_error(),
        "the test build's fail point fires: {failed}"
    );
    test_build.kill().await;
    let mut release_build =
        ChildServer::start_binary(&release, &data_dir, "lookup.before=error").await;
    assert_eq!(me(&release_build).await.unwrap().status(), 200);
    assert!(!release_build.log_text().contains("fail points armed"));
    release_build.kill().await;
}
