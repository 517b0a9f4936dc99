//! Token families as the admin plane sees them, and why one was revoked.

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
