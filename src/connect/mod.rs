//! Client for a self-hosted Kafka Connect REST API (`GET /connectors/{name}/status`), the second
//! status source. Kafka Connect computes no holistic state and parses no errors, so the operator
//! applies exactly the Data Plane's algorithm ([`crate::health::assess`]) and a connector looks the
//! same through either source. Requests pass the same [`Gate`] as the Data Plane's.

use crate::health::ConnectStatus;
use crate::http::{self, FetchError, Gate};
use crate::manage::declared::ConfigBody;
use crate::manage::declared::{Actual, parse_actual};
use crate::manage::offsets::{self, Offsets};
use crate::manage::preflight::{self, FieldErrors, Plugin};
use crate::metrics::Metrics;
use crate::policy::UrlPolicy;
use crate::probe::{self, Answer, ErrorBody, Failure, FailureKind, ListFailure, Report};
use crate::resolve::{Source, SourceKind, Target};
use crate::source::{Command, Page, StatusSource, Wanted, wrong_source};
use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::Deserializer as _;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

pub use crate::credentials::ConnectAuth;

mod wire;

pub use wire::*;

/// Connection pools kept for distinct CA bundles.
const MAX_CA_CLIENTS: usize = 64;

/// Reads connector status from Kafka Connect REST APIs.
pub struct ConnectClient {
    gate: Arc<Gate>,
    timeout: Duration,
    max_response_bytes: usize,
    allow_link_local: bool,
    metrics: Metrics,
    hasher: RandomState,
    /// One connection pool per set of extra trusted CAs (most resources share none).
    clients: Mutex<HashMap<u64, (reqwest::Client, Instant)>>,
}

impl ConnectClient {
    /// A client that shares `gate` with the Data Plane client.
    pub fn new(
        gate: Arc<Gate>,
        config: &crate::http::ClientConfig,
        policy: &UrlPolicy,
        metrics: Metrics,
    ) -> Self {
        ConnectClient {
            gate,
            timeout: config.request_timeout,
            max_response_bytes: config.max_response_bytes,
            allow_link_local: policy.allows_link_local(),
            metrics,
            hasher: RandomState::new(),
            clients: Mutex::default(),
        }
    }

