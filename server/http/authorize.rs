//! The browser flow: GET /authorize, the login form, the consent form.
//!
//! The authorization request is validated once and kept server-side; the forms
//! carry only its opaque id and a CSRF token bound to it and to this browser.

use super::pages;
use super::respond::{page, see_other};
use super::sessions::Pending;
use super::throttle::Admission;
use super::{AppState, ClientAddr};
use crate::model::{Actor, EventKind, NewEvent};
use crate::oauth::authorize::{error_location, redirect_location, validate, AuthorizeError};
use crate::oauth::{ErrorCode, OAuthError, Params};
use crate::secret::{dummy_password_hash, random_base64, verify_password};
use crate::store::CodeGrant;
use crate::tally::Failure;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use std::sync::atomic::Ordering;
use std::sync::Arc;

const BROWSER_COOKIE: &str = "gh_browser";
const SESSION_COOKIE: &str = "gh_session";

/// GET /authorize.
pub async fn authorize(State(app): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let params = match Params::parse(uri.query().unwrap_or("").as_bytes()) {
        Ok(params) => params,
        Err(error) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("The request is malformed: {error}."),
            )
        }
    };
    let validated = app
        .shared
        .store
        .call(move |store| {
            let maintenance = store.maintenance()?;
            Ok(validate(store, &params, maintenance))
        })
        .await;
    let request = match validated {
        Ok(Ok(request)) => request,
        Ok(Err(AuthorizeError::Page(message))) => {
            return error_page(StatusCode::BAD_REQUEST, &message)
        }
        Ok(Err(AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
        })) => {
            return redirect_error(
                &redirect_uri,
                &error,
                state.as_deref(),
                &app.shared.config.issuer,
            )
        }
        Err(error) => {
            tracing::error!(%error, "authorize failed");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server could not process the request; retry later.",
            );
        }
    };
    let now = app.shared.clock.now();
    let (browser, new_browser) = match cookie(&headers, &app.cookie_name(BROWSER_COOKIE)) {
        Some(browser) => (browser, false),
        None => (random_base64(32), true),
    };
    let (txn, pending) = app.browsers().start(request, &browser, now);
    let mut response = match current_session(&app, &headers, now).await {
        Some(_) => proceed_after_login(&app, &txn, &pending, &headers).await,
        None => login_page(StatusCode::OK, &txn, &pending, "", None),
    };
    if new_browser {
        set_cookie(
            &mut response,
            &app.cookie_name(BROWSER_COOKIE),
            &browser,
            app.secure_cookies(),
        );
    }
    response
}

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
    let mut response = see_other(&format!("/consent?txn={txn}"));
    set_cookie(
        &mut response,
        &app.cookie_name(SESSION_COOKIE),
        &session,
        app.secure_cookies(),
    );
    response
}

#[derive(serde::Deserialize)]
pub struct ConsentQuery {
    txn: String,
}

/// GET /consent?txn=…: the consent page, or straight back to the client when
/// the user already consented to these scopes.
pub async fn consent_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ConsentQuery>,
) -> Response {
    let now = app.shared.clock.now();
    let browser = cookie(&headers, &app.cookie_name(BROWSER_COOKIE)).unwrap_or_default();
    let Some(pending) = app.browsers().pending(&query.txn, &browser, None, now) else {
        return expired_form();
    };
    if current_session(&app, &headers, now).await.is_none() {
        return login_page(StatusCode::OK, &query.txn, &pending, "", None);
    }
    proceed_after_login(&app, &query.txn, &pending, &headers).await
}

