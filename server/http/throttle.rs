//! Login throttling (SPEC "Login throttling"): per username, after 5
//! consecutive failures a lockout doubling from 1 s to 15 minutes; per client
//! address, at most 30 failures a minute.
//!
//! The limits hold under concurrency: an attempt takes its slot *before* the
//! password check ([`LoginThrottle::admit`] counts it in flight), so a burst of N
//! parallel guesses gets no more checks than N sequential ones. Both maps are
//! bounded caches: usernames are capped at what a username can be (others have
//! no entry: no such user exists), IPv6 addresses count per /64 (one host's
//! usual share), and entries idle past their use are evicted.

use crate::model::Username;
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FREE_FAILURES: u32 = 5;
const MAX_LOCKOUT_SECS: i64 = 15 * 60;
const ADDRESS_FAILURES_PER_MINUTE: usize = 30;
/// Usernames with failure state held at once.
pub const MAX_TRACKED_USERNAMES: u64 = 100_000;
/// Client addresses (IPv6 per /64) with failure state held at once.
pub const MAX_TRACKED_ADDRESSES: u64 = 100_000;

/// Failures of one username.
#[derive(Debug, Default)]
struct UserState {
    consecutive: u32,
    in_flight: u32,
    locked_until: i64,
}

impl UserState {
    fn wait(&self, now: i64) -> Option<i64> {
        if self.locked_until > now {
            return Some(self.locked_until - now);
        }
        let allowed = FREE_FAILURES.saturating_sub(self.consecutive).max(1);
        (self.in_flight >= allowed).then(|| lockout_secs(self.consecutive + self.in_flight).max(1))
    }
}

/// The lockout after `failures` consecutive failures.
fn lockout_secs(failures: u32) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    (1i64 << (failures - FREE_FAILURES).min(20)).min(MAX_LOCKOUT_SECS)
}

/// Failures from one address in the last minute (at most 30 times are kept).
#[derive(Debug, Default)]
struct AddressState {
    failures: VecDeque<i64>,
    in_flight: u32,
}

impl AddressState {
    fn wait(&mut self, now: i64) -> Option<i64> {
        while self.failures.front().is_some_and(|time| now - time >= 60) {
            self.failures.pop_front();
        }
        let taken = self.failures.len() + self.in_flight as usize;
        (taken >= ADDRESS_FAILURES_PER_MINUTE).then(|| {
            self.failures
                .front()
                .map_or(1, |oldest| oldest + 60 - now)
                .max(1)
        })
    }
}

/// Whether a login attempt may check a password.
pub enum Admission {
    /// Go ahead; report the outcome on the attempt.
    Allowed(Attempt),
    /// Locked out: try again in this many seconds. No password is checked.
    Refused { wait_secs: i64 },
}

/// A slot taken by one login attempt. Dropping it without an outcome (an
/// internal error) frees the slot and counts nothing.
pub struct Attempt {
    user: Option<Arc<Mutex<UserState>>>,
    address: Arc<Mutex<AddressState>>,
    settled: bool,
}

impl Attempt {
    pub fn failed(mut self, now: i64) {
        if let Some(user) = &self.user {
            let mut user = lock(user);
            user.in_flight -= 1;
            user.consecutive += 1;
            user.locked_until = user.locked_until.max(now + lockout_secs(user.consecutive));
        }
        let mut address = lock(&self.address);
        address.in_flight -= 1;
        address.failures.push_back(now);
        self.settled = true;
    }

    pub fn succeeded(mut self) {
        if let Some(user) = &self.user {
            let mut user = lock(user);
            user.in_flight -= 1;
            user.consecutive = 0;
            user.locked_until = 0;
        }
        lock(&self.address).in_flight -= 1;
        self.settled = true;
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        if let Some(user) = &self.user {
            lock(user).in_flight -= 1;
        }
        lock(&self.address).in_flight -= 1;
    }
}

/// The login throttle; see the module docs.
pub struct LoginThrottle {
    users: Cache<Username, Arc<Mutex<UserState>>>,
    addresses: Cache<IpAddr, Arc<Mutex<AddressState>>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            users: Cache::builder()
                .max_capacity(MAX_TRACKED_USERNAMES)
                // Past the longest lockout an idle username's state no longer matters.
                .time_to_idle(Duration::from_secs(2 * MAX_LOCKOUT_SECS as u64))
                .eviction_policy(EvictionPolicy::lru())
                .build(),
            addresses: Cache::builder()
                .max_capacity(MAX_TRACKED_ADDRESSES)
                .time_to_idle(Duration::from_secs(120))
                .eviction_policy(EvictionPolicy::lru())
                .build(),
        }
    }
}

