//! The confirmation dialog and the secret modal.

use super::{centered, Theme};
use crate::app::SecretModal;
use crate::dialog::{Action, Dialog, Focus};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

pub fn render(dialog: &Dialog, frame: &mut Frame, area: Rect, theme: Theme) {
    let mut lines: Vec<Line> = dialog.description().into_iter().map(Line::from).collect();
    if let Some(expected) = dialog.action.typed_confirmation() {
        // Focus shows without colour: a marker and the cursor on the focused field only.
        let marker = |focus: Focus| if dialog.focus == focus { "▶" } else { " " };
        let cursor = |focus: Focus| if dialog.focus == focus { "▏" } else { "" };
        lines.push(Line::default());
        lines.push(Line::from(format!(
            "{} Type {expected:?} to confirm: {}{}",
            marker(Focus::Confirmation),
            dialog.confirmation,
            cursor(Focus::Confirmation)
        )));
        lines.push(Line::from(format!(
            "{} Reason (goes to the event log): {}{}",
            marker(Focus::Reason),
            dialog.reason,
            cursor(Focus::Reason)
        )));
    }
    if matches!(dialog.action, Action::RotateSecret { .. }) {
        let focused = dialog.focus == Focus::Overlap;
        lines.push(Line::default());
        lines.push(Line::from(format!(
            "{} Overlap (7d, 12h, 30m; empty: none; at most 30d): {}{}",
            if focused { "▶" } else { " " },
            dialog.overlap,
            if focused { "▏" } else { "" }
        )));
    }
    lines.push(Line::default());
    let key = dialog.confirm_key();
    let confirm = if dialog.ready() {
        Span::styled(format!(" {key} Confirm "), theme.alert())
    } else {
        Span::styled(format!(" {key} Confirm (not ready) "), theme.dim())
    };
    lines.push(Line::from(vec![
        Span::styled(" [ Esc Cancel ] ", theme.selected()),
        Span::raw("   "),
        confirm,
    ]));
    if !dialog.armed() {
        lines.push(Line::from(Span::styled("(arming…)", theme.dim())));
    }
    if let Some(error) = &dialog.error {
        lines.push(Line::from(Span::styled(
            format!("✖ {error}"),
            theme.alert(),
        )));
    }
    // Long lines wrap: count the rows they take inside the borders.
    let inner = usize::from(area.width.min(72).saturating_sub(2)).max(1);
    let rows: usize = lines
        .iter()
        .map(|line| line.width().max(1).div_ceil(inner))
        .sum();
    let area = centered(area, 72, rows as u16 + 2);
    frame.render_widget(Clear, area);
    let title = format!(" ⚠ {} ", dialog.action.title());
    let block = Block::bordered().title(Span::styled(title, theme.alert()));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

pub fn render_secret(secret: &SecretModal, frame: &mut Frame, area: Rect, theme: Theme) {
    let shown = if secret.revealed {
        secret.secret.clone()
    } else {
        format!(
            "{}{}",
            &secret.secret[..secret.secret.len().min(4)],
            "•".repeat(20)
        )
    };
    let copied = if secret.copied {
        "✔ copied to the clipboard (OSC 52)"
    } else {
        ""
    };
    let mut lines = vec![
        Line::from(format!("client_id      {}", secret.client_id)),
        Line::from(format!("client_secret  {shown}")),
        Line::default(),
        Line::from(Span::styled(
            "Shown once: it is stored only as a hash. Store it now.",
            theme.alert(),
        )),
        Line::from(copied),
        Line::from(Span::styled(
            "v reveal/mask · y copy · Esc close (the secret is forgotten)",
            theme.dim(),
        )),
    ];
    if !secret.note.is_empty() {
        lines.insert(4, Line::from(secret.note.as_str()));
    }
    let area = centered(area, 76, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    let title = format!(" Secret for {} ", secret.client_name);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}
