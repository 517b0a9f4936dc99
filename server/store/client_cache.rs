//! Client credentials held in memory for client authentication, in a cache
//! that cannot lie.
//!
//! Every /token, /revoke and /introspect authenticates its client; reading the
//! client with its lists and secrets is four lookups and a dozen allocations.
//! Here a loaded client is kept, tagged with the generation it was read in.
//! The write connection carries TEMP triggers on every table a client is made
//! of (`TABLES`): any insert, update or delete there, by whichever store code,
//! marks the cache touched, and the writer bumps the generation after the
//! COMMIT and before anyone hears of it. An entry from an older generation is
//! never served, so a disabled client, a revoked secret or a changed grant
//! type takes effect on the very next request, as if nothing were cached.
//!
//! A reader takes the generation before it reads: if a change commits in
//! between, the entry it stores already carries an old generation. Unknown
//! ids are not cached (a caller choosing ids cannot fill the cache), and the
//! cache holds at most `CAPACITY` clients. Token and family state is never
//! cached.

use super::clients::ClientCredentials;
use super::Result;
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Clients held at most (each a few hundred bytes).
const CAPACITY: u64 = 10_000;

/// The tables a client's credentials are read from.
const TABLES: [&str; 6] = [
    "clients",
    "client_redirect_uris",
    "client_scopes",
    "client_grant_types",
    "client_secrets",
    "scopes",
];

/// The SQL function the triggers call.
const TOUCHED: &str = "gatehouse_clients_touched";

pub(super) struct ClientCache {
    /// Set by the triggers, inside a write transaction.
    touched: Arc<AtomicBool>,
    /// Bumped after a COMMIT that touched a client table.
    generation: AtomicU64,
    entries: moka::sync::Cache<String, (u64, Arc<ClientCredentials>)>,
}

impl ClientCache {
    pub(super) fn new() -> Self {
        ClientCache {
            touched: Arc::new(AtomicBool::new(false)),
            generation: AtomicU64::new(0),
            entries: moka::sync::Cache::new(CAPACITY),
        }
    }

    /// Installs the triggers on the write connection (TEMP: they live with
    /// the connection, never in the database file).
    pub(super) fn watch(&self, conn: &Connection) -> Result<()> {
        let touched = self.touched.clone();
        conn.create_scalar_function(TOUCHED, 0, FunctionFlags::SQLITE_UTF8, move |_| {
            touched.store(true, Ordering::Release);
            Ok(0)
        })?;
        let mut sql = String::new();
        for table in TABLES {
            for change in ["INSERT", "UPDATE", "DELETE"] {
                sql.push_str(&format!(
                    "CREATE TEMP TRIGGER IF NOT EXISTS {table}_{name}_touches_clients \
                     AFTER {change} ON main.{table} BEGIN SELECT {TOUCHED}(); END;\n",
                    name = change.to_ascii_lowercase(),
                ));
            }
        }
        conn.execute_batch(&sql)?;
        Ok(())
    }

    /// Clients held now.
    pub(super) fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// Called by the writer after each successful COMMIT, before any answer.
    pub(super) fn committed(&self) {
        if self.touched.swap(false, Ordering::AcqRel) {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The client `id` from the cache, or from `load` (then kept).
    pub(super) fn get_or_load(
        &self,
        id: &str,
        load: impl FnOnce() -> Result<Option<ClientCredentials>>,
    ) -> Result<Option<Arc<ClientCredentials>>> {
        let generation = self.generation.load(Ordering::Acquire);
        if let Some((cached, credentials)) = self.entries.get(id) {
            if cached == generation {
                return Ok(Some(credentials));
            }
        }
        let Some(loaded) = load()? else {
            return Ok(None);
        };
        let loaded = Arc::new(loaded);
        self.entries
            .insert(id.to_owned(), (generation, loaded.clone()));
        Ok(Some(loaded))
    }
}
