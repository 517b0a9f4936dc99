//! A list the server pages for us, and where it stands with the server:
//! `Loading`, `Loaded` or `Failed(reason)`. A failure (a failed fetch, a lost
//! link) marks the rows `(stale)` until a whole fresh list arrives.

use crate::event::RpcError;

/// A list the server pages for us.
#[derive(Debug, Clone, Default)]
pub struct Listing<T> {
    pub rows: Vec<T>,
    pub selected: usize,
    pub next_page: String,
    pub remote: Remote,
    /// A live event changed the server's list since it was fetched.
    pub outdated: bool,
}

/// Where a list stands with the server, as ratatui's `async-github` models it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// Asked for, not yet answered. `retrying` keeps the failure that made
    /// the rows stale: they are shown `(stale)` until fresh data arrives.
    Loading {
        retrying: Option<String>,
    },
    Loaded,
    /// The last fetch failed or the link was lost: the rows shown are stale.
    Failed(String),
}

impl Default for Remote {
    /// `App::init` asks for every list.
    fn default() -> Self {
        Remote::Loading { retrying: None }
    }
}

impl<T> Listing<T> {
    pub fn current(&self) -> Option<&T> {
        self.rows.get(self.selected)
    }

    /// The rows shown are not what the server has (`(stale)` on screen).
    pub fn stale(&self) -> bool {
        self.failure().is_some()
    }

    pub fn loading(&self) -> bool {
        matches!(self.remote, Remote::Loading { .. })
    }

    fn failure(&self) -> Option<String> {
        match &self.remote {
            Remote::Loading { retrying } => retrying.clone(),
            Remote::Loaded => None,
            Remote::Failed(reason) => Some(reason.clone()),
        }
    }

    /// A fetch went out; stale rows stay stale until it is answered.
    pub(crate) fn start_loading(&mut self) {
        self.remote = Remote::Loading {
            retrying: self.failure(),
        };
    }

    /// The link was lost: the rows are stale; a fetch in flight stays so.
    pub(crate) fn fail(&mut self, reason: String) {
        self.remote = match self.remote {
            Remote::Loading { .. } => Remote::Loading {
                retrying: Some(reason),
            },
            _ => Remote::Failed(reason),
        };
    }

    /// A reply arrived: an error makes the rows stale; a whole fresh list
    /// (`fresh`) is loaded; a further page leaves stale rows stale.
    pub(crate) fn answered<R>(&mut self, result: &Result<R, RpcError>, fresh: bool) {
        self.remote = match result {
            Err(error) => Remote::Failed(error.message.clone()),
            Ok(_) if fresh => Remote::Loaded,
            Ok(_) => self.failure().map_or(Remote::Loaded, Remote::Failed),
        };
    }

    pub(crate) fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            self.selected = 0;
            return;
        }
        let last = self.rows.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
    }
}
