//! The token state machine: codes, exchange, rotation, lookups and /revoke.
//!
//! Each transition is one `BEGIN IMMEDIATE` transaction. The protocol rules
//! (which request may redeem what) live in `oauth/` and reach the store as a
//! `decide` closure that sees the stored state inside the transaction, so the
//! check and the change can never be split by a concurrent request.

use super::retries::{self, StoredRetry};
use super::{families, Result, Store, StoreError, Tx};
use crate::model::{Actor, EventKind, NewEvent, RevokeReason, ScopeSet};
use crate::sealed::{self, RetryPair, SealedPair};
use crate::secret::{random_base64, Token, TokenHash, TokenKind};
use rusqlite::{params, OptionalExtension};

/// A stored code as the exchange sees it.
#[derive(Debug, Clone)]
pub struct StoredCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub scope: String,
    pub expires_at: i64,
    pub used: bool,
    pub voided: bool,
    pub client_disabled: bool,
    pub user_disabled: bool,
}

/// What the protocol layer decides about a code exchange; `R` says why it refused.
#[derive(Debug, Clone)]
pub enum CodeRedemption<R> {
    /// Consume the code and issue tokens.
    Issue(IssueSpec),
    /// Refuse; change nothing.
    Refuse(R),
    /// Refuse and revoke every token the code already produced (code reuse).
    RevokeReuse(R),
}

/// Lifetimes and shape of tokens to issue.
#[derive(Debug, Clone)]
pub struct IssueSpec {
    pub access_scope: String,
    pub access_expires_at: i64,
    /// `None`: no refresh token (the client lacks the grant type).
    pub refresh_expires_at: Option<i64>,
}

/// Tokens handed out by an exchange or rotation.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: Token,
    pub refresh_token: Option<Token>,
    pub access_expires_at: i64,
    pub scope: String,
    pub family_id: String,
    /// A retry's answer: the pair an earlier rotation issued, handed out again
    /// byte for byte; nothing new was issued.
    pub repeat: bool,
}

/// A stored refresh token as rotation sees it.
#[derive(Debug, Clone)]
pub struct StoredRefresh {
    pub client_id: String,
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

/// A token found by hash, with everything introspection and bearer checks need.
#[derive(Debug, Clone)]
pub struct AccessTokenInfo {
    pub client_id: String,
    pub username: String,
    pub scope: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub is_refresh: bool,
}

/// Result of a lookup: live or not.
pub type TokenLookup = Option<AccessTokenInfo>;

/// What /revoke did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRevocation {
    Revoked,
    Unknown,
    OtherClient,
}

