//! Conversions between domain types and the generated proto types, and the one
//! mapping from store errors to gRPC statuses.

use crate::model::{
    Client, ClientId, Event, Family, FamilyId, GrantType, Invalid, RevokeCount, Role, Scope,
    TokenRecord, User,
};
use crate::proto;
use crate::store::StoreError;
use tonic::Status;

pub fn status_from(error: StoreError) -> Status {
    match error {
        StoreError::NotFound { .. } => Status::not_found(error.to_string()),
        StoreError::Invalid(invalid) => invalid_argument(invalid),
        StoreError::Conflict(message) => Status::failed_precondition(message),
        StoreError::Busy => Status::unavailable("database busy; retry"),
        StoreError::Internal { .. } => {
            let cause = std::error::Error::source(&error).map(ToString::to_string);
            tracing::error!(%error, ?cause, "admin call failed");
            Status::internal("internal error; see the server log")
        }
    }
}

pub fn invalid_argument(invalid: Invalid) -> Status {
    Status::invalid_argument(invalid.to_string())
}

/// A client id from a request. Text that cannot be an id names no client, so
/// it is answered exactly as an unknown client is (NOT_FOUND).
pub fn client_id_from_proto(text: &str) -> Result<ClientId, Status> {
    ClientId::parse(text).map_err(|_| status_from(StoreError::not_found("client", text)))
}

/// A family id from a request; answered as an unknown family when it cannot be one.
pub fn family_id_from_proto(text: &str) -> Result<FamilyId, Status> {
    FamilyId::parse(text).map_err(|_| status_from(StoreError::not_found("family", text)))
}

pub fn grant_type_from_proto(value: i32) -> Result<GrantType, Status> {
    proto::GrantType::domain(value).ok_or_else(|| {
        invalid_argument(Invalid::new(
            "grant_types",
            format!("unknown grant type {value}"),
        ))
    })
}

pub fn grant_types_from_proto(values: &[i32]) -> Result<Vec<GrantType>, Status> {
    values
        .iter()
        .map(|value| grant_type_from_proto(*value))
        .collect()
}

pub fn grant_type_to_proto(grant: GrantType) -> i32 {
    proto::GrantType::of(grant) as i32
}

impl From<Client> for proto::Client {
    fn from(client: Client) -> Self {
        proto::Client {
            id: client.id.into_string(),
            name: client.name,
            redirect_uris: client
                .redirect_uris
                .iter()
                .map(|uri| uri.as_str().to_owned())
                .collect(),
            scopes: client
                .scopes
                .names()
                .iter()
                .map(|name| name.as_str().to_owned())
                .collect(),
            grant_types: client
                .grant_types
                .into_iter()
                .map(grant_type_to_proto)
                .collect(),
            public: client.public,
            disabled: client.disabled,
            refresh_retry_window_secs: client.refresh_retry_window.secs() as u32,
            resource_server: client.resource_server,
            created_at: client.created_at,
            updated_at: client.updated_at,
            active_families: client.active_families,
        }
    }
}

impl From<Scope> for proto::Scope {
    fn from(scope: Scope) -> Self {
        proto::Scope {
            name: scope.name.as_str().to_owned(),
            description: scope.description,
        }
    }
}

impl From<User> for proto::User {
    fn from(user: User) -> Self {
        proto::User {
            username: user.username,
            disabled: user.disabled,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

impl From<Family> for proto::Family {
    fn from(family: Family) -> Self {
        let (status, revoked_at, revoked_reason, revoked_by) = match family.revoked {
            Some(revoked) => (
                "revoked",
                revoked.at,
                revoked.reason.as_str().to_owned(),
                revoked.by,
            ),
            None => ("active", 0, String::new(), String::new()),
        };
        proto::Family {
            status: status.into(),
            id: family.id.into_string(),
            client_id: family.client_id.into_string(),
            client_name: family.client_name,
            username: family.username,
            scope: family.scope,
            created_at: family.created_at,
            last_used_at: family.last_used_at,
            rotations: family.rotations,
            revoked_reason,
            revoked_at,
            revoked_by,
        }
    }
}

impl From<TokenRecord> for proto::Token {
    fn from(token: TokenRecord) -> Self {
        proto::Token {
            kind: token.kind.into(),
            generation: token.generation,
            issued_at: token.issued_at,
            expires_at: token.expires_at,
            used_at: token.used_at.unwrap_or(0),
            status: token.status.into(),
        }
    }
}

impl From<Event> for proto::Event {
    fn from(event: Event) -> Self {
        proto::Event {
            security: event.kind.is_security(),
            id: event.id,
            time: event.time,
            kind: event.kind.as_str().to_owned(),
            actor: event.actor,
            client_id: event
                .client_id
                .map(ClientId::into_string)
                .unwrap_or_default(),
            family_id: event
                .family_id
                .map(FamilyId::into_string)
                .unwrap_or_default(),
            count: event.count,
            source: event.source,
            username: event.username,
            detail: event.detail,
            heartbeat: None,
            rpc: event.rpc,
            changes: event
                .changes
                .into_iter()
                .map(|change| proto::FieldChange {
                    field: change.field,
                    before: change.before,
                    after: change.after,
                })
                .collect(),
        }
    }
}

impl From<RevokeCount> for proto::RevokeResponse {
    fn from(count: RevokeCount) -> Self {
        proto::RevokeResponse {
            revoked: count.families,
            tokens: count.tokens,
            principals: count.principals,
        }
    }
}

pub fn role_to_proto(role: Role) -> i32 {
    let role = match role {
        Role::Viewer => proto::AdminRole::Viewer,
        Role::Responder => proto::AdminRole::Responder,
        Role::Operator => proto::AdminRole::Operator,
        Role::Owner => proto::AdminRole::Owner,
    };
    role as i32
}

pub fn role_from_proto(value: i32) -> Result<Role, Status> {
    match proto::AdminRole::try_from(value) {
        Ok(proto::AdminRole::Viewer) => Ok(Role::Viewer),
        Ok(proto::AdminRole::Responder) => Ok(Role::Responder),
        Ok(proto::AdminRole::Operator) => Ok(Role::Operator),
        Ok(proto::AdminRole::Owner) => Ok(Role::Owner),
        _ => Err(invalid_argument(Invalid::new(
            "role",
            "viewer, responder, operator or owner",
        ))),
    }
}
