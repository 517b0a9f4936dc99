//! The read-only connections, and the snapshots token lookups keep between
//! COMMITs.
//!
//! A read transaction costs SQLite a WAL read mark: a shared-memory lock and
//! its `fcntl` calls to begin, more to end (~1.8 `fcntl` per `/me` request,
//! 28 % of its token lookup). A token lookup ([`Readers::read_current`])
//! therefore keeps its connection's read transaction open after it answers,
//! and the next lookup on that connection reuses it while no COMMIT has
//! happened since and it is younger than [`KEEP_AT_MOST`]. The writer counts
//! its COMMITs here ([`Readers::retire`]) right after each COMMIT and
//! before anyone hears of it, so a lookup that starts after an answer (a
//! revocation, a disable, a rotation) always starts a new snapshot: the very
//! next request sees the change, as before.
//!
//! A kept snapshot must not hold the log back: a checkpoint cannot copy past
//! a reader's snapshot, and SQLite restarts the log only when no reader holds
//! a read mark inside it. So the writer retires the snapshots taken so far
//! ([`Readers::retire`]) after each COMMIT, and again before each look while
//! its bound checkpoint waits for readers (`checkpoint.rs`): it counts, then
//! ends every kept snapshot it can take without waiting, and a lookup in
//! flight meanwhile ends its own when it finishes (it sees the count moved).
//! So the checkpoint waits only for lookups in flight, and what a lookup
//! begins after the log is copied back reads the database file alone, with
//! no read mark in the log. The age bound is for changes made by another
//! process, which the writer does not count (nothing should write the
//! database beside the server; a tool that does is seen by token lookups
//! within [`KEEP_AT_MOST`]).
//!
//! Every other read ([`Readers::read`]) ends a kept snapshot first and runs
//! each statement on a snapshot of its own, as SQLite's autocommit does.

use super::Result;
use rusqlite::Connection;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

/// The longest a token lookup reuses a snapshot no COMMIT of ours has passed.
pub(super) const KEEP_AT_MOST: Duration = Duration::from_millis(100);

pub(super) struct Readers {
    slots: Vec<Mutex<Reader>>,
    /// [`KEEP_AT_MOST`] in nanoseconds, but for tests.
    keep_at_most: AtomicU64,
    /// Where a read waits when every connection is busy, picked in turn.
    next: AtomicUsize,
    /// COMMITs the writer made; a kept snapshot is current while this is
    /// what it was when the snapshot began.
    commits: AtomicU64,
}

struct Reader {
    conn: Connection,
    /// The read transaction left open by a token lookup: the COMMIT count
    /// when it began, and when.
    kept: Option<(u64, Instant)>,
}

impl Reader {
    /// Ends a kept snapshot, or any read transaction left open.
    fn end(&mut self) {
        self.kept = None;
        if !self.conn.is_autocommit() {
            // Ending a read transaction cannot lose anything; if it fails the
            // connection's next BEGIN reports it.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl Readers {
    pub(super) fn new(connections: Vec<Connection>, keep_at_most: Duration) -> Self {
        Readers {
            keep_at_most: AtomicU64::new(nanos(keep_at_most)),
            slots: connections
                .into_iter()
                .map(|conn| Mutex::new(Reader { conn, kept: None }))
                .collect(),
            next: AtomicUsize::new(0),
            commits: AtomicU64::new(0),
        }
    }

    /// Runs `work` with each statement on its own snapshot.
    ///
    /// The first free connection, tried in order, so reads gather on the first
    /// few: SQLite drops a reader's whole page cache at its first read after
    /// any COMMIT, and a connection that serves more of the reads between two
    /// COMMITs drops its cache less often per read. Only when all are busy
    /// does a read wait, on one picked in turn.
    pub(super) fn read<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut reader = self.take();
        reader.end();
        work(&reader.conn)
    }

    /// Runs `work` on a snapshot no COMMIT of the writer's has passed: the
    /// connection's kept one if it is current, else a new one, kept after.
    pub(super) fn read_current<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut reader = self.take();
        let commits = self.commits.load(Ordering::Acquire);
        let keep_at_most = Duration::from_nanos(self.keep_at_most.load(Ordering::Relaxed));
        let current = matches!(reader.kept, Some((kept, since))
            if kept == commits && since.elapsed() < keep_at_most);
        if !current {
            reader.end();
            // Deferred: the snapshot begins at `work`'s first read, after the
            // count was read, so it holds every COMMIT counted so far.
            reader.conn.execute_batch("BEGIN")?;
            reader.kept = Some((commits, Instant::now()));
        }
        let outcome = work(&reader.conn);
        // Retired while in use (a COMMIT or a checkpoint since it began): no
        // later lookup may reuse it, and it must not hold the log back.
        if outcome.is_err() || self.commits.load(Ordering::Acquire) != commits {
            reader.end();
        }
        outcome
    }

    /// Called by the writer after each COMMIT, before its callers or anyone
    /// else hear of it, and while its checkpoint waits for readers: counts,
    /// so no snapshot taken so far is reused, then ends the kept snapshots of
    /// the connections not in use (one in use ends its own when it finishes).
    pub(super) fn retire(&self) {
        self.commits.fetch_add(1, Ordering::Release);
        for slot in &self.slots {
            if let Some(mut reader) = try_lock(slot) {
                reader.end();
            }
        }
    }

    /// Sets the age bound (tests: one that a slow machine cannot reach).
    #[cfg(feature = "failpoints")]
    pub(super) fn set_keep_at_most(&self, keep_at_most: Duration) {
        self.keep_at_most
            .store(nanos(keep_at_most), Ordering::Relaxed);
    }

