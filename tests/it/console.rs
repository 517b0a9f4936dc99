//! The real `gatehouse-tui` driven in tmux against the real server: create a
//! client through the form, find the family the real /token flow issued, revoke
//! it, and see the token die at /introspect and the revocation in Events.
//!
//! `.ci/run` installs tmux. Without it this test says so on stderr; under CI
//! (`CI=true`) its absence fails it.

use crate::support::*;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let output = std::process::Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "console", key]);
        }
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "console", "-l", text]);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "console"])
    }

    async fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} never appeared; the screen:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

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
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        let message = "console test NOT RUN: tmux is not installed (Debian package tmux; .ci/run installs it)";
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!("{message}");
        }
        eprintln!("{message}");
        return;
    }
    let server = TestServer::spawn().await;
    create_user(&mut server.admin(), "alice", PASSWORD).await;
    let tmux = Tmux {
        socket: format!("gatehouse-test-{}", std::process::id()),
    };
    let command = format!(
        "{} --grpc-addr {} --data-dir {}",
        env!("CARGO_BIN_EXE_gatehouse-tui"),
        server.grpc_addr,
        server.data_dir().display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "console",
        "-x",
        "120",
        "-y",
        "40",
        &command,
    ]);
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
    tmux.wait_for(&family_id).await;
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
    tmux.keys(&["q"]);
}