impl LoginThrottle {
    /// Takes a slot for a login as `username` from `address`, or says how long
    /// to wait. The address is checked first, so a refused address creates no
    /// username state.
    pub fn admit(&self, username: &str, address: IpAddr, now: i64) -> Admission {
        let address = self
            .addresses
            .get_with(address_key(address), Default::default);
        let mut address_state = lock(&address);
        if let Some(wait_secs) = address_state.wait(now) {
            return Admission::Refused { wait_secs };
        }
        let user = Username::parse(username)
            .ok()
            .map(|name| self.users.get_with(name, Default::default));
        if let Some(user) = &user {
            let mut user = lock(user);
            if let Some(wait_secs) = user.wait(now) {
                return Admission::Refused { wait_secs };
            }
            user.in_flight += 1;
        }
        address_state.in_flight += 1;
        drop(address_state);
        Admission::Allowed(Attempt {
            user,
            address,
            settled: false,
        })
    }

    /// Entries held now: (usernames, addresses).
    #[cfg(test)]
    pub fn held(&self) -> (u64, u64) {
        self.users.run_pending_tasks();
        self.addresses.run_pending_tasks();
        (self.users.entry_count(), self.addresses.entry_count())
    }
}

/// IPv4 addresses as they are; IPv6 per /64.
fn address_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 => v4,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(throttle: &LoginThrottle, user: &str, ip: &str, now: i64) -> Option<Attempt> {
        match throttle.admit(user, ip.parse().unwrap(), now) {
            Admission::Allowed(attempt) => Some(attempt),
            Admission::Refused { .. } => None,
        }
    }

    fn wait(throttle: &LoginThrottle, user: &str, ip: &str, now: i64) -> Option<i64> {
        match throttle.admit(user, ip.parse().unwrap(), now) {
            Admission::Allowed(_) => None,
            Admission::Refused { wait_secs } => Some(wait_secs),
        }
    }

    #[test]
    fn lockout_starts_after_five_failures_and_doubles() {
        let throttle = LoginThrottle::default();
        for _ in 0..4 {
            attempt(&throttle, "alice", "127.0.0.1", 100)
                .unwrap()
                .failed(100);
        }
        assert_eq!(wait(&throttle, "alice", "127.0.0.1", 100), None);
        attempt(&throttle, "alice", "127.0.0.1", 100)
            .unwrap()
            .failed(100);
        assert_eq!(wait(&throttle, "alice", "127.0.0.1", 100), Some(1));
        attempt(&throttle, "alice", "127.0.0.1", 101)
            .unwrap()
            .failed(101);
        assert_eq!(wait(&throttle, "alice", "127.0.0.1", 101), Some(2));
        assert_eq!(wait(&throttle, "bob", "10.0.0.1", 101), None);
        attempt(&throttle, "alice", "127.0.0.1", 103)
            .unwrap()
            .succeeded();
        assert_eq!(wait(&throttle, "alice", "127.0.0.1", 103), None);
    }

    #[test]
    fn parallel_attempts_take_their_slots_before_the_check() {
        let throttle = LoginThrottle::default();
        let held: Vec<_> = (0..50)
            .filter_map(|_| attempt(&throttle, "alice", "192.0.2.1", 100))
            .collect();
        assert_eq!(held.len(), 5, "five checks, the other 45 refused");
        assert_eq!(wait(&throttle, "alice", "192.0.2.1", 100), Some(1));
        for attempt in held {
            attempt.failed(100);
        }
        assert_eq!(wait(&throttle, "alice", "192.0.2.1", 100), Some(1));
        // After the lockout, one attempt at a time.
        let one = attempt(&throttle, "alice", "192.0.2.1", 101).unwrap();
        assert!(attempt(&throttle, "alice", "192.0.2.1", 101).is_none());
        drop(one);
        assert!(attempt(&throttle, "alice", "192.0.2.1", 101).is_some());
    }

    #[test]
    fn an_address_gets_thirty_failures_a_minute() {
        let throttle = LoginThrottle::default();
        for n in 0..30 {
            attempt(&throttle, &format!("user{n}"), "127.0.0.2", 1000)
                .unwrap()
                .failed(1000);
        }
        assert_eq!(wait(&throttle, "someone", "127.0.0.2", 1000), Some(60));
        assert_eq!(wait(&throttle, "someone", "127.0.0.2", 1060), None);
        // One IPv6 host is one /64.
        for n in 0..30 {
            let address = format!("2001:db8::{n:x}");
            attempt(&throttle, &format!("user{n}"), &address, 1000)
                .unwrap()
                .failed(1000);
        }
        assert!(wait(&throttle, "y", "2001:db8::ffff", 1000).is_some());
        assert_eq!(wait(&throttle, "y", "2001:db8:0:1::1", 1000), None);
    }

    #[test]
    fn overlong_usernames_hold_no_state() {
        let throttle = LoginThrottle::default();
        let long = "a".repeat(10_000);
        attempt(&throttle, &long, "127.0.0.3", 1).unwrap().failed(1);
        assert_eq!(throttle.held().0, 0);
    }
}
