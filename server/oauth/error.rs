//! OAuth error codes, one variant per code the endpoints answer, each with its
//! RFC sentence. `as_str` is the wire value; the HTTP mapping lives in `http/`.

/// An error code from RFC 6749 §4.1.2.1 / §5.2, RFC 6750 §3.1 or RFC 7009.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// "The request is missing a required parameter, includes an unsupported
    /// parameter value, repeats a parameter, … or is otherwise malformed."
    InvalidRequest,
    /// "Client authentication failed (e.g., unknown client, no client
    /// authentication included, or unsupported authentication method)."
    InvalidClient,
    /// "The provided authorization grant … or refresh token is invalid, expired,
    /// revoked, does not match the redirection URI used in the authorization
    /// request, or was issued to another client."
    InvalidGrant,
    /// "The authenticated client is not authorized to use this authorization
    /// grant type."
    UnauthorizedClient,
    /// "The authorization grant type is not supported by the authorization server."
    UnsupportedGrantType,
    /// "The requested scope is invalid, unknown, malformed, or exceeds the scope
    /// granted by the resource owner."
    InvalidScope,
    /// "The resource owner or authorization server denied the request."
    AccessDenied,
    /// "The authorization server does not support obtaining an authorization
    /// code using this method."
    UnsupportedResponseType,
    /// "The authorization server encountered an unexpected condition that
    /// prevented it from fulfilling the request."
    ServerError,
    /// "The authorization server is currently unable to handle the request due to
    /// a temporary overloading or maintenance of the server."
    TemporarilyUnavailable,
    /// RFC 6750: "The access token provided is expired, revoked, malformed, or
    /// invalid for other reasons."
    InvalidToken,
    /// RFC 6750: "The request requires higher privileges than provided by the
    /// access token."
    InsufficientScope,
    /// OpenID Connect Core §3.1.2.6: "The Authorization Server requires End-User
    /// authentication" and `prompt=none` forbids asking.
    LoginRequired,
    /// OpenID Connect Core §3.1.2.6: "The Authorization Server requires End-User
    /// consent" and `prompt=none` forbids asking.
    ConsentRequired,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
        }
    }
}

/// An error answer: the code and a description for the partner's developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    description: String,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
        }
    }

    /// The description, limited to the RFC 6749 §5.2 character set
    /// (%x20-21 / %x23-5B / %x5D-7E): anything else becomes `?`.
    pub fn description(&self) -> String {
        self.description
            .chars()
            .map(|c| match c {
                ' ' | '!' | '#'..='[' | ']'..='~' => c,
                _ => '?',
            })
            .collect()
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        OAuthError::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<String>) -> Self {
        OAuthError::new(ErrorCode::InvalidClient, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        OAuthError::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        OAuthError::new(ErrorCode::InvalidScope, description)
    }

    pub fn server_error() -> Self {
        OAuthError::new(
            ErrorCode::ServerError,
            "the server could not complete the request; retry later",
        )
    }

    pub fn temporarily_unavailable() -> Self {
        OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "the server is in maintenance; retry later",
        )
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(error: crate::store::StoreError) -> Self {
        match error {
            crate::store::StoreError::Busy => OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the server is busy; retry",
            ),
            other => {
                tracing::error!(error = %other, "storage failure on the public plane");
                OAuthError::server_error()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_to_the_rfc_character_set() {
        let error = OAuthError::invalid_request("bad \"quote\" and \\ and\nnewline and é");
        assert_eq!(error.description(), "bad ?quote? and ? and?newline and ?");
    }
}
