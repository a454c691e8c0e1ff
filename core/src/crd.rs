//! The `ManagedConnector` custom resource: what users write (spec) and what the operator reports
//! (status).
//!
//! The CRD in `crds/` is generated from these types ([`crate::schema`]) and a test fails when
//! the committed file drifts. Validation that the API server can do itself lives here as
//! OpenAPI constraints and CEL rules, so a bad spec is refused at `kubectl apply` time with a message
//! that names the field, instead of surfacing later as a failed probe.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Cluster name Redpanda Cloud uses for its managed Kafka Connect cluster.
pub const DEFAULT_CLUSTER_NAME: &str = "redpanda";
/// Poll interval when the spec sets none.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// A Kubernetes object name (RFC 1123 subdomain), as the API server validates Secret and
/// ConfigMap names.
const DNS_SUBDOMAIN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// Shortest poll interval the API server accepts; keeps a typo from hammering the Data Plane API.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Longest poll interval the API server accepts: a connector unwatched for longer is not watched.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(86_400);

/// Watches one Kafka Connect connector and reports its health.
///
/// The operator polls the connector's status (Redpanda Cloud Data Plane API) and writes the
/// holistic state, the task states and the parsed errors into `status`, with `Ready`, `Synced`,
/// `Reconciling` and `Stalled` conditions that `kubectl wait`, Flux (kstatus) and Argo CD understand.
// Each printcolumn repeats `type_`/`priority`, which clippy mistakes for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "connectors.dataplane.dev",
    version = "v1alpha1",
    kind = "ManagedConnector",
    plural = "managedconnectors",
    shortname = "mconn",
    category = "connectors",
    namespaced,
    status = "ManagedConnectorStatus",
    validation = Rule::new("!has(self.spec.config) || !('name' in self.spec.config) || self.spec.config['name'] == (has(self.spec.connectorName) ? self.spec.connectorName : self.metadata.name)").message("spec.config.name must be the connector's name (spec.connectorName, else metadata.name), or be left out"),
    doc = "A Kafka Connect connector whose health the operator observes and reports.",
    printcolumn(
        name = "Connector",
        type_ = "string",
        json_path = ".status.connectorName",
        description = "Name of the connector in Kafka Connect"
    ),
    printcolumn(
        name = "State",
        type_ = "string",
        json_path = ".status.holisticState",
        description = "Holistic state of the connector and its tasks"
    ),
    printcolumn(
        name = "Tasks",
        type_ = "string",
        json_path = ".status.tasksReady",
        description = "Running tasks / all tasks"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status",
        description = "Whether the connector is healthy"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Type",
        type_ = "string",
        json_path = ".status.type",
        priority = 1,
        description = "source or sink"
    ),
    printcolumn(
        name = "Source",
        type_ = "string",
        json_path = ".status.source",
        priority = 1,
        description = "Where the status comes from: DataPlane or KafkaConnect"
    ),
    printcolumn(
        name = "Cluster",
        type_ = "string",
        json_path = ".spec.clusterName",
        priority = 1,
        description = "Kafka Connect cluster name in the Data Plane API"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason",
        priority = 1,
        description = "Reason of the Ready condition"
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].message",
        priority = 1,
        description = "Message of the Ready condition"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.state) || has(self.config)").message("state needs config: the operator only pauses, resumes or stops connectors it manages (set spec.config)"))]
