//! Checkpoints off the writer thread. The write connection has automatic
//! checkpoints off (`wal_autocheckpoint = 0`), so a COMMIT never also copies
//! the write-ahead log back into the database; this thread does, on its own
//! connection, with a PASSIVE checkpoint every `EVERY` (it never waits for, or
//! blocks, the writer or a reader; a page written many times in between is
//! copied once). The log restarts from its beginning at the first write after
//! a complete checkpoint.

use rusqlite::Connection;
use std::sync::{Arc, Weak};
use std::time::Duration;

const EVERY: Duration = Duration::from_millis(100);

/// Starts the thread; it ends once `alive` (held by the store) is dropped.
pub(super) fn start(conn: Connection, alive: Weak<()>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("gatehouse-checkpoint".into())
        .spawn(move || loop {
            std::thread::sleep(EVERY);
            if alive.upgrade().is_none() {
                return;
            }
            // (busy, frames in the log, frames copied back)
            let checkpoint = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            });
            if let Err(error) = checkpoint {
                tracing::warn!(%error, "checkpoint failed");
            }
        })
        .map(|_| ())
}

/// What the store holds to keep the checkpoint thread running.
pub(super) fn alive() -> Arc<()> {
    Arc::new(())
}
