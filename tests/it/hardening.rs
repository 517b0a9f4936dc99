//! Admin plane hardening: loopback-only gRPC, throttled admin auth, secrets
//! never returned twice, an append-only event log, private files.

use crate::support::*;
use prost::Message;
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn serve_refuses_a_non_loopback_grpc_address() {
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "serve",
            "--data-dir",
            path_str(&dir.path().join("data")),
            "--grpc-addr",
            "0.0.0.0:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--grpc-addr") && stderr.contains("loopback"),
        "{stderr}"
    );
}

#[tokio::test]
async fn start_refuses_an_exposed_token_file_or_data_dir() {
    for target in ["admin.token", "."] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        gatehouse::server::prepare(&data).unwrap();
        let path = data.join(target);
        let mode = if target == "." { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let error = gatehouse::server::prepare(&data).err().expect("refused");
        assert!(error.to_string().contains("group or others"), "{error}");
    }
}

#[tokio::test]
async fn no_rpc_returns_a_secret_after_creation_or_rotation() {
    let (server, id, secret) = partner_setup().await;
    let mut admin = server.admin();
    let rotated = admin
        .rotate_client_secret(proto::RotateClientSecretRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .client_secret;
    let mut encoded = Vec::new();
    encoded.extend(
        admin
            .get_client(proto::GetClientRequest { id: id.clone() })
            .await
            .unwrap()
            .into_inner()
            .encode_to_vec(),
    );
    encoded.extend(
        admin
            .list_clients(proto::ListClientsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .encode_to_vec(),
    );
    encoded.extend(
        admin
            .list_events(proto::ListEventsRequest {
                page_size: 100,
                before_id: 0,
                security_only: false,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .encode_to_vec(),
    );
    let text = String::from_utf8_lossy(&encoded);
    assert!(text.contains(&id));
    assert!(!text.contains(&secret) && !text.contains(&rotated));
    assert!(!text.contains("gcs_"), "no secret of any kind");
}

#[tokio::test]
async fn events_are_append_only_and_pruned_only_through_the_explicit_path() {
    let (server, _, _) = partner_setup().await;
    let conn = rusqlite::Connection::open(server.data_dir().join("gatehouse.db")).unwrap();
    let update = conn
        .execute("UPDATE events SET detail = 'forged'", [])
        .unwrap_err();
    assert!(update.to_string().contains("append-only"), "{update}");
    let delete = conn.execute("DELETE FROM events", []).unwrap_err();
    assert!(delete.to_string().contains("append-only"), "{delete}");
    let now = server.clock.now();
    let removed = server.store.prune_events(now + 1, now).unwrap();
    assert!(removed >= 2, "client_created and user_created were pruned");
    server
        .store
        .set_maintenance(gatehouse::model::Actor::Local, false, now + 2)
        .unwrap();
    let again = conn.execute("DELETE FROM events", []).unwrap_err();
    assert!(
        again.to_string().contains("append-only"),
        "the guard is back after pruning"
    );
}

#[tokio::test]
async fn admin_auth_failures_are_recorded_and_throttled_without_locking_out_the_operator() {
    let server = TestServer::spawn().await;
    let wrong_file = server.dir.path().join("wrong");
    std::fs::write(&wrong_file, "wrong-token\n").unwrap();
    let wrong = gatehouse::config::GlobalArgs {
        admin_token_file: Some(wrong_file),
        ..server.global_args()
    };
    let mut wrong = gatehouse::cli::connect(&wrong).unwrap();
    let mut codes = Vec::new();
    for _ in 0..31 {
        codes.push(
            wrong
                .get_status(proto::GetStatusRequest {})
                .await
                .unwrap_err()
                .code(),
        );
    }
    assert!(codes[..30]
        .iter()
        .all(|code| *code == tonic::Code::Unauthenticated));
    assert_eq!(
        codes[30],
        tonic::Code::ResourceExhausted,
        "throttled after 30 a minute"
    );
    assert!(
        server
            .admin()
            .get_status(proto::GetStatusRequest {})
            .await
            .is_ok(),
        "the right token still gets in"
    );
    assert_eq!(
        await_events(&server, "admin_auth_failed", 30).await,
        30,
        "one event per failure"
    );
}
