//! The append-only event log: admin changes and security events.

use super::{Result, Store};
use crate::model::{ClientId, Event, EventFilter, EventKind, FamilyId, FieldChange, NewEvent};
use rusqlite::{params, Connection, Row};

const SELECT_EVENT: &str =
    "SELECT id, time, kind, actor, client_id, family_id, username, detail, count, source, rpc, changes FROM events";

impl Store {
    /// Records one event in a transaction of its own (public-plane security events).
    pub fn record_event(&self, event: NewEvent, now: i64) -> Result<()> {
        self.write(now, move |tx| tx.record(event))
    }

    /// Records several events in one transaction (a minute of aggregated failures).
    pub fn record_events(&self, events: Vec<NewEvent>, now: i64) -> Result<()> {
        self.write(now, move |tx| {
            events.into_iter().try_for_each(|event| tx.record(event))
        })
    }

    /// Events newest first, below `before_id` (0 for the newest), that match
    /// `filter`; returns the page and the `before_id` of the next one.
    pub fn list_events(
        &self,
        limit: usize,
        before_id: i64,
        filter: &EventFilter,
    ) -> Result<(Vec<Event>, Option<i64>)> {
        let durable = self.inner.writer.durable_event_id();
        self.read(|conn| {
            // Only events whose COMMIT is fsynced (durable.rs).
            let before = if before_id <= 0 { i64::MAX } else { before_id };
            let before = before.min(durable.saturating_add(1));
            let mut statement = conn.prepare_cached(&format!(
                "{SELECT_EVENT} WHERE id < ?1 AND (?2 = 0 OR security = 1)
                   AND (?3 IS NULL OR actor = ?3) AND (?4 IS NULL OR kind = ?4)
                   AND (?5 IS NULL OR client_id = ?5) AND (?6 IS NULL OR time >= ?6)
                 ORDER BY id DESC LIMIT ?7"
            ))?;
            let mut events = statement
                .query_map(
                    params![
                        before,
                        filter.security_only,
                        filter.actor,
                        filter.kind.map(EventKind::as_str),
                        filter.client_id,
                        filter.since,
                        limit as i64 + 1
                    ],
                    from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let next = if events.len() > limit {
                events.truncate(limit);
                events.last().map(|event| event.id)
            } else {
                None
            };
            Ok((events, next))
        })
    }

    /// Events with an id above `after_id`, oldest first (for a watcher catching up).
    /// Only events whose COMMIT is fsynced (durable.rs).
    pub fn events_after(&self, after_id: i64, limit: usize) -> Result<Vec<Event>> {
        let durable = self.inner.writer.durable_event_id();
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&format!(
                "{SELECT_EVENT} WHERE id > ?1 AND id <= ?3 ORDER BY id LIMIT ?2"
            ))?;
            let events = statement
                .query_map(params![after_id, limit as i64, durable], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(events)
        })
    }
}

pub(super) fn insert(conn: &Connection, now: i64, event: NewEvent) -> Result<Event> {
    let event_kind = event.kind;
    let kind = event_kind.as_str();
    let mut statement = conn.prepare_cached(
        "INSERT INTO events (time, kind, actor, client_id, family_id, username, detail, security, count, source, rpc, changes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let recorded = Event {
        id: 0,
        time: now,
        kind: event.kind,
        actor: event.actor.name().to_owned(),
        rpc: event.actor.rpc().to_owned(),
        client_id: event.client_id,
        family_id: event.family_id,
        username: event.username.unwrap_or_default(),
        detail: event.detail,
        count: event.count,
        source: event
            .source
            .map(|address| address.to_string())
            .unwrap_or_default(),
        changes: event.changes,
    };
    statement.execute(params![
        now,
        kind,
        recorded.actor,
        // An event without a client or family stores '' (never NULL).
        recorded.client_id.as_ref().map_or("", ClientId::as_str),
        recorded.family_id.as_ref().map_or("", FamilyId::as_str),
        recorded.username,
        recorded.detail,
        event_kind.is_security(),
        recorded.count,
        recorded.source,
        recorded.rpc,
        changes_text(&recorded.changes),
    ])?;
    Ok(Event {
        id: conn.last_insert_rowid(),
        ..recorded
    })
}

fn from_row(row: &Row) -> rusqlite::Result<Event> {
    Ok(Event {
        id: row.get(0)?,
        time: row.get(1)?,
        kind: EventKind::parse(&row.get::<_, String>(2)?).map_err(|invalid| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                Box::new(invalid),
            )
        })?,
        actor: row.get(3)?,
        client_id: non_empty(row.get(4)?).map(ClientId::from_trusted),
        family_id: non_empty(row.get(5)?).map(FamilyId::from_trusted),
        username: row.get(6)?,
        detail: row.get(7)?,
        count: row.get(8)?,
        source: row.get(9)?,
        rpc: row.get(10)?,
        changes: changes_from_text(&row.get::<_, String>(11)?),
    })
}

/// The `changes` column: a JSON array, or empty when nothing changed.
fn changes_text(changes: &[FieldChange]) -> String {
    if changes.is_empty() {
        return String::new();
    }
    serde_json::to_string(changes).unwrap_or_default()
}

/// Reads the `changes` column; a value this binary cannot read shows as none.
fn changes_from_text(text: &str) -> Vec<FieldChange> {
    if text.is_empty() {
        return Vec::new();
    }
    serde_json::from_str(text).unwrap_or_default()
}

/// '' is how an event says it has no client or family.
fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}
