//! Client for the Redpanda Cloud Data Plane API's connector status endpoint.
//!
//! Built for how the real service behaves, not only how it is documented
//! (`../shared/reference/dataplane-api.md`): the 200 body comes wrapped (`{"status": {...}}`) or
//! flat; error bodies are `google.rpc.Status` whose `code` is a name or a number; 404 means either
//! an unknown connector or an unknown cluster. Every request has a timeout, a cap on the body it
//! reads, a User-Agent, and passes a global rate limiter and a concurrency bound shared by all
//! reconciles, so a cold start with thousands of resources does not stampede the API.

pub mod auth;
pub mod list;

use crate::health::{self, ServerError};
use crate::http::{self, FetchError, Fetched, Gate};
use crate::manage::declared::{Actual, parse_actual};
use crate::metrics::Metrics;
use crate::policy::display_url;
use crate::probe::{self, ErrorBody, Failure, FailureKind, ListFailure, Report};
use crate::resolve::SourceKind;
use crate::resolve::{Source, Target};
use crate::source::{Command, Page, StatusSource, Wanted, wrong_source};
use auth::{Credentials, TokenCache};
use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

pub use crate::http::ClientConfig;

/// A connector's status as the Data Plane API answers it.
pub type StatusResponse = Report;

/// Server-parsed errors kept from one answer; the status lists far fewer.
const MAX_SERVER_ERRORS: usize = 100;

/// Parses a 200 body in either shape: `{"status": ConnectorStatus}` (the v1 server) or a flat
/// `ConnectorStatus` (the documents, and v1alpha2). Read as it streams in: tasks beyond
/// [`health::MAX_LISTED_TASKS`] are only counted and server errors beyond a hundred skipped, so no
/// answer costs more than its bytes and a bounded number of objects.
pub fn parse_status_body(body: &[u8]) -> Result<StatusResponse, String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let answer = Answer::deserialize(&mut de).map_err(|e| probe::describe_json_error(&e))?;
    de.end().map_err(|e| probe::describe_json_error(&e))?;
    Ok(answer.into_response())
}

/// One level of a status answer; `wrapped` is what its `status` key held, when an object.
#[derive(Default)]
pub(crate) struct Answer {
    fields: health::StatusFields,
    holistic_state: Option<String>,
    errors: Option<Vec<ServerError>>,
    wrapped: Option<Box<Answer>>,
}

impl Answer {
    pub(crate) fn into_response(self) -> StatusResponse {
        match self.wrapped {
            Some(inner) => inner.into_response(),
            None => StatusResponse {
                status: self.fields.status,
                holistic_state: self.holistic_state,
                errors: self.errors,
            },
        }
    }
}

impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AnswerVisitor)
    }
}

struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = Answer;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Answer, A::Error> {
        let mut answer = Answer::default();
        while let Some(key) = map.next_key::<String>()? {
            if answer.fields.read(&key, &mut map)? {
                continue;
            }
            match key.as_str() {
                "holistic_state" => answer.holistic_state = map.next_value()?,
                "errors" => {
                    answer.errors = map
                        .next_value::<Option<Capped<ServerError, MAX_SERVER_ERRORS>>>()?
                        .map(|c| c.0)
                }
                "status" => answer.wrapped = map.next_value::<ObjectOrNot>()?.0.map(Box::new),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(answer)
    }
}

/// The value of `status`: an answer when it is an object, nothing otherwise.
pub(crate) struct ObjectOrNot(pub(crate) Option<Answer>);

impl<'de> Deserialize<'de> for ObjectOrNot {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Any;
        impl<'de> Visitor<'de> for Any {
            type Value = ObjectOrNot;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ObjectOrNot, A::Error> {
                AnswerVisitor.visit_map(map).map(|a| ObjectOrNot(Some(a)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ObjectOrNot, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ObjectOrNot(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
            fn visit_unit<E>(self) -> Result<ObjectOrNot, E> {
                Ok(ObjectOrNot(None))
            }
        }
        d.deserialize_any(Any)
    }
}

/// The first `N` elements of a list; the rest are read past without being kept.
struct Capped<T, const N: usize>(Vec<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Capped<T, N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List<T, const N: usize>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for List<T, N> {
            type Value = Capped<T, N>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Capped<T, N>, A::Error> {
                let mut kept = Vec::new();
                while kept.len() < N {
                    match seq.next_element()? {
                        Some(item) => kept.push(item),
                        None => return Ok(Capped(kept)),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Capped(kept))
            }
        }
        d.deserialize_seq(List(std::marker::PhantomData))
    }
}

/// A `google.rpc.Status` error body, read leniently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpcError {
    /// The code's name (`NOT_FOUND`), whether it came as a name or a number.
    pub code: Option<String>,
    /// The message.
    pub message: String,
    /// `reason` of a `google.rpc.ErrorInfo` detail.
    pub reason: Option<String>,
}

/// gRPC code numbers and their names (google/rpc/code.proto).
const RPC_CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// Parses a `google.rpc.Status` body; `None` when the body is not one (an HTML error page, or
/// any other JSON: only the API's own shape, a `code` as a name or number and a `message` string,
/// is quoted into conditions).
pub fn parse_rpc_error(body: &[u8]) -> Option<RpcError> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    let code_ok = matches!(
        obj.get("code"),
        Some(serde_json::Value::String(_) | serde_json::Value::Number(_))
    );
    if !code_ok || !obj.get("message").is_some_and(serde_json::Value::is_string) {
        return None;
    }
    let code = match obj.get("code") {
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .and_then(|n| RPC_CODES.get(n as usize))
            .map(|s| s.to_string()),
        Some(serde_json::Value::String(s)) => match s.parse::<usize>() {
            Ok(n) => RPC_CODES.get(n).map(|s| s.to_string()),
            Err(_) => Some(s.to_uppercase()),
        },
        _ => None,
    };
    let reason = obj
        .get("details")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
        .find(|d| {
            d.get("@type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t.rsplit('/').next() == Some("google.rpc.ErrorInfo"))
        })
        .and_then(|d| d.get("reason"))
        .and_then(|r| r.as_str())
        .map(str::to_string);
    Some(RpcError {
        code,
        message: obj
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_string(),
        reason,
    })
}

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
fn is_cluster_not_found(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("client for the given cluster")
        || (m.contains("cluster") && !m.contains("connector"))
}

/// The status endpoint's URL: the base URL (which may carry a path prefix) plus
/// `v1/kafka-connect/clusters/{cluster}/connectors/{name}/status`, each segment percent-encoded.
pub fn status_url(base: &Url, cluster: &str, connector: &str) -> Result<Url, String> {
    connector_url(base, cluster, connector, Some("status"))
}

/// `v1/kafka-connect/clusters/{cluster}/connectors/{name}` plus `tail` (`status`, `config`,
/// `pause`, ...), under the base URL, each segment percent-encoded.
pub fn connector_url(
    base: &Url,
    cluster: &str,
    connector: &str,
    tail: Option<&str>,
) -> Result<Url, String> {
    let mut segments = vec![
        "v1",
        "kafka-connect",
        "clusters",
        cluster,
        "connectors",
        connector,
    ];
    segments.extend(tail);
    http::endpoint_url(base, &segments, &[])
}

/// The shared Data Plane client: one HTTP connection pool and one token cache; every request
/// passes the operator-wide [`Gate`].
pub struct DataplaneClient {
    http: reqwest::Client,
    config: ClientConfig,
    gate: Arc<Gate>,
    tokens: TokenCache,
    metrics: Metrics,
}

impl DataplaneClient {
    /// A client that shares `gate` with other sources.
    pub fn with_gate(
        config: ClientConfig,
        gate: Arc<Gate>,
        metrics: Metrics,
    ) -> Result<Self, reqwest::Error> {
        let http = http::client(config.request_timeout, &[], config.allow_link_local)?;
        Ok(DataplaneClient {
            tokens: TokenCache::new(
                http.clone(),
                gate.clone(),
                config.request_timeout,
                metrics.clone(),
                config.min_token_interval,
            ),
            http,
            config,
            gate,
            metrics,
        })
    }

    /// Reads one connector's status; a 401 gets one fresh token and one retry.
    pub async fn probe(
        &self,
        base: &Url,
        cluster: &str,
        connector: &str,
        creds: &Credentials,
    ) -> probe::Answer {
        let url = match status_url(base, cluster, connector) {
            Ok(u) => u,
            Err(e) => {
                return probe::Answer::Failed(Failure::new(FailureKind::DataplaneUrlMissing, e));
            }
        };
        match self
            .authorized(creds, &url, |token| {
                self.get(&url, token, "status", parse_status_body)
            })
            .await
        {
            Ok(r) => probe::Answer::Reported(r),
            Err(Refusal::Api(DataplaneError::Paused(left))) => probe::Answer::Deferred(left),
            Err(refusal) => probe::Answer::Failed(refusal.into_failure(cluster, connector)),
        }
    }

    /// Reads one page of the cluster's connector list (`page_token` from the previous page),
    /// keeping the entries `wanted` accepts.
    pub async fn list_page(
        &self,
        base: &Url,
        cluster: &str,
        creds: &Credentials,
        page_size: u32,
        page_token: Option<&str>,
        wanted: Wanted<'_>,
    ) -> Result<list::ListPage, Refusal> {
        let url = list::list_url(base, cluster, page_size, page_token)
            .map_err(|e| Refusal::Token(Failure::new(FailureKind::DataplaneUrlMissing, e)))?;
        self.authorized(creds, &url, |token| {
            self.get(&url, token, "list", |body| {
                list::parse_list_page(body, wanted)
            })
        })
        .await
    }

    /// Runs `call` with the credential set's token; a 401 invalidates the token and, for client
    /// credentials, retries once with a fresh one (the token cache decides whether one may be
    /// fetched yet).
    async fn authorized<'a, T, F, Fut>(
        &'a self,
        creds: &'a Credentials,
        url: &Url,
        call: F,
    ) -> Result<T, Refusal>
    where
        F: Fn(auth::BearerToken) -> Fut,
        Fut: std::future::Future<Output = Result<T, DataplaneError>>,
    {
        let mut retried = false;
        loop {
            let token = self.tokens.token(creds).await.map_err(Refusal::Token)?;
            let answer = call(token.clone()).await;
            let token_accepted = match &answer {
                Ok(_) => true,
                Err(DataplaneError::Api { status, .. }) => *status != 401,
                Err(_) => false,
            };
            if token_accepted {
                self.tokens.accepted(creds).await;
            }
            match answer {
                Ok(t) => return Ok(t),
                Err(DataplaneError::Api { status: 401, .. })
                    if !retried && matches!(creds, Credentials::ClientCredentials { .. }) =>
                {
                    tracing::info!(url = %display_url(url), "Data Plane API answered 401; refreshing the token once");
                    self.tokens.invalidate(creds, &token).await;
                    retried = true;
                }
                Err(e) => {
                    if let DataplaneError::Api { status: 401, .. } = e {
                        // A fresh token refused too: count it, so the next one waits longer.
                        self.tokens.invalidate(creds, &token).await;
                    }
                    return Err(Refusal::Api(e));
                }
            }
        }
    }

    /// One GET through the gate; a 200 body is read by `parse`.
    async fn get<T>(
        &self,
        url: &Url,
        token: auth::BearerToken,
        endpoint: &'static str,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, DataplaneError> {
        self.send(reqwest::Method::GET, url, token, endpoint, None, parse)
            .await
    }

    /// One request through the gate. A GET succeeds with 200 (its body read by `parse`), a write
    /// with any 2xx.
    async fn send<T>(
        &self,
        method: reqwest::Method,
        url: &Url,
        token: auth::BearerToken,
        endpoint: &'static str,
        body: Option<&serde_json::Value>,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, DataplaneError> {
        let started = Instant::now();
        let read = method == reqwest::Method::GET;
        let mut request = self
            .http
            .request(method, url.clone())
            .bearer_auth(token.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let result = match self
            .gate
            .fetch(
                request,
                url,
                self.config.max_response_bytes,
                self.config.request_timeout,
            )
            .await
        {
            Ok(fetched)
                if fetched.status == StatusCode::OK || (!read && fetched.status.is_success()) =>
            {
                parse(&fetched.body).map_err(DataplaneError::InvalidBody)
            }
            Ok(fetched) => Err(interpret_error(fetched)),
            Err(e) => Err(e.into()),
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.outcome(),
        };
        self.metrics
            .request("dataplane", endpoint, outcome, started.elapsed());
        result
    }
}

/// The Data Plane's configuration reads and commands.
impl DataplaneClient {
    fn target_of(target: &Target) -> Result<(&Url, &Credentials), Failure> {
        match &target.source {
            Source::DataPlane { url, credentials } => Ok((url, credentials)),
            _ => Err(wrong_source("Data Plane")),
        }
    }

    /// The connector's configuration (`GET .../config`); `None` when it does not exist.
    pub async fn read_config(
        &self,
        base: &Url,
        cluster: &str,
        connector: &str,
        creds: &Credentials,
    ) -> Result<Option<Actual>, Failure> {
        let url = connector_url(base, cluster, connector, Some("config"))
            .map_err(|e| Failure::new(FailureKind::DataplaneUrlMissing, e))?;
        let result = self
            .authorized(creds, &url, |token| {
                self.get(&url, token, "config", parse_actual)
            })
            .await;
        match result {
            Ok(actual) => Ok(Some(actual)),
            Err(refusal) => match refusal.into_failure(cluster, connector) {
                f if f.kind == FailureKind::ConnectorNotFound => Ok(None),
                f => Err(f),
            },
        }
    }

    /// Sends one command (see [`Command`] for what each does on the Data Plane).
    pub async fn send_command(
        &self,
        base: &Url,
        cluster: &str,
        connector: &str,
        creds: &Credentials,
        command: &Command,
    ) -> Result<(), Failure> {
        use reqwest::Method;
        let (method, tail, body) = match command {
            Command::PutConfig(config) => (
                Method::PUT,
                Some("config"),
                Some(serde_json::Value::Object(config.0.clone())),
            ),
            Command::Pause => (Method::PUT, Some("pause"), None),
            Command::Resume => (Method::PUT, Some("resume"), None),
            Command::Stop => (Method::PUT, Some("stop"), None),
            // No single-task restart in the v1 API: the failed instances are restarted.
            Command::Restart { .. } | Command::RestartTask(_) => (
                Method::POST,
                Some("restart"),
                Some(serde_json::json!({
                    "include_tasks": true,
                    "only_failed": !matches!(command, Command::Restart { only_failed: false }),
                })),
            ),
            Command::Delete => (Method::DELETE, None, None),
        };
        let url = connector_url(base, cluster, connector, tail)
            .map_err(|e| Failure::new(FailureKind::DataplaneUrlMissing, e))?;
        let result = self
            .authorized(creds, &url, |token| {
                self.send(
                    method.clone(),
                    &url,
                    token,
                    command.verb(),
                    body.as_ref(),
                    |_| Ok(()),
                )
            })
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(refusal) => match refusal.into_failure(cluster, connector) {
                f if f.kind == FailureKind::ConnectorNotFound && *command == Command::Delete => {
                    Ok(())
                }
                f => Err(f),
            },
        }
    }
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

fn interpret_error(fetched: Fetched) -> DataplaneError {
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

impl StatusSource for DataplaneClient {
    fn one<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, probe::Answer> {
        async move {
            match &target.source {
                Source::DataPlane { url, credentials } => {
                    self.probe(url, &target.cluster, &target.connector, credentials)
                        .await
                }
                _ => probe::Answer::Failed(wrong_source("Data Plane")),
            }
        }
        .boxed()
    }

    fn page<'a>(
        &'a self,
        target: &'a Target,
        page_size: u32,
        token: Option<&'a str>,
        wanted: Wanted<'a>,
    ) -> BoxFuture<'a, Result<Page, ListFailure>> {
        async move {
            let Source::DataPlane { url, credentials } = &target.source else {
                return Err(ListFailure::Failed(wrong_source("Data Plane")));
            };
            let page = self
                .list_page(url, &target.cluster, credentials, page_size, token, wanted)
                .await
                .map_err(|r| list_failure(r, &target.cluster))?;
            Ok(Page {
                reports: page.entries,
                unstated: page.unstated,
                next: page.next_page_token,
            })
        }
        .boxed()
    }

    fn config<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Option<Actual>, Failure>> {
        async move {
            let (url, credentials) = Self::target_of(target)?;
            self.read_config(url, &target.cluster, &target.connector, credentials)
                .await
        }
        .boxed()
    }

    fn command<'a>(
        &'a self,
        target: &'a Target,
        command: &'a Command,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        async move {
            let (url, credentials) = Self::target_of(target)?;
            self.send_command(
                url,
                &target.cluster,
                &target.connector,
                credentials,
                command,
            )
            .await
        }
        .boxed()
    }
}

/// What a refused list request means for a batch group: a listing that failed (members keep
/// their last known state), a pause, or a list this source or these credentials cannot use.
pub fn list_failure(refusal: Refusal, cluster: &str) -> ListFailure {
    match refusal {
        Refusal::Token(f) => ListFailure::Failed(f),
        Refusal::Api(DataplaneError::Paused(left)) => ListFailure::Deferred(left),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::HolisticState;

    #[test]
    fn both_body_shapes_parse_the_same() {
        let flat = r#"{"name":"orders","connector":{"state":"RUNNING","worker_id":"w:8083","trace":""},
            "tasks":[{"id":0,"state":"RUNNING","worker_id":"w:8083","trace":""}],"type":"sink",
            "holistic_state":"CONNECTOR_HOLISTIC_STATE_HEALTHY","errors":[],"unknown_field":{"x":1}}"#;
        let wrapped = format!(r#"{{"status":{flat}}}"#);
        let a = parse_status_body(flat.as_bytes()).expect("flat");
        let b = parse_status_body(wrapped.as_bytes()).expect("wrapped");
        assert_eq!(a, b);
        assert_eq!(a.status.name, "orders");
        assert_eq!(
            a.holistic_state.as_deref(),
            Some("CONNECTOR_HOLISTIC_STATE_HEALTHY")
        );
        assert_eq!(a.errors, Some(vec![]));
        let assessed = health::assess(&a.status, a.holistic_state.as_deref(), a.errors.as_deref());
        assert_eq!(assessed.state, HolisticState::Healthy);
    }

    #[test]
    fn absent_extras_and_bad_bodies() {
        let r = parse_status_body(
            br#"{"name":"x","connector":{"state":"FAILED"},"tasks":[],"type":"source"}"#,
        )
        .unwrap();
        assert_eq!(r.holistic_state, None);
        assert_eq!(r.errors, None);
        assert!(parse_status_body(b"{not json").is_err());
        assert!(parse_status_body(b"[1,2]").is_err());
        assert!(parse_status_body(br#"{"tasks":"nope"}"#).is_err());
    }

    #[test]
    fn rpc_error_codes_as_names_or_numbers() {
        let by_name = parse_rpc_error(br#"{"code":"NOT_FOUND","message":"No status found for connector x (404)","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_KAFKA_CONNECT_API_ERROR","domain":"redpanda.com/dataplane"}]}"#).unwrap();
        assert_eq!(by_name.code.as_deref(), Some("NOT_FOUND"));
        assert_eq!(
            by_name.reason.as_deref(),
            Some("REASON_KAFKA_CONNECT_API_ERROR")
        );
        let by_number = parse_rpc_error(br#"{"code":5,"message":"m","details":[{"@type":"google.rpc.ErrorInfo","reason":"R"}]}"#).unwrap();
        assert_eq!(by_number.code.as_deref(), Some("NOT_FOUND"));
        assert_eq!(by_number.reason.as_deref(), Some("R"));
        let by_numeric_string =
            parse_rpc_error(br#"{"code":"16","message":"Bearer token is not present"}"#).unwrap();
        assert_eq!(by_numeric_string.code.as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!(parse_rpc_error(b"<html>502 Bad Gateway</html>"), None);
        assert_eq!(parse_rpc_error(br#"{"other":1}"#), None);
        // Only the API's own shape is quoted: any JSON with a `message` is not it.
        for foreign in [
            &br#"{"message":"internal-only"}"#[..],
            br#"{"code":"X","message":{"internal":"only"}}"#,
            br#"{"code":null,"message":"internal-only"}"#,
            br#""internal-only""#,
        ] {
            assert_eq!(parse_rpc_error(foreign), None, "{foreign:?}");
        }
    }

    fn api(status: u16, message: &str, rpc_body: bool) -> DataplaneError {
        DataplaneError::Api {
            status,
            code: None,
            message: message.into(),
            retry_after: None,
            rpc_body,
        }
    }

    #[test]
    fn failures_are_classified() {
        let table = [
            (
                api(404, "No status found for connector x (404)", true),
                FailureKind::ConnectorNotFound,
            ),
            (
                api(
                    404,
                    "a client for the given cluster name does not exist",
                    true,
                ),
                FailureKind::ClusterNotFound,
            ),
            (
                api(404, "<html>not found</html>", false),
                FailureKind::InvalidResponse,
            ),
            (
                api(400, "provided parameters are invalid", true),
                FailureKind::InvalidArgument,
            ),
            (
                api(401, "Bearer token is not present", true),
                FailureKind::Unauthenticated,
            ),
            (api(403, "", true), FailureKind::PermissionDenied),
            (
                api(409, "rebalance", true),
                FailureKind::DataPlaneUnavailable,
            ),
            (
                api(429, "slow down", false),
                FailureKind::DataPlaneUnavailable,
            ),
            (api(500, "", true), FailureKind::DataPlaneUnavailable),
            (api(501, "", true), FailureKind::FeatureNotConfigured),
            (api(503, "", false), FailureKind::DataPlaneUnavailable),
            (api(302, "", false), FailureKind::InvalidResponse),
            (
                DataplaneError::Timeout(Duration::from_secs(10)),
                FailureKind::DataPlaneUnavailable,
            ),
            (
                DataplaneError::Transport("connection refused".into()),
                FailureKind::DataPlaneUnavailable,
            ),
            (
                DataplaneError::BodyTooLarge { limit: 10 },
                FailureKind::InvalidResponse,
            ),
            (
                DataplaneError::InvalidBody("eof".into()),
                FailureKind::InvalidResponse,
            ),
        ];
        for (err, kind) in table {
            assert_eq!(err.to_failure("redpanda", "x").kind, kind, "{err}");
        }
    }

    #[test]
    fn path_segments_are_percent_encoded_under_a_base_path() {
        let base = Url::parse("https://api.example.com/prefix/").unwrap();
        let u = status_url(&base, "redpanda", "a/b c?d#e%").unwrap();
        assert_eq!(
            u.as_str(),
            "https://api.example.com/prefix/v1/kafka-connect/clusters/redpanda/connectors/a%2Fb%20c%3Fd%23e%25/status"
        );
        let bare = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            status_url(&bare, "redpanda", "orders").unwrap().path(),
            "/v1/kafka-connect/clusters/redpanda/connectors/orders/status"
        );
    }

    #[test]
    fn list_refusals_map_to_fallback_or_failure() {
        let api = |status: u16, message: &str, rpc_body: bool| {
            Refusal::Api(DataplaneError::Api {
                status,
                code: None,
                message: message.into(),
                retry_after: None,
                rpc_body,
            })
        };
        assert!(matches!(
            list_failure(api(501, "", true), "c"),
            ListFailure::Unsupported(_)
        ));
        assert!(matches!(
            list_failure(api(403, "", true), "c"),
            ListFailure::Unsupported(_)
        ));
        assert!(matches!(
            list_failure(api(404, "<html>", false), "c"),
            ListFailure::Unsupported(_)
        ));
        match list_failure(
            api(
                404,
                "a client for the given cluster name does not exist",
                true,
            ),
            "c",
        ) {
            ListFailure::Failed(f) => assert_eq!(f.kind, FailureKind::ClusterNotFound),
            other => panic!("{other:?}"),
        }
        match list_failure(api(503, "", false), "c") {
            ListFailure::Failed(f) => assert_eq!(f.kind, FailureKind::DataPlaneUnavailable),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            list_failure(
                Refusal::Api(DataplaneError::Paused(Duration::from_secs(3))),
                "c"
            ),
            ListFailure::Deferred(_)
        ));
    }
}
