//! Browser state for the login and consent pages, kept in memory: pending
//! authorization requests and login sessions.
//!
//! Everything here is server-side; the browser holds only random ids in
//! HttpOnly cookies. A restart forgets pending requests and sessions, which
//! costs a user one more login, never a token.
//!
//! Both maps are bounded caches (moka, least-recently-used eviction) named with
//! their bounds below. Pending requests are what anyone can create with a GET,
//! so a flood evicts the oldest of them and nothing else: sessions live in a
//! cache of their own that only a successful password check adds to.

use crate::oauth::authorize::AuthorizationRequest;
use crate::secret::{constant_time_eq, random_base64};
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PENDING_TTL_SECS: i64 = 600;
const SESSION_TTL_SECS: i64 = 8 * 3600;
/// Pending authorization requests, by estimated bytes (about 1 KiB each: some
/// 16,000 logins in progress at once).
pub const PENDING_MAX_BYTES: u64 = 16 * 1024 * 1024;
/// Logged-in browsers.
pub const MAX_SESSIONS: u64 = 100_000;

/// An authorization request waiting for login and consent.
#[derive(Debug)]
pub struct Pending {
    pub request: AuthorizationRequest,
    /// The browser that started it (its `browser` cookie).
    pub browser: String,
    /// Must come back in every form of this request.
    pub csrf: String,
    pub created: i64,
    /// The user the consent page was last shown to (0: none yet). Allow is
    /// accepted only from that user's session.
    shown_to: AtomicI64,
    /// A password was checked in this transaction (satisfies `prompt=login`).
    signed_in_here: AtomicBool,
}

impl Pending {
    /// Records a successful sign-in made in this transaction.
    pub fn mark_signed_in(&self) {
        self.signed_in_here.store(true, Ordering::SeqCst);
    }

    pub fn signed_in_here(&self) -> bool {
        self.signed_in_here.load(Ordering::SeqCst)
    }

    /// Records that the consent page was shown to `user_seq`.
    pub fn show_to(&self, user_seq: i64) {
        self.shown_to.store(user_seq, Ordering::SeqCst);
    }

    /// Whether the consent page was shown to `user_seq` (and to nobody since).
    pub fn was_shown_to(&self, user_seq: i64) -> bool {
        user_seq != 0 && self.shown_to.load(Ordering::SeqCst) == user_seq
    }

    /// What this entry costs in memory, roughly: the strings it holds plus a
    /// fixed share for the structs and the cache's own bookkeeping.
    fn weight(&self, id: &str) -> u32 {
        let request = &self.request;
        let client = &request.client;
        let strings = id.len()
            + self.browser.len()
            + self.csrf.len()
            + request.redirect_uri.len()
            + request.state.as_ref().map_or(0, String::len)
            + request.code_challenge.len()
            + client.id.as_str().len()
            + client.name.len()
            + client
                .redirect_uris
                .iter()
                .map(|uri| uri.as_str().len() + 24)
                .sum::<usize>()
            + (request.scope.names().len() + client.scopes.names().len()) * 32;
        u32::try_from(strings + 512).unwrap_or(u32::MAX)
    }
}

/// A logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_seq: i64,
    pub username: String,
    pub created: i64,
    /// Must come back in the sign-out form.
    pub csrf: String,
}

pub struct Browsers {
    pending: Cache<String, Arc<Pending>>,
    sessions: Cache<String, Arc<Session>>,
}

impl Default for Browsers {
    fn default() -> Self {
        Browsers {
            pending: Cache::builder()
                .max_capacity(PENDING_MAX_BYTES)
                .weigher(|id: &String, pending: &Arc<Pending>| pending.weight(id))
                .time_to_live(Duration::from_secs(PENDING_TTL_SECS as u64))
                .eviction_policy(EvictionPolicy::lru())
                .build(),
            sessions: Cache::builder()
                .max_capacity(MAX_SESSIONS)
                .support_invalidation_closures()
                .time_to_live(Duration::from_secs(SESSION_TTL_SECS as u64))
                .eviction_policy(EvictionPolicy::lru())
                .build(),
        }
    }
}

impl Browsers {
    /// Stores a pending request; returns its id.
    pub fn start(
        &self,
        request: AuthorizationRequest,
        browser: &str,
        now: i64,
    ) -> (String, Arc<Pending>) {
        let id = random_base64(32);
        let pending = Arc::new(Pending {
            request,
            browser: browser.to_owned(),
            csrf: random_base64(32),
            created: now,
            shown_to: AtomicI64::new(0),
            signed_in_here: AtomicBool::new(false),
        });
        self.pending.insert(id.clone(), pending.clone());
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
    ) -> Option<Arc<Pending>> {
        let pending = self.pending.get(id)?;
        let fresh = now - pending.created < PENDING_TTL_SECS;
        let same_browser = constant_time_eq(&pending.browser, browser);
        let csrf_ok = csrf.is_none_or(|csrf| constant_time_eq(&pending.csrf, csrf));
        (fresh && same_browser && csrf_ok).then_some(pending)
    }

    /// Ends a pending request (after the redirect).
    pub fn finish(&self, id: &str) {
        self.pending.invalidate(id);
    }

    /// Creates a fresh session (a new id at every login).
    pub fn login(&self, user_seq: i64, username: &str, now: i64) -> String {
        let id = random_base64(32);
        let session = Session {
            user_seq,
            username: username.to_owned(),
            created: now,
            csrf: random_base64(32),
        };
        self.sessions.insert(id.clone(), Arc::new(session));
        id
    }

    pub fn logout(&self, id: &str) {
        self.sessions.invalidate(id);
    }

    /// Ends every browser session of `username` (their grants were revoked).
    pub fn end_sessions_of(&self, username: &str) {
        let username = username.to_owned();
        if let Err(error) = self
            .sessions
            .invalidate_entries_if(move |_, session| session.username == username)
        {
            tracing::error!(%error, "could not end the user's browser sessions");
        }
    }

    pub fn session(&self, id: &str, now: i64) -> Option<Arc<Session>> {
        self.sessions
            .get(id)
            .filter(|s| now - s.created < SESSION_TTL_SECS)
    }

    /// Entries held now: (pending requests, sessions), after pending evictions.
    pub fn held(&self) -> (u64, u64) {
        self.pending.run_pending_tasks();
        self.sessions.run_pending_tasks();
        (self.pending.entry_count(), self.sessions.entry_count())
    }
}
