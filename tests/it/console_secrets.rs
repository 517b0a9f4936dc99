//! The real `gatehouse-tui` in tmux against the real server: the client's
//! secrets panel shows the last use ("3 minutes ago from 127.0.0.1", on the
//! server's frozen clock), and a rotation with a 7-day overlap from the dialog
//! leaves both secrets listed and both working.
//!
//! Without tmux it fails unless `GATEHOUSE_SKIP_TMUX_TESTS=1` (see
//! `support/tmux.rs`); `.ci/run` installs tmux.

use crate::support::*;
use std::time::Duration;

async fn introspect_status(server: &TestServer, id: &str, secret: &str) -> u16 {
    post_form(
        server,
        "/introspect",
        Some((id, secret)),
        &[("token", "gat_x")],
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_rotates_a_secret_with_an_overlap_from_the_console() {
    if !tmux_available("console secrets test") {
        return;
    }
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let (id, old) = create_client(&mut admin, REDIRECT_URI).await;
    assert_eq!(introspect_status(&server, &id, &old).await, 200);
    // The use is written by the flush (about a second later).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server
        .store
        .client_secrets(
            &gatehouse::model::ClientId::parse(&id).unwrap(),
            server.clock.now(),
        )
        .unwrap()[0]
        .last_used
        .is_none()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "last use never written"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.clock.advance(180);

    let command = format!(
        "{} --grpc-addr {} --data-dir {}",
        env!("CARGO_BIN_EXE_gatehouse-tui"),
        server.grpc_addr,
        server.data_dir().display()
    );
    let tmux = Tmux::start("secrets", &command);
    tmux.wait_for("● LIVE").await;
    tmux.keys(&["2"]);
    tmux.wait_for("Secrets of Partner (1/2 live)").await;
    tmux.wait_for("last used 3 minutes ago from 127.0.0.1")
        .await;

    tmux.keys(&["S"]);
    tmux.wait_for("Rotate client secret").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    tmux.text("7d");
    let dialog = tmux.wait_for("keeps working for 7d").await;
    assert!(dialog.contains("Ctrl-Y Confirm"), "{dialog}");
    tmux.keys(&["C-y"]);
    tmux.wait_for("Secret for Partner").await;
    tmux.wait_for("The old secret works until").await;
    tmux.keys(&["v"]);
    let screen = tmux
        .wait_until("the revealed secret", |screen| {
            screen
                .lines()
                .any(|line| line.contains("client_secret  gcs_") && !line.contains('•'))
        })
        .await;
    let new = screen
        .lines()
        .find_map(|line| line.split_once("client_secret  "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .expect("the secret on screen")
        .trim_end_matches('│')
        .to_owned();
    tmux.keys(&["Escape"]);
    // The panel reloads under the modal: wait for the modal to be gone too.
    let panel = tmux
        .wait_until("both secrets listed, the modal closed", |screen| {
            screen.contains("Secrets of Partner (2/2 live)")
                && !screen.contains("Secret for Partner")
        })
        .await;
    assert!(panel.contains("expires in 7d"), "{panel}");
    assert!(panel.contains("never used"), "{panel}");
    assert!(
        panel.contains("last used 3 minutes ago from 127.0.0.1"),
        "{panel}"
    );
    assert!(
        new.starts_with("gcs_") && new.len() > 20,
        "{new:?} from\n{screen}"
    );
    assert!(!panel.contains(&new), "the panel never shows a secret");

    assert_ne!(new, old);
    assert_eq!(
        introspect_status(&server, &id, &old).await,
        200,
        "the old one, in the overlap"
    );
    assert_eq!(
        introspect_status(&server, &id, &new).await,
        200,
        "the new one"
    );
    let (events, _) = server
        .store
        .list_events(100, 0, &gatehouse::model::EventFilter::default())
        .unwrap();
    let rotated = events
        .iter()
        .find(|event| event.kind == gatehouse::model::EventKind::SecretRotated)
        .expect("the rotation's event");
    assert!(
        rotated.detail.contains("stays valid for 7d"),
        "{}",
        rotated.detail
    );
}
