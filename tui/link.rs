//! The console's connection, told truthfully. The `WatchEvents` stream is the
//! link: LIVE while the stream is open and a message (an event or a heartbeat)
//! arrived within [`SILENCE_MS`]; LOST as soon as it ends, fails or goes
//! silent, with a retry timer. Each (re)connect resumes the stream after the
//! last event seen, counts the events it replays ("N events while
//! disconnected"), and fetches every stale or showing view again; `(stale)`
//! clears only when that fresh data arrives. Unary calls never decide the link.

use crate::app::{App, Screen};
use crate::event::{Cmd, RpcError};
use crate::view::count;
use gatehouse::proto;

/// A stream that says nothing for this long is lost (the server sends a
/// heartbeat whenever it has been idle for 500 ms).
pub const SILENCE_MS: u64 = 2000;
/// How long LOST waits before trying again.
pub const RETRY_EVERY_MS: u64 = 3000;

/// The link to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// No stream has caught up yet since the console started.
    Connecting,
    /// The stream is open, caught up, and heard from within `SILENCE_MS`.
    Live,
    /// Lost for `reason`; the next attempt is due at `retry_at_ms`.
    Lost { retry_at_ms: u64, reason: String },
}

/// The event stream as the console knows it.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    /// Id of the current `WatchEvents` call; messages of older calls are ignored.
    pub stream: u64,
    /// When the current stream last delivered a message.
    pub heard_at_ms: u64,
    /// The current stream's first heartbeat arrived: its replay is over.
    pub caught_up: bool,
    /// Events the current stream replayed before that heartbeat.
    pub replayed: usize,
    /// The first page of history arrived; streams resume after it.
    pub history_loaded: bool,
    /// Some stream was live before: the next one to catch up is a reconnect.
    pub was_live: bool,
}

impl App {
    /// The first page of history: apply it, then open the stream after it.
    pub(crate) fn on_history(&mut self, result: Result<Vec<proto::Event>, RpcError>) -> Vec<Cmd> {
        match result {
            Ok(events) => {
                for event in events {
                    self.on_event(event);
                }
                self.feed.history_loaded = true;
                vec![self.open_stream()]
            }
            Err(error) => {
                self.lost(error.message);
                Vec::new()
            }
        }
    }

    pub(crate) fn on_stream_event(&mut self, stream: u64, event: proto::Event) -> Vec<Cmd> {
        if stream != self.feed.stream {
            return Vec::new();
        }
        self.feed.heard_at_ms = self.now_ms;
        if !self.feed.caught_up {
            // The replay: counted here; the lists are fetched again once it is over.
            if event.id > self.last_event_id {
                self.feed.replayed += 1;
            }
            self.on_event(event);
            return Vec::new();
        }
        self.follow(&event.kind);
        self.on_event(event);
        self.heard()
    }

    pub(crate) fn on_heartbeat(&mut self, stream: u64) -> Vec<Cmd> {
        if stream != self.feed.stream {
            return Vec::new();
        }
        self.feed.heard_at_ms = self.now_ms;
        if !self.feed.caught_up {
            self.feed.caught_up = true;
            if self.feed.was_live {
                let note = format!(
                    "{} while disconnected",
                    count(self.feed.replayed as i64, "event", "events")
                );
                self.toast = Some(format!(
                    "reconnected: {}",
                    count(self.feed.replayed as i64, "new event", "new events")
                ));
                self.gap_note = Some(note);
            }
        }
        self.heard()
    }

    pub(crate) fn on_stream_ended(&mut self, stream: u64, reason: String) {
        if stream == self.feed.stream {
            self.lost(reason);
        }
    }

    /// Marks the link lost (keeping the retry already due) and every view stale.
    pub(crate) fn lost(&mut self, reason: String) {
        self.clients.fail(reason.clone());
        self.grants.fail(reason.clone());
        match &mut self.link {
            Link::Lost {
                reason: current, ..
            } => *current = reason,
            _ => {
                self.link = Link::Lost {
                    retry_at_ms: self.now_ms + RETRY_EVERY_MS,
                    reason,
                }
            }
        }
        if let Some(form) = &mut self.form {
            form.saving = false;
        }
    }

    /// On each tick: a silent stream is lost; a lost link retries when due.
    pub(crate) fn check_link(&mut self) -> Vec<Cmd> {
        match &self.link {
            Link::Live if self.now_ms >= self.feed.heard_at_ms + SILENCE_MS => {
                self.lost(format!(
                    "no heartbeat from the server for {} s",
                    SILENCE_MS / 1000
                ));
                Vec::new()
            }
            Link::Lost {
                retry_at_ms,
                reason,
            } if self.now_ms >= *retry_at_ms => {
                self.link = Link::Lost {
                    retry_at_ms: self.now_ms + RETRY_EVERY_MS,
                    reason: reason.clone(),
                };
                vec![self.reconnect()]
            }
            _ => Vec::new(),
        }
    }

    fn reconnect(&mut self) -> Cmd {
        if self.feed.history_loaded {
            self.open_stream()
        } else {
            Cmd::Backfill { after_id: 0 }
        }
    }

    /// A new stream resuming after the last event seen; older ones are ignored.
    fn open_stream(&mut self) -> Cmd {
        self.feed.stream += 1;
        self.feed.caught_up = false;
        self.feed.replayed = 0;
        self.feed.heard_at_ms = self.now_ms;
        Cmd::WatchEvents {
            stream: self.feed.stream,
            after_id: self.last_event_id,
        }
    }

    /// A caught-up stream spoke: the link is LIVE, and on the way in every
    /// stale or showing view is fetched again.
    fn heard(&mut self) -> Vec<Cmd> {
        if self.link == Link::Live {
            return Vec::new();
        }
        self.link = Link::Live;
        self.feed.was_live = true;
        self.refetch()
    }

    fn refetch(&mut self) -> Vec<Cmd> {
        let mut cmds = vec![Cmd::LoadStatus];
        if self.clients.stale() || self.screen == Screen::Clients {
            self.clients.start_loading();
            cmds.push(self.load_clients());
        }
        if self.grants.stale() || self.screen == Screen::Grants {
            self.grants.start_loading();
            cmds.push(self.load_families());
        }
        if let Some(family) = self
            .family
            .as_ref()
            .and_then(|detail| detail.family.as_ref())
        {
            cmds.push(Cmd::LoadFamily(family.id.clone()));
        }
        if self.catalog.is_empty() {
            cmds.push(Cmd::LoadScopes);
        }
        cmds
    }
}
