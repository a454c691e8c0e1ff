//! Strimzi `KafkaConnector` resources converted into ManagedConnectors (pure), for teams moving
//! connectors that Strimzi manages today under this operator without deleting and recreating
//! them.
//!
//! The result adopts the running connector (`adopt: true`) and never deletes it
//! (`deletionPolicy: Orphan`), and its declared configuration is exactly what Strimzi puts
//! (`connector.class` and `spec.config`, values as strings, `tasksMax` as `spec.tasksMax`, config-provider
//! placeholders such as `${secrets:ns/name:key}` kept as written, since the worker resolves them),
//! so the first reconcile finds nothing to change: adopting restarts and rewrites nothing.

use serde_json::{Map, Value, json};

/// Where the converted resources read their connectors.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The ConnectCluster to reference; unset: the `strimzi.io/cluster` label's value.
    pub connect_cluster: Option<String>,
    /// The namespace to put the resources in; unset: the KafkaConnector's own.
    pub namespace: Option<String>,
}

/// One converted resource and what did not carry over.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// The ManagedConnector manifest.
    pub manifest: Value,
    /// What was left out or changed, for the person running the conversion.
    pub notes: Vec<String>,
}

/// Why a document could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// Not a `kafka.strimzi.io` KafkaConnector.
    #[error("not a Strimzi KafkaConnector (apiVersion {api_version:?}, kind {kind:?})")]
    NotAKafkaConnector {
        /// What the document says.
        api_version: String,
        /// What the document says.
        kind: String,
    },
    /// A field that must be there is missing or has the wrong type.
    #[error("KafkaConnector {name}: {field} {problem}")]
    Field {
        /// metadata.name, or `?`.
        name: String,
        /// The field's path.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

const LABEL_CLUSTER: &str = "strimzi.io/cluster";

fn field(name: &str, field: &str, problem: &str) -> ConvertError {
    ConvertError::Field {
        name: name.to_string(),
        field: field.to_string(),
        problem: problem.to_string(),
    }
}

/// A config value as Kafka Connect holds it: a string (Strimzi's CRD takes numbers and booleans).
fn config_value(name: &str, key: &str, value: &Value) -> Result<String, ConvertError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(field(
            name,
            &format!("spec.config.{key}"),
            "is not a string, number or boolean",
        )),
    }
}

