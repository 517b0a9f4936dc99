//! The resource API: the seed's "Errors from the resource server" (RFC 6750).

use crate::support::*;

fn challenge(response: &reqwest::Response) -> String {
    response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn me_answers_with_the_token_owner() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let response = me(
        &server,
        Some(&format!(
            "Bearer {}",
            tokens["access_token"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"sub": "alice", "username": "alice", "client_id": id, "scope": "profile"})
    );
}

#[tokio::test]
async fn missing_or_malformed_authorization_header_gets_the_bare_challenge() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let basic = basic_header(&id, &secret);
    for header in [
        None,
        Some("Bearer"),
        Some("Bearer "),
        Some(basic.as_str()),
        Some("Token abc"),
    ] {
        let response = me(&server, header).await;
        assert_eq!(response.status(), 401, "{header:?}");
        assert_eq!(
            challenge(&response),
            "Bearer realm=\"gatehouse\"",
            "no error code for {header:?}"
        );
    }
    // An access token in the query is ignored (treated as no credentials).
    let url = server.url(&format!(
        "/api/public/v1/me?access_token={}",
        tokens["access_token"].as_str().unwrap()
    ));
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(challenge(&response), "Bearer realm=\"gatehouse\"");
}

#[tokio::test]
async fn the_scheme_is_case_insensitive() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let token = tokens["access_token"].as_str().unwrap();
    for scheme in ["bearer", "BEARER", "bEaReR"] {
        assert_eq!(
            me(&server, Some(&format!("{scheme} {token}")))
                .await
                .status(),
            200,
            "{scheme}"
        );
    }
}

#[tokio::test]
async fn invalid_token_for_expired_revoked_unknown_or_refresh_tokens() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let access = tokens["access_token"].as_str().unwrap();
    let mut flipped = access.to_owned();
    flipped.pop();
    flipped.push(if access.ends_with('A') { 'B' } else { 'A' });
    for token in [
        "gat_unknown",
        flipped.as_str(),
        tokens["refresh_token"].as_str().unwrap(),
    ] {
        let response = me(&server, Some(&format!("Bearer {token}"))).await;
        assert_eq!(response.status(), 401);
        let header = challenge(&response);
        assert!(
            header.starts_with(
                "Bearer realm=\"gatehouse\", error=\"invalid_token\", error_description=\""
            ),
            "{header}"
        );
    }
    server.clock.advance(3599);
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        200,
        "alive at expires_in - 1"
    );
    server.clock.advance(1);
    let expired = me(&server, Some(&format!("Bearer {access}"))).await;
    assert_eq!(expired.status(), 401, "dead at expires_in");
    assert!(challenge(&expired).contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn insufficient_scope_is_403_naming_the_scope() {
    let server = TestServer::spawn().await;
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
    let created = admin
        .create_client(proto::CreateClientRequest {
            name: "Orders app".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            scopes: vec!["orders".into()],
            grant_types: vec![],
            public: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    create_user(&mut admin, "alice", PASSWORD).await;
    let id = created.client.unwrap().id;
    let mut browser = Browser::new(&server);
    let mut query = authorize_query(&id, "s");
    query.retain(|(name, _)| *name != "scope");
    query.push(("scope", "orders"));
    let page = browser.authorize(&query).await.text().await.unwrap();
    let login = browser.login(&page, "alice", PASSWORD).await;
    let consent = browser.get(&location(&login)).await.text().await.unwrap();
    let code = query_of(&location(&browser.decide(&consent, "allow").await))["code"].clone();
    let tokens: serde_json::Value = exchange(&server, &id, &created.client_secret, &code)
        .await
        .json()
        .await
        .unwrap();
    let response = me(
        &server,
        Some(&format!(
            "Bearer {}",
            tokens["access_token"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(response.status(), 403);
    let header = challenge(&response);
    assert!(
        header.starts_with("Bearer realm=\"gatehouse\", error=\"insufficient_scope\""),
        "{header}"
    );
    assert!(header.ends_with("scope=\"profile\""), "{header}");
}

#[tokio::test]
async fn two_tokens_are_an_invalid_request() {
    let (server, _, _) = partner_setup().await;
    let response = me(&server, Some("Bearer a b")).await;
    assert_eq!(response.status(), 400);
    assert!(challenge(&response).contains("error=\"invalid_request\""));
}
