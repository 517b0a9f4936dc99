//! The event log (paged and live), the status figures and maintenance mode.

use super::convert::invalid_argument;
use super::{caller, page_size, watch, AdminService, Reply, WatchEventsStream};
use crate::model::{ClientId, EventFilter, EventKind};
use crate::proto;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

pub(super) async fn list_events(
    service: &AdminService,
    request: Request<proto::ListEventsRequest>,
) -> Reply<proto::ListEventsResponse> {
    let request = request.into_inner();
    let limit = page_size(request.page_size);
    let Some(filter) = event_filter(&request)? else {
        return Ok(Response::new(proto::ListEventsResponse::default()));
    };
    let (events, next) = service
        .call(move |store| store.list_events(limit, request.before_id, &filter))
        .await?;
    Ok(Response::new(proto::ListEventsResponse {
        events: events.into_iter().map(Into::into).collect(),
        next_before_id: next.unwrap_or(0),
    }))
}

/// The request's filters, parsed; an empty field filters nothing. `None`
/// when no event can match: a client filter that cannot be a client id is
/// recorded on no event (the listing is empty, as when such text reached the
/// query).
fn event_filter(request: &proto::ListEventsRequest) -> Result<Option<EventFilter>, Status> {
    let text = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    let kind = match request.kind.as_str() {
        "" => None,
        kind => Some(EventKind::parse(kind).map_err(invalid_argument)?),
    };
    let client_id = match request.client_id.as_str() {
        "" => None,
        text => match ClientId::parse(text) {
            Ok(id) => Some(id),
            Err(_) => return Ok(None),
        },
    };
    Ok(Some(EventFilter {
        security_only: request.security_only,
        actor: text(&request.actor),
        kind,
        client_id,
        since: (request.since > 0).then_some(request.since),
    }))
}

pub(super) async fn watch_events(
    service: &AdminService,
    request: Request<proto::WatchEventsRequest>,
) -> Reply<WatchEventsStream> {
    let request = request.into_inner();
    let resume = watch::Resume {
        after_id: request.after_id,
        replay: request.after_id > 0 || request.from_start,
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(256);
    let subscriber = watch::Subscriber::new(sender, service.draining.clone());
    tokio::spawn(subscriber.forward(
        service.store().clone(),
        service.shared.clock.clone(),
        resume,
    ));
    Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
}

pub(super) async fn get_status(
    service: &AdminService,
    _: Request<proto::GetStatusRequest>,
) -> Reply<proto::Status> {
    Ok(Response::new(status(service).await?))
}

pub(super) async fn set_maintenance(
    service: &AdminService,
    request: Request<proto::SetMaintenanceRequest>,
) -> Reply<proto::Status> {
    let actor = caller(&request)?.actor();
    let on = request.into_inner().on;
    let now = service.now();
    service
        .call(move |store| store.set_maintenance(actor, on, now))
        .await?;
    Ok(Response::new(status(service).await?))
}

pub(super) async fn status(service: &AdminService) -> Result<proto::Status, Status> {
    let now = service.now();
    let counts = service.call(move |store| store.counts(now)).await?;
    let public = service.shared.public.figures();
    Ok(proto::Status {
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_secs: service.shared.started.elapsed().as_secs() as i64,
        clients: counts.clients,
        users: counts.users,
        active_families: counts.active_families,
        database_bytes: counts.database_bytes,
        maintenance: counts.maintenance,
        security_events_last_hour: counts.security_events_last_hour,
        issuer: service.shared.config.issuer.clone(),
        oldest_event_time: counts.oldest_event_time.unwrap_or(0),
        pending_authorizations: public.pending_authorizations as i64,
        browser_sessions: public.browser_sessions as i64,
        password_checks: public.password_checks as i64,
        recent_failures: service
            .shared
            .tally
            .recent(5)
            .into_iter()
            .map(|failure| failure.sentence)
            .collect(),
    })
}
