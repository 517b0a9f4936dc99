//! `gatehouse events`, `status` and `maintenance` output.

use super::output::{format_time, rfc3339};
use super::{pick, AdminClient, CliError, Printed};
use crate::proto;
use serde_json::{json, Value};

fn event_json(event: &proto::Event) -> Value {
    json!({
        "id": event.id, "time": rfc3339(event.time), "unix_time": event.time, "kind": event.kind, "actor": event.actor,
        "client_id": event.client_id, "family_id": event.family_id, "username": event.username,
        "detail": event.detail, "security": event.security, "count": event.count,
        "source": event.source,
    })
}

fn event_line(event: &proto::Event) -> String {
    let mut parts = vec![
        format_time(event.time),
        format!("{:<18}", event.kind),
        format!("{:<6}", event.actor),
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
    let marker = if event.security { "!" } else { " " };
    format!("{marker} {}", parts.join(" "))
}

pub(super) async fn events(
    admin: &mut AdminClient,
    follow: bool,
    limit: u32,
    json: bool,
) -> Result<(), CliError> {
    let page = admin
        .list_events(proto::ListEventsRequest {
            page_size: limit,
            before_id: 0,
            security_only: false,
        })
        .await?
        .into_inner();
    let mut recent = page.events;
    recent.reverse();
    let last = recent.last().map(|event| event.id).unwrap_or(0);
    if !follow {
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
            Ok(Some(event)) => print_event(&event, json),
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
