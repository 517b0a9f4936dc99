//! Refresh rotation, decided where it is written. The new pair is generated
//! and hashed on the caller's thread (a token names its family, so nothing
//! need be read for that); the writer reads the token's state inside the write
//! transaction, decides, and runs the compare-and-set and the INSERTs. Only
//! text that names no family in an issued token's shape is looked up on a
//! reader first: it can only be a token issued before tokens named their
//! family, and other such text is refused there without reaching the writer.
//! A well-formed token naming a family, real or forged, is decided by the
//! writer.

use super::grants::{insert_access, insert_refresh, IssueSpec, IssuedTokens};
use super::presented::Presented;
use super::retries::{self, StoredRetry};
use super::{families, Result, Store, StoreError, Tx, Undo};
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
    /// On the caller's thread, outside the write lock: the token is hashed,
    /// and the successor pair generated and hashed for the family it names.
    /// The writer then reads the token's state, its family, client and user,
    /// in the write transaction ([`rotate_in_tx`]), so `decide` sees the state
    /// as it is at the COMMIT's point in the history: simultaneous first uses
    /// rotate once (the later ones, in the same batch or a later one, find the
    /// token rotated and its answer kept), and a revocation or disable that
    /// committed first is seen. The writer's connection is the only one whose
    /// page cache outlives a COMMIT, so its read costs a few page-cache
    /// lookups where a reader's, after every COMMIT, read each page again
    /// (README, Performance, fourth step).
    ///
    /// Text that names no family in an issued token's shape is looked up on a
    /// reader first: a legacy token's family is found there, and other such
    /// text is refused there (`decide(None)`) without reaching the writer.
    pub async fn rotate_refresh<R: Send + 'static>(
        &self,
        refresh_token: &str,
        now: i64,
        decide: impl Fn(Option<&StoredRefresh>) -> RefreshOutcome<R> + Send + 'static,
    ) -> Result<std::result::Result<IssuedTokens, R>> {
        let mut token = Presented::new(refresh_token, TokenKind::Refresh);
        if token.family().is_none() {
            // Only a legacy token names no family: its family is found by hash.
            self.read(|conn| token.key(conn).map(drop))?;
        }
        let Some(successors) = token.family().map(Successors::generate) else {
            return refuse_unknown(&decide);
        };
        // The retry's key is derived from the token itself; it never leaves memory.
        let presented = refresh_token.to_owned();
        // Decided before anything is written: no savepoint needed (`Undo::Batch`).
        self.write_async_as("rotate", now, Undo::Batch, move |tx| {
            rotate_in_tx(tx, &mut token, &presented, successors, &decide)
        })
        .await
    }
}

/// `decide`'s answer for a token that has no row: a refusal.
fn refuse_unknown<R>(
    decide: &impl Fn(Option<&StoredRefresh>) -> RefreshOutcome<R>,
) -> Result<std::result::Result<IssuedTokens, R>> {
    match decide(None) {
        RefreshOutcome::Refuse(why) | RefreshOutcome::RevokeReplay(why) => Ok(Err(why)),
        RefreshOutcome::Rotate { .. } | RefreshOutcome::Repeat => Err(StoreError::internal(
            "asked to rotate an unknown refresh token",
        )),
    }
}

/// A successor pair, generated and hashed outside the write lock.
struct Successors {
    access: Token,
    access_hash: [u8; 32],
    refresh: Token,
    refresh_hash: [u8; 32],
}

impl Successors {
    fn generate(family: &FamilyId) -> Self {
        let access = Token::generate_in(TokenKind::Access, family);
        let refresh = Token::generate_in(TokenKind::Refresh, family);
        Successors {
            access_hash: access.hash().0,
            refresh_hash: refresh.hash().0,
            access,
            refresh,
        }
    }
}

/// A refresh token's state as rotation sees it, with what the writer needs.
struct RefreshState {
    refresh: StoredRefresh,
    family_seq: i64,
    family_id: FamilyId,
    generation: i64,
    /// Whether the family has a kept answer (of this token or an older one).
    kept_retry: bool,
}