/// Labels and annotations without Strimzi's own (`strimzi.io/...`), which mean nothing here.
fn without_strimzi(map: Option<&Value>) -> Option<Value> {
    let kept: Map<String, Value> = map?
        .as_object()?
        .iter()
        .filter(|(k, _)| !k.starts_with("strimzi.io/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!kept.is_empty()).then_some(Value::Object(kept))
}

/// Converts one KafkaConnector.
pub fn convert(doc: &Value, target: &Target) -> Result<Converted, ConvertError> {
    let api_version = doc["apiVersion"].as_str().unwrap_or_default();
    let kind = doc["kind"].as_str().unwrap_or_default();
    if !api_version.starts_with("kafka.strimzi.io/") || kind != "KafkaConnector" {
        return Err(ConvertError::NotAKafkaConnector {
            api_version: api_version.into(),
            kind: kind.into(),
        });
    }
    let meta = &doc["metadata"];
    let name = meta["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| field("?", "metadata.name", "is missing"))?;
    let spec = doc["spec"]
        .as_object()
        .ok_or_else(|| field(name, "spec", "is missing"))?;
    let mut notes = Vec::new();

    let cluster = match (
        &target.connect_cluster,
        meta["labels"][LABEL_CLUSTER].as_str(),
    ) {
        (Some(c), _) => c.clone(),
        (None, Some(label)) => label.to_string(),
        (None, None) => {
            return Err(field(
                name,
                &format!("metadata.labels.{LABEL_CLUSTER}"),
                "is missing: name the ConnectCluster to use (--connect-cluster)",
            ));
        }
    };

    let class = spec
        .get("class")
        .and_then(Value::as_str)
        .ok_or_else(|| field(name, "spec.class", "is missing"))?;
    let mut config = Map::new();
    if let Some(extra) = spec.get("config") {
        let extra = extra
            .as_object()
            .ok_or_else(|| field(name, "spec.config", "is not a map"))?;
        for (key, value) in extra {
            if key == "connector.class" || key == "tasks.max" {
                notes.push(format!(
                    "{name}: spec.config.{key} left out: Strimzi takes spec.class and spec.tasksMax instead"
                ));
                continue;
            }
            config.insert(key.clone(), Value::String(config_value(name, key, value)?));
        }
    }
    config.insert("connector.class".into(), Value::String(class.into()));
    let tasks_max = match spec.get("tasksMax") {
        Some(tasks) => Some(
            tasks
                .as_u64()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| {
                    field(
                        name,
                        "spec.tasksMax",
                        "is not a whole number from 1 to 10000",
                    )
                })?,
        ),
        None => None,
    };

    let mut out = json!({
        "connectorName": name,
        "connectClusterRef": {"name": cluster},
        "config": config,
        "adopt": true,
        "deletionPolicy": "Orphan",
    });
    if let Some(n) = tasks_max {
        // Put as `tasks.max`, as Strimzi put it; scalable like Strimzi's (`kubectl scale`).
        out["tasksMax"] = json!(n);
    }
    let state = match spec.get("state").and_then(Value::as_str) {
        Some("running") => None,
        Some("paused") => Some("Paused"),
        Some("stopped") => Some("Stopped"),
        Some(other) => {
            return Err(field(
                name,
                "spec.state",
                &format!("is {other:?}, not running, paused or stopped"),
            ));
        }
        None if spec.get("pause").and_then(Value::as_bool) == Some(true) => Some("Paused"),
        None => None,
    };
    if let Some(state) = state {
        out["state"] = json!(state);
    }
    if let Some(auto) = spec.get("autoRestart")
        && auto["enabled"].as_bool() == Some(true)
    {
        // Strimzi waits min(n*n + n, 60) minutes before restart n+1: the operator's default
        // curve (base 1m, max 60m), so no backoff is written.
        let mut policy = json!({"type": "OnFailure"});
        if let Some(max) = auto["maxRestarts"].as_u64() {
            policy["maxRestarts"] = json!(max);
        }
        out["restartPolicy"] = policy;
    }
    // Strimzi's ConfigMaps hold the same `offsets.json`; a listing is written only to one this
    // resource creates, so a ConfigMap Strimzi made is read (alter) but not listed over.
    let mut offsets = serde_json::Map::new();
    for (strimzi, field, ours) in [
        ("listOffsets", "toConfigMap", "listToConfigMap"),
        ("alterOffsets", "fromConfigMap", "alterFromConfigMap"),
    ] {
        if let Some(cm) = spec.get(strimzi).and_then(|o| o[field]["name"].as_str()) {
            offsets.insert(ours.into(), json!(cm));
        } else if spec.contains_key(strimzi) {
            notes.push(format!(
                "{name}: spec.{strimzi} names no ConfigMap and is not converted"
            ));
        }
    }
    if !offsets.is_empty() {
        notes.push(format!(
            "{name}: offsets are asked for with the connectors.dataplane.dev/offsets annotation (list, alter, reset), not strimzi.io/connector-offsets; a listing is written only to a ConfigMap the ManagedConnector creates"
        ));
        out["offsets"] = Value::Object(offsets);
    }
    if spec.contains_key("version") {
        notes.push(format!("{name}: spec.version is not converted"));
    }
    for key in spec.keys() {
        let known = [
            "class",
            "tasksMax",
            "config",
            "state",
            "pause",
            "autoRestart",
            "listOffsets",
            "alterOffsets",
            "version",
        ];
        if !known.contains(&key.as_str()) {
            notes.push(format!(
                "{name}: spec.{key} is not known here and not converted"
            ));
        }
    }

    let mut metadata = json!({"name": name});
    if let Some(ns) = target.namespace.as_deref().or(meta["namespace"].as_str()) {
        metadata["namespace"] = json!(ns);
    }
    if let Some(labels) = without_strimzi(meta.get("labels")) {
        metadata["labels"] = labels;
    }
    if let Some(annotations) = without_strimzi(meta.get("annotations")) {
        metadata["annotations"] = annotations;
    }
    Ok(Converted {
        manifest: json!({
            "apiVersion": "connectors.dataplane.dev/v1alpha1",
            "kind": "ManagedConnector",
            "metadata": metadata,
            "spec": out,
        }),
        notes,
    })
}

#[cfg(test)]
mod tests;
