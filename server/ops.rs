//! Day-two commands that work on the data directory itself, not over the
//! admin plane: `gatehouse backup`, `gatehouse restore`, `serve --check`.
//!
//! They run on the host, as the user that owns the data directory: whoever can
//! read `gatehouse.db` already holds everything a backup holds, so no admin
//! token is asked for, and a backup works whether or not the server runs.

use crate::cli::output::rfc3339;
use crate::clock::Clock;
use crate::config::{Config, GlobalArgs, ServeArgs};
use crate::server::{self, DataDirLock, ServeError, ADMIN_TOKEN_FILE, DATABASE_FILE};
use crate::store::backup::{self as file, RestorePolicy, Summary};
use crate::store::StoreError;
use serde_json::json;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Flags of `gatehouse backup`.
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// The copy to write (a new file, mode 0600; refused if it exists).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

/// Flags of `gatehouse restore`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// A file written by `gatehouse backup`.
    #[arg(value_name = "FROM")]
    pub from: PathBuf,
    /// Keep the grants that were active in the backup. UNSAFE unless the backup
    /// is newer than every refresh since: a refresh token rotated after the
    /// backup becomes current again, and a stolen old one would work.
    #[arg(long)]
    pub keep_grants: bool,
    /// Check the backup and print what the restore would do; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OpsError + '_ {
    move |error| OpsError::Io {
        path: path.to_owned(),
        error,
    }
}

