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
//!
//! This file holds what the public and admin planes record and the scrape
//! listener; `writer.rs` what the store's writer records, `figures.rs` the
//! figures read at scrape time.

mod figures;
mod writer;

pub use writer::StoreMetrics;

use crate::http::PublicState;
use crate::store::Store;
use crate::tally::FailureTally;
use figures::Figures;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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
