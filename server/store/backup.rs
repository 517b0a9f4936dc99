//! The database file outside the running server: `gatehouse backup`,
//! `gatehouse restore` and `serve --check` work on it here, with their own
//! connections, so their SQL stays in `store/` like the rest.
//!
//! A backup is SQLite's online backup API run as one step: one read
//! transaction, so the copy is the database as of one instant, while the
//! server's writer goes on committing into the write-ahead log. The copy is
//! then switched to a rollback journal so that it is one self-contained file.

use super::{configure, events, schema, Result, StoreError};
use crate::model::{Actor, EventKind, NewEvent, RevokeReason};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{params, Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// What a database file holds, as a restore's blast radius and a backup's
/// report show it. Counts of "live" things are as of `now`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub schema_version: i64,
    pub newest_event_id: i64,
    pub newest_event_time: i64,
    pub clients: i64,
    pub users: i64,
    /// Families not revoked: each one's newest refresh token is current.
    pub active_families: i64,
    /// Unused, unexpired refresh tokens of active families.
    pub live_refresh_tokens: i64,
    /// Unrevoked, unexpired access tokens of active families.
    pub live_access_tokens: i64,
    /// Codes not yet exchanged (they are voided by a restore either way).
    pub unused_codes: i64,
}

/// What a restore does with the families that were active in the backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Revoke them (reason `restored`): their refresh tokens may have been
    /// rotated after the backup, and a stolen old one would work again. Users
    /// sign in again through the partner; remembered consent still holds.
    RevokeActive,
    /// Keep them: an old refresh token becomes current again. Only for a
    /// backup known to be newer than every rotation (e.g. taken at shutdown).
    KeepActive,
}

/// What a restore changed in the restored copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Restored {
    pub families_revoked: i64,
    pub codes_voided: i64,
}

/// Opens an existing database file (never creates one).
fn open_existing(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    Ok(conn)
}

/// Copies the database at `source` into `destination`, a new empty file the
/// caller created (mode 0600), consistently, while a server may be writing;
/// checks the copy and counts what it holds as of `now`.
pub fn backup(source: &Path, destination: &Path, now: i64) -> Result<Summary> {
    let from = open_existing(source)?;
    let mut to = Connection::open(destination)?;
    {
        let backup = Backup::new(&from, &mut to)?;
        // One step copies every page inside one read transaction. Busy or
        // Locked (a checkpoint in progress) are retried for at most ~10 s.
        let mut attempts = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => continue,
                _ if attempts < 200 => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => return Err(StoreError::Busy),
            }
        }
    }
    drop(from);
    let journal: String = to.query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0))?;
    if journal != "delete" {
        return Err(StoreError::internal(format!(
            "the copy kept journal_mode {journal}"
        )));
    }
    let summary = summarize(&to, now)?;
    to.close().map_err(|(_, error)| StoreError::from(error))?;
    Ok(summary)
}

/// Checks a database file (`PRAGMA integrity_check`, foreign keys, a schema
/// this binary knows) and counts what it holds as of `now`.
pub fn inspect(path: &Path, now: i64) -> Result<Summary> {
    let conn = open_existing(path)?;
    summarize(&conn, now)
}

fn summarize(conn: &Connection, now: i64) -> Result<Summary> {
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
    if integrity != "ok" {
        return Err(StoreError::internal(format!(
            "integrity_check failed: {integrity}"
        )));
    }
    let broken: i64 =
        conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })?;
    if broken > 0 {
        return Err(StoreError::internal(format!(
            "{broken} rows break a foreign key"
        )));
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version < 1 || version > schema::VERSION as i64 {
        return Err(StoreError::internal(format!(
            "schema version {version}: not a gatehouse database this release knows (1..={})",
            schema::VERSION
        )));
    }
    let count =
        |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, params![now], |row| row.get(0))?) };
    let active = "SELECT seq FROM families WHERE revoked_at IS NULL";
    Ok(Summary {
        schema_version: version,
        newest_event_id: count("SELECT coalesce(max(id), 0) FROM events WHERE ?1 = ?1")?,
        newest_event_time: count("SELECT coalesce(max(time), 0) FROM events WHERE ?1 = ?1")?,
        clients: count("SELECT count(*) FROM clients WHERE ?1 = ?1")?,
        users: count("SELECT count(*) FROM users WHERE ?1 = ?1")?,
        active_families: count("SELECT count(*) FROM families WHERE revoked_at IS NULL AND ?1 = ?1")?,
        live_refresh_tokens: count(&format!(
            "SELECT count(*) FROM refresh_tokens WHERE used_at IS NULL AND expires_at > ?1 AND family_seq IN ({active})"
        ))?,
        live_access_tokens: count(&format!(
            "SELECT count(*) FROM access_tokens WHERE revoked_at IS NULL AND expires_at > ?1 AND family_seq IN ({active})"
        ))?,
        unused_codes: count("SELECT count(*) FROM auth_codes WHERE used_at IS NULL AND voided = 0 AND expires_at > ?1")?,
    })
}

/// Makes the staged copy of a backup ready to serve: migrations, the policy
/// for the families active in it, every unexchanged code voided, and the
/// events that say so, in one transaction; then WAL mode, as the server runs.
pub fn prepare_restored(
    staged: &Path,
    policy: RestorePolicy,
    from: &str,
    now: i64,
) -> Result<Restored> {
    let mut conn = open_existing(staged)?;
    schema::migrate(&mut conn)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let families_revoked = match policy {
        RestorePolicy::RevokeActive => tx.execute(
            "UPDATE families SET revoked_at = ?1, revoked_reason = ?2, revoked_by = ?3 WHERE revoked_at IS NULL",
            params![now, RevokeReason::Restored.as_str(), Actor::Local.plane()],
        )? as i64,
        RestorePolicy::KeepActive => 0,
    };
    let codes_voided = tx.execute(
        "UPDATE auth_codes SET voided = 1 WHERE used_at IS NULL AND voided = 0",
        [],
    )? as i64;
    // Answers kept for refresh retries belong to the moment of the backup: after
    // a restore, presenting their rotated tokens is a replay like any other.
    tx.execute("DELETE FROM refresh_retries", [])?;
    let kept = match policy {
        RestorePolicy::RevokeActive => "active families revoked (reason restored)",
        RestorePolicy::KeepActive => {
            "active families KEPT by the operator's choice (--keep-grants): refresh tokens rotated after the backup work again"
        }
    };
    events::insert(
        &tx,
        now,
        NewEvent::new(
            EventKind::DatabaseRestored,
            Actor::Local,
            format!("restored from {from}: {families_revoked} {kept}; {codes_voided} unexchanged codes voided"),
        ),
    )?;
    if families_revoked > 0 {
        events::insert(
            &tx,
            now,
            NewEvent::new(
                EventKind::FamilyRevoked,
                Actor::Local,
                format!("{families_revoked} families revoked (reason restored)"),
            ),
        )?;
    }
    tx.commit()?;
    let journal: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if journal != "wal" {
        return Err(StoreError::internal(format!(
            "journal_mode is {journal}, not wal"
        )));
    }
    conn.close().map_err(|(_, error)| StoreError::from(error))?;
    Ok(Restored {
        families_revoked,
        codes_voided,
    })
}
