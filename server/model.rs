//! Domain types shared by every layer: parsed once at the edge, trusted after.
//!
//! A value of `RedirectUri`, `ScopeName`, `Username` … is valid by construction
//! (parse, don't validate). Nothing here knows about SQL, HTTP or protobuf.

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

/// How long after a rotation a client may present the rotated refresh token
/// again and get the same answer (a retry whose response was lost): 0–60 s,
/// 0 (the default) for strict rotation, where any reuse is a replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetryWindow(u8);

impl RetryWindow {
    pub const MAX_SECS: i64 = 60;
    pub const STRICT: RetryWindow = RetryWindow(0);

    pub fn parse(secs: i64) -> Result<Self, Invalid> {
        match u8::try_from(secs) {
            Ok(secs) if i64::from(secs) <= Self::MAX_SECS => Ok(RetryWindow(secs)),
            _ => Err(Invalid::new(
                "refresh_retry_window_secs",
                format!("{secs}: use 0 (strict) to {} seconds", Self::MAX_SECS),
            )),
        }
    }

    /// A window read back from the store, which only ever holds parsed ones.
    pub fn from_trusted(secs: i64) -> Self {
        RetryWindow::parse(secs).unwrap_or(RetryWindow::STRICT)
    }

    pub fn secs(self) -> i64 {
        i64::from(self.0)
    }

    pub fn is_strict(self) -> bool {
        self.0 == 0
    }
}

/// A registered partner application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub scopes: ScopeSet,
    pub grant_types: Vec<GrantType>,
    pub public: bool,
    pub disabled: bool,
    pub refresh_retry_window: RetryWindow,
    /// May introspect any client's tokens, not only its own.
    pub resource_server: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub active_families: i64,
}

impl Client {
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The registration as it stands, to change a field of it.
    pub fn spec(&self) -> ClientSpec {
        ClientSpec {
            name: self.name.clone(),
            redirect_uris: self.redirect_uris.clone(),
            scopes: self.scopes.clone(),
            grant_types: self.grant_types.clone(),
            public: self.public,
            refresh_retry_window: self.refresh_retry_window,
            resource_server: self.resource_server,
        }
    }
}

/// A validated client registration or full replacement.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub scopes: ScopeSet,
    pub grant_types: Vec<GrantType>,
    pub public: bool,
    /// Strict unless set after parsing (it stands apart from the lists checked here).
    pub refresh_retry_window: RetryWindow,
    /// Not a resource server unless set after parsing.
    pub resource_server: bool,
}

impl ClientSpec {
    /// Checks a registration as a whole: at least one redirect URI, unique grant types.
    pub fn parse(
        name: &str,
        redirect_uris: &[String],
        scopes: &[String],
        grant_types: &[GrantType],
        public: bool,
    ) -> Result<Self, Invalid> {
        let name = parse_client_name(name)?;
        if redirect_uris.is_empty() {
            return Err(Invalid::new(
                "redirect_uris",
                "at least one redirect URI is required",
            ));
        }
        if redirect_uris.len() > 32 {
            return Err(Invalid::new("redirect_uris", "at most 32 redirect URIs"));
        }
        let mut uris = Vec::new();
        for text in redirect_uris {
            let uri = RedirectUri::parse(text, public)?;
            if !uris.contains(&uri) {
                uris.push(uri);
            }
        }
        let scopes = ScopeSet::new(
            scopes
                .iter()
                .map(|text| ScopeName::parse(text).map_err(|e| Invalid::new("scopes", e.message)))
                .collect::<Result<Vec<_>, _>>()?,
        );
        let mut grant_types = grant_types.to_vec();
        grant_types.sort();
        grant_types.dedup();
        Ok(ClientSpec {
            name,
            redirect_uris: uris,
            scopes,
            grant_types,
            public,
            refresh_retry_window: RetryWindow::STRICT,
            resource_server: false,
        })
    }
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

/// Why a family was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    Admin,
    RefreshReplay,
    CodeReuse,
    ClientDisabled,
    UserDisabled,
    RevokeEndpoint,
    /// The database was restored from a backup: what was live in the backup
    /// may have been rotated since, so it must not mint tokens again.
    Restored,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Admin => "admin",
            RevokeReason::RefreshReplay => "refresh_replay",
            RevokeReason::CodeReuse => "code_reuse",
            RevokeReason::ClientDisabled => "client_disabled",
            RevokeReason::UserDisabled => "user_disabled",
            RevokeReason::RevokeEndpoint => "revoke_endpoint",
            RevokeReason::Restored => "restored",
        }
    }
}

