//! Versioned migrations, embedded and applied in order at start.
//!
//! `PRAGMA user_version` records how many have run. A migration is never edited
//! once released: add a new one.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE scopes (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE clients (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    public      INTEGER NOT NULL CHECK (public IN (0, 1)),
    secret_hash BLOB,
    disabled    INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((public = 1) = (secret_hash IS NULL))
);

CREATE TABLE client_redirect_uris (
    client_seq INTEGER NOT NULL REFERENCES clients (seq) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    uri        TEXT NOT NULL,
    PRIMARY KEY (client_seq, position)
);

CREATE TABLE client_scopes (
    client_seq INTEGER NOT NULL REFERENCES clients (seq) ON DELETE CASCADE,
    scope      TEXT NOT NULL REFERENCES scopes (name),
    PRIMARY KEY (client_seq, scope)
);
CREATE INDEX client_scopes_scope ON client_scopes (scope);

CREATE TABLE client_grant_types (
    client_seq INTEGER NOT NULL REFERENCES clients (seq) ON DELETE CASCADE,
    grant_type TEXT NOT NULL CHECK (grant_type IN ('authorization_code', 'refresh_token')),
    PRIMARY KEY (client_seq, grant_type)
);

CREATE TABLE users (
    seq           INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE consents (
    user_seq   INTEGER NOT NULL REFERENCES users (seq) ON DELETE CASCADE,
    client_seq INTEGER NOT NULL REFERENCES clients (seq) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_seq, client_seq)
);

CREATE TABLE families (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    client_seq     INTEGER NOT NULL REFERENCES clients (seq) ON DELETE CASCADE,
    user_seq       INTEGER NOT NULL REFERENCES users (seq) ON DELETE CASCADE,
    scope          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    rotations      INTEGER NOT NULL DEFAULT 0,
    revoked_at     INTEGER,
    revoked_reason TEXT,
    revoked_by     TEXT
);
CREATE INDEX families_client ON families (client_seq, seq);
CREATE INDEX families_user ON families (user_seq, seq);
CREATE INDEX families_active ON families (seq) WHERE revoked_at IS NULL;
CREATE INDEX families_client_active ON families (client_seq) WHERE revoked_at IS NULL;
CREATE INDEX families_user_active ON families (user_seq) WHERE revoked_at IS NULL;

