//! Prometheus metrics, served on their own listener (`--metrics-addr`).
//!
//! Recording happens at the edges, each in one place: the public plane's
//! request layer (requests, latency, OAuth error codes), the token endpoint
//! (tokens issued), the admin plane's tower layer (calls per method and code),
//! and the store's writer (batch size, commit latency, and revocations, replays
//! and code reuse, counted after their COMMIT so a rolled-back change never
//! counts). What the server already keeps — sessions and pending requests,
//! password checks, the failure tally, the database size — is read at scrape
//! time, not counted twice. Every label takes its value from a closed set
//! (routes, methods, codes, reasons), never from what a client sent.

use crate::http::PublicState;
use crate::model::RevokeReason;
use crate::store::Store;
use crate::tally::FailureTally;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::time::Duration;

/// `Content-Type` of the scrape: the Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

type Labels<const N: usize> = [(&'static str, &'static str); N];

fn seconds_buckets() -> impl Iterator<Item = f64> {
    // 0.25 ms … ~4 s.
    exponential_buckets(0.000_25, 2.0, 15)
}

/// What the public and admin planes record, and the registry that encodes it.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Family<HttpLabels, Histogram, fn() -> Histogram>,
    tokens_issued: Family<Labels<1>, Counter>,
    refresh_retries: Counter,
    oauth_errors: Family<Labels<2>, Counter>,
    admin_calls: Family<AdminLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct AdminLabels {
    method: String,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct HttpLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Registers everything: what the planes record here, what the store's
    /// writer records, and the figures read from `store`, `public` and `tally`
    /// at each scrape.
    pub fn new(store: &Store, public: Arc<PublicState>, tally: Arc<FailureTally>) -> Self {
        let mut registry = Registry::with_prefix("gatehouse");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Public-plane requests by route (the matched pattern), method and status",
            http_requests.clone(),
        );
        let http_seconds: Family<HttpLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(seconds_buckets()));
        registry.register_with_unit(
            "http_request_duration",
            "Public-plane request latency by route, method and status",
            Unit::Seconds,
            http_seconds.clone(),
        );
        let tokens_issued = Family::<Labels<1>, Counter>::default();
        registry.register(
            "tokens_issued",
            "Successful /token answers by grant_type",
            tokens_issued.clone(),
        );
        let refresh_retries = Counter::default();
        registry.register(
            "refresh_retries",
            "Refresh retries within a client's retry window, answered with the pair already issued (also among tokens_issued)",
            refresh_retries.clone(),
        );
        let oauth_errors = Family::<Labels<2>, Counter>::default();
        registry.register(
            "oauth_errors",
            "OAuth error answers by endpoint and error code (RFC 6749, 6750)",
            oauth_errors.clone(),
        );
        let admin_calls = Family::<AdminLabels, Counter>::default();
        registry.register(
            "admin_calls",
            "Admin-plane gRPC calls by method and status code",
            admin_calls.clone(),
        );
        store.metrics().register(&mut registry);
        registry.register_collector(Box::new(Figures {
            store: store.clone(),
            public,
            tally,
        }));
        Metrics {
            registry,
            http_requests,
            http_seconds,
            tokens_issued,
            refresh_retries,
            oauth_errors,
            admin_calls,
        }
    }

    /// One public-plane request. `oauth_error` is the code the answer carried, if any.
    pub fn http_request(
        &self,
        route: &'static str,
        method: &'static str,
        status: u16,
        elapsed: Duration,
        oauth_error: Option<&'static str>,
    ) {
        let labels = HttpLabels {
            route,
            method,
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
        self.http_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        if let Some(code) = oauth_error {
            self.oauth_errors
                .get_or_create(&[("endpoint", route), ("error", code)])
                .inc();
        }
    }

    /// A /token answer that issued tokens.
    pub fn token_issued(&self, grant_type: &'static str) {
        self.tokens_issued
            .get_or_create(&[("grant_type", grant_type)])
            .inc();
    }

    /// A refresh retry answered with the pair an earlier rotation issued.
    pub fn refresh_retried(&self) {
        self.refresh_retries.inc();
    }

    /// One admin-plane call (`method` from a closed set; see `admin::observe`).
    pub fn admin_call(&self, method: String, code: &'static str) {
        self.admin_calls
            .get_or_create(&AdminLabels { method, code })
            .inc();
    }

    /// The scrape: every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(error) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
        {
            tracing::warn!(%error, "could not encode the metrics");
        }
        text
    }
}

/// What the store's writer records (created with the store, registered by
/// [`Metrics::new`]); counted after COMMIT.
#[derive(Debug, Clone)]
pub struct StoreMetrics {
    batch_jobs: Histogram,
    commit_seconds: Histogram,
    wal_sync_seconds: Histogram,
    wal_sync_commits: Histogram,
    families_revoked: Family<Labels<1>, Counter>,
    refresh_replays: Counter,
    code_reuse: Counter,
}

impl Default for StoreMetrics {
    fn default() -> Self {
        StoreMetrics {
            batch_jobs: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            commit_seconds: Histogram::new(seconds_buckets()),
            wal_sync_seconds: Histogram::new(seconds_buckets()),
            wal_sync_commits: Histogram::new(exponential_buckets(1.0, 2.0, 6)),
            families_revoked: Family::default(),
            refresh_replays: Counter::default(),
            code_reuse: Counter::default(),
        }
    }
}

impl StoreMetrics {
    /// One group commit: how many writes it carried and how long COMMIT took.
    pub fn commit(&self, jobs: usize, elapsed: Duration) {
        self.batch_jobs.observe(jobs as f64);
        self.commit_seconds.observe(elapsed.as_secs_f64());
    }

