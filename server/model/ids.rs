//! Identifiers of clients and token families: issued by the server, parsed
//! once where they come back from outside (an HTTP form, a Basic header, a
//! gRPC request), and passed as types after that.
//!
//! The server issues 22 URL-safe base64 characters for a client and `fam_`
//! and 16 for a family. `parse` is looser on purpose: it accepts any id of
//! 1–128 visible ASCII characters, so nothing that could name a row today is
//! refused; whatever it does refuse names no client or family, and the edges
//! answer it exactly as they answer an unknown one. Ids read back from the
//! store are trusted and not checked again (the store binds and reads them
//! directly, in `store/ids.rs`).

use super::Invalid;
use std::fmt;

/// Longest id `parse` accepts, in bytes.
const MAX_LEN: usize = 128;

/// Generates one id type: a `String` newtype with `parse`, `from_trusted`,
/// `as_str`, `Display` and a plain-string `Serialize`.
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// An id that came from outside: 1–128 visible ASCII characters.
            pub fn parse(text: &str) -> Result<Self, Invalid> {
                check(text, $field)?;
                Ok($name(text.to_owned()))
            }

            /// An id the server issued or read back from its database.
            pub fn from_trusted(text: String) -> Self {
                $name(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

string_id! {
    /// A registered client's `client_id`.
    ClientId, "client_id"
}

string_id! {
    /// A token family's id (`fam_…`): one authorization and every token
    /// rotated from it.
    FamilyId, "family_id"
}

impl ClientId {
    /// A fresh id for a new client.
    pub fn generate() -> Self {
        ClientId(crate::secret::random_base64(16))
    }
}

impl FamilyId {
    /// A fresh id for a new family.
    pub fn generate() -> Self {
        FamilyId(format!("fam_{}", crate::secret::random_base64(12)))
    }
}

fn check(text: &str, field: &'static str) -> Result<(), Invalid> {
    if text.is_empty() || text.len() > MAX_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Invalid::new(
            field,
            format!("{text:?}: an id is 1-{MAX_LEN} visible ASCII characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_ids_parse_and_foreign_text_does_not() {
        for _ in 0..32 {
            let client = ClientId::generate();
            assert_eq!(ClientId::parse(client.as_str()), Ok(client));
            let family = FamilyId::generate();
            assert_eq!(FamilyId::parse(family.as_str()), Ok(family));
        }
        assert!(ClientId::parse("an:identifier").is_ok());
        for bad in [
            "",
            "a b",
            "caf\u{e9}",
            "tab\there",
            &"x".repeat(MAX_LEN + 1),
        ] {
            assert!(ClientId::parse(bad).is_err(), "{bad:?}");
            assert!(FamilyId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_serialize_as_plain_strings() {
        let id = ClientId::parse("cli_a").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"cli_a\"");
        assert_eq!(id.to_string(), "cli_a");
    }
}
