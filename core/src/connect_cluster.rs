//! The `ConnectCluster` custom resource (cluster-scoped): a Connect cluster the platform team
//! declares once, with its credentials, which namespaces may use it and what they may do there.
//! Tenants name it in `spec.connectClusterRef` instead of repeating URLs and Secrets, as
//! cert-manager's ClusterIssuer or External Secrets' ClusterSecretStore do.
//!
//! Pure types and rules (no client): which namespace may use a cluster and which connector names
//! it may act on are decided here ([`ConnectClusterSpec::admits`], [`ConnectClusterSpec::may_act_on`]).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector, Time};
use kube::core::{Selector, SelectorExt};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A Kubernetes object or namespace name (RFC 1123 subdomain).
const DNS_SUBDOMAIN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// A namespace name (RFC 1123 label).
const DNS_LABEL: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// The placeholder of [`ConnectClusterSpec::connector_name_prefix`].
pub const NAMESPACE_PLACEHOLDER: &str = "{namespace}";

/// A Kafka Connect cluster declared by the platform team for tenants to use by name.
///
/// Holds the source (Data Plane API or Kafka Connect REST API) and its credentials, which
/// namespaces may use it (`namespaceSelector`), whether they may only read status or also act
/// (`access`) and on which connector names (`connectorNamePrefix`).
// Each printcolumn repeats `type_`/`priority`, which clippy mistakes for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "connectors.dataplane.dev",
    version = "v1alpha1",
    kind = "ConnectCluster",
    plural = "connectclusters",
    shortname = "ccluster",
    category = "connectors",
    status = "ConnectClusterStatus",
    doc = "A Kafka Connect cluster the platform declares for tenants to use by name.",
    printcolumn(
        name = "Access",
        type_ = "string",
        json_path = ".spec.access",
        description = "What tenants may do: Read or Act"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status",
        description = "Whether the cluster's source answered"
    ),
    printcolumn(
        name = "Used-By",
        type_ = "integer",
        json_path = ".status.usedBy",
        description = "ManagedConnectors that name this cluster"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
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
#[x_kube(validation = Rule::new("has(self.dataplane) != has(self.kafkaConnect)").message("set exactly one of dataplane and kafkaConnect"))]
pub struct ConnectClusterSpec {
    /// The cluster is a Redpanda Cloud Connect cluster, read and changed through the Data Plane API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataplane: Option<PlatformDataplane>,

    /// The cluster is a self-hosted Kafka Connect cluster, read and changed through its REST API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_connect: Option<PlatformKafkaConnect>,

    /// Namespaces whose ManagedConnectors may use this cluster, by their labels (for example
    /// `matchLabels: {kubernetes.io/metadata.name: team-a}`). Unset: every namespace; `{}` too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,

    /// What those namespaces may do: `Read` (default: status only; spec.config, spec.state,
    /// restarts and deletion are refused) or `Act` (also change connectors, within
    /// `connectorNamePrefix`).
    #[serde(default)]
    pub access: Access,

    /// With `access: Act`, the connector names a namespace may act on start with this prefix, in
    /// which `{namespace}` stands for the resource's namespace (for example `{namespace}-`, so
    /// team-a acts only on `team-a-…` connectors). Unset: any name. Reading is never limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    #[x_kube(validation = Rule::new("self.replace('{namespace}', '').matches('^[a-zA-Z0-9._-]*$')").message("connectorNamePrefix may hold letters, digits, '.', '_', '-' and the placeholder {namespace}"))]
    pub connector_name_prefix: Option<String>,
}

/// What tenants may do on a [`ConnectCluster`].
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Access {
    /// Read connector status only.
    #[default]
    Read,
    /// Read and change connectors (config, state, restarts, deletion).
    Act,
}

/// A Data Plane source declared by the platform.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PlatformDataplane {
    /// Base URL of the cluster's Data Plane API. Defaults to the operator's `--dataplane-url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = crate::crd::http_url_rule())]
    #[x_kube(validation = crate::crd::no_userinfo_rule())]
    pub url: Option<String>,

    /// Name of the Kafka Connect cluster in the Data Plane API (Redpanda Cloud: `redpanda`).
    #[serde(default = "default_cluster_name")]
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[a-zA-Z0-9-_]+$"))]
    pub cluster_name: String,

    /// Secret with `client_id` and `client_secret` (or `token`). Defaults to the operator's
    /// `--credentials-secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<NamespacedSecretReference>,
}

fn default_cluster_name() -> String {
    crate::crd::DEFAULT_CLUSTER_NAME.to_string()
}

/// A Kafka Connect REST API declared by the platform.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PlatformKafkaConnect {
    /// Base URL of the Connect REST API, for example `http://connect.kafka.svc:8083`.
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = crate::crd::http_url_rule())]
    #[x_kube(validation = crate::crd::no_userinfo_rule())]
    pub url: String,

    /// Secret with `username` and `password` (basic authentication) or `token` (bearer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<NamespacedSecretReference>,

    /// PEM CA certificate(s) to trust for an https URL, from a Secret or ConfigMap key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<NamespacedCaSource>,
}

