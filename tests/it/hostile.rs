//! Hostile input: 10,000+ generated malformed requests over raw TCP at every
//! public endpoint. Zero 5xx, zero panics, the database unchanged, and a good
//! request still answered afterwards. And forged tokens that name a real
//! family (its id is public): unknown everywhere, revoking nothing.

use crate::support::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const REQUESTS: usize = 10_240;
const WORKERS: usize = 8;

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

const PATHS: &[&str] = &[
    "/token",
    "/revoke",
    "/introspect",
    "/authorize",
    "/login",
    "/consent",
    "/api/public/v1/me",
    "/.well-known/oauth-authorization-server",
    "/healthz",
    "/api/public/v1/../../token",
    "/%ff%fe",
    "/assets/gatehouse.css",
];
const METHODS: &[&str] = &[
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "BREW", "post",
];
const CONTENT_TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin1",
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
    "APPLICATION/X-WWW-FORM-URLENCODED",
];
const PARAMS: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "token",
    "token_type_hint",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
    "txn",
    "csrf",
    "username",
    "password",
    "decision",
];
const VALUES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "password",
    "%zz",
    "%",
    "%ff%fe%fd",
    "a+b",
    "",
    "=",
    "&&&",
    "%00",
    "\u{0}",
    "grt_x",
    "gat_x",
    "S256",
    "plain",
    "code",
    "allow",
    "deny",
    "https://evil.example/cb",
];
const AUTHORIZATIONS: &[&str] = &[
    "",
    "Basic !!!",
    "Basic ",
    "Basic Og==",
    "Basic /w==",
    "Bearer",
    "Bearer a b",
    "Bearer \"x\"",
    "bearer gat_x",
    "Digest x",
    "Basic YTpi",
    "Negotiate",
    "Basic dGVzdDp0ZXN0OnRlc3Q=",
];

/// One malformed request as raw bytes.
fn generate(rng: &mut Rng) -> Vec<u8> {
    let method = *rng.pick(METHODS);
    let mut path = rng.pick(PATHS).to_string();
    let mut body = Vec::new();
    for _ in 0..(rng.next() % 6) {
        let name = *rng.pick(PARAMS);
        let value = *rng.pick(VALUES);
        body.extend_from_slice(format!("{name}={value}&").as_bytes());
    }
    match rng.next() % 10 {
        0 => body.extend(rng.bytes(64)),
        1 => body.extend(std::iter::repeat_n(b'a', 70 * 1024)),
        2 => path.push_str(&format!(
            "?{}",
            String::from_utf8_lossy(&body).replace(' ', "+")
        )),
        3 => path.push_str("?client_id=%zz&redirect_uri=%ff"),
        _ => {}
    }
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
            .into_bytes();
    let content_type = *rng.pick(CONTENT_TYPES);
    if !content_type.is_empty() {
        request.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
    }
    let authorization = *rng.pick(AUTHORIZATIONS);
    if !authorization.is_empty() {
        request.extend_from_slice(format!("Authorization: {authorization}\r\n").as_bytes());
    }
    match rng.next() % 12 {
        0 => {
            request.extend_from_slice(format!("X-Huge: {}\r\n", "h".repeat(200 * 1024)).as_bytes())
        }
        1 => request.extend_from_slice(b"Cookie: gh_browser=\xff\xfe; gh_session=x\r\n"),
        2 => request.extend_from_slice(b"Authorization: Basic YTpi\r\n"),
        3 => request.extend_from_slice(b"X-Bad: \x01\x02\r\n"),
        _ => {}
    }
    // Sometimes promise more body than is sent (a slow or truncated body).
    let declared = if rng.next().is_multiple_of(8) {
        body.len() + 100
    } else {
        body.len()
    };
    request.extend_from_slice(format!("Content-Length: {declared}\r\n\r\n").as_bytes());
    request.extend_from_slice(&body);
    request
}

/// Sends one request; returns the status code, or `None` if the server closed
/// the connection without an answer.
async fn send(addr: std::net::SocketAddr, request: &[u8]) -> Option<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let _ = stream.write_all(request).await;
    let _ = stream.shutdown().await;
    let mut response = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut response),
    )
    .await;
    if read.is_err() {
        return None;
    }
    let head = String::from_utf8_lossy(&response[..response.len().min(16)]).into_owned();
    head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Every row of every table but the event log, as text.
