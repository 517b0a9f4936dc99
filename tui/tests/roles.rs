//! The signed-in role in the console: the status bar names it, keys beyond it
//! are refused with the reason (no dialog, no form, no call), and the help
//! shows them disabled, dimmed, with the role they need — never hidden.

use super::{char_key, draw, on_screen, snapshot_both};
use crate::app::{App, Screen};
use crate::event::{Cmd, Msg};
use gatehouse::proto;
use ratatui::style::Modifier;

fn signed_in(screen: Screen, name: &str, role: proto::AdminRole) -> App {
    let mut app = on_screen(screen);
    app.update(Msg::WhoAmI(Ok(proto::AdminIdentity {
        name: name.into(),
        role: role as i32,
        expires_at: 0,
    })));
    app
}

#[test]
fn the_console_asks_who_it_is_at_connect() {
    let app = App::new("127.0.0.1:50051".into(), false);
    assert!(app.init().contains(&Cmd::WhoAmI));
}

#[test]
fn snapshot_status_bar_and_disabled_keys_of_a_viewer() {
    let mut app = signed_in(Screen::Clients, "vera", proto::AdminRole::Viewer);
    let bar = draw(&app, 120, 40).backend().to_string();
    let last = bar.lines().last().unwrap_or_default().to_owned();
    assert!(last.contains("vera (viewer)"), "{last}");
    app.update(char_key('?'));
    snapshot_both("help_clients_viewer", &app);
}

#[test]
fn disabled_keys_are_dimmed_and_allowed_keys_are_not() {
    let mut app = signed_in(Screen::Clients, "rita", proto::AdminRole::Responder);
    app.help = true;
    let terminal = draw(&app, 120, 40);
    let buffer = terminal.backend().buffer();
    let text = terminal.backend().to_string();
    let row_of = |needle: &str| {
        text.lines()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no help row {needle:?}"))
    };
    let style_of = |needle: &str| {
        let y = row_of(needle);
        // Each line of the backend's text is quoted: skip the quote.
        let line = text.lines().nth(y).unwrap_or_default();
        let x = line
            .chars()
            .skip(1)
            .position(|c| c != '│' && c != ' ')
            .unwrap_or(0);
        let cell = &buffer[(x as u16, y as u16)];
        assert_ne!(cell.symbol(), " ", "{needle:?} at column {x} of {line:?}");
        cell.modifier
    };
    // A responder may disable and revoke, not create, rotate or delete.
    assert!(
        text.contains("rotate the secret (overlap optional) — needs operator"),
        "{text}"
    );
    assert!(style_of("rotate the secret").contains(Modifier::DIM));
    assert!(style_of("new client — needs operator").contains(Modifier::DIM));
    assert!(!style_of("disable or enable").contains(Modifier::DIM));
    assert!(!text.contains("disable or enable (asks first) — needs"));
}

#[test]
fn keys_beyond_the_role_are_refused_with_the_reason() {
    let mut app = signed_in(Screen::Clients, "vera", proto::AdminRole::Viewer);
    for key in ['n', 'e', 'T', 'S', 'D', 'X'] {
        let cmds = app.update(char_key(key));
        assert!(cmds.is_empty(), "{key}: {cmds:?}");
        assert!(
            app.form.is_none() && app.dialog.is_none(),
            "{key} opened something"
        );
        let toast = app.toast.clone().unwrap_or_default();
        assert!(
            toast.contains("role (you are vera, viewer)"),
            "{key}: {toast}"
        );
    }
    assert_eq!(
        app.toast.as_deref(),
        Some("revoke ALL grants of the client: needs the responder role (you are vera, viewer)")
    );
    // Reads still work: the viewer moves and refreshes.
    assert!(!app.update(char_key('r')).is_empty());
    let mut grants = signed_in(Screen::Grants, "vera", proto::AdminRole::Viewer);
    grants.update(char_key('X'));
    assert!(grants.dialog.is_none());

    let mut responder = signed_in(Screen::Clients, "rita", proto::AdminRole::Responder);
    responder.update(char_key('T'));
    assert!(responder.dialog.is_some(), "a responder disables clients");
    let mut responder = signed_in(Screen::Clients, "rita", proto::AdminRole::Responder);
    responder.update(char_key('S'));
    assert!(responder.dialog.is_none(), "rotating needs an operator");

    let mut operator = signed_in(Screen::Clients, "olga", proto::AdminRole::Operator);
    operator.update(char_key('n'));
    assert!(operator.form.is_some(), "an operator creates clients");
}
