//! Failures anyone can cause, and refresh retries, counted per minute instead
//! of written one row each.
//!
//! A failed client authentication or login from an anonymous caller costs the
//! caller one request; written as its own event row it would cost us a row on
//! disk, so a flood would grow the database without bound and drown the one
//! replay that matters. Instead each failure is counted in memory under its key
//! (kind, client id or unknown, source address, reason) and every finished
//! minute becomes one event per key, carrying the count. A refresh retry (a
//! lost answer asked for again within the client's window) is no failure, but
//! a partner on a bad network makes many: it is counted the same way, per
//! (client, family) and minute.
//!
//! Bounds: at most [`MAX_KEYS_PER_MINUTE`] keys keep their source address or
//! family in a minute; past that, counts fold into one key per (kind, client,
//! reason) with the address and family left out, and client ids are only ever
//! ids that exist. So a minute writes at most `MAX_KEYS_PER_MINUTE` rows plus a
//! few per real client, whatever the rate. A crash loses at most the minute in
//! progress.

use crate::model::{Actor, ClientId, EventKind, FamilyId, NewEvent};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Distinct (kind, client, address, reason) keys kept apart within a minute.
pub const MAX_KEYS_PER_MINUTE: usize = 256;
/// Finished minutes held while the flush is behind (the store is busy); older
/// ones are merged into the oldest kept, never dropped.
const MAX_PENDING_MINUTES: usize = 5;

/// One failure an anonymous caller caused.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    pub kind: EventKind,
    /// A client that exists, or `None` for an unknown or missing one.
    pub client_id: Option<&'a ClientId>,
    pub source: IpAddr,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    kind: EventKind,
    client_id: Option<ClientId>,
    /// `None` once the minute's keys are used up.
    source: Option<IpAddr>,
    /// For refresh retries; `None` once the minute's keys are used up.
    family_id: Option<FamilyId>,
    reason: &'static str,
}

const RETRY_REASON: &str = "the same pair answered again";

#[derive(Debug, Default)]
struct Minute {
    /// Unix minute (seconds / 60).
    index: i64,
    counts: HashMap<Key, u64>,
}

impl Minute {
    fn add(&mut self, mut key: Key) {
        if self.counts.len() >= MAX_KEYS_PER_MINUTE && !self.counts.contains_key(&key) {
            key.source = None;
            key.family_id = None;
        }
        *self.counts.entry(key).or_default() += 1;
    }

    fn merge(&mut self, other: Minute) {
        for (key, count) in other.counts {
            *self.counts.entry(key).or_default() += count;
        }
    }

    fn into_events(self) -> Vec<NewEvent> {
        let start = self.index * 60;
        let mut rows: Vec<_> = self.counts.into_iter().collect();
        rows.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        rows.into_iter()
            .map(|(key, count)| event(&key, count, start))
            .collect()
    }
}

/// Per-minute failure counts, flushed to the event log by the server's ticker.
#[derive(Debug, Default)]
pub struct FailureTally {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    current: Minute,
    finished: Vec<Minute>,
    /// The newest finished minute, kept for `status` after it was flushed.
    last: Vec<FailureCount>,
    /// Failures since start per (kind, reason), for the metrics; the reasons
    /// are a closed set of static strings, so this stays a handful of entries.
    totals: HashMap<(&'static str, &'static str), u64>,
}

/// One aggregated row as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureCount {
    pub count: u64,
    /// False for refresh retries.
    failure: bool,
    /// "2,310 failed client authentications for unknown clients from 203.0.113.7 …"
    pub sentence: String,
}

impl FailureTally {
    /// Counts one failure at `now` (Unix seconds).
    pub fn note(&self, now: i64, failure: Failure) {
        let mut state = self.lock();
        state.roll(now.div_euclid(60));
        state.current.add(Key {
            kind: failure.kind,
            client_id: failure.client_id.cloned(),
            source: Some(failure.source),
            family_id: None,
            reason: failure.reason,
        });
        *state
            .totals
            .entry((failure.kind.as_str(), failure.reason))
            .or_default() += 1;
    }

