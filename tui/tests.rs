//! Console tests without a terminal: snapshots of every screen (TestBackend +
//! insta) at 80×24 and 120×40 with deterministic data, and state tests that
//! feed keys to `App::update` to prove the safety rules. The connection's
//! tests are in `tests/link.rs`.

use crate::app::{App, Screen};
use crate::dialog::Action;
use crate::event::{Cmd, Msg, RpcError};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gatehouse::proto;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// The Events screen's filter: asked of the server, then matched live.
mod event_filter;
/// The key tables: dispatch and help from one source.
mod keys;
/// The connection: LIVE/LOST, resume, refetch.
mod link;
/// The signed-in role: status bar, refused keys, disabled keys in the help.
mod roles;
/// A client's secrets: the detail panel and the rotate dialog's overlap.
mod secrets;

const T0: i64 = 1_795_000_000;

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn char_key(c: char) -> Msg {
    key(KeyCode::Char(c))
}

fn typed(app: &mut App, text: &str) -> Vec<Cmd> {
    text.chars().flat_map(|c| app.update(char_key(c))).collect()
}

fn client(id: &str, name: &str, disabled: bool, families: i64) -> proto::Client {
    proto::Client {
        id: id.into(),
        name: name.into(),
        redirect_uris: vec![format!(
            "https://{}.example/cb",
            name.to_lowercase().replace(' ', "-")
        )],
        scopes: vec!["profile".into()],
        grant_types: vec![1, 2],
        public: id.ends_with('p'),
        disabled,
        created_at: T0,
        updated_at: T0,
        active_families: families,
        refresh_retry_window_secs: if name.contains("Mobile") { 30 } else { 0 },
        resource_server: false,
    }
}

fn family(
    id: &str,
    client_id: &str,
    client_name: &str,
    user: &str,
    revoked: Option<&str>,
) -> proto::Family {
    proto::Family {
        id: id.into(),
        client_id: client_id.into(),
        client_name: client_name.into(),
        username: user.into(),
        scope: "profile".into(),
        created_at: T0,
        last_used_at: T0 + 600,
        rotations: 3,
        status: if revoked.is_some() {
            "revoked"
        } else {
            "active"
        }
        .into(),
        revoked_reason: revoked.unwrap_or("").into(),
        revoked_at: if revoked.is_some() { T0 + 900 } else { 0 },
        revoked_by: if revoked.is_some() { "public" } else { "" }.into(),
    }
}

fn event(id: i64, kind: &str, family_id: &str) -> proto::Event {
    proto::Event {
        id,
        time: T0 + id * 60,
        kind: kind.into(),
        actor: if kind.starts_with("client") {
            "bootstrap"
        } else {
            "public"
        }
        .into(),
        client_id: "cli_acme".into(),
        family_id: family_id.into(),
        username: "alice".into(),
        detail: String::new(),
        security: gatehouse::model::EventKind::parse(kind).is_ok_and(|kind| kind.is_security()),
        ..Default::default()
    }
}

