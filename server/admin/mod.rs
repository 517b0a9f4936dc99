//! The admin plane: the tonic `AdminService`, reflection and health, behind the
//! admin-token check and the role table (`auth.rs`, `roles.rs`; health
//! excepted, for monitors). Every handler reads its [`Caller`] from the request.

mod accounts;
mod auth;
mod clients;
mod convert;
mod grants;
mod identities;
mod observe;
mod operations;
pub mod roles;
mod secrets;
mod watch;

use crate::model::Invalid;
use crate::proto::{self, admin_service_server::AdminServiceServer};
use crate::server::{ServeError, Shared};
use crate::shutdown::Draining;
use crate::store::Store;
use convert::{invalid_argument, status_from};
use std::pin::Pin;
use tokio::net::TcpListener;
use tokio_stream::{wrappers::TcpListenerStream, Stream};
use tonic::{Request, Response, Status};

pub use auth::{AdminAuth, Caller};

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Serves the admin plane on `listener` until shutdown begins, then ends every
/// long-lived call (event streams, health watches) and lets unary calls finish.
pub async fn serve(
    shared: Shared,
    admin_token: String,
    listener: TcpListener,
    draining: Draining,
) -> Result<(), ServeError> {
    let auth = AdminAuth::new(&admin_token, shared.store.clone(), shared.clock.clone());
    let observe = observe::ObserveLayer {
        metrics: shared.metrics.clone(),
    };
    let admin = AdminServiceServer::new(AdminService {
        shared,
        draining: draining.clone(),
    })
    .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let admin = auth.wrap(admin);
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|error| ServeError::Grpc(error.to_string()))?;
    let reflection = auth.wrap(reflection);
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<AdminServiceServer<AdminService>>()
        .await;
    let shutdown = async move {
        draining.begun().await;
        end_health_watches(health_reporter).await;
    };
    tonic::transport::Server::builder()
        .layer(observe)
        .add_service(health)
        .add_service(reflection)
        .add_service(admin)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
        .map_err(|error| ServeError::Grpc(error.to_string()))
}

/// Reports NOT_SERVING, then forgets every status: a `Health/Watch` stream ends
/// when the status it watches is gone, so monitors do not hold the drain open.
async fn end_health_watches(mut reporter: tonic_health::server::HealthReporter) {
    use tonic::server::NamedService;
    const ADMIN: &str = <AdminServiceServer<AdminService> as NamedService>::NAME;
    reporter
        .set_not_serving::<AdminServiceServer<AdminService>>()
        .await;
    for service in ["", ADMIN] {
        reporter.clear_service_status(service).await;
    }
}

/// The admin API over the store.
pub struct AdminService {
    shared: Shared,
    draining: Draining,
}

type Reply<T> = Result<Response<T>, Status>;

/// The live event stream `WatchEvents` answers with.
pub type WatchEventsStream = Pin<Box<dyn Stream<Item = Result<proto::Event, Status>> + Send>>;

impl AdminService {
    fn store(&self) -> &Store {
        &self.shared.store
    }

    fn now(&self) -> i64 {
        self.shared.clock.now()
    }

    /// Runs a store call off the runtime and maps its error once.
    async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> crate::store::Result<T> + Send + 'static,
    ) -> Result<T, Status> {
        self.store().call(work).await.map_err(status_from)
    }
}

fn page_size(requested: u32) -> usize {
    let size = match requested {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    };
    size as usize
}

fn parse_cursor(token: &str) -> Result<i64, Status> {
    if token.is_empty() {
        return Ok(0);
    }
    token
        .parse::<i64>()
        .ok()
        .filter(|cursor| *cursor > 0)
        .ok_or_else(|| {
            invalid_argument(Invalid::new("page_token", "not a token this server issued"))
        })
}

fn cursor_text(next: Option<i64>) -> String {
    next.map(|seq| seq.to_string()).unwrap_or_default()
}

/// The identity and RPC the admin check admitted this call as.
fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::internal("the call did not pass the admin check"))
}

fn required<'a>(field: &'static str, value: &'a str) -> Result<&'a str, Status> {
    if value.is_empty() {
        return Err(invalid_argument(Invalid::new(field, "required")));
    }
    Ok(value)
}

#[tonic::async_trait]
impl proto::admin_service_server::AdminService for AdminService {
    type WatchEventsStream = WatchEventsStream;

    async fn create_client(
        &self,
        request: Request<proto::CreateClientRequest>,
    ) -> Reply<proto::CreateClientResponse> {
        clients::create_client(self, request).await
    }

    async fn get_client(&self, request: Request<proto::GetClientRequest>) -> Reply<proto::Client> {
        clients::get_client(self, request).await
    }

    async fn list_clients(
        &self,
        request: Request<proto::ListClientsRequest>,
    ) -> Reply<proto::ListClientsResponse> {
        clients::list_clients(self, request).await
    }

    async fn update_client(
        &self,
        request: Request<proto::UpdateClientRequest>,
    ) -> Reply<proto::Client> {
        clients::update_client(self, request).await
    }

