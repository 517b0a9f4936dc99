//! Refresh rotation: the writer only writes. The token's state is read and
//! decided on the caller's thread; the writer runs a compare-and-set and the
//! inserts, and decides again inside the transaction only when a concurrent
//! write got there first or the token was already rotated (retry or replay).

use super::grants::{insert_access, insert_refresh, IssueSpec, IssuedTokens};
use super::presented::Presented;
use super::retries::{self, StoredRetry};
use super::{families, Result, Store, StoreError, Tx};
use crate::model::{Actor, ClientId, EventKind, FamilyId, NewEvent, RevokeReason, ScopeSet};
use crate::sealed::{self, RetryPair, SealedPair};
use crate::secret::{Token, TokenKind};
use rusqlite::{params, OptionalExtension};

/// A stored refresh token as rotation sees it.
#[derive(Debug, Clone)]
pub struct StoredRefresh {
    pub client_id: ClientId,
    /// Parsed once, here: a row that does not parse is a storage error, never an empty grant.
    pub family_scope: ScopeSet,
    pub expires_at: i64,
    pub rotated: bool,
    pub family_revoked: bool,
    pub client_disabled: bool,
    pub user_disabled: bool,
    /// For a rotated token: the answer its rotation kept for a retry, while the
    /// window is open and the successor unused.
    pub retry: Option<StoredRetry>,
}

/// What the protocol layer decides about a refresh; `R` says why it refused.
#[derive(Debug, Clone)]
pub enum RefreshOutcome<R> {
    /// Rotate; with `retry_until`, keep the answer sealed for a retry until then.
    Rotate {
        issue: IssueSpec,
        retry_until: Option<i64>,
    },
    /// A retry of a rotation whose answer was lost: the same pair again.
    Repeat,
    Refuse(R),
    /// A rotated token came back: revoke the whole family.
    RevokeReplay(R),
}

impl Store {
    /// Rotates a refresh token: `decide` sees the stored token (or `None`).
    /// Returns the new tokens, or the refusal `decide` gave.
    ///
    /// The writer only writes. On the caller's thread, outside the write lock:
    /// the token's state is read from a snapshot and `decide` runs on it; a
    /// refusal is answered from there (the state it saw was committed, so the
    /// answer is linearised at that read); for a rotation the new tokens are
    /// generated and hashed and a retry window's answer sealed. The writer
    /// then runs a compare-and-set, `UPDATE … WHERE used_at IS NULL` and the
    /// family, client and user still live (one row or none), and the INSERTs.
    /// If the compare-and-set finds no row, a concurrent write got there first
    /// and the writer decides again on the state as it is now
    /// ([`rotate_in_tx`]), which is also the path for a rotated token (a retry
    /// or a replay). Simultaneous first uses therefore still rotate once: the
    /// later ones, in the same batch or a later one, find the token rotated
    /// and its answer kept.
    pub async fn rotate_refresh<R: Send + 'static>(
        &self,
        refresh_token: &str,
        now: i64,
        decide: impl Fn(Option<&StoredRefresh>) -> RefreshOutcome<R> + Send + 'static,
    ) -> Result<std::result::Result<IssuedTokens, R>> {
        let mut token = Presented::new(refresh_token, TokenKind::Refresh);
        let hash = token.hash().to_vec();
        // The retry's key is derived from the token itself; it never leaves memory.
        let presented = refresh_token.to_owned();
        // A hot read on the caller's thread (a worker thread for /token).
        let snapshot = self.read(|conn| stored_refresh(conn, &mut token))?;
        let fast = match &snapshot {
            None => match decide(None) {
                RefreshOutcome::Refuse(why) | RefreshOutcome::RevokeReplay(why) => {
                    return Ok(Err(why))
                }
                _ => None,
            },
            Some(state) if !state.refresh.rotated => match decide(Some(&state.refresh)) {
                RefreshOutcome::Refuse(why) => return Ok(Err(why)),
                RefreshOutcome::Rotate { issue, retry_until } => Some(Rotation::prepare(
                    state,
                    issue,
                    retry_until,
                    &hash,
                    &presented,
                )),
                // Only a rotated token is repeated or replayed: decide again
                // inside the transaction.
                RefreshOutcome::Repeat | RefreshOutcome::RevokeReplay(_) => None,
            },
            Some(_) => None,
        };
        self.write_async_as("rotate", now, move |tx| {
            if let Some(rotation) = fast {
                if let Some(tokens) = rotation.apply(tx, &hash)? {
                    return Ok(Ok(tokens));
                }
            }
            rotate_in_tx(tx, &mut token, &presented, &decide)
        })
        .await
    }
}