#[x_kube(validation = Rule::new("!has(self.configFrom) || has(self.config)").message("configFrom needs config (it adds to spec.config; `config: {}` is fine)"))]
#[x_kube(validation = Rule::new("!has(self.configFrom) || !has(self.config) || self.configFrom.all(f, !(f.key in self.config))").message("a configFrom key is also set in config: set each key once"))]
#[x_kube(validation = Rule::new("has(self.connectClusterRef) ? !has(self.dataplane) && !has(self.kafkaConnect) : has(self.dataplane) != has(self.kafkaConnect)").message("set exactly one of connectClusterRef (a ConnectCluster the platform declares), dataplane (Redpanda Cloud Data Plane API; `dataplane: {}` uses the operator's defaults) and kafkaConnect (a Kafka Connect REST API)"))]
#[x_kube(validation = Rule::new("!has(self.config) || self.config.map(k, size(k) + size(self.config[k])).sum() <= 262144").message("spec.config holds at most 256 KiB of keys and values (put large values in a Secret and use configFrom)"))]
pub struct ManagedConnectorSpec {
    /// Name of the connector in Kafka Connect. Defaults to the resource's `metadata.name`; set it
    /// when the connector's name is not a valid Kubernetes name (upper case, underscores, dots...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    #[x_kube(validation = Rule::new("self != '.' && self != '..'").message("connectorName must not be . or .. (it is a path segment of every request)"))]
    pub connector_name: Option<String>,

    /// Name of the Kafka Connect cluster in the Data Plane API. Redpanda Cloud always uses
    /// `redpanda`. Letters, digits, `-` and `_`, at most 128 characters.
    #[serde(default = "default_cluster_name")]
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[a-zA-Z0-9-_]+$"))]
    pub cluster_name: String,

    /// Read the connector's status from the Redpanda Cloud Data Plane API. Exactly one of
    /// `dataplane` and `kafkaConnect` is set; `dataplane: {}` uses the operator's default Data Plane
    /// URL and credentials Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataplane: Option<DataplaneSource>,

    /// Read the status from a self-hosted Kafka Connect REST API (Redpanda Self-Managed, Strimzi,
    /// Confluent Platform, Apache Kafka) instead of the Data Plane API. Exactly one of `dataplane`
    /// and `kafkaConnect` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_connect: Option<KafkaConnectSource>,

    /// A `ConnectCluster` the platform team declares (cluster-scoped): its source, credentials
    /// and what this namespace may do there. Instead of `dataplane` and `kafkaConnect`; with it,
    /// `clusterName` is taken from the ConnectCluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_cluster_ref: Option<ConnectClusterReference>,

    /// How often to poll the connector's status, as a duration such as `30s`, `2m` or `1m30s`.
    /// At least `5s`, at most `24h`. Defaults to the operator's `--poll-interval` (30s unless changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    #[x_kube(validation = Rule::new("!self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('5s')").message("pollInterval must be at least 5s"))]
    #[x_kube(validation = Rule::new("!self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') || duration(self) <= duration('24h')").message("pollInterval must be at most 24h"))]
    pub poll_interval: Option<String>,

    /// Stop polling the Data Plane API. The last known status is kept and the Ready condition
    /// reports `Suspended`.
    #[serde(default)]
    pub suspend: bool,

    /// Restart failed tasks or a failed connector automatically. Unset or `type: Never`: never
    /// (the operator only reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,

    /// The connector's configuration, declared here (opt-in). When set, the operator creates the
    /// connector if it does not exist and puts this configuration whenever the connector's actual
    /// configuration differs. Unset: the resource only observes a connector someone else owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("maxProperties" = 1000, "additionalProperties" = {"type": "string", "maxLength": 65536}))]
    pub config: Option<BTreeMap<String, String>>,

    /// Configuration values read from Secret keys in this resource's namespace (passwords,
    /// tokens), merged into `config`. Their values never appear in the status, Events or logs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["key"]))]
    pub config_from: Vec<ConfigFromSecret>,

    /// The state the connector should be in: `Running` (default), `Paused` or `Stopped`. Needs
    /// `config` (the operator only changes connectors it is told to manage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<DesiredState>,

    /// What happens to the connector when this resource is deleted: `Orphan` (default: the
    /// connector stays) or `Delete` (the operator deletes it first, holding the resource with a
    /// finalizer until it has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,

    /// Take responsibility for a connector that already exists (created by hand, by Redpanda
    /// Console, by another tool): `deletionPolicy: Delete` then deletes it with the resource.
    /// Without it, only a connector this resource created is ever deleted (see
    /// `status.ownedConnector`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
}

/// Reference to a cluster-scoped `ConnectCluster`.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
pub struct ConnectClusterReference {
    /// Name of the ConnectCluster.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = DNS_SUBDOMAIN)
    )]
    pub name: String,
}