impl Store {
    /// Exchanges a code: `decide` sees the stored code (or `None`) inside the
    /// transaction. Returns the tokens, or the refusal `decide` gave.
    pub fn redeem_code<R: Send + 'static>(
        &self,
        code: &str,
        now: i64,
        decide: impl FnOnce(Option<&StoredCode>) -> CodeRedemption<R> + Send + 'static,
    ) -> Result<std::result::Result<IssuedTokens, R>> {
        let hash = TokenHash::of(code).0.to_vec();
        self.write_as("exchange", now, move |tx| {
            let stored = tx
                .row(
                    "SELECT c.id, a.redirect_uri, a.code_challenge, a.scope, a.expires_at, a.used_at IS NOT NULL, a.voided,
                            c.disabled, u.disabled, a.client_seq, a.user_seq, a.family_seq
                     FROM auth_codes a JOIN clients c ON c.seq = a.client_seq JOIN users u ON u.seq = a.user_seq
                     WHERE a.hash = ?1",
                    [&hash],
                    |row| {
                        Ok((
                            StoredCode {
                                client_id: row.get(0)?,
                                redirect_uri: row.get(1)?,
                                code_challenge: row.get(2)?,
                                scope: row.get(3)?,
                                expires_at: row.get(4)?,
                                used: row.get(5)?,
                                voided: row.get(6)?,
                                client_disabled: row.get(7)?,
                                user_disabled: row.get(8)?,
                            },
                            row.get::<_, i64>(9)?,
                            row.get::<_, i64>(10)?,
                            row.get::<_, Option<i64>>(11)?,
                        ))
                    },
                )
                .optional()?;
            let decision = decide(stored.as_ref().map(|(code, ..)| code));
            let Some((code, client_seq, user_seq, family_seq)) = stored else {
                return match decision {
                    CodeRedemption::Refuse(why) | CodeRedemption::RevokeReuse(why) => Ok(Err(why)),
                    CodeRedemption::Issue(_) => Err(StoreError::internal("asked to issue tokens for an unknown code")),
                };
            };
            match decision {
                CodeRedemption::Refuse(why) => Ok(Err(why)),
                CodeRedemption::RevokeReuse(why) => {
                    if let Some(family_seq) = family_seq {
                        let family_id = family_id(tx, family_seq)?;
                        tx.record(
                            NewEvent::new(EventKind::CodeReuse, Actor::Public, "authorization code presented twice")
                                .client(&code.client_id)
                                .family(&family_id),
                        )?;
                        families::revoke_family_tx(tx, family_seq, RevokeReason::CodeReuse, &Actor::Public, "")?;
                    }
                    Ok(Err(why))
                }
                CodeRedemption::Issue(spec) => {
                    let family_id = format!("fam_{}", random_base64(12));
                    tx.exec(
                        "INSERT INTO families (id, client_seq, user_seq, scope, created_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                        params![family_id, client_seq, user_seq, code.scope, now],
                    )?;
                    let family_seq = tx.last_insert_rowid();
                    tx.exec(
                        "UPDATE auth_codes SET used_at = ?2, family_seq = ?3 WHERE hash = ?1",
                        params![hash, now, family_seq],
                    )?;
                    let tokens = issue_tokens(tx, family_seq, 0, &spec)?;
                    Ok(Ok(IssuedTokens { family_id, ..tokens }))
                }
            }
        })
    }

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
        let hash = TokenHash::of(refresh_token).0.to_vec();
        // The retry's key is derived from the token itself; it never leaves memory.
        let presented = refresh_token.to_owned();
        // A hot read on the caller's thread (a worker thread for /token).
        let snapshot = self.read(|conn| stored_refresh(conn, &hash))?;
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
            rotate_in_tx(tx, &hash, &presented, &decide)
        })
        .await
    }

    /// A live access or refresh token by its plaintext; `None` if unknown,
    /// expired, used, revoked, or its client or user is disabled.
    pub fn lookup_token(&self, token: &str, now: i64) -> Result<TokenLookup> {
        let hash = TokenHash::of(token).0.to_vec();
        let is_refresh = token.starts_with(TokenKind::Refresh.prefix());
        self.inner.fail_points.hit("lookup", "before")?;
        self.read(|conn| {
            let sql = if is_refresh {
                "SELECT c.id, u.username, f.scope, r.issued_at, r.expires_at
                 FROM refresh_tokens r JOIN families f ON f.seq = r.family_seq
                 JOIN clients c ON c.seq = f.client_seq JOIN users u ON u.seq = f.user_seq
                 WHERE r.hash = ?1 AND r.used_at IS NULL AND r.expires_at > ?2
                   AND f.revoked_at IS NULL AND c.disabled = 0 AND u.disabled = 0"
            } else {
                "SELECT c.id, u.username, a.scope, a.issued_at, a.expires_at
                 FROM access_tokens a JOIN families f ON f.seq = a.family_seq
                 JOIN clients c ON c.seq = f.client_seq JOIN users u ON u.seq = f.user_seq
                 WHERE a.hash = ?1 AND a.revoked_at IS NULL AND a.expires_at > ?2
                   AND f.revoked_at IS NULL AND c.disabled = 0 AND u.disabled = 0"
            };
            let mut statement = conn.prepare_cached(sql)?;
            Ok(statement
                .query_row(params![hash, now], |row| {
                    Ok(AccessTokenInfo {
                        client_id: row.get(0)?,
                        username: row.get(1)?,
                        scope: row.get(2)?,
                        issued_at: row.get(3)?,
                        expires_at: row.get(4)?,
                        is_refresh,
                    })
                })
                .optional()?)
        })
    }

    /// /revoke: a refresh token revokes its family, an access token itself; a
    /// token of another client is left alone.
    pub fn revoke_token(&self, token: &str, client_id: &str, now: i64) -> Result<TokenRevocation> {
        let hash = TokenHash::of(token).0.to_vec();
        let client_id = client_id.to_owned();
        self.write_as("revoke_token", now, move |tx| {
            let client_id = client_id.as_str();
            let owner = |sql: &str| -> Result<Option<(i64, String)>> {
                Ok(tx.row(sql, [&hash], |row| Ok((row.get(0)?, row.get(1)?))).optional()?)
            };
            let refresh = owner(
                "SELECT f.seq, c.id FROM refresh_tokens r JOIN families f ON f.seq = r.family_seq
                 JOIN clients c ON c.seq = f.client_seq WHERE r.hash = ?1",
            )?;
            if let Some((family_seq, owner_id)) = refresh {
                if owner_id != client_id {
                    return Ok(TokenRevocation::OtherClient);
                }
                families::revoke_family_tx(tx, family_seq, RevokeReason::RevokeEndpoint, &Actor::Public, "")?;
                return Ok(TokenRevocation::Revoked);
            }
            let access = owner(
                "SELECT f.seq, c.id FROM access_tokens a JOIN families f ON f.seq = a.family_seq
                 JOIN clients c ON c.seq = f.client_seq WHERE a.hash = ?1",
            )?;
            match access {
                Some((_, owner_id)) if owner_id != client_id => Ok(TokenRevocation::OtherClient),
                Some(_) => {
                    tx.exec(
                        "UPDATE access_tokens SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL",
                        params![hash, now],
                    )?;
                    Ok(TokenRevocation::Revoked)
                }
                None => Ok(TokenRevocation::Unknown),
            }
        })
    }
}

