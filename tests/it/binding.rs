//! The browser flow binds to who and what was checked: remembered consent
//! ends with the grants it stood for, a code reflects the client and user as
//! they are when it is minted, and Allow counts only for the user who saw the
//! consent page.

use crate::support::*;

/// The login page, the consent page, or a redirect with a code: what a signed-in
/// browser gets from /authorize.
#[derive(Debug, PartialEq)]
enum Shown {
    Login,
    Consent,
    Code,
}

async fn authorize_shows(browser: &mut Browser, client_id: &str) -> Shown {
    let response = browser.authorize(&authorize_query(client_id, "s")).await;
    if response.status() == 303 {
        assert!(query_of(&location(&response)).contains_key("code"));
        return Shown::Code;
    }
    let page = response.text().await.unwrap();
    if page.contains("name=\"password\"") {
        Shown::Login
    } else {
        assert!(page.contains("name=\"decision\""), "{page}");
        Shown::Consent
    }
}

#[tokio::test]
async fn revoking_a_clients_grants_forgets_the_consent() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    browser.obtain_code(&id, "alice").await;
    assert_eq!(
        authorize_shows(&mut browser, &id).await,
        Shown::Code,
        "remembered"
    );
    server
        .admin()
        .revoke_client_families(proto::RevokeClientFamiliesRequest {
            client_id: id.clone(),
            note: "incident".into(),
            dry_run: false,
        })
        .await
        .unwrap();
    assert_eq!(authorize_shows(&mut browser, &id).await, Shown::Consent);
}

#[tokio::test]
async fn revoking_a_users_grants_forgets_the_consent_and_ends_their_sessions() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    browser.obtain_code(&id, "alice").await;
    server
        .admin()
        .revoke_user_families(proto::RevokeUserFamiliesRequest {
            username: "alice".into(),
            note: String::new(),
            dry_run: false,
        })
        .await
        .unwrap();
    assert_eq!(
        authorize_shows(&mut browser, &id).await,
        Shown::Login,
        "signed out"
    );
    browser.consent_page(&id, "alice").await;
}

#[tokio::test]
async fn revoking_one_family_forgets_its_consent() {
    let (server, id, secret) = partner_setup().await;
    tokens_for(&server, &id, &secret).await;
    let family = newest_family(&server).id;
    server
        .admin()
        .revoke_family(proto::RevokeFamilyRequest {
            id: family.into_string(),
            note: String::new(),
            dry_run: false,
        })
        .await
        .unwrap();
    let mut browser = Browser::new(&server);
    browser.consent_page(&id, "alice").await;
}

#[tokio::test]
async fn a_client_disabled_during_consent_gets_no_code_even_after_it_is_enabled() {
    let (server, id, _) = partner_setup().await;
    let mut browser = Browser::new(&server);
    let consent = browser.consent_page(&id, "alice").await;
    let set_disabled = |disabled: bool| {
        let (mut admin, id) = (server.admin(), id.clone());
        async move {
            admin
                .set_client_disabled(proto::SetClientDisabledRequest { id, disabled })
                .await
                .unwrap()
        }
    };
    set_disabled(true).await;
    let response = browser.decide(&consent, "allow").await;
    assert_eq!(response.status(), 400);
    assert!(
        response.headers().get("location").is_none(),
        "no redirect, no code"
    );
    set_disabled(false).await;
    let again = browser.decide(&consent, "allow").await;
    assert_eq!(
        again.status(),
        403,
        "the pending request ended with the refusal"
    );
    let conn = rusqlite::Connection::open(server.data_dir().join("gatehouse.db")).unwrap();
    let codes: i64 = conn
        .query_row("SELECT count(*) FROM auth_codes", [], |row| row.get(0))
        .unwrap();
    assert_eq!(codes, 0, "no code was ever minted");
}

