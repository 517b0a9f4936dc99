//! Startup and the run loop: both planes (and the metrics) on their listeners,
//! the periodic purge and failure flush, the drain at shutdown.

pub use crate::data_dir::{
    create_data_dir, prepare, read_token_file, refuse_if_exposed, DataDirLock, Prepared,
    ADMIN_TOKEN_FILE, DATABASE_FILE, LOCK_FILE,
};

use crate::admin;
use crate::clock::Clock;
use crate::config::Config;
use crate::http;
use crate::metrics::Metrics;
use crate::secret_uses::SecretUses;
use crate::shutdown;
use crate::store::{Store, StoreError};
use crate::tally::FailureTally;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{path}: {message}")]
    DataDir { path: PathBuf, message: String },
    #[error("opening the database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("cannot listen on {addr} ({plane}): {message}")]
    Bind {
        plane: &'static str,
        addr: std::net::SocketAddr,
        message: String,
    },
    #[error("gRPC server: {0}")]
    Grpc(String),
    #[error("a server task failed: {0}")]
    Task(String),
}

/// What both planes share.
#[derive(Clone)]
pub struct Shared {
    pub config: Config,
    pub store: Store,
    pub clock: Clock,
    pub started: Instant,
    /// Failures anyone can cause, counted per minute until flushed to events.
    pub tally: Arc<FailureTally>,
    /// Client secrets' last uses, queued until the flush writes them.
    pub secret_uses: Arc<SecretUses>,
    /// The public plane's bounded in-memory state (browsers, login throttle).
    pub public: Arc<http::PublicState>,
    /// Present when `--metrics-addr` is set: nothing is recorded otherwise.
    pub metrics: Option<Arc<Metrics>>,
}

impl Shared {
    pub fn new(config: Config, store: Store, clock: Clock) -> Self {
        let tally: Arc<FailureTally> = Arc::default();
        let public: Arc<http::PublicState> = Arc::default();
        let metrics = config
            .metrics_addr
            .map(|_| Arc::new(Metrics::new(&store, public.clone(), tally.clone())));
        Shared {
            config,
            store,
            clock,
            started: Instant::now(),
            tally,
            secret_uses: Arc::default(),
            public,
            metrics,
        }
    }
}

/// Log lines to stderr as text or JSON, one object a line; `RUST_LOG` filters
/// (default `info`). Text is coloured only when stderr is a terminal and
/// `NO_COLOR` is unset: a file or the journal gets no escape codes.
pub fn init_logging(format: crate::config::LogFormat) {
    use std::io::IsTerminal;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        crate::config::LogFormat::Json => subscriber.json().with_ansi(false).init(),
        crate::config::LogFormat::Text => subscriber.with_ansi(colour).init(),
    }
}

/// Bound listeners: both planes, and the metrics when asked for (port 0 in tests).
pub struct Listeners {
    pub http: TcpListener,
    pub grpc: TcpListener,
    pub metrics: Option<TcpListener>,
}

impl Listeners {
    pub async fn bind(config: &Config) -> Result<Self, ServeError> {
        let bind = |plane: &'static str, addr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|error| ServeError::Bind {
                    plane,
                    addr,
                    message: error.to_string(),
                })
        };
        let metrics = match config.metrics_addr {
            Some(addr) => Some(bind("--metrics-addr", addr).await?),
            None => None,
        };
        Ok(Listeners {
            http: bind("--http-addr", config.http_addr).await?,
            grpc: bind("--grpc-addr", config.grpc_addr).await?,
            metrics,
        })
    }

    /// Writes the bound addresses into `config`, so port 0 becomes the port
    /// the kernel chose (logged at start, for supervisors and tests). An issuer
    /// naming the HTTP address with port 0 gets the bound port too.
    pub fn settle(&self, config: &mut Config) -> Result<(), ServeError> {
        let http = self.http.local_addr()?;
        if config.http_addr.port() == 0 {
            let unbound = format!("://{}", config.http_addr);
            if let Some((scheme, rest)) = config.issuer.split_once(&unbound) {
                config.issuer = format!("{scheme}://{http}{rest}");
            }
        }
        config.http_addr = http;
        config.grpc_addr = self.grpc.local_addr()?;
        if let Some(metrics) = &self.metrics {
            config.metrics_addr = Some(metrics.local_addr()?);
        }
        Ok(())
    }
}

