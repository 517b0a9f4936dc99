//! Screen 2, Clients: move (fetching the next page near the end), filter, open
//! the form, and the dialogs for disable, rotate (with an overlap), delete and
//! revoke-all. The selected confidential client's secrets load as it is selected.

use crate::app::{App, GrantFilter, Prompt, Screen};
use crate::dialog;
use crate::event::Cmd;
use crate::keys::ClientsAction;

impl App {
    pub(crate) fn on_clients_key(&mut self, action: ClientsAction) -> Vec<Cmd> {
        let moves = matches!(
            action,
            ClientsAction::Down
                | ClientsAction::Up
                | ClientsAction::PageDown
                | ClientsAction::PageUp
                | ClientsAction::First
                | ClientsAction::Last
        );
        let mut cmds = self.on_clients_action(action);
        if moves {
            // The detail panel follows the selection.
            cmds.extend(self.selected_secrets(false));
        }
        cmds
    }

    fn on_clients_action(&mut self, action: ClientsAction) -> Vec<Cmd> {
        let selected = self.clients.current().cloned();
        match (action, selected) {
            (ClientsAction::Down, _) => {
                self.clients.move_by(1);
                return self.next_clients_page();
            }
            (ClientsAction::Up, _) => self.clients.move_by(-1),
            (ClientsAction::PageDown, _) => self.clients.move_by(20),
            (ClientsAction::PageUp, _) => self.clients.move_by(-20),
            (ClientsAction::First, _) => self.clients.selected = 0,
            (ClientsAction::Last, _) => self.clients.move_by(isize::MAX / 2),
            (ClientsAction::Filter, _) => self.prompt = Some(Prompt::Filter(String::new())),
            (ClientsAction::New, _) => return self.open_form(None),
            (ClientsAction::Edit, Some(client)) => return self.open_form(Some(client)),
            (ClientsAction::ShowGrants, Some(client)) => {
                self.grant_filter = GrantFilter {
                    client_id: client.id.clone(),
                    client_name: client.name.clone(),
                    ..Default::default()
                };
                self.screen = Screen::Grants;
                return vec![self.load_families()];
            }
            (ClientsAction::ToggleDisabled, Some(client)) => {
                return self.open_dialog(dialog::Action::DisableClient {
                    client_id: client.id,
                    client_name: client.name,
                    disable: !client.disabled,
                    active_families: client.active_families,
                })
            }
            (ClientsAction::RotateSecret, Some(client)) if !client.public => {
                let live_secrets = self
                    .client_secrets
                    .as_ref()
                    .filter(|panel| panel.client_id == client.id)
                    .map(|panel| panel.rows.len());
                return self.open_dialog(dialog::Action::RotateSecret {
                    client_id: client.id,
                    client_name: client.name,
                    live_secrets,
                });
            }
            (ClientsAction::Delete, Some(client)) => {
                return self.open_dialog(dialog::Action::DeleteClient {
                    client_id: client.id,
                    client_name: client.name,
                    active_families: client.active_families,
                })
            }
            (ClientsAction::RevokeAll, Some(client)) => {
                return self.open_dialog(dialog::Action::RevokeClient {
                    client_id: client.id,
                    client_name: client.name,
                })
            }
            _ => {}
        }
        Vec::new()
    }

    /// Keyset paging: fetch the next page as the cursor nears the end.
    fn next_clients_page(&mut self) -> Vec<Cmd> {
        if self.clients.selected + 10 >= self.clients.rows.len()
            && !self.clients.next_page.is_empty()
            && !self.clients.loading()
        {
            self.clients.start_loading();
            return vec![Cmd::LoadClients {
                filter: self.client_filter.clone(),
                page_token: self.clients.next_page.clone(),
            }];
        }
        Vec::new()
    }
}
