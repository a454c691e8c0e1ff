//! Pre-flight (pure): before a declared configuration is put, whether the Connect cluster has
//! the plugin it names ([`lookup`]) and what the plugin's own validation says about it
//! ([`invalid`]). Either refusal becomes the failure of the put itself, so the status, the Event
//! and the memory of refused declarations treat it as a refused put that was never sent: a bad
//! configuration put anyway would create a connector that fails, or replace a working one.

use crate::crd::{InvalidField, PluginStatus};
use crate::probe::{Failure, FailureKind};
use crate::redact::Redactor;
use crate::status::cut;
use serde::Deserialize;

/// The key naming the connector's plugin.
pub const CLASS_KEY: &str = "connector.class";
/// The key pinning the plugin's version (KIP-891, Kafka 4.1).
pub const VERSION_KEY: &str = "connector.plugin.version";
/// Fields of a validation answer kept in `status.config.invalidFields`.
pub const MAX_INVALID_FIELDS: usize = 32;
/// Messages kept per field.
pub const MAX_FIELD_ERRORS: usize = 4;
/// Bytes kept per message.
pub const MAX_ERROR_BYTES: usize = 512;
/// Plugins kept from one cluster's list (a cluster, or whatever answers at its URL, may list
/// any number).
pub const MAX_PLUGINS: usize = 2_000;
/// Classes a "not found" message names.
const NAMED_PLUGINS: usize = 10;

/// A connector plugin as a Connect cluster lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Plugin {
    /// Fully qualified class.
    pub class: String,
    /// `source` or `sink` (Kafka Connect also lists transformations and converters when asked).
    #[serde(rename = "type", default)]
    pub type_: String,
    /// Version.
    #[serde(default)]
    pub version: String,
}

/// Whether `declared` names `class`: the class itself, or an alias Kafka Connect accepts for it
/// (its simple name, and the simple name without a `Connector` suffix).
pub fn names(declared: &str, class: &str) -> bool {
    if declared == class {
        return true;
    }
    let simple = class.rsplit('.').next().unwrap_or(class);
    declared == simple || simple.strip_suffix("Connector") == Some(declared)
}

/// Whether a declared version is a range (`[1.0,2.0)`), which the cluster evaluates and this
/// check leaves to it.
fn is_range(version: &str) -> bool {
    version.starts_with(['[', '('])
}

/// `status.plugin` for the declared class and version, from the cluster's plugins.
pub fn lookup(plugins: &[Plugin], class: &str, version: Option<&str>) -> PluginStatus {
    let wanted = version.filter(|v| !v.is_empty() && !is_range(v));
    let candidates = plugins.iter().filter(|p| names(class, &p.class));
    let matching: Vec<&Plugin> = match wanted {
        Some(v) => candidates.filter(|p| p.version == v).collect(),
        None => candidates.collect(),
    };
    match matching.first() {
        Some(p) => PluginStatus {
            class: p.class.clone(),
            version: (!p.version.is_empty()).then(|| p.version.clone()),
            type_: (!p.type_.is_empty()).then(|| p.type_.clone()),
            found: true,
        },
        None => PluginStatus {
            class: cut(class, MAX_ERROR_BYTES),
            version: None,
            type_: None,
            found: false,
        },
    }
}

/// The failure a missing plugin is: what was declared, what the cluster has instead.
pub fn not_found(class: &str, version: Option<&str>, plugins: &[Plugin]) -> Failure {
    let class = cut(class, MAX_ERROR_BYTES);
    let installed: Vec<&Plugin> = plugins.iter().filter(|p| names(&class, &p.class)).collect();
    let what = match (version, installed.is_empty()) {
        (Some(v), false) => {
            let versions: Vec<&str> = installed.iter().map(|p| p.version.as_str()).collect();
            format!(
                "the Connect cluster has {class} only in version {}, not {} ({VERSION_KEY})",
                versions.join(", "),
                cut(v, 64)
            )
        }
        _ => {
            let mut classes: Vec<&str> = plugins
                .iter()
                .filter(|p| matches!(p.type_.as_str(), "source" | "sink" | ""))
                .map(|p| p.class.as_str())
                .collect();
            classes.sort_unstable();
            classes.dedup();
            let more = classes.len().saturating_sub(NAMED_PLUGINS);
            let mut named = classes
                .iter()
                .take(NAMED_PLUGINS)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            if named.is_empty() {
                named = "none".into();
            }
            if more > 0 {
                named.push_str(&format!(" and {more} more"));
            }
            format!("the Connect cluster has no plugin {class} ({CLASS_KEY}); it has: {named}")
        }
    };
    Failure::new(
        FailureKind::PluginNotFound,
        format!("{what}; nothing is put until it has (install the plugin or fix the class)"),
    )
}