/// Serves both planes until `shutdown` completes, then drains: event streams
/// end at once, in-flight requests may finish, and after
/// `config.shutdown_grace` the server stops waiting whatever its clients do.
pub async fn run(
    shared: Shared,
    admin_token: String,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (trigger, draining) = shutdown::channel();
    let http = http::serve(shared.clone(), listeners.http, draining.clone().begun());
    let grpc = admin::serve(shared.clone(), admin_token, listeners.grpc, draining);
    let purge = tokio::spawn(purge_periodically(shared.clone()));
    let flush = tokio::spawn(flush_failures_periodically(shared.clone()));
    let metrics = match (listeners.metrics, &shared.metrics) {
        (Some(listener), Some(metrics)) => Some(tokio::spawn(crate::metrics::serve(
            metrics.clone(),
            listener,
        ))),
        _ => None,
    };
    let sweep = tokio::spawn(sweep_retries_periodically(shared.clone()));
    let mut http = tokio::spawn(http);
    let mut grpc = tokio::spawn(grpc);
    shutdown.await;
    purge.abort();
    flush.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    sweep.abort();
    trigger.begin();
    let grace = shared.config.shutdown_grace;
    let drained = tokio::time::timeout(grace, async {
        let http = (&mut http).await;
        let grpc = (&mut grpc).await;
        (http, grpc)
    })
    .await;
    // Failures counted in the minute in progress are written before we go.
    let last = shared.tally.take_all();
    record_failures(&shared, last).await;
    record_secret_uses(&shared).await;
    let Ok((http, grpc)) = drained else {
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "grace period over: closing the connections still open"
        );
        http.abort();
        grpc.abort();
        return Ok(());
    };
    http.map_err(|error| ServeError::Task(error.to_string()))??;
    grpc.map_err(|error| ServeError::Task(error.to_string()))??;
    tracing::info!("drained: every request answered");
    Ok(())
}

/// Dead rows are kept this long after they die, for incident review.
const KEEP_DEAD_SECS: i64 = 7 * 24 * 3600;
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
/// How often finished minutes of failure counts, and queued secret uses, are
/// written.
const FLUSH_FAILURES_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// How often answers kept for refresh retries are deleted once their window
/// ended, when no rotation did it first (a read; a write only when one is due).
const SWEEP_RETRIES_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Once an hour: deletes dead codes, tokens and families (see
/// `Store::purge_expired`) and events past `--event-retention-days`.
async fn purge_periodically(shared: Shared) {
    let mut interval = tokio::time::interval(PURGE_EVERY);
    let retention_secs = shared.config.event_retention_days * 24 * 3600;
    loop {
        interval.tick().await;
        let now = shared.clock.now();
        let outcome = shared
            .store
            .call(move |store| {
                let purged = store.purge_expired(now, KEEP_DEAD_SECS)?;
                let events = store.prune_events(now - retention_secs, now)?;
                Ok((purged, events))
            })
            .await;
        match outcome {
            Ok((purged, events)) if purged != Default::default() || events > 0 => {
                tracing::info!(?purged, events, "purged dead rows and old events")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "purge failed; will retry"),
        }
    }
}

/// Writes each finished minute of failure counts as its aggregated events.
async fn flush_failures_periodically(shared: Shared) {
    let mut interval = tokio::time::interval(FLUSH_FAILURES_EVERY);
    loop {
        interval.tick().await;
        let finished = shared.tally.take_finished(shared.clock.now());
        record_failures(&shared, finished).await;
        record_secret_uses(&shared).await;
    }
}

/// Writes the queued last uses of client secrets (at most one per secret and
/// minute), in one transaction.
async fn record_secret_uses(shared: &Shared) {
    let uses = shared.secret_uses.take();
    if uses.is_empty() {
        return;
    }
    let now = shared.clock.now();
    let rows = uses.len();
    if let Err(error) = shared
        .store
        .call(move |store| store.record_secret_uses(uses, now))
        .await
    {
        tracing::warn!(%error, rows, "could not record the last use of client secrets");
    }
}

/// Deletes the sealed answers of refresh retry windows that have ended.
async fn sweep_retries_periodically(shared: Shared) {
    let mut interval = tokio::time::interval(SWEEP_RETRIES_EVERY);
    loop {
        interval.tick().await;
        let now = shared.clock.now();
        if let Err(error) = shared
            .store
            .call(move |store| store.sweep_refresh_retries(now))
            .await
        {
            tracing::warn!(%error, "sweeping refresh retry answers failed; will retry");
        }
    }
}

async fn record_failures(shared: &Shared, events: Vec<crate::model::NewEvent>) {
    if events.is_empty() {
        return;
    }
    let now = shared.clock.now();
    let rows = events.len();
    if let Err(error) = shared
        .store
        .call(move |store| store.record_events(events, now))
        .await
    {
        tracing::warn!(%error, rows, "could not record aggregated failures");
    }
}

/// A server started in this process on loopback port 0, for tests and
/// `gatehouse bench`: both planes running until [`LocalServer::stop`].
pub struct LocalServer {
    pub shared: Shared,
    pub admin_token: String,
    pub http_addr: std::net::SocketAddr,
    pub grpc_addr: std::net::SocketAddr,
    /// Where `/metrics` answers, when the config asked for metrics.
    pub metrics_addr: Option<std::net::SocketAddr>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), ServeError>>,
    _lock: DataDirLock,
}