/// A refresh token's state as rotation sees it, with what the writer needs.
struct RefreshState {
    refresh: StoredRefresh,
    family_seq: i64,
    family_id: FamilyId,
    generation: i64,
}

const SELECT_REFRESH: &str =
    "SELECT c.id, f.scope, r.expires_at, r.used_at IS NOT NULL, f.revoked_at IS NOT NULL, c.disabled, u.disabled,
            f.seq, f.id, r.generation
     FROM families f JOIN refresh_tokens r ON r.family_seq = f.seq
     JOIN clients c ON c.seq = f.client_seq JOIN users u ON u.seq = f.user_seq
     WHERE f.id = ?1 AND r.hash = ?2";

fn stored_refresh(
    conn: &rusqlite::Connection,
    token: &mut Presented,
) -> Result<Option<RefreshState>> {
    let Some((family, hash)) = token.key(conn)? else {
        return Ok(None);
    };
    Ok(conn
        .prepare_cached(SELECT_REFRESH)?
        .query_row(params![family, hash], |row| {
            Ok(RefreshState {
                refresh: StoredRefresh {
                    client_id: row.get(0)?,
                    family_scope: ScopeSet::parse_oauth(&row.get::<_, String>(1)?).map_err(
                        |invalid| {
                            rusqlite::Error::FromSqlConversionFailure(
                                1,
                                rusqlite::types::Type::Text,
                                Box::new(invalid),
                            )
                        },
                    )?,
                    expires_at: row.get(2)?,
                    rotated: row.get(3)?,
                    family_revoked: row.get(4)?,
                    client_disabled: row.get(5)?,
                    user_disabled: row.get(6)?,
                    retry: None,
                },
                family_seq: row.get(7)?,
                family_id: row.get(8)?,
                generation: row.get(9)?,
            })
        })
        .optional()?)
}

/// A rotation made ready outside the write lock: the new tokens generated and
/// hashed, a retry window's answer sealed.
struct Rotation {
    family_seq: i64,
    family_id: FamilyId,
    generation: i64,
    issue: IssueSpec,
    access: Token,
    access_hash: [u8; 32],
    refresh: Token,
    refresh_hash: [u8; 32],
    /// The kept answer, sealed, and the end of its window.
    retry: Option<(SealedPair, i64)>,
}

impl Rotation {
    fn prepare(
        state: &RefreshState,
        issue: IssueSpec,
        retry_until: Option<i64>,
        hash: &[u8],
        presented: &str,
    ) -> Self {
        let access = Token::generate_in(TokenKind::Access, &state.family_id);
        let refresh = Token::generate_in(TokenKind::Refresh, &state.family_id);
        let retry = retry_until.map(|until| {
            let pair = RetryPair {
                access_token: access.clone(),
                refresh_token: refresh.clone(),
                access_expires_at: issue.access_expires_at,
                scope: issue.access_scope.clone(),
            };
            (sealed::seal(presented, hash, &pair), until)
        });
        Rotation {
            family_seq: state.family_seq,
            family_id: state.family_id.clone(),
            generation: state.generation + 1,
            access_hash: access.hash().0,
            refresh_hash: refresh.hash().0,
            access,
            refresh,
            issue,
            retry,
        }
    }

