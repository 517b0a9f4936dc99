//! `gatehouse bench`: measures the hot paths against a baseline route served by
//! the same HTTP stack, in the same process, at the same concurrency.
//!
//! It starts the real server in-process on a temp data dir (or targets `--url`),
//! provisions a client and a user, seeds families through the real
//! /authorize + login + consent + /token flow, then runs each workload for
//! `--duration` seconds, with a baseline run interleaved before each one.

pub mod browser;
mod report;

use crate::clock::Clock;
use crate::model::{Actor, ClientSpec, GrantType, RetryWindow, Username};
use crate::server::LocalServer;
use browser::{Browser, Partner};
use report::{Report, Sample, WorkloadResult};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Flags of `gatehouse bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Seconds each workload runs.
    #[arg(long, default_value_t = 5)]
    pub duration: u64,
    /// At most this many requests per workload.
    #[arg(long, default_value_t = 2_000_000)]
    pub requests: usize,
    /// Concurrent workers.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Families seeded through the real flow (refresh, introspect and me use them).
    #[arg(long, default_value_t = 256)]
    pub families: usize,
    /// Workloads to run (default: all).
    #[arg(long = "workload", value_enum)]
    pub workloads: Vec<Workload>,
    /// Families of one client revoked in one call by the revoke-client workload.
    #[arg(long, default_value_t = 100_000)]
    pub revoke_families: usize,
    /// Also seed this many families through the store and time the first page of
    /// a filtered family list (the scale test; 0 skips it).
    #[arg(long, default_value_t = 0)]
    pub scale_families: usize,
    /// Also run each workload against a second in-process server with metrics
    /// on (`--metrics-addr`), right after the same workload with them off, and
    /// report what recording them costs.
    #[arg(long, conflicts_with = "url")]
    pub metrics_cost: bool,
    /// Target a running server instead of an in-process one.
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long, requires = "url")]
    pub client_id: Option<String>,
    #[arg(long, requires = "url")]
    pub client_secret: Option<String>,
    #[arg(long, requires = "url")]
    pub user: Option<String>,
    #[arg(long, requires = "url")]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    Baseline,
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
            Workload::Introspect => "introspect",
            Workload::Me => "me",
            Workload::Refresh => "refresh",
            Workload::RefreshWindow => "refresh-window",
            Workload::Flow => "flow",
            Workload::RevokeClient => "revoke-client",
            Workload::AuthorizeFlood => "authorize-flood",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Setup(String),
    #[error("{workload}: unexpected answers {errors:?}")]
    Unexpected {
        workload: &'static str,
        errors: Vec<(String, usize)>,
    },
}

/// Runs the benchmark and prints its report.
pub async fn run(args: BenchArgs, json: bool) -> Result<(), BenchError> {
    let setup = |error: String| BenchError::Setup(error);
    let target = match &args.url {
        Some(url) => Target::remote(url, &args)?,
        None => Target::in_process(false).await.map_err(setup)?,
    };
    // The same server with metrics on, and its own families, when asked for.
    let metered = match args.metrics_cost {
        true => {
            let metered = Target::in_process(true).await.map_err(setup)?;
            let families = metered
                .partner
                .seed_families(args.families.max(args.concurrency))
                .await
                .map_err(setup)?;
            Some((metered, Arc::new(Mutex::new(families))))
        }
        false => None,
    };
    let mut report = Report::new(args.concurrency);
    report.rss_idle_kib = report::resident_kib();
    // Every worker owns at least one family.
    let family_count = args.families.max(args.concurrency);
    eprintln!("seeding {family_count} families through /authorize, login, consent and /token…");
    let families = target
        .partner
        .seed_families(family_count)
        .await
        .map_err(setup)?;
    let families = Arc::new(Mutex::new(families));
    let workloads = if args.workloads.is_empty() {
        vec![
            Workload::Introspect,
            Workload::Me,
            Workload::Refresh,
            Workload::RefreshWindow,
            Workload::Flow,
            Workload::RevokeClient,
        ]
    } else {
        args.workloads
            .iter()
            .copied()
            .filter(|w| *w != Workload::Baseline)
            .collect()
    };
    for workload in workloads {
        if workload == Workload::RevokeClient {
            report.revoke = revoke_client(&target, args.revoke_families).await?;
            continue;
        }
        let window = match workload {
            Workload::RefreshWindow => RetryWindow::parse(RetryWindow::MAX_SECS).ok(),
            _ => None,
        };
        if let Some(window) = window {
            if !set_retry_window(&target, window).await? {
                eprintln!("refresh-window: skipped (needs the in-process server)");
                continue;
            }
        }
        let baseline = drive(Workload::Baseline, &target, &args, &families).await;
        let sampler = (workload == Workload::AuthorizeFlood).then(report::MemorySampler::start);
        let writes_before = target
            .local
            .as_ref()
            .map(|local| local.server.shared.store.write_stats());
        let mut result = drive(workload, &target, &args, &families).await;
        if window.is_some() {
            set_retry_window(&target, RetryWindow::STRICT).await?;
        }
        if let (Some(before), Some(local)) = (writes_before, &target.local) {
            let after = local.server.shared.store.write_stats();
            let (jobs, commits) = (after.jobs - before.jobs, after.commits - before.commits);
            if commits > 0 {
                result.writes_per_commit = Some(jobs as f64 / commits as f64);
            }
        }
        if let Some(sampler) = sampler {
            report.flood_memory = Some(sampler.finish().await);
        }
        if let Some((metered, metered_families)) = &metered {
            let on = drive(workload, metered, &args, metered_families).await;
            report
                .metrics_cost
                .push(report::MetricsCost::new(&result, &on));
            let unexpected = on.unexpected();
            if !unexpected.is_empty() {
                return Err(BenchError::Unexpected {
                    workload: workload.name(),
                    errors: unexpected,
                });
            }
        }
        let unexpected = result.unexpected();
        report.add(baseline, result);
        if !unexpected.is_empty() {
            report.print(json);
            return Err(BenchError::Unexpected {
                workload: workload.name(),
                errors: unexpected,
            });
        }
    }
    if args.scale_families > 0 {
        report.scale = scale_test(&target, args.scale_families).await?;
    }
    if let Some(metrics) = metered
        .as_ref()
        .and_then(|(metered, _)| metered.local.as_ref())
        .and_then(|local| local.server.shared.metrics.clone())
    {
        report.metrics_record_ns = Some(record_cost_ns(&metrics));
    }
    report.rss_peak_kib = report::peak_resident_kib();
    report.print(json);
    target.stop().await;
    if let Some((metered, _)) = metered {
        metered.stop().await;
    }
    Ok(())
}

/// What recording one /token request costs the request layer and the token
/// endpoint, in nanoseconds: a steadier figure than two req/s on a busy machine.
fn record_cost_ns(metrics: &crate::metrics::Metrics) -> f64 {
    const CALLS: u32 = 200_000;
    let elapsed = Duration::from_micros(1500);
    let started = Instant::now();
    for call in 0..CALLS {
        let status = if call % 10 == 0 { 400 } else { 200 };
        let error = (status == 400).then_some("invalid_grant");
        metrics.http_request("/token", "POST", status, elapsed, error);
        if status == 200 {
            metrics.token_issued("refresh_token");
        }
    }
    started.elapsed().as_nanos() as f64 / f64::from(CALLS)
}

/// Where requests go, and the in-process server if there is one.
struct Target {
    partner: Partner,
    local: Option<Local>,
}

/// The in-process server and the temp data dir it lives in.
struct Local {
    server: LocalServer,
    data_dir: std::path::PathBuf,
}

impl Target {
    fn remote(url: &str, args: &BenchArgs) -> Result<Self, BenchError> {
        let missing = |flag: &str| BenchError::Setup(format!("--url needs {flag}"));
        Ok(Target {
            partner: Partner {
                base: url.trim_end_matches('/').to_owned(),
                client_id: args
                    .client_id
                    .clone()
                    .ok_or_else(|| missing("--client-id"))?,
                client_secret: args
                    .client_secret
                    .clone()
                    .ok_or_else(|| missing("--client-secret"))?,
                username: args.user.clone().ok_or_else(|| missing("--user"))?,
                password: args.password.clone().ok_or_else(|| missing("--password"))?,
                redirect_uri: None,
            },
            local: None,
        })
    }

    /// A server in this process on a temp data dir, with metrics on or off.
    async fn in_process(metrics: bool) -> Result<Self, String> {
        let data_dir = std::env::temp_dir().join(format!(
            "gatehouse-bench-{}",
            crate::secret::random_base64(8)
        ));
        let server = LocalServer::start_with(&data_dir, Clock::default(), |config| {
            if metrics {
                config.metrics_addr = Some(([127, 0, 0, 1], 0).into());
            }
        })
        .await
        .map_err(|e| e.to_string())?;
        let (store, now) = (server.shared.store.clone(), server.shared.clock.now());
        let redirect_uri = "http://127.0.0.1:9/cb".to_owned();
        let spec = ClientSpec::parse(
            "Bench",
            std::slice::from_ref(&redirect_uri),
            &["profile".into()],
            &GrantType::ALL,
            false,
        )
        .map_err(|e| e.to_string())?;
        let (client, secret) = store
            .create_client(Actor::Local, spec, now)
            .map_err(|e| e.to_string())?;
        let password = crate::secret::random_base64(16);
        let username = Username::parse("bench").map_err(|e| e.to_string())?;
        store
            .create_user(
                Actor::Local,
                &username,
                &crate::secret::hash_password(&password),
                now,
            )
            .map_err(|e| e.to_string())?;
        Ok(Target {
            partner: Partner {
                base: format!("http://{}", server.http_addr),
                client_id: client.id,
                client_secret: secret.map(|s| s.into_string()).unwrap_or_default(),
                username: "bench".into(),
                password,
                redirect_uri: Some(redirect_uri),
            },
            local: Some(Local { server, data_dir }),
        })
    }

    async fn stop(self) {
        if let Some(local) = self.local {
            if let Err(error) = local.server.stop().await {
                eprintln!("bench server: {error}");
            }
            let _ = std::fs::remove_dir_all(&local.data_dir);
        }
    }
}

/// Sets the bench client's refresh retry window; false without the in-process server.
async fn set_retry_window(target: &Target, window: RetryWindow) -> Result<bool, BenchError> {
    let Some(local) = &target.local else {
        return Ok(false);
    };
    let (id, now) = (
        target.partner.client_id.clone(),
        local.server.shared.clock.now(),
    );
    local
        .server
        .shared
        .store
        .call(move |store| {
            store.update_client(Actor::Local, &id, now, move |client| {
                Ok(ClientSpec {
                    refresh_retry_window: window,
                    ..client.spec()
                })
            })
        })
        .await
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    Ok(true)
}

/// Runs one HTTP workload at the configured concurrency.
async fn drive(
    workload: Workload,
    target: &Target,
    args: &BenchArgs,
    families: &Arc<Mutex<Vec<browser::Tokens>>>,
) -> WorkloadResult {
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let budget = Arc::new(AtomicUsize::new(args.requests));
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let progress = tokio::spawn(report::progress(workload.name(), done.clone(), deadline));
    let count = families.lock().map(|f| f.len()).unwrap_or(0);
    let concurrency = args.concurrency.max(1);
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (partner, families, budget, done) = (
                target.partner.clone(),
                families.clone(),
                budget.clone(),
                done.clone(),
            );
            // Each worker owns the families congruent to its index, so no two
            // workers ever rotate the same family.
            let owned: Vec<usize> = (worker..count).step_by(concurrency).collect();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                let mut browser = Browser::new(&partner.base);
                let mut turn = 0;
                while Instant::now() < deadline
                    && budget
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                {
                    let slot = owned.get(turn % owned.len().max(1)).copied();
                    turn += 1;
                    let begun = Instant::now();
                    let outcome = partner
                        .request(workload, &mut browser, &families, slot)
                        .await;
                    samples.push(Sample {
                        micros: begun.elapsed().as_micros() as u32,
                        outcome,
                    });
                    done.fetch_add(1, Ordering::Relaxed);
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::new();
    for worker in workers {
        samples.extend(worker.await.unwrap_or_default());
    }
    progress.abort();
    eprint!("\r\x1b[2K");
    WorkloadResult::new(workload.name(), samples, started.elapsed())
}

/// Seeds `count` families of a fresh client through the store, then revokes them
/// all with one admin call (one transaction).
async fn revoke_client(
    target: &Target,
    count: usize,
) -> Result<Option<report::RevokeResult>, BenchError> {
    let Some(local) = &target.local else {
        eprintln!("revoke-client: skipped (needs the in-process server)");
        return Ok(None);
    };
    if count == 0 {
        return Ok(None);
    }
    eprintln!("revoke-client: seeding {count} families…");
    let client_id = seed_client(local, "Bench bulk", count).await?;
    let (store, now) = (
        local.server.shared.store.clone(),
        local.server.shared.clock.now(),
    );
    let started = Instant::now();
    let revoked = store
        .call(move |store| {
            store.revoke_client_families(Actor::Local, &client_id, "bench", false, now)
        })
        .await
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    Ok(Some(report::RevokeResult {
        families: revoked.families,
        millis: started.elapsed().as_secs_f64() * 1000.0,
    }))
}

/// Seeds `count` families through the store and times the first page of a
/// client-filtered family list, as the admin plane serves it.
async fn scale_test(
    target: &Target,
    count: usize,
) -> Result<Option<report::ScaleResult>, BenchError> {
    let Some(local) = &target.local else {
        eprintln!("scale test: skipped (needs the in-process server)");
        return Ok(None);
    };
    let store = local.server.shared.store.clone();
    let bytes_before = store.database_bytes();
    eprintln!("scale: seeding {count} families through the store…");
    let started = Instant::now();
    let client_id = seed_client(local, "Bench scale", count).await?;
    let seed_secs = started.elapsed().as_secs_f64();
    let mut timings = Vec::new();
    for _ in 0..20 {
        let (client_id, store) = (client_id.clone(), store.clone());
        let begun = Instant::now();
        let filter = crate::model::FamilyFilter {
            client_id: Some(client_id),
            username: None,
            active_only: true,
        };
        store
            .call(move |store| store.list_families(&filter, 100, 0))
            .await
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        timings.push(begun.elapsed().as_secs_f64() * 1000.0);
    }
    timings.sort_by(|a, b| a.total_cmp(b));
    let bytes_after = store.database_bytes();
    Ok(Some(report::ScaleResult {
        families: count,
        seed_secs,
        first_page_ms_median: timings[timings.len() / 2],
        first_page_ms_max: timings[timings.len() - 1],
        bytes_per_family: (bytes_after - bytes_before) as f64 / count as f64,
    }))
}

/// A new client with `count` live families of the bench user, through the store.
async fn seed_client(
    local: &Local,
    name: &'static str,
    count: usize,
) -> Result<String, BenchError> {
    let now = local.server.shared.clock.now();
    local
        .server
        .shared
        .store
        .call(move |store| {
            let spec = ClientSpec::parse(
                name,
                &["http://127.0.0.1:9/cb".into()],
                &["profile".into()],
                &GrantType::ALL,
                false,
            )?;
            let (client, _) = store.create_client(Actor::Local, spec, now)?;
            store.seed_families(&client.id, "bench", "profile", count, now)?;
            Ok(client.id)
        })
        .await
        .map_err(|e| BenchError::Setup(e.to_string()))
}