/// The connector a resource created or adopted: the only one `deletionPolicy: Delete` deletes.
#[derive(
    JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub struct OwnedConnector {
    /// `DataPlane` or `KafkaConnect`.
    pub source: String,
    /// Base URL of the source.
    pub url: String,
    /// Connect cluster name (Data Plane), empty for Kafka Connect.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster_name: String,
    /// Name of the connector.
    pub name: String,
}

/// When the operator restarts a failed connector or failed tasks by itself.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RestartPolicy {
    /// `Never` (default) or `OnFailure`: restart the failed connector instance and the failed
    /// tasks (never healthy ones), waiting longer before each restart.
    #[serde(rename = "type", default)]
    pub type_: RestartPolicyType,

    /// Give up after this many automatic restarts in a row (the count resets once the connector
    /// has been healthy for `resetAfter`). Unset: never give up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub max_restarts: Option<u32>,

    /// How long to wait before each automatic restart: restart number n+1 waits
    /// min((n*n + n) * base, max), Strimzi's curve (0, 2, 6, 12, 20, 30, 42, 56, then every 60
    /// minutes with the defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<RestartBackoff>,

    /// How long the connector must stay healthy before the restart count starts over, as a
    /// duration (`10m` unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub reset_after: Option<String>,
}

/// Whether the operator restarts failed connectors and tasks.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RestartPolicyType {
    /// Never restart automatically.
    #[default]
    Never,
    /// Restart failed instances, with backoff.
    OnFailure,
}

/// The restart backoff curve's unit and cap.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.max) || !self.max.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') || (has(self.base) && !self.base.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$')) || duration(self.max) >= duration(has(self.base) ? self.base : '1m')").message("backoff.max must be at least backoff.base (1m unless set): a smaller cap would restart a failing connector on every reconcile"))]
pub struct RestartBackoff {
    /// Unit of the curve, as a duration, at least `1s` (`1m` unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    #[x_kube(validation = Rule::new("!self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('1s')").message("backoff.base must be at least 1s"))]
    pub base: Option<String>,
    /// Longest wait between two restarts, as a duration (`60m` unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    pub max: Option<String>,
}

/// A configuration value held in a Secret key.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigFromSecret {
    /// The connector configuration key, for example `connection.password`.
    #[schemars(length(min = 1, max = 1024))]
    pub key: String,
    /// The Secret key holding the value.
    pub secret_key_ref: KeyReference,
}

/// The state a managed connector should be in.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DesiredState {
    /// Running (resumed if paused or stopped).
    #[default]
    Running,
    /// Paused: tasks stay assigned but process nothing.
    Paused,
    /// Stopped: tasks are shut down (Kafka Connect 3.5 and later).
    Stopped,
}

/// What deleting the resource does to the connector.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// The connector stays.
    #[default]
    Orphan,
    /// The connector is deleted before the resource goes.
    Delete,
}

impl Default for ManagedConnectorSpec {
    fn default() -> Self {
        Self {
            connector_name: None,
            cluster_name: default_cluster_name(),
            dataplane: None,
            kafka_connect: None,
            poll_interval: None,
            suspend: false,
            restart_policy: None,
            config: None,
            config_from: Vec::new(),
            state: None,
            deletion_policy: None,
            connect_cluster_ref: None,
            adopt: false,
        }
    }
}

fn default_cluster_name() -> String {
    DEFAULT_CLUSTER_NAME.to_string()
}

/// Connection to the Redpanda Cloud Data Plane API of the cluster that runs the connector.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DataplaneSource {
    /// Base URL of the cluster's Data Plane API, for example
    /// `https://api-a1b2c3.cabc123.fmc.prd.cloud.redpanda.com` (the Control Plane API returns it as
    /// `dataplane_api.url`). Defaults to the operator's `--dataplane-url`. A URL other than that
    /// one (or a host the operator trusts) must come with `credentialsSecretRef`: the
    /// operator's own credentials are not sent to URLs a resource chooses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = Rule::new("isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''").message("url must be an absolute http:// or https:// URL"))]
    #[x_kube(validation = Rule::new("!self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@')").message("url must not carry credentials (user:password@): use credentialsSecretRef"))]
    pub url: Option<String>,

    /// Secret, in this resource's namespace, holding the API credentials: either `client_id` and
    /// `client_secret` (OAuth2 client credentials, with optional `token_url` and `audience`), or
    /// `token` (a static bearer token). Defaults to the operator's `--credentials-secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretReference>,
}

