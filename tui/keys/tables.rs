//! The key tables themselves, one per screen plus the global one and the
//! dialog notes: the data that both dispatch and help read (`keys.rs`).

use super::{Binding, ClientsAction, EventsAction, GlobalAction, GrantsAction, OverviewAction};
use crate::app::Screen;
use crossterm::event::KeyCode::*;
use gatehouse::model::Role;

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
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char(':'), GlobalAction::Palette)],
        label: ":",
        what: "palette: overview, clients, grants, events, new, refresh, help, quit",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char('r'), GlobalAction::Refresh)],
        label: "r",
        what: "refresh now",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char('?'), GlobalAction::Help)],
        label: "?",
        what: "this help (/ filters it)",
        needs: Role::Viewer,
    },
    Binding {
        // Ctrl-C quits from anywhere but a dialog; `App::on_key` handles it first.
        keys: &[(Char('q'), GlobalAction::Quit)],
        label: "q, ctrl-c",
        what: "quit (q closes an open history first)",
        needs: Role::Viewer,
    },
];

pub const OVERVIEW: &[Binding<OverviewAction>] = &[Binding {
    keys: &[(Char('/'), OverviewAction::FindClients)],
    label: "/",
    what: "find clients by name or id (opens Clients)",
    needs: Role::Viewer,
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
        needs: Role::Viewer,
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
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char('/'), ClientsAction::Filter)],
        label: "/",
        what: "filter by name or id (sent to the server); Esc clears",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char('n'), ClientsAction::New)],
        label: "n",
        what: "new client",
        needs: Role::Operator,
    },
    Binding {
        keys: &[
            (Char('e'), ClientsAction::Edit),
            (Enter, ClientsAction::Edit),
        ],
        label: "e, Enter",
        what: "edit the selected client",
        needs: Role::Operator,
    },
    Binding {
        keys: &[(Char('f'), ClientsAction::ShowGrants)],
        label: "f",
        what: "show the client's grants",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char('T'), ClientsAction::ToggleDisabled)],
        label: "T",
        what: "disable or enable (asks first)",
        needs: Role::Responder,
    },
    Binding {
        keys: &[(Char('S'), ClientsAction::RotateSecret)],
        label: "S",
        what: "rotate the secret (overlap optional)",
        needs: Role::Operator,
    },
    Binding {
        keys: &[(Char('D'), ClientsAction::Delete)],
        label: "D",
        what: "delete (asks first)",
        needs: Role::Operator,
    },
    Binding {
        keys: &[(Char('X'), ClientsAction::RevokeAll)],
        label: "X",
        what: "revoke ALL grants of the client (typed confirmation)",
        needs: Role::Responder,
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
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Enter, GrantsAction::OpenHistory)],
        label: "Enter",
        what: "open the family's history (code → each rotation)",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Esc, GrantsAction::Back)],
        label: "Esc",
        what: "close the history / clear the filter",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char('/'), GrantsAction::Filter)],
        label: "/",
        what: "filter: client=ID user=NAME active",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char('a'), GrantsAction::ToggleActive)],
        label: "a",
        what: "toggle active only",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[
            (Char('c'), GrantsAction::OnlyClient),
            (Char('u'), GrantsAction::OnlyUser),
        ],
        label: "c / u",
        what: "only this client's / this user's grants",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char('X'), GrantsAction::RevokeFamily)],
        label: "X",
        what: "revoke the selected family (asks first)",
        needs: Role::Responder,
    },
    Binding {
        keys: &[(Char('C'), GrantsAction::RevokeClient)],
        label: "C",
        what: "revoke ALL grants of this client (typed confirmation)",
        needs: Role::Responder,
    },
    Binding {
        keys: &[(Char('U'), GrantsAction::RevokeUser)],
        label: "U",
        what: "revoke ALL grants of this user (typed confirmation)",
        needs: Role::Responder,
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
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char('p'), EventsAction::TogglePause)],
        label: "p",
        what: "pause / resume the live tail",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[
            (Char('F'), EventsAction::Follow),
            (Home, EventsAction::Follow),
        ],
        label: "F, Home",
        what: "follow the newest event",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Enter, EventsAction::OpenFamily)],
        label: "Enter",
        what: "open the family of a replay or code-reuse event",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Char('/'), EventsAction::Filter)],
        label: "/",
        what: "filter: actor=NAME kind=KIND client=ID since=1h (as `gatehouse events`)",
        needs: Role::Viewer,
    },
    Binding {
        keys: &[(Esc, EventsAction::ClearFilter)],
        label: "Esc",
        what: "clear the filter",
        needs: Role::Viewer,
    },
];

/// Help rows that are not keys of a screen: what every dialog accepts
/// (`dialog.rs` dispatches them).
pub const NOTES: &[(&str, &str)] = &[(
    "dialogs",
    "y confirms (Ctrl-Y once typed); Esc/n/q cancel; never Enter",
)];