    fn take(&self) -> MutexGuard<'_, Reader> {
        if let Some(reader) = self.slots.iter().find_map(try_lock) {
            return reader;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        self.slots[start % self.slots.len()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The reader if it is free. A panic while one was held left at most a read
/// transaction open, which its next use ends or reuses like any kept one.
fn try_lock(slot: &Mutex<Reader>) -> Option<MutexGuard<'_, Reader>> {
    match slot.try_lock() {
        Ok(reader) => Some(reader),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::checkpoint;
    use super::*;
    use rusqlite::OpenFlags;

    /// A writer connection on a fresh WAL database with one row, and readers on it.
    fn database(
        dir: &std::path::Path,
        readers: usize,
        keep_at_most: Duration,
    ) -> (Connection, Readers) {
        let path = dir.join("db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);",
            )
            .unwrap();
        let connections = (0..readers)
            .map(|_| Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap())
            .collect();
        (writer, Readers::new(connections, keep_at_most))
    }

    fn rows(conn: &Connection) -> Result<i64> {
        Ok(conn.query_row("SELECT count(*) FROM t", [], |row| row.get(0))?)
    }

    /// (frames in the log, frames copied back) after a PASSIVE checkpoint.
    fn checkpoint(writer: &Connection) -> (i64, i64) {
        writer
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get(1)?, row.get(2)?))
            })
            .unwrap()
    }

    #[test]
    fn a_kept_snapshot_serves_until_a_counted_commit_even_on_a_busy_reader() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, readers) = database(dir.path(), 1, Duration::from_secs(3600));
        assert_eq!(readers.read_current(rows).unwrap(), 1);
        writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert_eq!(
            readers.read_current(rows).unwrap(),
            1,
            "an uncounted COMMIT (another process's) is not seen on the kept snapshot"
        );
        assert_eq!(readers.read(rows).unwrap(), 2, "a plain read sees it");
        assert_eq!(readers.read_current(rows).unwrap(), 2);
        writer.execute("INSERT INTO t VALUES (3)", []).unwrap();
        {
            // In use while the COMMIT is counted: the writer cannot end its snapshot.
            let _busy = readers.slots[0].lock().unwrap();
            readers.retire();
        }
        assert_eq!(
            readers.read_current(rows).unwrap(),
            3,
            "the count tells the busy reader its snapshot is stale"
        );
    }

    #[test]
    fn a_lookup_in_flight_when_its_snapshot_is_retired_ends_it_when_done() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, readers) = database(dir.path(), 1, Duration::from_secs(3600));
        let seen = readers
            .read_current(|conn| {
                let before = rows(conn)?;
                writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
                readers.retire();
                Ok((before, rows(conn)?))
            })
            .unwrap();
        assert_eq!(seen, (1, 1), "one snapshot for the whole lookup");
        assert!(
            readers.slots[0].lock().unwrap().conn.is_autocommit(),
            "ended when the lookup finished, not kept"
        );
        assert_eq!(readers.read_current(rows).unwrap(), 2);
    }

    /// Kept snapshots, one begun before a COMMIT and one after: the writer's
    /// checkpoint ends both while it waits, completes, and the next write
    /// starts the log again.
    #[test]
    fn the_writers_checkpoint_ends_kept_snapshots_and_the_log_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, readers) = database(dir.path(), 2, Duration::from_secs(3600));
        let readers = std::sync::Arc::new(readers);
        let _ = readers.read_current(|first| {
            let before = rows(first)?;
            writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
            let _ = readers.read_current(rows)?;
            Ok(before)
        });
        let kept = |readers: &Readers| {
            readers
                .slots
                .iter()
                .filter(|slot| slot.lock().unwrap().kept.is_some())
                .count()
        };
        assert_eq!(kept(&readers), 2, "both kept their snapshots");
        let (log, copied) = checkpoint(&writer);
        assert!(
            copied < log,
            "the older snapshot stops a checkpoint that does not wait"
        );
        let retiring = readers.clone();
        let mut between_looks: Option<checkpoint::BetweenLooks> =
            Some(Box::new(move || retiring.retire()));
        // Long for a free reader's snapshot to end (at the first look), short
        // for a test to fail in.
        let wait = Duration::from_secs(2);
        assert_eq!(
            checkpoint::restart(&writer, wait, &mut between_looks).unwrap(),
            checkpoint::Checkpointed::Complete
        );
        assert_eq!(kept(&readers), 0, "it ended the kept snapshots");
        writer.execute("INSERT INTO t VALUES (3)", []).unwrap();
        let (restarted, _) = checkpoint(&writer);
        assert!(
            restarted < log,
            "the next write started the log again: {restarted} frames, was {log}"
        );
    }

    #[test]
    fn a_snapshot_past_its_age_bound_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, readers) = database(dir.path(), 1, Duration::ZERO);
        assert_eq!(readers.read_current(rows).unwrap(), 1);
        writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert_eq!(readers.read_current(rows).unwrap(), 2);
    }

    #[test]
    fn a_counted_commit_ends_idle_snapshots_so_checkpoints_complete_and_the_log_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, readers) = database(dir.path(), 2, Duration::from_secs(3600));
        // Both readers keep a snapshot with a read mark inside the log.
        let _ = readers.read_current(|first| {
            let _ = readers.read_current(rows)?;
            rows(first)
        });
        let mut logs = Vec::new();
        for x in 0..4 {
            writer.execute("INSERT INTO t VALUES (?1)", [x]).unwrap();
            readers.retire();
            let (log, copied) = checkpoint(&writer);
            assert_eq!(
                copied, log,
                "round {x}: the checkpoint copied the whole log"
            );
            logs.push(log);
        }
        assert!(
            logs[1..].iter().all(|log| *log <= logs[0]),
            "each write after a complete checkpoint starts the log again: {logs:?}"
        );
    }
}
