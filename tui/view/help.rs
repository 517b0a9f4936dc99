//! Screen 7, Help: every key of the current screen, filterable.

use super::{centered, clients, events, form, grants, overview, Theme};
use crate::app::{App, Prompt, Screen};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

const GLOBAL: &[(&str, &str)] = &[
    ("1 2 3 4", "Overview, Clients, Grants, Events"),
    (
        ":",
        "palette: overview, clients, grants, events, new, refresh, help, quit",
    ),
    ("r", "refresh now"),
    ("?", "this help (/ filters it)"),
    ("q, ctrl-c", "quit (q closes an open history first)"),
    (
        "dialogs",
        "y confirms; Esc, n or q cancel; Enter never confirms",
    ),
];

/// The keys of the current screen, then the global ones.
pub fn key_map(app: &App) -> Vec<(&'static str, &'static str)> {
    let screen = if app.form.is_some() {
        form::KEYS
    } else {
        match app.screen {
            Screen::Overview => overview::KEYS,
            Screen::Clients => clients::KEYS,
            Screen::Grants => grants::KEYS,
            Screen::Events => events::KEYS,
        }
    };
    screen.iter().chain(GLOBAL).copied().collect()
}

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let filter = match &app.prompt {
        Some(Prompt::HelpFilter(text)) => text.to_lowercase(),
        _ => String::new(),
    };
    let mut lines: Vec<Line> = key_map(app)
        .into_iter()
        .filter(|(key, what)| {
            filter.is_empty()
                || key.to_lowercase().contains(&filter)
                || what.to_lowercase().contains(&filter)
        })
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("{key:<16}"), theme.title()),
                Span::raw(what),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "Esc closes · / filters",
        theme.dim(),
    )));
    let area = centered(area, 78, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    let title = format!(" Help: {} ", app.screen.title());
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}
