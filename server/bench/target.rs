//! Where the bench's requests go: a server it starts as a child process
//! (`EXE serve` on a temp data dir, so the server's CPU is read apart from the
//! load generator's), the floor's minimal server (also a child), or a running
//! server at `--url`. For a child server the bench provisions the client and
//! the user, and later seeds and changes data, through its own handle on the
//! same database (SQLite serialises the two processes' writes).

use super::args::{BenchArgs, BenchError};
use super::partner::Partner;
use gatehouse::clock::Clock;
use gatehouse::model::{Actor, ClientSpec, GrantType, RetryWindow, Username};
use gatehouse::store::Store;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// A server the bench talks to.
pub struct Target {
    pub partner: Partner,
    pub addr: SocketAddr,
    /// The server's process, for its CPU time and memory.
    pub pid: Option<u32>,
    /// Where the server's `/metrics` answers (the writer's figures).
    pub metrics: Option<String>,
    /// A child server: the process, and the bench's handle on its database.
    pub local: Option<Local>,
}

pub struct Local {
    child: Child,
    pub store: Store,
    data_dir: PathBuf,
}

fn setup(error: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(error.to_string())
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<SocketAddr, BenchError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(setup)?;
    listener.local_addr().map_err(setup)
}

/// This executable, or `--server-exe`.
pub fn server_exe(args: &BenchArgs) -> Result<PathBuf, BenchError> {
    match &args.server_exe {
        Some(exe) => Ok(exe.clone()),
        None => std::env::current_exe().map_err(setup),
    }
}

/// Waits until `addr` accepts a connection, or the child has exited.
async fn wait_listening(addr: SocketAddr, child: &mut Child, log: &Path) -> Result<(), BenchError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            let output = std::fs::read_to_string(log).unwrap_or_default();
            return Err(BenchError::Setup(format!(
                "the server exited ({status}): {output}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(BenchError::Setup(format!(
        "nothing listens on {addr} after 20 s"
    )))
}

impl Target {
    pub fn remote(url: &str, args: &BenchArgs) -> Result<Self, BenchError> {
        let missing = |flag: &str| BenchError::Setup(format!("--url needs {flag}"));
        let base = url.trim_end_matches('/').to_owned();
        let authority = base
            .strip_prefix("http://")
            .ok_or_else(|| BenchError::Setup("--url must be http://HOST:PORT".into()))?;
        let addr = authority
            .to_socket_addrs()
            .map_err(setup)?
            .next()
            .ok_or_else(|| BenchError::Setup(format!("{authority} resolves to nothing")))?;
        Ok(Target {
            partner: Partner {
                base,
                client_id: args
                    .client_id
                    .clone()
                    .ok_or_else(|| missing("--client-id"))?,
                client_secret: args
                    .client_secret
                    .clone()
                    .ok_or_else(|| missing("--client-secret"))?,
                username: args.user.clone().ok_or_else(|| missing("--user"))?,
                password: args.password.clone().ok_or_else(|| missing("--password"))?,
                redirect_uri: None,
            },
            addr,
            pid: args.server_pid,
            metrics: None,
            local: None,
        })
    }