/// A console connected to a server with a few clients, grants and events.
fn sample_app() -> App {
    let mut app = App::new("127.0.0.1:50051".into(), true);
    app.update(Msg::Status(Ok(proto::Status {
        version: "0.1.0".into(),
        uptime_secs: 3600,
        clients: 3,
        users: 2,
        active_families: 2,
        database_bytes: 409_600,
        maintenance: false,
        security_events_last_hour: 1,
        issuer: "http://127.0.0.1:8080".into(),
        ..Default::default()
    })));
    app.update(Msg::Scopes(Ok(vec![
        proto::Scope {
            name: "orders".into(),
            description: "Read your orders".into(),
        },
        proto::Scope {
            name: "profile".into(),
            description: "Read your profile".into(),
        },
    ])));
    app.update(Msg::Clients {
        result: Ok(proto::ListClientsResponse {
            clients: vec![
                client("cli_acme", "Acme Shop", false, 2),
                client("cli_globex", "Globex Mobile", false, 0),
                client("cli_initech", "Initech Legacy", true, 0),
            ],
            next_page_token: String::new(),
        }),
        append: false,
    });
    app.update(Msg::Families(Ok(proto::ListFamiliesResponse {
        families: vec![
            family(
                "fam_aaaaaaaaaaaaaaaa",
                "cli_acme",
                "Acme Shop",
                "alice",
                None,
            ),
            family("fam_bbbbbbbbbbbbbbbb", "cli_acme", "Acme Shop", "bob", None),
            family(
                "fam_cccccccccccccccc",
                "cli_globex",
                "Globex Mobile",
                "alice",
                Some("refresh_replay"),
            ),
        ],
        next_page_token: String::new(),
    })));
    app.update(Msg::Backfill(Ok(vec![
        event(1, "client_created", ""),
        event(2, "user_created", ""),
        event(3, "refresh_replay", "fam_cccccccccccccccc"),
        event(4, "family_revoked", "fam_cccccccccccccccc"),
    ])));
    app.update(Msg::Tick(10_000));
    // The stream the history opened catches up: the console is LIVE.
    app.update(Msg::Heartbeat { stream: 1 });
    app
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| crate::view::render(app, frame))
        .unwrap();
    terminal
}

fn snapshot_both(name: &str, app: &App) {
    insta::assert_snapshot!(format!("{name}_80x24"), draw(app, 80, 24).backend());
    insta::assert_snapshot!(format!("{name}_120x40"), draw(app, 120, 40).backend());
}

fn on_screen(screen: Screen) -> App {
    let mut app = sample_app();
    app.screen = screen;
    app
}

#[test]
fn snapshot_overview() {
    snapshot_both("overview", &on_screen(Screen::Overview));
}

#[test]
fn snapshot_clients() {
    snapshot_both("clients", &on_screen(Screen::Clients));
}

#[test]
fn snapshot_client_form_new_with_inline_validation() {
    let mut app = on_screen(Screen::Clients);
    app.update(char_key('n'));
    typed(&mut app, "Partner");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "http://evil.example/cb");
    snapshot_both("client_form_new", &app);
}

#[test]
fn snapshot_client_form_review() {
    let mut app = on_screen(Screen::Clients);
    app.update(char_key('e'));
    for _ in 0..6 {
        app.update(key(KeyCode::BackTab));
    }
    app.update(char_key(' '));
    // On to the retry window: 0 (strict) becomes 30 s; letters are ignored.
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Backspace));
    typed(&mut app, "3x0");
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )));
    snapshot_both("client_form_review", &app);
}

#[test]
fn snapshot_secret_modal_is_masked() {
    let mut app = on_screen(Screen::Clients);
    app.update(Msg::Saved(Ok((
        client("cli_new", "New Partner", false, 0),
        Some("gcs_NOTAREALSECRETxxxxxxxxxxxxxxxxxxxxxxxxxxx".into()),
    ))));
    snapshot_both("secret_modal", &app);
    let rendered = draw(&app, 120, 40).backend().to_string();
    assert!(!rendered.contains("NOTAREALSECRET"), "masked until v");
    app.update(char_key('v'));
    assert!(draw(&app, 120, 40)
        .backend()
        .to_string()
        .contains("NOTAREALSECRET"));
    app.update(key(KeyCode::Esc));
    assert!(app.secret.is_none(), "gone when the modal closes");
}

#[test]
fn snapshot_grants() {
    snapshot_both("grants", &on_screen(Screen::Grants));
}

