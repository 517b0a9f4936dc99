//! Admin identities: roles, who is calling, and the named tokens they hold.

use super::Invalid;
use std::fmt;

/// What an admin identity may do. Each role includes every one before it, so
/// `Ord` is the permission check: `held >= needed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Every read, and the event stream.
    Viewer,
    /// Revoke families; disable and enable clients and users; maintenance mode.
    Responder,
    /// Create, update and delete clients, scopes and users; rotate secrets.
    Operator,
    /// Admin tokens.
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Responder, Role::Operator, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Operator => "operator",
            Role::Owner => "owner",
        }
    }

    pub fn parse(text: &str) -> Result<Self, Invalid> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                Invalid::new(
                    "role",
                    format!("unknown role {text:?} (viewer, responder, operator or owner)"),
                )
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name of the identity the data directory's `admin.token` stands for.
pub const BOOTSTRAP: &str = "bootstrap";

/// The name of an admin token: 1–64 of letters, digits, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AdminName(String);

impl AdminName {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let valid = !text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid {
            return Err(Invalid::new(
                "name",
                "1-64 characters of letters, digits, '.', '_' or '-'",
            ));
        }
        if text == BOOTSTRAP {
            return Err(Invalid::new(
                "name",
                "`bootstrap` is the admin.token in the data directory",
            ));
        }
        Ok(AdminName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who an authenticated admin call comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminIdentity {
    pub name: String,
    pub role: Role,
    /// Unix seconds; `None` never expires.
    pub expires_at: Option<i64>,
}

impl AdminIdentity {
    /// The `admin.token` holder.
    pub fn bootstrap() -> Self {
        AdminIdentity {
            name: BOOTSTRAP.into(),
            role: Role::Owner,
            expires_at: None,
        }
    }
}

/// A named admin token as `admin token list` shows it (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    pub name: String,
    pub role: Role,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}
