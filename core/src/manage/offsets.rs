//! Offsets on request (pure): which request the `connectors.dataplane.dev/offsets` annotation
//! makes, whether it may run now, the bounded ConfigMap text a listing becomes, the checked body
//! an alteration sends, and the status and Event each result deserves. Kafka Connect has the
//! calls (KIP-875: `GET`, `PATCH`, `DELETE /connectors/{c}/offsets`; altering and resetting need
//! the connector `STOPPED`); the Data Plane API has none, and says so.
//!
//! Each value of the annotation runs once: a final result (succeeded, failed, invalid, not
//! supported) is recorded with the value in `status.offsets`; a request that waits for the
//! connector to stop, or that failed on the way (the worker unreachable), runs again later.

use crate::crd::{ManagedConnectorSpec, OffsetsStatus};
use crate::probe::Failure;
use crate::resolve::SourceKind;
use crate::status::EventSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;

/// `list`, `alter` or `reset` the connector's offsets once per new value; `list:2` (anything
/// after a colon) asks for the same operation again.
pub const OFFSETS_ANNOTATION: &str = "connectors.dataplane.dev/offsets";
/// Reset the connector's set of active topics once per new value.
pub const RESET_TOPICS_ANNOTATION: &str = "connectors.dataplane.dev/reset-topics";
/// The ConfigMap key holding the offsets (Strimzi's key, Kafka Connect's format).
pub const OFFSETS_KEY: &str = "offsets.json";
/// Bytes of offsets JSON written to or read from a ConfigMap at most (a ConfigMap holds 1 MiB).
pub const MAX_OFFSETS_BYTES: usize = 512 * 1024;
/// Partitions one alteration names at most.
pub const MAX_PARTITIONS: usize = 10_000;

/// Result words of `status.offsets.result`.
pub const SUCCEEDED: &str = "Succeeded";
/// The source refused the request, or what it answered could not be used: final.
pub const FAILED: &str = "Failed";
/// The annotation names no operation: final.
pub const INVALID: &str = "Invalid";
/// The source has no offsets API: final.
pub const NOT_SUPPORTED: &str = "NotSupported";
/// Altering or resetting waits for the connector to be stopped.
pub const WAITING_FOR_STOP: &str = "WaitingForStop";
/// Failed on the way (the worker unreachable, no request slot): run again.
pub const RETRYING: &str = "Retrying";

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Write the offsets to a ConfigMap.
    List,
    /// Set the offsets a ConfigMap holds.
    Alter,
    /// Forget every offset.
    Reset,
}

impl Operation {
    /// The annotation's word.
    pub fn word(self) -> &'static str {
        match self {
            Operation::List => "list",
            Operation::Alter => "alter",
            Operation::Reset => "reset",
        }
    }

    /// Label for metrics.
    pub fn verb(self) -> &'static str {
        match self {
            Operation::List => "list_offsets",
            Operation::Alter => "alter_offsets",
            Operation::Reset => "reset_offsets",
        }
    }
}

/// What to do about the annotation now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing asked, or the value was acted on.
    Idle,
    /// Run it (`config_map`: where a list writes or an alteration reads).
    Run {
        /// The annotation's value.
        request: String,
        /// The operation.
        operation: Operation,
        /// The ConfigMap of list and alter.
        config_map: Option<String>,
    },
    /// Not run now: record this, and publish the Event when there is one.
    Record(OffsetsStatus, Option<EventSpec>),
}

/// What one reconcile knows about the request.
pub struct Inputs<'a> {
    /// The resource's annotations.
    pub annotations: &'a BTreeMap<String, String>,
    /// The resource's name (the default ConfigMap is `<name>-offsets`).
    pub resource: &'a str,
    /// The spec.
    pub spec: &'a ManagedConnectorSpec,
    /// The connector's name.
    pub connector: &'a str,
    /// `status.offsets` as stored.
    pub stored: Option<&'a OffsetsStatus>,
    /// The source.
    pub source: SourceKind,
    /// The connector's state as observed now (`None`: not known this time).
    pub state: Option<&'a str>,
    /// Now.
    pub now: Timestamp,
}

