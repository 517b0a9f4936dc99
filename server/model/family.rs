//! Token families as the admin plane sees them, and why one was revoked.

named_enum! {
    /// Why a family was revoked (`families.revoked_reason`).
    RevokeReason, field "revoked_reason", unknown "revoke reason" {
        Admin => "admin",
        RefreshReplay => "refresh_replay",
        CodeReuse => "code_reuse",
        ClientDisabled => "client_disabled",
        UserDisabled => "user_disabled",
        RevokeEndpoint => "revoke_endpoint",
        /// The database was restored from a backup: what was live in the backup
        /// may have been rotated since, so it must not mint tokens again.
        Restored => "restored",
    }
}

/// One token family as listed by the admin plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub id: super::FamilyId,
    pub client_id: super::ClientId,
    pub client_name: String,
    pub username: String,
    pub scope: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub rotations: i64,
    pub revoked: Option<Revocation>,
}

/// When, why and from which plane (`admin` or `public`) a family was revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub at: i64,
    pub reason: RevokeReason,
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
    pub client_id: Option<super::ClientId>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_from_its_name() {
        for reason in RevokeReason::ALL {
            assert_eq!(RevokeReason::parse(reason.as_str()), Ok(*reason));
        }
        assert!(RevokeReason::ALL.contains(&RevokeReason::Restored));
        assert!(RevokeReason::parse("no_such_reason").is_err());
        assert!(RevokeReason::parse("").is_err());
    }
}
