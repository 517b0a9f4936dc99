//! Screen 4, Events: move, pause and resume the live tail, follow the newest
//! event, and jump from a security event to its family.

use crate::app::{App, Prompt, Screen};
use crate::event::Cmd;
use crate::keys::EventsAction;
use crate::view::count;

impl App {
    pub(crate) fn on_events_key(&mut self, action: EventsAction) -> Vec<Cmd> {
        match action {
            EventsAction::Down => {
                self.event_selected =
                    (self.event_selected + 1).min(self.events.len().saturating_sub(1))
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
                    .events
                    .get(self.event_selected)
                    .map(|event| event.family_id.clone())
                    .unwrap_or_default();
                if !family_id.is_empty() {
                    self.screen = Screen::Grants;
                    return vec![Cmd::LoadFamily(family_id)];
                }
            }
            EventsAction::FindClients => self.prompt = Some(Prompt::Filter(String::new())),
        }
        Vec::new()
    }
}
