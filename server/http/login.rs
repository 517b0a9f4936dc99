//! POST /login: the throttle's slot, the password check, the session.

use super::forms::{
    checked_pending, cookie, error_page, expired_form, login_page, set_cookie, SESSION_COOKIE,
};
use super::respond::see_other;
use super::throttle::Admission;
use super::{AppState, ClientAddr};
use crate::model::{Actor, EventKind, NewEvent};
use crate::oauth::Params;
use crate::secret::{dummy_password_hash, verify_password};
use crate::tally::Failure;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::atomic::Ordering;

/// POST /login.
pub async fn login(
    State(app): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(form) = Params::parse(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let now = app.shared.clock.now();
    let Some((txn, pending)) = checked_pending(&app, &headers, &form, now) else {
        return expired_form();
    };
    let username = form.get("username").ok().flatten().unwrap_or("").to_owned();
    let password = form.get("password").ok().flatten().unwrap_or("").to_owned();
    let failure = |reason| Failure {
        kind: EventKind::LoginFailed,
        client_id: Some(&pending.request.client.id),
        source: address,
        reason,
    };
    let attempt = match app.shared.public.throttle.admit(&username, address, now) {
        Admission::Allowed(attempt) => attempt,
        Admission::Refused { wait_secs } => {
            app.shared.tally.note(now, failure("locked out"));
            let message = format!("too many attempts, try again in {wait_secs} s");
            return login_page(
                StatusCode::TOO_MANY_REQUESTS,
                &txn,
                &pending,
                &username,
                Some(&message),
            );
        }
    };
    let name = username.clone();
    let Ok(_permit) = app.password_checks.acquire().await else {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is shutting down; retry.",
        );
    };
    let public = app.shared.public.clone();
    let checked = app
        .shared
        .store
        .call(move |store| {
            let user = store.user_credentials(&name)?;
            let hash = user
                .as_ref()
                .map(|u| u.password_hash.as_str())
                .unwrap_or(dummy_password_hash());
            public.password_checks.fetch_add(1, Ordering::Relaxed);
            let matches = verify_password(&password, hash);
            Ok(user.filter(|_| matches))
        })
        .await;
    let user = match checked {
        Ok(user) => user,
        Err(error) => {
            tracing::error!(%error, "login lookup failed");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server could not check the password; retry later.",
            );
        }
    };
    let Some(user) = user else {
        attempt.failed(now);
        app.shared
            .tally
            .note(now, failure("wrong username or password"));
        let message = "Wrong username or password.";
        return login_page(StatusCode::OK, &txn, &pending, &username, Some(message));
    };
    attempt.succeeded();
    if user.disabled {
        let event = NewEvent::new(EventKind::LoginFailed, Actor::Public, "user is disabled")
            .user(&user.username)
            .source(address);
        record(&app, event, now).await;
        return login_page(
            StatusCode::FORBIDDEN,
            &txn,
            &pending,
            &username,
            Some("This account is disabled."),
        );
    }
    if let Some(old) = cookie(&headers, &app.cookie_name(SESSION_COOKIE)) {
        app.browsers().logout(&old);
    }
    let session = app.browsers().login(user.seq, &user.username, now);
    pending.mark_signed_in();
    let mut response = see_other(&format!("/consent?txn={txn}"));
    set_cookie(
        &mut response,
        &app.cookie_name(SESSION_COOKIE),
        &session,
        app.secure_cookies(),
    );
    response
}

async fn record(app: &AppState, event: NewEvent, now: i64) {
    if let Err(error) = app
        .shared
        .store
        .call(move |store| store.record_event(event, now))
        .await
    {
        tracing::warn!(%error, "could not record an event");
    }
}
