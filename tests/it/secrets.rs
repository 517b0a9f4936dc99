//! Client secrets: two live during a rotation's overlap, only the new one
//! after it (frozen clock), revoke-secret, the two-secret limit, the CLI's
//! durations. Last use is in `secrets_last_use.rs`.

use crate::support::*;
use tonic::Code;

const DAY: i64 = 24 * 3600;

/// The status of a POST to `path` (any form endpoint) authenticating as
/// `id:secret`, with an X-Forwarded-For header if given.
pub(crate) async fn status_at(
    server: &TestServer,
    path: &str,
    (id, secret): (&str, &str),
    forwarded: Option<&str>,
) -> u16 {
    let form: &[(&str, &str)] = match path {
        "/token" => &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "grt_unknown"),
        ],
        _ => &[("token", "gat_unknown")],
    };
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request = reqwest::Client::new()
        .post(server.url(path))
        .header("authorization", basic_header(id, secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Whether the secret authenticates at /token, /revoke and /introspect: each
/// endpoint answers 200 or (an unknown refresh token at /token) 400 to a
/// client that authenticated, 401 to one that did not.
async fn accepted_everywhere(server: &TestServer, id: &str, secret: &str) -> [bool; 3] {
    let token = status_at(server, "/token", (id, secret), None).await;
    let revoke = status_at(server, "/revoke", (id, secret), None).await;
    let introspect = status_at(server, "/introspect", (id, secret), None).await;
    for status in [token, revoke, introspect] {
        assert!(matches!(status, 200 | 400 | 401), "status {status}");
    }
    [token == 400, revoke == 200, introspect == 200]
}

pub(crate) async fn rotate(
    admin: &mut AdminClient,
    id: &str,
    overlap_secs: i64,
) -> Result<proto::RotateClientSecretResponse, tonic::Status> {
    admin
        .rotate_client_secret(proto::RotateClientSecretRequest {
            id: id.into(),
            overlap_secs,
        })
        .await
        .map(|reply| reply.into_inner())
}

pub(crate) async fn secrets(admin: &mut AdminClient, id: &str) -> Vec<proto::ClientSecret> {
    admin
        .list_client_secrets(proto::ListClientSecretsRequest {
            client_id: id.into(),
        })
        .await
        .expect("list secrets")
        .into_inner()
        .secrets
}

pub(crate) fn events_of(server: &TestServer, kind: &str) -> Vec<gatehouse::model::Event> {
    let (events, _) = server
        .store
        .list_events(1000, 0, &gatehouse::model::EventFilter::default())
        .unwrap();
    events
        .into_iter()
        .filter(|event| event.kind.as_str() == kind)
        .collect()
}

#[tokio::test]
async fn both_secrets_work_during_the_overlap_and_only_the_new_one_after_it() {
    let (server, id, old) = partner_setup().await;
    let mut admin = server.admin();
    let tokens = tokens_for(&server, &id, &old).await;
    let rotated_at = server.clock.now();
    let rotation = rotate(&mut admin, &id, 7 * DAY).await.unwrap();
    let new = rotation.client_secret.clone();
    assert!(new.starts_with("gcs_") && new != old);
    assert_eq!(rotation.old_secret_expires_at, rotated_at + 7 * DAY);

    assert_eq!(accepted_everywhere(&server, &id, &old).await, [true; 3]);
    assert_eq!(accepted_everywhere(&server, &id, &new).await, [true; 3]);
    // A real refresh with each secret in turn.
    let refreshed = refresh(
        &server,
        &id,
        &old,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: serde_json::Value = refreshed.json().await.unwrap();
    let again = refresh(
        &server,
        &id,
        &new,
        refreshed["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(again.status(), 200);

    let listed = secrets(&mut admin, &id).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].id, rotation.secret_id, "newest first");
    assert_eq!(
        (listed[0].expires_at, listed[1].expires_at),
        (0, rotated_at + 7 * DAY)
    );

    server.clock.advance(7 * DAY - 1);
    assert_eq!(
        accepted_everywhere(&server, &id, &old).await,
        [true; 3],
        "the last second"
    );
    server.clock.advance(1);
    assert_eq!(
        accepted_everywhere(&server, &id, &old).await,
        [false; 3],
        "the overlap is over"
    );
    assert_eq!(accepted_everywhere(&server, &id, &new).await, [true; 3]);
    assert_eq!(
        secrets(&mut admin, &id).await.len(),
        1,
        "only the new one is live"
    );

    let rotated = events_of(&server, "secret_rotated");
    assert_eq!(rotated.len(), 1);
    assert!(rotated[0].detail.contains("7d"), "{}", rotated[0].detail);
    assert_eq!(
        rotated[0].client_id.as_ref().map(|client| client.as_str()),
        Some(id.as_str())
    );
    assert_eq!(rotated[0].actor, "bootstrap", "the acting admin identity");
    assert!(events_of(&server, "secret_expired").is_empty());
    let purged = server.store.purge_expired(server.clock.now(), 0).unwrap();
    assert_eq!(purged.secrets, 1);
    let expired = events_of(&server, "secret_expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].actor, "server", "the purge, not an admin");
    assert!(
        expired[0].detail.contains(&listed[1].id),
        "{}",
        expired[0].detail
    );
    assert_eq!(
        server
            .store
            .purge_expired(server.clock.now(), 0)
            .unwrap()
            .secrets,
        0
    );
    assert_eq!(accepted_everywhere(&server, &id, &new).await, [true; 3]);
}

#[tokio::test]
async fn without_an_overlap_the_old_secret_dies_at_once() {
    let (server, id, old) = partner_setup().await;
    let rotated = server.cli_json(&["client", "rotate-secret", &id]).await;
    assert_eq!(rotated["client_id"], id.as_str());
    let new = rotated["client_secret"].as_str().unwrap().to_owned();
    assert!(rotated.get("old_secret_expires_at").is_none(), "{rotated}");
    assert_eq!(accepted_everywhere(&server, &id, &old).await, [false; 3]);
    assert_eq!(accepted_everywhere(&server, &id, &new).await, [true; 3]);

    let listed = server.cli_json(&["client", "secrets", &id]).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], rotated["secret_id"]);
    assert_eq!(listed[0]["expires"], serde_json::Value::Null);
    for key in ["created", "last_used", "last_used_from"] {
        assert!(listed[0].get(key).is_some(), "{key} in {}", listed[0]);
    }
    assert!(
        !listed[0].to_string().contains("gcs_"),
        "no secret in a listing"
    );
}

#[tokio::test]
async fn the_cli_takes_an_overlap_as_a_duration_up_to_thirty_days() {
    let (server, id, old) = partner_setup().await;
    let too_long = server
        .cli(&["client", "rotate-secret", &id, "--overlap", "31d"], "")
        .await;
    assert!(!too_long.success);
    assert!(too_long.stderr.contains("30 days"), "{}", too_long.stderr);
    let nonsense = server
        .cli(&["client", "rotate-secret", &id, "--overlap", "soon"], "")
        .await;
    assert!(!nonsense.success);
    assert!(nonsense.stderr.contains("7d"), "{}", nonsense.stderr);
    assert_eq!(
        accepted_everywhere(&server, &id, &old).await,
        [true; 3],
        "nothing rotated"
    );

    let now = server.clock.now();
    let rotated = server
        .cli_json(&["client", "rotate-secret", &id, "--overlap", "12h"])
        .await;
    let expected = gatehouse::cli::output::rfc3339(now + 12 * 3600);
    assert_eq!(rotated["old_secret_expires_at"], expected.as_str());
    let text = server.cli(&["client", "secrets", &id], "").await;
    assert!(text.success);
    assert!(text.stdout.contains("SECRET ID"), "{}", text.stdout);
    assert!(text.stdout.contains(rotated["secret_id"].as_str().unwrap()));
    assert!(!text.stdout.contains("gcs_"));
    let shown = server.cli(&["client", "show", &id], "").await;
    assert_eq!(
        shown.stdout.matches("secret:").count(),
        2,
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("never used"), "{}", shown.stdout);
}

#[tokio::test]
async fn revoke_secret_ends_one_now_and_a_client_never_has_three() {
    let (server, id, old) = partner_setup().await;
    let mut admin = server.admin();
    let first = rotate(&mut admin, &id, DAY).await.unwrap();
    let refused = rotate(&mut admin, &id, DAY).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("two live secrets"),
        "{}",
        refused.message()
    );
    assert_eq!(secrets(&mut admin, &id).await.len(), 2);

    let old_id = secrets(&mut admin, &id).await[1].id.clone();
    let revoked = server
        .cli_json(&["client", "revoke-secret", &id, &old_id])
        .await;
    assert_eq!(revoked["revoked_secret_id"], old_id.as_str());
    assert_eq!(accepted_everywhere(&server, &id, &old).await, [false; 3]);
    assert_eq!(
        accepted_everywhere(&server, &id, &first.client_secret).await,
        [true; 3]
    );
    let revoked = events_of(&server, "secret_revoked");
    assert_eq!(revoked.len(), 1);
    assert!(revoked[0].detail.contains(&old_id));
    assert_eq!(revoked[0].actor, "bootstrap");

    let revoke = |secret_id: &str| proto::RevokeClientSecretRequest {
        client_id: id.clone(),
        secret_id: secret_id.into(),
    };
    let only = admin
        .revoke_client_secret(revoke(&first.secret_id))
        .await
        .unwrap_err();
    assert_eq!(
        only.code(),
        Code::FailedPrecondition,
        "the only live secret stays"
    );
    let gone = admin
        .revoke_client_secret(revoke(&old_id))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let malformed = admin
        .revoke_client_secret(revoke("gcs_x"))
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    let cli = server
        .cli(&["client", "revoke-secret", &id, "nope"], "")
        .await;
    assert!(
        !cli.success && cli.stderr.contains("hex digits"),
        "{}",
        cli.stderr
    );

    // An overlapping rotation again (one live), then one without overlap ends both.
    let second = rotate(&mut admin, &id, DAY).await.unwrap();
    let third = rotate(&mut admin, &id, 0).await.unwrap();
    assert_eq!(third.old_secret_expires_at, 0);
    let listed = secrets(&mut admin, &id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, third.secret_id);
    for dead in [&first.client_secret, &second.client_secret] {
        assert_eq!(accepted_everywhere(&server, &id, dead).await, [false; 3]);
    }
    assert_eq!(
        accepted_everywhere(&server, &id, &third.client_secret).await,
        [true; 3]
    );
    let overlap_too_long = rotate(&mut admin, &id, 30 * DAY + 1).await.unwrap_err();
    assert_eq!(overlap_too_long.code(), Code::InvalidArgument);
}
