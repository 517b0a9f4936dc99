//! Refresh retries: a rotation's answer kept, sealed, for the client's window.
//!
//! A row exists only for a client with a retry window, only for the newest
//! rotation of a family (so one row per family, keyed by it: the next rotation
//! replaces or deletes it in place), and only until the window ends or the
//! successor token is used. It is found by the rotated token's hash and holds
//! the answer sealed under a key derived from that token (`crate::sealed`): the
//! database alone opens nothing.

use super::{Result, Store, StoreError, Tx};
use crate::sealed::{self, RetryPair, SealedPair};
use rusqlite::{params, OptionalExtension};

/// A kept answer as the retry decision sees it; the pair itself stays sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRetry {
    /// The scope the rotation granted: a retry must ask for the same.
    pub scope: String,
    /// The window ends at this second (rotation time + the client's window).
    pub until: i64,
}

impl Store {
    /// Deletes the kept answers whose window has ended (every 10 s, and in the
    /// hourly purge). A retry never reads an expired one, and the family's next
    /// rotation replaces or deletes it anyway: this bounds how long one lasts.
    pub fn sweep_refresh_retries(&self, now: i64) -> Result<usize> {
        let due: bool = self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM refresh_retries WHERE until <= ?1)")?
                .query_row([now], |row| row.get(0))?)
        })?;
        if !due {
            return Ok(0);
        }
        self.write_as("sweep_retries", now, move |tx| forget_expired(tx, now))
    }
}

/// The kept answer for a rotated token of the family, if it is the newest
/// rotated one and its window is still open.
pub(super) fn find(tx: &Tx, family_seq: i64, hash: &[u8]) -> Result<Option<StoredRetry>> {
    Ok(tx
        .row(
            "SELECT scope, until FROM refresh_retries WHERE family_seq = ?1 AND hash = ?2 AND until > ?3",
            params![family_seq, hash, tx.now],
            |row| {
                Ok(StoredRetry {
                    scope: row.get(0)?,
                    until: row.get(1)?,
                })
            },
        )
        .optional()?)
}

/// Keeps an answer already sealed (outside the write lock) for the token
/// whose hash is `hash`, until `until`, in place of the family's older one.
pub(super) fn keep_sealed(
    tx: &Tx,
    hash: &[u8],
    family_seq: i64,
    scope: &str,
    until: i64,
    sealed: &SealedPair,
) -> Result<()> {
    tx.exec(
        "INSERT OR REPLACE INTO refresh_retries (hash, family_seq, scope, until, nonce, sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![hash, family_seq, scope, until, sealed.nonce, sealed.ciphertext],
    )?;
    Ok(())
}

/// Opens the kept answer with the token presented again. A row that does not
/// open with the token whose hash keys it is corruption: fail closed.
pub(super) fn open(tx: &Tx, family_seq: i64, hash: &[u8], presented: &str) -> Result<RetryPair> {
    let sealed = tx
        .row(
            "SELECT nonce, sealed FROM refresh_retries WHERE family_seq = ?1 AND hash = ?2",
            params![family_seq, hash],
            |row| {
                Ok(SealedPair {
                    nonce: row.get(0)?,
                    ciphertext: row.get(1)?,
                })
            },
        )
        .optional()?
        .ok_or_else(|| StoreError::internal("a refresh retry's kept answer is gone"))?;
    sealed::open(presented, hash, &sealed).ok_or_else(|| {
        StoreError::internal("a refresh retry's kept answer does not open with its token")
    })
}

/// Forgets the family's kept answer: its successor was used, or the family died.
pub(super) fn forget_family(tx: &Tx, family_seq: i64) -> Result<()> {
    tx.exec(
        "DELETE FROM refresh_retries WHERE family_seq = ?1",
        [family_seq],
    )?;
    Ok(())
}

/// Forgets the kept answers of every revoked family whose `owner_column`
/// (`client_seq` or `user_seq`) is `owner`.
pub(super) fn forget_revoked_of(tx: &Tx, owner_column: &str, owner: i64) -> Result<()> {
    tx.execute(
        &format!(
            "DELETE FROM refresh_retries WHERE family_seq IN
                (SELECT seq FROM families WHERE {owner_column} = ?1 AND revoked_at IS NOT NULL)"
        ),
        [owner],
    )?;
    Ok(())
}

/// Forgets every kept answer whose window has ended (an index range).
pub(super) fn forget_expired(tx: &Tx, now: i64) -> Result<usize> {
    Ok(tx.exec("DELETE FROM refresh_retries WHERE until <= ?1", [now])?)
}
