//! What the operator reports in a ManagedConnector's `.status`: the connector and its tasks, the
//! holistic state, parsed errors, restarts, the declared configuration's fate, the owned
//! connector. Re-exported from [`crate::crd`].

use super::OwnedConnector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// The parts most resources never have (a stall, a plugin check, offsets, more than 1000 tasks,
// an owned connector) are boxed: the watch cache holds a status per resource, and a `None` box
// costs 8 bytes where the inline struct cost up to 144. The schema is the same.
/// Observed state of the connector, as last reported by its source (`status.source`).
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManagedConnectorStatus {
    /// The `metadata.generation` this status was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Name of the connector in Kafka Connect that this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_name: Option<String>,

    /// Connector type: `source` or `sink`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,

    /// Where this status was read: `DataPlane` (Redpanda Cloud Data Plane API) or `KafkaConnect`
    /// (a Kafka Connect REST API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceKind>,

    /// Health of the connector and its tasks taken together (Redpanda's holistic state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holistic_state: Option<HolisticState>,

    /// State of the connector instance itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<ConnectorInstance>,

    /// State of each task, ordered by task id: the first 1000 tasks of the answer (see
    /// `omittedTasks` for the rest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskInstance>,

    /// Tasks beyond the 1000 listed in `tasks`, counted by state (present only for connectors
    /// with more tasks than that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted_tasks: Option<Box<OmittedTasks>>,

    /// How many tasks the connector has (listed in `tasks` or counted in `omittedTasks`): the
    /// scale subresource's replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_count: Option<i32>,

    /// Running tasks out of all tasks, for example `3/4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_ready: Option<String>,

    /// Errors parsed from the connector and task traces: the connector's problem first, then one
    /// entry per failed task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ConnectorError>,

    /// `Ready` (is the connector healthy), `Synced` (did the last read of the source succeed),
    /// `Reconciling` (a transition is under way) and `Stalled` (needs attention).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// When the source last answered successfully for this connector. Refreshed at most
    /// once per the operator's `--status-heartbeat` while nothing else changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<Time>,

    /// Automatic restarts (`spec.restartPolicy`) and the restart requests (annotations) handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarts: Option<RestartStatus>,

    /// The declared configuration (`spec.config`) as last compared with the connector's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigStatus>,

    /// The connector this resource created (or adopted, `spec.adopt`): `deletionPolicy: Delete`
    /// deletes it and nothing else, also after the spec was edited to name another connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_connector: Option<Box<OwnedConnector>>,

    /// The topics the connector uses, as the source tracks them (sorted, the first 100), read
    /// every `--topics-refresh` when the operator is told to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,

    /// Topics beyond the 100 in `topics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics_omitted: Option<i32>,

    /// When `topics` was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics_read_time: Option<Time>,

    /// A connector that looks stuck (running with no tasks, or waiting for a worker), and
    /// since when; after the operator's `--stall-after` it is Ready=False and Stalled=True with
    /// reason `NoTasks` or `UnassignedTooLong`. Absent when it is not stuck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall: Option<Box<StallStatus>>,

    /// The connector plugin `spec.config` declares (`connector.class`, and
    /// `connector.plugin.version` when set), as the Connect cluster's plugin list shows it. Read
    /// for resources with `spec.config` only; refreshed with that list (every few minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<Box<PluginStatus>>,

    /// The last offsets request (`connectors.dataplane.dev/offsets`) and what became of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsets: Option<Box<OffsetsStatus>>,

    /// The offsets of a source connector whose `spec.offsets.stallAfter` is set: a digest of
    /// the last ones read, and when they last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsets_progress: Option<Box<OffsetsProgress>>,

    /// The last value of the `connectors.dataplane.dev/reset-topics` annotation acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled_topics_reset: Option<String>,

    /// Never read from or written to the API server: set only in the operator's watch cache,
    /// where the traces, the tasks' workers and the parsed errors are dropped (they are most of
    /// a failing connector's status, up to about 50 KiB each). The digest of what was dropped:
    /// a status built from this one carries it, and its write puts those parts back from the
    /// stored object first (see `crate::trim`).
    #[serde(skip)]
    pub trimmed: Option<u64>,
}