    /// `EXE serve` on a fresh temp data dir, with metrics on or off, and a
    /// client and a user provisioned before it starts.
    pub async fn child(exe: &Path, metrics: bool) -> Result<Self, BenchError> {
        let data_dir = std::env::temp_dir().join(format!(
            "gatehouse-bench-{}",
            gatehouse::secret::random_base64(8)
        ));
        let prepared = gatehouse::server::prepare(&data_dir).map_err(setup)?;
        // The server takes the data directory's lock; the bench keeps only
        // its database handle.
        drop(prepared.lock);
        let store = prepared.store;
        let now = Clock::default().now();
        let redirect_uri = "http://127.0.0.1:9/cb".to_owned();
        let spec = ClientSpec::parse(
            "Bench",
            std::slice::from_ref(&redirect_uri),
            &["profile".into()],
            &GrantType::ALL,
            false,
        )
        .map_err(setup)?;
        let (client, secret) = store
            .create_client(Actor::Local, spec, now)
            .map_err(setup)?;
        let password = gatehouse::secret::random_base64(16);
        let username = Username::parse("bench").map_err(setup)?;
        store
            .create_user(
                Actor::Local,
                &username,
                &gatehouse::secret::hash_password(&password),
                now,
            )
            .map_err(setup)?;
        let (http, grpc) = (free_port()?, free_port()?);
        let metrics = match metrics {
            true => Some(free_port()?.to_string()),
            false => None,
        };
        let log = data_dir.join("server.log");
        let mut command = Command::new(exe);
        command
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["--grpc-addr", &grpc.to_string(), "serve"])
            .args(["--http-addr", &http.to_string()])
            .args(["--issuer", &format!("http://{http}")])
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).map_err(setup)?)
            .kill_on_drop(true);
        if let Some(metrics) = &metrics {
            command.args(["--metrics-addr", metrics]);
        }
        let mut child = command.spawn().map_err(setup)?;
        wait_listening(http, &mut child, &log).await?;
        Ok(Target {
            partner: Partner {
                base: format!("http://{http}"),
                client_id: client.id,
                client_secret: secret.map(|s| s.into_string()).unwrap_or_default(),
                username: "bench".into(),
                password,
                redirect_uri: Some(redirect_uri),
            },
            addr: http,
            pid: child.id(),
            metrics,
            local: Some(Local {
                child,
                store,
                data_dir,
            }),
        })
    }

    /// The floor's minimal server: this executable with `bench --serve-floor`.
    pub async fn floor(like: &Target) -> Result<Self, BenchError> {
        let exe = std::env::current_exe().map_err(setup)?;
        let addr = free_port()?;
        let data_dir = std::env::temp_dir().join(format!(
            "gatehouse-floor-{}",
            gatehouse::secret::random_base64(8)
        ));
        std::fs::create_dir_all(&data_dir).map_err(setup)?;
        let log = data_dir.join("floor.log");
        let mut child = Command::new(exe)
            .args(["bench", "--serve-floor", &addr.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).map_err(setup)?)
            .kill_on_drop(true)
            .spawn()
            .map_err(setup)?;
        wait_listening(addr, &mut child, &log).await?;
        // No database: the handle is only kept for the process and the dir.
        let store = match &like.local {
            Some(local) => local.store.clone(),
            None => return Err(BenchError::Setup("the floor needs a child server".into())),
        };
        Ok(Target {
            partner: like.partner.clone(),
            addr,
            pid: child.id(),
            metrics: None,
            local: Some(Local {
                child,
                store,
                data_dir,
            }),
        })
    }

    /// The bench's handle on a child server's database.
    pub fn store(&self) -> Option<&Store> {
        self.local.as_ref().map(|local| &local.store)
    }

    /// Stops a child with SIGTERM (SIGKILL after 10 s) and removes its data dir.
    pub async fn stop(self) {
        let Some(mut local) = self.local else {
            return;
        };
        if let Some(pid) = local.child.id() {
            // SAFETY: kill(2) on our own child's pid; it has not been reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        }
        match tokio::time::timeout(Duration::from_secs(10), local.child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                let _ = local.child.kill().await;
            }
        }
        drop(local.store);
        let _ = std::fs::remove_dir_all(&local.data_dir);
    }

    /// Sets the bench client's refresh retry window; false without a child server.
    pub fn set_retry_window(&self, window: RetryWindow) -> Result<bool, BenchError> {
        let Some(store) = self.store() else {
            return Ok(false);
        };
        store
            .update_client(
                Actor::Local,
                &self.partner.client_id,
                Clock::default().now(),
                move |client| {
                    Ok(ClientSpec {
                        refresh_retry_window: window,
                        ..client.spec()
                    })
                },
            )
            .map_err(setup)?;
        Ok(true)
    }
}
