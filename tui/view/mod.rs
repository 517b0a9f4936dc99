//! Rendering: pure functions from `App` to a frame. One file per screen;
//! overlays (form, dialog, secret, help) draw on top. The help lists the key
//! tables of `keys.rs`.

mod clients;
mod dialog;
mod events;
mod form;
mod grants;
mod help;
mod overview;

use crate::app::{App, Prompt, Screen};
use crate::link::Link;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

/// Styles that never carry meaning by colour alone: every state also has a
/// symbol or a word. Without colour (`NO_COLOR`), only modifiers are used.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn paint(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub fn alert(self) -> Style {
        self.paint(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn good(self) -> Style {
        self.paint(Color::Green)
    }

    pub fn dim(self) -> Style {
        self.paint(Color::DarkGray).add_modifier(Modifier::DIM)
    }

    pub fn title(self) -> Style {
        self.paint(Color::Cyan).add_modifier(Modifier::BOLD)
    }
}

/// Draws the whole console.
pub fn render(app: &App, frame: &mut Frame) {
    let theme = Theme { color: app.color };
    let [tabs, banner, body, bar] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(if matches!(app.link, Link::Lost { .. }) {
            1
        } else {
            0
        }),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_tabs(app, frame, tabs, theme);
    render_banner(app, frame, banner, theme);
    match app.screen {
        Screen::Overview => overview::render(app, frame, body, theme),
        Screen::Clients => clients::render(app, frame, body, theme),
        Screen::Grants => grants::render(app, frame, body, theme),
        Screen::Events => events::render(app, frame, body, theme),
    }
    render_status_bar(app, frame, bar, theme);
    if let Some(form) = &app.form {
        form::render(form, frame, body, theme);
    }
    if let Some(secret) = &app.secret {
        dialog::render_secret(secret, frame, body, theme);
    }
    if let Some(open) = &app.dialog {
        dialog::render(open, frame, body, theme);
    }
    if app.help {
        help::render(app, frame, body, theme);
    }
}

fn render_tabs(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let mut spans = vec![Span::styled(" gatehouse ", theme.title())];
    for (index, screen) in Screen::ALL.iter().enumerate() {
        let label = format!(" {} {} ", index + 1, screen.title());
        let style = if *screen == app.screen {
            theme.selected()
        } else {
            Style::new()
        };
        spans.push(Span::styled(label, style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_banner(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    if let Link::Lost {
        retry_at_ms,
        reason,
    } = &app.link
    {
        let seconds = retry_at_ms.saturating_sub(app.now_ms).div_ceil(1000);
        let text = format!(" ✖ CONNECTION LOST ({reason}) — retrying in {seconds} s; data is stale, writes are disabled ");
        frame.render_widget(
            Paragraph::new(text).style(theme.alert().add_modifier(Modifier::REVERSED)),
            area,
        );
    }
}

fn render_status_bar(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    frame.render_widget(Clear, area);
    if let Some(prompt) = &app.prompt {
        let (label, text) = match prompt {
            Prompt::Filter(text) => ("/", text),
            Prompt::Palette(text) => (":", text),
            Prompt::HelpFilter(text) => ("help /", text),
        };
        let line = Line::from(vec![
            Span::styled(label, theme.title()),
            Span::raw(text.as_str()),
            Span::raw("▏"),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let link = match &app.link {
        Link::Live => Span::styled("● LIVE", theme.good()),
        Link::Connecting => Span::styled("◌ CONNECTING", theme.dim()),
        Link::Lost { .. } => Span::styled("✖ LOST", theme.alert()),
    };
    let mode = if app.writable() { "RW" } else { "RO" };
    let mut middle = format!(" {} | {mode} | {}", app.server, app.screen.title());
    if let Some(identity) = &app.identity {
        middle.push_str(" | ");
        middle.push_str(&identity.label());
    }
    if app.paused {
        middle.push_str(" | ⏸ paused");
    }
    if let Some(toast) = &app.toast {
        middle.push_str(" | ");
        middle.push_str(toast);
    }
    let help = " ? help ";
    let room = (area.width as usize).saturating_sub(help.chars().count() + 8);
    let middle: String = middle.chars().take(room).collect();
    let [left, right] = Layout::horizontal([
        Constraint::Min(1),
        Constraint::Length(help.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::from(vec![link, Span::raw(middle)])),
        left,
    );
    frame.render_widget(Paragraph::new(Span::styled(help, theme.selected())), right);
}

/// A rectangle of at most `width` × `height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// The window of `total` rows to draw so that `selected` stays visible.
pub fn window(total: usize, selected: usize, height: usize) -> std::ops::Range<usize> {
    if height == 0 || total == 0 {
        return 0..0;
    }
    let start = selected.saturating_sub(height - 1);
    start..(start + height).min(total)
}

/// Unix seconds as UTC `MM-DD HH:MM:SS`, for narrow columns.
pub fn short_time(unix: i64) -> String {
    let full = gatehouse::cli::output::format_time(unix);
    full.get(5..19).map(str::to_owned).unwrap_or(full)
}

/// "1 family", "2 families": a count with its noun in the right number.
pub fn count(n: i64, singular: &str, plural: &str) -> String {
    let noun = if n == 1 { singular } else { plural };
    format!("{n} {noun}")
}
