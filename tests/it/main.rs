//! The integration suite: one binary, each module one feature, every test
//! against the real server (temp data dir, port 0, real HTTP and real gRPC).

mod support;

/// Clients, scopes, users, families and events over the gRPC admin API.
mod admin_api;
/// The `gatehouse` admin command line against a running server.
mod admin_cli;
/// The audit trail: actor, RPC and changed fields on every admin event; event filters.
mod audit;
/// /authorize, login and consent pages, metadata.
mod authorize;
/// `gatehouse backup` under refresh load, `gatehouse restore` and its policy.
mod backup_restore;
/// gatehouse bench, end to end.
mod bench;
/// The bench's cookie-keeping browser (a module of the gatehouse binary), for the tests' browser.
#[path = "../../server/bench/browser.rs"]
#[allow(dead_code)]
mod bench_browser;
/// The browser flow binds to who and what was checked (consent, client state).
mod binding;
/// Headless Chromium through login and consent.
mod browser;
/// Grant-type names, completions, the man page, `serve --check`.
mod cli_manners;
/// The client cache is never seen: every client change holds on the next request.
mod client_cache;
/// The real console in tmux.
mod console;
/// The real console in tmux across a SIGTERM and a SIGKILL of the real server.
mod console_restart;
/// The real console in tmux: a secret rotated with an overlap, both listed.
mod console_secrets;
/// Fail points, SIGKILL before and after COMMIT, the kill loop, purge, clock steps, failing closed.
mod crashes;
/// The storage engine: group commit isolation and durability.
mod engine;
/// WatchEvents: heartbeats, resume after an id, replay from the start, `events --follow`.
mod event_stream;
/// Floods: bounded memory, rows and guesses; trusted proxies; no fail points in release.
mod floods;
/// End-to-end flow and the concurrent refresh race.
mod flow;
/// Admin plane hardening.
mod hardening;
/// 10,000 malformed requests over raw TCP.
mod hostile;
/// Logs: no colour off a terminal, JSON lines, access lines, no secrets.
mod logs;
/// `/metrics` scraped and parsed: counters move by exactly what traffic did.
mod metrics;
/// prompt, max_age, sign-out, and the server-issued browser cookie.
mod prompt;
/// Concurrency: refresh and code races, revoke vs refresh, disable during a storm, mixed load.
mod races;
/// The bearer-protected resource API.
mod resource;
/// Safe refresh retries: the same pair within the window, a replay otherwise, crashes, the files.
mod retries;
/// /revoke and /introspect.
mod revoke_introspect;
/// Admin roles: each role allowed exactly its calls (every RPC), revoked and expired tokens.
mod roles;
/// Client secrets: the rotation overlap, revoke-secret, at most two live, the CLI.
mod secrets;
/// Client secrets' last use: once a minute under load, trusted proxy, nothing leaked.
mod secrets_last_use;
/// `deploy/gatehouse.service` under `systemd-analyze verify` and `security`.
mod service_unit;
/// SIGTERM: event streams end, in-flight requests finish, exit within the grace bound.
mod shutdown;
/// Start-up: data dir, admin token, permissions, durability pragmas, restart.
mod startup;
/// /token: every seed row and common cause.
mod token;