/// POST /consent: allow or deny.
pub async fn consent(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(form) = Params::parse(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let now = app.shared.clock.now();
    let Some((txn, pending)) = checked_pending(&app, &headers, &form, now) else {
        return expired_form();
    };
    let Some(session) = current_session(&app, &headers, now).await else {
        return expired_form();
    };
    let request = &pending.request;
    let issuer = &app.shared.config.issuer;
    match form.get("decision").ok().flatten() {
        Some("allow") => {
            let (user_seq, client_id, scope) = (
                session.user_seq,
                request.client.id.clone(),
                request.scope.clone(),
            );
            let remembered = app
                .shared
                .store
                .call(move |store| store.remember_consent(user_seq, &client_id, &scope, now))
                .await;
            if let Err(error) = remembered {
                tracing::error!(%error, "remembering consent failed");
                let error = OAuthError::server_error();
                return redirect_error(
                    &request.redirect_uri,
                    &error,
                    request.state.as_deref(),
                    issuer,
                );
            }
            app.browsers().finish(&txn);
            issue_code_redirect(&app, &pending, session.user_seq, now).await
        }
        Some("deny") => {
            app.browsers().finish(&txn);
            let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied the request");
            redirect_error(
                &request.redirect_uri,
                &error,
                request.state.as_deref(),
                issuer,
            )
        }
        _ => error_page(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    }
}

/// With a logged-in browser: skip consent already given, else show the page.
async fn proceed_after_login(
    app: &AppState,
    txn: &str,
    pending: &Pending,
    headers: &HeaderMap,
) -> Response {
    let now = app.shared.clock.now();
    let Some(session) = current_session(app, headers, now).await else {
        return login_page(StatusCode::OK, txn, pending, "", None);
    };
    let (user_seq, client_id, scope) = (
        session.user_seq,
        pending.request.client.id.clone(),
        pending.request.scope.clone(),
    );
    let descriptions = app.shared.store.call(move |store| {
        let covered = store.consent_covers(user_seq, &client_id, &scope)?;
        let catalog = store.list_scopes()?;
        let listed = scope
            .names()
            .iter()
            .map(|name| {
                let description = catalog
                    .iter()
                    .find(|s| &s.name == name)
                    .map(|s| s.description.clone());
                (
                    name.as_str().to_owned(),
                    description.unwrap_or_else(|| name.as_str().to_owned()),
                )
            })
            .collect::<Vec<_>>();
        Ok((covered, listed))
    });
    match descriptions.await {
        Ok((true, _)) => {
            app.browsers().finish(txn);
            issue_code_redirect(app, pending, session.user_seq, now).await
        }
        Ok((false, scopes)) => page(
            StatusCode::OK,
            pages::consent(
                &pending.request.client.name,
                &session.username,
                &scopes,
                txn,
                &pending.csrf,
            ),
        ),
        Err(error) => {
            tracing::error!(%error, "consent lookup failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server could not process the request; retry later.",
            )
        }
    }
}

/// Mints the code and redirects to the client with `code`, `state` and `iss`.
async fn issue_code_redirect(
    app: &AppState,
    pending: &Pending,
    user_seq: i64,
    now: i64,
) -> Response {
    let request = &pending.request;
    let grant = CodeGrant {
        client_id: request.client.id.clone(),
        user_seq,
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        scope: request.scope.to_string(),
        expires_at: now + app.shared.config.lifetimes.code,
    };
    let issuer = &app.shared.config.issuer;
    match app
        .shared
        .store
        .call(move |store| store.issue_code(&grant, now))
        .await
    {
        Ok(code) => see_other(&redirect_location(
            &request.redirect_uri,
            &[("code", code.expose())],
            request.state.as_deref(),
            issuer,
        )),
        Err(error) => {
            let error = OAuthError::from(error);
            redirect_error(
                &request.redirect_uri,
                &error,
                request.state.as_deref(),
                issuer,
            )
        }
    }
}

/// The pending request named by a form, if the form's CSRF token and this
/// browser's cookie both match it.
fn checked_pending(
    app: &AppState,
    headers: &HeaderMap,
    form: &Params,
    now: i64,
) -> Option<(String, Arc<Pending>)> {
    let txn = form.get("txn").ok().flatten()?;
    let csrf = form.get("csrf").ok().flatten()?;
    let browser = cookie(headers, &app.cookie_name(BROWSER_COOKIE))?;
    let pending = app.browsers().pending(txn, &browser, Some(csrf), now)?;
    Some((txn.to_owned(), pending))
}

async fn current_session(
    app: &AppState,
    headers: &HeaderMap,
    now: i64,
) -> Option<Arc<super::sessions::Session>> {
    let id = cookie(headers, &app.cookie_name(SESSION_COOKIE))?;
    let session = app.browsers().session(&id, now)?;
    let username = session.username.clone();
    // A disabled user's session ends at once.
    match app
        .shared
        .store
        .call(move |store| store.user_credentials(&username))
        .await
    {
        Ok(Some(user)) if !user.disabled => Some(session),
        _ => {
            app.browsers().logout(&id);
            None
        }
    }
}

/// The authorization error redirect (RFC 6749 §4.1.2.1), marked for the metrics.
fn redirect_error(
    redirect_uri: &str,
    error: &OAuthError,
    state: Option<&str>,
    issuer: &str,
) -> Response {
    super::respond::error_redirect(
        &error_location(redirect_uri, error, state, issuer),
        error.code,
    )
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

fn login_page(
    status: StatusCode,
    txn: &str,
    pending: &Pending,
    username: &str,
    message: Option<&str>,
) -> Response {
    page(
        status,
        pages::login(
            &pending.request.client.name,
            txn,
            &pending.csrf,
            username,
            message,
        ),
    )
}

fn error_page(status: StatusCode, message: &str) -> Response {
    page(status, pages::error("Request refused", message))
}

fn expired_form() -> Response {
    page(
        StatusCode::FORBIDDEN,
        pages::error(
            "Form expired",
            "This form expired or was not issued to this browser. Go back to the application and start again.",
        ),
    )
}

/// The value of cookie `name`, if sent.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn set_cookie(response: &mut Response, name: &str, value: &str, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}");
    if let Ok(value) = HeaderValue::from_str(&text) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
