//! Trimming (pure): what the watch cache keeps of a resource. The cache holds every resource
//! between reconciles, so it keeps what reconciles read and a marker or digest for the rest:
//!
//! - A large `spec.config` (up to 256 KiB, the CRD's bound) is replaced by an empty one and a
//!   marker; the reconcile that needs it reads the whole object first ([`is_trimmed`]).
//! - The status loses its traces, the tasks' workers and the parsed errors ([`trim_status`]):
//!   up to 32 KiB of traces and 20 KiB of errors per failing connector, read by no reconcile.
//!   Task ids and states stay (the task series count them). In their place the status keeps a
//!   digest (`status.trimmed`), so the write decision still compares everything
//!   (`status::needs_write` trims both sides when one is), and a status that carries the dropped parts over (a failed read keeps
//!   the last known tasks and errors) gets them back from the stored object before it is
//!   written ([`restore`]): one GET per such write, none per reconcile.

use crate::crd::{ErrorType, ManagedConnector, ManagedConnectorStatus};
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Annotation the cache puts on a trimmed object (never written to the API server).
pub const TRIMMED: &str = "connectors.dataplane.dev/cache-trimmed-config";
/// Configurations up to this many bytes (keys and values) stay in the cache.
pub const KEEP_UP_TO: usize = 4096;

/// What the cache keeps of a resource (pure): a large `spec.config` becomes an empty one and a
/// marker, and the status is trimmed ([`trim_status`]). Whether a configuration is declared at
/// all stays visible (`Some`), so the reconcile still knows the resource acts.
pub fn trim(mc: &mut ManagedConnector) {
    let size: usize = mc
        .spec
        .config
        .iter()
        .flatten()
        .map(|(k, v)| k.len().saturating_add(v.len()))
        .fold(0, usize::saturating_add);
    if size > KEEP_UP_TO {
        mc.spec.config = Some(BTreeMap::new());
        mc.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(TRIMMED.to_string(), size.to_string());
    }
    if let Some(status) = mc.status.as_mut() {
        trim_status(status);
    }
}

/// Whether the cache trimmed the object's configuration: read it whole before using its spec.
pub fn is_trimmed(mc: &ManagedConnector) -> bool {
    mc.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(TRIMMED))
}

/// Drops the traces, the tasks' workers and the errors, and records their digest in
/// `status.trimmed` (pure). A status with none of them is left as it is, so trimming twice
/// changes nothing.
pub fn trim_status(status: &mut ManagedConnectorStatus) {
    let traced = status
        .connector
        .as_ref()
        .is_some_and(|c| !c.trace.is_empty());
    let workers = status
        .tasks
        .iter()
        .any(|t| !t.worker_id.is_empty() || !t.trace.is_empty());
    if !traced && !workers && status.errors.is_empty() {
        return;
    }
    status.trimmed = Some(digest(status));
    if let Some(c) = status.connector.as_mut() {
        c.trace = String::new();
    }
    for t in &mut status.tasks {
        t.worker_id = String::new();
        t.trace = String::new();
    }
    status.errors = Vec::new();
}

/// Puts back into `next` the parts a trimmed status carried over, from the status the API server
/// stores (`whole`); a status that carried none is left as it is (pure). What is stored is what
/// the carried parts stand for: the cache may only lag behind it.
pub fn restore(next: &mut ManagedConnectorStatus, whole: Option<&ManagedConnectorStatus>) {
    if next.trimmed.take().is_none() {
        return;
    }
    let Some(whole) = whole else {
        return;
    };
    if let (Some(c), Some(w)) = (next.connector.as_mut(), whole.connector.as_ref()) {
        c.trace.clone_from(&w.trace);
    }
    next.tasks.clone_from(&whole.tasks);
    next.errors.clone_from(&whole.errors);
}

