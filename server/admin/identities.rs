//! Admin identity RPCs: who am I, and the named admin tokens (create, list, revoke).

use super::convert::{invalid_argument, role_from_proto, role_to_proto};
use super::{caller, required, AdminService, Reply};
use crate::model::{AdminIdentity, AdminName, AdminToken, Invalid, BOOTSTRAP};
use crate::proto;
use tonic::{Request, Response, Status};

/// The longest a named token may live: ten years.
const MAX_EXPIRES_IN_SECS: i64 = 10 * 365 * 86_400;

pub(super) async fn who_am_i(
    _: &AdminService,
    request: Request<proto::WhoAmIRequest>,
) -> Reply<proto::AdminIdentity> {
    let AdminIdentity {
        name,
        role,
        expires_at,
    } = caller(&request)?.identity;
    Ok(Response::new(proto::AdminIdentity {
        name,
        role: role_to_proto(role),
        expires_at: expires_at.unwrap_or(0),
    }))
}

pub(super) async fn create_admin_token(
    service: &AdminService,
    request: Request<proto::CreateAdminTokenRequest>,
) -> Reply<proto::CreateAdminTokenResponse> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    let name = AdminName::parse(required("name", &request.name)?).map_err(invalid_argument)?;
    let role = role_from_proto(request.role)?;
    let now = service.now();
    let expires_at = match request.expires_in_secs {
        0 => None,
        secs if (1..=MAX_EXPIRES_IN_SECS).contains(&secs) => Some(now + secs),
        _ => {
            return Err(invalid_argument(Invalid::new(
                "expires_in_secs",
                "between 1 second and 10 years, or 0 for never",
            )))
        }
    };
    let (created, token) = service
        .call(move |store| store.create_admin_token(actor, name, role, expires_at, now))
        .await?;
    Ok(Response::new(proto::CreateAdminTokenResponse {
        admin_token: Some(token_to_proto(created)),
        token: token.into_string(),
    }))
}

pub(super) async fn list_admin_tokens(
    service: &AdminService,
    _: Request<proto::ListAdminTokensRequest>,
) -> Reply<proto::ListAdminTokensResponse> {
    let tokens = service.call(|store| store.list_admin_tokens()).await?;
    Ok(Response::new(proto::ListAdminTokensResponse {
        tokens: tokens.into_iter().map(token_to_proto).collect(),
    }))
}

pub(super) async fn revoke_admin_token(
    service: &AdminService,
    request: Request<proto::RevokeAdminTokenRequest>,
) -> Reply<proto::AdminToken> {
    let actor = caller(&request)?.actor();
    let name = request.into_inner().name;
    required("name", &name)?;
    if name == BOOTSTRAP {
        return Err(Status::failed_precondition(
            "`bootstrap` is the admin.token file in the data directory: to replace it, stop \
             the server, delete the file and start the server again (it writes a new one)",
        ));
    }
    let now = service.now();
    let revoked = service
        .call(move |store| store.revoke_admin_token(actor, &name, now))
        .await?;
    Ok(Response::new(token_to_proto(revoked)))
}

fn token_to_proto(token: AdminToken) -> proto::AdminToken {
    proto::AdminToken {
        name: token.name,
        role: role_to_proto(token.role),
        created_at: token.created_at,
        expires_at: token.expires_at.unwrap_or(0),
        last_used_at: token.last_used_at.unwrap_or(0),
        revoked_at: token.revoked_at.unwrap_or(0),
    }
}
