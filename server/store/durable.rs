//! Durability off the writer thread: the WAL sync thread.
//!
//! The write connection runs `synchronous=NORMAL`: a COMMIT writes its frames
//! to the write-ahead log and returns without an fsync (NORMAL keeps the
//! database safe from corruption on power loss: the log is synced before every
//! checkpoint, the database after it, and the log's header when it restarts).
//! What NORMAL alone gives up, a committed transaction that might roll back on
//! power loss, is taken back here: nobody hears of a COMMIT, neither its
//! caller nor an event subscriber, until this thread has `fdatasync`ed the log
//! after it. One sync covers every COMMIT written before it started, so while
//! this thread waits for the disk the writer already runs the next batch:
//! group commit with the fsync out of the writer's way. That is
//! `synchronous=FULL`'s promise (an answer means durable) with the writer busy
//! only for the work itself.
//!
//! A failed sync leaves commits that readers can see but the disk may not
//! hold; the process cannot tell which, so it says so and aborts (a restart
//! recovers the log as the disk has it). So does a panic on this thread, or
//! the writer finding it gone: a writer that went on committing what nobody
//! can be told is durable would answer errors for changes that stay.
//!
//! The event log is read by other connections too (a watcher catching up, a
//! page of events): this thread publishes the newest event id it has made
//! durable, before the batch's events go out, and those reads stop there.

use super::writer::Reporting;
use super::{FailPoints, StoreError};
use crate::model::{Event, EventKind, RevokeReason};
use std::fs::File;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Called once its batch is durable (or failed); answers the caller.
pub(super) type Deliver = Box<dyn FnOnce(std::result::Result<(), StoreError>) + Send>;

/// A job that ran, waiting for its batch to be durable.
pub(super) struct Ran {
    pub name: String,
    pub succeeded: bool,
    pub deliver: Deliver,
    pub events: Vec<Event>,
    pub revoked: Vec<(RevokeReason, u64)>,
}

/// One batch after its COMMIT: what the COMMIT said, and its jobs in order.
pub(super) struct Committed {
    pub outcome: std::result::Result<(), StoreError>,
    pub ran: Vec<Ran>,
}

/// The handle the writer hands committed batches to.
pub(super) struct Syncer {
    queue: Sender<Committed>,
}

impl Syncer {
    /// Starts the thread, syncing `wal` (the database's `-wal` file).
    pub(super) fn start(
        wal: File,
        fail_points: Arc<FailPoints>,
        events: broadcast::Sender<Event>,
        reporting: Arc<Reporting>,
    ) -> std::io::Result<Self> {
        let (queue, committed) = mpsc::channel();
        std::thread::Builder::new()
            .name("gatehouse-sync".into())
            .spawn(move || {
                let run = || sync_loop(&wal, &committed, &fail_points, &events, &reporting);
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err() {
                    stop("the WAL sync thread panicked");
                }
            })?;
        Ok(Syncer { queue })
    }

    /// Hands a committed batch over; its callers are answered once it is durable.
    pub(super) fn hand_over(&self, batch: Committed) {
        if self.queue.send(batch).is_err() {
            // The thread is gone (it only ends when this handle is dropped):
            // nothing committed from now on could be promised durable.
            stop("the WAL sync thread has stopped");
        }
    }
}

fn sync_loop(
    wal: &File,
    committed: &Receiver<Committed>,
    fail_points: &FailPoints,
    events: &broadcast::Sender<Event>,
    reporting: &Reporting,
) {
    while let Ok(first) = committed.recv() {
        let mut batches = vec![first];
        batches.extend(committed.try_iter());
        let commits = batches.iter().filter(|batch| batch.outcome.is_ok()).count();
        if commits > 0 {
            let syncing = std::time::Instant::now();
            // `wal_sync.before`: pause holds the batches between their COMMIT
            // and their fsync; error is a failed fsync.
            let synced = fail_points
                .hit("wal_sync", "before")
                .map_err(|error| std::io::Error::other(error.to_string()))
                .and_then(|()| wal.sync_data());
            if let Err(error) = synced {
                tracing::error!(%error, "fdatasync of the write-ahead log failed");
                stop("the write-ahead log could not be synced");
            }
            reporting.metrics.wal_sync(commits, syncing.elapsed());
            reporting.counters.syncs.fetch_add(1, Ordering::Relaxed);
        }
        let newest_event = batches
            .iter()
            .filter(|batch| batch.outcome.is_ok())
            .flat_map(|batch| &batch.ran)
            .filter(|job| job.succeeded)
            .flat_map(|job| &job.events)
            .map(|event| event.id)
            .max();
        if let Some(id) = newest_event {
            reporting.durable_event_id.fetch_max(id, Ordering::AcqRel);
        }
        for batch in batches {
            deliver(batch, fail_points, events, reporting);
        }
    }
}

/// A durable batch: its events go out, then its callers hear.
fn deliver(
    batch: Committed,
    fail_points: &FailPoints,
    events: &broadcast::Sender<Event>,
    reporting: &Reporting,
) {
    for job in batch.ran {
        let mut outcome = batch.outcome.clone();
        if job.succeeded && outcome.is_ok() {
            count_committed(reporting, &job.events, &job.revoked);
            for event in job.events {
                // No subscriber is not an error.
                let _ = events.send(event);
            }
            outcome = fail_points.hit(&job.name, "after_commit");
        }
        (job.deliver)(outcome);
    }
}

/// Nothing more can be promised durable: log why and abort. Callers still
/// waiting never hear; their clients see the connection drop, and the log on
/// disk decides what survived.
fn stop(why: &str) -> ! {
    tracing::error!("{why}; stopping the process");
    std::process::abort();
}

/// What a committed job changed, for the metrics.
fn count_committed(reporting: &Reporting, events: &[Event], revoked: &[(RevokeReason, u64)]) {
    let metrics = &reporting.metrics;
    for (reason, families) in revoked {
        metrics.revoked(*reason, *families);
    }
    for event in events {
        match event.kind {
            EventKind::RefreshReplay => metrics.refresh_replay(),
            EventKind::CodeReuse => metrics.code_reuse(),
            _ => {}
        }
    }
}
