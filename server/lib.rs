//! gatehouse: a single-host OAuth 2.0 authorization server with an operator admin plane.
//!
//! # Layout
//! - [`config`]: command-line flags and environment → a validated [`config::Config`].
//! - [`model`]: domain types, parsed once at the edge (`ClientId`, `RedirectUri`,
//!   `ScopeSet`, …).
//! - [`secret`]: token generation, hashing, constant-time comparison, passwords.
//! - [`sealed`]: a refresh rotation's answer sealed under a key derived from the
//!   rotated token, so a lost answer can be repeated (opt-in retry window).
//! - [`clock`]: the one injectable clock every expiry reads.
//! - [`store`]: the SQLite layer; the only module that imports rusqlite.
//! - [`oauth`]: protocol rules as plain functions over the store and `now`.
//! - [`http`]: the public plane (axum): thin handlers, pages, the bearer extractor;
//!   every request passes one observer (log, metrics), the hot routes skip the router.
//! - [`admin`]: the gRPC admin service (tonic): proto ↔ model, the admin-token
//!   check and the role table (`admin/auth.rs`, `admin/roles.rs`).
//! - [`cli`]: the admin command line, a gRPC client of a running server.
//! - [`tally`]: failures anyone can cause, and refresh retries, counted per minute
//!   (bounded event rows).
//! - [`secret_uses`]: client secrets' last use, queued at most once a minute per
//!   secret and written off the request path.
//! - [`metrics`]: Prometheus metrics, recorded at the edges, served on their own listener.
//! - [`ops`]: `backup`, `restore` and `serve --check`, on the data directory itself.
//! - [`data_dir`]: the data directory's files, modes and lock; opens the store.
//! - [`server`]: binds both planes and runs them until shutdown.
//! - [`shutdown`]: the signals that start a shutdown, and the drain every
//!   long-lived call (the event streams) ends on.
//!
//! # Invariants
//! - Only `store` writes SQL. One writer thread owns the write connection; every
//!   state change runs in its own savepoint of a `BEGIN IMMEDIATE` transaction
//!   (group commit), and its caller is answered only after the COMMIT.
//! - Only `admin`, `cli` and the console touch generated proto types.
//! - Every admin call passes `admin/auth.rs` (the only admin-token check) and the
//!   role table in `admin/roles.rs` (default-deny: an unlisted method needs
//!   `owner`); every admin change's event names the acting identity.
//! - No token, code or secret is stored or logged in plaintext: only SHA-256 hashes,
//!   and a retry window's answer sealed under a key only the rotated token derives.
//! - The async runtime never blocks on the writer or a slow query: admin reads and
//!   most writes run on the blocking pool, and a refresh rotation awaits its
//!   COMMIT as a task. Only the hot reads (a token or client by its key: /token,
//!   /introspect, the bearer check) run inline on a worker thread, on the
//!   read-only connections, where an indexed lookup costs less than the hop.
//! - One server per data directory (an flock on `gatehouse.lock`); a restore
//!   takes the same lock, so it never runs under a live server.
//! - Metrics labels come from closed sets; no log line carries a token, code,
//!   secret or password (the access log has the route pattern, never the URI).
//! - Shutdown is bounded: once it begins no stream outlives it, and the server
//!   exits within `--shutdown-grace-secs` whatever its clients do.

pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod data_dir;
pub mod http;
pub mod metrics;
pub mod model;
pub mod oauth;
pub mod ops;
pub mod sealed;
pub mod secret;
pub mod secret_uses;
pub mod server;
pub mod shutdown;
pub mod store;
pub mod tally;

/// Generated admin-plane types and service stubs.
pub mod proto {
    tonic::include_proto!("gatehouse.admin.v1");
    /// Encoded descriptors, served by gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("admin_descriptor");

    use crate::model::GrantType as Grant;

    /// The one map between the wire's grant types and the domain's; names
    /// come from [`crate::model::GrantType::as_str`].
    impl GrantType {
        pub fn of(grant: Grant) -> Self {
            match grant {
                Grant::AuthorizationCode => GrantType::AuthorizationCode,
                Grant::RefreshToken => GrantType::RefreshToken,
            }
        }

        /// The domain grant type of a wire value; `None` for unspecified or unknown.
        pub fn domain(value: i32) -> Option<Grant> {
            match GrantType::try_from(value) {
                Ok(GrantType::AuthorizationCode) => Some(Grant::AuthorizationCode),
                Ok(GrantType::RefreshToken) => Some(Grant::RefreshToken),
                _ => None,
            }
        }

        /// The OAuth names of wire values, unknown ones left out.
        pub fn names(values: &[i32]) -> Vec<&'static str> {
            values
                .iter()
                .filter_map(|value| GrantType::domain(*value))
                .map(Grant::as_str)
                .collect()
        }
    }
}
