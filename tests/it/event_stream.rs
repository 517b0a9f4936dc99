//! WatchEvents over real gRPC: heartbeats on an idle stream, resuming after an
//! event id (the replay, then a heartbeat, then live events), replaying from
//! the start, and `gatehouse events --follow` across a server shutdown.

use crate::support::*;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

type Events = tonic::Streaming<proto::Event>;

async fn watch(admin: &mut AdminClient, after_id: i64, from_start: bool) -> Events {
    admin
        .watch_events(proto::WatchEventsRequest {
            after_id,
            from_start,
        })
        .await
        .expect("WatchEvents")
        .into_inner()
}

async fn next(stream: &mut Events) -> proto::Event {
    tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .expect("a message within 5 s")
        .expect("no error")
        .expect("the stream is open")
}

/// Event ids up to the first heartbeat: the replay.
async fn replayed(stream: &mut Events) -> Vec<i64> {
    let mut ids = Vec::new();
    loop {
        let message = next(stream).await;
        if message.heartbeat.is_some() {
            return ids;
        }
        ids.push(message.id);
    }
}

/// The next event that is not a heartbeat.
async fn next_event(stream: &mut Events) -> proto::Event {
    loop {
        let message = next(stream).await;
        if message.heartbeat.is_none() {
            return message;
        }
    }
}

async fn all_event_ids(admin: &mut AdminClient) -> Vec<i64> {
    let mut ids: Vec<i64> = admin
        .list_events(proto::ListEventsRequest {
            page_size: 1000,
            before_id: 0,
            security_only: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events
        .iter()
        .map(|event| event.id)
        .collect();
    ids.reverse();
    ids
}

#[tokio::test]
async fn an_idle_stream_carries_heartbeats_and_nothing_else() {
    let server = TestServer::spawn().await;
    let mut stream = watch(&mut server.admin(), 0, false).await;
    for _ in 0..3 {
        let message = next(&mut stream).await;
        let heartbeat = message.heartbeat.expect("a heartbeat");
        assert_eq!(heartbeat.time, server.clock.now());
        assert_eq!(
            proto::Event {
                heartbeat: None,
                ..message
            },
            proto::Event::default(),
            "a heartbeat carries no event"
        );
    }
}

#[tokio::test]
async fn a_resumed_stream_replays_what_it_missed_then_a_heartbeat_then_live_events() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    for _ in 0..3 {
        create_client(&mut admin, REDIRECT_URI).await;
    }
    let ids = all_event_ids(&mut admin).await;
    assert!(ids.len() >= 3, "{ids:?}");
    let seen = ids[0];

    let mut stream = watch(&mut admin, seen, false).await;
    assert_eq!(replayed(&mut stream).await, ids[1..].to_vec());
    let (live_id, _) = create_client(&mut admin, REDIRECT_URI).await;
    let live = next_event(&mut stream).await;
    assert_eq!(
        (live.kind.as_str(), live.client_id),
        ("client_created", live_id)
    );
    assert!(live.id > *ids.last().unwrap());
}

#[tokio::test]
async fn from_start_replays_the_whole_log_and_after_id_zero_alone_only_live_ones() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    create_client(&mut admin, REDIRECT_URI).await;
    create_user(&mut admin, "alice", PASSWORD).await;
    let ids = all_event_ids(&mut admin).await;

    let mut everything = watch(&mut admin, 0, true).await;
    assert_eq!(replayed(&mut everything).await, ids);
    let mut live_only = watch(&mut admin, 0, false).await;
    assert_eq!(replayed(&mut live_only).await, Vec::<i64>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_follow_ignores_heartbeats_and_exits_with_one_line_when_the_server_stops() {
    let mut server = TestServer::spawn().await;
    let mut admin = server.admin();
    create_user(&mut admin, "alice", PASSWORD).await;
    let mut follow = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["--data-dir", path_str(&server.data_dir())])
        .args(["--grpc-addr", &server.grpc_addr.to_string()])
        .args(["events", "--follow", "--json"])
        .env_remove("GATEHOUSE_ADMIN_TOKEN")
        .env_remove("GATEHOUSE_ADMIN_TOKEN_FILE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn gatehouse events --follow");
    let mut lines = BufReader::new(follow.stdout.take().unwrap()).lines();
    let line = async |lines: &mut tokio::io::Lines<_>| -> serde_json::Value {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("a line within 10 s")
            .unwrap()
            .expect("a line, not the end");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    };
    assert_eq!(line(&mut lines).await["kind"], "user_created");
    // Idle long enough for heartbeats to flow (a wait, not an assertion).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (client_id, _) = create_client(&mut admin, REDIRECT_URI).await;
    let next = line(&mut lines).await;
    assert_eq!(
        next["kind"], "client_created",
        "no heartbeat was printed: {next}"
    );
    assert_eq!(next["client_id"], client_id.as_str());

    server.shutdown().await;
    let status = tokio::time::timeout(Duration::from_secs(10), follow.wait())
        .await
        .expect("events --follow exits when the server stops")
        .unwrap();
    assert!(!status.success());
    assert_eq!(
        lines.next_line().await.unwrap(),
        None,
        "nothing more on stdout"
    );
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(follow.stderr.as_mut().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert_eq!(
        stderr,
        "gatehouse: the event stream ended: the server is shutting down\n"
    );
}
