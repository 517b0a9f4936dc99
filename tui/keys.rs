//! One key table per screen, after gitui's `keys/key_list.rs`: `update`
//! dispatches through [`action`] and the help screen lists [`help_rows`], both
//! read from the same tables, so the keys a user presses and the keys the help
//! names cannot drift apart. Each screen's action enum is matched exhaustively
//! by that screen's handler in `screens/`.
//!
//! Each binding names the role it needs: below it, `update` refuses the key
//! with the reason and the help shows it disabled (never hidden).
//!
//! Overlays keep their own handlers: the form and the dialogs are text editors
//! with typed input (`form.rs`, `dialog.rs`); [`NOTES`] tells what dialogs accept.
//! The tables are in `keys/tables.rs`.

mod tables;

pub use tables::{CLIENTS, EVENTS, GLOBAL, GRANTS, NOTES, OVERVIEW};

use crate::app::Screen;
use crossterm::event::KeyCode;
use gatehouse::model::Role;

/// One help row: its keys, each with the action it triggers.
#[derive(Debug)]
pub struct Binding<A: 'static> {
    pub keys: &'static [(KeyCode, A)],
    /// The keys as the help shows them.
    pub label: &'static str,
    pub what: &'static str,
    /// The role these keys need; below it they are shown disabled, with the reason.
    pub needs: Role,
}

/// What a key does, by the table it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Global(GlobalAction),
    Overview(OverviewAction),
    Clients(ClientsAction),
    Grants(GrantsAction),
    Events(EventsAction),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalAction {
    Goto(Screen),
    Palette,
    Refresh,
    Help,
    /// Quits, or first closes an open family history.
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverviewAction {
    FindClients,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientsAction {
    Down,
    Up,
    PageDown,
    PageUp,
    First,
    Last,
    Filter,
    New,
    Edit,
    ShowGrants,
    ToggleDisabled,
    RotateSecret,
    Delete,
    RevokeAll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantsAction {
    Down,
    Up,
    PageDown,
    PageUp,
    OpenHistory,
    /// Closes the history, or else clears the filter.
    Back,
    Filter,
    ToggleActive,
    OnlyClient,
    OnlyUser,
    RevokeFamily,
    RevokeClient,
    RevokeUser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsAction {
    Down,
    Up,
    TogglePause,
    Follow,
    OpenFamily,
    Filter,
    ClearFilter,
}

/// What `key` does on `screen`: the screen's own table first, then the global one.
pub fn action(screen: Screen, key: KeyCode) -> Option<Action> {
    let own = match screen {
        Screen::Overview => find(OVERVIEW, key).map(Action::Overview),
        Screen::Clients => find(CLIENTS, key).map(Action::Clients),
        Screen::Grants => find(GRANTS, key).map(Action::Grants),
        Screen::Events => find(EVENTS, key).map(Action::Events),
    };
    own.or_else(|| find(GLOBAL, key).map(Action::Global))
}

/// One row of the help: keys, what they do, and the role they need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelpRow {
    pub label: &'static str,
    pub what: &'static str,
    pub needs: Role,
}

/// The role `key` needs on `screen` and what the key does, from the same
/// tables as [`action`]; an unbound key needs nothing.
pub fn needs(screen: Screen, key: KeyCode) -> (Role, &'static str) {
    let own = match screen {
        Screen::Overview => need(OVERVIEW, key),
        Screen::Clients => need(CLIENTS, key),
        Screen::Grants => need(GRANTS, key),
        Screen::Events => need(EVENTS, key),
    };
    own.or_else(|| need(GLOBAL, key))
        .unwrap_or((Role::Viewer, ""))
}

/// The help of `screen`: its rows, the global rows, then the notes.
pub fn help_rows(screen: Screen) -> Vec<HelpRow> {
    let own = match screen {
        Screen::Overview => rows(OVERVIEW),
        Screen::Clients => rows(CLIENTS),
        Screen::Grants => rows(GRANTS),
        Screen::Events => rows(EVENTS),
    };
    let notes = NOTES.iter().map(|&(label, what)| HelpRow {
        label,
        what,
        needs: Role::Viewer,
    });
    own.into_iter().chain(rows(GLOBAL)).chain(notes).collect()
}

fn need<A: 'static>(table: &[Binding<A>], key: KeyCode) -> Option<(Role, &'static str)> {
    table
        .iter()
        .find(|binding| binding.keys.iter().any(|(code, _)| *code == key))
        .map(|binding| (binding.needs, binding.what))
}

fn find<A: Copy + 'static>(table: &[Binding<A>], key: KeyCode) -> Option<A> {
    table
        .iter()
        .flat_map(|binding| binding.keys)
        .find(|(code, _)| *code == key)
        .map(|(_, action)| *action)
}

fn rows<A: 'static>(table: &[Binding<A>]) -> Vec<HelpRow> {
    table
        .iter()
        .map(|binding| HelpRow {
            label: binding.label,
            what: binding.what,
            needs: binding.needs,
        })
        .collect()
}
