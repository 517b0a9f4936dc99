//! `prompt` and `max_age` (OpenID Connect Core §3.1.2.1), sign-out, and the
//! browser-binding cookie the server accepts only if it issued it.

use crate::support::*;

fn with<'a>(query: &[(&'a str, &'a str)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = query.to_vec();
    all.extend_from_slice(extra);
    all
}

/// A browser signed in as alice that already consented to `id`.
async fn consented(server: &TestServer, id: &str) -> Browser {
    let mut browser = Browser::new(server);
    assert!(browser.obtain_code(id, "alice").await.contains_key("code"));
    browser
}

#[tokio::test]
async fn prompt_none_without_a_session_redirects_with_login_required() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let response = browser
        .authorize(&with(&authorize_query(&id, "s"), &[("prompt", "none")]))
        .await;
    assert_eq!(response.status(), 303);
    let query = query_of(&location(&response));
    assert_eq!(query["error"], "login_required");
    assert_eq!(query["state"], "s");
}

#[tokio::test]
async fn prompt_none_needing_consent_redirects_with_consent_required_and_else_issues_a_code() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let page = browser.login_page(&id).await;
    browser.login(&page, "alice", PASSWORD).await;
    let response = browser
        .authorize(&with(&authorize_query(&id, "s"), &[("prompt", "none")]))
        .await;
    assert_eq!(query_of(&location(&response))["error"], "consent_required");
    let mut browser = consented(&server, &id).await;
    let response = browser
        .authorize(&with(&authorize_query(&id, "s"), &[("prompt", "none")]))
        .await;
    assert!(query_of(&location(&response)).contains_key("code"));
}

#[tokio::test]
async fn prompt_login_asks_for_the_password_again_once() {
    let (server, id, _) = partner_setup().await;
    let mut browser = consented(&server, &id).await;
    let query = with(&authorize_query(&id, "s"), &[("prompt", "login")]);
    let page = browser.authorize(&query).await.text().await.unwrap();
    assert!(
        page.contains("name=\"password\""),
        "a live session does not skip login"
    );
    let login = browser.login(&page, "alice", PASSWORD).await;
    let after = browser.get(&location(&login)).await;
    assert_eq!(
        after.status(),
        303,
        "signed in within this request: on to the client"
    );
    assert!(query_of(&location(&after)).contains_key("code"));
}

#[tokio::test]
async fn prompt_consent_shows_the_consent_page_although_consent_was_remembered() {
    let (server, id, _) = partner_setup().await;
    let mut browser = consented(&server, &id).await;
    let query = with(&authorize_query(&id, "s"), &[("prompt", "consent")]);
    let page = browser.authorize(&query).await.text().await.unwrap();
    assert!(page.contains("name=\"decision\""), "{page}");
}

#[tokio::test]
async fn max_age_forces_a_fresh_sign_in_once_the_session_is_older() {
    let (server, id, _) = partner_setup().await;
    let mut browser = consented(&server, &id).await;
    let query = with(&authorize_query(&id, "s"), &[("max_age", "300")]);
    let within = browser.authorize(&query).await;
    assert_eq!(within.status(), 303, "signed in 0 s ago");
    server.clock.advance(301);
    let page = browser.authorize(&query).await.text().await.unwrap();
    assert!(page.contains("name=\"password\""));
}

#[tokio::test]
async fn malformed_prompt_or_max_age_is_invalid_request() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    for extra in [
        [("prompt", "none login")],
        [("prompt", "select_account")],
        [("max_age", "-1")],
        [("max_age", "soon")],
    ] {
        let response = browser
            .authorize(&with(&authorize_query(&id, "s"), &extra))
            .await;
        assert_eq!(response.status(), 303, "{extra:?}");
        assert_eq!(
            query_of(&location(&response))["error"],
            "invalid_request",
            "{extra:?}"
        );
    }
}

#[tokio::test]
async fn metadata_advertises_the_prompt_values() {
    let server = TestServer::spawn().await;
    let metadata: serde_json::Value =
        reqwest::get(server.url("/.well-known/oauth-authorization-server"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(
        metadata["prompt_values_supported"],
        serde_json::json!(["none", "login", "consent"])
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_needs_its_csrf_token() {
    let (server, id, _) = partner_setup().await;
    let mut browser = consented(&server, &id).await;
    let forged = browser.post_form("/logout", &[("csrf", "guessed")]).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(
        browser.authorize(&authorize_query(&id, "s")).await.status(),
        303,
        "still signed in"
    );
    let page = browser.get("/logout").await.text().await.unwrap();
    assert!(page.contains("Signed in as <strong>alice</strong>"));
    let csp = browser.get("/logout").await.headers()["content-security-policy"].clone();
    assert!(csp.to_str().unwrap().contains("form-action 'self'"));
    let signed_out = browser
        .post_form("/logout", &[("csrf", &hidden(&page, "csrf"))])
        .await;
    assert_eq!(signed_out.status(), 200);
    assert!(signed_out.text().await.unwrap().contains("Signed out"));
    let page = browser.login_page(&id).await;
    assert!(page.contains("name=\"password\""), "signed out");
}

/// A browser cookie the server never issued is replaced, and a form bound to a
/// planted value never authenticates.
#[tokio::test]
async fn a_planted_browser_cookie_is_replaced_and_never_authenticates_a_form() {
    let (server, id, _) = partner_setup().await;
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(authorize_query(&id, "s"))
        .finish();
    let http = reqwest::Client::new();
    for planted in ["planted-by-attacker", "a", "../../"] {
        let response = http
            .get(server.url(&format!("/authorize?{query}")))
            .header("cookie", format!("gh_browser={planted}"))
            .send()
            .await
            .unwrap();
        let set = response
            .headers()
            .get("set-cookie")
            .unwrap_or_else(|| panic!("{planted:?} was kept"))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            set.starts_with("gh_browser=") && !set.starts_with(&format!("gh_browser={planted};"))
        );
        let page = response.text().await.unwrap();
        // The form was bound to the fresh value; with the planted one it fails.
        let login = http
            .post(server.url("/login"))
            .header("cookie", format!("gh_browser={planted}"))
            .form(&[
                ("txn", hidden(&page, "txn").as_str()),
                ("csrf", hidden(&page, "csrf").as_str()),
                ("username", "alice"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 403, "{planted:?}");
    }
}
