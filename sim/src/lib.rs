//! A simulator of the Redpanda Cloud Data Plane API's Kafka Connect endpoints and of its OAuth2
//! token endpoint, for tests, the demo and the benchmark (Redpanda Cloud cannot be reached from
//! CI). It follows the answers Redpanda's own Data Plane code gave in front of a real Connect
//! worker (`tests/data/dataplane-captured/`, compared answer by answer in `tests/captured.rs`):
//! snake_case bodies with defaults printed, `google.rpc.Status` errors with code names and an
//! `ErrorInfo`, the two different 404s, opaque page tokens, random order without `page_size`, an
//! empty listing (200) while the worker is down, no status for a moment after a create, 500 for
//! an unknown connector class. Holistic state and errors are computed by [`redpanda`], code of
//! its own. From the documented service (`dataplane-api.md`) it adds the gateway: 401 with
//! `WWW-Authenticate`, path validation, the daily token quota with its
//! `Auth0-Organization-Quota-Limit` header. Faults are injected per connector or globally.
//!
//! Used in-process by the integration tests ([`Sim::start`]) and as the `dataplane-sim` binary.

mod control;
mod reads;
pub mod redpanda;
pub mod scenario;
mod token;
pub mod wire;
mod writes;

use axum::Router;
use axum::body::Body;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use scenario::{BodyShape, ConnectorScenario, ConnectorState, Faults, Scenario};

use control::{
    connector_faults_handler, delete_handler, global_faults_handler, metrics_handler,
    requests_handler, revoke_handler, upsert_handler, worker_handler,
};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use token::token_handler;
use tokio::time::Instant;
use wire::{code_name, rpc_error};

/// A running (or runnable) simulator. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State_>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

#[allow(non_camel_case_types)]
struct State_ {
    scenario: Scenario,
    connectors: BTreeMap<(String, String), Live>,
    tokens: HashMap<String, Instant>,
    tokens_issued: u32,
    next_token: u64,
    requests: BTreeMap<(String, u16), u64>,
    per_connector: BTreeMap<String, u64>,
}

struct Live {
    spec: ConnectorScenario,
    since: Instant,
    /// Its configuration (empty for scenario connectors).
    config: BTreeMap<String, String>,
    /// When it was created through the API (it has no status for [`STATUS_DELAY`]).
    created: Option<Instant>,
}

/// How long a connector created through the API has no status: the worker takes a moment to
/// start it, and Redpanda answers 404 `No status found` meanwhile (and leaves it out of the
/// listing, as Kafka Connect's own listing does).
pub const STATUS_DELAY: Duration = Duration::from_millis(1000);

/// Request counts, as `/sim/requests` reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestCounts {
    /// All requests to the status, list and token endpoints.
    pub total: u64,
    /// By `<endpoint> <HTTP status>`, e.g. `status 200`.
    pub by_endpoint: BTreeMap<String, u64>,
    /// Reads of each connector's status by name: status requests, and list pages it was on.
    pub by_connector: BTreeMap<String, u64>,
    /// Tokens issued so far.
    pub tokens_issued: u32,
    /// Most status and list requests ever in progress at once.
    pub max_in_flight: usize,
}

impl RequestCounts {
    /// Requests to `endpoint` (`status`, `list`, `token`) with any outcome.
    pub fn endpoint(&self, endpoint: &str) -> u64 {
        self.by_endpoint
            .iter()
            .filter(|(k, _)| k.split(' ').next() == Some(endpoint))
            .map(|(_, v)| v)
            .sum()
    }
}

