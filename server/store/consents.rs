//! Remembered consent, one row per (user, client, scope), and the one
//! transaction that mints an authorization code.
//!
//! The code is minted against the client and user as they are at that moment:
//! the transaction loads both and hands them to the protocol layer's `decide`
//! closure, which may refuse (client disabled, redirect URI or scope no longer
//! registered, user disabled). Consent given on the page is remembered in the
//! same transaction. Revoking a client's or a user's grants forgets consent
//! ([`forget`], called from the bulk revocations), so the next authorization
//! shows the consent page again.

use super::{clients, Result, Store, StoreError, Tx};
use crate::model::{Client, ClientId, ScopeSet};
use crate::secret::{Token, TokenKind};
use rusqlite::params;

/// What the browser flow hands to the store to mint a code.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub client_id: ClientId,
    pub user_seq: i64,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub scope: ScopeSet,
    pub expires_at: i64,
}

/// The parties of a grant as they are inside the minting transaction.
pub struct GrantParties<'a> {
    /// `None` if the client was deleted.
    pub client: Option<&'a Client>,
    /// `None` if the user was deleted.
    pub user_disabled: Option<bool>,
}

impl Store {
    /// Whether the user already consented to every scope in `scope` for this client.
    pub fn consent_covers(
        &self,
        user_seq: i64,
        client_id: &ClientId,
        scope: &ScopeSet,
    ) -> Result<bool> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT k.scope FROM consent_scopes k JOIN clients c ON c.seq = k.client_seq
                 WHERE k.user_seq = ?1 AND c.id = ?2",
            )?;
            let granted = statement
                .query_map(params![user_seq, client_id], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(scope
                .names()
                .iter()
                .all(|name| granted.iter().any(|g| g == name.as_str())))
        })
    }

    /// Mints a code in one transaction: `decide` sees the client and user as
    /// they are now and may refuse; with `remember`, the consent is recorded too.
    pub fn grant_code<R: Send + 'static>(
        &self,
        grant: CodeGrant,
        remember: bool,
        now: i64,
        decide: impl FnOnce(GrantParties) -> std::result::Result<(), R> + Send + 'static,
    ) -> Result<std::result::Result<Token, R>> {
        self.write_as("grant_code", now, move |tx| {
            let client = clients::load_lean(tx, &grant.client_id)?;
            let user_disabled = tx
                .row(
                    "SELECT disabled FROM users WHERE seq = ?1",
                    [grant.user_seq],
                    |row| row.get(0),
                )
                .map(Some)
                .or_else(|error| match error {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    other => Err(other),
                })?;
            let parties = GrantParties {
                client: client.as_ref().map(|(_, client)| client),
                user_disabled,
            };
            if let Err(refusal) = decide(parties) {
                return Ok(Err(refusal));
            }
            let client_seq = client
                .map(|(seq, _)| seq)
                .ok_or_else(|| StoreError::not_found("client", grant.client_id.as_str()))?;
            if remember {
                for name in grant.scope.names() {
                    tx.exec(
                        "INSERT INTO consent_scopes (user_seq, client_seq, scope, granted_at)
                         VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (user_seq, client_seq, scope) DO UPDATE SET granted_at = excluded.granted_at",
                        params![grant.user_seq, client_seq, name.as_str(), now],
                    )?;
                }
            }
            let code = Token::generate(TokenKind::Code);
            tx.exec(
                "INSERT INTO auth_codes (hash, client_seq, user_seq, redirect_uri, code_challenge, scope, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    code.hash().0.to_vec(),
                    client_seq,
                    grant.user_seq,
                    grant.redirect_uri,
                    grant.code_challenge,
                    grant.scope.to_string(),
                    now,
                    grant.expires_at
                ],
            )?;
            Ok(Ok(code))
        })
    }
}

/// Forgets every consent whose `owner_column` (`client_seq` or `user_seq`) is
/// `owner`: part of revoking that owner's grants.
pub(super) fn forget(tx: &Tx, owner_column: &str, owner: i64) -> Result<()> {
    tx.exec(
        &format!("DELETE FROM consent_scopes WHERE {owner_column} = ?1"),
        [owner],
    )?;
    Ok(())
}

/// Forgets the consent behind one family (its user, for its client): part of
/// an operator revoking that family.
pub(super) fn forget_family(tx: &Tx, family_seq: i64) -> Result<()> {
    tx.exec(
        "DELETE FROM consent_scopes WHERE (user_seq, client_seq) =
            (SELECT user_seq, client_seq FROM families WHERE seq = ?1)",
        [family_seq],
    )?;
    Ok(())
}
