//! The single writer thread, with group commit.
//!
//! One thread owns the write connection. Writes arrive on a queue as owned
//! jobs; the thread takes every job queued at that moment (up to `MAX_BATCH`),
//! runs them within one `BEGIN IMMEDIATE` transaction, then runs the one COMMIT
//! and hands the batch to the WAL sync thread (`durable.rs`), which makes it
//! durable with one fsync and only then broadcasts the batch's events and
//! answers each caller. The writer goes on to the next batch while the disk
//! syncs this one.
//!
//! How a failing job is undone is the job's to say ([`Undo`]): most run inside
//! `SAVEPOINT job`, roll back to it and never fail their neighbours. A job that
//! decides before it writes (a refresh rotation) runs without one: its writes
//! fail only when the store does, and then the batch's transaction so far is
//! rolled back, the jobs before it answered with an error, and the jobs after
//! it run in a new transaction.

use super::checkpoint::{LogBound, LOG_BOUND_FRAMES};
use super::client_cache::ClientCache;
use super::durable::{Committed, Deliver, Ran, Syncer};
use super::readers::Readers;
use super::{FailPoints, Result, StoreError, Tx};
use crate::metrics::StoreMetrics;
use crate::model::Event;
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Jobs per COMMIT at most, to bound a batch's latency.
const MAX_BATCH: usize = 256;

/// One write: runs in its savepoint, says whether it succeeded, and hands back
/// how to answer its caller once the batch is durable.
type Job = Box<dyn FnOnce(&mut Tx) -> (bool, Deliver) + Send>;

/// Answers a caller whose job never ran to the end (busy, panicked, …).
type Fail = Box<dyn FnOnce(StoreError) + Send>;

struct Queued {
    name: String,
    now: i64,
    undo: Undo,
    job: Job,
    fail: Fail,
}

/// How a job's writes are undone when it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Undo {
    /// The job runs in its own savepoint, and a failure undoes it alone. The
    /// savepoint costs two statements, and every page the job changes is
    /// first copied into SQLite's statement journal.
    Savepoint,
    /// For a job that reads and decides before it writes, so that its writes
    /// fail only when the store does (I/O, memory, a broken row): a failure
    /// after it changed a row rolls back the batch's transaction so far. The jobs that ran before it
    /// in the batch are answered with an error and nothing of theirs stays;
    /// the jobs after it run in a new transaction.
    Batch,
}

/// Who hears of every COMMIT from the writer, right after it and before
/// anyone else (its callers, event subscribers), in this order.
pub(super) struct Told {
    /// Token lookups' kept snapshots are current only until then (`readers.rs`;
    /// also told between looks while the writer's checkpoint waits).
    pub readers: Arc<Readers>,
    /// A client change invalidates the cached credentials (`client_cache.rs`).
    pub clients: Arc<ClientCache>,
}

/// What the writer and sync threads report to: counters for `status`,
/// metrics for Prometheus.
pub(super) struct Reporting {
    pub counters: Counters,
    pub metrics: StoreMetrics,
    /// Told of every COMMIT before its answer.
    pub told: Told,
    /// The newest event id whose COMMIT is fsynced: readers of the event log
    /// stop there, so nothing that a power cut could take back is shown.
    pub durable_event_id: AtomicI64,
    /// The log's bound in frames (`checkpoint.rs`); tests lower it.
    log_bound_frames: AtomicI32,
}

/// How many jobs ran, how many COMMITs carried them, how long the writer was
/// busy with them (from taking a batch to handing it to the sync thread, and
/// any checkpoint it ran after), how many WAL syncs made them durable, and how
/// many checkpoints the writer ran to keep the log bounded (`checkpoint.rs`),
/// of which how many copied the whole log back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub jobs: usize,
    pub commits: usize,
    pub busy: std::time::Duration,
    pub syncs: usize,
    pub log_checkpoints: usize,
    pub complete_log_checkpoints: usize,
}

#[derive(Default)]
pub(super) struct Counters {
    jobs: AtomicUsize,
    commits: AtomicUsize,
    busy_nanos: AtomicU64,
    pub syncs: AtomicUsize,
    log_checkpoints: AtomicUsize,
    complete_log_checkpoints: AtomicUsize,
}

