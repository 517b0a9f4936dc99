//! The admin plane: the tonic `AdminService`, reflection and health, behind the
//! admin bearer interceptor (health excepted, for monitors).

mod auth;
mod convert;
mod observe;
mod watch;

use crate::model::{
    ClientSpec, FamilyFilter, Invalid, Password, RetryWindow, Scope, ScopeName, Username,
};
use crate::proto::{self, admin_service_server::AdminServiceServer};
use crate::secret::hash_password;
use crate::server::{ServeError, Shared};
use crate::shutdown::Draining;
use crate::store::Store;
use convert::{grant_types_from_proto, invalid_argument, status_from};
use std::pin::Pin;
use tokio::net::TcpListener;
use tokio_stream::{wrappers::ReceiverStream, wrappers::TcpListenerStream, Stream};
use tonic::{Request, Response, Status};

pub use auth::AdminAuth;

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
    let admin = tonic::service::interceptor::InterceptedService::new(admin, auth.clone());
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|error| ServeError::Grpc(error.to_string()))?;
    let reflection = tonic::service::interceptor::InterceptedService::new(reflection, auth);
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

fn required<'a>(field: &'static str, value: &'a str) -> Result<&'a str, Status> {
    if value.is_empty() {
        return Err(invalid_argument(Invalid::new(field, "required")));
    }
    Ok(value)
}

#[tonic::async_trait]
impl proto::admin_service_server::AdminService for AdminService {
    async fn create_client(
        &self,
        request: Request<proto::CreateClientRequest>,
    ) -> Reply<proto::CreateClientResponse> {
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
        let now = self.now();
        let (client, secret) = self
            .call(move |store| store.create_client(spec, now))
            .await?;
        Ok(Response::new(proto::CreateClientResponse {
            client: Some(client.into()),
            client_secret: secret
                .map(|secret| secret.into_string())
                .unwrap_or_default(),
        }))
    }

    async fn get_client(&self, request: Request<proto::GetClientRequest>) -> Reply<proto::Client> {
        let id = request.into_inner().id;
        let client = self.call(move |store| store.get_client(&id)).await?;
        Ok(Response::new(client.into()))
    }

    async fn list_clients(
        &self,
        request: Request<proto::ListClientsRequest>,
    ) -> Reply<proto::ListClientsResponse> {
        let request = request.into_inner();
        let after = parse_cursor(&request.page_token)?;
        let limit = page_size(request.page_size);
        let (clients, next) = self
            .call(move |store| store.list_clients(&request.filter, limit, after))
            .await?;
        Ok(Response::new(proto::ListClientsResponse {
            clients: clients.into_iter().map(Into::into).collect(),
            next_page_token: cursor_text(next),
        }))
    }

