//! Clients: registration, changes, disabling, secrets, deletion.

use super::secrets::{self, StoredSecret};
use super::{families, Result, Store, StoreError, Tx};
use crate::model::{
    Actor, Client, ClientId, ClientSpec, EventKind, GrantType, Invalid, NewEvent, RedirectUri,
    RetryWindow, RevokeReason, ScopeName, ScopeSet,
};
use crate::secret::{Token, TokenKind};
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::sync::Arc;

/// A client row with its lists; `{live}` is the active-family count column.
macro_rules! select_client {
    ($live:literal) => {
        concat!(
            "SELECT c.seq, c.id, c.name, c.public, c.disabled, c.created_at, c.updated_at,
                (SELECT group_concat(uri, char(10)) FROM
                    (SELECT uri FROM client_redirect_uris WHERE client_seq = c.seq ORDER BY position)),
                (SELECT group_concat(scope, ' ') FROM
                    (SELECT scope FROM client_scopes WHERE client_seq = c.seq ORDER BY scope)),
                (SELECT group_concat(grant_type, ' ') FROM
                    (SELECT grant_type FROM client_grant_types WHERE client_seq = c.seq ORDER BY grant_type)), ",
            $live,
            ", c.refresh_retry_window_secs, c.resource_server FROM clients c"
        )
    };
}

/// For the admin plane: with the count of live families.
const SELECT_CLIENT: &str = select_client!(
    "(SELECT count(*) FROM families WHERE client_seq = c.seq AND revoked_at IS NULL)"
);
/// For client authentication and the browser flow: the count is not needed.
const SELECT_CLIENT_FOR_AUTH: &str = select_client!("0");

/// A client together with what authenticating it needs.
pub struct ClientCredentials {
    pub client: Arc<Client>,
    /// Its secrets, expired ones not yet purged included (none if public).
    pub secrets: Vec<StoredSecret>,
}

impl Store {
    /// Registers a client; confidential clients get a secret, returned only here.
    pub fn create_client(
        &self,
        actor: Actor,
        spec: ClientSpec,
        now: i64,
    ) -> Result<(Client, Option<Token>)> {
        self.write(now, move |tx| {
            let id = ClientId::generate();
            let secret = (!spec.public).then(|| Token::generate(TokenKind::ClientSecret));
            // `secret_hash` is only a marker now (empty for confidential
            // clients); the hash lives in `client_secrets` (migration 6).
            let marker: Option<&[u8]> = secret.as_ref().map(|_| &[][..]);
            tx.execute(
                "INSERT INTO clients (id, name, public, secret_hash, created_at, updated_at, refresh_retry_window_secs, resource_server)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
                params![
                    id,
                    spec.name,
                    spec.public,
                    marker,
                    now,
                    spec.refresh_retry_window.secs(),
                    spec.resource_server,
                ],
            )?;
            let seq = tx.last_insert_rowid();
            if let Some(secret) = &secret {
                secrets::insert_first(tx, seq, secret, now)?;
            }
            write_lists(tx, seq, &spec)?;
            tx.record(
                NewEvent::new(
                    EventKind::ClientCreated,
                    actor,
                    format!("created {:?}", spec.name),
                )
                .client(&id),
            )?;
            Ok((load(tx, &id)?, secret))
        })
    }

    pub fn get_client(&self, id: &ClientId) -> Result<Client> {
        self.read(|conn| load(conn, id))
    }

    /// The client as the browser flow needs it: without the live-family count.
    pub fn client_for_authorization(&self, id: &ClientId) -> Result<Client> {
        self.read(|conn| load_lean(conn, id))?
            .map(|(_, client)| client)
            .ok_or_else(|| StoreError::not_found("client", id.as_str()))
    }

    /// The client and its secret hashes, for client authentication; `None` if
    /// unknown. Served from memory until a COMMIT changes a client (client_cache.rs).
    pub fn client_credentials(&self, id: &ClientId) -> Result<Option<Arc<ClientCredentials>>> {
        self.inner.clients.get_or_load(id.as_str(), || {
            self.read(|conn| {
                let Some((seq, client)) = load_lean(conn, id)? else {
                    return Ok(None);
                };
                let secrets = if client.public {
                    Vec::new()
                } else {
                    secrets::stored(conn, seq)?
                };
                Ok(Some(ClientCredentials {
                    client: Arc::new(client),
                    secrets,
                }))
            })
        })
    }

