//! What the store's writer records: group commits, and the revocations,
//! replays and code reuse of committed changes.

use super::{seconds_buckets, Labels};
use crate::model::RevokeReason;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// What the store's writer records (created with the store, registered by
/// [`Metrics::new`]); counted after COMMIT.
#[derive(Debug, Clone)]
pub struct StoreMetrics {
    batch_jobs: Histogram,
    commit_seconds: Histogram,
    wal_sync_seconds: Histogram,
    wal_sync_commits: Histogram,
    log_checkpoint_seconds: Family<Labels<1>, Histogram>,
    families_revoked: Family<Labels<1>, Counter>,
    refresh_replays: Counter,
    code_reuse: Counter,
}

impl Default for StoreMetrics {
    fn default() -> Self {
        StoreMetrics {
            batch_jobs: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            commit_seconds: Histogram::new(seconds_buckets()),
            wal_sync_seconds: Histogram::new(seconds_buckets()),
            wal_sync_commits: Histogram::new(exponential_buckets(1.0, 2.0, 6)),
            log_checkpoint_seconds: Family::new_with_constructor(|| {
                Histogram::new(seconds_buckets())
            }),
            families_revoked: Family::default(),
            refresh_replays: Counter::default(),
            code_reuse: Counter::default(),
        }
    }
}

impl StoreMetrics {
    /// One group commit: how many writes it carried and how long COMMIT took.
    pub fn commit(&self, jobs: usize, elapsed: Duration) {
        self.batch_jobs.observe(jobs as f64);
        self.commit_seconds.observe(elapsed.as_secs_f64());
    }

    /// One fsync of the write-ahead log: how many COMMITs it made durable
    /// and how long it took.
    pub fn wal_sync(&self, commits: usize, elapsed: Duration) {
        self.wal_sync_commits.observe(commits as f64);
        self.wal_sync_seconds.observe(elapsed.as_secs_f64());
    }

    /// A checkpoint the writer ran to keep the log bounded: whether it
    /// copied the whole log back, and how long it took.
    pub fn log_checkpoint(&self, complete: bool, elapsed: Duration) {
        let complete = if complete { "true" } else { "false" };
        self.log_checkpoint_seconds
            .get_or_create(&[("complete", complete)])
            .observe(elapsed.as_secs_f64());
    }

    /// Families revoked by a committed change.
    pub fn revoked(&self, reason: RevokeReason, families: u64) {
        if families > 0 {
            self.families_revoked
                .get_or_create(&[("reason", reason.as_str())])
                .inc_by(families);
        }
    }

    /// A committed refresh replay (the family was revoked).
    pub fn refresh_replay(&self) {
        self.refresh_replays.inc();
    }

    /// A committed authorization code reuse (the family was revoked).
    pub fn code_reuse(&self) {
        self.code_reuse.inc();
    }

    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register(
            "writer_batch_jobs",
            "Writes carried by one group COMMIT",
            self.batch_jobs.clone(),
        );
        registry.register_with_unit(
            "writer_commit",
            "Time one group COMMIT took (writing the log; its fsync is wal_sync)",
            Unit::Seconds,
            self.commit_seconds.clone(),
        );
        registry.register_with_unit(
            "wal_sync",
            "Time one fsync of the write-ahead log took (answers wait for it)",
            Unit::Seconds,
            self.wal_sync_seconds.clone(),
        );
        registry.register(
            "wal_sync_commits",
            "Group COMMITs made durable by one fsync of the write-ahead log",
            self.wal_sync_commits.clone(),
        );
        registry.register_with_unit(
            "writer_checkpoint",
            "Checkpoints the writer ran because the write-ahead log passed its bound, by whether they copied the whole log back",
            Unit::Seconds,
            self.log_checkpoint_seconds.clone(),
        );
        registry.register(
            "families_revoked",
            "Token families revoked, by reason",
            self.families_revoked.clone(),
        );
        registry.register(
            "refresh_replays",
            "Rotated refresh tokens presented again (each revoked its family)",
            self.refresh_replays.clone(),
        );
        registry.register(
            "code_reuse",
            "Authorization codes redeemed twice (each revoked its family)",
            self.code_reuse.clone(),
        );
    }
}
