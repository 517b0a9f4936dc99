//! /authorize request validation in SPEC order, and the redirect it ends in.

use super::error::{ErrorCode, OAuthError};
use super::params::Params;
use crate::model::{Client, ClientId, GrantType, ScopeSet};
use crate::store::Store;

/// A validated authorization request, held server-side while the user logs in
/// and consents.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scope: ScopeSet,
    pub code_challenge: String,
    pub prompt: Prompt,
    /// Seconds since the user last signed in beyond which they must sign in again.
    pub max_age: Option<i64>,
}

/// The `prompt` parameter (OpenID Connect Core §3.1.2.1): `none`, or any of
/// `login` and `consent`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// Never show a page: answer `login_required` or `consent_required` instead.
    pub none: bool,
    /// Sign in again even with a live session.
    pub login: bool,
    /// Show the consent page even if consent was remembered.
    pub consent: bool,
}

impl Prompt {
    fn parse(text: &str) -> Result<Self, &'static str> {
        let mut prompt = Prompt::default();
        for value in text.split(' ') {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                _ => return Err("prompt must be none, or login and/or consent"),
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return Err("prompt=none cannot be combined with other values");
        }
        Ok(prompt)
    }
}

/// Why /authorize refused.
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// Client or redirect URI cannot be trusted: an HTML page, never a redirect.
    Page(String),
    /// Everything else goes back to the client's redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

/// Validates an authorization request in SPEC order.
pub fn validate(
    store: &Store,
    params: &Params,
    maintenance: bool,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = |message: &str| AuthorizeError::Page(message.to_owned());
    let client_id = match params.get("client_id") {
        Err(_) => return Err(page("client_id was sent more than once.")),
        Ok(None) => return Err(page("The request has no client_id.")),
        // Text that cannot be a client id names no client.
        Ok(Some(id)) => ClientId::parse(id).map_err(|_| page("Unknown client_id."))?,
    };
    let client = match store.client_for_authorization(&client_id) {
        Ok(client) if !client.disabled => client,
        Ok(_) => return Err(page("This client is disabled.")),
        Err(crate::store::StoreError::NotFound { .. }) => return Err(page("Unknown client_id.")),
        Err(error) => {
            tracing::error!(%error, "authorize: client lookup failed");
            return Err(page(
                "The server could not look up the client; retry later.",
            ));
        }
    };
    let redirect_uri = match params.get("redirect_uri") {
        Err(_) => return Err(page("redirect_uri was sent more than once.")),
        Ok(None) => return Err(page("The request has no redirect_uri.")),
        Ok(Some(uri)) => uri,
    };
    if !is_registered(&client, redirect_uri) {
        return Err(page(
            "redirect_uri does not exactly match a redirect URI registered for this client.",
        ));
    }
    let redirect_uri = redirect_uri.to_owned();
    // A duplicated state is not echoed: which copy would be the client's?
    let state = params.get("state").ok().flatten().map(str::to_owned);
    let fail = |error: OAuthError| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
    };
    if maintenance {
        return Err(fail(OAuthError::temporarily_unavailable()));
    }
    let mut values = [None; 7];
    for (slot, name) in values.iter_mut().zip([
        "response_type",
        "scope",
        "code_challenge",
        "code_challenge_method",
        "state",
        "prompt",
        "max_age",
    ]) {
        *slot = params.get(name).map_err(|_| {
            fail(OAuthError::invalid_request(format!(
                "{name} sent more than once"
            )))
        })?;
    }
    let [response_type, scope, code_challenge, method, _, prompt, max_age] = values;
    let prompt = match prompt {
        None => Prompt::default(),
        Some(text) => Prompt::parse(text).map_err(|why| fail(OAuthError::invalid_request(why)))?,
    };
    let max_age = match max_age {
        None => None,
        Some(text) => Some(
            text.parse::<u32>()
                .map(i64::from)
                .map_err(|_| fail(OAuthError::invalid_request("max_age must be whole seconds")))?,
        ),
    };
    let response_type =
        response_type.ok_or_else(|| fail(OAuthError::invalid_request("response_type required")))?;
    let code_challenge = code_challenge.ok_or_else(|| {
        fail(OAuthError::invalid_request(
            "code_challenge required: PKCE with S256 is mandatory",
        ))
    })?;
    if !is_pkce_value(code_challenge) {
        return Err(fail(OAuthError::invalid_request(
            "code_challenge must be 43-128 characters of A-Z a-z 0-9 - . _ ~",
        )));
    }
    match method {
        Some("S256") => {}
        None => {
            return Err(fail(OAuthError::invalid_request(
                "code_challenge_method required: S256",
            )))
        }
        Some(_) => {
            return Err(fail(OAuthError::invalid_request(
                "code_challenge_method must be S256",
            )))
        }
    }
    if response_type != "code" {
        return Err(fail(OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            "only response_type=code is supported",
        )));
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(fail(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not allowed the authorization_code grant type",
        )));
    }
    let scope = match scope {
        None => client.scopes.clone(),
        Some(text) => {
            let requested = ScopeSet::parse_oauth(text)
                .map_err(|_| fail(OAuthError::invalid_scope("malformed scope")))?;
            if !requested.is_subset_of(&client.scopes) {
                return Err(fail(OAuthError::invalid_scope(
                    "a requested scope is not allowed for this client",
                )));
            }
            requested
        }
    };
    Ok(AuthorizationRequest {
        client,
        redirect_uri,
        state,
        scope,
        code_challenge: code_challenge.to_owned(),
        prompt,
        max_age,
    })
}

