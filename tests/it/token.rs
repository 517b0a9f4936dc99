//! /token: the seed's "Errors from /token" sections, one test per row and per
//! common cause, asserting status, `error` and the headers SPEC names.

use crate::support::*;

/// Asserts an RFC 6749 §5.2 JSON error with the no-store headers.
async fn assert_error(response: reqwest::Response, status: u16, error: &str) -> serde_json::Value {
    assert_eq!(response.status(), status, "expected {error}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    if status == 401 {
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"gatehouse\""
        );
    }
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description
            .bytes()
            .all(|b| matches!(b, 0x20 | 0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
        "{description}"
    );
    body
}

async fn code_for(server: &TestServer, id: &str) -> String {
    Browser::new(server).obtain_code(id, "alice").await["code"].clone()
}

fn code_form(code: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ]
}

fn without<'a>(form: &[(&'a str, &'a str)], name: &str) -> Vec<(&'a str, &'a str)> {
    form.iter()
        .filter(|(key, _)| *key != name)
        .cloned()
        .collect()
}

/// The code exchange form with `name` sent as `value` instead.
fn code_form_with<'a>(code: &'a str, name: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut form = without(&code_form(code), name);
    form.push((name, value));
    form
}

/// POST /token authenticated as the confidential client.
async fn post_token(
    server: &TestServer,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    post_form(server, "/token", Some((id, secret)), form).await
}

#[tokio::test]
async fn success_has_the_documented_shape_and_headers() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    let response = exchange(&server, &id, &secret, &code).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["access_token"].as_str().unwrap().starts_with("gat_"));
    assert!(body["refresh_token"].as_str().unwrap().starts_with("grt_"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "profile");
}

#[tokio::test]
async fn invalid_request_missing_grant_type() {
    let (server, id, secret) = partner_setup().await;
    let response = post_token(&server, &id, &secret, &[("code", "x")]).await;
    assert_error(response, 400, "invalid_request").await;
}

#[tokio::test]
async fn invalid_request_missing_code_on_authorization_code_grant() {
    let (server, id, secret) = partner_setup().await;
    let response = post_token(&server, &id, &secret, &without(&code_form("c"), "code")).await;
    assert_error(response, 400, "invalid_request").await;
    let empty = post_token(
        &server,
        &id,
        &secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", ""),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_error(empty, 400, "invalid_request").await;
}

#[tokio::test]
async fn invalid_request_missing_refresh_token_on_refresh_token_grant() {
    let (server, id, secret) = partner_setup().await;
    let response = post_token(&server, &id, &secret, &[("grant_type", "refresh_token")]).await;
    assert_error(response, 400, "invalid_request").await;
}

#[tokio::test]
async fn invalid_request_missing_redirect_uri_on_authorization_code_grant() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    let response = post_token(
        &server,
        &id,
        &secret,
        &without(&code_form(&code), "redirect_uri"),
    )
    .await;
    assert_error(response, 400, "invalid_request").await;
    // Nothing was consumed: the code still works.
    assert_eq!(exchange(&server, &id, &secret, &code).await.status(), 200);
}

#[tokio::test]
async fn invalid_request_missing_or_malformed_code_verifier() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    let missing = post_token(
        &server,
        &id,
        &secret,
        &without(&code_form(&code), "code_verifier"),
    )
    .await;
    assert_error(missing, 400, "invalid_request").await;
    let short = code_form_with(&code, "code_verifier", "abc");
    assert_error(
        post_token(&server, &id, &secret, &short).await,
        400,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn invalid_request_wrong_content_type() {
    let (server, id, secret) = partner_setup().await;
    let response = reqwest::Client::new()
        .post(server.url("/token"))
        .header("authorization", basic_header(&id, &secret))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"authorization_code"}"#)
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_request").await;
}

