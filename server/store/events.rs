//! The append-only event log: admin changes and security events.

use super::{Result, Store};
use crate::model::{Event, EventKind, NewEvent};
use rusqlite::{params, Connection, Row};

const SELECT_EVENT: &str =
    "SELECT id, time, kind, actor, client_id, family_id, username, detail, count, source FROM events";

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

    /// Events newest first, below `before_id` (0 for the newest); returns the page
    /// and the `before_id` of the next one.
    pub fn list_events(
        &self,
        limit: usize,
        before_id: i64,
        security_only: bool,
    ) -> Result<(Vec<Event>, Option<i64>)> {
        self.read(|conn| {
            let before = if before_id <= 0 { i64::MAX } else { before_id };
            let mut statement = conn.prepare_cached(&format!(
                "{SELECT_EVENT} WHERE id < ?1 AND (?2 = 0 OR security = 1) ORDER BY id DESC LIMIT ?3"
            ))?;
            let mut events = statement
                .query_map(params![before, security_only, limit as i64 + 1], from_row)?
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
    pub fn events_after(&self, after_id: i64, limit: usize) -> Result<Vec<Event>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&format!(
                "{SELECT_EVENT} WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))?;
            let events = statement
                .query_map(params![after_id, limit as i64], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(events)
        })
    }
}

pub(super) fn insert(conn: &Connection, now: i64, event: NewEvent) -> Result<Event> {
    let kind = event.kind.as_str();
    let mut statement = conn.prepare_cached(
        "INSERT INTO events (time, kind, actor, client_id, family_id, username, detail, security, count, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let recorded = Event {
        id: 0,
        time: now,
        kind: kind.to_owned(),
        actor: event.actor.as_str().to_owned(),
        client_id: event.client_id.unwrap_or_default(),
        family_id: event.family_id.unwrap_or_default(),
        username: event.username.unwrap_or_default(),
        detail: event.detail,
        count: event.count,
        source: event
            .source
            .map(|address| address.to_string())
            .unwrap_or_default(),
    };
    statement.execute(params![
        now,
        kind,
        recorded.actor,
        recorded.client_id,
        recorded.family_id,
        recorded.username,
        recorded.detail,
        EventKind::is_security(kind),
        recorded.count,
        recorded.source,
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
        kind: row.get(2)?,
        actor: row.get(3)?,
        client_id: row.get(4)?,
        family_id: row.get(5)?,
        username: row.get(6)?,
        detail: row.get(7)?,
        count: row.get(8)?,
        source: row.get(9)?,
    })
}
