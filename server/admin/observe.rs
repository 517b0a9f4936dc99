//! One tower layer around every admin-plane call (admin, health, reflection):
//! a log line and the `gatehouse_admin_calls_total` counter by method and code.
//!
//! The code is read from the response headers: tonic answers every error
//! (an interceptor's or a handler's) trailers-only, so `grpc-status` is there;
//! without it the call succeeded (or, for a stream, started).

use crate::metrics::Metrics;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tonic::codegen::http;

/// Wraps the admin plane's services; see the module docs.
#[derive(Clone)]
pub struct ObserveLayer {
    pub metrics: Option<Arc<Metrics>>,
}

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: Option<Arc<Metrics>>,
}

impl<S, RequestBody, ResponseBody> tower::Service<http::Request<RequestBody>> for Observe<S>
where
    S: tower::Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let started = Instant::now();
        let answered = self.inner.call(request);
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let response = answered.await?;
            let code = response
                .headers()
                .get("grpc-status")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<i32>().ok())
                .map_or(tonic::Code::Ok, tonic::Code::from_i32);
            let method = method_label(&path, code);
            let code = code_label(code);
            tracing::info!(
                target: "gatehouse::admin",
                %method,
                code,
                duration_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
                "admin call"
            );
            if let Some(metrics) = &metrics {
                metrics.admin_call(method, code);
            }
            Ok(response)
        })
    }
}

/// `ListClients` for an admin method, `health/Check`, `reflection`, else `other`
/// (an unknown method answers UNIMPLEMENTED and is never a label of its own).
fn method_label(path: &str, code: tonic::Code) -> String {
    if let Some(name) = path.strip_prefix("/gatehouse.admin.v1.AdminService/") {
        let plausible =
            !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric());
        if plausible && code != tonic::Code::Unimplemented {
            return name.to_owned();
        }
    }
    match path {
        "/grpc.health.v1.Health/Check" => "health/Check".into(),
        "/grpc.health.v1.Health/Watch" => "health/Watch".into(),
        _ if path.starts_with("/grpc.reflection.") => "reflection".into(),
        _ => "other".into(),
    }
}

/// The canonical gRPC code names (as grpc-go prints them).
fn code_label(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "Canceled",
        Unknown => "Unknown",
        InvalidArgument => "InvalidArgument",
        DeadlineExceeded => "DeadlineExceeded",
        NotFound => "NotFound",
        AlreadyExists => "AlreadyExists",
        PermissionDenied => "PermissionDenied",
        ResourceExhausted => "ResourceExhausted",
        FailedPrecondition => "FailedPrecondition",
        Aborted => "Aborted",
        OutOfRange => "OutOfRange",
        Unimplemented => "Unimplemented",
        Internal => "Internal",
        Unavailable => "Unavailable",
        DataLoss => "DataLoss",
        Unauthenticated => "Unauthenticated",
    }
}
