//! Checkpoints, and the write-ahead log's bound.
//!
//! The write connection has automatic checkpoints off (`wal_autocheckpoint =
//! 0`), so a COMMIT never also copies the log back into the database. A
//! background thread does, on its own connection, with a PASSIVE checkpoint
//! every `EVERY`: it never waits for, or blocks, the writer or a reader, and a
//! page written many times in between is copied once.
//!
//! That alone does not bound the log. The log starts again from its beginning
//! only at a write that finds it completely copied back, and under sustained
//! writes the background checkpoint never catches up: a new COMMIT always
//! lands while it copies. Under the refresh bench the log grew by ~280 MB/s,
//! without end, every append into newly allocated blocks. So the writer keeps
//! its own bound ([`LogBound`]): once a COMMIT leaves more than
//! [`LOG_BOUND_FRAMES`] in the log, the writer checkpoints between batches,
//! when no write can land, and its next batch starts the log again.

use super::FailPoints;
use rusqlite::Connection;
use std::cell::Cell;
use std::sync::{Arc, Weak};
use std::time::Duration;

const EVERY: Duration = Duration::from_millis(100);

/// The log's bound, in frames (one page each, 4 KiB here: 128 MiB). The log
/// exceeds it by at most what COMMITs add before a checkpoint completes: one
/// batch when no reader holds an old snapshot. Each of the writer's
/// checkpoints holds the writes queued behind it for a few fsyncs, so the
/// bound trades disk for tail latency: under the refresh bench, 32 MiB meant
/// ~6 checkpoints a second and a p99 of 19–21 ms, 128 MiB ~2 and 11–12 ms.
pub const LOG_BOUND_FRAMES: i32 = 32768;

/// After a checkpoint that could not complete (a reader kept an old snapshot,
/// as an online backup does, or the background checkpoint held the lock),
/// the writer tries again once the log has grown by this many frames: not
/// after every batch, since each try syncs the log and the database. (After
/// a complete one whose restart a reader still in flight refused, it tries
/// at the next batch: the copy is one batch.) The log's worst case, while no
/// reader holds a snapshot for long, is the bound plus this plus a batch.
pub const LOG_RETRY_FRAMES: i32 = 1024;

/// Starts the background thread; it ends once `alive` (held by the store) is
/// dropped. The fail point `checkpoint.background` (error) skips its rounds.
pub(super) fn start(
    conn: Connection,
    alive: Weak<()>,
    fail_points: Arc<FailPoints>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("gatehouse-checkpoint".into())
        .spawn(move || loop {
            std::thread::sleep(EVERY);
            if alive.upgrade().is_none() {
                return;
            }
            if fail_points.hit("checkpoint", "background").is_err() {
                continue;
            }
            if let Err(error) = passive(&conn) {
                tracing::warn!(%error, "checkpoint failed");
            }
        })
        .map(|_| ())
}

/// What the store holds to keep the checkpoint thread running.
pub(super) fn alive() -> Arc<()> {
    Arc::new(())
}

/// A PASSIVE checkpoint: whether it copied the whole log back.
fn passive(conn: &Connection) -> rusqlite::Result<bool> {
    // (busy, frames in the log, frames copied back)
    let (busy, log, copied) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    Ok(busy == 0 && log == copied)
}

thread_local! {
    /// Frames in the log after this thread's newest COMMIT; SQLite's log hook
    /// sets it on the committing thread, which for the write connection is
    /// always the writer's.
    static LOG_FRAMES: Cell<i32> = const { Cell::new(0) };
}

fn note_log_frames(_: &rusqlite::hooks::Wal, frames: std::ffi::c_int) -> rusqlite::Result<()> {
    LOG_FRAMES.with(|log| log.set(frames));
    Ok(())
}

/// The writer's side of the bound: created on the writer's thread with the
/// write connection, asked after each batch.
pub(super) struct LogBound {
    /// Where the next checkpoint is due (the bound, or past a failed one).
    try_at: i32,
}

/// A checkpoint the writer ran: whether it copied the whole log back.
pub(super) struct BoundCheckpoint {
    pub complete: bool,
    pub took: Duration,
}

impl LogBound {
    /// Has SQLite report the log's length after each COMMIT on `conn`.
    pub(super) fn watch(conn: &Connection) -> Self {
        conn.wal_hook(Some(note_log_frames));
        LogBound { try_at: 0 }
    }

    /// Between batches: once the log has passed the bound, a PASSIVE
    /// checkpoint on the write connection. No write can land meanwhile, so it
    /// copies the whole log back unless a reader holds an older snapshot; the
    /// next batch then starts the log again from its beginning. PASSIVE never
    /// waits for a reader, so an online backup cannot stall the writer.
    /// `bound` is [`LOG_BOUND_FRAMES`] but in tests.
    pub(super) fn after_batch(
        &mut self,
        conn: &Connection,
        bound: i32,
    ) -> Option<rusqlite::Result<BoundCheckpoint>> {
        let frames = LOG_FRAMES.with(Cell::get);
        if frames < bound {
            self.try_at = bound;
        }
        if frames < self.try_at {
            return None;
        }
        let started = std::time::Instant::now();
        let checkpoint = passive(conn).map(|complete| BoundCheckpoint {
            complete,
            took: started.elapsed(),
        });
        self.try_at = match &checkpoint {
            Ok(BoundCheckpoint { complete: true, .. }) => bound,
            _ => frames.saturating_add(LOG_RETRY_FRAMES),
        };
        Some(checkpoint)
    }
}