/// Whether a result is final: the value it belongs to is not acted on again.
pub fn is_final(result: &str) -> bool {
    !matches!(result, WAITING_FOR_STOP | RETRYING)
}

/// Whether the resource asks for offsets or a topics reset (so the operator acts on it).
pub fn wants(annotations: &BTreeMap<String, String>) -> bool {
    annotations.contains_key(OFFSETS_ANNOTATION)
        || annotations.contains_key(RESET_TOPICS_ANNOTATION)
}

/// The decision for the offsets annotation.
pub fn decide(i: &Inputs<'_>) -> Decision {
    let Some(value) = i.annotations.get(OFFSETS_ANNOTATION) else {
        return Decision::Idle;
    };
    if i.stored
        .is_some_and(|s| &s.request == value && is_final(&s.result))
    {
        return Decision::Idle;
    }
    let name = i.connector;
    let record = |operation: &str, result: &str, message: String, warning: bool| {
        let same = i
            .stored
            .is_some_and(|s| &s.request == value && s.result == result);
        let status = OffsetsStatus {
            request: value.clone(),
            operation: operation.to_string(),
            result: result.to_string(),
            message: message.clone(),
            partitions: None,
            config_map: None,
            time: Time(i.now),
        };
        // One Event per request and result, not one per reconcile while it waits.
        let event = (!same).then(|| EventSpec {
            warning,
            reason: format!("Offsets{result}"),
            note: message,
        });
        match (same, i.stored) {
            (true, Some(s)) => Decision::Record(s.clone(), None),
            _ => Decision::Record(status, event),
        }
    };
    let word = value.split(':').next().unwrap_or("").trim();
    let operation = match word {
        "list" => Operation::List,
        "alter" => Operation::Alter,
        "reset" => Operation::Reset,
        _ => {
            return record(
                "",
                INVALID,
                format!(
                    "annotation {OFFSETS_ANNOTATION} is {value:?}: expected list, alter or reset (add \":<anything>\" to ask again, such as \"list:2\")"
                ),
                true,
            );
        }
    };
    if i.source == SourceKind::DataPlane {
        return record(
            operation.word(),
            NOT_SUPPORTED,
            format!(
                "connector {name}: the Redpanda Cloud Data Plane API has no offsets endpoint, so offsets cannot be {}; use a kafkaConnect source, or Redpanda Console",
                past(operation)
            ),
            true,
        );
    }
    let Some(state) = i.state else {
        // The connector's state is not known this time (the source failed): ask again later.
        return Decision::Idle;
    };
    if operation != Operation::List && state != "STOPPED" {
        return record(
            operation.word(),
            WAITING_FOR_STOP,
            format!(
                "offsets of connector {name} can only be {} while it is stopped, and it is {state}: set spec.state: Stopped (the request runs once it is stopped)",
                past(operation)
            ),
            true,
        );
    }
    let config_map = match operation {
        Operation::Reset => None,
        Operation::List => Some(config_map_name(
            i.spec
                .offsets
                .as_ref()
                .and_then(|o| o.list_to_config_map.as_deref()),
            i.resource,
        )),
        Operation::Alter => Some(config_map_name(
            i.spec
                .offsets
                .as_ref()
                .and_then(|o| o.alter_from_config_map.as_deref()),
            i.resource,
        )),
    };
    Decision::Run {
        request: value.clone(),
        operation,
        config_map,
    }
}

fn past(operation: Operation) -> &'static str {
    match operation {
        Operation::List => "listed",
        Operation::Alter => "altered",
        Operation::Reset => "reset",
    }
}

/// The ConfigMap a request uses: the spec's, else `<resource>-offsets` (cut to a valid name).
pub fn config_map_name(declared: Option<&str>, resource: &str) -> String {
    match declared {
        Some(name) => name.to_string(),
        None => {
            let base: String = resource.chars().take(253 - "-offsets".len()).collect();
            format!("{}-offsets", base.trim_end_matches(['-', '.']))
        }
    }
}

/// Offsets as Kafka Connect lists and alters them: `{"offsets": [{"partition": {..}, "offset":
/// {..} | null}]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Offsets {
    /// The document, checked.
    pub body: Value,
    /// How many partitions it names.
    pub partitions: usize,
}

