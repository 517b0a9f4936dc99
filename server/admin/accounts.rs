//! The scope catalog and user accounts: list, add, remove, disable, set passwords.

use super::convert::invalid_argument;
use super::{caller, required, AdminService, Reply};
use crate::model::{Invalid, Password, Scope, ScopeName, Username};
use crate::proto;
use crate::secret::hash_password;
use tonic::{Request, Response};

pub(super) async fn list_scopes(
    service: &AdminService,
    _: Request<proto::ListScopesRequest>,
) -> Reply<proto::ListScopesResponse> {
    let scopes = service.call(|store| store.list_scopes()).await?;
    Ok(Response::new(proto::ListScopesResponse {
        scopes: scopes.into_iter().map(Into::into).collect(),
    }))
}

pub(super) async fn upsert_scope(
    service: &AdminService,
    request: Request<proto::UpsertScopeRequest>,
) -> Reply<proto::Scope> {
    let actor = caller(&request)?.actor();
    let scope = request.into_inner().scope.unwrap_or_default();
    let name = ScopeName::parse(&scope.name).map_err(invalid_argument)?;
    let description = scope.description.trim().to_owned();
    if description.is_empty()
        || description.chars().count() > 200
        || description.chars().any(char::is_control)
    {
        return Err(invalid_argument(Invalid::new(
            "description",
            "required: 1-200 characters, no control characters",
        )));
    }
    let now = service.now();
    let scope = service
        .call(move |store| store.upsert_scope(actor, Scope { name, description }, now))
        .await?;
    Ok(Response::new(scope.into()))
}

pub(super) async fn remove_scope(
    service: &AdminService,
    request: Request<proto::RemoveScopeRequest>,
) -> Reply<proto::RemoveScopeResponse> {
    let actor = caller(&request)?.actor();
    let name = request.into_inner().name;
    required("name", &name)?;
    let now = service.now();
    service
        .call(move |store| store.remove_scope(actor, &name, now))
        .await?;
    Ok(Response::new(proto::RemoveScopeResponse {}))
}

pub(super) async fn create_user(
    service: &AdminService,
    request: Request<proto::CreateUserRequest>,
) -> Reply<proto::User> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    let username = Username::parse(&request.username).map_err(invalid_argument)?;
    let password = Password::parse(&request.password).map_err(invalid_argument)?;
    let now = service.now();
    let user = service
        .call(move |store| {
            store.create_user(actor, &username, &hash_password(password.expose()), now)
        })
        .await?;
    Ok(Response::new(user.into()))
}

pub(super) async fn list_users(
    service: &AdminService,
    _: Request<proto::ListUsersRequest>,
) -> Reply<proto::ListUsersResponse> {
    let users = service.call(|store| store.list_users()).await?;
    Ok(Response::new(proto::ListUsersResponse {
        users: users.into_iter().map(Into::into).collect(),
    }))
}

pub(super) async fn set_user_disabled(
    service: &AdminService,
    request: Request<proto::SetUserDisabledRequest>,
) -> Reply<proto::User> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    let now = service.now();
    let (user, _) = service
        .call(move |store| store.set_user_disabled(actor, &request.username, request.disabled, now))
        .await?;
    Ok(Response::new(user.into()))
}

pub(super) async fn set_user_password(
    service: &AdminService,
    request: Request<proto::SetUserPasswordRequest>,
) -> Reply<proto::User> {
    let actor = caller(&request)?.actor();
    let request = request.into_inner();
    let password = Password::parse(&request.password).map_err(invalid_argument)?;
    let now = service.now();
    let user = service
        .call(move |store| {
            store.set_user_password(
                actor,
                &request.username,
                &hash_password(password.expose()),
                now,
            )
        })
        .await?;
    Ok(Response::new(user.into()))
}
