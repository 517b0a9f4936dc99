//! /authorize: the seed's "Errors from /authorize" table, row by row, plus the
//! HTML error page, login and consent.

use crate::support::*;

fn without<'a>(query: &[(&'a str, &'a str)], name: &str) -> Vec<(&'a str, &'a str)> {
    query
        .iter()
        .filter(|(key, _)| *key != name)
        .cloned()
        .collect()
}

fn with<'a>(
    query: &[(&'a str, &'a str)],
    name: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut query = without(query, name);
    query.push((name, value));
    query
}

/// Asserts a 303 error redirect to the registered URI and returns its query.
async fn error_redirect(
    response: reqwest::Response,
    server: &TestServer,
    error: &str,
) -> std::collections::HashMap<String, String> {
    assert_eq!(response.status(), 303);
    let target = location(&response);
    assert!(target.starts_with(&format!("{REDIRECT_URI}?")), "{target}");
    let query = query_of(&target);
    assert_eq!(
        query.get("error").map(String::as_str),
        Some(error),
        "{target}"
    );
    assert!(query.contains_key("error_description"));
    assert_eq!(query["iss"], server.url(""));
    assert_eq!(response.headers()["cache-control"], "no-store");
    query
}

fn assert_page_headers(response: &reqwest::Response) {
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["x-frame-options"], "DENY");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(
        headers.get("location").is_none(),
        "an HTML page never redirects"
    );
    assert!(headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn invalid_request_missing_or_malformed_parameters_redirect() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let base = authorize_query(&id, "s1");
    let long = "f".repeat(129);
    let short = "f".repeat(42);
    let cases = [
        without(&base, "response_type"),
        without(&base, "code_challenge"),
        without(&base, "code_challenge_method"),
        with(&base, "code_challenge_method", "plain"),
        with(&base, "code_challenge_method", "S512"),
        with(&base, "code_challenge", &long),
        with(&base, "code_challenge", &short),
        with(
            &base,
            "code_challenge",
            "ffffffffffffffffffffffffffffffffffffffffff&",
        ),
    ];
    for query in cases {
        let query =
            error_redirect(browser.authorize(&query).await, &server, "invalid_request").await;
        assert_eq!(query["state"], "s1", "state is echoed on errors");
    }
    // A duplicated parameter, even with one copy empty.
    let mut duplicated = base.clone();
    duplicated.push(("scope", ""));
    error_redirect(
        browser.authorize(&duplicated).await,
        &server,
        "invalid_request",
    )
    .await;
    let mut duplicated_state = base.clone();
    duplicated_state.push(("state", "s2"));
    let query = error_redirect(
        browser.authorize(&duplicated_state).await,
        &server,
        "invalid_request",
    )
    .await;
    assert!(
        !query.contains_key("state"),
        "a duplicated state is not echoed"
    );
}

#[tokio::test]
async fn unauthorized_client_without_the_authorization_code_grant_type_redirects() {
    let (server, id, _) = partner_setup().await;
    let mut admin = server.admin();
    admin
        .update_client(proto::UpdateClientRequest {
            id: id.clone(),
            client: Some(proto::Client {
                grant_types: vec![proto::GrantType::RefreshToken as i32],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["grant_types".into()],
            }),
        })
        .await
        .unwrap();
    let mut browser = Browser::new(&server);
    error_redirect(
        browser.authorize(&authorize_query(&id, "s")).await,
        &server,
        "unauthorized_client",
    )
    .await;
}

#[tokio::test]
async fn access_denied_when_the_user_clicks_deny() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let consent = browser.consent_page(&id, "alice").await;
    let response = browser.decide(&consent, "deny").await;
    let query = error_redirect(response, &server, "access_denied").await;
    assert_eq!(query["state"], "s");
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn unsupported_response_type_when_not_code() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    for response_type in ["token", "id_token", "code token"] {
        let response = browser
            .authorize(&with(
                &authorize_query(&id, "s"),
                "response_type",
                response_type,
            ))
            .await;
        let query = error_redirect(response, &server, "unsupported_response_type").await;
        assert!(!query.contains_key("access_token"));
    }
}

#[tokio::test]
async fn invalid_scope_outside_the_allowed_scopes_redirects() {
    let (server, id, _) = partner_setup().await;
    let mut admin = server.admin();
    admin
        .upsert_scope(proto::UpsertScopeRequest {
            scope: Some(proto::Scope {
                name: "orders".into(),
                description: "Read your orders".into(),
            }),
        })
        .await
        .unwrap();
    let mut browser = Browser::new(&server);
    for scope in ["orders", "unknown", "profile orders", "read%22", "a  b"] {
        let response = browser
            .authorize(&with(&authorize_query(&id, "s"), "scope", scope))
            .await;
        error_redirect(response, &server, "invalid_scope").await;
    }
}