/// Who made a change: the admin plane or the public plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Admin,
    Public,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Admin => "admin",
            Actor::Public => "public",
        }
    }
}

/// One token family as listed by the admin plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub username: String,
    pub scope: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub rotations: i64,
    pub revoked: Option<Revocation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revocation {
    pub at: i64,
    pub reason: String,
    pub by: String,
}

/// One link of a family's lineage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub kind: &'static str,
    pub generation: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub status: &'static str,
}

/// What a family filter selects.
#[derive(Debug, Clone, Default)]
pub struct FamilyFilter {
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub active_only: bool,
}

/// Counts of a (possibly dry-run) bulk revocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevokeCount {
    pub families: i64,
    pub tokens: i64,
    pub principals: i64,
}

/// Event kinds; security kinds are highlighted by the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    ClientCreated,
    ClientUpdated,
    ClientDisabled,
    ClientEnabled,
    ClientDeleted,
    SecretRotated,
    ScopeAdded,
    ScopeRemoved,
    UserCreated,
    UserUpdated,
    UserDisabled,
    UserEnabled,
    FamilyRevoked,
    RefreshReplay,
    /// A lost answer retried within the client's window: the same pair again.
    RefreshRetried,
    CodeReuse,
    ClientAuthFailed,
    LoginFailed,
    AdminAuthFailed,
    MaintenanceOn,
    MaintenanceOff,
    DatabaseRestored,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        use EventKind::*;
        match self {
            ClientCreated => "client_created",
            ClientUpdated => "client_updated",
            ClientDisabled => "client_disabled",
            ClientEnabled => "client_enabled",
            ClientDeleted => "client_deleted",
            SecretRotated => "secret_rotated",
            ScopeAdded => "scope_added",
            ScopeRemoved => "scope_removed",
            UserCreated => "user_created",
            UserUpdated => "user_updated",
            UserDisabled => "user_disabled",
            UserEnabled => "user_enabled",
            FamilyRevoked => "family_revoked",
            RefreshReplay => "refresh_replay",
            RefreshRetried => "refresh_retried",
            CodeReuse => "code_reuse",
            ClientAuthFailed => "client_auth_failed",
            LoginFailed => "login_failed",
            AdminAuthFailed => "admin_auth_failed",
            MaintenanceOn => "maintenance_on",
            MaintenanceOff => "maintenance_off",
            DatabaseRestored => "database_restored",
        }
    }

    /// Security events: what an incident responder watches for.
    pub fn is_security(kind: &str) -> bool {
        matches!(
            kind,
            "family_revoked"
                | "refresh_replay"
                | "code_reuse"
                | "client_auth_failed"
                | "login_failed"
                | "admin_auth_failed"
                | "database_restored"
        )
    }
}

/// An event about to be recorded.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventKind,
    pub actor: Actor,
    pub client_id: Option<String>,
    pub family_id: Option<String>,
    pub username: Option<String>,
    pub detail: String,
    /// How many occurrences this row stands for (aggregated failures); 1 otherwise.
    pub count: i64,
    /// The client address it came from, when the public plane saw one.
    pub source: Option<std::net::IpAddr>,
}

impl NewEvent {
    pub fn new(kind: EventKind, actor: Actor, detail: impl Into<String>) -> Self {
        NewEvent {
            kind,
            actor,
            client_id: None,
            family_id: None,
            username: None,
            detail: detail.into(),
            count: 1,
            source: None,
        }
    }

    pub fn count(mut self, count: i64) -> Self {
        self.count = count;
        self
    }

    pub fn source(mut self, address: std::net::IpAddr) -> Self {
        self.source = Some(address);
        self
    }

    pub fn client(mut self, id: &str) -> Self {
        self.client_id = Some(id.to_owned());
        self
    }

    pub fn family(mut self, id: &str) -> Self {
        self.family_id = Some(id.to_owned());
        self
    }

    pub fn user(mut self, name: &str) -> Self {
        self.username = Some(name.to_owned());
        self
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub time: i64,
    pub kind: String,
    pub actor: String,
    pub client_id: String,
    pub family_id: String,
    pub username: String,
    pub detail: String,
    pub count: i64,
    /// The client address, or empty.
    pub source: String,
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
