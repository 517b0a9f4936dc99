use crate::support::{create_client, create_user, proto, seed_family, Paused, TestServer};
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn first_start_creates_a_private_data_dir_and_admin_token() {
    let server = TestServer::spawn().await;
    let mode =
        |path: std::path::PathBuf| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(server.data_dir()), 0o700);
    assert_eq!(mode(server.data_dir().join("admin.token")), 0o600);
    assert_eq!(mode(server.data_dir().join("gatehouse.db")), 0o600);
    assert_eq!(server.admin_token.len(), 43, "256 bits, base64url");
}

#[tokio::test]
async fn durability_pragmas_are_in_force() {
    let server = TestServer::spawn().await;
    let (journal, synchronous, foreign_keys, busy_timeout) = server.store.pragmas().unwrap();
    assert_eq!(journal, "wal");
    // NORMAL on the write connection, with FULL's fsync done by the sync
    // thread before any answer (the next test proves it happens).
    assert_eq!(synchronous, 1, "synchronous=NORMAL");
    assert!(foreign_keys);
    assert!(busy_timeout >= 5000);
}

/// Every answered write was fsynced first: writes awaited one after another
/// cannot share a sync, so each one takes a sync of its own.
#[tokio::test]
async fn every_answered_write_waited_for_its_own_wal_sync() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let before = server.store.write_stats();
    for n in 0..5 {
        create_user(&mut admin, &format!("durable{n}"), "a long enough password").await;
    }
    let after = server.store.write_stats();
    assert!(
        after.commits >= before.commits + 5,
        "{before:?} → {after:?}"
    );
    assert!(
        after.syncs >= before.syncs + 5,
        "five writes answered one after another need five syncs: {before:?} → {after:?}"
    );
}

/// Between a COMMIT and its fsync the change is in the database, and nobody
/// has heard of it: its caller still waits, and the event log (a page of
/// events, a watcher catching up) stops before its event. The sync thread is
/// held before its fsync by the `wal_sync.before` pause; once it goes on, both
/// see the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_is_answered_and_its_event_shown_only_after_its_wal_sync() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    create_user(&mut admin, "before", "a long enough password").await;
    let newest = |store: &gatehouse::store::Store| {
        let (events, _) = store.list_events(1, 0, &Default::default()).unwrap();
        events.first().map_or(0, |event| event.id)
    };
    let shown = newest(&server.store);
    let release = Paused::at(&server.store, "wal_sync.before");
    let write = tokio::spawn(async move {
        create_user(&mut admin, "held", "a long enough password").await;
    });
    // The COMMIT as any other connection to the file sees it.
    let database = server.data_dir().join("gatehouse.db");
    let committed = || {
        let conn = rusqlite::Connection::open(&database).unwrap();
        conn.query_row(
            "SELECT count(*) FROM users WHERE username = 'held'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .unwrap()
            == 1
    };
    let mut polls = 0;
    while !committed() {
        polls += 1;
        assert!(polls < 500, "the write never committed");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // Time enough for an answer sent at COMMIT to arrive, were one sent.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!write.is_finished(), "the caller waits for the fsync");
    assert_eq!(
        newest(&server.store),
        shown,
        "a page of events stops before it"
    );
    assert!(server.store.events_after(shown, 10).unwrap().is_empty());
    drop(release);
    write.await.unwrap();
    assert!(newest(&server.store) > shown);
    let caught_up = server.store.events_after(shown, 10).unwrap();
    assert_eq!(caught_up.len(), 1, "{caught_up:?}");
}

#[tokio::test]
async fn start_refuses_a_data_dir_readable_by_others() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    gatehouse::server::prepare(&data).unwrap();
    std::fs::set_permissions(
        data.join("gatehouse.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let error = gatehouse::server::prepare(&data).err().expect("refused");
    assert!(error.to_string().contains("gatehouse.db"), "{error}");
    assert!(error.to_string().contains("chmod"), "{error}");
}

#[tokio::test]
async fn restart_on_the_same_data_dir_keeps_everything() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let (client, _) = create_client(&mut admin, "https://partner.example/cb").await;
    create_user(&mut admin, "alice", "correct horse battery").await;
    let (family, access, _) = seed_family(&server.store, &client, "alice", server.clock.now());
    let token = server.admin_token.clone();
    let server = server.restart().await;
    assert_eq!(server.admin_token, token, "the admin token survives");
    let mut admin = server.admin();
    let fetched = admin
        .get_client(proto::GetClientRequest { id: client })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched.active_families, 1);
    let users = admin
        .list_users(proto::ListUsersRequest {})
        .await
        .unwrap()
        .into_inner()
        .users;
    assert_eq!(users.len(), 1);
    let shown = admin
        .get_family(proto::GetFamilyRequest { id: family })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown.family.unwrap().status, "active");
    assert!(server
        .store
        .lookup_token(&access, server.clock.now())
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn healthz_answers_when_the_database_does() {
    let server = TestServer::spawn().await;
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_and_keeps_its_data() {
    let root = tempfile::tempdir().unwrap();
    let (data_dir, id, secret, families) = crate::support::seeded_data_dir(root.path(), 1);
    let mut child = crate::support::ChildServer::start(&data_dir, "").await;
    let pid = child.child.id().expect("running") as i32;
    // SAFETY: kill(2) with a pid we own; no memory is involved.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "a clean exit on SIGTERM: {status:?}");
    let child = crate::support::ChildServer::start(&data_dir, "").await;
    let (code, _) = crate::support::refresh_at(&child.url(""), &id, &secret, &families[0].1)
        .await
        .unwrap();
    assert_eq!(code, 200);
}

#[tokio::test]
async fn port_zero_binds_what_the_kernel_gives_and_the_issuer_follows() {
    let root = tempfile::tempdir().unwrap();
    // ChildServer passes `--http-addr 127.0.0.1:0 --issuer http://127.0.0.1:0`
    // and reads the bound addresses from the "gatehouse serving" line.
    let child = crate::support::ChildServer::start(&root.path().join("data"), "").await;
    assert_ne!(child.http_addr.port(), 0);
    assert_ne!(child.grpc_addr.port(), 0);
    let metadata: serde_json::Value =
        reqwest::get(child.url("/.well-known/oauth-authorization-server"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let issuer = format!("http://{}", child.http_addr);
    assert_eq!(metadata["issuer"], issuer.as_str());
    assert_eq!(
        metadata["token_endpoint"],
        format!("{issuer}/token").as_str()
    );
    let mut admin = child.admin();
    let status = admin
        .get_status(proto::GetStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.issuer, issuer);
}
