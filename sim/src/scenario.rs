//! Scenario files: which connectors exist, in which states, with which faults, changing how over
//! time. YAML (or JSON) with camelCase keys; unknown keys are refused so a typo is not silently
//! ignored.

use managed_connector_core::crd::parse_go_duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// A whole simulated Data Plane.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// Body shape of 200 answers: `wrapped` (`{"status": {...}}`, today's v1 server) or `flat`.
    #[serde(default)]
    pub shape: BodyShape,
    /// Whether answers carry `holistic_state` and `errors` (the server computed them). When false
    /// the fields are absent and the client must compute them.
    #[serde(default = "yes")]
    pub holistic_state: bool,
    /// Token endpoint and accepted credentials.
    #[serde(default)]
    pub auth: AuthScenario,
    /// Faults for every request to the status and list endpoints.
    #[serde(default)]
    pub faults: Faults,
    /// Connect clusters by name (Redpanda Cloud has one: `redpanda`).
    #[serde(default)]
    pub clusters: BTreeMap<String, ClusterScenario>,
}

fn yes() -> bool {
    true
}

/// Shape of a 200 body.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BodyShape {
    /// `{"status": ConnectorStatus}`.
    #[default]
    Wrapped,
    /// `ConnectorStatus`.
    Flat,
}

/// The OAuth2 side.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthScenario {
    /// Whether the Data Plane endpoints demand a bearer token.
    #[serde(default = "yes")]
    pub required: bool,
    /// Accepted client credentials.
    #[serde(default)]
    pub clients: Vec<ClientScenario>,
    /// Bearer tokens accepted without the token endpoint (never expire).
    #[serde(default)]
    pub static_tokens: Vec<String>,
    /// Audience the token endpoint demands.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// `expires_in` of issued tokens, in seconds; the Data Plane answers 401 after it.
    #[serde(default = "default_expires_in")]
    pub expires_in_seconds: u64,
    /// Tokens the organisation may obtain per day; the token endpoint answers 429 after that.
    #[serde(default = "default_quota")]
    pub daily_quota: u32,
}

impl Default for AuthScenario {
    fn default() -> Self {
        AuthScenario {
            required: true,
            clients: Vec::new(),
            static_tokens: Vec::new(),
            audience: default_audience(),
            expires_in_seconds: default_expires_in(),
            daily_quota: default_quota(),
        }
    }
}

fn default_audience() -> String {
    managed_connector_core::credentials::DEFAULT_AUDIENCE.to_string()
}
fn default_expires_in() -> u64 {
    3600
}
fn default_quota() -> u32 {
    100
}

/// One accepted client.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientScenario {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
}

/// One Connect cluster.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterScenario {
    /// Its connectors.
    #[serde(default)]
    pub connectors: Vec<ConnectorScenario>,
    /// Adds `count` identical healthy connectors `<prefix>00001`, ... (benchmarks).
    #[serde(default)]
    pub synthetic: Option<Synthetic>,
    /// Faults of this cluster's list endpoint (`GET .../connectors`).
    #[serde(default)]
    pub list_faults: Faults,
    /// The pages (1 = first) `listFaults` applies to; empty: every page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub list_fault_pages: Vec<usize>,
    /// The Connect worker's REST address, as the Data Plane names it; connectors created through
    /// the API run on it (their `worker_id` is its host and port).
    #[serde(default = "default_address")]
    pub address: String,
    /// The worker's Kafka version, as `info.version` and the plugins' version.
    #[serde(default = "default_version")]
    pub version: String,
    /// Connector classes the worker has; a create or configuration write naming another class
    /// is refused as Kafka Connect refuses it (500). Empty: the defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<PluginScenario>,
    /// The Connect worker behind the Data Plane is down: the listing answers an empty list
    /// (200), everything else 500 with the dial error, as Redpanda's code does.
    #[serde(default, skip_serializing_if = "is_false")]
    pub worker_down: bool,
}

/// A connector plugin of a cluster.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginScenario {
    /// Its class.
    pub class: String,
    /// `source` or `sink`.
    #[serde(rename = "type")]
    pub type_: String,
}

impl ClusterScenario {
    /// The plugins (the defaults when none are named): Kafka's FileStream connectors and the
    /// classes the tests and the demo use.
    pub fn plugins(&self) -> Vec<PluginScenario> {
        if !self.plugins.is_empty() {
            return self.plugins.clone();
        }
        [
            ("sink", "com.example.Sink"),
            ("source", "com.example.Source"),
            (
                "sink",
                "org.apache.kafka.connect.file.FileStreamSinkConnector",
            ),
            (
                "source",
                "org.apache.kafka.connect.file.FileStreamSourceConnector",
            ),
        ]
        .into_iter()
        .map(|(t, c)| PluginScenario {
            class: c.into(),
            type_: t.into(),
        })
        .collect()
    }

