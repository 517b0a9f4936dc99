//! The console's model and `update`: input → action → state change, with side
//! effects returned as `Cmd`s. Nothing here awaits or touches the terminal, so
//! every screen is testable without one.

mod input;

use crate::dialog::Dialog;
use crate::event::{Cmd, Msg, RpcError};
use crate::event_filter::EventFilter;
use crate::form::ClientForm;
use crate::identity::Identity;
use crate::link::{Feed, Link};
use crate::listing::Listing;
use gatehouse::proto;
use std::collections::VecDeque;

/// The newest events the Events screen keeps, and how many a paused tail holds.
const MAX_EVENTS: usize = 1000;
/// The most events a filtered Events screen holds.
pub const MAX_FILTERED: usize = 1000;
const STATUS_EVERY_MS: u64 = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Overview,
    Clients,
    Grants,
    Events,
}

impl Screen {
    pub const ALL: [Screen; 4] = [
        Screen::Overview,
        Screen::Clients,
        Screen::Grants,
        Screen::Events,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Overview => "Overview",
            Screen::Clients => "Clients",
            Screen::Grants => "Grants",
            Screen::Events => "Events",
        }
    }
}

/// Events that arrive while the tail is paused: at most `capacity`; past it
/// the oldest held event is dropped and counted.
#[derive(Debug, Clone)]
pub struct Held {
    events: VecDeque<proto::Event>,
    capacity: usize,
    pub dropped: usize,
}

impl Held {
    pub fn with_capacity(capacity: usize) -> Self {
        Held {
            events: VecDeque::new(),
            capacity,
            dropped: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    fn push(&mut self, event: proto::Event) {
        if self.events.len() == self.capacity {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(event);
    }

    /// The held events, oldest first, and how many were dropped; empties it.
    pub(crate) fn take(&mut self) -> (VecDeque<proto::Event>, usize) {
        let dropped = std::mem::take(&mut self.dropped);
        (std::mem::take(&mut self.events), dropped)
    }
}

/// Which families the Grants screen shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    pub client_id: String,
    pub client_name: String,
    pub username: String,
    pub active_only: bool,
}

/// A secret shown once, masked until `v`.
#[derive(Debug, Clone)]
pub struct SecretModal {
    pub client_id: String,
    pub client_name: String,
    pub secret: String,
    pub revealed: bool,
    pub copied: bool,
    /// What became of the old secret, after a rotation ("works until …").
    pub note: String,
}

/// The live secrets of the selected client, as its detail panel shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretsPanel {
    pub client_id: String,
    /// The server's clock when it answered: last uses are "N minutes ago" from it.
    pub server_time: i64,
    pub rows: Vec<proto::ClientSecret>,
}

/// Line-editing state of the `/` filter or the `:` palette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    Filter(String),
    Palette(String),
    HelpFilter(String),
}

#[derive(Debug, Clone)]
pub struct App {
    pub server: String,
    pub screen: Screen,
    pub link: Link,
    pub now_ms: u64,
    pub last_status_ms: u64,
    pub status: Option<proto::Status>,
    pub clients: Listing<proto::Client>,
    pub client_filter: String,
    pub catalog: Vec<(String, String)>,
    pub grants: Listing<proto::Family>,
    pub grant_filter: GrantFilter,
    pub family: Option<proto::FamilyDetail>,
    pub events: VecDeque<proto::Event>,
    pub event_selected: usize,
    pub paused: bool,
    /// Events received while paused, shown once resumed.
    pub held: Held,
    /// "N events dropped while paused", after a resume that dropped some.
    pub pause_note: Option<String>,
    pub last_event_id: i64,
    /// "N events while disconnected", after a reconnect.
    pub gap_note: Option<String>,
    pub feed: Feed,
    pub form: Option<ClientForm>,
    pub dialog: Option<Dialog>,
    pub secret: Option<SecretModal>,
    /// The selected client's secrets, once loaded (Clients screen).
    pub client_secrets: Option<SecretsPanel>,
    /// The client whose secrets were last asked for.
    pub secrets_wanted: String,
    pub help: bool,
    pub prompt: Option<Prompt>,
    pub toast: Option<String>,
    pub color: bool,
    /// Who the console is signed in as; `None` until `WhoAmI` answers.
    pub identity: Option<Identity>,
    /// The Events screen's filter (empty: the whole live tail).
    pub event_filter: EventFilter,
    /// The events that pass it, newest first: the server's answer, then live ones.
    pub filtered: VecDeque<proto::Event>,
}

