//! `gatehouse client rotate-secret | secrets | revoke-secret`: a confidential
//! client's (at most two) live secrets. A secret is printed only once, by the
//! rotation that made it.

use super::output::{format_time, rfc3339, Table};
use super::{pick, AdminClient, CliError, Printed};
use crate::model::Overlap;
use crate::proto;
use serde_json::{json, Value};

pub(super) async fn rotate(
    admin: &mut AdminClient,
    id: String,
    overlap: Option<&str>,
    json: bool,
) -> Result<Printed, CliError> {
    let overlap = match overlap {
        Some(text) => Overlap::parse_text(text)
            .map_err(|invalid| CliError::Usage(format!("--overlap: {}", invalid.message)))?,
        None => Overlap::default(),
    };
    let reply = admin
        .rotate_client_secret(proto::RotateClientSecretRequest {
            id,
            overlap_secs: overlap.secs(),
        })
        .await?
        .into_inner();
    let old_end = (reply.old_secret_expires_at != 0).then_some(reply.old_secret_expires_at);
    let mut value = json!({
        "client_id": reply.client_id,
        "client_secret": reply.client_secret,
        "secret_id": reply.secret_id,
    });
    if let Some(end) = old_end {
        value["old_secret_expires_at"] = json!(rfc3339(end));
    }
    Ok(pick(json, value, || {
        let old = match old_end {
            Some(end) => format!("the old secret works until {}", format_time(end)),
            None => "the old secret no longer works".into(),
        };
        format!(
            "client_id:     {}\nsecret_id:     {}\nclient_secret: {}\n(shown once: store it now; {old})\n",
            reply.client_id, reply.secret_id, reply.client_secret
        )
    }))
}

pub(super) async fn list(
    admin: &mut AdminClient,
    id: String,
    json: bool,
) -> Result<Printed, CliError> {
    let secrets = fetch(admin, &id).await?;
    Ok(pick(json, secrets_json(&secrets), || {
        let mut table = Table::new(&["SECRET ID", "CREATED", "EXPIRES", "LAST USED", "FROM"]);
        for secret in &secrets {
            table.row(vec![
                secret.id.clone(),
                format_time(secret.created_at),
                match secret.expires_at {
                    0 => "never".into(),
                    at => format_time(at),
                },
                last_used_text(secret.last_used_at),
                dash(&secret.last_used_from),
            ]);
        }
        table.render()
    }))
}

pub(super) async fn revoke(
    admin: &mut AdminClient,
    id: String,
    secret_id: String,
    json: bool,
) -> Result<Printed, CliError> {
    admin
        .revoke_client_secret(proto::RevokeClientSecretRequest {
            client_id: id.clone(),
            secret_id: secret_id.clone(),
        })
        .await?;
    Ok(pick(
        json,
        json!({"client_id": id, "revoked_secret_id": secret_id}),
        || format!("revoked secret {secret_id} of client {id}: it no longer works\n"),
    ))
}

/// The live secrets of client `id`, newest first.
pub(super) async fn fetch(
    admin: &mut AdminClient,
    id: &str,
) -> Result<Vec<proto::ClientSecret>, CliError> {
    Ok(admin
        .list_client_secrets(proto::ListClientSecretsRequest {
            client_id: id.to_owned(),
        })
        .await?
        .into_inner()
        .secrets)
}

/// `[{"id", "created", "expires", "last_used", "last_used_from"}]`, times in
/// RFC 3339 UTC or null.
pub(super) fn secrets_json(secrets: &[proto::ClientSecret]) -> Value {
    let time = |unix: i64| (unix != 0).then(|| rfc3339(unix));
    Value::Array(
        secrets
            .iter()
            .map(|secret| {
                json!({
                    "id": secret.id,
                    "created": rfc3339(secret.created_at),
                    "expires": time(secret.expires_at),
                    "last_used": time(secret.last_used_at),
                    "last_used_from": (!secret.last_used_from.is_empty()).then_some(&secret.last_used_from),
                })
            })
            .collect(),
    )
}

/// `client show` lines: one per live secret.
pub(super) fn secret_lines(secrets: &[proto::ClientSecret]) -> String {
    secrets
        .iter()
        .map(|secret| {
            let used = match secret.last_used_at {
                0 => "never used".to_owned(),
                at => format!(
                    "last used {} from {}",
                    format_time(at),
                    dash(&secret.last_used_from)
                ),
            };
            format!(
                "secret:          {} created {}, {}, {used}\n",
                secret.id,
                format_time(secret.created_at),
                expires_text(secret.expires_at)
            )
        })
        .collect()
}

fn expires_text(expires_at: i64) -> String {
    match expires_at {
        0 => "no expiry".into(),
        at => format!("expires {}", format_time(at)),
    }
}

fn last_used_text(at: i64) -> String {
    match at {
        0 => "never".into(),
        at => format_time(at),
    }
}

fn dash(text: &str) -> String {
    if text.is_empty() {
        "-".into()
    } else {
        text.to_owned()
    }
}