    /// How many clients the authentication cache holds (at most 10,000).
    pub fn cached_clients(&self) -> u64 {
        self.inner.clients.len()
    }

    /// Clients in registration order after the keyset cursor `after_seq`, whose
    /// name or id contains `filter` (case-insensitive). Returns the page and the
    /// cursor of the next one.
    pub fn list_clients(
        &self,
        filter: &str,
        limit: usize,
        after_seq: i64,
    ) -> Result<(Vec<Client>, Option<i64>)> {
        self.read(|conn| {
            let pattern = format!("%{}%", escape_like(filter));
            let mut statement = conn.prepare_cached(&format!(
                "{SELECT_CLIENT} WHERE c.seq > ?1 AND (?2 = '%%' OR c.name LIKE ?2 ESCAPE '\\' OR c.id LIKE ?2 ESCAPE '\\')
                 ORDER BY c.seq LIMIT ?3"
            ))?;
            let rows = statement
                .query_map(params![after_seq, pattern, limit as i64 + 1], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(page(rows, limit))
        })
    }

    /// Replaces a client's registration with what `change` makes of the current one.
    pub fn update_client(
        &self,
        actor: Actor,
        id: &ClientId,
        now: i64,
        change: impl FnOnce(&Client) -> std::result::Result<ClientSpec, Invalid> + Send + 'static,
    ) -> Result<Client> {
        let id = id.clone();
        self.write(now, move |tx| {
            let id = &id;
            let current = load(tx, id)?;
            let spec = change(&current)?;
            let seq = seq_of(tx, id)?;
            if spec.public != current.public {
                return Err(Invalid::new(
                    "public",
                    "a client cannot switch between public and confidential; create a new client",
                )
                .into());
            }
            tx.execute(
                "UPDATE clients SET name = ?2, updated_at = ?3, refresh_retry_window_secs = ?4, resource_server = ?5 WHERE seq = ?1",
                params![seq, spec.name, now, spec.refresh_retry_window.secs(), spec.resource_server],
            )?;
            for table in [
                "client_redirect_uris",
                "client_scopes",
                "client_grant_types",
            ] {
                tx.execute(&format!("DELETE FROM {table} WHERE client_seq = ?1"), [seq])?;
            }
            write_lists(tx, seq, &spec)?;
            tx.record(
                NewEvent::new(
                    EventKind::ClientUpdated,
                    actor,
                    format!("updated {:?}", spec.name),
                )
                .client(id)
                .changes(current.changes_to(&spec)),
            )?;
            load(tx, id)
        })
    }

    /// Disables or enables a client. Disabling revokes its live families and voids
    /// its unexchanged codes; returns the client and how many families were revoked.
    pub fn set_client_disabled(
        &self,
        actor: Actor,
        id: &ClientId,
        disabled: bool,
        now: i64,
    ) -> Result<(Client, i64)> {
        let id = id.clone();
        self.write(now, move |tx| {
            let id = &id;
            let seq = seq_of(tx, id)?;
            tx.execute(
                "UPDATE clients SET disabled = ?2, updated_at = ?3 WHERE seq = ?1",
                params![seq, disabled, now],
            )?;
            let revoked = if disabled {
                tx.execute(
                    "UPDATE auth_codes SET voided = 1 WHERE client_seq = ?1 AND used_at IS NULL",
                    [seq],
                )?;
                families::revoke_where(tx, "client_seq", seq, RevokeReason::ClientDisabled, &actor)?
            } else {
                0
            };
            let kind = if disabled {
                EventKind::ClientDisabled
            } else {
                EventKind::ClientEnabled
            };
            let detail = if disabled {
                format!("{revoked} families revoked")
            } else {
                String::new()
            };
            tx.record(NewEvent::new(kind, actor, detail).client(id))?;
            Ok((load(tx, id)?, revoked))
        })
    }

    /// Deletes a client with its codes, families and tokens.
    pub fn delete_client(&self, actor: Actor, id: &ClientId, now: i64) -> Result<()> {
        let id = id.clone();
        self.write(now, move |tx| {
            let id = &id;
            let client = load(tx, id)?;
            tx.execute("DELETE FROM clients WHERE id = ?1", [id])?;
            tx.record(
                NewEvent::new(
                    EventKind::ClientDeleted,
                    actor,
                    format!("deleted {:?}", client.name),
                )
                .client(id),
            )
        })
    }
}

fn write_lists(tx: &mut Tx, seq: i64, spec: &ClientSpec) -> Result<()> {
    for (position, uri) in spec.redirect_uris.iter().enumerate() {
        tx.execute(
            "INSERT INTO client_redirect_uris (client_seq, position, uri) VALUES (?1, ?2, ?3)",
            params![seq, position as i64, uri.as_str()],
        )?;
    }
    for scope in spec.scopes.names() {
        let known: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM scopes WHERE name = ?1)",
            [scope.as_str()],
            |row| row.get(0),
        )?;
        if !known {
            return Err(Invalid::new(
                "scopes",
                format!(
                    "unknown scope {:?}; add it with `gatehouse scope add`",
                    scope.as_str()
                ),
            )
            .into());
        }
        tx.execute(
            "INSERT INTO client_scopes (client_seq, scope) VALUES (?1, ?2)",
            params![seq, scope.as_str()],
        )?;
    }
    for grant in &spec.grant_types {
        tx.execute(
            "INSERT INTO client_grant_types (client_seq, grant_type) VALUES (?1, ?2)",
            params![seq, grant.as_str()],
        )?;
    }
    Ok(())
}

