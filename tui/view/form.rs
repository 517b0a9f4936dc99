//! Screen 3 of the issue, the client form, drawn over the current screen.

use super::{centered, Theme};
use crate::form::{grant_types, ClientForm, Field};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

pub fn render(form: &ClientForm, frame: &mut Frame, area: Rect, theme: Theme) {
    let area = centered(area, 90, 30);
    let title = if form.is_new() {
        " New client "
    } else {
        " Edit client "
    };
    frame.render_widget(Clear, area);
    let lines = if form.reviewing {
        review_lines(form, theme)
    } else {
        field_lines(form, theme)
    };
    let paragraph = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::bordered().title(title));
    frame.render_widget(paragraph, area);
}

fn label(form: &ClientForm, field: Field, theme: Theme) -> Span<'static> {
    let marker = if form.focus == field { "▶ " } else { "  " };
    let style = if form.focus == field {
        theme.title()
    } else {
        theme.dim()
    };
    Span::styled(format!("{marker}{:<14}", field.label()), style)
}

fn problem(form: &ClientForm, field: Field, theme: Theme) -> Option<Line<'static>> {
    form.problem(field).map(|message| {
        Line::from(Span::styled(
            format!("                  ✖ {message}"),
            theme.alert(),
        ))
    })
}

fn check(on: bool) -> &'static str {
    if on {
        "[x]"
    } else {
        "[ ]"
    }
}

fn field_lines(form: &ClientForm, theme: Theme) -> Vec<Line<'static>> {
    let values = &form.values;
    let mut lines = vec![Line::from(vec![
        label(form, Field::Name, theme),
        Span::raw(values.name.clone()),
    ])];
    lines.extend(problem(form, Field::Name, theme));
    for (index, uri) in values.redirect_uris.iter().enumerate() {
        let head = if index == 0 {
            label(form, Field::RedirectUris, theme)
        } else {
            Span::raw(" ".repeat(16))
        };
        let cursor = if form.focus == Field::RedirectUris && index == form.uri_line {
            "▏"
        } else {
            ""
        };
        lines.push(Line::from(vec![head, Span::raw(format!("{uri}{cursor}"))]));
    }
    lines.extend(problem(form, Field::RedirectUris, theme));
    let list_line = |index: usize, on: bool, text: String, focused: bool| {
        let pointer = if focused && index == form.list_cursor {
            "›"
        } else {
            " "
        };
        Line::from(format!("                {pointer}{} {text}", check(on)))
    };
    lines.push(Line::from(label(form, Field::Scopes, theme)));
    if form.catalog.is_empty() {
        lines.push(Line::from("                 (loading the scope catalog…)"));
    }
    for (index, (name, description)) in form.catalog.iter().enumerate() {
        let on = values.scopes.contains(name);
        lines.push(list_line(
            index,
            on,
            format!("{name} — {description}"),
            form.focus == Field::Scopes,
        ));
    }
    lines.extend(problem(form, Field::Scopes, theme));
    lines.push(Line::from(label(form, Field::GrantTypes, theme)));
    for (index, (grant, name)) in grant_types().enumerate() {
        let on = values.grant_types.contains(&grant);
        lines.push(list_line(
            index,
            on,
            name.to_owned(),
            form.focus == Field::GrantTypes,
        ));
    }
    lines.push(retry_window_line(form, theme));
    lines.extend(problem(form, Field::RetryWindow, theme));
    let kind = if values.public {
        "(•) public  ( ) confidential"
    } else {
        "( ) public  (•) confidential"
    };
    let fixed = if form.is_new() {
        ""
    } else {
        "  (fixed after creation)"
    };
    lines.push(Line::from(vec![
        label(form, Field::Public, theme),
        Span::raw(format!("{kind}{fixed}")),
    ]));
    lines.extend(problem(form, Field::Public, theme));
    let introspects = if values.resource_server {
        "[x] resource server: may introspect any client's tokens"
    } else {
        "[ ] resource server: may introspect any client's tokens"
    };
    lines.push(Line::from(vec![
        label(form, Field::ResourceServer, theme),
        Span::raw(introspects),
    ]));
    let status = if values.disabled {
        "[x] disabled"
    } else {
        "[ ] disabled"
    };
    lines.push(Line::from(vec![
        label(form, Field::Disabled, theme),
        Span::raw(status),
    ]));
    if let Some((None, message)) = &form.server_error {
        lines.push(Line::from(Span::styled(
            format!("✖ {message}"),
            theme.alert(),
        )));
    }
    lines.push(Line::default());
    let hint = if form.saving {
        "saving…"
    } else {
        "Tab next field · Space toggle · ctrl-s review & save · Esc cancel"
    };
    lines.push(Line::from(Span::styled(hint, theme.dim())));
    lines
}

/// `Retry window   30 s  (…)`: how long a refresh whose answer was lost may be
/// retried for the same pair; 0 is strict rotation.
fn retry_window_line(form: &ClientForm, theme: Theme) -> Line<'static> {
    let cursor = if form.focus == Field::RetryWindow {
        "▏"
    } else {
        ""
    };
    let hint = if form
        .values
        .retry_window
        .trim()
        .trim_start_matches('0')
        .is_empty()
    {
        "  strict: a reused refresh token revokes the grant"
    } else {
        "  a lost refresh answer may be retried this long"
    };
    Line::from(vec![
        label(form, Field::RetryWindow, theme),
        Span::raw(format!("{} s{cursor}", form.values.retry_window)),
        Span::styled(hint, theme.dim()),
    ])
}

fn review_lines(form: &ClientForm, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(Span::styled("Review the changes:", theme.title())),
        Line::default(),
    ];
    lines.extend(form.changes().into_iter().map(Line::from));
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "y apply · Esc back to the form",
        theme.dim(),
    )));
    lines
}
