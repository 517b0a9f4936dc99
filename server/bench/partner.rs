//! The partner application the bench plays: it seeds families through the
//! real /authorize + login + consent + /token flow, and runs the flow workload.

use super::browser::{hidden, location, Browser};
use super::report::Outcome;
use gatehouse::model::ClientId;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// One family's newest tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

fn code_of(location: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
}

/// The partner application the bench plays.
#[derive(Debug, Clone)]
pub struct Partner {
    pub base: String,
    pub client_id: ClientId,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    /// The redirect URI (`None`: the first one the server accepts is unknown, so
    /// the in-process default is used).
    pub redirect_uri: Option<String>,
}

impl Partner {
    fn redirect_uri(&self) -> &str {
        self.redirect_uri
            .as_deref()
            .unwrap_or("http://127.0.0.1:9/cb")
    }

    pub(super) fn authorize_path(&self) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", self.client_id.as_str()),
                ("redirect_uri", self.redirect_uri()),
                ("scope", "profile"),
                ("state", "bench"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        format!("/authorize?{query}")
    }

    pub(super) fn basic(&self) -> String {
        use base64::Engine;
        let encode =
            |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
        let raw = format!(
            "{}:{}",
            encode(self.client_id.as_str()),
            encode(&self.client_secret)
        );
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// /authorize → (login → consent, the first time) → a code.
    async fn code(&self, browser: &mut Browser) -> Result<String, String> {
        let response = browser.get(&self.authorize_path()).await?;
        if response.status() == 303 {
            return location(&response)
                .and_then(|l| code_of(&l))
                .ok_or("no code in the redirect".into());
        }
        let page = response.text().await.map_err(|e| e.to_string())?;
        let (txn, csrf) = (
            hidden(&page, "txn").ok_or("no login form")?,
            hidden(&page, "csrf").ok_or("no csrf")?,
        );
        let login = browser
            .post(
                "/login",
                &[
                    ("txn", &txn),
                    ("csrf", &csrf),
                    ("username", &self.username),
                    ("password", &self.password),
                ],
            )
            .await?;
        let consent_path = location(&login).ok_or("login refused: check --user and --password")?;
        let consent = browser.get(&consent_path).await?;
        if consent.status() == 303 {
            return location(&consent)
                .and_then(|l| code_of(&l))
                .ok_or("no code in the redirect".into());
        }
        let page = consent.text().await.map_err(|e| e.to_string())?;
        let (txn, csrf) = (
            hidden(&page, "txn").ok_or("no consent form")?,
            hidden(&page, "csrf").ok_or("no csrf")?,
        );
        let allowed = browser
            .post(
                "/consent",
                &[("txn", &txn), ("csrf", &csrf), ("decision", "allow")],
            )
            .await?;
        location(&allowed)
            .and_then(|l| code_of(&l))
            .ok_or("no code in the redirect".into())
    }

    async fn token_request(
        &self,
        browser: &Browser,
        form: &[(&str, &str)],
    ) -> Result<reqwest::Response, String> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        browser
            .http
            .post(format!("{}/token", self.base))
            .header("authorization", self.basic())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())
    }

    async fn exchange(&self, browser: &Browser, code: &str) -> Result<reqwest::Response, String> {
        self.token_request(
            browser,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.redirect_uri()),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
    }

    /// Seeds `count` families through the real flow.
    pub async fn seed_families(&self, count: usize) -> Result<Vec<Tokens>, String> {
        let mut browser = Browser::new(&self.base);
        let mut families = Vec::with_capacity(count);
        for _ in 0..count {
            let code = self.code(&mut browser).await?;
            let response = self.exchange(&browser, &code).await?;
            if response.status() != 200 {
                return Err(format!("token exchange answered {}", response.status()));
            }
            let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
            families.push(Tokens {
                access: body["access_token"].as_str().unwrap_or_default().to_owned(),
                refresh: body["refresh_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        Ok(families)
    }

    /// One authorization code flow: /authorize (login and consent on the
    /// first), then the exchange at /token.
    pub async fn flow(&self, browser: &mut Browser) -> Outcome {
        let result = match self.code(browser).await {
            Ok(code) => self.exchange(browser, &code).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(response) => Outcome::of(response).await,
            Err(error) => Outcome::Failed(error),
        }
    }
}
