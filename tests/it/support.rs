//! `TestServer::spawn()`: the real server in-process on ephemeral ports.

use gatehouse::clock::Clock;
use gatehouse::config::{Config, GlobalArgs, LogFormat};
use gatehouse::model::Lifetimes;
use gatehouse::server::{self, Listeners, Shared};
use gatehouse::store::Store;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use gatehouse::cli::AdminClient;
pub use gatehouse::proto;

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    pub store: Store,
    pub clock: Clock,
    pub admin_token: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn spawn() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::spawn_in(dir, Clock::default()).await
    }

    async fn spawn_in(dir: tempfile::TempDir, clock: Clock) -> Self {
        let data_dir = dir.path().join("data");
        let prepared = server::prepare(&data_dir).expect("prepare data dir");
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
        let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind grpc");
        let http_addr = http.local_addr().unwrap();
        let grpc_addr = grpc.local_addr().unwrap();
        let config = Config {
            data_dir,
            http_addr,
            grpc_addr,
            issuer: format!("http://{http_addr}"),
            log_format: LogFormat::Text,
            lifetimes: Lifetimes::default(),
        };
        let shared = Shared {
            config,
            store: prepared.store.clone(),
            clock: clock.clone(),
            started: std::time::Instant::now(),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let admin_token = prepared.admin_token.clone();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            server::run(
                shared,
                prepared.admin_token,
                Listeners { http, grpc },
                shutdown,
            )
            .await
            .expect("server run");
        });
        TestServer {
            dir,
            http_addr,
            grpc_addr,
            store: prepared.store,
            clock,
            admin_token,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the server and starts a new one on the same data directory.
    pub async fn restart(mut self) -> Self {
        self.shutdown().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Self::spawn_in(dir, self.clock.clone()).await
    }

    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
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

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

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
    let code = store
        .issue_code(
            &CodeGrant {
                client_id: client_id.into(),
                user_seq: user.seq,
                redirect_uri: "https://partner.example/cb".into(),
                code_challenge: "x".repeat(43),
                scope: "profile".into(),
                expires_at: now + 60,
            },
            now,
        )
        .unwrap();
    let issued = store
        .redeem_code(code.expose(), now, |_| {
            CodeRedemption::Issue(IssueSpec {
                access_scope: "profile".into(),
                access_expires_at: now + 3600,
                refresh_expires_at: Some(now + 86400),
            })
        })
        .unwrap()
        .expect("issued");
    (
        issued.family_id,
        issued.access_token.into_string(),
        issued.refresh_token.unwrap().into_string(),
    )
}
