//! Client secrets' last use: written at most once a minute per secret under
//! load (counted in store writes), the client address behind a trusted proxy,
//! the first use of a new secret, and no secret in the events or the log.

use super::secrets::{events_of, rotate, secrets, status_at};
use crate::support::*;

const DAY: i64 = 24 * 3600;

/// Waits (up to 10 s) until the flush has written a last use of `secret_id`
/// at `at` or later; returns that secret's row.
async fn flushed_use(
    server: &TestServer,
    id: &str,
    secret_id: &str,
    at: i64,
) -> proto::ClientSecret {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let listed = secrets(&mut server.admin(), id).await;
        let row = listed
            .into_iter()
            .find(|s| s.id == secret_id)
            .expect("listed");
        if row.last_used_at >= at || std::time::Instant::now() > deadline {
            return row;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `n` concurrent successful introspections as `id:secret`, each with an
/// X-Forwarded-For header (ignored unless the peer is a trusted proxy).
async fn burst(server: &TestServer, id: &str, secret: &str, n: usize) {
    let mut requests = tokio::task::JoinSet::new();
    let client = reqwest::Client::new();
    for _ in 0..n {
        let request = client
            .post(server.url("/introspect"))
            .header("authorization", basic_header(id, secret))
            .header("x-forwarded-for", "198.51.100.9")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("token=gat_unknown");
        requests.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
}

/// Waits (up to 10 s) until the store holds a last use of the client's only
/// secret at `at` or later; returns it. Read from the store, not through the
/// admin API: an admin call writes its own identity's last use once a minute,
/// asynchronously, which would land among the writes counted below.
async fn stored_use(server: &TestServer, id: &str, at: i64) -> gatehouse::model::LastUse {
    let client = gatehouse::model::ClientId::parse(id).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let secrets = server
            .store
            .client_secrets(&client, server.clock.now())
            .unwrap();
        let used = secrets[0].last_used.clone();
        match used {
            Some(used) if used.at >= at => return used,
            _ if std::time::Instant::now() > deadline => panic!("no use at {at}: {used:?}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

/// Waits until the store's writes have stopped for a second: the setup's
/// admin calls wrote their identity's last use on the blocking pool, which a
/// loaded machine may run late.
async fn writes_settled(server: &TestServer) {
    let mut last = server.store.write_stats().jobs;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = server.store.write_stats().jobs;
        if now == last {
            return;
        }
        last = now;
    }
}

#[tokio::test]
async fn last_use_is_written_at_most_once_a_minute_under_load() {
    let (server, id, secret) = partner_setup().await;
    writes_settled(&server).await;
    // Start at the first second of a minute.
    let now = server.clock.now();
    server.clock.advance(60 - now.rem_euclid(60));
    let start = server.clock.now();

    let before = server.store.write_stats().jobs;
    burst(&server, &id, &secret, 200).await;
    let used = stored_use(&server, &id, start).await;
    assert_eq!(
        (used.at, used.from.map(|from| from.to_string())),
        (start, Some("127.0.0.1".to_owned()))
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        server.store.write_stats().jobs - before,
        1,
        "200 uses, one write"
    );
    assert_eq!(events_of(&server, "secret_first_used").len(), 1);

    server.clock.advance(59);
    let before = server.store.write_stats().jobs;
    burst(&server, &id, &secret, 100).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        server.store.write_stats().jobs - before,
        0,
        "the same minute"
    );
    assert_eq!(stored_use(&server, &id, start).await.at, start);

    server.clock.advance(1);
    let before = server.store.write_stats().jobs;
    burst(&server, &id, &secret, 100).await;
    let used = stored_use(&server, &id, start + 60).await;
    assert_eq!(used.at, start + 60, "the next minute");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(server.store.write_stats().jobs - before, 1);
    assert_eq!(
        events_of(&server, "secret_first_used").len(),
        1,
        "first use once"
    );
}

#[tokio::test]
async fn last_use_names_the_client_behind_a_trusted_proxy_and_the_new_secrets_first_use() {
    let server = TestServer::spawn_with(|config| {
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let mut admin = server.admin();
    let (id, old) = create_client(&mut admin, REDIRECT_URI).await;
    let rotation = rotate(&mut admin, &id, DAY).await.unwrap();
    let at = server.clock.now();
    let old_id = secrets(&mut admin, &id).await[1].id.clone();
    assert_eq!(
        status_at(&server, "/introspect", (&id, &old), Some("198.51.100.4")).await,
        200
    );
    assert_eq!(
        status_at(
            &server,
            "/revoke",
            (&id, &rotation.client_secret),
            Some("203.0.113.7, 198.51.100.5")
        )
        .await,
        200
    );
    let old_row = flushed_use(&server, &id, &old_id, at).await;
    assert_eq!(
        (old_row.last_used_at, old_row.last_used_from.as_str()),
        (at, "198.51.100.4")
    );
    let new_row = flushed_use(&server, &id, &rotation.secret_id, at).await;
    assert_eq!(new_row.last_used_from, "198.51.100.5");
    let first_uses = events_of(&server, "secret_first_used");
    assert_eq!(first_uses.len(), 2, "written with the last uses");
    let new_use = first_uses
        .iter()
        .find(|event| event.detail.contains(&rotation.secret_id))
        .expect("the new secret's first use");
    assert_eq!(
        (
            new_use.source.as_str(),
            new_use.client_id.as_ref().map(|client| client.as_str())
        ),
        ("198.51.100.5", Some(id.as_str()))
    );
}

#[tokio::test]
async fn no_secret_reaches_the_events_or_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ChildServer::start(&dir.path().join("data"), "").await;
    let mut admin = server.admin();
    let (id, old) = create_client(&mut admin, REDIRECT_URI).await;
    let first = rotate(&mut admin, &id, DAY).await.unwrap();
    let listed = secrets(&mut admin, &id).await;
    admin
        .revoke_client_secret(proto::RevokeClientSecretRequest {
            client_id: id.clone(),
            secret_id: listed[1].id.clone(),
        })
        .await
        .unwrap();
    let second = rotate(&mut admin, &id, 3600).await.unwrap();
    for secret in [&first.client_secret, &second.client_secret, &old] {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", "gat_unknown")
            .finish();
        reqwest::Client::new()
            .post(server.url("/introspect"))
            .header("authorization", basic_header(&id, secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let events = loop {
        let events = admin
            .list_events(proto::ListEventsRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .events;
        let first_uses = events
            .iter()
            .filter(|e| e.kind == "secret_first_used")
            .count();
        if first_uses >= 2 || std::time::Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    for kind in ["secret_rotated", "secret_revoked", "secret_first_used"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    server.await_log("route=\"/introspect\"").await;
    let log = server.log_text();
    server.kill().await;
    for secret in [&old, &first.client_secret, &second.client_secret] {
        let hidden_part = &secret[4..];
        for event in &events {
            assert!(!event.detail.contains(hidden_part), "{}", event.detail);
        }
        assert!(!log.contains(hidden_part), "the log holds a client secret");
    }
}
