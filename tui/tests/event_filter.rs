//! The Events screen filters as `gatehouse events` does: the typed filter
//! becomes a `ListEvents` request, its answer is what the screen shows, live
//! events join it only when they match, and Esc brings the whole tail back.

use super::{char_key, key, on_screen, snapshot_both, typed, T0};
use crate::app::Screen;
use crate::event::{Cmd, Msg};
use crossterm::event::KeyCode;
use gatehouse::proto;

fn updated(id: i64, actor: &str) -> proto::Event {
    proto::Event {
        id,
        time: T0 + id * 60,
        kind: "client_updated".into(),
        actor: actor.into(),
        client_id: "cli_acme".into(),
        rpc: "UpdateClient".into(),
        changes: vec![proto::FieldChange {
            field: "name".into(),
            before: "Acme".into(),
            after: "Acme Shop".into(),
        }],
        ..Default::default()
    }
}

#[test]
fn the_filter_is_asked_of_the_server_and_matched_live() {
    let mut app = on_screen(Screen::Events);
    app.update(char_key('/'));
    typed(&mut app, "actor=olga kind=client_updated");
    let cmds = app.update(key(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Cmd::LoadEvents(proto::ListEventsRequest {
            page_size: 1000,
            actor: "olga".into(),
            kind: "client_updated".into(),
            ..Default::default()
        })]
    );
    app.update(Msg::FilteredEvents(Ok(vec![updated(7, "olga")])));
    app.on_event(updated(8, "bootstrap"));
    app.on_event(updated(9, "olga"));
    let shown: Vec<i64> = app.shown_events().iter().map(|e| e.id).collect();
    assert_eq!(
        shown,
        [9, 7],
        "newest first; bootstrap's event does not match"
    );
    snapshot_both("events_filtered", &app);

    app.update(key(KeyCode::Esc));
    assert!(app.event_filter.is_empty());
    assert_eq!(app.shown_events().front().map(|e| e.id), Some(9));
    assert!(app.shown_events().len() > 2, "the whole tail again");
}

#[test]
fn a_filter_it_cannot_read_is_told_not_sent() {
    let mut app = on_screen(Screen::Events);
    app.update(char_key('/'));
    typed(&mut app, "who=olga");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert!(app
        .toast
        .as_deref()
        .unwrap_or_default()
        .contains("actor=NAME"));
    assert!(app.event_filter.is_empty());
}