#[tokio::test]
async fn invalid_request_duplicate_parameters_and_bad_encoding() {
    let (server, id, secret) = partner_setup().await;
    let response = post_token(
        &server,
        &id,
        &secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", "a"),
            ("code", "b"),
        ],
    )
    .await;
    assert_error(response, 400, "invalid_request").await;
    for body in ["grant_type=%zz", "grant_type=%ff%fe"] {
        let response = reqwest::Client::new()
            .post(server.url("/token"))
            .header("authorization", basic_header(&id, &secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "invalid_request").await;
    }
    let in_uri = reqwest::Client::new()
        .post(server.url(&format!("/token?client_secret={secret}")))
        .header("authorization", basic_header(&id, &secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code")
        .send()
        .await
        .unwrap();
    assert_error(in_uri, 400, "invalid_request").await;
}

/// The seed lists a redirect_uri mismatch under both invalid_request and
/// invalid_grant; SPEC settles it: a present but different redirect_uri is
/// invalid_grant (a missing one is invalid_request, tested above).
#[tokio::test]
async fn invalid_request_cause_redirect_uri_mismatch_answers_invalid_grant_per_spec() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    let form = code_form_with(&code, "redirect_uri", "https://partner.example/cb/");
    assert_error(
        post_token(&server, &id, &secret, &form).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn invalid_client_wrong_client_id() {
    let (server, _, secret) = partner_setup().await;
    // An unknown id, and text that cannot be an id at all: answered alike.
    for id in ["nope", "no such id", "", "caf\u{e9}"] {
        let response = post_form(&server, "/token", Some((id, &secret)), &code_form("c")).await;
        let body = assert_error(response, 401, "invalid_client").await;
        assert_eq!(body["error_description"], "unknown client", "{id:?}");
    }
}

#[tokio::test]
async fn invalid_client_wrong_client_secret() {
    let (server, id, _) = partner_setup().await;
    let response = post_form(&server, "/token", Some((&id, "gcs_wrong")), &code_form("c")).await;
    assert_error(response, 401, "invalid_client").await;
    let empty = post_form(&server, "/token", Some((&id, "")), &code_form("c")).await;
    assert_error(empty, 401, "invalid_client").await;
    let rows = flushed_failures(&server, "client_auth_failed", 2).await;
    assert_eq!(rows.len(), 1, "one aggregated row: {rows:?}");
    assert_eq!(
        (
            rows[0].client_id.as_ref().map(|client| client.as_str()),
            rows[0].count
        ),
        (Some(id.as_str()), 2)
    );
    assert!(rows[0]
        .detail
        .starts_with("2 failed client authentications for client"));
}

/// RFC 6749 §5.2: a Basic header that cannot be decoded is a failed client
/// authentication like any other: 401 with the challenge, not 400.
#[tokio::test]
async fn invalid_client_malformed_basic_header() {
    let (server, _, _) = partner_setup().await;
    let body = code_form("c");
    for header in [
        "Basic !!!not-base64",
        "Basic bm8tY29sb24=", // "no-colon"
        "Basic",
        "Basic //79", // not UTF-8 after decoding
    ] {
        let response = reqwest::Client::new()
            .post(server.url("/token"))
            .header("authorization", header)
            .form(&body)
            .send()
            .await
            .unwrap();
        assert_error(response, 401, "invalid_client").await;
    }
    let rows = flushed_failures(&server, "client_auth_failed", 4).await;
    assert!(rows.iter().all(|e| e.client_id.is_none()), "{rows:?}");
}

#[tokio::test]
async fn invalid_client_disabled_client() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    server
        .admin()
        .set_client_disabled(proto::SetClientDisabledRequest {
            id: id.clone(),
            disabled: true,
        })
        .await
        .unwrap();
    assert_error(
        exchange(&server, &id, &secret, &code).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn invalid_client_confidential_client_without_http_basic() {
    let (server, id, secret) = partner_setup().await;
    let mut form = code_form("c");
    form.push(("client_id", &id));
    form.push(("client_secret", &secret));
    assert_error(
        post_form(&server, "/token", None, &form).await,
        401,
        "invalid_client",
    )
    .await;
    let mut only_id = code_form("c");
    only_id.push(("client_id", &id));
    assert_error(
        post_form(&server, "/token", None, &only_id).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn invalid_client_public_client_omits_client_id() {
    let server = TestServer::spawn().await;
    let id = create_public_client(&mut server.admin()).await;
    assert_error(
        post_form(&server, "/token", None, &code_form("c")).await,
        401,
        "invalid_client",
    )
    .await;
    // A public client sending a secret or Basic is refused too.
    let mut with_secret = code_form("c");
    with_secret.push(("client_id", &id));
    with_secret.push(("client_secret", "x"));
    assert_error(
        post_form(&server, "/token", None, &with_secret).await,
        401,
        "invalid_client",
    )
    .await;
    assert_error(
        post_form(&server, "/token", Some((&id, "")), &code_form("c")).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn invalid_client_credentials_in_both_basic_and_body() {
    let (server, id, secret) = partner_setup().await;
    let mut form = code_form("c");
    form.push(("client_secret", &secret));
    assert_error(
        post_token(&server, &id, &secret, &form).await,
        401,
        "invalid_client",
    )
    .await;
    let mut other_id = code_form("c");
    other_id.push(("client_id", "someone-else"));
    assert_error(
        post_token(&server, &id, &secret, &other_id).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn invalid_grant_authorization_code_already_used_revokes_what_it_issued() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    let first: serde_json::Value = exchange(&server, &id, &secret, &code)
        .await
        .json()
        .await
        .unwrap();
    assert_error(
        exchange(&server, &id, &secret, &code).await,
        400,
        "invalid_grant",
    )
    .await;
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        401
    );
    let refresh_token = first["refresh_token"].as_str().unwrap();
    assert_error(
        refresh(&server, &id, &secret, refresh_token).await,
        400,
        "invalid_grant",
    )
    .await;
    let (events, _) = server
        .store
        .list_events(20, 0, &gatehouse::model::EventFilter::security())
        .unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == gatehouse::model::EventKind::CodeReuse));
    let family = newest_family(&server);
    assert_eq!(
        family.revoked.unwrap().reason,
        gatehouse::model::RevokeReason::CodeReuse
    );
}

#[tokio::test]
async fn a_reused_code_with_a_wrong_verifier_revokes_nothing() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    let first: serde_json::Value = exchange(&server, &id, &secret, &code)
        .await
        .json()
        .await
        .unwrap();
    let wrong = "w".repeat(43);
    let form = code_form_with(&code, "code_verifier", &wrong);
    assert_error(
        post_token(&server, &id, &secret, &form).await,
        400,
        "invalid_grant",
    )
    .await;
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn invalid_grant_authorization_code_expired_after_60_seconds() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    server.clock.advance(59);
    assert_eq!(
        exchange(&server, &id, &secret, &code).await.status(),
        200,
        "alive at +59 s"
    );
    let code = code_for(&server, &id).await;
    server.clock.advance(60);
    assert_error(
        exchange(&server, &id, &secret, &code).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn invalid_grant_code_verifier_does_not_hash_to_the_challenge() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    let other = "a".repeat(43);
    let form = code_form_with(&code, "code_verifier", &other);
    assert_error(
        post_token(&server, &id, &secret, &form).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn invalid_grant_redirect_uri_differs_from_the_original_request() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    let form = code_form_with(&code, "redirect_uri", "https://partner.example/cb?thensome");
    assert_error(
        post_token(&server, &id, &secret, &form).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn invalid_grant_code_issued_to_another_client() {
    let (server, id, _) = partner_setup().await;
    let (other_id, other_secret) = create_client(&mut server.admin(), REDIRECT_URI).await;
    let code = code_for(&server, &id).await;
    assert_error(
        exchange(&server, &other_id, &other_secret, &code).await,
        400,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn invalid_grant_refresh_token_expired_after_30_days_idle() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    server.clock.advance(30 * 24 * 3600 - 1);
    let response = refresh(
        &server,
        &id,
        &secret,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(response.status(), 200, "alive one second before 30 days");
    let rotated: serde_json::Value = response.json().await.unwrap();
    server.clock.advance(30 * 24 * 3600);
    let response = refresh(
        &server,
        &id,
        &secret,
        rotated["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_error(response, 400, "invalid_grant").await;
}

#[tokio::test]
async fn invalid_grant_refresh_token_already_rotated_revokes_the_grant() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let old = tokens["refresh_token"].as_str().unwrap();
    let rotated: serde_json::Value = refresh(&server, &id, &secret, old)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
    assert_error(
        refresh(&server, &id, &secret, old).await,
        400,
        "invalid_grant",
    )
    .await;
    let new_refresh = rotated["refresh_token"].as_str().unwrap();
    assert_error(
        refresh(&server, &id, &secret, new_refresh).await,
        400,
        "invalid_grant",
    )
    .await;
    let new_access = rotated["access_token"].as_str().unwrap();
    assert_eq!(
        introspect(&server, &id, &secret, new_access).await,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn a_replay_without_valid_client_authentication_revokes_nothing() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let old = tokens["refresh_token"].as_str().unwrap();
    let rotated: serde_json::Value = refresh(&server, &id, &secret, old)
        .await
        .json()
        .await
        .unwrap();
    assert_error(
        refresh(&server, &id, "gcs_wrong", old).await,
        401,
        "invalid_client",
    )
    .await;
    let (other_id, other_secret) = create_client(&mut server.admin(), REDIRECT_URI).await;
    assert_error(
        refresh(&server, &other_id, &other_secret, old).await,
        400,
        "invalid_grant",
    )
    .await;
    let response = refresh(
        &server,
        &id,
        &secret,
        rotated["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(response.status(), 200, "the family is still alive");
}

#[tokio::test]
async fn unauthorized_client_only_authorization_code_configured_but_refresh_used() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    set_grant_types(&server, &id, &[proto::GrantType::AuthorizationCode]).await;
    let response = refresh(
        &server,
        &id,
        &secret,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_error(response, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn unauthorized_client_grant_type_removed_after_issuance_and_no_refresh_token_without_it() {
    let (server, id, secret) = partner_setup().await;
    set_grant_types(&server, &id, &[proto::GrantType::AuthorizationCode]).await;
    let tokens = tokens_for(&server, &id, &secret).await;
    assert!(
        tokens.get("refresh_token").is_none(),
        "no refresh_token grant type, no refresh token"
    );
    set_grant_types(&server, &id, &[proto::GrantType::RefreshToken]).await;
    let code = code_for_after_enabling(&server, &id).await;
    assert!(
        code.is_none(),
        "without authorization_code the browser flow is refused"
    );
}

async fn code_for_after_enabling(server: &TestServer, id: &str) -> Option<String> {
    let mut browser = Browser::new(server);
    let response = browser.authorize(&authorize_query(id, "s")).await;
    let target = location(&response);
    let query = query_of(&target);
    assert_eq!(query["error"], "unauthorized_client");
    query.get("code").cloned()
}

async fn set_grant_types(server: &TestServer, id: &str, grants: &[proto::GrantType]) {
    server
        .admin()
        .update_client(proto::UpdateClientRequest {
            id: id.into(),
            client: Some(proto::Client {
                grant_types: grants.iter().map(|g| *g as i32).collect(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["grant_types".into()],
            }),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn unsupported_grant_type_password_client_credentials_and_typos() {
    let (server, id, secret) = partner_setup().await;
    for grant in [
        "password",
        "client_credentials",
        "authorisation_code",
        "implicit",
    ] {
        let response = post_token(
            &server,
            &id,
            &secret,
            &[
                ("grant_type", grant),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
        assert_error(response, 400, "unsupported_grant_type").await;
    }
}

#[tokio::test]
async fn invalid_scope_unknown_or_broader_than_granted() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    for scope in ["orders", "profile orders", "bad\"scope"] {
        let response = post_token(
            &server,
            &id,
            &secret,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("scope", scope),
            ],
        )
        .await;
        assert_error(response, 400, "invalid_scope").await;
    }
    // The token was not consumed by the refusals; an equal scope is fine.
    let response = post_token(
        &server,
        &id,
        &secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("scope", "profile"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn temporarily_unavailable_in_maintenance_with_retry_after() {
    let (server, id, secret) = partner_setup().await;
    let code = code_for(&server, &id).await;
    server
        .admin()
        .set_maintenance(proto::SetMaintenanceRequest { on: true })
        .await
        .unwrap();
    let response = exchange(&server, &id, &secret, &code).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    assert_error(response, 503, "temporarily_unavailable").await;
    server
        .admin()
        .set_maintenance(proto::SetMaintenanceRequest { on: false })
        .await
        .unwrap();
    assert_eq!(
        exchange(&server, &id, &secret, &code).await.status(),
        200,
        "nothing was consumed"
    );
}

#[tokio::test]
async fn get_and_head_on_token_are_405_with_allow_post() {
    let (server, _, _) = partner_setup().await;
    for path in ["/token", "/revoke", "/introspect"] {
        let get = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(get.status(), 405);
        assert_eq!(get.headers()["allow"], "POST");
        assert_eq!(get.headers()["cache-control"], "no-store");
        let body: serde_json::Value = get.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
        let head = reqwest::Client::new()
            .head(server.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 405);
        assert_eq!(head.headers()["allow"], "POST");
    }
}

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let (server, id, secret) = partner_setup().await;
    // /token and /introspect run their handlers outside the router (http/hot.rs),
    // /revoke through it: the limit is the same both ways.
    for path in ["/token", "/introspect", "/revoke"] {
        for (kib, over_the_limit) in [(70, true), (60, false)] {
            let junk = "x".repeat(kib * 1024);
            let response = post_form(
                &server,
                path,
                Some((&id, &secret)),
                &[("token", "x"), ("junk", &junk)],
            )
            .await;
            assert_eq!(
                response.status() == 413,
                over_the_limit,
                "{path}, {kib} KiB"
            );
        }
    }
}

#[tokio::test]
async fn public_clients_exchange_with_client_id_in_the_body() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let id = create_public_client(&mut admin).await;
    create_user(&mut admin, "alice", PASSWORD).await;
    let code = code_for(&server, &id).await;
    let mut form = code_form(&code);
    form.push(("client_id", &id));
    let response = post_form(&server, "/token", None, &form).await;
    assert_eq!(response.status(), 200);
    let tokens: serde_json::Value = response.json().await.unwrap();
    let response = post_form(
        &server,
        "/token",
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", &id),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
}
