//! What a dialog says: its target, what the action affects (the server's
//! count for bulk revokes), and what becomes of the old secret in a rotation.

use super::{Action, Dialog};
use crate::view::count;
use gatehouse::model::overlap_text;

impl Dialog {
    /// Lines describing the target and what the action affects.
    pub fn description(&self) -> Vec<String> {
        let mut lines = match &self.action {
            Action::RevokeFamily {
                family_id,
                client_name,
                username,
                scope,
            } => vec![
                format!("family  {family_id}"),
                format!("client  {client_name}"),
                format!("user    {username}"),
                format!("scope   {scope}"),
                match &self.blast {
                    Some(blast) => format!(
                        "Affects 1 family: its {} die at once.",
                        count(blast.tokens, "live token", "live tokens")
                    ),
                    None => "Affects 1 family: counting its live tokens…".into(),
                },
            ],
            Action::RevokeClient {
                client_id,
                client_name,
            } => vec![format!("client  {client_name} ({client_id})")],
            Action::RevokeUser { username } => vec![format!("user    {username}")],
            Action::DisableClient {
                client_id,
                client_name,
                disable,
                active_families,
            } => {
                let mut lines = vec![format!("client  {client_name} ({client_id})")];
                if *disable {
                    lines.push(format!("Revokes its {active_families} active families; token requests fail with invalid_client."));
                } else {
                    lines.push("Enabling brings no revoked token back.".into());
                }
                lines
            }
            Action::RotateSecret {
                client_id,
                client_name,
                ..
            } => vec![
                format!("client  {client_name} ({client_id})"),
                match self.overlap() {
                    Ok(overlap) if overlap.secs() > 0 => format!(
                        "The current secret keeps working for {}, then dies by itself; \
                         the new one is shown once.",
                        overlap_text(overlap.secs())
                    ),
                    _ => "No overlap: the current secret stops working at once (what a \
                          leak needs); the new one is shown once."
                        .into(),
                },
            ],
            Action::DeleteClient {
                client_id,
                client_name,
                active_families,
            } => vec![
                format!("client  {client_name} ({client_id})"),
                format!("Deletes the client and all its families ({active_families} active)."),
            ],
        };
        if self.action.typed_confirmation().is_some() {
            lines.push(match &self.blast {
                None => "Counting what this affects…".into(),
                Some(blast) => {
                    let others = if matches!(self.action, Action::RevokeUser { .. }) {
                        ("client", "clients")
                    } else {
                        ("user", "users")
                    };
                    format!(
                        "Affects {}, {}, {}.",
                        count(blast.revoked, "family", "families"),
                        count(blast.tokens, "live token", "live tokens"),
                        count(blast.principals, others.0, others.1)
                    )
                }
            });
        }
        if !matches!(self.action, Action::DisableClient { disable: false, .. }) {
            lines.push("This cannot be undone.".into());
        }
        lines
    }
}
