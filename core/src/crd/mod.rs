//! The `ManagedConnector` custom resource: what users write (spec) and what the operator reports
//! (status).
//!
//! The CRD in `crds/` is generated from these types ([`crate::schema`]) and a test fails when
//! the committed file drifts. Validation that the API server can do itself lives here as
//! OpenAPI constraints and CEL rules, so a bad spec is refused at `kubectl apply` time with a message
//! that names the field, instead of surfacing later as a failed probe.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

mod duration;
mod status;

pub use duration::parse_go_duration;

/// CEL on every URL a spec holds: an absolute http(s) URL with a host.
pub(crate) fn http_url_rule() -> kube::core::Rule {
    kube::core::Rule::new("isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''").message("url must be an absolute http:// or https:// URL")
}

/// CEL on every URL a spec holds: no `user:password@` (credentials belong in a Secret, and a URL
/// is logged).
pub(crate) fn no_userinfo_rule() -> kube::core::Rule {
    kube::core::Rule::new("!self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@')")
        .message("url must not carry credentials (user:password@): use credentialsSecretRef")
}
pub use status::*;

/// Cluster name Redpanda Cloud uses for its managed Kafka Connect cluster.
pub const DEFAULT_CLUSTER_NAME: &str = "redpanda";
/// Poll interval when the spec sets none.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// A Kubernetes object name (RFC 1123 subdomain), as the API server validates Secret and
/// ConfigMap names.
const DNS_SUBDOMAIN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// Shortest poll interval the API server accepts; keeps a typo from hammering the source.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Longest poll interval the API server accepts: a connector unwatched for longer is not watched.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(86_400);

/// Watches one Kafka Connect connector and reports its health.
///
/// The operator polls the connector's status (Redpanda Cloud Data Plane API or a Kafka Connect
/// REST API) and writes the
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
    scale(
        spec_replicas_path = ".spec.tasksMax",
        status_replicas_path = ".status.taskCount"
    ),
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
#[x_kube(validation = Rule::new("!has(self.tasksMax) || has(self.config)").message("tasksMax needs config: it sets tasks.max of the configuration the operator puts (`config: {}` is not enough for a connector, name its connector.class)"))]
#[x_kube(validation = Rule::new("!has(self.tasksMax) || !has(self.config) || !('tasks.max' in self.config)").message("tasks.max is set in config and tasksMax: set one (tasksMax works with kubectl scale)"))]
#[x_kube(validation = Rule::new("!has(self.tasksMax) || !has(self.configFrom) || self.configFrom.all(f, f.key != 'tasks.max')").message("tasks.max comes from configFrom and tasksMax: set one"))]
#[x_kube(validation = Rule::new("!has(self.configFrom) || has(self.config)").message("configFrom needs config (it adds to spec.config; `config: {}` is fine)"))]
#[x_kube(validation = Rule::new("!has(self.configFrom) || !has(self.config) || self.configFrom.all(f, !(f.key in self.config))").message("a configFrom key is also set in config: set each key once"))]
#[x_kube(validation = Rule::new("has(self.connectClusterRef) ? !has(self.dataplane) && !has(self.kafkaConnect) : has(self.dataplane) != has(self.kafkaConnect)").message("set exactly one of connectClusterRef (a ConnectCluster the platform declares), dataplane (Redpanda Cloud Data Plane API; `dataplane: {}` uses the operator's defaults) and kafkaConnect (a Kafka Connect REST API)"))]
#[x_kube(validation = Rule::new("!has(self.config) || self.config.map(k, size(k) + size(self.config[k])).sum() <= 262144").message("spec.config holds at most 256 KiB of keys and values (put large values in a Secret and use configFrom)"))]
// kafkaConnect, restartPolicy and offsets are boxed: most resources have none of them, and the
// watch cache holds a spec per resource (a `None` box is 8 bytes, the inline structs 72-144).
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
    pub kafka_connect: Option<Box<KafkaConnectSource>>,

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

    /// Stop polling the connector's source. The last known status is kept and the Ready condition
    /// reports `Suspended`.
    #[serde(default)]
    pub suspend: bool,

    /// Restart failed tasks or a failed connector automatically. Unset or `type: Never`: never
    /// (the operator only reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<Box<RestartPolicy>>,

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

    /// The connector's `tasks.max`, put with `config` (which must not set it too). The scale
    /// subresource's replicas: `kubectl scale mconn NAME --replicas 3`, and autoscalers, set it.
    /// `status.taskCount` is how many tasks the connector runs (a connector may run fewer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub tasks_max: Option<i32>,

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

    /// Where the offsets requests of the `connectors.dataplane.dev/offsets` annotation (`list`,
    /// `alter`, `reset`) read and write the connector's offsets, on Kafka Connect. The Data Plane
    /// API has no offsets endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsets: Option<Box<OffsetsSpec>>,
}

/// Offsets of a Kafka Connect connector (KIP-875), on request.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OffsetsSpec {
    /// ConfigMap in this namespace that `list` writes the offsets to (key `offsets.json`, Kafka
    /// Connect's format); default `<resource name>-offsets`. The operator creates it, owned by
    /// this resource; a ConfigMap of that name it did not create is left alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub list_to_config_map: Option<String>,

    /// ConfigMap in this namespace that `alter` reads the offsets from (key `offsets.json`, the
    /// format `list` writes); default `<resource name>-offsets`, so a listed ConfigMap can be
    /// edited and altered from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub alter_from_config_map: Option<String>,

    /// For a source connector on Kafka Connect: Ready=False and Stalled=True (`OffsetsNotMoving`)
    /// when its offsets have not changed for this long while it and all of its tasks run (a
    /// task stuck on its source looks healthy otherwise). The offsets are read once per poll
    /// while set; off unless set. A source with nothing new to read looks the same: set it
    /// where data always arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))]
    #[x_kube(validation = Rule::new("!self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('1m')").message("offsets.stallAfter must be at least 1m"))]
    pub stall_after: Option<String>,
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
            tasks_max: None,
            state: None,
            deletion_policy: None,
            connect_cluster_ref: None,
            adopt: false,
            offsets: None,
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
    #[x_kube(validation = crate::crd::http_url_rule())]
    #[x_kube(validation = crate::crd::no_userinfo_rule())]
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
    #[x_kube(validation = crate::crd::http_url_rule())]
    #[x_kube(validation = crate::crd::no_userinfo_rule())]
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
    /// The key within it, for example `ca.crt` for a CA certificate or `password` for a
    /// `configFrom` value.
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

#[cfg(test)]
mod tests;
