//! One key table per screen, after gitui's `keys/key_list.rs`: `update`
//! dispatches through [`action`] and the help screen lists [`help_rows`], both
//! read from the same tables, so the keys a user presses and the keys the help
//! names cannot drift apart. Each screen's action enum is matched exhaustively
//! by that screen's handler in `screens/`.
//!
//! Overlays keep their own handlers: the form and the dialogs are text editors
//! with typed input (`form.rs`, `dialog.rs`); [`NOTES`] tells what dialogs accept.

use crate::app::Screen;
use crossterm::event::KeyCode::{self, *};

/// One help row: its keys, each with the action it triggers.
#[derive(Debug)]
pub struct Binding<A: 'static> {
    pub keys: &'static [(KeyCode, A)],
    /// The keys as the help shows them.
    pub label: &'static str,
    pub what: &'static str,
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
    FindClients,
}

pub const GLOBAL: &[Binding<GlobalAction>] = &[
    Binding {
        keys: &[
            (Char('1'), GlobalAction::Goto(Screen::Overview)),
            (Char('2'), GlobalAction::Goto(Screen::Clients)),
            (Char('3'), GlobalAction::Goto(Screen::Grants)),
            (Char('4'), GlobalAction::Goto(Screen::Events)),
        ],
        label: "1 2 3 4",
        what: "Overview, Clients, Grants, Events",
    },
    Binding {
        keys: &[(Char(':'), GlobalAction::Palette)],
        label: ":",
        what: "palette: overview, clients, grants, events, new, refresh, help, quit",
    },
    Binding {
        keys: &[(Char('r'), GlobalAction::Refresh)],
        label: "r",
        what: "refresh now",
    },
    Binding {
        keys: &[(Char('?'), GlobalAction::Help)],
        label: "?",
        what: "this help (/ filters it)",
    },
    Binding {
        // Ctrl-C quits from anywhere but a dialog; `App::on_key` handles it first.
        keys: &[(Char('q'), GlobalAction::Quit)],
        label: "q, ctrl-c",
        what: "quit (q closes an open history first)",
    },
];

pub const OVERVIEW: &[Binding<OverviewAction>] = &[Binding {
    keys: &[(Char('/'), OverviewAction::FindClients)],
    label: "/",
    what: "find clients by name or id (opens Clients)",
}];

pub const CLIENTS: &[Binding<ClientsAction>] = &[
    Binding {
        keys: &[
            (Char('j'), ClientsAction::Down),
            (Char('k'), ClientsAction::Up),
            (Down, ClientsAction::Down),
            (Up, ClientsAction::Up),
        ],
        label: "j/k ↑/↓",
        what: "move",
    },
    Binding {
        keys: &[
            (PageUp, ClientsAction::PageUp),
            (PageDown, ClientsAction::PageDown),
            (Char('g'), ClientsAction::First),
            (Home, ClientsAction::First),
            (Char('G'), ClientsAction::Last),
            (End, ClientsAction::Last),
        ],
        label: "PgUp/PgDn g/G",
        what: "page / first / last",
    },
    Binding {
        keys: &[(Char('/'), ClientsAction::Filter)],
        label: "/",
        what: "filter by name or id (sent to the server); Esc clears",
    },
    Binding {
        keys: &[(Char('n'), ClientsAction::New)],
        label: "n",
        what: "new client",
    },
    Binding {
        keys: &[
            (Char('e'), ClientsAction::Edit),
            (Enter, ClientsAction::Edit),
        ],
        label: "e, Enter",
        what: "edit the selected client",
    },
    Binding {
        keys: &[(Char('f'), ClientsAction::ShowGrants)],
        label: "f",
        what: "show the client's grants",
    },
    Binding {
        keys: &[(Char('T'), ClientsAction::ToggleDisabled)],
        label: "T",
        what: "disable or enable (asks first)",
    },
    Binding {
        keys: &[(Char('S'), ClientsAction::RotateSecret)],
        label: "S",
        what: "rotate the secret, with an overlap for the old one (asks first)",
    },
    Binding {
        keys: &[(Char('D'), ClientsAction::Delete)],
        label: "D",
        what: "delete (asks first)",
    },
    Binding {
        keys: &[(Char('X'), ClientsAction::RevokeAll)],
        label: "X",
        what: "revoke ALL grants of the client (typed confirmation)",
    },
];

