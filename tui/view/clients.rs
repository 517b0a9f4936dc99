//! Screen 2, Clients: a server-filtered, keyset-paged table; only the visible
//! window is rendered. Below it, the selected confidential client's live
//! secrets with their last use, once loaded.

use super::{short_time, window, Theme};
use crate::app::{App, SecretsPanel};
use gatehouse::model::{overlap_text, GrantType};
use gatehouse::proto;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let panel = app.client_secrets.as_ref().filter(|panel| {
        app.clients
            .current()
            .is_some_and(|client| client.id == panel.client_id && !client.public)
    });
    match panel {
        Some(panel) => {
            let height = panel.rows.len().max(1) as u16 + 2;
            let [table, secrets] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(height)]).areas(area);
            render_table(app, frame, table, theme);
            render_secrets(app, panel, frame, secrets, theme);
        }
        None => render_table(app, frame, area, theme),
    }
}

/// The live secrets, newest first: id, age, expiry, last use.
fn render_secrets(app: &App, panel: &SecretsPanel, frame: &mut Frame, area: Rect, theme: Theme) {
    let name = app
        .clients
        .current()
        .map(|client| client.name.as_str())
        .unwrap_or_default();
    let now = panel.server_time;
    let used: Vec<String> = panel
        .rows
        .iter()
        .map(|secret| match secret.last_used_at {
            0 => "never used".to_owned(),
            at => format!(
                "last used {} from {}",
                ago(now - at),
                if secret.last_used_from.is_empty() {
                    "?"
                } else {
                    &secret.last_used_from
                }
            ),
        })
        .collect();
    let used_width = used
        .iter()
        .map(|text| text.chars().count())
        .max()
        .unwrap_or(0);
    let room = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line> = panel
        .rows
        .iter()
        .zip(&used)
        .map(|(secret, used)| {
            let expiry = match secret.expires_at {
                0 => Span::raw(format!("{:<17}", "no expiry")),
                end => Span::styled(
                    format!("{:<17}", format!("expires in {}", overlap_text(end - now))),
                    theme.alert(),
                ),
            };
            let mut spans = vec![
                Span::styled(secret.id.clone(), theme.title()),
                Span::raw(format!("  {used:<used_width$}  ")),
                expiry,
            ];
            // The creation time only where it fits whole.
            let created = format!("  created {}", short_time(secret.created_at));
            let width: usize = spans.iter().map(|span| span.width()).sum();
            if width + created.chars().count() <= room {
                spans.push(Span::raw(created));
            }
            Line::from(spans)
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from("no live secret: rotate (S) to give it one"));
    }
    let title = format!(
        " Secrets of {name} ({}/2 live) · S rotates ",
        panel.rows.len()
    );
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}

/// "just now", "1 minute ago", "3 minutes ago", "2 hours ago", "5 days ago".
pub fn ago(secs: i64) -> String {
    let (n, unit) = match secs.max(0) {
        s if s < 60 => return "just now".into(),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

fn render_table(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let list = &app.clients;
    let height = area.height.saturating_sub(3) as usize;
    let visible = window(list.rows.len(), list.selected, height);
    let rows = list.rows[visible.clone()]
        .iter()
        .enumerate()
        .map(|(offset, client)| {
            let status = if client.disabled {
                Span::styled("⊘ disabled", theme.alert())
            } else {
                Span::styled("✔ enabled", theme.good())
            };
            let row = Row::new(vec![
                Cell::from(client.name.clone()),
                Cell::from(client.id.clone()),
                Cell::from(if client.public {
                    "public"
                } else {
                    "confidential"
                }),
                Cell::from(
                    client
                        .grant_types
                        .iter()
                        .filter_map(|grant| proto::GrantType::domain(*grant))
                        .map(|grant| match grant {
                            GrantType::AuthorizationCode => "AC",
                            GrantType::RefreshToken => "RT",
                        })
                        .collect::<Vec<_>>()
                        .join("+"),
                ),
                Cell::from(status),
                Cell::from(match client.refresh_retry_window_secs {
                    0 => "off".to_owned(),
                    secs => format!("{secs} s"),
                }),
                Cell::from(client.active_families.to_string()),
            ]);
            if visible.start + offset == list.selected {
                row.style(theme.selected())
            } else {
                row
            }
        });
    let mut title = format!(
        " Clients ({}{}) ",
        list.rows.len(),
        if list.next_page.is_empty() { "" } else { "+" }
    );
    if !app.client_filter.is_empty() {
        title.push_str(&format!("filter: {} ", app.client_filter));
    }
    if list.stale() {
        title.push_str("(stale) ");
    }
    let widths = [
        Constraint::Fill(2),
        Constraint::Length(22),
        Constraint::Length(12),
        Constraint::Length(5),
        Constraint::Length(10),
        Constraint::Length(5),
        Constraint::Length(4),
    ];
    let header = Row::new([
        "NAME",
        "CLIENT ID",
        "TYPE",
        "GRANT",
        "STATUS",
        "RETRY",
        "LIVE",
    ])
    .style(theme.title());
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::bordered().title(title));
    frame.render_widget(table, area);
}
