//! Token families ("grants"): listing, lineage and revocation.
//!
//! Revocation is family state, not token state: a token is live only while its
//! family is, so revoking a family is one UPDATE however many tokens it holds,
//! and no clock step can bring a revoked token back.

use super::{clients, consents, retries, users, Result, Store, StoreError, Tx};
use crate::model::{
    Actor, ClientId, EventKind, Family, FamilyFilter, FamilyId, NewEvent, Revocation, RevokeCount,
    RevokeReason, TokenRecord,
};
use rusqlite::{params, params_from_iter, types::Value, Connection, OptionalExtension, Row};

/// A family's last use and rotation count are read from its newest refresh
/// token (each rotation issues the next generation, at the time of the use),
/// not kept on the family's row: a rotation then writes one page fewer.
const SELECT_FAMILY: &str = "
SELECT f.seq, f.id, c.id, c.name, u.username, f.scope, f.created_at,
       COALESCE((SELECT max(r.issued_at) FROM refresh_tokens r WHERE r.family_seq = f.seq AND r.generation > 0), f.created_at),
       COALESCE((SELECT max(r.generation) FROM refresh_tokens r WHERE r.family_seq = f.seq), 0),
       f.revoked_at, f.revoked_reason, f.revoked_by
FROM families f JOIN clients c ON c.seq = f.client_seq JOIN users u ON u.seq = f.user_seq";

