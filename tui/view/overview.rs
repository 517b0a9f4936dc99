//! Screen 1, Overview: connection, version, counts, security events, maintenance.

use super::Theme;
use crate::app::App;
use crate::link::Link;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let field = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{label:<22}"), theme.dim()),
            Span::raw(value),
        ])
    };
    let connection = match &app.link {
        Link::Live => "● connected".to_owned(),
        Link::Connecting => "◌ connecting".to_owned(),
        Link::Lost { reason, .. } => format!("✖ lost: {reason}"),
    };
    let mut lines = vec![
        field("Server", app.server.clone()),
        field("Connection", connection),
    ];
    match &app.status {
        None => lines.push(field("Status", "loading…".into())),
        Some(status) => {
            let security = if status.security_events_last_hour > 0 {
                Span::styled(
                    format!("⚠ {} in the last hour", status.security_events_last_hour),
                    theme.alert(),
                )
            } else {
                Span::styled("✔ none in the last hour", theme.good())
            };
            let maintenance = if status.maintenance {
                Span::styled("⚠ ON: /authorize and /token refuse", theme.alert())
            } else {
                Span::styled("✔ off", theme.good())
            };
            lines.extend([
                field("Version", status.version.clone()),
                field("Issuer", status.issuer.clone()),
                field("Uptime", format!("{} s", status.uptime_secs)),
                Line::default(),
                field("Clients", status.clients.to_string()),
                field("Users", status.users.to_string()),
                field("Active grants", status.active_families.to_string()),
                Line::from(vec![
                    Span::styled(format!("{:<22}", "Security events"), theme.dim()),
                    security,
                ]),
                Line::from(vec![
                    Span::styled(format!("{:<22}", "Maintenance"), theme.dim()),
                    maintenance,
                ]),
                field("Database", format!("{} KiB", status.database_bytes / 1024)),
            ]);
        }
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "2 clients · 3 grants · 4 events · : palette · ? help",
        theme.dim(),
    )));
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Overview ")),
        area,
    );
}
