//! The token state machine: codes, exchange, lookups and /revoke; refresh
//! rotation is in `rotation.rs` and shares the inserts here.
//!
//! Each transition is one `BEGIN IMMEDIATE` transaction. The protocol rules
//! (which request may redeem what) live in `oauth/` and reach the store as a
//! `decide` closure that sees the stored state inside the transaction, so the
//! check and the change can never be split by a concurrent request.

use super::presented::Presented;
use super::{families, Result, Store, StoreError, Tx};
use crate::model::{Actor, ClientId, EventKind, FamilyId, NewEvent, RevokeReason};
use crate::secret::{Token, TokenHash, TokenKind};
use rusqlite::{params, OptionalExtension};

/// A stored code as the exchange sees it.
#[derive(Debug, Clone)]
pub struct StoredCode {
    pub client_id: ClientId,
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
    pub family_id: FamilyId,
    /// A retry's answer: the pair an earlier rotation issued, handed out again
    /// byte for byte; nothing new was issued.
    pub repeat: bool,
}

/// A token found by hash, with everything introspection and bearer checks need.
#[derive(Debug, Clone)]
pub struct AccessTokenInfo {
    pub client_id: ClientId,
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
                    let family_id = FamilyId::generate();
                    tx.exec(
                        "INSERT INTO families (id, client_seq, user_seq, scope, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![family_id, client_seq, user_seq, code.scope, now],
                    )?;
                    let family_seq = tx.last_insert_rowid();
                    tx.exec(
                        "UPDATE auth_codes SET used_at = ?2, family_seq = ?3 WHERE hash = ?1",
                        params![hash, now, family_seq],
                    )?;
                    Ok(Ok(issue_tokens(tx, family_id, family_seq, &spec)?))
                }
            }
        })
    }

    /// A live access or refresh token by its plaintext; `None` if unknown,
    /// expired, used, revoked, or its client or user is disabled.
    pub fn lookup_token(&self, token: &str, now: i64) -> Result<TokenLookup> {
        let is_refresh = token.starts_with(TokenKind::Refresh.prefix());
        let kind = if is_refresh {
            TokenKind::Refresh
        } else {
            TokenKind::Access
        };
        let mut presented = Presented::new(token, kind);
        self.inner.fail_points.hit("lookup", "before")?;
        let fail_points = &self.inner.fail_points;
        self.read_current(|conn| {
            fail_points.hit("lookup", "reading")?;
            let Some((family, hash)) = presented.key(conn)? else {
                return Ok(None);
            };
            let sql = if is_refresh {
                "SELECT c.id, u.username, f.scope, r.issued_at, r.expires_at
                 FROM families f JOIN refresh_tokens r ON r.family_seq = f.seq
                 JOIN clients c ON c.seq = f.client_seq JOIN users u ON u.seq = f.user_seq
                 WHERE f.id = ?1 AND r.hash = ?2 AND r.used_at IS NULL AND r.expires_at > ?3
                   AND f.revoked_at IS NULL AND c.disabled = 0 AND u.disabled = 0"
            } else {
                "SELECT c.id, u.username, a.scope, a.issued_at, a.expires_at
                 FROM families f JOIN access_tokens a ON a.family_seq = f.seq
                 JOIN clients c ON c.seq = f.client_seq JOIN users u ON u.seq = f.user_seq
                 WHERE f.id = ?1 AND a.hash = ?2 AND a.revoked_at IS NULL AND a.expires_at > ?3
                   AND f.revoked_at IS NULL AND c.disabled = 0 AND u.disabled = 0"
            };
            let mut statement = conn.prepare_cached(sql)?;
            Ok(statement
                .query_row(params![family, hash, now], |row| {
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
    pub fn revoke_token(
        &self,
        token: &str,
        client_id: &ClientId,
        now: i64,
    ) -> Result<TokenRevocation> {
        let mut as_refresh = Presented::new(token, TokenKind::Refresh);
        let mut as_access = as_refresh.as_kind(token, TokenKind::Access);
        let client_id = client_id.clone();
        self.write_as("revoke_token", now, move |tx| {
            let client_id = &client_id;
            let owner = |sql: &str, presented: &mut Presented| -> Result<Option<(i64, ClientId)>> {
                let Some((family, hash)) = presented.key(tx)? else {
                    return Ok(None);
                };
                Ok(tx
                    .row(sql, params![family, hash], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?)
            };
            let refresh = owner(
                "SELECT f.seq, c.id FROM families f JOIN refresh_tokens r ON r.family_seq = f.seq
                 JOIN clients c ON c.seq = f.client_seq WHERE f.id = ?1 AND r.hash = ?2",
                &mut as_refresh,
            )?;
            if let Some((family_seq, owner_id)) = refresh {
                if owner_id != *client_id {
                    return Ok(TokenRevocation::OtherClient);
                }
                families::revoke_family_tx(tx, family_seq, RevokeReason::RevokeEndpoint, &Actor::Public, "")?;
                return Ok(TokenRevocation::Revoked);
            }
            let access = owner(
                "SELECT f.seq, c.id FROM families f JOIN access_tokens a ON a.family_seq = f.seq
                 JOIN clients c ON c.seq = f.client_seq WHERE f.id = ?1 AND a.hash = ?2",
                &mut as_access,
            )?;
            match access {
                Some((_, owner_id)) if owner_id != *client_id => Ok(TokenRevocation::OtherClient),
                Some((family_seq, _)) => {
                    tx.exec(
                        "UPDATE access_tokens SET revoked_at = ?3 WHERE family_seq = ?1 AND hash = ?2 AND revoked_at IS NULL",
                        params![family_seq, as_access.hash(), now],
                    )?;
                    Ok(TokenRevocation::Revoked)
                }
                None => Ok(TokenRevocation::Unknown),
            }
        })
    }
}

pub(super) fn insert_access(
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

pub(super) fn insert_refresh(
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

fn family_id(tx: &Tx, family_seq: i64) -> Result<FamilyId> {
    Ok(tx.row(
        "SELECT id FROM families WHERE seq = ?1",
        [family_seq],
        |row| row.get(0),
    )?)
}

/// The first generation of a new family's tokens.
fn issue_tokens(
    tx: &Tx,
    family_id: FamilyId,
    family_seq: i64,
    spec: &IssueSpec,
) -> Result<IssuedTokens> {
    let generation = 0;
    let access_token = Token::generate_in(TokenKind::Access, &family_id);
    insert_access(tx, &access_token.hash().0, family_seq, generation, spec)?;
    let refresh_token = match spec.refresh_expires_at {
        Some(expires_at) => {
            let refresh = Token::generate_in(TokenKind::Refresh, &family_id);
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
        family_id,
        repeat: false,
    })
}