/// A storage failure while the code is minted: back to the client with
/// `server_error` and its state, no code.
#[tokio::test]
async fn server_error_when_storage_fails_as_the_code_is_minted() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let consent = browser.consent_page(&id, "alice").await;
    server.store.set_fail_point(
        "grant_code.before_commit",
        Some(gatehouse::store::FailAction::Error),
    );
    let query = error_redirect(
        browser.decide(&consent, "allow").await,
        &server,
        "server_error",
    )
    .await;
    assert_eq!(query["state"], "s");
    assert!(!query.contains_key("code"));
}

/// A client deleted while its consent page is open: its redirect URIs can no
/// longer be trusted, so an error page, never a redirect and never a code.
#[tokio::test]
async fn a_client_deleted_mid_flow_gets_the_error_page_and_no_code() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let consent = browser.consent_page(&id, "alice").await;
    server
        .admin()
        .delete_client(proto::DeleteClientRequest { id })
        .await
        .unwrap();
    let response = browser.decide(&consent, "allow").await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("no longer registered"));
}

#[tokio::test]
async fn temporarily_unavailable_in_maintenance() {
    let (server, id, _) = partner_setup().await;
    server
        .admin()
        .set_maintenance(proto::SetMaintenanceRequest { on: true })
        .await
        .unwrap();
    let mut browser = Browser::new(&server);
    error_redirect(
        browser.authorize(&authorize_query(&id, "s")).await,
        &server,
        "temporarily_unavailable",
    )
    .await;
    // Step 1 still comes first: an unknown client gets the page, not a redirect.
    let response = browser
        .authorize(&with(&authorize_query(&id, "s"), "client_id", "nope"))
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn html_error_page_for_unknown_client_or_mismatched_redirect_uri() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let base = authorize_query(&id, "s");
    let near_misses = [
        "https://partner.example:443/cb",
        "https://PARTNER.example/cb",
        "https://partner.example/cb/",
        "https://partner.example/cb?x=1",
        "https://partner.example/cb#f",
        "https://partner.example/cb%2F..",
        "https://partner.example/cb/..%2FFAKEPATH",
        "https://partner.example/cb%3B%2F..%2F..%2FFAKEPATH",
        "https://partner.example/cb%0A%0D/../../FAKEPATH",
        "http://partner.example/cb",
        "https://partner.example.evil/cb",
        "https://partner.example@evil/cb",
    ];
    let mut cases: Vec<Vec<(&str, &str)>> = near_misses
        .iter()
        .map(|uri| with(&base, "redirect_uri", uri))
        .collect();
    cases.push(with(&base, "client_id", "nope"));
    cases.push(without(&base, "client_id"));
    cases.push(without(&base, "redirect_uri"));
    let mut duplicated = base.clone();
    duplicated.push(("redirect_uri", "https://evil.example/cb"));
    cases.push(duplicated);
    let mut duplicated = base.clone();
    duplicated.push(("client_id", &id));
    cases.push(duplicated);
    for query in cases {
        let response = browser.authorize(&query).await;
        assert_eq!(response.status(), 400, "{query:?}");
        assert_page_headers(&response);
        let body = response.text().await.unwrap();
        assert!(!body.contains("evil"), "no link to the attacker's URI");
    }
    // A disabled client gets the page too.
    server
        .admin()
        .set_client_disabled(proto::SetClientDisabledRequest {
            id: id.clone(),
            disabled: true,
        })
        .await
        .unwrap();
    assert_eq!(browser.authorize(&base).await.status(), 400);
}

