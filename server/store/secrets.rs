//! Client secrets: at most two live per confidential client. Rotation (with an
//! optional overlap for the old one), revocation, expiry at the hourly purge,
//! and last use written in batches off the request path.

use super::{clients, Result, Store, StoreError, Tx};
use crate::model::{
    overlap_text, Actor, ClientId, ClientSecret, EventKind, LastUse, NewEvent, Overlap, Rotation,
    SecretId,
};
use crate::secret::{Token, TokenKind};
use rusqlite::{params, Connection, OptionalExtension};
use std::net::IpAddr;

/// A secret as client authentication needs it: its id, hash and end.
pub struct StoredSecret {
    pub id: SecretId,
    pub hash: Vec<u8>,
    pub expires_at: Option<i64>,
}

impl StoredSecret {
    /// Whether it still authenticates at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        crate::model::live_at(self.expires_at, now)
    }
}

/// One use of a secret to record: which, when, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUse {
    pub secret_id: SecretId,
    pub at: i64,
    pub from: IpAddr,
}

impl Store {
    /// The live secrets of a client, newest first (none for a public client).
    pub fn client_secrets(&self, client_id: &ClientId, now: i64) -> Result<Vec<ClientSecret>> {
        self.read(|conn| {
            let seq = clients::seq_of(conn, client_id)?;
            let mut live = list(conn, seq)?;
            live.retain(|secret| secret.is_live(now));
            Ok(live)
        })
    }

    /// Gives a confidential client a new secret. Without an overlap every live
    /// secret ends at once (a leaked secret dies now). With one, the current
    /// secret stays valid for the overlap; that is refused while the client
    /// already has two live secrets (a third would exceed the limit: revoke one,
    /// or rotate without an overlap).
    pub fn rotate_client_secret(
        &self,
        actor: Actor,
        client_id: &ClientId,
        overlap: Overlap,
        now: i64,
    ) -> Result<Rotation> {
        let client_id = client_id.clone();
        self.write(now, move |tx| {
            let client_id = &client_id;
            let client = clients::load(tx, client_id)?;
            if client.public {
                return Err(StoreError::Conflict(
                    "public clients have no secret to rotate".into(),
                ));
            }
            let seq = clients::seq_of(tx, client_id)?;
            let live: Vec<_> = list(tx, seq)?
                .into_iter()
                .filter(|secret| secret.is_live(now))
                .collect();
            let secret = Token::generate(TokenKind::ClientSecret);
            let secret_id = SecretId::generate();
            let (old_secret_expires_at, detail) = if overlap.secs() == 0 {
                for old in &live {
                    tx.execute("DELETE FROM client_secrets WHERE id = ?1", [old.id.as_str()])?;
                }
                let ended = ids(&live);
                let detail = if ended.is_empty() {
                    format!("new secret {secret_id}")
                } else {
                    format!("new secret {secret_id}; {ended} ended at once (no overlap)")
                };
                (None, detail)
            } else {
                match live.as_slice() {
                    [] => (None, format!("new secret {secret_id}")),
                    [old] => {
                        let end = old
                            .expires_at
                            .map_or(now + overlap.secs(), |end| end.min(now + overlap.secs()));
                        tx.execute(
                            "UPDATE client_secrets SET expires_at = ?2 WHERE id = ?1",
                            params![old.id.as_str(), end],
                        )?;
                        let mut detail = format!(
                            "new secret {secret_id}; {} stays valid for {}",
                            old.id,
                            overlap_text(end - now)
                        );
                        if end - now < overlap.secs() {
                            detail.push_str(&format!(
                                ", not the {} asked: it was already ending",
                                overlap_text(overlap.secs())
                            ));
                        }
                        (Some(end), detail)
                    }
                    _ => {
                        return Err(StoreError::Conflict(format!(
                            "client {client_id} already has two live secrets ({}): revoke one first \
                             (`gatehouse client revoke-secret {client_id} SECRET_ID`), or rotate \
                             without --overlap to end both now",
                            ids(&live)
                        )))
                    }
                }
            };
            tx.execute(
                "INSERT INTO client_secrets (id, client_seq, hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![secret_id.as_str(), seq, secret.hash().0.to_vec(), now],
            )?;
            tx.execute(
                "UPDATE clients SET updated_at = ?2 WHERE seq = ?1",
                params![seq, now],
            )?;
            tx.record(NewEvent::new(EventKind::SecretRotated, actor, detail).client(client_id))?;
            Ok(Rotation {
                secret,
                secret_id,
                old_secret_expires_at,
            })
        })
    }

    /// Ends one live secret now. The only live secret is kept (the client
    /// could no longer authenticate): rotate instead, which replaces it.
    pub fn revoke_client_secret(
        &self,
        actor: Actor,
        client_id: &ClientId,
        secret_id: &SecretId,
        now: i64,
    ) -> Result<()> {
        let client_id = client_id.clone();
        let secret_id = secret_id.clone();
        self.write(now, move |tx| {
            let client_id = &client_id;
            let seq = clients::seq_of(tx, client_id)?;
            let live: Vec<_> = list(tx, seq)?
                .into_iter()
                .filter(|secret| secret.is_live(now))
                .collect();
            let Some(secret) = live.iter().find(|secret| secret.id == secret_id) else {
                return Err(StoreError::not_found("live secret", secret_id.as_str()));
            };
            if live.len() == 1 {
                return Err(StoreError::Conflict(format!(
                    "{secret_id} is the only live secret of client {client_id}: rotate instead \
                     (`gatehouse client rotate-secret {client_id}` replaces it at once)"
                )));
            }
            tx.execute(
                "DELETE FROM client_secrets WHERE id = ?1",
                [secret_id.as_str()],
            )?;
            tx.record(
                NewEvent::new(
                    EventKind::SecretRevoked,
                    actor,
                    format!("secret {secret_id} revoked; {}", last_use_text(secret)),
                )
                .client(client_id),
            )
        })
    }

