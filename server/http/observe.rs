//! One layer around every public-plane request: the access log line and the
//! request metrics. Labels and log fields come from closed sets (the matched
//! route pattern, never the path a client sent; no query, no header, no body),
//! so neither a token nor a password can reach the log this way.

use super::respond::Marked;
use super::{AppState, ClientAddr};
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// Logs one line at info (target `gatehouse::access`) and records the metrics.
pub async fn observe(
    State(app): State<AppState>,
    ClientAddr(client): ClientAddr,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = route_label(request.extensions().get::<MatchedPath>());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(
        target: "gatehouse::access",
        method,
        route,
        status,
        duration_ms = (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        client = %client,
        "request"
    );
    if let Some(metrics) = &app.shared.metrics {
        let error = response
            .extensions()
            .get::<Marked>()
            .map(|Marked(code)| code.as_str());
        metrics.http_request(route, method, status, elapsed, error);
    }
    response
}

/// The routes the router serves; anything else is `other`.
const ROUTES: &[&str] = &[
    "/authorize",
    "/login",
    "/consent",
    "/token",
    "/revoke",
    "/introspect",
    "/api/public/v1/me",
    "/.well-known/oauth-authorization-server",
    "/healthz",
    "/livez",
    "/assets/gatehouse.css",
];

fn route_label(matched: Option<&MatchedPath>) -> &'static str {
    matched
        .and_then(|path| ROUTES.iter().find(|route| **route == path.as_str()))
        .copied()
        .unwrap_or("other")
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}