#[tokio::test]
async fn reflected_input_on_the_error_page_is_escaped() {
    let (server, _, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let response = browser
        .get("/authorize?client_id=%3Cscript%3Ealert(1)%3C%2Fscript%3E&redirect_uri=x")
        .await;
    assert_eq!(response.status(), 400);
    assert!(!response.text().await.unwrap().contains("<script>"));
    let malformed = browser.get("/authorize?client_id=%zz").await;
    assert_eq!(malformed.status(), 400);
}

#[tokio::test]
async fn success_redirect_carries_code_state_and_iss_and_keeps_the_registered_query() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let registered = "https://partner.example/cb?tenant=a";
    let (id, _) = create_client(&mut admin, registered).await;
    create_user(&mut admin, "alice", PASSWORD).await;
    let mut browser = Browser::new(&server);
    let query = with(
        &with(&authorize_query(&id, ""), "redirect_uri", registered),
        "state",
        "a b&c=+\u{20ac}",
    );
    let page = browser.authorize(&query).await.text().await.unwrap();
    let login = browser.login(&page, "alice", PASSWORD).await;
    let consent = browser.get(&location(&login)).await.text().await.unwrap();
    let response = browser.decide(&consent, "allow").await;
    assert_eq!(response.status(), 303);
    let target = location(&response);
    assert!(
        target.starts_with("https://partner.example/cb?tenant=a&"),
        "{target}"
    );
    let params = query_of(&target);
    assert_eq!(params["state"], "a b&c=+\u{20ac}");
    assert_eq!(params["iss"], server.url(""));
    assert!(params["code"].len() >= 43);
    assert_eq!(params["tenant"], "a");
}

#[tokio::test]
async fn an_empty_state_is_absent_from_the_redirect() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let response = browser
        .authorize(&with(
            &authorize_query(&id, ""),
            "code_challenge_method",
            "plain",
        ))
        .await;
    let query = error_redirect(response, &server, "invalid_request").await;
    assert!(!query.contains_key("state"));
}

#[tokio::test]
async fn login_and_consent_pages_are_protected_and_consent_is_remembered() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let response = browser.authorize(&authorize_query(&id, "s")).await;
    assert_eq!(response.status(), 200);
    assert_page_headers(&response);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("name=\"username\"")
            && page.contains("name=\"password\"")
            && page.contains("Partner")
    );
    let login = browser.login(&page, "alice", PASSWORD).await;
    assert_eq!(login.status(), 303);
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let consent = browser.get(&location(&login)).await;
    assert_page_headers(&consent);
    let consent = consent.text().await.unwrap();
    assert!(
        consent.contains("Read your profile"),
        "scope descriptions are listed"
    );
    assert!(consent.contains("value=\"allow\"") && consent.contains("value=\"deny\""));
    let allowed = browser.decide(&consent, "allow").await;
    assert!(query_of(&location(&allowed)).contains_key("code"));

    // Within the granted scopes, the next request skips both pages.
    let again = browser.authorize(&authorize_query(&id, "t")).await;
    assert_eq!(again.status(), 303);
    let params = query_of(&location(&again));
    assert_eq!(params["state"], "t");
    assert!(params.contains_key("code"));
}

