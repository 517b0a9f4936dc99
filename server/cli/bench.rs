//! The flags of `gatehouse bench` and its workloads (the bench itself is the
//! `gatehouse` binary's, not the library's: `server/bench/`).

use crate::model::ClientId;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Flags of `gatehouse bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Seconds each workload runs.
    #[arg(long, default_value_t = 5)]
    pub duration: u64,
    /// At most this many requests per workload.
    #[arg(long, default_value_t = 5_000_000)]
    pub requests: usize,
    /// Concurrent workers, one keep-alive connection each.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Families seeded through the real flow (refresh, introspect and me use them).
    #[arg(long, default_value_t = 256)]
    pub families: usize,
    /// Workloads to run (default: all but floor and authorize-flood).
    #[arg(long = "workload", value_enum)]
    pub workloads: Vec<Workload>,
    /// Families of one client revoked in one call by the revoke-client workload.
    #[arg(long, default_value_t = 100_000)]
    pub revoke_families: usize,
    /// Also seed this many families through the store and time the first page of
    /// a filtered family list (the scale test; 0 skips it).
    #[arg(long, default_value_t = 0)]
    pub scale_families: usize,
    /// Also run each workload against a second server with metrics off, right
    /// after the same workload against the first (metrics on, which is where
    /// the writer's figures come from), and report what recording them costs.
    #[arg(long, conflicts_with = "url")]
    pub metrics_cost: bool,
    /// The executable started as the server (`EXE serve …`); default: this
    /// one. Another build's binary measures that build under the same load.
    #[arg(long, conflicts_with = "url")]
    pub server_exe: Option<PathBuf>,
    /// Target a running server instead of a child one.
    #[arg(long)]
    pub url: Option<String>,
    /// With --url: the server's process id, to read its CPU time from /proc.
    #[arg(long, requires = "url")]
    pub server_pid: Option<u32>,
    #[arg(long, requires = "url", value_parser = parse_client_id, allow_hyphen_values = true)]
    pub client_id: Option<ClientId>,
    #[arg(long, requires = "url")]
    pub client_secret: Option<String>,
    #[arg(long, requires = "url")]
    pub user: Option<String>,
    #[arg(long, requires = "url")]
    pub password: Option<String>,
    /// Internal: serve the floor workload's minimal HTTP server on this
    /// address until killed (the bench starts itself with it).
    #[arg(long, hide = true)]
    pub serve_floor: Option<SocketAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    Baseline,
    /// A minimal hyper server answering "ok", in its own process: the most the
    /// load generator and the kernel's loopback allow on this machine.
    Floor,
    Introspect,
    Me,
    Refresh,
    /// Refresh on the same families once their client has a 60 s retry
    /// window: every rotation also seals and keeps its answer.
    RefreshWindow,
    Flow,
    RevokeClient,
    /// Anonymous GET /authorize without cookies, as a bot sends it.
    AuthorizeFlood,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Baseline => "baseline",
            Workload::Floor => "floor",
            Workload::Introspect => "introspect",
            Workload::Me => "me",
            Workload::Refresh => "refresh",
            Workload::RefreshWindow => "refresh-window",
            Workload::Flow => "flow",
            Workload::RevokeClient => "revoke-client",
            Workload::AuthorizeFlood => "authorize-flood",
        }
    }

    /// Whether each request rotates a refresh token (writer figures apply).
    pub fn rotates(self) -> bool {
        matches!(self, Workload::Refresh | Workload::RefreshWindow)
    }
}

fn parse_client_id(text: &str) -> Result<ClientId, String> {
    ClientId::parse(text).map_err(|invalid| invalid.to_string())
}