    /// One fsync of the write-ahead log: how many COMMITs it made durable
    /// and how long it took.
    pub fn wal_sync(&self, commits: usize, elapsed: Duration) {
        self.wal_sync_commits.observe(commits as f64);
        self.wal_sync_seconds.observe(elapsed.as_secs_f64());
    }

    /// Families revoked by a committed change.
    pub fn revoked(&self, reason: RevokeReason, families: u64) {
        if families > 0 {
            self.families_revoked
                .get_or_create(&[("reason", reason.as_str())])
                .inc_by(families);
        }
    }

    /// A committed refresh replay (the family was revoked).
    pub fn refresh_replay(&self) {
        self.refresh_replays.inc();
    }

    /// A committed authorization code reuse (the family was revoked).
    pub fn code_reuse(&self) {
        self.code_reuse.inc();
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "writer_batch_jobs",
            "Writes carried by one group COMMIT",
            self.batch_jobs.clone(),
        );
        registry.register_with_unit(
            "writer_commit",
            "Time one group COMMIT took (writing the log; its fsync is wal_sync)",
            Unit::Seconds,
            self.commit_seconds.clone(),
        );
        registry.register_with_unit(
            "wal_sync",
            "Time one fsync of the write-ahead log took (answers wait for it)",
            Unit::Seconds,
            self.wal_sync_seconds.clone(),
        );
        registry.register(
            "wal_sync_commits",
            "Group COMMITs made durable by one fsync of the write-ahead log",
            self.wal_sync_commits.clone(),
        );
        registry.register(
            "families_revoked",
            "Token families revoked, by reason",
            self.families_revoked.clone(),
        );
        registry.register(
            "refresh_replays",
            "Rotated refresh tokens presented again (each revoked its family)",
            self.refresh_replays.clone(),
        );
        registry.register(
            "code_reuse",
            "Authorization codes redeemed twice (each revoked its family)",
            self.code_reuse.clone(),
        );
    }
}

/// A reason sentence as a label value: `wrong username or password` →
/// `wrong_username_or_password`, cut at the first `;` or `:`.
fn slug(reason: &str) -> String {
    let head = reason
        .split([';', ':', '('])
        .next()
        .unwrap_or(reason)
        .trim();
    let mut slug = String::with_capacity(head.len());
    for c in head.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
    }
    slug.trim_matches('_').to_owned()
}

/// Figures the server keeps anyway, read at each scrape.
#[derive(Clone)]
struct Figures {
    store: Store,
    public: Arc<PublicState>,
    tally: Arc<FailureTally>,
}

impl std::fmt::Debug for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Figures")
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, unit, metric.metric_type())?)
}

impl Collector for Figures {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (database, wal) = self.store.file_bytes();
        gauge(
            &mut encoder,
            "database",
            "Size of the database file",
            Some(&Unit::Bytes),
            database,
        )?;
        gauge(
            &mut encoder,
            "database_wal",
            "Size of the database's write-ahead log",
            Some(&Unit::Bytes),
            wal,
        )?;
        let figures = self.public.figures();
        gauge(
            &mut encoder,
            "pending_authorizations",
            "Authorization requests waiting for login or consent (bounded)",
            None,
            figures.pending_authorizations as i64,
        )?;
        gauge(
            &mut encoder,
            "browser_sessions",
            "Logged-in browser sessions held (bounded)",
            None,
            figures.browser_sessions as i64,
        )?;
        let checks = ConstCounter::new(figures.password_checks);
        checks.encode(encoder.encode_descriptor(
            "password_checks",
            "argon2id password checks run",
            None,
            checks.metric_type(),
        )?)?;
        let totals = self.tally.totals();
        let failures = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "failures",
            "Failures anyone can cause, by kind (login_failed, client_auth_failed) and reason; reason locked_out is a login refused by the throttle",
            None,
            failures.metric_type(),
        )?;
        for ((kind, reason), count) in totals {
            let labels = [("kind", kind.to_owned()), ("reason", slug(reason))];
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        let stats = self.store.write_stats();
        let writes = ConstCounter::new(stats.jobs as u64);
        writes.encode(encoder.encode_descriptor(
            "writer_jobs",
            "Writes run by the writer thread",
            None,
            writes.metric_type(),
        )?)?;
        let busy = ConstCounter::new(stats.busy.as_secs_f64());
        busy.encode(encoder.encode_descriptor(
            "writer_busy",
            "Time the writer thread spent on batches, from taking one to handing it, committed, to the sync thread",
            Some(&Unit::Seconds),
            busy.metric_type(),
        )?)?;
        Ok(())
    }
}

/// Serves `GET /metrics` on `listener` (its own, never the public plane's)
/// until the task is aborted at shutdown.
pub async fn serve(metrics: Arc<Metrics>, listener: tokio::net::TcpListener) {
    use axum::http::header;
    let scrape = move || {
        let metrics = metrics.clone();
        async move { ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.render()) }
    };
    let router = axum::Router::new().route("/metrics", axum::routing::get(scrape));
    if let Err(error) = axum::serve(listener, router).await {
        tracing::warn!(%error, "the metrics listener stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn reasons_become_short_label_values() {
        assert_eq!(
            slug("wrong username or password"),
            "wrong_username_or_password"
        );
        assert_eq!(slug("locked out"), "locked_out");
        assert_eq!(
            slug("client authentication required: HTTP Basic, or client_id for public clients"),
            "client_authentication_required"
        );
        assert_eq!(
            slug("malformed HTTP Basic credentials (RFC 6749 2.3.1)"),
            "malformed_http_basic_credentials"
        );
        assert_eq!(
            slug("unsupported authentication scheme; use HTTP Basic"),
            "unsupported_authentication_scheme"
        );
    }
}
