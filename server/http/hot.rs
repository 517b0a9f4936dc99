//! The hot routes: `GET /api/public/v1/me`, `POST /introspect` and
//! `POST /token` run their handler straight from `observe`, not through the
//! router. The router's per-request work (the route's boxed service cloned,
//! its future boxed and mapped, the path's parameters stored) cost `/me`
//! about a fifth of its server time on the bench (README, Performance,
//! "seventh step"). Each runs the very handler the router serves for its
//! path, with the same extractors, and what the router's layers did is done
//! for every request in `observe` (the body limit); the router keeps those
//! paths for every other method (HEAD, the 405s), so the two ways differ
//! only in cost.

use super::{resource, token, AppState};
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::Response;
use std::future::Future;
use std::pin::Pin;

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

/// `handler` on `request`, as the router would call it.
fn direct<H, T>(handler: H, request: Request, app: &AppState) -> Answer
where
    H: Handler<T, AppState, Future = Answer>,
{
    handler.call(request, app.clone())
}

#[cfg(test)]
mod tests {
    use super::Hot;
    use axum::extract::Request;

    fn hot(method: &str, uri: &str) -> Option<&'static str> {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(axum::body::Body::empty())
            .unwrap();
        Hot::of(&request).map(|route| match route {
            Hot::Me => "me",
            Hot::Introspect => "introspect",
            Hot::Token => "token",
        })
    }

    #[test]
    fn only_the_exact_method_and_path_are_hot() {
        assert_eq!(hot("GET", "/api/public/v1/me"), Some("me"));
        assert_eq!(hot("POST", "/introspect"), Some("introspect"));
        assert_eq!(hot("POST", "/token"), Some("token"));
        assert_eq!(hot("POST", "/token?x=1"), Some("token"));
        assert_eq!(hot("POST", "http://example.test/token"), Some("token"));
        for (method, uri) in [
            ("HEAD", "/api/public/v1/me"),
            ("POST", "/api/public/v1/me"),
            ("GET", "/token"),
            ("post", "/token"),
            ("POST", "/token/"),
            ("POST", "//token"),
            ("POST", "/%74oken"),
            ("POST", "/revoke"),
        ] {
            assert_eq!(hot(method, uri), None, "{method} {uri}");
        }
    }
}