/// A Secret in a namespace the platform chooses (usually the operator's).
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
pub struct NamespacedSecretReference {
    /// Namespace of the Secret.
    #[schemars(length(min = 1, max = 63), regex(pattern = DNS_LABEL))]
    pub namespace: String,
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253), regex(pattern = DNS_SUBDOMAIN))]
    pub name: String,
}

/// Where a CA certificate comes from: exactly one of a Secret key or a ConfigMap key.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.secretKeyRef) != has(self.configMapKeyRef)").message("set exactly one of secretKeyRef and configMapKeyRef"))]
pub struct NamespacedCaSource {
    /// A key of a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<NamespacedKeyReference>,
    /// A key of a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<NamespacedKeyReference>,
}

/// A key of a Secret or ConfigMap in a named namespace.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
pub struct NamespacedKeyReference {
    /// Namespace of the Secret or ConfigMap.
    #[schemars(length(min = 1, max = 63), regex(pattern = DNS_LABEL))]
    pub namespace: String,
    /// Name of the Secret or ConfigMap.
    #[schemars(length(min = 1, max = 253), regex(pattern = DNS_SUBDOMAIN))]
    pub name: String,
    /// The key holding the PEM certificate(s), for example `ca.crt`.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

/// What the operator observed of a [`ConnectCluster`].
#[derive(JsonSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConnectClusterStatus {
    /// `Ready`: whether the source answered a cheap call with these credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// How many ManagedConnectors (of the namespaces this operator watches) name this cluster.
    #[serde(default)]
    pub used_by: u32,
    /// The generation the conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When the source was last asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checked: Option<Time>,
}

/// Why a namespace may not use a cluster, or act on a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl ConnectClusterSpec {
    /// Whether resources of a namespace with these labels may use the cluster (pure).
    pub fn admits(&self, namespace_labels: &BTreeMap<String, String>) -> Result<bool, Refusal> {
        let Some(selector) = &self.namespace_selector else {
            return Ok(true);
        };
        let selector = Selector::try_from(selector.clone())
            .map_err(|e| Refusal(format!("its namespaceSelector is invalid: {e}")))?;
        Ok(selector.matches(namespace_labels))
    }

    /// The prefix a namespace's connector names must have to be acted on, if any (pure).
    pub fn prefix_for(&self, namespace: &str) -> Option<String> {
        self.connector_name_prefix
            .as_ref()
            .map(|p| p.replace(NAMESPACE_PLACEHOLDER, namespace))
    }

    /// Whether a resource of `namespace` may act on connector `connector` (pure).
    pub fn may_act_on(&self, namespace: &str, connector: &str) -> Result<(), Refusal> {
        if self.access != Access::Act {
            return Err(Refusal(
                "grants Read access only: changing connectors (spec.config, spec.state, restarts, deletionPolicy: Delete) is not allowed there".into(),
            ));
        }
        match self.prefix_for(namespace) {
            Some(prefix) if !connector.starts_with(&prefix) => Err(Refusal(format!(
                "lets namespace {namespace} act only on connectors whose name starts with {prefix:?}"
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(value: serde_json::Value) -> ConnectClusterSpec {
        serde_json::from_value(value).expect("spec")
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn namespaces_are_admitted_by_their_labels() {
        let open = spec(serde_json::json!({"kafkaConnect": {"url": "http://c:8083"}}));
        assert_eq!(open.admits(&labels(&[])), Ok(true));
        let teams = spec(serde_json::json!({"kafkaConnect": {"url": "http://c:8083"},
            "namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["a", "b"]}]}}));
        assert_eq!(teams.admits(&labels(&[("team", "a")])), Ok(true));
        assert_eq!(teams.admits(&labels(&[("team", "c")])), Ok(false));
        assert_eq!(teams.admits(&labels(&[])), Ok(false));
        let broken = spec(serde_json::json!({"kafkaConnect": {"url": "http://c:8083"},
            "namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "Near"}]}}));
        assert!(broken.admits(&labels(&[("team", "a")])).is_err());
    }

    #[test]
    fn acting_needs_act_access_and_the_namespace_prefix() {
        let read = spec(serde_json::json!({"kafkaConnect": {"url": "http://c:8083"}}));
        assert!(read.may_act_on("team-a", "anything").is_err());
        let act = spec(serde_json::json!({"kafkaConnect": {"url": "http://c:8083"},
            "access": "Act", "connectorNamePrefix": "{namespace}-"}));
        assert_eq!(act.may_act_on("team-a", "team-a-orders"), Ok(()));
        let refused = act
            .may_act_on("team-a", "team-b-orders")
            .expect_err("refused");
        assert!(refused.0.contains("\"team-a-\""), "{}", refused.0);
        assert!(
            act.may_act_on("team-a", "team-a").is_err(),
            "the prefix includes the dash"
        );
        let any =
            spec(serde_json::json!({"kafkaConnect": {"url": "http://c:8083"}, "access": "Act"}));
        assert_eq!(any.may_act_on("team-a", "whatever"), Ok(()));
    }
}
