//! Partner clients: the registration as stored, the spec that creates or
//! replaces it, and the refresh retry window.

use super::*;

/// How long after a rotation a client may present the rotated refresh token
/// again and get the same answer (a retry whose response was lost): 0–60 s,
/// 0 (the default) for strict rotation, where any reuse is a replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetryWindow(u8);

impl RetryWindow {
    pub const MAX_SECS: i64 = 60;
    pub const STRICT: RetryWindow = RetryWindow(0);

    pub fn parse(secs: i64) -> Result<Self, Invalid> {
        match u8::try_from(secs) {
            Ok(secs) if i64::from(secs) <= Self::MAX_SECS => Ok(RetryWindow(secs)),
            _ => Err(Invalid::new(
                "refresh_retry_window_secs",
                format!("{secs}: use 0 (strict) to {} seconds", Self::MAX_SECS),
            )),
        }
    }

    /// A window read back from the store, which only ever holds parsed ones.
    pub fn from_trusted(secs: i64) -> Self {
        RetryWindow::parse(secs).unwrap_or(RetryWindow::STRICT)
    }

    pub fn secs(self) -> i64 {
        i64::from(self.0)
    }

    pub fn is_strict(self) -> bool {
        self.0 == 0
    }
}

/// A registered partner application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub scopes: ScopeSet,
    pub grant_types: Vec<GrantType>,
    pub public: bool,
    pub disabled: bool,
    pub refresh_retry_window: RetryWindow,
    /// May introspect any client's tokens, not only its own.
    pub resource_server: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub active_families: i64,
}

impl Client {
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The registration as it stands, to change a field of it.
    pub fn spec(&self) -> ClientSpec {
        ClientSpec {
            name: self.name.clone(),
            redirect_uris: self.redirect_uris.clone(),
            scopes: self.scopes.clone(),
            grant_types: self.grant_types.clone(),
            public: self.public,
            refresh_retry_window: self.refresh_retry_window,
            resource_server: self.resource_server,
        }
    }

    /// The fields `spec` would change, before and after (the audit of an update).
    pub fn changes_to(&self, spec: &ClientSpec) -> Vec<super::FieldChange> {
        let uris = |uris: &[RedirectUri]| {
            let texts: Vec<&str> = uris.iter().map(RedirectUri::as_str).collect();
            texts.join(" ")
        };
        let grants = |grants: &[GrantType]| {
            let mut names: Vec<&str> = grants.iter().map(|grant| grant.as_str()).collect();
            names.sort_unstable();
            names.join(" ")
        };
        let mut changes = Vec::new();
        let mut push = |field, before: String, after: String| {
            super::FieldChange::push_if_changed(&mut changes, field, before, after)
        };
        push("name", self.name.clone(), spec.name.clone());
        push(
            "redirect_uris",
            uris(&self.redirect_uris),
            uris(&spec.redirect_uris),
        );
        push("scopes", self.scopes.to_string(), spec.scopes.to_string());
        push(
            "grant_types",
            grants(&self.grant_types),
            grants(&spec.grant_types),
        );
        push("public", self.public.to_string(), spec.public.to_string());
        push(
            "refresh_retry_window_secs",
            self.refresh_retry_window.secs().to_string(),
            spec.refresh_retry_window.secs().to_string(),
        );
        push(
            "resource_server",
            self.resource_server.to_string(),
            spec.resource_server.to_string(),
        );
        changes
    }
}

/// A validated client registration or full replacement.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub scopes: ScopeSet,
    pub grant_types: Vec<GrantType>,
    pub public: bool,
    /// Strict unless set after parsing (it stands apart from the lists checked here).
    pub refresh_retry_window: RetryWindow,
    /// Not a resource server unless set after parsing.
    pub resource_server: bool,
}

impl ClientSpec {
    /// Checks a registration as a whole: at least one redirect URI, unique grant types.
    pub fn parse(
        name: &str,
        redirect_uris: &[String],
        scopes: &[String],
        grant_types: &[GrantType],
        public: bool,
    ) -> Result<Self, Invalid> {
        let name = parse_client_name(name)?;
        if redirect_uris.is_empty() {
            return Err(Invalid::new(
                "redirect_uris",
                "at least one redirect URI is required",
            ));
        }
        if redirect_uris.len() > 32 {
            return Err(Invalid::new("redirect_uris", "at most 32 redirect URIs"));
        }
        let mut uris = Vec::new();
        for text in redirect_uris {
            let uri = RedirectUri::parse(text, public)?;
            if !uris.contains(&uri) {
                uris.push(uri);
            }
        }
        let scopes = ScopeSet::new(
            scopes
                .iter()
                .map(|text| ScopeName::parse(text).map_err(|e| Invalid::new("scopes", e.message)))
                .collect::<Result<Vec<_>, _>>()?,
        );
        let mut grant_types = grant_types.to_vec();
        grant_types.sort();
        grant_types.dedup();
        Ok(ClientSpec {
            name,
            redirect_uris: uris,
            scopes,
            grant_types,
            public,
            refresh_retry_window: RetryWindow::STRICT,
            resource_server: false,
        })
    }
}
