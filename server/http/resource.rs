//! The bearer-protected resource API under `/api/public/v1/` (RFC 6750).

use super::respond::{bearer_challenge, json, method_not_allowed, oauth_error};
use super::AppState;
use crate::model::ClientId;
use crate::oauth::bearer::{parse_bearer, BearerCredential};
use crate::oauth::{ErrorCode, OAuthError};
use crate::secret::TokenKind;
use crate::store::AccessTokenInfo;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;

/// A live access token from the `Authorization` header: every handler under
/// `/api/public/v1/` takes one, so none can run without it. Rejected with
/// the RFC 6750 challenge.
pub struct Bearer(pub AccessTokenInfo);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
        let header = match (values.next(), values.next()) {
            (None, _) => None,
            (Some(value), None) => value.to_str().ok(),
            (Some(_), Some(_)) => {
                return Err(oauth_error(&OAuthError::invalid_request(
                    "more than one Authorization header",
                )))
            }
        };
        let token = match parse_bearer(header) {
            BearerCredential::Missing => return Err(bearer_challenge(None)),
            BearerCredential::Malformed => {
                return Err(bearer_challenge(Some((
                    &OAuthError::invalid_request("malformed Bearer credentials"),
                    None,
                ))))
            }
            BearerCredential::Token(token) => token,
        };
        let invalid = |why: &str| {
            bearer_challenge(Some((&OAuthError::new(ErrorCode::InvalidToken, why), None)))
        };
        if !token.starts_with(TokenKind::Access.prefix()) {
            return Err(invalid("not an access token"));
        }
        let now = app.shared.clock.now();
        // A hot read: one indexed lookup in SQLite's page cache, on this worker
        // thread (no hop to the blocking pool and back; see `Store::read`).
        match app.shared.store.lookup_token(token, now) {
            Ok(Some(info)) => Ok(Bearer(info)),
            Ok(None) => Err(invalid("the access token is expired, revoked or unknown")),
            Err(error) => Err(oauth_error(&OAuthError::from(error))),
        }
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
pub async fn me(Bearer(info): Bearer) -> Response {
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

/// Any other method on /me: still the bearer check first, then 405.
pub async fn me_other_method(_: Bearer) -> Response {
    method_not_allowed("GET,HEAD", false)
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
