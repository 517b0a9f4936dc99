//! Admin roles over real gRPC: each role is allowed exactly its calls and
//! refused the rest with PERMISSION_DENIED naming the role needed; revoked and
//! expired named tokens are UNAUTHENTICATED; the CLI prints a refusal in one line.

use crate::support::TestServer;
use gatehouse::cli::AdminClient;
use gatehouse::proto;
use prost::Message;
use tonic::Code;

/// The contract (SPEC "Admin identities and roles"), written out here rather
/// than read from the server's table, so the two are checked against each other.
const EXPECTED: &[(&str, &str)] = &[
    ("GetClient", "viewer"),
    ("ListClients", "viewer"),
    ("ListScopes", "viewer"),
    ("ListUsers", "viewer"),
    ("ListFamilies", "viewer"),
    ("GetFamily", "viewer"),
    ("ListEvents", "viewer"),
    ("WatchEvents", "viewer"),
    ("GetStatus", "viewer"),
    ("WhoAmI", "viewer"),
    ("ListClientSecrets", "viewer"),
    ("RevokeFamily", "responder"),
    ("RevokeClientFamilies", "responder"),
    ("RevokeUserFamilies", "responder"),
    ("SetClientDisabled", "responder"),
    ("SetUserDisabled", "responder"),
    ("SetMaintenance", "responder"),
    ("CreateClient", "operator"),
    ("UpdateClient", "operator"),
    ("RotateClientSecret", "operator"),
    ("DeleteClient", "operator"),
    ("RevokeClientSecret", "operator"),
    ("UpsertScope", "operator"),
    ("RemoveScope", "operator"),
    ("CreateUser", "operator"),
    ("SetUserPassword", "operator"),
    ("CreateAdminToken", "owner"),
    ("ListAdminTokens", "owner"),
    ("RevokeAdminToken", "owner"),
];

const ROLES: [(&str, proto::AdminRole); 4] = [
    ("viewer", proto::AdminRole::Viewer),
    ("responder", proto::AdminRole::Responder),
    ("operator", proto::AdminRole::Operator),
    ("owner", proto::AdminRole::Owner),
];

fn rank(role: &str) -> usize {
    ROLES
        .iter()
        .position(|(name, _)| *name == role)
        .expect("a known role")
}

/// Calls `method` with arguments that change nothing (unknown ids, invalid
/// input, maintenance off): an allowed call may still fail, just not for its role.
async fn call(admin: &mut AdminClient, method: &str) -> Result<(), tonic::Status> {
    let id = || "no-such-thing".to_owned();
    match method {
        "GetClient" => admin
            .get_client(proto::GetClientRequest { id: id() })
            .await
            .map(drop),
        "ListClients" => admin
            .list_clients(proto::ListClientsRequest::default())
            .await
            .map(drop),
        "ListScopes" => admin
            .list_scopes(proto::ListScopesRequest {})
            .await
            .map(drop),
        "ListUsers" => admin.list_users(proto::ListUsersRequest {}).await.map(drop),
        "ListFamilies" => admin
            .list_families(proto::ListFamiliesRequest::default())
            .await
            .map(drop),
        "GetFamily" => admin
            .get_family(proto::GetFamilyRequest { id: id() })
            .await
            .map(drop),
        "ListEvents" => admin
            .list_events(proto::ListEventsRequest::default())
            .await
            .map(drop),
        "WatchEvents" => admin
            .watch_events(proto::WatchEventsRequest::default())
            .await
            .map(drop),
        "GetStatus" => admin.get_status(proto::GetStatusRequest {}).await.map(drop),
        "WhoAmI" => admin.who_am_i(proto::WhoAmIRequest {}).await.map(drop),
        "RevokeFamily" => admin
            .revoke_family(proto::RevokeFamilyRequest {
                id: id(),
                ..Default::default()
            })
            .await
            .map(drop),
        "RevokeClientFamilies" => admin
            .revoke_client_families(proto::RevokeClientFamiliesRequest {
                client_id: id(),
                ..Default::default()
            })
            .await
            .map(drop),
        "RevokeUserFamilies" => admin
            .revoke_user_families(proto::RevokeUserFamiliesRequest {
                username: id(),
                ..Default::default()
            })
            .await
            .map(drop),
        "SetClientDisabled" => admin
            .set_client_disabled(proto::SetClientDisabledRequest {
                id: id(),
                disabled: true,
            })
            .await
            .map(drop),
        "SetUserDisabled" => admin
            .set_user_disabled(proto::SetUserDisabledRequest {
                username: id(),
                disabled: true,
            })
            .await
            .map(drop),
        "SetMaintenance" => admin
            .set_maintenance(proto::SetMaintenanceRequest { on: false })
            .await
            .map(drop),
        "CreateClient" => admin
            .create_client(proto::CreateClientRequest::default())
            .await
            .map(drop),
        "UpdateClient" => admin
            .update_client(proto::UpdateClientRequest {
                id: id(),
                ..Default::default()
            })
            .await
            .map(drop),
        "RotateClientSecret" => admin
            .rotate_client_secret(proto::RotateClientSecretRequest {
                id: id(),
                overlap_secs: 0,
            })
            .await
            .map(drop),
        "DeleteClient" => admin
            .delete_client(proto::DeleteClientRequest { id: id() })
            .await
            .map(drop),
        "UpsertScope" => admin
            .upsert_scope(proto::UpsertScopeRequest { scope: None })
            .await
            .map(drop),
        "RemoveScope" => admin
            .remove_scope(proto::RemoveScopeRequest { name: id() })
            .await
            .map(drop),
        "CreateUser" => admin
            .create_user(proto::CreateUserRequest::default())
            .await
            .map(drop),
        "SetUserPassword" => admin
            .set_user_password(proto::SetUserPasswordRequest {
                username: id(),
                password: "long enough password".into(),
            })
            .await
            .map(drop),
        "CreateAdminToken" => admin
            .create_admin_token(proto::CreateAdminTokenRequest::default())
            .await
            .map(drop),
        "ListAdminTokens" => admin
            .list_admin_tokens(proto::ListAdminTokensRequest {})
            .await
            .map(drop),
        "RevokeAdminToken" => admin
            .revoke_admin_token(proto::RevokeAdminTokenRequest { name: id() })
            .await
            .map(drop),
        "ListClientSecrets" => admin
            .list_client_secrets(proto::ListClientSecretsRequest { client_id: id() })
            .await
            .map(drop),
        "RevokeClientSecret" => admin
            .revoke_client_secret(proto::RevokeClientSecretRequest {
                client_id: id(),
                secret_id: "000000000000".into(),
            })
            .await
            .map(drop),
        other => panic!("the test table names {other}, which this test cannot call"),
    }
}

