//! A refresh rotation's answer, sealed so that only the token it answered can open it.
//!
//! To answer a retry whose first response was lost with the same token pair,
//! the server has to keep that pair for the retry window, yet the database must
//! still hold nothing usable. So the pair is encrypted with ChaCha20-Poly1305
//! under a key derived by HKDF-SHA256 from the refresh token that was rotated,
//! a token the database knows only by its SHA-256 hash. Opening it takes that
//! token presented again, which is also the proof that the caller holds it.
//!
//! Each key seals exactly one pair, once: the rotated token is random (256
//! bits) and rotates only once, so a key never meets a second message. The
//! nonce is random all the same, and the additional data binds the ciphertext
//! to the row it is stored in.

use crate::secret::Token;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

/// Domain separation: a key derived for anything else never opens a pair.
const KEY_INFO: &[u8] = b"gatehouse refresh retry v1: chacha20poly1305 key";
const NONCE_BYTES: usize = 12;

/// The answer a retry gets again: the successor tokens and what the response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPair {
    pub access_token: Token,
    pub refresh_token: Token,
    pub access_expires_at: i64,
    pub scope: String,
}

/// What the database keeps: a random nonce and the ciphertext with its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPair {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// The plaintext layout, private to this module.
#[derive(serde::Serialize, serde::Deserialize)]
struct Plain {
    access_token: String,
    refresh_token: String,
    access_expires_at: i64,
    scope: String,
}

/// Seals `pair` under a key derived from `presented` (the rotated token);
/// `bound_to` (the row's key) is authenticated, not encrypted.
pub fn seal(presented: &str, bound_to: &[u8], pair: &RetryPair) -> SealedPair {
    let plain = serde_json::to_vec(&Plain {
        access_token: pair.access_token.expose().to_owned(),
        refresh_token: pair.refresh_token.expose().to_owned(),
        access_expires_at: pair.access_expires_at,
        scope: pair.scope.clone(),
    })
    .expect("a struct of strings and an integer serialises");
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut nonce);
    let ciphertext = cipher(presented)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: bound_to,
            },
        )
        .expect("ChaCha20-Poly1305 encrypts any message under 256 GiB");
    SealedPair {
        nonce: nonce.to_vec(),
        ciphertext,
    }
}

/// Opens a sealed pair with the token presented again; `None` if the token,
/// the row or the ciphertext is not the one it was sealed with.
pub fn open(presented: &str, bound_to: &[u8], sealed: &SealedPair) -> Option<RetryPair> {
    if sealed.nonce.len() != NONCE_BYTES {
        return None;
    }
    let plain = cipher(presented)
        .decrypt(
            Nonce::from_slice(&sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad: bound_to,
            },
        )
        .ok()?;
    let plain: Plain = serde_json::from_slice(&plain).ok()?;
    Some(RetryPair {
        access_token: Token::from_plaintext(plain.access_token),
        refresh_token: Token::from_plaintext(plain.refresh_token),
        access_expires_at: plain.access_expires_at,
        scope: plain.scope,
    })
}

/// HKDF-SHA256 over the presented token (256 random bits behind a prefix, so
/// no salt is needed) to one ChaCha20-Poly1305 key.
fn cipher(presented: &str) -> ChaCha20Poly1305 {
    let mut key = Key::default();
    Hkdf::<Sha256>::new(None, presented.as_bytes())
        .expand(KEY_INFO, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    ChaCha20Poly1305::new(&key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::TokenKind;

    fn pair() -> RetryPair {
        RetryPair {
            access_token: Token::generate(TokenKind::Access),
            refresh_token: Token::generate(TokenKind::Refresh),
            access_expires_at: 1_700_003_600,
            scope: "profile".into(),
        }
    }

    #[test]
    fn only_the_presented_token_and_its_row_open_the_pair() {
        let rotated = Token::generate(TokenKind::Refresh);
        let row = rotated.hash().0;
        let pair = pair();
        let sealed = seal(rotated.expose(), &row, &pair);
        assert_eq!(open(rotated.expose(), &row, &sealed), Some(pair.clone()));
        let other = Token::generate(TokenKind::Refresh);
        assert_eq!(open(other.expose(), &row, &sealed), None, "another token");
        assert_eq!(
            open(rotated.expose(), &other.hash().0, &sealed),
            None,
            "another row"
        );
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(
            open(rotated.expose(), &row, &tampered),
            None,
            "a flipped bit"
        );
    }

    #[test]
    fn the_sealed_bytes_hold_no_token() {
        let rotated = Token::generate(TokenKind::Refresh);
        let pair = pair();
        let sealed = seal(rotated.expose(), b"row", &pair);
        let stored = [sealed.nonce.as_slice(), sealed.ciphertext.as_slice()].concat();
        for token in [&pair.access_token, &pair.refresh_token, &rotated] {
            let needle = token.expose().as_bytes();
            assert!(!stored.windows(needle.len()).any(|window| window == needle));
        }
    }
}
