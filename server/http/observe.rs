//! Around every public-plane request: the access log line and the request
//! metrics. Labels and log fields come from closed sets (the route from a
//! fixed list, never the path a client sent; no query, no header, no body),
//! so neither a token nor a password can reach the log this way.
//!
//! This is the service `axum::serve` runs for each connection, wrapped around
//! the router once rather than layered on each route: a `from_fn` layer
//! cloned and boxed the route's service and boxed its future on every request
//! (README, Performance, "seventh step"). The hot routes skip the router
//! (`hot`).

use super::respond::Marked;
use super::{client_addr, hot, AppState, ClientAddr, BODY_LIMIT_BYTES};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::Method;
use axum::response::Response;
use axum::serve::IncomingStream;
use axum::Router;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::net::TcpListener;
use tower::Service;

/// Makes one [`Observed`] router per accepted connection.
#[derive(Clone)]
pub struct Connections {
    router: Router,
    app: AppState,
}

impl Connections {
    pub fn new(router: Router, app: AppState) -> Self {
        Connections { router, app }
    }
}

impl Service<IncomingStream<'_, TcpListener>> for Connections {
    type Response = Observed;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Observed, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'_, TcpListener>) -> Self::Future {
        std::future::ready(Ok(Observed {
            router: self.router.clone(),
            app: self.app.clone(),
            peer: *stream.remote_addr(),
        }))
    }
}

/// The router for one connection from `peer`, observed.
#[derive(Clone)]
pub struct Observed {
    router: Router,
    app: AppState,
    peer: SocketAddr,
}

impl Service<Request> for Observed {
    type Response = Response;
    type Error = Infallible;
    type Future = Observing<<Router as Service<Request>>::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let started = Instant::now();
        let seen = Seen {
            method: method_label(request.method()),
            route: route_label(request.uri().path()),
            client: ClientAddr(client_addr::resolve(
                self.peer.ip(),
                request.headers(),
                &self.app.shared.config.trusted_proxies,
            )),
        };
        // What the `ClientAddr` extractor hands the handlers, and the limit
        // the body extractor reads: set here for the hot routes and the router alike.
        request.extensions_mut().insert(seen.client);
        DefaultBodyLimit::max(BODY_LIMIT_BYTES).apply(&mut request);
        let answer = match hot::Hot::of(&request) {
            Some(route) => Answer::Hot {
                answer: route.run(request, &self.app),
            },
            None => Answer::Routed {
                answer: self.router.call(request),
            },
        };
        Observing {
            answer,
            app: self.app.clone(),
            seen,
            started,
        }
    }
}

/// What the log line and the metrics say about a request, read before it ran.
struct Seen {
    method: &'static str,
    route: &'static str,
    client: ClientAddr,
}

pin_project_lite::pin_project! {
    /// A hot route's answer, or the router's.
    #[project = AnswerProjection]
    pub enum Answer<F> {
        Hot { answer: hot::Answer },
        Routed { #[pin] answer: F },
    }
}

pin_project_lite::pin_project! {
    /// The answer to one request; logged and counted when it is ready.
    pub struct Observing<F> {
        #[pin]
        answer: Answer<F>,
        app: AppState,
        seen: Seen,
        started: Instant,
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for Observing<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.answer.project() {
            AnswerProjection::Hot { answer } => std::task::ready!(answer.as_mut().poll(cx)),
            AnswerProjection::Routed { answer } => {
                let Ok(response) = std::task::ready!(answer.poll(cx));
                response
            }
        };
        record(this.app, this.seen, this.started.elapsed(), &response);
        Poll::Ready(Ok(response))
    }
}

/// Logs one line at info (target `gatehouse::access`) and records the metrics.
fn record(app: &AppState, seen: &Seen, elapsed: std::time::Duration, response: &Response) {
    let status = response.status().as_u16();
    debug_assert!(
        seen.route != "other" || status == 404,
        "a {} answered {status} under the label `other`: add its route to observe::ROUTES",
        seen.method
    );
    tracing::info!(
        target: "gatehouse::access",
        method = seen.method,
        route = seen.route,
        status,
        duration_ms = (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        client = %seen.client.0,
        "request"
    );
    if let Some(metrics) = &app.shared.metrics {
        let error = response
            .extensions()
            .get::<Marked>()
            .map(|Marked(code)| code.as_str());
        metrics.http_request(seen.route, seen.method, status, elapsed, error);
    }
}

/// The routes the public plane serves; anything else is `other`. Every route
/// is a fixed path, so the path a request names is its route when it is one
/// of these. A route missing here trips a debug assertion the first time a
/// test gets anything but 404 from it (`record`); an entry nothing serves
/// fails `logs::every_labelled_route_is_served`.
pub const ROUTES: &[&str] = &[
    "/authorize",
    "/login",
    "/logout",
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

fn route_label(path: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|route| **route == path)
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

#[cfg(test)]
mod tests {
    use super::route_label;

    #[test]
    fn a_route_is_its_exact_path_and_anything_else_is_other() {
        assert_eq!(route_label("/token"), "/token");
        assert_eq!(route_label("/logout"), "/logout");
        assert_eq!(route_label("/api/public/v1/me"), "/api/public/v1/me");
        for path in [
            "/token/",
            "/TOKEN",
            "/%74oken",
            "/api/public/v1/me/x",
            "/",
            "",
        ] {
            assert_eq!(route_label(path), "other", "{path}");
        }
    }
}
