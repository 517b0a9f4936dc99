//! The checkpoints' tests: real SQLite databases in temp dirs, readers on
//! their own threads.

use super::*;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// A database in WAL mode and its write connection, with automatic
/// checkpoints off (as the store's).
fn open(dir: &tempfile::TempDir) -> (Connection, PathBuf) {
    let path = dir.path().join("db");
    let writer = Connection::open(&path).unwrap();
    writer.busy_timeout(BUSY_TIMEOUT).unwrap();
    writer
        .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .unwrap();
    writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    grow(&writer);
    (writer, path)
}

/// One write of a dozen pages.
fn grow(writer: &Connection) {
    writer
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS t (x BLOB); INSERT INTO t VALUES (zeroblob(50000));",
        )
        .unwrap();
}

fn assert_next_write_starts_the_log_again(writer: &Connection) {
    let frames = frames_after_a_write(writer);
    assert!(
        frames <= 4,
        "the next write started the log again: {frames} frames"
    );
}

/// Frames in the log after one more small write on `writer`: a handful
/// when that write started the log again, the whole log when it did not.
fn frames_after_a_write(writer: &Connection) -> i64 {
    writer.execute_batch("INSERT INTO t VALUES (1)").unwrap();
    writer
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
        .unwrap()
}

/// A reader on its own thread holding a snapshot of the log's end as of
/// now, until ended (or dropped).
struct Held {
    end: mpsc::Sender<()>,
    ended: mpsc::Receiver<()>,
}

impl Held {
    fn begin(path: &Path) -> Held {
        let (begun, has_begun) = mpsc::channel();
        let (end, to_end) = mpsc::channel::<()>();
        let (done, ended) = mpsc::channel();
        let path = path.to_owned();
        std::thread::spawn(move || {
            let reader = Connection::open(path).unwrap();
            reader
                .execute_batch("BEGIN; SELECT count(*) FROM t;")
                .unwrap();
            begun.send(()).unwrap();
            let _ = to_end.recv();
            reader.execute_batch("COMMIT").unwrap();
            let _ = done.send(());
        });
        has_begun.recv().unwrap();
        Held { end, ended }
    }

    /// Ends the snapshot, and returns once it has ended.
    fn end(self) {
        let _ = self.end.send(());
        let _ = self.ended.recv();
    }
}

/// A reader whose snapshot is older than the log's end.
fn hold_old_snapshot(writer: &Connection, path: &Path) -> Held {
    let held = Held::begin(path);
    grow(writer);
    held
}

/// A RESTART that may wait long and ends `held` at its first look, so
/// the read ends only once the checkpoint waits for it: the checkpoint
/// waited, completed, and the next write starts the log again.
fn assert_waited_for(writer: &Connection, held: Held) {
    let looked = std::rc::Rc::new(Cell::new(false));
    let noted = looked.clone();
    let mut held = Some(held);
    let mut between_looks: Option<BetweenLooks> = Some(Box::new(move || {
        noted.set(true);
        if let Some(held) = held.take() {
            held.end();
        }
    }));
    let outcome = restart(writer, Duration::from_secs(60), &mut between_looks).unwrap();
    // An unused reader, dropped, ends: a failure does not hang.
    drop(between_looks);
    assert!(looked.get(), "the checkpoint waited for the reader");
    assert_eq!(
        outcome,
        Checkpointed::Complete,
        "it waited for the read to end"
    );
    assert_next_write_starts_the_log_again(writer);
}

#[test]
fn a_read_in_flight_is_waited_for_and_the_next_write_starts_the_log_again() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, path) = open(&dir);
    let held = hold_old_snapshot(&writer, &path);
    // The control: without waiting, the reader's snapshot stops the copy.
    assert_eq!(
        passive(&writer).unwrap(),
        Checkpointed::Partial,
        "the reader is in the way"
    );
    assert_waited_for(&writer, held);
}

/// A reader of the log's very end does not stop the copy, but would
/// refuse the next write's start of the log: it is waited for too.
#[test]
fn a_reader_of_the_logs_end_is_waited_for_too() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, path) = open(&dir);
    grow(&writer);
    let held = Held::begin(&path);
    assert_waited_for(&writer, held);
}

