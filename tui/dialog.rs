//! Confirmation dialogs for destructive actions.
//!
//! Safety rules, all enforced here: the target is pinned (ids, never a row
//! index) when the dialog opens; keys are ignored for an arming delay after it
//! opens; only `y` confirms, so neither the opening key nor Enter ever does; the
//! default is Cancel; bulk revokes need the client name or username typed and a
//! reason, and the server's blast-radius count before they can be confirmed. A
//! dialog with a text field (the bulk revokes, and the rotation's overlap)
//! confirms with Ctrl-Y only, which no field consumes.

mod describe;

use crate::event::Cmd;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gatehouse::model::Overlap;
use gatehouse::proto;

const TWO_LIVE: &str = "it already has two live secrets: rotate without an overlap \
     (both end now), or revoke one first (gatehouse client revoke-secret)";

/// Keys are ignored this long after a dialog opens (defeats key repeat and reflexes).
pub const ARMING_DELAY_MS: u64 = 300;

/// What a dialog will do, with its target pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    RevokeFamily {
        family_id: String,
        client_name: String,
        username: String,
        scope: String,
    },
    RevokeClient {
        client_id: String,
        client_name: String,
    },
    RevokeUser {
        username: String,
    },
    DisableClient {
        client_id: String,
        client_name: String,
        disable: bool,
        active_families: i64,
    },
    RotateSecret {
        client_id: String,
        client_name: String,
        /// Live secrets when the dialog opened, if the panel had them: with
        /// two, only a rotation without overlap is possible.
        live_secrets: Option<usize>,
    },
    DeleteClient {
        client_id: String,
        client_name: String,
        active_families: i64,
    },
}

impl Action {
    /// Bulk actions need a typed confirmation and a reason.
    pub fn typed_confirmation(&self) -> Option<&str> {
        match self {
            Action::RevokeClient { client_name, .. } => Some(client_name),
            Action::RevokeUser { username } => Some(username),
            _ => None,
        }
    }

    /// Whether the dialog has text fields (then Ctrl-Y confirms, not `y`).
    pub fn has_fields(&self) -> bool {
        self.typed_confirmation().is_some() || matches!(self, Action::RotateSecret { .. })
    }

    pub fn title(&self) -> &'static str {
        match self {
            Action::RevokeFamily { .. } => "Revoke grant",
            Action::RevokeClient { .. } => "Revoke ALL grants of a client",
            Action::RevokeUser { .. } => "Revoke ALL grants of a user",
            Action::DisableClient { disable: true, .. } => "Disable client",
            Action::DisableClient { disable: false, .. } => "Enable client",
            Action::RotateSecret { .. } => "Rotate client secret",
            Action::DeleteClient { .. } => "Delete client",
        }
    }

    /// The dry run that measures the blast radius, if the action has one.
    fn dry_run(&self) -> Option<Cmd> {
        match self {
            Action::RevokeClient { client_id, .. } => Some(Cmd::RevokeClient {
                client_id: client_id.clone(),
                note: String::new(),
                dry_run: true,
            }),
            Action::RevokeUser { username } => Some(Cmd::RevokeUser {
                username: username.clone(),
                note: String::new(),
                dry_run: true,
            }),
            Action::RevokeFamily { family_id, .. } => Some(Cmd::CountFamily(family_id.clone())),
            _ => None,
        }
    }
}

/// Which part of a bulk dialog has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Confirmation,
    Reason,
    /// The rotation's overlap ("7d", "12h"; empty for none).
    Overlap,
    Buttons,
}

#[derive(Debug, Clone)]
pub struct Dialog {
    pub action: Action,
    pub opened_at_ms: u64,
    pub now_ms: u64,
    pub confirmation: String,
    pub reason: String,
    /// The overlap typed into a rotation dialog.
    pub overlap: String,
    pub focus: Focus,
    /// The server's count; `None` while the dry run is in flight.
    pub blast: Option<proto::RevokeResponse>,
    pub error: Option<String>,
}

/// What a key did to the dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stay,
    Cancel,
    Confirm(Box<Cmd>),
}

impl Dialog {
    /// Opens a dialog; returns it and the dry run to send, if any.
    pub fn open(action: Action, now_ms: u64) -> (Self, Option<Cmd>) {
        let dry_run = action.dry_run();
        let focus = if action.typed_confirmation().is_some() {
            Focus::Confirmation
        } else if action.has_fields() {
            Focus::Overlap
        } else {
            Focus::Buttons
        };
        let dialog = Dialog {
            blast: None,
            action,
            opened_at_ms: now_ms,
            now_ms,
            confirmation: String::new(),
            reason: String::new(),
            overlap: String::new(),
            focus,
            error: None,
        };
        (dialog, dry_run)
    }

    pub fn armed(&self) -> bool {
        self.now_ms >= self.opened_at_ms + ARMING_DELAY_MS
    }

