//! The client form (new / edit): fields, inline validation, the review of
//! changes before saving, and server errors placed next to their field.
//! What keys do to it is in `form/edit.rs`.

mod edit;

use crate::event::Cmd;
use gatehouse::model::{GrantType, RedirectUri, RetryWindow};
use gatehouse::proto;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    RedirectUris,
    Scopes,
    GrantTypes,
    RetryWindow,
    Public,
    ResourceServer,
    Disabled,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Name,
        Field::RedirectUris,
        Field::Scopes,
        Field::GrantTypes,
        Field::RetryWindow,
        Field::Public,
        Field::ResourceServer,
        Field::Disabled,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::RedirectUris => "Redirect URIs",
            Field::Scopes => "Scopes",
            Field::GrantTypes => "Grant types",
            Field::RetryWindow => "Retry window",
            Field::Public => "Type",
            Field::ResourceServer => "Introspects",
            Field::Disabled => "Status",
        }
    }

    /// The field a server error names (`redirect_uris: …`).
    fn from_server(name: &str) -> Option<Field> {
        match name {
            "name" => Some(Field::Name),
            "redirect_uris" => Some(Field::RedirectUris),
            "scopes" | "scope" => Some(Field::Scopes),
            "grant_types" => Some(Field::GrantTypes),
            "refresh_retry_window_secs" => Some(Field::RetryWindow),
            "public" => Some(Field::Public),
            "resource_server" => Some(Field::ResourceServer),
            _ => None,
        }
    }
}

/// Every grant type the form offers: the wire value and its OAuth name.
pub fn grant_types() -> impl Iterator<Item = (i32, &'static str)> {
    GrantType::ALL
        .into_iter()
        .map(|grant| (proto::GrantType::of(grant) as i32, grant.as_str()))
}

/// The values a form holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Values {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub grant_types: Vec<i32>,
    /// Seconds, as typed: 0 (strict) to 60.
    pub retry_window: String,
    pub public: bool,
    /// May introspect any client's tokens.
    pub resource_server: bool,
    pub disabled: bool,
}

#[derive(Debug, Clone)]
pub struct ClientForm {
    /// `None` for a new client.
    pub original: Option<proto::Client>,
    pub values: Values,
    /// Scope names from the catalog, for the multi-select.
    pub catalog: Vec<(String, String)>,
    pub focus: Field,
    /// Line of the redirect URI editor with the cursor.
    pub uri_line: usize,
    /// Cursor in the scope or grant-type list.
    pub list_cursor: usize,
    /// Showing the review of changes; `y` applies.
    pub reviewing: bool,
    pub saving: bool,
    pub server_error: Option<(Option<Field>, String)>,
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormOutcome {
    Stay,
    Close,
    Save(Box<Cmd>),
}

impl ClientForm {
    pub fn new_client(catalog: Vec<(String, String)>) -> Self {
        let values = Values {
            redirect_uris: vec![String::new()],
            grant_types: grant_types().map(|(grant, _)| grant).collect(),
            retry_window: "0".into(),
            resource_server: false,
            ..Values::default()
        };
        Self::with(None, values, catalog)
    }

    pub fn edit(client: proto::Client, catalog: Vec<(String, String)>) -> Self {
        let values = Values {
            name: client.name.clone(),
            redirect_uris: client.redirect_uris.clone(),
            scopes: client.scopes.clone(),
            grant_types: client.grant_types.clone(),
            retry_window: client.refresh_retry_window_secs.to_string(),
            public: client.public,
            resource_server: client.resource_server,
            disabled: client.disabled,
        };
        Self::with(Some(client), values, catalog)
    }

    fn with(
        original: Option<proto::Client>,
        values: Values,
        catalog: Vec<(String, String)>,
    ) -> Self {
        ClientForm {
            original,
            values,
            catalog,
            focus: Field::Name,
            uri_line: 0,
            list_cursor: 0,
            reviewing: false,
            saving: false,
            server_error: None,
        }
    }

    pub fn is_new(&self) -> bool {
        self.original.is_none()
    }

    fn uris(&self) -> Vec<String> {
        self.values
            .redirect_uris
            .iter()
            .map(|uri| uri.trim().to_owned())
            .filter(|uri| !uri.is_empty())
            .collect()
    }

