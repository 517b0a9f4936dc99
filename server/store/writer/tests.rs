//! The writer's tests: a real store in a temp dir. Jobs queued while the
//! writer is held inside an earlier job are taken together: one batch, run
//! in the order they were queued.

use super::*;
use crate::store::Store;

/// An answer channel and the job writing `key` into `settings`, then failing
/// with `failure` or panicking (`"panic"`) when one is given.
fn setting(
    writer: &Writer,
    undo: Undo,
    key: &'static str,
    failure: Option<&'static str>,
) -> mpsc::Receiver<Result<()>> {
    job(writer, undo, key, move |tx| {
        tx.execute("INSERT INTO settings (key, value) VALUES (?1, 'x')", [key])?;
        match failure {
            Some("panic") => panic!("{key} panics after writing"),
            Some(message) => Err(StoreError::internal(message)),
            None => Ok(()),
        }
    })
}

fn job(
    writer: &Writer,
    undo: Undo,
    name: &str,
    work: impl FnOnce(&mut Tx) -> Result<()> + Send + 'static,
) -> mpsc::Receiver<Result<()>> {
    let (answer, answered) = mpsc::sync_channel(1);
    writer.enqueue(name, 0, undo, work, answer).unwrap();
    answered
}

/// Holds the writer inside a job (its own batch) until the sender is used.
fn hold(writer: &Writer) -> (mpsc::Sender<()>, mpsc::Receiver<Result<()>>) {
    let (release, released) = mpsc::channel::<()>();
    let (started, has_started) = mpsc::channel();
    let (answer, answered) = mpsc::sync_channel(1);
    writer
        .enqueue(
            "held",
            0,
            Undo::Savepoint,
            move |tx| {
                tx.execute("INSERT INTO settings (key, value) VALUES ('held', 'x')", [])?;
                started.send(()).unwrap();
                released.recv().unwrap();
                Ok(())
            },
            answer,
        )
        .unwrap();
    has_started.recv().unwrap();
    (release, answered)
}

/// A store in a temp dir, and what `queue` queued, all taken as one batch:
/// `queue` runs while the writer is held inside an earlier job.
fn one_batch<T>(queue: impl FnOnce(&Writer) -> T) -> (tempfile::TempDir, Store, T) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let (release, held) = hold(&store.inner.writer);
    let queued = queue(&store.inner.writer);
    release.send(()).unwrap();
    held.recv().unwrap().unwrap();
    (dir, store, queued)
}

fn keys(store: &Store) -> Vec<String> {
    store
        .read(|conn| {
            Ok(conn
                .prepare("SELECT key FROM settings WHERE value = 'x' ORDER BY key")?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?)
        })
        .unwrap()
}

fn error_of(answered: mpsc::Receiver<Result<()>>) -> String {
    answered.recv().unwrap().unwrap_err().to_string()
}

/// A job without a savepoint that fails after writing takes back what the
/// batch wrote before it (those callers hear an error), and nothing more:
/// the jobs after it, with or without savepoints, commit in a transaction
/// of their own.
#[test]
fn a_bare_job_that_fails_after_writing_rolls_back_its_batch_so_far_only() {
    for failure in ["boom", "panic"] {
        // The held job's batch is counted by now; its COMMIT comes later.
        let (_dir, store, (start, [before, savepointed, broken, after, after_savepointed])) =
            one_batch(|writer| {
                let start = writer.stats();
                (
                    start,
                    [
                        setting(writer, Undo::Batch, "before", None),
                        setting(writer, Undo::Savepoint, "savepointed", None),
                        setting(writer, Undo::Batch, "broken", Some(failure)),
                        setting(writer, Undo::Batch, "after", None),
                        setting(writer, Undo::Savepoint, "after_savepointed", None),
                    ],
                )
            });
        for (answered, key) in [(before, "before"), (savepointed, "savepointed")] {
            let error = error_of(answered);
            assert!(error.contains("rolled back"), "{key}: {error}");
        }
        let error = error_of(broken);
        let expected = if failure == "panic" {
            "panicked"
        } else {
            failure
        };
        assert!(error.contains(expected), "{failure}: {error}");
        after.recv().unwrap().unwrap();
        after_savepointed.recv().unwrap().unwrap();

        assert_eq!(keys(&store), ["after", "after_savepointed", "held"]);
        let stats = store.inner.writer.stats();
        assert_eq!(stats.jobs - start.jobs, 5, "{failure}");
        assert_eq!(
            stats.commits - start.commits,
            2,
            "{failure}: the held job's COMMIT and the one after the rollback"
        );
    }
}

/// A job with a savepoint that fails is undone alone, even beside bare ones.
#[test]
fn a_savepointed_job_that_fails_beside_bare_ones_is_undone_alone() {
    let (_dir, store, [before, broken, after]) = one_batch(|writer| {
        [
            setting(writer, Undo::Batch, "before", None),
            setting(writer, Undo::Savepoint, "broken", Some("boom")),
            setting(writer, Undo::Batch, "after", None),
        ]
    });
    before.recv().unwrap().unwrap();
    assert!(error_of(broken).contains("boom"));
    after.recv().unwrap().unwrap();
    assert_eq!(keys(&store), ["after", "before", "held"]);
}

/// A bare job that fails before it changed any row (a kept retry answer
/// that will not open) is an ordinary failed job: its neighbours commit.
#[test]
fn a_bare_job_that_fails_before_writing_fails_alone() {
    let (_dir, store, [before, refused, after]) = one_batch(|writer| {
        [
            setting(writer, Undo::Batch, "before", None),
            job(writer, Undo::Batch, "refused", |_| {
                Err(StoreError::internal("refused before writing"))
            }),
            setting(writer, Undo::Batch, "after", None),
        ]
    });
    before.recv().unwrap().unwrap();
    assert!(error_of(refused).contains("refused before writing"));
    after.recv().unwrap().unwrap();
    assert_eq!(keys(&store), ["after", "before", "held"]);
}

/// SQLite rolls the whole transaction back itself when a statement without
/// a statement journal finds the disk full (here: the database's page
/// limit), savepoints or not. The jobs after it must not run outside a
/// transaction, each statement committing alone: they run in a new one,
/// and the jobs before it hear an error, as nothing of theirs stays.
#[test]
fn a_transaction_sqlite_rolled_back_itself_ends_the_batch_so_far() {
    let (_dir, store, [before, full, after, after_savepointed]) = one_batch(|writer| {
        [
            setting(writer, Undo::Savepoint, "before", None),
            job(writer, Undo::Savepoint, "full", |tx| {
                let pages: i64 = tx.query_row("PRAGMA page_count", [], |row| row.get(0))?;
                tx.execute_batch(&format!("PRAGMA max_page_count = {}", pages + 2))?;
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES ('full', zeroblob(100000))",
                    [],
                )?;
                Ok(())
            }),
            setting(writer, Undo::Batch, "after", None),
            setting(writer, Undo::Savepoint, "after_savepointed", None),
        ]
    });
    let error = error_of(before);
    assert!(error.contains("rolled back"), "{error}");
    let error = error_of(full);
    assert!(error.contains("full"), "{error}");
    after.recv().unwrap().unwrap();
    after_savepointed.recv().unwrap().unwrap();
    assert_eq!(keys(&store), ["after", "after_savepointed", "held"]);
}
