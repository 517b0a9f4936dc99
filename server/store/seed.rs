//! Bulk seeding for load and scale tests (`gatehouse bench`): families with one
//! live refresh and access token each, written straight through the store,
//! tens of thousands per transaction. Never used by the protocol paths.

use super::{clients, users, Result, Store};
use crate::model::{ClientId, FamilyId};
use rand::RngCore;
use rusqlite::params;

const BATCH: usize = 50_000;

impl Store {
    /// Inserts `count` live families of `client_id` for `username`; returns how
    /// many were written.
    pub fn seed_families(
        &self,
        client_id: &ClientId,
        username: &str,
        scope: &str,
        count: usize,
        now: i64,
    ) -> Result<usize> {
        let mut written = 0;
        while written < count {
            let batch = BATCH.min(count - written);
            let client_id = client_id.clone();
            let username = username.to_owned();
            let scope = scope.to_owned();
            self.write_as("seed", now, move |tx| {
            let client_id = &client_id;
            let username = username.as_str();
            let scope = scope.as_str();
                let client_seq = clients::seq_of(tx, client_id)?;
                let user_seq = users::seq_of(tx, username)?;
                let mut family = tx.prepare_cached(
                    "INSERT INTO families (id, client_seq, user_seq, scope, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                let mut refresh = tx.prepare_cached(
                    "INSERT INTO refresh_tokens (hash, family_seq, generation, issued_at, expires_at) VALUES (?1, ?2, 0, ?3, ?4)",
                )?;
                let mut access = tx.prepare_cached(
                    "INSERT INTO access_tokens (hash, family_seq, generation, scope, issued_at, expires_at) VALUES (?1, ?2, 0, ?3, ?4, ?5)",
                )?;
                let mut rng = rand::rng();
                let mut hash = [0u8; 32];
                for _ in 0..batch {
                    family.execute(params![FamilyId::generate(), client_seq, user_seq, scope, now])?;
                    let family_seq = tx.last_insert_rowid();
                    rng.fill_bytes(&mut hash);
                    refresh.execute(params![hash.to_vec(), family_seq, now, now + 30 * 86400])?;
                    rng.fill_bytes(&mut hash);
                    access.execute(params![hash.to_vec(), family_seq, scope, now, now + 3600])?;
                }
                Ok(())
            })?;
            written += batch;
        }
        Ok(written)
    }
}
