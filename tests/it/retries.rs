//! Safe refresh retries: a client with a retry window that lost a refresh
//! answer gets the same pair again; every other reuse is still a replay.

use crate::races::race;
use crate::support::*;
use serde_json::Value;

const WINDOW: u32 = 30;

/// A server with user alice and a confidential client whose retry window is
/// `window` seconds: (server, client_id, client_secret).
async fn windowed_setup(window: u32) -> (TestServer, String, String) {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let (id, secret) = create_windowed_client(&mut admin, window).await;
    create_user(&mut admin, "alice", PASSWORD).await;
    (server, id, secret)
}

async fn create_windowed_client(admin: &mut AdminClient, window: u32) -> (String, String) {
    let reply = admin
        .create_client(proto::CreateClientRequest {
            name: "Mobile".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            scopes: vec!["profile".into()],
            refresh_retry_window_secs: window,
            ..Default::default()
        })
        .await
        .expect("create client")
        .into_inner();
    (reply.client.unwrap().id, reply.client_secret)
}

/// A refresh with an optional `scope`: (status, JSON body).
async fn refresh_json(
    server: &TestServer,
    id: &str,
    secret: &str,
    refresh_token: &str,
    scope: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    form.extend(scope.map(|scope| ("scope", scope)));
    let response = post_form(server, "/token", Some((id, secret)), &form).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

fn text<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
}

/// The answer is the first one byte for byte, but for `expires_in`, which
/// counts down by `elapsed`.
fn assert_same_pair(first: &Value, again: &Value, elapsed: i64) {
    for field in ["access_token", "refresh_token", "scope", "token_type"] {
        assert_eq!(first[field], again[field], "{field}");
    }
    assert_eq!(
        again["expires_in"].as_i64().unwrap(),
        first["expires_in"].as_i64().unwrap() - elapsed
    );
}

fn assert_replay_revoked(server: &TestServer, (status, body): &(u16, Value)) {
    assert_eq!(
        (*status, text(body, "error")),
        (400, "invalid_grant"),
        "{body}"
    );
    let family = newest_family(server);
    assert_eq!(
        family.revoked.expect("family revoked").reason,
        gatehouse::model::RevokeReason::RefreshReplay
    );
}

/// Rows of the table that keeps answers for retries, read straight from the file.
fn kept_answers(server: &TestServer) -> i64 {
    let conn = rusqlite::Connection::open(server.data_dir().join("gatehouse.db")).unwrap();
    conn.query_row("SELECT count(*) FROM refresh_retries", [], |row| row.get(0))
        .unwrap()
}

