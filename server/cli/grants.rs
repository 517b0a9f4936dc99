//! `gatehouse grants …`: list, show and revoke token families.

use super::output::{format_time, Table};
use super::{pick, AdminClient, CliError, Printed};
use crate::proto;
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    /// List families, newest first.
    List {
        /// Only this client's families (client id; ids may begin with `-`).
        #[arg(long, allow_hyphen_values = true)]
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
        /// Revoke every live family of this client id (ids may begin with `-`).
        #[arg(long, conflicts_with = "user", allow_hyphen_values = true)]
        client: Option<String>,
        /// Revoke every live family of this username.
        #[arg(long)]
        user: Option<String>,
        /// Why, for the event log.
        #[arg(long, default_value = "")]
        note: String,
    },
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

pub(super) async fn grants(
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
                        .revoke_family(proto::RevokeFamilyRequest {
                            id,
                            note,
                            dry_run: false,
                        })
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
