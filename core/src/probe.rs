//! What one attempt to read a connector's status found: the contract between the status sources
//! (the Data Plane API, Kafka Connect) and the pure status builder.

use crate::crd::HolisticState;
use crate::health::{self, Assessment, ConnectStatus, ServerError};
use std::time::Duration;

/// Which kind of source (the resource types' word, used here for classification).
pub use crate::crd::SourceKind;

/// What a source reported for one connector, before assessment: Kafka Connect's status, and what
/// the Data Plane computed from it when it did (Kafka Connect computes nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Kafka Connect's part.
    pub status: ConnectStatus,
    /// `holistic_state` as sent (an enum name), if any.
    pub holistic_state: Option<String>,
    /// `errors` as sent, if any.
    pub errors: Option<Vec<ServerError>>,
}

impl Report {
    /// Kafka Connect's own status: nothing computed by the server.
    pub fn from_connect(status: ConnectStatus) -> Self {
        Report {
            status,
            holistic_state: None,
            errors: None,
        }
    }

    /// Assess (pure, the one place every source's report goes through): the server's holistic
    /// state and errors when it computed them, else computed by Redpanda's algorithm. The traces
    /// of a healthy connector are dropped: nothing shows them, and fleets are mostly healthy.
    pub fn assess(self) -> Observation {
        let mut status = self.status;
        let assessment = health::assess(
            &status,
            self.holistic_state.as_deref(),
            self.errors.as_deref(),
        );
        if assessment.state == HolisticState::Healthy {
            status.connector.trace = String::new();
            for task in &mut status.tasks {
                task.trace = String::new();
            }
        }
        Observation::Found { status, assessment }
    }
}

/// What a source answered for one connector.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Its status, to be assessed.
    Reported(Report),
    /// No status: why.
    Failed(Failure),
    /// Nothing was asked: the origin is paused for this much longer.
    Deferred(Duration),
}

impl Answer {
    /// The observation: a report assessed, anything else as it is.
    pub fn observe(self) -> Observation {
        match self {
            Answer::Reported(r) => r.assess(),
            Answer::Failed(f) => Observation::Failed(f),
            Answer::Deferred(d) => Observation::Deferred(d),
        }
    }
}

/// The outcome of one probe.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The source answered with the connector's status.
    Found {
        /// Kafka Connect's view of the connector.
        status: ConnectStatus,
        /// Holistic state and errors (from the server or computed).
        assessment: Assessment,
    },
    /// The source could not tell us the connector's status.
    Failed(Failure),
    /// Nothing was asked: the source's server asked every client to pause (`Retry-After`) and
    /// the pause lasts this much longer. Nothing is learned, nothing changes; the resource comes
    /// back when the pause ends instead of holding a reconcile slot through it.
    Deferred(Duration),
}

/// Why a cluster-wide listing gave no statuses.
#[derive(Debug, Clone, PartialEq)]
pub enum ListFailure {
    /// The source has no usable list endpoint (or these credentials may not use it): read each
    /// connector on its own instead.
    Unsupported(String),
    /// The listing failed; the members keep their last known state.
    Failed(Failure),
    /// A page exceeded the response cap (`--max-response-bytes`): smaller pages may fit.
    TooLarge(Failure),
    /// Nothing was asked: the origin is paused for this much longer.
    Deferred(Duration),
}

