//! GET and POST /logout: end this browser's session (CSRF-protected).

use super::forms::{current_session, set_cookie, SESSION_COOKIE};
use super::pages;
use super::respond::page;
use super::AppState;
use crate::oauth::Params;
use crate::secret::constant_time_eq;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// GET /logout: the sign-out form for the signed-in user.
pub async fn logout_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let now = app.shared.clock.now();
    let session = current_session(&app, &headers, now);
    let (username, csrf) = match &session {
        Some((_, session)) => (Some(session.username.as_str()), session.csrf.as_str()),
        None => (None, ""),
    };
    page(StatusCode::OK, pages::logout(username, csrf))
}

/// POST /logout: ends the session if the form's CSRF token is the session's.
pub async fn logout(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let now = app.shared.clock.now();
    let csrf = Params::parse(&body)
        .ok()
        .and_then(|form| form.get("csrf").ok().flatten().map(str::to_owned));
    let Some((id, session)) = current_session(&app, &headers, now) else {
        return page(StatusCode::OK, pages::signed_out());
    };
    if !csrf.is_some_and(|csrf| constant_time_eq(&csrf, &session.csrf)) {
        return page(
            StatusCode::FORBIDDEN,
            pages::error(
                "Form expired",
                "This sign-out form was not issued to this session. Open /logout again.",
            ),
        );
    }
    app.browsers().logout(&id);
    let mut response = page(StatusCode::OK, pages::signed_out());
    set_cookie(
        &mut response,
        &app.cookie_name(SESSION_COOKIE),
        "",
        app.secure_cookies(),
    );
    response
}
