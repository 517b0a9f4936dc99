//! The `gatehouse` command line: `serve`, and the admin commands, each one gRPC
//! call (or a few) against the running server. Human tables by default, one JSON
//! document with `--json`, a one-line error and a non-zero exit on failure.

mod accounts;
pub mod bench;
mod clients;
mod connect;
mod events;
mod grants;
mod identities;
pub mod output;
mod secrets;

pub use accounts::{ScopeCommand, UserCommand};
pub use clients::ClientCommand;
pub use connect::{admin_token, connect, connect_with_token, AdminClient};
pub use events::EventsArgs;
pub use grants::GrantsCommand;
pub use identities::{role_name, AdminCommand, TokenCommand};

use crate::config::{GlobalArgs, ServeArgs};
use crate::model::GrantType;
use crate::proto;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "A single-host OAuth 2.0 authorization server"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Print one JSON document instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: public HTTP plane and admin gRPC plane.
    Serve(ServeArgs),
    /// Partner clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// The scope catalog.
    #[command(subcommand)]
    Scope(ScopeCommand),
    /// Local users.
    #[command(subcommand)]
    User(UserCommand),
    /// Token families (grants).
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// Recent events, newest last; `--follow` keeps streaming; filter by actor, kind,
    /// client and age.
    Events(EventsArgs),
    /// Admin identities: named tokens with a role.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The calling admin identity: name, role, expiry.
    Whoami,
    /// Server version, uptime, counts, database size.
    Status,
    /// Maintenance mode: /authorize and /token answer temporarily_unavailable.
    Maintenance { state: OnOff },
    /// Measure refresh, introspection, bearer checks and the full flow against a baseline route.
    Bench(bench::BenchArgs),
    /// Copy the database, consistently, while the server serves (no admin token needed:
    /// it reads the database file in --data-dir).
    Backup(crate::ops::BackupArgs),
    /// Replace the database with a backup; refused while a server holds the data dir.
    Restore(crate::ops::RestoreArgs),
    /// Print a shell completion script: `gatehouse completions bash > /etc/bash_completion.d/gatehouse`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `gatehouse man > /usr/local/share/man/man1/gatehouse.1`.
    Man,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

/// A grant type by its OAuth name (RFC 6749), as `client list` and `--json`
/// print it; the dashed spelling is accepted too.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GrantTypeArg {
    #[value(name = "authorization_code", alias = "authorization-code")]
    AuthorizationCode,
    #[value(name = "refresh_token", alias = "refresh-token")]
    RefreshToken,
}

impl GrantTypeArg {
    fn to_proto(self) -> i32 {
        let grant = match self {
            GrantTypeArg::AuthorizationCode => GrantType::AuthorizationCode,
            GrantTypeArg::RefreshToken => GrantType::RefreshToken,
        };
        proto::GrantType::of(grant) as i32
    }
}

/// A failed command: one line for stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{}", describe(.0))]
    Rpc(tonic::Status),
}

impl From<tonic::Status> for CliError {
    fn from(status: tonic::Status) -> Self {
        CliError::Rpc(status)
    }
}

fn describe(status: &tonic::Status) -> String {
    match status.code() {
        tonic::Code::Unavailable => format!("cannot reach the admin plane: {}", status.message()),
        tonic::Code::Unauthenticated => format!(
            "the admin token was refused: {} (check --admin-token-file / GATEHOUSE_ADMIN_TOKEN)",
            status.message().split(':').next().unwrap_or_default()
        ),
        tonic::Code::PermissionDenied => format!("permission denied: {}", status.message()),
        tonic::Code::NotFound => format!("not found: {}", status.message()),
        tonic::Code::InvalidArgument => format!("invalid: {}", status.message()),
        _ => status.message().to_owned(),
    }
}

