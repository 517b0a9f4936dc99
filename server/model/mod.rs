//! Domain types shared by every layer: parsed once at the edge, trusted after.
//!
//! A value of `RedirectUri`, `ScopeName`, `Username` … is valid by construction
//! (parse, don't validate). Nothing here knows about SQL, HTTP or protobuf.

/// One list of variants and their names generates the enum, `ALL`, `as_str`,
/// `parse` and `Display`, so a new variant cannot be left out of a filter or of
/// the parser that reads a stored row back.
macro_rules! named_enum {
    (
        $(#[$meta:meta])* $enum:ident, field $field:literal, unknown $what:literal {
            $($(#[$doc:meta])* $variant:ident => $name:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $enum {
            $($(#[$doc])* $variant,)*
        }

        impl $enum {
            pub const ALL: &'static [$enum] = &[$($enum::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($enum::$variant => $name,)*
                }
            }

            /// One by its name (a filter, a stored row).
            pub fn parse(text: &str) -> Result<Self, $crate::model::Invalid> {
                $enum::ALL
                    .iter()
                    .copied()
                    .find(|named| named.as_str() == text)
                    .ok_or_else(|| {
                        $crate::model::Invalid::new(
                            $field,
                            format!(concat!("unknown ", $what, " {:?}"), text),
                        )
                    })
            }
        }

        impl std::fmt::Display for $enum {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod admin;
mod client;
mod events;
mod family;
mod ids;
mod secrets;

pub use admin::*;
pub use client::*;
pub use events::*;
pub use family::*;
pub use ids::*;
pub use secrets::*;

use std::fmt;

/// A rejected input, naming the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            field,
            message: message.into(),
        }
    }
}

/// Grant types a client may be allowed at /token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

impl GrantType {
    pub const ALL: [GrantType; 2] = [GrantType::AuthorizationCode, GrantType::RefreshToken];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
        }
    }

    pub fn parse(text: &str) -> Result<Self, Invalid> {
        GrantType::ALL
            .into_iter()
            .find(|grant| grant.as_str() == text)
            .ok_or_else(|| {
                Invalid::new(
                    "grant_types",
                    format!("unknown grant type {text:?} (authorization_code or refresh_token)"),
                )
            })
    }
}

/// A scope name: RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeName(String);