/// A self-hosted Kafka Connect cluster's REST API.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KafkaConnectSource {
    /// Base URL of the Connect REST API, for example `http://connect.kafka.svc:8083`.
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new("isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''").message("url must be an absolute http:// or https:// URL"))]
    #[x_kube(validation = Rule::new("!self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@')").message("url must not carry credentials (user:password@): use credentialsSecretRef"))]
    pub url: String,

    /// Secret, in this resource's namespace, with `username` and `password` (HTTP basic
    /// authentication) or `token` (a bearer token). Omit when the REST API needs no credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretReference>,

    /// PEM CA certificate(s) to trust for an https URL, from a Secret or a ConfigMap key in this
    /// resource's namespace, in addition to the system's trusted roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaSource>,
}

/// Where a CA certificate comes from: exactly one of a Secret key or a ConfigMap key.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.secretKeyRef) != has(self.configMapKeyRef)").message("set exactly one of secretKeyRef and configMapKeyRef"))]
pub struct CaSource {
    /// A key of a Secret in this resource's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeyReference>,
    /// A key of a ConfigMap in this resource's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyReference>,
}

/// A key of a Secret or ConfigMap in the resource's namespace.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
pub struct KeyReference {
    /// Name of the Secret or ConfigMap.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = DNS_SUBDOMAIN)
    )]
    pub name: String,
    /// The key holding the PEM certificate(s), for example `ca.crt`.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

/// Reference to a Secret in the same namespace as the resource. There is deliberately no
/// namespace field: a resource can never make the operator read another namespace's Secret.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
pub struct SecretReference {
    /// Name of the Secret.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = DNS_SUBDOMAIN)
    )]
    pub name: String,
}

/// Observed state of the connector, as last reported by the Data Plane API.
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
    pub omitted_tasks: Option<OmittedTasks>,

    /// Running tasks out of all tasks, for example `3/4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_ready: Option<String>,

    /// Errors parsed from the connector and task traces: the connector's problem first, then one
    /// entry per failed task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ConnectorError>,

    /// `Ready` (is the connector healthy), `Synced` (did the last Data Plane call succeed),
    /// `Reconciling` (a transition is under way) and `Stalled` (needs attention).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// When the Data Plane API last answered successfully for this connector. Refreshed at most
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
    pub owned_connector: Option<OwnedConnector>,
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

/// Holistic state of a connector, as Redpanda defines it (see the README for the rules).
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
    /// Java stack trace of the last failure, cut to a bound (see the README).
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
    /// Java stack trace of the last failure, cut to a bound (see the README).
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

impl ManagedConnector {
    /// Whether the resource names ConnectCluster `name` in `spec.connectClusterRef`.
    pub fn names_cluster(&self, name: &str) -> bool {
        self.spec
            .connect_cluster_ref
            .as_ref()
            .is_some_and(|r| r.name == name)
    }

    /// Connector name to query: `spec.connectorName`, else `metadata.name`.
    pub fn connector_name(&self) -> String {
        self.spec
            .connector_name
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| self.metadata.name.clone())
            .unwrap_or_default()
    }
}

impl ManagedConnectorSpec {
    /// The poll interval, parsed as a Go duration the way the API server's CEL `duration()` does;
    /// `default` when unset. The API server refuses bad values; should one slip through (an
    /// object stored before the CRD was installed), the default is used rather than failing.
    pub fn poll_interval(&self, default: Duration) -> Duration {
        self.poll_interval
            .as_deref()
            .and_then(parse_go_duration)
            .map(|d| d.clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL))
            .unwrap_or(default)
    }
}