/// Runs an admin command (anything but `serve`) and prints its result.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Completions { shell } => return print_completions(*shell),
        Command::Man => return print_man_page(),
        _ => {}
    }
    let mut admin = connect(&cli.global).map_err(CliError::Usage)?;
    let json = cli.json;
    let value = match cli.command {
        Command::Serve(_)
        | Command::Bench(_)
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::Completions { .. }
        | Command::Man => return Err(CliError::Usage("not an admin command".into())),
        Command::Client(command) => clients::client(&mut admin, command, json).await?,
        Command::Scope(command) => accounts::scope(&mut admin, command, json).await?,
        Command::User(command) => accounts::user(&mut admin, command, json).await?,
        Command::Grants(command) => grants::grants(&mut admin, command, json).await?,
        Command::Events(args) => return events::events(&mut admin, args, json).await,
        Command::Admin(command) => identities::admin(&mut admin, command, json).await?,
        Command::Whoami => identities::whoami(&mut admin, json).await?,
        Command::Status => events::status_output(
            admin
                .get_status(proto::GetStatusRequest {})
                .await?
                .into_inner(),
            json,
        ),
        Command::Maintenance { state } => {
            let on = matches!(state, OnOff::On);
            events::status_output(
                admin
                    .set_maintenance(proto::SetMaintenanceRequest { on })
                    .await?
                    .into_inner(),
                json,
            )
        }
    };
    print!("{value}");
    Ok(())
}

fn print_completions(shell: clap_complete::Shell) -> Result<(), CliError> {
    use clap::CommandFactory;
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "gatehouse", &mut std::io::stdout());
    Ok(())
}

fn print_man_page() -> Result<(), CliError> {
    use clap::CommandFactory;
    clap_mangen::Man::new(Cli::command())
        .render(&mut std::io::stdout())
        .map_err(|error| CliError::Usage(format!("cannot write the man page: {error}")))
}

/// What a command prints: JSON, or human text.
pub(crate) enum Printed {
    Json(Value),
    Text(String),
}

impl std::fmt::Display for Printed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Printed::Json(value) => writeln!(
                f,
                "{}",
                serde_json::to_string_pretty(value).unwrap_or_default()
            ),
            Printed::Text(text) => f.write_str(text),
        }
    }
}

pub(crate) fn pick(json: bool, value: Value, text: impl FnOnce() -> String) -> Printed {
    if json {
        Printed::Json(value)
    } else {
        Printed::Text(text())
    }
}

#[cfg(test)]
mod tests {
    use super::{Cli, ClientCommand, Command};
    use clap::Parser;

    /// Client ids are base64url: one in 64 begins with `-`, and must still
    /// parse as the id, not as a flag (with `--json` and `--help` intact).
    #[test]
    fn client_ids_may_begin_with_a_hyphen() {
        let parsed = |args: &[&str]| {
            Cli::try_parse_from([&["gatehouse"], args].concat()).map_err(|e| e.to_string())
        };
        let cli = parsed(&[
            "client",
            "rotate-secret",
            "-gOL8",
            "--overlap",
            "7d",
            "--json",
        ])
        .unwrap();
        assert!(cli.json);
        assert!(matches!(
            cli.command,
            Command::Client(ClientCommand::RotateSecret { id, overlap: Some(_) }) if id == "-gOL8"
        ));
        for args in [
            &["client", "show", "-gOL8"][..],
            &["client", "secrets", "-gOL8"],
            &["client", "revoke-secret", "-gOL8", "0123456789ab"],
            &["grants", "list", "--client", "-gOL8"],
            &["grants", "revoke", "--client", "-gOL8"],
            &["events", "--client", "-gOL8"],
            &[
                "events",
                "--kind",
                "client_created",
                "--client",
                "-gOL8",
                "--follow",
            ],
        ] {
            assert!(parsed(args).is_ok(), "{args:?}: {:?}", parsed(args).err());
        }
        if cfg!(feature = "bench") {
            let args = [
                "bench",
                "--url",
                "http://127.0.0.1:1",
                "--client-id",
                "-gOL8",
            ];
            assert!(parsed(&args).is_ok(), "{args:?}: {:?}", parsed(&args).err());
        }
        let help = parsed(&["client", "show", "--help"]).unwrap_err();
        assert!(help.contains("Usage"), "{help}");
    }
}