    fn client(&self, ca_pem: Option<&[u8]>) -> Result<reqwest::Client, Failure> {
        let key = ca_pem.map(|pem| self.hasher.hash_one(pem)).unwrap_or(0);
        if let Some((c, used)) = self
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&key)
        {
            *used = Instant::now();
            return Ok(c.clone());
        }
        let roots = match ca_pem {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem)
                .ok()
                .filter(|certs| !certs.is_empty())
                .ok_or_else(|| {
                    Failure::new(
                        FailureKind::InvalidArgument,
                        "the CA of spec.kafkaConnect.ca holds no PEM certificate",
                    )
                })?,
            None => Vec::new(),
        };
        let client = http::client(self.timeout, &roots, self.allow_link_local).map_err(|e| {
            Failure::new(
                FailureKind::InvalidArgument,
                format!(
                    "cannot use the CA certificate: {}",
                    http::describe_error(&e)
                ),
            )
        })?;
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        // One connection pool per distinct CA bundle, a bounded number of them: tenants choose
        // how many bundles there are. Beyond the bound the least recently used pool goes, not
        // every pool (one tenant's many bundles would otherwise rebuild everyone's).
        if clients.len() >= MAX_CA_CLIENTS
            && let Some(oldest) = clients
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k)
        {
            clients.remove(&oldest);
        }
        clients.insert(key, (client.clone(), Instant::now()));
        Ok(client)
    }

    /// Reads one connector's status.
    pub async fn probe(
        &self,
        base: &Url,
        connector: &str,
        auth: &ConnectAuth,
        ca_pem: Option<&[u8]>,
    ) -> Answer {
        let url = match endpoint_url(base, &["connectors", connector, "status"], &[]) {
            Ok(u) => u,
            Err(f) => return Answer::Failed(f),
        };
        let parsed = self
            .get(&url, auth, ca_pem, "status", |body| {
                serde_json::from_slice::<ConnectStatus>(body).map_err(|e| {
                    format!("not a connector status: {}", probe::describe_json_error(&e))
                })
            })
            .await;
        match parsed {
            Ok(status) => Answer::Reported(Report::from_connect(status)),
            Err(Got::Deferred(left)) => Answer::Deferred(left),
            Err(got) => Answer::Failed(got.into_failure(connector)),
        }
    }

    /// Every connector's status in one request (`GET /connectors?expand=status`), keeping those
    /// `wanted` accepts.
    pub async fn list(
        &self,
        base: &Url,
        auth: &ConnectAuth,
        ca_pem: Option<&[u8]>,
        wanted: Wanted<'_>,
    ) -> Result<Vec<(String, Option<ConnectStatus>)>, ListFailure> {
        let url = endpoint_url(base, &["connectors"], &[("expand", "status")])
            .map_err(ListFailure::Failed)?;
        match self
            .get(&url, auth, ca_pem, "list", |body| {
                parse_expanded_list(body, wanted)
            })
            .await
        {
            Ok(entries) => Ok(entries),
            Err(Got::Deferred(left)) => Err(ListFailure::Deferred(left)),
            Err(Got::Answered { status, body, .. }) if matches!(status, 403..=405 | 501) => {
                Err(ListFailure::Unsupported(format!(
                    "Kafka Connect answered the connector list with HTTP {status}: {}",
                    http::unquoted(&body)
                )))
            }
            Err(got) => Err(ListFailure::Failed(got.into_failure(""))),
        }
    }

    /// One GET through the gate; a 200 body is read by `parse`, anything else is handed back.
    async fn get<T>(
        &self,
        url: &Url,
        auth: &ConnectAuth,
        ca_pem: Option<&[u8]>,
        endpoint: &'static str,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, Got> {
        self.send(Method::GET, url, auth, ca_pem, endpoint, None, parse)
            .await
    }

    /// The connector's configuration (`GET /connectors/{c}/config`); `None` when it does not
    /// exist.
    pub async fn read_config(
        &self,
        base: &Url,
        connector: &str,
        auth: &ConnectAuth,
        ca_pem: Option<&[u8]>,
    ) -> Result<Option<Actual>, Failure> {
        let url = endpoint_url(base, &["connectors", connector, "config"], &[])?;
        match self.get(&url, auth, ca_pem, "config", parse_actual).await {
            Ok(actual) => Ok(Some(actual)),
            Err(got) => match got.into_failure(connector) {
                f if f.kind == FailureKind::ConnectorNotFound => Ok(None),
                f => Err(f),
            },
        }
    }

    /// The worker's connector plugins (`GET /connector-plugins`).
    pub async fn read_plugins(
        &self,
        base: &Url,
        auth: &ConnectAuth,
        ca_pem: Option<&[u8]>,
    ) -> Result<Vec<Plugin>, Failure> {
        let url = endpoint_url(base, &["connector-plugins"], &[])?;
        self.get(&url, auth, ca_pem, "plugins", preflight::parse_plugins)
            .await
            .map_err(|got| got.into_failure(""))
    }

    /// The connector's topics (`GET /connectors/{c}/topics`).
    pub async fn read_topics(
        &self,
        base: &Url,
        connector: &str,
        auth: &ConnectAuth,
        ca_pem: Option<&[u8]>,
    ) -> Result<Vec<String>, Failure> {
        let url = endpoint_url(base, &["connectors", connector, "topics"], &[])?;
        self.get(&url, auth, ca_pem, "topics", crate::status::parse_topics)
            .await
            .map_err(|got| got.into_failure(connector))
    }

    /// The connector's offsets (`GET /connectors/{c}/offsets`, KIP-875), checked and bounded.
    pub async fn read_offsets(
        &self,
        base: &Url,
        connector: &str,
        auth: &ConnectAuth,
        ca_pem: Option<&[u8]>,
    ) -> Result<Offsets, Failure> {
        let url = endpoint_url(base, &["connectors", connector, "offsets"], &[])?;
        self.get(&url, auth, ca_pem, "offsets", offsets::parse)
            .await
            .map_err(|got| got.into_failure(connector))
    }

    /// The plugin's validation of `config`
    /// (`PUT /connector-plugins/{class}/config/validate`): the fields with errors.
    pub async fn validate_config(
        &self,
        base: &Url,
        auth: &ConnectAuth,
        ca_pem: Option<&[u8]>,
        config: &ConfigBody,
    ) -> Result<Vec<FieldErrors>, Failure> {
        let class = config
            .0
            .get(preflight::CLASS_KEY)
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let url = endpoint_url(
            base,
            &["connector-plugins", class, "config", "validate"],
            &[],
        )?;
        let body = serde_json::Value::Object(config.0.clone());
        self.send(
            Method::PUT,
            &url,
            auth,
            ca_pem,
            "validate",
            Some(&body),
            preflight::parse_validation,
        )
        .await
        .map_err(|got| got.into_failure(""))
    }

    /// Sends one command with Kafka Connect's REST API.
    pub async fn send_command(
        &self,
        base: &Url,
        connector: &str,
        auth: &ConnectAuth,
        ca_pem: Option<&[u8]>,
        command: &Command,
    ) -> Result<(), Failure> {
        let task;
        let (method, segments, query, body): (Method, Vec<&str>, Vec<(&str, &str)>, _) =
            match command {
                Command::PutConfig(config) => (
                    Method::PUT,
                    vec!["connectors", connector, "config"],
                    vec![],
                    Some(serde_json::Value::Object(config.0.clone())),
                ),
                Command::Pause => (
                    Method::PUT,
                    vec!["connectors", connector, "pause"],
                    vec![],
                    None,
                ),
                Command::Resume => (
                    Method::PUT,
                    vec!["connectors", connector, "resume"],
                    vec![],
                    None,
                ),
                Command::Stop => (
                    Method::PUT,
                    vec!["connectors", connector, "stop"],
                    vec![],
                    None,
                ),
                Command::Restart { only_failed } => (
                    Method::POST,
                    vec!["connectors", connector, "restart"],
                    vec![
                        ("includeTasks", "true"),
                        ("onlyFailed", if *only_failed { "true" } else { "false" }),
                    ],
                    None,
                ),
                Command::RestartTask(id) => {
                    task = id.to_string();
                    (
                        Method::POST,
                        vec!["connectors", connector, "tasks", task.as_str(), "restart"],
                        vec![],
                        None,
                    )
                }
                Command::AlterOffsets(body) => (
                    Method::PATCH,
                    vec!["connectors", connector, "offsets"],
                    vec![],
                    Some(body.clone()),
                ),
                Command::ResetOffsets => (
                    Method::DELETE,
                    vec!["connectors", connector, "offsets"],
                    vec![],
                    None,
                ),
                Command::ResetTopics => (
                    Method::PUT,
                    vec!["connectors", connector, "topics", "reset"],
                    vec![],
                    None,
                ),
                Command::Delete => (Method::DELETE, vec!["connectors", connector], vec![], None),
            };
        let url = endpoint_url(base, &segments, &query)?;
        match self
            .send(
                method,
                &url,
                auth,
                ca_pem,
                command.verb(),
                body.as_ref(),
                |_| Ok(()),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(got) => match got.into_failure(connector) {
                f if f.kind == FailureKind::ConnectorNotFound && *command == Command::Delete => {
                    Ok(())
                }
                f => Err(f),
            },
        }
    }

    /// One request through the gate. A GET succeeds with 200 (its body read by `parse`), a write
    /// with any 2xx; anything else is handed back.
    #[allow(clippy::too_many_arguments)]
    async fn send<T>(
        &self,
        method: Method,
        url: &Url,
        auth: &ConnectAuth,
        ca_pem: Option<&[u8]>,
        endpoint: &'static str,
        body: Option<&serde_json::Value>,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, Got> {
        let client = self.client(ca_pem).map_err(Got::Failed)?;
        let read = method == Method::GET;
        let mut request = client
            .request(method, url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        request = match auth {
            ConnectAuth::None => request,
            ConnectAuth::Basic { username, password } => {
                request.basic_auth(username, Some(password.expose_secret()))
            }
            ConnectAuth::Bearer(token) => request.bearer_auth(token.expose_secret()),
        };
        let started = Instant::now();
        let (outcome, result) = match self
            .gate
            .fetch(request, url, self.max_response_bytes, self.timeout)
            .await
        {
            Ok(fetched)
                if fetched.status.as_u16() == 200 || (!read && fetched.status.is_success()) =>
            {
                match parse(&fetched.body) {
                    Ok(t) => ("ok", Ok(t)),
                    Err(e) => (
                        "invalid_body",
                        Err(Got::Failed(Failure::new(
                            FailureKind::InvalidResponse,
                            format!("Kafka Connect answered unreadably: {e}"),
                        ))),
                    ),
                }
            }
            Ok(fetched) => (
                http::status_outcome(fetched.status.as_u16()),
                Err(Got::Answered {
                    status: fetched.status.as_u16(),
                    retry_after: http::retry_after(&fetched.headers),
                    body: fetched.body,
                }),
            ),
            Err(FetchError::BodyTooLarge { limit }) => (
                "too_large",
                Err(Got::Failed(Failure::new(
                    FailureKind::InvalidResponse,
                    format!("Kafka Connect answered unreadably: the answer exceeded {limit} bytes"),
                ))),
            ),
            Err(FetchError::Timeout(d)) => (
                "timeout",
                Err(Got::Failed(Failure::new(
                    FailureKind::ConnectUnavailable,
                    format!(
                        "Kafka Connect unavailable: no answer within {}s",
                        d.as_secs()
                    ),
                ))),
            ),
            Err(FetchError::Paused(left)) => ("paused", Err(Got::Deferred(left))),
            Err(FetchError::Fenced) => (
                "fenced",
                Err(Got::Failed(Failure::new(
                    FailureKind::RequestSlotsBusy,
                    crate::http::FENCED,
                ))),
            ),
            Err(FetchError::Busy(waited)) => (
                "busy",
                Err(Got::Failed(Failure::new(
                    FailureKind::RequestSlotsBusy,
                    crate::http::busy_message(waited),
                ))),
            ),
            Err(FetchError::Refused(message)) => (
                "refused",
                Err(Got::Failed(Failure::new(
                    FailureKind::UrlNotAllowed,
                    message,
                ))),
            ),
            Err(FetchError::Transport(t)) => (
                "transport_error",
                Err(Got::Failed(Failure::new(
                    FailureKind::ConnectUnavailable,
                    format!("Kafka Connect unavailable: {t}"),
                ))),
            ),
        };
        self.metrics
            .request("kafka_connect", endpoint, outcome, started.elapsed());
        result
    }
}

/// The Kafka Connect parts of a target (a Data Plane target here is the caller's mistake).
fn target_of(target: &Target) -> Result<(&Url, &ConnectAuth, Option<&[u8]>), Failure> {
    match &target.source {
        Source::KafkaConnect { url, auth, ca } => Ok((url, auth, ca.as_deref())),
        _ => Err(wrong_source("Kafka Connect")),
    }
}

impl StatusSource for ConnectClient {
    fn one<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Answer> {
        async move {
            match &target.source {
                Source::KafkaConnect { url, auth, ca } => {
                    self.probe(url, &target.connector, auth, ca.as_deref())
                        .await
                }
                _ => Answer::Failed(wrong_source("Kafka Connect")),
            }
        }
        .boxed()
    }

    /// Kafka Connect does not page: the first page is every connector.
    fn page<'a>(
        &'a self,
        target: &'a Target,
        _page_size: u32,
        _token: Option<&'a str>,
        wanted: Wanted<'a>,
    ) -> BoxFuture<'a, Result<Page, ListFailure>> {
        async move {
            let (url, auth, ca) = target_of(target).map_err(ListFailure::Failed)?;
            let mut page = Page::default();
            for (name, status) in self.list(url, auth, ca, wanted).await? {
                match status {
                    Some(status) => page.reports.push((name, Report::from_connect(status))),
                    None => page.unstated.push(name),
                }
            }
            Ok(page)
        }
        .boxed()
    }

    fn config<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Option<Actual>, Failure>> {
        async move {
            let (url, auth, ca) = target_of(target)?;
            self.read_config(url, &target.connector, auth, ca).await
        }
        .boxed()
    }

    fn plugins<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Vec<Plugin>, Failure>> {
        async move {
            let (url, auth, ca) = target_of(target)?;
            self.read_plugins(url, auth, ca).await
        }
        .boxed()
    }

    fn topics<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Vec<String>, Failure>> {
        async move {
            let (url, auth, ca) = target_of(target)?;
            self.read_topics(url, &target.connector, auth, ca).await
        }
        .boxed()
    }

    fn offsets<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Offsets, Failure>> {
        async move {
            let (url, auth, ca) = target_of(target)?;
            self.read_offsets(url, &target.connector, auth, ca).await
        }
        .boxed()
    }

    fn validate<'a>(
        &'a self,
        target: &'a Target,
        config: &'a ConfigBody,
    ) -> BoxFuture<'a, Result<Option<Vec<FieldErrors>>, Failure>> {
        async move {
            let (url, auth, ca) = target_of(target)?;
            self.validate_config(url, auth, ca, config).await.map(Some)
        }
        .boxed()
    }

    fn command<'a>(
        &'a self,
        target: &'a Target,
        command: &'a Command,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        async move {
            let (url, auth, ca) = target_of(target)?;
            self.send_command(url, &target.connector, auth, ca, command)
                .await
        }
        .boxed()
    }
}

impl Got {
    /// The failure this stands for (a pause is a passing unavailability with its delay).
    fn into_failure(self, connector: &str) -> Failure {
        match self {
            Got::Deferred(left) => {
                let mut f = Failure::new(
                    FailureKind::ConnectUnavailable,
                    format!(
                        "Kafka Connect asked for a pause of {}s more",
                        left.as_secs()
                    ),
                );
                f.retry_after = Some(left);
                f
            }
            Got::Failed(f) => f,
            Got::Answered {
                status,
                body,
                retry_after,
            } => {
                let mut f = failure_for(status, &body, connector);
                f.retry_after = retry_after;
                f
            }
        }
    }
}

/// What a GET gave other than a readable 200.
pub(super) enum Got {
    /// Nothing was sent: the origin is paused for this much longer.
    Deferred(Duration),
    /// No usable answer: already a failure.
    Failed(Failure),
    /// An answer other than 200.
    Answered {
        status: u16,
        body: Vec<u8>,
        retry_after: Option<Duration>,
    },
}

#[cfg(test)]
mod tests;
