//! Screen 7, Help: every key of the current screen, filterable, read from
//! that screen's key table (`keys.rs`). The form is never under the help: it
//! takes every key while open and names its keys in its own footer.

use super::{centered, Theme};
use crate::app::{App, Prompt};
use crate::keys;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

/// Width of the key column.
const KEY_WIDTH: usize = 16;

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let filter = match &app.prompt {
        Some(Prompt::HelpFilter(text)) => text.to_lowercase(),
        _ => String::new(),
    };
    let rows: Vec<_> = keys::help_rows(app.screen)
        .into_iter()
        .filter(|row| {
            filter.is_empty()
                || row.label.to_lowercase().contains(&filter)
                || row.what.to_lowercase().contains(&filter)
        })
        .collect();
    let area = centered(area, 78, rows.len() as u16 + 4);
    // One row per key: a description too long for the box is cut, never wrapped.
    let room = (area.width as usize).saturating_sub(2 + KEY_WIDTH);
    let mut lines: Vec<Line> = rows
        .into_iter()
        .map(|row| match app.refusal(row.needs) {
            // Disabled, not hidden: dimmed, with the reason.
            Some(_) => {
                let reason = format!(" — needs {}", row.needs);
                let what = cut(row.what, room.saturating_sub(reason.chars().count()));
                Line::from(vec![
                    Span::styled(format!("{:<KEY_WIDTH$}", row.label), theme.dim()),
                    Span::styled(what + &reason, theme.dim()),
                ])
            }
            None => Line::from(vec![
                Span::styled(format!("{:<KEY_WIDTH$}", row.label), theme.title()),
                Span::raw(cut(row.what, room)),
            ]),
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "Esc closes · / filters",
        theme.dim(),
    )));
    frame.render_widget(Clear, area);
    let title = format!(" Help: {} ", app.screen.title());
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}

/// `text` in at most `width` columns, ending in `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
