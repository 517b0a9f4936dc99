//! Atomicity and crashes: injected errors and SIGKILLs before and after COMMIT,
//! a kill loop under refresh load, purging, clock steps, failing closed.

use crate::support::*;
use gatehouse::store::FailAction;

#[tokio::test]
async fn an_error_injected_before_commit_changes_nothing_and_the_old_token_still_works() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    server
        .store
        .set_fail_point("rotate.before_commit", Some(FailAction::Error));
    let response = refresh(&server, &id, &secret, refresh_token).await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "server_error"
    );
    let family = newest_family(&server);
    assert_eq!(
        (family.rotations, family.revoked.is_none()),
        (0, true),
        "the database is unchanged"
    );
    server.store.set_fail_point("rotate.before_commit", None);
    server.clock.advance(7);
    assert_eq!(
        refresh(&server, &id, &secret, refresh_token).await.status(),
        200,
        "the old refresh token still works"
    );
    let rotated = newest_family(&server);
    assert_eq!(
        (rotated.rotations, rotated.last_used_at),
        (1, family.created_at + 7),
        "the rotation is counted, at its time"
    );

    let code = Browser::new(&server).obtain_code(&id, "alice").await["code"].clone();
    server
        .store
        .set_fail_point("exchange.before_commit", Some(FailAction::Error));
    assert_eq!(exchange(&server, &id, &secret, &code).await.status(), 500);
    server.store.set_fail_point("exchange.before_commit", None);
    assert_eq!(
        exchange(&server, &id, &secret, &code).await.status(),
        200,
        "the code was not consumed"
    );
}

/// The documented cost: a rotation that committed but whose answer was lost
/// makes the client's retry a replay, which revokes the family.
#[tokio::test]
async fn an_error_after_commit_makes_the_retry_a_replay() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    server
        .store
        .set_fail_point("rotate.after_commit", Some(FailAction::Error));
    assert_eq!(
        refresh(&server, &id, &secret, refresh_token).await.status(),
        500
    );
    server.store.set_fail_point("rotate.after_commit", None);
    assert_eq!(
        refresh(&server, &id, &secret, refresh_token).await.status(),
        400
    );
    let family = newest_family(&server);
    assert_eq!(
        family.revoked.unwrap().reason,
        gatehouse::model::RevokeReason::RefreshReplay
    );
}

#[tokio::test]
async fn fail_closed_a_storage_error_never_reports_active_or_admits_a_bearer() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let access = tokens["access_token"].as_str().unwrap();
    server
        .store
        .set_fail_point("lookup.before", Some(FailAction::Error));
    let response = post_form(
        &server,
        "/introspect",
        Some((&id, &secret)),
        &[("token", access)],
    )
    .await;
    assert_eq!(response.status(), 500);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "server_error");
    assert!(body.get("active").is_none());
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        500
    );
    server.store.set_fail_point("lookup.before", None);
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_clock_stepping_back_never_revives_a_revoked_token() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    post_form(
        &server,
        "/revoke",
        Some((&id, &secret)),
        &[("token", refresh_token)],
    )
    .await;
    server.clock.advance(-7200);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        introspect(&server, &id, &secret, access).await["active"],
        false
    );
    assert_eq!(
        refresh(&server, &id, &secret, refresh_token).await.status(),
        400
    );
}