/// Why a probe did not yield a status, classified by what should happen next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong, as a class.
    pub kind: FailureKind,
    /// For people: what went wrong and what to do. Never contains a credential.
    pub message: String,
    /// When the source asked us to come back (`Retry-After`, quota reset).
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure without a server-requested delay.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// Failure classes. Each has a condition reason; the class decides whether it is a lasting problem
/// (`Stalled=True`, fix needed) or a passing one (keep the last known state, retry with backoff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The connector does not exist in the Connect cluster (yet).
    ConnectorNotFound,
    /// The cluster name is not known to the Data Plane API.
    ClusterNotFound,
    /// Neither the resource nor the operator names a Data Plane URL.
    DataplaneUrlMissing,
    /// The credentials Secret does not exist, or neither the resource nor the operator names one.
    CredentialsNotFound,
    /// The credentials Secret exists but does not hold usable keys.
    CredentialsInvalid,
    /// The token endpoint refused the client id and secret.
    CredentialsRejected,
    /// The Data Plane API refused the token, even a fresh one.
    Unauthenticated,
    /// The token is valid but not allowed to read this connector.
    PermissionDenied,
    /// The Data Plane API refused the request's parameters.
    InvalidArgument,
    /// The Kafka Connect endpoints are not enabled on this cluster.
    FeatureNotConfigured,
    /// The organisation's token quota is spent; tokens are issued again later.
    TokenQuotaExceeded,
    /// The Data Plane API (or the token endpoint) is unreachable, slow, overloaded or failing.
    DataPlaneUnavailable,
    /// The Data Plane API answered with a body we cannot read (malformed or too large).
    InvalidResponse,
    /// The Kafka Connect REST API is unreachable, slow, rebalancing or failing.
    ConnectUnavailable,
    /// A Secret or ConfigMap (key) the spec names, other than the credentials, does not exist.
    ReferenceNotFound,
    /// The resource's own URL is not where the operator-wide credentials may go: it must name
    /// its own Secret.
    CredentialsRequired,
    /// The URL is refused by policy: a credential over plain http, a link-local address.
    UrlNotAllowed,
    /// The ConnectCluster the resource names does not exist.
    ConnectClusterNotFound,
    /// The resource may not use this source: its namespace is outside the ConnectCluster's
    /// `namespaceSelector`, or the operator requires a ConnectCluster and the spec names a URL.
    ConnectClusterRefused,
    /// The resource may read but not change this connector (a `Read` ConnectCluster, a name
    /// outside the namespace's prefix).
    ActionNotAllowed,
    /// Another resource, the older claimant, acts on this connector.
    ConnectorClaimed,
    /// Not sent: no request slot came free in time (slow sources elsewhere, or this namespace
    /// holding its share).
    RequestSlotsBusy,
    /// The Connect cluster has no plugin for the declared `connector.class` (in the declared
    /// `connector.plugin.version`): nothing is put until it has.
    PluginNotFound,
    /// The plugin's own validation refused the declared configuration, naming the fields.
    ConfigInvalid,
}

/// What came with an error answer, as far as classification cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorBody {
    /// The source's own error shape (`google.rpc.Status`, Kafka Connect's `{error_code, message}`).
    Source,
    /// The Data Plane's error saying the Connect cluster does not exist.
    ClusterNotFound,
    /// Anything else (an HTML page from a proxy, nothing): the URL may not be the source at all.
    Foreign,
}

/// The one classification table: an HTTP error answer of `source` -> the failure class. Sources
/// only add their words to the message.
pub fn classify(source: SourceKind, status: u16, body: ErrorBody) -> FailureKind {
    let unavailable = FailureKind::unavailable(source);
    match (status, body) {
        (404, ErrorBody::ClusterNotFound) => FailureKind::ClusterNotFound,
        (404, ErrorBody::Source) => FailureKind::ConnectorNotFound,
        (404, ErrorBody::Foreign) => FailureKind::InvalidResponse,
        (401, _) => FailureKind::Unauthenticated,
        (403, _) => FailureKind::PermissionDenied,
        (501, _) if source == SourceKind::DataPlane => FailureKind::FeatureNotConfigured,
        (300..=399, _) => FailureKind::InvalidResponse,
        (408 | 409 | 425 | 429 | 500..=599, _) => unavailable,
        (400..=499, _) => FailureKind::InvalidArgument,
        _ => unavailable,
    }
}

impl FailureKind {
    /// The passing unavailability of `source`.
    pub fn unavailable(source: SourceKind) -> Self {
        match source {
            SourceKind::DataPlane => FailureKind::DataPlaneUnavailable,
            SourceKind::KafkaConnect => FailureKind::ConnectUnavailable,
        }
    }

