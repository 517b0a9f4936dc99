//! Lists follow the event stream: a live event that changes what a list shows
//! (a client created, a family revoked, …) marks that list outdated, and each
//! tick reloads an outdated list that is not already loading. However many
//! events arrive, a list reloads at most once a tick, so an event storm never
//! floods the server.

use crate::app::App;
use crate::event::Cmd;
use crate::link::Link;

impl App {
    /// Notes which lists a live event of `kind` changed.
    pub(crate) fn follow(&mut self, kind: &str) {
        let (clients, grants) = changes(kind);
        self.clients.outdated |= clients;
        self.grants.outdated |= grants;
    }

    /// On each tick while LIVE: reload the outdated lists.
    pub(crate) fn reload_outdated(&mut self) -> Vec<Cmd> {
        let mut cmds = Vec::new();
        if self.link != Link::Live {
            return cmds;
        }
        if self.clients.outdated && !self.clients.loading() {
            self.clients.outdated = false;
            self.clients.start_loading();
            cmds.push(self.load_clients());
        }
        if self.grants.outdated && !self.grants.loading() {
            self.grants.outdated = false;
            self.grants.start_loading();
            cmds.push(self.load_families());
        }
        cmds
    }
}

/// Which lists an event kind changes: (clients, grants). A client's row counts
/// its live families, so revocations change both.
fn changes(kind: &str) -> (bool, bool) {
    match kind {
        // A secret event reloads the clients, and with them the open client's
        // secrets panel.
        "client_created" | "client_updated" | "client_enabled" | "secret_rotated"
        | "secret_revoked" | "secret_expired" | "secret_first_used" => (true, false),
        "client_disabled" | "client_deleted" | "user_disabled" | "family_revoked"
        | "refresh_replay" | "code_reuse" => (true, true),
        _ => (false, false),
    }
}
