//! Client for the Redpanda Cloud Data Plane API's connector status endpoint.
//!
//! Built for how the real service behaves, not only how it is documented
//! (`../shared/reference/dataplane-api.md`): the 200 body comes wrapped (`{"status": {...}}`) or
//! flat; error bodies are `google.rpc.Status` whose `code` is a name or a number; 404 means either
//! an unknown connector or an unknown cluster. Every request has a timeout, a cap on the body it
//! reads, a User-Agent, and passes a global rate limiter and a concurrency bound shared by all
//! reconciles, so a cold start with thousands of resources does not stampede the API.

pub mod auth;
mod errors;
pub mod list;
mod wire;

use crate::health::{self, ServerError};
use crate::http::{self, FetchError, Fetched, Gate};
use crate::manage::declared::ConfigBody;
use crate::manage::declared::{Actual, parse_actual};
use crate::manage::preflight::{self, FieldErrors, Plugin};
use crate::metrics::Metrics;
use crate::policy::{UrlPolicy, display_url};
use crate::probe::{self, ErrorBody, Failure, FailureKind, ListFailure, Report};
use crate::resolve::SourceKind;
use crate::resolve::{Source, Target};
use crate::source::{Command, Offsets, Page, StatusSource, Wanted, wrong_source};
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

pub use errors::*;
pub use wire::*;

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
        policy: &UrlPolicy,
        gate: Arc<Gate>,
        metrics: Metrics,
    ) -> Result<Self, reqwest::Error> {
        let http = http::client(config.request_timeout, &[], policy.allows_link_local())?;
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
        let url = connector_url(base, cluster, connector, &["config"])
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

    /// The Connect cluster's plugins (`GET /v1/kafka-connect/clusters/{cluster}`, its
    /// `plugins`).
    pub async fn read_plugins(
        &self,
        base: &Url,
        cluster: &str,
        creds: &Credentials,
    ) -> Result<Vec<Plugin>, Failure> {
        let url = http::endpoint_url(base, &["v1", "kafka-connect", "clusters", cluster], &[])
            .map_err(|e| Failure::new(FailureKind::DataplaneUrlMissing, e))?;
        self.authorized(creds, &url, |token| {
            self.get(&url, token, "plugins", preflight::parse_plugins)
        })
        .await
        .map_err(|refusal| refusal.into_failure(cluster, ""))
    }

    /// The connector's topics (`GET .../connectors/{name}/topics`).
    pub async fn read_topics(
        &self,
        base: &Url,
        cluster: &str,
        connector: &str,
        creds: &Credentials,
    ) -> Result<Vec<String>, Failure> {
        let url = connector_url(base, cluster, connector, &["topics"])
            .map_err(|e| Failure::new(FailureKind::DataplaneUrlMissing, e))?;
        self.authorized(creds, &url, |token| {
            self.get(&url, token, "topics", crate::status::parse_topics)
        })
        .await
        .map_err(|refusal| refusal.into_failure(cluster, connector))
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
        let (method, tail, body): (_, &[&str], _) = match command {
            Command::PutConfig(config) => (
                Method::PUT,
                &["config"],
                Some(serde_json::Value::Object(config.0.clone())),
            ),
            Command::Pause => (Method::PUT, &["pause"], None),
            Command::Resume => (Method::PUT, &["resume"], None),
            Command::Stop => (Method::PUT, &["stop"], None),
            Command::ResetTopics => (Method::PUT, &["topics", "reset"], None),
            Command::AlterOffsets(_) | Command::ResetOffsets => {
                return Err(Failure::new(
                    FailureKind::FeatureNotConfigured,
                    "the Redpanda Cloud Data Plane API has no offsets endpoint",
                ));
            }
            // No single-task restart in the v1 API: the failed instances are restarted.
            Command::Restart { .. } | Command::RestartTask(_) => (
                Method::POST,
                &["restart"],
                Some(serde_json::json!({
                    "include_tasks": true,
                    "only_failed": !matches!(command, Command::Restart { only_failed: false }),
                })),
            ),
            Command::Delete => (Method::DELETE, &[], None),
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

    fn plugins<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Vec<Plugin>, Failure>> {
        async move {
            let (url, credentials) = Self::target_of(target)?;
            self.read_plugins(url, &target.cluster, credentials).await
        }
        .boxed()
    }

    fn topics<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Vec<String>, Failure>> {
        async move {
            let (url, credentials) = Self::target_of(target)?;
            self.read_topics(url, &target.cluster, &target.connector, credentials)
                .await
        }
        .boxed()
    }

    /// The Data Plane API has no offsets endpoint (offsets requests are refused before this).
    fn offsets<'a>(&'a self, _target: &'a Target) -> BoxFuture<'a, Result<Offsets, Failure>> {
        async move {
            Err(Failure::new(
                FailureKind::FeatureNotConfigured,
                "the Redpanda Cloud Data Plane API has no offsets endpoint",
            ))
        }
        .boxed()
    }

    /// The Data Plane API has no validation endpoint: the plugin check is all it gets.
    fn validate<'a>(
        &'a self,
        _target: &'a Target,
        _config: &'a ConfigBody,
    ) -> BoxFuture<'a, Result<Option<Vec<FieldErrors>>, Failure>> {
        async move { Ok(None) }.boxed()
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

#[cfg(test)]
mod tests;