    async fn update_client(
        &self,
        request: Request<proto::UpdateClientRequest>,
    ) -> Reply<proto::Client> {
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
        let now = self.now();
        let client = self
            .call(move |store| {
                store.update_client(&request.id, now, move |current| {
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

    async fn set_client_disabled(
        &self,
        request: Request<proto::SetClientDisabledRequest>,
    ) -> Reply<proto::SetClientDisabledResponse> {
        let request = request.into_inner();
        let now = self.now();
        let (client, revoked) = self
            .call(move |store| store.set_client_disabled(&request.id, request.disabled, now))
            .await?;
        Ok(Response::new(proto::SetClientDisabledResponse {
            client: Some(client.into()),
            revoked_families: revoked,
        }))
    }

    async fn rotate_client_secret(
        &self,
        request: Request<proto::RotateClientSecretRequest>,
    ) -> Reply<proto::RotateClientSecretResponse> {
        let id = request.into_inner().id;
        let now = self.now();
        let client_id = id.clone();
        let secret = self
            .call(move |store| store.rotate_client_secret(&id, now))
            .await?;
        Ok(Response::new(proto::RotateClientSecretResponse {
            client_id,
            client_secret: secret.into_string(),
        }))
    }

    async fn delete_client(
        &self,
        request: Request<proto::DeleteClientRequest>,
    ) -> Reply<proto::DeleteClientResponse> {
        let id = request.into_inner().id;
        let now = self.now();
        self.call(move |store| store.delete_client(&id, now))
            .await?;
        Ok(Response::new(proto::DeleteClientResponse {}))
    }

    async fn list_scopes(
        &self,
        _: Request<proto::ListScopesRequest>,
    ) -> Reply<proto::ListScopesResponse> {
        let scopes = self.call(|store| store.list_scopes()).await?;
        Ok(Response::new(proto::ListScopesResponse {
            scopes: scopes.into_iter().map(Into::into).collect(),
        }))
    }

    async fn upsert_scope(
        &self,
        request: Request<proto::UpsertScopeRequest>,
    ) -> Reply<proto::Scope> {
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
        let now = self.now();
        let scope = self
            .call(move |store| store.upsert_scope(Scope { name, description }, now))
            .await?;
        Ok(Response::new(scope.into()))
    }

    async fn remove_scope(
        &self,
        request: Request<proto::RemoveScopeRequest>,
    ) -> Reply<proto::RemoveScopeResponse> {
        let name = request.into_inner().name;
        required("name", &name)?;
        let now = self.now();
        self.call(move |store| store.remove_scope(&name, now))
            .await?;
        Ok(Response::new(proto::RemoveScopeResponse {}))
    }

    async fn create_user(&self, request: Request<proto::CreateUserRequest>) -> Reply<proto::User> {
        let request = request.into_inner();
        let username = Username::parse(&request.username).map_err(invalid_argument)?;
        let password = Password::parse(&request.password).map_err(invalid_argument)?;
        let now = self.now();
        let user = self
            .call(move |store| store.create_user(&username, &hash_password(password.expose()), now))
            .await?;
        Ok(Response::new(user.into()))
    }

    async fn list_users(
        &self,
        _: Request<proto::ListUsersRequest>,
    ) -> Reply<proto::ListUsersResponse> {
        let users = self.call(|store| store.list_users()).await?;
        Ok(Response::new(proto::ListUsersResponse {
            users: users.into_iter().map(Into::into).collect(),
        }))
    }

    async fn set_user_disabled(
        &self,
        request: Request<proto::SetUserDisabledRequest>,
    ) -> Reply<proto::User> {
        let request = request.into_inner();
        let now = self.now();
        let (user, _) = self
            .call(move |store| store.set_user_disabled(&request.username, request.disabled, now))
            .await?;
        Ok(Response::new(user.into()))
    }

    async fn set_user_password(
        &self,
        request: Request<proto::SetUserPasswordRequest>,
    ) -> Reply<proto::User> {
        let request = request.into_inner();
        let password = Password::parse(&request.password).map_err(invalid_argument)?;
        let now = self.now();
        let user = self
            .call(move |store| {
                store.set_user_password(&request.username, &hash_password(password.expose()), now)
            })
            .await?;
        Ok(Response::new(user.into()))
    }

    async fn list_families(
        &self,
        request: Request<proto::ListFamiliesRequest>,
    ) -> Reply<proto::ListFamiliesResponse> {
        let request = request.into_inner();
        let before = parse_cursor(&request.page_token)?;
        let limit = page_size(request.page_size);
        let filter = FamilyFilter {
            client_id: Some(request.client_id).filter(|id| !id.is_empty()),
            username: Some(request.username).filter(|name| !name.is_empty()),
            active_only: request.active_only,
        };
        let (families, next) = self
            .call(move |store| store.list_families(&filter, limit, before))
            .await?;
        Ok(Response::new(proto::ListFamiliesResponse {
            families: families.into_iter().map(Into::into).collect(),
            next_page_token: cursor_text(next),
        }))
    }

    async fn get_family(
        &self,
        request: Request<proto::GetFamilyRequest>,
    ) -> Reply<proto::FamilyDetail> {
        let id = request.into_inner().id;
        let now = self.now();
        let (family, tokens) = self.call(move |store| store.get_family(&id, now)).await?;
        Ok(Response::new(proto::FamilyDetail {
            family: Some(family.into()),
            tokens: tokens.into_iter().map(Into::into).collect(),
        }))
    }

    async fn revoke_family(
        &self,
        request: Request<proto::RevokeFamilyRequest>,
    ) -> Reply<proto::RevokeResponse> {
        let request = request.into_inner();
        let now = self.now();
        let count = self
            .call(move |store| {
                store.revoke_family(&request.id, &request.note, request.dry_run, now)
            })
            .await?;
        Ok(Response::new(count.into()))
    }

    async fn revoke_client_families(
        &self,
        request: Request<proto::RevokeClientFamiliesRequest>,
    ) -> Reply<proto::RevokeResponse> {
        let request = request.into_inner();
        required("client_id", &request.client_id)?;
        let now = self.now();
        let count = self
            .call(move |store| {
                store.revoke_client_families(
                    &request.client_id,
                    &request.note,
                    request.dry_run,
                    now,
                )
            })
            .await?;
        Ok(Response::new(count.into()))
    }

    async fn revoke_user_families(
        &self,
        request: Request<proto::RevokeUserFamiliesRequest>,
    ) -> Reply<proto::RevokeResponse> {
        let request = request.into_inner();
        required("username", &request.username)?;
        let now = self.now();
        let (username, dry_run) = (request.username.clone(), request.dry_run);
        let count = self
            .call(move |store| {
                store.revoke_user_families(&request.username, &request.note, request.dry_run, now)
            })
            .await?;
        if !dry_run {
            self.shared.public.end_sessions_of(&username);
        }
        Ok(Response::new(count.into()))
    }

    async fn list_events(
        &self,
        request: Request<proto::ListEventsRequest>,
    ) -> Reply<proto::ListEventsResponse> {
        let request = request.into_inner();
        let limit = page_size(request.page_size);
        let (events, next) = self
            .call(move |store| store.list_events(limit, request.before_id, request.security_only))
            .await?;
        Ok(Response::new(proto::ListEventsResponse {
            events: events.into_iter().map(Into::into).collect(),
            next_before_id: next.unwrap_or(0),
        }))
    }

    type WatchEventsStream = Pin<Box<dyn Stream<Item = Result<proto::Event, Status>> + Send>>;

    async fn watch_events(
        &self,
        request: Request<proto::WatchEventsRequest>,
    ) -> Reply<Self::WatchEventsStream> {
        let request = request.into_inner();
        let resume = watch::Resume {
            after_id: request.after_id,
            replay: request.after_id > 0 || request.from_start,
        };
        let (sender, receiver) = tokio::sync::mpsc::channel(256);
        let subscriber = watch::Subscriber::new(sender, self.draining.clone());
        tokio::spawn(subscriber.forward(self.store().clone(), self.shared.clock.clone(), resume));
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    async fn get_status(&self, _: Request<proto::GetStatusRequest>) -> Reply<proto::Status> {
        Ok(Response::new(self.status().await?))
    }

    async fn set_maintenance(
        &self,
        request: Request<proto::SetMaintenanceRequest>,
    ) -> Reply<proto::Status> {
        let on = request.into_inner().on;
        let now = self.now();
        self.call(move |store| store.set_maintenance(on, now))
            .await?;
        Ok(Response::new(self.status().await?))
    }
}

impl AdminService {
    async fn status(&self) -> Result<proto::Status, Status> {
        let now = self.now();
        let counts = self.call(move |store| store.counts(now)).await?;
        let public = self.shared.public.figures();
        Ok(proto::Status {
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_secs: self.shared.started.elapsed().as_secs() as i64,
            clients: counts.clients,
            users: counts.users,
            active_families: counts.active_families,
            database_bytes: counts.database_bytes,
            maintenance: counts.maintenance,
            security_events_last_hour: counts.security_events_last_hour,
            issuer: self.shared.config.issuer.clone(),
            oldest_event_time: counts.oldest_event_time.unwrap_or(0),
            pending_authorizations: public.pending_authorizations as i64,
            browser_sessions: public.browser_sessions as i64,
            password_checks: public.password_checks as i64,
            recent_failures: self
                .shared
                .tally
                .recent(5)
                .into_iter()
                .map(|failure| failure.sentence)
                .collect(),
        })
    }
}
