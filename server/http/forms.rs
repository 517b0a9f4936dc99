//! What the browser-flow handlers share: the two cookies, the signed-in
//! session, the pending request a form names, and the pages they answer with.

use super::pages;
use super::respond::{form_page, page};
use super::sessions::{Pending, Session};
use super::AppState;
use crate::oauth::Params;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use std::sync::Arc;

/// Binds pending requests and their forms to one browser.
pub const BROWSER_COOKIE: &str = "gh_browser";
/// The signed-in session.
pub const SESSION_COOKIE: &str = "gh_session";

/// The pending request named by a form, if the form's CSRF token and this
/// browser's cookie both match it.
pub fn checked_pending(
    app: &AppState,
    headers: &HeaderMap,
    form: &Params,
    now: i64,
) -> Option<(String, Arc<Pending>)> {
    let txn = form.get("txn").ok().flatten()?;
    let csrf = form.get("csrf").ok().flatten()?;
    let browser = browser_id(app, headers)?;
    let pending = app.browsers().pending(txn, &browser, Some(csrf), now)?;
    Some((txn.to_owned(), pending))
}

/// This browser's binding cookie, only if the server issued it: a value
/// planted by someone else (`planted-by-attacker`) counts as none.
pub fn browser_id(app: &AppState, headers: &HeaderMap) -> Option<String> {
    cookie(headers, &app.cookie_name(BROWSER_COOKIE))
        .filter(|value| app.shared.public.browser_ids.verify(value))
}

/// A fresh browser-binding value.
pub fn new_browser_id(app: &AppState) -> String {
    app.shared.public.browser_ids.issue()
}

/// The signed-in session, from memory only; whether the user may still act is
/// checked by the store call that follows (`oauth::interaction`).
pub fn current_session(
    app: &AppState,
    headers: &HeaderMap,
    now: i64,
) -> Option<(String, Arc<Session>)> {
    let id = cookie(headers, &app.cookie_name(SESSION_COOKIE))?;
    let session = app.browsers().session(&id, now)?;
    Some((id, session))
}

pub fn login_page(
    status: StatusCode,
    txn: &str,
    pending: &Pending,
    username: &str,
    message: Option<&str>,
) -> Response {
    form_page(
        status,
        pages::login(
            &pending.request.client.name,
            txn,
            &pending.csrf,
            username,
            message,
        ),
        &pending.request.redirect_uri,
    )
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    page(status, pages::error("Request refused", message))
}

pub fn expired_form() -> Response {
    page(
        StatusCode::FORBIDDEN,
        pages::error(
            "Form expired",
            "This form expired or was not issued to this browser. Go back to the application and start again.",
        ),
    )
}

/// The value of cookie `name`, if sent.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

pub fn set_cookie(response: &mut Response, name: &str, value: &str, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    // An empty value clears the cookie.
    let expiry = if value.is_empty() { "; Max-Age=0" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{expiry}");
    if let Ok(value) = HeaderValue::from_str(&text) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
