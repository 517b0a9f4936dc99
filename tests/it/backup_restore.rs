//! `gatehouse backup` under load and `gatehouse restore` into a new data dir:
//! the copy is sound, and after a restore no refresh token that was current in
//! the backup (or rotated since) mints anything, unless the operator says so.

use crate::support::*;
use gatehouse::server::LocalServer;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

fn open(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn integrity(path: &Path) -> String {
    open(path)
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap()
}

async fn backup_to(data_dir: &Path, to: &Path) -> serde_json::Value {
    let output = gatehouse(&[
        "--data-dir",
        path_str(data_dir),
        "backup",
        "--to",
        path_str(to),
        "--json",
    ])
    .await;
    assert!(output.success, "backup failed: {}", output.stderr);
    serde_json::from_str(&output.stdout).expect("backup --json")
}

async fn restore(data_dir: &Path, from: &Path, flags: &[&str]) -> CliOutput {
    let mut args = vec!["--data-dir", path_str(data_dir), "restore", path_str(from)];
    args.extend_from_slice(flags);
    gatehouse(&args).await
}

/// A refresh answered by the server at `base`: (status, `error` or "").
async fn refresh_status(base: &str, id: &str, secret: &str, token: &str) -> (u16, String) {
    let (status, body) = refresh_at(base, id, secret, token)
        .await
        .expect("an answer");
    let error = body["error"].as_str().unwrap_or("").to_owned();
    (status, error)
}

#[tokio::test]
async fn a_backup_under_refresh_load_restores_with_every_grant_of_the_backup_revoked() {
    let (server, id, secret) = partner_setup().await;
    let now = server.clock.now();
    let families: Vec<_> = (0..8)
        .map(|_| seed_family(&server.store, &id, "alice", now))
        .collect();
    let base = server.url("");
    // Every token pair ever issued, the seeded ones first.
    let issued: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(
        families
            .iter()
            .map(|(_, access, refresh)| (access.clone(), refresh.clone()))
            .collect(),
    ));
    let backed_up = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for (_, _, refresh) in families {
        let (base, id, secret) = (base.clone(), id.clone(), secret.clone());
        let (issued, backed_up) = (issued.clone(), backed_up.clone());
        load.push(tokio::spawn(async move {
            let mut current = refresh;
            let mut after_backup = 0;
            loop {
                let (status, body) = refresh_at(&base, &id, &secret, &current)
                    .await
                    .expect("an answer");
                assert_eq!(status, 200, "the backup never fails a refresh: {body}");
                let next = body["refresh_token"].as_str().unwrap().to_owned();
                let access = body["access_token"].as_str().unwrap().to_owned();
                issued.lock().unwrap().push((access, next.clone()));
                current = next;
                if backed_up.load(Ordering::SeqCst) {
                    after_backup += 1;
                    if after_backup == 3 {
                        return;
                    }
                }
            }
        }));
    }
    // The load is running (each family rotated at least once) when the backup starts.
    while issued.lock().unwrap().len() < 16 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let copy = server.dir.path().join("copy.db");
    let report = backup_to(&server.data_dir(), &copy).await;
    backed_up.store(true, Ordering::SeqCst);
    for task in load {
        task.await.expect("the load ran to its end");
    }

    // The copy: sound, private, and what the report says.
    assert_eq!(integrity(&copy), "ok");
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(report["integrity"], "ok");
    assert_eq!(
        report["bytes"].as_u64().unwrap(),
        std::fs::metadata(&copy).unwrap().len()
    );
    let newest: i64 = open(&copy)
        .query_row("SELECT max(id) FROM events", [], |row| row.get(0))
        .unwrap();
    assert_eq!(report["newest_event_id"].as_i64().unwrap(), newest);
    assert_eq!(report["active_families"].as_i64().unwrap(), 8);

    // Restore into a new data dir: the blast radius first, then the policy.
    let restored_dir = server.dir.path().join("restored");
    let output = restore(&restored_dir, &copy, &[]).await;
    assert!(output.success, "restore failed: {}", output.stderr);
    assert!(
        output.stdout.contains("8 active families"),
        "{}",
        output.stdout
    );
    assert!(output
        .stdout
        .contains("policy: revoke all 8 active families"));
    assert!(output.stdout.contains("restored: 8 families revoked"));
    let mode = std::fs::metadata(restored_dir.join("gatehouse.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // A server on the restored data dir: no refresh token ever issued works,
    // neither those current in the backup nor those rotated after it.
    let restored = LocalServer::start(&restored_dir, server.clock.clone())
        .await
        .expect("a server starts on the restored data dir");
    let restored_base = format!("http://{}", restored.http_addr);
    let issued = issued.lock().unwrap().clone();
    assert!(issued.len() >= 8 * 5);
    for (access, refresh) in &issued {
        let (status, error) = refresh_status(&restored_base, &id, &secret, refresh).await;
        assert_eq!((status, error.as_str()), (400, "invalid_grant"));
        let me = reqwest::Client::new()
            .get(format!("{restored_base}/api/public/v1/me"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 401);
    }
    let store = &restored.shared.store;
    let (families, _) = store.list_families(&Default::default(), 100, 0).unwrap();
    assert_eq!(families.len(), 8);
    assert!(families
        .iter()
        .all(|family| family.revoked.as_ref().unwrap().reason
            == gatehouse::model::RevokeReason::Restored));
    let (events, _) = store
        .list_events(10, 0, &gatehouse::model::EventFilter::security())
        .unwrap();
    let event = events
        .iter()
        .find(|event| event.kind == gatehouse::model::EventKind::DatabaseRestored)
        .expect("a database_restored event");
    assert!(
        event.detail.contains("8 active families revoked"),
        "{}",
        event.detail
    );
    // The restored server serves new grants: clients and users came back.
    let mut browser = Browser::at(&restored_base);
    let query = browser.obtain_code(&id, "alice").await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", query["code"].as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ])
        .finish();
    let exchanged = reqwest::Client::new()
        .post(format!("{restored_base}/token"))
        .header("authorization", basic_header(&id, &secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(exchanged.status(), 200);
    restored.stop().await.unwrap();
}

#[tokio::test]
async fn keep_grants_brings_back_a_rotated_refresh_token_which_is_why_it_is_not_the_default() {
    let (server, id, secret) = partner_setup().await;
    let (_, _, old) = seed_family(&server.store, &id, "alice", server.clock.now());
    let copy = server.dir.path().join("copy.db");
    backup_to(&server.data_dir(), &copy).await;
    // Rotated after the backup: dead on this server.
    assert_eq!(refresh(&server, &id, &secret, &old).await.status(), 200);

    let kept_dir = server.dir.path().join("kept");
    let output = restore(&kept_dir, &copy, &["--keep-grants"]).await;
    assert!(output.success, "{}", output.stderr);
    assert!(
        output.stdout.contains("KEEP the 1 active families"),
        "{}",
        output.stdout
    );
    let kept = LocalServer::start(&kept_dir, server.clock.clone())
        .await
        .unwrap();
    let base = format!("http://{}", kept.http_addr);
    let (status, _) = refresh_status(&base, &id, &secret, &old).await;
    assert_eq!(status, 200, "the operator chose to keep the grants");
    kept.stop().await.unwrap();

    let safe_dir = server.dir.path().join("safe");
    assert!(restore(&safe_dir, &copy, &[]).await.success);
    let safe = LocalServer::start(&safe_dir, server.clock.clone())
        .await
        .unwrap();
    let base = format!("http://{}", safe.http_addr);
    let (status, error) = refresh_status(&base, &id, &secret, &old).await;
    assert_eq!((status, error.as_str()), (400, "invalid_grant"));
    safe.stop().await.unwrap();
}

#[tokio::test]
async fn restore_refuses_a_running_server_and_a_bad_file_and_keeps_the_replaced_database() {
    let (mut server, id, _) = partner_setup().await;
    seed_family(&server.store, &id, "alice", server.clock.now());
    let copy = server.dir.path().join("copy.db");
    backup_to(&server.data_dir(), &copy).await;
    let database = server.data_dir().join("gatehouse.db");

    let refused = restore(&server.data_dir(), &copy, &[]).await;
    assert!(!refused.success);
    assert!(
        refused.stderr.contains("stop it first"),
        "{}",
        refused.stderr
    );
    assert_eq!(refused.stderr.trim().lines().count(), 1);

    let garbage = server.dir.path().join("garbage.db");
    std::fs::write(&garbage, b"not a database at all, just bytes").unwrap();
    server.shutdown().await;
    let refused = restore(&server.data_dir(), &garbage, &[]).await;
    assert!(!refused.success);
    assert!(
        refused.stderr.contains("not a usable backup"),
        "{}",
        refused.stderr
    );
    assert!(!server.data_dir().join("gatehouse.db.restoring").exists());

    let dry = restore(&server.data_dir(), &copy, &["--dry-run"]).await;
    assert!(dry.success, "{}", dry.stderr);
    assert!(dry.stdout.contains("dry run: nothing changed"));
    let replaced_before = std::fs::read_dir(server.data_dir())
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("replaced")
        })
        .count();
    assert_eq!(replaced_before, 0);

    let restored = restore(&server.data_dir(), &copy, &["--json"]).await;
    assert!(restored.success, "{}", restored.stderr);
    let report: serde_json::Value = serde_json::from_str(&restored.stdout).unwrap();
    assert_eq!(report["families_revoked"], 1);
    assert_eq!(report["policy"], "revoke");
    let aside = Path::new(report["replaced"].as_str().expect("kept aside"));
    assert!(aside.exists());
    assert_eq!(integrity(aside), "ok");
    assert_eq!(integrity(&database), "ok");
    assert_database_sound(&server.data_dir());
}
