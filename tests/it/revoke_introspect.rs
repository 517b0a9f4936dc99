//! /revoke (RFC 7009) and /introspect (RFC 7662): the seed's tables.

use crate::support::*;

#[tokio::test]
async fn revoke_invalid_client_bad_credentials_is_401_with_the_basic_challenge() {
    let (server, id, _) = partner_setup().await;
    let response = post_form(
        &server,
        "/revoke",
        Some((&id, "gcs_wrong")),
        &[("token", "x")],
    )
    .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"gatehouse\""
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn revoke_invalid_request_missing_token_parameter() {
    let (server, id, secret) = partner_setup().await;
    let response = post_form(
        &server,
        "/revoke",
        Some((&id, &secret)),
        &[("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn revoke_answers_200_for_unknown_garbage_and_other_clients_tokens_without_touching_them() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let (other_id, other_secret) = create_client(&mut server.admin(), REDIRECT_URI).await;
    for token in [
        "garbage",
        "gat_unknown",
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    ] {
        let response = post_form(
            &server,
            "/revoke",
            Some((&other_id, &other_secret)),
            &[("token", token)],
        )
        .await;
        assert_eq!(response.status(), 200, "no oracle");
    }
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        200,
        "another client's token is untouched"
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_the_family_and_an_access_token_only_itself() {
    let (server, id, secret) = partner_setup().await;
    let first = tokens_for(&server, &id, &secret).await;
    let access = first["access_token"].as_str().unwrap();
    let response = post_form(
        &server,
        "/revoke",
        Some((&id, &secret)),
        &[("token", access), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        401,
        "revocation is immediate"
    );
    let refreshed = refresh(
        &server,
        &id,
        &secret,
        first["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        refreshed.status(),
        200,
        "the access token revoked only itself"
    );
    let rotated: serde_json::Value = refreshed.json().await.unwrap();

    let refresh_token = rotated["refresh_token"].as_str().unwrap();
    let response = post_form(
        &server,
        "/revoke",
        Some((&id, &secret)),
        &[("token", refresh_token), ("token_type_hint", "foo")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let new_access = rotated["access_token"].as_str().unwrap();
    assert_eq!(
        me(&server, Some(&format!("Bearer {new_access}")))
            .await
            .status(),
        401,
        "the family's access tokens die too"
    );
    let family = newest_family(&server);
    assert_eq!(
        family.revoked.unwrap().reason,
        gatehouse::model::RevokeReason::RevokeEndpoint
    );
}

#[tokio::test]
async fn introspect_needs_a_confidential_client() {
    let (server, id, _) = partner_setup().await;
    let response = post_form(
        &server,
        "/introspect",
        Some((&id, "gcs_wrong")),
        &[("token", "x")],
    )
    .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"gatehouse\""
    );
    let response = post_form(&server, "/introspect", None, &[("token", "x")]).await;
    assert_eq!(response.status(), 401);
    let public = create_public_client(&mut server.admin()).await;
    let response = post_form(
        &server,
        "/introspect",
        None,
        &[("token", "x"), ("client_id", &public)],
    )
    .await;
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn introspect_invalid_request_missing_token() {
    let (server, id, secret) = partner_setup().await;
    let response = post_form(&server, "/introspect", Some((&id, &secret)), &[]).await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn introspect_reports_live_tokens_and_only_active_false_otherwise() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let (resource_id, resource_secret) = create_resource_server(&mut server.admin()).await;
    let access = introspect(
        &server,
        &resource_id,
        &resource_secret,
        tokens["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(access["active"], true);
    assert_eq!(access["token_type"], "Bearer");
    assert_eq!(access["client_id"], id.as_str());
    assert_eq!(access["username"], "alice");
    assert_eq!(access["sub"], "alice");
    assert_eq!(access["scope"], "profile");
    assert_eq!(access["iss"], server.url(""));
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        3600
    );
    let refresh_info = introspect(
        &server,
        &id,
        &secret,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(refresh_info["token_type"], "refresh_token");
    for token in ["garbage", "gat_unknown", "grt_unknown", ""] {
        let response = post_form(
            &server,
            "/introspect",
            Some((&id, &secret)),
            &[("token", token)],
        )
        .await;
        if token.is_empty() {
            assert_eq!(response.status(), 400);
            continue;
        }
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            serde_json::json!({"active": false})
        );
    }
    // Expired access token: exactly {"active": false}.
    server.clock.advance(3600);
    assert_eq!(
        introspect(
            &server,
            &id,
            &secret,
            tokens["access_token"].as_str().unwrap()
        )
        .await,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn disabling_the_client_or_user_kills_live_tokens_at_once() {
    let (server, id, secret) = partner_setup().await;
    let (resource_id, resource_secret) = create_resource_server(&mut server.admin()).await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let access = tokens["access_token"].as_str().unwrap();
    server
        .admin()
        .set_client_disabled(proto::SetClientDisabledRequest {
            id: id.clone(),
            disabled: true,
        })
        .await
        .unwrap();
    assert_eq!(
        introspect(&server, &resource_id, &resource_secret, access).await,
        serde_json::json!({"active": false})
    );
    let response = me(&server, Some(&format!("Bearer {access}"))).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));
    server
        .admin()
        .set_client_disabled(proto::SetClientDisabledRequest {
            id: id.clone(),
            disabled: false,
        })
        .await
        .unwrap();
    assert_eq!(
        introspect(&server, &resource_id, &resource_secret, access).await["active"],
        false,
        "re-enabling brings no token back"
    );

    let tokens = tokens_for(&server, &id, &secret).await;
    server
        .admin()
        .set_user_disabled(proto::SetUserDisabledRequest {
            username: "alice".into(),
            disabled: true,
        })
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        introspect(&server, &resource_id, &resource_secret, access).await["active"],
        false
    );
    let family = newest_family(&server);
    assert_eq!(
        family.revoked.unwrap().reason,
        gatehouse::model::RevokeReason::UserDisabled
    );
}

#[tokio::test]
async fn revoke_and_introspect_keep_working_in_maintenance() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    server
        .admin()
        .set_maintenance(proto::SetMaintenanceRequest { on: true })
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        introspect(&server, &id, &secret, access).await["active"],
        true
    );
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        200
    );
    let response = post_form(
        &server,
        "/revoke",
        Some((&id, &secret)),
        &[("token", tokens["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        introspect(&server, &id, &secret, access).await["active"],
        false
    );
}
