//! Who the console is signed in as (asked with `WhoAmI` at connect), and what
//! that role may not do: keys beyond it are refused with the reason and shown
//! disabled in the help, never hidden. The server checks again on every call.

use gatehouse::model::Role;
use gatehouse::proto;

/// The console's admin identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub role: Role,
    /// Unix seconds; 0 never expires.
    pub expires_at: i64,
}

impl Identity {
    /// The identity the server named; `None` for a role this console does not know.
    pub fn from_proto(identity: proto::AdminIdentity) -> Option<Self> {
        let role = match proto::AdminRole::try_from(identity.role).ok()? {
            proto::AdminRole::Viewer => Role::Viewer,
            proto::AdminRole::Responder => Role::Responder,
            proto::AdminRole::Operator => Role::Operator,
            proto::AdminRole::Owner => Role::Owner,
            proto::AdminRole::Unspecified => return None,
        };
        Some(Identity {
            name: identity.name,
            role,
            expires_at: identity.expires_at,
        })
    }

    /// `alice (viewer)`, for the status bar.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.role)
    }

    /// Why this identity may not do what needs `needs`, or `None` if it may.
    pub fn refusal(&self, needs: Role) -> Option<String> {
        (self.role < needs).then(|| {
            format!(
                "needs the {needs} role (you are {}, {})",
                self.name, self.role
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_may_do_what_it_includes_and_is_told_why_not_otherwise() {
        let viewer = Identity {
            name: "vera".into(),
            role: Role::Viewer,
            expires_at: 0,
        };
        assert_eq!(viewer.refusal(Role::Viewer), None);
        assert_eq!(
            viewer.refusal(Role::Responder).as_deref(),
            Some("needs the responder role (you are vera, viewer)")
        );
        let owner = Identity {
            role: Role::Owner,
            ..viewer
        };
        assert_eq!(owner.refusal(Role::Operator), None);
    }
}
