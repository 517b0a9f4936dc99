//! gatehouse: a single-host OAuth 2.0 authorization server with an operator admin plane.
//!
//! # Layout
//! - [`config`]: command-line flags and environment → a validated [`config::Config`].
//! - [`model`]: domain types, parsed once at the edge (`RedirectUri`, `ScopeSet`, …).
//! - [`secret`]: token generation, hashing, constant-time comparison, passwords.
//! - [`sealed`]: a refresh rotation's answer sealed under a key derived from the
//!   rotated token, so a lost answer can be repeated (opt-in retry window).
//! - [`clock`]: the one injectable clock every expiry reads.
//! - [`store`]: the SQLite layer; the only module that imports rusqlite.
//! - [`oauth`]: protocol rules as plain functions over the store and `now`.
//! - [`http`]: the public plane (axum): thin handlers, pages, bearer middleware.
//! - [`admin`]: the gRPC admin service (tonic): proto ↔ model, the auth interceptor.
//! - [`cli`]: the admin command line, a gRPC client of a running server.
//! - [`tally`]: failures anyone can cause, and refresh retries, counted per minute
//!   (bounded event rows).
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
pub mod server;
pub mod shutdown;
pub mod store;
pub mod tally;

/// Generated admin-plane types and service stubs.
pub mod proto {
    tonic::include_proto!("gatehouse.admin.v1");
    /// Encoded descriptors, served by gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("admin_descriptor");
}
