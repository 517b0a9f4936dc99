//! The token endpoint's grants, /revoke and /introspect, as plain functions
//! over the store and `now`. They know nothing of HTTP.

use super::authorize::is_pkce_value;
use super::client_auth::{authenticate, Accept, Presented};
use super::error::{ErrorCode, OAuthError};
use super::params::Params;
use crate::model::{Client, ClientId, GrantType, Lifetimes, ScopeSet};
use crate::secret::{constant_time_eq, pkce_s256};
use crate::store::{
    CodeRedemption, IssueSpec, IssuedTokens, RefreshOutcome, Store, StoredCode, TokenRevocation,
};

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    /// A refresh retry's answer: the pair an earlier rotation issued, again.
    #[serde(skip)]
    pub repeated: bool,
}

/// An introspection answer (RFC 7662 §2.2): `{"active": false}` or the details.
#[derive(Debug, serde::Serialize, PartialEq, Eq)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<IntrospectionDetails>,
}

#[derive(Debug, serde::Serialize, PartialEq, Eq)]
pub struct IntrospectionDetails {
    pub scope: String,
    pub client_id: ClientId,
    pub username: String,
    pub sub: String,
    pub token_type: &'static str,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
}

fn param<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, OAuthError> {
    params
        .get(name)
        .map_err(|error| OAuthError::invalid_request(error.to_string()))
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, OAuthError> {
    param(params, name)?.ok_or_else(|| OAuthError::invalid_request(format!("{name} required")))
}

/// POST /token: authenticate the client, then run the requested grant. The
/// reads run on the caller's thread (an async worker); a code exchange runs on
/// the blocking pool, and a rotation waits for its COMMIT as a task.
pub async fn token(
    store: &Store,
    now: i64,
    lifetimes: &Lifetimes,
    presented: &Presented<'_>,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    for name in [
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
    ] {
        param(params, name)?;
    }
    let client = authenticate(store, now, presented, params, Accept::AnyClient)?;
    match param(params, "grant_type")? {
        None => Err(OAuthError::invalid_request("grant_type required")),
        Some("authorization_code") => exchange_code(store, now, lifetimes, &client, params).await,
        Some("refresh_token") => {
            let issued = refresh(store, now, lifetimes, &client, params).await?;
            if issued.repeat {
                presented
                    .tally
                    .note_retry(now, &client.id, &issued.family_id);
            }
            Ok(response(issued, now))
        }
        Some(other) => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!(
                "grant_type {} is not supported: use authorization_code or refresh_token",
                if other.len() <= 40 {
                    other
                } else {
                    "(too long)"
                }
            ),
        )),
    }
}

async fn exchange_code(
    store: &Store,
    now: i64,
    lifetimes: &Lifetimes,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let code = required(params, "code")?;
    let redirect_uri = required(params, "redirect_uri")?;
    let verifier = required(params, "code_verifier")?;
    if !is_pkce_value(verifier) {
        return Err(OAuthError::invalid_request(
            "code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~",
        ));
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not allowed the authorization_code grant type",
        ));
    }
    use CodeRedemption::{Issue, Refuse, RevokeReuse};
    // The decision runs inside the store's transaction, on the writer thread:
    // it owns what it compares.
    let client_id = client.id.clone();
    let redirect_uri = redirect_uri.to_owned();
    let challenge = pkce_s256(verifier);
    let refresh_expires_at = client
        .allows(GrantType::RefreshToken)
        .then_some(now + lifetimes.refresh_idle);
    let access_expires_at = now + lifetimes.access;
    let code = code.to_owned();
    let decide = move |stored: Option<&StoredCode>| {
        let Some(stored) = stored else {
            return Refuse("authorization code is invalid");
        };
        if stored.client_id != client_id {
            return Refuse("authorization code was issued to another client");
        }
        let proof_holds = stored.redirect_uri == redirect_uri
            && constant_time_eq(&challenge, &stored.code_challenge);
        if stored.used {
            let why = "authorization code was already used; the tokens it issued are revoked";
            // Only a request that could have redeemed it may revoke (no DoS).
            return if proof_holds {
                RevokeReuse(why)
            } else {
                Refuse(why)
            };
        }
        if stored.voided || stored.client_disabled || stored.user_disabled {
            return Refuse("authorization code was revoked");
        }
        if now >= stored.expires_at {
            return Refuse("authorization code expired");
        }
        if stored.redirect_uri != redirect_uri {
            return Refuse("redirect_uri differs from the one sent to /authorize");
        }
        if !proof_holds {
            return Refuse("code_verifier does not match the code_challenge");
        }
        Issue(IssueSpec {
            access_scope: stored.scope.clone(),
            access_expires_at,
            refresh_expires_at,
        })
    };
    let issued = store
        .call(move |store| store.redeem_code(&code, now, decide))
        .await?;
    issued
        .map(|tokens| response(tokens, now))
        .map_err(OAuthError::invalid_grant)
}