    /// Counts one refresh retry answered at `now` with the pair already issued
    /// (no failure: it stays out of the failure totals).
    pub fn note_retry(&self, now: i64, client_id: &ClientId, family_id: &FamilyId) {
        let mut state = self.lock();
        state.roll(now.div_euclid(60));
        state.current.add(Key {
            kind: EventKind::RefreshRetried,
            client_id: Some(client_id.clone()),
            source: None,
            family_id: Some(family_id.clone()),
            reason: RETRY_REASON,
        });
    }

    /// Failures counted since start, per (kind, reason).
    pub fn totals(&self) -> Vec<((&'static str, &'static str), u64)> {
        let mut totals: Vec<_> = self.lock().totals.clone().into_iter().collect();
        totals.sort();
        totals
    }

    /// The events of every minute that ended before `now`, oldest first.
    pub fn take_finished(&self, now: i64) -> Vec<NewEvent> {
        let mut state = self.lock();
        state.roll(now.div_euclid(60));
        let finished = std::mem::take(&mut state.finished);
        if let Some(newest) = finished.last() {
            let start = newest.index * 60;
            state.last = counts(newest, start);
        }
        finished.into_iter().flat_map(Minute::into_events).collect()
    }

    /// Everything counted so far, the minute in progress included (at shutdown).
    pub fn take_all(&self) -> Vec<NewEvent> {
        let mut state = self.lock();
        let current = std::mem::take(&mut state.current);
        let mut finished = std::mem::take(&mut state.finished);
        finished.push(current);
        finished.into_iter().flat_map(Minute::into_events).collect()
    }

