//! The one-line prompts: `/` filters the list on the server (Clients: name or
//! id; Grants: `client=ID user=NAME active`), `:` runs a palette command, and
//! `/` inside the help filters the help. Characters are text here, never keys.

use crate::app::{App, GrantFilter, Prompt, Screen};
use crate::event::Cmd;
use crossterm::event::{KeyCode, KeyEvent};

impl App {
    pub(crate) fn on_prompt_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        let Some(prompt) = &mut self.prompt else {
            return Vec::new();
        };
        let text = match prompt {
            Prompt::Filter(text) | Prompt::Palette(text) | Prompt::HelpFilter(text) => text,
        };
        match key.code {
            KeyCode::Char(c) => {
                text.push(c);
                Vec::new()
            }
            KeyCode::Backspace => {
                text.pop();
                Vec::new()
            }
            KeyCode::Esc => {
                let was_filter = matches!(prompt, Prompt::Filter(_));
                self.prompt = None;
                if was_filter && self.screen == Screen::Clients && !self.client_filter.is_empty() {
                    self.client_filter.clear();
                    return vec![self.load_clients()];
                }
                Vec::new()
            }
            KeyCode::Enter => {
                let prompt = self.prompt.take();
                match prompt {
                    Some(Prompt::Filter(text)) => self.apply_filter(text),
                    Some(Prompt::Palette(text)) => self.run_palette(text.trim()),
                    Some(Prompt::HelpFilter(text)) => {
                        self.prompt = Some(Prompt::HelpFilter(text));
                        Vec::new()
                    }
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    fn apply_filter(&mut self, text: String) -> Vec<Cmd> {
        match self.screen {
            Screen::Grants => {
                // `client=ID user=NAME active`: sent to the server as filters.
                let mut filter = GrantFilter::default();
                for word in text.split_whitespace() {
                    match word.split_once('=') {
                        Some(("client", id)) => filter.client_id = id.to_owned(),
                        Some(("user", name)) => filter.username = name.to_owned(),
                        _ if word == "active" => filter.active_only = true,
                        _ => {}
                    }
                }
                self.grant_filter = filter;
                vec![self.load_families()]
            }
            Screen::Events => self.filter_events(&text),
            _ => {
                self.client_filter = text;
                self.screen = Screen::Clients;
                vec![self.load_clients()]
            }
        }
    }

    fn run_palette(&mut self, command: &str) -> Vec<Cmd> {
        match command {
            "overview" | "1" => self.screen = Screen::Overview,
            "clients" | "2" => self.screen = Screen::Clients,
            "grants" | "families" | "3" => self.screen = Screen::Grants,
            "events" | "4" => self.screen = Screen::Events,
            "help" => self.help = true,
            "new" | "new client" => match self.refusal(gatehouse::model::Role::Operator) {
                Some(refusal) => self.toast = Some(format!("new client {refusal}")),
                None => return self.open_form(None),
            },
            "quit" | "q" => return vec![Cmd::Quit],
            "refresh" => return self.refresh(),
            other => {
                self.toast = Some(format!(
                "unknown command {other:?}: try clients, grants, events, overview, new, help, quit"
            ))
            }
        }
        Vec::new()
    }
}