/// A refresh token's state as rotation sees it, with what the writer needs.
struct RefreshState {
    refresh: StoredRefresh,
    family_seq: i64,
    family_id: String,
    generation: i64,
}

const SELECT_REFRESH: &str =
    "SELECT c.id, f.scope, r.expires_at, r.used_at IS NOT NULL, f.revoked_at IS NOT NULL, c.disabled, u.disabled,
            f.seq, f.id, r.generation
     FROM refresh_tokens r JOIN families f ON f.seq = r.family_seq
     JOIN clients c ON c.seq = f.client_seq JOIN users u ON u.seq = f.user_seq
     WHERE r.hash = ?1";

fn stored_refresh(conn: &rusqlite::Connection, hash: &[u8]) -> Result<Option<RefreshState>> {
    Ok(conn
        .prepare_cached(SELECT_REFRESH)?
        .query_row([hash], |row| {
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
    family_id: String,
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
        let access = Token::generate(TokenKind::Access);
        let refresh = Token::generate(TokenKind::Refresh);
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
            "UPDATE refresh_tokens SET used_at = ?2
             WHERE hash = ?1 AND used_at IS NULL AND EXISTS (
                SELECT 1 FROM families f JOIN clients c ON c.seq = f.client_seq JOIN users u ON u.seq = f.user_seq
                WHERE f.seq = refresh_tokens.family_seq AND f.revoked_at IS NULL AND c.disabled = 0 AND u.disabled = 0)",
            params![hash, now],
        )?;
        if claimed == 0 {
            return Ok(None);
        }
        tx.exec(
            "UPDATE families SET last_used_at = ?2, rotations = rotations + 1 WHERE seq = ?1",
            params![self.family_seq, now],
        )?;
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
    hash: &[u8],
    presented: &str,
    decide: &impl Fn(Option<&StoredRefresh>) -> RefreshOutcome<R>,
) -> Result<std::result::Result<IssuedTokens, R>> {
    let mut stored = stored_refresh(tx, hash)?;
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

fn insert_access(
    tx: &Tx,
    hash: &[u8],
    family_seq: i64,
    generation: i64,
    spec: &IssueSpec,
) -> Result<()> {
    tx.exec(
        "INSERT INTO access_tokens (hash, family_seq, generation, scope, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![hash, family_seq, generation, spec.access_scope, tx.now, spec.access_expires_at],
    )?;
    Ok(())
}

fn insert_refresh(
    tx: &Tx,
    hash: &[u8],
    family_seq: i64,
    generation: i64,
    expires_at: i64,
) -> Result<()> {
    tx.exec(
        "INSERT INTO refresh_tokens (hash, family_seq, generation, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![hash, family_seq, generation, tx.now, expires_at],
    )?;
    Ok(())
}

fn family_id(tx: &Tx, family_seq: i64) -> Result<String> {
    Ok(tx.row(
        "SELECT id FROM families WHERE seq = ?1",
        [family_seq],
        |row| row.get(0),
    )?)
}

fn issue_tokens(
    tx: &Tx,
    family_seq: i64,
    generation: i64,
    spec: &IssueSpec,
) -> Result<IssuedTokens> {
    let access_token = Token::generate(TokenKind::Access);
    insert_access(tx, &access_token.hash().0, family_seq, generation, spec)?;
    let refresh_token = match spec.refresh_expires_at {
        Some(expires_at) => {
            let refresh = Token::generate(TokenKind::Refresh);
            insert_refresh(tx, &refresh.hash().0, family_seq, generation, expires_at)?;
            Some(refresh)
        }
        None => None,
    };
    Ok(IssuedTokens {
        access_token,
        refresh_token,
        access_expires_at: spec.access_expires_at,
        scope: spec.access_scope.clone(),
        family_id: String::new(),
        repeat: false,
    })
}
