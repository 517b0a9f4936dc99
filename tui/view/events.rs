//! Screen 4, Events: the live tail of `WatchEvents`, security events marked.

use super::{short_time, window, Theme};
use crate::app::App;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let height = area.height.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    for note in [&app.pause_note, &app.gap_note].into_iter().flatten() {
        lines.push(Line::from(Span::styled(format!("⋯ {note}"), theme.dim())));
    }
    let room = height.saturating_sub(lines.len());
    let events = app.shown_events();
    let visible = window(events.len(), app.event_selected, room);
    for (offset, event) in events.range(visible.clone()).enumerate() {
        let marker = if event.security { "⚠" } else { "·" };
        let mut text = format!(
            "{marker} {} {:<18} {:<9}",
            short_time(event.time),
            event.kind,
            event.actor
        );
        for (label, value) in [
            ("client", &event.client_id),
            ("family", &event.family_id),
            ("user", &event.username),
        ] {
            if !value.is_empty() {
                text.push_str(&format!(" {label}={value}"));
            }
        }
        if !event.detail.is_empty() {
            text.push(' ');
            text.push_str(&event.detail);
        }
        for change in &event.changes {
            text.push_str(&format!(
                " {}: {:?} → {:?}",
                change.field, change.before, change.after
            ));
        }
        let mut style = if event.security {
            theme.alert()
        } else {
            ratatui::style::Style::new()
        };
        if visible.start + offset == app.event_selected {
            style = theme.selected();
        }
        lines.push(Line::from(Span::styled(text, style)));
    }
    let mode = if app.paused {
        match app.held.dropped {
            0 => format!("⏸ paused, {} held", app.held.len()),
            dropped => format!("⏸ paused, {} held, {dropped} dropped", app.held.len()),
        }
    } else {
        "▶ following".into()
    };
    let title = if app.event_filter.is_empty() {
        format!(" Events ({}) {mode} ", events.len())
    } else {
        format!(
            " Events ({}) {mode} | filter: {} ",
            events.len(),
            app.event_filter.text
        )
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}
