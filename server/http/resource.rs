//! The bearer-protected resource API under `/api/public/v1/` (RFC 6750).

use super::respond::{bearer_challenge, json, oauth_error};
use super::AppState;
use crate::model::ClientId;
use crate::oauth::bearer::{parse_bearer, BearerCredential};
use crate::oauth::{ErrorCode, OAuthError};
use crate::secret::TokenKind;
use crate::store::AccessTokenInfo;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use axum::Extension;

/// Middleware: a live access token, or the RFC 6750 challenge.
pub async fn require_bearer(
    State(app): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers: Vec<_> = request
        .headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .collect();
    let header = match headers.as_slice() {
        [] => None,
        [value] => value.to_str().ok(),
        _ => {
            return oauth_error(&OAuthError::invalid_request(
                "more than one Authorization header",
            ))
        }
    };
    let token = match parse_bearer(header) {
        BearerCredential::Missing => return bearer_challenge(None),
        BearerCredential::Malformed => {
            return bearer_challenge(Some((
                &OAuthError::invalid_request("malformed Bearer credentials"),
                None,
            )))
        }
        BearerCredential::Token(token) => token,
    };
    let invalid =
        |why: &str| bearer_challenge(Some((&OAuthError::new(ErrorCode::InvalidToken, why), None)));
    if !token.starts_with(TokenKind::Access.prefix()) {
        return invalid("not an access token");
    }
    let now = app.shared.clock.now();
    // A hot read: one indexed lookup in SQLite's page cache, on this worker
    // thread (no hop to the blocking pool and back; see `Store::read`).
    match app.shared.store.lookup_token(token, now) {
        Ok(Some(info)) => {
            request.extensions_mut().insert(info);
            next.run(request).await
        }
        Ok(None) => invalid("the access token is expired, revoked or unknown"),
        Err(error) => oauth_error(&OAuthError::from(error)),
    }
}

/// The 403 challenge when the caller's access token lacks `scope`.
fn missing_scope(info: &AccessTokenInfo, scope: &'static str) -> Option<Response> {
    if info.scope.split(' ').any(|granted| granted == scope) {
        return None;
    }
    let error = OAuthError::new(
        ErrorCode::InsufficientScope,
        format!("this endpoint needs scope {scope}"),
    );
    Some(bearer_challenge(Some((&error, Some(scope)))))
}

/// GET /api/public/v1/me (scope `profile`).
pub async fn me(Extension(info): Extension<AccessTokenInfo>) -> Response {
    if let Some(response) = missing_scope(&info, "profile") {
        return response;
    }
    json(&Me {
        client_id: &info.client_id,
        scope: &info.scope,
        sub: &info.username,
        username: &info.username,
    })
}

/// The /me answer, serialised straight from the token's row (no JSON tree;
/// the keys in the order the tree gave them).
#[derive(serde::Serialize)]
struct Me<'a> {
    client_id: &'a ClientId,
    scope: &'a str,
    sub: &'a str,
    username: &'a str,
}
