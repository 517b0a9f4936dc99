//! Screen 3, Grants (token families) and a family's history.

use super::{short_time, window, Theme};
use crate::app::App;
use gatehouse::proto;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table};
use ratatui::Frame;

fn status_span(family: &proto::Family, theme: Theme) -> Span<'static> {
    if family.status == "revoked" {
        Span::styled(
            format!("✖ revoked {}", family.revoked_reason),
            theme.alert(),
        )
    } else {
        Span::styled("● active", theme.good())
    }
}

pub fn render(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let (list_area, detail_area) = match &app.family {
        Some(_) => {
            let [top, bottom] =
                Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)])
                    .areas(area);
            (top, Some(bottom))
        }
        None => (area, None),
    };
    render_list(app, frame, list_area, theme);
    if let (Some(detail), Some(area)) = (&app.family, detail_area) {
        render_detail(detail, frame, area, theme);
    }
}

fn render_list(app: &App, frame: &mut Frame, area: Rect, theme: Theme) {
    let list = &app.grants;
    let height = area.height.saturating_sub(3) as usize;
    let visible = window(list.rows.len(), list.selected, height);
    // Narrow terminals drop the scope and creation time, never the status.
    let wide = area.width >= 110;
    let rows = list.rows[visible.clone()]
        .iter()
        .enumerate()
        .map(|(offset, family)| {
            let mut cells = vec![
                Cell::from(family.id.clone()),
                Cell::from(family.client_name.clone()),
                Cell::from(family.username.clone()),
            ];
            if wide {
                cells.push(Cell::from(family.scope.clone()));
                cells.push(Cell::from(short_time(family.created_at)));
            }
            cells.push(Cell::from(short_time(family.last_used_at)));
            cells.push(Cell::from(family.rotations.to_string()));
            cells.push(Cell::from(status_span(family, theme)));
            let row = Row::new(cells);
            if visible.start + offset == list.selected {
                row.style(theme.selected())
            } else {
                row
            }
        });
    let filter = &app.grant_filter;
    let mut title = format!(" Grants ({}) ", list.rows.len());
    if !filter.client_id.is_empty() {
        let name = if filter.client_name.is_empty() {
            &filter.client_id
        } else {
            &filter.client_name
        };
        title.push_str(&format!("client={name} "));
    }
    if !filter.username.is_empty() {
        title.push_str(&format!("user={} ", filter.username));
    }
    if filter.active_only {
        title.push_str("active only ");
    }
    if list.stale() {
        title.push_str("(stale) ");
    }
    let (widths, headers) = if wide {
        (
            vec![
                Constraint::Length(20),
                Constraint::Fill(2),
                Constraint::Fill(1),
                Constraint::Fill(1),
                Constraint::Length(14),
                Constraint::Length(14),
                Constraint::Length(4),
                Constraint::Fill(2),
            ],
            vec![
                "FAMILY",
                "CLIENT",
                "USER",
                "SCOPE",
                "CREATED",
                "LAST USED",
                "ROT",
                "STATUS",
            ],
        )
    } else {
        (
            vec![
                Constraint::Length(20),
                Constraint::Fill(1),
                Constraint::Fill(1),
                Constraint::Length(14),
                Constraint::Length(3),
                Constraint::Length(10),
            ],
            vec!["FAMILY", "CLIENT", "USER", "LAST USED", "ROT", "STATUS"],
        )
    };
    let header = Row::new(headers).style(theme.title());
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(Block::bordered().title(title)),
        area,
    );
}

fn render_detail(detail: &proto::FamilyDetail, frame: &mut Frame, area: Rect, theme: Theme) {
    let Some(family) = &detail.family else { return };
    let mut lines = vec![Line::from(vec![
        Span::raw(format!(
            "{}  {} · {} · {}  ",
            family.id, family.client_name, family.username, family.scope
        )),
        status_span(family, theme),
    ])];
    if family.status == "revoked" {
        lines.push(Line::from(format!(
            "revoked {} by {} ({})",
            short_time(family.revoked_at),
            family.revoked_by,
            family.revoked_reason
        )));
    }
    for token in &detail.tokens {
        let indent = if token.kind == "code" {
            String::new()
        } else {
            "  ".repeat(token.generation as usize + 1)
        };
        let used = if token.used_at > 0 {
            format!(" used {}", short_time(token.used_at))
        } else {
            String::new()
        };
        lines.push(Line::from(format!(
            "{indent}└ {:<13} gen {:<3} issued {}{used}  [{}]",
            token.kind,
            token.generation,
            short_time(token.issued_at),
            token.status
        )));
    }
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" History (Esc closes) ")),
        area,
    );
}
