//! What is held and when it is written: the holding alone against a
//! recording sink, then real SQLite through the VFS.

use super::*;

/// Every write that reached the file, in order.
#[derive(Default)]
struct Recorded {
    writes: Vec<(i64, Vec<u8>)>,
    /// Fail the next write with this code.
    fail: Option<c_int>,
}

impl Sink for Recorded {
    fn write_at(&mut self, bytes: &[u8], offset: i64) -> std::result::Result<(), c_int> {
        if let Some(rc) = self.fail.take() {
            return Err(rc);
        }
        self.writes.push((offset, bytes.to_vec()));
        Ok(())
    }
}

const PAGE: usize = 4096;
const FRAME: i64 = (FRAME_HEADER_BYTES + PAGE) as i64;

/// A frame header for page `page`, ending a transaction when `commit`.
fn header(page: u32, commit: bool) -> Vec<u8> {
    let mut header = vec![0xA5; FRAME_HEADER_BYTES];
    header[0..4].copy_from_slice(&page.to_be_bytes());
    header[4..8].copy_from_slice(&(if commit { 9u32 } else { 0 }).to_be_bytes());
    header
}

/// Writes frames `pages` from `at` as SQLite does (header, then page); the
/// last ends the transaction when `commit`. Returns the bytes in file order.
fn frames(held: &mut Held, sink: &mut Recorded, at: i64, pages: u32, commit: bool) -> Vec<u8> {
    let mut written = Vec::new();
    for page in 1..=pages {
        let offset = at + i64::from(page - 1) * FRAME;
        let header = header(page, commit && page == pages);
        let data = vec![page as u8; PAGE];
        held.write(&header, offset, sink).unwrap();
        held.write(&data, offset + FRAME_HEADER_BYTES as i64, sink)
            .unwrap();
        written.extend(header);
        written.extend(data);
    }
    written
}

#[test]
fn a_commits_frames_reach_the_file_in_one_write_once_its_last_page_is_written() {
    let (mut held, mut sink) = (Held::default(), Recorded::default());
    held.write(&[1; 32], 0, &mut sink).unwrap();
    assert_eq!(
        sink.writes.len(),
        1,
        "the first write has nothing to append to"
    );
    let first = frames(&mut held, &mut sink, 32, 5, true);
    assert_eq!(sink.writes.len(), 2);
    assert_eq!(sink.writes[1], (32, first));
    assert!(held.bytes.is_empty());
    // The next COMMIT appends where this one ended.
    let second = frames(&mut held, &mut sink, 32 + 5 * FRAME, 3, true);
    assert_eq!(sink.writes.len(), 3);
    assert_eq!(sink.writes[2], (32 + 5 * FRAME, second));
}

#[test]
fn frames_of_an_unfinished_transaction_wait_until_something_reads_or_syncs() {
    let (mut held, mut sink) = (Held::default(), Recorded::default());
    held.write(&[1; 32], 0, &mut sink).unwrap();
    let spilled = frames(&mut held, &mut sink, 32, 4, false);
    assert_eq!(sink.writes.len(), 1, "held: no transaction ended");
    held.send(&mut sink).unwrap();
    assert_eq!(sink.writes[1], (32, spilled));
}

/// A write that is not an append (a frame overwritten in its transaction, a
/// restarted log's header) sends what is held first and goes straight
/// through, and so does a write right after a read: SQLite rewrites a
/// frame's checksum just after reading the frame, and that header, a
/// transaction-ending one included, has no page after it to send it.
#[test]
fn a_write_elsewhere_or_after_a_read_sends_what_is_held_then_goes_through() {
    let (mut held, mut sink) = (Held::default(), Recorded::default());
    held.write(&[1; 32], 0, &mut sink).unwrap();
    let spilled = frames(&mut held, &mut sink, 32, 3, false);
    let overwritten = vec![7; PAGE];
    held.write(&overwritten, 32 + FRAME + 24, &mut sink)
        .unwrap();
    assert_eq!(sink.writes[1], (32, spilled));
    assert_eq!(sink.writes[2], (32 + FRAME + 24, overwritten));
    held.settle(&mut sink).unwrap();
    let rewritten = header(3, true);
    held.write(&rewritten, 32 + 2 * FRAME, &mut sink).unwrap();
    assert_eq!(sink.writes[3], (32 + 2 * FRAME, rewritten));
    assert!(held.bytes.is_empty(), "nothing held after a rewrite");
}

#[test]
fn never_more_than_the_bound_is_held() {
    let (mut held, mut sink) = (Held::default(), Recorded::default());
    held.write(&[1; 32], 0, &mut sink).unwrap();
    let pages = (3 * MAX_HELD_BYTES / FRAME as usize) as u32;
    let written = frames(&mut held, &mut sink, 32, pages, true);
    assert!(sink.writes.len() >= 4, "{} writes", sink.writes.len());
    let mut end = 32;
    let mut all = Vec::new();
    for (offset, bytes) in &sink.writes[1..] {
        assert_eq!(*offset, end, "contiguous");
        assert!(bytes.len() <= MAX_HELD_BYTES, "{}", bytes.len());
        end += bytes.len() as i64;
        all.extend_from_slice(bytes);
    }
    assert_eq!(all, written);
}

