//! Keys: the console-wide shortcuts, the open overlay's (dialog, form,
//! prompt) and the current screen's, dispatched through the key tables of
//! `keys.rs`.

use super::{App, Prompt};
use crate::dialog::{Action, Dialog, Outcome};
use crate::event::Cmd;
use crate::form::{ClientForm, FormOutcome};
use crate::keys::{self, GlobalAction};
use crate::link::Link;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gatehouse::proto;

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        if key.code == KeyCode::Char('c')
            && key.modifiers.contains(KeyModifiers::CONTROL)
            && self.dialog.is_none()
        {
            return vec![Cmd::Quit];
        }
        self.toast = None;
        if let Some(dialog) = &mut self.dialog {
            let writable = self.link == Link::Live;
            return match dialog.handle_key(key, writable) {
                Outcome::Stay => Vec::new(),
                Outcome::Cancel => {
                    self.dialog = None;
                    self.toast = Some("cancelled".into());
                    Vec::new()
                }
                Outcome::Confirm(cmd) => {
                    self.dialog = None;
                    vec![*cmd]
                }
            };
        }
        if let Some(secret) = &mut self.secret {
            match key.code {
                KeyCode::Char('v') => secret.revealed = !secret.revealed,
                KeyCode::Char('y') => {
                    secret.copied = true;
                    return vec![Cmd::Copy(secret.secret.clone())];
                }
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => self.secret = None,
                _ => {}
            }
            return Vec::new();
        }
        if let Some(form) = &mut self.form {
            let writable = self.link == Link::Live;
            return match form.handle_key(key, writable) {
                FormOutcome::Stay => Vec::new(),
                FormOutcome::Close => {
                    self.form = None;
                    Vec::new()
                }
                FormOutcome::Save(cmd) => {
                    form.saving = true;
                    vec![*cmd]
                }
            };
        }
        if self.prompt.is_some() {
            return self.on_prompt_key(key);
        }
        if self.help {
            match key.code {
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') => self.help = false,
                KeyCode::Char('/') => self.prompt = Some(Prompt::HelpFilter(String::new())),
                _ => {}
            }
            return Vec::new();
        }
        self.on_screen_key(key)
    }

    pub(crate) fn refresh(&self) -> Vec<Cmd> {
        let mut cmds = vec![Cmd::LoadStatus, self.load_clients(), self.load_families()];
        if let Some(family) = self
            .family
            .as_ref()
            .and_then(|detail| detail.family.as_ref())
        {
            cmds.push(Cmd::LoadFamily(family.id.clone()));
        }
        cmds
    }

    pub(crate) fn open_form(&mut self, client: Option<proto::Client>) -> Vec<Cmd> {
        self.form = Some(match client {
            Some(client) => ClientForm::edit(client, self.catalog.clone()),
            None => ClientForm::new_client(self.catalog.clone()),
        });
        vec![Cmd::LoadScopes]
    }

    pub(crate) fn open_dialog(&mut self, action: Action) -> Vec<Cmd> {
        let (dialog, dry_run) = Dialog::open(action, self.now_ms);
        self.dialog = Some(dialog);
        dry_run.into_iter().collect()
    }

    /// A key on a screen: its table (`keys.rs`) names the action, and the
    /// screen's handler in `screens/` performs it.
    fn on_screen_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        let (needs, what) = keys::needs(self.screen, key.code);
        if let Some(refusal) = self.refusal(needs) {
            let what = what.split(" (").next().unwrap_or(what);
            self.toast = Some(format!("{what}: {refusal}"));
            return Vec::new();
        }
        match keys::action(self.screen, key.code) {
            Some(keys::Action::Global(action)) => self.on_global_key(action),
            Some(keys::Action::Overview(action)) => self.on_overview_key(action),
            Some(keys::Action::Clients(action)) => self.on_clients_key(action),
            Some(keys::Action::Grants(action)) => self.on_grants_key(action),
            Some(keys::Action::Events(action)) => self.on_events_key(action),
            None => Vec::new(),
        }
    }

    /// Why the signed-in role may not do what needs `needs`; `None` if it may
    /// (or while the identity is unknown: the server checks every call anyway).
    pub(crate) fn refusal(&self, needs: gatehouse::model::Role) -> Option<String> {
        self.identity.as_ref()?.refusal(needs)
    }

    fn on_global_key(&mut self, action: GlobalAction) -> Vec<Cmd> {
        match action {
            GlobalAction::Quit if self.family.is_some() => self.family = None,
            GlobalAction::Quit => return vec![Cmd::Quit],
            GlobalAction::Help => self.help = true,
            GlobalAction::Palette => self.prompt = Some(Prompt::Palette(String::new())),
            GlobalAction::Refresh => return self.refresh(),
            GlobalAction::Goto(screen) => {
                self.screen = screen;
                self.family = None;
                return self.selected_secrets(false).into_iter().collect();
            }
        }
        Vec::new()
    }
}