#[test]
fn snapshot_grant_history() {
    let mut app = on_screen(Screen::Grants);
    app.update(Msg::FamilyDetail(Ok(proto::FamilyDetail {
        family: Some(family(
            "fam_cccccccccccccccc",
            "cli_globex",
            "Globex Mobile",
            "alice",
            Some("refresh_replay"),
        )),
        tokens: vec![
            proto::Token {
                kind: "code".into(),
                generation: 0,
                issued_at: T0,
                expires_at: T0 + 60,
                used_at: T0 + 2,
                status: "used".into(),
            },
            proto::Token {
                kind: "refresh_token".into(),
                generation: 0,
                issued_at: T0 + 2,
                expires_at: T0 + 100,
                used_at: T0 + 300,
                status: "used".into(),
            },
            proto::Token {
                kind: "access_token".into(),
                generation: 0,
                issued_at: T0 + 2,
                expires_at: T0 + 3602,
                used_at: 0,
                status: "revoked".into(),
            },
            proto::Token {
                kind: "refresh_token".into(),
                generation: 1,
                issued_at: T0 + 300,
                expires_at: T0 + 900,
                used_at: 0,
                status: "revoked".into(),
            },
        ],
    })));
    snapshot_both("grant_history", &app);
}

#[test]
fn snapshot_events() {
    snapshot_both("events", &on_screen(Screen::Events));
}

#[test]
fn snapshot_help() {
    let mut app = on_screen(Screen::Grants);
    app.update(char_key('?'));
    snapshot_both("help_grants", &app);
}

#[test]
fn snapshot_revoke_dialog() {
    let mut app = on_screen(Screen::Grants);
    let cmds = app.update(char_key('X'));
    assert_eq!(
        cmds,
        vec![Cmd::CountFamily("fam_aaaaaaaaaaaaaaaa".into())],
        "the server counts the blast radius"
    );
    app.update(Msg::BlastRadius(Ok(proto::RevokeResponse {
        revoked: 1,
        tokens: 2,
        principals: 1,
    })));
    snapshot_both("revoke_family_dialog", &app);
}

#[test]
fn snapshot_bulk_revoke_dialog_with_blast_radius() {
    let mut app = on_screen(Screen::Grants);
    app.update(char_key('C'));
    app.update(Msg::BlastRadius(Ok(proto::RevokeResponse {
        revoked: 2,
        tokens: 4,
        principals: 2,
    })));
    snapshot_both("revoke_client_dialog", &app);
}

#[test]
fn snapshot_connection_lost() {
    let mut app = on_screen(Screen::Clients);
    app.update(Msg::StreamEnded {
        stream: 1,
        reason: "connection refused".into(),
    });
    snapshot_both("connection_lost", &app);
}

#[test]
fn selection_is_reversed_and_no_color_drops_colours() {
    let app = on_screen(Screen::Clients);
    let terminal = draw(&app, 120, 40);
    let buffer = terminal.backend().buffer();
    let selected_row = 3;
    assert!(buffer[(2, selected_row)]
        .modifier
        .contains(ratatui::style::Modifier::REVERSED));
    let mut plain = app.clone();
    plain.color = false;
    let terminal = draw(&plain, 120, 40);
    let buffer = terminal.backend().buffer();
    let coloured = buffer
        .content()
        .iter()
        .any(|cell| cell.fg != ratatui::style::Color::Reset);
    assert!(!coloured, "NO_COLOR: no foreground colours at all");
}

/// Opens the revoke dialog for the selected family and lets the arming delay pass.
fn armed_revoke(app: &mut App) -> Vec<Cmd> {
    let cmds = app.update(char_key('X'));
    app.update(Msg::Tick(app.now_ms + 400));
    cmds
}

#[test]
fn the_dialog_pins_its_target_even_if_the_rows_change_underneath() {
    let mut app = on_screen(Screen::Grants);
    armed_revoke(&mut app);
    // A refresh arrives and reorders the list: the row under the cursor is now another family.
    app.update(Msg::Families(Ok(proto::ListFamiliesResponse {
        families: vec![family(
            "fam_zzzzzzzzzzzzzzzz",
            "cli_globex",
            "Globex Mobile",
            "carol",
            None,
        )],
        next_page_token: String::new(),
    })));
    let cmds = app.update(char_key('y'));
    assert_eq!(
        cmds,
        vec![Cmd::RevokeFamily {
            id: "fam_aaaaaaaaaaaaaaaa".into(),
            note: "revoked from the console".into()
        }]
    );
}

