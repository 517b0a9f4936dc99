//! The console's model and `update`: input → action → state change, with side
//! effects returned as `Cmd`s. Nothing here awaits or touches the terminal, so
//! every screen is testable without one.

use crate::dialog::{Action, Dialog, Outcome};
use crate::event::{Cmd, Msg, RpcError};
use crate::form::{ClientForm, FormOutcome};
use crate::link::{Feed, Link};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gatehouse::proto;
use std::collections::VecDeque;

const MAX_EVENTS: usize = 1000;
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

/// A list the server pages for us.
#[derive(Debug, Clone, Default)]
pub struct Listing<T> {
    pub rows: Vec<T>,
    pub selected: usize,
    pub next_page: String,
    pub loading: bool,
    /// Shown while the link is lost; cleared by a fresh first page.
    pub stale: bool,
    /// A live event changed the server's list since it was fetched.
    pub outdated: bool,
}

impl<T> Listing<T> {
    pub fn current(&self) -> Option<&T> {
        self.rows.get(self.selected)
    }

    fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            self.selected = 0;
            return;
        }
        let last = self.rows.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
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
    pub held: Vec<proto::Event>,
    pub last_event_id: i64,
    /// "N events while disconnected", after a reconnect.
    pub gap_note: Option<String>,
    pub feed: Feed,
    pub form: Option<ClientForm>,
    pub dialog: Option<Dialog>,
    pub secret: Option<SecretModal>,
    pub help: bool,
    pub prompt: Option<Prompt>,
    pub toast: Option<String>,
    pub color: bool,
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
            held: Vec::new(),
            last_event_id: 0,
            gap_note: None,
            feed: Feed::default(),
            form: None,
            dialog: None,
            secret: None,
            help: false,
            prompt: None,
            toast: None,
            color,
        }
    }

    /// What to load at start.
    pub fn init(&self) -> Vec<Cmd> {
        vec![
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
            Msg::Clients { result, append } => {
                self.clients.loading = false;
                // A list not refreshed is stale; a whole fresh first page is not.
                self.clients.stale |= result.is_err();
                self.on_reply(result, |app, page| {
                    if !append {
                        app.clients.rows.clear();
                        app.clients.stale = false;
                    }
                    app.clients.rows.extend(page.clients);
                    app.clients.next_page = page.next_page_token;
                    app.clients.move_by(0);
                })
            }
            Msg::Scopes(result) => self.on_reply(result, |app, scopes| {
                app.catalog = scopes
                    .into_iter()
                    .map(|s| (s.name, s.description))
                    .collect();
            }),
            Msg::Families(result) => {
                self.grants.loading = false;
                self.grants.stale |= result.is_err();
                self.on_reply(result, |app, page| {
                    app.grants.rows = page.families;
                    app.grants.next_page = page.next_page_token;
                    app.grants.stale = false;
                    app.grants.move_by(0);
                })
            }
            Msg::FamilyDetail(result) => {
                self.on_reply(result, |app, detail| app.family = Some(detail))
            }
            Msg::Saved(result) => self.on_saved(result),
            Msg::SecretRotated(result) => self.on_reply(result, |app, reply| {
                let client_name = app
                    .clients
                    .rows
                    .iter()
                    .find(|c| c.id == reply.client_id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                app.secret = Some(SecretModal {
                    client_id: reply.client_id,
                    client_name,
                    secret: reply.client_secret,
                    revealed: false,
                    copied: false,
                });
            }),
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

    fn push_event(&mut self, event: proto::Event) {
        self.events.push_front(event);
        if self.events.len() > MAX_EVENTS {
            self.events.pop_back();
        }
        if self.event_selected > 0 {
            // Keep the selected event in place while new ones arrive above it.
            self.event_selected = (self.event_selected + 1).min(self.events.len() - 1);
        }
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

    fn on_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
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

    fn on_prompt_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
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
            "new" | "new client" => return self.open_form(None),
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

    fn refresh(&self) -> Vec<Cmd> {
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

    fn open_form(&mut self, client: Option<proto::Client>) -> Vec<Cmd> {
        self.form = Some(match client {
            Some(client) => ClientForm::edit(client, self.catalog.clone()),
            None => ClientForm::new_client(self.catalog.clone()),
        });
        vec![Cmd::LoadScopes]
    }

    fn open_dialog(&mut self, action: Action) -> Vec<Cmd> {
        let (dialog, dry_run) = Dialog::open(action, self.now_ms);
        self.dialog = Some(dialog);
        dry_run.into_iter().collect()
    }

    fn on_screen_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        match key.code {
            KeyCode::Char('q') => {
                if self.family.is_some() {
                    self.family = None;
                    return Vec::new();
                }
                return vec![Cmd::Quit];
            }
            KeyCode::Char('?') => self.help = true,
            KeyCode::Char(':') => self.prompt = Some(Prompt::Palette(String::new())),
            KeyCode::Char('/') => self.prompt = Some(Prompt::Filter(String::new())),
            KeyCode::Char('r') => return self.refresh(),
            KeyCode::Char(digit @ '1'..='4') => {
                self.screen = Screen::ALL[(digit as u8 - b'1') as usize];
                self.family = None;
            }
            _ => {
                return match self.screen {
                    Screen::Overview => Vec::new(),
                    Screen::Clients => self.on_clients_key(key),
                    Screen::Grants => self.on_grants_key(key),
                    Screen::Events => self.on_events_key(key),
                }
            }
        }
        Vec::new()
    }

    fn on_clients_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        let selected = self.clients.current().cloned();
        match (key.code, selected) {
            (KeyCode::Down | KeyCode::Char('j'), _) => {
                self.clients.move_by(1);
                // Keyset paging: fetch the next page as the cursor nears the end.
                if self.clients.selected + 10 >= self.clients.rows.len()
                    && !self.clients.next_page.is_empty()
                    && !self.clients.loading
                {
                    self.clients.loading = true;
                    return vec![Cmd::LoadClients {
                        filter: self.client_filter.clone(),
                        page_token: self.clients.next_page.clone(),
                    }];
                }
            }
            (KeyCode::Up | KeyCode::Char('k'), _) => self.clients.move_by(-1),
            (KeyCode::PageDown, _) => self.clients.move_by(20),
            (KeyCode::PageUp, _) => self.clients.move_by(-20),
            (KeyCode::Home | KeyCode::Char('g'), _) => self.clients.selected = 0,
            (KeyCode::End | KeyCode::Char('G'), _) => self.clients.move_by(isize::MAX / 2),
            (KeyCode::Char('n'), _) => return self.open_form(None),
            (KeyCode::Char('e') | KeyCode::Enter, Some(client)) => {
                return self.open_form(Some(client))
            }
            (KeyCode::Char('f'), Some(client)) => {
                self.grant_filter = GrantFilter {
                    client_id: client.id.clone(),
                    client_name: client.name.clone(),
                    ..Default::default()
                };
                self.screen = Screen::Grants;
                return vec![self.load_families()];
            }
            (KeyCode::Char('T'), Some(client)) => {
                return self.open_dialog(Action::DisableClient {
                    client_id: client.id,
                    client_name: client.name,
                    disable: !client.disabled,
                    active_families: client.active_families,
                })
            }
            (KeyCode::Char('S'), Some(client)) if !client.public => {
                return self.open_dialog(Action::RotateSecret {
                    client_id: client.id,
                    client_name: client.name,
                })
            }
            (KeyCode::Char('D'), Some(client)) => {
                return self.open_dialog(Action::DeleteClient {
                    client_id: client.id,
                    client_name: client.name,
                    active_families: client.active_families,
                })
            }
            (KeyCode::Char('X'), Some(client)) => {
                return self.open_dialog(Action::RevokeClient {
                    client_id: client.id,
                    client_name: client.name,
                })
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_grants_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        if self.family.is_some() && key.code == KeyCode::Esc {
            self.family = None;
            return Vec::new();
        }
        let selected = self.grants.current().cloned();
        match (key.code, selected) {
            (KeyCode::Down | KeyCode::Char('j'), _) => self.grants.move_by(1),
            (KeyCode::Up | KeyCode::Char('k'), _) => self.grants.move_by(-1),
            (KeyCode::PageDown, _) => self.grants.move_by(20),
            (KeyCode::PageUp, _) => self.grants.move_by(-20),
            (KeyCode::Char('a'), _) => {
                self.grant_filter.active_only = !self.grant_filter.active_only;
                return vec![self.load_families()];
            }
            (KeyCode::Esc, _) if self.grant_filter != GrantFilter::default() => {
                self.grant_filter = GrantFilter::default();
                return vec![self.load_families()];
            }
            (KeyCode::Enter, Some(family)) => return vec![Cmd::LoadFamily(family.id)],
            (KeyCode::Char('c'), Some(family)) => {
                self.grant_filter = GrantFilter {
                    client_id: family.client_id,
                    client_name: family.client_name,
                    ..Default::default()
                };
                return vec![self.load_families()];
            }
            (KeyCode::Char('u'), Some(family)) => {
                self.grant_filter = GrantFilter {
                    username: family.username,
                    ..Default::default()
                };
                return vec![self.load_families()];
            }
            (KeyCode::Char('X'), Some(family)) if family.status == "active" => {
                return self.open_dialog(Action::RevokeFamily {
                    family_id: family.id,
                    client_name: family.client_name,
                    username: family.username,
                    scope: family.scope,
                })
            }
            (KeyCode::Char('C'), Some(family)) => {
                return self.open_dialog(Action::RevokeClient {
                    client_id: family.client_id,
                    client_name: family.client_name,
                })
            }
            (KeyCode::Char('U'), Some(family)) => {
                return self.open_dialog(Action::RevokeUser {
                    username: family.username,
                })
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_events_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        match key.code {
            KeyCode::Down | KeyCode::Char('j') => {
                self.event_selected =
                    (self.event_selected + 1).min(self.events.len().saturating_sub(1))
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.event_selected = self.event_selected.saturating_sub(1)
            }
            KeyCode::Char('F') | KeyCode::Home => self.event_selected = 0,
            KeyCode::Char('p') => {
                self.paused = !self.paused;
                if !self.paused {
                    for event in std::mem::take(&mut self.held) {
                        self.push_event(event);
                    }
                }
            }
            KeyCode::Enter => {
                let family_id = self
                    .events
                    .get(self.event_selected)
                    .map(|event| event.family_id.clone())
                    .unwrap_or_default();
                if !family_id.is_empty() {
                    self.screen = Screen::Grants;
                    return vec![Cmd::LoadFamily(family_id)];
                }
            }
            _ => {}
        }
        Vec::new()
    }
}