impl App {
    pub fn new(server: String, color: bool) -> Self {
        App {
            server,
            screen: Screen::Overview,
            link: Link::Connecting,
            now_ms: 0,
            last_status_ms: 0,
            status: None,
            clients: Listing::default(),
            client_filter: String::new(),
            catalog: Vec::new(),
            grants: Listing::default(),
            grant_filter: GrantFilter {
                active_only: false,
                ..Default::default()
            },
            family: None,
            events: VecDeque::new(),
            event_selected: 0,
            paused: false,
            held: Held::with_capacity(MAX_EVENTS),
            pause_note: None,
            last_event_id: 0,
            gap_note: None,
            feed: Feed::default(),
            form: None,
            dialog: None,
            secret: None,
            client_secrets: None,
            secrets_wanted: String::new(),
            help: false,
            prompt: None,
            toast: None,
            color,
            identity: None,
            event_filter: EventFilter::default(),
            filtered: VecDeque::new(),
        }
    }

    /// What to load at start.
    pub fn init(&self) -> Vec<Cmd> {
        vec![
            Cmd::WhoAmI,
            Cmd::LoadStatus,
            Cmd::LoadScopes,
            self.load_clients(),
            self.load_families(),
            Cmd::Backfill { after_id: 0 },
        ]
    }

