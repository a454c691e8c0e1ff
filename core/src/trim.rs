//! Trimming (pure): what the watch cache keeps of a resource. A tenant's `spec.config` may hold
//! up to 256 KiB (the CRD's bound), and the cache holds every resource between reconciles; a
//! large configuration is replaced there by a marker, and the reconcile that needs it reads the
//! whole object first ([`is_trimmed`]).

use crate::crd::ManagedConnector;
use std::collections::BTreeMap;

/// Annotation the cache puts on a trimmed object (never written to the API server).
pub const TRIMMED: &str = "connectors.dataplane.dev/cache-trimmed-config";
/// Configurations up to this many bytes (keys and values) stay in the cache.
pub const KEEP_UP_TO: usize = 4096;

/// Replaces a large `spec.config` with an empty one and marks the object (pure). Whether a
/// configuration is declared at all stays visible (`Some`), so the reconcile still knows the
/// resource acts.
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
}

/// Whether the cache trimmed the object: read it whole before using its spec.
pub fn is_trimmed(mc: &ManagedConnector) -> bool {
    mc.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(TRIMMED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ManagedConnectorSpec;

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