/// SQLite was told the held writes succeeded: a failure to send them keeps
/// them, and everything after tries them again first, failing while the
/// disk does, so no COMMIT can complete without them.
#[test]
fn a_failed_write_keeps_what_was_held_for_the_next_try() {
    let (mut held, mut sink) = (Held::default(), Recorded::default());
    held.write(&[1; 32], 0, &mut sink).unwrap();
    let spilled = frames(&mut held, &mut sink, 32, 2, false);
    sink.fail = Some(ffi::SQLITE_FULL);
    assert_eq!(held.settle(&mut sink), Err(ffi::SQLITE_FULL), "a read");
    assert_eq!(sink.writes.len(), 1, "only the log's header is in the file");
    // The next write sends what is held first.
    let at = 32 + 2 * FRAME;
    held.write(&header(3, false), at, &mut sink).unwrap();
    assert_eq!(sink.writes[1], (32, spilled));
    assert_eq!(sink.writes[2], (at, header(3, false)));

    // A COMMIT's last page that cannot be sent: the COMMIT fails, and its
    // frames go out before anything else once the disk takes them.
    let (mut held, mut sink) = (Held::default(), Recorded::default());
    held.write(&[1; 32], 0, &mut sink).unwrap();
    held.write(&header(1, true), 32, &mut sink).unwrap();
    sink.fail = Some(ffi::SQLITE_FULL);
    assert_eq!(held.write(&[3; PAGE], 56, &mut sink), Err(ffi::SQLITE_FULL));
    held.settle(&mut sink).unwrap();
    let mut frame = header(1, true);
    frame.extend([3; PAGE]);
    assert_eq!(sink.writes[1], (32, frame));
}

/// Real SQLite through the VFS, with a page cache of a few pages so a big
/// transaction spills frames mid-way and overwrites some (SQLite then
/// rewrites their checksums at COMMIT, reading the log), then one bigger
/// than the unix VFS writes at once and a small one, after which nothing
/// reads the log. `synchronous=NORMAL`, as the writer
/// runs: no sync at COMMIT sends anything. The files are copied while the
/// connection is still open, as a crash would leave them, and the copy is
/// opened by plain SQLite: recovery, which checks every frame's checksum,
/// finds every COMMIT.
#[test]
fn what_a_crash_leaves_recovers_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let conn = rusqlite::Connection::open_with_flags_and_vfs(
        &path,
        rusqlite::OpenFlags::default(),
        vfs().unwrap(),
    )
    .unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = 4;
         PRAGMA synchronous = NORMAL;
         CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB);",
    )
    .unwrap();
    for round in 0..3 {
        conn.execute_batch("BEGIN").unwrap();
        for k in 0..400 {
            conn.execute("INSERT OR REPLACE INTO t VALUES (?1, randomblob(300))", [k])
                .unwrap();
        }
        // Touch the first pages again after the cache has spilled them.
        conn.execute("UPDATE t SET v = zeroblob(300) WHERE k < 20", [])
            .unwrap();
        conn.execute_batch("COMMIT; PRAGMA cache_size = 2000")
            .unwrap();
        // Then, with room in the cache, one of ~300 KiB (more than one write
        // to the log can carry) and a small one: nothing reads the log after
        // their frames.
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99)
             INSERT INTO t SELECT 2000 + ?1 * 100 + i, randomblob(3000) FROM n",
            [round],
        )
        .unwrap();
        conn.execute("INSERT INTO t VALUES (?1, zeroblob(10))", [1000 + round])
            .unwrap();
        conn.execute_batch("PRAGMA cache_size = 4").unwrap();
        let copy = dir.path().join(format!("copy{round}"));
        std::fs::copy(&path, &copy).unwrap();
        std::fs::copy(
            dir.path().join("db-wal"),
            dir.path().join(format!("copy{round}-wal")),
        )
        .unwrap();
        let recovered = rusqlite::Connection::open(&copy).unwrap();
        let (rows, zeroed): (i64, i64) = recovered
            .query_row(
                "SELECT count(*), sum(v = zeroblob(300)) FROM t WHERE k < 1000",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!((rows, zeroed), (400, 20), "round {round}");
        let (small, medium): (i64, i64) = recovered
            .query_row(
                "SELECT sum(k BETWEEN 1000 AND 1999), sum(k >= 2000) FROM t",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (small, medium),
            (round + 1, 100 * (round + 1)),
            "round {round}: the later COMMITs"
        );
        let check: String = recovered
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
}
