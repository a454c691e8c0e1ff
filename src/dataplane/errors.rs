//! What a failed Data Plane call was ([`DataplaneError`]) and the failure it becomes: the one
//! classification table of [`crate::probe`] plus the Data Plane's own words.

use super::*;

/// Why a status request failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DataplaneError {
    /// The API answered with an error status.
    #[error("HTTP {status}{}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), if message.is_empty() { String::new() } else { format!(": {message}") })]
    Api {
        /// HTTP status.
        status: u16,
        /// gRPC code name, when the body was a `google.rpc.Status`.
        code: Option<String>,
        /// Message from the body.
        message: String,
        /// `Retry-After` or a spent `ratelimit` header.
        retry_after: Option<Duration>,
        /// Whether the body was a `google.rpc.Status` at all.
        rpc_body: bool,
    },
    /// No answer within the timeout.
    #[error("no answer within {}s", .0.as_secs())]
    Timeout(Duration),
    /// Connection refused, DNS failure, TLS failure, reset...
    #[error("{0}")]
    Transport(String),
    /// The destination is refused by policy.
    #[error("{0}")]
    Refused(String),
    /// Not sent: the server asked every client to pause, for this much longer.
    #[error("the Data Plane API asked for a pause of {}s more", .0.as_secs())]
    Paused(Duration),
    /// No request slot came free in time.
    #[error("{}", crate::http::busy_message(*.0))]
    Busy(Duration),
    /// The body exceeded the cap.
    #[error("the answer exceeded {limit} bytes")]
    BodyTooLarge {
        /// The cap.
        limit: usize,
    },
    /// The body was not a connector status.
    #[error("the answer is not a connector status: {0}")]
    InvalidBody(String),
}

impl DataplaneError {
    /// Label for `managed_connector_requests_total{outcome}`.
    pub fn outcome(&self) -> &'static str {
        match self {
            DataplaneError::Api { status, .. } => http::status_outcome(*status),
            DataplaneError::Timeout(_) => "timeout",
            DataplaneError::Transport(_) => "transport_error",
            DataplaneError::Refused(_) => "refused",
            DataplaneError::Paused(_) => "paused",
            DataplaneError::Busy(_) => "busy",
            DataplaneError::BodyTooLarge { .. } => "too_large",
            DataplaneError::InvalidBody(_) => "invalid_body",
        }
    }

    /// The failure class and a message for people.
    pub fn to_failure(&self, cluster: &str, connector: &str) -> Failure {
        let detail = self.to_string();
        let (kind, message) = match self {
            DataplaneError::Api {
                status,
                message,
                rpc_body,
                ..
            } => {
                let body = match (*rpc_body, is_cluster_not_found(message)) {
                    (true, true) => ErrorBody::ClusterNotFound,
                    (true, false) => ErrorBody::Source,
                    (false, _) => ErrorBody::Foreign,
                };
                let kind = probe::classify(SourceKind::DataPlane, *status, body);
                let message = match kind {
                    FailureKind::ClusterNotFound => format!(
                        "Kafka Connect cluster {cluster:?} does not exist ({detail}); Redpanda Cloud uses \"redpanda\""
                    ),
                    FailureKind::ConnectorNotFound => format!(
                        "connector {connector:?} not found in cluster {cluster:?} ({detail})"
                    ),
                    FailureKind::InvalidResponse if *status == 404 => format!(
                        "{detail} without a Data Plane error body: is the Data Plane URL right?"
                    ),
                    FailureKind::InvalidResponse => {
                        format!("the Data Plane API redirected ({detail}): set the final URL")
                    }
                    FailureKind::InvalidArgument => {
                        format!("the Data Plane API refused the request: {detail}")
                    }
                    FailureKind::Unauthenticated => {
                        format!("the Data Plane API refused the token: {detail}")
                    }
                    FailureKind::PermissionDenied => {
                        format!("the credentials may not read connectors of this cluster: {detail}")
                    }
                    FailureKind::FeatureNotConfigured => {
                        format!("Kafka Connect is not enabled on this cluster: {detail}")
                    }
                    _ => format!("Data Plane API unavailable: {detail}"),
                };
                (kind, message)
            }
            DataplaneError::Refused(message) => (FailureKind::UrlNotAllowed, message.clone()),
            DataplaneError::Busy(_) => (FailureKind::RequestSlotsBusy, detail.clone()),
            DataplaneError::Timeout(_)
            | DataplaneError::Transport(_)
            | DataplaneError::Paused(_) => (
                FailureKind::DataPlaneUnavailable,
                format!("Data Plane API unavailable: {detail}"),
            ),
            DataplaneError::BodyTooLarge { .. } | DataplaneError::InvalidBody(_) => (
                FailureKind::InvalidResponse,
                format!("Data Plane API answered unreadably: {detail}"),
            ),
        };
        Failure {
            kind,
            message,
            retry_after: self.retry_after(),
        }
    }

    /// Delay the server asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DataplaneError::Api { retry_after, .. } => *retry_after,
            DataplaneError::Paused(left) => Some(*left),
            _ => None,
        }
    }
}

