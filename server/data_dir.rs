//! The data directory: created 0700, its files refused when group or others
//! may read them (as ssh does), the admin token made on first start, the
//! database opened, and the lock that keeps one server (or restore) on it.

use crate::secret::random_base64;
use crate::server::ServeError;
use crate::store::Store;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const ADMIN_TOKEN_FILE: &str = "admin.token";
pub const DATABASE_FILE: &str = "gatehouse.db";
/// Held (flock) by the one server, or the one restore, using a data directory.
pub const LOCK_FILE: &str = "gatehouse.lock";
/// How long taking the lock waits out a holder that is about to let go.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// The data directory made ready: created 0700, permissions checked, the admin
/// token created on first start, the database opened.
pub struct Prepared {
    pub store: Store,
    pub admin_token: String,
    /// This process's hold on the data directory; keep it while serving.
    pub lock: DataDirLock,
}

/// An exclusive `flock` on `<data-dir>/gatehouse.lock`, released on drop (and
/// by the kernel when the process dies, however it dies). A second server on
/// the same data directory, or a restore under a running server, is refused.
#[derive(Debug)]
pub struct DataDirLock {
    _file: std::fs::File,
}

impl DataDirLock {
    /// Takes the lock of an existing data directory, or says who holds it.
    pub fn take(data_dir: &Path) -> Result<Self, ServeError> {
        let path = data_dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|error| ServeError::DataDir {
                path: path.clone(),
                message: format!("cannot open the lock file: {error}"),
            })?;
        use std::os::fd::AsRawFd;
        // A lock just released can still be held for a moment by a child
        // process forked before the release and not yet exec'd (the lock
        // belongs to the open file, which the fork shares): try for up to
        // LOCK_PATIENCE before saying a server holds it.
        let deadline = std::time::Instant::now() + LOCK_PATIENCE;
        let locked = loop {
            // SAFETY: flock(2) on a descriptor we own; no memory is shared.
            let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if locked == 0 || std::time::Instant::now() >= deadline {
                break locked;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        if locked != 0 {
            return Err(ServeError::DataDir {
                path: data_dir.to_owned(),
                message:
                    "a gatehouse server (or a restore) is using this data directory; stop it first"
                        .into(),
            });
        }
        Ok(DataDirLock { _file: file })
    }
}

/// Creates the data directory (0700) if it does not exist yet.
pub fn create_data_dir(data_dir: &Path) -> Result<(), ServeError> {
    if data_dir.exists() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .map_err(|error| ServeError::DataDir {
            path: data_dir.to_owned(),
            message: format!("cannot create the data directory: {error}"),
        })
}

/// Creates or checks the data directory, the admin token and the database.
/// Refuses files readable by group or others, as ssh does.
pub fn prepare(data_dir: &Path) -> Result<Prepared, ServeError> {
    let failure = |path: &Path, message: String| ServeError::DataDir {
        path: path.to_owned(),
        message,
    };
    create_data_dir(data_dir)?;
    refuse_if_exposed(data_dir)?;
    let lock = DataDirLock::take(data_dir)?;
    let token_path = data_dir.join(ADMIN_TOKEN_FILE);
    if !token_path.exists() {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&token_path)
            .map_err(|error| {
                failure(
                    &token_path,
                    format!("cannot create the admin token: {error}"),
                )
            })?;
        writeln!(file, "{}", random_base64(32))?;
        file.sync_all()?;
    }
    let database = data_dir.join(DATABASE_FILE);
    if !database.exists() {
        // SQLite gives the -wal and -shm files the mode of the database file.
        create_private(&database)?;
    }
    for path in [data_dir, token_path.as_path(), database.as_path()] {
        refuse_if_exposed(path)?;
    }
    let admin_token =
        read_token_file(&token_path).map_err(|message| failure(&token_path, message))?;
    let store = Store::open(&database)?;
    Ok(Prepared {
        store,
        admin_token,
        lock,
    })
}

/// Reads a token file: its first line, trimmed; it must not be empty.
pub fn read_token_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read the admin token: {error}"))?;
    let token = text.lines().next().unwrap_or("").trim().to_owned();
    if token.is_empty() {
        return Err("the admin token file is empty".into());
    }
    Ok(token)
}

/// Refuses a file or directory that group or others may read.
pub fn refuse_if_exposed(path: &Path) -> Result<(), ServeError> {
    let Ok(metadata) = std::fs::metadata(path) else {
        return Ok(());
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ServeError::DataDir {
            path: path.to_owned(),
            message: format!(
                "mode {mode:o} lets group or others read it; run `chmod go-rwx` on it"
            ),
        });
    }
    Ok(())
}

fn create_private(path: &Path) -> Result<(), ServeError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    Ok(())
}
