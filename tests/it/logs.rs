//! The server's log: no colour off a terminal, JSON lines with
//! `--log-format json`, one access line per request, and not one secret of a
//! full flow anywhere in it.

use crate::support::*;

async fn post(
    base: &str,
    path: &str,
    basic: (&str, &str),
    form: &[(&str, &str)],
) -> serde_json::Value {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("authorization", basic_header(basic.0, basic.1))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    response.json().await.unwrap_or(serde_json::Value::Null)
}

#[tokio::test]
async fn serve_logs_to_a_file_without_escape_codes_and_json_lines_parse() {
    let dir = tempfile::tempdir().unwrap();
    let mut text_server = ChildServer::start(&dir.path().join("text"), "").await;
    reqwest::get(text_server.url("/authorize")).await.unwrap();
    text_server.await_log("route=\"/authorize\"").await;
    let text = text_server.log_text();
    text_server.kill().await;
    assert!(
        !text.contains('\x1b'),
        "escape codes in a log file:\n{text}"
    );
    assert!(text.contains("status=400"), "{text}");

    let mut json_server =
        ChildServer::start_with(&dir.path().join("json"), "", &["--log-format", "json"]).await;
    reqwest::get(json_server.url("/authorize")).await.unwrap();
    json_server.await_log("\"route\":\"/authorize\"").await;
    let text = json_server.log_text();
    json_server.kill().await;
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let access = lines
        .iter()
        .find(|line| {
            line["target"] == "gatehouse::access" && line["fields"]["route"] == "/authorize"
        })
        .expect("an access line");
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["fields"]["method"], "GET");
    assert_eq!(access["fields"]["status"], 400);
    assert_eq!(access["fields"]["client"], "127.0.0.1");
    assert!(access["fields"]["duration_ms"].as_f64().is_some());
}

#[tokio::test]
async fn the_log_of_a_full_flow_holds_none_of_the_secrets_it_handled() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = ChildServer::start(&data, "").await;
    let base = server.url("");
    let mut admin = server.admin();
    let (id, secret) = create_client(&mut admin, REDIRECT_URI).await;
    create_user(&mut admin, "alice", PASSWORD).await;
    let wrong_password = "not the right horse";
    let mut browser = Browser::at(&base);
    let page = browser
        .authorize(&authorize_query(&id, "s1"))
        .await
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    browser.login(&page, "alice", wrong_password).await;
    let code = browser.obtain_code(&id, "alice").await["code"].clone();
    let first = post(
        &base,
        "/token",
        (&id, &secret),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    let (access, refresh) = (
        first["access_token"].as_str().unwrap(),
        first["refresh_token"].as_str().unwrap(),
    );
    let second = post(
        &base,
        "/token",
        (&id, &secret),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    let (access2, refresh2) = (
        second["access_token"].as_str().unwrap(),
        second["refresh_token"].as_str().unwrap(),
    );
    let me = reqwest::Client::new()
        .get(format!("{base}/api/public/v1/me"))
        .bearer_auth(access2)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(
        post(&base, "/introspect", (&id, &secret), &[("token", access2)]).await["active"],
        true
    );
    post(&base, "/revoke", (&id, &secret), &[("token", refresh2)]).await;
    // A replay of the first refresh token, and the code used twice.
    post(
        &base,
        "/token",
        (&id, &secret),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    post(
        &base,
        "/token",
        (&id, &secret),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    server.await_log("route=\"/revoke\"").await;
    let admin_token = std::fs::read_to_string(data.join("admin.token")).unwrap();
    let log = server.log_text();
    server.kill().await;

    for (what, value) in [
        ("client secret", secret.as_str()),
        ("password", PASSWORD),
        ("wrong password", wrong_password),
        ("authorization code", code.as_str()),
        ("access token", access),
        ("refresh token", refresh),
        ("rotated access token", access2),
        ("rotated refresh token", refresh2),
        ("admin token", admin_token.trim()),
        ("CSRF token", csrf.as_str()),
        ("PKCE verifier", VERIFIER),
    ] {
        assert!(!log.contains(value), "the log holds the {what}");
    }
    // The log is not empty of the flow: every step has its access line.
    for route in [
        "/authorize",
        "/login",
        "/consent",
        "/token",
        "/introspect",
        "/revoke",
        "/api/public/v1/me",
    ] {
        assert!(
            log.contains(&format!("route=\"{route}\"")),
            "no access line for {route}"
        );
    }
    assert!(
        log.contains("method=CreateClient"),
        "admin calls are logged"
    );
}

#[tokio::test]
async fn every_labelled_route_is_served() {
    // The access log and the metrics label a request by its route from a fixed
    // list (http/observe.rs); a stale entry there would be a label no request
    // can have. The other way round (a served route missing from the list) is
    // a debug assertion in the server, tripped by any test that reaches it.
    let server = TestServer::spawn().await;
    let client = reqwest::Client::new();
    for route in gatehouse::http::ROUTES {
        let response = client.get(server.url(route)).send().await.unwrap();
        assert_ne!(response.status(), 404, "{route} is labelled but not served");
    }
    let response = client
        .get(server.url("/no-such-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