    /// The `worker_id` of connectors created on this cluster.
    pub fn worker_id(&self) -> String {
        let a = self
            .address
            .split_once("://")
            .map_or(self.address.as_str(), |(_, r)| r);
        a.trim_end_matches('/').to_string()
    }
}

impl Default for ClusterScenario {
    fn default() -> Self {
        ClusterScenario {
            connectors: Vec::new(),
            synthetic: None,
            list_faults: Faults::default(),
            list_fault_pages: Vec::new(),
            address: default_address(),
            version: default_version(),
            plugins: Vec::new(),
            worker_down: false,
        }
    }
}

fn default_address() -> String {
    "http://10.0.3.7:8083".into()
}
fn default_version() -> String {
    "3.9.1".into()
}

/// Many generated connectors.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Synthetic {
    /// How many.
    pub count: usize,
    /// Name prefix.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Running tasks each.
    #[serde(default = "one")]
    pub tasks: usize,
    /// When above 0, every task is FAILED instead, with a trace of about this many bytes (the
    /// sample trace, its frames repeated): a fleet on a bad day, for the benchmark.
    #[serde(default)]
    pub failed_trace: usize,
}

impl Synthetic {
    /// One generated connector's initial state.
    pub fn connector(&self, name: &str) -> ConnectorScenario {
        if self.failed_trace == 0 {
            return ConnectorScenario::new(name, "RUNNING", &vec!["RUNNING"; self.tasks]);
        }
        let mut c = ConnectorScenario::new(name, "RUNNING", &vec!["FAILED"; self.tasks]);
        let frame = "\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:193)\n";
        let mut trace = SAMPLE_TRACE.to_string();
        while trace.len() < self.failed_trace {
            trace.push_str(frame);
        }
        for t in &mut c.tasks {
            t.trace.clone_from(&trace);
        }
        c
    }
}

fn default_prefix() -> String {
    "bench-".into()
}
fn one() -> usize {
    1
}

/// One connector and how it changes.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectorScenario {
    /// Connector name (any characters, up to 1024). Taken from the URL in `PUT /sim/...`.
    #[serde(default)]
    pub name: String,
    /// `source` or `sink`.
    #[serde(default = "default_type", rename = "type")]
    pub type_: String,
    // The initial state's fields are spelled out rather than `#[serde(flatten)]`ed from
    // `ConnectorState`: serde cannot combine `flatten` with `deny_unknown_fields`, and a typo in a
    // scenario must be refused, not ignored.
    /// Kafka Connect state of the connector at the start.
    #[serde(default = "running")]
    pub state: String,
    /// Worker id.
    #[serde(default = "default_worker")]
    pub worker_id: String,
    /// Connector trace.
    #[serde(default)]
    pub trace: String,
    /// Tasks.
    #[serde(default)]
    pub tasks: Vec<TaskScenario>,
    /// Faults for this connector only.
    #[serde(default)]
    pub faults: Faults,
    /// Changes over time, each from its `at` on (relative to the simulator's start, or to the
    /// start of the cycle when `repeat` is set).
    #[serde(default)]
    pub timeline: Vec<Change>,
    /// Replays the timeline with this period (Go duration), e.g. `90s`.
    #[serde(default)]
    pub repeat: Option<String>,
    /// A restart does not help: the failed instances fail again at once (a connector whose
    /// cause persists, for automatic-restart tests).
    #[serde(default)]
    pub fails_again: bool,
}

fn default_type() -> String {
    "sink".into()
}

impl ConnectorScenario {
    /// A connector in `state` with these tasks, for tests and generated scenarios.
    pub fn new(name: &str, state: &str, tasks: &[&str]) -> Self {
        ConnectorScenario {
            name: name.into(),
            type_: default_type(),
            state: state.into(),
            worker_id: default_worker(),
            trace: String::new(),
            tasks: tasks.iter().map(|t| TaskScenario::new(t)).collect(),
            faults: Faults::default(),
            timeline: Vec::new(),
            repeat: None,
            fails_again: false,
        }
    }

    /// The state before any timeline change.
    pub fn initial_state(&self) -> ConnectorState {
        ConnectorState {
            state: self.state.clone(),
            worker_id: self.worker_id.clone(),
            trace: self.trace.clone(),
            tasks: self.tasks.clone(),
        }
    }
}

