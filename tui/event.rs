//! One message type for everything that reaches the console — keys, ticks, and
//! gRPC replies carrying their data — and one command type for what `update`
//! asks the outside world to do.

use crossterm::event::KeyEvent;
use gatehouse::proto;

/// An input to `App::update`.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// Milliseconds since the console started (drives the arming delay and retries).
    Tick(u64),
    Status(Result<proto::Status, RpcError>),
    /// Who the console is signed in as.
    WhoAmI(Result<proto::AdminIdentity, RpcError>),
    /// The history that passes the Events screen's filter, newest first.
    FilteredEvents(Result<Vec<proto::Event>, RpcError>),
    Clients {
        result: Result<proto::ListClientsResponse, RpcError>,
        append: bool,
    },
    Scopes(Result<Vec<proto::Scope>, RpcError>),
    Families(Result<proto::ListFamiliesResponse, RpcError>),
    FamilyDetail(Result<proto::FamilyDetail, RpcError>),
    /// A client was created (with its secret) or updated.
    Saved(Result<(proto::Client, Option<String>), RpcError>),
    SecretRotated(Result<proto::RotateClientSecretResponse, RpcError>),
    /// The live secrets of one client, for its detail panel.
    Secrets {
        client_id: String,
        result: Result<proto::ListClientSecretsResponse, RpcError>,
    },
    /// Counts for a dialog's blast radius (a dry run).
    BlastRadius(Result<proto::RevokeResponse, RpcError>),
    /// A write finished: a toast line, or the error.
    Done(Result<String, RpcError>),
    /// The first page of history, before the stream opens.
    Backfill(Result<Vec<proto::Event>, RpcError>),
    /// An event on stream `stream` (the id `Cmd::WatchEvents` gave it).
    Event {
        stream: u64,
        event: proto::Event,
    },
    /// A heartbeat on stream `stream`: it is open and the server is there. The
    /// first one also says the replay after `after_id` is over.
    Heartbeat {
        stream: u64,
    },
    /// Stream `stream` ended, failed or went silent.
    StreamEnded {
        stream: u64,
        reason: String,
    },
}

/// A failed call, reduced to what the console shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    /// The server could not be reached: the console goes into "connection lost".
    pub unavailable: bool,
    /// For validation errors, the field the server named.
    pub field: Option<String>,
    pub message: String,
}

impl From<tonic::Status> for RpcError {
    fn from(status: tonic::Status) -> Self {
        // The console cancels nothing itself: a cancelled call is a cut connection.
        let unavailable = matches!(
            status.code(),
            tonic::Code::Unavailable
                | tonic::Code::DeadlineExceeded
                | tonic::Code::Unknown
                | tonic::Code::Cancelled
        );
        let message = status.message().to_owned();
        let field = (status.code() == tonic::Code::InvalidArgument)
            .then(|| {
                message
                    .split_once(':')
                    .map(|(field, _)| field.trim().to_owned())
            })
            .flatten();
        RpcError {
            unavailable,
            field,
            message,
        }
    }
}

/// A side effect `update` asks for; `client.rs` runs it and answers with a `Msg`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    LoadStatus,
    WhoAmI,
    /// Events by the Events screen's filter (`ListEvents` with its fields).
    LoadEvents(proto::ListEventsRequest),
    LoadClients {
        filter: String,
        page_token: String,
    },
    LoadScopes,
    LoadFamilies {
        client_id: String,
        username: String,
        active_only: bool,
    },
    LoadFamily(String),
    /// The live tokens of one family, as a blast radius.
    CountFamily(String),
    CreateClient(proto::CreateClientRequest),
    UpdateClient {
        request: proto::UpdateClientRequest,
        disabled: Option<bool>,
    },
    SetClientDisabled {
        id: String,
        disabled: bool,
    },
    RotateSecret {
        id: String,
        /// How long the old secret keeps working (0: it dies at once).
        overlap_secs: i64,
    },
    /// The live secrets of a client (id, times, last use; never the secrets).
    LoadSecrets(String),
    DeleteClient(String),
    RevokeFamily {
        id: String,
        note: String,
    },
    RevokeClient {
        client_id: String,
        note: String,
        dry_run: bool,
    },
    RevokeUser {
        username: String,
        note: String,
        dry_run: bool,
    },
    /// The newest page of events (history up to now).
    Backfill {
        after_id: i64,
    },
    /// Opens event stream number `stream`, resuming after `after_id`.
    WatchEvents {
        stream: u64,
        after_id: i64,
    },
    /// Copy to the terminal's clipboard (OSC 52).
    Copy(String),
    Quit,
}