#[tokio::test]
async fn forms_need_the_csrf_token_of_this_browser() {
    let (server, id, _) = partner_setup().await;
    let mut victim = Browser::new(&server);
    let page = victim
        .authorize(&authorize_query(&id, "s"))
        .await
        .text()
        .await
        .unwrap();
    let txn = hidden(&page, "txn");
    let csrf = hidden(&page, "csrf");
    let forged = victim
        .post_form(
            "/login",
            &[
                ("txn", &txn),
                ("csrf", "wrong"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
    let mut attacker = Browser::new(&server);
    let stolen = attacker
        .post_form(
            "/login",
            &[
                ("txn", &txn),
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        stolen.status(),
        403,
        "the form is bound to the browser that got it"
    );
    // A redirect_uri smuggled into the consent POST is ignored.
    let login = victim.login(&page, "alice", PASSWORD).await;
    let consent = victim.get(&location(&login)).await.text().await.unwrap();
    let response = victim
        .post_form(
            "/consent",
            &[
                ("txn", &hidden(&consent, "txn")),
                ("csrf", &hidden(&consent, "csrf")),
                ("decision", "allow"),
                ("redirect_uri", "https://evil.example/cb"),
            ],
        )
        .await;
    assert!(location(&response).starts_with(REDIRECT_URI));
}

#[tokio::test]
async fn wrong_password_shows_the_login_page_again_and_repeated_failures_are_throttled() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let page = browser
        .authorize(&authorize_query(&id, "s"))
        .await
        .text()
        .await
        .unwrap();
    let before = browser.cookie("gh_session").cloned();
    for attempt in 0..5 {
        let response = browser.login(&page, "alice", "wrong password").await;
        assert_eq!(response.status(), 200, "attempt {attempt}");
        assert!(response.headers().get("location").is_none());
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("Wrong username or password"));
    }
    let locked = browser.login(&page, "alice", PASSWORD).await;
    assert_eq!(
        locked.status(),
        429,
        "locked out: even the right password is refused"
    );
    assert!(locked
        .text()
        .await
        .unwrap()
        .contains("too many attempts, try again in"));
    assert_eq!(
        browser.cookie("gh_session").cloned(),
        before,
        "no session was created"
    );
    server.clock.advance(2);
    let unlocked = browser.login(&page, "alice", PASSWORD).await;
    assert_eq!(unlocked.status(), 303, "the lockout ends");
    // One aggregated row per reason, with the true counts.
    let rows = flushed_failures(&server, "login_failed", 6).await;
    let count_of = |reason: &str| -> i64 {
        rows.iter()
            .filter(|e| e.detail.ends_with(&format!("({reason})")))
            .map(|e| e.count)
            .sum()
    };
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(count_of("wrong username or password"), 5);
    assert_eq!(count_of("locked out"), 1);
    assert!(rows
        .iter()
        .all(|e| e.source == "127.0.0.1" && e.username.is_empty()));
}

#[tokio::test]
async fn disabled_users_cannot_log_in() {
    let (server, id, _) = partner_setup().await;
    server
        .admin()
        .set_user_disabled(proto::SetUserDisabledRequest {
            username: "alice".into(),
            disabled: true,
        })
        .await
        .unwrap();
    let mut browser = Browser::new(&server);
    let page = browser
        .authorize(&authorize_query(&id, "s"))
        .await
        .text()
        .await
        .unwrap();
    let response = browser.login(&page, "alice", PASSWORD).await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("disabled"));
}

#[tokio::test]
async fn authorize_answers_405_to_post() {
    let (server, _, _) = partner_setup().await;
    let response = reqwest::Client::new()
        .post(server.url("/authorize"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
}

#[tokio::test]
async fn metadata_advertises_only_what_is_supported() {
    let (server, _, _) = partner_setup().await;
    let metadata: serde_json::Value =
        reqwest::get(server.url("/.well-known/oauth-authorization-server"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let issuer = server.url("");
    assert_eq!(metadata["issuer"], issuer);
    assert_eq!(
        metadata["authorization_endpoint"],
        format!("{issuer}/authorize")
    );
    assert_eq!(metadata["token_endpoint"], format!("{issuer}/token"));
    assert_eq!(
        metadata["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        metadata["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "none"])
    );
    assert_eq!(metadata["scopes_supported"], serde_json::json!(["profile"]));
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
}

/// RFC 8252 §7.3: a native (public) client registered with a loopback IP
/// redirect URI without a port may use any port; everything else stays exact,
/// and confidential clients get no such leeway.
#[tokio::test]
async fn a_native_clients_loopback_redirect_matches_any_port() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    create_user(&mut admin, "alice", PASSWORD).await;
    let register = |public: bool| proto::CreateClientRequest {
        name: "Native".into(),
        redirect_uris: vec!["http://127.0.0.1/cb".into(), "http://[::1]/cb".into()],
        scopes: vec!["profile".into()],
        grant_types: vec![],
        public,
        ..Default::default()
    };
    let native = admin
        .create_client(register(true))
        .await
        .unwrap()
        .into_inner();
    let native = native.client.unwrap().id;
    let web = admin
        .create_client(register(false))
        .await
        .unwrap()
        .into_inner();
    let web = web.client.unwrap().id;
    let status = |client: String, redirect: &'static str| {
        let server = &server;
        async move {
            let mut query = authorize_query(&client, "s");
            for pair in query.iter_mut().filter(|(name, _)| *name == "redirect_uri") {
                pair.1 = redirect;
            }
            Browser::new(server)
                .authorize(&query)
                .await
                .status()
                .as_u16()
        }
    };
    for accepted in [
        "http://127.0.0.1/cb",
        "http://127.0.0.1:51234/cb",
        "http://[::1]:8/cb",
    ] {
        assert_eq!(status(native.clone(), accepted).await, 200, "{accepted}");
    }
    for refused in [
        "http://127.0.0.1:51234/other",
        "http://127.0.0.1:0/cb",
        "http://127.0.0.1:99999/cb",
        "http://127.0.0.1:/cb",
        "http://localhost:51234/cb",
        "http://127.0.0.1:51234/cb?x=1",
    ] {
        assert_eq!(status(native.clone(), refused).await, 400, "{refused}");
    }
    assert_eq!(status(web.clone(), "http://127.0.0.1:51234/cb").await, 400);
    assert_eq!(status(web, "http://127.0.0.1/cb").await, 200);
}