    /// The failures of the minute in progress and the newest finished one,
    /// largest counts first (retries are no failure: they stay out).
    pub fn recent(&self, limit: usize) -> Vec<FailureCount> {
        let state = self.lock();
        let mut rows = counts(&state.current, state.current.index * 60);
        rows.extend(state.last.iter().cloned());
        rows.retain(|row| row.failure);
        rows.sort_by_key(|row| std::cmp::Reverse(row.count));
        rows.truncate(limit);
        rows
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// Moves the current minute to `finished` once `minute` has begun.
    fn roll(&mut self, minute: i64) {
        if minute <= self.current.index {
            return;
        }
        let ended = std::mem::replace(
            &mut self.current,
            Minute {
                index: minute,
                counts: HashMap::new(),
            },
        );
        if ended.counts.is_empty() {
            return;
        }
        if self.finished.len() >= MAX_PENDING_MINUTES {
            self.finished[0].merge(ended);
        } else {
            self.finished.push(ended);
        }
    }
}

fn counts(minute: &Minute, start: i64) -> Vec<FailureCount> {
    minute
        .counts
        .iter()
        .map(|(key, count)| FailureCount {
            count: *count,
            failure: key.kind != EventKind::RefreshRetried,
            sentence: sentence(key, *count, start),
        })
        .collect()
}

fn event(key: &Key, count: u64, start: i64) -> NewEvent {
    let mut event = NewEvent::new(key.kind, Actor::Public, sentence(key, count, start))
        .count(i64::try_from(count).unwrap_or(i64::MAX));
    if let Some(id) = &key.client_id {
        event = event.client(id);
    }
    if let Some(source) = key.source {
        event = event.source(source);
    }
    if let Some(id) = &key.family_id {
        event = event.family(id);
    }
    event
}

/// "2,310 failed client authentications for unknown clients from 203.0.113.7
/// in the minute from 14:03 UTC (unknown client)".
fn sentence(key: &Key, count: u64, start: i64) -> String {
    let what = match (key.kind, count) {
        (EventKind::ClientAuthFailed, 1) => "failed client authentication",
        (EventKind::ClientAuthFailed, _) => "failed client authentications",
        (EventKind::LoginFailed, 1) => "failed login",
        (EventKind::LoginFailed, _) => "failed logins",
        (EventKind::RefreshRetried, 1) => "refresh retry",
        (EventKind::RefreshRetried, _) => "refresh retries",
        (other, _) => other.as_str(),
    };
    let client = match &key.client_id {
        Some(id) => format!("client {id}"),
        None if key.kind == EventKind::ClientAuthFailed => "unknown clients".to_owned(),
        None => "no client".to_owned(),
    };
    let source = match (key.kind, key.source, &key.family_id) {
        (_, Some(address), _) => format!("from {address}"),
        (EventKind::RefreshRetried, _, Some(family)) => format!("in family {family}"),
        (EventKind::RefreshRetried, _, None) => "in several families".to_owned(),
        (_, None, _) => "from other addresses".to_owned(),
    };
    let of_day = start.rem_euclid(86_400);
    format!(
        "{} {what} for {client} {source} in the minute from {:02}:{:02} UTC ({})",
        thousands(count),
        of_day / 3600,
        of_day % 3600 / 60,
        key.reason
    )
}

/// 2310 → "2,310".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(source: IpAddr, client_id: Option<&ClientId>) -> Failure<'_> {
        Failure {
            kind: EventKind::ClientAuthFailed,
            client_id,
            source,
            reason: "unknown client",
        }
    }

    #[test]
    fn a_minute_of_failures_is_one_row_per_key_with_its_count() {
        let tally = FailureTally::default();
        let attacker: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..2310 {
            tally.note(840 * 60 + 5, failure(attacker, None));
        }
        let real = ClientId::parse("real").unwrap();
        tally.note(840 * 60 + 7, failure(attacker, Some(&real)));
        assert!(tally.take_finished(840 * 60 + 59).is_empty());
        let events = tally.take_finished(841 * 60);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].count, 2310);
        assert_eq!(
            events[0].detail,
            "2,310 failed client authentications for unknown clients from 203.0.113.7 \
             in the minute from 14:00 UTC (unknown client)"
        );
        assert_eq!(events[1].client_id, Some(real));
        assert!(tally.take_finished(900 * 60).is_empty());
        assert_eq!(tally.recent(5)[0].count, 2310);
    }

    #[test]
    fn distinct_addresses_past_the_bound_fold_into_one_row() {
        let tally = FailureTally::default();
        for n in 0..10_000u32 {
            tally.note(60, failure(IpAddr::from(n.to_be_bytes()), None));
        }
        let events = tally.take_finished(120);
        assert_eq!(events.len(), MAX_KEYS_PER_MINUTE + 1);
        assert_eq!(events.iter().map(|e| e.count).sum::<i64>(), 10_000);
        assert_eq!(events[0].source, None);
        assert_eq!(events[0].count, 10_000 - MAX_KEYS_PER_MINUTE as i64);
    }

    #[test]
    fn a_stalled_flush_holds_a_bounded_number_of_minutes() {
        let tally = FailureTally::default();
        let source: IpAddr = "198.51.100.1".parse().unwrap();
        for minute in 1..=20 {
            tally.note(minute * 60, failure(source, None));
        }
        assert_eq!(tally.lock().finished.len(), MAX_PENDING_MINUTES);
        let events = tally.take_all();
        assert_eq!(events.iter().map(|e| e.count).sum::<i64>(), 20);
    }

    #[test]
    fn refresh_retries_are_one_row_per_family_and_minute_and_no_failure() {
        let tally = FailureTally::default();
        let client = ClientId::parse("cli_a").unwrap();
        let (first, second) = (
            FamilyId::parse("fam_1").unwrap(),
            FamilyId::parse("fam_2").unwrap(),
        );
        for _ in 0..3 {
            tally.note_retry(60, &client, &first);
        }
        tally.note_retry(61, &client, &second);
        assert!(tally.recent(5).is_empty(), "status lists failures only");
        let events = tally.take_finished(120);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, EventKind::RefreshRetried);
        assert_eq!(events[0].count, 3);
        assert_eq!(events[0].family_id, Some(first));
        assert_eq!(events[0].source, None);
        assert_eq!(
            events[0].detail,
            "3 refresh retries for client cli_a in family fam_1 \
             in the minute from 00:01 UTC (the same pair answered again)"
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
