//! The declared connector (pure): `spec.config` plus the Secret values `spec.configFrom` names,
//! compared with the connector's actual configuration by digest, and the state it should be in.
//!
//! Values are held only to be sent: `Debug` shows keys, the actual configuration is reduced to
//! digests as it is read, messages from the source are scrubbed of Secret values, and the hash
//! in the status covers the Secret *references*, never their values (a hash of a weak password
//! can be reversed by guessing).

use crate::crd::{DesiredState, ManagedConnector};
use crate::probe::{Failure, FailureKind};
use crate::redact::Redactor;
use crate::refs::{Lookup, Lookups, RefKind, Reference, unreadable};
use kube::ResourceExt;
use ring::digest::{SHA256, digest};
use std::collections::{BTreeMap, BTreeSet};

/// The key `spec.tasksMax` sets.
pub const TASKS_MAX_KEY: &str = "tasks.max";

/// Most keys read from a connector's actual configuration.
pub const MAX_ACTUAL_KEYS: usize = 10_000;

/// A value's SHA-256.
pub type Digest = [u8; 32];

fn digest_of(value: &str) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, value.as_bytes()).as_ref());
    out
}

/// The configuration a resource declares, Secret values included.
#[derive(Clone, PartialEq, Eq)]
pub struct Declared {
    values: BTreeMap<String, String>,
    secret_keys: BTreeSet<String>,
    /// `sha256:<hex>` of the plain values and the Secret references (see the module docs).
    pub hash: String,
}

impl std::fmt::Debug for Declared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Declared")
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .field("hash", &self.hash)
            .finish()
    }
}

/// The body of a configuration write. `Debug` shows keys only.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigBody(pub serde_json::Map<String, serde_json::Value>);

impl std::fmt::Debug for ConfigBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConfigBody{:?}", self.0.keys().collect::<Vec<_>>())
    }
}

/// The connector's actual configuration: key -> digest of the value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actual(pub BTreeMap<String, Digest>);

/// The Secrets `spec.configFrom` names, to be read before [`declared`].
pub fn references(mc: &ManagedConnector) -> Vec<Reference> {
    let namespace = mc.namespace().unwrap_or_default();
    let mut refs: Vec<Reference> = mc
        .spec
        .config_from
        .iter()
        .map(|f| {
            (
                RefKind::Secret,
                namespace.clone(),
                f.secret_key_ref.name.clone(),
            )
        })
        .collect();
    refs.sort();
    refs.dedup();
    refs
}

