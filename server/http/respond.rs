//! The one place where outcomes become HTTP responses: OAuth JSON errors,
//! token-endpoint JSON, browser pages and redirects, bearer challenges.

use crate::oauth::{ErrorCode, OAuthError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::Markup;

pub const REALM: &str = "gatehouse";

/// The OAuth error code an answer carries, left on the response for the
/// request layer to count (`gatehouse_oauth_errors_total`).
#[derive(Debug, Clone, Copy)]
pub struct Marked(pub ErrorCode);

fn mark(response: &mut Response, code: ErrorCode) {
    response.extensions_mut().insert(Marked(code));
}
const RETRY_AFTER_SECS: &str = "30";

/// Headers every token-endpoint-like answer carries (RFC 6749 §5.1).
fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// A JSON success with `Cache-Control: no-store` and `Pragma: no-cache`.
pub fn json<T: serde::Serialize>(value: &T) -> Response {
    let mut response = axum::Json(value).into_response();
    no_store(&mut response);
    response
}

/// The HTTP status an OAuth error code answers with at a JSON endpoint.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::InsufficientScope | ErrorCode::AccessDenied => StatusCode::FORBIDDEN,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn error_body(error: &OAuthError) -> serde_json::Value {
    serde_json::json!({"error": error.code.as_str(), "error_description": error.description()})
}

/// An RFC 6749 §5.2 JSON error, with the Basic challenge on 401 and
/// `Retry-After` on 503.
pub fn oauth_error(error: &OAuthError) -> Response {
    let status = status_of(error.code);
    let mut response = (status, axum::Json(error_body(error))).into_response();
    no_store(&mut response);
    mark(&mut response, error.code);
    let headers = response.headers_mut();
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"gatehouse\""),
        );
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        );
    }
    response
}

/// 405 with `Allow`; GET also gets an `invalid_request` body.
pub fn method_not_allowed(allow: &'static str, with_body: bool) -> Response {
    let error = OAuthError::invalid_request(format!("use {allow}"));
    let mut response = if with_body {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            axum::Json(error_body(&error)),
        )
            .into_response()
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    };
    no_store(&mut response);
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// The page CSP with its `form-action` directive last.
macro_rules! concat_csp {
    ($form_action:expr) => {
        concat!(
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; ",
            $form_action
        )
    };
}

/// A page whose form may end in a redirect to the client (login, consent):
/// browsers that check `form-action` along a form's redirects must allow the
/// client's redirect URI too, so it joins `'self'` (its origin, or its scheme
/// for a native app's custom scheme).
pub fn form_page(status: StatusCode, markup: Markup, redirect_uri: &str) -> Response {
    let mut response = page(status, markup);
    let target = match url::Url::parse(redirect_uri) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url.origin().ascii_serialization(),
        Ok(url) => format!("{}:", url.scheme()),
        Err(_) => String::new(),
    };
    let policy = format!(concat_csp!("form-action 'self' {}"), target);
    if let Ok(value) = HeaderValue::from_str(policy.trim_end()) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Headers on every browser page and authorization redirect.
fn browser_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(concat_csp!("form-action 'self'")),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// An HTML page with the anti-framing and no-store headers.
pub fn page(status: StatusCode, markup: Markup) -> Response {
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        markup.into_string(),
    )
        .into_response();
    browser_headers(&mut response);
    response
}

/// A `303 See Other` (never 307 after a credential POST).
pub fn see_other(location: &str) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        return page(
            StatusCode::BAD_REQUEST,
            super::pages::error("Bad redirect", "The redirect target is not a valid URL."),
        );
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, value);
    browser_headers(&mut response);
    response
}

/// An authorization error redirect (`see_other` to a location carrying `error`).
pub fn error_redirect(location: &str, code: ErrorCode) -> Response {
    let mut response = see_other(location);
    mark(&mut response, code);
    response
}

/// RFC 6750 §3 challenge: bare when `error` is `None`.
pub fn bearer_challenge(error: Option<(&OAuthError, Option<&str>)>) -> Response {
    let Some((error, scope)) = error else {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"gatehouse\""),
        );
        no_store(&mut response);
        return response;
    };
    let mut challenge = format!(
        "Bearer realm=\"{REALM}\", error=\"{}\", error_description=\"{}\"",
        error.code.as_str(),
        error.description()
    );
    if let Some(scope) = scope {
        challenge.push_str(&format!(", scope=\"{scope}\""));
    }
    let mut response = (status_of(error.code), axum::Json(error_body(error))).into_response();
    no_store(&mut response);
    mark(&mut response, error.code);
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}
