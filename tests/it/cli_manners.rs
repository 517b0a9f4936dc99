//! The command line fits its ecosystem: OAuth grant-type names, shell
//! completions, a man page, and `serve --check`.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn grant_types_take_their_oauth_names_and_the_dashed_ones_still_work() {
    let server = TestServer::spawn().await;
    let created = server
        .cli_json(&[
            "client",
            "create",
            "--name",
            "OAuth names",
            "--redirect-uri",
            REDIRECT_URI,
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
        ])
        .await;
    let id = created["client_id"].as_str().unwrap();
    let shown = server.cli_json(&["client", "show", id]).await;
    assert_eq!(
        shown["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    let dashed = server
        .cli_json(&["client", "update", id, "--grant-type", "authorization-code"])
        .await;
    assert_eq!(
        dashed["grant_types"],
        serde_json::json!(["authorization_code"])
    );
}

#[tokio::test]
async fn completions_and_the_man_page_need_no_server_and_no_token() {
    for shell in ["bash", "zsh", "fish"] {
        let output = gatehouse(&["--data-dir", "/nonexistent", "completions", shell]).await;
        assert!(output.success, "{shell}: {}", output.stderr);
        for word in ["backup", "restore", "grants", "metrics-addr"] {
            assert!(
                output.stdout.contains(word),
                "{shell} completion lacks {word}"
            );
        }
    }
    let man = gatehouse(&["man"]).await;
    assert!(man.success, "{}", man.stderr);
    assert!(man.stdout.contains(".TH gatehouse 1"), "{}", man.stdout);
    assert!(man.stdout.contains("completions"));
}

async fn check(data_dir: &std::path::Path, flags: &[&str]) -> CliOutput {
    let mut args = vec![
        "--data-dir",
        path_str(data_dir),
        "serve",
        "--check",
        "--http-addr",
        "127.0.0.1:0",
        "--grpc-addr",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(flags);
    gatehouse(&args).await
}

fn one_line(output: &CliOutput) -> &str {
    assert!(!output.success, "should fail: {}", output.stdout);
    assert_eq!(output.stderr.trim().lines().count(), 1, "{}", output.stderr);
    output.stderr.trim()
}

#[tokio::test]
async fn serve_check_says_ok_or_gives_one_line_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fresh = check(&data, &[]).await;
    assert!(fresh.success, "{}", fresh.stderr);
    assert!(fresh.stdout.starts_with("ok: "), "{}", fresh.stdout);
    assert!(!data.exists(), "a check creates nothing");

    gatehouse::server::prepare(&data).unwrap();
    let ready = check(&data, &["--metrics-addr", "127.0.0.1:0"]).await;
    assert!(ready.success, "{}", ready.stderr);
    assert!(
        ready.stdout.contains("database ok (schema v"),
        "{}",
        ready.stdout
    );
    assert_eq!(ready.stdout.lines().count(), 1);

    let bad_flag = check(&data, &["--issuer", "ftp://example.com"]).await;
    assert!(one_line(&bad_flag).contains("--issuer"));

    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(one_line(&check(&data, &[]).await).contains("chmod go-rwx"));
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();

    // A database from a newer release: a downgrade is refused, by the check and by serve.
    rusqlite::Connection::open(data.join("gatehouse.db"))
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    assert!(one_line(&check(&data, &[]).await).contains("schema version 99"));
    let refused = gatehouse::server::prepare(&data).err().expect("refused");
    assert!(
        refused
            .to_string()
            .contains("newer than this gatehouse knows"),
        "{refused}"
    );
}

#[tokio::test]
async fn serve_check_fails_while_a_server_holds_the_data_dir() {
    let server = TestServer::spawn().await;
    let held = check(&server.data_dir(), &[]).await;
    assert!(one_line(&held).contains("stop it first"));
}