    pub fn writable(&self) -> bool {
        self.link == Link::Live
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Cmd> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Tick(now_ms) => self.on_tick(now_ms),
            Msg::Status(result) => self.on_reply(result, |app, status| app.status = Some(status)),
            Msg::FilteredEvents(result) => self.on_reply(result, |app, events| {
                app.filtered = events.into_iter().collect();
                app.event_selected = 0;
            }),
            Msg::WhoAmI(result) => self.on_reply(result, |app, identity| {
                app.identity = Identity::from_proto(identity);
            }),
            Msg::Clients { result, append } => {
                self.clients.answered(&result, !append);
                let fresh = result.is_ok() && !append;
                self.on_reply(result, |app, page| {
                    if !append {
                        app.clients.rows.clear();
                    }
                    app.clients.rows.extend(page.clients);
                    app.clients.next_page = page.next_page_token;
                    app.clients.move_by(0);
                });
                // A fresh list may follow a secret's change: reload the panel.
                self.selected_secrets(fresh).into_iter().collect()
            }
            Msg::Secrets { client_id, result } => {
                if client_id != self.secrets_wanted {
                    return Vec::new();
                }
                self.on_reply(result, |app, reply| {
                    app.client_secrets = Some(SecretsPanel {
                        client_id,
                        server_time: reply.server_time,
                        rows: reply.secrets,
                    });
                })
            }
            Msg::Scopes(result) => self.on_reply(result, |app, scopes| {
                app.catalog = scopes
                    .into_iter()
                    .map(|s| (s.name, s.description))
                    .collect();
            }),
            Msg::Families(result) => {
                self.grants.answered(&result, true);
                self.on_reply(result, |app, page| {
                    app.grants.rows = page.families;
                    app.grants.next_page = page.next_page_token;
                    app.grants.move_by(0);
                })
            }
            Msg::FamilyDetail(result) => {
                self.on_reply(result, |app, detail| app.family = Some(detail))
            }
            Msg::Saved(result) => self.on_saved(result),
            Msg::SecretRotated(result) => {
                self.on_reply(result, |app, reply| {
                    let client_name = app
                        .clients
                        .rows
                        .iter()
                        .find(|c| c.id == reply.client_id)
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    let note = match reply.old_secret_expires_at {
                        0 => "The old secret no longer works.".to_owned(),
                        end => format!(
                            "The old secret works until {}, then dies by itself.",
                            gatehouse::cli::output::format_time(end)
                        ),
                    };
                    app.secret = Some(SecretModal {
                        client_id: reply.client_id,
                        client_name,
                        secret: reply.client_secret,
                        revealed: false,
                        copied: false,
                        note,
                    });
                });
                self.selected_secrets(true).into_iter().collect()
            }
            Msg::BlastRadius(result) => self.on_reply(result, |app, count| {
                if let Some(dialog) = &mut app.dialog {
                    dialog.blast = Some(count);
                }
            }),
            Msg::Done(result) => {
                // A write's outcome is always told, whatever the link says.
                self.toast = Some(match result {
                    Ok(message) => message,
                    Err(error) => format!("error: {}", error.message),
                });
                vec![Cmd::LoadStatus, self.load_clients(), self.load_families()]
            }
            Msg::Backfill(result) => self.on_history(result),
            Msg::Event { stream, event } => self.on_stream_event(stream, event),
            Msg::Heartbeat { stream } => self.on_heartbeat(stream),
            Msg::StreamEnded { stream, reason } => {
                self.on_stream_ended(stream, reason);
                Vec::new()
            }
        }
    }

    /// Applies a reply, or tells its error. An unreachable server is the
    /// link's business (see `link.rs`): while the link is down the banner
    /// already says so.
    fn on_reply<T>(
        &mut self,
        result: Result<T, RpcError>,
        apply: impl FnOnce(&mut App, T),
    ) -> Vec<Cmd> {
        match result {
            Ok(value) => apply(self, value),
            Err(error) if error.unavailable && self.link != Link::Live => {}
            Err(error) => {
                if let Some(dialog) = &mut self.dialog {
                    dialog.error = Some(error.message.clone());
                }
                self.toast = Some(format!("error: {}", error.message));
            }
        }
        Vec::new()
    }

    fn on_tick(&mut self, now_ms: u64) -> Vec<Cmd> {
        self.now_ms = now_ms;
        if let Some(dialog) = &mut self.dialog {
            dialog.now_ms = now_ms;
        }
        let mut cmds = self.check_link();
        cmds.extend(self.reload_outdated());
        if self.link == Link::Live && now_ms >= self.last_status_ms + STATUS_EVERY_MS {
            self.last_status_ms = now_ms;
            cmds.push(Cmd::LoadStatus);
        }
        cmds
    }

    fn on_saved(&mut self, result: Result<(proto::Client, Option<String>), RpcError>) -> Vec<Cmd> {
        match result {
            Ok((client, secret)) => {
                self.form = None;
                self.toast = Some(format!("saved client {}", client.name));
                if let Some(secret) = secret {
                    self.secret = Some(SecretModal {
                        client_id: client.id.clone(),
                        client_name: client.name.clone(),
                        secret,
                        revealed: false,
                        copied: false,
                        note: String::new(),
                    });
                }
                vec![self.load_clients(), Cmd::LoadStatus]
            }
            Err(error) if error.unavailable => {
                if let Some(form) = &mut self.form {
                    let message = format!(
                        "no answer ({}): check the list before saving again",
                        error.message
                    );
                    form.rejected(None, message);
                }
                Vec::new()
            }
            Err(error) => {
                if let Some(form) = &mut self.form {
                    form.rejected(error.field.as_deref(), error.message);
                }
                Vec::new()
            }
        }
    }

    pub(crate) fn on_event(&mut self, event: proto::Event) {
        if event.id <= self.last_event_id {
            return;
        }
        self.last_event_id = event.id;
        if self.paused {
            self.held.push(event);
            return;
        }
        self.push_event(event);
    }

    pub(crate) fn push_event(&mut self, event: proto::Event) {
        if !self.event_filter.is_empty() && self.event_filter.matches(&event) {
            self.filtered.push_front(event.clone());
            self.filtered.truncate(MAX_FILTERED);
        }
        self.events.push_front(event);
        if self.events.len() > MAX_EVENTS {
            self.events.pop_back();
        }
        if self.event_selected > 0 {
            // Keep the selected event in place while new ones arrive above it.
            self.event_selected = (self.event_selected + 1).min(self.events.len() - 1);
        }
    }

    /// On the Clients screen, asks for the selected confidential client's
    /// secrets when the selection moved to another client (or, with `again`,
    /// in any case); the panel shows only the secrets of the selected client.
    pub(crate) fn selected_secrets(&mut self, again: bool) -> Option<Cmd> {
        if self.screen != Screen::Clients {
            return None;
        }
        let client = self.clients.current().filter(|client| !client.public)?;
        if client.id == self.secrets_wanted && !again {
            return None;
        }
        self.secrets_wanted = client.id.clone();
        Some(Cmd::LoadSecrets(client.id.clone()))
    }

    pub fn load_clients(&self) -> Cmd {
        Cmd::LoadClients {
            filter: self.client_filter.clone(),
            page_token: String::new(),
        }
    }

    pub fn load_families(&self) -> Cmd {
        Cmd::LoadFamilies {
            client_id: self.grant_filter.client_id.clone(),
            username: self.grant_filter.username.clone(),
            active_only: self.grant_filter.active_only,
        }
    }
}
