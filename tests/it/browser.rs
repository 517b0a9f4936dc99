//! A real browser: headless Chromium, driven over WebDriver (chromedriver),
//! through the login and consent pages to the client's redirect with a code
//! (the pages' CSP `form-action` must let the form's redirect through), then
//! through sign-out.
//!
//! `.ci/run` installs Debian's `chromium` and `chromium-driver`. Without them
//! this test fails, unless `GATEHOUSE_SKIP_BROWSER_TESTS=1` says to skip it.

use crate::support::*;
use serde_json::{json, Value};
use std::time::Duration;

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| std::path::Path::new(dir).join(name))
        .find(|path| path.is_file())
}

struct WebDriver {
    http: reqwest::Client,
    base: String,
    session: String,
    _process: tokio::process::Child,
}

impl WebDriver {
    async fn start(
        chromedriver: &std::path::Path,
        chromium: &std::path::Path,
        profile: &std::path::Path,
    ) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = tokio::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=900,900",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let reply: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = reply["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {reply}"))
            .to_owned();
        WebDriver {
            http,
            base,
            session,
            _process: process,
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if !body.is_null() {
            request = request.json(&body);
        }
        let reply: Value = request.send().await.unwrap().json().await.unwrap();
        reply["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .command(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.element(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            json!({}),
        )
        .await;
    }

    async fn source(&self) -> String {
        self.command(reqwest::Method::GET, "/source", Value::Null)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// The page source once it contains `needle` (a form's navigation may
    /// still be under way when click returns), or the last source after 20 s.
    async fn source_with(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let source = self.source().await;
            if source.contains(needle) || std::time::Instant::now() > deadline {
                return source;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn current_url(&self) -> String {
        self.command(reqwest::Method::GET, "/url", Value::Null)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Saves a screenshot next to the test binary's temp dir, for people.
    async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let data = self
            .command(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        if let Some(png) = data
            .as_str()
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        {
            let _ = std::fs::write(
                std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name),
                png,
            );
        }
    }

    async fn quit(&self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

/// A one-page HTTP server standing in for the partner's callback.
async fn callback_listener() -> (u16, tokio::sync::mpsc::Receiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 8192];
            let read = socket.read(&mut buffer).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..read]).into_owned();
            let line = request.lines().next().unwrap_or("").to_owned();
            let body = "<html><body><h1>Partner callback</h1></body></html>";
            let reply = format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = socket.write_all(reply.as_bytes()).await;
            if line.starts_with("GET /cb") {
                let _ = sender.send(line).await;
            }
        }
    });
    (port, receiver)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_logs_in_consents_reaches_the_redirect_with_a_code_and_signs_out() {
    let (Some(chromium), Some(chromedriver)) =
        (find_program("chromium"), find_program("chromedriver"))
    else {
        let message = "browser test: chromium and chromedriver are not installed \
                       (Debian packages chromium and chromium-driver; .ci/run installs them)";
        if std::env::var("GATEHOUSE_SKIP_BROWSER_TESTS").is_ok_and(|skip| skip == "1") {
            eprintln!("{message}; NOT RUN because GATEHOUSE_SKIP_BROWSER_TESTS=1");
            return;
        }
        panic!("{message}; set GATEHOUSE_SKIP_BROWSER_TESTS=1 to skip it");
    };
    let server = TestServer::spawn().await;
    let (port, mut callbacks) = callback_listener().await;
    let redirect_uri = format!("http://127.0.0.1:{port}/cb");
    let mut admin = server.admin();
    let (client_id, client_secret) = create_client(&mut admin, &redirect_uri).await;
    create_user(&mut admin, "alice", PASSWORD).await;

    let profile = tempfile::tempdir().unwrap();
    let driver = WebDriver::start(&chromedriver, &chromium, profile.path()).await;
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", "profile"),
            ("state", "browser-state"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    driver
        .goto(&server.url(&format!("/authorize?{query}")))
        .await;
    driver.screenshot("login.png").await;
    driver.type_into("#username", "alice").await;
    driver.type_into("#password", PASSWORD).await;
    driver.click("button[type=submit]").await;
    driver.screenshot("consent.png").await;
    driver.click("button[value=allow]").await;

    let request_line = tokio::time::timeout(Duration::from_secs(20), callbacks.recv())
        .await
        .expect("the browser reached the callback within 20 s")
        .unwrap();
    let url = driver.current_url().await;

    // Sign out, then the same request asks for the password again.
    driver.goto(&server.url("/logout")).await;
    driver.click("button[type=submit]").await;
    let signed_out = driver.source_with("Signed out").await;
    driver
        .goto(&server.url(&format!("/authorize?{query}")))
        .await;
    let after = driver.source_with("name=\"password\"").await;
    driver.quit().await;
    assert!(signed_out.contains("Signed out"), "{signed_out}");
    assert!(after.contains("name=\"password\""), "{after}");
    assert!(url.starts_with(&redirect_uri), "{url}");
    let params = query_of(&url);
    assert_eq!(params["state"], "browser-state");
    assert_eq!(params["iss"], server.url(""));
    assert!(request_line.contains("code="), "{request_line}");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", VERIFIER),
    ];
    let response = post_form(&server, "/token", Some((&client_id, &client_secret)), &form).await;
    assert_eq!(
        response.status(),
        200,
        "the code the browser carried is real"
    );
}