/// The handle callers use; the thread stops when the last handle is dropped.
pub(super) struct Writer {
    queue: Sender<Queued>,
    reporting: Arc<Reporting>,
}

impl Writer {
    /// Starts the writer on `conn` and the sync thread on `wal`, the
    /// database's write-ahead log file.
    pub(super) fn start(
        conn: Connection,
        wal: std::fs::File,
        durable_event_id: i64,
        told: Told,
        fail_points: Arc<FailPoints>,
        events: broadcast::Sender<Event>,
        metrics: StoreMetrics,
    ) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel();
        let reporting = Arc::new(Reporting {
            counters: Counters::default(),
            metrics,
            told,
            durable_event_id: AtomicI64::new(durable_event_id),
            log_bound_frames: AtomicI32::new(LOG_BOUND_FRAMES),
        });
        let syncer = Syncer::start(wal, fail_points.clone(), events, reporting.clone())?;
        let writing = reporting.clone();
        std::thread::Builder::new()
            .name("gatehouse-writer".into())
            .spawn(move || write_loop(conn, jobs, &fail_points, &syncer, &writing))?;
        Ok(Writer { queue, reporting })
    }

    /// Sets the log's bound (tests: a small one reaches it with few writes).
    #[cfg(feature = "failpoints")]
    pub(super) fn set_log_bound_frames(&self, frames: i32) {
        self.reporting
            .log_bound_frames
            .store(frames, Ordering::Relaxed);
    }

    /// The newest event id that is durable (see [`Reporting`]).
    pub(super) fn durable_event_id(&self) -> i64 {
        self.reporting.durable_event_id.load(Ordering::Acquire)
    }

    pub(super) fn stats(&self) -> WriteStats {
        let counters = &self.reporting.counters;
        WriteStats {
            jobs: counters.jobs.load(Ordering::Relaxed),
            commits: counters.commits.load(Ordering::Relaxed),
            busy: std::time::Duration::from_nanos(counters.busy_nanos.load(Ordering::Relaxed)),
            syncs: counters.syncs.load(Ordering::Relaxed),
            log_checkpoints: counters.log_checkpoints.load(Ordering::Relaxed),
            complete_log_checkpoints: counters.complete_log_checkpoints.load(Ordering::Relaxed),
        }
    }

    /// Queues `work` and waits (blocking this thread) until the COMMIT that
    /// made it durable.
    pub(super) fn run<T: Send + 'static>(
        &self,
        name: &str,
        now: i64,
        work: impl FnOnce(&mut Tx) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (answer, answered) = mpsc::sync_channel::<Result<T>>(1);
        self.enqueue(name, now, Undo::Savepoint, work, answer)?;
        answered
            .recv()
            .map_err(|_| StoreError::internal("a write job was lost"))?
    }

    /// [`Writer::run`] for async callers: the task waits, no thread is parked.
    pub(super) async fn run_async<T: Send + 'static>(
        &self,
        name: &str,
        now: i64,
        undo: Undo,
        work: impl FnOnce(&mut Tx) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (answer, mut answered) = tokio::sync::mpsc::unbounded_channel::<Result<T>>();
        self.enqueue(name, now, undo, work, answer)?;
        answered
            .recv()
            .await
            .ok_or_else(|| StoreError::internal("a write job was lost"))?
    }

    fn enqueue<T: Send + 'static>(
        &self,
        name: &str,
        now: i64,
        undo: Undo,
        work: impl FnOnce(&mut Tx) -> Result<T> + Send + 'static,
        answer: impl Reply<T>,
    ) -> Result<()> {
        let fail_answer = answer.clone();
        let job: Job = Box::new(move |tx| {
            let result = work(tx);
            let succeeded = result.is_ok();
            let deliver: Deliver = Box::new(move |committed| {
                answer.reply(committed.and(result));
            });
            (succeeded, deliver)
        });
        let fail: Fail = Box::new(move |error| {
            fail_answer.reply(Err(error));
        });
        let queued = Queued {
            name: name.to_owned(),
            now,
            undo,
            job,
            fail,
        };
        self.queue
            .send(queued)
            .map_err(|_| StoreError::internal("the writer thread has stopped"))
    }
}

