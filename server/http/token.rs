//! POST /token, /revoke, /introspect: thin handlers over `oauth::token`.

use super::respond::{json, method_not_allowed, oauth_error};
use super::{AppState, ClientAddr};
use crate::model::GrantType;
use crate::oauth::client_auth::Presented;
use crate::oauth::{self, OAuthError, Params};
use crate::server::Shared;
use crate::store::Store;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// A checked form request: its parameters and Authorization header. As an
/// extractor it reads the body (under the router's limit: 413 past it) and
/// runs [`read_form`]'s checks on the request's own parts, copying none.
pub struct FormRequest {
    params: Params,
    authorization: Option<String>,
}

impl FromRequest<AppState> for FormRequest {
    type Rejection = Response;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        // The body extractor finds the limit among the extensions.
        let mut body = Request::new(body);
        *body.extensions_mut() = std::mem::take(&mut parts.extensions);
        let body = Bytes::from_request(body, app)
            .await
            .map_err(IntoResponse::into_response)?;
        read_form(&parts.method, &parts.headers, &parts.uri, &body)
            .map_err(Rejection::into_response)
    }
}

/// Why a form request was turned away before any OAuth logic ran.
enum Rejection {
    Method { with_body: bool },
    OAuth(OAuthError),
}

impl Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Method { with_body } => method_not_allowed("POST", with_body),
            Rejection::OAuth(error) => oauth_error(&error),
        }
    }
}

/// Method, Content-Type, query and body checks common to the three endpoints.
fn read_form(
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    body: &Bytes,
) -> Result<FormRequest, Rejection> {
    let invalid = |why: &str| Rejection::OAuth(OAuthError::invalid_request(why));
    if method != Method::POST {
        return Err(Rejection::Method {
            with_body: method != Method::HEAD,
        });
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(invalid(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    if let Some(query) = uri.query() {
        let query = Params::parse(query.as_bytes()).unwrap_or_default();
        if query.contains("client_secret") {
            return Err(invalid("credentials must not be sent in the URI"));
        }
    }
    let params = Params::parse(body).map_err(|error| invalid(&error.to_string()))?;
    let headers: Vec<_> = headers.get_all(header::AUTHORIZATION).iter().collect();
    let authorization = match headers.as_slice() {
        [] => None,
        [value] => Some(
            value
                .to_str()
                .map_err(|_| invalid("Authorization header is not ASCII"))?
                .to_owned(),
        ),
        _ => return Err(invalid("more than one Authorization header")),
    };
    Ok(FormRequest {
        params,
        authorization,
    })
}

/// Where an endpoint's store work runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    /// Reads only (indexed lookups in SQLite's page cache): on this worker
    /// thread, which costs less than the hop to the blocking pool and back.
    Inline,
    /// It may wait for the writer's COMMIT: on the blocking pool.
    Blocking,
}

/// Runs one form endpoint: the common checks, then `work` (inline or off the
/// runtime), then `respond` on success or the OAuth error.
async fn form_endpoint<T: Send + 'static>(
    app: AppState,
    ClientAddr(source): ClientAddr,
    run: Run,
    form: FormRequest,
    work: impl FnOnce(&Store, i64, &Shared, &Presented, &Params) -> Result<T, OAuthError>
        + Send
        + 'static,
    respond: impl FnOnce(T) -> Response,
) -> Response {
    let now = app.shared.clock.now();
    if run == Run::Inline {
        let shared = &app.shared;
        let presented = presented(shared, form.authorization.as_deref(), source);
        return match work(&shared.store, now, shared, &presented, &form.params) {
            Ok(value) => respond(value),
            Err(error) => oauth_error(&error),
        };
    }
    let shared = app.clone();
    let outcome = app
        .shared
        .store
        .call(move |store| {
            let shared = &shared.shared;
            let presented = presented(shared, form.authorization.as_deref(), source);
            Ok(work(store, now, shared, &presented, &form.params))
        })
        .await;
    match outcome.map_err(OAuthError::from).and_then(|result| result) {
        Ok(value) => respond(value),
        Err(error) => oauth_error(&error),
    }
}

pub async fn token(
    State(app): State<AppState>,
    ClientAddr(source): ClientAddr,
    form: FormRequest,
) -> Response {
    let shared = &app.shared;
    let now = shared.clock.now();
    let presented = presented(shared, form.authorization.as_deref(), source);
    // No hop to the blocking pool: client authentication and the token's
    // state are hot reads, and a rotation waits for its COMMIT as a task.
    let issued = async {
        if shared.store.maintenance()? {
            return Err(OAuthError::temporarily_unavailable());
        }
        let lifetimes = &shared.config.lifetimes;
        oauth::token::token(&shared.store, now, lifetimes, &presented, &form.params).await
    }
    .await;
    let tokens = match issued {
        Ok(tokens) => tokens,
        Err(error) => return oauth_error(&error),
    };
    if let Some(metrics) = &shared.metrics {
        // Only a grant type the server supports ever succeeds.
        let refresh = matches!(form.params.get("grant_type"), Ok(Some(name)) if name == GrantType::RefreshToken.as_str());
        let grant = if refresh {
            GrantType::RefreshToken
        } else {
            GrantType::AuthorizationCode
        };
        metrics.token_issued(grant.as_str());
        if tokens.repeated {
            metrics.refresh_retried();
        }
    }
    json(&tokens)
}

pub async fn revoke(
    State(app): State<AppState>,
    address: ClientAddr,
    form: FormRequest,
) -> Response {
    let work = |store: &Store, now, _: &Shared, presented: &Presented, params: &Params| {
        oauth::token::revoke(store, now, presented, params)
    };
    let respond = |()| {
        let mut response = StatusCode::OK.into_response();
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        response
    };
    form_endpoint(app, address, Run::Blocking, form, work, respond).await
}

pub async fn introspect(
    State(app): State<AppState>,
    address: ClientAddr,
    form: FormRequest,
) -> Response {
    let work = |store: &Store, now, shared: &Shared, presented: &Presented, params: &Params| {
        oauth::token::introspect(store, now, &shared.config.issuer, presented, params)
    };
    form_endpoint(app, address, Run::Inline, form, work, |answer| {
        json(&answer)
    })
    .await
}

/// What the caller presented, with the server's failure tally and last-use queue.
fn presented<'a>(
    shared: &'a Shared,
    authorization: Option<&'a str>,
    source: std::net::IpAddr,
) -> Presented<'a> {
    Presented {
        authorization,
        source,
        tally: &shared.tally,
        secret_uses: &shared.secret_uses,
    }
}
