//! End to end: login, consent, code, tokens, /me, rotation, replay, and the
//! race the seed warns about.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_flow_to_replay_revokes_the_family_and_shows_in_grants() {
    let (server, id, secret) = partner_setup().await;
    let first = tokens_for(&server, &id, &secret).await;
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        200
    );

    let rotated: serde_json::Value = refresh(
        &server,
        &id,
        &secret,
        first["refresh_token"].as_str().unwrap(),
    )
    .await
    .json()
    .await
    .unwrap();
    let new_access = rotated["access_token"].as_str().unwrap();
    assert_eq!(
        me(&server, Some(&format!("Bearer {new_access}")))
            .await
            .status(),
        200
    );

    let replay = refresh(
        &server,
        &id,
        &secret,
        first["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(replay.status(), 400);
    assert_eq!(
        replay.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(
        me(&server, Some(&format!("Bearer {new_access}")))
            .await
            .status(),
        401,
        "new tokens are dead too"
    );
    assert_eq!(
        refresh(
            &server,
            &id,
            &secret,
            rotated["refresh_token"].as_str().unwrap()
        )
        .await
        .status(),
        400
    );

    let events = server.cli_json(&["events"]).await;
    assert!(events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "refresh_replay" && e["actor"] == "public"));
    let grants = server.cli_json(&["grants", "list", "--client", &id]).await;
    let family_id = grants[0]["family_id"].as_str().unwrap().to_owned();
    let shown = server.cli_json(&["grants", "show", &family_id]).await;
    assert_eq!(shown["status"], "revoked");
    assert_eq!(shown["revoked_reason"], "refresh_replay");
    let kinds: Vec<&str> = shown["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "code",
            "refresh_token",
            "access_token",
            "refresh_token",
            "access_token"
        ],
        "the lineage"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_refreshes_give_at_most_one_200_and_revoke_the_family() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(32));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (url, id, secret, token, barrier) = (
            server.url("/token"),
            id.clone(),
            secret.clone(),
            refresh_token.clone(),
            barrier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let request = client
                .post(url)
                .header("authorization", basic_header(&id, &secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("grant_type=refresh_token&refresh_token={token}"));
            barrier.wait().await;
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            200 => winners.push(body),
            400 => assert_eq!(body["error"], "invalid_grant"),
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert!(winners.len() <= 1, "{} refreshes succeeded", winners.len());
    for winner in &winners {
        let access = winner["access_token"].as_str().unwrap();
        assert_eq!(
            me(&server, Some(&format!("Bearer {access}")))
                .await
                .status(),
            401,
            "the winner's tokens are dead"
        );
    }
    let family = newest_family(&server);
    assert_eq!(
        family.revoked.expect("family revoked").reason,
        gatehouse::model::RevokeReason::RefreshReplay
    );
}
