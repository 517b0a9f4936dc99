//! The key tables (`keys.rs`) are the only source of both dispatch and help:
//! every key in a table reaches its action, a key in no table does nothing,
//! and the help lists exactly the table's rows.

use super::{draw, on_screen};
use crate::app::Screen;
use crate::event::Msg;
use crate::keys::{self, Action, Binding};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn pairs<A: Copy + 'static>(table: &[Binding<A>], wrap: fn(A) -> Action) -> Vec<(KeyCode, Action)> {
    table
        .iter()
        .flat_map(|binding| binding.keys)
        .map(|(code, action)| (*code, wrap(*action)))
        .collect()
}

fn own_table(screen: Screen) -> Vec<(KeyCode, Action)> {
    match screen {
        Screen::Overview => pairs(keys::OVERVIEW, Action::Overview),
        Screen::Clients => pairs(keys::CLIENTS, Action::Clients),
        Screen::Grants => pairs(keys::GRANTS, Action::Grants),
        Screen::Events => pairs(keys::EVENTS, Action::Events),
    }
}

#[test]
fn every_key_in_a_table_dispatches_its_own_action() {
    for screen in Screen::ALL {
        let own = own_table(screen);
        for (code, action) in &own {
            assert_eq!(
                keys::action(screen, *code),
                Some(*action),
                "{code:?} on {screen:?} is shadowed"
            );
        }
        for (code, action) in pairs(keys::GLOBAL, Action::Global) {
            if own.iter().all(|(own_code, _)| *own_code != code) {
                assert_eq!(
                    keys::action(screen, code),
                    Some(action),
                    "{code:?} on {screen:?}"
                );
            }
        }
    }
}

#[test]
fn a_key_in_no_table_does_nothing() {
    let mut codes: Vec<KeyCode> = ('!'..='~').map(KeyCode::Char).collect();
    codes.extend([
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::Backspace,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Delete,
        KeyCode::F(1),
    ]);
    for screen in Screen::ALL {
        for code in codes
            .iter()
            .filter(|code| keys::action(screen, **code).is_none())
        {
            let mut app = on_screen(screen);
            let before = format!("{app:?}");
            let cmds = app.update(Msg::Key(KeyEvent::new(*code, KeyModifiers::NONE)));
            assert!(cmds.is_empty(), "{code:?} on {screen:?} asked for {cmds:?}");
            assert_eq!(
                format!("{app:?}"),
                before,
                "{code:?} on {screen:?} changed the app"
            );
        }
    }
}

#[test]
fn the_help_lists_exactly_the_table_rows() {
    for screen in Screen::ALL {
        let mut app = on_screen(screen);
        app.help = true;
        let rows = keys::help_rows(screen);
        let text = draw(&app, 120, 40).backend().to_string();
        let lines: Vec<&str> = text.lines().collect();
        for row in &rows {
            let start: String = row.what.chars().take(40).collect();
            let row = format!("{:<16}{start}", row.label);
            assert!(text.contains(&row), "{screen:?}: help lacks {row:?}");
        }
        let title = lines.iter().position(|l| l.contains(" Help: ")).unwrap();
        let end = lines.iter().position(|l| l.contains("Esc closes")).unwrap();
        // Rows, then one blank line, then the closing hint.
        assert_eq!(end - title - 2, rows.len(), "{screen:?}: extra help rows");
    }
}
