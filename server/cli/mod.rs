//! The `gatehouse` command line: `serve`, and the admin commands, each one gRPC
//! call (or a few) against the running server. Human tables by default, one JSON
//! document with `--json`, a one-line error and a non-zero exit on failure.

mod connect;
pub mod output;

pub use connect::{admin_token, connect, AdminClient};

use crate::config::{GlobalArgs, ServeArgs};
use crate::proto;
use clap::{Parser, Subcommand, ValueEnum};
use output::{format_time, Table};
use serde_json::{json, Value};
use std::io::BufRead;

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
    /// Recent events, newest last; `--follow` keeps streaming.
    Events {
        #[arg(long)]
        follow: bool,
        /// How many recent events to show first.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Server version, uptime, counts, database size.
    Status,
    /// Maintenance mode: /authorize and /token answer temporarily_unavailable.
    Maintenance { state: OnOff },
    /// Measure refresh, introspection, bearer checks and the full flow against a baseline route.
    Bench(crate::bench::BenchArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GrantTypeArg {
    AuthorizationCode,
    RefreshToken,
}

impl GrantTypeArg {
    fn to_proto(self) -> i32 {
        match self {
            GrantTypeArg::AuthorizationCode => proto::GrantType::AuthorizationCode as i32,
            GrantTypeArg::RefreshToken => proto::GrantType::RefreshToken as i32,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its id and, if confidential, its secret (once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long = "grant-type", value_enum)]
        grant_types: Vec<GrantTypeArg>,
        /// A public (native) client: no secret, PKCE only.
        #[arg(long)]
        public: bool,
    },
    /// List clients.
    List {
        /// Substring of the name or id.
        #[arg(long, default_value = "")]
        filter: String,
    },
    Show {
        id: String,
    },
    /// Change a client; each list flag replaces the whole list.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Allow the client no scope at all.
        #[arg(long, conflicts_with = "scopes")]
        no_scopes: bool,
        #[arg(long = "grant-type", value_enum)]
        grant_types: Vec<GrantTypeArg>,
    },
    /// Disable a client: revokes its live families, its tokens stop working.
    Disable {
        id: String,
    },
    Enable {
        id: String,
    },
    /// Replace a confidential client's secret; prints the new one (once).
    RotateSecret {
        id: String,
    },
    /// Delete a client with all its families and tokens.
    Delete {
        id: String,
    },
}

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

#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    /// List families, newest first.
    List {
        /// Only this client's families (client id).
        #[arg(long)]
        client: Option<String>,
        /// Only this user's families (username).
        #[arg(long)]
        user: Option<String>,
        /// Only families that are not revoked.
        #[arg(long)]
        active: bool,
        /// At most this many, newest first.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// One family with its token lineage.
    Show { family_id: String },
    /// Revoke one family, or every live family of a client or a user; prints how many.
    Revoke {
        /// The family to revoke.
        #[arg(required_unless_present_any = ["client", "user"], conflicts_with_all = ["client", "user"])]
        family_id: Option<String>,
        /// Revoke every live family of this client id.
        #[arg(long, conflicts_with = "user")]
        client: Option<String>,
        /// Revoke every live family of this username.
        #[arg(long)]
        user: Option<String>,
        /// Why, for the event log.
        #[arg(long, default_value = "")]
        note: String,
    },
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
        tonic::Code::Unauthenticated => {
            "the admin token was refused (check --admin-token-file / GATEHOUSE_ADMIN_TOKEN)".into()
        }
        tonic::Code::NotFound => format!("not found: {}", status.message()),
        tonic::Code::InvalidArgument => format!("invalid: {}", status.message()),
        _ => status.message().to_owned(),
    }
}

