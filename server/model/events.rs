//! The event log: kinds, actors, events to record and recorded ones.

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

/// Event kinds; security kinds are highlighted by the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    ClientCreated,
    ClientUpdated,
    ClientDisabled,
    ClientEnabled,
    ClientDeleted,
    SecretRotated,
    /// An old secret reached the end of its overlap (recorded by the purge).
    SecretExpired,
    /// A secret ended by `revoke-secret`.
    SecretRevoked,
    /// A secret authenticated its client for the first time.
    SecretFirstUsed,
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
            SecretExpired => "secret_expired",
            SecretRevoked => "secret_revoked",
            SecretFirstUsed => "secret_first_used",
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
