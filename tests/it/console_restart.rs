//! The real console in tmux across server restarts, as an operator sees them
//! during an incident. The server is a real process: stopped with SIGTERM (it
//! exits within the grace bound and the console says LOST), started again;
//! then killed with SIGKILL and started again. Each time the clients created
//! meanwhile appear on the Clients screen and in the Events feed without a key
//! press that fetches anything, and the status is LIVE again.
//!
//! Without tmux it fails unless `GATEHOUSE_SKIP_TMUX_TESTS=1`.

use crate::support::*;
use std::path::Path;
use std::time::{Duration, Instant};

const GRACE: Duration = gatehouse::config::DEFAULT_SHUTDOWN_GRACE;
const MARGIN: Duration = Duration::from_secs(3);

/// Creates clients named `names`; returns their ids.
async fn create_clients(server: &ChildServer, names: &[&str]) -> Vec<String> {
    let mut admin = server.admin();
    let mut ids = Vec::new();
    for name in names {
        let reply = admin
            .create_client(proto::CreateClientRequest {
                name: (*name).into(),
                redirect_uris: vec![REDIRECT_URI.into()],
                scopes: vec!["profile".into()],
                grant_types: vec![],
                public: false,
                ..Default::default()
            })
            .await
            .expect("create client")
            .into_inner();
        ids.push(reply.client.expect("client").id);
    }
    ids
}

/// The server on the same data dir and ports, so the console can reconnect.
async fn start_again(data_dir: &Path, previous: &ChildServer) -> ChildServer {
    ChildServer::start_on(data_dir, previous.http_addr, previous.grpc_addr, "", &[]).await
}

/// On the Clients screen with no key press: LIVE, fresh, every new client; then
/// in the Events feed (switching screens fetches nothing: the feed is what the
/// stream delivered), with the count of events the console was away for.
async fn expect_back_whole(tmux: &Tmux, names: &[&str], ids: &[String]) {
    tmux.wait_until("LIVE, no (stale), every new client", |screen| {
        screen.contains("● LIVE")
            && !screen.contains("(stale)")
            && names.iter().all(|name| screen.contains(name))
    })
    .await;
    tmux.keys(&["4"]);
    let noun = if ids.len() == 1 { "event" } else { "events" };
    let gap = format!("{} {noun} while disconnected", ids.len());
    tmux.wait_until(
        &format!("{gap:?} and client_created for {ids:?}"),
        |screen| {
            screen.contains(&gap)
                && ids.iter().all(|id| {
                    screen
                        .lines()
                        .any(|line| line.contains("client_created") && line.contains(id.as_str()))
                })
        },
    )
    .await;
    tmux.keys(&["2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_comes_back_whole_after_a_sigterm_and_after_a_sigkill() {
    if !tmux_available("console restart test") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut server = ChildServer::start(&data_dir, "").await;
    create_clients(&server, &["Before Restart"]).await;
    let command = format!(
        "{} --grpc-addr {} --data-dir {}",
        env!("CARGO_BIN_EXE_gatehouse-tui"),
        server.grpc_addr,
        data_dir.display()
    );
    let tmux = Tmux::start("console-restart", &command);
    tmux.wait_for("● LIVE").await;
    tmux.keys(&["2"]);
    tmux.wait_for("Before Restart").await;

    // SIGTERM: the server exits within the bound, and the console learns why.
    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    let status = server.exit_within(GRACE + MARGIN).await;
    eprintln!(
        "the server exited {:?} after SIGTERM with a console attached",
        signalled.elapsed()
    );
    let status = status.unwrap_or_else(|| panic!("still running:\n{}", server.log_text()));
    assert!(status.success(), "{status:?}");
    let screen = tmux.wait_for("the server is shutting down").await;
    assert!(screen.contains("✖ LOST"), "{screen}");
    assert!(screen.contains("(stale)"), "{screen}");

    let names = ["After Sigterm One", "After Sigterm Two"];
    let mut server = start_again(&data_dir, &server).await;
    let ids = create_clients(&server, &names).await;
    expect_back_whole(&tmux, &names, &ids).await;

    // SIGKILL: no goodbye from the server; the cut stream says LOST.
    server.kill().await;
    let screen = tmux.wait_for("✖ LOST").await;
    assert!(!screen.contains("● LIVE"), "{screen}");

    let names = ["After Sigkill"];
    let server = start_again(&data_dir, &server).await;
    let ids = create_clients(&server, &names).await;
    expect_back_whole(&tmux, &names, &ids).await;
    tmux.keys(&["q"]);
}