/// A refresh: rotate, or for a client with a retry window answer a retry of a
/// rotation whose answer was lost with that same answer; any other reuse of a
/// rotated token is a replay that revokes the family.
async fn refresh(
    store: &Store,
    now: i64,
    lifetimes: &Lifetimes,
    client: &Client,
    params: &Params,
) -> Result<IssuedTokens, OAuthError> {
    let refresh_token = required(params, "refresh_token")?;
    if !client.allows(GrantType::RefreshToken) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not allowed the refresh_token grant type",
        ));
    }
    let requested = match param(params, "scope")? {
        Some(text) => Some(
            ScopeSet::parse_oauth(text)
                .map_err(|_| OAuthError::invalid_scope("malformed scope"))?,
        ),
        None => None,
    };
    use RefreshOutcome::{Refuse, Repeat, RevokeReplay, Rotate};
    let client_id = client.id.clone();
    let lifetimes = *lifetimes;
    let window = client.refresh_retry_window;
    store
        .rotate_refresh(refresh_token, now, move |stored| {
            let Some(stored) = stored else {
                return Refuse(OAuthError::invalid_grant("refresh token is invalid"));
            };
            // Only a request that could have redeemed the token may revoke its
            // family (no denial of service): another client is refused, and never
            // gets a retry's answer either.
            if stored.client_id != client_id {
                return Refuse(OAuthError::invalid_grant(
                    "refresh token was issued to another client",
                ));
            }
            if stored.family_revoked || stored.client_disabled || stored.user_disabled {
                return Refuse(OAuthError::invalid_grant("refresh token was revoked"));
            }
            let scope = match &requested {
                Some(requested) if !requested.is_subset_of(&stored.family_scope) => None,
                Some(requested) => Some(requested.to_string()),
                None => Some(stored.family_scope.to_string()),
            };
            if stored.rotated {
                // Only the exact retry of the newest rotation within the window is
                // answered again; `retry` is gone once the window ended or the
                // successor was used. Anything else is a replay.
                return match &stored.retry {
                    Some(retry) if scope.as_ref() == Some(&retry.scope) && now < retry.until => {
                        Repeat
                    }
                    _ => RevokeReplay(OAuthError::invalid_grant(
                        "refresh token was already used; the grant is revoked",
                    )),
                };
            }
            if now >= stored.expires_at {
                return Refuse(OAuthError::invalid_grant("refresh token expired"));
            }
            let Some(scope) = scope else {
                return Refuse(OAuthError::invalid_scope(
                    "scope may only narrow the original grant",
                ));
            };
            Rotate {
                issue: IssueSpec {
                    access_scope: scope,
                    access_expires_at: now + lifetimes.access,
                    refresh_expires_at: Some(now + lifetimes.refresh_idle),
                },
                retry_until: (!window.is_strict()).then_some(now + window.secs()),
            }
        })
        .await?
}

fn response(tokens: IssuedTokens, now: i64) -> TokenResponse {
    TokenResponse {
        access_token: tokens.access_token.into_string(),
        token_type: "Bearer",
        expires_in: tokens.access_expires_at - now,
        refresh_token: tokens.refresh_token.map(|token| token.into_string()),
        scope: tokens.scope,
        repeated: tokens.repeat,
    }
}

/// POST /revoke (RFC 7009): 200 for anything but a client or request error.
pub fn revoke(
    store: &Store,
    now: i64,
    presented: &Presented,
    params: &Params,
) -> Result<(), OAuthError> {
    param(params, "token")?;
    param(params, "token_type_hint")?;
    let client = authenticate(store, now, presented, params, Accept::AnyClient)?;
    let token = required(params, "token")?;
    match store.revoke_token(token, &client.id, now)? {
        TokenRevocation::Revoked | TokenRevocation::Unknown | TokenRevocation::OtherClient => {
            Ok(())
        }
    }
}

/// POST /introspect (RFC 7662): confidential clients only, for their own
/// tokens unless they are resource servers.
pub fn introspect(
    store: &Store,
    now: i64,
    issuer: &str,
    presented: &Presented,
    params: &Params,
) -> Result<Introspection, OAuthError> {
    param(params, "token")?;
    param(params, "token_type_hint")?;
    let caller = authenticate(store, now, presented, params, Accept::ConfidentialOnly)?;
    let token = required(params, "token")?;
    // RFC 7662 §4: a client learns about its own tokens; only a resource
    // server may introspect any client's. Anything else is simply not active.
    let details = store
        .lookup_token(token, now)?
        .filter(|info| caller.resource_server || info.client_id == caller.id)
        .map(|info| IntrospectionDetails {
            scope: info.scope,
            client_id: info.client_id,
            sub: info.username.clone(),
            username: info.username,
            token_type: if info.is_refresh {
                "refresh_token"
            } else {
                "Bearer"
            },
            exp: info.expires_at,
            iat: info.issued_at,
            iss: issuer.to_owned(),
        });
    Ok(Introspection {
        active: details.is_some(),
        details,
    })
}
