//! The storage layer: the only module that imports rusqlite or writes SQL.
//!
//! One SQLite database in WAL mode, foreign keys on and a busy timeout. There
//! is exactly one write connection, owned by the writer thread (`writer.rs`):
//! every state change runs in its own savepoint of a `BEGIN IMMEDIATE`
//! transaction shared with the writes queued beside it, the events it records
//! are written in that same transaction, and both the events and the caller's
//! answer go out only after COMMIT and the fsync of the write-ahead log that
//! makes it durable (`durable.rs`: the write connection runs
//! `synchronous=NORMAL` and a sync thread does FULL's fsync, off the writer). Reads use a small pool of
//! read-only connections.
//!
//! Methods are synchronous; async callers go through [`Store::call`], which runs
//! them on tokio's blocking pool, except the hot reads (a token or a client by
//! its key), which the public plane calls inline on its worker threads: a
//! read-only connection never waits for the writer (WAL), and an indexed lookup
//! in the page cache costs less than the two thread hops around it. COMMITs
//! never checkpoint: `checkpoint.rs` does, on its own thread.

mod admin_tokens;
pub mod backup;
mod checkpoint;
mod client_cache;
mod clients;
mod consents;
mod durable;
mod events;
mod fail_points;
mod families;
mod grants;
mod ids;
mod log_writes;
mod presented;
mod purge;
mod readers;
mod retries;
mod rotation;
mod schema;
mod scopes;
mod secrets;
#[cfg(feature = "bench")]
mod seed;
mod users;
mod writer;

pub use admin_tokens::AdminTokenLookup;
pub use checkpoint::{LOG_BOUND_FRAMES, LOG_RETRY_FRAMES};
pub use clients::ClientCredentials;
pub use consents::{CodeGrant, GrantParties};
#[cfg(feature = "failpoints")]
pub use fail_points::FailAction;
use fail_points::FailPoints;
pub use grants::{
    AccessTokenInfo, CodeRedemption, IssueSpec, IssuedTokens, StoredCode, TokenLookup,
    TokenRevocation,
};
pub use purge::Purged;
pub use retries::StoredRetry;
pub use rotation::{RefreshOutcome, StoredRefresh};
pub use secrets::{SecretUse, StoredSecret};
pub use users::UserCredentials;
pub(crate) use writer::Undo;
pub use writer::WriteStats;

use crate::metrics::StoreMetrics;
use crate::model::{Event, Invalid, NewEvent, RevokeReason};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a store call failed, in terms callers can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Invalid(Invalid),
    #[error("{0}")]
    Conflict(String),
    /// The write lock could not be had in time; nothing changed.
    #[error("database busy")]
    Busy,
    /// A bug or a broken database: logged with its cause, never shown to clients.
    #[error("storage failure: {message}")]
    Internal {
        message: String,
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
}

impl StoreError {
    /// An internal failure with no underlying error to keep.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        StoreError::Internal {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn not_found(what: &'static str, id: &str) -> Self {
        StoreError::NotFound {
            what,
            id: id.to_owned(),
        }
    }
}

impl From<Invalid> for StoreError {
    fn from(invalid: Invalid) -> Self {
        StoreError::Invalid(invalid)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy
            }
            _ => StoreError::Internal {
                message: error.to_string(),
                source: Some(Arc::new(error)),
            },
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// The database as SQLite names it: its log is the file the sync thread syncs.
    path: PathBuf,
    writer: writer::Writer,
    readers: Arc<readers::Readers>,
    /// Client credentials for authentication, invalidated by every COMMIT
    /// that changes a client (client_cache.rs).
    clients: Arc<client_cache::ClientCache>,
    events: broadcast::Sender<Event>,
    fail_points: Arc<FailPoints>,
    maintenance: std::sync::atomic::AtomicBool,
    metrics: StoreMetrics,
    /// The checkpoint thread runs while this lives.
    _checkpointing: Arc<()>,
}

