//! The finalizer that holds a resource with `deletionPolicy: Delete` until its connector is
//! deleted (pure: when it is wanted, when a deletion gives up; [`crate::apply::set_finalizer`]
//! writes it). Present only while the policy says Delete: deleting an `Orphan` resource never
//! waits for the operator.

use crate::connect_cluster::ConnectCluster;
use crate::crd::{DeletionPolicy, ManagedConnector};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use std::time::Duration;

/// The finalizer's name.
pub const FINALIZER: &str = "connectors.dataplane.dev/delete-connector";

/// Whether the resource should carry the finalizer (pure): only while its policy says Delete
/// and it may act at all. A resource on the operator-wide credentials may not (unless the
/// operator allows them to act), so a finalizer would hold it, and its namespace, forever.
/// A resource naming a ConnectCluster may act when the cluster (`cluster`, `None` when it does
/// not exist) lets its namespace act on the connector's name.
pub fn wanted(
    mc: &ManagedConnector,
    operator_credentials_may_act: bool,
    cluster: Option<&ConnectCluster>,
) -> bool {
    let may_act = match &mc.spec.connect_cluster_ref {
        Some(_) => cluster.is_some_and(|c| {
            c.spec
                .may_act_on(&mc.namespace().unwrap_or_default(), &mc.connector_name())
                .is_ok()
        }),
        None => {
            let operator_wide = mc
                .spec
                .dataplane
                .as_ref()
                .is_some_and(|d| d.credentials_secret_ref.is_none());
            !operator_wide || operator_credentials_may_act
        }
    };
    mc.spec.deletion_policy == Some(DeletionPolicy::Delete)
        && mc.metadata.deletion_timestamp.is_none()
        && may_act
}

/// Whether a deletion has waited `timeout` for its connector (pure): then the resource is let go.
pub fn given_up(mc: &ManagedConnector, timeout: Duration, now: Timestamp) -> bool {
    mc.metadata.deletion_timestamp.as_ref().is_some_and(|t| {
        Duration::try_from(now.duration_since(t.0)).is_ok_and(|waited| waited >= timeout)
    })
}

/// How much of `timeout` a deletion has left (pure; all of it when not being deleted).
pub fn left(mc: &ManagedConnector, timeout: Duration, now: Timestamp) -> Duration {
    match &mc.metadata.deletion_timestamp {
        None => timeout,
        Some(t) => {
            let waited = Duration::try_from(now.duration_since(t.0)).unwrap_or_default();
            timeout.saturating_sub(waited)
        }
    }
}

/// Whether it carries it.
pub fn present(mc: &ManagedConnector) -> bool {
    mc.finalizers().iter().any(|f| f == FINALIZER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ManagedConnectorSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn resource(dataplane: serde_json::Value, policy: Option<DeletionPolicy>) -> ManagedConnector {
        let mut spec: ManagedConnectorSpec =
            serde_json::from_value(serde_json::json!({ "dataplane": dataplane })).unwrap();
        spec.deletion_policy = policy;
        ManagedConnector::new("c", spec)
    }

    #[test]
    fn the_finalizer_is_wanted_only_while_the_resource_may_delete() {
        let own = serde_json::json!({"credentialsSecretRef": {"name": "creds"}});
        let shared = serde_json::json!({});
        // (dataplane, policy, operator credentials may act) -> wanted
        let table = [
            (&own, Some(DeletionPolicy::Delete), false, true),
            (&own, Some(DeletionPolicy::Orphan), false, false),
            (&own, None, false, false),
            (&shared, Some(DeletionPolicy::Delete), false, false),
            (&shared, Some(DeletionPolicy::Delete), true, true),
        ];
        for (dataplane, policy, may_act, want) in table {
            let mc = resource(dataplane.clone(), policy);
            assert_eq!(
                wanted(&mc, may_act, None),
                want,
                "{dataplane} {policy:?} {may_act}"
            );
        }
        let mut deleting = resource(own.clone(), Some(DeletionPolicy::Delete));
        deleting.metadata.deletion_timestamp = Some(Time(Timestamp::now()));
        assert!(
            !wanted(&deleting, false, None),
            "never added while deleting"
        );
    }

    #[test]
    fn a_deletion_gives_up_after_the_timeout() {
        let t0 = Timestamp::from_second(1_800_000_000).unwrap();
        let at = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        let mut mc = resource(serde_json::json!({}), Some(DeletionPolicy::Delete));
        let timeout = Duration::from_secs(300);
        assert!(!given_up(&mc, timeout, at(1000)), "not being deleted");
        mc.metadata.deletion_timestamp = Some(Time(t0));
        for (now, want) in [
            (-5, false),
            (0, false),
            (299, false),
            (300, true),
            (3600, true),
        ] {
            assert_eq!(given_up(&mc, timeout, at(now)), want, "{now}s after");
        }
    }
}
