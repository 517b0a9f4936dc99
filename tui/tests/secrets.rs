//! A client's secrets in the console: the detail panel with each secret's last
//! use ("3 minutes ago from 198.51.100.4"), and the rotate dialog whose overlap
//! is typed and confirmed with Ctrl-Y.

use super::{char_key, key, on_screen, snapshot_both, typed, T0};
use crate::app::{App, Screen};
use crate::event::{Cmd, Msg};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gatehouse::proto;

fn ctrl_y() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL))
}

/// The Clients screen, entered with `2`, with Acme Shop's two secrets loaded:
/// the new one never used, the old one used 3 minutes ago, 6 days 23 hours left.
fn with_secrets() -> App {
    let mut app = on_screen(Screen::Overview);
    let cmds = app.update(char_key('2'));
    assert_eq!(
        cmds,
        vec![Cmd::LoadSecrets("cli_acme".into())],
        "entering Clients loads the selected client's secrets"
    );
    let now = T0 + 3600;
    app.update(Msg::Secrets {
        client_id: "cli_acme".into(),
        result: Ok(proto::ListClientSecretsResponse {
            secrets: vec![
                proto::ClientSecret {
                    id: "9f8e7d6c5b4a".into(),
                    created_at: now - 3600,
                    ..Default::default()
                },
                proto::ClientSecret {
                    id: "0a1b2c3d4e5f".into(),
                    created_at: T0 - 86_400,
                    expires_at: now - 3600 + 7 * 86_400,
                    last_used_at: now - 180,
                    last_used_from: "198.51.100.4".into(),
                },
            ],
            server_time: now,
        }),
    });
    app
}

#[test]
fn snapshot_client_secrets_with_last_use() {
    let app = with_secrets();
    snapshot_both("client_secrets", &app);
    let text = format!("{:?}", super::draw(&app, 120, 40).backend());
    assert!(text.contains("last used 3 minutes ago from 198.51.100.4"));
    assert!(text.contains("never used"));
    assert!(text.contains("expires in 6d 23h"));
}

#[test]
fn the_panel_follows_the_selection_and_ignores_a_late_answer() {
    let mut app = with_secrets();
    assert_eq!(
        app.update(char_key('j')),
        vec![Cmd::LoadSecrets("cli_globex".into())]
    );
    // Acme's answer arriving late does not replace what Globex asked for.
    app.update(Msg::Secrets {
        client_id: "cli_acme".into(),
        result: Ok(proto::ListClientSecretsResponse::default()),
    });
    assert_eq!(
        app.client_secrets
            .as_ref()
            .map(|panel| panel.client_id.as_str()),
        Some("cli_acme"),
        "kept, but not drawn for Globex"
    );
    let text = format!("{:?}", super::draw(&app, 120, 40).backend());
    assert!(
        !text.contains("Secrets of"),
        "no panel for another client's secrets"
    );
}

#[test]
fn snapshot_rotate_dialog_with_an_overlap() {
    let mut app = with_secrets();
    if let Some(panel) = &mut app.client_secrets {
        panel.rows.truncate(1);
    }
    app.update(char_key('S'));
    app.update(Msg::Tick(app.now_ms + 400));
    typed(&mut app, "7d");
    snapshot_both("rotate_secret_dialog", &app);
}

#[test]
fn the_overlap_is_typed_checked_and_confirmed_with_ctrl_y_only() {
    let mut app = with_secrets();
    if let Some(panel) = &mut app.client_secrets {
        panel.rows.truncate(1);
    }
    app.update(char_key('S'));
    app.update(Msg::Tick(app.now_ms + 400));
    // A `y` typed into the field is text, never a confirmation.
    assert!(typed(&mut app, "y").is_empty());
    assert!(app.dialog.is_some());
    app.update(key(KeyCode::Backspace));
    typed(&mut app, "40d");
    assert!(app.update(ctrl_y()).is_empty(), "more than 30 days");
    let error = app.dialog.as_ref().and_then(|d| d.error.clone());
    assert!(error.is_some_and(|e| e.contains("30 days")));
    for _ in 0..3 {
        app.update(key(KeyCode::Backspace));
    }
    typed(&mut app, "12h");
    assert_eq!(app.update(ctrl_y()), rotation(12 * 3600));
    assert!(app.dialog.is_none());

    // Empty is no overlap: the old secret dies at once.
    app.update(char_key('S'));
    app.update(Msg::Tick(app.now_ms + 400));
    assert_eq!(app.update(ctrl_y()), rotation(0));
}

#[test]
fn with_two_live_secrets_only_a_rotation_without_overlap_is_offered() {
    let mut app = with_secrets();
    app.update(char_key('S'));
    app.update(Msg::Tick(app.now_ms + 400));
    typed(&mut app, "1d");
    assert!(app.update(ctrl_y()).is_empty());
    let error = app.dialog.as_ref().and_then(|d| d.error.clone());
    assert!(error.is_some_and(|e| e.contains("two live secrets")));
    for _ in 0..2 {
        app.update(key(KeyCode::Backspace));
    }
    assert_eq!(app.update(ctrl_y()), rotation(0));
}

#[test]
fn after_a_rotation_the_new_secret_is_shown_once_and_the_panel_reloads() {
    let mut app = with_secrets();
    let cmds = app.update(Msg::SecretRotated(Ok(proto::RotateClientSecretResponse {
        client_id: "cli_acme".into(),
        client_secret: "gcs_newsecretnewsecret".into(),
        secret_id: "abcdefabcdef".into(),
        old_secret_expires_at: T0 + 3600 + 43_200,
    })));
    assert_eq!(cmds, vec![Cmd::LoadSecrets("cli_acme".into())]);
    let modal = app.secret.as_ref().expect("the secret modal");
    assert!(modal.note.contains("works until"), "{}", modal.note);
    let text = format!("{:?}", super::draw(&app, 120, 40).backend());
    assert!(!text.contains("gcs_newsecretnewsecret"), "masked until v");
}

/// What confirming the rotate dialog asks of the server for `cli_acme`.
fn rotation(overlap_secs: i64) -> Vec<Cmd> {
    vec![Cmd::RotateSecret {
        id: "cli_acme".into(),
        overlap_secs,
    }]
}
