//! Client authentication at /token, /revoke and /introspect (RFC 6749 §2.3).
//!
//! Confidential clients must use HTTP Basic, with id and secret form-encoded
//! before base64 (§2.3.1); public clients send `client_id` in the body and no
//! secret. Every failure is `invalid_client` (401 with a Basic challenge) and is
//! recorded as a `client_auth_failed` event; a malformed Basic header is
//! `invalid_request`.

use super::error::OAuthError;
use super::params::{decode, Params};
use crate::model::{Actor, Client, EventKind, NewEvent};
use crate::store::{secret_matches, Store};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Credentials from a Basic header: (client_id, secret).
#[derive(PartialEq, Eq)]
pub struct BasicCredentials {
    pub client_id: String,
    pub secret: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BasicCredentials({}, …)", self.client_id)
    }
}

/// Decodes `Authorization: Basic …` per RFC 6749 §2.3.1: base64, split at the
/// first `:`, then form-decode each half. `Ok(None)` for another scheme.
pub fn parse_basic(header: &str) -> Result<Option<BasicCredentials>, OAuthError> {
    let Some((scheme, rest)) = header.trim().split_once(' ') else {
        return if header.trim().eq_ignore_ascii_case("basic") {
            Err(OAuthError::invalid_request("empty Basic credentials"))
        } else {
            Ok(None)
        };
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed =
        || OAuthError::invalid_request("malformed HTTP Basic credentials (RFC 6749 2.3.1)");
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| malformed())?;
    let at = decoded
        .iter()
        .position(|byte| *byte == b':')
        .ok_or_else(malformed)?;
    let client_id = decode(&decoded[..at]).map_err(|_| malformed())?;
    let secret = decode(&decoded[at + 1..]).map_err(|_| malformed())?;
    Ok(Some(BasicCredentials { client_id, secret }))
}

/// Which clients an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// Confidential clients by Basic, public clients by `client_id`.
    AnyClient,
    /// Confidential clients only (introspection).
    ConfidentialOnly,
}

/// Authenticates the calling client; records a failure as an event.
pub fn authenticate(
    store: &Store,
    now: i64,
    authorization: Option<&str>,
    params: &Params,
    accept: Accept,
) -> Result<Client, OAuthError> {
    let basic = match authorization {
        Some(header) => match parse_basic(header)? {
            Some(basic) => Some(basic),
            None => {
                return Err(failure(
                    store,
                    now,
                    None,
                    "unsupported authentication scheme; use HTTP Basic",
                ))
            }
        },
        None => None,
    };
    let body_id = params
        .get("client_id")
        .map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    let body_secret = params.contains("client_secret");
    match basic {
        Some(basic) => {
            if body_secret {
                return Err(failure(
                    store,
                    now,
                    Some(&basic.client_id),
                    "credentials sent both in HTTP Basic and in the body",
                ));
            }
            if body_id.is_some_and(|id| id != basic.client_id) {
                return Err(failure(
                    store,
                    now,
                    Some(&basic.client_id),
                    "client_id in the body differs from HTTP Basic",
                ));
            }
            let credentials = store.client_credentials(&basic.client_id)?;
            let Some(credentials) = credentials else {
                return Err(failure(store, now, None, "unknown client"));
            };
            let client = credentials.client;
            if client.public {
                return Err(failure(
                    store,
                    now,
                    Some(&client.id),
                    "public clients send client_id in the body and no secret",
                ));
            }
            if !secret_matches(&basic.secret, credentials.secret_hash.as_deref()) {
                return Err(failure(store, now, Some(&client.id), "wrong client secret"));
            }
            if client.disabled {
                return Err(failure(store, now, Some(&client.id), "client is disabled"));
            }
            Ok(client)
        }
        None => {
            let Some(id) = body_id else {
                return Err(failure(
                    store,
                    now,
                    None,
                    "client authentication required: HTTP Basic, or client_id for public clients",
                ));
            };
            let Some(credentials) = store.client_credentials(id)? else {
                return Err(failure(store, now, None, "unknown client"));
            };
            let client = credentials.client;
            if !client.public {
                return Err(failure(
                    store,
                    now,
                    Some(&client.id),
                    "confidential clients must authenticate with HTTP Basic",
                ));
            }
            if body_secret {
                return Err(failure(
                    store,
                    now,
                    Some(&client.id),
                    "public clients must not send a secret",
                ));
            }
            if client.disabled {
                return Err(failure(store, now, Some(&client.id), "client is disabled"));
            }
            if accept == Accept::ConfidentialOnly {
                return Err(failure(
                    store,
                    now,
                    Some(&client.id),
                    "only confidential clients may introspect",
                ));
            }
            Ok(client)
        }
    }
}

fn failure(store: &Store, now: i64, client_id: Option<&str>, why: &str) -> OAuthError {
    let mut event = NewEvent::new(EventKind::ClientAuthFailed, Actor::Public, why);
    if let Some(id) = client_id {
        event = event.client(id);
    }
    if let Err(error) = store.record_event(event, now) {
        tracing::warn!(%error, "could not record a client authentication failure");
    }
    OAuthError::invalid_client(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    /// The RFC 6749 §2.3.1 vectors collected by node-oidc-provider.
    #[test]
    fn basic_credentials_are_form_decoded() {
        let parsed = parse_basic(&basic(
            "an%3Aidentifier",
            "some+secure+%26+non-standard+secret",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(parsed.client_id, "an:identifier");
        assert_eq!(parsed.secret, "some secure & non-standard secret");
        let parsed = parse_basic(&basic("+%25%26%2B", "+%25%26%2B"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (parsed.client_id.as_str(), parsed.secret.as_str()),
            (" %&+", " %&+")
        );
        let parsed = parse_basic(&basic("client%2Dbasic", "x")).unwrap().unwrap();
        assert_eq!(parsed.client_id, "client-basic");
        assert!(parse_basic(&basic("foo with %", "foo with $")).is_err());
        let lower = format!("bAsIc {}", STANDARD.encode("id:secret"));
        assert_eq!(parse_basic(&lower).unwrap().unwrap().client_id, "id");
        assert!(parse_basic("Basic !!!").is_err());
        assert!(parse_basic(&format!("Basic {}", STANDARD.encode("no-colon"))).is_err());
        assert_eq!(parse_basic("Bearer abc").unwrap(), None);
    }
}
