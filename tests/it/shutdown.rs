//! Graceful shutdown of the real `gatehouse serve` process: SIGTERM ends every
//! event stream with the server's own status, lets in-flight requests finish,
//! and exits within `--shutdown-grace-secs` whatever the clients do; a second
//! signal exits at once.

use crate::support::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The default `--shutdown-grace-secs`.
const GRACE: Duration = gatehouse::config::DEFAULT_SHUTDOWN_GRACE;
/// Process start-up and scheduling on a loaded 2-core machine.
const MARGIN: Duration = Duration::from_secs(3);

type Events = tonic::Streaming<proto::Event>;

/// Opens a WatchEvents stream and waits for its first heartbeat: from then on
/// the stream is open and caught up.
async fn subscribe(admin: &mut AdminClient) -> Events {
    let mut stream = admin
        .watch_events(proto::WatchEventsRequest {
            after_id: 0,
            from_start: false,
        })
        .await
        .expect("WatchEvents")
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .expect("a first message")
        .expect("no error")
        .expect("a message");
    assert!(first.heartbeat.is_some(), "{first:?}");
    stream
}

/// Reads past heartbeats until the stream ends; returns how it ended.
async fn end_of(stream: &mut Events) -> Result<(), tonic::Status> {
    loop {
        match stream.message().await {
            Ok(Some(message)) if message.heartbeat.is_some() => {}
            Ok(Some(event)) => panic!("no event was expected: {event:?}"),
            Ok(None) => return Ok(()),
            Err(status) => return Err(status),
        }
    }
}

/// A POST /token whose body is only half sent: an HTTP request in flight.
async fn request_in_flight(server: &ChildServer) -> (TcpStream, &'static str) {
    let body = "grant_type=refresh_token&refresh_token=grt_unknown";
    let (first, rest) = body.split_at(10);
    let mut connection = TcpStream::connect(server.http_addr).await.unwrap();
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{first}",
        server.http_addr,
        body.len()
    );
    connection.write_all(head.as_bytes()).await.unwrap();
    // Let the server read the head and start on the request: a wait, not an assertion.
    tokio::time::sleep(Duration::from_millis(300)).await;
    (connection, rest)
}

fn port_is_free(addr: std::net::SocketAddr) -> bool {
    std::net::TcpListener::bind(addr).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_three_event_subscribers_open_exits_within_the_grace_bound() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ChildServer::start(&dir.path().join("data"), "").await;
    let mut admin = server.admin();
    let mut readers = Vec::new();
    for _ in 0..3 {
        let mut stream = subscribe(&mut admin).await;
        readers.push(tokio::spawn(async move { end_of(&mut stream).await }));
    }

    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    let status = server.exit_within(GRACE + MARGIN).await;
    let exit_time = signalled.elapsed();
    eprintln!("exited {exit_time:?} after SIGTERM with 3 WatchEvents subscribers");

    let status = status.unwrap_or_else(|| {
        panic!(
            "still running {:?} after SIGTERM:\n{}",
            GRACE + MARGIN,
            server.log_text()
        )
    });
    assert!(status.success(), "a clean exit: {status:?}");
    for reader in readers {
        let end = tokio::time::timeout(MARGIN, reader)
            .await
            .expect("the stream has ended")
            .expect("the reader ran");
        // The server's own status, sent when shutdown began, not a cut connection.
        let status = end.expect_err("the stream ends with a status");
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
        assert_eq!(status.message(), "the server is shutting down");
    }
    assert!(port_is_free(server.grpc_addr), "the gRPC port is released");
    assert!(port_is_free(server.http_addr), "the HTTP port is released");
    let log = server.log_text();
    assert!(log.contains("drained: every request answered"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_request_in_flight_at_sigterm_is_answered_before_the_exit() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ChildServer::start(&dir.path().join("data"), "").await;
    let (mut connection, rest) = request_in_flight(&server).await;

    server.signal(libc::SIGTERM);
    server.await_log("shutting down").await;
    connection.write_all(rest.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(GRACE, connection.read_to_string(&mut response))
        .await
        .expect("answered within the grace period")
        .unwrap();

    assert!(
        response.starts_with("HTTP/1.1 401"),
        "the request is answered in full (invalid_client: no credentials): {response}"
    );
    assert!(response.contains("invalid_client"), "{response}");
    let status = server.exit_within(GRACE + MARGIN).await.expect("exits");
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_period_bounds_the_drain_whatever_the_clients_do() {
    let dir = tempfile::tempdir().unwrap();
    let (data_dir, grace) = (dir.path().join("data"), Duration::from_secs(1));
    let mut server = ChildServer::start_with(&data_dir, "", &["--shutdown-grace-secs", "1"]).await;
    // A request that will never be completed, and an event subscriber.
    let (_stuck, _) = request_in_flight(&server).await;
    let _events = subscribe(&mut server.admin()).await;

    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    let status = server.exit_within(grace + MARGIN).await;
    eprintln!(
        "exited {:?} after SIGTERM with --shutdown-grace-secs 1 and a request stuck",
        signalled.elapsed()
    );

    let status = status.expect("exits within the grace period");
    assert!(status.success(), "{status:?}");
    assert!(server.log_text().contains("grace period over"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigterm_exits_at_once_without_draining() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut server =
        ChildServer::start_with(&data_dir, "", &["--shutdown-grace-secs", "600"]).await;
    let (_stuck, _) = request_in_flight(&server).await;

    server.signal(libc::SIGTERM);
    server.await_log("shutting down").await;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the first signal drains: the stuck request holds it"
    );
    server.signal(libc::SIGTERM);
    let status = server
        .exit_within(MARGIN)
        .await
        .expect("the second signal exits at once");
    assert_eq!(status.code(), Some(1), "{status:?}");
    assert!(server.log_text().contains("second signal"));
}