impl ManagedConnectorStatus {
    /// Whether the operator has written this status. Before that the API server shows the CRD's
    /// default (`observedGeneration: 0`, nothing else), which views call pending.
    pub fn reported(&self) -> bool {
        !self.conditions.is_empty()
    }
}

/// An offsets request and its result.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OffsetsStatus {
    /// The annotation's value this status is about.
    pub request: String,
    /// `list`, `alter` or `reset` (empty for a value that names none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operation: String,
    /// `Succeeded`, `Failed`, `Invalid`, `NotSupported` (all final: the value is not acted on
    /// again), `WaitingForStop` or `Retrying` (acted on in a later reconcile).
    pub result: String,
    /// What happened, or what to do.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Source partitions the listed or altered offsets name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<i32>,
    /// The ConfigMap listed to or altered from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// When the result was reached.
    pub time: Time,
}

/// Whether a source connector's offsets move.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OffsetsProgress {
    /// Digest of the offsets last read (not the offsets: they can be large).
    pub digest: String,
    /// When the operator first read them so.
    pub changed_time: Time,
}

/// How a connector looks stuck, and since when.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StallStatus {
    /// `NoTasks` (the connector runs with no tasks), `Unassigned` (the connector or a task
    /// waits for a worker) or `OffsetsNotMoving` (see `spec.offsets.stallAfter`).
    pub kind: String,
    /// When the operator first saw it so (kept while it stays so).
    pub since: Time,
}

/// The declared connector plugin and whether the Connect cluster has it.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PluginStatus {
    /// The plugin's class as the cluster lists it (the declared `connector.class` may be an
    /// alias such as `FileStreamSink`); the declared value when not found.
    pub class: String,
    /// The installed version that matches (the first listed when several do and none is
    /// declared); absent when not found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `source` or `sink`, as the cluster lists it.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Whether the cluster has the plugin (in the declared version, when one is declared).
    pub found: bool,
}

/// What the operator restarted, kept in the status so that no restart is repeated after an
/// operator restart or a change of leader.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RestartStatus {
    /// Automatic restarts since the connector was last healthy for `restartPolicy.resetAfter`.
    #[serde(default)]
    pub count: u32,
    /// When the operator last restarted the connector (automatically or on request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restart_time: Option<Time>,
    /// When the next automatic restart may happen, while the connector is failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_restart_time: Option<Time>,
    /// The value of the `connectors.dataplane.dev/restart` annotation last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled_request: Option<String>,
    /// The value of the `connectors.dataplane.dev/restart-task` annotation last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled_task_request: Option<String>,
}

/// The declared configuration as last compared and applied. Never holds a configuration value.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigStatus {
    /// SHA-256 of the declared configuration last applied (or found in place): plain values and
    /// the Secret keys named by `configFrom`, never a Secret's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_hash: Option<String>,
    /// When the operator last put the configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_time: Option<Time>,
    /// Keys whose actual value differed from the declared one at the last comparison (set or
    /// changed outside the resource, or not yet applied), the first 64 in key order. Empty when
    /// in sync.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drifted_keys: Vec<String>,
    /// Whether the operator created the connector.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
    /// What the plugin's own validation (Kafka Connect's
    /// `PUT /connector-plugins/{class}/config/validate`) found wrong with the declared
    /// configuration, per field: the first 32 fields, 4 messages each. Nothing is put while
    /// this is not empty; it clears once a changed declaration validates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_fields: Vec<InvalidField>,
}

/// One configuration field the plugin refused, and why (its messages, Secret values removed).
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct InvalidField {
    /// The configuration key.
    pub name: String,
    /// What the plugin says about it.
    pub errors: Vec<String>,
}

/// Where a status was read: the Redpanda Cloud Data Plane API or a Kafka Connect REST API.
// Also the operator's one word for a kind of source (metric labels, batch group keys).
#[derive(
    JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