impl Store {
    /// Families newest first, below the keyset cursor `before_seq` (0 for the newest).
    pub fn list_families(
        &self,
        filter: &FamilyFilter,
        limit: usize,
        before_seq: i64,
    ) -> Result<(Vec<Family>, Option<i64>)> {
        self.read(|conn| {
            let mut conditions = vec!["f.seq < ?".to_owned()];
            let mut values = vec![Value::Integer(if before_seq <= 0 {
                i64::MAX
            } else {
                before_seq
            })];
            if let Some(client_id) = &filter.client_id {
                conditions.push("f.client_seq = ?".into());
                values.push(Value::Integer(clients::seq_of(conn, client_id)?));
            }
            if let Some(username) = &filter.username {
                conditions.push("f.user_seq = ?".into());
                values.push(Value::Integer(users::seq_of(conn, username)?));
            }
            if filter.active_only {
                conditions.push("f.revoked_at IS NULL".into());
            }
            values.push(Value::Integer(limit as i64 + 1));
            let sql = format!(
                "{SELECT_FAMILY} WHERE {} ORDER BY f.seq DESC LIMIT ?",
                conditions.join(" AND ")
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement
                .query_map(params_from_iter(values), |row| {
                    Ok((row.get(0)?, from_row(row)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(clients::page(rows, limit))
        })
    }

    /// One family and its lineage: the code, then each generation's tokens.
    pub fn get_family(&self, id: &FamilyId, now: i64) -> Result<(Family, Vec<TokenRecord>)> {
        self.read(|conn| {
            let (seq, family) = conn
                .query_row(&format!("{SELECT_FAMILY} WHERE f.id = ?1"), [id], |row| Ok((row.get::<_, i64>(0)?, from_row(row)?)))
                .optional()?
                .ok_or_else(|| StoreError::not_found("family", id.as_str()))?;
            let revoked = family.revoked.is_some();
            let mut tokens = Vec::new();
            let mut statement = conn.prepare_cached(
                "SELECT 'code', 0, created_at, expires_at, used_at, 0, 0 AS rank FROM auth_codes WHERE family_seq = ?1
                 UNION ALL
                 SELECT 'refresh_token', generation, issued_at, expires_at, used_at, 0, 1 FROM refresh_tokens WHERE family_seq = ?1
                 UNION ALL
                 SELECT 'access_token', generation, issued_at, expires_at, NULL, revoked_at IS NOT NULL, 2
                     FROM access_tokens WHERE family_seq = ?1
                 ORDER BY 2, 7",
            )?;
            let rows = statement.query_map([seq], |row| {
                let kind: String = row.get(0)?;
                Ok((kind, row.get(1)?, row.get(2)?, row.get(3)?, row.get::<_, Option<i64>>(4)?, row.get::<_, bool>(5)?))
            })?;
            for row in rows {
                let (kind, generation, issued_at, expires_at, used_at, token_revoked) = row?;
                let kind: &'static str = match kind.as_str() {
                    "code" => "code",
                    "refresh_token" => "refresh_token",
                    _ => "access_token",
                };
                let status = if used_at.is_some() {
                    "used"
                } else if revoked || token_revoked {
                    "revoked"
                } else if now >= expires_at {
                    "expired"
                } else {
                    "active"
                };
                tokens.push(TokenRecord { kind, generation, issued_at, expires_at, used_at, status });
            }
            Ok((family, tokens))
        })
    }

    /// Revokes one family (if still live) on an operator's word; returns 1 or 0.
    pub fn revoke_family(
        &self,
        actor: Actor,
        id: &FamilyId,
        note: &str,
        dry_run: bool,
        now: i64,
    ) -> Result<RevokeCount> {
        let (owner, note) = (id.clone(), note.to_owned());
        let seq_of = move |conn: &Connection| -> Result<i64> {
            conn.query_row("SELECT seq FROM families WHERE id = ?1", [&owner], |row| {
                row.get(0)
            })
            .optional()?
            .ok_or_else(|| StoreError::not_found("family", owner.as_str()))
        };
        if dry_run {
            return self.read(|conn| count_live(conn, ONE_FAMILY, seq_of(conn)?, now));
        }
        self.write_as("revoke_family", now, move |tx| {
            let seq = seq_of(tx)?;
            let counted = count_live(tx, ONE_FAMILY, seq, now)?;
            let revoked = revoke_family_tx(tx, seq, RevokeReason::Admin, &actor, &note)?;
            consents::forget_family(tx, seq)?;
            Ok(RevokeCount {
                families: revoked,
                ..counted
            })
        })
    }

    /// Revokes (or with `dry_run`, counts) every live family of a client.
    pub fn revoke_client_families(
        &self,
        actor: Actor,
        client_id: &ClientId,
        note: &str,
        dry_run: bool,
        now: i64,
    ) -> Result<RevokeCount> {
        let (owner, client_id, note) = (client_id.clone(), client_id.clone(), note.to_owned());
        self.bulk_revoke(
            actor,
            now,
            dry_run,
            move |conn| clients::seq_of(conn, &owner),
            ("client_seq", "user_seq"),
            move |actor, count| {
                NewEvent::new(
                    EventKind::FamilyRevoked,
                    actor,
                    bulk_detail(count, "client", &note),
                )
                .client(&client_id)
            },
        )
    }

    /// Revokes (or with `dry_run`, counts) every live family of a user.
    pub fn revoke_user_families(
        &self,
        actor: Actor,
        username: &str,
        note: &str,
        dry_run: bool,
        now: i64,
    ) -> Result<RevokeCount> {
        let (owner, username, note) = (username.to_owned(), username.to_owned(), note.to_owned());
        self.bulk_revoke(
            actor,
            now,
            dry_run,
            move |conn| users::seq_of(conn, &owner),
            ("user_seq", "client_seq"),
            move |actor, count| {
                NewEvent::new(
                    EventKind::FamilyRevoked,
                    actor,
                    bulk_detail(count, "user", &note),
                )
                .user(&username)
            },
        )
    }

    /// `columns`: the owner's column and the column whose distinct values are
    /// the other principals affected.
    fn bulk_revoke(
        &self,
        actor: Actor,
        now: i64,
        dry_run: bool,
        owner: impl FnOnce(&Connection) -> Result<i64> + Send + 'static,
        columns: (&'static str, &'static str),
        event: impl FnOnce(Actor, &RevokeCount) -> NewEvent + Send + 'static,
    ) -> Result<RevokeCount> {
        if dry_run {
            return self.read(|conn| {
                let seq = owner(conn)?;
                count_live(conn, columns, seq, now)
            });
        }
        self.write_as("revoke_bulk", now, move |tx| {
            let seq = owner(tx)?;
            let counted = count_live(tx, columns, seq, now)?;
            let revoked = revoke_where(tx, columns.0, seq, RevokeReason::Admin, &actor)?;
            tx.record(event(actor, &counted))?;
            Ok(RevokeCount {
                families: revoked,
                ..counted
            })
        })
    }
}

/// [`count_live`] columns for a single family: itself, and its one user.
const ONE_FAMILY: (&str, &str) = ("seq", "user_seq");

/// Live families of one owner, their live tokens, and the other principals.
fn count_live(
    conn: &Connection,
    (owner_column, other_column): (&str, &str),
    seq: i64,
    now: i64,
) -> Result<RevokeCount> {
    let live = format!("families WHERE {owner_column} = ?1 AND revoked_at IS NULL");
    Ok(RevokeCount {
        families: conn.query_row(&format!("SELECT count(*) FROM {live}"), [seq], |row| row.get(0))?,
        principals: conn.query_row(&format!("SELECT count(DISTINCT {other_column}) FROM {live}"), [seq], |row| row.get(0))?,
        tokens: conn.query_row(
            &format!(
                "SELECT (SELECT count(*) FROM refresh_tokens r WHERE r.used_at IS NULL AND r.expires_at > ?2
                           AND r.family_seq IN (SELECT seq FROM {live}))
                      + (SELECT count(*) FROM access_tokens a WHERE a.revoked_at IS NULL AND a.expires_at > ?2
                           AND a.family_seq IN (SELECT seq FROM {live}))"
            ),
            params![seq, now],
            |row| row.get(0),
        )?,
    })
}

fn bulk_detail(count: &RevokeCount, owner: &str, note: &str) -> String {
    let mut detail = format!(
        "{} families of the {owner} revoked (reason {})",
        count.families,
        RevokeReason::Admin
    );
    if !note.is_empty() {
        detail.push_str(": ");
        detail.push_str(note);
    }
    detail
}

/// Revokes one family inside a transaction and records it; returns 1, or 0 if it
/// was already revoked.
pub(super) fn revoke_family_tx(
    tx: &mut Tx,
    seq: i64,
    reason: RevokeReason,
    actor: &Actor,
    note: &str,
) -> Result<i64> {
    let now = tx.now;
    let changed = tx.exec(
        "UPDATE families SET revoked_at = ?2, revoked_reason = ?3, revoked_by = ?4 WHERE seq = ?1 AND revoked_at IS NULL",
        params![seq, now, reason.as_str(), actor.plane()],
    )?;
    if changed == 0 {
        return Ok(0);
    }
    tx.revoked(reason, 1);
    retries::forget_family(tx, seq)?;
    let (family_id, client_id, username): (FamilyId, ClientId, String) = tx.row(
        "SELECT f.id, c.id, u.username FROM families f JOIN clients c ON c.seq = f.client_seq
         JOIN users u ON u.seq = f.user_seq WHERE f.seq = ?1",
        [seq],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let mut detail = format!("reason {reason}");
    if !note.is_empty() {
        detail.push_str(": ");
        detail.push_str(note);
    }
    tx.record(
        NewEvent::new(EventKind::FamilyRevoked, actor.clone(), detail)
            .family(&family_id)
            .client(&client_id)
            .user(&username),
    )?;
    Ok(1)
}

/// Revokes every live family whose `owner_column` (`client_seq` or
/// `user_seq`) is `owner` and forgets its consent; the caller records the
/// event. Returns how many.
pub(super) fn revoke_where(
    tx: &mut Tx,
    owner_column: &str,
    owner: i64,
    reason: RevokeReason,
    actor: &Actor,
) -> Result<i64> {
    let sql = format!(
        "UPDATE families SET revoked_at = ?2, revoked_reason = ?3, revoked_by = ?4
         WHERE revoked_at IS NULL AND {owner_column} = ?1"
    );
    let revoked = tx.exec(&sql, params![owner, tx.now, reason.as_str(), actor.plane()])?;
    tx.revoked(reason, revoked as u64);
    // The owner's grants are gone: its consent goes with them.
    consents::forget(tx, owner_column, owner)?;
    retries::forget_revoked_of(tx, owner_column, owner)?;
    Ok(revoked as i64)
}

fn from_row(row: &Row) -> rusqlite::Result<Family> {
    let revoked_at: Option<i64> = row.get(9)?;
    Ok(Family {
        id: row.get(1)?,
        client_id: row.get(2)?,
        client_name: row.get(3)?,
        username: row.get(4)?,
        scope: row.get(5)?,
        created_at: row.get(6)?,
        last_used_at: row.get(7)?,
        rotations: row.get(8)?,
        revoked: match revoked_at {
            Some(at) => Some(Revocation {
                at,
                reason: revoke_reason(row, 10)?,
                by: row.get::<_, Option<String>>(11)?.unwrap_or_default(),
            }),
            None => None,
        },
    })
}

/// A revoked family's reason: every revocation writes one of
/// [`RevokeReason::ALL`], so anything else (or none) is a broken row.
fn revoke_reason(row: &Row, column: usize) -> rusqlite::Result<RevokeReason> {
    let text: Option<String> = row.get(column)?;
    RevokeReason::parse(text.as_deref().unwrap_or_default()).map_err(|invalid| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Text,
            Box::new(invalid),
        )
    })
}
