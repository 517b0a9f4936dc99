//! The public plane over HTTP (axum): thin handlers over `oauth/`.
//!
//! - `authorize`, `login`, `forms`: GET /authorize, the login and consent
//!   forms (decisions in `oauth::interaction`), their cookies and pages.
//! - `token`: POST /token, /revoke, /introspect.
//! - `resource`: the bearer-protected API under `/api/public/v1/`.
//! - `metadata`: RFC 8414.
//! - `respond`: the one mapping from outcomes to statuses and headers.
//! - `pages`, `sessions`, `throttle`: HTML, and bounded in-memory browser state.
//! - `client_addr`: the client's address, behind a trusted proxy or not.
//! - `observe`: the access log line and request metrics, around every request.
//! - `hot`: the hot routes, run without the router's per-request work.

mod authorize;
mod client_addr;
mod forms;
mod hot;
mod login;
mod logout;
mod metadata;
mod observe;
mod pages;
mod resource;
mod respond;
mod sessions;
mod throttle;
mod token;

pub use client_addr::ClientAddr;
pub use observe::ROUTES;

use crate::server::{ServeError, Shared};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// argon2id takes ~19 MiB and tens of milliseconds per check: at most this many
/// run at once, so a login flood queues instead of exhausting memory.
const CONCURRENT_PASSWORD_CHECKS: usize = 4;

/// What every handler sees: one reference-counted pointer, so the state
/// every extractor and layer clones per request costs one atomic increment.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<AppInner>,
}

pub struct AppInner {
    pub shared: Shared,
    password_checks: tokio::sync::Semaphore,
}

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.inner
    }
}

/// In-memory state of the public plane, each part bounded (see its module).
#[derive(Default)]
pub struct PublicState {
    browsers: sessions::Browsers,
    throttle: throttle::LoginThrottle,
    /// Password checks run since start (argon2id, including the dummy hash).
    password_checks: AtomicU64,
    /// Issues and recognises the browser-binding cookie.
    browser_ids: crate::secret::Signer,
}

/// What [`PublicState`] holds now, for `status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicFigures {
    pub pending_authorizations: u64,
    pub browser_sessions: u64,
    pub password_checks: u64,
}

impl PublicState {
    /// Ends every browser session of `username` (SPEC: a user's revocation ends them).
    pub fn end_sessions_of(&self, username: &str) {
        self.browsers.end_sessions_of(username);
    }

    pub fn figures(&self) -> PublicFigures {
        let (pending_authorizations, browser_sessions) = self.browsers.held();
        PublicFigures {
            pending_authorizations,
            browser_sessions,
            password_checks: self.password_checks.load(Ordering::Relaxed),
        }
    }
}

impl AppState {
    fn browsers(&self) -> &sessions::Browsers {
        &self.shared.public.browsers
    }

    fn secure_cookies(&self) -> bool {
        self.shared.config.issuer.starts_with("https://")
    }

    /// `__Host-` cookies need Secure, so only over https.
    fn cookie_name(&self, base: &str) -> String {
        if self.secure_cookies() {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }
}

/// The public router (every route a fixed path; see `observe`). GET /me,
/// POST /introspect and POST /token reach their handlers through `hot`
/// instead; their entries here serve the other methods. Layers go in
/// `observe`, which every request passes, not here.
fn router(app: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/livez", get(|| async { "ok" }))
        .route(
            "/authorize",
            get(authorize::authorize)
                .fallback(|| async { respond::method_not_allowed("GET", true) }),
        )
        .route("/login", axum::routing::post(login::login))
        .route("/logout", get(logout::logout_page).post(logout::logout))
        .route(
            "/consent",
            get(authorize::consent_page).post(authorize::consent),
        )
        .route("/token", any(token::token))
        .route("/revoke", any(token::revoke))
        .route("/introspect", any(token::introspect))
        .route(
            "/api/public/v1/me",
            get(resource::me).fallback(resource::me_other_method),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::metadata),
        )
        .route("/assets/gatehouse.css", get(stylesheet))
        .with_state(app)
}

/// Serves the public plane on `listener` until `shutdown` completes.
pub async fn serve(
    shared: Shared,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = AppState {
        inner: Arc::new(AppInner {
            shared,
            password_checks: tokio::sync::Semaphore::new(CONCURRENT_PASSWORD_CHECKS),
        }),
    };
    let connections = observe::Connections::new(router(app.clone()), app);
    axum::serve(listener, connections)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

async fn healthz(State(app): State<AppState>) -> StatusCode {
    match app.shared.store.call(|store| store.ping()).await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        pages::STYLESHEET,
    )
        .into_response()
}
