//! Screen 3, Grants: move, filter by client or user, open a family's history,
//! and the revoke dialogs (one family, all of a client, all of a user).

use crate::app::{App, GrantFilter, Prompt};
use crate::dialog;
use crate::event::Cmd;
use crate::keys::GrantsAction;

impl App {
    pub(crate) fn on_grants_key(&mut self, action: GrantsAction) -> Vec<Cmd> {
        let selected = self.grants.current().cloned();
        match (action, selected) {
            (GrantsAction::Down, _) => self.grants.move_by(1),
            (GrantsAction::Up, _) => self.grants.move_by(-1),
            (GrantsAction::PageDown, _) => self.grants.move_by(20),
            (GrantsAction::PageUp, _) => self.grants.move_by(-20),
            (GrantsAction::Back, _) if self.family.is_some() => self.family = None,
            (GrantsAction::Back, _) if self.grant_filter != GrantFilter::default() => {
                self.grant_filter = GrantFilter::default();
                return vec![self.load_families()];
            }
            (GrantsAction::Filter, _) => self.prompt = Some(Prompt::Filter(String::new())),
            (GrantsAction::ToggleActive, _) => {
                self.grant_filter.active_only = !self.grant_filter.active_only;
                return vec![self.load_families()];
            }
            (GrantsAction::OpenHistory, Some(family)) => return vec![Cmd::LoadFamily(family.id)],
            (GrantsAction::OnlyClient, Some(family)) => {
                self.grant_filter = GrantFilter {
                    client_id: family.client_id,
                    client_name: family.client_name,
                    ..Default::default()
                };
                return vec![self.load_families()];
            }
            (GrantsAction::OnlyUser, Some(family)) => {
                self.grant_filter = GrantFilter {
                    username: family.username,
                    ..Default::default()
                };
                return vec![self.load_families()];
            }
            (GrantsAction::RevokeFamily, Some(family)) if family.status == "active" => {
                return self.open_dialog(dialog::Action::RevokeFamily {
                    family_id: family.id,
                    client_name: family.client_name,
                    username: family.username,
                    scope: family.scope,
                })
            }
            (GrantsAction::RevokeClient, Some(family)) => {
                return self.open_dialog(dialog::Action::RevokeClient {
                    client_id: family.client_id,
                    client_name: family.client_name,
                })
            }
            (GrantsAction::RevokeUser, Some(family)) => {
                return self.open_dialog(dialog::Action::RevokeUser {
                    username: family.username,
                })
            }
            _ => {}
        }
        Vec::new()
    }
}