/// SQLite waits for the read mark it saw at the start even after the
/// mark has moved on to the log's end, and readers arriving without pause
/// hold the moved mark for good. Here the old reader ends at the first
/// look, and at every look a reader of the log's end ends and another
/// begins (taking the moved mark, shared, with no gap): a single wait
/// never gets the mark; a round that reads the marks afresh copies the
/// log, after which new readers read the database file alone.
#[test]
fn a_read_mark_that_moved_on_is_seen_in_the_next_round() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, path) = open(&dir);
    let mut old = Some(hold_old_snapshot(&writer, &path));
    let mut newer: Option<Held> = None;
    let mut between_looks: Option<BetweenLooks> = Some(Box::new(move || {
        if let Some(old) = old.take() {
            old.end();
        }
        // The next begins before the last ends: the mark is never free.
        if let Some(last) = newer.replace(Held::begin(&path)) {
            last.end();
        }
    }));
    let outcome = restart(&writer, Duration::from_millis(50), &mut between_looks).unwrap();
    drop(between_looks);
    assert_eq!(outcome, Checkpointed::Complete);
    assert_next_write_starts_the_log_again(&writer);
}

/// While the background checkpoint runs, the writer's finds the lock
/// held and does nothing; it tries again at the next batch, not once the
/// log has grown by the retry distance.
#[test]
fn a_checkpoint_that_found_the_lock_held_is_tried_at_the_next_batch() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;
    static HOLD: Mutex<()> = Mutex::new(());
    static WAITING: AtomicBool = AtomicBool::new(false);
    /// The other checkpoint's busy handler: waits, holding its locks,
    /// until the test lets go.
    fn wait_for_the_test(_: i32) -> bool {
        WAITING.store(true, Ordering::SeqCst);
        drop(HOLD.lock());
        false
    }
    let dir = tempfile::tempdir().unwrap();
    let (writer, path) = open(&dir);
    let mut log = LogBound::watch(&writer, Box::new(|| ()));
    let held = hold_old_snapshot(&writer, &path);
    let holding = HOLD.lock().unwrap();
    // Another connection's FULL checkpoint takes the lock, then waits for
    // the reader inside its busy handler.
    let other = std::thread::spawn(move || {
        let other = Connection::open(path).unwrap();
        other.busy_handler(Some(wait_for_the_test)).unwrap();
        let _ = other.query_row("PRAGMA wal_checkpoint(FULL)", [], |_| Ok(()));
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !WAITING.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "the other checkpoint never waited"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let first = log.after_batch(&writer, 1).expect("due").unwrap();
    assert_eq!(first.outcome, Checkpointed::LockHeld);
    assert!(log.after_batch(&writer, 1).is_some(), "tried again at once");
    drop(holding);
    other.join().unwrap();
    held.end();
}

/// The background checkpoint tells the store once a round copied the
/// whole log back (so it can end kept snapshots), not before.
#[test]
fn the_background_checkpoint_tells_when_it_copied_the_log_back() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, path) = open(&dir);
    let held = hold_old_snapshot(&writer, &path);
    let running = alive();
    let (told, copied_back) = mpsc::channel();
    let tell: Box<dyn Fn() + Send> = Box::new(move || {
        let _ = told.send(());
    });
    let conn = Connection::open(&path).unwrap();
    start(conn, Arc::downgrade(&running), Arc::default(), tell).unwrap();
    std::thread::sleep(EVERY * 3);
    assert!(
        copied_back.try_recv().is_err(),
        "not while a reader is in the way"
    );
    held.end();
    copied_back
        .recv_timeout(Duration::from_secs(30))
        .expect("told after a complete round");
    drop(running);
}

#[test]
fn a_reader_past_the_wait_is_left_and_the_busy_timeout_restored() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, path) = open(&dir);
    let held = hold_old_snapshot(&writer, &path);
    let short = Duration::from_millis(20);
    assert_eq!(
        restart(&writer, short, &mut None).unwrap(),
        Checkpointed::Partial,
        "a reader still holds its snapshot"
    );
    let timeout: i64 = writer
        .query_row("PRAGMA busy_timeout", [], |row| row.get(0))
        .unwrap();
    assert_eq!(timeout, i64::try_from(BUSY_TIMEOUT.as_millis()).unwrap());
    assert!(frames_after_a_write(&writer) > 4, "the log went on");
    held.end();
}
