//! Client authentication reads clients from a cache (store/client_cache.rs);
//! it must never be seen: every admin change to a client is in force on the
//! very next request, after the cache was warmed by the request before.

use crate::support::*;

/// Whether `id:secret` authenticates at /introspect (200) or not (401).
async fn introspect_status(server: &TestServer, id: &str, secret: &str, token: &str) -> u16 {
    post_form(
        server,
        "/introspect",
        Some((id, secret)),
        &[("token", token)],
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn every_client_change_is_in_force_on_the_next_request() {
    let (server, id, secret) = partner_setup().await;
    let mut admin = server.admin();
    let tokens = tokens_for(&server, &id, &secret).await;
    let access = tokens["access_token"].as_str().unwrap();
    let warm = |secret: String| {
        let (server, id, access) = (&server, id.clone(), access.to_owned());
        async move { introspect_status(server, &id, &secret, &access).await }
    };
    assert_eq!(warm(secret.clone()).await, 200);
    assert_eq!(warm(secret.clone()).await, 200, "served from the cache");

    // Disabled: refused at once; enabled again: accepted at once.
    for (disabled, expected) in [(true, 401), (false, 200)] {
        admin
            .set_client_disabled(proto::SetClientDisabledRequest {
                id: id.clone(),
                disabled,
            })
            .await
            .unwrap();
        assert_eq!(warm(secret.clone()).await, expected, "disabled={disabled}");
    }

    // A rotation with no overlap: the old secret is refused on the next call.
    let rotated = admin
        .rotate_client_secret(proto::RotateClientSecretRequest {
            id: id.clone(),
            overlap_secs: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(warm(secret.clone()).await, 401, "the old secret");
    assert_eq!(
        warm(rotated.client_secret.clone()).await,
        200,
        "the new one"
    );

    // Grant types: without refresh_token, /token refuses the next refresh.
    admin
        .update_client(proto::UpdateClientRequest {
            id: id.clone(),
            client: Some(proto::Client {
                grant_types: vec![proto::GrantType::AuthorizationCode as i32],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["grant_types".into()],
            }),
        })
        .await
        .unwrap();
    let refused = refresh(
        &server,
        &id,
        &rotated.client_secret,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client", "{body}");

    // Deleted: unknown on the next call.
    admin
        .delete_client(proto::DeleteClientRequest { id: id.clone() })
        .await
        .unwrap();
    assert_eq!(warm(rotated.client_secret.clone()).await, 401, "deleted");
}

/// Unknown client ids are not cached: a caller sending a million ids leaves
/// the cache as it was (only real clients are ever held).
#[tokio::test]
async fn unknown_client_ids_are_not_kept() {
    let (server, id, secret) = partner_setup().await;
    for n in 0..200 {
        let status = introspect_status(&server, &format!("nobody-{n}"), "x", "gat_x").await;
        assert_eq!(status, 401);
    }
    assert_eq!(server.store.cached_clients(), 0);
    assert_eq!(introspect_status(&server, &id, &secret, "gat_x").await, 200);
    assert_eq!(server.store.cached_clients(), 1);
}
