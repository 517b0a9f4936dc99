//! A browser for the authorization flow: no automatic redirects, cookies
//! kept by hand. The bench's partner drives it, and so do the integration
//! tests (they include this file), so it depends on nothing but reqwest.

use std::collections::BTreeMap;

/// A browser: no automatic redirects, cookies kept by hand. The integration
/// tests drive the login and consent pages with it too.
pub struct Browser {
    pub(crate) http: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
        }
    }

    async fn send(
        &mut self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, String> {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let response = request
            .header("cookie", cookie.join("; "))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        for value in response.headers().get_all("set-cookie") {
            if let Some((name, value)) = value
                .to_str()
                .ok()
                .and_then(|t| t.split(';').next())
                .and_then(|p| p.split_once('='))
            {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Ok(response)
    }

    /// The value of cookie `name`, if the server set it.
    #[allow(dead_code)] // the integration tests read cookies; the bench does not
    pub fn cookie(&self, name: &str) -> Option<&String> {
        self.cookies.get(name)
    }

    pub async fn get(&mut self, path: &str) -> Result<reqwest::Response, String> {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<reqwest::Response, String> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }
}

/// The value of a hidden form field.
pub fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("location")?
        .to_str()
        .ok()
        .map(str::to_owned)
}
