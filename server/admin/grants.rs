//! Token families: list, inspect a lineage, revoke one, a client's or a user's.

use super::convert::{client_id_from_proto, family_id_from_proto};
use super::{caller, cursor_text, page_size, parse_cursor, required, AdminService, Reply};
use crate::model::FamilyFilter;
use crate::proto;
use tonic::{Request, Response};

pub(super) async fn list_families(
    service: &AdminService,
    request: Request<proto::ListFamiliesRequest>,
) -> Reply<proto::ListFamiliesResponse> {
    let request = request.into_inner();
    let before = parse_cursor(&request.page_token)?;
    let limit = page_size(request.page_size);
    let client_id = match request.client_id.as_str() {
        "" => None,
        text => Some(client_id_from_proto(text)?),
    };
    let filter = FamilyFilter {
        client_id,
        username: Some(request.username).filter(|name| !name.is_empty()),
        active_only: request.active_only,
    };
    let (families, next) = service
        .call(move |store| store.list_families(&filter, limit, before))
        .await?;
    Ok(Response::new(proto::ListFamiliesResponse {
        families: families.into_iter().map(Into::into).collect(),
        next_page_token: cursor_text(next),
    }))
}

pub(super) async fn get_family(
    service: &AdminService,
    request: Request<proto::GetFamilyRequest>,
) -> Reply<proto::FamilyDetail> {
    let id = family_id_from_proto(&request.into_inner().id)?;
    let now = service.now();
    let (family, tokens) = service
        .call(move |store| store.get_family(&id, now))
        .await?;
    Ok(Response::new(proto::FamilyDetail {
        family: Some(family.into()),
        tokens: tokens.into_iter().map(Into::into).collect(),
    }))
}

pub(super) async fn revoke_family(
    service: &AdminService,
    request: Request<proto::RevokeFamilyRequest>,
) -> Reply<proto::RevokeResponse> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    let id = family_id_from_proto(&request.id)?;
    let now = service.now();
    let count = service
        .call(move |store| store.revoke_family(actor, &id, &request.note, request.dry_run, now))
        .await?;
    Ok(Response::new(count.into()))
}

pub(super) async fn revoke_client_families(
    service: &AdminService,
    request: Request<proto::RevokeClientFamiliesRequest>,
) -> Reply<proto::RevokeResponse> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    let client_id = client_id_from_proto(required("client_id", &request.client_id)?)?;
    let now = service.now();
    let count = service
        .call(move |store| {
            store.revoke_client_families(actor, &client_id, &request.note, request.dry_run, now)
        })
        .await?;
    Ok(Response::new(count.into()))
}

pub(super) async fn revoke_user_families(
    service: &AdminService,
    request: Request<proto::RevokeUserFamiliesRequest>,
) -> Reply<proto::RevokeResponse> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    required("username", &request.username)?;
    let now = service.now();
    let (username, dry_run) = (request.username.clone(), request.dry_run);
    let count = service
        .call(move |store| {
            store.revoke_user_families(
                actor,
                &request.username,
                &request.note,
                request.dry_run,
                now,
            )
        })
        .await?;
    if !dry_run {
        service.shared.public.end_sessions_of(&username);
    }
    Ok(Response::new(count.into()))
}