pub(super) fn seq_of(conn: &Connection, id: &ClientId) -> Result<i64> {
    conn.query_row("SELECT seq FROM clients WHERE id = ?1", [id], |row| {
        row.get(0)
    })
    .optional()?
    .ok_or_else(|| StoreError::not_found("client", id.as_str()))
}

pub(super) fn load(conn: &Connection, id: &ClientId) -> Result<Client> {
    let mut statement = conn.prepare_cached(&format!("{SELECT_CLIENT} WHERE c.id = ?1"))?;
    statement
        .query_row([id], from_row)
        .optional()?
        .map(|(_, client)| client)
        .ok_or_else(|| StoreError::not_found("client", id.as_str()))
}

/// The client without its live-family count (which only admin views need):
/// `(seq, client)`, or `None` if unknown.
pub(super) fn load_lean(conn: &Connection, id: &ClientId) -> Result<Option<(i64, Client)>> {
    let mut statement =
        conn.prepare_cached(&format!("{SELECT_CLIENT_FOR_AUTH} WHERE c.id = ?1"))?;
    Ok(statement.query_row([id], from_row).optional()?)
}

fn from_row(row: &Row) -> rusqlite::Result<(i64, Client)> {
    let uris: Option<String> = row.get(7)?;
    let scopes: Option<String> = row.get(8)?;
    let grants: Option<String> = row.get(9)?;
    let client = Client {
        id: row.get(1)?,
        name: row.get(2)?,
        public: row.get(3)?,
        disabled: row.get(4)?,
        refresh_retry_window: RetryWindow::from_trusted(row.get(11)?),
        resource_server: row.get(12)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        redirect_uris: uris
            .unwrap_or_default()
            .split('\n')
            .filter(|uri| !uri.is_empty())
            .map(|uri| RedirectUri::from_trusted(uri.to_owned()))
            .collect(),
        scopes: ScopeSet::new(
            scopes
                .unwrap_or_default()
                .split(' ')
                .filter_map(|name| ScopeName::parse(name).ok()),
        ),
        grant_types: grants
            .unwrap_or_default()
            .split(' ')
            .filter_map(|grant| GrantType::parse(grant).ok())
            .collect(),
        active_families: row.get(10)?,
    };
    Ok((row.get(0)?, client))
}

/// Splits a `limit + 1` query result into a page and the next cursor.
pub(super) fn page<T>(mut rows: Vec<(i64, T)>, limit: usize) -> (Vec<T>, Option<i64>) {
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|(seq, _)| *seq)
    } else {
        None
    };
    (rows.into_iter().map(|(_, item)| item).collect(), next)
}

pub(super) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
