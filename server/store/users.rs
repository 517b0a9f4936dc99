//! Local users: creation, passwords, disabling.

use super::{families, Result, Store, StoreError};
use crate::model::{Actor, EventKind, FieldChange, NewEvent, RevokeReason, User, Username};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// What a login needs to know about a user.
pub struct UserCredentials {
    pub seq: i64,
    pub username: String,
    pub password_hash: String,
    pub disabled: bool,
}

impl Store {
    /// Creates a user with an already-hashed password.
    pub fn create_user(
        &self,
        actor: Actor,
        username: &Username,
        password_hash: &str,
        now: i64,
    ) -> Result<User> {
        let password_hash = password_hash.to_owned();
        let username = username.clone();
        self.write(now, move |tx| {
            let password_hash = password_hash.as_str();
            let username = &username;
            let inserted = tx.execute(
                "INSERT INTO users (username, password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (username) DO NOTHING",
                params![username.as_str(), password_hash, now],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!("user {:?} already exists", username.as_str())));
            }
            tx.record(NewEvent::new(EventKind::UserCreated, actor, "").user(username.as_str()))?;
            load(tx, username.as_str())
        })
    }

    pub fn list_users(&self) -> Result<Vec<User>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT username, disabled, created_at, updated_at FROM users ORDER BY username",
            )?;
            let users = statement
                .query_map([], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(users)
        })
    }

    /// Disables or enables a user; disabling revokes their live families and
    /// voids their unexchanged codes.
    pub fn set_user_disabled(
        &self,
        actor: Actor,
        username: &str,
        disabled: bool,
        now: i64,
    ) -> Result<(User, i64)> {
        let username = username.to_owned();
        self.write(now, move |tx| {
            let username = username.as_str();
            let seq = seq_of(tx, username)?;
            tx.execute(
                "UPDATE users SET disabled = ?2, updated_at = ?3 WHERE seq = ?1",
                params![seq, disabled, now],
            )?;
            let revoked = if disabled {
                tx.execute(
                    "UPDATE auth_codes SET voided = 1 WHERE user_seq = ?1 AND used_at IS NULL",
                    [seq],
                )?;
                families::revoke_where(tx, "user_seq", seq, RevokeReason::UserDisabled, &actor)?
            } else {
                0
            };
            let kind = if disabled {
                EventKind::UserDisabled
            } else {
                EventKind::UserEnabled
            };
            let detail = if disabled {
                format!("{revoked} families revoked")
            } else {
                String::new()
            };
            tx.record(NewEvent::new(kind, actor, detail).user(username))?;
            Ok((load(tx, username)?, revoked))
        })
    }

    /// Replaces a user's password hash; the event records that it changed, never a value.
    pub fn set_user_password(
        &self,
        actor: Actor,
        username: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<User> {
        let username = username.to_owned();
        let password_hash = password_hash.to_owned();
        self.write(now, move |tx| {
            let username = username.as_str();
            let password_hash = password_hash.as_str();
            let seq = seq_of(tx, username)?;
            tx.execute(
                "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE seq = ?1",
                params![seq, password_hash, now],
            )?;
            tx.record(
                NewEvent::new(EventKind::UserUpdated, actor, "password changed")
                    .user(username)
                    .changes(vec![FieldChange::new("password", "(hidden)", "(changed)")]),
            )?;
            load(tx, username)
        })
    }

    /// The stored credentials of a user, for login; `None` if unknown.
    pub fn user_credentials(&self, username: &str) -> Result<Option<UserCredentials>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT seq, username, password_hash, disabled FROM users WHERE username = ?1",
                    [username],
                    |row| {
                        Ok(UserCredentials {
                            seq: row.get(0)?,
                            username: row.get(1)?,
                            password_hash: row.get(2)?,
                            disabled: row.get(3)?,
                        })
                    },
                )
                .optional()?)
        })
    }
}

pub(super) fn seq_of(conn: &Connection, username: &str) -> Result<i64> {
    conn.query_row(
        "SELECT seq FROM users WHERE username = ?1",
        [username],
        |row| row.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found("user", username))
}

fn load(conn: &Connection, username: &str) -> Result<User> {
    conn.query_row(
        "SELECT username, disabled, created_at, updated_at FROM users WHERE username = ?1",
        [username],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found("user", username))
}

fn from_row(row: &Row) -> rusqlite::Result<User> {
    Ok(User {
        username: row.get(0)?,
        disabled: row.get(1)?,
        created_at: row.get(2)?,
        updated_at: row.get(3)?,
    })
}
