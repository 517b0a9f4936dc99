//! `TestServer::spawn()`: the real server in-process on ephemeral ports;
//! `ChildServer` (in `child.rs`): the real binary as a child process, for
//! signals and crashes; `Tmux` (in `tmux.rs`): the real console in tmux.

mod child;
mod tmux;

pub use child::ChildServer;
pub use tmux::{tmux_available, Tmux};

use gatehouse::clock::Clock;
use gatehouse::config::GlobalArgs;
use gatehouse::server::LocalServer;
use gatehouse::store::Store;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use gatehouse::cli::AdminClient;
pub use gatehouse::proto;

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    /// Where `/metrics` answers, for a server spawned with a `metrics_addr`.
    pub metrics_addr: Option<SocketAddr>,
    pub store: Store,
    pub clock: Clock,
    pub admin_token: String,
    running: Option<LocalServer>,
}

impl TestServer {
    pub async fn spawn() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        // A frozen clock: expiry boundaries are exact whatever the machine's load.
        let clock = Clock::default();
        clock.freeze();
        Self::spawn_in(dir, clock).await
    }

    /// A server whose config `configure` changes first (e.g. trusted proxies).
    pub async fn spawn_with(configure: impl FnOnce(&mut gatehouse::config::Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Clock::default();
        clock.freeze();
        let running = LocalServer::start_with(&dir.path().join("data"), clock.clone(), configure)
            .await
            .expect("start the server");
        Self::running_in(dir, clock, running)
    }

    async fn spawn_in(dir: tempfile::TempDir, clock: Clock) -> Self {
        let running = LocalServer::start(&dir.path().join("data"), clock.clone())
            .await
            .expect("start the server");
        Self::running_in(dir, clock, running)
    }

    fn running_in(dir: tempfile::TempDir, clock: Clock, running: LocalServer) -> Self {
        TestServer {
            dir,
            http_addr: running.http_addr,
            grpc_addr: running.grpc_addr,
            metrics_addr: running.metrics_addr,
            store: running.shared.store.clone(),
            clock,
            admin_token: running.admin_token.clone(),
            running: Some(running),
        }
    }

    /// Stops the server and starts a new one on the same data directory.
    pub async fn restart(mut self) -> Self {
        self.shutdown().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Self::spawn_in(dir, self.clock.clone()).await
    }

    pub async fn shutdown(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("server run");
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http_addr)
    }

    pub fn global_args(&self) -> GlobalArgs {
        GlobalArgs {
            data_dir: self.data_dir(),
            grpc_addr: self.grpc_addr.to_string(),
            admin_token_file: None,
        }
    }

    /// A typed admin client carrying the admin token.
    pub fn admin(&self) -> AdminClient {
        gatehouse::cli::connect(&self.global_args()).expect("admin client")
    }

    /// An admin client carrying `token` (a named admin token).
    pub fn admin_with(&self, token: &str) -> AdminClient {
        gatehouse::cli::connect_with_token(&self.grpc_addr.to_string(), token)
            .expect("admin client")
    }

    /// An admin client with no token at all.
    pub fn admin_without_token(
        &self,
    ) -> proto::admin_service_client::AdminServiceClient<tonic::transport::Channel> {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", self.grpc_addr))
            .unwrap()
            .connect_lazy();
        proto::admin_service_client::AdminServiceClient::new(channel)
    }

    /// Runs the `gatehouse` binary against this server, with `stdin` piped in.
    pub async fn cli(&self, args: &[&str], stdin: &str) -> CliOutput {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        command
            .args([
                "--data-dir",
                path_str(&self.data_dir()),
                "--grpc-addr",
                &self.grpc_addr.to_string(),
            ])
            .args(args)
            .env_remove("GATEHOUSE_ADMIN_TOKEN")
            .env_remove("GATEHOUSE_ADMIN_TOKEN_FILE")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("spawn gatehouse");
        {
            use tokio::io::AsyncWriteExt;
            let mut input = child.stdin.take().unwrap();
            input.write_all(stdin.as_bytes()).await.unwrap();
        }
        let output = child.wait_with_output().await.expect("gatehouse output");
        CliOutput {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs a CLI command that must succeed with `--json`, returning its JSON.
    pub async fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let output = self.cli(&all, "").await;
        assert!(
            output.success,
            "gatehouse {args:?} failed: {}",
            output.stderr
        );
        serde_json::from_str(&output.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", output.stdout))
    }
}

#[derive(Debug)]
pub struct CliOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Creates a confidential client allowed `profile`, returning (id, secret).
pub async fn create_client(admin: &mut AdminClient, redirect_uri: &str) -> (String, String) {
    let reply = admin
        .create_client(proto::CreateClientRequest {
            name: "Partner".into(),
            redirect_uris: vec![redirect_uri.into()],
            scopes: vec!["profile".into()],
            grant_types: vec![],
            public: false,
            ..Default::default()
        })
        .await
        .expect("create client")
        .into_inner();
    (reply.client.unwrap().id, reply.client_secret)
}

/// Creates a user with a password.
pub async fn create_user(admin: &mut AdminClient, username: &str, password: &str) {
    admin
        .create_user(proto::CreateUserRequest {
            username: username.into(),
            password: password.into(),
        })
        .await
        .expect("create user");
}

/// Issues a family straight through the store (a code, then its exchange), for
/// tests that need grants without driving the browser flow. Returns
/// (family_id, access_token, refresh_token).
pub fn seed_family(
    store: &Store,
    client_id: &str,
    username: &str,
    now: i64,
) -> (String, String, String) {
    use gatehouse::store::{CodeGrant, CodeRedemption, IssueSpec};
    let user = store
        .user_credentials(username)
        .unwrap()
        .expect("user exists");
    let grant = CodeGrant {
        client_id: gatehouse::model::ClientId::parse(client_id).unwrap(),
        user_seq: user.seq,
        redirect_uri: "https://partner.example/cb".into(),
        code_challenge: "x".repeat(43),
        scope: gatehouse::model::ScopeSet::parse_oauth("profile").unwrap(),
        expires_at: now + 60,
    };
    let code = store
        .grant_code(grant, false, now, |_| Ok::<(), ()>(()))
        .unwrap()
        .unwrap();
    let issued = store
        .redeem_code(code.expose(), now, move |_| {
            CodeRedemption::<()>::Issue(IssueSpec {
                access_scope: "profile".into(),
                access_expires_at: now + 3600,
                refresh_expires_at: Some(now + 86400),
            })
        })
        .unwrap()
        .expect("issued");
    (
        issued.family_id.into_string(),
        issued.access_token.into_string(),
        issued.refresh_token.unwrap().into_string(),
    )
}

/// The RFC 7636 Appendix B verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const REDIRECT_URI: &str = "https://partner.example/cb";
pub const PASSWORD: &str = "correct horse battery";

/// A scripted browser over the bench's cookie-keeping one, panicking on
/// transport errors.
pub struct Browser {
    inner: crate::bench_browser::Browser,
}

impl Browser {
    pub fn new(server: &TestServer) -> Self {
        Self::at(&server.url(""))
    }

    /// A browser for the server at `base` (`http://host:port`).
    pub fn at(base: &str) -> Self {
        Browser {
            inner: crate::bench_browser::Browser::new(base),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&String> {
        self.inner.cookie(name)
    }

    pub async fn get(&mut self, path_and_query: &str) -> reqwest::Response {
        self.inner.get(path_and_query).await.expect("GET")
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.inner.post(path, form).await.expect("POST")
    }

    /// GET /authorize with these query pairs.
    pub async fn authorize(&mut self, query: &[(&str, &str)]) -> reqwest::Response {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        self.get(&format!("/authorize?{query}")).await
    }

    /// The login page for a fresh authorization request of `client_id`.
    pub async fn login_page(&mut self, client_id: &str) -> String {
        let response = self.authorize(&authorize_query(client_id, "s")).await;
        assert_eq!(response.status(), 200, "a login page");
        response.text().await.unwrap()
    }

    /// A fresh authorization request of `client_id`, signed in as `username`:
    /// the consent page.
    pub async fn consent_page(&mut self, client_id: &str, username: &str) -> String {
        let page = self.login_page(client_id).await;
        let login = self.login(&page, username, PASSWORD).await;
        assert_eq!(login.status(), 303, "login redirects to consent");
        let consent = self.get(&location(&login)).await.text().await.unwrap();
        assert!(consent.contains("name=\"decision\""), "{consent}");
        consent
    }

    /// Logs in on a login page and returns the response to the POST.
    pub async fn login(
        &mut self,
        login_page: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let txn = hidden(login_page, "txn");
        let csrf = hidden(login_page, "csrf");
        self.post_form(
            "/login",
            &[
                ("txn", &txn),
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Clicks Allow or Deny on a consent page.
    pub async fn decide(&mut self, consent_page: &str, decision: &str) -> reqwest::Response {
        let txn = hidden(consent_page, "txn");
        let csrf = hidden(consent_page, "csrf");
        self.post_form(
            "/consent",
            &[("txn", &txn), ("csrf", &csrf), ("decision", decision)],
        )
        .await
    }

    /// The whole browser flow for `client_id`, ending at the client's redirect:
    /// returns the Location's query parameters.
    pub async fn obtain_code(
        &mut self,
        client_id: &str,
        username: &str,
    ) -> std::collections::HashMap<String, String> {
        let response = self.authorize(&authorize_query(client_id, "xyz")).await;
        assert_eq!(response.status(), 200);
        let mut page = response.text().await.unwrap();
        if page.contains("name=\"password\"") {
            let response = self.login(&page, username, PASSWORD).await;
            assert_eq!(response.status(), 303, "login redirects to consent");
            let consent = location(&response);
            let response = self.get(&consent).await;
            if response.status() == 303 {
                return query_of(&location(&response));
            }
            page = response.text().await.unwrap();
        }
        assert!(
            page.contains("name=\"decision\""),
            "consent page expected: {page}"
        );
        let response = self.decide(&page, "allow").await;
        assert_eq!(response.status(), 303);
        query_of(&location(&response))
    }
}

pub fn authorize_query<'a>(client_id: &'a str, state: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "profile"),
        ("state", state),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

/// The value of a hidden form field.
pub fn hidden(page: &str, name: &str) -> String {
    crate::bench_browser::hidden(page, name).unwrap_or_else(|| panic!("no hidden {name} in {page}"))
}

pub fn location(response: &reqwest::Response) -> String {
    crate::bench_browser::location(response).expect("Location header")
}

/// Query parameters of a URL (decoded).
pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// A server with a confidential client allowed `profile` and a user `alice`:
/// (server, client_id, client_secret).
pub async fn partner_setup() -> (TestServer, String, String) {
    let server = TestServer::spawn().await;
    let mut admin = server.admin();
    let (id, secret) = create_client(&mut admin, REDIRECT_URI).await;
    create_user(&mut admin, "alice", PASSWORD).await;
    (server, id, secret)
}

/// POSTs a form to `path` with optional Basic credentials.
pub async fn post_form(
    server: &TestServer,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request = reqwest::Client::new()
        .post(server.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some((id, secret)) = basic {
        request = request.header("authorization", basic_header(id, secret));
    }
    request.send().await.unwrap()
}

/// RFC 6749 §2.3.1: form-encode id and secret, then base64.
pub fn basic_header(id: &str, secret: &str) -> String {
    use base64::Engine;
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", encode(id), encode(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Exchanges a code for tokens with the App. B verifier.
pub async fn exchange(
    server: &TestServer,
    id: &str,
    secret: &str,
    code: &str,
) -> reqwest::Response {
    post_form(
        server,
        "/token",
        Some((id, secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

/// Refreshes with a refresh token.
pub async fn refresh(
    server: &TestServer,
    id: &str,
    secret: &str,
    refresh_token: &str,
) -> reqwest::Response {
    post_form(
        server,
        "/token",
        Some((id, secret)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// The full flow to tokens: returns the token response JSON.
pub async fn tokens_for(server: &TestServer, id: &str, secret: &str) -> serde_json::Value {
    let mut browser = Browser::new(server);
    let query = browser.obtain_code(id, "alice").await;
    let response = exchange(server, id, secret, &query["code"]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// GET /api/public/v1/me with an Authorization header value.
pub async fn me(server: &TestServer, authorization: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(server.url("/api/public/v1/me"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.unwrap()
}

/// POST /introspect with a confidential client's credentials.
pub async fn introspect(
    server: &TestServer,
    id: &str,
    secret: &str,
    token: &str,
) -> serde_json::Value {
    let response = post_form(
        server,
        "/introspect",
        Some((id, secret)),
        &[("token", token)],
    )
    .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A data dir with a confidential client, a user and `families` issued families:
/// (data_dir, client_id, client_secret, [(access, refresh)]).
pub fn seeded_data_dir(
    root: &Path,
    families: usize,
) -> (PathBuf, String, String, Vec<(String, String)>) {
    use gatehouse::model::{ClientSpec, GrantType, Username};
    let data_dir = root.join("data");
    let prepared = gatehouse::server::prepare(&data_dir).unwrap();
    let store = prepared.store;
    let now = gatehouse::clock::Clock::default().now();
    let spec = ClientSpec::parse(
        "Crash",
        &[REDIRECT_URI.into()],
        &["profile".into()],
        &GrantType::ALL,
        false,
    )
    .unwrap();
    let (client, secret) = store
        .create_client(gatehouse::model::Actor::Local, spec, now)
        .unwrap();
    let hash = gatehouse::secret::hash_password(PASSWORD);
    store
        .create_user(
            gatehouse::model::Actor::Local,
            &Username::parse("alice").unwrap(),
            &hash,
            now,
        )
        .unwrap();
    let issued = (0..families)
        .map(|_| {
            let (_, access, refresh) = seed_family(&store, client.id.as_str(), "alice", now);
            (access, refresh)
        })
        .collect();
    (
        data_dir,
        client.id.into_string(),
        secret.unwrap().into_string(),
        issued,
    )
}

/// The database's invariants after a crash: integrity, foreign keys, and no
/// family with two live refresh tokens.
pub fn assert_database_sound(data_dir: &Path) {
    let conn = rusqlite::Connection::open(data_dir.join("gatehouse.db")).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0, "foreign_key_check is empty");
    let doubled: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT family_seq FROM refresh_tokens WHERE used_at IS NULL GROUP BY family_seq HAVING count(*) > 1)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(doubled, 0, "no family has two live refresh tokens");
}

/// A refresh against any base URL; `None` when the connection died.
pub async fn refresh_at(
    base: &str,
    id: &str,
    secret: &str,
    refresh_token: &str,
) -> Option<(u16, serde_json::Value)> {
    let response = reqwest::Client::new()
        .post(format!("{base}/token"))
        .header("authorization", basic_header(id, secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=refresh_token&refresh_token={refresh_token}"
        ))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.ok()?))
}

/// The most recently created family.
pub fn newest_family(server: &TestServer) -> gatehouse::model::Family {
    let (mut families, _) = server
        .store
        .list_families(&Default::default(), 1, 0)
        .unwrap();
    families.pop().expect("a family exists")
}

/// Creates a public (native) client allowed `profile`; returns its id.
pub async fn create_public_client(admin: &mut AdminClient) -> String {
    admin
        .create_client(proto::CreateClientRequest {
            name: "Native".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            scopes: vec!["profile".into()],
            grant_types: vec![],
            public: true,
            ..Default::default()
        })
        .await
        .expect("create public client")
        .into_inner()
        .client
        .expect("client")
        .id
}

/// Security events of `kind`, waiting (up to 10 s) until there are at least
/// `expected`: some are recorded off the request path.
pub async fn await_events(server: &TestServer, kind: &str, expected: usize) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (events, _) = server
            .store
            .list_events(1000, 0, &gatehouse::model::EventFilter::security())
            .unwrap();
        let count = events
            .iter()
            .filter(|event| event.kind.as_str() == kind)
            .count();
        if count >= expected || std::time::Instant::now() > deadline {
            return count;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The aggregated rows of `kind` once the failure tally has written them: moves
/// the frozen clock past the minute in progress, then waits (up to 10 s) until
/// the rows' counts add up to at least `expected`.
pub async fn flushed_failures(
    server: &TestServer,
    kind: &str,
    expected: i64,
) -> Vec<gatehouse::model::Event> {
    server.clock.advance(60);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (events, _) = server
            .store
            .list_events(10_000, 0, &gatehouse::model::EventFilter::security())
            .unwrap();
        let rows: Vec<_> = events
            .into_iter()
            .filter(|e| e.kind.as_str() == kind)
            .collect();
        let total: i64 = rows.iter().map(|e| e.count).sum();
        if total >= expected || std::time::Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The server's `status` over the admin plane.
pub async fn status(server: &TestServer) -> proto::Status {
    let reply = server.admin().get_status(proto::GetStatusRequest {}).await;
    reply.expect("status").into_inner()
}

/// Runs the `gatehouse` binary with exactly `args` (no data dir or address
/// added), without an admin token in the environment.
pub async fn gatehouse(args: &[&str]) -> CliOutput {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env_remove("GATEHOUSE_ADMIN_TOKEN")
        .env_remove("GATEHOUSE_ADMIN_TOKEN_FILE")
        .env_remove("GATEHOUSE_DATA_DIR")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run gatehouse");
    CliOutput {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A confidential client marked as a resource server: it may introspect any
/// client's tokens. Returns (client_id, client_secret).
pub async fn create_resource_server(admin: &mut AdminClient) -> (String, String) {
    let reply = admin
        .create_client(proto::CreateClientRequest {
            name: "Resource server".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            resource_server: true,
            ..Default::default()
        })
        .await
        .expect("create resource server")
        .into_inner();
    (reply.client.unwrap().id, reply.client_secret)
}

/// Pauses a fail point of `store` until dropped, so whatever holds there goes
/// on however the test ends (a failed assert would otherwise leave the
/// server's shutdown waiting for it).
pub struct Paused(Store, &'static str);

impl Paused {
    pub fn at(store: &Store, point: &'static str) -> Self {
        store.set_fail_point(point, Some(gatehouse::store::FailAction::Pause));
        Paused(store.clone(), point)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        self.0.set_fail_point(self.1, None);
    }
}