/// The declared configuration; `Ok(None)` when the resource declares none (status only).
pub fn declared(mc: &ManagedConnector, lookups: &Lookups) -> Result<Option<Declared>, Failure> {
    let Some(config) = &mc.spec.config else {
        return Ok(None);
    };
    let connector = mc.connector_name();
    if let Some(name) = config.get("name")
        && *name != connector
    {
        return Err(Failure::new(
            FailureKind::InvalidArgument,
            format!(
                "spec.config.name is {name:?} but the connector is {connector:?}: leave name out or make it match"
            ),
        ));
    }
    let namespace = mc.namespace().unwrap_or_default();
    let mut values = config.clone();
    if let Some(n) = mc.spec.tasks_max {
        if config.contains_key(TASKS_MAX_KEY) {
            return Err(Failure::new(
                FailureKind::InvalidArgument,
                "tasks.max is set in spec.config and spec.tasksMax: set one",
            ));
        }
        values.insert(TASKS_MAX_KEY.into(), n.to_string());
    }
    let mut secret_keys = BTreeSet::new();
    let mut canonical = String::new();
    for (k, v) in &values {
        canonical.push_str(&format!("{}:{k}={}:{v}\n", k.len(), v.len()));
    }
    for from in &mc.spec.config_from {
        let r = &from.secret_key_ref;
        if values.contains_key(&from.key) {
            return Err(Failure::new(
                FailureKind::InvalidArgument,
                format!(
                    "configFrom key {:?} is also set in spec.config: set each key once",
                    from.key
                ),
            ));
        }
        let lookup = lookups
            .get(&(RefKind::Secret, namespace.clone(), r.name.clone()))
            .unwrap_or(&Lookup::Missing);
        let data = match lookup {
            Lookup::Found(data) => data,
            other => {
                return Err(unreadable(
                    RefKind::Secret,
                    &namespace,
                    &r.name,
                    other,
                    FailureKind::ReferenceNotFound,
                ));
            }
        };
        let Some(raw) = data.get(&r.key) else {
            return Err(Failure::new(
                FailureKind::ReferenceNotFound,
                format!(
                    "Secret {namespace}/{} has no key {:?} (configFrom {:?})",
                    r.name, r.key, from.key
                ),
            ));
        };
        let Ok(value) = String::from_utf8(raw.clone()) else {
            return Err(Failure::new(
                FailureKind::InvalidArgument,
                format!(
                    "Secret {namespace}/{} key {:?} is not UTF-8 text (configFrom {:?})",
                    r.name, r.key, from.key
                ),
            ));
        };
        canonical.push_str(&format!(
            "{}:{}=secret:{}/{}\n",
            from.key.len(),
            from.key,
            r.name,
            r.key
        ));
        values.insert(from.key.clone(), value);
        secret_keys.insert(from.key.clone());
    }
    let hash = digest(&SHA256, canonical.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    Ok(Some(Declared {
        values,
        secret_keys,
        hash: format!("sha256:{hash}"),
    }))
}

impl Declared {
    /// Keys whose actual value differs from the declared one, keys the connector lacks and keys
    /// it has beyond the declared ones (a configuration write replaces the whole configuration).
    /// `name` is Kafka Connect's own and never counts.
    pub fn drift(&self, actual: &Actual) -> Vec<String> {
        let mut keys: BTreeSet<&String> = BTreeSet::new();
        for (k, v) in &self.values {
            if k != "name" && actual.0.get(k) != Some(&digest_of(v)) {
                keys.insert(k);
            }
        }
        for k in actual.0.keys() {
            if k != "name" && !self.values.contains_key(k) {
                keys.insert(k);
            }
        }
        keys.into_iter().cloned().collect()
    }

    /// The declared value of `key` when it is written in `spec.config` (a value from a Secret is
    /// not handed out: it would end up in the status).
    pub fn plain(&self, key: &str) -> Option<&str> {
        if self.secret_keys.contains(key) {
            return None;
        }
        self.values.get(key).map(String::as_str)
    }

    /// The configuration write's body.
    pub fn body(&self) -> ConfigBody {
        ConfigBody(
            self.values
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    }

    /// A keyed digest of everything that would be sent, Secret values included: tells whether
    /// the very declaration a source refused is declared again. The key lives only in the
    /// process's memory, so the digest reveals nothing even where it is kept.
    pub fn fingerprint(&self, key: &ring::hmac::Key) -> Vec<u8> {
        let mut ctx = ring::hmac::Context::with_key(key);
        for (k, v) in &self.values {
            for part in [k.as_str(), v.as_str()] {
                ctx.update(&(part.len() as u64).to_le_bytes());
                ctx.update(part.as_bytes());
            }
        }
        ctx.sign().as_ref().to_vec()
    }

    /// The redaction of the Secret values this declaration sends.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(
            self.secret_keys
                .iter()
                .filter_map(|k| self.values.get(k))
                .map(String::as_str),
        )
    }

    /// `message` with every Secret value replaced: a source may quote a rejected value back.
    pub fn redact(&self, message: &str) -> String {
        self.redactor().text(message)
    }
}

/// Reads a configuration answer: `{"config": {...}}` (the Data Plane) or the map itself (Kafka
/// Connect). Values are reduced to digests at once.
pub fn parse_actual(body: &[u8]) -> Result<Actual, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "not a connector configuration: {}",
            crate::probe::describe_json_error(&e)
        )
    })?;
    let map = match value {
        serde_json::Value::Object(mut m) => match m.remove("config") {
            Some(serde_json::Value::Object(inner)) if m.is_empty() => inner,
            Some(other) => {
                m.insert("config".into(), other);
                m
            }
            None => m,
        },
        _ => return Err("not a connector configuration: not a JSON object".into()),
    };
    if map.len() > MAX_ACTUAL_KEYS {
        return Err(format!(
            "the configuration has more than {MAX_ACTUAL_KEYS} keys"
        ));
    }
    Ok(Actual(
        map.into_iter()
            .map(|(k, v)| {
                let d = match &v {
                    serde_json::Value::String(s) => digest_of(s),
                    other => digest_of(&other.to_string()),
                };
                (k, d)
            })
            .collect(),
    ))
}