/// One field of a validation answer with the plugin's messages about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors {
    /// The configuration key.
    pub name: String,
    /// The messages.
    pub errors: Vec<String>,
}

/// What a validation found, as recorded in `status.config.invalidFields`: the fields with
/// errors, in key order, bounded, each message without the Secret values the declaration sends
/// (the plugin quotes values back: `Invalid value hunter2 for configuration …`).
pub fn invalid_fields(found: &[FieldErrors], redactor: &Redactor) -> Vec<InvalidField> {
    let mut fields: Vec<InvalidField> = found
        .iter()
        .filter(|f| !f.errors.is_empty())
        .map(|f| InvalidField {
            name: cut(&f.name, 256),
            errors: f
                .errors
                .iter()
                .take(MAX_FIELD_ERRORS)
                .map(|e| cut(&redactor.text(e), MAX_ERROR_BYTES))
                .collect(),
        })
        .collect();
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    fields.dedup_by(|a, b| a.name == b.name);
    fields.truncate(MAX_INVALID_FIELDS);
    fields
}

/// The failure an invalid declaration is: each field and its first message (`total`: fields
/// with errors in the answer, kept or not).
pub fn invalid(fields: &[InvalidField], total: usize) -> Failure {
    let listed: Vec<String> = fields
        .iter()
        .take(8)
        .map(|f| {
            format!(
                "{}: {}",
                f.name,
                f.errors.first().map_or("", String::as_str)
            )
        })
        .collect();
    let more = total.saturating_sub(listed.len());
    let tail = if more > 0 {
        format!("; and {more} more field(s) in status.config.invalidFields")
    } else {
        String::new()
    };
    Failure::new(
        FailureKind::ConfigInvalid,
        format!(
            "the plugin's validation refused spec.config ({total} field(s)): {}{tail}",
            listed.join("; ")
        ),
    )
}

/// Reads a plugin list: Kafka Connect's `GET /connector-plugins` (an array) or the Data Plane's
/// `GET /v1/kafka-connect/clusters/{cluster}` (`{"cluster": {"plugins": [...]}}`), keeping the
/// first [`MAX_PLUGINS`].
pub fn parse_plugins(body: &[u8]) -> Result<Vec<Plugin>, String> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Answer {
        Listed(Vec<Plugin>),
        Cluster { cluster: Cluster },
    }
    #[derive(Deserialize)]
    struct Cluster {
        #[serde(default)]
        plugins: Vec<Plugin>,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| {
        format!(
            "not a plugin list: {}",
            crate::probe::describe_json_error(&e)
        )
    })?;
    let mut plugins = match answer {
        Answer::Listed(p) => p,
        Answer::Cluster { cluster } => cluster.plugins,
    };
    plugins.truncate(MAX_PLUGINS);
    Ok(plugins)
}

/// Reads Kafka Connect's validation answer (`{"error_count", "configs": [{"value": {"name",
/// "errors"}}]}`): the fields with errors. Values, definitions and recommendations are not
/// kept (a value may be a Secret's).
pub fn parse_validation(body: &[u8]) -> Result<Vec<FieldErrors>, String> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        configs: Vec<Config>,
    }
    #[derive(Deserialize)]
    struct Config {
        value: Value,
    }
    #[derive(Deserialize)]
    struct Value {
        name: String,
        #[serde(default)]
        errors: Vec<String>,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| {
        format!(
            "not a validation answer: {}",
            crate::probe::describe_json_error(&e)
        )
    })?;
    Ok(answer
        .configs
        .into_iter()
        .filter(|c| !c.value.errors.is_empty())
        .map(|c| FieldErrors {
            name: c.value.name,
            errors: c.value.errors,
        })
        .collect())
}

#[cfg(test)]
mod tests;
