//! Retention: deleting rows no check needs any more, and the one explicit path
//! that prunes the otherwise append-only event log.

use super::{retries, secrets, Result, Store};
use rusqlite::params;

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub codes: usize,
    pub access_tokens: usize,
    pub families: usize,
    /// Client secrets whose overlap ended (each recorded as `secret_expired`).
    pub secrets: usize,
}

impl Store {
    /// Deletes what is dead for more than `keep_secs`: codes never exchanged,
    /// expired access tokens, and whole families that were revoked, or whose
    /// newest refresh token expired (or, for a family that never had one, whose
    /// last use and last access token are) that long ago; and client secrets
    /// whose overlap has ended, at once. A live family keeps every
    /// rotated refresh token, because replay detection needs them.
    pub fn purge_expired(&self, now: i64, keep_secs: i64) -> Result<Purged> {
        let horizon = now - keep_secs;
        self.write_as("purge", now, move |tx| {
            let codes = tx.execute(
                "DELETE FROM auth_codes WHERE family_seq IS NULL AND expires_at < ?1",
                [horizon],
            )?;
            let access_tokens = tx.execute("DELETE FROM access_tokens WHERE expires_at < ?1", [horizon])?;
            // A kept retry answer goes the moment its window ends, not `keep_secs` later.
            retries::forget_expired(tx, now)?;
            let families = tx.execute(
                "DELETE FROM families WHERE revoked_at < ?1
                    OR (revoked_at IS NULL
                        AND ?1 > COALESCE((SELECT max(expires_at) FROM refresh_tokens r WHERE r.family_seq = families.seq), families.created_at)
                        AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.family_seq = families.seq))",
                params![horizon],
            )?;
            // Expired secrets go (with their event) as soon as they are dead:
            // authentication already refuses them by the clock.
            let secrets = secrets::expire(tx, now)?;
            Ok(Purged { codes, access_tokens, families, secrets })
        })
    }

    /// Deletes events older than `before_time`: the only way rows leave the
    /// append-only log. The guard trigger is lifted and restored inside one
    /// transaction, and what was removed is logged.
    pub fn prune_events(&self, before_time: i64, now: i64) -> Result<usize> {
        self.write_as("prune_events", now, move |tx| {
            tx.execute_batch("DROP TRIGGER events_append_only_delete")?;
            let removed = tx.execute("DELETE FROM events WHERE time < ?1", [before_time])?;
            tx.execute_batch(
                "CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
                    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;",
            )?;
            if removed > 0 {
                tracing::warn!(removed, before_time, "pruned the event log");
            }
            Ok(removed)
        })
    }
}
