//! Figures the server keeps anyway (database size, sessions, password
//! checks, the failure tally, writer totals), read at each scrape rather than
//! counted twice.

use crate::http::PublicState;
use crate::store::Store;
use crate::tally::FailureTally;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;
use std::sync::Arc;

/// Figures the server keeps anyway, read at each scrape.
#[derive(Clone)]
pub(super) struct Figures {
    pub(super) store: Store,
    pub(super) public: Arc<PublicState>,
    pub(super) tally: Arc<FailureTally>,
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
