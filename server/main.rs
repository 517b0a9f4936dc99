//! The `gatehouse` binary: `serve`, or an admin command against a running server.

use clap::Parser;
use gatehouse::cli::{self, Cli, Command};
use gatehouse::config::Config;
use gatehouse::server::{self, Listeners, Shared};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Serve(args) => {
            serve(Config::from_args(&cli.global, args).map_err(Into::into)).await
        }
        Command::Bench(args) => gatehouse::bench::run(args.clone(), cli.json)
            .await
            .map_err(Into::into),
        _ => cli::run(cli).await.map_err(Into::into),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gatehouse: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: anyhow::Result<Config>) -> anyhow::Result<()> {
    let config = config?;
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
    tracing::info!(http = %config.http_addr, grpc = %config.grpc_addr, issuer = %config.issuer,
        data_dir = %config.data_dir.display(), "gatehouse serving");
    let shared = Shared::new(config, prepared.store, Default::default());
    let shutdown = gatehouse::shutdown::on_signal()?;
    server::run(shared, prepared.admin_token, listeners, shutdown).await?;
    Ok(())
}
