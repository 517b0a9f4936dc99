//! Secret material: generation, hashing and constant-time comparison.
//!
//! Tokens are 256 random bits from the OS generator, base64url-encoded behind a
//! readable prefix (`gat_` access, `grt_` refresh, `gcs_` client secret, `gac_`
//! code, `gak_` named admin token) so scanners recognise a leaked one. Access
//! and refresh tokens also name their family (`grt_<family id>.<random>`), which
//! says where their row is and nothing secret. Only their SHA-256 hashes are stored;
//! `Debug` on a [`Token`] shows the prefix alone, so a token never reaches a log.

use crate::model::FamilyId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// What a token is for, and so its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
    ClientSecret,
    Code,
    /// A named admin token (`gatehouse admin token create`).
    Admin,
    Opaque,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Access => "gat_",
            TokenKind::Refresh => "grt_",
            TokenKind::ClientSecret => "gcs_",
            TokenKind::Code => "gac_",
            TokenKind::Admin => "gak_",
            TokenKind::Opaque => "",
        }
    }
}

/// A freshly generated secret in plaintext: hand it out once, store its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn generate(kind: TokenKind) -> Self {
        Token(format!("{}{}", kind.prefix(), random_base64(SECRET_BYTES)))
    }

    /// An access or refresh token of `family`: `<prefix><family id>.<256
    /// random bits>`. The id is not secret (operators see it); it tells the
    /// store where the token's row is, beside its family's other tokens.
    pub fn generate_in(kind: TokenKind, family: &FamilyId) -> Self {
        Token(format!(
            "{}{}.{}",
            kind.prefix(),
            family.as_str(),
            random_base64(SECRET_BYTES)
        ))
    }

    /// A token handed out before and kept sealed since (a refresh retry's answer).
    pub(crate) fn from_plaintext(text: String) -> Self {
        Token(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

/// The family a presented `kind` token names ([`Token::generate_in`]); `None`
/// for text that names none, such as a token issued before tokens carried
/// their family's id, or text not shaped as an issued token is (its secret
/// part is 43 URL-safe base64 characters, 256 bits).
pub fn family_of(token: &str, kind: TokenKind) -> Option<FamilyId> {
    let (family, secret) = token.strip_prefix(kind.prefix())?.rsplit_once('.')?;
    let issued_shape = secret.len() == SECRET_CHARS
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    issued_shape.then(|| FamilyId::parse(family).ok())?
}

/// Random bytes in a token's secret part.
const SECRET_BYTES: usize = 32;
/// Characters of a token's secret part: [`SECRET_BYTES`] in unpadded base64.
const SECRET_CHARS: usize = (SECRET_BYTES * 4).div_ceil(3);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = self.0.split('_').next().unwrap_or("");
        write!(f, "Token({prefix}_…)")
    }
}

/// SHA-256 of a token: what the database holds and what lookups use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn of(presented: &str) -> Self {
        TokenHash(Sha256::digest(presented.as_bytes()).into())
    }

    /// Constant-time comparison with a stored hash.
    pub fn matches(&self, stored: &[u8]) -> bool {
        stored.len() == 32 && bool::from(self.0.ct_eq(stored))
    }
}

/// `n` random bytes, base64url without padding.
pub fn random_base64(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Values the server issued and recognises again: `RANDOM.MAC`, an
/// HMAC-SHA256 under a key that lives only in this process (a restart forgets
/// it, as it forgets the pending requests such values are bound to).
pub struct Signer {
    key: [u8; 32],
}

impl Default for Signer {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Signer { key }
    }
}

impl Signer {
    /// A fresh value: 256 random bits and their MAC.
    pub fn issue(&self) -> String {
        let id = random_base64(32);
        let mac = self.mac(&id);
        format!("{id}.{mac}")
    }

    /// Whether `value` is one [`Signer::issue`] made (constant time).
    pub fn verify(&self, value: &str) -> bool {
        value
            .split_once('.')
            .is_some_and(|(id, mac)| constant_time_eq(&self.mac(id), mac))
    }

    fn mac(&self, id: &str) -> String {
        use hmac::{Mac, SimpleHmac};
        let mut mac =
            SimpleHmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }
}

#[cfg(test)]
mod signer_tests {
    use super::Signer;

    #[test]
    fn only_issued_values_verify() {
        let signer = Signer::default();
        let issued = signer.issue();
        assert!(signer.verify(&issued));
        for planted in [
            "planted-by-attacker",
            "a",
            "../../",
            "",
            ".",
            "x.",
            &format!("{issued}x"),
        ] {
            assert!(!signer.verify(planted), "{planted:?}");
        }
        assert!(!Signer::default().verify(&issued), "another process's key");
    }
}

/// Constant-time equality of two strings (the lengths are not secret).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// BASE64URL(SHA256(verifier)): the RFC 7636 S256 transform.
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// argon2id hash of a password in PHC string form.
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes is a valid salt");
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 default parameters accept any password")
        .to_string()
}

/// Checks a password against a stored PHC hash; a corrupt hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(stored)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash that never matches, checked against when a username is unknown so
/// that timing does not tell unknown users from wrong passwords.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_base64(16)))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_token_names_its_family_and_nothing_else_does() {
        let family = FamilyId::generate();
        let token = Token::generate_in(TokenKind::Refresh, &family);
        assert_eq!(
            family_of(token.expose(), TokenKind::Refresh),
            Some(family.clone())
        );
        // 256 random bits after the dot, as every token has.
        let (_, secret) = token.expose().rsplit_once('.').unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), 32);
        assert_eq!(
            family_of(token.expose(), TokenKind::Access),
            None,
            "another kind's prefix"
        );
        let legacy = Token::generate(TokenKind::Refresh);
        assert_eq!(family_of(legacy.expose(), TokenKind::Refresh), None);
        for bad in [
            "",
            "grt_",
            "grt_.x",
            "grt_fam x.y",
            "grt_\u{e9}.x",
            "gat_fam_a.b",
            "grt_fam_a.short",
            &format!("grt_fam_a.{}", "+".repeat(43)),
            &format!("grt_fam_a.{}", "A".repeat(44)),
        ] {
            assert_eq!(family_of(bad, TokenKind::Refresh), None, "{bad:?}");
        }
    }

    #[test]
    fn tokens_are_prefixed_random_and_hidden_from_debug() {
        let token = Token::generate(TokenKind::Refresh);
        assert!(token.expose().starts_with("grt_"));
        assert_eq!(token.expose().len(), 4 + 43);
        assert_ne!(token, Token::generate(TokenKind::Refresh));
        assert_eq!(format!("{token:?}"), "Token(grt_…)");
        assert!(token.hash().matches(&TokenHash::of(token.expose()).0));
    }

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn passwords_round_trip() {
        let stored = hash_password("correct horse");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &stored));
        assert!(!verify_password("wrong horse", &stored));
        assert!(!verify_password("x", "not a hash"));
    }
}