CREATE TABLE auth_codes (
    hash              BLOB PRIMARY KEY,
    client_seq        INTEGER NOT NULL REFERENCES clients (seq) ON DELETE CASCADE,
    user_seq          INTEGER NOT NULL REFERENCES users (seq) ON DELETE CASCADE,
    redirect_uri      TEXT NOT NULL,
    code_challenge    TEXT NOT NULL,
    scope             TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    used_at           INTEGER,
    voided            INTEGER NOT NULL DEFAULT 0,
    family_seq        INTEGER REFERENCES families (seq) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX auth_codes_family ON auth_codes (family_seq);
CREATE INDEX auth_codes_client ON auth_codes (client_seq) WHERE used_at IS NULL;

CREATE TABLE refresh_tokens (
    hash        BLOB PRIMARY KEY,
    family_seq  INTEGER NOT NULL REFERENCES families (seq) ON DELETE CASCADE,
    generation  INTEGER NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_seq, generation);

CREATE TABLE access_tokens (
    hash        BLOB PRIMARY KEY,
    family_seq  INTEGER NOT NULL REFERENCES families (seq) ON DELETE CASCADE,
    generation  INTEGER NOT NULL,
    scope       TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX access_tokens_family ON access_tokens (family_seq, generation);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    time      INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    client_id TEXT NOT NULL DEFAULT '',
    family_id TEXT NOT NULL DEFAULT '',
    username  TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '',
    security  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_security ON events (id) WHERE security = 1;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

INSERT INTO scopes (name, description, created_at)
    VALUES ('profile', 'Read your profile', CAST(strftime('%s', 'now') AS INTEGER));
"#,
    r#"
-- Failures anyone can cause are aggregated: one row per (kind, client, source
-- address, reason) per minute, with the count. Retention prunes by time.
ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE INDEX events_time ON events (time);
"#,
    r#"
-- Consent as rows, one per (user, client, scope), instead of a space-joined
-- string; existing consents are carried over.
CREATE TABLE consent_scopes (
    user_seq   INTEGER NOT NULL REFERENCES users (seq) ON DELETE CASCADE,
    client_seq INTEGER NOT NULL REFERENCES clients (seq) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_seq, client_seq, scope)
) WITHOUT ROWID;
CREATE INDEX consent_scopes_client ON consent_scopes (client_seq);
WITH RECURSIVE split (user_seq, client_seq, granted_at, head, rest) AS (
    SELECT user_seq, client_seq, granted_at, '', scope || ' ' FROM consents
    UNION ALL
    SELECT user_seq, client_seq, granted_at,
           substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
    FROM split WHERE rest <> ''
)
INSERT OR IGNORE INTO consent_scopes (user_seq, client_seq, scope, granted_at)
    SELECT user_seq, client_seq, head, granted_at FROM split WHERE head <> '';
DROP TABLE consents;
"#,
    r#"
-- Safe refresh retries (opt-in per client, 0 = strict). A rotated refresh token
-- presented again by its client within the window, with the same scope, while
-- its successor is unused, gets the first answer again. That answer is kept
-- only sealed under a key derived from the rotated token (server/sealed.rs),
-- for the family's newest rotation only (so one row per family, keyed by it),
-- found by the rotated token's hash; the row goes when the window ends or the
-- successor is used (its rotation replaces or deletes the row).
ALTER TABLE clients ADD COLUMN refresh_retry_window_secs INTEGER NOT NULL DEFAULT 0
    CHECK (refresh_retry_window_secs BETWEEN 0 AND 60);
CREATE TABLE refresh_retries (
    family_seq  INTEGER PRIMARY KEY REFERENCES families (seq) ON DELETE CASCADE,
    hash        BLOB NOT NULL,
    scope       TEXT NOT NULL,
    until       INTEGER NOT NULL,
    nonce       BLOB NOT NULL,
    sealed      BLOB NOT NULL
);
CREATE INDEX refresh_retries_until ON refresh_retries (until);
"#,
    r#"
-- Resource servers may introspect any client's tokens (RFC 7662 §4); every
-- other client only its own.
ALTER TABLE clients ADD COLUMN resource_server INTEGER NOT NULL DEFAULT 0
    CHECK (resource_server IN (0, 1));
"#,
    r#"
-- Admin identities: named tokens with a role, stored only as SHA-256 hashes.
-- A name is never reused (revoked rows stay), so an event's actor names one
-- token for good. The bootstrap token (admin.token) is not a row: it is the
-- data directory's file; its last use is kept in `settings`.
CREATE TABLE admin_tokens (
    seq          INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'operator', 'owner')),
    hash         BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
-- Audit: the admin RPC behind an event and, for updates, the changed fields
-- (a JSON array of {field, before, after}; empty when none).
ALTER TABLE events ADD COLUMN rpc TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN changes TEXT NOT NULL DEFAULT '';
CREATE INDEX events_actor ON events (actor, id);
CREATE INDEX events_client ON events (client_id, id) WHERE client_id <> '';
"#,
    r#"
