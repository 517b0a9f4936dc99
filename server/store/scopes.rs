//! The scope catalog and server settings (maintenance mode, status counts).

use super::{Result, Store, StoreError};
use crate::model::{Actor, Counts, EventKind, FieldChange, NewEvent, Scope, ScopeName};
use rusqlite::{params, OptionalExtension};

impl Store {
    pub fn list_scopes(&self) -> Result<Vec<Scope>> {
        self.read(|conn| {
            let mut statement =
                conn.prepare_cached("SELECT name, description FROM scopes ORDER BY name")?;
            let rows = statement.query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?;
            let mut scopes = Vec::new();
            for row in rows {
                let (name, description) = row?;
                if let Ok(name) = ScopeName::parse(&name) {
                    scopes.push(Scope { name, description });
                }
            }
            Ok(scopes)
        })
    }

    /// Adds a scope to the catalog or changes its description.
    pub fn upsert_scope(&self, actor: Actor, scope: Scope, now: i64) -> Result<Scope> {
        self.write(now, move |tx| {
            let before: Option<String> = tx
                .query_row(
                    "SELECT description FROM scopes WHERE name = ?1",
                    [scope.name.as_str()],
                    |row| row.get(0),
                )
                .optional()?;
            tx.execute(
                "INSERT INTO scopes (name, description, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET description = excluded.description",
                params![scope.name.as_str(), scope.description, now],
            )?;
            let event = match before {
                None => NewEvent::new(
                    EventKind::ScopeAdded,
                    actor,
                    format!("{}: {}", scope.name, scope.description),
                ),
                Some(before) => {
                    let mut changes = Vec::new();
                    FieldChange::push_if_changed(
                        &mut changes,
                        "description",
                        before,
                        scope.description.clone(),
                    );
                    NewEvent::new(EventKind::ScopeUpdated, actor, scope.name.to_string())
                        .changes(changes)
                }
            };
            tx.record(event)?;
            Ok(scope)
        })
    }

    /// Removes a scope no client is allowed any more.
    pub fn remove_scope(&self, actor: Actor, name: &str, now: i64) -> Result<()> {
        let name = name.to_owned();
        self.write(now, move |tx| {
            let name = name.as_str();
            let users: i64 = tx.query_row("SELECT count(*) FROM client_scopes WHERE scope = ?1", [name], |row| row.get(0))?;
            if users > 0 {
                return Err(StoreError::Conflict(format!(
                    "scope {name:?} is still allowed to {users} client(s); remove it from them first"
                )));
            }
            if tx.execute("DELETE FROM scopes WHERE name = ?1", [name])? == 0 {
                return Err(StoreError::not_found("scope", name));
            }
            tx.record(NewEvent::new(EventKind::ScopeRemoved, actor, name))
        })
    }

    /// Whether maintenance mode is on. Kept in memory: this process is the
    /// database's only writer, and the flag changes only through `set_maintenance`.
    pub fn maintenance(&self) -> Result<bool> {
        Ok(self
            .inner
            .maintenance
            .load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Reads the stored maintenance flag (at start).
    pub(super) fn stored_maintenance(conn: &rusqlite::Connection) -> Result<bool> {
        let value: Option<String> = conn
            .query_row(
                "SELECT value FROM settings WHERE key = 'maintenance'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        Ok(value.as_deref() == Some("on"))
    }

    /// Answers when the database does (for /healthz).
    pub fn ping(&self) -> Result<()> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
    }

    pub fn set_maintenance(&self, actor: Actor, on: bool, now: i64) -> Result<()> {
        self.write(now, move |tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('maintenance', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [if on { "on" } else { "off" }],
            )?;
            let kind = if on {
                EventKind::MaintenanceOn
            } else {
                EventKind::MaintenanceOff
            };
            tx.record(NewEvent::new(kind, actor, ""))
        })?;
        self.inner
            .maintenance
            .store(on, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Figures for the status call.
    pub fn counts(&self, now: i64) -> Result<Counts> {
        let maintenance = self.maintenance()?;
        let database_bytes = self.database_bytes();
        self.read(|conn| {
            let count = |sql: &str| conn.query_row(sql, [now - 3600], |row| row.get::<_, i64>(0));
            Ok(Counts {
                clients: count("SELECT count(*) FROM clients WHERE ?1 = ?1")?,
                users: count("SELECT count(*) FROM users WHERE ?1 = ?1")?,
                active_families: count(
                    "SELECT count(*) FROM families WHERE revoked_at IS NULL AND ?1 = ?1",
                )?,
                security_events_last_hour: count(
                    "SELECT coalesce(sum(count), 0) FROM events WHERE security = 1 AND time >= ?1",
                )?,
                oldest_event_time: conn
                    .query_row("SELECT min(time) FROM events", [], |row| row.get(0))?,
                database_bytes,
                maintenance,
            })
        })
    }
}