    /// The compare-and-set and the INSERTs; `None` when the token was used,
    /// or its family, client or user stopped being live, since the snapshot.
    fn apply(self, tx: &Tx, hash: &[u8]) -> Result<Option<IssuedTokens>> {
        let now = tx.now;
        let claimed = tx.exec(
            "UPDATE refresh_tokens SET used_at = ?3
             WHERE family_seq = ?1 AND hash = ?2 AND used_at IS NULL AND EXISTS (
                SELECT 1 FROM families f JOIN clients c ON c.seq = f.client_seq JOIN users u ON u.seq = f.user_seq
                WHERE f.seq = ?1 AND f.revoked_at IS NULL AND c.disabled = 0 AND u.disabled = 0)",
            params![self.family_seq, hash, now],
        )?;
        if claimed == 0 {
            return Ok(None);
        }
        let refresh_expires_at = self
            .issue
            .refresh_expires_at
            .unwrap_or(self.issue.access_expires_at);
        insert_access(
            tx,
            &self.access_hash,
            self.family_seq,
            self.generation,
            &self.issue,
        )?;
        insert_refresh(
            tx,
            &self.refresh_hash,
            self.family_seq,
            self.generation,
            refresh_expires_at,
        )?;
        // The predecessor's kept answer dies with its successor's first use:
        // this one's replaces it, or it is deleted.
        match &self.retry {
            Some((sealed, until)) => retries::keep_sealed(
                tx,
                hash,
                self.family_seq,
                &self.issue.access_scope,
                *until,
                sealed,
            )?,
            None => retries::forget_family(tx, self.family_seq)?,
        }
        Ok(Some(IssuedTokens {
            access_token: self.access,
            refresh_token: Some(self.refresh),
            access_expires_at: self.issue.access_expires_at,
            scope: self.issue.access_scope,
            family_id: self.family_id,
            repeat: false,
        }))
    }
}

/// A rotation decided inside the transaction, on the state as it is now: the
/// path for a rotated token (retry or replay) and for a lost compare-and-set.
fn rotate_in_tx<R>(
    tx: &mut Tx,
    token: &mut Presented,
    presented: &str,
    decide: &impl Fn(Option<&StoredRefresh>) -> RefreshOutcome<R>,
) -> Result<std::result::Result<IssuedTokens, R>> {
    let mut stored = stored_refresh(tx, token)?;
    let hash = token.hash();
    if let Some(state) = stored.as_mut().filter(|state| state.refresh.rotated) {
        state.refresh.retry = retries::find(tx, state.family_seq, hash)?;
    }
    let decision = decide(stored.as_ref().map(|state| &state.refresh));
    let Some(state) = stored else {
        return match decision {
            RefreshOutcome::Refuse(why) | RefreshOutcome::RevokeReplay(why) => Ok(Err(why)),
            RefreshOutcome::Rotate { .. } | RefreshOutcome::Repeat => Err(StoreError::internal(
                "asked to rotate an unknown refresh token",
            )),
        };
    };
    match decision {
        RefreshOutcome::Refuse(why) => Ok(Err(why)),
        RefreshOutcome::RevokeReplay(why) => {
            tx.record(
                NewEvent::new(
                    EventKind::RefreshReplay,
                    Actor::Public,
                    "rotated refresh token presented again",
                )
                .client(&state.refresh.client_id)
                .family(&state.family_id),
            )?;
            families::revoke_family_tx(
                tx,
                state.family_seq,
                RevokeReason::RefreshReplay,
                &Actor::Public,
                "",
            )?;
            Ok(Err(why))
        }
        RefreshOutcome::Rotate { issue, retry_until } => {
            let rotation = Rotation::prepare(&state, issue, retry_until, hash, presented);
            rotation.apply(tx, hash)?.map(Ok).ok_or_else(|| {
                StoreError::internal(
                    "a rotation decided in its transaction lost its compare-and-set",
                )
            })
        }
        RefreshOutcome::Repeat => {
            let pair = retries::open(tx, state.family_seq, hash, presented)?;
            Ok(Ok(IssuedTokens {
                access_token: pair.access_token,
                refresh_token: Some(pair.refresh_token),
                access_expires_at: pair.access_expires_at,
                scope: pair.scope,
                family_id: state.family_id,
                repeat: true,
            }))
        }
    }
}