-- Client secrets as rows: at most two live per confidential client (the
-- current one, and the one a rotation with overlap replaced, until its end),
-- each with a public id, its SHA-256 hash, created, optional expiry and last
-- use (time and client address, written at most once a minute per secret).
-- Revoked secrets are deleted at once; expired ones by the hourly purge, which
-- records `secret_expired` for each.
--
-- clients.secret_hash stays but is no longer read. Dropping it needs a rebuild
-- of `clients` (its CHECK names the column, so DROP COLUMN refuses), and a
-- rebuild drops `clients`, which with foreign keys on (they cannot be turned
-- off inside this migration's transaction) would cascade into every code,
-- family and consent. So the column becomes a marker: an empty blob for a
-- confidential client, NULL for a public one, which keeps the CHECK true; the
-- hashes move here. A carried-over secret's `created_at` is the client's last
-- change (the secret cannot be newer than that), its last use unknown.
CREATE TABLE client_secrets (
    id              TEXT PRIMARY KEY,
    client_seq      INTEGER NOT NULL REFERENCES clients (seq) ON DELETE CASCADE,
    hash            BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER,
    last_used_at    INTEGER,
    last_used_from  TEXT
);
CREATE INDEX client_secrets_client ON client_secrets (client_seq);
CREATE INDEX client_secrets_expiring ON client_secrets (expires_at) WHERE expires_at IS NOT NULL;
INSERT INTO client_secrets (id, client_seq, hash, created_at)
    SELECT lower(hex(randomblob(6))), seq, secret_hash, updated_at
    FROM clients WHERE secret_hash IS NOT NULL;
UPDATE clients SET secret_hash = X'' WHERE secret_hash IS NOT NULL;
"#,
    r#"
-- Token rows keyed by their family, (family_seq, hash): a token issued from now
-- on carries its family's id (`grt_<family id>.<256 random bits>`), so its row is
-- found beside its family's others, and a rotation (the old refresh row used,
-- the new refresh and access rows inserted) writes to a few adjacent pages
-- instead of a random page per table and index. The family indexes go: the key
-- serves them. Rows carried over are `legacy`: their tokens carry no family id
-- and are found by hash alone, through an index that holds only them (a new row
-- costs it nothing).
CREATE TABLE refresh_tokens_by_family (
    family_seq  INTEGER NOT NULL REFERENCES families (seq) ON DELETE CASCADE,
    hash        BLOB NOT NULL,
    generation  INTEGER NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    legacy      INTEGER NOT NULL DEFAULT 0 CHECK (legacy IN (0, 1)),
    PRIMARY KEY (family_seq, hash)
) WITHOUT ROWID;
INSERT INTO refresh_tokens_by_family (family_seq, hash, generation, issued_at, expires_at, used_at, legacy)
    SELECT family_seq, hash, generation, issued_at, expires_at, used_at, 1 FROM refresh_tokens
    ORDER BY family_seq, hash;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_by_family RENAME TO refresh_tokens;
CREATE UNIQUE INDEX refresh_tokens_legacy ON refresh_tokens (hash) WHERE legacy = 1;

CREATE TABLE access_tokens_by_family (
    family_seq  INTEGER NOT NULL REFERENCES families (seq) ON DELETE CASCADE,
    hash        BLOB NOT NULL,
    generation  INTEGER NOT NULL,
    scope       TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    legacy      INTEGER NOT NULL DEFAULT 0 CHECK (legacy IN (0, 1)),
    PRIMARY KEY (family_seq, hash)
) WITHOUT ROWID;
INSERT INTO access_tokens_by_family (family_seq, hash, generation, scope, issued_at, expires_at, revoked_at, legacy)
    SELECT family_seq, hash, generation, scope, issued_at, expires_at, revoked_at, 1 FROM access_tokens
    ORDER BY family_seq, hash;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_by_family RENAME TO access_tokens;
CREATE UNIQUE INDEX access_tokens_legacy ON access_tokens (hash) WHERE legacy = 1;

-- A family's last use and rotation count are its newest refresh token's
-- (each rotation issues the next generation at the time of the use), read
-- when a family is shown; kept on the family's row they cost every rotation
-- one more page.
ALTER TABLE families DROP COLUMN rotations;
ALTER TABLE families DROP COLUMN last_used_at;
"#,
];

/// The schema version this binary writes: how many migrations it knows.
pub const VERSION: usize = MIGRATIONS.len();