#[tokio::test]
async fn a_scope_removed_during_consent_is_not_granted() {
    let (server, id, _) = partner_setup().await;
    let mut admin = server.admin();
    admin
        .upsert_scope(proto::UpsertScopeRequest {
            scope: Some(proto::Scope {
                name: "email".into(),
                description: "Read your email address".into(),
            }),
        })
        .await
        .unwrap();
    let set_scopes = |scopes: &[&str]| proto::UpdateClientRequest {
        id: id.clone(),
        client: Some(proto::Client {
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["scopes".into()],
        }),
    };
    admin
        .update_client(set_scopes(&["profile", "email"]))
        .await
        .unwrap();
    let mut browser = Browser::new(&server);
    let mut query = authorize_query(&id, "s");
    for pair in query.iter_mut().filter(|(name, _)| *name == "scope") {
        pair.1 = "profile email";
    }
    let page = browser.authorize(&query).await.text().await.unwrap();
    let login = browser.login(&page, "alice", PASSWORD).await;
    let consent = browser.get(&location(&login)).await.text().await.unwrap();
    assert!(consent.contains("Read your email address"));
    admin.update_client(set_scopes(&["profile"])).await.unwrap();
    let response = browser.decide(&consent, "allow").await;
    assert_eq!(response.status(), 303);
    let query = query_of(&location(&response));
    assert_eq!(
        query.get("error").map(String::as_str),
        Some("invalid_scope")
    );
    assert!(!query.contains_key("code"));
}

/// Two login pages in one browser: alice signs in on the first and sees its
/// consent page, bob signs in on the second; Allow on the first never yields a
/// code for bob (or for anyone).
#[tokio::test]
async fn allow_counts_only_for_the_user_who_saw_the_consent_page() {
    let (server, id, secret) = partner_setup().await;
    create_user(&mut server.admin(), "bob", PASSWORD).await;
    let mut browser = Browser::new(&server);
    let first = browser
        .authorize(&authorize_query(&id, "first"))
        .await
        .text()
        .await
        .unwrap();
    let second = browser
        .authorize(&authorize_query(&id, "second"))
        .await
        .text()
        .await
        .unwrap();
    let login = browser.login(&first, "alice", PASSWORD).await;
    let alice_consent = browser.get(&location(&login)).await.text().await.unwrap();
    assert!(alice_consent.contains("Signed in as <strong>alice</strong>"));
    let login = browser.login(&second, "bob", PASSWORD).await;
    let bob_consent = browser.get(&location(&login)).await.text().await.unwrap();

    let stale = browser.decide(&alice_consent, "allow").await;
    assert_eq!(stale.status(), 403);
    assert!(stale.headers().get("location").is_none());

    let allowed = browser.decide(&bob_consent, "allow").await;
    let code = query_of(&location(&allowed))["code"].clone();
    let tokens: serde_json::Value = exchange(&server, &id, &secret, &code)
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        introspect(&server, &id, &secret, access).await["username"],
        "bob"
    );
}

/// RFC 7662 §4: a client introspects its own tokens; only a resource server
/// may introspect any client's; to anyone else another client's token is
/// simply not active.
#[tokio::test]
async fn only_the_tokens_own_client_or_a_resource_server_may_introspect_it() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let access = tokens["access_token"].as_str().unwrap();
    let mut admin = server.admin();
    let (other, other_secret) = create_client(&mut admin, REDIRECT_URI).await;
    let (rs, rs_secret) = create_resource_server(&mut admin).await;
    let own = introspect(&server, &id, &secret, access).await;
    assert_eq!(
        (own["active"].clone(), own["username"].clone()),
        (true.into(), "alice".into())
    );
    assert_eq!(
        introspect(&server, &other, &other_secret, access).await,
        serde_json::json!({"active": false}),
        "another plain client learns nothing"
    );
    assert_eq!(
        introspect(&server, &rs, &rs_secret, access).await["active"],
        true
    );

    let shown = server
        .cli_json(&["client", "update", &other, "--resource-server"])
        .await;
    assert_eq!(shown["resource_server"], true);
    assert_eq!(
        introspect(&server, &other, &other_secret, access).await["active"],
        true
    );
    let shown = server
        .cli_json(&["client", "update", &other, "--resource-server", "false"])
        .await;
    assert_eq!(shown["resource_server"], false);
    assert_eq!(
        introspect(&server, &other, &other_secret, access).await["active"],
        false
    );
}
