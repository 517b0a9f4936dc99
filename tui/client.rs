//! Owns the generated admin client: turns each `Cmd` into a task that sends its
//! result back as a `Msg`. The console never blocks on the network.

use crate::event::{Cmd, Msg, RpcError};
use crate::link::SILENCE_MS;
use crate::view::count;
use gatehouse::cli::AdminClient;
use gatehouse::proto;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

const BACKFILL_PAGE: u32 = 200;

/// Runs `cmd` in the background; the reply arrives on `sender`.
pub fn run(admin: &AdminClient, cmd: Cmd, sender: UnboundedSender<Msg>) {
    let mut admin = admin.clone();
    tokio::spawn(async move {
        if let Some(msg) = call(&mut admin, cmd, &sender).await {
            let _ = sender.send(msg);
        }
    });
}

fn err(status: tonic::Status) -> RpcError {
    RpcError::from(status)
}

async fn call(admin: &mut AdminClient, cmd: Cmd, sender: &UnboundedSender<Msg>) -> Option<Msg> {
    Some(match cmd {
        Cmd::LoadEvents(request) => Msg::FilteredEvents(
            admin
                .list_events(request)
                .await
                .map(|r| r.into_inner().events)
                .map_err(err),
        ),
        Cmd::WhoAmI => Msg::WhoAmI(
            admin
                .who_am_i(proto::WhoAmIRequest {})
                .await
                .map(|r| r.into_inner())
                .map_err(err),
        ),
        Cmd::LoadStatus => Msg::Status(
            admin
                .get_status(proto::GetStatusRequest {})
                .await
                .map(|r| r.into_inner())
                .map_err(err),
        ),
        Cmd::LoadClients { filter, page_token } => {
            let append = !page_token.is_empty();
            let request = proto::ListClientsRequest {
                filter,
                page_size: 100,
                page_token,
            };
            Msg::Clients {
                result: admin
                    .list_clients(request)
                    .await
                    .map(|r| r.into_inner())
                    .map_err(err),
                append,
            }
        }
        Cmd::LoadScopes => Msg::Scopes(
            admin
                .list_scopes(proto::ListScopesRequest {})
                .await
                .map(|r| r.into_inner().scopes)
                .map_err(err),
        ),
        Cmd::LoadFamilies {
            client_id,
            username,
            active_only,
        } => {
            let request = proto::ListFamiliesRequest {
                client_id,
                username,
                active_only,
                page_size: 200,
                page_token: String::new(),
            };
            Msg::Families(
                admin
                    .list_families(request)
                    .await
                    .map(|r| r.into_inner())
                    .map_err(err),
            )
        }
        Cmd::CountFamily(id) => Msg::BlastRadius(
            admin
                .revoke_family(proto::RevokeFamilyRequest {
                    id,
                    note: String::new(),
                    dry_run: true,
                })
                .await
                .map(|r| r.into_inner())
                .map_err(err),
        ),
        Cmd::LoadFamily(id) => Msg::FamilyDetail(
            admin
                .get_family(proto::GetFamilyRequest { id })
                .await
                .map(|r| r.into_inner())
                .map_err(err),
        ),
        Cmd::CreateClient(request) => Msg::Saved(
            admin
                .create_client(request)
                .await
                .map(|r| {
                    let reply = r.into_inner();
                    let secret = (!reply.client_secret.is_empty()).then_some(reply.client_secret);
                    (reply.client.unwrap_or_default(), secret)
                })
                .map_err(err),
        ),
        Cmd::UpdateClient { request, disabled } => {
            let id = request.id.clone();
            let mut result = admin
                .update_client(request)
                .await
                .map(|r| r.into_inner())
                .map_err(err);
            if let (Ok(_), Some(disabled)) = (&result, disabled) {
                result = admin
                    .set_client_disabled(proto::SetClientDisabledRequest { id, disabled })
                    .await
                    .map(|r| r.into_inner().client.unwrap_or_default())
                    .map_err(err);
            }
            Msg::Saved(result.map(|client| (client, None)))
        }
        Cmd::SetClientDisabled { id, disabled } => Msg::Done(
            admin
                .set_client_disabled(proto::SetClientDisabledRequest { id, disabled })
                .await
                .map(|r| {
                    let reply = r.into_inner();
                    let name = reply.client.map(|c| c.name).unwrap_or_default();
                    if disabled {
                        format!(
                            "disabled {name}: {} revoked",
                            count(reply.revoked_families, "family", "families")
                        )
                    } else {
                        format!("enabled {name}")
                    }
                })
                .map_err(err),
        ),
        Cmd::RotateSecret { id, overlap_secs } => Msg::SecretRotated(
            admin
                .rotate_client_secret(proto::RotateClientSecretRequest { id, overlap_secs })
                .await
                .map(|r| r.into_inner())
                .map_err(err),
        ),
        Cmd::LoadSecrets(client_id) => Msg::Secrets {
            result: admin
                .list_client_secrets(proto::ListClientSecretsRequest {
                    client_id: client_id.clone(),
                })
                .await
                .map(|r| r.into_inner())
                .map_err(err),
            client_id,
        },
        Cmd::DeleteClient(id) => Msg::Done(
            admin
                .delete_client(proto::DeleteClientRequest { id: id.clone() })
                .await
                .map(|_| format!("deleted client {id}"))
                .map_err(err),
        ),
        Cmd::RevokeFamily { id, note } => Msg::Done(
            admin
                .revoke_family(proto::RevokeFamilyRequest {
                    id: id.clone(),
                    note,
                    dry_run: false,
                })
                .await
                .map(|r| {
                    let revoked = r.into_inner().revoked;
                    format!("revoked {} ({id})", count(revoked, "family", "families"))
                })
                .map_err(err),
        ),
        Cmd::RevokeClient {
            client_id,
            note,
            dry_run,
        } => {
            let result = admin
                .revoke_client_families(proto::RevokeClientFamiliesRequest {
                    client_id,
                    note,
                    dry_run,
                })
                .await;
            revoke_reply(result, dry_run)
        }
        Cmd::RevokeUser {
            username,
            note,
            dry_run,
        } => {
            let result = admin
                .revoke_user_families(proto::RevokeUserFamiliesRequest {
                    username,
                    note,
                    dry_run,
                })
                .await;
            revoke_reply(result, dry_run)
        }
        Cmd::Backfill { after_id } => {
            let request = proto::ListEventsRequest {
                page_size: BACKFILL_PAGE,
                before_id: 0,
                security_only: false,
                ..Default::default()
            };
            Msg::Backfill(
                admin
                    .list_events(request)
                    .await
                    .map(|r| {
                        let mut events: Vec<_> = r
                            .into_inner()
                            .events
                            .into_iter()
                            .filter(|e| e.id > after_id)
                            .collect();
                        events.reverse();
                        events
                    })
                    .map_err(err),
            )
        }
        Cmd::WatchEvents { stream, after_id } => {
            let reason = watch(admin, stream, after_id, sender).await;
            Msg::StreamEnded { stream, reason }
        }
        Cmd::Copy(_) | Cmd::Quit => return None,
    })
}

