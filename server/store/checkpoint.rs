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
//!
//! Reads in flight stand in the way twice: a reader reading the database
//! file alone keeps a checkpoint from copying anything, and a reader still
//! reading the log keeps the next batch from starting it again. Token
//! lookups run all the time, so under mixed load one of them is nearly always
//! in flight. The writer's checkpoint therefore is a RESTART: it waits, at
//! most [`READER_WAIT`], until every reader reads the database file alone,
//! after which new readers do too, and the next batch starts the log again.
//! Between its looks at the readers' locks it ends the snapshots token
//! lookups keep (`readers.rs`), so it waits only for lookups in flight, and
//! it waits in rounds of [`READER_ROUND`], each reading the read marks
//! afresh (see [`restart`]).
//! (A reader that read the log's state just before the copy finished and
//! takes its read mark just after the wait can still refuse that start; the
//! writer then checkpoints again after the next batch, which copies one
//! batch.)

use super::{FailPoints, BUSY_TIMEOUT};
use rusqlite::Connection;
use std::cell::Cell;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_millis(100);

/// The log's bound, in frames (one page each, 4 KiB here: 128 MiB). The log
/// exceeds it by at most what COMMITs add before a checkpoint completes: one
/// batch when no reader holds an old snapshot. Each of the writer's
/// checkpoints holds the writes queued behind it for a few fsyncs, so the
/// bound trades disk for tail latency: under the refresh bench, 32 MiB meant
/// ~6 checkpoints a second and a p99 of 19–21 ms, 128 MiB ~2 and 11–12 ms.
pub const LOG_BOUND_FRAMES: i32 = 32768;

/// After a checkpoint that could not complete (a reader kept its snapshot
/// longer than [`READER_WAIT`], as an online backup does), the writer tries
/// again once the log has grown by this many frames: not after every batch,
/// since each try syncs the log and the database and may wait for readers.
/// (When the background checkpoint held the lock it tries at the next batch:
/// finding the lock held costs nothing.) The log's worst case, while no
/// reader holds a snapshot past the wait, is the bound plus a few batches;
/// each reader that outlasts a wait adds this many frames.
pub const LOG_RETRY_FRAMES: i32 = 1024;

/// How long the writer's checkpoint waits for reads in flight, in sleeps
/// (the last one may oversleep): a token lookup takes tens of microseconds,
/// a few milliseconds when its thread is preempted. The writes queued
/// meanwhile wait too; a reader that outlasts this (an online backup) costs
/// each retry this long.
pub const READER_WAIT: Duration = Duration::from_millis(5);

/// The writer's checkpoint waits in rounds of at most this ([`restart`]).
const READER_ROUND: Duration = Duration::from_millis(1);

/// How long the writer sleeps between looks at the readers' locks.
const READER_POLL: Duration = Duration::from_micros(50);

/// Starts the background thread; it ends once `alive` (held by the store) is
/// dropped. The fail point `checkpoint.background` (error) skips its rounds.
/// After each round that copied the whole log back it runs `copied_back`
/// (the store ends the snapshots token lookups keep, `readers.rs`: one begun
/// before the copy finished holds a read mark in the log, which would refuse
/// the next COMMIT's restart of it).
pub(super) fn start(
    conn: Connection,
    alive: Weak<()>,
    fail_points: Arc<FailPoints>,
    copied_back: Box<dyn Fn() + Send>,
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
            match passive(&conn) {
                Ok(Checkpointed::Complete) => copied_back(),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "checkpoint failed"),
            }
        })
        .map(|_| ())
}

/// What the store holds to keep the checkpoint thread running.
pub(super) fn alive() -> Arc<()> {
    Arc::new(())
}

/// How a checkpoint ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Checkpointed {
    /// The whole log copied back (and, for RESTART, no reader left in it).
    Complete,
    /// A reader kept part of the log from being copied back, or (RESTART)
    /// still read the log when the wait ended.
    Partial,
    /// Another checkpoint (the background thread's) held the lock: nothing
    /// was done.
    LockHeld,
}

/// A PASSIVE checkpoint.
fn passive(conn: &Connection) -> rusqlite::Result<Checkpointed> {
    checkpoint(conn, "PRAGMA wal_checkpoint(PASSIVE)")
}

/// What the writer does between its looks at the readers' locks while its
/// checkpoint waits: end the snapshots token lookups keep (`readers.rs`).
pub(super) type BetweenLooks = Box<dyn FnMut()>;

