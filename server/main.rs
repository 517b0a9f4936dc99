//! The `gatehouse` binary: `serve`, or a command against a running server or its data dir.

#[cfg(feature = "bench")]
mod bench;

use clap::Parser;
use gatehouse::cli::{self, Cli, Command};
use gatehouse::config::Config;
use gatehouse::server::{self, Listeners, Shared};
use std::process::ExitCode;

/// mimalloc: per-thread free lists instead of glibc's arenas (README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let (global, json) = (&cli.global, cli.json);
    let outcome = match &cli.command {
        Command::Serve(args) if args.check => gatehouse::ops::check_command(global, args)
            .await
            .map_err(Into::into),
        Command::Serve(args) => serve(Config::from_args(global, args).map_err(Into::into)).await,
        #[cfg(feature = "bench")]
        Command::Bench(args) => bench::run(args.clone(), json).await.map_err(Into::into),
        Command::Backup(args) => gatehouse::ops::backup(global, args, json).map_err(Into::into),
        Command::Restore(args) => gatehouse::ops::restore(global, args, json).map_err(Into::into),
        _ => cli::run(cli).await.map_err(Into::into),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let error: anyhow::Error = error;
            eprintln!("gatehouse: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: anyhow::Result<Config>) -> anyhow::Result<()> {
    let mut config = config?;
    server::init_logging(config.log_format);
    let prepared = server::prepare(&config.data_dir)?;
    #[cfg(feature = "failpoints")]
    if let Ok(spec) = std::env::var("GATEHOUSE_FAILPOINTS") {
        prepared
            .store
            .arm_fail_points(&spec)
            .map_err(anyhow::Error::msg)?;
        tracing::warn!(%spec, "fail points armed: this server will fail on purpose");
    }
    let listeners = Listeners::bind(&config).await?;
    listeners.settle(&mut config)?;
    let metrics = config
        .metrics_addr
        .map_or("off".into(), |addr| addr.to_string());
    tracing::info!(http = %config.http_addr, grpc = %config.grpc_addr, %metrics,
        issuer = %config.issuer, data_dir = %config.data_dir.display(), "gatehouse serving");
    let shared = Shared::new(config, prepared.store, Default::default());
    let shutdown = gatehouse::shutdown::on_signal()?;
    // `prepared.lock` holds the data directory until the server has stopped.
    server::run(shared, prepared.admin_token, listeners, shutdown).await?;
    drop(prepared.lock);
    Ok(())
}