/// A write transaction in progress, collecting the events it records and the
/// families it revokes (counted in the metrics after COMMIT).
pub(crate) struct Tx<'conn> {
    conn: &'conn Connection,
    now: i64,
    events: Vec<Event>,
    revoked: Vec<(RevokeReason, u64)>,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Tx<'_> {
    /// `execute` through the statement cache (hot paths parse SQL once).
    pub(crate) fn exec<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
    ) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(params)
    }

    /// `query_row` through the statement cache.
    pub(crate) fn row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.conn.prepare_cached(sql)?.query_row(params, read)
    }

    /// Records an event in this transaction; it is broadcast after COMMIT.
    pub(crate) fn record(&mut self, event: NewEvent) -> Result<()> {
        let recorded = events::insert(self.conn, self.now, event)?;
        self.events.push(recorded);
        Ok(())
    }

    /// Notes `families` revoked for `reason` in this transaction.
    pub(crate) fn revoked(&mut self, reason: RevokeReason, families: u64) {
        self.revoked.push((reason, families));
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub fn open(path: &Path) -> Result<Self> {
        // Through the VFS that writes each COMMIT's frames to the log at once.
        let mut writer =
            Connection::open_with_flags_and_vfs(path, OpenFlags::default(), log_writes::vfs()?)?;
        configure(&writer)?;
        writer.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        // COMMITs never fsync: the sync thread does before anyone hears of
        // them (durable.rs), and the migrations below are made durable by the
        // log's sync further down, before anything is answered. NORMAL still
        // syncs around checkpoints; FULL would also pad the log at each
        // COMMIT, which log_writes.rs does not expect.
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        let journal: String =
            writer.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if journal != "wal" {
            return Err(StoreError::internal(format!(
                "journal_mode is {journal}, not wal"
            )));
        }
        schema::migrate(&mut writer)?;
        // COMMITs never checkpoint: the checkpoint thread does (checkpoint.rs).
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        let clients = Arc::new(client_cache::ClientCache::new());
        clients.watch(&writer)?;
        // The log SQLite writes: next to the database as SQLite names it.
        let database = writer
            .path()
            .map(PathBuf::from)
            .unwrap_or_else(|| path.to_owned());
        let wal = std::fs::File::open(wal_path(&database)).map_err(|error| {
            StoreError::internal(format!("cannot open the write-ahead log: {error}"))
        })?;
        // What a crash left in the log may be in the page cache only: make it
        // durable before anything is read from it and answered.
        wal.sync_data().map_err(|error| {
            StoreError::internal(format!("cannot sync the write-ahead log: {error}"))
        })?;
        let durable_event_id: i64 =
            writer.query_row("SELECT coalesce(max(id), 0) FROM events", [], |row| {
                row.get(0)
            })?;
        let metrics = StoreMetrics::default();
        let maintenance = Store::stored_maintenance(&writer)?;
        let readers = (0..READERS)
            .map(|_| {
                let reader = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX
                        | OpenFlags::SQLITE_OPEN_URI,
                )?;
                configure(&reader)?;
                // No memory map for readers: SQLite drops a reader's map (and
                // its page cache) at the first read after any COMMIT, and a
                // munmap is a TLB shootdown on every core: ~1,100 a second
                // under refresh load. Reads go through pread and the page
                // cache, which a read-mostly load keeps warm.
                reader.pragma_update(None, "mmap_size", 0)?;
                Ok(reader)
            })
            .collect::<Result<Vec<_>>>()?;
        let readers = Arc::new(readers::Readers::new(readers, readers::KEEP_AT_MOST));
        let checkpointer = Connection::open(path)?;
        configure(&checkpointer)?;
        let fail_points = Arc::new(FailPoints::default());
        let checkpointing = checkpoint::alive();
        checkpoint::start(
            checkpointer,
            Arc::downgrade(&checkpointing),
            fail_points.clone(),
            {
                let readers = readers.clone();
                Box::new(move || readers.retire())
            },
        )
        .map_err(|error| {
            StoreError::internal(format!("cannot start the checkpoint thread: {error}"))
        })?;
        let (events, _) = broadcast::channel(1024);
        let writer = writer::Writer::start(
            writer,
            wal,
            durable_event_id,
            writer::Told {
                readers: readers.clone(),
                clients: clients.clone(),
            },
            fail_points.clone(),
            events.clone(),
            metrics.clone(),
        )
        .map_err(|error| {
            StoreError::internal(format!("cannot start the writer thread: {error}"))
        })?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: database,
                writer,
                readers,
                clients,
                events,
                fail_points,
                maintenance: maintenance.into(),
                metrics,
                _checkpointing: checkpointing,
            }),
        })
    }

    /// Runs `work` on the blocking pool: how async code calls the store.
    pub async fn call<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .map_err(|error| StoreError::internal(format!("store task failed: {error}")))?
    }

    /// New events, as they are committed.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// The durability settings in force on the write connection, as
    /// `(journal_mode, synchronous, foreign_keys, busy_timeout_ms)`.
    pub fn pragmas(&self) -> Result<(String, i64, bool, i64)> {
        self.write_as("pragmas", 0, |tx| {
            Ok((
                tx.query_row("PRAGMA journal_mode", [], |row| row.get(0))?,
                tx.query_row("PRAGMA synchronous", [], |row| row.get(0))?,
                tx.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?,
                tx.query_row("PRAGMA busy_timeout", [], |row| row.get(0))?,
            ))
        })
    }

    /// Jobs written and COMMITs that carried them (group commit at work).
    pub fn write_stats(&self) -> WriteStats {
        self.inner.writer.stats()
    }

    /// What the writer records for the metrics.
    pub fn metrics(&self) -> &StoreMetrics {
        &self.inner.metrics
    }

    /// Size of the database and its write-ahead log, in bytes.
    pub fn database_bytes(&self) -> i64 {
        let (database, wal) = self.file_bytes();
        database + wal
    }

    /// Sizes of the database file and of its write-ahead log, in bytes.
    pub fn file_bytes(&self) -> (i64, i64) {
        let size = |path: &Path| {
            std::fs::metadata(path)
                .map(|meta| meta.len() as i64)
                .unwrap_or(0)
        };
        (size(&self.inner.path), size(&wal_path(&self.inner.path)))
    }

    /// Runs `work` on the writer thread, in its own savepoint of a `BEGIN
    /// IMMEDIATE` transaction shared with the writes queued beside it; returns
    /// after the COMMIT. Its events go out only after that COMMIT.
    pub(crate) fn write<T: Send + 'static>(
        &self,
        now: i64,
        work: impl FnOnce(&mut Tx) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.write_as("write", now, work)
    }

    /// [`Store::write`] with a name for its fail points (`NAME.before_commit`,
    /// `NAME.after_commit`).
    pub(crate) fn write_as<T: Send + 'static>(
        &self,
        name: &str,
        now: i64,
        work: impl FnOnce(&mut Tx) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.inner.writer.run(name, now, work)
    }

    /// [`Store::write_as`] for async callers: the task waits for the COMMIT,
    /// no thread is parked (the hot write, a refresh rotation, needs no hop to
    /// the blocking pool). `undo` says how a failure of `work` is undone.
    pub(crate) async fn write_async_as<T: Send + 'static>(
        &self,
        name: &str,
        now: i64,
        undo: Undo,
        work: impl FnOnce(&mut Tx) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.inner.writer.run_async(name, now, undo, work).await
    }

    /// Runs `work` on a read-only connection, each statement on a snapshot
    /// of its own ([`readers::Readers::read`]).
    pub(crate) fn read<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.inner.readers.read(work)
    }

    /// Runs `work` on a read-only connection's snapshot that no COMMIT has
    /// passed, kept from an earlier call when it can be: for the hot token
    /// lookups ([`readers::Readers::read_current`]).
    pub(crate) fn read_current<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.inner.readers.read_current(work)
    }
}

/// Pages are read through a memory map of this many bytes (no read(2) and
/// copy per page that is not in SQLite's own cache); writes still go through
/// the write-ahead log, durably.
const MMAP_BYTES: i64 = 256 << 20;
/// SQLite's page cache per connection, in KiB (negative: KiB, not pages).
const CACHE_KIB: i64 = -16_384;
/// The write connection's page cache, in KiB: smaller, because every COMMIT
/// that split a B-tree page scans the whole cache's hash table (SQLite's
/// `balance_nonroot` renumbers pages through the pending-byte page, and the
/// COMMIT's truncation then sees a page far past the database's end; README,
/// Performance, eighth step). With 20,000 families rotating, 16 MiB put 18 %
/// of the writer's time in that scan; 4 MiB cut its CPU per rotation from
/// 40–44 µs to 33 µs. Its reads come through the memory map anyway.
const WRITER_CACHE_KIB: i64 = 4_096;

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    conn.pragma_update(None, "cache_size", CACHE_KIB)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// The database's write-ahead log: `<database>-wal`.
fn wal_path(database: &Path) -> PathBuf {
    let mut wal = database.to_owned().into_os_string();
    wal.push("-wal");
    PathBuf::from(wal)
}