pub const GRANTS: &[Binding<GrantsAction>] = &[
    Binding {
        keys: &[
            (Char('j'), GrantsAction::Down),
            (Char('k'), GrantsAction::Up),
            (Down, GrantsAction::Down),
            (Up, GrantsAction::Up),
            (PageDown, GrantsAction::PageDown),
            (PageUp, GrantsAction::PageUp),
        ],
        label: "j/k ↑/↓",
        what: "move",
    },
    Binding {
        keys: &[(Enter, GrantsAction::OpenHistory)],
        label: "Enter",
        what: "open the family's history (code → each rotation)",
    },
    Binding {
        keys: &[(Esc, GrantsAction::Back)],
        label: "Esc",
        what: "close the history / clear the filter",
    },
    Binding {
        keys: &[(Char('/'), GrantsAction::Filter)],
        label: "/",
        what: "filter: client=ID user=NAME active",
    },
    Binding {
        keys: &[(Char('a'), GrantsAction::ToggleActive)],
        label: "a",
        what: "toggle active only",
    },
    Binding {
        keys: &[
            (Char('c'), GrantsAction::OnlyClient),
            (Char('u'), GrantsAction::OnlyUser),
        ],
        label: "c / u",
        what: "only this client's / this user's grants",
    },
    Binding {
        keys: &[(Char('X'), GrantsAction::RevokeFamily)],
        label: "X",
        what: "revoke the selected family (asks first)",
    },
    Binding {
        keys: &[(Char('C'), GrantsAction::RevokeClient)],
        label: "C",
        what: "revoke ALL grants of this client (typed confirmation)",
    },
    Binding {
        keys: &[(Char('U'), GrantsAction::RevokeUser)],
        label: "U",
        what: "revoke ALL grants of this user (typed confirmation)",
    },
];

pub const EVENTS: &[Binding<EventsAction>] = &[
    Binding {
        keys: &[
            (Char('j'), EventsAction::Down),
            (Char('k'), EventsAction::Up),
            (Down, EventsAction::Down),
            (Up, EventsAction::Up),
        ],
        label: "j/k ↑/↓",
        what: "move",
    },
    Binding {
        keys: &[(Char('p'), EventsAction::TogglePause)],
        label: "p",
        what: "pause / resume the live tail",
    },
    Binding {
        keys: &[
            (Char('F'), EventsAction::Follow),
            (Home, EventsAction::Follow),
        ],
        label: "F, Home",
        what: "follow the newest event",
    },
    Binding {
        keys: &[(Enter, EventsAction::OpenFamily)],
        label: "Enter",
        what: "open the family of a replay or code-reuse event",
    },
    Binding {
        keys: &[(Char('/'), EventsAction::FindClients)],
        label: "/",
        what: "find clients by name or id (opens Clients)",
    },
];

/// Help rows that are not keys of a screen: what every dialog accepts
/// (`dialog.rs` dispatches them).
pub const NOTES: &[(&str, &str)] = &[(
    "dialogs",
    "y confirms (Ctrl-Y once typed); Esc/n/q cancel; never Enter",
)];

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

/// The help of `screen`: its rows, the global rows, then the notes.
pub fn help_rows(screen: Screen) -> Vec<(&'static str, &'static str)> {
    let own = match screen {
        Screen::Overview => rows(OVERVIEW),
        Screen::Clients => rows(CLIENTS),
        Screen::Grants => rows(GRANTS),
        Screen::Events => rows(EVENTS),
    };
    own.into_iter()
        .chain(rows(GLOBAL))
        .chain(NOTES.iter().copied())
        .collect()
}

fn find<A: Copy + 'static>(table: &[Binding<A>], key: KeyCode) -> Option<A> {
    table
        .iter()
        .flat_map(|binding| binding.keys)
        .find(|(code, _)| *code == key)
        .map(|(_, action)| *action)
}

fn rows<A: 'static>(table: &[Binding<A>]) -> Vec<(&'static str, &'static str)> {
    table
        .iter()
        .map(|binding| (binding.label, binding.what))
        .collect()
}