/// `refresh_retried` rows once the tally wrote the minute: not security events.
async fn retried_events(server: &TestServer, expected: i64) -> Vec<gatehouse::model::Event> {
    server.clock.advance(60);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (events, _) = server
            .store
            .list_events(1000, 0, &gatehouse::model::EventFilter::default())
            .unwrap();
        let rows: Vec<_> = events
            .into_iter()
            .filter(|event| event.kind == gatehouse::model::EventKind::RefreshRetried)
            .collect();
        let total: i64 = rows.iter().map(|event| event.count).sum();
        if total >= expected || std::time::Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_retry_within_the_window_gets_the_identical_pair_and_nothing_new() {
    let (server, id, secret) = windowed_setup(WINDOW).await;
    let first = tokens_for(&server, &id, &secret).await;
    let rotated = text(&first, "refresh_token");
    let (status, answer) = refresh_json(&server, &id, &secret, rotated, None).await;
    assert_eq!(status, 200, "{answer}");
    let (family, lineage) = server
        .store
        .get_family(&newest_family(&server).id, server.clock.now())
        .unwrap();
    server.clock.advance(5);
    let (status, again) = refresh_json(&server, &id, &secret, rotated, None).await;
    assert_eq!(status, 200, "{again}");
    assert_same_pair(&answer, &again, 5);
    server.clock.advance(i64::from(WINDOW) - 6);
    let (status, last_second) = refresh_json(&server, &id, &secret, rotated, None).await;
    assert_eq!(status, 200, "the window's last second: {last_second}");
    assert_same_pair(&answer, &last_second, i64::from(WINDOW) - 1);
    let (after, after_lineage) = server
        .store
        .get_family(&family.id, server.clock.now())
        .unwrap();
    assert_eq!(
        (after.rotations, after.last_used_at, after.revoked),
        (family.rotations, family.last_used_at, None),
        "the family is as it was"
    );
    assert_eq!(after_lineage.len(), lineage.len(), "no token was issued");
    let access = text(&answer, "access_token");
    assert_eq!(
        introspect(&server, &id, &secret, access).await["active"],
        true
    );
    // Two retries, 24 s apart: one row, or two if a minute began between them.
    let events = retried_events(&server, 2).await;
    assert_eq!(events.iter().map(|event| event.count).sum::<i64>(), 2);
    assert!(
        events.len() <= 2,
        "one row per family per minute: {events:?}"
    );
    for event in &events {
        assert_eq!(
            (
                event.client_id.as_ref().map(|client| client.as_str()),
                event.family_id.as_ref()
            ),
            (Some(id.as_str()), Some(&family.id))
        );
    }
    assert!(!gatehouse::model::EventKind::RefreshRetried.is_security());
    assert_eq!(await_events(&server, "refresh_replay", 0).await, 0);
}

#[tokio::test]
async fn a_retry_once_the_window_ended_is_a_replay() {
    let (server, id, secret) = windowed_setup(WINDOW).await;
    let first = tokens_for(&server, &id, &secret).await;
    let rotated = text(&first, "refresh_token");
    let (_, answer) = refresh_json(&server, &id, &secret, rotated, None).await;
    server.clock.advance(i64::from(WINDOW));
    let outcome = refresh_json(&server, &id, &secret, rotated, None).await;
    assert_replay_revoked(&server, &outcome);
    assert_eq!(await_events(&server, "refresh_replay", 1).await, 1);
    let successor = text(&answer, "refresh_token");
    assert_eq!(
        refresh_json(&server, &id, &secret, successor, None).await.0,
        400,
        "the whole family is revoked"
    );
}

#[tokio::test]
async fn a_retry_after_the_successor_was_used_is_a_replay() {
    let (server, id, secret) = windowed_setup(WINDOW).await;
    let first = tokens_for(&server, &id, &secret).await;
    let rotated = text(&first, "refresh_token");
    let (_, answer) = refresh_json(&server, &id, &secret, rotated, None).await;
    assert_eq!(kept_answers(&server), 1);
    let (status, _) =
        refresh_json(&server, &id, &secret, text(&answer, "refresh_token"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        kept_answers(&server),
        1,
        "the successor's use forgot its predecessor's answer and kept its own"
    );
    let outcome = refresh_json(&server, &id, &secret, rotated, None).await;
    assert_replay_revoked(&server, &outcome);
    assert_eq!(kept_answers(&server), 0, "a revoked family keeps no answer");
}

#[tokio::test]
async fn a_retry_of_an_older_token_than_the_newest_rotated_is_a_replay() {
    let (server, id, secret) = windowed_setup(WINDOW).await;
    let first = tokens_for(&server, &id, &secret).await;
    let oldest = text(&first, "refresh_token");
    let (_, second) = refresh_json(&server, &id, &secret, oldest, None).await;
    let (_, third) =
        refresh_json(&server, &id, &secret, text(&second, "refresh_token"), None).await;
    assert_eq!(text(&third, "token_type"), "Bearer");
    let outcome = refresh_json(&server, &id, &secret, oldest, None).await;
    assert_replay_revoked(&server, &outcome);
}

#[tokio::test]
async fn a_retry_with_another_scope_is_a_replay() {
    let (server, id, secret) = windowed_setup(WINDOW).await;
    let first = tokens_for(&server, &id, &secret).await;
    let rotated = text(&first, "refresh_token");
    let (_, answer) = refresh_json(&server, &id, &secret, rotated, Some("profile")).await;
    let (status, again) = refresh_json(&server, &id, &secret, rotated, Some("profile")).await;
    assert_eq!(status, 200, "the same scope: {again}");
    assert_same_pair(&answer, &again, 0);
    let outcome = refresh_json(&server, &id, &secret, rotated, Some("profile email")).await;
    assert_replay_revoked(&server, &outcome);
}

/// Another client presenting the rotated token gets neither the pair nor the
/// power to revoke (as for strict clients: only a request that could have
/// redeemed the token may revoke its family); the owner's retry still works.
#[tokio::test]
async fn a_retry_by_another_client_gets_invalid_grant_and_never_the_pair() {
    let (server, id, secret) = windowed_setup(WINDOW).await;
    let (other_id, other_secret) = create_windowed_client(&mut server.admin(), WINDOW).await;
    let first = tokens_for(&server, &id, &secret).await;
    let rotated = text(&first, "refresh_token");
    let (_, answer) = refresh_json(&server, &id, &secret, rotated, None).await;
    let (status, body) = refresh_json(&server, &other_id, &other_secret, rotated, None).await;
    assert_eq!((status, text(&body, "error")), (400, "invalid_grant"));
    assert!(body.get("access_token").is_none());
    assert_eq!(newest_family(&server).revoked, None);
    let (status, again) = refresh_json(&server, &id, &secret, rotated, None).await;
    assert_eq!(status, 200);
    assert_same_pair(&answer, &again, 0);
}

/// N first uses of one refresh token at once, on a client with a window: one
/// rotation, and every request gets its pair.
async fn simultaneous_first_uses(n: usize) {
    let (server, id, secret) = windowed_setup(WINDOW).await;
    let first = tokens_for(&server, &id, &secret).await;
    let body = format!(
        "grant_type=refresh_token&refresh_token={}",
        text(&first, "refresh_token")
    );
    let results = race(&server, "/token", &id, &secret, vec![body; n]).await;
    let (status, winner) = &results[0];
    assert_eq!(*status, 200, "{winner}");
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body, winner, "every answer is the same pair");
    }
    let family = newest_family(&server);
    assert_eq!((family.rotations, family.revoked), (1, None));
    let access = text(winner, "access_token");
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        200
    );
    let (status, _) =
        refresh_json(&server, &id, &secret, text(winner, "refresh_token"), None).await;
    assert_eq!(status, 200, "the one successor works");
    // The clock is frozen: every retry fell in one minute, so one row counts them.
    let events = retried_events(&server, n as i64 - 1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].count, n as i64 - 1);
}

