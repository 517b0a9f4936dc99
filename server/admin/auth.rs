//! The admin-token check, the one place it happens: every admin and reflection
//! call is authenticated here (bootstrap `admin.token` or a named token),
//! checked against the role table (`roles.rs`), and handed on with its
//! [`Caller`] in the request extensions.

use super::convert::status_from;
use super::roles;
use crate::clock::Clock;
use crate::model::{Actor, AdminIdentity, EventKind, NewEvent};
use crate::secret::TokenHash;
use crate::store::{AdminTokenLookup, Store};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tonic::codegen::http;
use tonic::Status;

/// Who is calling, and which RPC: what every handler reads from its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub identity: AdminIdentity,
    pub rpc: &'static str,
}

impl Caller {
    /// The actor the events of this call name.
    pub fn actor(&self) -> Actor {
        Actor::admin(&self.identity.name, self.rpc)
    }
}

/// Why a call was not authenticated: the detail of its `admin_auth_failed`
/// event and the start of its UNAUTHENTICATED message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Refused {
    #[error("no admin token")]
    Missing,
    #[error("wrong admin token")]
    Wrong,
    #[error("revoked admin token {0:?}")]
    Revoked(String),
    #[error("expired admin token {0:?}")]
    Expired(String),
}

/// Checks `authorization: Bearer <token>`: the bootstrap token by constant-time
/// hash comparison, named tokens by their hash in the store (revoked or expired
/// ones are UNAUTHENTICATED). Every failure writes an `admin_auth_failed`
/// event; past `MAX_FAILURES_PER_MINUTE` wrong tokens are refused with
/// RESOURCE_EXHAUSTED, unrecorded, while a right token still gets in (a flood
/// cannot lock operators out). A call beyond the caller's role is
/// PERMISSION_DENIED, naming the role it needs.
#[derive(Clone)]
pub struct AdminAuth {
    bootstrap: TokenHash,
    store: Store,
    clock: Clock,
    failures: Arc<Mutex<VecDeque<i64>>>,
    /// When each identity's last use was last written (one write a minute at most).
    last_written: Arc<Mutex<HashMap<String, i64>>>,
}

const MAX_FAILURES_PER_MINUTE: usize = 30;
const LAST_USE_RESOLUTION_SECS: i64 = 60;

impl AdminAuth {
    pub fn new(bootstrap_token: &str, store: Store, clock: Clock) -> Self {
        AdminAuth {
            bootstrap: TokenHash::of(bootstrap_token),
            store,
            clock,
            failures: Arc::default(),
            last_written: Arc::default(),
        }
    }

    /// Wraps one service (admin, reflection) in the check.
    pub fn wrap<S>(&self, inner: S) -> Authenticated<S> {
        Authenticated {
            inner,
            auth: self.clone(),
        }
    }

    /// Authenticates the call to `path` and checks its role.
    async fn admit(&self, path: &str, headers: &http::HeaderMap) -> Result<Caller, Status> {
        let presented = headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let identity = match presented {
            Some(token) => self.identify(token).await?,
            None => Err(Refused::Missing),
        };
        let identity = identity.map_err(|refused| self.refuse(refused.to_string()))?;
        let needed = roles::requirement(path);
        if identity.role < needed.role {
            return Err(Status::permission_denied(format!(
                "{} needs the {} role (you are {}, {})",
                needed.doing, needed.role, identity.name, identity.role
            )));
        }
        self.note_use(&identity.name);
        Ok(Caller {
            identity,
            rpc: needed.rpc,
        })
    }

    /// The identity a token stands for, or why it stands for none (the outer
    /// error: the store could not answer).
    async fn identify(&self, token: &str) -> Result<Result<AdminIdentity, Refused>, Status> {
        let hash = TokenHash::of(token);
        if self.bootstrap.matches(&hash.0) {
            return Ok(Ok(AdminIdentity::bootstrap()));
        }
        let now = self.clock.now();
        let found = self
            .store
            .call(move |store| store.admin_token_by_hash(hash, now))
            .await
            .map_err(status_from)?;
        Ok(match found {
            AdminTokenLookup::Live(identity) => Ok(identity),
            AdminTokenLookup::Revoked(name) => Err(Refused::Revoked(name)),
            AdminTokenLookup::Expired(name) => Err(Refused::Expired(name)),
            AdminTokenLookup::Unknown => Err(Refused::Wrong),
        })
    }

    /// UNAUTHENTICATED, recorded; or RESOURCE_EXHAUSTED past the throttle.
    fn refuse(&self, detail: String) -> Status {
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
            return Status::resource_exhausted(
                "too many failed admin authentications; retry in a minute",
            );
        }
        let message = format!(
            "{detail}: send `authorization: Bearer <token>` with admin.token or a live named token"
        );
        self.record_failure(detail, now);
        Status::unauthenticated(message)
    }

    fn record_failure(&self, detail: String, now: i64) {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(error) = store.record_event(
                NewEvent::new(EventKind::AdminAuthFailed, Actor::Anonymous, detail),
                now,
            ) {
                tracing::warn!(%error, "could not record an admin authentication failure");
            }
        });
    }

    /// Writes the identity's last use, at most once a minute per identity.
    fn note_use(&self, name: &str) {
        let now = self.clock.now();
        {
            let mut written = self
                .last_written
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if written
                .get(name)
                .is_some_and(|at| now - at < LAST_USE_RESOLUTION_SECS)
            {
                return;
            }
            // Bounded: only names that authenticated, that is rows of the store.
            written.insert(name.to_owned(), now);
        }
        let (store, name) = (self.store.clone(), name.to_owned());
        tokio::task::spawn_blocking(move || {
            if let Err(error) = store.touch_admin_token(&name, now) {
                tracing::warn!(%error, "could not record an admin token's last use");
            }
        });
    }
}

/// A service behind [`AdminAuth`].
#[derive(Clone)]
pub struct Authenticated<S> {
    inner: S,
    auth: AdminAuth,
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, RequestBody> tower::Service<http::Request<RequestBody>> for Authenticated<S>
where
    S: tower::Service<http::Request<RequestBody>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    RequestBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: http::Request<RequestBody>) -> Self::Future {
        // The clone that was polled ready serves this call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            match auth.admit(request.uri().path(), request.headers()).await {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                    inner.call(request).await
                }
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}
