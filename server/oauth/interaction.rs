//! The browser flow's decisions once /authorize has validated a request: what a
//! known user sees next, and what Allow and Deny do. Plain functions over the
//! store; the handlers in `http/authorize.rs` keep cookies, forms and HTML.
//!
//! A code is minted only in [`Store::grant_code`]'s transaction, against the
//! client and user as they are at that moment ([`still_valid`]): a client
//! disabled, a scope or redirect URI removed, or a user disabled while the
//! consent page was open gets no code.

use super::authorize::{error_location, is_registered, redirect_location, AuthorizationRequest};
use super::error::{ErrorCode, OAuthError};
use crate::model::{GrantType, ScopeSet};
use crate::store::{CodeGrant, GrantParties, Store, StoreError};

/// What the browser is shown next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The consent page, listing (scope, description).
    Consent(Vec<(String, String)>),
    /// Back to the client with a code: the Location.
    Redirect(String),
    /// Back to the client with an error: the Location and its code.
    ErrorRedirect(String, ErrorCode),
    /// The client can no longer be trusted with a redirect: an error page.
    Page(String),
    /// The signed-in user no longer exists or is disabled: end the session.
    SignedOut,
}

/// The signed-in user, as the session knows them.
#[derive(Debug, Clone, Copy)]
pub struct User<'a> {
    pub seq: i64,
    pub username: &'a str,
}

/// Where the code's lifetime and the `iss` parameter come from.
#[derive(Debug, Clone, Copy)]
pub struct Issuer<'a> {
    pub issuer: &'a str,
    pub code_ttl_secs: i64,
}

/// Once the user is known: straight back with a code when they already
/// consented to these scopes for this client, else the consent page.
pub fn after_login(
    store: &Store,
    request: &AuthorizationRequest,
    user: User,
    issuer: Issuer,
    now: i64,
) -> Result<Next, StoreError> {
    match store.user_credentials(user.username)? {
        Some(stored) if !stored.disabled && stored.seq == user.seq => {}
        _ => return Ok(Next::SignedOut),
    }
    let covered = store.consent_covers(user.seq, &request.client.id, &request.scope)?;
    if covered && !request.prompt.consent {
        return issue(store, request, user, false, issuer, now);
    }
    if request.prompt.none {
        return Ok(redirect_error(
            request,
            ErrorCode::ConsentRequired,
            "consent is needed and prompt=none forbids asking",
            issuer,
        ));
    }
    let catalog = store.list_scopes()?;
    let listed = request
        .scope
        .names()
        .iter()
        .map(|name| {
            let description = catalog
                .iter()
                .find(|scope| &scope.name == name)
                .map(|scope| scope.description.clone());
            let name = name.as_str().to_owned();
            (name.clone(), description.unwrap_or(name))
        })
        .collect();
    Ok(Next::Consent(listed))
}

/// Allow: the consent is remembered and the code minted in one transaction.
pub fn allow(
    store: &Store,
    request: &AuthorizationRequest,
    user: User,
    issuer: Issuer,
    now: i64,
) -> Result<Next, StoreError> {
    issue(store, request, user, true, issuer, now)
}

/// Deny: back to the client with `access_denied`.
pub fn deny(request: &AuthorizationRequest, issuer: Issuer) -> Next {
    redirect_error(
        request,
        ErrorCode::AccessDenied,
        "the user denied the request",
        issuer,
    )
}

/// Whether the login page must be shown although the browser is signed in
/// (`signed_in_at`): `prompt=login` not yet satisfied in this transaction, or
/// a sign-in older than `max_age`.
pub fn must_sign_in_again(
    request: &AuthorizationRequest,
    signed_in_at: i64,
    signed_in_here: bool,
    now: i64,
) -> bool {
    let too_old = request
        .max_age
        .is_some_and(|max_age| now - signed_in_at > max_age);
    !signed_in_here && (request.prompt.login || too_old)
}

/// With no usable session: the login page, or `login_required` under `prompt=none`.
pub fn without_session(request: &AuthorizationRequest, issuer: Issuer) -> Option<Next> {
    request.prompt.none.then(|| {
        redirect_error(
            request,
            ErrorCode::LoginRequired,
            "the user is not signed in and prompt=none forbids asking",
            issuer,
        )
    })
}

/// Back to the client with `error`.
pub fn error_redirect(request: &AuthorizationRequest, error: &OAuthError, issuer: Issuer) -> Next {
    let location = error_location(
        &request.redirect_uri,
        error,
        request.state.as_deref(),
        issuer.issuer,
    );
    Next::ErrorRedirect(location, error.code)
}

fn redirect_error(
    request: &AuthorizationRequest,
    code: ErrorCode,
    why: &str,
    issuer: Issuer,
) -> Next {
    error_redirect(request, &OAuthError::new(code, why), issuer)
}

/// Why the client or user as they are now refuse a code.
enum Refusal {
    Page(&'static str),
    Redirect(OAuthError),
    SignedOut,
}

fn issue(
    store: &Store,
    request: &AuthorizationRequest,
    user: User,
    remember: bool,
    issuer: Issuer,
    now: i64,
) -> Result<Next, StoreError> {
    let grant = CodeGrant {
        client_id: request.client.id.clone(),
        user_seq: user.seq,
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        scope: request.scope.clone(),
        expires_at: now + issuer.code_ttl_secs,
    };
    let (redirect_uri, scope) = (request.redirect_uri.clone(), request.scope.clone());
    let decided = store.grant_code(grant, remember, now, move |parties| {
        still_valid(parties, &redirect_uri, &scope)
    })?;
    let state = request.state.as_deref();
    Ok(match decided {
        Ok(code) => Next::Redirect(redirect_location(
            &request.redirect_uri,
            &[("code", code.expose())],
            state,
            issuer.issuer,
        )),
        Err(Refusal::Page(message)) => Next::Page(message.to_owned()),
        Err(Refusal::Redirect(error)) => error_redirect(request, &error, issuer),
        Err(Refusal::SignedOut) => Next::SignedOut,
    })
}

/// The grant as /authorize validated it must still hold for the client and
/// user as they are now.
fn still_valid(parties: GrantParties, redirect_uri: &str, scope: &ScopeSet) -> Result<(), Refusal> {
    let Some(client) = parties.client else {
        return Err(Refusal::Page("This client is no longer registered."));
    };
    if client.disabled {
        return Err(Refusal::Page("This client is disabled."));
    }
    if !is_registered(client, redirect_uri) {
        return Err(Refusal::Page(
            "redirect_uri is no longer registered for this client.",
        ));
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(Refusal::Redirect(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is no longer allowed the authorization_code grant type",
        )));
    }
    if !scope.is_subset_of(&client.scopes) {
        return Err(Refusal::Redirect(OAuthError::invalid_scope(
            "a requested scope is no longer allowed for this client",
        )));
    }
    match parties.user_disabled {
        Some(false) => Ok(()),
        _ => Err(Refusal::SignedOut),
    }
}