pub enum SourceKind {
    /// The Redpanda Cloud Data Plane API.
    DataPlane,
    /// A self-hosted Kafka Connect REST API.
    KafkaConnect,
}

impl SourceKind {
    /// The word for it in status (`status.source`, `status.ownedConnector.source`).
    pub fn word(self) -> &'static str {
        match self {
            SourceKind::DataPlane => "DataPlane",
            SourceKind::KafkaConnect => "KafkaConnect",
        }
    }

    /// Metric label value.
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::DataPlane => "dataplane",
            SourceKind::KafkaConnect => "kafka_connect",
        }
    }
}

/// Holistic state of a connector, as Redpanda defines it (docs/status.md has the rules).
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HolisticState {
    /// The connector is running and all of its tasks (at least one) are running.
    Healthy,
    /// The connector is running, and some but not all of its tasks have failed.
    Degraded,
    /// The connector failed, or runs with no tasks, or all of its tasks failed.
    Unhealthy,
    /// The connector was paused.
    Paused,
    /// The connector was stopped.
    Stopped,
    /// The connector or one of its tasks is restarting.
    Restarting,
    /// The connector or one of its tasks waits to be assigned to a worker.
    Unassigned,
    /// The connector was destroyed.
    Destroyed,
    /// The state could not be determined.
    Unknown,
}

impl HolisticState {
    /// Every state, in the order used for metrics and docs.
    pub const ALL: [HolisticState; 9] = [
        HolisticState::Healthy,
        HolisticState::Degraded,
        HolisticState::Unhealthy,
        HolisticState::Paused,
        HolisticState::Stopped,
        HolisticState::Restarting,
        HolisticState::Unassigned,
        HolisticState::Destroyed,
        HolisticState::Unknown,
    ];

    /// The CamelCase word used in status, condition reasons and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            HolisticState::Healthy => "Healthy",
            HolisticState::Degraded => "Degraded",
            HolisticState::Unhealthy => "Unhealthy",
            HolisticState::Paused => "Paused",
            HolisticState::Stopped => "Stopped",
            HolisticState::Restarting => "Restarting",
            HolisticState::Unassigned => "Unassigned",
            HolisticState::Destroyed => "Destroyed",
            HolisticState::Unknown => "Unknown",
        }
    }
}

impl std::fmt::Display for HolisticState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// State of the connector instance.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorInstance {
    /// Kafka Connect state: `RUNNING`, `FAILED`, `PAUSED`, `STOPPED`, `RESTARTING`, `UNASSIGNED`
    /// or `DESTROYED`.
    pub state: String,
    /// Worker that runs the connector (`host:port`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub worker_id: String,
    /// Java stack trace of the last failure, cut to a bound (docs/status.md).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trace: String,
}

/// Tasks counted but not listed.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OmittedTasks {
    /// How many tasks are not listed.
    pub count: i64,
    /// How many of them are in each state: RUNNING, FAILED, PAUSED, RESTARTING, UNASSIGNED and
    /// OTHER (any other state).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub states: BTreeMap<String, i64>,
}

/// State of one connector task.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TaskInstance {
    /// Task id.
    pub id: i32,
    /// Kafka Connect state: `RUNNING`, `FAILED`, `PAUSED`, `RESTARTING` or `UNASSIGNED`.
    pub state: String,
    /// Worker that runs the task (`host:port`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub worker_id: String,
    /// Java stack trace of the last failure, cut to a bound (docs/status.md).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trace: String,
}

/// One error or warning about the connector, as Redpanda parses it from the traces.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorError {
    /// Severity: `Error` or `Warning`.
    #[serde(rename = "type")]
    pub type_: ErrorType,
    /// What is wrong, for example `Connector orders-sink Task 1 is in failed state.`
    pub title: String,
    /// The cause, usually the message of the innermost exception in the trace.
    pub content: String,
}

/// Severity of a [`ConnectorError`].
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// Something is broken.
    Error,
    /// Something deserves a look.
    Warning,
}