// Without a window the same races keep today's result (one 200, the family
// revoked): `races::{two,ten,fifty}_simultaneous_refreshes`.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_simultaneous_first_uses_with_a_window_rotate_once() {
    simultaneous_first_uses(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_simultaneous_first_uses_with_a_window_rotate_once() {
    simultaneous_first_uses(10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_simultaneous_first_uses_with_a_window_rotate_once() {
    simultaneous_first_uses(50).await;
}

/// A copy of the database after a retry holds no token of the flow: not the
/// code, the client secret, nor any access or refresh token, the ones kept for
/// the retry included.
#[tokio::test]
async fn the_database_files_hold_no_token_after_a_retry() {
    let (server, id, secret) = windowed_setup(WINDOW).await;
    let code = Browser::new(&server).obtain_code(&id, "alice").await["code"].clone();
    let first: Value = exchange(&server, &id, &secret, &code)
        .await
        .json()
        .await
        .unwrap();
    let rotated = text(&first, "refresh_token");
    let (_, answer) = refresh_json(&server, &id, &secret, rotated, None).await;
    let (status, again) = refresh_json(&server, &id, &secret, rotated, None).await;
    assert_eq!(status, 200);
    assert_same_pair(&answer, &again, 0);
    assert_eq!(kept_answers(&server), 1, "the sealed answer is there");
    let mut bytes = Vec::new();
    for file in ["gatehouse.db", "gatehouse.db-wal"] {
        bytes.extend(std::fs::read(server.data_dir().join(file)).unwrap_or_default());
    }
    assert!(bytes.len() > 4096, "the files were read");
    let flow = [
        code.as_str(),
        secret.as_str(),
        text(&first, "access_token"),
        rotated,
        text(&answer, "access_token"),
        text(&answer, "refresh_token"),
    ];
    for token in flow {
        // The whole token, and its random part without the readable prefix.
        for needle in [token, &token[4..]] {
            assert!(
                !bytes
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes()),
                "a token of the flow is in the database files"
            );
        }
    }
}

#[tokio::test]
async fn kept_answers_go_when_the_window_ends_and_strict_clients_keep_none() {
    let (server, id, secret) = windowed_setup(WINDOW).await;
    let first = tokens_for(&server, &id, &secret).await;
    refresh_json(&server, &id, &secret, text(&first, "refresh_token"), None).await;
    assert_eq!(kept_answers(&server), 1);
    let now = server.clock.now();
    assert_eq!(server.store.sweep_refresh_retries(now).unwrap(), 0);
    server.clock.advance(i64::from(WINDOW));
    let now = server.clock.now();
    assert_eq!(server.store.sweep_refresh_retries(now).unwrap(), 1);
    assert_eq!(kept_answers(&server), 0);

    let (strict_id, strict_secret) = create_client(&mut server.admin(), REDIRECT_URI).await;
    let first = tokens_for(&server, &strict_id, &strict_secret).await;
    let (status, _) = refresh_json(
        &server,
        &strict_id,
        &strict_secret,
        text(&first, "refresh_token"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(kept_answers(&server), 0, "a strict client keeps nothing");
}

#[tokio::test]
async fn the_window_is_set_shown_and_bounded_over_grpc_and_the_command_line() {
    let server = TestServer::spawn().await;
    let created = server
        .cli_json(&[
            "client",
            "create",
            "--name",
            "Mobile",
            "--redirect-uri",
            REDIRECT_URI,
            "--refresh-retry-window",
            "30",
        ])
        .await;
    assert_eq!(created["refresh_retry_window_secs"], 30);
    let id = text(&created, "client_id").to_owned();
    let shown = server.cli(&["client", "show", &id], "").await;
    assert!(
        shown.stdout.contains("retry window:    30 s"),
        "{}",
        shown.stdout
    );
    let listed = server.cli_json(&["client", "list"]).await;
    assert_eq!(listed[0]["refresh_retry_window_secs"], 30);
    let updated = server
        .cli_json(&["client", "update", &id, "--refresh-retry-window", "0"])
        .await;
    assert_eq!(updated["refresh_retry_window_secs"], 0);
    assert_eq!(updated["name"], "Mobile", "other fields are kept");
    let refused = server
        .cli(
            &["client", "update", &id, "--refresh-retry-window", "61"],
            "",
        )
        .await;
    assert!(!refused.success);
    assert!(
        refused.stderr.contains("refresh_retry_window_secs"),
        "{}",
        refused.stderr
    );

    let mut admin = server.admin();
    let status = admin
        .create_client(proto::CreateClientRequest {
            name: "Too long".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            refresh_retry_window_secs: 61,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let client = admin
        .update_client(proto::UpdateClientRequest {
            id: id.clone(),
            client: Some(proto::Client {
                refresh_retry_window_secs: 60,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["refresh_retry_window_secs".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (client.refresh_retry_window_secs, client.name.as_str()),
        (60, "Mobile")
    );
}

/// SIGKILL right after the rotation's COMMIT, so its answer is lost: after the
/// restart the retry gets the pair that rotation committed, and again the same.
#[tokio::test]
async fn a_kill_after_the_rotation_commit_and_a_retry_after_restart_gets_the_committed_pair() {
    let root = tempfile::tempdir().unwrap();
    let (data_dir, id, secret, families) = seeded_data_dir(root.path(), 1);
    let (_, rotated) = families[0].clone();
    let mut child = ChildServer::start(&data_dir, "").await;
    let updated = child
        .admin()
        .update_client(proto::UpdateClientRequest {
            id: id.clone(),
            client: Some(proto::Client {
                refresh_retry_window_secs: 60,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["refresh_retry_window_secs".into()],
            }),
        })
        .await;
    assert!(updated.is_ok());
    child.kill().await;
    let mut child = ChildServer::start(&data_dir, "rotate.after_commit=kill").await;
    assert!(
        refresh_at(&child.url(""), &id, &secret, &rotated)
            .await
            .is_none(),
        "the answer was lost"
    );
    child.wait_for_death().await;
    assert_database_sound(&data_dir);
    let mut child = ChildServer::start(&data_dir, "").await;
    let (status, answer) = refresh_at(&child.url(""), &id, &secret, &rotated)
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    let (status, again) = refresh_at(&child.url(""), &id, &secret, &rotated)
        .await
        .unwrap();
    assert_eq!(status, 200);
    for field in ["access_token", "refresh_token", "scope", "token_type"] {
        assert_eq!(answer[field], again[field], "{field}");
    }
    let log = child.log_text();
    child.kill().await;
    let conn = rusqlite::Connection::open(data_dir.join("gatehouse.db")).unwrap();
    let successor_generation: i64 = conn
        .query_row(
            "SELECT generation FROM refresh_tokens WHERE hash = ?1",
            [sha256(text(&answer, "refresh_token"))],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        successor_generation, 1,
        "the pair is the one committed before the kill"
    );
    let (refresh_tokens, rotations): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM refresh_tokens), (SELECT max(generation) FROM refresh_tokens)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (refresh_tokens, rotations),
        (2, 1),
        "nothing new was issued"
    );
    for token in [rotated.as_str(), text(&answer, "refresh_token")] {
        assert!(!log.contains(token), "a token reached the log");
    }
    assert_database_sound(&data_dir);
}

fn sha256(text: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).to_vec()
}
