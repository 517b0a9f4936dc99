//! `gatehouse bench` (a module of the `gatehouse` binary, not of the library):
//! measures the hot paths against a baseline route served by
//! the same HTTP stack, at the same concurrency, with the server's CPU per
//! request read from /proc for its process alone.
//!
//! It starts the server as a child process (`gatehouse serve` from this
//! executable, or `--server-exe`) on a temp data dir, or targets `--url`;
//! provisions a client and a user, seeds families through the real
//! /authorize + login + consent + /token flow, then runs each workload for
//! `--duration` seconds with a baseline run (`GET /livez`) just before it.
//!
//! - `args.rs`: flags, workloads, errors.
//! - `target.rs`: the child server (or `--url`), its provisioning and stop.
//! - `load.rs`: the load generator (one keep-alive connection per worker).
//! - `floor.rs`: the floor workload's minimal hyper server.
//! - `machine.rs`: CPU, load and machine figures from /proc; writer figures
//!   from the server's /metrics.
//! - `browser.rs`: the cookie-keeping browser (the integration tests include it).
//! - `partner.rs`: the partner application: seeding and the flow workload.
//! - `bulk.rs`: revoke-client and the scale test, through the store.
//! - `report.rs`: the figures, as a table or one JSON document.

mod args;
mod browser;
mod bulk;
mod floor;
mod load;
mod machine;
mod partner;
mod report;
mod target;

pub use args::{BenchArgs, BenchError, Workload};

use gatehouse::model::RetryWindow;
use partner::Tokens;
use report::{Report, WorkloadResult};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use target::Target;

type Families = Arc<Mutex<Vec<Tokens>>>;

/// Runs the benchmark and prints its report.
pub async fn run(args: BenchArgs, json: bool) -> Result<(), BenchError> {
    if let Some(addr) = args.serve_floor {
        return floor::serve(addr)
            .await
            .map_err(|e| BenchError::Setup(e.to_string()));
    }
    let setup = |error: String| BenchError::Setup(error);
    let exe = target::server_exe(&args)?;
    let target = match &args.url {
        Some(url) => Target::remote(url, &args)?,
        // Metrics on: the writer's figures come from /metrics.
        None => Target::child(&exe, true).await?,
    };
    // The same server with metrics off, and its own families, when asked for.
    let unmetered = match args.metrics_cost {
        true => {
            let unmetered = Target::child(&exe, false).await?;
            let families = unmetered
                .partner
                .seed_families(args.families.max(args.concurrency))
                .await
                .map_err(setup)?;
            Some((unmetered, Arc::new(Mutex::new(families))))
        }
        false => None,
    };
    let mut report = Report::new(args.concurrency, machine::MachineInfo::read());
    report.rss_idle_kib = target.pid.and_then(report::resident_kib);
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
            report.revoke =
                tokio::task::block_in_place(|| bulk::revoke_client(&target, args.revoke_families))?;
            continue;
        }
        let window = match workload {
            Workload::RefreshWindow => RetryWindow::parse(RetryWindow::MAX_SECS).ok(),
            _ => None,
        };
        if let Some(window) = window {
            if !tokio::task::block_in_place(|| target.set_retry_window(window))? {
                eprintln!("refresh-window: skipped (needs the child server)");
                continue;
            }
        }
        let baseline = measure(Workload::Baseline, &target, &args, &families).await;
        let result = match workload {
            Workload::Floor => {
                let floor = Target::floor(&target).await?;
                let result = measure(workload, &floor, &args, &families).await;
                floor.stop().await;
                result
            }
            _ => {
                let sampler = (workload == Workload::AuthorizeFlood)
                    .then(|| target.pid.map(report::MemorySampler::start))
                    .flatten();
                let result = measure(workload, &target, &args, &families).await;
                if let Some(sampler) = sampler {
                    report.flood_memory = Some(sampler.finish().await);
                }
                result
            }
        };
        if let Some((unmetered, unmetered_families)) = &unmetered {
            if let Some(window) = window {
                tokio::task::block_in_place(|| unmetered.set_retry_window(window))?;
            }
            let off = measure(workload, unmetered, &args, unmetered_families).await;
            report
                .metrics_cost
                .push(report::MetricsCost::new(&off, &result));
            let unexpected = off.unexpected();
            if !unexpected.is_empty() {
                return Err(BenchError::Unexpected {
                    workload: workload.name(),
                    errors: unexpected,
                });
            }
            if window.is_some() {
                tokio::task::block_in_place(|| unmetered.set_retry_window(RetryWindow::STRICT))?;
            }
        }
        if window.is_some() {
            tokio::task::block_in_place(|| target.set_retry_window(RetryWindow::STRICT))?;
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
        report.scale =
            tokio::task::block_in_place(|| bulk::scale_test(&target, args.scale_families))?;
    }
    if args.metrics_cost {
        if let Some(store) = target.store() {
            let metrics = gatehouse::metrics::Metrics::new(store, Arc::default(), Arc::default());
            report.metrics_record_ns = Some(record_cost_ns(&metrics));
        }
    }
    report.rss_peak_kib = target.pid.and_then(report::peak_resident_kib);
    report.print(json);
    target.stop().await;
    if let Some((unmetered, _)) = unmetered {
        unmetered.stop().await;
    }
    Ok(())
}

/// What recording one /token request costs the request layer and the token
/// endpoint, in nanoseconds: a steadier figure than two req/s on a busy machine.
fn record_cost_ns(metrics: &gatehouse::metrics::Metrics) -> f64 {
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

/// Runs one workload at the configured concurrency, with the server's CPU and
/// (for rotations) the writer's figures over the run.
async fn measure(
    workload: Workload,
    target: &Target,
    args: &BenchArgs,
    families: &Families,
) -> WorkloadResult {
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let done = Arc::new(AtomicUsize::new(0));
    let progress = tokio::spawn(report::progress(workload.name(), done.clone(), deadline));
    let metrics = target.metrics.clone().filter(|_| workload.rotates());
    let meter = machine::Meter::start(target.pid, metrics).await;
    let plan = load::Plan {
        workload,
        addr: target.addr,
        partner: target.partner.clone(),
        families: families.clone(),
        concurrency: args.concurrency.max(1),
        deadline,
        budget: Arc::new(AtomicUsize::new(args.requests)),
        done,
    };
    let started = Instant::now();
    let samples = tokio::task::spawn_blocking(move || load::run(plan))
        .await
        .unwrap_or_default();
    let elapsed = started.elapsed();
    let cost = meter.finish(samples.len()).await;
    progress.abort();
    eprint!("\r\x1b[2K");
    WorkloadResult::new(workload.name(), samples, elapsed, cost)
}
