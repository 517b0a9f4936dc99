//! Command-line flags and `GATEHOUSE_*` variables → a validated [`Config`].

use crate::model::Lifetimes;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// Flags every command accepts, before or after the subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Directory holding the database and admin.token.
    #[arg(
        long,
        global = true,
        env = "GATEHOUSE_DATA_DIR",
        default_value = "gatehouse-data"
    )]
    pub data_dir: PathBuf,
    /// Admin gRPC address (host:port).
    #[arg(
        long,
        global = true,
        env = "GATEHOUSE_GRPC_ADDR",
        default_value = "127.0.0.1:50051"
    )]
    pub grpc_addr: String,
    /// File holding the admin token (default: GATEHOUSE_ADMIN_TOKEN, then <data-dir>/admin.token).
    #[arg(long, global = true, env = "GATEHOUSE_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
}

/// Flags of `gatehouse serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Public HTTP address (host:port).
    #[arg(long, env = "GATEHOUSE_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: String,
    /// Issuer identifier; also the base of every endpoint URL in the metadata.
    /// With `--http-addr HOST:0`, an issuer naming that address gets the bound port.
    #[arg(
        long,
        env = "GATEHOUSE_ISSUER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub issuer: String,
    /// Log line format.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Authorization code lifetime in seconds.
    #[arg(long, env = "GATEHOUSE_CODE_TTL_SECS", default_value_t = 60, value_parser = clap::value_parser!(i64).range(1..=3600))]
    pub code_ttl_secs: i64,
    /// Access token lifetime in seconds.
    #[arg(long, env = "GATEHOUSE_ACCESS_TTL_SECS", default_value_t = 3600, value_parser = clap::value_parser!(i64).range(1..=86400))]
    pub access_ttl_secs: i64,
    /// Refresh tokens die after this many seconds without use.
    #[arg(long, env = "GATEHOUSE_REFRESH_IDLE_TTL_SECS", default_value_t = 2_592_000, value_parser = clap::value_parser!(i64).range(1..=31_622_400))]
    pub refresh_idle_ttl_secs: i64,
    /// A TLS proxy in front (CIDR or address; repeatable). Only for a peer inside
    /// one is X-Forwarded-For read: the rightmost address not itself trusted.
    #[arg(
        long = "trusted-proxy",
        env = "GATEHOUSE_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<String>,
    /// Events older than this many days are deleted by the periodic purge.
    #[arg(long, env = "GATEHOUSE_EVENT_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub event_retention_days: i64,
    /// On SIGTERM or Ctrl-C, how long in-flight requests may take to finish
    /// before the server exits anyway (event streams end at once).
    #[arg(long, env = "GATEHOUSE_SHUTDOWN_GRACE_SECS", default_value_t = DEFAULT_SHUTDOWN_GRACE.as_secs(), value_parser = clap::value_parser!(u64).range(0..=600))]
    pub shutdown_grace_secs: u64,
    /// Serve Prometheus metrics at http://HOST:PORT/metrics, on a listener of
    /// their own (default: off). Keep it on loopback or a private network.
    #[arg(long, env = "GATEHOUSE_METRICS_ADDR", value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// Check the flags, the data directory, the database and the addresses,
    /// then exit: 0, or 1 with a one-line reason. Starts nothing.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

/// Everything `serve` needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    /// Without a trailing slash.
    pub issuer: String,
    pub log_format: LogFormat,
    pub lifetimes: Lifetimes,
    /// Peers whose X-Forwarded-For names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub event_retention_days: i64,
    /// How long a shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// Where `/metrics` is served, if anywhere (never on the public plane).
    pub metrics_addr: Option<SocketAddr>,
}

/// `--shutdown-grace-secs` when not given.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--{flag}: {message}")]
    Flag { flag: &'static str, message: String },
}

impl Config {
    pub fn from_args(global: &GlobalArgs, serve: &ServeArgs) -> Result<Self, ConfigError> {
        let grpc_addr = resolve("grpc-addr", &global.grpc_addr)?;
        if !grpc_addr.ip().is_loopback() {
            return Err(ConfigError::Flag {
                flag: "grpc-addr",
                message: format!(
                    "{grpc_addr} is not a loopback address; the admin plane has no TLS, so it only listens on 127.0.0.1 or [::1]"
                ),
            });
        }
        let issuer = parse_issuer(&serve.issuer)?;
        let http_addr = resolve("http-addr", &serve.http_addr)?;
        let metrics_addr = match &serve.metrics_addr {
            Some(text) => Some(resolve("metrics-addr", text)?),
            None => None,
        };
        if let Some(metrics) = metrics_addr {
            if metrics.port() != 0 && (metrics == http_addr || metrics == grpc_addr) {
                return Err(ConfigError::Flag {
                    flag: "metrics-addr",
                    message: format!(
                        "{metrics} is already the public or admin address; metrics get a listener of their own"
                    ),
                });
            }
        }
        Ok(Config {
            data_dir: global.data_dir.clone(),
            http_addr,
            grpc_addr,
            issuer,
            log_format: serve.log_format,
            lifetimes: Lifetimes {
                code: serve.code_ttl_secs,
                access: serve.access_ttl_secs,
                refresh_idle: serve.refresh_idle_ttl_secs,
            },
            trusted_proxies: serve
                .trusted_proxies
                .iter()
                .map(|text| parse_network(text))
                .collect::<Result<_, _>>()?,
            event_retention_days: serve.event_retention_days,
            shutdown_grace: Duration::from_secs(serve.shutdown_grace_secs),
            metrics_addr,
        })
    }
}

/// `10.0.0.0/8`, `::1/128`, or a bare address (one host).
fn parse_network(text: &str) -> Result<ipnet::IpNet, ConfigError> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map(|network| network.trunc())
        .map_err(|_| ConfigError::Flag {
            flag: "trusted-proxy",
            message: format!("{text:?} is not an address or CIDR network (e.g. 10.0.0.0/8)"),
        })
}

/// Resolves `host:port` to one socket address.
pub fn resolve(flag: &'static str, text: &str) -> Result<SocketAddr, ConfigError> {
    let invalid = |message: String| ConfigError::Flag { flag, message };
    text.to_socket_addrs()
        .map_err(|error| invalid(format!("{text:?} is not a host:port address ({error})")))?
        .next()
        .ok_or_else(|| invalid(format!("{text:?} resolves to no address")))
}

fn parse_issuer(text: &str) -> Result<String, ConfigError> {
    let invalid = |message: &str| ConfigError::Flag {
        flag: "issuer",
        message: format!("{text:?}: {message}"),
    };
    let parsed = url::Url::parse(text).map_err(|_| invalid("not an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("must be http or https"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("must have no query or fragment (RFC 8414 §2)"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}
