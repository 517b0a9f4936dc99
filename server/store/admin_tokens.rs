//! Named admin tokens: creation, listing, revocation, lookup by hash, last use.

use super::{Result, Store, StoreError};
use crate::model::{
    Actor, AdminIdentity, AdminName, AdminToken, EventKind, NewEvent, Role, BOOTSTRAP,
};
use crate::secret::{Token, TokenHash, TokenKind};
use rusqlite::{params, OptionalExtension, Row};

/// The `settings` key holding the bootstrap token's last use.
const BOOTSTRAP_LAST_USED: &str = "bootstrap_last_used";

/// What a presented token's hash finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminTokenLookup {
    Live(AdminIdentity),
    Revoked(String),
    Expired(String),
    Unknown,
}

impl Store {
    /// Creates a named token with `role`; the token is returned only here.
    pub fn create_admin_token(
        &self,
        actor: Actor,
        name: AdminName,
        role: Role,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<(AdminToken, Token)> {
        self.write(now, move |tx| {
            let token = Token::generate(TokenKind::Admin);
            let inserted = tx.execute(
                "INSERT INTO admin_tokens (name, role, hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (name) DO NOTHING",
                params![name.as_str(), role.as_str(), token.hash().0.to_vec(), now, expires_at],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!(
                    "an admin token named {:?} exists or existed; names are never reused",
                    name.as_str()
                )));
            }
            let expiry = expires_at.map_or("never expires".to_owned(), |at| {
                format!("expires {}", crate::clock::format_time(at))
            });
            tx.record(NewEvent::new(
                EventKind::AdminTokenCreated,
                actor,
                format!("{} ({role}, {expiry})", name.as_str()),
            ))?;
            let created = AdminToken {
                name: name.as_str().to_owned(),
                role,
                created_at: now,
                expires_at,
                last_used_at: None,
                revoked_at: None,
            };
            Ok((created, token))
        })
    }

    /// Every named token (revoked ones too), oldest first, after the bootstrap one.
    pub fn list_admin_tokens(&self) -> Result<Vec<AdminToken>> {
        self.read(|conn| {
            let bootstrap_used: Option<String> = conn
                .query_row(
                    "SELECT value FROM settings WHERE key = ?1",
                    [BOOTSTRAP_LAST_USED],
                    |row| row.get(0),
                )
                .optional()?;
            let mut tokens = vec![AdminToken {
                name: BOOTSTRAP.into(),
                role: Role::Owner,
                created_at: 0,
                expires_at: None,
                last_used_at: bootstrap_used.and_then(|text| text.parse().ok()),
                revoked_at: None,
            }];
            let mut statement = conn.prepare_cached(
                "SELECT name, role, created_at, expires_at, last_used_at, revoked_at FROM admin_tokens ORDER BY seq",
            )?;
            let rows = statement.query_map([], from_row)?;
            for row in rows {
                tokens.extend(row?);
            }
            Ok(tokens)
        })
    }

    /// Revokes a named token: it is refused from the next call on.
    pub fn revoke_admin_token(&self, actor: Actor, name: &str, now: i64) -> Result<AdminToken> {
        let name = name.to_owned();
        self.write(now, move |tx| {
            let name = name.as_str();
            let changed = tx.execute(
                "UPDATE admin_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, now],
            )?;
            let token = tx
                .query_row(
                    "SELECT name, role, created_at, expires_at, last_used_at, revoked_at FROM admin_tokens WHERE name = ?1",
                    [name],
                    from_row,
                )
                .optional()?
                .flatten()
                .ok_or_else(|| StoreError::not_found("admin token", name))?;
            if changed == 0 {
                return Err(StoreError::Conflict(format!(
                    "admin token {name:?} is already revoked"
                )));
            }
            tx.record(NewEvent::new(EventKind::AdminTokenRevoked, actor, name))?;
            Ok(token)
        })
    }

    /// The identity a presented token's hash belongs to, checked at `now`.
    pub fn admin_token_by_hash(&self, hash: TokenHash, now: i64) -> Result<AdminTokenLookup> {
        self.read(|conn| {
            let found = conn
                .query_row(
                    "SELECT name, role, expires_at, revoked_at, hash FROM admin_tokens WHERE hash = ?1",
                    [hash.0.to_vec()],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, Option<i64>>(2)?,
                            row.get::<_, Option<i64>>(3)?,
                            row.get::<_, Vec<u8>>(4)?,
                        ))
                    },
                )
                .optional()?;
            let Some((name, role, expires_at, revoked_at, stored)) = found else {
                return Ok(AdminTokenLookup::Unknown);
            };
            // The index found it by hash; the answer still rests on a constant-time match.
            if !hash.matches(&stored) {
                return Ok(AdminTokenLookup::Unknown);
            }
            if revoked_at.is_some() {
                return Ok(AdminTokenLookup::Revoked(name));
            }
            if expires_at.is_some_and(|at| at <= now) {
                return Ok(AdminTokenLookup::Expired(name));
            }
            let role = Role::parse(&role)
                .map_err(|_| StoreError::internal(format!("admin token {name:?} has role {role:?}")))?;
            Ok(AdminTokenLookup::Live(AdminIdentity {
                name,
                role,
                expires_at,
            }))
        })
    }

    /// Records that `name` was used at `now` (the caller writes at most once a
    /// minute per token). Not an event: a read is not a change.
    pub fn touch_admin_token(&self, name: &str, now: i64) -> Result<()> {
        let name = name.to_owned();
        self.write(now, move |tx| {
            if name == BOOTSTRAP {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![BOOTSTRAP_LAST_USED, now.to_string()],
                )?;
            } else {
                tx.execute(
                    "UPDATE admin_tokens SET last_used_at = ?2 WHERE name = ?1",
                    params![name, now],
                )?;
            }
            Ok(())
        })
    }
}

/// A row, or `None` if its role is not one this binary knows.
fn from_row(row: &Row) -> rusqlite::Result<Option<AdminToken>> {
    let Ok(role) = Role::parse(&row.get::<_, String>(1)?) else {
        return Ok(None);
    };
    Ok(Some(AdminToken {
        name: row.get(0)?,
        role,
        created_at: row.get(2)?,
        expires_at: row.get(3)?,
        last_used_at: row.get(4)?,
        revoked_at: row.get(5)?,
    }))
}
