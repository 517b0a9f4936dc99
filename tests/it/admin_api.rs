use crate::support::{create_client, create_user, proto, seed_family, TestServer};
use tonic::Code;

fn create_request(name: &str, uris: &[&str], scopes: &[&str]) -> proto::CreateClientRequest {
    proto::CreateClientRequest {
        name: name.into(),
        redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        grant_types: vec![],
        public: false,
        ..Default::default()
    }
}

#[tokio::test]
async fn client_lifecycle_create_get_list_update_disable_enable_rotate_delete() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let created = admin
        .create_client(create_request(
            "Demo",
            &["https://partner.example/cb"],
            &["profile"],
        ))
        .await
        .unwrap()
        .into_inner();
    let client = created.client.unwrap();
    assert!(created.client_secret.starts_with("gcs_"));
    assert_eq!(client.name, "Demo");
    assert_eq!(client.scopes, vec!["profile"]);
    assert_eq!(
        client.grant_types,
        vec![
            proto::GrantType::AuthorizationCode as i32,
            proto::GrantType::RefreshToken as i32
        ],
        "default grant types"
    );

    let fetched = admin
        .get_client(proto::GetClientRequest {
            id: client.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched, client);

    let listed = admin
        .list_clients(proto::ListClientsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.clients.len(), 1);
    assert!(listed.next_page_token.is_empty());

    let updated = admin
        .update_client(proto::UpdateClientRequest {
            id: client.id.clone(),
            client: Some(proto::Client {
                name: "Renamed".into(),
                grant_types: vec![proto::GrantType::AuthorizationCode as i32],
                redirect_uris: vec!["ignored because not in the mask".into()],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into(), "grant_types".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.name, "Renamed");
    assert_eq!(
        updated.grant_types,
        vec![proto::GrantType::AuthorizationCode as i32]
    );
    assert_eq!(updated.redirect_uris, vec!["https://partner.example/cb"]);

    let disabled = admin
        .set_client_disabled(proto::SetClientDisabledRequest {
            id: client.id.clone(),
            disabled: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(disabled.client.unwrap().disabled);
    let enabled = admin
        .set_client_disabled(proto::SetClientDisabledRequest {
            id: client.id.clone(),
            disabled: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!enabled.client.unwrap().disabled);

    let rotated = admin
        .rotate_client_secret(proto::RotateClientSecretRequest {
            id: client.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(rotated.client_secret.starts_with("gcs_"));
    assert_ne!(rotated.client_secret, created.client_secret);

    admin
        .delete_client(proto::DeleteClientRequest {
            id: client.id.clone(),
        })
        .await
        .unwrap();
    let gone = admin
        .get_client(proto::GetClientRequest { id: client.id })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn public_clients_get_no_secret_and_cannot_rotate() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let mut request = create_request(
        "Native",
        &["com.example.app:/cb", "http://127.0.0.1:7/cb"],
        &[],
    );
    request.public = true;
    let created = admin.create_client(request).await.unwrap().into_inner();
    assert!(created.client_secret.is_empty());
    let id = created.client.unwrap().id;
    let refused = admin
        .rotate_client_secret(proto::RotateClientSecretRequest {
            id,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn client_list_filters_and_pages_with_a_keyset_cursor() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    for index in 0..5 {
        let name = if index % 2 == 0 {
            format!("Alpha {index}")
        } else {
            format!("Beta {index}")
        };
        admin
            .create_client(create_request(&name, &["https://p.example/cb"], &[]))
            .await
            .unwrap();
    }
    let first = admin
        .list_clients(proto::ListClientsRequest {
            filter: String::new(),
            page_size: 2,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.clients.len(), 2);
    assert!(!first.next_page_token.is_empty());
    let mut seen: Vec<String> = first.clients.iter().map(|c| c.name.clone()).collect();
    let mut token = first.next_page_token;
    while !token.is_empty() {
        let page = admin
            .list_clients(proto::ListClientsRequest {
                filter: String::new(),
                page_size: 2,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.clients.iter().map(|c| c.name.clone()));
        token = page.next_page_token;
    }
    assert_eq!(seen, ["Alpha 0", "Beta 1", "Alpha 2", "Beta 3", "Alpha 4"]);

    let alphas = admin
        .list_clients(proto::ListClientsRequest {
            filter: "alpha".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(alphas.clients.len(), 3);

    let bad = admin
        .list_clients(proto::ListClientsRequest {
            page_token: "garbage".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
}

/// Every registration rule answers INVALID_ARGUMENT naming the field.
#[tokio::test]
async fn client_validation_errors_name_the_field() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let cases: Vec<(proto::CreateClientRequest, &str)> = vec![
        (create_request("", &["https://p.example/cb"], &[]), "name"),
        (
            create_request("   ", &["https://p.example/cb"], &[]),
            "name",
        ),
        (create_request("X", &[], &[]), "redirect_uris"),
        (
            create_request("X", &["https://x/cb#f"], &[]),
            "redirect_uris",
        ),
        (create_request("X", &["http://x/cb"], &[]), "redirect_uris"),
        (
            create_request("X", &["https://*.x/cb"], &[]),
            "redirect_uris",
        ),
        (create_request("X", &["/relative/cb"], &[]), "redirect_uris"),
        (
            create_request("X", &["com.example.app:/cb"], &[]),
            "redirect_uris",
        ),
        (
            create_request("X", &["https://p.example/cb"], &["no such scope"]),
            "scopes",
        ),
        (
            create_request("X", &["https://p.example/cb"], &["read\""]),
            "scopes",
        ),
        (
            create_request("X", &["https://p.example/cb"], &["unknown"]),
            "scopes",
        ),
        (
            proto::CreateClientRequest {
                grant_types: vec![7],
                ..create_request("X", &["https://p.example/cb"], &[])
            },
            "grant_types",
        ),
        (
            proto::CreateClientRequest {
                grant_types: vec![0],
                ..create_request("X", &["https://p.example/cb"], &[])
            },
            "grant_types",
        ),
    ];
    for (request, field) in cases {
        let described = format!("{request:?}");
        let status = admin.create_client(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{described}");
        assert!(
            status.message().starts_with(field),
            "{described}: {}",
            status.message()
        );
    }
    let listed = admin
        .list_clients(proto::ListClientsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed.clients.is_empty(),
        "a rejected request changes nothing"
    );
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let id = || "nope".to_string();
    let codes = [
        admin
            .get_client(proto::GetClientRequest { id: id() })
            .await
            .unwrap_err()
            .code(),
        admin
            .delete_client(proto::DeleteClientRequest { id: id() })
            .await
            .unwrap_err()
            .code(),
        admin
            .rotate_client_secret(proto::RotateClientSecretRequest {
                id: id(),
                ..Default::default()
            })
            .await
            .unwrap_err()
            .code(),
        admin
            .set_client_disabled(proto::SetClientDisabledRequest {
                id: id(),
                disabled: true,
            })
            .await
            .unwrap_err()
            .code(),
        admin
            .get_family(proto::GetFamilyRequest { id: id() })
            .await
            .unwrap_err()
            .code(),
        admin
            .revoke_family(proto::RevokeFamilyRequest {
                id: id(),
                note: String::new(),
                dry_run: true,
            })
            .await
            .unwrap_err()
            .code(),
        admin
            .set_user_disabled(proto::SetUserDisabledRequest {
                username: id(),
                disabled: true,
            })
            .await
            .unwrap_err()
            .code(),
        admin
            .remove_scope(proto::RemoveScopeRequest { name: id() })
            .await
            .unwrap_err()
            .code(),
        admin
            .list_families(proto::ListFamiliesRequest {
                client_id: id(),
                ..Default::default()
            })
            .await
            .unwrap_err()
            .code(),
    ];
    assert!(
        codes.iter().all(|code| *code == Code::NotFound),
        "{codes:?}"
    );
}

/// Text that cannot be an id (empty, a space, too long) names no client or
/// family: each RPC answers it as it answers an unknown id, message included,
/// and an event filter on it lists nothing.
#[tokio::test]
async fn text_that_cannot_be_an_id_is_answered_as_an_unknown_id() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    for text in ["", "no such id", &"x".repeat(300)] {
        let status = admin
            .get_client(proto::GetClientRequest { id: text.into() })
            .await
            .unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (
                Code::NotFound,
                format!("client {text:?} not found").as_str()
            )
        );
        let status = admin
            .get_family(proto::GetFamilyRequest { id: text.into() })
            .await
            .unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (
                Code::NotFound,
                format!("family {text:?} not found").as_str()
            )
        );
    }
    let status = admin
        .list_families(proto::ListFamiliesRequest {
            client_id: "no such id".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = admin
        .revoke_client_families(proto::RevokeClientFamiliesRequest {
            client_id: "no such id".into(),
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let listed = admin
        .list_events(proto::ListEventsRequest {
            client_id: "no such id".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.events.is_empty(), "{:?}", listed.events);
    // A real id still filters: its creation is listed.
    let (client, _) = create_client(&mut admin, "https://partner.example/cb").await;
    let listed = admin
        .list_events(proto::ListEventsRequest {
            client_id: client,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.events.len(), 1, "{:?}", listed.events);
}

#[tokio::test]
async fn scope_catalog_is_seeded_and_managed() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let scopes = admin
        .list_scopes(proto::ListScopesRequest {})
        .await
        .unwrap()
        .into_inner()
        .scopes;
    assert_eq!(
        scopes,
        vec![proto::Scope {
            name: "profile".into(),
            description: "Read your profile".into()
        }]
    );

    let added = admin
        .upsert_scope(proto::UpsertScopeRequest {
            scope: Some(proto::Scope {
                name: "orders:read".into(),
                description: "Read your orders".into(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(added.name, "orders:read");

    for (name, description) in [("bad scope", "x"), ("quote\"", "x"), ("ok", "")] {
        let status = admin
            .upsert_scope(proto::UpsertScopeRequest {
                scope: Some(proto::Scope {
                    name: name.into(),
                    description: description.into(),
                }),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{name:?}");
    }

    admin
        .create_client(create_request(
            "X",
            &["https://p.example/cb"],
            &["orders:read"],
        ))
        .await
        .unwrap();
    let in_use = admin
        .remove_scope(proto::RemoveScopeRequest {
            name: "orders:read".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(in_use.code(), Code::FailedPrecondition);
    admin
        .remove_scope(proto::RemoveScopeRequest {
            name: "profile".into(),
        })
        .await
        .unwrap();
    let names: Vec<String> = admin
        .list_scopes(proto::ListScopesRequest {})
        .await
        .unwrap()
        .into_inner()
        .scopes
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["orders:read"]);
}

#[tokio::test]
async fn users_are_created_listed_disabled_and_reset() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    create_user(&mut admin, "alice", "correct horse battery").await;
    let duplicate = admin
        .create_user(proto::CreateUserRequest {
            username: "alice".into(),
            password: "another password".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), Code::FailedPrecondition);
    for (username, password) in [
        ("", "long enough"),
        ("has space", "long enough"),
        ("bob", "short"),
    ] {
        let status = admin
            .create_user(proto::CreateUserRequest {
                username: username.into(),
                password: password.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{username:?}");
    }
    let user = admin
        .set_user_disabled(proto::SetUserDisabledRequest {
            username: "alice".into(),
            disabled: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(user.disabled);
    admin
        .set_user_password(proto::SetUserPasswordRequest {
            username: "alice".into(),
            password: "a new password".into(),
        })
        .await
        .unwrap();
    let users = admin
        .list_users(proto::ListUsersRequest {})
        .await
        .unwrap()
        .into_inner()
        .users;
    assert_eq!(users.len(), 1);
    assert!(users[0].disabled);
    let stored = server.store.user_credentials("alice").unwrap().unwrap();
    assert!(
        stored.password_hash.starts_with("$argon2id$"),
        "passwords are stored as argon2id"
    );
    assert!(gatehouse::secret::verify_password(
        "a new password",
        &stored.password_hash
    ));
}

/// Every revocation writes a name from `RevokeReason::ALL`; a row holding any
/// other is broken, and reading it is a storage failure, never a guess.
#[tokio::test]
async fn a_stored_revoke_reason_outside_the_list_is_a_storage_failure() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let (client, _) = create_client(&mut admin, "https://partner.example/cb").await;
    create_user(&mut admin, "alice", "correct horse battery").await;
    let (family, ..) = seed_family(&server.store, &client, "alice", server.clock.now());
    admin
        .revoke_family(proto::RevokeFamilyRequest {
            id: family.clone(),
            note: String::new(),
            dry_run: false,
        })
        .await
        .unwrap();
    let id = gatehouse::model::FamilyId::parse(&family).unwrap();
    let (read, _) = server.store.get_family(&id, server.clock.now()).unwrap();
    assert_eq!(
        read.revoked.map(|revoked| revoked.reason),
        Some(gatehouse::model::RevokeReason::Admin)
    );
    let conn = rusqlite::Connection::open(server.data_dir().join("gatehouse.db")).unwrap();
    conn.execute(
        "UPDATE families SET revoked_reason = 'cosmic_ray' WHERE id = ?1",
        [&family],
    )
    .unwrap();
    assert!(matches!(
        server.store.get_family(&id, server.clock.now()),
        Err(gatehouse::store::StoreError::Internal { .. })
    ));
    let status = admin
        .get_family(proto::GetFamilyRequest { id: family })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
}

#[tokio::test]
async fn families_are_listed_filtered_shown_and_revoked() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let (client_a, _) = create_client(&mut admin, "https://partner.example/cb").await;
    let (client_b, _) = create_client(&mut admin, "https://partner.example/cb").await;
    create_user(&mut admin, "alice", "correct horse battery").await;
    create_user(&mut admin, "bob", "correct horse battery").await;
    let now = server.clock.now();
    let (a1, ..) = seed_family(&server.store, &client_a, "alice", now);
    let (a2, ..) = seed_family(&server.store, &client_a, "bob", now);
    let (b1, ..) = seed_family(&server.store, &client_b, "alice", now);

    let list = |client: &str, user: &str, active| proto::ListFamiliesRequest {
        client_id: client.into(),
        username: user.into(),
        active_only: active,
        page_size: 0,
        page_token: String::new(),
    };
    let all = admin
        .list_families(list("", "", false))
        .await
        .unwrap()
        .into_inner()
        .families;
    let ids: Vec<&str> = all.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, [b1.as_str(), a2.as_str(), a1.as_str()], "newest first");
    assert!(all
        .iter()
        .all(|f| f.status == "active" && f.scope == "profile"));

    let of_a = admin
        .list_families(list(&client_a, "", false))
        .await
        .unwrap()
        .into_inner()
        .families;
    assert_eq!(of_a.len(), 2);
    let of_alice = admin
        .list_families(list("", "alice", false))
        .await
        .unwrap()
        .into_inner()
        .families;
    assert_eq!(of_alice.len(), 2);

    let detail = admin
        .get_family(proto::GetFamilyRequest { id: a1.clone() })
        .await
        .unwrap()
        .into_inner();
    let kinds: Vec<&str> = detail.tokens.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, ["code", "refresh_token", "access_token"]);
    assert_eq!(detail.tokens[0].status, "used");

    let one = admin
        .revoke_family(proto::RevokeFamilyRequest {
            id: a1.clone(),
            note: "test".into(),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (one.revoked, one.tokens, one.principals),
        (1, 2, 1),
        "its live refresh and access token"
    );
    let again = admin
        .revoke_family(proto::RevokeFamilyRequest {
            id: a1.clone(),
            note: String::new(),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (again.revoked, again.tokens),
        (0, 0),
        "revoking twice is a no-op"
    );
    let shown = admin
        .get_family(proto::GetFamilyRequest { id: a1 })
        .await
        .unwrap()
        .into_inner()
        .family
        .unwrap();
    assert_eq!(
        (
            shown.status.as_str(),
            shown.revoked_reason.as_str(),
            shown.revoked_by.as_str()
        ),
        ("revoked", "admin", "admin")
    );

    let dry = admin
        .revoke_user_families(proto::RevokeUserFamiliesRequest {
            username: "alice".into(),
            note: String::new(),
            dry_run: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (dry.revoked, dry.tokens, dry.principals),
        (1, 2, 1),
        "alice has b1 live: one RT, one AT, one client"
    );
    let by_client = admin
        .revoke_client_families(proto::RevokeClientFamiliesRequest {
            client_id: client_a.clone(),
            note: "incident".into(),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_client.revoked, 1);
    let active = admin
        .list_families(list("", "", true))
        .await
        .unwrap()
        .into_inner()
        .families;
    assert_eq!(
        active.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
        [b1]
    );
    let by_user = admin
        .revoke_user_families(proto::RevokeUserFamiliesRequest {
            username: "alice".into(),
            note: String::new(),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_user.revoked, 1);
    assert!(admin
        .list_families(list("", "", true))
        .await
        .unwrap()
        .into_inner()
        .families
        .is_empty());
}

#[tokio::test]
async fn disabling_a_client_revokes_its_families() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let (client, _) = create_client(&mut admin, "https://partner.example/cb").await;
    create_user(&mut admin, "alice", "correct horse battery").await;
    let (family, access, _) = seed_family(&server.store, &client, "alice", server.clock.now());
    let reply = admin
        .set_client_disabled(proto::SetClientDisabledRequest {
            id: client.clone(),
            disabled: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.revoked_families, 1);
    let shown = admin
        .get_family(proto::GetFamilyRequest { id: family })
        .await
        .unwrap()
        .into_inner()
        .family
        .unwrap();
    assert_eq!(shown.revoked_reason, "client_disabled");
    assert!(server
        .store
        .lookup_token(&access, server.clock.now())
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn calls_without_or_with_a_wrong_admin_token_are_unauthenticated() {
    let server = TestServer::spawn().await;
    let mut bare = server.admin_without_token();
    let status = bare
        .get_status(proto::GetStatusRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let wrong = gatehouse::config::GlobalArgs {
        admin_token_file: Some(server.dir.path().join("wrong")),
        ..server.global_args()
    };
    std::fs::write(server.dir.path().join("wrong"), "not-the-token\n").unwrap();
    let mut wrong = gatehouse::cli::connect(&wrong).unwrap();
    let status = wrong
        .list_clients(proto::ListClientsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    // The health service needs no token, for monitors.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.grpc_addr))
        .unwrap()
        .connect_lazy();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let reply = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        reply.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    assert!(
        crate::support::await_events(&server, "admin_auth_failed", 1).await >= 1,
        "failures are recorded"
    );
}

#[tokio::test]
async fn client_secret_plaintext_is_nowhere_in_the_database_files() {
    let mut server = TestServer::spawn().await;
    let mut admin = server.admin();
    let (client, secret) = create_client(&mut admin, "https://partner.example/cb").await;
    create_user(&mut admin, "alice", "correct horse battery").await;
    let (_, access, refresh) = seed_family(&server.store, &client, "alice", server.clock.now());
    let rotated = admin
        .rotate_client_secret(proto::RotateClientSecretRequest {
            id: client,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .client_secret;
    server.shutdown().await;
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(server.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "admin.token" {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    assert!(bytes.len() > 4096);
    let haystack = String::from_utf8_lossy(&bytes);
    for needle in [
        secret.as_str(),
        &rotated,
        &access,
        &refresh,
        "correct horse battery",
    ] {
        assert!(
            !haystack.contains(needle),
            "plaintext found in the database files"
        );
        let body = &needle[needle.len().saturating_sub(20)..];
        assert!(
            !haystack.contains(body),
            "a fragment of a secret found in the database files"
        );
    }
}

#[tokio::test]
async fn admin_changes_write_events_and_watch_events_delivers_new_ones() {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let mut watcher = server.admin();
    let mut stream = watcher
        .watch_events(proto::WatchEventsRequest {
            after_id: 0,
            from_start: false,
        })
        .await
        .unwrap()
        .into_inner();
    let (client, _) = create_client(&mut admin, "https://partner.example/cb").await;
    let event = tokio::time::timeout(std::time::Duration::from_secs(5), next_event(&mut stream))
        .await
        .expect("event within 5 s");
    assert_eq!(
        (
            event.kind.as_str(),
            event.actor.as_str(),
            event.client_id.as_str()
        ),
        // The actor is the admin identity's name: the admin.token is `bootstrap`.
        ("client_created", "bootstrap", client.as_str())
    );

    admin
        .set_maintenance(proto::SetMaintenanceRequest { on: true })
        .await
        .unwrap();
    admin
        .set_maintenance(proto::SetMaintenanceRequest { on: false })
        .await
        .unwrap();
    let events = admin
        .list_events(proto::ListEventsRequest {
            page_size: 10,
            before_id: 0,
            security_only: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["maintenance_off", "maintenance_on", "client_created"]
    );

    // A late subscriber catches up from `after_id`.
    let mut late = watcher
        .watch_events(proto::WatchEventsRequest {
            after_id: event.id,
            from_start: false,
        })
        .await
        .unwrap()
        .into_inner();
    let next = next_event(&mut late).await;
    assert_eq!(next.kind, "maintenance_on");

    // The log is append-only.
    let status = admin
        .get_status(proto::GetStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.clients, 1);
    assert!(!status.maintenance);
}

/// The next streamed message that is an event, past heartbeats.
async fn next_event(stream: &mut tonic::Streaming<proto::Event>) -> proto::Event {
    loop {
        let message = stream.message().await.unwrap().expect("stream open");
        if message.heartbeat.is_none() {
            return message;
        }
    }
}
