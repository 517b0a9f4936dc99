//! Connecting to the admin plane: address, token lookup, bearer metadata.

use crate::config::GlobalArgs;
use crate::proto::admin_service_client::AdminServiceClient;
use crate::server::{read_token_file, ADMIN_TOKEN_FILE};
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

/// The admin client every front end uses.
pub type AdminClient = AdminServiceClient<InterceptedService<Channel, BearerToken>>;

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct BearerToken(MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for BearerToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// The admin token, from `--admin-token-file`, `GATEHOUSE_ADMIN_TOKEN`, or
/// `<data-dir>/admin.token`, in that order.
pub fn admin_token(global: &GlobalArgs) -> Result<String, String> {
    if let Some(path) = &global.admin_token_file {
        return read_token_file(path).map_err(|message| format!("{}: {message}", path.display()));
    }
    if let Ok(token) = std::env::var("GATEHOUSE_ADMIN_TOKEN") {
        if !token.trim().is_empty() {
            return Ok(token.trim().to_owned());
        }
    }
    let path = global.data_dir.join(ADMIN_TOKEN_FILE);
    read_token_file(&path).map_err(|message| {
        format!(
            "{}: {message} (pass --admin-token-file or set GATEHOUSE_ADMIN_TOKEN)",
            path.display()
        )
    })
}

/// Builds a client for the admin plane; the connection is made lazily on first call.
pub fn connect(global: &GlobalArgs) -> Result<AdminClient, String> {
    connect_with_token(&global.grpc_addr, &admin_token(global)?)
}

/// Builds a client for the admin plane at `grpc_addr` carrying `token`.
pub fn connect_with_token(grpc_addr: &str, token: &str) -> Result<AdminClient, String> {
    let header = MetadataValue::try_from(format!("Bearer {token}"))
        .map_err(|_| "the admin token holds characters not allowed in a header".to_owned())?;
    let endpoint = Endpoint::from_shared(format!("http://{grpc_addr}"))
        .map_err(|error| format!("--grpc-addr {grpc_addr:?}: {error}"))?
        .connect_timeout(std::time::Duration::from_secs(3));
    let channel = endpoint.connect_lazy();
    Ok(AdminServiceClient::with_interceptor(
        channel,
        BearerToken(header),
    ))
}
