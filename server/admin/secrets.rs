//! Client secret RPCs: rotate (with an optional overlap), list, revoke one.
//!
//! Roles are in `roles.rs`: ListClientSecrets needs a viewer;
//! RotateClientSecret and RevokeClientSecret an operator.

use super::convert::{client_id_from_proto, invalid_argument};
use super::{caller, required, AdminService, Reply};
use crate::model::{ClientSecret, Overlap, SecretId};
use crate::proto;
use tonic::{Request, Response};

pub(super) async fn rotate_client_secret(
    service: &AdminService,
    request: Request<proto::RotateClientSecretRequest>,
) -> Reply<proto::RotateClientSecretResponse> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    let overlap = Overlap::parse(request.overlap_secs).map_err(invalid_argument)?;
    let id = client_id_from_proto(&request.id)?;
    let now = service.now();
    let rotation = service
        .call(move |store| store.rotate_client_secret(actor, &id, overlap, now))
        .await?;
    Ok(Response::new(proto::RotateClientSecretResponse {
        client_id: request.id,
        secret_id: rotation.secret_id.to_string(),
        old_secret_expires_at: rotation.old_secret_expires_at.unwrap_or_default(),
        client_secret: rotation.secret.into_string(),
    }))
}

pub(super) async fn list_client_secrets(
    service: &AdminService,
    request: Request<proto::ListClientSecretsRequest>,
) -> Reply<proto::ListClientSecretsResponse> {
    let client_id = client_id_from_proto(required("client_id", &request.into_inner().client_id)?)?;
    let now = service.now();
    let secrets = service
        .call(move |store| store.client_secrets(&client_id, now))
        .await?;
    Ok(Response::new(proto::ListClientSecretsResponse {
        secrets: secrets.into_iter().map(to_proto).collect(),
        server_time: now,
    }))
}

pub(super) async fn revoke_client_secret(
    service: &AdminService,
    request: Request<proto::RevokeClientSecretRequest>,
) -> Reply<proto::RevokeClientSecretResponse> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    required("client_id", &request.client_id)?;
    let secret_id = SecretId::parse(&request.secret_id).map_err(invalid_argument)?;
    let client_id = client_id_from_proto(&request.client_id)?;
    let now = service.now();
    service
        .call(move |store| store.revoke_client_secret(actor, &client_id, &secret_id, now))
        .await?;
    Ok(Response::new(proto::RevokeClientSecretResponse {}))
}

fn to_proto(secret: ClientSecret) -> proto::ClientSecret {
    let (last_used_at, last_used_from) = match secret.last_used {
        Some(last) => (
            last.at,
            last.from.map(|from| from.to_string()).unwrap_or_default(),
        ),
        None => (0, String::new()),
    };
    proto::ClientSecret {
        id: secret.id.to_string(),
        created_at: secret.created_at,
        expires_at: secret.expires_at.unwrap_or_default(),
        last_used_at,
        last_used_from,
    }
}
