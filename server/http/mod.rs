//! The public plane over HTTP (axum).

use crate::server::{ServeError, Shared};
use axum::{routing::get, Router};
use std::future::Future;
use tokio::net::TcpListener;

/// Serves the public plane on `listener` until `shutdown` completes.
pub async fn serve(
    shared: Shared,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let router = Router::new()
        .route("/healthz", get(healthz))
        .with_state(shared);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

async fn healthz(
    axum::extract::State(shared): axum::extract::State<Shared>,
) -> axum::http::StatusCode {
    match shared.store.call(|store| store.maintenance()).await {
        Ok(_) => axum::http::StatusCode::OK,
        Err(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
    }
}
