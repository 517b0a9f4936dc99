//! RFC 8414 authorization server metadata: only what gatehouse supports.

use super::respond::json;
use super::AppState;
use crate::model::GrantType;
use axum::extract::State;
use axum::response::Response;

pub async fn metadata(State(app): State<AppState>) -> Response {
    let issuer = app.shared.config.issuer.clone();
    let scopes: Vec<String> = match app.shared.store.call(|store| store.list_scopes()).await {
        Ok(scopes) => scopes
            .into_iter()
            .map(|scope| scope.name.as_str().to_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    let mut document = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        "authorization_response_iss_parameter_supported": true,
        // OpenID Connect Prompt Create §4.1 names this field; max_age is honoured too.
        "prompt_values_supported": ["none", "login", "consent"],
    });
    if !scopes.is_empty() {
        document["scopes_supported"] = serde_json::json!(scopes);
    }
    json(&document)
}