    /// Condition reason.
    pub fn reason(self) -> &'static str {
        match self {
            FailureKind::ConnectorNotFound => "ConnectorNotFound",
            FailureKind::ClusterNotFound => "ClusterNotFound",
            FailureKind::DataplaneUrlMissing => "DataplaneURLMissing",
            FailureKind::CredentialsNotFound => "CredentialsNotFound",
            FailureKind::CredentialsInvalid => "CredentialsInvalid",
            FailureKind::CredentialsRejected => "CredentialsRejected",
            FailureKind::Unauthenticated => "Unauthenticated",
            FailureKind::PermissionDenied => "PermissionDenied",
            FailureKind::InvalidArgument => "InvalidArgument",
            FailureKind::FeatureNotConfigured => "FeatureNotConfigured",
            FailureKind::TokenQuotaExceeded => "TokenQuotaExceeded",
            FailureKind::DataPlaneUnavailable => "DataPlaneUnavailable",
            FailureKind::InvalidResponse => "InvalidResponse",
            FailureKind::ConnectUnavailable => "ConnectUnavailable",
            FailureKind::ReferenceNotFound => "ReferenceNotFound",
            FailureKind::CredentialsRequired => "CredentialsRequired",
            FailureKind::UrlNotAllowed => "URLNotAllowed",
            FailureKind::ConnectClusterNotFound => "ConnectClusterNotFound",
            FailureKind::ConnectClusterRefused => "ConnectClusterRefused",
            FailureKind::ActionNotAllowed => "ActionNotAllowed",
            FailureKind::ConnectorClaimed => "ConnectorClaimed",
            FailureKind::RequestSlotsBusy => "RequestSlotsBusy",
            FailureKind::PluginNotFound => "PluginNotFound",
            FailureKind::ConfigInvalid => "ConfigInvalid",
        }
    }

    /// Passing trouble: keep the last known state and retry soon with backoff.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            FailureKind::TokenQuotaExceeded
                | FailureKind::DataPlaneUnavailable
                | FailureKind::InvalidResponse
                | FailureKind::ConnectUnavailable
                | FailureKind::RequestSlotsBusy
        )
    }

    /// Needs a person to change something (spec, Secret, permissions, cluster).
    pub fn needs_attention(self) -> bool {
        !self.is_transient() && self != FailureKind::ConnectorNotFound
    }
}