/// Checks a listing or a ConfigMap's text: the shape Kafka Connect uses, at most
/// [`MAX_PARTITIONS`] partitions and [`MAX_OFFSETS_BYTES`].
pub fn parse(text: &[u8]) -> Result<Offsets, String> {
    if text.len() > MAX_OFFSETS_BYTES {
        return Err(format!(
            "the offsets are {} bytes, more than the {MAX_OFFSETS_BYTES} a request handles",
            text.len()
        ));
    }
    let body: Value = serde_json::from_slice(text).map_err(|e| {
        format!(
            "the offsets are not JSON: {}",
            crate::probe::describe_json_error(&e)
        )
    })?;
    let entries = body
        .get("offsets")
        .and_then(Value::as_array)
        .ok_or("the offsets document has no \"offsets\" list")?;
    if entries.len() > MAX_PARTITIONS {
        return Err(format!(
            "the offsets name {} partitions, more than the {MAX_PARTITIONS} a request handles",
            entries.len()
        ));
    }
    for (n, e) in entries.iter().enumerate() {
        let partition_ok = e.get("partition").is_some_and(Value::is_object);
        let offset_ok = e
            .get("offset")
            .is_some_and(|o| o.is_object() || o.is_null());
        if !partition_ok || !offset_ok {
            return Err(format!(
                "offsets entry {n} needs a \"partition\" object and an \"offset\" object (or null)"
            ));
        }
    }
    let partitions = entries.len();
    Ok(Offsets { body, partitions })
}

/// The ConfigMap text of a listing: indented, so that a person can edit it and alter from it.
pub fn render(offsets: &Offsets) -> Result<String, String> {
    let text = serde_json::to_string_pretty(&offsets.body).map_err(|e| e.to_string())?;
    if text.len() > MAX_OFFSETS_BYTES {
        return Err(format!(
            "the offsets are {} bytes, more than the {MAX_OFFSETS_BYTES} a ConfigMap is given",
            text.len()
        ));
    }
    Ok(text)
}

/// The status and Event of a request that ran: `Ok(partitions)` or why not. A failure a person
/// need not fix (the worker unreachable) is retried; any other is final.
pub fn finished(
    request: &str,
    operation: Operation,
    config_map: Option<&str>,
    connector: &str,
    result: Result<Option<usize>, Failure>,
    now: Timestamp,
) -> (OffsetsStatus, EventSpec) {
    let (result, message, partitions) = match result {
        Ok(partitions) => {
            let what = match (operation, config_map, partitions) {
                (Operation::List, Some(cm), Some(n)) => {
                    format!(
                        "listed the offsets of {n} partitions of connector {connector} to ConfigMap {cm}"
                    )
                }
                (Operation::Alter, Some(cm), Some(n)) => {
                    format!(
                        "altered the offsets of {n} partitions of connector {connector} from ConfigMap {cm}"
                    )
                }
                _ => format!("reset the offsets of connector {connector}"),
            };
            (SUCCEEDED, what, partitions)
        }
        Err(f) => {
            let result = if f.kind.needs_attention() {
                FAILED
            } else {
                RETRYING
            };
            let message = format!(
                "could not {} the offsets of connector {connector}: {}",
                operation.word(),
                f.message
            );
            (result, message, None)
        }
    };
    let status = OffsetsStatus {
        request: request.to_string(),
        operation: operation.word().to_string(),
        result: result.to_string(),
        message: message.clone(),
        partitions: partitions.and_then(|n| i32::try_from(n).ok()),
        config_map: config_map.map(str::to_string),
        time: Time(now),
    };
    let event = EventSpec {
        warning: result != SUCCEEDED,
        reason: format!("Offsets{result}"),
        note: message,
    };
    (status, event)
}

/// The topics reset the `reset-topics` annotation asks for: its value, when not handled yet.
pub fn topics_reset(
    annotations: &BTreeMap<String, String>,
    handled: Option<&str>,
) -> Option<String> {
    annotations
        .get(RESET_TOPICS_ANNOTATION)
        .filter(|v| handled != Some(v.as_str()))
        .cloned()
}

#[cfg(test)]
mod tests;
