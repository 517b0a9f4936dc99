//! Screen 1, Overview: read-only; `/` finds clients.

use crate::app::{App, Prompt};
use crate::event::Cmd;
use crate::keys::OverviewAction;

impl App {
    pub(crate) fn on_overview_key(&mut self, action: OverviewAction) -> Vec<Cmd> {
        match action {
            OverviewAction::FindClients => self.prompt = Some(Prompt::Filter(String::new())),
        }
        Vec::new()
    }
}