impl Sim {
    /// A simulator of this scenario; the clock starts now.
    pub fn new(scenario: Scenario) -> Self {
        let started = Instant::now();
        let mut connectors = BTreeMap::new();
        for (cluster, c) in &scenario.clusters {
            for conn in &c.connectors {
                connectors.insert(
                    (cluster.clone(), conn.name.clone()),
                    Live {
                        spec: conn.clone(),
                        since: started,
                        config: BTreeMap::new(),
                        created: None,
                    },
                );
            }
            if let Some(s) = &c.synthetic {
                for i in 1..=s.count {
                    let name = format!("{}{i:05}", s.prefix);
                    connectors.insert(
                        (cluster.clone(), name.clone()),
                        Live {
                            spec: s.connector(&name),
                            since: started,
                            config: BTreeMap::new(),
                            created: None,
                        },
                    );
                }
            }
        }
        Sim {
            inner: Arc::new(Inner {
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
                state: Mutex::new(State_ {
                    scenario,
                    connectors,
                    tokens: HashMap::new(),
                    tokens_issued: 0,
                    next_token: 1,
                    requests: BTreeMap::new(),
                    per_connector: BTreeMap::new(),
                }),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State_> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves on `addr` (port 0 picks a free one) in the background; returns the bound address.
    pub async fn start(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let app = self.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(local)
    }

    /// The HTTP routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/kafka-connect/clusters", get(reads::clusters_handler))
            .route(
                "/v1/kafka-connect/clusters/{cluster}",
                get(reads::cluster_handler),
            )
            .route(
                "/v1/kafka-connect/clusters/{cluster}/connectors/{name}/status",
                get(reads::status_handler),
            )
            .route(
                "/v1/kafka-connect/clusters/{cluster}/connectors",
                get(reads::list_handler).post(writes::create_handler),
            )
            .route(
                "/v1/kafka-connect/clusters/{cluster}/connectors/{name}/topics",
                get(writes::topics_handler),
            )
            .route(
                "/v1/kafka-connect/clusters/{cluster}/connectors/{name}/topics/reset",
                put(writes::topics_reset_handler),
            )
            .route(
                "/v1/kafka-connect/clusters/{cluster}/connectors/{name}",
                get(writes::info_handler).delete(writes::delete_connector_handler),
            )
            .route(
                "/v1/kafka-connect/clusters/{cluster}/connectors/{name}/config",
                get(writes::config_get_handler).put(writes::config_put_handler),
            )
            .route(
                "/v1/kafka-connect/clusters/{cluster}/connectors/{name}/restart",
                post(writes::restart_handler),
            )
            .route(
                "/v1/kafka-connect/clusters/{cluster}/connectors/{name}/{action}",
                put(writes::state_handler),
            )
            .route("/oauth/token", post(token_handler))
            .route("/metrics", get(metrics_handler))
            .route("/sim/requests", get(requests_handler))
            .route("/sim/faults", put(global_faults_handler))
            .route(
                "/sim/clusters/{cluster}/connectors/{name}",
                put(upsert_handler).delete(delete_handler),
            )
            .route(
                "/sim/clusters/{cluster}/connectors/{name}/faults",
                put(connector_faults_handler),
            )
            .route("/sim/clusters/{cluster}/worker", put(worker_handler))
            .route("/sim/tokens/revoke", post(revoke_handler))
            .with_state(self.clone())
    }

    /// Adds or replaces a connector; its timeline starts now.
    pub fn upsert(&self, cluster: &str, connector: ConnectorScenario) {
        let mut s = self.lock();
        s.scenario.clusters.entry(cluster.to_string()).or_default();
        s.connectors.insert(
            (cluster.to_string(), connector.name.clone()),
            Live {
                spec: connector,
                since: Instant::now(),
                config: BTreeMap::new(),
                created: None,
            },
        );
    }

    /// Changes a connector's current state, keeping its faults; `false` if it does not exist.
    pub fn set_state(&self, cluster: &str, name: &str, state: &str, tasks: &[&str]) -> bool {
        let mut s = self.lock();
        match s
            .connectors
            .get_mut(&(cluster.to_string(), name.to_string()))
        {
            Some(live) => {
                let faults = live.spec.faults.clone();
                let mut spec = ConnectorScenario::new(name, state, tasks);
                spec.type_ = live.spec.type_.clone();
                spec.faults = faults;
                spec.fails_again = live.spec.fails_again;
                live.spec = spec;
                live.since = Instant::now();
                true
            }
            None => false,
        }
    }

    /// Whether a connector has a status yet (one created through the API has none for
    /// [`STATUS_DELAY`]).
    fn has_status(&self, cluster: &str, name: &str) -> bool {
        self.lock()
            .connectors
            .get(&(cluster.to_string(), name.to_string()))
            .is_some_and(|l| l.created.is_none_or(|c| c.elapsed() >= STATUS_DELAY))
    }

    /// Replaces a connector's current state (connector and tasks, traces included), keeping its
    /// configuration, faults and timeline start; `false` if it does not exist.
    pub fn set_status(&self, cluster: &str, name: &str, state: ConnectorState) -> bool {
        let mut s = self.lock();
        match s
            .connectors
            .get_mut(&(cluster.to_string(), name.to_string()))
        {
            Some(live) => {
                live.spec.state = state.state;
                live.spec.worker_id = state.worker_id;
                live.spec.trace = state.trace;
                live.spec.tasks = state.tasks;
                live.spec.timeline.clear();
                live.since = Instant::now();
                true
            }
            None => false,
        }
    }

    /// Takes a cluster's Connect worker down (or back up); `false` when the cluster does not
    /// exist.
    pub fn set_worker_down(&self, cluster: &str, down: bool) -> bool {
        match self.lock().scenario.clusters.get_mut(cluster) {
            Some(c) => {
                c.worker_down = down;
                true
            }
            None => false,
        }
    }

    /// Removes a connector (404 from now on).
    pub fn delete(&self, cluster: &str, name: &str) -> bool {
        self.lock()
            .connectors
            .remove(&(cluster.to_string(), name.to_string()))
            .is_some()
    }

    /// Sets faults for every request.
    pub fn set_global_faults(&self, faults: Faults) {
        self.lock().scenario.faults = faults;
    }

    /// Sets the faults of a cluster's list endpoint, for these pages (1 = first; empty: all);
    /// `false` when the cluster does not exist.
    pub fn set_list_faults(&self, cluster: &str, faults: Faults, pages: &[usize]) -> bool {
        let mut s = self.lock();
        match s.scenario.clusters.get_mut(cluster) {
            Some(c) => {
                c.list_faults = faults;
                c.list_fault_pages = pages.to_vec();
                true
            }
            None => false,
        }
    }

    /// Sets faults for one connector; `false` if it does not exist.
    pub fn set_faults(&self, cluster: &str, name: &str, faults: Faults) -> bool {
        let mut s = self.lock();
        match s
            .connectors
            .get_mut(&(cluster.to_string(), name.to_string()))
        {
            Some(live) => {
                live.spec.faults = faults;
                true
            }
            None => false,
        }
    }

    /// Sets the body shape and whether the server computes holistic state and errors.
    pub fn set_shape(&self, shape: BodyShape, holistic_state: bool) {
        let mut s = self.lock();
        s.scenario.shape = shape;
        s.scenario.holistic_state = holistic_state;
    }

    /// Invalidates every issued token (the next Data Plane request answers 401).
    pub fn revoke_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// Status and list requests being answered right now.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    /// Request counts so far.
    pub fn counts(&self) -> RequestCounts {
        let s = self.lock();
        RequestCounts {
            total: s.requests.values().sum(),
            by_endpoint: s
                .requests
                .iter()
                .map(|((e, c), n)| (format!("{e} {c}"), *n))
                .collect(),
            by_connector: s.per_connector.clone(),
            tokens_issued: s.tokens_issued,
            max_in_flight: self.inner.max_in_flight.load(Ordering::SeqCst),
        }
    }

    fn count(&self, endpoint: &str, code: StatusCode) {
        *self
            .lock()
            .requests
            .entry((endpoint.to_string(), code.as_u16()))
            .or_insert(0) += 1;
    }

    /// Checks the bearer token as the Data Plane API does; `Some(401 answer)` when refused.
    fn refuse_unauthorized(&self, headers: &HeaderMap) -> Option<Response> {
        let s = self.lock();
        if !s.scenario.auth.required {
            return None;
        }
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let valid = match token {
            Some(t) if s.scenario.auth.static_tokens.iter().any(|st| st == t) => true,
            Some(t) => s.tokens.get(t).is_some_and(|exp| Instant::now() < *exp),
            None => false,
        };
        if valid {
            return None;
        }
        let message = if token.is_none() {
            "Bearer token is not present"
        } else {
            "invalid or expired bearer token"
        };
        let mut r = rpc_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            message,
            Some("REASON_NO_TOKEN"),
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"redpanda.com/dataplane\""),
        );
        Some(r)
    }

    /// The connector's state and faults right now, after its timeline; `None` when absent or
    /// deleted by its timeline.
    fn current(
        &self,
        cluster: &str,
        name: &str,
    ) -> Option<(ConnectorScenario, ConnectorState, Faults)> {
        let s = self.lock();
        let live = s.connectors.get(&(cluster.to_string(), name.to_string()))?;
        let mut elapsed = live.since.elapsed();
        if let Some(period) = live
            .spec
            .repeat
            .as_deref()
            .and_then(managed_connector_core::crd::parse_go_duration)
            && !period.is_zero()
        {
            elapsed = Duration::from_nanos((elapsed.as_nanos() % period.as_nanos()) as u64);
        }
        let mut state = live.spec.initial_state();
        let mut faults = live.spec.faults.clone();
        let mut deleted = false;
        for change in &live.spec.timeline {
            let at = managed_connector_core::crd::parse_go_duration(&change.at).unwrap_or_default();
            if at <= elapsed {
                if let Some(st) = &change.state {
                    state = st.clone();
                }
                if let Some(f) = &change.faults {
                    faults = f.clone();
                }
                if let Some(d) = change.deleted {
                    deleted = d;
                }
            }
        }
        (!deleted).then(|| (live.spec.clone(), state, faults))
    }
}

fn valid_cluster_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Applies faults; `Some(response)` when a fault answers instead of the endpoint.
async fn apply_faults(faults: &Faults) -> Option<Response> {
    if let Some(d) = faults.latency() {
        tokio::time::sleep(d).await;
    }
    if faults.hang {
        futures::future::pending::<()>().await;
    }
    if faults.forbidden {
        return Some(rpc_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "you are not allowed to access this resource",
            None,
        ));
    }
    if let Some(code) = faults.status {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let reason = match code {
            501 => Some("REASON_FEATURE_NOT_CONFIGURED"),
            _ => Some("REASON_KAFKA_CONNECT_API_ERROR"),
        };
        let mut r = rpc_error(
            status,
            code_name(code),
            &format!("simulated failure ({code})"),
            reason,
        );
        if let Some(s) = faults.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        return Some(r);
    }
    if faults.malformed {
        return Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"status\": {\"name\": \"trunc",
            )
                .into_response(),
        );
    }
    if let Some(total) = faults.slow_body() {
        // Headers at once, then the body a byte at a time over `total`: a client that times out
        // only before the headers would wait as long as the server likes.
        use futures::StreamExt;
        let body = br#"{"status":{"name":"slow","connector":{"state":"RUNNING"},"tasks":[]}}"#;
        let step = total / body.len() as u32;
        let stream = futures::stream::iter(0..body.len()).then(move |i| async move {
            tokio::time::sleep(step).await;
            Ok::<_, std::io::Error>(axum::body::Bytes::copy_from_slice(&body[i..i + 1]))
        });
        return Some(
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        );
    }
    if let Some(n) = faults.oversized_bytes {
        let chunk = bytes_of(64 * 1024);
        let chunks = n.div_ceil(chunk.len());
        let stream =
            futures::stream::iter((0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
        return Some(
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        );
    }
    None
}

fn bytes_of(n: usize) -> axum::body::Bytes {
    axum::body::Bytes::from(vec![b' '; n])
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

// --- The write endpoints (Kafka Connect through the Data Plane, v1). -------------------------

/// A connector endpoint: the gateway's checks ([`gatekeep`]), then `handle` (not run when they
/// refuse), the answer counted under `endpoint` whichever it is.
async fn gated(
    sim: &Sim,
    endpoint: &str,
    (cluster, name): (&str, &str),
    headers: &HeaderMap,
    handle: impl std::future::Future<Output = Response>,
) -> Response {
    let response = match gatekeep(sim, cluster, name, headers).await {
        Some(refused) => refused,
        None => handle.await,
    };
    sim.count(endpoint, response.status());
    response
}

/// The checks every connector endpoint makes before its own work: token, path parameters,
/// global faults, known cluster. `Some(answer)` when one of them answers instead.
async fn gatekeep(sim: &Sim, cluster: &str, name: &str, headers: &HeaderMap) -> Option<Response> {
    if let Some(r) = sim.refuse_unauthorized(headers) {
        return Some(r);
    }
    if !valid_cluster_name(cluster) || name.is_empty() || name.len() > 1024 {
        return Some(wire::invalid_input(&[(
            "cluster_name",
            "value does not match regex pattern `^[a-zA-Z0-9-_]+$`",
        )]));
    }
    let (global, cluster_info) = {
        let s = sim.lock();
        (
            s.scenario.faults.clone(),
            s.scenario.clusters.get(cluster).cloned(),
        )
    };
    if let Some(r) = apply_faults(&global).await {
        return Some(r);
    }
    match cluster_info {
        None => Some(wire::unknown_cluster()),
        Some(c) if c.worker_down => Some(wire::worker_down(
            &c.address,
            &format!("/connectors/{name}"),
        )),
        Some(_) => None,
    }
}
