//! The write connection's VFS: SQLite's own `unix` VFS, except that the
//! frames of one COMMIT reach the write-ahead log in one write, not two per
//! page (SQLite writes each frame's 24-byte header, then its page).
//!
//! On the development machine a `pwrite` costs 2–4 µs however small it is,
//! and a refresh rotation writes three to four frames: holding the frames
//! and writing them together saves about a fifth of the writer's time
//! (README, Performance).
//!
//! Only appends to the log are held, and only until the page of the frame
//! that ends a transaction: a frame header whose "database size after
//! commit" field is not zero marks it, and the write of its page sends
//! everything held. So every frame of a COMMIT is in the file before SQLite
//! publishes the COMMIT in the shared index, where other connections find
//! frames (they only ever read frames of published COMMITs), and before the
//! sync thread's `fdatasync`. Anything else done to the log through this
//! handle first sends what is held: a read, a sync, asking its size,
//! truncating it, a file control, closing it, and a write that is not an
//! append (a frame overwritten within its transaction, the header of a
//! restarted log), which itself goes straight through, as does the first
//! write after any of the others (SQLite rewrites a frame's checksum right
//! after reading the frame: such a header, with no page after it, is never
//! held). What
//! is held never exceeds [`MAX_HELD_BYTES`] (128 KiB); a bigger transaction
//! is written in several pieces. A write that fails leaves what was held
//! held, to be tried again before anything else. A crash loses only held
//! frames of a transaction that had not committed, which recovery would have
//! ignored anyway.
//!
//! The commit mark is read from a 24-byte write, so this relies on SQLite
//! writing each frame header whole: it does, except when it pads the log to a
//! sector boundary, which it only does at a COMMIT under `synchronous=FULL`.
//! The write connection runs `synchronous=NORMAL` from its first statement
//! (`Store::open`).
//!
//! Every other file (the database itself, temp files) is the `unix` VFS's
//! own, untouched.

use super::{Result, StoreError};
use rusqlite::ffi;
use std::ffi::{c_int, c_void, CStr};
use std::sync::OnceLock;

/// The name the write connection opens the database with.
const NAME: &CStr = c"gatehouse-log-writes";

/// Bytes held at most before they are written anyway: the most the unix
/// VFS writes at once (its `seekAndWriteFd` takes `nBuf & 0x1ffff` bytes,
/// and a write of more fails as a full disk).
const MAX_HELD_BYTES: usize = 0x1ffff;

/// A write-ahead log frame's header: page number, then the database's size
/// in pages after the commit (zero unless the frame ends a transaction),
/// salts and checksums.
const FRAME_HEADER_BYTES: usize = 24;

/// Registers the VFS (once per process) and returns its name.
pub(super) fn vfs() -> Result<&'static CStr> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(register)
        .as_ref()
        .map(|()| NAME)
        .map_err(StoreError::internal)
}

fn register() -> std::result::Result<(), String> {
    // SAFETY: sqlite3_vfs_find and sqlite3_vfs_register are thread-safe; the
    // VFS registered is leaked, so it outlives every connection using it.
    unsafe {
        let unix = ffi::sqlite3_vfs_find(c"unix".as_ptr());
        if unix.is_null() {
            return Err("SQLite has no unix VFS".into());
        }
        let mut ours = *unix;
        // Every method but xOpen is the unix VFS's own; in the bundled
        // SQLite none of them reads its VFS argument (checked in 3.50.2),
        // and xOpen hands the unix VFS its own struct.
        ours.pNext = std::ptr::null_mut();
        ours.zName = NAME.as_ptr();
        ours.pAppData = unix.cast::<c_void>();
        ours.szOsFile = c_int::try_from(INNER_AT)
            .ok()
            .and_then(|at| at.checked_add((*unix).szOsFile))
            .ok_or("the unix VFS's file is too big")?;
        ours.xOpen = Some(open);
        let rc = ffi::sqlite3_vfs_register(Box::into_raw(Box::new(ours)), 0);
        if rc != ffi::SQLITE_OK {
            return Err(format!("registering the log-writes VFS failed ({rc})"));
        }
    }
    Ok(())
}

