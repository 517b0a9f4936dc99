//! Last use of client secrets, recorded without a write per request.
//!
//! Client authentication notes each successful use here, in memory. The first
//! use of a secret in a clock minute is queued; later ones in that minute are
//! dropped. The server's ticker writes the queue in one transaction
//! (`Store::record_secret_uses`), so a secret costs at most one row update a
//! minute however hard its client works, and no request waits for a write. The
//! recorded time is thus up to a minute behind, and a crash loses at most the
//! uses not yet flushed (about a second's worth).
//!
//! Bound: at most [`MAX_SECRETS_PER_MINUTE`] distinct secrets are noted in a
//! minute; past it, the others wait for the next minute. Only secrets that
//! authenticated are noted, so nobody without a secret can fill it.

use crate::model::SecretId;
use crate::store::SecretUse;
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Mutex;

/// Distinct secrets whose use is recorded within one minute.
pub const MAX_SECRETS_PER_MINUTE: usize = 10_000;

/// Secret uses waiting to be written, at most one per secret and minute.
#[derive(Debug, Default)]
pub struct SecretUses {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Unix minute (seconds / 60) the `noted` set is for.
    minute: i64,
    /// Secrets already queued this minute.
    noted: HashSet<SecretId>,
    /// Queued, not yet taken by the flush.
    pending: Vec<SecretUse>,
}

impl SecretUses {
    /// Notes that `secret_id` authenticated its client at `now` from `from`;
    /// returns whether this use was queued for writing.
    pub fn note(&self, secret_id: &SecretId, now: i64, from: IpAddr) -> bool {
        let mut state = self.lock();
        let minute = now.div_euclid(60);
        if minute > state.minute {
            state.minute = minute;
            state.noted.clear();
        }
        if state.noted.len() >= MAX_SECRETS_PER_MINUTE || state.noted.contains(secret_id) {
            return false;
        }
        state.noted.insert(secret_id.clone());
        state.pending.push(SecretUse {
            secret_id: secret_id.clone(),
            at: now,
            from,
        });
        true
    }

    /// The queued uses, for the flush to write.
    pub fn take(&self) -> Vec<SecretUse> {
        std::mem::take(&mut self.lock().pending)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> IpAddr {
        "198.51.100.4".parse().unwrap()
    }

    #[test]
    fn one_use_per_secret_and_minute_is_queued() {
        let uses = SecretUses::default();
        let secret = SecretId::generate();
        let other = SecretId::generate();
        let minute = 29_000_000 * 60;
        assert!(uses.note(&secret, minute + 1, address()));
        for second in 2..60 {
            assert!(!uses.note(&secret, minute + second, address()));
        }
        assert!(uses.note(&other, minute + 30, address()));
        let taken = uses.take();
        assert_eq!(taken.len(), 2);
        assert_eq!((taken[0].at, taken[0].from), (minute + 1, address()));
        assert!(uses.take().is_empty());
        assert!(
            !uses.note(&secret, minute + 59, address()),
            "still that minute"
        );
        assert!(
            uses.note(&secret, minute + 60, address()),
            "the next minute"
        );
        assert_eq!(uses.take().len(), 1);
    }

    #[test]
    fn past_the_bound_other_secrets_wait_for_the_next_minute() {
        let uses = SecretUses::default();
        let now = 60;
        for _ in 0..MAX_SECRETS_PER_MINUTE + 50 {
            uses.note(&SecretId::generate(), now, address());
        }
        assert_eq!(uses.take().len(), MAX_SECRETS_PER_MINUTE);
        assert!(uses.note(&SecretId::generate(), now + 60, address()));
    }
}