/// Simple string comparison with the registered URIs (RFC 6749 §3.1.2.3,
/// RFC 9700 §4.1.3): never a parsed or normalised form. One exception, RFC 8252
/// §7.3: a public (native) client's loopback IP redirect URI registered without
/// a port matches that URI with any port.
pub fn is_registered(client: &Client, presented: &str) -> bool {
    client.redirect_uris.iter().any(|registered| {
        let registered = registered.as_str();
        registered.as_bytes() == presented.as_bytes()
            || (client.public && loopback_with_any_port(registered, presented))
    })
}

/// `http://127.0.0.1/cb` or `http://[::1]/cb` (no port) against the same URI
/// with a port 1–65535 inserted, and every other byte equal.
fn loopback_with_any_port(registered: &str, presented: &str) -> bool {
    ["http://127.0.0.1", "http://[::1]"].iter().any(|host| {
        let (Some(path), Some(rest)) =
            (registered.strip_prefix(host), presented.strip_prefix(host))
        else {
            return false;
        };
        let Some(rest) = rest.strip_prefix(':') else {
            return false;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let port_ok =
            (1..=5).contains(&digits) && rest[..digits].parse::<u16>().is_ok_and(|p| p > 0);
        path.starts_with('/') && port_ok && &rest[digits..] == path
    })
}

/// RFC 7636 §4.1/§4.2: 43–128 characters of `[A-Za-z0-9-._~]`.
pub fn is_pkce_value(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The redirect URI with `extra` parameters appended, then `state` and `iss`;
/// a query already in the registered URI is kept.
pub fn redirect_location(
    redirect_uri: &str,
    extra: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in extra {
        query.append_pair(name, value);
    }
    if let Some(state) = state {
        query.append_pair("state", state);
    }
    query.append_pair("iss", issuer);
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{separator}{}", query.finish())
}

/// The error redirect for `error`.
pub fn error_location(
    redirect_uri: &str,
    error: &OAuthError,
    state: Option<&str>,
    issuer: &str,
) -> String {
    let description = error.description();
    redirect_location(
        redirect_uri,
        &[
            ("error", error.code.as_str()),
            ("error_description", &description),
        ],
        state,
        issuer,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_values_follow_rfc7636() {
        assert!(is_pkce_value(&"f".repeat(43)));
        assert!(is_pkce_value(&"f".repeat(128)));
        assert!(!is_pkce_value(&"f".repeat(42)));
        assert!(!is_pkce_value(&"f".repeat(129)));
        assert!(!is_pkce_value(&format!("{}&", "f".repeat(43))));
    }

    #[test]
    fn redirects_keep_the_registered_query() {
        let location = redirect_location(
            "https://p.example/cb?tenant=a",
            &[("code", "c")],
            Some("a b"),
            "https://as",
        );
        assert_eq!(
            location,
            "https://p.example/cb?tenant=a&code=c&state=a+b&iss=https%3A%2F%2Fas"
        );
    }
}
