//! `gatehouse admin token …` and `gatehouse whoami`: admin identities.

use super::output::{format_time, parse_duration, rfc3339, Table};
use super::{pick, AdminClient, CliError, Printed};
use crate::proto;
use clap::{Subcommand, ValueEnum};
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Named admin tokens, each with a role.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a named token; it is printed once (`gak_…`), only its hash is kept.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Lifetime (`90s`, `15m`, `2h`, `30d`); without it the token never expires.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires_in: Option<i64>,
    },
    /// Every identity: name, role, created, expires, last used (to the minute).
    List,
    /// Refuse a named token from its next call on (`bootstrap` cannot be revoked).
    Revoke { name: String },
}

/// Roles nest: each may do everything the ones before it may.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Every read, and the event stream.
    Viewer,
    /// Revoke grants; disable and enable clients and users; maintenance mode.
    Responder,
    /// Create, update and delete clients, scopes and users; rotate secrets.
    Operator,
    /// Admin tokens.
    Owner,
}

impl RoleArg {
    fn to_proto(self) -> i32 {
        let role = match self {
            RoleArg::Viewer => proto::AdminRole::Viewer,
            RoleArg::Responder => proto::AdminRole::Responder,
            RoleArg::Operator => proto::AdminRole::Operator,
            RoleArg::Owner => proto::AdminRole::Owner,
        };
        role as i32
    }
}

/// The role's name as the CLI spells it.
pub fn role_name(role: i32) -> &'static str {
    match proto::AdminRole::try_from(role) {
        Ok(proto::AdminRole::Viewer) => "viewer",
        Ok(proto::AdminRole::Responder) => "responder",
        Ok(proto::AdminRole::Operator) => "operator",
        Ok(proto::AdminRole::Owner) => "owner",
        _ => "unknown",
    }
}

fn optional_time(unix: i64) -> Value {
    if unix == 0 {
        Value::Null
    } else {
        Value::String(rfc3339(unix))
    }
}

/// `live`, `expired` or `revoked`, by this host's clock.
fn status(token: &proto::AdminToken) -> &'static str {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    if token.revoked_at != 0 {
        "revoked"
    } else if token.expires_at != 0 && token.expires_at <= now {
        "expired"
    } else {
        "live"
    }
}

fn token_json(token: &proto::AdminToken) -> Value {
    json!({
        "status": status(token),
        "name": token.name, "role": role_name(token.role),
        "created": optional_time(token.created_at), "expires": optional_time(token.expires_at),
        "last_used": optional_time(token.last_used_at), "revoked": optional_time(token.revoked_at),
    })
}

pub(super) async fn admin(
    client: &mut AdminClient,
    command: AdminCommand,
    json: bool,
) -> Result<Printed, CliError> {
    let AdminCommand::Token(command) = command;
    Ok(match command {
        TokenCommand::Create {
            name,
            role,
            expires_in,
        } => {
            let created = client
                .create_admin_token(proto::CreateAdminTokenRequest {
                    name,
                    role: role.to_proto(),
                    expires_in_secs: expires_in.unwrap_or(0),
                })
                .await?
                .into_inner();
            let token = created.admin_token.unwrap_or_default();
            let mut value = token_json(&token);
            value["token"] = Value::String(created.token.clone());
            pick(json, value, || {
                format!(
                    "name:    {}\nrole:    {}\nexpires: {}\ntoken:   {}   (shown once: store it now)\n",
                    token.name,
                    role_name(token.role),
                    if token.expires_at == 0 { "never".into() } else { format_time(token.expires_at) },
                    created.token
                )
            })
        }
        TokenCommand::List => {
            let tokens = client
                .list_admin_tokens(proto::ListAdminTokensRequest {})
                .await?
                .into_inner()
                .tokens;
            let value = Value::Array(tokens.iter().map(token_json).collect());
            pick(json, value, || {
                let mut table =
                    Table::new(&["NAME", "ROLE", "CREATED", "EXPIRES", "LAST USED", "STATUS"]);
                for token in &tokens {
                    table.row(vec![
                        token.name.clone(),
                        role_name(token.role).into(),
                        format_time(token.created_at),
                        if token.expires_at == 0 {
                            "never".into()
                        } else {
                            format_time(token.expires_at)
                        },
                        format_time(token.last_used_at),
                        if token.revoked_at == 0 {
                            "live".into()
                        } else {
                            format!("revoked {}", format_time(token.revoked_at))
                        },
                    ]);
                }
                table.render()
            })
        }
        TokenCommand::Revoke { name } => {
            let token = client
                .revoke_admin_token(proto::RevokeAdminTokenRequest { name })
                .await?
                .into_inner();
            pick(json, token_json(&token), || {
                format!("revoked admin token {}\n", token.name)
            })
        }
    })
}

pub(super) async fn whoami(client: &mut AdminClient, json: bool) -> Result<Printed, CliError> {
    let me = client.who_am_i(proto::WhoAmIRequest {}).await?.into_inner();
    let value = json!({
        "name": me.name, "role": role_name(me.role), "expires": optional_time(me.expires_at),
    });
    Ok(pick(json, value, || {
        format!(
            "name:    {}\nrole:    {}\nexpires: {}\n",
            me.name,
            role_name(me.role),
            if me.expires_at == 0 {
                "never".into()
            } else {
                format_time(me.expires_at)
            }
        )
    }))
}
