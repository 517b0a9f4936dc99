//! What keys do to the client form: the review's yes and no, focus moving
//! between fields, text editing, the redirect URI lines and list toggles.

use super::{grant_types, ClientForm, Field, FormOutcome};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

impl ClientForm {
    pub fn handle_key(&mut self, key: KeyEvent, writable: bool) -> FormOutcome {
        if self.saving {
            return FormOutcome::Stay;
        }
        if self.reviewing {
            return match key.code {
                KeyCode::Char('y') if writable => FormOutcome::Save(Box::new(self.command())),
                KeyCode::Char('y') => {
                    self.server_error = Some((
                        None,
                        "connection lost: writes are disabled until it is back".into(),
                    ));
                    self.reviewing = false;
                    FormOutcome::Stay
                }
                KeyCode::Esc | KeyCode::Char('n') => {
                    self.reviewing = false;
                    FormOutcome::Stay
                }
                _ => FormOutcome::Stay,
            };
        }
        let control = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return FormOutcome::Close,
            KeyCode::Char('s') if control => {
                if self.valid() && !self.changes().is_empty() {
                    self.reviewing = true;
                }
            }
            KeyCode::Tab => self.move_focus(1),
            KeyCode::BackTab => self.move_focus(Field::ALL.len() - 1),
            _ => self.edit_field(key),
        }
        FormOutcome::Stay
    }

    fn move_focus(&mut self, step: usize) {
        let index = Field::ALL
            .iter()
            .position(|field| *field == self.focus)
            .unwrap_or(0);
        self.focus = Field::ALL[(index + step) % Field::ALL.len()];
        self.list_cursor = 0;
    }

    fn edit_field(&mut self, key: KeyEvent) {
        self.server_error = None;
        match self.focus {
            Field::Name => edit_text(&mut self.values.name, key),
            Field::RetryWindow => match key.code {
                KeyCode::Char(c) if !c.is_ascii_digit() => {}
                _ if self.values.retry_window.len() >= 2 && key.code != KeyCode::Backspace => {}
                _ => edit_text(&mut self.values.retry_window, key),
            },
            Field::RedirectUris => self.edit_uris(key),
            Field::Scopes => {
                let names: Vec<String> =
                    self.catalog.iter().map(|(name, _)| name.clone()).collect();
                toggle_list(&mut self.values.scopes, &names, &mut self.list_cursor, key);
            }
            Field::GrantTypes => {
                let all: Vec<i32> = grant_types().map(|(grant, _)| grant).collect();
                toggle_list(
                    &mut self.values.grant_types,
                    &all,
                    &mut self.list_cursor,
                    key,
                );
            }
            // A client cannot switch type after creation.
            Field::Public if self.is_new() && key.code == KeyCode::Char(' ') => {
                self.values.public = !self.values.public
            }
            Field::ResourceServer if key.code == KeyCode::Char(' ') => {
                self.values.resource_server = !self.values.resource_server
            }
            Field::Disabled if key.code == KeyCode::Char(' ') => {
                self.values.disabled = !self.values.disabled
            }
            _ => {}
        }
    }

    fn edit_uris(&mut self, key: KeyEvent) {
        let lines = &mut self.values.redirect_uris;
        if lines.is_empty() {
            lines.push(String::new());
        }
        self.uri_line = self.uri_line.min(lines.len() - 1);
        match key.code {
            KeyCode::Enter => {
                self.uri_line += 1;
                lines.insert(self.uri_line, String::new());
            }
            KeyCode::Up => self.uri_line = self.uri_line.saturating_sub(1),
            KeyCode::Down => self.uri_line = (self.uri_line + 1).min(lines.len() - 1),
            KeyCode::Backspace if lines[self.uri_line].is_empty() && lines.len() > 1 => {
                lines.remove(self.uri_line);
                self.uri_line = self.uri_line.saturating_sub(1);
            }
            _ => edit_text(&mut lines[self.uri_line], key),
        }
    }
}

fn edit_text(text: &mut String, key: KeyEvent) {
    match key.code {
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
        KeyCode::Backspace => {
            text.pop();
        }
        _ => {}
    }
}

fn toggle_list<T: PartialEq + Clone>(
    selected: &mut Vec<T>,
    all: &[T],
    cursor: &mut usize,
    key: KeyEvent,
) {
    if all.is_empty() {
        return;
    }
    match key.code {
        KeyCode::Up => *cursor = cursor.saturating_sub(1),
        KeyCode::Down => *cursor = (*cursor + 1).min(all.len() - 1),
        KeyCode::Char(' ') => {
            let item = &all[(*cursor).min(all.len() - 1)];
            if let Some(at) = selected.iter().position(|chosen| chosen == item) {
                selected.remove(at);
            } else {
                selected.push(item.clone());
            }
        }
        _ => {}
    }
}
