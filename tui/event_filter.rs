//! The Events screen's filter, the same as `gatehouse events`: `actor=NAME
//! kind=KIND client=ID since=DURATION`. The history is asked of the server
//! with exactly these filters (`ListEvents`); live events are matched here
//! with the same rules.

use gatehouse::cli::output::parse_duration;
use gatehouse::proto;

/// Every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub actor: String,
    pub kind: String,
    pub client_id: String,
    /// Unix seconds; 0 for any time.
    pub since: i64,
    /// The text it was read from, for the screen's title.
    pub text: String,
}

impl EventFilter {
    /// Reads `actor=… kind=… client=… since=…` at `now` (Unix seconds).
    pub fn parse(text: &str, now: i64) -> Result<Self, String> {
        let mut filter = EventFilter {
            text: text.trim().to_owned(),
            ..EventFilter::default()
        };
        for word in text.split_whitespace() {
            match word.split_once('=') {
                Some(("actor", name)) => filter.actor = name.to_owned(),
                Some(("kind", kind)) => filter.kind = kind.to_owned(),
                Some(("client", id)) => filter.client_id = id.to_owned(),
                Some(("since", duration)) => filter.since = now - parse_duration(duration)?,
                _ => {
                    return Err(format!(
                        "{word:?}: filter with actor=NAME kind=KIND client=ID since=DURATION"
                    ))
                }
            }
        }
        Ok(filter)
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The server query for the filtered history.
    pub fn request(&self, page_size: u32) -> proto::ListEventsRequest {
        proto::ListEventsRequest {
            page_size,
            actor: self.actor.clone(),
            kind: self.kind.clone(),
            client_id: self.client_id.clone(),
            since: self.since,
            ..Default::default()
        }
    }

    /// Whether a live event passes, by the server's rules.
    pub fn matches(&self, event: &proto::Event) -> bool {
        let same = |filter: &str, value: &str| filter.is_empty() || filter == value;
        same(&self.actor, &event.actor)
            && same(&self.kind, &event.kind)
            && same(&self.client_id, &event.client_id)
            && event.time >= self.since
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cli_filters_and_refuses_anything_else() {
        let filter = EventFilter::parse("actor=olga kind=client_updated since=1h", 10_000).unwrap();
        assert_eq!(
            (filter.actor.as_str(), filter.kind.as_str(), filter.since),
            ("olga", "client_updated", 6_400)
        );
        let request = filter.request(50);
        assert_eq!((request.actor.as_str(), request.since), ("olga", 6_400));
        assert!(EventFilter::parse("who=olga", 0).is_err());
        assert!(EventFilter::parse("since=forever", 0).is_err());
        let event = |actor: &str, time: i64| proto::Event {
            actor: actor.into(),
            kind: "client_updated".into(),
            time,
            ..Default::default()
        };
        assert!(filter.matches(&event("olga", 7_000)));
        assert!(!filter.matches(&event("bootstrap", 7_000)));
        assert!(!filter.matches(&event("olga", 6_000)));
    }
}