impl LocalServer {
    /// Prepares `data_dir`, binds both planes on 127.0.0.1 port 0, and serves.
    pub async fn start(data_dir: &Path, clock: Clock) -> Result<Self, ServeError> {
        Self::start_with(data_dir, clock, |_| {}).await
    }

    /// [`LocalServer::start`] with the default config changed by `configure`
    /// (trusted proxies, retention, lifetimes). A `metrics_addr` it sets, any
    /// address, means metrics on 127.0.0.1 port 0.
    pub async fn start_with(
        data_dir: &Path,
        clock: Clock,
        configure: impl FnOnce(&mut Config),
    ) -> Result<Self, ServeError> {
        let prepared = prepare(data_dir)?;
        let loopback = |plane| async move {
            TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|error| ServeError::Bind {
                    plane,
                    addr: ([127, 0, 0, 1], 0).into(),
                    message: error.to_string(),
                })
        };
        let (http, grpc) = (loopback("http").await?, loopback("grpc").await?);
        let (http_addr, grpc_addr) = (http.local_addr()?, grpc.local_addr()?);
        let mut config = Config {
            data_dir: data_dir.to_owned(),
            http_addr,
            grpc_addr,
            issuer: format!("http://{http_addr}"),
            log_format: crate::config::LogFormat::Text,
            lifetimes: crate::model::Lifetimes::default(),
            trusted_proxies: Vec::new(),
            event_retention_days: 90,
            shutdown_grace: crate::config::DEFAULT_SHUTDOWN_GRACE,
            metrics_addr: None,
        };
        configure(&mut config);
        let metrics = match config.metrics_addr {
            Some(_) => Some(loopback("metrics").await?),
            None => None,
        };
        config.metrics_addr = match &metrics {
            Some(listener) => Some(listener.local_addr()?),
            None => None,
        };
        let metrics_addr = config.metrics_addr;
        let shared = Shared::new(config, prepared.store, clock);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(run(
            shared.clone(),
            prepared.admin_token.clone(),
            Listeners {
                http,
                grpc,
                metrics,
            },
            shutdown,
        ));
        Ok(LocalServer {
            shared,
            admin_token: prepared.admin_token,
            http_addr,
            grpc_addr,
            metrics_addr,
            stop,
            task,
            _lock: prepared.lock,
        })
    }

    /// Stops both planes and waits for them.
    pub async fn stop(self) -> Result<(), ServeError> {
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|error| ServeError::Task(error.to_string()))?
    }
}