/// The digest of the parts [`trim_status`] drops (and of any digest already there).
fn digest(status: &ManagedConnectorStatus) -> u64 {
    let mut h = DefaultHasher::new();
    status.trimmed.hash(&mut h);
    status.connector.as_ref().map(|c| &c.trace).hash(&mut h);
    status.tasks.len().hash(&mut h);
    for t in &status.tasks {
        (t.id, &t.worker_id, &t.trace).hash(&mut h);
    }
    status.errors.len().hash(&mut h);
    for e in &status.errors {
        (e.type_ == ErrorType::Error, &e.title, &e.content).hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{ConnectorError, ConnectorInstance, ManagedConnectorSpec, TaskInstance};

    /// A failing connector's status: a trace, a task's worker and trace, an error.
    fn failing(trace: &str) -> ManagedConnectorStatus {
        ManagedConnectorStatus {
            connector: Some(ConnectorInstance {
                state: "FAILED".into(),
                worker_id: "w:8083".into(),
                trace: trace.into(),
            }),
            tasks: vec![TaskInstance {
                id: 0,
                state: "FAILED".into(),
                worker_id: "w:8083".into(),
                trace: trace.into(),
            }],
            errors: vec![ConnectorError {
                type_: ErrorType::Error,
                title: "Connector x is in failed state.".into(),
                content: "boom".into(),
            }],
            ..Default::default()
        }
    }

    fn trimmed(mut s: ManagedConnectorStatus) -> ManagedConnectorStatus {
        trim_status(&mut s);
        s
    }

    #[test]
    fn a_trimmed_status_keeps_task_states_and_a_digest_of_the_rest() {
        let t = trimmed(failing("java.lang.Exception: boom"));
        assert!(t.trimmed.is_some());
        let c = t.connector.as_ref().expect("the connector");
        assert_eq!(
            (c.state.as_str(), c.worker_id.as_str(), c.trace.as_str()),
            ("FAILED", "w:8083", "")
        );
        assert_eq!(t.tasks.len(), 1);
        assert_eq!((t.tasks[0].id, t.tasks[0].state.as_str()), (0, "FAILED"));
        assert!(t.tasks[0].worker_id.is_empty() && t.tasks[0].trace.is_empty());
        assert!(t.errors.is_empty());
        assert_eq!(trimmed(t.clone()), t, "trimming twice changes nothing");
        let plain = ManagedConnectorStatus::default();
        assert_eq!(trimmed(plain.clone()), plain, "nothing to drop: untouched");
    }

    #[test]
    fn the_digest_tells_every_dropped_part_apart() {
        let base = failing("a");
        let variants: [fn(&mut ManagedConnectorStatus); 5] = [
            |s| s.connector.as_mut().map_or((), |c| c.trace.push('x')),
            |s| s.tasks[0].worker_id.push('x'),
            |s| s.tasks[0].trace.push('x'),
            |s| s.errors[0].content.push('x'),
            |s| s.errors[0].type_ = ErrorType::Warning,
        ];
        let d = trimmed(base.clone()).trimmed;
        for (i, change) in variants.iter().enumerate() {
            let mut other = base.clone();
            change(&mut other);
            assert_ne!(trimmed(other).trimmed, d, "variant {i}");
        }
        assert_eq!(
            trimmed(base.clone()).trimmed,
            d,
            "the same parts, the same digest"
        );
    }

    #[test]
    fn restoring_puts_back_what_is_stored() {
        let full = failing("a");
        let mut carried = trimmed(full.clone());
        restore(&mut carried, Some(&full));
        assert_eq!(carried, full);
        // Read afresh (no digest): left as it is.
        let mut fresh = failing("new");
        restore(&mut fresh, Some(&full));
        assert_eq!(fresh, failing("new"));
    }

    #[test]
    fn only_large_configurations_are_trimmed() {
        let with = |value: &str| {
            let spec = ManagedConnectorSpec {
                config: Some([("k".to_string(), value.to_string())].into()),
                ..Default::default()
            };
            ManagedConnector::new("x", spec)
        };
        let mut small = with("v");
        trim(&mut small);
        assert!(!is_trimmed(&small));
        assert_eq!(small.spec.config.as_ref().map(BTreeMap::len), Some(1));
        let mut large = with(&"v".repeat(KEEP_UP_TO));
        trim(&mut large);
        assert!(is_trimmed(&large));
        assert_eq!(
            large.spec.config,
            Some(BTreeMap::new()),
            "still declares a config"
        );
        let mut none = ManagedConnector::new("x", ManagedConnectorSpec::default());
        trim(&mut none);
        assert!(!is_trimmed(&none) && none.spec.config.is_none());
    }
}
