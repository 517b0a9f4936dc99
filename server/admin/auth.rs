//! The admin bearer check, applied to every admin and reflection call.

use crate::clock::Clock;
use crate::model::{Actor, EventKind, NewEvent};
use crate::secret::TokenHash;
use crate::store::Store;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tonic::{Request, Status};

/// Checks `authorization: Bearer <admin token>` in constant time. Every failure
/// writes an `admin_auth_failed` event; past `MAX_FAILURES_PER_MINUTE` wrong
/// tokens are refused with RESOURCE_EXHAUSTED, unchecked and unrecorded, while
/// the right token still gets in (a flood cannot lock operators out).
#[derive(Clone)]
pub struct AdminAuth {
    expected: TokenHash,
    store: Store,
    clock: Clock,
    failures: Arc<Mutex<VecDeque<i64>>>,
}

const MAX_FAILURES_PER_MINUTE: usize = 30;

impl AdminAuth {
    pub fn new(token: &str, store: Store, clock: Clock) -> Self {
        AdminAuth {
            expected: TokenHash::of(token),
            store,
            clock,
            failures: Arc::default(),
        }
    }

    fn check(&self, request: &Request<()>) -> Result<(), Status> {
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        if presented.is_some_and(|token| self.expected.matches(&TokenHash::of(token).0)) {
            return Ok(());
        }
        let now = self.clock.now();
        let throttled = {
            let mut failures = self
                .failures
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            while failures.front().is_some_and(|time| now - time >= 60) {
                failures.pop_front();
            }
            let throttled = failures.len() >= MAX_FAILURES_PER_MINUTE;
            if !throttled {
                failures.push_back(now);
            }
            throttled
        };
        if throttled {
            return Err(Status::resource_exhausted(
                "too many failed admin authentications; retry in a minute",
            ));
        }
        self.record_failure(presented.is_some(), now);
        Err(Status::unauthenticated(
            "missing or wrong admin token: send `authorization: Bearer <token from admin.token>`",
        ))
    }

    fn record_failure(&self, token_sent: bool, now: i64) {
        let store = self.store.clone();
        let detail = if token_sent {
            "wrong admin token"
        } else {
            "no admin token"
        };
        tokio::task::spawn_blocking(move || {
            if let Err(error) = store.record_event(
                NewEvent::new(EventKind::AdminAuthFailed, Actor::Admin, detail),
                now,
            ) {
                tracing::warn!(%error, "could not record an admin authentication failure");
            }
        });
    }
}

impl tonic::service::Interceptor for AdminAuth {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        self.check(&request)?;
        Ok(request)
    }
}
