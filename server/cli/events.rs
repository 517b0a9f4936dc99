//! `gatehouse events`, `status` and `maintenance` output.

use super::output::{format_time, parse_duration, rfc3339};
use super::{pick, AdminClient, CliError, Printed};
use crate::proto;
use serde_json::{json, Value};

/// `gatehouse events` flags: how many, whether to follow, and the filters.
#[derive(Debug, Clone, clap::Args)]
pub struct EventsArgs {
    /// Keep streaming new events.
    #[arg(long)]
    pub follow: bool,
    /// How many recent events to show first.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Only events of this actor: an admin token's name (`bootstrap`, `alice`), `public`,
    /// `anonymous` or `local`.
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
    /// Only events of this kind, e.g. `client_updated`.
    #[arg(long)]
    pub kind: Option<String>,
    /// Only events about this client (ids may begin with `-`).
    #[arg(long = "client", value_name = "ID", allow_hyphen_values = true)]
    pub client_id: Option<String>,
    /// Only events of the last DURATION (`90s`, `15m`, `2h`, `7d`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub since: Option<i64>,
}

impl EventsArgs {
    /// The filters as a request (the time is resolved against this host's clock).
    fn request(&self, page_size: u32) -> proto::ListEventsRequest {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64);
        proto::ListEventsRequest {
            page_size,
            before_id: 0,
            security_only: false,
            actor: self.actor.clone().unwrap_or_default(),
            kind: self.kind.clone().unwrap_or_default(),
            client_id: self.client_id.clone().unwrap_or_default(),
            since: self.since.map_or(0, |secs| now - secs),
        }
    }

    /// Whether a streamed event passes the same filters.
    fn matches(&self, event: &proto::Event, since: i64) -> bool {
        let same =
            |filter: &Option<String>, value: &str| filter.as_deref().is_none_or(|f| f == value);
        same(&self.actor, &event.actor)
            && same(&self.kind, &event.kind)
            && same(&self.client_id, &event.client_id)
            && event.time >= since
    }
}

fn event_json(event: &proto::Event) -> Value {
    json!({
        "id": event.id, "time": rfc3339(event.time), "unix_time": event.time, "kind": event.kind, "actor": event.actor,
        "client_id": event.client_id, "family_id": event.family_id, "username": event.username,
        "detail": event.detail, "security": event.security, "count": event.count,
        "source": event.source, "rpc": event.rpc,
        "changes": event.changes.iter().map(|change| json!({
            "field": change.field, "before": change.before, "after": change.after,
        })).collect::<Vec<_>>(),
    })
}

fn event_line(event: &proto::Event) -> String {
    let mut parts = vec![
        format_time(event.time),
        format!("{:<18}", event.kind),
        format!("{:<9}", event.actor),
    ];
    for (label, value) in [
        ("client", &event.client_id),
        ("family", &event.family_id),
        ("user", &event.username),
        ("from", &event.source),
    ] {
        if !value.is_empty() {
            parts.push(format!("{label}={value}"));
        }
    }
    if !event.detail.is_empty() {
        parts.push(event.detail.clone());
    }
    for change in &event.changes {
        parts.push(format!(
            "{}: {:?} → {:?}",
            change.field, change.before, change.after
        ));
    }
    let marker = if event.security { "!" } else { " " };
    format!("{marker} {}", parts.join(" "))
}

pub(super) async fn events(
    admin: &mut AdminClient,
    args: EventsArgs,
    json: bool,
) -> Result<(), CliError> {
    let request = args.request(args.limit);
    let since = request.since;
    let page = admin.list_events(request).await?.into_inner();
    let mut recent = page.events;
    recent.reverse();
    let last = recent.last().map(|event| event.id).unwrap_or(0);
    if !args.follow {
        let value = Value::Array(recent.iter().map(event_json).collect());
        print!(
            "{}",
            pick(json, value, || recent
                .iter()
                .map(|e| event_line(e) + "\n")
                .collect())
        );
        return Ok(());
    }
    for event in &recent {
        print_event(event, json);
    }
    // From the start when the log was empty, so nothing committed since is missed.
    let mut stream = admin
        .watch_events(proto::WatchEventsRequest {
            after_id: last,
            from_start: true,
        })
        .await?
        .into_inner();
    loop {
        match stream.message().await {
            Ok(Some(message)) if message.heartbeat.is_some() => {}
            Ok(Some(event)) if args.matches(&event, since) => print_event(&event, json),
            Ok(Some(_)) => {}
            Ok(None) => return Err(CliError::Usage("the event stream ended".into())),
            Err(status) => {
                return Err(CliError::Usage(format!(
                    "the event stream ended: {}",
                    status.message()
                )))
            }
        }
    }
}

fn print_event(event: &proto::Event, json: bool) {
    if json {
        println!("{}", event_json(event));
    } else {
        println!("{}", event_line(event));
    }
}

pub(super) fn status_output(status: proto::Status, json: bool) -> Printed {
    let oldest_event = (status.oldest_event_time > 0).then(|| rfc3339(status.oldest_event_time));
    let value = json!({
        "version": status.version, "uptime_secs": status.uptime_secs, "clients": status.clients,
        "users": status.users, "active_families": status.active_families,
        "database_bytes": status.database_bytes, "maintenance": status.maintenance,
        "security_events_last_hour": status.security_events_last_hour, "issuer": status.issuer,
        "oldest_event_time": oldest_event, "pending_authorizations": status.pending_authorizations,
        "browser_sessions": status.browser_sessions, "password_checks": status.password_checks,
        "recent_failures": status.recent_failures,
    });
    pick(json, value, || {
        let mut text = format!(
            "version:              {}\nissuer:               {}\nuptime:               {} s\nclients:              {}\nusers:                {}\nactive families:      {}\nsecurity events (1h): {}\ndatabase:             {} bytes\noldest event:         {}\npending logins:       {}\nbrowser sessions:     {}\nmaintenance:          {}\n",
            status.version, status.issuer, status.uptime_secs, status.clients, status.users, status.active_families,
            status.security_events_last_hour, status.database_bytes, oldest_event.as_deref().unwrap_or("none"),
            status.pending_authorizations, status.browser_sessions, if status.maintenance { "on" } else { "off" }
        );
        for failure in &status.recent_failures {
            text.push_str(&format!("recent failures:      {failure}\n"));
        }
        text
    })
}
