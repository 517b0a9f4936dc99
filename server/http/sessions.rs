//! Browser state for the login and consent pages, kept in memory: pending
//! authorization requests, login sessions, and login throttling.
//!
//! Everything here is server-side; the browser holds only random ids in
//! HttpOnly cookies. A restart forgets pending requests and sessions, which
//! costs a user one more login, never a token.

use crate::oauth::authorize::AuthorizationRequest;
use crate::secret::{constant_time_eq, random_base64};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

const PENDING_TTL_SECS: i64 = 600;
const SESSION_TTL_SECS: i64 = 8 * 3600;
const MAX_PENDING: usize = 100_000;

/// An authorization request waiting for login and consent.
#[derive(Debug, Clone)]
pub struct Pending {
    pub request: AuthorizationRequest,
    /// The browser that started it (its `browser` cookie).
    pub browser: String,
    /// Must come back in every form of this request.
    pub csrf: String,
    pub created: i64,
}

/// A logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_seq: i64,
    pub username: String,
    pub created: i64,
}

#[derive(Default)]
pub struct Browsers {
    pending: Mutex<HashMap<String, Pending>>,
    sessions: Mutex<HashMap<String, Session>>,
    throttle: Mutex<Throttle>,
}

impl Browsers {
    /// Stores a pending request; returns its id.
    pub fn start(
        &self,
        request: AuthorizationRequest,
        browser: &str,
        now: i64,
    ) -> (String, Pending) {
        let id = random_base64(32);
        let pending = Pending {
            request,
            browser: browser.to_owned(),
            csrf: random_base64(32),
            created: now,
        };
        let mut map = lock(&self.pending);
        if map.len() >= MAX_PENDING {
            map.retain(|_, p| now - p.created < PENDING_TTL_SECS);
        }
        map.insert(id.clone(), pending.clone());
        (id, pending)
    }

    /// The pending request `id`, if this browser started it and the CSRF token
    /// matches (constant time).
    pub fn pending(
        &self,
        id: &str,
        browser: &str,
        csrf: Option<&str>,
        now: i64,
    ) -> Option<Pending> {
        let map = lock(&self.pending);
        let pending = map.get(id)?;
        let fresh = now - pending.created < PENDING_TTL_SECS;
        let same_browser = constant_time_eq(&pending.browser, browser);
        let csrf_ok = csrf.is_none_or(|csrf| constant_time_eq(&pending.csrf, csrf));
        (fresh && same_browser && csrf_ok).then(|| pending.clone())
    }

    /// Ends a pending request (after the redirect).
    pub fn finish(&self, id: &str) {
        lock(&self.pending).remove(id);
    }

    /// Creates a fresh session (a new id at every login).
    pub fn login(&self, user_seq: i64, username: &str, now: i64) -> String {
        let id = random_base64(32);
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| now - s.created < SESSION_TTL_SECS);
        sessions.insert(
            id.clone(),
            Session {
                user_seq,
                username: username.to_owned(),
                created: now,
            },
        );
        id
    }

    pub fn logout(&self, id: &str) {
        lock(&self.sessions).remove(id);
    }

    pub fn session(&self, id: &str, now: i64) -> Option<Session> {
        lock(&self.sessions)
            .get(id)
            .filter(|s| now - s.created < SESSION_TTL_SECS)
            .cloned()
    }

    /// Seconds the caller must wait before another login attempt, if throttled.
    pub fn login_blocked(&self, username: &str, ip: IpAddr, now: i64) -> Option<i64> {
        lock(&self.throttle).blocked(username, ip, now)
    }

    pub fn login_failed(&self, username: &str, ip: IpAddr, now: i64) {
        lock(&self.throttle).failed(username, ip, now);
    }

    pub fn login_succeeded(&self, username: &str) {
        lock(&self.throttle).users.remove(username);
    }
}

/// Login throttling per SPEC: per username, after 5 consecutive failures a
/// lockout doubling from 1 s to 15 min; per client IP, at most 30 failures a minute.
#[derive(Default)]
struct Throttle {
    users: HashMap<String, UserFailures>,
    ips: HashMap<IpAddr, Vec<i64>>,
}

#[derive(Default)]
struct UserFailures {
    consecutive: u32,
    locked_until: i64,
}

const FREE_FAILURES: u32 = 5;
const MAX_LOCKOUT_SECS: i64 = 15 * 60;
const IP_FAILURES_PER_MINUTE: usize = 30;

impl Throttle {
    fn blocked(&mut self, username: &str, ip: IpAddr, now: i64) -> Option<i64> {
        let user_wait = self
            .users
            .get(username)
            .map(|f| f.locked_until - now)
            .filter(|wait| *wait > 0);
        let ip_wait = self.ips.get_mut(&ip).and_then(|times| {
            times.retain(|time| now - time < 60);
            (times.len() >= IP_FAILURES_PER_MINUTE).then(|| times[0] + 60 - now)
        });
        user_wait.into_iter().chain(ip_wait).max()
    }

    fn failed(&mut self, username: &str, ip: IpAddr, now: i64) {
        let failures = self.users.entry(username.to_owned()).or_default();
        failures.consecutive += 1;
        if failures.consecutive >= FREE_FAILURES {
            let exponent = (failures.consecutive - FREE_FAILURES).min(20);
            failures.locked_until = now + (1i64 << exponent).min(MAX_LOCKOUT_SECS);
        }
        self.ips.entry(ip).or_default().push(now);
        if self.ips.len() > 100_000 {
            self.ips
                .retain(|_, times| times.last().is_some_and(|time| now - time < 60));
        }
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

    #[test]
    fn lockout_starts_after_five_failures_and_doubles() {
        let mut throttle = Throttle::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..4 {
            throttle.failed("alice", ip, 100);
        }
        assert_eq!(throttle.blocked("alice", ip, 100), None);
        throttle.failed("alice", ip, 100);
        assert_eq!(throttle.blocked("alice", ip, 100), Some(1));
        throttle.failed("alice", ip, 101);
        assert_eq!(throttle.blocked("alice", ip, 101), Some(2));
        assert_eq!(
            throttle.blocked("bob", "10.0.0.1".parse().unwrap(), 101),
            None
        );
    }

    #[test]
    fn an_ip_gets_thirty_failures_a_minute() {
        let mut throttle = Throttle::default();
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        for n in 0..30 {
            throttle.failed(&format!("user{n}"), ip, 1000);
        }
        assert_eq!(throttle.blocked("someone", ip, 1000), Some(60));
        assert_eq!(throttle.blocked("someone", ip, 1060), None);
    }
}
