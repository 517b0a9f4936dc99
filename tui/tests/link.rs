//! The connection's state tests (see `link.rs` and `follow.rs`): LIVE only
//! while the stream is heard from, LOST on an end, an error or silence, resume
//! after the last event, the gap count, refetch on reconnect, lists following
//! live events.

use super::{armed_revoke, char_key, event, key, on_screen, sample_app, snapshot_both};
use crate::app::{App, Screen};
use crate::event::{Cmd, Msg, RpcError};
use crate::link::Link;
use crossterm::event::KeyCode;
use gatehouse::proto;

#[test]
fn a_lost_connection_never_exits_disables_writes_and_resumes_the_stream() {
    let mut app = on_screen(Screen::Grants);
    app.update(Msg::StreamEnded {
        stream: 1,
        reason: "the server is shutting down".into(),
    });
    assert!(matches!(app.link, Link::Lost { .. }));
    assert!(app.grants.stale() && app.clients.stale());
    armed_revoke(&mut app);
    assert!(app.update(char_key('y')).is_empty(), "writes are disabled");
    assert!(app
        .dialog
        .as_ref()
        .unwrap()
        .error
        .as_deref()
        .unwrap()
        .contains("connection lost"));
    app.update(key(KeyCode::Esc));
    let retry = app.update(Msg::Tick(app.now_ms + 5000));
    assert_eq!(
        retry,
        vec![Cmd::WatchEvents {
            stream: 2,
            after_id: 4
        }],
        "it retries on a timer, resuming after the last event seen"
    );
    // The replay: what happened while the console was away. Not LIVE until caught up.
    app.update(Msg::Event {
        stream: 2,
        event: event(5, "login_failed", ""),
    });
    app.update(Msg::Event {
        stream: 2,
        event: event(6, "code_reuse", "fam_x"),
    });
    assert!(matches!(app.link, Link::Lost { .. }));
    let refetch = app.update(Msg::Heartbeat { stream: 2 });
    assert_eq!(app.link, Link::Live);
    assert_eq!(app.gap_note.as_deref(), Some("2 events while disconnected"));
    assert_eq!(app.events.front().map(|event| event.id), Some(6));
    for cmd in [Cmd::LoadStatus, app.load_clients(), app.load_families()] {
        assert!(refetch.contains(&cmd), "{cmd:?} refetched: {refetch:?}");
    }
    assert!(app.grants.stale(), "(stale) stays until fresh data arrives");
    app.update(Msg::Families(Ok(proto::ListFamiliesResponse::default())));
    assert!(!app.grants.stale());
    assert!(app.clients.stale(), "the clients have not arrived yet");
}

#[test]
fn live_means_heard_from_within_two_seconds() {
    let mut app = sample_app();
    let heard = app.now_ms;
    app.update(Msg::Tick(heard + 1900));
    assert_eq!(app.link, Link::Live);
    app.update(Msg::Heartbeat { stream: 1 });
    app.update(Msg::Tick(heard + 3800));
    assert_eq!(app.link, Link::Live, "a heartbeat keeps it live");
    app.update(Msg::Tick(heard + 3900));
    assert!(
        matches!(&app.link, Link::Lost { reason, .. } if reason.contains("no heartbeat")),
        "{:?}",
        app.link
    );
    assert!(!app.writable());
}

#[test]
fn replies_to_calls_never_make_the_console_live() {
    let mut app = App::new("127.0.0.1:50051".into(), true);
    app.update(Msg::Status(Ok(proto::Status::default())));
    assert_eq!(app.link, Link::Connecting, "only the stream says LIVE");
    let mut app = sample_app();
    app.update(Msg::StreamEnded {
        stream: 1,
        reason: "the server is shutting down".into(),
    });
    app.update(Msg::Status(Ok(proto::Status::default())));
    app.update(Msg::Status(Err(RpcError::from(tonic::Status::cancelled(
        "operation was canceled",
    )))));
    assert!(matches!(app.link, Link::Lost { .. }));
    assert_eq!(app.toast, None, "the banner already says the link is down");
}

#[test]
fn a_cancelled_call_is_an_unreachable_server() {
    let error = RpcError::from(tonic::Status::cancelled("operation was canceled"));
    assert!(error.unavailable);
}

#[test]
fn an_old_stream_is_ignored_once_a_new_one_is_open() {
    let mut app = sample_app();
    app.update(Msg::StreamEnded {
        stream: 1,
        reason: "no heartbeat from the server for 2 s".into(),
    });
    app.update(Msg::Tick(app.now_ms + 5000));
    app.update(Msg::Event {
        stream: 1,
        event: event(7, "login_failed", ""),
    });
    app.update(Msg::Heartbeat { stream: 1 });
    assert!(matches!(app.link, Link::Lost { .. }), "stream 1 is over");
    assert_eq!(app.last_event_id, 4);
    app.update(Msg::StreamEnded {
        stream: 1,
        reason: "late".into(),
    });
    assert!(matches!(&app.link, Link::Lost { reason, .. } if reason != "late"));
}

#[test]
fn the_first_connection_notes_no_gap_and_a_failed_history_is_retried_first() {
    assert_eq!(sample_app().gap_note, None);
    let mut app = App::new("127.0.0.1:50051".into(), true);
    app.update(Msg::Backfill(Err(RpcError {
        unavailable: true,
        field: None,
        message: "tcp connect error".into(),
    })));
    assert!(matches!(app.link, Link::Lost { .. }));
    let retry = app.update(Msg::Tick(app.now_ms + 5000));
    assert_eq!(retry, vec![Cmd::Backfill { after_id: 0 }]);
    let open = app.update(Msg::Backfill(Ok(vec![event(1, "client_created", "")])));
    assert_eq!(
        open,
        vec![Cmd::WatchEvents {
            stream: 1,
            after_id: 1
        }]
    );
}

#[test]
fn a_live_client_event_reloads_the_clients_once_on_the_next_tick() {
    let mut app = on_screen(Screen::Clients);
    for id in [5, 6, 7] {
        app.update(Msg::Event {
            stream: 1,
            event: event(id, "client_created", ""),
        });
    }
    app.update(Msg::Event {
        stream: 1,
        event: event(8, "login_failed", ""),
    });
    let lists = |cmds: Vec<Cmd>| -> Vec<Cmd> {
        cmds.into_iter()
            .filter(|cmd| matches!(cmd, Cmd::LoadClients { .. } | Cmd::LoadFamilies { .. }))
            .collect()
    };
    let tick = lists(app.update(Msg::Tick(app.now_ms + 250)));
    assert_eq!(tick, vec![app.load_clients()], "one reload, clients only");
    assert!(lists(app.update(Msg::Tick(app.now_ms + 250))).is_empty());
}

#[test]
fn snapshot_events_after_a_reconnect() {
    let mut app = on_screen(Screen::Events);
    app.update(Msg::StreamEnded {
        stream: 1,
        reason: "the server is shutting down".into(),
    });
    app.update(Msg::Tick(app.now_ms + 5000));
    for id in [5, 6] {
        app.update(Msg::Event {
            stream: 2,
            event: event(id, "client_created", ""),
        });
    }
    app.update(Msg::Heartbeat { stream: 2 });
    snapshot_both("events_after_reconnect", &app);
}
