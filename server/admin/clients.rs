//! Client RPCs: create, read, update (by field mask), disable, delete (secrets
//! are in `secrets.rs`).

use super::convert::{client_id_from_proto, grant_types_from_proto, invalid_argument};
use super::{caller, cursor_text, page_size, parse_cursor, AdminService, Reply};
use crate::model::{ClientSpec, Invalid, RetryWindow};
use crate::proto;
use tonic::{Request, Response};

pub(super) async fn create_client(
    service: &AdminService,
    request: Request<proto::CreateClientRequest>,
) -> Reply<proto::CreateClientResponse> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    let mut grant_types = grant_types_from_proto(&request.grant_types)?;
    if grant_types.is_empty() {
        grant_types = crate::model::GrantType::ALL.to_vec();
    }
    let spec = ClientSpec {
        refresh_retry_window: RetryWindow::parse(request.refresh_retry_window_secs.into())
            .map_err(invalid_argument)?,
        resource_server: request.resource_server,
        ..ClientSpec::parse(
            &request.name,
            &request.redirect_uris,
            &request.scopes,
            &grant_types,
            request.public,
        )
        .map_err(invalid_argument)?
    };
    let now = service.now();
    let (client, secret) = service
        .call(move |store| store.create_client(actor, spec, now))
        .await?;
    Ok(Response::new(proto::CreateClientResponse {
        client: Some(client.into()),
        client_secret: secret
            .map(|secret| secret.into_string())
            .unwrap_or_default(),
    }))
}

pub(super) async fn get_client(
    service: &AdminService,
    request: Request<proto::GetClientRequest>,
) -> Reply<proto::Client> {
    let id = client_id_from_proto(&request.into_inner().id)?;
    let client = service.call(move |store| store.get_client(&id)).await?;
    Ok(Response::new(client.into()))
}

pub(super) async fn list_clients(
    service: &AdminService,
    request: Request<proto::ListClientsRequest>,
) -> Reply<proto::ListClientsResponse> {
    let request = request.into_inner();
    let after = parse_cursor(&request.page_token)?;
    let limit = page_size(request.page_size);
    let (clients, next) = service
        .call(move |store| store.list_clients(&request.filter, limit, after))
        .await?;
    Ok(Response::new(proto::ListClientsResponse {
        clients: clients.into_iter().map(Into::into).collect(),
        next_page_token: cursor_text(next),
    }))
}

pub(super) async fn update_client(
    service: &AdminService,
    request: Request<proto::UpdateClientRequest>,
) -> Reply<proto::Client> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    let paths = request
        .update_mask
        .map(|mask| mask.paths)
        .unwrap_or_default();
    if paths.is_empty() {
        return Err(invalid_argument(Invalid::new(
            "update_mask",
            "name at least one field to update",
        )));
    }
    let new = request.client.unwrap_or_default();
    let new_grants = grant_types_from_proto(&new.grant_types)?;
    let new_window =
        RetryWindow::parse(new.refresh_retry_window_secs.into()).map_err(invalid_argument)?;
    for path in &paths {
        if !matches!(
            path.as_str(),
            "name"
                | "redirect_uris"
                | "scopes"
                | "grant_types"
                | "public"
                | "refresh_retry_window_secs"
                | "resource_server"
        ) {
            return Err(invalid_argument(Invalid::new(
                "update_mask",
                format!("unknown field {path:?}"),
            )));
        }
    }
    let id = client_id_from_proto(&request.id)?;
    let now = service.now();
    let client = service
        .call(move |store| {
            store.update_client(actor, &id, now, move |current| {
                let has = |field: &str| paths.iter().any(|path| path == field);
                let current_uris: Vec<String> = current
                    .redirect_uris
                    .iter()
                    .map(|uri| uri.as_str().to_owned())
                    .collect();
                let current_scopes: Vec<String> = current
                    .scopes
                    .names()
                    .iter()
                    .map(|name| name.as_str().to_owned())
                    .collect();
                let spec = ClientSpec::parse(
                    if has("name") {
                        &new.name
                    } else {
                        &current.name
                    },
                    if has("redirect_uris") {
                        &new.redirect_uris
                    } else {
                        &current_uris
                    },
                    if has("scopes") {
                        &new.scopes
                    } else {
                        &current_scopes
                    },
                    if has("grant_types") {
                        &new_grants
                    } else {
                        &current.grant_types
                    },
                    if has("public") {
                        new.public
                    } else {
                        current.public
                    },
                )?;
                Ok(ClientSpec {
                    refresh_retry_window: if has("refresh_retry_window_secs") {
                        new_window
                    } else {
                        current.refresh_retry_window
                    },
                    resource_server: if has("resource_server") {
                        new.resource_server
                    } else {
                        current.resource_server
                    },
                    ..spec
                })
            })
        })
        .await?;
    Ok(Response::new(client.into()))
}

pub(super) async fn set_client_disabled(
    service: &AdminService,
    request: Request<proto::SetClientDisabledRequest>,
) -> Reply<proto::SetClientDisabledResponse> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    let id = client_id_from_proto(&request.id)?;
    let now = service.now();
    let (client, revoked) = service
        .call(move |store| store.set_client_disabled(actor, &id, request.disabled, now))
        .await?;
    Ok(Response::new(proto::SetClientDisabledResponse {
        client: Some(client.into()),
        revoked_families: revoked,
    }))
}

pub(super) async fn delete_client(
    service: &AdminService,
    request: Request<proto::DeleteClientRequest>,
) -> Reply<proto::DeleteClientResponse> {
    let actor = caller(&request)?.actor();
    let id = client_id_from_proto(&request.into_inner().id)?;
    let now = service.now();
    service
        .call(move |store| store.delete_client(actor, &id, now))
        .await?;
    Ok(Response::new(proto::DeleteClientResponse {}))
}
