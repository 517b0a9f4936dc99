//! The audit trail over real gRPC: every admin mutation writes one event naming
//! the acting identity and the RPC; updates carry their changed fields before
//! and after, never a secret; `ListEvents` and `gatehouse events` filter by
//! actor, kind, client and time.

use crate::support::{create_client, TestServer};
use gatehouse::cli::AdminClient;
use gatehouse::proto;
use prost_types::FieldMask;

async fn operator(server: &TestServer, name: &str) -> (AdminClient, String) {
    let token = server
        .admin()
        .create_admin_token(proto::CreateAdminTokenRequest {
            name: name.into(),
            role: proto::AdminRole::Operator as i32,
            expires_in_secs: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    (server.admin_with(&token), token)
}

async fn events_of(
    admin: &mut AdminClient,
    request: proto::ListEventsRequest,
) -> Vec<proto::Event> {
    let mut events = admin
        .list_events(proto::ListEventsRequest {
            page_size: 1000,
            ..request
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    events.reverse();
    events
}

fn changes(event: &proto::Event) -> Vec<(&str, &str, &str)> {
    event
        .changes
        .iter()
        .map(|change| {
            (
                change.field.as_str(),
                change.before.as_str(),
                change.after.as_str(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_mutation_names_its_actor_rpc_and_changed_fields() {
    let server = TestServer::spawn().await;
    let (mut olga, token) = operator(&server, "olga").await;
    let (client_id, secret) = create_client(&mut olga, "https://partner.example/cb").await;
    olga.upsert_scope(proto::UpsertScopeRequest {
        scope: Some(proto::Scope {
            name: "email".into(),
            description: "Your email".into(),
        }),
    })
    .await
    .unwrap();
    olga.upsert_scope(proto::UpsertScopeRequest {
        scope: Some(proto::Scope {
            name: "email".into(),
            description: "Read your email".into(),
        }),
    })
    .await
    .unwrap();
    olga.update_client(proto::UpdateClientRequest {
        id: client_id.clone(),
        client: Some(proto::Client {
            name: "Partner Two".into(),
            scopes: vec!["profile".into(), "email".into()],
            refresh_retry_window_secs: 5,
            redirect_uris: vec!["https://ignored.example/cb".into()],
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec![
                "name".into(),
                "scopes".into(),
                "refresh_retry_window_secs".into(),
            ],
        }),
    })
    .await
    .unwrap();
    let rotated = olga
        .rotate_client_secret(proto::RotateClientSecretRequest {
            id: client_id.clone(),
            overlap_secs: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .client_secret;
    crate::support::create_user(&mut olga, "alice", "correct horse battery").await;
    olga.set_user_password(proto::SetUserPasswordRequest {
        username: "alice".into(),
        password: "a brand new password".into(),
    })
    .await
    .unwrap();
    olga.set_user_disabled(proto::SetUserDisabledRequest {
        username: "alice".into(),
        disabled: true,
    })
    .await
    .unwrap();
    olga.set_client_disabled(proto::SetClientDisabledRequest {
        id: client_id.clone(),
        disabled: true,
    })
    .await
    .unwrap();
    olga.revoke_client_families(proto::RevokeClientFamiliesRequest {
        client_id: client_id.clone(),
        note: "drill".into(),
        dry_run: false,
    })
    .await
    .unwrap();
    olga.set_maintenance(proto::SetMaintenanceRequest { on: true })
        .await
        .unwrap();
    olga.remove_scope(proto::RemoveScopeRequest {
        name: "email".into(),
    })
    .await
    .unwrap_err(); // still allowed to the client: refused, and so no event
    olga.delete_client(proto::DeleteClientRequest {
        id: client_id.clone(),
    })
    .await
    .unwrap();

    let mut owner = server.admin();
    let events = events_of(
        &mut owner,
        proto::ListEventsRequest {
            actor: "olga".into(),
            ..Default::default()
        },
    )
    .await;
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.rpc.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("client_created", "CreateClient"),
            ("scope_added", "UpsertScope"),
            ("scope_updated", "UpsertScope"),
            ("client_updated", "UpdateClient"),
            ("secret_rotated", "RotateClientSecret"),
            ("user_created", "CreateUser"),
            ("user_updated", "SetUserPassword"),
            ("user_disabled", "SetUserDisabled"),
            ("client_disabled", "SetClientDisabled"),
            ("family_revoked", "RevokeClientFamilies"),
            ("maintenance_on", "SetMaintenance"),
            ("client_deleted", "DeleteClient"),
        ],
        "one event per mutation, in order, each naming its RPC"
    );
    assert!(events.iter().all(|event| event.actor == "olga"));
    let by_kind = |kind: &str| events.iter().find(|e| e.kind == kind).expect(kind);
    assert_eq!(
        changes(by_kind("client_updated")),
        [
            ("name", "Partner", "Partner Two"),
            ("scopes", "profile", "email profile"),
            ("refresh_retry_window_secs", "0", "5"),
        ],
        "only the masked fields that changed, before and after"
    );
    assert_eq!(
        changes(by_kind("scope_updated")),
        [("description", "Your email", "Read your email")]
    );
    assert_eq!(
        changes(by_kind("user_updated")),
        [("password", "(hidden)", "(changed)")]
    );
    assert!(changes(by_kind("client_created")).is_empty());

    // Never a secret, a token or a password, in any field of any event.
    let everything = events_of(&mut owner, proto::ListEventsRequest::default()).await;
    let text = format!("{everything:?}");
    for secret in [
        &secret,
        &rotated,
        &token,
        &"correct horse battery".to_owned(),
        &"a brand new password".to_owned(),
    ] {
        assert!(!text.contains(secret.as_str()), "an event holds a secret");
    }
    // The owner's own mutation (creating olga's token) is the bootstrap's.
    let created = everything
        .iter()
        .find(|e| e.kind == "admin_token_created")
        .unwrap();
    assert_eq!(
        (created.actor.as_str(), created.rpc.as_str()),
        ("bootstrap", "CreateAdminToken")
    );
    assert!(
        created.detail.contains("olga") && created.detail.contains("operator"),
        "{created:?}"
    );
}

#[tokio::test]
async fn events_filter_by_actor_kind_client_and_time_over_grpc_and_the_cli() {
    let server = TestServer::spawn().await;
    let (mut olga, _) = operator(&server, "olga").await;
    let (first, _) = create_client(&mut olga, "https://one.example/cb").await;
    server.clock.advance(3600);
    let (second, _) = create_client(&mut server.admin(), "https://two.example/cb").await;

    let mut owner = server.admin();
    let kinds = |events: &[proto::Event]| -> Vec<(String, String, String)> {
        events
            .iter()
            .map(|e| (e.kind.clone(), e.actor.clone(), e.client_id.clone()))
            .collect()
    };
    let created = |actor: &str, client: &str| {
        (
            "client_created".to_owned(),
            actor.to_owned(),
            client.to_owned(),
        )
    };
    let by_kind = events_of(
        &mut owner,
        proto::ListEventsRequest {
            kind: "client_created".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        kinds(&by_kind),
        [created("olga", &first), created("bootstrap", &second)]
    );
    let by_client = events_of(
        &mut owner,
        proto::ListEventsRequest {
            client_id: first.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(kinds(&by_client), [created("olga", &first)]);
    let recent = events_of(
        &mut owner,
        proto::ListEventsRequest {
            since: server.clock.now() - 60,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(kinds(&recent), [created("bootstrap", &second)]);
    let both = events_of(
        &mut owner,
        proto::ListEventsRequest {
            actor: "bootstrap".into(),
            kind: "client_created".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(kinds(&both), [created("bootstrap", &second)]);
    let unknown = owner
        .list_events(proto::ListEventsRequest {
            kind: "no_such_kind".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::InvalidArgument);

    let cli = server.cli_json(&["events", "--actor", "olga"]).await;
    let rows = cli.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{cli}");
    assert_eq!(
        (rows[0]["actor"].as_str(), rows[0]["client_id"].as_str()),
        (Some("olga"), Some(first.as_str()))
    );
    assert_eq!(rows[0]["rpc"].as_str(), Some("CreateClient"));
    let cli = server
        .cli_json(&["events", "--kind", "client_created", "--client", &second])
        .await;
    assert_eq!(cli.as_array().unwrap().len(), 1, "{cli}");
}
