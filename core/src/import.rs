//! Connectors that run today turned into ManagedConnectors (pure), for teams bringing connectors
//! created by hand, by Redpanda Console or by scripts under Git without deleting and recreating
//! them. The operator's `import` command reads a live Connect cluster and hands each connector
//! here.
//!
//! Status-only by default (the resource reads the connector and changes nothing). With the
//! configuration, the resource adopts the connector (`adopt: true`, `deletionPolicy: Orphan`) and
//! declares exactly what runs, so the first reconcile finds no drift; values that look secret
//! are never printed: they become `configFrom` references to a Secret the user creates (named in
//! the notes, keys only).

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Where the imported resources read their connectors.
#[derive(Debug, Clone)]
pub enum Reads {
    /// `spec.kafkaConnect.url`.
    KafkaConnect(String),
    /// `spec.dataplane.url` and `spec.clusterName`.
    DataPlane {
        /// Data Plane URL.
        url: String,
        /// Connect cluster name.
        cluster: String,
    },
    /// `spec.connectClusterRef.name`: a ConnectCluster the platform declares.
    ConnectCluster(String),
}

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the resources read.
    pub reads: Reads,
    /// Namespace of the resources (none: left out, `kubectl apply -n` decides).
    pub namespace: Option<String>,
    /// Declare the live configuration (adopting the connector) rather than only read it.
    pub with_config: bool,
}

/// One imported connector.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The ManagedConnector.
    pub manifest: Value,
    /// What the user must do or know (the Secret to create, keys not carried over).
    pub notes: Vec<String>,
}

/// Key fragments whose values are secret (lower case).
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "credential",
    "private.key",
    "privatekey",
    "api.key",
    "apikey",
    "access.key",
    "sasl.jaas.config",
    "keystore.key",
];

/// Whether a configuration value is to be kept out of a printed manifest: its key names a
/// secret, or the source already masked it.
pub fn is_secret(key: &str, value: &str) -> bool {
    if value.starts_with("${") {
        // A config-provider placeholder: the worker resolves it, the text is no secret.
        return false;
    }
    let key = key.to_ascii_lowercase();
    value == "[hidden]" || SECRET_WORDS.iter().any(|w| key.contains(w))
}

/// A Kubernetes object name for a connector name: lower case, `[a-z0-9-.]`, at most 253
/// characters, never empty (`connector-<n>` when nothing is left).
pub fn resource_name(connector: &str, n: usize) -> String {
    let mut out = String::new();
    for c in connector.chars() {
        let c = c.to_ascii_lowercase();
        out.push(if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        });
    }
    let trimmed: String = out
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .take(253)
        .collect();
    let trimmed = trimmed
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if trimmed.is_empty() {
        format!("connector-{n}")
    } else {
        trimmed
    }
}

/// The ManagedConnector for connector `name` (the `n`-th imported), whose live configuration is
/// `config` (`None` when it was not read).
pub fn import(
    name: &str,
    n: usize,
    config: Option<&BTreeMap<String, String>>,
    o: &Options,
) -> Imported {
    let resource = resource_name(name, n);
    let mut notes = Vec::new();
    let mut spec = Map::new();
    spec.insert("connectorName".into(), json!(name));
    match &o.reads {
        Reads::KafkaConnect(url) => {
            spec.insert("kafkaConnect".into(), json!({"url": url}));
        }
        Reads::DataPlane { url, cluster } => {
            spec.insert("dataplane".into(), json!({"url": url}));
            spec.insert("clusterName".into(), json!(cluster));
        }
        Reads::ConnectCluster(c) => {
            spec.insert("connectClusterRef".into(), json!({"name": c}));
        }
    }
    if o.with_config {
        match config {
            Some(config) => declare(&resource, name, config, &mut spec, &mut notes),
            None => notes.push(format!(
                "{name}: its configuration could not be read; imported status-only"
            )),
        }
    }
    let mut metadata = json!({"name": resource});
    if let Some(ns) = &o.namespace {
        metadata["namespace"] = json!(ns);
    }
    Imported {
        manifest: json!({
            "apiVersion": "connectors.dataplane.dev/v1alpha1",
            "kind": "ManagedConnector",
            "metadata": metadata,
            "spec": spec,
        }),
        notes,
    }
}

/// `spec.config`, `spec.tasksMax` and `spec.configFrom` from the live configuration.
fn declare(
    resource: &str,
    name: &str,
    config: &BTreeMap<String, String>,
    spec: &mut Map<String, Value>,
    notes: &mut Vec<String>,
) {
    let secret = format!("{resource}-config");
    let mut plain = Map::new();
    let mut from = Vec::new();
    for (key, value) in config {
        if key == "name" {
            continue;
        }
        if key == "tasks.max"
            && let Ok(n) = value.parse::<u32>()
            && (1..=10_000).contains(&n)
        {
            spec.insert("tasksMax".into(), json!(n));
            continue;
        }
        if is_secret(key, value) {
            from.push(json!({"key": key, "secretKeyRef": {"name": secret, "key": key}}));
            if value == "[hidden]" {
                notes.push(format!(
                    "{name}: {key} came back masked ([hidden]): put the real value in Secret {secret}"
                ));
            }
        } else {
            plain.insert(key.clone(), json!(value));
        }
    }
    spec.insert("config".into(), Value::Object(plain));
    if !from.is_empty() {
        let keys: Vec<&str> = from.iter().filter_map(|f| f["key"].as_str()).collect();
        notes.push(format!(
            "{name}: create Secret {secret} with keys {} (the values the connector runs with; they are not printed): kubectl create secret generic {secret} {}",
            keys.join(", "),
            keys.iter()
                .map(|k| format!("--from-literal={k}=…"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        spec.insert("configFrom".into(), Value::Array(from));
    }
    spec.insert("adopt".into(), json!(true));
    spec.insert("deletionPolicy".into(), json!("Orphan"));
}

#[cfg(test)]
mod tests;