#[test]
fn neither_the_opening_key_nor_enter_confirms_and_the_default_is_cancel() {
    let mut app = on_screen(Screen::Grants);
    assert_eq!(
        app.update(char_key('X')),
        vec![Cmd::CountFamily("fam_aaaaaaaaaaaaaaaa".into())],
        "opening only asks for the count"
    );
    assert!(
        app.update(char_key('y')).is_empty(),
        "keys are ignored while arming"
    );
    app.update(Msg::Tick(app.now_ms + 400));
    assert!(
        app.update(char_key('X')).is_empty(),
        "the opening key does not confirm"
    );
    assert!(
        app.update(key(KeyCode::Enter)).is_empty(),
        "Enter never confirms"
    );
    assert!(app.dialog.is_some());
    app.update(key(KeyCode::Esc));
    assert!(app.dialog.is_none(), "Esc cancels");
    assert_eq!(app.toast.as_deref(), Some("cancelled"));
}

#[test]
fn bulk_revoke_needs_the_typed_name_a_reason_and_the_servers_count() {
    let mut app = on_screen(Screen::Clients);
    let cmds = app.update(char_key('X'));
    assert_eq!(
        cmds,
        vec![Cmd::RevokeClient {
            client_id: "cli_acme".into(),
            note: String::new(),
            dry_run: true
        }],
        "the dialog asks the server for the blast radius"
    );
    app.update(Msg::Tick(app.now_ms + 400));
    assert!(
        matches!(&app.dialog.as_ref().unwrap().action, Action::RevokeClient { client_id, .. } if client_id == "cli_acme")
    );
    typed(&mut app, "Acme Sho");
    app.update(key(KeyCode::Enter));
    typed(&mut app, "incident 42");
    app.update(key(KeyCode::Tab));
    assert!(
        app.update(char_key('y')).is_empty(),
        "wrong name: not ready"
    );
    app.update(key(KeyCode::BackTab));
    app.update(key(KeyCode::BackTab));
    typed(&mut app, "p");
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    assert!(
        app.update(char_key('y')).is_empty(),
        "no count from the server yet"
    );
    app.update(Msg::BlastRadius(Ok(proto::RevokeResponse {
        revoked: 2,
        tokens: 4,
        principals: 2,
    })));
    // Back in the reason field, `y` is a letter of the reason, never a confirm.
    app.update(key(KeyCode::BackTab));
    assert!(app.update(char_key('y')).is_empty());
    assert_eq!(app.dialog.as_ref().unwrap().reason, "incident 42y");
    app.update(key(KeyCode::Backspace));
    let footer = draw(&app, 120, 40).backend().to_string();
    assert!(footer.contains("Ctrl-Y Confirm"), "{footer}");
    let ctrl_y = Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL));
    let cmds = app.update(ctrl_y);
    assert_eq!(
        cmds,
        vec![Cmd::RevokeClient {
            client_id: "cli_acme".into(),
            note: "incident 42".into(),
            dry_run: false
        }]
    );
}

#[test]
fn server_validation_errors_appear_next_to_their_field() {
    let mut app = on_screen(Screen::Clients);
    app.update(char_key('n'));
    typed(&mut app, "Partner");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "https://p.example/cb");
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )));
    let cmds = app.update(char_key('y'));
    assert!(matches!(cmds.as_slice(), [Cmd::CreateClient(_)]));
    app.update(Msg::Saved(Err(RpcError {
        unavailable: false,
        field: Some("scopes".into()),
        message: "scopes: unknown scope \"x\"".into(),
    })));
    let form = app.form.as_ref().expect("the form stays open");
    assert_eq!(form.focus, crate::form::Field::Scopes);
    assert!(draw(&app, 120, 40)
        .backend()
        .to_string()
        .contains("✖ scopes: unknown scope"));
}

