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

/// Columns whose updates do not touch a client: a secret's last use, written
/// once a minute per secret (`secret_uses.rs`), which authentication never reads.
const UNWATCHED: [(&str, &str); 2] = [
    ("client_secrets", "last_used_at"),
    ("client_secrets", "last_used_from"),
];

/// A backstop, not the mechanism: an entry is dropped after this long even
/// if no trigger fired (say, a change made with the `sqlite3` shell, which the
/// data directory's lock does not keep out).
const TIME_TO_LIVE: std::time::Duration = std::time::Duration::from_secs(60);

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
            entries: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TIME_TO_LIVE)
                .build(),
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
            let update = format!("UPDATE OF {}", watched_columns(conn, table)?.join(", "));
            for (name, change) in [
                ("insert", "INSERT"),
                ("update", &update),
                ("delete", "DELETE"),
            ] {
                sql.push_str(&format!(
                    "CREATE TEMP TRIGGER IF NOT EXISTS {table}_{name}_touches_clients \
                     AFTER {change} ON main.{table} BEGIN SELECT {TOUCHED}(); END;\n"
                ));
            }
        }
        conn.execute_batch(&sql)?;
        Ok(())
    }

    /// Clients held now (expired entries dropped first).
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

/// Every column of `table` but the unwatched ones, read from the schema itself
/// (a column added later is watched without anyone remembering to).
fn watched_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut statement = conn.prepare(&format!("PRAGMA main.table_info({table})"))?;
    let columns = statement
        .query_map([], |row| row.get::<_, String>(1))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(columns
        .into_iter()
        .filter(|column| !UNWATCHED.contains(&(table, column.as_str())))
        .collect())
}