fn database_state(store: &gatehouse::store::Store, data_dir: &std::path::Path) -> String {
    let _ = store;
    let conn = rusqlite::Connection::open(data_dir.join("gatehouse.db")).unwrap();
    let mut state = String::new();
    for table in [
        "clients",
        "client_redirect_uris",
        "client_scopes",
        "client_grant_types",
        "scopes",
        "users",
        "consent_scopes",
        "families",
        "auth_codes",
        "refresh_tokens",
        "access_tokens",
        "settings",
    ] {
        let mut statement = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
            .unwrap();
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                (0..columns)
                    .map(|i| {
                        row.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        for row in rows {
            state.push_str(&format!("{table}: {}\n", row.unwrap().join("|")));
        }
    }
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_malformed_requests_get_no_5xx_no_panic_and_change_nothing() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
    let (server, id, secret) = partner_setup().await;
    let tokens = tokens_for(&server, &id, &secret).await;
    let before = database_state(&server.store, &server.data_dir());
    let panics_before = PANICS.load(Ordering::SeqCst);
    let addr = server.http_addr;
    let statuses = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<
        String,
        usize,
    >::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let statuses = statuses.clone();
            tokio::spawn(async move {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1));
                for _ in 0..REQUESTS / WORKERS {
                    let request = generate(&mut rng);
                    let status = send(addr, &request).await;
                    if let Some(status) = status {
                        assert!(
                            status < 500,
                            "{status} for {:?}",
                            String::from_utf8_lossy(&request[..request.len().min(300)])
                        );
                    }
                    let key = status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "closed".into());
                    *statuses.lock().unwrap().entry(key).or_default() += 1;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let statuses = statuses.lock().unwrap().clone();
    let total: usize = statuses.values().sum();
    assert_eq!(total, REQUESTS);
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        panics_before,
        "the server panicked"
    );
    assert_eq!(
        database_state(&server.store, &server.data_dir()),
        before,
        "the database is unchanged"
    );
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        200,
        "still answering good requests"
    );
    assert_eq!(
        refresh(
            &server,
            &id,
            &secret,
            tokens["refresh_token"].as_str().unwrap()
        )
        .await
        .status(),
        200
    );
    eprintln!("hostile: {total} malformed requests, outcomes {statuses:?}");
}

/// A family's id is public: events and the admin plane show it, and every
/// token of the family carries it. Knowing it must unlock nothing. A forged
/// token that names a real family (its secret part wrong, cut short, grown,
/// or another kind's) is unknown at every endpoint, and above all is not
/// taken for a replay of the family's rotated token, which would let anyone
/// who saw a family id revoke the grant.
#[tokio::test]
async fn a_forged_token_naming_a_real_family_is_unknown_everywhere_and_revokes_nothing() {
    let (server, id, secret) = partner_setup().await;
    let first = tokens_for(&server, &id, &secret).await;
    let rotated = first["refresh_token"].as_str().unwrap().to_owned();
    let response = refresh(&server, &id, &secret, &rotated).await;
    assert_eq!(response.status(), 200);
    let current: serde_json::Value = response.json().await.unwrap();
    let access = current["access_token"].as_str().unwrap();
    let refresh_token = current["refresh_token"].as_str().unwrap();
    let family = newest_family(&server).id;
    let named =
        |prefix: &str, secret_part: &str| format!("{prefix}{}.{secret_part}", family.as_str());
    assert!(
        refresh_token.starts_with(&named("grt_", "")),
        "{refresh_token}"
    );

    let forged_refresh = [
        named("grt_", &"A".repeat(43)),
        named("grt_", ""),
        rotated[..rotated.len() - 1].to_owned(),
        format!("{rotated}A"),
        refresh_token[..refresh_token.len() - 1].to_owned(),
        access.replacen("gat_", "grt_", 1),
    ];
    for forged in &forged_refresh {
        let response = refresh(&server, &id, &secret, forged).await;
        assert_eq!(response.status(), 400, "{forged}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant", "{forged}");
        assert_eq!(revoke_status(&server, &id, &secret, forged).await, 200);
    }
    let forged_access = [
        named("gat_", &"A".repeat(43)),
        access[..access.len() - 1].to_owned(),
        format!("{access}A"),
        refresh_token.replacen("grt_", "gat_", 1),
    ];
    for forged in &forged_access {
        let response = me(&server, Some(&format!("Bearer {forged}"))).await;
        assert_eq!(response.status(), 401, "{forged}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        let answer = introspect(&server, &id, &secret, forged).await;
        assert_eq!(answer, serde_json::json!({"active": false}), "{forged}");
        assert_eq!(revoke_status(&server, &id, &secret, forged).await, 200);
    }

    let after = newest_family(&server);
    assert_eq!(after.id, family);
    assert_eq!(after.revoked, None, "a forgery revoked the family");
    assert_eq!(after.rotations, 1);
    assert_eq!(
        me(&server, Some(&format!("Bearer {access}")))
            .await
            .status(),
        200
    );
    assert_eq!(
        introspect(&server, &id, &secret, refresh_token).await["active"],
        true
    );
    let response = refresh(&server, &id, &secret, refresh_token).await;
    assert_eq!(response.status(), 200, "the real token still rotates");
}

/// POST /revoke of `token` by the client: its status (200 whatever the token).
async fn revoke_status(server: &TestServer, id: &str, secret: &str, token: &str) -> u16 {
    let form = [("token", token)];
    post_form(server, "/revoke", Some((id, secret)), &form)
        .await
        .status()
        .as_u16()
}
