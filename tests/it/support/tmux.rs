//! `Tmux`: one detached tmux session running the real `gatehouse-tui`, driven
//! with send-keys and read with capture-pane.
//!
//! Without tmux the console tests fail, unless `GATEHOUSE_SKIP_TMUX_TESTS=1`
//! says to skip them (they then say so on stderr). `.ci/run` installs tmux.

use std::time::{Duration, Instant};

/// How long a screen may take to show what a test waits for.
const SCREEN_DEADLINE: Duration = Duration::from_secs(20);

/// Whether tmux is here to run `test`; panics when it is not, unless
/// `GATEHOUSE_SKIP_TMUX_TESTS=1`.
pub fn tmux_available(test: &str) -> bool {
    let installed = std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|output| output.status.success());
    if installed {
        return true;
    }
    let message =
        format!("{test}: tmux is not installed (Debian package tmux; .ci/run installs it)");
    if std::env::var("GATEHOUSE_SKIP_TMUX_TESTS").is_ok_and(|skip| skip == "1") {
        eprintln!("{message}; NOT RUN because GATEHOUSE_SKIP_TMUX_TESTS=1");
        return false;
    }
    panic!("{message}; set GATEHOUSE_SKIP_TMUX_TESTS=1 to skip the console tests");
}

/// A tmux server of its own (one socket per test) with one session, `console`.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in a 120×40 session on a fresh tmux server.
    pub fn start(name: &str, command: &str) -> Self {
        let tmux = Tmux {
            socket: format!("gatehouse-{name}-{}", std::process::id()),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "console",
            "-x",
            "120",
            "-y",
            "40",
            command,
        ]);
        tmux
    }

    pub fn run(&self, args: &[&str]) -> String {
        let output = std::process::Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "console", key]);
        }
    }

    pub fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "console", "-l", text]);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "console"])
    }

    /// Waits until the screen contains `needle`; returns that screen.
    pub async fn wait_for(&self, needle: &str) -> String {
        self.wait_until(&format!("{needle:?}"), |screen| screen.contains(needle))
            .await
    }

    /// Waits until `ready` holds for the screen; returns that screen.
    pub async fn wait_until(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + SCREEN_DEADLINE;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "never on screen: {what}; the screen:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}