/// The writes held for one log, and where its next append goes.
#[derive(Debug, Default)]
struct Held {
    bytes: Vec<u8>,
    /// The file offset of `bytes[0]`.
    at: i64,
    /// The end of the last write: a write starting here is an append.
    end: Option<i64>,
    /// Where the page of the last transaction-ending frame header goes.
    commit_page_at: Option<i64>,
}

/// Writes `bytes` at a file offset, or says why not (an SQLite result code).
trait Sink {
    fn write_at(&mut self, bytes: &[u8], offset: i64) -> std::result::Result<(), c_int>;
}

impl Held {
    /// A write of `data` at `offset`: held when it is an append, sent
    /// (with everything held before it) when it is the page of a frame that
    /// ends a transaction, written through (after what is held) otherwise.
    fn write(
        &mut self,
        data: &[u8],
        offset: i64,
        sink: &mut impl Sink,
    ) -> std::result::Result<(), c_int> {
        let append = self.end == Some(offset);
        if !append || self.bytes.len() + data.len() > MAX_HELD_BYTES {
            self.send(sink)?;
        }
        if append && data.len() <= MAX_HELD_BYTES {
            if self.bytes.is_empty() {
                self.at = offset;
            }
            self.bytes.extend_from_slice(data);
        } else if let Err(rc) = sink.write_at(data, offset) {
            self.end = None;
            return Err(rc);
        }
        self.end = i64::try_from(data.len())
            .ok()
            .and_then(|len| offset.checked_add(len));
        if data.len() == FRAME_HEADER_BYTES && data[4..8] != [0; 4] {
            self.commit_page_at = Some(offset + FRAME_HEADER_BYTES as i64);
        } else if self.commit_page_at == Some(offset) {
            self.commit_page_at = None;
            self.send(sink)?;
        }
        Ok(())
    }

    /// Before anything else touches the log (a read, a sync, …): writes
    /// everything held, and takes the next write for no append, so a write
    /// after a read (SQLite rewriting a checksum it has just read) is never
    /// held.
    fn settle(&mut self, sink: &mut impl Sink) -> std::result::Result<(), c_int> {
        self.end = None;
        self.send(sink)
    }

    /// Writes everything held. On failure it stays held (SQLite was told
    /// those writes succeeded), so every later write, read or sync tries it
    /// again first and fails while the disk does: a COMMIT whose frames are
    /// not all in the file can never complete.
    fn send(&mut self, sink: &mut impl Sink) -> std::result::Result<(), c_int> {
        if self.bytes.is_empty() {
            return Ok(());
        }
        sink.write_at(&self.bytes, self.at)?;
        self.bytes.clear();
        Ok(())
    }
}

/// A log opened through this VFS: SQLite's file struct first, the unix
/// VFS's file for the same log after it (at [`INNER_AT`]).
#[repr(C)]
struct LogFile {
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    held: Held,
}

/// Where the unix VFS's file sits in the space SQLite gives each file.
const INNER_AT: usize = std::mem::size_of::<LogFile>().next_multiple_of(8);

/// The unix VFS's file, as a sink for what is held.
struct Unix(*mut ffi::sqlite3_file);

impl Sink for Unix {
    fn write_at(&mut self, bytes: &[u8], offset: i64) -> std::result::Result<(), c_int> {
        let Ok(len) = c_int::try_from(bytes.len()) else {
            return Err(ffi::SQLITE_IOERR_WRITE);
        };
        // SAFETY: self.0 is an open unix file (see `open`); bytes outlives the call.
        let rc = unsafe {
            match (*(*self.0).pMethods).xWrite {
                Some(write) => write(self.0, bytes.as_ptr().cast(), len, offset),
                None => ffi::SQLITE_IOERR_WRITE,
            }
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(rc)
        }
    }
}

unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let unix = (*vfs).pAppData.cast::<ffi::sqlite3_vfs>();
    let Some(unix_open) = (*unix).xOpen else {
        return ffi::SQLITE_CANTOPEN;
    };
    if flags & ffi::SQLITE_OPEN_WAL == 0 {
        // Not a log: the unix VFS's file, in the same place.
        return unix_open(unix, name, file, flags, out_flags);
    }
    let inner = file.cast::<u8>().add(INNER_AT).cast::<ffi::sqlite3_file>();
    let rc = unix_open(unix, name, inner, flags, out_flags);
    if rc != ffi::SQLITE_OK {
        if !(*inner).pMethods.is_null() {
            if let Some(close) = (*(*inner).pMethods).xClose {
                close(inner);
            }
        }
        (*file).pMethods = std::ptr::null();
        return rc;
    }
    file.cast::<LogFile>().write(LogFile {
        base: ffi::sqlite3_file {
            pMethods: &LOG_METHODS,
        },
        inner,
        held: Held::default(),
    });
    ffi::SQLITE_OK
}

/// Version 1: no shared memory and no memory map, which SQLite only ever
/// asks of the database file, never of its log.
static LOG_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

/// The log behind `file`, what it holds, and the unix VFS's methods for it.
unsafe fn log<'a>(
    file: *mut ffi::sqlite3_file,
) -> (
    &'a mut Held,
    *mut ffi::sqlite3_file,
    &'a ffi::sqlite3_io_methods,
) {
    let log = &mut *file.cast::<LogFile>();
    (&mut log.held, log.inner, &*(*log.inner).pMethods)
}

/// Settles what `file` holds ([`Held::settle`]), then runs `then` on the
/// unix VFS's file.
unsafe fn sent_then(
    file: *mut ffi::sqlite3_file,
    then: impl FnOnce(*mut ffi::sqlite3_file, &ffi::sqlite3_io_methods) -> Option<c_int>,
) -> c_int {
    let (held, inner, methods) = log(file);
    if let Err(rc) = held.settle(&mut Unix(inner)) {
        return rc;
    }
    then(inner, methods).unwrap_or(ffi::SQLITE_MISUSE)
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    let (held, inner, methods) = log(file);
    let sent = held.settle(&mut Unix(inner));
    let closed = methods
        .xClose
        .map_or(ffi::SQLITE_MISUSE, |close| close(inner));
    std::ptr::drop_in_place(file.cast::<LogFile>());
    sent.err().unwrap_or(closed)
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    sent_then(file, |inner, methods| {
        methods.xRead.map(|read| read(inner, buf, amount, offset))
    })
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let Ok(len) = usize::try_from(amount) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    if len == 0 {
        return ffi::SQLITE_OK;
    }
    let data = std::slice::from_raw_parts(buf.cast::<u8>(), len);
    let (held, inner, _) = log(file);
    match held.write(data, offset, &mut Unix(inner)) {
        Ok(()) => ffi::SQLITE_OK,
        Err(rc) => rc,
    }
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    sent_then(file, |inner, methods| {
        methods.xTruncate.map(|truncate| truncate(inner, size))
    })
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    sent_then(file, |inner, methods| {
        methods.xSync.map(|sync| sync(inner, flags))
    })
}

unsafe extern "C" fn file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    sent_then(file, |inner, methods| {
        methods.xFileSize.map(|file_size| file_size(inner, size))
    })
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    sent_then(file, |inner, methods| {
        methods.xFileControl.map(|control| control(inner, op, arg))
    })
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    let (_, inner, methods) = log(file);
    methods
        .xLock
        .map_or(ffi::SQLITE_MISUSE, |lock| lock(inner, level))
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    let (_, inner, methods) = log(file);
    methods
        .xUnlock
        .map_or(ffi::SQLITE_MISUSE, |unlock| unlock(inner, level))
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    let (_, inner, methods) = log(file);
    methods
        .xCheckReservedLock
        .map_or(ffi::SQLITE_MISUSE, |check| check(inner, out))
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    let (_, inner, methods) = log(file);
    methods.xSectorSize.map_or(4096, |size| size(inner))
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    let (_, inner, methods) = log(file);
    methods
        .xDeviceCharacteristics
        .map_or(0, |characteristics| characteristics(inner))
}

#[cfg(test)]
mod tests;
