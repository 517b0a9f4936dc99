//! Screen 4, Events: move, pause and resume the live tail, follow the newest
//! event, jump from a security event to its family, and filter
//! (`event_filter.rs`).

use crate::app::{App, Prompt, Screen, MAX_FILTERED};
use crate::event::Cmd;
use crate::event_filter::EventFilter;
use crate::keys::EventsAction;
use crate::view::count;
use gatehouse::proto;
use std::collections::VecDeque;

impl App {
    pub(crate) fn on_events_key(&mut self, action: EventsAction) -> Vec<Cmd> {
        match action {
            EventsAction::Down => {
                self.event_selected =
                    (self.event_selected + 1).min(self.shown_events().len().saturating_sub(1))
            }
            EventsAction::Up => self.event_selected = self.event_selected.saturating_sub(1),
            EventsAction::Follow => self.event_selected = 0,
            EventsAction::TogglePause => {
                self.paused = !self.paused;
                if !self.paused {
                    let (held, dropped) = self.held.take();
                    for event in held {
                        self.push_event(event);
                    }
                    self.pause_note = (dropped > 0).then(|| {
                        format!(
                            "{} dropped while paused",
                            count(dropped as i64, "event", "events")
                        )
                    });
                }
            }
            EventsAction::OpenFamily => {
                let family_id = self
                    .shown_events()
                    .get(self.event_selected)
                    .map(|event| event.family_id.clone())
                    .unwrap_or_default();
                if !family_id.is_empty() {
                    self.screen = Screen::Grants;
                    return vec![Cmd::LoadFamily(family_id)];
                }
            }
            EventsAction::Filter => {
                self.prompt = Some(Prompt::Filter(self.event_filter.text.clone()))
            }
            EventsAction::ClearFilter => {
                self.event_filter = EventFilter::default();
                self.filtered.clear();
                self.event_selected = 0;
            }
        }
        Vec::new()
    }

    /// Applies the typed filter: the history comes from the server, filtered there.
    pub(crate) fn filter_events(&mut self, text: &str) -> Vec<Cmd> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64);
        match EventFilter::parse(text, now) {
            Ok(filter) => {
                self.event_filter = filter;
                self.filtered.clear();
                self.event_selected = 0;
                if self.event_filter.is_empty() {
                    return Vec::new();
                }
                vec![Cmd::LoadEvents(
                    self.event_filter.request(MAX_FILTERED as u32),
                )]
            }
            Err(message) => {
                self.toast = Some(message);
                Vec::new()
            }
        }
    }

    /// The events the screen shows: the filtered ones while a filter is set.
    pub(crate) fn shown_events(&self) -> &VecDeque<proto::Event> {
        if self.event_filter.is_empty() {
            &self.events
        } else {
            &self.filtered
        }
    }
}
