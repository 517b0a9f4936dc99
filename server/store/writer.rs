//! The single writer, with group commit.
//!
//! There is one write connection. Each write runs inside `SAVEPOINT job` within
//! a shared `BEGIN IMMEDIATE` transaction: a failing job rolls back to its
//! savepoint and never fails its neighbours. When a job finishes while other
//! writes wait for the connection, it leaves the transaction open for them and
//! waits; the last job of the batch (no one waiting, or the batch full) runs
//! the one COMMIT — one fsync under `synchronous=FULL` for the whole batch — and
//! wakes the others. Every caller returns only after the COMMIT that made its
//! change durable.

use super::{FailPoints, Result, StoreError, Tx};
use crate::model::Event;
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Jobs per COMMIT at most, to bound a batch's latency.
const MAX_BATCH: usize = 128;

pub(super) struct Writer {
    state: Mutex<State>,
    committed: Condvar,
    /// Writes waiting for the connection.
    waiting: AtomicUsize,
    commits: AtomicUsize,
    jobs: AtomicUsize,
}

/// How many jobs ran and how many COMMITs carried them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub jobs: usize,
    pub commits: usize,
}

struct State {
    conn: Connection,
    /// A transaction is open, holding the jobs of batch `epoch`.
    open: bool,
    epoch: u64,
    jobs: usize,
    /// The newest batch whose COMMIT has finished, and how it went.
    committed_epoch: u64,
    failure: Option<(u64, StoreError)>,
}

impl Writer {
    pub(super) fn new(conn: Connection) -> Self {
        Writer {
            state: Mutex::new(State {
                conn,
                open: false,
                epoch: 0,
                jobs: 0,
                committed_epoch: 0,
                failure: None,
            }),
            committed: Condvar::new(),
            waiting: AtomicUsize::new(0),
            commits: AtomicUsize::new(0),
            jobs: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn stats(&self) -> WriteStats {
        WriteStats {
            jobs: self.jobs.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
        }
    }

    /// Runs a read on the write connection (between batches).
    pub(super) fn with_connection<T>(&self, work: impl FnOnce(&Connection) -> T) -> T {
        work(&self.lock().conn)
    }

    /// Runs `work` as one job of a batch; returns once its batch is durable, with
    /// the events it recorded.
    pub(super) fn run<T>(
        &self,
        name: &str,
        now: i64,
        fail_points: &FailPoints,
        work: impl FnOnce(&mut Tx) -> Result<T>,
    ) -> Result<(T, Vec<Event>)> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut state = self.lock();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        if !state.open {
            // Busy here means another process holds the lock: nothing is open yet.
            state.conn.execute_batch("BEGIN IMMEDIATE")?;
            state.open = true;
            state.epoch += 1;
            state.jobs = 0;
        }
        let epoch = state.epoch;
        let outcome = job(&state.conn, name, now, fail_points, work);
        state.jobs += 1;
        self.jobs.fetch_add(1, Ordering::Relaxed);
        if self.waiting.load(Ordering::SeqCst) > 0 && state.jobs < MAX_BATCH {
            // Someone is queued: they extend the batch; wait for its COMMIT.
            while state.committed_epoch < epoch {
                state = self
                    .committed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        } else {
            commit(&mut state, epoch);
            self.commits.fetch_add(1, Ordering::Relaxed);
            self.committed.notify_all();
        }
        if let Some((failed, error)) = &state.failure {
            if *failed == epoch {
                return Err(error.clone());
            }
        }
        drop(state);
        let (value, events) = outcome?;
        fail_points.hit(name, "after_commit")?;
        Ok((value, events))
    }
}

/// One job inside its savepoint: released on success, rolled back on failure.
fn job<T>(
    conn: &Connection,
    name: &str,
    now: i64,
    fail_points: &FailPoints,
    work: impl FnOnce(&mut Tx) -> Result<T>,
) -> Result<(T, Vec<Event>)> {
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    let mut tx = Tx {
        conn,
        now,
        events: Vec::new(),
    };
    let result = catch_unwind(AssertUnwindSafe(|| work(&mut tx)))
        .unwrap_or_else(|_| Err(StoreError::Internal("a store job panicked".into())))
        .and_then(|value| fail_points.hit(name, "before_commit").map(|()| value));
    match result {
        Ok(value) => {
            conn.prepare_cached("RELEASE job")?.execute([])?;
            Ok((value, tx.events))
        }
        Err(error) => {
            conn.execute_batch("ROLLBACK TO job; RELEASE job")?;
            Err(error)
        }
    }
}

/// Ends batch `epoch`: COMMIT, or ROLLBACK if the commit fails.
fn commit(state: &mut State, epoch: u64) {
    if let Err(error) = state.conn.execute_batch("COMMIT") {
        let _ = state.conn.execute_batch("ROLLBACK");
        state.failure = Some((epoch, error.into()));
    }
    state.open = false;
    state.committed_epoch = epoch;
}
