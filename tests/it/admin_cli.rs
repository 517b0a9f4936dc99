use crate::support::TestServer;

#[tokio::test]
async fn client_create_json_prints_id_and_secret() {
    let server = TestServer::spawn().await;
    let created = server
        .cli_json(&[
            "client",
            "create",
            "--name",
            "Demo",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
            "--scope",
            "profile",
        ])
        .await;
    let id = created["client_id"].as_str().unwrap();
    assert!(created["client_secret"]
        .as_str()
        .unwrap()
        .starts_with("gcs_"));

    let shown = server.cli_json(&["client", "show", id]).await;
    assert_eq!(shown["name"], "Demo");
    let listed = server.cli_json(&["client", "list"]).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let updated = server
        .cli_json(&[
            "client",
            "update",
            id,
            "--name",
            "Demo 2",
            "--grant-type",
            "authorization-code",
        ])
        .await;
    assert_eq!(updated["name"], "Demo 2");
    assert_eq!(
        updated["grant_types"],
        serde_json::json!(["authorization_code"])
    );
    let disabled = server.cli_json(&["client", "disable", id]).await;
    assert_eq!(disabled["disabled"], true);
    let enabled = server.cli_json(&["client", "enable", id]).await;
    assert_eq!(enabled["disabled"], false);
    let rotated = server.cli_json(&["client", "rotate-secret", id]).await;
    assert_eq!(rotated["client_id"], id);
    assert!(rotated["client_secret"]
        .as_str()
        .unwrap()
        .starts_with("gcs_"));
    server.cli_json(&["client", "delete", id]).await;
    let missing = server.cli(&["client", "show", id], "").await;
    assert!(!missing.success);
    assert_eq!(
        missing.stderr.lines().count(),
        1,
        "one-line error: {}",
        missing.stderr
    );
    assert!(missing.stderr.contains("not found"), "{}", missing.stderr);
}

#[tokio::test]
async fn human_output_is_a_table() {
    let server = TestServer::spawn().await;
    let created = server
        .cli(
            &[
                "client",
                "create",
                "--name",
                "Demo",
                "--redirect-uri",
                "https://p.example/cb",
            ],
            "",
        )
        .await;
    assert!(created.success, "{}", created.stderr);
    assert!(created.stdout.contains("client_secret: gcs_"));
    let listed = server.cli(&["client", "list"], "").await;
    assert!(listed.stdout.starts_with("ID "), "{}", listed.stdout);
    assert!(listed.stdout.contains("Demo"));
    assert!(listed.stdout.contains("confidential"));
}

#[tokio::test]
async fn validation_errors_exit_non_zero_with_one_line() {
    let server = TestServer::spawn().await;
    let output = server
        .cli(
            &[
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                "http://evil.example/cb",
            ],
            "",
        )
        .await;
    assert!(!output.success);
    assert_eq!(output.stderr.lines().count(), 1, "{}", output.stderr);
    assert!(output.stderr.contains("redirect_uris"), "{}", output.stderr);
}

#[tokio::test]
async fn scopes_users_grants_events_status_and_maintenance() {
    let server = TestServer::spawn().await;
    let added = server
        .cli_json(&[
            "scope",
            "add",
            "orders",
            "--description",
            "Read your orders",
        ])
        .await;
    assert_eq!(added["name"], "orders");
    let scopes = server.cli_json(&["scope", "list"]).await;
    assert_eq!(scopes.as_array().unwrap().len(), 2);
    server.cli_json(&["scope", "remove", "orders"]).await;

    let created = server
        .cli(
            &["user", "create", "alice", "--password-stdin", "--json"],
            "correct horse battery\n",
        )
        .await;
    assert!(created.success, "{}", created.stderr);
    let stored = server.store.user_credentials("alice").unwrap().unwrap();
    assert!(
        gatehouse::secret::verify_password("correct horse battery", &stored.password_hash),
        "newline stripped"
    );
    let users = server.cli_json(&["user", "list"]).await;
    assert_eq!(users[0]["username"], "alice");
    assert_eq!(
        server.cli_json(&["user", "disable", "alice"]).await["disabled"],
        true
    );
    assert_eq!(
        server.cli_json(&["user", "enable", "alice"]).await["disabled"],
        false
    );

    let client = server
        .cli_json(&[
            "client",
            "create",
            "--name",
            "P",
            "--redirect-uri",
            "https://partner.example/cb",
            "--scope",
            "profile",
        ])
        .await;
    let client_id = client["client_id"].as_str().unwrap();
    let (family, ..) =
        crate::support::seed_family(&server.store, client_id, "alice", server.clock.now());
    let grants = server
        .cli_json(&["grants", "list", "--client", client_id])
        .await;
    assert_eq!(grants[0]["family_id"], family.as_str());
    assert_eq!(grants[0]["username"], "alice");
    assert_eq!(grants[0]["status"], "active");
    let shown = server.cli_json(&["grants", "show", &family]).await;
    assert_eq!(shown["tokens"].as_array().unwrap().len(), 3);
    assert_eq!(
        server
            .cli_json(&["grants", "revoke", "--user", "alice"])
            .await,
        serde_json::json!({"revoked": 1})
    );
    let grants = server.cli_json(&["grants", "list", "--active"]).await;
    assert!(grants.as_array().unwrap().is_empty());
    let revoked = server.cli_json(&["grants", "list"]).await;
    assert_eq!(revoked[0]["status"], "revoked");
    assert_eq!(revoked[0]["revoked_reason"], "admin");

    assert_eq!(
        server.cli_json(&["maintenance", "on"]).await["maintenance"],
        true
    );
    assert_eq!(server.cli_json(&["status"]).await["maintenance"], true);
    server.cli_json(&["maintenance", "off"]).await;
    let events = server.cli_json(&["events"]).await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "scope_added",
        "scope_removed",
        "user_created",
        "user_disabled",
        "client_created",
        "family_revoked",
        "maintenance_on",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert!(
        events[0].get("time").is_some()
            && events[0].get("actor").is_some()
            && events[0].get("detail").is_some()
    );
}

#[tokio::test]
async fn admin_commands_need_the_admin_token() {
    let server = TestServer::spawn().await;
    let wrong = server.dir.path().join("wrong.token");
    std::fs::write(&wrong, "nope\n").unwrap();
    let output = server
        .cli(
            &[
                "status",
                "--admin-token-file",
                crate::support::path_str(&wrong),
            ],
            "",
        )
        .await;
    assert!(!output.success);
    assert!(
        output.stderr.contains("admin token was refused"),
        "{}",
        output.stderr
    );
}
