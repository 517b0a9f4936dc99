//! Feeds one `WatchEvents` subscriber: replays the log after its resume point,
//! then follows live events, with a heartbeat whenever the stream is idle. The
//! stream ends with UNAVAILABLE as soon as shutdown begins, so no subscriber
//! holds a shutting-down server open.

use crate::clock::Clock;
use crate::proto;
use crate::shutdown::Draining;
use crate::store::Store;
use std::time::Duration;
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tokio::time::{Instant, MissedTickBehavior};
use tonic::Status;

/// How long the stream may stay idle before a heartbeat is sent. Subscribers
/// treat 2 s without a message as a lost stream (see the proto).
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);
const REPLAY_BATCH: usize = 500;

/// Where a subscriber starts.
#[derive(Debug, Clone, Copy)]
pub struct Resume {
    pub after_id: i64,
    /// Replay stored events after `after_id` before following live ones.
    pub replay: bool,
}

type Item = Result<proto::Event, Status>;

/// One subscriber's end of the stream.
pub struct Subscriber {
    sender: mpsc::Sender<Item>,
    draining: Draining,
}

/// Why forwarding stopped.
enum Stop {
    SubscriberGone,
    ShuttingDown,
    Failed(Status),
}

impl Subscriber {
    pub fn new(sender: mpsc::Sender<Item>, draining: Draining) -> Self {
        Subscriber { sender, draining }
    }

    /// Runs until the subscriber leaves, the server shuts down, or the log
    /// fails; the last two end the stream with a status.
    pub async fn forward(self, store: Store, clock: Clock, resume: Resume) {
        let stop = match self.follow(&store, &clock, resume).await {
            Ok(never) => match never {},
            Err(stop) => stop,
        };
        let status = match stop {
            Stop::SubscriberGone => return,
            Stop::ShuttingDown => Status::unavailable("the server is shutting down"),
            Stop::Failed(status) => status,
        };
        // Never wait here: a subscriber that stopped reading just sees the end.
        let _ = self.sender.try_send(Err(status));
    }

    async fn follow(
        &self,
        store: &Store,
        clock: &Clock,
        resume: Resume,
    ) -> Result<std::convert::Infallible, Stop> {
        // Subscribe before replaying so nothing committed in between is missed.
        let mut live = store.subscribe();
        let mut last = resume.after_id;
        if resume.replay {
            self.replay(store, &mut last).await?;
        }
        // The first heartbeat says the replay is complete.
        self.send(heartbeat(clock)).await?;
        let mut idle = tokio::time::interval_at(Instant::now() + HEARTBEAT_EVERY, HEARTBEAT_EVERY);
        idle.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.draining.clone().begun() => return Err(Stop::ShuttingDown),
                _ = self.sender.closed() => return Err(Stop::SubscriberGone),
                _ = idle.tick() => self.send(heartbeat(clock)).await?,
                received = live.recv() => match received {
                    Ok(event) if event.id > last => {
                        last = event.id;
                        self.send(Ok(event.into())).await?;
                        idle.reset();
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => self.replay(store, &mut last).await?,
                    Err(RecvError::Closed) => {
                        return Err(Stop::Failed(Status::unavailable("the event log closed")))
                    }
                },
            }
        }
    }

    /// Sends every stored event after `last`, in order.
    async fn replay(&self, store: &Store, last: &mut i64) -> Result<(), Stop> {
        loop {
            let after = *last;
            let batch = store
                .call(move |store| store.events_after(after, REPLAY_BATCH))
                .await
                .map_err(|error| Stop::Failed(Status::unavailable(error.to_string())))?;
            if batch.is_empty() {
                return Ok(());
            }
            for event in batch {
                *last = event.id;
                self.send(Ok(event.into())).await?;
            }
        }
    }

    /// Waits for room in the subscriber's buffer, but never past shutdown.
    async fn send(&self, item: Item) -> Result<(), Stop> {
        tokio::select! {
            sent = self.sender.send(item) => sent.map_err(|_| Stop::SubscriberGone),
            _ = self.draining.clone().begun() => Err(Stop::ShuttingDown),
        }
    }
}

fn heartbeat(clock: &Clock) -> Item {
    Ok(proto::Event {
        heartbeat: Some(proto::Heartbeat { time: clock.now() }),
        ..Default::default()
    })
}