/// A JSON parse error described by kind and position, never by quoting the body: a tenant may
/// point a URL at a service that is not a source, and its answer must not reach a condition.
/// serde_json quotes every piece of input it names (`invalid type: string "…"`), so a message
/// with a quote in it is replaced by its kind; the parsers' own messages (limits) have none.
pub fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let core = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(core, _)| core);
    let what = if core.contains(['"', '`', '\'']) {
        match e.classify() {
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Eof => "cut short",
            serde_json::error::Category::Data => "not the expected shape",
            serde_json::error::Category::Io => "unreadable",
        }
    } else {
        core
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// Kafka Connect's words for a configuration it will not take. It answers some of them with a
/// 500 (an unknown `connector.class`), and Redpanda's Data Plane passes those on as
/// `500 INTERNAL`: by their status alone they look like an outage, and would be put again and
/// again.
const CONFIG_REFUSALS: &[&str] = &[
    "failed to find any class that implements connector",
    "connector configuration is invalid",
    "contains no connector type",
    "missing required configuration",
    "invalid value",
    "doesn't match connector name in the url",
];

/// A failed configuration write, classified by what the source said (pure): a passing
/// unavailability whose message is Kafka Connect refusing the configuration is a refusal
/// ([`FailureKind::InvalidArgument`]), not an outage; anything else is left as it is.
pub fn config_refusal(f: Failure) -> Failure {
    let passing = matches!(
        f.kind,
        FailureKind::DataPlaneUnavailable | FailureKind::ConnectUnavailable
    );
    let lower = f.message.to_ascii_lowercase();
    if !passing || !CONFIG_REFUSALS.iter().any(|p| lower.contains(p)) {
        return f;
    }
    let detail = f
        .message
        .split_once(" unavailable: ")
        .map_or(f.message.as_str(), |(_, d)| d);
    Failure::new(
        FailureKind::InvalidArgument,
        format!("the configuration was refused: {detail}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_never_quote_the_body() {
        let table: [(&[u8], &str); 5] = [
            (
                br#""internal-only-secret-token""#,
                "not the expected shape at line 1",
            ),
            (br#"{"name": 42}"#, "not the expected shape at line 1"),
            (
                b"<html>internal-only</html>",
                "expected value at line 1 column 1",
            ),
            (br#"{"name": "internal-only"#, "at line 1"),
            (b"", "EOF while parsing a value at line 1 column 0"),
        ];
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Shape {
            name: String,
        }
        for (body, want) in table {
            let e = serde_json::from_slice::<Shape>(body).expect_err("not a Shape");
            let d = describe_json_error(&e);
            assert!(d.contains(want), "{d}");
            assert!(!d.contains("internal-only"), "{d}");
        }
    }

    #[test]
    fn configuration_refusals_are_told_from_outages() {
        use FailureKind::*;
        // As captured from Redpanda's Data Plane in front of Kafka Connect 3.9.1.
        let unknown_class = "Data Plane API unavailable: HTTP 500 INTERNAL: failed to create connector: Failed to find any class that implements Connector and which name matches com.example.DoesNotExist, available connectors are: PluginDesc{...} (500)";
        let table = [
            (DataPlaneUnavailable, unknown_class, InvalidArgument),
            (
                ConnectUnavailable,
                "Kafka Connect unavailable: HTTP 500: Failed to find any class that implements Connector and which name matches x",
                InvalidArgument,
            ),
            (
                ConnectUnavailable,
                "Kafka Connect unavailable: HTTP 500: Connector configuration is invalid and contains the following 1 error(s):",
                InvalidArgument,
            ),
            (
                DataPlaneUnavailable,
                "Data Plane API unavailable: HTTP 500 INTERNAL: dial tcp 127.0.0.1:38083: connect: connection refused",
                DataPlaneUnavailable,
            ),
            (
                DataPlaneUnavailable,
                "Data Plane API unavailable: no answer within 10s",
                DataPlaneUnavailable,
            ),
            // Already a refusal, or not a passing failure: unchanged.
            (
                InvalidArgument,
                "Missing required configuration",
                InvalidArgument,
            ),
            (PermissionDenied, "invalid value", PermissionDenied),
            (InvalidResponse, "invalid value", InvalidResponse),
        ];
        for (kind, message, want) in table {
            let f = config_refusal(Failure::new(kind, message));
            assert_eq!(f.kind, want, "{message}");
            if kind != want {
                assert!(
                    f.message
                        .starts_with("the configuration was refused: HTTP 500"),
                    "{}",
                    f.message
                );
            } else {
                assert_eq!(f.message, message);
            }
        }
    }

    #[test]
    fn one_table_classifies_both_sources() {
        use ErrorBody::*;
        use FailureKind::*;
        use SourceKind::*;
        let table = [
            (DataPlane, 404, Source, ConnectorNotFound),
            (KafkaConnect, 404, Source, ConnectorNotFound),
            (
                DataPlane,
                404,
                ErrorBody::ClusterNotFound,
                FailureKind::ClusterNotFound,
            ),
            (DataPlane, 404, Foreign, InvalidResponse),
            (KafkaConnect, 404, Foreign, InvalidResponse),
            (DataPlane, 400, Source, InvalidArgument),
            (KafkaConnect, 400, Source, InvalidArgument),
            (DataPlane, 401, Source, Unauthenticated),
            (KafkaConnect, 401, Foreign, Unauthenticated),
            (DataPlane, 403, Source, PermissionDenied),
            (DataPlane, 409, Source, DataPlaneUnavailable),
            (KafkaConnect, 409, Source, ConnectUnavailable),
            (DataPlane, 429, Foreign, DataPlaneUnavailable),
            (KafkaConnect, 429, Foreign, ConnectUnavailable),
            (DataPlane, 501, Source, FeatureNotConfigured),
            (KafkaConnect, 501, Source, ConnectUnavailable),
            (DataPlane, 503, Foreign, DataPlaneUnavailable),
            (DataPlane, 302, Foreign, InvalidResponse),
            (KafkaConnect, 307, Foreign, InvalidResponse),
            (DataPlane, 405, Source, InvalidArgument),
            (KafkaConnect, 418, Foreign, InvalidArgument),
            (DataPlane, 204, Foreign, DataPlaneUnavailable),
        ];
        for (source, status, body, want) in table {
            assert_eq!(
                classify(source, status, body),
                want,
                "{source:?} {status} {body:?}"
            );
        }
    }
}
