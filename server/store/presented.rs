//! A presented access or refresh token, as the store finds its row.
//!
//! Token rows are keyed by `(family_seq, hash)`. A token names its family's
//! id ([`Token::generate_in`](crate::secret::Token::generate_in)), so its row
//! is looked up as `f.id = ? AND hash = ?`. A token issued before tokens named
//! their family (a `legacy` row) names none: its family is found from its hash,
//! through the index that holds only legacy rows.

use super::Result;
use crate::model::FamilyId;
use crate::secret::{family_of, TokenHash, TokenKind};
use rusqlite::{Connection, OptionalExtension};

pub(super) struct Presented {
    hash: Vec<u8>,
    kind: TokenKind,
    family: Option<FamilyId>,
}

impl Presented {
    /// The token's hash (for rows keyed by it elsewhere, as a kept retry is).
    pub fn hash(&self) -> &[u8] {
        &self.hash
    }

    /// The family the token names, or for a legacy token, the family
    /// [`Presented::key`] found; `None` before that, or when none was found.
    pub fn family(&self) -> Option<&FamilyId> {
        self.family.as_ref()
    }
}

impl Presented {
    /// `token` as a `kind` token (access or refresh).
    pub fn new(token: &str, kind: TokenKind) -> Self {
        Presented {
            hash: TokenHash::of(token).0.to_vec(),
            kind,
            family: family_of(token, kind),
        }
    }

    /// The same `token` as another kind, its hash reused.
    pub fn as_kind(&self, token: &str, kind: TokenKind) -> Self {
        Presented {
            hash: self.hash.clone(),
            kind,
            family: family_of(token, kind),
        }
    }

    /// The key of the row this token may be, `(family id, hash)`: the family
    /// it names, or for a token that names none, the family of the legacy row
    /// with its hash. `None`: no row can be this token's.
    pub fn key(&mut self, conn: &Connection) -> Result<Option<(&FamilyId, &[u8])>> {
        if self.family.is_none() {
            let sql = match self.kind {
                TokenKind::Refresh => {
                    "SELECT f.id FROM refresh_tokens t JOIN families f ON f.seq = t.family_seq
                     WHERE t.hash = ?1 AND t.legacy = 1"
                }
                _ => {
                    "SELECT f.id FROM access_tokens t JOIN families f ON f.seq = t.family_seq
                     WHERE t.hash = ?1 AND t.legacy = 1"
                }
            };
            self.family = conn
                .prepare_cached(sql)?
                .query_row([&self.hash], |row| row.get(0))
                .optional()?;
        }
        Ok(self
            .family
            .as_ref()
            .map(|family| (family, self.hash.as_slice())))
    }
}