#[test]
fn the_retry_window_is_checked_inline_and_saved_under_its_mask_path() {
    let mut app = on_screen(Screen::Clients);
    app.update(char_key('e'));
    for _ in 0..4 {
        app.update(key(KeyCode::BackTab));
    }
    app.update(key(KeyCode::Backspace));
    typed(&mut app, "610");
    let form = app.form.as_ref().expect("the form is open");
    assert_eq!(form.focus, crate::form::Field::RetryWindow);
    assert_eq!(form.values.retry_window, "61", "two digits at most");
    assert!(!form.valid());
    assert!(draw(&app, 120, 40)
        .backend()
        .to_string()
        .contains("✖ 0 (strict) to 60 seconds"));
    app.update(key(KeyCode::Backspace));
    let ctrl_s = Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    app.update(ctrl_s);
    let cmds = app.update(char_key('y'));
    let [Cmd::UpdateClient { request, .. }] = cmds.as_slice() else {
        panic!("an update: {cmds:?}");
    };
    let mask = request.update_mask.as_ref().unwrap();
    assert!(mask.paths.contains(&"refresh_retry_window_secs".to_owned()));
    assert_eq!(
        request.client.as_ref().unwrap().refresh_retry_window_secs,
        6
    );
}

#[test]
fn enter_on_a_replay_event_jumps_to_its_family() {
    let mut app = on_screen(Screen::Events);
    app.update(char_key('j'));
    let cmds = app.update(key(KeyCode::Enter));
    assert_eq!(cmds, vec![Cmd::LoadFamily("fam_cccccccccccccccc".into())]);
    assert_eq!(app.screen, Screen::Grants);
}

#[test]
fn pause_holds_new_events_until_resumed() {
    let mut app = on_screen(Screen::Events);
    app.update(char_key('p'));
    app.update(Msg::Event {
        stream: 1,
        event: event(9, "login_failed", ""),
    });
    assert_eq!(app.events.len(), 4);
    app.update(char_key('p'));
    assert_eq!(app.events.front().unwrap().id, 9);
}

#[test]
fn a_paused_tail_holds_at_most_a_thousand_events_and_counts_the_dropped() {
    let mut app = on_screen(Screen::Events);
    app.update(char_key('p'));
    for id in 10..10 + 1037 {
        app.update(Msg::Event {
            stream: 1,
            event: event(id, "login_failed", ""),
        });
    }
    assert_eq!((app.held.len(), app.held.dropped), (1000, 37));
    assert!(draw(&app, 80, 24)
        .backend()
        .to_string()
        .contains("⏸ paused, 1000 held, 37 dropped"));
    app.update(char_key('p'));
    assert_eq!(app.events.len(), 1000);
    assert_eq!(
        app.events.front().unwrap().id,
        10 + 1036,
        "the newest is kept"
    );
    assert_eq!(app.held.len(), 0);
    assert_eq!(
        app.pause_note.as_deref(),
        Some("37 events dropped while paused")
    );
    assert!(draw(&app, 80, 24)
        .backend()
        .to_string()
        .contains("⋯ 37 events dropped while paused"));
}

#[test]
fn a_list_is_stale_from_a_failed_fetch_until_a_whole_fresh_list_arrives() {
    use crate::listing::Remote;
    let mut app = on_screen(Screen::Clients);
    assert_eq!(app.clients.remote, Remote::Loaded);
    let failure = RpcError {
        unavailable: false,
        field: None,
        message: "internal".into(),
    };
    app.update(Msg::Clients {
        result: Err(failure),
        append: false,
    });
    assert_eq!(app.clients.remote, Remote::Failed("internal".into()));
    assert!(draw(&app, 80, 24).backend().to_string().contains("(stale)"));
    let page = |id: &str| proto::ListClientsResponse {
        clients: vec![client(id, "Later Page", false, 0)],
        next_page_token: String::new(),
    };
    app.update(Msg::Clients {
        result: Ok(page("cli_later")),
        append: true,
    });
    assert!(app.clients.stale(), "a further page leaves the list stale");
    app.update(Msg::Clients {
        result: Ok(page("cli_fresh")),
        append: false,
    });
    assert_eq!(app.clients.remote, Remote::Loaded);
    assert!(!draw(&app, 80, 24).backend().to_string().contains("(stale)"));
}