/// What to send so that a connector in Kafka Connect state `actual` reaches `desired`; `None`
/// when it is there, or in a passing state (restarting, unassigned) that should settle first.
pub fn state_command(desired: DesiredState, actual: &str) -> Option<StateChange> {
    match (desired, actual) {
        (_, "RESTARTING" | "UNASSIGNED") => None,
        (DesiredState::Running, "PAUSED" | "STOPPED") => Some(StateChange::Resume),
        (DesiredState::Paused, s) if s != "PAUSED" => Some(StateChange::Pause),
        (DesiredState::Stopped, s) if s != "STOPPED" => Some(StateChange::Stop),
        _ => None,
    }
}

/// A change of a connector's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    /// `PUT .../pause`.
    Pause,
    /// `PUT .../resume`.
    Resume,
    /// `PUT .../stop`.
    Stop,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{ConfigFromSecret, KeyReference, ManagedConnectorSpec};

    fn mc(config: &[(&str, &str)], from: &[(&str, &str, &str)]) -> ManagedConnector {
        let mut mc = ManagedConnector::new(
            "orders",
            ManagedConnectorSpec {
                config: Some(
                    config
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                config_from: from
                    .iter()
                    .map(|(k, s, sk)| ConfigFromSecret {
                        key: k.to_string(),
                        secret_key_ref: KeyReference {
                            name: s.to_string(),
                            key: sk.to_string(),
                        },
                    })
                    .collect(),
                ..Default::default()
            },
        );
        mc.metadata.namespace = Some("team-a".into());
        mc
    }

    fn secret(name: &str, pairs: &[(&str, &str)]) -> Lookups {
        let data = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        [(
            (RefKind::Secret, "team-a".to_string(), name.to_string()),
            Lookup::Found(data),
        )]
        .into()
    }

    fn actual(pairs: &[(&str, &str)]) -> Actual {
        Actual(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), digest_of(v)))
                .collect(),
        )
    }

    #[test]
    fn status_only_without_config() {
        let mut m = mc(&[], &[]);
        m.spec.config = None;
        assert_eq!(declared(&m, &Lookups::new()), Ok(None));
    }

    #[test]
    fn secret_values_are_merged_and_compared_by_digest_but_never_hashed_into_status() {
        let m = mc(
            &[("connector.class", "FileStreamSink"), ("topics", "orders")],
            &[("db.password", "db", "password")],
        );
        let d = declared(&m, &secret("db", &[("password", "hunter2")]))
            .unwrap()
            .unwrap();
        assert_eq!(d.body().0["db.password"], "hunter2");
        assert!(!format!("{d:?}").contains("hunter2"));
        assert!(!format!("{:?}", d.body()).contains("hunter2"));
        // The status hash does not move with the Secret's value (it names the reference).
        let other = declared(&m, &secret("db", &[("password", "other")]))
            .unwrap()
            .unwrap();
        assert_eq!(d.hash, other.hash);
        assert!(d.hash.starts_with("sha256:") && d.hash.len() == 7 + 64);
        // ... but the comparison does.
        let in_place = actual(&[
            ("connector.class", "FileStreamSink"),
            ("topics", "orders"),
            ("db.password", "hunter2"),
            ("name", "orders"),
        ]);
        assert!(d.drift(&in_place).is_empty());
        assert_eq!(other.drift(&in_place), ["db.password"]);
        assert_eq!(
            d.redact("Invalid value hunter2 for configuration db.password"),
            "Invalid value [redacted] for configuration db.password"
        );
    }

    #[test]
    fn tasks_max_is_the_declared_tasks_max() {
        let mut m = mc(&[("connector.class", "FileStreamSink")], &[]);
        let without = declared(&m, &Lookups::new()).unwrap().unwrap();
        m.spec.tasks_max = Some(3);
        let d = declared(&m, &Lookups::new()).unwrap().unwrap();
        assert_eq!(d.body().0["tasks.max"], "3");
        assert_eq!(d.plain("tasks.max"), Some("3"));
        assert_ne!(d.hash, without.hash, "scaling changes what is applied");
        let written = mc(
            &[("connector.class", "FileStreamSink"), ("tasks.max", "3")],
            &[],
        );
        assert_eq!(
            declared(&written, &Lookups::new()).unwrap().unwrap().hash,
            d.hash,
            "the same configuration, however it is written, is the same hash: no put after a move to tasksMax"
        );
        assert!(
            d.drift(&actual(&[
                ("connector.class", "FileStreamSink"),
                ("tasks.max", "3")
            ]))
            .is_empty()
        );
        let mut both = written.clone();
        both.spec.tasks_max = Some(2);
        let e = declared(&both, &Lookups::new()).unwrap_err();
        assert_eq!(e.kind, FailureKind::InvalidArgument);
        assert!(e.message.contains("set one"), "{}", e.message);
    }

    #[test]
    fn drift_names_changed_missing_and_extra_keys() {
        let d = declared(&mc(&[("a", "1"), ("b", "2")], &[]), &Lookups::new())
            .unwrap()
            .unwrap();
        assert_eq!(
            d.drift(&actual(&[("a", "1"), ("c", "3"), ("name", "x")])),
            ["b", "c"]
        );
        assert_eq!(d.drift(&actual(&[("a", "9"), ("b", "2")])), ["a"]);
    }

    #[test]
    fn refusals_say_what_to_fix() {
        let m = mc(&[("a", "1")], &[("p", "db", "password")]);
        let e = declared(&m, &Lookups::new()).unwrap_err();
        assert_eq!(e.kind, FailureKind::ReferenceNotFound);
        let e = declared(&m, &secret("db", &[("other", "x")])).unwrap_err();
        assert_eq!(e.kind, FailureKind::ReferenceNotFound);
        assert!(e.message.contains("no key \"password\""), "{}", e.message);
        let e = declared(&mc(&[("name", "other")], &[]), &Lookups::new()).unwrap_err();
        assert_eq!(e.kind, FailureKind::InvalidArgument);
        assert!(declared(&mc(&[("name", "orders")], &[]), &Lookups::new()).is_ok());
        let e = declared(
            &mc(&[("p", "1")], &[("p", "db", "password")]),
            &Lookups::new(),
        )
        .unwrap_err();
        assert_eq!(e.kind, FailureKind::InvalidArgument);
    }

    #[test]
    fn actual_configuration_is_read_wrapped_or_flat() {
        let flat = parse_actual(br#"{"a":"1","tasks.max":"2"}"#).unwrap();
        let wrapped = parse_actual(br#"{"config":{"a":"1","tasks.max":"2"}}"#).unwrap();
        assert_eq!(flat, wrapped);
        assert_eq!(flat.0["a"], digest_of("1"));
        // A connector whose own key is "config" is not mistaken for the wrapper.
        let both = parse_actual(br#"{"config":"x","a":"1"}"#).unwrap();
        assert_eq!(both.0.len(), 2);
        assert!(parse_actual(b"[]").is_err());
        assert!(parse_actual(b"nope").is_err());
    }

    #[test]
    fn state_changes() {
        use DesiredState::*;
        let table = [
            (Running, "RUNNING", None),
            (Running, "FAILED", None),
            (Running, "PAUSED", Some(StateChange::Resume)),
            (Running, "STOPPED", Some(StateChange::Resume)),
            (Paused, "RUNNING", Some(StateChange::Pause)),
            (Paused, "FAILED", Some(StateChange::Pause)),
            (Paused, "PAUSED", None),
            (Stopped, "RUNNING", Some(StateChange::Stop)),
            (Stopped, "PAUSED", Some(StateChange::Stop)),
            (Stopped, "STOPPED", None),
            (Stopped, "RESTARTING", None),
            (Paused, "UNASSIGNED", None),
        ];
        for (desired, actual, want) in table {
            assert_eq!(state_command(desired, actual), want, "{desired:?} {actual}");
        }
    }
}
