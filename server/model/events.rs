//! The event log: kinds, actors, events to record and recorded ones.

/// Who made a change: an admin identity, or the public plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An authenticated admin identity acting through one admin RPC.
    Admin(AdminActor),
    /// The admin plane before any identity was established (a refused token).
    Anonymous,
    /// Someone holding the data directory itself, outside the admin plane
    /// (`gatehouse restore`, `gatehouse bench`).
    Local,
    /// The server on its own schedule (the hourly purge ending an overlap).
    Server,
    Public,
}

/// The acting admin identity and the RPC it called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminActor {
    pub name: String,
    /// The gRPC method, e.g. `UpdateClient`.
    pub rpc: &'static str,
}

impl Actor {
    pub fn admin(name: &str, rpc: &'static str) -> Self {
        Actor::Admin(AdminActor {
            name: name.to_owned(),
            rpc,
        })
    }

    /// The name events show: the identity's name, `anonymous`, `local`, `server` or `public`.
    pub fn name(&self) -> &str {
        match self {
            Actor::Admin(actor) => &actor.name,
            Actor::Anonymous => "anonymous",
            Actor::Local => "local",
            Actor::Server => "server",
            Actor::Public => "public",
        }
    }

    /// The plane a change came from, `admin` or `public` (a family's `revoked_by`).
    pub fn plane(&self) -> &'static str {
        match self {
            Actor::Public => "public",
            Actor::Admin(_) | Actor::Anonymous | Actor::Local | Actor::Server => "admin",
        }
    }

    /// The admin RPC, or empty.
    pub fn rpc(&self) -> &'static str {
        match self {
            Actor::Admin(actor) => actor.rpc,
            _ => "",
        }
    }
}

/// One changed field of an update: before and after, as text. Never a secret:
/// a changed password is recorded as changed, without either value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

impl FieldChange {
    pub fn new(field: &str, before: impl Into<String>, after: impl Into<String>) -> Self {
        FieldChange {
            field: field.to_owned(),
            before: before.into(),
            after: after.into(),
        }
    }

    /// Adds a change to `changes` only when the values differ.
    pub fn push_if_changed(
        changes: &mut Vec<FieldChange>,
        field: &str,
        before: impl Into<String>,
        after: impl Into<String>,
    ) {
        let (before, after) = (before.into(), after.into());
        if before != after {
            changes.push(FieldChange::new(field, before, after));
        }
    }
}

named_enum! {
    /// Event kinds; security kinds are highlighted by the console.
    EventKind, field "kind", unknown "event kind" {
        ClientCreated => "client_created",
        ClientUpdated => "client_updated",
        ClientDisabled => "client_disabled",
        ClientEnabled => "client_enabled",
        ClientDeleted => "client_deleted",
        SecretRotated => "secret_rotated",
        /// An old secret reached the end of its overlap (recorded by the purge).
        SecretExpired => "secret_expired",
        /// A secret ended by `revoke-secret`.
        SecretRevoked => "secret_revoked",
        /// A secret authenticated its client for the first time.
        SecretFirstUsed => "secret_first_used",
        ScopeAdded => "scope_added",
        /// An existing scope's description changed.
        ScopeUpdated => "scope_updated",
        ScopeRemoved => "scope_removed",
        UserCreated => "user_created",
        UserUpdated => "user_updated",
        UserDisabled => "user_disabled",
        UserEnabled => "user_enabled",
        FamilyRevoked => "family_revoked",
        RefreshReplay => "refresh_replay",
        /// A lost answer retried within the client's window: the same pair again.
        RefreshRetried => "refresh_retried",
        CodeReuse => "code_reuse",
        ClientAuthFailed => "client_auth_failed",
        LoginFailed => "login_failed",
        AdminAuthFailed => "admin_auth_failed",
        MaintenanceOn => "maintenance_on",
        MaintenanceOff => "maintenance_off",
        DatabaseRestored => "database_restored",
        AdminTokenCreated => "admin_token_created",
        AdminTokenRevoked => "admin_token_revoked",
    }
}

impl EventKind {
    /// Security events: what an incident responder watches for.
    pub fn is_security(self) -> bool {
        use EventKind::*;
        matches!(
            self,
            FamilyRevoked
                | RefreshReplay
                | CodeReuse
                | ClientAuthFailed
                | LoginFailed
                | AdminAuthFailed
                | DatabaseRestored
        )
    }
}

/// An event about to be recorded: the one builder for every event row
/// (`NewEvent::new(kind, actor, detail)`, then the target and the changes).
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventKind,
    pub actor: Actor,
    pub client_id: Option<super::ClientId>,
    pub family_id: Option<super::FamilyId>,
    pub username: Option<String>,
    pub detail: String,
    /// How many occurrences this row stands for (aggregated failures); 1 otherwise.
    pub count: i64,
    /// The client address it came from, when the public plane saw one.
    pub source: Option<std::net::IpAddr>,
    /// For updates: the fields that changed, before and after.
    pub changes: Vec<FieldChange>,
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
            changes: Vec::new(),
        }
    }

    pub fn changes(mut self, changes: Vec<FieldChange>) -> Self {
        self.changes = changes;
        self
    }

    pub fn count(mut self, count: i64) -> Self {
        self.count = count;
        self
    }

    pub fn source(mut self, address: std::net::IpAddr) -> Self {
        self.source = Some(address);
        self
    }

    pub fn client(mut self, id: &super::ClientId) -> Self {
        self.client_id = Some(id.clone());
        self
    }

    pub fn family(mut self, id: &super::FamilyId) -> Self {
        self.family_id = Some(id.clone());
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
    pub kind: EventKind,
    pub actor: String,
    pub client_id: Option<super::ClientId>,
    pub family_id: Option<super::FamilyId>,
    pub username: String,
    pub detail: String,
    pub count: i64,
    /// The client address, or empty.
    pub source: String,
    /// The admin RPC that made the change, or empty.
    pub rpc: String,
    pub changes: Vec<FieldChange>,
}

/// Which events a listing shows; every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub security_only: bool,
    /// The actor's name: an admin identity, `public`, `anonymous` or `local`.
    pub actor: Option<String>,
    pub kind: Option<EventKind>,
    pub client_id: Option<super::ClientId>,
    /// Unix seconds: only events at or after this time.
    pub since: Option<i64>,
}

impl EventFilter {
    /// Security events only, nothing else filtered.
    pub fn security() -> Self {
        EventFilter {
            security_only: true,
            ..EventFilter::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Ok(*kind));
        }
        assert!(EventKind::ALL.contains(&EventKind::SecretFirstUsed));
        assert!(EventKind::parse("no_such_kind").is_err());
    }
}