const SELECT_REFRESH: &str =
    "SELECT c.id, f.scope, r.expires_at, r.used_at IS NOT NULL, f.revoked_at IS NOT NULL, c.disabled, u.disabled,
            f.seq, f.id, r.generation, k.family_seq IS NOT NULL
     FROM families f JOIN refresh_tokens r ON r.family_seq = f.seq
     JOIN clients c ON c.seq = f.client_seq JOIN users u ON u.seq = f.user_seq
     LEFT JOIN refresh_retries k ON k.family_seq = f.seq
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
                kept_retry: row.get(10)?,
            })
        })
        .optional()?)
}

/// A rotation decided in the write transaction: the successor pair generated
/// before it, a retry window's answer sealed.
struct Rotation {
    family_seq: i64,
    family_id: FamilyId,
    generation: i64,
    issue: IssueSpec,
    successors: Successors,
    /// The kept answer, sealed, and the end of its window.
    retry: Option<(SealedPair, i64)>,
    /// Whether the family has a kept answer now (one to replace or delete).
    kept_retry: bool,
}

impl Rotation {
    /// `successors` were generated for the family the token names, which is
    /// the family whose row `state` is (it was looked up by that id).
    fn prepare(
        state: RefreshState,
        successors: Successors,
        issue: IssueSpec,
        retry_until: Option<i64>,
        hash: &[u8],
        presented: &str,
    ) -> Self {
        let retry = retry_until.map(|until| {
            let pair = RetryPair {
                access_token: successors.access.clone(),
                refresh_token: successors.refresh.clone(),
                access_expires_at: issue.access_expires_at,
                scope: issue.access_scope.clone(),
            };
            (sealed::seal(presented, hash, &pair), until)
        });
        Rotation {
            family_seq: state.family_seq,
            family_id: state.family_id,
            generation: state.generation + 1,
            issue,
            successors,
            retry,
            kept_retry: state.kept_retry,
        }
    }

    /// The compare-and-set and the INSERTs. The state it was decided on was
    /// read in this transaction, so the compare-and-set finds its row unless
    /// the store is broken.
    fn apply(self, tx: &Tx, hash: &[u8]) -> Result<IssuedTokens> {
        let claimed = tx.exec(
            "UPDATE refresh_tokens SET used_at = ?3
             WHERE family_seq = ?1 AND hash = ?2 AND used_at IS NULL",
            params![self.family_seq, hash, tx.now],
        )?;
        if claimed != 1 {
            return Err(StoreError::internal(
                "a rotation decided in its transaction lost its compare-and-set",
            ));
        }
        let refresh_expires_at = self
            .issue
            .refresh_expires_at
            .unwrap_or(self.issue.access_expires_at);
        insert_access(
            tx,
            &self.successors.access_hash,
            self.family_seq,
            self.generation,
            &self.issue,
        )?;
        insert_refresh(
            tx,
            &self.successors.refresh_hash,
            self.family_seq,
            self.generation,
            refresh_expires_at,
        )?;
        // The predecessor's kept answer dies with its successor's first use:
        // this one's replaces it, or it is deleted (when there is one).
        match &self.retry {
            Some((sealed, until)) => retries::keep_sealed(
                tx,
                hash,
                self.family_seq,
                &self.issue.access_scope,
                *until,
                sealed,
            )?,
            None if self.kept_retry => retries::forget_family(tx, self.family_seq)?,
            None => {}
        }
        Ok(IssuedTokens {
            access_token: self.successors.access,
            refresh_token: Some(self.successors.refresh),
            access_expires_at: self.issue.access_expires_at,
            scope: self.issue.access_scope,
            family_id: self.family_id,
            repeat: false,
        })
    }
}

/// A rotation decided inside the transaction, on the state as it is now.
fn rotate_in_tx<R>(
    tx: &mut Tx,
    token: &mut Presented,
    presented: &str,
    successors: Successors,
    decide: &impl Fn(Option<&StoredRefresh>) -> RefreshOutcome<R>,
) -> Result<std::result::Result<IssuedTokens, R>> {
    let Some(mut state) = stored_refresh(tx, token)? else {
        return refuse_unknown(decide);
    };
    let hash = token.hash();
    if state.refresh.rotated && state.kept_retry {
        state.refresh.retry = retries::find(tx, state.family_seq, hash)?;
    }
    match decide(Some(&state.refresh)) {
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
            let rotation =
                Rotation::prepare(state, successors, issue, retry_until, hash, presented);
            rotation.apply(tx, hash).map(Ok)
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