#[tokio::test]
async fn purging_keeps_what_replay_detection_needs() {
    let (server, id, secret) = partner_setup().await;
    let first = tokens_for(&server, &id, &secret).await;
    let old = first["refresh_token"].as_str().unwrap();
    let rotated: serde_json::Value = refresh(&server, &id, &secret, old)
        .await
        .json()
        .await
        .unwrap();
    server.clock.advance(2 * 3600);
    let purged = server.store.purge_expired(server.clock.now(), 0).unwrap();
    assert_eq!(purged.access_tokens, 2, "expired access tokens go");
    assert_eq!(purged.families, 0, "a live family stays, with its lineage");
    assert_eq!(refresh(&server, &id, &secret, old).await.status(), 400);
    let family = newest_family(&server);
    assert_eq!(
        family.revoked.unwrap().reason,
        gatehouse::model::RevokeReason::RefreshReplay,
        "the replay was still recognised after the purge"
    );
    assert_eq!(
        refresh(
            &server,
            &id,
            &secret,
            rotated["refresh_token"].as_str().unwrap()
        )
        .await
        .status(),
        400
    );
    // Once revoked and past the horizon, the family goes entirely.
    let purged = server
        .store
        .purge_expired(server.clock.now() + 1, 0)
        .unwrap();
    assert_eq!(purged.families, 1);
}

#[tokio::test]
async fn a_sigkill_before_commit_loses_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (data_dir, id, secret, families) = seeded_data_dir(root.path(), 1);
    let (access, refresh_token) = families[0].clone();
    let mut child = ChildServer::start(&data_dir, "rotate.before_commit=kill").await;
    assert!(
        refresh_at(&child.url(""), &id, &secret, &refresh_token)
            .await
            .is_none(),
        "the server died mid-request"
    );
    child.wait_for_death().await;
    assert_database_sound(&data_dir);
    let mut child = ChildServer::start(&data_dir, "").await;
    let (status, body) = refresh_at(&child.url(""), &id, &secret, &refresh_token)
        .await
        .unwrap();
    assert_eq!(status, 200, "the old refresh token still works: {body}");
    let log = child.log_text();
    child.kill().await;
    for secret_text in [
        secret.as_str(),
        access.as_str(),
        refresh_token.as_str(),
        body["access_token"].as_str().unwrap(),
    ] {
        assert!(
            !log.contains(secret_text),
            "a token or secret reached the log"
        );
    }
    assert_database_sound(&data_dir);
}

#[tokio::test]
async fn a_sigkill_after_commit_keeps_the_database_sound_and_the_retry_is_a_replay() {
    let root = tempfile::tempdir().unwrap();
    let (data_dir, id, secret, families) = seeded_data_dir(root.path(), 1);
    let (_, refresh_token) = families[0].clone();
    let mut child = ChildServer::start(&data_dir, "rotate.after_commit=kill").await;
    assert!(refresh_at(&child.url(""), &id, &secret, &refresh_token)
        .await
        .is_none());
    child.wait_for_death().await;
    assert_database_sound(&data_dir);
    let mut child = ChildServer::start(&data_dir, "").await;
    let (status, body) = refresh_at(&child.url(""), &id, &secret, &refresh_token)
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "the rotation was durable: a retry is a replay"
    );
    child.kill().await;
    assert_database_sound(&data_dir);
}

