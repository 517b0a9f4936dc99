//! `gatehouse scope …` and `gatehouse user …`: the scope catalog and local users.

use super::output::{enabled, format_time, Table};
use super::{pick, AdminClient, CliError, Printed};
use crate::proto;
use clap::Subcommand;
use serde_json::{json, Value};
use std::io::BufRead;

#[derive(Debug, Subcommand)]
pub enum ScopeCommand {
    List,
    /// Add a scope (or change its description).
    Add {
        name: String,
        #[arg(long)]
        description: String,
    },
    Remove {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read as one line from stdin.
    Create {
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    List,
    /// Disable a user: revokes their live families, refuses their logins.
    Disable {
        username: String,
    },
    Enable {
        username: String,
    },
    /// Set a user's password, read as one line from stdin.
    SetPassword {
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

pub(super) async fn scope(
    admin: &mut AdminClient,
    command: ScopeCommand,
    json: bool,
) -> Result<Printed, CliError> {
    Ok(match command {
        ScopeCommand::List => {
            let scopes = admin
                .list_scopes(proto::ListScopesRequest {})
                .await?
                .into_inner()
                .scopes;
            let value = scopes
                .iter()
                .map(|s| json!({"name": s.name, "description": s.description}))
                .collect();
            pick(json, Value::Array(value), || {
                let mut table = Table::new(&["NAME", "DESCRIPTION"]);
                for scope in &scopes {
                    table.row(vec![scope.name.clone(), scope.description.clone()]);
                }
                table.render()
            })
        }
        ScopeCommand::Add { name, description } => {
            let scope = admin
                .upsert_scope(proto::UpsertScopeRequest {
                    scope: Some(proto::Scope { name, description }),
                })
                .await?
                .into_inner();
            pick(
                json,
                json!({"name": scope.name, "description": scope.description}),
                || format!("scope {} added\n", scope.name),
            )
        }
        ScopeCommand::Remove { name } => {
            admin
                .remove_scope(proto::RemoveScopeRequest { name: name.clone() })
                .await?;
            pick(json, json!({"removed": name}), || {
                format!("scope {name} removed\n")
            })
        }
    })
}

fn read_password() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| CliError::Usage(format!("reading the password from stdin: {error}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

fn user_json(user: &proto::User) -> Value {
    json!({"username": user.username, "disabled": user.disabled, "created_at": user.created_at, "updated_at": user.updated_at})
}

pub(super) async fn user(
    admin: &mut AdminClient,
    command: UserCommand,
    json: bool,
) -> Result<Printed, CliError> {
    let (user, verb) = match command {
        UserCommand::List => {
            let users = admin
                .list_users(proto::ListUsersRequest {})
                .await?
                .into_inner()
                .users;
            return Ok(pick(
                json,
                Value::Array(users.iter().map(user_json).collect()),
                || {
                    let mut table = Table::new(&["USERNAME", "STATUS", "CREATED"]);
                    for user in &users {
                        table.row(vec![
                            user.username.clone(),
                            enabled(user.disabled).into(),
                            format_time(user.created_at),
                        ]);
                    }
                    table.render()
                },
            ));
        }
        UserCommand::Create { username, .. } => {
            let password = read_password()?;
            (
                admin
                    .create_user(proto::CreateUserRequest { username, password })
                    .await?,
                "created",
            )
        }
        UserCommand::SetPassword { username, .. } => {
            let password = read_password()?;
            (
                admin
                    .set_user_password(proto::SetUserPasswordRequest { username, password })
                    .await?,
                "updated",
            )
        }
        UserCommand::Disable { username } => (
            admin
                .set_user_disabled(proto::SetUserDisabledRequest {
                    username,
                    disabled: true,
                })
                .await?,
            "disabled",
        ),
        UserCommand::Enable { username } => (
            admin
                .set_user_disabled(proto::SetUserDisabledRequest {
                    username,
                    disabled: false,
                })
                .await?,
            "enabled",
        ),
    };
    let user = user.into_inner();
    Ok(pick(json, user_json(&user), || {
        format!("user {} {verb}\n", user.username)
    }))
}