/// Connector and task states at one moment.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectorState {
    /// Kafka Connect state of the connector.
    #[serde(default = "running")]
    pub state: String,
    /// Worker id.
    #[serde(default = "default_worker")]
    pub worker_id: String,
    /// Connector trace.
    #[serde(default)]
    pub trace: String,
    /// Tasks.
    #[serde(default)]
    pub tasks: Vec<TaskScenario>,
}

impl Default for ConnectorState {
    fn default() -> Self {
        ConnectorState {
            state: running(),
            worker_id: default_worker(),
            trace: String::new(),
            tasks: Vec::new(),
        }
    }
}

fn running() -> String {
    "RUNNING".into()
}
fn default_worker() -> String {
    "10.0.3.7:8083".into()
}

/// A task, or `count` identical tasks.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskScenario {
    /// Kafka Connect state.
    #[serde(default = "running")]
    pub state: String,
    /// Worker id.
    #[serde(default = "default_worker")]
    pub worker_id: String,
    /// Trace.
    #[serde(default)]
    pub trace: String,
    /// Repeat this task this many times.
    #[serde(default = "one")]
    pub count: usize,
}

/// A scripted change.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Change {
    /// When (Go duration).
    pub at: String,
    /// New connector and task states; absent keeps them.
    #[serde(default)]
    pub state: Option<ConnectorState>,
    /// New faults; absent keeps them.
    #[serde(default)]
    pub faults: Option<Faults>,
    /// The connector is deleted (404) from then on; `false` brings it back.
    #[serde(default)]
    pub deleted: Option<bool>,
}

impl TaskScenario {
    /// One task in `state`; a `FAILED` one gets a realistic trace.
    pub fn new(state: &str) -> Self {
        TaskScenario {
            state: state.into(),
            worker_id: default_worker(),
            trace: if state == "FAILED" {
                SAMPLE_TRACE.into()
            } else {
                String::new()
            },
            count: 1,
        }
    }
}

/// A trace as Kafka Connect reports a sink that cannot reach its target.
pub const SAMPLE_TRACE: &str = "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:632)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.poll(WorkerSinkTask.java:350)\nCaused by: java.net.ConnectException: Connection refused\n\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)\n";

/// Misbehaviour to inject.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// Delay before answering (Go duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
    /// Answer with this HTTP status and a `google.rpc.Status` body (409, 429, 500, 502, 503...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` seconds on that answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Answer 200 with a body that is not JSON.
    #[serde(default, skip_serializing_if = "is_false")]
    pub malformed: bool,
    /// Answer 200 with a body of this many bytes (streamed, no Content-Length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oversized_bytes: Option<usize>,
    /// Accept the request and never answer.
    #[serde(default, skip_serializing_if = "is_false")]
    pub hang: bool,
    /// Answer 200 at once, then stream the body a byte at a time over this long (Go duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_body: Option<String>,
    /// Answer 403 PERMISSION_DENIED.
    #[serde(default, skip_serializing_if = "is_false")]
    pub forbidden: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Faults {
    /// The latency, parsed.
    pub fn latency(&self) -> Option<Duration> {
        self.latency.as_deref().and_then(parse_go_duration)
    }

    /// `slowBody` as a duration.
    pub fn slow_body(&self) -> Option<Duration> {
        self.slow_body.as_deref().and_then(parse_go_duration)
    }
}

impl Scenario {
    /// Parses a scenario (YAML, which includes JSON) and checks its durations and names.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        let scenario: Scenario = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        scenario.validate()?;
        Ok(scenario)
    }

    fn validate(&self) -> Result<(), String> {
        let check = |what: &str, d: &Option<String>| match d {
            Some(s) if parse_go_duration(s).is_none() => {
                Err(format!("{what}: {s:?} is not a duration such as 30s"))
            }
            _ => Ok(()),
        };
        check("faults.latency", &self.faults.latency)?;
        for (cluster, c) in &self.clusters {
            for conn in &c.connectors {
                let here = format!("clusters.{cluster}.connectors[{}]", conn.name);
                if conn.name.is_empty() || conn.name.len() > 1024 {
                    return Err(format!("{here}: name must have 1 to 1024 characters"));
                }
                check(&format!("{here}.repeat"), &conn.repeat)?;
                check(&format!("{here}.faults.latency"), &conn.faults.latency)?;
                for change in &conn.timeline {
                    check(&format!("{here}.timeline.at"), &Some(change.at.clone()))?;
                    if let Some(f) = &change.faults {
                        check(&format!("{here}.timeline.faults.latency"), &f.latency)?;
                    }
                }
            }
        }
        Ok(())
    }
}
