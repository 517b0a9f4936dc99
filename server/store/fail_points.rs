//! Fail points for crash drills: named places in the write path where a test
//! makes the store fail or the process die.
//!
//! They exist only with the `failpoints` feature, which `cargo test` turns on
//! (see Cargo.toml); in any other build [`FailPoints::hit`] does nothing and
//! nothing can arm one, so `GATEHOUSE_FAILPOINTS` means nothing to a release binary.

use super::Result;
#[cfg(feature = "failpoints")]
use super::{Store, StoreError};

/// What an armed fail point does.
#[cfg(feature = "failpoints")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailAction {
    /// Fail the operation with a storage error (the transaction rolls back).
    Error,
    /// SIGKILL this process on the spot.
    Kill,
    /// Wait there until the point is disarmed or armed otherwise. It sleeps
    /// the thread: for points on the store's own threads (`wal_sync.before`)
    /// or a test's (`lookup.reading`, reached by calling the store), not on a
    /// runtime worker, where it can stall the tasks queued behind it.
    /// [`Store::paused_fail_points`] counts the threads waiting.
    Pause,
}

/// The armed points, by `NAME.PHASE`.
#[derive(Default)]
pub(super) struct FailPoints {
    #[cfg(feature = "failpoints")]
    armed: std::sync::Mutex<std::collections::HashMap<String, FailAction>>,
    /// Threads waiting at a paused point now.
    #[cfg(feature = "failpoints")]
    paused: std::sync::atomic::AtomicUsize,
}

impl FailPoints {
    /// Fails or kills if `NAME.PHASE` is armed.
    #[cfg(not(feature = "failpoints"))]
    pub(super) fn hit(&self, _name: &str, _phase: &str) -> Result<()> {
        Ok(())
    }

    /// Fails or kills if `NAME.PHASE` is armed.
    #[cfg(feature = "failpoints")]
    pub(super) fn hit(&self, name: &str, phase: &str) -> Result<()> {
        let armed = || {
            let points = self
                .armed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if points.is_empty() {
                return None;
            }
            points.get(&format!("{name}.{phase}")).copied()
        };
        let mut action = armed();
        if action == Some(FailAction::Pause) {
            use std::sync::atomic::Ordering;
            self.paused.fetch_add(1, Ordering::SeqCst);
            while action == Some(FailAction::Pause) {
                std::thread::sleep(std::time::Duration::from_millis(2));
                action = armed();
            }
            self.paused.fetch_sub(1, Ordering::SeqCst);
        }
        match action {
            None | Some(FailAction::Pause) => Ok(()),
            Some(FailAction::Error) => {
                Err(StoreError::internal(format!("fail point {name}.{phase}")))
            }
            Some(FailAction::Kill) => {
                // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
                unreachable!("SIGKILL does not return")
            }
        }
    }
}

#[cfg(feature = "failpoints")]
impl Store {
    /// Arms (or with `None` disarms) a fail point such as `rotate.before_commit`
    /// or `lookup.before`.
    pub fn set_fail_point(&self, point: &str, action: Option<FailAction>) {
        let mut points = self
            .inner
            .fail_points
            .armed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match action {
            Some(action) => points.insert(point.to_owned(), action),
            None => points.remove(point),
        };
    }

    /// Sets how long a token lookup may reuse a kept snapshot (a test sets
    /// one a slow machine cannot reach, so the reuse it tests does happen).
    pub fn set_snapshot_keep(&self, keep: std::time::Duration) {
        self.inner.readers.set_keep_at_most(keep);
    }

    /// How many threads wait at a paused fail point now.
    pub fn paused_fail_points(&self) -> usize {
        self.inner
            .fail_points
            .paused
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Sets the write-ahead log's bound, in frames, in place of
    /// [`LOG_BOUND_FRAMES`](super::LOG_BOUND_FRAMES): a test reaches a small
    /// one with few writes.
    pub fn set_log_bound_frames(&self, frames: i32) {
        self.inner.writer.set_log_bound_frames(frames);
    }

    /// Arms fail points from text like `rotate.after_commit=kill,lookup.before=error`.
    pub fn arm_fail_points(&self, spec: &str) -> std::result::Result<(), String> {
        for item in spec
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let (point, action) = item
                .split_once('=')
                .ok_or_else(|| format!("fail point {item:?}: expected NAME=error|kill|pause"))?;
            let action = match action {
                "error" => FailAction::Error,
                "kill" => FailAction::Kill,
                "pause" => FailAction::Pause,
                other => return Err(format!("fail point {point}: unknown action {other:?}")),
            };
            self.set_fail_point(point, Some(action));
        }
        Ok(())
    }
}