/// Applies every migration the database has not seen, each in its own
/// transaction. A database from a newer binary (a downgrade) is refused, not
/// opened: this binary cannot know what the newer schema means.
pub fn migrate(conn: &mut Connection) -> super::Result<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if applied > VERSION {
        return Err(super::StoreError::internal(format!(
            "the database has schema version {applied}, newer than this gatehouse knows ({VERSION}): \
             it was written by a newer release; run that release, or restore a backup made by this one"
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{family_of, TokenHash, TokenKind};
    use crate::store::{IssueSpec, RefreshOutcome, Store};

    /// Where the migration whose SQL contains `text` sits in the list.
    fn migration_containing(text: &str) -> usize {
        MIGRATIONS
            .iter()
            .position(|migration| migration.contains(text))
            .unwrap_or_else(|| panic!("no migration contains {text:?}"))
    }

    /// Applies the migrations before `position`, as an older binary did.
    fn migrate_before(conn: &Connection, position: usize) {
        for (index, migration) in MIGRATIONS.iter().enumerate().take(position) {
            conn.execute_batch(migration).unwrap();
            conn.pragma_update(None, "user_version", index + 1).unwrap();
        }
    }

    /// A database written before tokens named their family: one family with a
    /// live access token and a live refresh token in the old format. After the
    /// upgrade both still work, found by hash through the legacy index; the
    /// rotation hands out tokens in the new format, and presenting the old
    /// refresh token again is still a replay.
    #[test]
    fn tokens_issued_before_they_named_their_family_still_work() {
        let position = migration_containing("refresh_tokens_by_family");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let access = "gat_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let refresh = "grt_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let now = 1_000_000;
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            migrate_before(&conn, position);
            conn.execute_batch(
                "INSERT INTO clients (id, name, public, secret_hash, created_at, updated_at)
                     VALUES ('partner', 'Partner', 1, NULL, 1, 1);
                 INSERT INTO client_grant_types VALUES (1, 'refresh_token');
                 INSERT INTO users (username, password_hash, created_at, updated_at)
                     VALUES ('alice', 'x', 1, 1);
                 INSERT INTO families (id, client_seq, user_seq, scope, created_at, last_used_at)
                     VALUES ('fam_old', 1, 1, 'profile', 1, 1);",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO access_tokens (hash, family_seq, generation, scope, issued_at, expires_at)
                 VALUES (?1, 1, 0, 'profile', 1, ?2)",
                rusqlite::params![TokenHash::of(access).0.to_vec(), now + 3600],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO refresh_tokens (hash, family_seq, generation, issued_at, expires_at)
                 VALUES (?1, 1, 0, 1, ?2)",
                rusqlite::params![TokenHash::of(refresh).0.to_vec(), now + 86400],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let found = store.lookup_token(access, now).unwrap().expect("live");
        assert_eq!(found.client_id.as_str(), "partner");
        assert!(store.lookup_token(refresh, now).unwrap().is_some());
        let rotate = |token: &str| {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(
                    store.rotate_refresh(token, now, move |stored| match stored {
                        Some(stored) if !stored.rotated => RefreshOutcome::Rotate {
                            issue: IssueSpec {
                                access_scope: "profile".into(),
                                access_expires_at: now + 3600,
                                refresh_expires_at: Some(now + 86400),
                            },
                            retry_until: None,
                        },
                        Some(_) => RefreshOutcome::RevokeReplay("replay"),
                        None => RefreshOutcome::Refuse("unknown"),
                    }),
                )
                .unwrap()
        };
        let issued = rotate(refresh).expect("the old refresh token rotates");
        for (token, kind) in [
            (issued.access_token.expose(), TokenKind::Access),
            (
                issued.refresh_token.as_ref().unwrap().expose(),
                TokenKind::Refresh,
            ),
        ] {
            assert_eq!(family_of(token, kind).unwrap().as_str(), "fam_old");
            assert!(
                store.lookup_token(token, now).unwrap().is_some(),
                "{kind:?}"
            );
        }
        assert_eq!(rotate(refresh).unwrap_err(), "replay");
        assert!(
            store.lookup_token(access, now).unwrap().is_none(),
            "the family is revoked"
        );
        let issued_access = issued.access_token.expose();
        assert!(store.lookup_token(issued_access, now).unwrap().is_none());
    }

    /// The client-secrets migration moves each confidential client's hash into
    /// `client_secrets` and leaves the empty marker, wherever it sits in the list.
    #[test]
    fn client_secret_hashes_move_into_their_own_table() {
        let position = migration_containing("CREATE TABLE client_secrets");
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        migrate_before(&conn, position);
        let hash = crate::secret::TokenHash::of("gcs_carried_over").0.to_vec();
        conn.execute(
            "INSERT INTO clients (id, name, public, secret_hash, created_at, updated_at)
             VALUES ('conf', 'Confidential', 0, ?1, 100, 200), ('pub', 'Public', 1, NULL, 100, 100)",
            [&hash],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        // (client, hash, created, no expiry and no last use)
        let rows: Vec<(String, Vec<u8>, i64, bool)> = conn
            .prepare(
                "SELECT c.id, s.hash, s.created_at, s.expires_at IS NULL AND s.last_used_at IS NULL
                 FROM client_secrets s JOIN clients c ON c.seq = s.client_seq",
            )
            .unwrap()
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(rows, vec![("conf".into(), hash, 200, true)]);
        let markers: Vec<Option<Vec<u8>>> = conn
            .prepare("SELECT secret_hash FROM clients ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(markers, vec![Some(Vec::new()), None], "conf, pub");
        let id: String = conn
            .query_row("SELECT id FROM client_secrets", [], |row| row.get(0))
            .unwrap();
        assert!(crate::model::SecretId::parse(&id).is_ok(), "{id}");
    }
}
