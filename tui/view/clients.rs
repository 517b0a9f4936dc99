//! Screen 2, Clients: a server-filtered, keyset-paged table; only the visible
//! window is rendered.

use super::{window, Theme};
use crate::app::App;
use gatehouse::model::GrantType;
use gatehouse::proto;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Row, Table};
use ratatui::Frame;

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
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