    async fn set_client_disabled(
        &self,
        request: Request<proto::SetClientDisabledRequest>,
    ) -> Reply<proto::SetClientDisabledResponse> {
        clients::set_client_disabled(self, request).await
    }

    async fn rotate_client_secret(
        &self,
        request: Request<proto::RotateClientSecretRequest>,
    ) -> Reply<proto::RotateClientSecretResponse> {
        secrets::rotate_client_secret(self, request).await
    }

    async fn delete_client(
        &self,
        request: Request<proto::DeleteClientRequest>,
    ) -> Reply<proto::DeleteClientResponse> {
        clients::delete_client(self, request).await
    }

    async fn list_scopes(
        &self,
        request: Request<proto::ListScopesRequest>,
    ) -> Reply<proto::ListScopesResponse> {
        accounts::list_scopes(self, request).await
    }

    async fn upsert_scope(
        &self,
        request: Request<proto::UpsertScopeRequest>,
    ) -> Reply<proto::Scope> {
        accounts::upsert_scope(self, request).await
    }

    async fn remove_scope(
        &self,
        request: Request<proto::RemoveScopeRequest>,
    ) -> Reply<proto::RemoveScopeResponse> {
        accounts::remove_scope(self, request).await
    }

    async fn create_user(&self, request: Request<proto::CreateUserRequest>) -> Reply<proto::User> {
        accounts::create_user(self, request).await
    }

    async fn list_users(
        &self,
        request: Request<proto::ListUsersRequest>,
    ) -> Reply<proto::ListUsersResponse> {
        accounts::list_users(self, request).await
    }

    async fn set_user_disabled(
        &self,
        request: Request<proto::SetUserDisabledRequest>,
    ) -> Reply<proto::User> {
        accounts::set_user_disabled(self, request).await
    }

    async fn set_user_password(
        &self,
        request: Request<proto::SetUserPasswordRequest>,
    ) -> Reply<proto::User> {
        accounts::set_user_password(self, request).await
    }

    async fn list_families(
        &self,
        request: Request<proto::ListFamiliesRequest>,
    ) -> Reply<proto::ListFamiliesResponse> {
        grants::list_families(self, request).await
    }

    async fn get_family(
        &self,
        request: Request<proto::GetFamilyRequest>,
    ) -> Reply<proto::FamilyDetail> {
        grants::get_family(self, request).await
    }

    async fn revoke_family(
        &self,
        request: Request<proto::RevokeFamilyRequest>,
    ) -> Reply<proto::RevokeResponse> {
        grants::revoke_family(self, request).await
    }

    async fn revoke_client_families(
        &self,
        request: Request<proto::RevokeClientFamiliesRequest>,
    ) -> Reply<proto::RevokeResponse> {
        grants::revoke_client_families(self, request).await
    }

    async fn revoke_user_families(
        &self,
        request: Request<proto::RevokeUserFamiliesRequest>,
    ) -> Reply<proto::RevokeResponse> {
        grants::revoke_user_families(self, request).await
    }

    async fn list_events(
        &self,
        request: Request<proto::ListEventsRequest>,
    ) -> Reply<proto::ListEventsResponse> {
        operations::list_events(self, request).await
    }

    async fn watch_events(
        &self,
        request: Request<proto::WatchEventsRequest>,
    ) -> Reply<Self::WatchEventsStream> {
        operations::watch_events(self, request).await
    }

    async fn get_status(&self, request: Request<proto::GetStatusRequest>) -> Reply<proto::Status> {
        operations::get_status(self, request).await
    }

    async fn set_maintenance(
        &self,
        request: Request<proto::SetMaintenanceRequest>,
    ) -> Reply<proto::Status> {
        operations::set_maintenance(self, request).await
    }

    async fn who_am_i(
        &self,
        request: Request<proto::WhoAmIRequest>,
    ) -> Reply<proto::AdminIdentity> {
        identities::who_am_i(self, request).await
    }

    async fn create_admin_token(
        &self,
        request: Request<proto::CreateAdminTokenRequest>,
    ) -> Reply<proto::CreateAdminTokenResponse> {
        identities::create_admin_token(self, request).await
    }

    async fn list_admin_tokens(
        &self,
        request: Request<proto::ListAdminTokensRequest>,
    ) -> Reply<proto::ListAdminTokensResponse> {
        identities::list_admin_tokens(self, request).await
    }

    async fn revoke_admin_token(
        &self,
        request: Request<proto::RevokeAdminTokenRequest>,
    ) -> Reply<proto::AdminToken> {
        identities::revoke_admin_token(self, request).await
    }

    async fn list_client_secrets(
        &self,
        request: Request<proto::ListClientSecretsRequest>,
    ) -> Reply<proto::ListClientSecretsResponse> {
        secrets::list_client_secrets(self, request).await
    }

    async fn revoke_client_secret(
        &self,
        request: Request<proto::RevokeClientSecretRequest>,
    ) -> Reply<proto::RevokeClientSecretResponse> {
        secrets::revoke_client_secret(self, request).await
    }
}
