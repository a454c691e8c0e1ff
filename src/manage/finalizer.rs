//! The finalizer (I/O) that holds a resource with `deletionPolicy: Delete` until its connector is
//! deleted. Present only while the policy says Delete: deleting an `Orphan` resource never waits
//! for the operator.

use crate::crd::{DeletionPolicy, ManagedConnector};
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};

/// The finalizer's name.
pub const FINALIZER: &str = "connectors.dataplane.dev/delete-connector";

/// Whether the resource should carry the finalizer (pure).
pub fn wanted(mc: &ManagedConnector) -> bool {
    mc.spec.deletion_policy == Some(DeletionPolicy::Delete)
        && mc.metadata.deletion_timestamp.is_none()
}

/// Whether it carries it.
pub fn present(mc: &ManagedConnector) -> bool {
    mc.finalizers().iter().any(|f| f == FINALIZER)
}

/// Adds or removes the finalizer, keeping every other one. The patch carries the resource
/// version it was computed from, so a concurrent change of the list fails (and is retried)
/// instead of being overwritten.
pub async fn set(
    api: &Api<ManagedConnector>,
    mc: &ManagedConnector,
    on: bool,
) -> Result<(), kube::Error> {
    let mut finalizers: Vec<String> = mc
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    if on {
        finalizers.push(FINALIZER.to_string());
    }
    let patch = serde_json::json!({
        "metadata": {
            "finalizers": finalizers,
            "resourceVersion": mc.resource_version(),
        }
    });
    api.patch(
        &mc.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}
