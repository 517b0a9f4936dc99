//! Client authentication at /token, /revoke and /introspect (RFC 6749 §2.3).
//!
//! Confidential clients must use HTTP Basic, with id and secret form-encoded
//! before base64 (§2.3.1); public clients send `client_id` in the body and no
//! secret. Every failure, a malformed Basic header included, is
//! `invalid_client` (401 with a Basic challenge) and is counted in the failure
//! tally under the client (only if it exists) and the caller's address.
//!
//! A confidential client may have two live secrets (during a rotation's
//! overlap): the presented secret is hashed once and compared in constant
//! time with every live hash, without stopping at a match. A successful use
//! is noted for the secret's last use (written off the request path).

use super::error::OAuthError;
use super::params::{decode, Params};
use crate::model::{Client, ClientId, EventKind, SecretId};
use crate::secret::TokenHash;
use crate::secret_uses::SecretUses;
use crate::store::{Store, StoredSecret};
use crate::tally::{Failure, FailureTally};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::net::IpAddr;
use std::sync::Arc;

/// What a caller presented to authenticate, and where it came from.
#[derive(Clone, Copy)]
pub struct Presented<'a> {
    /// The `Authorization` header, if one was sent.
    pub authorization: Option<&'a str>,
    /// The client's address (behind a trusted proxy: the forwarded one).
    pub source: IpAddr,
    pub tally: &'a FailureTally,
    /// Where a successful secret's use is noted.
    pub secret_uses: &'a SecretUses,
}

/// Credentials from a Basic header: (client_id, secret), as sent; the id is
/// parsed by [`authenticate`], which answers one that cannot be an id as an
/// unknown client.
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
/// first `:`, then form-decode each half. `Ok(None)` for another scheme; the
/// error says what is malformed.
pub fn parse_basic(header: &str) -> Result<Option<BasicCredentials>, &'static str> {
    let Some((scheme, rest)) = header.trim().split_once(' ') else {
        return if header.trim().eq_ignore_ascii_case("basic") {
            Err("empty HTTP Basic credentials")
        } else {
            Ok(None)
        };
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed = "malformed HTTP Basic credentials (RFC 6749 2.3.1)";
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| malformed)?;
    let at = decoded
        .iter()
        .position(|byte| *byte == b':')
        .ok_or(malformed)?;
    let client_id = decode(&decoded[..at]).map_err(|_| malformed)?;
    let secret = decode(&decoded[at + 1..]).map_err(|_| malformed)?;
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

/// Authenticates the calling client; counts a failure in the tally.
pub fn authenticate(
    store: &Store,
    now: i64,
    presented: &Presented,
    params: &Params,
    accept: Accept,
) -> Result<Arc<Client>, OAuthError> {
    let fail = |client_id: Option<&ClientId>, why: &'static str| {
        presented.tally.note(
            now,
            Failure {
                kind: EventKind::ClientAuthFailed,
                client_id,
                source: presented.source,
                reason: why,
            },
        );
        OAuthError::invalid_client(why)
    };
    let basic = match presented.authorization.map(parse_basic) {
        None => None,
        Some(Ok(Some(basic))) => Some(basic),
        Some(Ok(None)) => {
            return Err(fail(
                None,
                "unsupported authentication scheme; use HTTP Basic",
            ))
        }
        Some(Err(malformed)) => return Err(fail(None, malformed)),
    };
    let body_id = params
        .get("client_id")
        .map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    let body_secret = params.contains("client_secret");
    let claimed = match (&basic, body_id) {
        (Some(basic), _) => basic.client_id.as_str(),
        (None, Some(id)) => id,
        (None, None) => {
            return Err(fail(
                None,
                "client authentication required: HTTP Basic, or client_id for public clients",
            ))
        }
    };
    let Ok(claimed) = ClientId::parse(claimed) else {
        return Err(fail(None, "unknown client"));
    };
    let Some(credentials) = store.client_credentials(&claimed)? else {
        return Err(fail(None, "unknown client"));
    };
    let client = credentials.client.clone();
    let known = Some(&client.id);
    match &basic {
        Some(basic) => {
            if body_secret {
                return Err(fail(
                    known,
                    "credentials sent both in HTTP Basic and in the body",
                ));
            }
            if body_id.is_some_and(|id| id != basic.client_id) {
                return Err(fail(known, "client_id in the body differs from HTTP Basic"));
            }
            if client.public {
                return Err(fail(
                    known,
                    "public clients send client_id in the body and no secret",
                ));
            }
            let Some(secret_id) = matching_secret(&basic.secret, &credentials.secrets, now) else {
                return Err(fail(known, "wrong client secret"));
            };
            if !client.disabled {
                presented
                    .secret_uses
                    .note(&secret_id, now, presented.source);
            }
        }
        None => {
            if !client.public {
                return Err(fail(
                    known,
                    "confidential clients must authenticate with HTTP Basic",
                ));
            }
            if body_secret {
                return Err(fail(known, "public clients must not send a secret"));
            }
        }
    }
    if client.disabled {
        return Err(fail(known, "client is disabled"));
    }
    if accept == Accept::ConfidentialOnly && client.public {
        return Err(fail(known, "only confidential clients may introspect"));
    }
    Ok(client)
}

/// The live secret `presented` is, if any. Hashes it once and compares with
/// every live hash in constant time, visiting all of them whichever matches.
pub fn matching_secret(presented: &str, secrets: &[StoredSecret], now: i64) -> Option<SecretId> {
    let hash = TokenHash::of(presented);
    let mut matched = None;
    for secret in secrets {
        let equal = hash.matches(&secret.hash);
        if equal && secret.is_live(now) {
            matched = Some(secret.id.clone());
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(secret: &str, expires_at: Option<i64>) -> StoredSecret {
        StoredSecret {
            id: SecretId::generate(),
            hash: TokenHash::of(secret).0.to_vec(),
            expires_at,
        }
    }

    #[test]
    fn either_live_secret_matches_and_an_expired_one_does_not() {
        let secrets = [stored("old", Some(100)), stored("new", None)];
        assert_eq!(
            matching_secret("old", &secrets, 99),
            Some(secrets[0].id.clone())
        );
        assert_eq!(matching_secret("old", &secrets, 100), None, "ends at 100");
        assert_eq!(
            matching_secret("new", &secrets, 1_000),
            Some(secrets[1].id.clone())
        );
        assert_eq!(matching_secret("other", &secrets, 0), None);
        assert_eq!(matching_secret("new", &[], 0), None);
    }

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