fn revoke_reply(
    result: Result<tonic::Response<proto::RevokeResponse>, tonic::Status>,
    dry_run: bool,
) -> Msg {
    let result = result.map(|r| r.into_inner()).map_err(err);
    if dry_run {
        Msg::BlastRadius(result)
    } else {
        Msg::Done(
            result.map(|reply| format!("revoked {}", count(reply.revoked, "family", "families"))),
        )
    }
}

/// Forwards stream `stream` as `Msg`s until it ends, fails, or says nothing for
/// `SILENCE_MS`; returns why it stopped.
async fn watch(
    admin: &mut AdminClient,
    stream: u64,
    after_id: i64,
    sender: &UnboundedSender<Msg>,
) -> String {
    let silence = Duration::from_millis(SILENCE_MS);
    // From the start when the history was empty, so nothing committed since is missed.
    let request = proto::WatchEventsRequest {
        after_id,
        from_start: true,
    };
    let mut messages = match tokio::time::timeout(silence, admin.watch_events(request)).await {
        Err(_) => return "the server does not answer".into(),
        Ok(Err(status)) => return err(status).message,
        Ok(Ok(response)) => response.into_inner(),
    };
    loop {
        let message = match tokio::time::timeout(silence, messages.message()).await {
            Err(_) => return format!("no heartbeat from the server for {} s", SILENCE_MS / 1000),
            Ok(Err(status)) => return err(status).message,
            Ok(Ok(None)) => return "the event stream ended".into(),
            Ok(Ok(Some(message))) => message,
        };
        let msg = if message.heartbeat.is_some() {
            Msg::Heartbeat { stream }
        } else {
            Msg::Event {
                stream,
                event: message,
            }
        };
        if sender.send(msg).is_err() {
            return "the console is closing".into();
        }
    }
}
