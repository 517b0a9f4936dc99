//! Graceful shutdown: the OS signals that start it (a second one exits at
//! once), the [`Draining`] signal every long-lived call selects on, and the
//! grace period after which the server stops waiting for in-flight work.

use std::future::Future;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// Tells long-lived tasks (event streams, the listeners) that shutdown has
/// begun. Cheap to clone; every clone sees the same moment.
#[derive(Debug, Clone)]
pub struct Draining(watch::Receiver<bool>);

/// Starts the drain: held by the run loop, one per server.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// A trigger and the signal it fires.
pub fn channel() -> (Trigger, Draining) {
    let (sender, receiver) = watch::channel(false);
    (Trigger(sender), Draining(receiver))
}

impl Trigger {
    /// Begins the drain; every [`Draining::begun`] completes.
    pub fn begin(&self) {
        self.0.send_replace(true);
    }
}

impl Draining {
    /// Completes once shutdown has begun (at once if it already has, or if the
    /// server that owned the trigger is gone).
    pub async fn begun(mut self) {
        let _ = self.0.wait_for(|draining| *draining).await;
    }
}

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM (what service managers
/// send). From then on a second one exits the process at once, without
/// waiting for the drain.
pub fn on_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down (a second SIGTERM or Ctrl-C exits at once)");
        tokio::spawn(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            tracing::warn!("second signal: exiting at once, without draining");
            std::process::exit(1);
        });
    })
}