    /// Inline validation: the first problem of a field, as the server would say it.
    pub fn problem(&self, field: Field) -> Option<String> {
        if let Some((Some(failed), message)) = &self.server_error {
            if *failed == field {
                return Some(message.clone());
            }
        }
        match field {
            Field::Name if self.values.name.trim().is_empty() => Some("required".into()),
            Field::RedirectUris => {
                let uris = self.uris();
                if uris.is_empty() {
                    return Some("at least one redirect URI".into());
                }
                uris.iter()
                    .find_map(|uri| RedirectUri::parse(uri, self.values.public).err())
                    .map(|invalid| invalid.message)
            }
            Field::RetryWindow => match self.retry_window_secs() {
                Some(secs) if i64::from(secs) <= RetryWindow::MAX_SECS => None,
                _ => Some(format!("0 (strict) to {} seconds", RetryWindow::MAX_SECS)),
            },
            _ => None,
        }
    }

    /// The retry window typed, if it is a number at all.
    fn retry_window_secs(&self) -> Option<u32> {
        self.values.retry_window.trim().parse().ok()
    }

    pub fn valid(&self) -> bool {
        Field::ALL
            .iter()
            .all(|field| self.problem(*field).is_none())
    }

    /// The review: one line per changed field, `old → new`.
    pub fn changes(&self) -> Vec<String> {
        let show = |values: &Values, field: Field| -> String {
            match field {
                Field::Name => values.name.trim().to_owned(),
                Field::RedirectUris => values
                    .redirect_uris
                    .iter()
                    .map(|u| u.trim())
                    .filter(|u| !u.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
                Field::Scopes => {
                    let mut scopes = values.scopes.clone();
                    scopes.sort();
                    scopes.join(" ")
                }
                Field::GrantTypes => grant_names(&values.grant_types).join(" "),
                Field::RetryWindow => retry_window_text(values.retry_window.trim()),
                Field::Public => if values.public {
                    "public"
                } else {
                    "confidential"
                }
                .into(),
                Field::ResourceServer => if values.resource_server {
                    "any client's tokens"
                } else {
                    "its own tokens"
                }
                .into(),
                Field::Disabled => if values.disabled {
                    "disabled"
                } else {
                    "enabled"
                }
                .into(),
            }
        };
        let before = self
            .original
            .as_ref()
            .map(|client| ClientForm::edit(client.clone(), Vec::new()).values);
        Field::ALL
            .iter()
            .filter_map(|field| {
                let new = show(&self.values, *field);
                match &before {
                    None => Some(format!(
                        "{:<14} {}",
                        field.label(),
                        if new.is_empty() { "(none)".into() } else { new }
                    )),
                    Some(old) => {
                        let old = show(old, *field);
                        (old != new).then(|| format!("{:<14} {old} → {new}", field.label()))
                    }
                }
            })
            .collect()
    }

    /// The RPC that saves the form.
    pub fn command(&self) -> Cmd {
        let uris = self.uris();
        match &self.original {
            None => Cmd::CreateClient(proto::CreateClientRequest {
                name: self.values.name.trim().to_owned(),
                redirect_uris: uris,
                scopes: self.values.scopes.clone(),
                grant_types: self.values.grant_types.clone(),
                public: self.values.public,
                refresh_retry_window_secs: self.retry_window_secs().unwrap_or_default(),
                resource_server: self.values.resource_server,
            }),
            Some(original) => {
                let paths = [
                    "name",
                    "redirect_uris",
                    "scopes",
                    "grant_types",
                    "refresh_retry_window_secs",
                    "resource_server",
                ]
                .map(String::from)
                .to_vec();
                Cmd::UpdateClient {
                    request: proto::UpdateClientRequest {
                        id: original.id.clone(),
                        client: Some(proto::Client {
                            name: self.values.name.trim().to_owned(),
                            redirect_uris: uris,
                            scopes: self.values.scopes.clone(),
                            grant_types: self.values.grant_types.clone(),
                            refresh_retry_window_secs: self.retry_window_secs().unwrap_or_default(),
                            resource_server: self.values.resource_server,
                            ..Default::default()
                        }),
                        update_mask: Some(prost_types::FieldMask { paths }),
                    },
                    disabled: (self.values.disabled != original.disabled)
                        .then_some(self.values.disabled),
                }
            }
        }
    }

    /// A server validation error, placed next to the field it names.
    pub fn rejected(&mut self, field: Option<&str>, message: String) {
        self.saving = false;
        self.reviewing = false;
        let field = field.and_then(Field::from_server);
        if let Some(field) = field {
            self.focus = field;
        }
        self.server_error = Some((field, message));
    }
}

/// "strict" for 0, "30 s" otherwise: the form's review and the clients table.
pub fn retry_window_text(secs: &str) -> String {
    match secs {
        "" | "0" => "strict".into(),
        secs => format!("{secs} s"),
    }
}

pub fn grant_names(grants: &[i32]) -> Vec<&'static str> {
    proto::GrantType::names(grants)
}