    /// Whether `y` would confirm now.
    pub fn ready(&self) -> bool {
        if !self.armed() {
            return false;
        }
        if matches!(self.action, Action::RotateSecret { .. }) {
            return self.overlap().is_ok() && !self.would_be_three();
        }
        match self.action.typed_confirmation() {
            None => true,
            Some(expected) => {
                self.confirmation == expected
                    && !self.reason.trim().is_empty()
                    && self.blast.is_some()
            }
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent, writable: bool) -> Outcome {
        if !self.armed() {
            return Outcome::Stay;
        }
        if key.code == KeyCode::Esc {
            return Outcome::Cancel;
        }
        let typing = self.focus != Focus::Buttons;
        let control = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            // The confirm key of a dialog with text fields is one no field
            // consumes: a `y` typed into the reason is a `y`, never a confirm.
            KeyCode::Char('y') if control => return self.confirm(writable),
            KeyCode::Tab | KeyCode::Down => self.focus = self.next_focus(),
            KeyCode::BackTab | KeyCode::Up => self.focus = self.previous_focus(),
            // Enter only moves on from a text field; it never confirms.
            KeyCode::Enter if typing => self.focus = self.next_focus(),
            KeyCode::Backspace if typing => {
                self.field().pop();
            }
            KeyCode::Char(c) if typing && !control => self.field().push(c),
            KeyCode::Char('n') | KeyCode::Char('q') if !typing => return Outcome::Cancel,
            KeyCode::Char('y') if !typing => return self.confirm(writable),
            _ => {}
        }
        Outcome::Stay
    }

    /// The key that confirms, as the footer names it.
    pub fn confirm_key(&self) -> &'static str {
        if self.action.has_fields() {
            "Ctrl-Y"
        } else {
            "y"
        }
    }

    fn confirm(&mut self, writable: bool) -> Outcome {
        if !writable {
            self.error = Some("connection lost: writes are disabled until it is back".into());
        } else if self.ready() {
            return Outcome::Confirm(Box::new(self.command()));
        } else {
            self.error = Some(self.missing());
        }
        Outcome::Stay
    }

    /// Whether an overlapping rotation would leave three live secrets (the
    /// server refuses it; the dialog says so first).
    fn would_be_three(&self) -> bool {
        let live = match self.action {
            Action::RotateSecret { live_secrets, .. } => live_secrets.unwrap_or(0),
            _ => 0,
        };
        live >= 2 && self.overlap().is_ok_and(|overlap| overlap.secs() > 0)
    }

    /// The typed overlap: empty is none.
    pub fn overlap(&self) -> Result<Overlap, String> {
        match self.overlap.trim() {
            "" => Ok(Overlap::default()),
            text => Overlap::parse_text(text).map_err(|invalid| invalid.message),
        }
    }

    fn field(&mut self) -> &mut String {
        match self.focus {
            Focus::Confirmation => &mut self.confirmation,
            Focus::Overlap => &mut self.overlap,
            _ => &mut self.reason,
        }
    }

    fn next_focus(&self) -> Focus {
        if matches!(self.action, Action::RotateSecret { .. }) {
            return match self.focus {
                Focus::Overlap => Focus::Buttons,
                _ => Focus::Overlap,
            };
        }
        match (self.action.typed_confirmation().is_some(), self.focus) {
            (false, _) => Focus::Buttons,
            (true, Focus::Confirmation) => Focus::Reason,
            (true, Focus::Reason) => Focus::Buttons,
            (true, Focus::Buttons | Focus::Overlap) => Focus::Confirmation,
        }
    }

    fn previous_focus(&self) -> Focus {
        if matches!(self.action, Action::RotateSecret { .. }) {
            return self.next_focus();
        }
        match (self.action.typed_confirmation().is_some(), self.focus) {
            (false, _) => Focus::Buttons,
            (true, Focus::Confirmation) => Focus::Buttons,
            (true, Focus::Reason) => Focus::Confirmation,
            (true, Focus::Buttons | Focus::Overlap) => Focus::Reason,
        }
    }

    fn missing(&self) -> String {
        if let Err(message) = self.overlap() {
            return message;
        }
        if self.would_be_three() {
            return TWO_LIVE.into();
        }
        match self.action.typed_confirmation() {
            Some(expected) if self.confirmation != expected => {
                format!("type {expected:?} to confirm")
            }
            Some(_) if self.reason.trim().is_empty() => {
                "give a reason: it goes to the event log".into()
            }
            Some(_) if self.blast.is_none() => "still counting what this affects…".into(),
            _ => String::new(),
        }
    }

    fn command(&self) -> Cmd {
        let note = self.reason.trim().to_owned();
        match &self.action {
            Action::RevokeFamily { family_id, .. } => Cmd::RevokeFamily {
                id: family_id.clone(),
                note: "revoked from the console".into(),
            },
            Action::RevokeClient { client_id, .. } => Cmd::RevokeClient {
                client_id: client_id.clone(),
                note,
                dry_run: false,
            },
            Action::RevokeUser { username } => Cmd::RevokeUser {
                username: username.clone(),
                note,
                dry_run: false,
            },
            Action::DisableClient {
                client_id, disable, ..
            } => Cmd::SetClientDisabled {
                id: client_id.clone(),
                disabled: *disable,
            },
            Action::RotateSecret { client_id, .. } => Cmd::RotateSecret {
                id: client_id.clone(),
                overlap_secs: self.overlap().map(Overlap::secs).unwrap_or_default(),
            },
            Action::DeleteClient { client_id, .. } => Cmd::DeleteClient(client_id.clone()),
        }
    }
}
