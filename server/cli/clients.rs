//! `gatehouse client …`: register, show, change, disable, delete; secrets in
//! `secrets.rs`.

use super::output::{enabled, format_time, Table};
use super::GrantTypeArg;
use super::{pick, AdminClient, CliError, Printed};
use crate::proto;
use clap::Subcommand;
use serde_json::{json, Value};

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
        /// Seconds (0-60) during which a retry of a refresh whose answer was
        /// lost gets the same token pair instead of revoking the grant; 0 is strict.
        #[arg(
            long = "refresh-retry-window",
            value_name = "SECS",
            default_value_t = 0
        )]
        refresh_retry_window: u32,
        /// A resource server: may introspect any client's tokens (others only their own).
        #[arg(long)]
        resource_server: bool,
    },
    /// List clients.
    List {
        /// Substring of the name or id.
        #[arg(long, default_value = "")]
        filter: String,
    },
    Show {
        /// A client id (ids may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Change a client; each list flag replaces the whole list.
    Update {
        /// A client id (ids may begin with `-`).
        #[arg(allow_hyphen_values = true)]
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
        /// Seconds (0-60) a lost refresh answer may be retried; 0 is strict.
        #[arg(long = "refresh-retry-window", value_name = "SECS")]
        refresh_retry_window: Option<u32>,
        /// Whether the client may introspect any client's tokens.
        #[arg(long, value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
        resource_server: Option<bool>,
    },
    /// Disable a client: revokes its live families, its tokens stop working.
    Disable {
        /// A client id (ids may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    Enable {
        /// A client id (ids may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Give a confidential client a new secret; prints it (once). The old one
    /// dies at once unless --overlap keeps it valid a while.
    RotateSecret {
        /// A client id (ids may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// How long the old secret stays valid: 7d, 12h, 30m, 90s (at most 30d).
        /// Without it the old secret dies at once (what a leak needs).
        #[arg(long, value_name = "DURATION")]
        overlap: Option<String>,
    },
    /// A confidential client's live secrets: id, created, expiry, last use.
    Secrets {
        /// A client id (ids may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// End one of a client's two live secrets now.
    RevokeSecret {
        /// A client id (ids may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        id: String,
        secret_id: String,
    },
    /// Delete a client with all its families and tokens.
    Delete {
        /// A client id (ids may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

pub(super) async fn client(
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
            refresh_retry_window,
            resource_server,
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
                    refresh_retry_window_secs: refresh_retry_window,
                    resource_server,
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
            let secrets = if client.public {
                Vec::new()
            } else {
                super::secrets::fetch(admin, &client.id).await?
            };
            let mut value = client_json(&client);
            if !client.public {
                value["secrets"] = super::secrets::secrets_json(&secrets);
            }
            pick(json, value, || {
                let mut text = client_text(&client);
                text.push_str(&super::secrets::secret_lines(&secrets));
                text
            })
        }
        ClientCommand::Update {
            id,
            name,
            redirect_uris,
            scopes,
            no_scopes,
            grant_types,
            refresh_retry_window,
            resource_server,
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
            if refresh_retry_window.is_some() {
                paths.push("refresh_retry_window_secs".into());
            }
            if resource_server.is_some() {
                paths.push("resource_server".into());
            }
            if paths.is_empty() {
                return Err(CliError::Usage(
                    "nothing to update: pass --name, --redirect-uri, --scope, --no-scopes, --grant-type, --refresh-retry-window or --resource-server".into(),
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
                        refresh_retry_window_secs: refresh_retry_window.unwrap_or_default(),
                        resource_server: resource_server.unwrap_or_default(),
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
        ClientCommand::RotateSecret { id, overlap } => {
            super::secrets::rotate(admin, id, overlap.as_deref(), json).await?
        }
        ClientCommand::Secrets { id } => super::secrets::list(admin, id, json).await?,
        ClientCommand::RevokeSecret { id, secret_id } => {
            super::secrets::revoke(admin, id, secret_id, json).await?
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

fn grant_names(client: &proto::Client) -> Vec<&'static str> {
    proto::GrantType::names(&client.grant_types)
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
        "refresh_retry_window_secs": client.refresh_retry_window_secs,
        "resource_server": client.resource_server,
    })
}

/// "strict" or "30 s": how a client treats a refresh retried after a lost answer.
pub fn retry_window_text(secs: u32) -> String {
    if secs == 0 {
        "strict (any reuse revokes)".into()
    } else {
        format!("{secs} s")
    }
}

fn client_text(client: &proto::Client) -> String {
    format!(
        "client_id:       {}\nname:            {}\ntype:            {}\nstatus:          {}\nredirect_uris:   {}\nscopes:          {}\ngrant_types:     {}\nretry window:    {}\nintrospects:     {}\nactive families: {}\ncreated:         {}\nupdated:         {}\n",
        client.id,
        client.name,
        client_type(client),
        enabled(client.disabled),
        client.redirect_uris.join("\n                 "),
        client.scopes.join(" "),
        grant_names(client).join(" "),
        retry_window_text(client.refresh_retry_window_secs),
        if client.resource_server {
            "any client's tokens (resource server)"
        } else {
            "its own tokens"
        },
        client.active_families,
        format_time(client.created_at),
        format_time(client.updated_at),
    )
}
