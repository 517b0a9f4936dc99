//! The browser flow: GET /authorize, and the consent page and form.
//!
//! The authorization request is validated once and kept server-side; the forms
//! carry only its opaque id and a CSRF token bound to it and to this browser.
//! What the user sees next is decided by `oauth::interaction`; these handlers
//! keep the cookies, the forms and the HTML.

use super::forms::{
    browser_id, checked_pending, current_session, error_page, expired_form, login_page,
    new_browser_id, set_cookie, BROWSER_COOKIE,
};
use super::pages;
use super::respond::{error_redirect, form_page, page, see_other};
use super::sessions::{Pending, Session};
use super::AppState;
use crate::oauth::authorize::{error_location, validate, AuthorizationRequest, AuthorizeError};
use crate::oauth::interaction::{self, Issuer, Next, User};
use crate::oauth::{OAuthError, Params};
use crate::store::{Store, StoreError};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use std::sync::Arc;

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
            let location = error_location(
                &redirect_uri,
                &error,
                state.as_deref(),
                &app.shared.config.issuer,
            );
            return error_redirect(&location, error.code);
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
    let (browser, new_browser) = match browser_id(&app, &headers) {
        Some(browser) => (browser, false),
        None => (new_browser_id(&app), true),
    };
    let (txn, pending) = app.browsers().start(request, &browser, now);
    let mut response = proceed(&app, &txn, &pending, &headers, now).await;
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
    let browser = browser_id(&app, &headers).unwrap_or_default();
    let Some(pending) = app.browsers().pending(&query.txn, &browser, None, now) else {
        return expired_form();
    };
    proceed(&app, &query.txn, &pending, &headers, now).await
}

/// With a session that satisfies `prompt` and `max_age`: what comes after
/// login. Without one: the login page, or `login_required` under `prompt=none`.
async fn proceed(
    app: &AppState,
    txn: &str,
    pending: &Arc<Pending>,
    headers: &HeaderMap,
    now: i64,
) -> Response {
    let session = current_session(app, headers, now).filter(|(_, session)| {
        !interaction::must_sign_in_again(
            &pending.request,
            session.created,
            pending.signed_in_here(),
            now,
        )
    });
    if let Some(session) = session {
        return after_login(app, txn, pending, session, now).await;
    }
    match interaction::without_session(&pending.request, issuer(app)) {
        Some(Next::ErrorRedirect(location, code)) => {
            app.browsers().finish(txn);
            error_redirect(&location, code)
        }
        _ => login_page(StatusCode::OK, txn, pending, "", None),
    }
}

/// POST /consent: allow or deny, as the user the page was shown to.
pub async fn consent(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(form) = Params::parse(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "The form is malformed.");
    };
    let now = app.shared.clock.now();
    let Some((txn, pending)) = checked_pending(&app, &headers, &form, now) else {
        return expired_form();
    };
    let Some((session_id, session)) = current_session(&app, &headers, now) else {
        return expired_form();
    };
    // Allow binds to the user who saw this page: after another login in this
    // browser (another tab), the page is stale.
    if !pending.was_shown_to(session.user_seq) {
        return page(
            StatusCode::FORBIDDEN,
            pages::error(
                "Signed-in user changed",
                "This consent page was shown to another signed-in user. Go back to the application and start again.",
            ),
        );
    }
    let next = match form.get("decision").ok().flatten() {
        Some("allow") => decide(&app, &pending, &session, now, interaction::allow).await,
        Some("deny") => interaction::deny(&pending.request, issuer(&app)),
        _ => return error_page(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    };
    render(&app, &txn, &pending, (&session_id, &session), next)
}

/// With a signed-in browser: what `oauth::interaction` decides comes next.
async fn after_login(
    app: &AppState,
    txn: &str,
    pending: &Arc<Pending>,
    (session_id, session): (String, Arc<Session>),
    now: i64,
) -> Response {
    let next = decide(app, pending, &session, now, interaction::after_login).await;
    render(app, txn, pending, (&session_id, &session), next)
}

/// The signature of `interaction::after_login` and `interaction::allow`.
type Step = fn(&Store, &AuthorizationRequest, User, Issuer, i64) -> Result<Next, StoreError>;

/// Runs one interaction step off the runtime, for this session's user; a store
/// failure goes back to the client as `server_error` (or
/// `temporarily_unavailable` when the database is busy).
async fn decide(
    app: &AppState,
    pending: &Arc<Pending>,
    session: &Session,
    now: i64,
    step: Step,
) -> Next {
    let (request, user_seq, username) =
        (pending.clone(), session.user_seq, session.username.clone());
    let (issuer_text, code_ttl_secs) = (
        app.shared.config.issuer.clone(),
        app.shared.config.lifetimes.code,
    );
    let decided = app
        .shared
        .store
        .call(move |store| {
            let user = User {
                seq: user_seq,
                username: &username,
            };
            let issuer = Issuer {
                issuer: &issuer_text,
                code_ttl_secs,
            };
            step(store, &request.request, user, issuer, now)
        })
        .await;
    decided.unwrap_or_else(|error| {
        tracing::error!(%error, "the consent step failed");
        interaction::error_redirect(&pending.request, &OAuthError::from(error), issuer(app))
    })
}

/// Shows `next`: the consent page (remembering who saw it), a redirect or an
/// error page (ending the pending request), or the login page again.
fn render(
    app: &AppState,
    txn: &str,
    pending: &Pending,
    (session_id, session): (&str, &Session),
    next: Next,
) -> Response {
    match next {
        Next::Consent(scopes) => {
            pending.show_to(session.user_seq);
            form_page(
                StatusCode::OK,
                pages::consent(
                    &pending.request.client.name,
                    &session.username,
                    &scopes,
                    txn,
                    &pending.csrf,
                ),
                &pending.request.redirect_uri,
            )
        }
        Next::Redirect(location) => {
            app.browsers().finish(txn);
            see_other(&location)
        }
        Next::ErrorRedirect(location, code) => {
            app.browsers().finish(txn);
            error_redirect(&location, code)
        }
        Next::Page(message) => {
            app.browsers().finish(txn);
            error_page(StatusCode::BAD_REQUEST, &message)
        }
        Next::SignedOut => {
            app.browsers().logout(session_id);
            login_page(StatusCode::OK, txn, pending, "", None)
        }
    }
}

fn issuer(app: &AppState) -> Issuer<'_> {
    Issuer {
        issuer: &app.shared.config.issuer,
        code_ttl_secs: app.shared.config.lifetimes.code,
    }
}
