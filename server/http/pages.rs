//! The browser pages: login, consent and the error page. Server-rendered,
//! auto-escaped (maud), no JavaScript, one same-origin stylesheet.

use maud::{html, Markup, DOCTYPE};

/// The stylesheet served at `/assets/gatehouse.css` (the CSP forbids inline styles).
pub const STYLESHEET: &str = r#"
:root { color-scheme: light dark; --accent: #2456b3; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       background: #f3f4f6; color: #111827; }
@media (prefers-color-scheme: dark) { body { background: #111827; color: #e5e7eb; } .card { background: #1f2937 !important; } }
main { max-width: 26rem; margin: 8vh auto; padding: 0 1rem; }
.card { background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
h1 { font-size: 1.35rem; margin: 0 0 .25rem; }
.brand { font-size: .8rem; letter-spacing: .08em; text-transform: uppercase; opacity: .65; margin-bottom: 1rem; }
p.lead { margin: 0 0 1.25rem; opacity: .85; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input[type=text], input[type=password] { width: 100%; padding: .6rem .7rem; font: inherit;
       border: 1px solid #9ca3af; border-radius: 8px; background: transparent; color: inherit; }
button { font: inherit; padding: .6rem 1.2rem; border-radius: 8px; border: 1px solid var(--accent); cursor: pointer; }
button.primary { background: var(--accent); color: #fff; }
button.secondary { background: transparent; color: inherit; border-color: #9ca3af; }
.actions { display: flex; gap: .75rem; justify-content: flex-end; margin-top: 1.5rem; }
.error { background: #fde8e8; color: #8a1c1c; border-radius: 8px; padding: .6rem .8rem; margin-bottom: 1rem; }
ul.scopes { padding-left: 1.2rem; } ul.scopes li { margin: .35rem 0; } code { font-size: .9em; }
"#;

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · gatehouse" }
                link rel="stylesheet" href="/assets/gatehouse.css";
            }
            body { main { div class="card" { div class="brand" { "gatehouse" } (body) } } }
        }
    }
}

/// The login form for pending request `txn`.
pub fn login(
    client_name: &str,
    txn: &str,
    csrf: &str,
    username: &str,
    message: Option<&str>,
) -> Markup {
    layout(
        "Sign in",
        html! {
            h1 { "Sign in" }
            p class="lead" { "to continue to " strong { (client_name) } }
            @if let Some(message) = message { div class="error" role="alert" { (message) } }
            form method="post" action="/login" {
                input type="hidden" name="txn" value=(txn);
                input type="hidden" name="csrf" value=(csrf);
                label for="username" { "Username" }
                input type="text" id="username" name="username" value=(username) autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="current-password" required;
                div class="actions" { button class="primary" type="submit" { "Sign in" } }
            }
        },
    )
}

/// The consent form: the client's name and each requested scope with its description.
pub fn consent(
    client_name: &str,
    username: &str,
    scopes: &[(String, String)],
    txn: &str,
    csrf: &str,
) -> Markup {
    layout(
        "Allow access",
        html! {
            h1 { "Allow " (client_name) "?" }
            p class="lead" { "Signed in as " strong { (username) } ". " (client_name) " is asking to:" }
            @if scopes.is_empty() {
                p { "Confirm your identity (no other access)." }
            } @else {
                ul class="scopes" {
                    @for (name, description) in scopes {
                        li { (description) " " code { "(" (name) ")" } }
                    }
                }
            }
            form method="post" action="/consent" {
                input type="hidden" name="txn" value=(txn);
                input type="hidden" name="csrf" value=(csrf);
                div class="actions" {
                    button class="secondary" type="submit" name="decision" value="deny" { "Deny" }
                    button class="primary" type="submit" name="decision" value="allow" { "Allow" }
                }
            }
        },
    )
}

/// GET /logout: who is signed in, and the form that signs them out.
pub fn logout(username: Option<&str>, csrf: &str) -> Markup {
    layout(
        "Sign out",
        html! {
            h1 { "Sign out" }
            @match username {
                Some(username) => {
                    p class="lead" { "Signed in as " strong { (username) } "." }
                    form method="post" action="/logout" {
                        input type="hidden" name="csrf" value=(csrf);
                        div class="actions" { button class="primary" type="submit" { "Sign out" } }
                    }
                }
                None => p class="lead" { "You are not signed in." },
            }
        },
    )
}

/// After POST /logout.
pub fn signed_out() -> Markup {
    layout(
        "Signed out",
        html! {
            h1 { "Signed out" }
            p class="lead" { "This browser is no longer signed in. Applications you allowed keep the access you gave them until it is revoked." }
        },
    )
}

/// The error page: no redirect, no link to anywhere the request named.
pub fn error(title: &str, message: &str) -> Markup {
    layout(
        title,
        html! {
            h1 { (title) }
            div class="error" role="alert" { (message) }
            p { "Nothing was shared. If you followed a link from an application, tell its developer." }
        },
    )
}
