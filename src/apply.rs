//! Apply: the status write (server-side apply, only when something changed), the shrunk
//! fallback when the API server refuses it, the Events of the transition, and the finalizer.

use crate::context::{Context, Error};
use crate::crd::{ManagedConnector, ManagedConnectorStatus};
use crate::manage::finalizer;
use crate::status::{self, EventSpec, Settings};
use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType};
use kube::{Api, Resource, ResourceExt};

/// Field manager of every status write (server-side apply).
pub const FIELD_MANAGER: &str = "managed-connector-operator";

/// Writes `next` when it differs from `stored` (ignoring timestamps within the heartbeat) and
/// publishes the Events the change deserves. Returns the status now stored.
pub async fn apply(
    mc: &ManagedConnector,
    (namespace, name): (&str, &str),
    ctx: &Context,
    stored: Option<&ManagedConnectorStatus>,
    next: ManagedConnectorStatus,
    settings: &Settings,
) -> Result<ManagedConnectorStatus, Error> {
    if !status::needs_write(stored, &next, settings.heartbeat) {
        return Ok(stored.cloned().unwrap_or(next));
    }
    // Checked right before the write: a replica frozen past its term must not write after
    // thawing, even before it notices it lost the Lease.
    if !ctx.fence.may_write() {
        return Err(Error::Fenced);
    }
    let api: Api<ManagedConnector> = Api::namespaced(ctx.client.clone(), namespace);
    let next = restore_trimmed(&api, name, next).await?;
    let write = |status: &ManagedConnectorStatus| {
        let patch = serde_json::json!({
            "apiVersion": ManagedConnector::api_version(&()),
            "kind": ManagedConnector::kind(&()),
            "status": status,
        });
        let api = api.clone();
        let name = name.to_string();
        async move {
            api.patch_status(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await
        }
    };
    let next = match write(&next).await {
        Ok(_) => next,
        // Refused for what it holds (too large, or a value the schema rejects): write the gist
        // rather than retry the same thing forever.
        Err(kube::Error::Api(refusal)) if matches!(refusal.code, 413 | 422) => {
            tracing::warn!(
                namespace,
                name,
                code = refusal.code,
                reason = refusal.reason,
                "the API server refused the status; writing it without task details"
            );
            let shrunk = status::shrunk(next, &format!("HTTP {} {}", refusal.code, refusal.reason));
            write(&shrunk).await?;
            shrunk
        }
        Err(e) => return Err(e.into()),
    };
    ctx.metrics.status_patch();
    tracing::debug!(namespace, name, "status written");
    publish(
        mc,
        (namespace, name),
        ctx,
        status::transition_events(stored, &next),
        "Probe",
    )
    .await;
    Ok(next)
}

/// `next` with the parts it carried over from a trimmed status (the watch cache's: traces,
/// workers, errors) put back from the stored object: a server-side apply of the status without
/// them would remove them. One GET per such write (a failed read after a good one, a
/// suspension, a failed deletion), none for a status read afresh. The GET is of the object, not
/// of its status subresource: the chart's RBAC grants `get` on `managedconnectors` and only
/// `patch` on `managedconnectors/status`, and both answers carry the same status.
async fn restore_trimmed(
    api: &Api<ManagedConnector>,
    name: &str,
    mut next: ManagedConnectorStatus,
) -> Result<ManagedConnectorStatus, Error> {
    if next.trimmed.is_some() {
        let stored = api.get(name).await?;
        crate::trim::restore(&mut next, stored.status.as_ref());
    }
    Ok(next)
}

/// Writes the status `outcome` gives now (Probing, Suspended: outcomes that read nothing) over
/// `stored`; the status now stored.
pub(crate) async fn apply_outcome(
    mc: &ManagedConnector,
    visit: &crate::visit::Visit,
    ctx: &Context,
    stored: Option<&ManagedConnectorStatus>,
    outcome: &status::Outcome,
) -> Result<ManagedConnectorStatus, Error> {
    let settings = ctx.prober.config.settings;
    let now = k8s_openapi::jiff::Timestamp::now();
    let next = status::desired_status(stored, &visit.subject, outcome, now, &settings);
    apply(mc, visit.key(), ctx, stored, next, &settings).await
}

/// Longest Event note sent (the API server allows 1024 bytes).
pub const EVENT_NOTE_LIMIT: usize = 1000;

/// Publishes Events about the resource (and logs each). An Event is a courtesy: losing one does
/// not fail the reconcile.
pub async fn publish(
    mc: &ManagedConnector,
    (namespace, name): (&str, &str),
    ctx: &Context,
    events: Vec<EventSpec>,
    action: &str,
) {
    for mut event in events {
        // The API server refuses an Event whose note exceeds 1024 bytes (a source's message can
        // be longer: Kafka Connect lists every plugin when it refuses a class).
        event.note = crate::status::cut(&event.note, EVENT_NOTE_LIMIT);
        tracing::info!(
            namespace,
            name,
            reason = event.reason,
            note = event.note,
            "{}",
            if event.warning {
                "connector turned bad"
            } else {
                "connector changed"
            }
        );
        let published = ctx
            .recorder
            .publish(
                &Event {
                    type_: if event.warning {
                        EventType::Warning
                    } else {
                        EventType::Normal
                    },
                    reason: event.reason.clone(),
                    note: Some(event.note),
                    action: action.into(),
                    secondary: None,
                },
                &mc.object_ref(&()),
            )
            .await;
        match published {
            Ok(()) => ctx.metrics.event(&event.reason),
            Err(e) => tracing::warn!(namespace, name, error = %e, "could not publish Event"),
        }
    }
}

/// Adds or removes the finalizer, keeping every other one. The patch carries the resource
/// version it was computed from, so a concurrent change of the list fails (and is retried)
/// instead of being overwritten.
pub async fn set_finalizer(
    api: &Api<ManagedConnector>,
    mc: &ManagedConnector,
    on: bool,
) -> Result<(), kube::Error> {
    let mut finalizers: Vec<String> = mc
        .finalizers()
        .iter()
        .filter(|f| *f != finalizer::FINALIZER)
        .cloned()
        .collect();
    if on {
        finalizers.push(finalizer::FINALIZER.to_string());
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