/// Where a job's outcome goes: a blocked thread or a waiting task.
trait Reply<T>: Clone + Send + 'static {
    fn reply(&self, outcome: Result<T>);
}

impl<T: Send + 'static> Reply<T> for mpsc::SyncSender<Result<T>> {
    fn reply(&self, outcome: Result<T>) {
        // The caller may have gone; nobody is left to answer.
        let _ = self.send(outcome);
    }
}

impl<T: Send + 'static> Reply<T> for tokio::sync::mpsc::UnboundedSender<Result<T>> {
    fn reply(&self, outcome: Result<T>) {
        let _ = self.send(outcome);
    }
}

fn write_loop(
    conn: Connection,
    jobs: Receiver<Queued>,
    fail_points: &FailPoints,
    syncer: &Syncer,
    reporting: &Reporting,
) {
    // While a checkpoint waits for readers, the snapshots token lookups
    // keep are ended, so only lookups in flight are waited for.
    let readers = reporting.told.readers.clone();
    let mut log = LogBound::watch(&conn, Box::new(move || readers.retire()));
    while let Ok(first) = jobs.recv() {
        let busy = std::time::Instant::now();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch, fail_points, syncer, reporting);
        bound_log(&conn, &mut log, reporting);
        let busy = u64::try_from(busy.elapsed().as_nanos()).unwrap_or(u64::MAX);
        reporting
            .counters
            .busy_nanos
            .fetch_add(busy, Ordering::Relaxed);
    }
}

/// After a batch, while the sync thread makes it durable: the checkpoint
/// that keeps the log bounded, when one is due.
fn bound_log(conn: &Connection, log: &mut LogBound, reporting: &Reporting) {
    match log.after_batch(conn, reporting.log_bound_frames.load(Ordering::Relaxed)) {
        None => {}
        Some(Ok(checkpoint)) => {
            let counters = &reporting.counters;
            counters.log_checkpoints.fetch_add(1, Ordering::Relaxed);
            if checkpoint.complete() {
                counters
                    .complete_log_checkpoints
                    .fetch_add(1, Ordering::Relaxed);
            }
            reporting
                .metrics
                .log_checkpoint(checkpoint.complete(), checkpoint.took);
        }
        // The log stays as it is and is tried again once it has grown.
        Some(Err(error)) => tracing::warn!(%error, "the writer's checkpoint failed"),
    }
}

/// One batch: BEGIN IMMEDIATE, each job in its savepoint or none ([`Undo`]),
/// COMMIT, then the batch goes to the sync thread, which answers once it is
/// durable. A transaction that ends early ends the batch's first part: a job
/// without a savepoint broke it, or SQLite rolled it back itself (it does on
/// an I/O error, a full disk or no memory, whatever savepoints are open).
/// What ran in it is gone: those callers hear an error (a job that failed on
/// its own, its own error), and the rest of the batch runs in a new one.
fn run_batch(
    conn: &Connection,
    batch: Vec<Queued>,
    fail_points: &FailPoints,
    syncer: &Syncer,
    reporting: &Reporting,
) {
    let counters = &reporting.counters;
    counters.jobs.fetch_add(batch.len(), Ordering::Relaxed);
    let mut queued = batch.into_iter().peekable();
    while queued.peek().is_some() {
        if let Err(error) = execute(conn, "BEGIN IMMEDIATE") {
            // Busy: another process holds the lock. Nothing ran; nothing changed.
            let error = StoreError::from(error);
            for queued in queued {
                (queued.fail)(error.clone());
            }
            return;
        }
        let mut ran = Vec::new();
        let mut broken = None;
        // A job never runs outside the transaction: one SQLite ended would
        // have it commit statement by statement.
        while !conn.is_autocommit() {
            let Some(job) = queued.next() else { break };
            match run_job(conn, job, fail_points) {
                Step::Ran(job) => ran.push(job),
                Step::Answered => {}
                Step::Broke(answer) => {
                    broken = Some(answer);
                    break;
                }
            }
        }
        if broken.is_some() || conn.is_autocommit() {
            // Fails harmlessly when SQLite already rolled back.
            let _ = conn.execute_batch("ROLLBACK");
            if let Some(answer) = broken {
                answer();
            }
            let (failed, ran): (Vec<Ran>, Vec<Ran>) =
                ran.into_iter().partition(|job| !job.succeeded);
            for job in failed {
                // Its own error: nothing of it stays.
                (job.deliver)(Ok(()));
            }
            let outcome = Err(StoreError::internal(
                "rolled back with a write beside it in the same transaction that failed",
            ));
            syncer.hand_over(Committed { outcome, ran });
            continue;
        }
        let jobs = ran.len();
        let committing = std::time::Instant::now();
        let outcome = execute(conn, "COMMIT").map_err(StoreError::from);
        if outcome.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        } else {
            counters.commits.fetch_add(1, Ordering::Relaxed);
            reporting.metrics.commit(jobs, committing.elapsed());
            reporting.told.readers.retire();
            reporting.told.clients.committed();
        }
        syncer.hand_over(Committed { outcome, ran });
    }
}

