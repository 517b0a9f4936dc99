//! The admin bearer check, applied to every admin and reflection call.

use crate::clock::Clock;
use crate::model::{Actor, EventKind, NewEvent};
use crate::secret::TokenHash;
use crate::store::Store;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tonic::{Request, Status};

/// Checks `authorization: Bearer <admin token>` in constant time. Each failure
/// writes an `admin_auth_failed` event, at most one per second, so a flood of bad
/// calls cannot flood the log.
#[derive(Clone)]
pub struct AdminAuth {
    expected: TokenHash,
    store: Store,
    clock: Clock,
    last_event_at: Arc<AtomicI64>,
}

impl AdminAuth {
    pub fn new(token: &str, store: Store, clock: Clock) -> Self {
        AdminAuth {
            expected: TokenHash::of(token),
            store,
            clock,
            last_event_at: Arc::new(AtomicI64::new(0)),
        }
    }

    fn check(&self, request: &Request<()>) -> Result<(), Status> {
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        match presented {
            Some(token) if self.expected.matches(&TokenHash::of(token).0) => Ok(()),
            presented => {
                self.record_failure(presented.is_some());
                Err(Status::unauthenticated(
                    "missing or wrong admin token: send `authorization: Bearer <token from admin.token>`",
                ))
            }
        }
    }

    fn record_failure(&self, token_sent: bool) {
        let now = self.clock.now();
        let last = self.last_event_at.swap(now, Ordering::Relaxed);
        if last == now {
            return;
        }
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
