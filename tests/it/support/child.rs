//! `ChildServer`: `gatehouse serve` as a child process on a data dir, for the
//! tests that need a real process: it can be signalled (SIGTERM, SIGKILL) and
//! restarted on the same ports, and its log is kept for grepping.

use super::{path_str, AdminClient};
use gatehouse::config::GlobalArgs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct ChildServer {
    pub child: tokio::process::Child,
    pub data_dir: PathBuf,
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    pub log: PathBuf,
}

/// Port 0: the child binds what the kernel gives it and logs the address.
fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl ChildServer {
    /// Starts the binary on `data_dir` with `GATEHOUSE_FAILPOINTS=fail_points`
    /// and waits until /healthz answers.
    pub async fn start(data_dir: &Path, fail_points: &str) -> Self {
        Self::start_with(data_dir, fail_points, &[]).await
    }

    /// The same, with more `serve` flags.
    pub async fn start_with(data_dir: &Path, fail_points: &str, flags: &[&str]) -> Self {
        Self::start_on(data_dir, any_port(), any_port(), fail_points, flags).await
    }

    /// The same on given addresses: a restart keeps its predecessor's, so a
    /// console can reconnect.
    pub async fn start_on(
        data_dir: &Path,
        http_addr: SocketAddr,
        grpc_addr: SocketAddr,
        fail_points: &str,
        flags: &[&str],
    ) -> Self {
        let binary = Path::new(env!("CARGO_BIN_EXE_gatehouse"));
        Self::start_binary_on(binary, data_dir, http_addr, grpc_addr, fail_points, flags).await
    }

    /// [`ChildServer::start`] with another build of the binary (the release one).
    pub async fn start_binary(binary: &Path, data_dir: &Path, fail_points: &str) -> Self {
        Self::start_binary_on(binary, data_dir, any_port(), any_port(), fail_points, &[]).await
    }

    async fn start_binary_on(
        binary: &Path,
        data_dir: &Path,
        http_addr: SocketAddr,
        grpc_addr: SocketAddr,
        fail_points: &str,
        flags: &[&str],
    ) -> Self {
        let log = data_dir.with_extension(format!("{}.log", unique()));
        let log_file = std::fs::File::create(&log).unwrap();
        let child = tokio::process::Command::new(binary)
            .args(["serve", "--data-dir", path_str(data_dir)])
            .args(["--http-addr", &http_addr.to_string()])
            .args(["--grpc-addr", &grpc_addr.to_string()])
            .args(["--issuer", &format!("http://{http_addr}")])
            .args(flags)
            .env("GATEHOUSE_FAILPOINTS", fail_points)
            .env("RUST_LOG", "debug")
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn gatehouse serve");
        let mut server = ChildServer {
            child,
            data_dir: data_dir.to_owned(),
            http_addr,
            grpc_addr,
            log,
        };
        server.await_log("gatehouse serving").await;
        let started = server.log_text();
        server.http_addr = logged_addr(&started, "http");
        server.grpc_addr = logged_addr(&started, "grpc");
        for _ in 0..200 {
            if reqwest::get(server.url("/healthz"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the child server did not come up: {}", server.log_text());
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http_addr)
    }

    /// A typed admin client for this server (its token from the data dir).
    pub fn admin(&self) -> AdminClient {
        gatehouse::cli::connect(&GlobalArgs {
            data_dir: self.data_dir.clone(),
            grpc_addr: self.grpc_addr.to_string(),
            admin_token_file: None,
        })
        .expect("admin client")
    }

    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) to the child.
    pub fn signal(&self, signal: libc::c_int) {
        let pid = self.child.id().expect("the child is running") as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill({pid}, {signal})");
    }

    /// Waits up to `bound` for the child to exit on its own.
    pub async fn exit_within(&mut self, bound: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(bound, self.child.wait())
            .await
            .ok()
            .map(|status| status.expect("wait for the child"))
    }

    /// Waits for the child to die on its own (a SIGKILL fail point).
    pub async fn wait_for_death(&mut self) {
        let status = self
            .exit_within(Duration::from_secs(10))
            .await
            .expect("the child died");
        assert!(!status.success(), "killed, not exited: {status:?}");
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (up to 10 s) until the log contains `needle`.
    pub async fn await_log(&self, needle: &str) {
        for _ in 0..200 {
            if self.log_text().contains(needle) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{needle:?} never logged:\n{}", self.log_text());
    }
}

/// The address logged as `key` on the "gatehouse serving" line, in the text
/// (`http=…`) or the JSON (`"http":"…"`) format.
fn logged_addr(log: &str, key: &str) -> SocketAddr {
    let line = log
        .lines()
        .find(|line| line.contains("gatehouse serving"))
        .expect("the serving line");
    let rest = [format!("{key}="), format!("\"{key}\":\"")]
        .iter()
        .find_map(|prefix| line.split_once(prefix.as_str()).map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no {key} address in the serving line: {line}"));
    let text = rest
        .split(|c: char| c.is_whitespace() || c == '"')
        .next()
        .unwrap_or_default();
    text.parse()
        .unwrap_or_else(|_| panic!("{key} {text:?} is not an address: {line}"))
}

/// Distinguishes the logs of successive children on the same port.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