/// What became of one job in its batch's transaction.
enum Step {
    /// It ran (and succeeded, or failed and was undone): its caller hears
    /// once the transaction's fate is known.
    Ran(Ran),
    /// Its caller was already answered: the savepoint could not be set, the
    /// job panicked or a fail point refused it, and its savepoint undid it.
    Answered,
    /// It failed, and only rolling back the whole transaction can undo it
    /// ([`Undo::Batch`]); then its caller hears its failure from this.
    Broke(Box<dyn FnOnce()>),
}

/// Runs one job: in its savepoint (released on success, rolled back on
/// failure), or for [`Undo::Batch`] bare; a bare job that fails having
/// changed no row is an ordinary failed job, with nothing to undo.
fn run_job(conn: &Connection, queued: Queued, fail_points: &FailPoints) -> Step {
    let Queued {
        name,
        now,
        undo,
        job,
        fail,
    } = queued;
    let savepoint = undo == Undo::Savepoint;
    if savepoint {
        if let Err(error) = execute(conn, "SAVEPOINT job") {
            fail(error.into());
            return Step::Answered;
        }
    }
    let mut tx = Tx {
        conn,
        now,
        events: Vec::new(),
        revoked: Vec::new(),
    };
    let changes = conn.total_changes();
    let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut tx)));
    let events = std::mem::take(&mut tx.events);
    let revoked = std::mem::take(&mut tx.revoked);
    // Undoes the job and answers its caller with `error`.
    let undo_with = |error: StoreError| {
        if savepoint {
            roll_back_job(conn);
            fail(error);
            Step::Answered
        } else {
            Step::Broke(Box::new(move || fail(error)))
        }
    };
    let Ok((succeeded, deliver)) = outcome else {
        return undo_with(StoreError::internal("a write job panicked"));
    };
    if !succeeded {
        if !savepoint && conn.total_changes() != changes {
            // Its own error: nothing of it stays once the transaction is rolled back.
            return Step::Broke(Box::new(move || deliver(Ok(()))));
        }
        if savepoint {
            roll_back_job(conn);
        }
        return Step::Ran(Ran {
            name,
            succeeded,
            deliver,
            events: Vec::new(),
            revoked: Vec::new(),
        });
    }
    let released = fail_points.hit(&name, "before_commit").and_then(|()| {
        if savepoint {
            execute(conn, "RELEASE job").map_err(StoreError::from)
        } else {
            Ok(())
        }
    });
    match released {
        Ok(()) => Step::Ran(Ran {
            name,
            succeeded,
            deliver,
            events,
            revoked,
        }),
        Err(error) => {
            drop(deliver);
            undo_with(error)
        }
    }
}

fn execute(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn roll_back_job(conn: &Connection) {
    let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
}

#[cfg(test)]
mod tests;
