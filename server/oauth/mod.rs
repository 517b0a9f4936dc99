//! OAuth protocol logic as plain functions over the store and `now`; nothing
//! here knows about axum or SQL.

pub mod authorize;
pub mod bearer;
pub mod client_auth;
pub mod error;
pub mod interaction;
pub mod params;
#[cfg(test)]
mod properties;
pub mod token;

pub use error::{ErrorCode, OAuthError};
pub use params::Params;
