//! The hot routes: `GET /api/public/v1/me`, `POST /introspect` and
//! `POST /token` run their handler straight from `observe`, not through the
//! router. The router's per-request work (the route's boxed service cloned,
//! its future boxed and mapped, the path's parameters stored) cost `/me`
//! about a fifth of its server time on the bench (README, Performance,
//! "seventh step"). Each runs the very handler the router serves for its
//! path, with the same extractors and the same body limit; the router keeps
//! those paths for every other method (HEAD, the 405s), so the two ways
//! differ only in cost.

use super::{resource, token, AppState, BODY_LIMIT_BYTES};
use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::Method;
use axum::response::Response;
use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// A running handler's answer.
pub type Answer = Pin<Box<dyn Future<Output = Response> + Send>>;

/// A hot route.
#[derive(Debug, Clone, Copy)]
pub enum Hot {
    Me,
    Introspect,
    Token,
}

impl Hot {
    /// The hot route `request` is for, if any.
    pub fn of(request: &Request) -> Option<Hot> {
        let (method, path) = (request.method(), request.uri().path());
        match path {
            "/api/public/v1/me" if method == Method::GET => Some(Hot::Me),
            "/introspect" if method == Method::POST => Some(Hot::Introspect),
            "/token" if method == Method::POST => Some(Hot::Token),
            _ => None,
        }
    }

    /// The route's handler on `request`.
    pub fn run(self, request: Request, app: &AppState) -> Answer {
        match self {
            Hot::Me => direct(resource::me, request, app),
            Hot::Introspect => direct(token::introspect, request, app),
            Hot::Token => direct(token::token, request, app),
        }
    }
}

/// `handler` on `request`, under the router's body limit.
fn direct<H, T>(handler: H, request: Request, app: &AppState) -> Answer
where
    H: Handler<T, AppState, Future = Answer>,
{
    let handler = Direct {
        handler,
        app: app.clone(),
        extractors: PhantomData,
    };
    // The layer is what sets the limit the body extractor reads; it hands
    // back the handler's own answer.
    let Answered(answer) = DefaultBodyLimit::max(BODY_LIMIT_BYTES)
        .layer(handler)
        .call(request);
    answer
}

/// A handler as a service: what the body-limit layer wraps.
struct Direct<H, T> {
    handler: H,
    app: AppState,
    extractors: PhantomData<fn() -> T>,
}

impl<H, T> Service<Request> for Direct<H, T>
where
    H: Handler<T, AppState, Future = Answer>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answered;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Answered {
        Answered(self.handler.clone().call(request, self.app.clone()))
    }
}

/// A handler's answer as a service's: it cannot fail.
struct Answered(Answer);

impl Future for Answered {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx).map(Ok)
    }
}