/// Runs an admin command (anything but `serve`) and prints its result.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let mut admin = connect(&cli.global).map_err(CliError::Usage)?;
    let json = cli.json;
    let value = match cli.command {
        Command::Serve(_) | Command::Bench(_) => {
            return Err(CliError::Usage("not an admin command".into()))
        }
        Command::Client(command) => client(&mut admin, command, json).await?,
        Command::Scope(command) => scope(&mut admin, command, json).await?,
        Command::User(command) => user(&mut admin, command, json).await?,
        Command::Grants(command) => grants(&mut admin, command, json).await?,
        Command::Events { follow, limit } => return events(&mut admin, follow, limit, json).await,
        Command::Status => status_output(
            admin
                .get_status(proto::GetStatusRequest {})
                .await?
                .into_inner(),
            json,
        ),
        Command::Maintenance { state } => {
            let on = matches!(state, OnOff::On);
            status_output(
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

/// What a command prints: JSON, or human text.
enum Printed {
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

fn pick(json: bool, value: Value, text: impl FnOnce() -> String) -> Printed {
    if json {
        Printed::Json(value)
    } else {
        Printed::Text(text())
    }
}

async fn client(
    admin: &mut AdminClient,
    command: ClientCommand,
    json: bool,
) -> Result<Printed, CliError> {
    Ok(match command {
        ClientCommand::Create {
            name,
            redirect_uris,
            scopes,
            grant_types,
            public,
        } => {
            let reply = admin
                .create_client(proto::CreateClientRequest {
                    name,
                    redirect_uris,
                    scopes,
                    grant_types: grant_types
                        .into_iter()
                        .map(GrantTypeArg::to_proto)
                        .collect(),
                    public,
                })
                .await?
                .into_inner();
            let client = reply.client.unwrap_or_default();
            let secret = (!reply.client_secret.is_empty()).then_some(reply.client_secret);
            let mut value = client_json(&client);
            value["client_id"] = json!(client.id);
            value["client_secret"] = json!(secret);
            pick(json, value, || {
                let mut text = format!("client_id:     {}\n", client.id);
                if let Some(secret) = &secret {
                    text.push_str(&format!(
                        "client_secret: {secret}\n(shown once: store it now)\n"
                    ));
                }
                text
            })
        }
        ClientCommand::List { filter } => {
            let mut clients = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = admin
                    .list_clients(proto::ListClientsRequest {
                        filter: filter.clone(),
                        page_size: 1000,
                        page_token,
                    })
                    .await?
                    .into_inner();
                clients.extend(page.clients);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            pick(
                json,
                Value::Array(clients.iter().map(client_json).collect()),
                || {
                    let mut table = Table::new(&[
                        "ID",
                        "NAME",
                        "TYPE",
                        "GRANT TYPES",
                        "SCOPES",
                        "STATUS",
                        "ACTIVE FAMILIES",
                    ]);
                    for client in &clients {
                        table.row(vec![
                            client.id.clone(),
                            client.name.clone(),
                            client_type(client).into(),
                            grant_names(client).join(","),
                            client.scopes.join(" "),
                            enabled(client.disabled).into(),
                            client.active_families.to_string(),
                        ]);
                    }
                    table.render()
                },
            )
        }
        ClientCommand::Show { id } => {
            let client = admin
                .get_client(proto::GetClientRequest { id })
                .await?
                .into_inner();
            pick(json, client_json(&client), || client_text(&client))
        }
        ClientCommand::Update {
            id,
            name,
            redirect_uris,
            scopes,
            no_scopes,
            grant_types,
        } => {
            let mut paths = Vec::new();
            if name.is_some() {
                paths.push("name".to_owned());
            }
            if !redirect_uris.is_empty() {
                paths.push("redirect_uris".into());
            }
            if !scopes.is_empty() || no_scopes {
                paths.push("scopes".into());
            }
            if !grant_types.is_empty() {
                paths.push("grant_types".into());
            }
            if paths.is_empty() {
                return Err(CliError::Usage(
                    "nothing to update: pass --name, --redirect-uri, --scope, --no-scopes or --grant-type".into(),
                ));
            }
            let client = admin
                .update_client(proto::UpdateClientRequest {
                    id,
                    client: Some(proto::Client {
                        name: name.unwrap_or_default(),
                        redirect_uris,
                        scopes,
                        grant_types: grant_types
                            .into_iter()
                            .map(GrantTypeArg::to_proto)
                            .collect(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask { paths }),
                })
                .await?
                .into_inner();
            pick(json, client_json(&client), || client_text(&client))
        }
        ClientCommand::Disable { id } => set_disabled(admin, id, true, json).await?,
        ClientCommand::Enable { id } => set_disabled(admin, id, false, json).await?,
        ClientCommand::RotateSecret { id } => {
            let reply = admin
                .rotate_client_secret(proto::RotateClientSecretRequest { id })
                .await?
                .into_inner();
            pick(
                json,
                json!({"client_id": reply.client_id, "client_secret": reply.client_secret}),
                || {
                    format!(
                    "client_id:     {}\nclient_secret: {}\n(shown once: store it now; the old secret no longer works)\n",
                    reply.client_id, reply.client_secret
                )
                },
            )
        }
        ClientCommand::Delete { id } => {
            admin
                .delete_client(proto::DeleteClientRequest { id: id.clone() })
                .await?;
            pick(json, json!({"deleted": id}), || {
                format!("deleted client {id}\n")
            })
        }
    })
}

async fn set_disabled(
    admin: &mut AdminClient,
    id: String,
    disabled: bool,
    json: bool,
) -> Result<Printed, CliError> {
    let reply = admin
        .set_client_disabled(proto::SetClientDisabledRequest { id, disabled })
        .await?
        .into_inner();
    let client = reply.client.unwrap_or_default();
    let mut value = client_json(&client);
    value["revoked_families"] = json!(reply.revoked_families);
    Ok(pick(json, value, || {
        if disabled {
            format!(
                "disabled client {} ({} families revoked)\n",
                client.id, reply.revoked_families
            )
        } else {
            format!("enabled client {}\n", client.id)
        }
    }))
}

fn client_type(client: &proto::Client) -> &'static str {
    if client.public {
        "public"
    } else {
        "confidential"
    }
}

fn enabled(disabled: bool) -> &'static str {
    if disabled {
        "disabled"
    } else {
        "enabled"
    }
}

fn grant_names(client: &proto::Client) -> Vec<&'static str> {
    client
        .grant_types
        .iter()
        .map(|grant| match proto::GrantType::try_from(*grant) {
            Ok(proto::GrantType::AuthorizationCode) => "authorization_code",
            Ok(proto::GrantType::RefreshToken) => "refresh_token",
            _ => "unknown",
        })
        .collect()
}

fn client_json(client: &proto::Client) -> Value {
    json!({
        "client_id": client.id,
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "scopes": client.scopes,
        "grant_types": grant_names(client),
        "public": client.public,
        "disabled": client.disabled,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
        "active_families": client.active_families,
    })
}

fn client_text(client: &proto::Client) -> String {
    format!(
        "client_id:       {}\nname:            {}\ntype:            {}\nstatus:          {}\nredirect_uris:   {}\nscopes:          {}\ngrant_types:     {}\nactive families: {}\ncreated:         {}\nupdated:         {}\n",
        client.id,
        client.name,
        client_type(client),
        enabled(client.disabled),
        client.redirect_uris.join("\n                 "),
        client.scopes.join(" "),
        grant_names(client).join(" "),
        client.active_families,
        format_time(client.created_at),
        format_time(client.updated_at),
    )
}

async fn scope(
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

async fn user(
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

fn family_json(family: &proto::Family) -> Value {
    json!({
        "family_id": family.id,
        "client_id": family.client_id,
        "client_name": family.client_name,
        "username": family.username,
        "scope": family.scope,
        "status": family.status,
        "revoked_reason": if family.revoked_reason.is_empty() { Value::Null } else { json!(family.revoked_reason) },
        "revoked_at": family.revoked_at,
        "revoked_by": family.revoked_by,
        "created_at": family.created_at,
        "last_used_at": family.last_used_at,
        "rotations": family.rotations,
    })
}

async fn grants(
    admin: &mut AdminClient,
    command: GrantsCommand,
    json: bool,
) -> Result<Printed, CliError> {
    Ok(match command {
        GrantsCommand::List {
            client,
            user,
            active,
            limit,
        } => {
            let families = admin
                .list_families(proto::ListFamiliesRequest {
                    client_id: client.unwrap_or_default(),
                    username: user.unwrap_or_default(),
                    active_only: active,
                    page_size: limit,
                    page_token: String::new(),
                })
                .await?
                .into_inner()
                .families;
            pick(
                json,
                Value::Array(families.iter().map(family_json).collect()),
                || {
                    let mut table = Table::new(&[
                        "FAMILY",
                        "CLIENT",
                        "USER",
                        "SCOPE",
                        "CREATED",
                        "LAST USED",
                        "ROT",
                        "STATUS",
                    ]);
                    for family in &families {
                        let status = if family.status == "revoked" {
                            format!("revoked ({})", family.revoked_reason)
                        } else {
                            family.status.clone()
                        };
                        table.row(vec![
                            family.id.clone(),
                            family.client_name.clone(),
                            family.username.clone(),
                            family.scope.clone(),
                            format_time(family.created_at),
                            format_time(family.last_used_at),
                            family.rotations.to_string(),
                            status,
                        ]);
                    }
                    table.render()
                },
            )
        }
        GrantsCommand::Show { family_id } => {
            let detail = admin
                .get_family(proto::GetFamilyRequest { id: family_id })
                .await?
                .into_inner();
            let family = detail.family.unwrap_or_default();
            let tokens: Vec<Value> = detail
                .tokens
                .iter()
                .map(|t| {
                    json!({"kind": t.kind, "generation": t.generation, "issued_at": t.issued_at,
                           "expires_at": t.expires_at, "used_at": t.used_at, "status": t.status})
                })
                .collect();
            let mut value = family_json(&family);
            value["tokens"] = Value::Array(tokens);
            pick(json, value, || {
                let mut text = format!(
                    "family:     {}\nclient:     {} ({})\nuser:       {}\nscope:      {}\nstatus:     {}\ncreated:    {}\nlast used:  {}\nrotations:  {}\n",
                    family.id, family.client_name, family.client_id, family.username, family.scope,
                    if family.status == "revoked" {
                        format!("revoked ({}) at {} by {}", family.revoked_reason, format_time(family.revoked_at), family.revoked_by)
                    } else {
                        family.status.clone()
                    },
                    format_time(family.created_at), format_time(family.last_used_at), family.rotations,
                );
                let mut table =
                    Table::new(&["TOKEN", "GEN", "ISSUED", "EXPIRES", "USED", "STATUS"]);
                for token in &detail.tokens {
                    table.row(vec![
                        token.kind.clone(),
                        token.generation.to_string(),
                        format_time(token.issued_at),
                        format_time(token.expires_at),
                        format_time(token.used_at),
                        token.status.clone(),
                    ]);
                }
                text.push('\n');
                text.push_str(&table.render());
                text
            })
        }
        GrantsCommand::Revoke {
            family_id,
            client,
            user,
            note,
        } => {
            let reply = match (family_id, client, user) {
                (Some(id), _, _) => {
                    admin
                        .revoke_family(proto::RevokeFamilyRequest { id, note })
                        .await?
                }
                (None, Some(client_id), _) => {
                    admin
                        .revoke_client_families(proto::RevokeClientFamiliesRequest {
                            client_id,
                            note,
                            dry_run: false,
                        })
                        .await?
                }
                (None, None, Some(username)) => {
                    admin
                        .revoke_user_families(proto::RevokeUserFamiliesRequest {
                            username,
                            note,
                            dry_run: false,
                        })
                        .await?
                }
                (None, None, None) => {
                    return Err(CliError::Usage(
                        "name a FAMILY_ID, --client or --user".into(),
                    ))
                }
            }
            .into_inner();
            pick(json, json!({"revoked": reply.revoked}), || {
                format!("revoked {} families\n", reply.revoked)
            })
        }
    })
}

fn event_json(event: &proto::Event) -> Value {
    json!({
        "id": event.id, "time": event.time, "kind": event.kind, "actor": event.actor,
        "client_id": event.client_id, "family_id": event.family_id, "username": event.username,
        "detail": event.detail, "security": event.security,
    })
}

fn event_line(event: &proto::Event) -> String {
    let mut parts = vec![
        format_time(event.time),
        format!("{:<18}", event.kind),
        format!("{:<6}", event.actor),
    ];
    for (label, value) in [
        ("client", &event.client_id),
        ("family", &event.family_id),
        ("user", &event.username),
    ] {
        if !value.is_empty() {
            parts.push(format!("{label}={value}"));
        }
    }
    if !event.detail.is_empty() {
        parts.push(event.detail.clone());
    }
    let marker = if event.security { "!" } else { " " };
    format!("{marker} {}", parts.join(" "))
}

async fn events(
    admin: &mut AdminClient,
    follow: bool,
    limit: u32,
    json: bool,
) -> Result<(), CliError> {
    let page = admin
        .list_events(proto::ListEventsRequest {
            page_size: limit,
            before_id: 0,
            security_only: false,
        })
        .await?
        .into_inner();
    let mut recent = page.events;
    recent.reverse();
    let last = recent.last().map(|event| event.id).unwrap_or(0);
    if !follow {
        let value = Value::Array(recent.iter().map(event_json).collect());
        print!(
            "{}",
            pick(json, value, || recent
                .iter()
                .map(|e| event_line(e) + "\n")
                .collect())
        );
        return Ok(());
    }
    for event in &recent {
        print_event(event, json);
    }
    let mut stream = admin
        .watch_events(proto::WatchEventsRequest { after_id: last })
        .await?
        .into_inner();
    while let Some(event) = stream.message().await? {
        print_event(&event, json);
    }
    Ok(())
}

fn print_event(event: &proto::Event, json: bool) {
    if json {
        println!("{}", event_json(event));
    } else {
        println!("{}", event_line(event));
    }
}

fn status_output(status: proto::Status, json: bool) -> Printed {
    let value = json!({
        "version": status.version, "uptime_secs": status.uptime_secs, "clients": status.clients,
        "users": status.users, "active_families": status.active_families,
        "database_bytes": status.database_bytes, "maintenance": status.maintenance,
        "security_events_last_hour": status.security_events_last_hour, "issuer": status.issuer,
    });
    pick(json, value, || {
        format!(
            "version:              {}\nissuer:               {}\nuptime:               {} s\nclients:              {}\nusers:                {}\nactive families:      {}\nsecurity events (1h): {}\ndatabase:             {} bytes\nmaintenance:          {}\n",
            status.version, status.issuer, status.uptime_secs, status.clients, status.users, status.active_families,
            status.security_events_last_hour, status.database_bytes, if status.maintenance { "on" } else { "off" }
        )
    })
}