impl ScopeName {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        if text.is_empty() {
            return Err(Invalid::new("scope", "scope name must not be empty"));
        }
        if text.len() > 128 {
            return Err(Invalid::new("scope", "scope name longer than 128 bytes"));
        }
        if !text.bytes().all(is_scope_char) {
            return Err(Invalid::new(
                "scope",
                format!(
                    "scope name {text:?} may only hold printable ASCII except space, '\"' and '\\'"
                ),
            ));
        }
        Ok(ScopeName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScopeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_scope_char(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// A set of scopes, kept sorted and free of duplicates; on the wire a
/// space-separated string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<ScopeName>);

impl ScopeSet {
    pub fn new(names: impl IntoIterator<Item = ScopeName>) -> Self {
        let mut names: Vec<ScopeName> = names.into_iter().collect();
        names.sort();
        names.dedup();
        ScopeSet(names)
    }

    /// Parses an OAuth `scope` parameter: scope-tokens separated by single spaces.
    pub fn parse_oauth(text: &str) -> Result<Self, Invalid> {
        let names = text
            .split(' ')
            .map(ScopeName::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ScopeSet::new(names))
    }

    pub fn names(&self) -> &[ScopeName] {
        &self.0
    }

    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.0.iter().all(|name| other.0.contains(name))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|scope| scope.as_str() == name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined: Vec<&str> = self.0.iter().map(ScopeName::as_str).collect();
        f.write_str(&joined.join(" "))
    }
}

/// A registered redirect URI, kept as the exact string the operator gave:
/// /authorize and /token compare it byte for byte, never a re-serialisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Registration rules: absolute, no fragment, no wildcard; `https`, `http` only
    /// for loopback hosts, custom schemes only for public (native) clients.
    pub fn parse(text: &str, public_client: bool) -> Result<Self, Invalid> {
        let field = "redirect_uris";
        if text.len() > 2048 {
            return Err(Invalid::new(field, "redirect URI longer than 2048 bytes"));
        }
        if text.contains('*') {
            return Err(Invalid::new(
                field,
                format!("{text:?}: wildcards are not allowed"),
            ));
        }
        if text.contains('#') {
            return Err(Invalid::new(
                field,
                format!("{text:?}: a fragment is not allowed"),
            ));
        }
        if text.bytes().any(|byte| byte <= b' ' || byte >= 0x7f) {
            return Err(Invalid::new(
                field,
                format!(
                    "{text:?}: spaces, control and non-ASCII characters must be percent-encoded"
                ),
            ));
        }
        let parsed = url::Url::parse(text).map_err(|error| {
            Invalid::new(field, format!("{text:?} is not an absolute URI: {error}"))
        })?;
        match parsed.scheme() {
            "https" if parsed.host_str().is_none_or(str::is_empty) => {
                return Err(Invalid::new(
                    field,
                    format!("{text:?}: https URI needs a host"),
                ));
            }
            "https" => {}
            "http" if !matches!(parsed.host_str(), Some("127.0.0.1" | "[::1]" | "localhost")) => {
                return Err(Invalid::new(
                    field,
                    format!("{text:?}: http is only allowed for 127.0.0.1, [::1] and localhost; use https"),
                ));
            }
            "http" => {}
            "javascript" | "data" | "file" | "vbscript" | "about" | "blob" => {
                return Err(Invalid::new(field, format!("{text:?}: scheme not allowed")));
            }
            _ if !public_client => {
                return Err(Invalid::new(
                    field,
                    format!("{text:?}: custom schemes are only allowed for public clients"),
                ));
            }
            _ => {}
        }
        Ok(RedirectUri(text.to_owned()))
    }

    /// A URI read back from the store, which only ever holds parsed ones.
    pub fn from_trusted(text: String) -> Self {
        RedirectUri(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A login name: 1–64 of letters, digits, `.`, `_`, `-`, `@`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
        if text.is_empty() || text.len() > 64 || !text.chars().all(allowed) {
            return Err(Invalid::new(
                "username",
                format!("{text:?}: use 1-64 letters, digits, '.', '_', '-' or '@'"),
            ));
        }
        Ok(Username(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password as the operator typed it. `Debug` never shows it.
pub struct Password(String);

impl Password {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let length = text.chars().count();
        if length < 8 {
            return Err(Invalid::new("password", "at least 8 characters"));
        }
        if length > 1024 {
            return Err(Invalid::new("password", "at most 1024 characters"));
        }
        Ok(Password(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A client's display name: non-empty, at most 200 characters, no control characters.
pub fn parse_client_name(text: &str) -> Result<String, Invalid> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new("name", "must not be empty"));
    }
    if trimmed.chars().count() > 200 || trimmed.chars().any(char::is_control) {
        return Err(Invalid::new(
            "name",
            "at most 200 characters, no control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A catalog scope with the sentence users see on the consent page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub name: ScopeName,
    pub description: String,
}

/// A local user who logs in at /authorize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Token lifetimes in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub code: i64,
    pub access: i64,
    pub refresh_idle: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            code: 60,
            access: 3600,
            refresh_idle: 30 * 24 * 3600,
        }
    }
}

/// Server-wide figures for the status call.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub clients: i64,
    pub users: i64,
    pub active_families: i64,
    pub database_bytes: i64,
    pub maintenance: bool,
    pub security_events_last_hour: i64,
    pub oldest_event_time: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        assert!(RedirectUri::parse("https://partner.example/cb", false).is_ok());
        assert!(RedirectUri::parse("http://127.0.0.1:9/cb", false).is_ok());
        assert!(RedirectUri::parse("http://localhost/cb", false).is_ok());
        assert!(RedirectUri::parse("http://[::1]:8000/cb", false).is_ok());
        assert!(RedirectUri::parse("com.example.app:/cb", true).is_ok());
        for bad in [
            "https://x/cb#f",
            "http://x/cb",
            "https://*.x/cb",
            "/cb",
            "cb",
            "javascript:alert(1)",
        ] {
            assert!(RedirectUri::parse(bad, true).is_err(), "{bad}");
        }
        assert!(RedirectUri::parse("com.example.app:/cb", false).is_err());
    }

    #[test]
    fn scope_names_follow_rfc6749() {
        assert!(ScopeName::parse("profile").is_ok());
        assert!(ScopeName::parse("read:all").is_ok());
        for bad in ["", "a b", "read\"", "back\\slash", "caf\u{e9}"] {
            assert!(ScopeName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ScopeSet::parse_oauth("a  b").is_err());
        assert_eq!(ScopeSet::parse_oauth("b a b").unwrap().to_string(), "a b");
    }

    #[test]
    fn retry_windows_are_zero_to_sixty_seconds() {
        assert!(RetryWindow::parse(0).unwrap().is_strict());
        assert_eq!(RetryWindow::parse(60).unwrap().secs(), 60);
        for bad in [-1, 61, 256, i64::MAX] {
            assert!(RetryWindow::parse(bad).is_err(), "{bad}");
        }
    }
}
