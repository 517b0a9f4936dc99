//! Token families as the admin plane sees them, and why one was revoked.

/// One list of every reason and its stored name: the enum, [`RevokeReason::ALL`]
/// and [`RevokeReason::as_str`] are generated from it, so a new reason cannot be
/// left out of the parser that reads a family back.
macro_rules! revoke_reasons {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Why a family was revoked.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RevokeReason {
            $($(#[$doc])* $variant,)*
        }

        impl RevokeReason {
            pub const ALL: &'static [RevokeReason] = &[$(RevokeReason::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(RevokeReason::$variant => $name,)*
                }
            }
        }
    };
}

revoke_reasons! {
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

impl RevokeReason {
    /// A reason by its stored name (`families.revoked_reason`).
    pub fn parse(text: &str) -> Result<Self, super::Invalid> {
        RevokeReason::ALL
            .iter()
            .copied()
            .find(|reason| reason.as_str() == text)
            .ok_or_else(|| {
                super::Invalid::new("revoked_reason", format!("unknown revoke reason {text:?}"))
            })
    }
}

impl std::fmt::Display for RevokeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