    /// Writes last uses collected in memory, in one transaction; the first use
    /// of a secret also records `secret_first_used`. Uses of secrets gone in
    /// the meantime are skipped. Returns how many rows were updated.
    pub fn record_secret_uses(&self, uses: Vec<SecretUse>, now: i64) -> Result<usize> {
        self.write_as("secret_uses", now, move |tx| {
            let mut updated = 0;
            for used in uses {
                let found: Option<(ClientId, Option<i64>)> = tx
                    .row(
                        "SELECT c.id, s.last_used_at FROM client_secrets s
                         JOIN clients c ON c.seq = s.client_seq WHERE s.id = ?1",
                        [used.secret_id.as_str()],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()?;
                let Some((client_id, last_used_at)) = found else {
                    continue;
                };
                updated += tx.exec(
                    "UPDATE client_secrets SET last_used_at = ?2, last_used_from = ?3
                     WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?2)",
                    params![used.secret_id.as_str(), used.at, used.from.to_string()],
                )?;
                if last_used_at.is_none() {
                    tx.record(
                        NewEvent::new(
                            EventKind::SecretFirstUsed,
                            Actor::Public,
                            format!("first use of secret {}", used.secret_id),
                        )
                        .client(&client_id)
                        .source(used.from),
                    )?;
                }
            }
            Ok(updated)
        })
    }
}

/// Every secret of the client `seq` (expired ones not yet purged included),
/// newest first, hashes left out.
pub(super) fn list(conn: &Connection, seq: i64) -> Result<Vec<ClientSecret>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, created_at, expires_at, last_used_at, last_used_from FROM client_secrets
         WHERE client_seq = ?1 ORDER BY created_at DESC, rowid DESC",
    )?;
    let rows = statement
        .query_map([seq], |row| {
            let last_used_at: Option<i64> = row.get(3)?;
            let from: Option<String> = row.get(4)?;
            Ok(ClientSecret {
                id: SecretId::from_trusted(row.get(0)?),
                created_at: row.get(1)?,
                expires_at: row.get(2)?,
                last_used: last_used_at.map(|at| LastUse {
                    at,
                    from: from.and_then(|text| text.parse().ok()),
                }),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The hashes client authentication compares with (expired ones included:
/// the caller decides by its clock).
pub(super) fn stored(conn: &Connection, seq: i64) -> Result<Vec<StoredSecret>> {
    let mut statement = conn
        .prepare_cached("SELECT id, hash, expires_at FROM client_secrets WHERE client_seq = ?1")?;
    let rows = statement
        .query_map([seq], |row| {
            Ok(StoredSecret {
                id: SecretId::from_trusted(row.get(0)?),
                hash: row.get(1)?,
                expires_at: row.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Gives a new confidential client its first secret.
pub(super) fn insert_first(tx: &Tx, seq: i64, secret: &Token, now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO client_secrets (id, client_seq, hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            SecretId::generate().as_str(),
            seq,
            secret.hash().0.to_vec(),
            now
        ],
    )?;
    Ok(())
}

/// Deletes the secrets whose overlap ended, recording `secret_expired` for
/// each (the purge calls it). Returns how many.
pub(super) fn expire(tx: &mut Tx, now: i64) -> Result<usize> {
    let ended: Vec<(String, ClientId)> = {
        let mut statement = tx.prepare_cached(
            "SELECT s.id, c.id FROM client_secrets s JOIN clients c ON c.seq = s.client_seq
             WHERE s.expires_at <= ?1 ORDER BY s.expires_at",
        )?;
        let rows = statement
            .query_map([now], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows
    };
    for (secret_id, client_id) in &ended {
        let seq = clients::seq_of(tx, client_id)?;
        let secret = list(tx, seq)?
            .into_iter()
            .find(|secret| secret.id.as_str() == secret_id);
        tx.execute("DELETE FROM client_secrets WHERE id = ?1", [secret_id])?;
        let last_use = secret.as_ref().map(last_use_text).unwrap_or_default();
        tx.record(
            NewEvent::new(
                EventKind::SecretExpired,
                Actor::Server,
                format!("secret {secret_id} reached the end of its overlap; {last_use}"),
            )
            .client(client_id),
        )?;
    }
    Ok(ended.len())
}

/// "last used from 198.51.100.4" / "never used": what an event says of a
/// secret that ends (times are in the event's own row and the listing).
fn last_use_text(secret: &ClientSecret) -> String {
    match &secret.last_used {
        Some(LastUse {
            from: Some(from), ..
        }) => format!("last used from {from}"),
        Some(_) => "used".into(),
        None => "never used".into(),
    }
}

fn ids(secrets: &[ClientSecret]) -> String {
    secrets
        .iter()
        .map(|secret| secret.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