/// A RESTART checkpoint that spends at most `wait` waiting for readers (the
/// copy and its syncs are not counted), running `between_looks` before each
/// wait. The connection's own busy timeout is put back afterwards.
pub(super) fn restart(
    conn: &Connection,
    wait: Duration,
    between_looks: &mut Option<BetweenLooks>,
) -> rusqlite::Result<Checkpointed> {
    conn.busy_handler(Some(wait_for_readers))?;
    WAIT_LEFT.with(|left| left.set(wait));
    BETWEEN_LOOKS.with(|slot| slot.set(between_looks.take()));
    // SQLite waits for the read mark a reader held when the checkpoint
    // began, even once that mark has moved on to a snapshot it need not wait
    // for; lookups arriving without pause then keep it shared for good. So
    // the wait is spent in rounds, each checkpoint reading the marks afresh.
    // (Rounds are counted too: a round ends incomplete only once its time
    // is spent, but one that did not must not repeat for ever.)
    let rounds = wait.as_nanos() / READER_ROUND.as_nanos() + 2;
    let restarted = (0..u32::try_from(rounds).unwrap_or(u32::MAX))
        .map(|_| {
            let left = WAIT_LEFT.with(Cell::get);
            ROUND_LEFT.with(|round| round.set(left.min(READER_ROUND)));
            checkpoint(conn, "PRAGMA wal_checkpoint(RESTART)")
        })
        .find(|outcome| {
            !matches!(outcome, Ok(Checkpointed::Partial)) || WAIT_LEFT.with(Cell::get).is_zero()
        })
        .unwrap_or(Ok(Checkpointed::Partial));
    WAIT_LEFT.with(|left| left.set(Duration::ZERO));
    *between_looks = BETWEEN_LOOKS.with(Cell::take);
    conn.busy_timeout(BUSY_TIMEOUT)?;
    restarted
}

/// SQLite's busy handler while the writer checkpoints: another look after a
/// short sleep, while the wait lasts.
fn wait_for_readers(_: i32) -> bool {
    if ROUND_LEFT.with(Cell::get).is_zero() {
        return false;
    }
    let slept = Instant::now();
    BETWEEN_LOOKS.with(|slot| {
        if let Some(mut between_looks) = slot.take() {
            between_looks();
            slot.set(Some(between_looks));
        }
    });
    std::thread::sleep(READER_POLL);
    let slept = slept.elapsed();
    for left in [&WAIT_LEFT, &ROUND_LEFT] {
        left.with(|left| left.set(left.get().saturating_sub(slept)));
    }
    true
}

/// Runs a checkpoint pragma.
fn checkpoint(conn: &Connection, pragma: &str) -> rusqlite::Result<Checkpointed> {
    // (busy, frames in the log, frames copied back)
    let (busy, log, copied) = conn.query_row(pragma, [], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    Ok(match (busy, log) {
        // SQLite reports no log at all when it could not take the lock.
        (_, -1) => Checkpointed::LockHeld,
        (0, _) if log == copied => Checkpointed::Complete,
        _ => Checkpointed::Partial,
    })
}

thread_local! {
    /// Frames in the log after this thread's newest COMMIT; SQLite's log hook
    /// sets it on the committing thread, which for the write connection is
    /// always the writer's.
    static LOG_FRAMES: Cell<i32> = const { Cell::new(0) };
    /// What is left of the writer's checkpoint's wait for readers (SQLite's
    /// busy handler is a plain function, called on the checkpointing thread).
    static WAIT_LEFT: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// What is left of the current round of that wait.
    static ROUND_LEFT: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// What the writer does between looks, while it checkpoints.
    static BETWEEN_LOOKS: Cell<Option<BetweenLooks>> = const { Cell::new(None) };
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
    /// What the writer does between looks while a checkpoint waits.
    between_looks: Option<BetweenLooks>,
}

/// A checkpoint the writer ran.
pub(super) struct BoundCheckpoint {
    pub outcome: Checkpointed,
    pub took: Duration,
}

impl BoundCheckpoint {
    pub(super) fn complete(&self) -> bool {
        self.outcome == Checkpointed::Complete
    }
}

impl LogBound {
    /// Has SQLite report the log's length after each COMMIT on `conn`.
    /// `between_looks` runs while a checkpoint waits for readers.
    pub(super) fn watch(conn: &Connection, between_looks: BetweenLooks) -> Self {
        conn.wal_hook(Some(note_log_frames));
        LogBound {
            try_at: 0,
            between_looks: Some(between_looks),
        }
    }

    /// Between batches: once the log has passed the bound, a RESTART
    /// checkpoint on the write connection. No write can land meanwhile, so
    /// once the reads in flight end it copies the whole log back, and the
    /// next batch starts the log again from its beginning. It waits for
    /// readers at most [`READER_WAIT`], so an online backup cannot stall the
    /// writer longer. `bound` is [`LOG_BOUND_FRAMES`] but in tests.
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
        let started = Instant::now();
        let checkpoint =
            restart(conn, READER_WAIT, &mut self.between_looks).map(|outcome| BoundCheckpoint {
                outcome,
                took: started.elapsed(),
            });
        self.try_at = match checkpoint.as_ref().map(|checkpoint| checkpoint.outcome) {
            // Due again once the log passes the bound; if a reader slipped
            // in and refused the restart, that is the next batch.
            Ok(Checkpointed::Complete) => bound,
            // The background checkpoint is copying: the next batch, which
            // costs a look at a lock.
            Ok(Checkpointed::LockHeld) => frames,
            Ok(Checkpointed::Partial) | Err(_) => frames.saturating_add(LOG_RETRY_FRAMES),
        };
        Some(checkpoint)
    }
}

#[cfg(test)]
mod tests;