/// Parses a Go duration string (`1m30s`, `500ms`, `1.5h`) as Go's `time.ParseDuration` does,
/// up to its limit of 2^63-1 nanoseconds; `None` for negative, malformed or larger input.
///
/// Written here rather than taken from `kube::core::Duration`, whose parser panics on values
/// past `Duration`'s range (`6000000000000000h`): the input comes from tenants' specs.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.starts_with('-') {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let digits = |t: &str| t.bytes().take_while(u8::is_ascii_digit).count();
    let mut total: u128 = 0; // nanoseconds
    while !rest.is_empty() {
        let (whole, r) = rest.split_at(digits(rest));
        rest = r;
        let mut fraction = "";
        if let Some(r) = rest.strip_prefix('.') {
            let (f, r) = r.split_at(digits(r));
            fraction = f;
            rest = r;
        }
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_end = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (unit, r) = rest.split_at(unit_end);
        rest = r;
        let unit: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        total = total.checked_add(whole.checked_mul(unit)?)?;
        // As Go: fraction digits beyond what a nanosecond can tell are ignored.
        let (mut value, mut scale) = (0u128, 1u128);
        for d in fraction.bytes().take(18) {
            value = value * 10 + u128::from(d - b'0');
            scale *= 10;
        }
        total = total.checked_add(value * unit / scale)?;
        if total > i64::MAX as u128 {
            return None;
        }
    }
    let nanos = u64::try_from(total).ok()?;
    Some(Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_as_go_parses_them() {
        let ok = |s: &str, nanos: u64| {
            assert_eq!(
                parse_go_duration(s),
                Some(Duration::from_nanos(nanos)),
                "{s}"
            )
        };
        ok("0", 0);
        ok("30s", 30_000_000_000);
        ok("1m30s", 90_000_000_000);
        ok("2h45m", 9_900_000_000_000);
        ok("1.5h", 5_400_000_000_000);
        ok(".5s", 500_000_000);
        ok("1.s", 1_000_000_000);
        ok("300ms", 300_000_000);
        ok("10\u{b5}s", 10_000);
        ok("10us", 10_000);
        ok("7ns", 7);
        ok("+5s", 5_000_000_000);
        ok(" 5s ", 5_000_000_000);
        ok("1.0000000001s", 1_000_000_000);
        ok("9223372036854775807ns", i64::MAX as u64);
        ok("2562047h", 2_562_047 * 3_600_000_000_000);
        for bad in [
            "",
            "5",
            "s",
            "5x",
            "-5s",
            "-0",
            ".s",
            "1..5s",
            "5s-",
            "2562048h",
            "9223372036854775808ns",
            "6000000000000000h",
            "99999999999999999999999999999999999999999h",
        ] {
            assert_eq!(parse_go_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn poll_interval_parses_go_durations_and_falls_back_on_garbage() {
        let spec = |p: &str| ManagedConnectorSpec {
            poll_interval: Some(p.into()),
            ..Default::default()
        };
        let d = DEFAULT_POLL_INTERVAL;
        assert_eq!(spec("2m").poll_interval(d), Duration::from_secs(120));
        assert_eq!(spec("1m30s").poll_interval(d), Duration::from_secs(90));
        assert_eq!(spec("1s").poll_interval(d), MIN_POLL_INTERVAL);
        assert_eq!(spec("2000000h").poll_interval(d), MAX_POLL_INTERVAL);
        assert_eq!(spec("soon").poll_interval(d), d);
        assert_eq!(spec("-5m").poll_interval(d), d);
        assert_eq!(
            ManagedConnectorSpec::default().poll_interval(Duration::from_secs(60)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn connector_name_defaults_to_metadata_name() {
        let mut mc = ManagedConnector::new("orders-sink", ManagedConnectorSpec::default());
        assert_eq!(mc.connector_name(), "orders-sink");
        mc.spec.connector_name = Some("Orders_Sink.v2".into());
        assert_eq!(mc.connector_name(), "Orders_Sink.v2");
    }
}