/// `gatehouse backup --to FILE`: a consistent copy while the server serves.
pub fn backup(global: &GlobalArgs, args: &BackupArgs, json: bool) -> Result<(), OpsError> {
    let source = global.data_dir.join(DATABASE_FILE);
    if !source.exists() {
        return Err(OpsError::Usage(format!(
            "{}: no database here (check --data-dir)",
            source.display()
        )));
    }
    if args.to.exists() {
        return Err(OpsError::Usage(format!(
            "{}: exists; refusing to overwrite it",
            args.to.display()
        )));
    }
    let partial = with_suffix(&args.to, ".partial");
    let _ = std::fs::remove_file(&partial);
    create_private(&partial)?;
    let started = Instant::now();
    let now = Clock::default().now();
    let copied = file::backup(&source, &partial, now).inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })?;
    sync_file(&partial)?;
    std::fs::rename(&partial, &args.to).map_err(io(&args.to))?;
    sync_parent(&args.to)?;
    let elapsed = started.elapsed();
    let bytes = std::fs::metadata(&args.to).map_err(io(&args.to))?.len();
    if json {
        let report = json!({
            "file": args.to.display().to_string(),
            "bytes": bytes,
            "duration_ms": elapsed.as_millis() as u64,
            "integrity": "ok",
            "newest_event_id": copied.newest_event_id,
            "newest_event_time": rfc3339(copied.newest_event_time),
            "schema_version": copied.schema_version,
            "active_families": copied.active_families,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        println!(
            "backup written to {} ({} bytes, {} ms; integrity ok; newest event #{} at {})",
            args.to.display(),
            bytes,
            elapsed.as_millis(),
            copied.newest_event_id,
            rfc3339(copied.newest_event_time)
        );
    }
    Ok(())
}

/// `gatehouse restore FROM`: see [`RestorePolicy`] for what happens to grants.
pub fn restore(global: &GlobalArgs, args: &RestoreArgs, json: bool) -> Result<(), OpsError> {
    let data_dir = &global.data_dir;
    if with_suffix(&args.from, "-wal").exists() {
        return Err(OpsError::Usage(format!(
            "{}: has a -wal beside it, so it is a live database, not a backup; make one with `gatehouse backup`",
            args.from.display()
        )));
    }
    server::create_data_dir(data_dir)?;
    server::refuse_if_exposed(data_dir)?;
    let _lock = DataDirLock::take(data_dir)?;
    let database = data_dir.join(DATABASE_FILE);
    let staged = with_suffix(&database, ".restoring");
    let _ = std::fs::remove_file(&staged);
    create_private(&staged)?;
    let copied = copy_into(&args.from, &staged);
    let now = Clock::default().now();
    let inspected = copied.and_then(|()| {
        file::inspect(&staged, now).map_err(|error| {
            OpsError::Usage(format!(
                "{}: not a usable backup: {error}",
                args.from.display()
            ))
        })
    });
    let summary = match inspected {
        Ok(summary) => summary,
        Err(error) => {
            let _ = std::fs::remove_file(&staged);
            return Err(error);
        }
    };
    let policy = if args.keep_grants {
        RestorePolicy::KeepActive
    } else {
        RestorePolicy::RevokeActive
    };
    let aside = database.exists().then(|| {
        let stamp = rfc3339(now).replace(['-', ':'], "");
        with_suffix(&database, &format!(".replaced-{stamp}"))
    });
    if !json {
        print!(
            "{}",
            blast_radius(args, &database, &summary, policy, &aside)
        );
        std::io::stdout().flush().ok();
    }
    if args.dry_run {
        let _ = std::fs::remove_file(&staged);
        if json {
            print_restore_json(args, &database, &summary, policy, &aside, None);
        }
        return Ok(());
    }
    let restored = file::prepare_restored(&staged, policy, &args.from.display().to_string(), now)
        .inspect_err(|_| {
        let _ = std::fs::remove_file(&staged);
    })?;
    if let Some(aside) = &aside {
        std::fs::rename(&database, aside).map_err(io(&database))?;
        let wal = with_suffix(&database, "-wal");
        if wal.exists() {
            std::fs::rename(&wal, with_suffix(aside, "-wal")).map_err(io(&wal))?;
        }
        let _ = std::fs::remove_file(with_suffix(&database, "-shm"));
    }
    std::fs::rename(&staged, &database).map_err(io(&database))?;
    sync_parent(&database)?;
    if json {
        print_restore_json(args, &database, &summary, policy, &aside, Some(restored));
    } else {
        println!(
            "restored: {} families revoked (reason restored), {} codes voided; start the server",
            restored.families_revoked, restored.codes_voided
        );
    }
    Ok(())
}

/// What a restore is about to do, for the operator to read before it acts.
fn blast_radius(
    args: &RestoreArgs,
    database: &Path,
    backup: &Summary,
    policy: RestorePolicy,
    aside: &Option<PathBuf>,
) -> String {
    let mut text = format!(
        "restoring {} (integrity ok, schema v{}, newest event #{} at {})\n  into {}\n",
        args.from.display(),
        backup.schema_version,
        backup.newest_event_id,
        rfc3339(backup.newest_event_time),
        database.display()
    );
    text.push_str(&format!(
        "  the backup holds {} clients, {} users, {} active families ({} live refresh tokens, {} live access tokens)\n",
        backup.clients, backup.users, backup.active_families, backup.live_refresh_tokens, backup.live_access_tokens
    ));
    text.push_str(&match policy {
        RestorePolicy::RevokeActive => format!(
            "  policy: revoke all {} active families (reason restored): a refresh token rotated after the backup can never work again; partners send their users through /authorize once more\n",
            backup.active_families
        ),
        RestorePolicy::KeepActive => format!(
            "  policy: KEEP the {} active families (--keep-grants): {} refresh tokens become current again, including any rotated (or stolen) after the backup\n",
            backup.active_families, backup.live_refresh_tokens
        ),
    });
    text.push_str("  every unexchanged authorization code is voided\n");
    match aside {
        Some(aside) => text.push_str(&format!(
            "  the current database is kept as {}\n",
            aside.display()
        )),
        None => text.push_str("  (no current database to keep aside)\n"),
    }
    if args.dry_run {
        text.push_str("dry run: nothing changed\n");
    }
    text
}

fn print_restore_json(
    args: &RestoreArgs,
    database: &Path,
    backup: &Summary,
    policy: RestorePolicy,
    aside: &Option<PathBuf>,
    restored: Option<file::Restored>,
) {
    let report = json!({
        "from": args.from.display().to_string(),
        "database": database.display().to_string(),
        "replaced": aside.as_ref().map(|path| path.display().to_string()),
        "policy": match policy {
            RestorePolicy::RevokeActive => "revoke",
            RestorePolicy::KeepActive => "keep",
        },
        "dry_run": args.dry_run,
        "backup": backup,
        "families_revoked": restored.map(|r| r.families_revoked),
        "codes_voided": restored.map(|r| r.codes_voided),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
}

/// `serve --check` as a command: the flags parsed, then [`check`]; prints the `ok` line.
pub async fn check_command(global: &GlobalArgs, args: &ServeArgs) -> Result<(), OpsError> {
    let config =
        Config::from_args(global, args).map_err(|error| OpsError::Usage(error.to_string()))?;
    println!("{}", check(&config).await?);
    Ok(())
}

/// `serve --check`: the flags (already parsed into `config`), the data
/// directory and its files, the database, and the addresses. Changes nothing.
pub async fn check(config: &Config) -> Result<String, OpsError> {
    let data_dir = &config.data_dir;
    let mut found = Vec::new();
    if data_dir.exists() {
        let token = data_dir.join(ADMIN_TOKEN_FILE);
        let database = data_dir.join(DATABASE_FILE);
        for path in [data_dir.as_path(), &token, &database] {
            server::refuse_if_exposed(path)?;
        }
        if token.exists() {
            server::read_token_file(&token)
                .map_err(|message| OpsError::Usage(format!("{}: {message}", token.display())))?;
        }
        let lock = DataDirLock::take(data_dir)?;
        if database.exists() {
            let summary = file::inspect(&database, Clock::default().now())
                .map_err(|error| OpsError::Usage(format!("{}: {error}", database.display())))?;
            found.push(format!(
                "database ok (schema v{}, {} clients, {} active families)",
                summary.schema_version, summary.clients, summary.active_families
            ));
        } else {
            found.push("no database yet (created on start)".into());
        }
        drop(lock);
    } else {
        found.push(format!(
            "{} does not exist yet (created 0700 on start)",
            data_dir.display()
        ));
    }
    let listeners = server::Listeners::bind(config).await?;
    drop(listeners);
    let mut addresses = format!("http {}, grpc {}", config.http_addr, config.grpc_addr);
    if let Some(metrics) = config.metrics_addr {
        addresses.push_str(&format!(", metrics {metrics}"));
    }
    Ok(format!(
        "ok: {}; {}; {addresses} free",
        data_dir.display(),
        found.join("; ")
    ))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(suffix);
    PathBuf::from(text)
}

fn create_private(path: &Path) -> Result<(), OpsError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    // The umask cannot widen 0600, but an existing ACL default could: say so.
    let mode = std::fs::metadata(path)
        .map_err(io(path))?
        .permissions()
        .mode()
        & 0o777;
    if mode != 0o600 {
        return Err(OpsError::Usage(format!(
            "{}: created with mode {mode:o}, not 600",
            path.display()
        )));
    }
    Ok(())
}

fn copy_into(from: &Path, to: &Path) -> Result<(), OpsError> {
    let mut source = std::fs::File::open(from).map_err(io(from))?;
    let mut target = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(to)
        .map_err(io(to))?;
    std::io::copy(&mut source, &mut target).map_err(io(to))?;
    target.sync_all().map_err(io(to))
}

fn sync_file(path: &Path) -> Result<(), OpsError> {
    std::fs::File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(io(path))
}

/// Makes a rename durable: fsync of the directory that holds it.
fn sync_parent(path: &Path) -> Result<(), OpsError> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    sync_file(parent)
}