/// Refresh load on 20 families while the server is SIGKILLed four times: every
/// refresh token answered with 200 still works after the restart, unless a later
/// rotation of it committed and only its answer was lost in the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_loop_under_refresh_load_loses_no_token() {
    let root = tempfile::tempdir().unwrap();
    let (data_dir, id, secret, families) = seeded_data_dir(root.path(), 20);
    let mut newest: Vec<Option<String>> = families
        .into_iter()
        .map(|(_, refresh)| Some(refresh))
        .collect();
    let (mut answered, mut lost_in_flight) = (0usize, 0usize);
    for _round in 0..4 {
        let mut child = ChildServer::start(&data_dir, "").await;
        let base = child.url("");
        // Every answered token must be live, or rotated by a commit whose answer was lost.
        for slot in newest.iter_mut() {
            let Some(token) = slot.clone() else { continue };
            match refresh_state(&data_dir, &token) {
                TokenState::Live => {}
                TokenState::RotatedLater => {
                    lost_in_flight += 1;
                    *slot = None;
                }
                TokenState::Missing => panic!("a refresh token answered with 200 was lost"),
            }
        }
        let workers: Vec<_> = newest
            .iter()
            .cloned()
            .map(|token| {
                let (base, id, secret) = (base.clone(), id.clone(), secret.clone());
                tokio::spawn(async move {
                    let Some(mut token) = token else {
                        return (None, 0);
                    };
                    let mut count = 0;
                    loop {
                        match refresh_at(&base, &id, &secret, &token).await {
                            Some((200, body)) => {
                                token = body["refresh_token"].as_str().unwrap().to_owned();
                                count += 1;
                            }
                            Some((status, body)) => panic!("unexpected {status}: {body}"),
                            None => return (Some(token), count),
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        child.kill().await;
        for (slot, worker) in newest.iter_mut().zip(workers) {
            let (token, count) = worker.await.unwrap();
            if token.is_some() {
                *slot = token;
            }
            answered += count;
        }
        assert_database_sound(&data_dir);
    }
    assert!(
        answered > 20,
        "the load actually ran ({answered} refreshes answered)"
    );
    eprintln!("kill loop: 4 kills, {answered} refreshes answered, {lost_in_flight} answers lost in flight, 0 tokens lost");
}

enum TokenState {
    Live,
    RotatedLater,
    Missing,
}

fn refresh_state(data_dir: &std::path::Path, token: &str) -> TokenState {
    use sha2::Digest;
    let conn = rusqlite::Connection::open(data_dir.join("gatehouse.db")).unwrap();
    let hash = sha2::Sha256::digest(token.as_bytes()).to_vec();
    let row: Option<(Option<i64>, Option<i64>)> = conn
        .query_row(
            "SELECT r.used_at, f.revoked_at FROM refresh_tokens r JOIN families f ON f.seq = r.family_seq WHERE r.hash = ?1",
            [hash],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .ok();
    match row {
        Some((None, None)) => TokenState::Live,
        Some((Some(_), _)) => TokenState::RotatedLater,
        _ => TokenState::Missing,
    }
}

/// A family that never had a refresh token (its client lacks the grant type)
/// is dead once its access token expired: the purge deletes it too.
#[tokio::test]
async fn purging_deletes_dead_families_that_never_had_a_refresh_token() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    create_user(&mut admin, "alice", PASSWORD).await;
    let reply = admin
        .create_client(proto::CreateClientRequest {
            name: "Access only".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            scopes: vec!["profile".into()],
            grant_types: vec![proto::GrantType::AuthorizationCode as i32],
            public: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let id = reply.client.unwrap().id;
    let tokens = tokens_for(&server, &id, &reply.client_secret).await;
    assert!(tokens.get("refresh_token").is_none());
    let purged = server.store.purge_expired(server.clock.now(), 0).unwrap();
    assert_eq!(purged.families, 0, "its access token is still live");
    server.clock.advance(3601);
    let purged = server.store.purge_expired(server.clock.now(), 0).unwrap();
    assert_eq!((purged.access_tokens, purged.families), (1, 1));
}

/// `--event-retention-days`: the purge that runs at start (and hourly) deletes
/// events older than the retention; `status` shows the oldest kept.
#[tokio::test]
async fn event_retention_is_applied_by_the_periodic_purge() {
    let (server, _, _) = partner_setup().await;
    let (old, _) = server
        .store
        .list_events(100, 0, &gatehouse::model::EventFilter::default())
        .unwrap();
    assert!(!old.is_empty());
    server.clock.advance(91 * 24 * 3600);
    let server = server.restart().await;
    let mut newest = Vec::new();
    for _ in 0..100 {
        newest = server
            .store
            .list_events(100, 0, &gatehouse::model::EventFilter::default())
            .unwrap()
            .0;
        if newest.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        newest.is_empty(),
        "events older than 90 days are gone: {newest:?}"
    );
    create_user(&mut server.admin(), "bob", PASSWORD).await;
    let status = status(&server).await;
    assert_eq!(status.oldest_event_time, server.clock.now());
}