/// The methods the served AdminService really has, from its descriptor.
fn served_methods() -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(proto::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    set.file
        .iter()
        .flat_map(|file| &file.service)
        .filter(|service| service.name() == "AdminService")
        .flat_map(|service| &service.method)
        .map(|method| method.name().to_owned())
        .collect()
}

async fn token(
    owner: &mut AdminClient,
    name: &str,
    role: proto::AdminRole,
    expires_in_secs: i64,
) -> String {
    owner
        .create_admin_token(proto::CreateAdminTokenRequest {
            name: name.into(),
            role: role as i32,
            expires_in_secs,
        })
        .await
        .expect("the bootstrap owner creates tokens")
        .into_inner()
        .token
}

#[tokio::test]
async fn every_role_is_allowed_exactly_its_calls_and_refused_the_rest() {
    let mut served = served_methods();
    served.sort();
    let mut expected: Vec<String> = EXPECTED
        .iter()
        .map(|(method, _)| method.to_string())
        .collect();
    expected.sort();
    assert_eq!(
        served, expected,
        "the test table covers every RPC of the service"
    );

    let server = TestServer::spawn().await;
    let mut owner = server.admin();
    let mut checked = 0;
    for (role_name, role) in ROLES {
        let secret = token(&mut owner, &format!("as-{role_name}"), role, 0).await;
        assert!(
            secret.starts_with("gak_"),
            "a recognisable prefix: {secret:.4}"
        );
        let mut admin = server.admin_with(&secret);
        for (method, needed) in EXPECTED {
            let outcome = call(&mut admin, method).await;
            let allowed = rank(role_name) >= rank(needed);
            match outcome {
                Err(status) if status.code() == Code::PermissionDenied => {
                    assert!(!allowed, "{role_name} must be allowed {method}: {status:?}");
                    let wanted = format!("needs the {needed} role");
                    assert!(
                        status.message().contains(&wanted) && status.message().contains(role_name),
                        "{method} as {role_name}: {:?} names the role needed and held",
                        status.message()
                    );
                }
                Err(status) => {
                    assert!(
                        allowed,
                        "{role_name} must be refused {method}, got {status:?}"
                    );
                    assert!(
                        !matches!(
                            status.code(),
                            Code::Unauthenticated | Code::Internal | Code::Unimplemented
                        ),
                        "{method} as {role_name}: {status:?}"
                    );
                }
                Ok(()) => assert!(allowed, "{role_name} must be refused {method}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * EXPECTED.len());
    // The refusals changed nothing: the allowed ones only touched unknown ids.
    let status = owner
        .get_status(proto::GetStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (status.clients, status.users, status.maintenance),
        (0, 0, false)
    );
}

#[tokio::test]
async fn revoked_and_expired_tokens_are_unauthenticated_and_whoami_names_the_caller() {
    let server = TestServer::spawn().await;
    let mut owner = server.admin();
    let me = owner
        .who_am_i(proto::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (me.name.as_str(), me.role, me.expires_at),
        ("bootstrap", proto::AdminRole::Owner as i32, 0)
    );

    let alice = token(&mut owner, "alice", proto::AdminRole::Responder, 3600).await;
    let short = token(&mut owner, "short", proto::AdminRole::Viewer, 60).await;
    let mut as_alice = server.admin_with(&alice);
    let me = as_alice
        .who_am_i(proto::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (me.name.as_str(), me.role),
        ("alice", proto::AdminRole::Responder as i32)
    );
    assert_eq!(me.expires_at, server.clock.now() + 3600);

    let revoked = owner
        .revoke_admin_token(proto::RevokeAdminTokenRequest {
            name: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(revoked.revoked_at > 0);
    let refused = as_alice
        .who_am_i(proto::WhoAmIRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    assert!(refused.message().contains("revoked"), "{refused:?}");

    let mut as_short = server.admin_with(&short);
    as_short
        .list_clients(proto::ListClientsRequest::default())
        .await
        .unwrap();
    server.clock.advance(60);
    let refused = as_short
        .list_clients(proto::ListClientsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    assert!(refused.message().contains("expired"), "{refused:?}");

    // `bootstrap` is the file on disk: refused, with how to replace it.
    let status = owner
        .revoke_admin_token(proto::RevokeAdminTokenRequest {
            name: "bootstrap".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("admin.token"), "{status:?}");
    // A name is never reused.
    let status = owner
        .create_admin_token(proto::CreateAdminTokenRequest {
            name: "alice".into(),
            role: proto::AdminRole::Viewer as i32,
            expires_in_secs: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let listed = owner
        .list_admin_tokens(proto::ListAdminTokensRequest {})
        .await
        .unwrap()
        .into_inner()
        .tokens;
    let names: Vec<(&str, i32, bool)> = listed
        .iter()
        .map(|token| (token.name.as_str(), token.role, token.revoked_at > 0))
        .collect();
    assert_eq!(
        names,
        [
            ("bootstrap", proto::AdminRole::Owner as i32, false),
            ("alice", proto::AdminRole::Responder as i32, true),
            ("short", proto::AdminRole::Viewer as i32, false),
        ]
    );
    // Every used identity's last use is recorded (written off the call, at most
    // once a minute per token).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut listed_again = listed.clone();
    while listed_again.iter().any(|token| token.last_used_at == 0)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        listed_again = owner
            .list_admin_tokens(proto::ListAdminTokensRequest {})
            .await
            .unwrap()
            .into_inner()
            .tokens;
    }
    assert!(
        listed_again.iter().all(|token| token.last_used_at > 0),
        "{listed_again:?}"
    );
}

#[tokio::test]
async fn the_cli_creates_lists_revokes_and_prints_a_refusal_in_one_line() {
    let server = TestServer::spawn().await;
    let created = server
        .cli_json(&[
            "admin",
            "token",
            "create",
            "--name",
            "carol",
            "--role",
            "viewer",
            "--expires-in",
            "1d",
        ])
        .await;
    assert_eq!(
        (created["name"].as_str(), created["role"].as_str()),
        (Some("carol"), Some("viewer"))
    );
    let secret = created["token"]
        .as_str()
        .expect("the token, once")
        .to_owned();
    assert!(secret.starts_with("gak_"));

    let token_file = server.data_dir().join("carol.token");
    std::fs::write(&token_file, &secret).unwrap();
    let carol_file = token_file.to_str().unwrap();
    let whoami = server
        .cli(&["--admin-token-file", carol_file, "whoami"], "")
        .await;
    assert!(whoami.success, "{whoami:?}");
    assert!(
        whoami.stdout.contains("carol") && whoami.stdout.contains("viewer"),
        "{whoami:?}"
    );

    let refused = server
        .cli(
            &[
                "--admin-token-file",
                carol_file,
                "grants",
                "revoke",
                "--client",
                "x",
            ],
            "",
        )
        .await;
    assert!(!refused.success);
    assert_eq!(
        refused.stderr.trim(),
        "gatehouse: permission denied: revoking grants needs the responder role (you are carol, viewer)"
    );
    assert_eq!(refused.stderr.trim().lines().count(), 1);

    let list = server.cli(&["admin", "token", "list"], "").await;
    assert!(list.success, "{list:?}");
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("LAST USED"),
        "{list:?}"
    );
    assert!(
        lines[1].starts_with("bootstrap") && lines[1].contains("owner"),
        "{list:?}"
    );
    assert!(
        lines[2].starts_with("carol") && lines[2].contains("viewer"),
        "{list:?}"
    );
    assert!(
        !list.stdout.contains(&secret),
        "a listing never shows a token"
    );

    let revoked = server.cli(&["admin", "token", "revoke", "carol"], "").await;
    assert!(revoked.success, "{revoked:?}");
    let after = server
        .cli(&["--admin-token-file", carol_file, "whoami"], "")
        .await;
    assert!(!after.success);
    assert!(
        after
            .stderr
            .contains("the admin token was refused: revoked admin token"),
        "{after:?}"
    );
}
