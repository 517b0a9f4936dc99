//! Concurrency: what happens when requests race for the same grant. Every test
//! releases its requests together behind a barrier on a multi-threaded runtime.

use crate::support::*;
use std::sync::Arc;
use tokio::sync::Barrier;

/// Sends `forms` to `path` at once (each with Basic credentials) and returns
/// (status, body) for each.
pub(crate) async fn race(
    server: &TestServer,
    path: &str,
    id: &str,
    secret: &str,
    forms: Vec<String>,
) -> Vec<(u16, serde_json::Value)> {
    let barrier = Arc::new(Barrier::new(forms.len()));
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|body| {
            let (url, auth, barrier) =
                (server.url(path), basic_header(id, secret), barrier.clone());
            tokio::spawn(async move {
                let request = reqwest::Client::new()
                    .post(url)
                    .header("authorization", auth)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body);
                barrier.wait().await;
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                (
                    status,
                    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
                )
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

async fn refresh_race(n: usize) {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let body = format!(
        "grant_type=refresh_token&refresh_token={}",
        tokens["refresh_token"].as_str().unwrap()
    );
    let results = race(&server, "/token", &id, &secret, vec![body; n]).await;
    let winners: Vec<_> = results
        .iter()
        .filter(|(status, _)| *status == 200)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one refresh wins: {results:?}");
    for (status, body) in &results {
        assert!(
            *status == 200 || (*status == 400 && body["error"] == "invalid_grant"),
            "{status} {body}"
        );
    }
    let winner = &winners[0].1;
    let access = winner["access_token"].as_str().unwrap();
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        401,
        "the winner's access token is dead"
    );
    assert_eq!(
        refresh(
            &server,
            &id,
            &secret,
            winner["refresh_token"].as_str().unwrap()
        )
        .await
        .status(),
        400
    );
    let family = newest_family(&server);
    assert_eq!(
        family.revoked.expect("family revoked").reason,
        gatehouse::model::RevokeReason::RefreshReplay
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_simultaneous_refreshes() {
    refresh_race(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_simultaneous_refreshes() {
    refresh_race(10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_simultaneous_refreshes() {
    refresh_race(50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_code_redemptions_give_at_most_one_200_and_end_revoked() {
    let (server, id, secret) = partner_setup().await;
    let code = Browser::new(&server).obtain_code(&id, "alice").await["code"].clone();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    );
    let results = race(&server, "/token", &id, &secret, vec![body; 10]).await;
    let winners: Vec<_> = results
        .iter()
        .filter(|(status, _)| *status == 200)
        .collect();
    assert!(winners.len() <= 1, "{results:?}");
    assert!(results
        .iter()
        .all(|(status, body)| *status == 200 || body["error"] == "invalid_grant"));
    for (_, winner) in winners {
        let access = winner["access_token"].as_str().unwrap();
        assert_eq!(
            me(&server, Some(&format!("Bearer {access}")))
                .await
                .status(),
            401,
            "reuse revoked the winner's tokens"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoke_racing_refresh_leaves_nothing_of_the_family_alive() {
    let (server, id, secret) = partner_setup().await;
    for _ in 0..10 {
        let tokens = tokens_for(&server, &id, &secret).await;
        let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
        let barrier = Arc::new(Barrier::new(2));
        let revoke = {
            let (server_url, id, secret, token, barrier) = (
                server.url("/revoke"),
                id.clone(),
                secret.clone(),
                refresh_token.clone(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                let request = reqwest::Client::new()
                    .post(server_url)
                    .header("authorization", basic_header(&id, &secret))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("token={token}"));
                barrier.wait().await;
                request.send().await.unwrap().status().as_u16()
            })
        };
        let body = format!("grant_type=refresh_token&refresh_token={refresh_token}");
        let refreshed = {
            let (server_url, id, secret, barrier) = (
                server.url("/token"),
                id.clone(),
                secret.clone(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                let request = reqwest::Client::new()
                    .post(server_url)
                    .header("authorization", basic_header(&id, &secret))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body);
                barrier.wait().await;
                let response = request.send().await.unwrap();
                (
                    response.status().as_u16(),
                    response.json::<serde_json::Value>().await.unwrap(),
                )
            })
        };
        assert_eq!(revoke.await.unwrap(), 200);
        let (status, body) = refreshed.await.unwrap();
        let mut tokens_to_check = vec![
            tokens["access_token"].as_str().unwrap().to_owned(),
            refresh_token,
        ];
        if status == 200 {
            tokens_to_check.push(body["access_token"].as_str().unwrap().to_owned());
            tokens_to_check.push(body["refresh_token"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(body["error"], "invalid_grant");
        }
        for token in tokens_to_check {
            assert_eq!(
                introspect(&server, &id, &secret, &token).await["active"],
                false,
                "a token outlived /revoke"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disabling_a_client_during_a_refresh_storm_kills_every_token_returned() {
    let (server, id, secret) = partner_setup().await;
    let (resource_id, resource_secret) = create_resource_server(&mut server.admin()).await;
    let mut refresh_tokens = Vec::new();
    for _ in 0..8 {
        refresh_tokens.push(
            tokens_for(&server, &id, &secret).await["refresh_token"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Each worker refreshes until it is refused: none can run out of work before
    // the disable lands, so every one of them is still storming when it does.
    let completed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let storm: Vec<_> = refresh_tokens
        .into_iter()
        .map(|mut token| {
            let (server_url, id, secret) = (server.url("/token"), id.clone(), secret.clone());
            let completed = completed.clone();
            tokio::spawn(async move {
                let mut issued = Vec::new();
                loop {
                    let response = reqwest::Client::new()
                        .post(&server_url)
                        .header("authorization", basic_header(&id, &secret))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(format!("grant_type=refresh_token&refresh_token={token}"))
                        .send()
                        .await
                        .unwrap();
                    let status = response.status().as_u16();
                    if status != 200 {
                        return (status, issued);
                    }
                    let body: serde_json::Value = response.json().await.unwrap();
                    token = body["refresh_token"].as_str().unwrap().to_owned();
                    issued.push(body["access_token"].as_str().unwrap().to_owned());
                    issued.push(token.clone());
                    completed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            })
        })
        .collect();
    while completed.load(std::sync::atomic::Ordering::SeqCst) < 16 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before = completed.load(std::sync::atomic::Ordering::SeqCst);
    server
        .admin()
        .set_client_disabled(proto::SetClientDisabledRequest {
            id: id.clone(),
            disabled: true,
        })
        .await
        .unwrap();
    let mut returned = Vec::new();
    for task in storm {
        let (status, issued) = task.await.unwrap();
        // 401 invalid_client, or 400 invalid_grant for a refresh that passed
        // client authentication just before the disable revoked its family.
        assert!(
            status == 401 || status == 400,
            "each worker ran until the disable refused it: {status}"
        );
        returned.extend(issued);
    }
    let total = completed.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!(
        "disable storm: {before} refreshes before the disable call, {} during or after it, 8 workers refused",
        total - before
    );
    assert!(
        before >= 16,
        "the storm was running when the disable landed"
    );
    for token in &returned {
        assert_eq!(
            introspect(&server, &resource_id, &resource_secret, token).await["active"],
            false
        );
    }
    server
        .admin()
        .set_client_disabled(proto::SetClientDisabledRequest {
            id,
            disabled: false,
        })
        .await
        .unwrap();
    for token in &returned {
        assert_eq!(
            introspect(&server, &resource_id, &resource_secret, token).await["active"],
            false,
            "re-enabling revives nothing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_mixed_concurrent_requests_get_no_5xx() {
    let (server, id, secret) = partner_setup().await;
    let mut families = Vec::new();
    for _ in 0..10 {
        families.push(tokens_for(&server, &id, &secret).await);
    }
    let server = Arc::new(server);
    let barrier = Arc::new(Barrier::new(200));
    let mut tasks = Vec::new();
    for index in 0..200usize {
        let (server, id, secret, barrier) =
            (server.clone(), id.clone(), secret.clone(), barrier.clone());
        let family = families[index % families.len()].clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let access = family["access_token"].as_str().unwrap();
            let refresh_token = family["refresh_token"].as_str().unwrap();
            match index % 5 {
                0 => refresh(&server, &id, &secret, refresh_token)
                    .await
                    .status()
                    .as_u16(),
                1 => post_form(
                    &server,
                    "/introspect",
                    Some((&id, &secret)),
                    &[("token", access)],
                )
                .await
                .status()
                .as_u16(),
                2 => me(&server, Some(&format!("Bearer {access}")))
                    .await
                    .status()
                    .as_u16(),
                3 => {
                    let status = server.admin().get_status(proto::GetStatusRequest {}).await;
                    if status.is_ok() {
                        200
                    } else {
                        500
                    }
                }
                _ => {
                    let mut browser = Browser::new(&server);
                    browser
                        .authorize(&authorize_query(&id, "s"))
                        .await
                        .status()
                        .as_u16()
                }
            }
        }));
    }
    let mut statuses = std::collections::BTreeMap::new();
    for task in tasks {
        *statuses.entry(task.await.unwrap()).or_insert(0) += 1;
    }
    assert!(statuses.keys().all(|status| *status < 500), "{statuses:?}");
}

/// If the write lock cannot be had in time, the answer is 503 with Retry-After
/// and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_held_write_lock_answers_503_temporarily_unavailable_and_changes_nothing() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let database = server.data_dir().join("gatehouse.db");
    let blocker = rusqlite::Connection::open(&database).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let response = refresh(&server, &id, &secret, refresh_token).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "temporarily_unavailable"
    );
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        refresh(&server, &id, &secret, refresh_token).await.status(),
        200,
        "the refused request changed nothing"
    );
}

/// A rotation is decided by the writer, but text that names no family can
/// only be a legacy token and is looked up on a reader: text that is no token
/// is refused while the write lock is held elsewhere. A token naming a real
/// family does wait for the writer (503 here), which shows the lock was held.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn text_that_is_no_token_is_refused_without_waiting_for_the_writer() {
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let (named, _secret) = refresh_token.rsplit_once('.').unwrap();
    let forged = format!("{named}.{}", "A".repeat(43));
    let blocker = rusqlite::Connection::open(server.data_dir().join("gatehouse.db")).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let legacy_shaped = format!("grt_{}", "A".repeat(43));
    for garbage in ["nonsense", "grt_nofamily.abc", legacy_shaped.as_str()] {
        let response = refresh(&server, &id, &secret, garbage).await;
        assert_eq!(response.status(), 400, "{garbage}");
        let body = response.json::<serde_json::Value>().await.unwrap();
        assert_eq!(body["error"], "invalid_grant", "{garbage}: {body}");
    }
    assert_eq!(
        refresh(&server, &id, &secret, &forged).await.status(),
        503,
        "a token naming a family is decided by the writer"
    );
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        refresh(&server, &id, &secret, refresh_token).await.status(),
        200
    );
}
