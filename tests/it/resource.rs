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
    // Sized, though /me skips the router that sets Content-Length (http/hot.rs).
    let length: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), length);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
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

/// A token lookup keeps its reader's snapshot between requests, never past a
/// COMMIT. Here the writer cannot end the kept snapshot after the revocation's
/// COMMIT, because a lookup holds that reader (paused at `lookup.reading`, on
/// a thread of its own: a paused runtime worker could stall the tasks queued
/// behind it); the COMMIT's count must still retire it, so the revoked token
/// is refused on the very next request. (`store::readers::tests` show each of
/// the two checks that do it on its own.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kept_snapshot_never_outlives_a_commit() {
    let (server, id, secret) = partner_setup().await;
    // Longer than this test can take, however slow the machine: the reuse happens.
    server
        .store
        .set_snapshot_keep(std::time::Duration::from_secs(3600));
    let revoked = tokens_for(&server, &id, &secret).await;
    let other = tokens_for(&server, &id, &secret).await;
    let bearer =
        |tokens: &serde_json::Value| format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    // Keeps a snapshot on the first reader, in which `revoked` is live.
    assert_eq!(me(&server, Some(&bearer(&revoked))).await.status(), 200);
    let release = Paused::at(&server.store, "lookup.reading");
    let held = std::thread::spawn({
        let (store, now) = (server.store.clone(), server.clock.now());
        let token = other["access_token"].as_str().unwrap().to_owned();
        move || store.lookup_token(&token, now).unwrap().is_some()
    });
    let mut polls = 0;
    while server.store.paused_fail_points() == 0 {
        polls += 1;
        assert!(polls < 500, "the lookup never reached its reader");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The held lookup took the first reader, the one with the kept snapshot;
    // the revocation commits while it is held there.
    let family = revoked["access_token"].as_str().unwrap()["gat_".len()..]
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    let mut admin = server.admin();
    let count = admin
        .revoke_family(proto::RevokeFamilyRequest {
            id: family,
            note: String::new(),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(count.revoked, 1, "{count:?}");
    drop(release);
    assert!(held.join().unwrap(), "the held lookup finds its live token");
    let after = me(&server, Some(&bearer(&revoked))).await;
    assert_eq!(
        after.status(),
        401,
        "the very next request sees the revocation"
    );
    assert_eq!(me(&server, Some(&bearer(&other))).await.status(), 200);
}

#[tokio::test]
async fn other_methods_on_me_need_the_token_first_then_get_405() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let client = reqwest::Client::new();
    for method in [reqwest::Method::POST, reqwest::Method::DELETE] {
        let url = server.url("/api/public/v1/me");
        // No token: the route is protected before the method is looked at.
        let response = client.request(method.clone(), &url).send().await.unwrap();
        assert_eq!(response.status(), 401, "{method}");
        assert_eq!(challenge(&response), "Bearer realm=\"gatehouse\"");
        let response = client
            .request(method.clone(), &url)
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "GET,HEAD");
    }
    // HEAD runs the GET handler, body dropped.
    let response = client
        .head(server.url("/api/public/v1/me"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
