//! The real `gatehouse-tui` driven in tmux against the real server: create a
//! client through the form, find the family the real /token flow issued, revoke
//! it, and see the token die at /introspect and the revocation in Events.
//!
//! Without tmux it fails unless `GATEHOUSE_SKIP_TMUX_TESTS=1` (see
//! `support/tmux.rs`); `.ci/run` installs tmux.

use crate::support::*;
use std::time::Duration;

fn value_after(screen: &str, label: &str) -> String {
    screen
        .lines()
        .find_map(|line| {
            line.split_once(label)
                .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| panic!("no {label} on screen:\n{screen}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_creates_a_client_then_revokes_its_live_grant_from_the_console() {
    if !tmux_available("console e2e test") {
        return;
    }
    let server = TestServer::spawn().await;
    create_user(&mut server.admin(), "alice", PASSWORD).await;
    let command = format!(
        "{} --grpc-addr {} --data-dir {}",
        env!("CARGO_BIN_EXE_gatehouse-tui"),
        server.grpc_addr,
        server.data_dir().display()
    );
    let tmux = Tmux::start("console", &command);
    tmux.wait_for("● LIVE").await;

    // Create a client through the form.
    tmux.keys(&["2", "n"]);
    tmux.wait_for("New client").await;
    tmux.text("Console Partner");
    tmux.keys(&["Tab"]);
    tmux.text(REDIRECT_URI);
    tmux.keys(&["Tab"]);
    tmux.wait_for("profile — Read your profile").await;
    tmux.keys(&["Space", "C-s"]);
    tmux.wait_for("Review the changes").await;
    tmux.keys(&["y"]);
    tmux.wait_for("Secret for Console Partner").await;
    assert!(
        !tmux.screen().contains("gcs_") || tmux.screen().contains("gcs_•"),
        "masked until v"
    );
    tmux.keys(&["v"]);
    // The masked line also starts with "gcs_": wait until the bullets are gone.
    let screen = loop {
        let screen = tmux.wait_for("client_secret  gcs_").await;
        if !value_after(&screen, "client_secret  ").contains('•') {
            break screen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let client_id = value_after(&screen, "client_id      ");
    let client_secret = value_after(&screen, "client_secret  ");
    tmux.keys(&["Escape"]);

    // The partner runs the real flow and gets tokens.
    let tokens = tokens_for(&server, &client_id, &client_secret).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        introspect(&server, &client_id, &client_secret, access).await["active"],
        true
    );
    let family_id = newest_family(&server).id;

    // The responder finds the family and revokes it.
    tmux.keys(&["3", "r"]);
    tmux.wait_for(family_id.as_str()).await;
    tmux.keys(&["X"]);
    tmux.wait_for("Revoke grant").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    tmux.keys(&["Enter"]);
    assert!(
        tmux.screen().contains("Revoke grant"),
        "Enter does not confirm"
    );
    tmux.keys(&["y"]);
    tmux.wait_for("revoked 1 family").await;
    tmux.wait_for("✖ revoked admin").await;

    assert_eq!(
        introspect(&server, &client_id, &client_secret, access).await,
        serde_json::json!({"active": false})
    );
    tmux.keys(&["4"]);
    let events = tmux.wait_for("family_revoked").await;
    assert!(events.contains(&format!("family={family_id}")), "{events}");

    // Incident: revoke ALL of the client's grants, typing a reason with a `y`
    // in it, and confirming the way the footer says (Ctrl-Y).
    let second = tokens_for(&server, &client_id, &client_secret).await;
    let second = second["access_token"].as_str().unwrap();
    tmux.keys(&["2"]);
    tmux.wait_for("Console Partner").await;
    tmux.keys(&["X"]);
    tmux.wait_for("Revoke ALL grants of a client").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    tmux.text("Console Partner");
    tmux.keys(&["Tab"]);
    tmux.text("key leaked: they say yes");
    let dialog = tmux.wait_for("they say yes").await;
    assert!(dialog.contains("Ctrl-Y Confirm"), "{dialog}");
    assert!(
        dialog.contains("Reason (goes to the event log): key leaked: they say yes"),
        "the y keys were typed into the reason:\n{dialog}"
    );
    tmux.wait_for("Affects 1 family, 2 live tokens, 1 user.")
        .await;
    tmux.keys(&["C-y"]);
    tmux.wait_for("revoked 1 family").await;
    assert_eq!(
        introspect(&server, &client_id, &client_secret, second).await,
        serde_json::json!({"active": false})
    );
    let (events, _) = server
        .store
        .list_events(5, 0, &gatehouse::model::EventFilter::security())
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.detail.ends_with("key leaked: they say yes")),
        "{events:?}"
    );
    tmux.keys(&["q"]);
}