/// Tells the two 404s apart. The server says `a client for the given cluster name does not exist`
/// for an unknown cluster and `No status found for connector X (404)` for an unknown connector;
/// the text carries no compatibility promise, so anything that speaks of the cluster and not of a
/// connector counts as a cluster problem and everything else as a missing connector.
pub(super) fn is_cluster_not_found(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("client for the given cluster")
        || (m.contains("cluster") && !m.contains("connector"))
}

/// Why an authorized call gave no answer.
#[derive(Debug)]
pub enum Refusal {
    /// No token (or no request could be built): already a failure.
    Token(Failure),
    /// The API's answer, or no answer.
    Api(DataplaneError),
}

impl Refusal {
    /// The failure for people (a pause is a passing unavailability with its delay).
    pub fn into_failure(self, cluster: &str, connector: &str) -> Failure {
        match self {
            Refusal::Token(f) => f,
            Refusal::Api(e) => e.to_failure(cluster, connector),
        }
    }
}

pub(super) fn interpret_error(fetched: Fetched) -> DataplaneError {
    let rpc = parse_rpc_error(&fetched.body);
    let message = match &rpc {
        Some(r) => r.message.clone(),
        None => http::unquoted(&fetched.body),
    };
    let status = fetched.status.as_u16();
    DataplaneError::Api {
        status,
        code: rpc.as_ref().and_then(|r| r.code.clone()),
        message,
        retry_after: if matches!(status, 409 | 429 | 500..=599) {
            http::retry_after(&fetched.headers)
        } else {
            None
        },
        rpc_body: rpc.is_some(),
    }
}

/// What a refused list request means for a batch group: a listing that failed (members keep
/// their last known state), a pause, or a list this source or these credentials cannot use.
pub fn list_failure(refusal: Refusal, cluster: &str) -> ListFailure {
    match refusal {
        Refusal::Token(f) => ListFailure::Failed(f),
        Refusal::Api(DataplaneError::Paused(left)) => ListFailure::Deferred(left),
        Refusal::Api(e @ DataplaneError::BodyTooLarge { .. }) => {
            ListFailure::TooLarge(e.to_failure(cluster, ""))
        }
        Refusal::Api(e) => {
            let failure = e.to_failure(cluster, "");
            match &e {
                DataplaneError::Api { status, .. }
                    if matches!(status, 403 | 405 | 501)
                        || (*status == 404 && failure.kind != FailureKind::ClusterNotFound) =>
                {
                    ListFailure::Unsupported(e.to_string())
                }
                _ => ListFailure::Failed(failure),
            }
        }
    }
}

impl From<FetchError> for DataplaneError {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::Timeout(d) => DataplaneError::Timeout(d),
            FetchError::Transport(t) => DataplaneError::Transport(t),
            FetchError::Refused(r) => DataplaneError::Refused(r),
            FetchError::Paused(left) => DataplaneError::Paused(left),
            FetchError::BodyTooLarge { limit } => DataplaneError::BodyTooLarge { limit },
            FetchError::Busy(waited) => DataplaneError::Busy(waited),
            FetchError::Fenced => DataplaneError::Transport(crate::http::FENCED.into()),
        }
    }
}
