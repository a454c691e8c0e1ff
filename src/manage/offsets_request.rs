//! Carrying out an offsets request (I/O): the decision is [`offsets::decide`] (pure); this lists
//! the offsets into the resource's ConfigMap, reads a ConfigMap to alter from, or resets, and
//! counts each in `managed_connector_actions_total`. The ConfigMap is always in the resource's
//! own namespace, created by and owned by the resource: a ConfigMap of the same name that
//! something else made is never overwritten (the operator's RBAC is wider than a tenant's).

use super::execute;
use super::plan::Step;
use crate::context::{Context, Error};
use crate::crd::{ManagedConnector, OffsetsStatus};
use crate::manage::offsets::{self, Decision, OFFSETS_KEY, Operation};
use crate::probe::{Failure, FailureKind, Observation};
use crate::resolve::Target;
use crate::source::Command;
use crate::status::EventSpec;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};

/// `status.offsets` to record and the Events to publish.
pub(crate) type Handled = (Option<OffsetsStatus>, Vec<EventSpec>);

/// Decides on the offsets annotation and, when it is due, carries it out.
pub(crate) async fn handle(
    mc: &ManagedConnector,
    ctx: &Context,
    target: &Target,
    observation: &Observation,
    stored: Option<&OffsetsStatus>,
    connector: &str,
) -> Result<Handled, Error> {
    let state = match observation {
        Observation::Found { status, .. } => Some(status.connector.state.as_str()),
        _ => None,
    };
    let now = Timestamp::now();
    let name = mc.name_any();
    let decision = offsets::decide(&offsets::Inputs {
        annotations: mc.annotations(),
        resource: &name,
        spec: &mc.spec,
        connector,
        stored,
        source: target.source.kind(),
        state,
        now,
    });
    let (request, operation, config_map) = match decision {
        Decision::Idle => return Ok((stored.cloned(), Vec::new())),
        Decision::Record(status, event) => return Ok((Some(status), event.into_iter().collect())),
        Decision::Run {
            request,
            operation,
            config_map,
        } => (request, operation, config_map),
    };
    if !ctx.fence.may_write() {
        return Err(Error::Fenced);
    }
    let cm = config_map.as_deref();
    let result = match (operation, cm) {
        (Operation::List, Some(cm)) => list(mc, ctx, target, cm).await?,
        (Operation::Alter, Some(cm)) => alter(mc, ctx, target, cm).await?,
        _ => send(ctx, target, Command::ResetOffsets, operation)
            .await?
            .map(|()| None),
    };
    if operation == Operation::List {
        let outcome = match &result {
            Ok(_) => "ok",
            Err(f) => f.kind.reason(),
        };
        ctx.metrics.action(operation.verb(), "requested", outcome);
    }
    if let Err(f) = &result {
        tracing::warn!(
            namespace = mc.namespace().unwrap_or_default(),
            name,
            operation = operation.word(),
            reason = f.kind.reason(),
            message = f.message,
            "offsets request failed"
        );
    }
    let (status, event) = offsets::finished(&request, operation, cm, connector, result, now);
    Ok((Some(status), vec![event]))
}

/// Sends one command the way every other command goes (leader only, counted).
async fn send(
    ctx: &Context,
    target: &Target,
    command: Command,
    operation: Operation,
) -> Result<Result<(), Failure>, Error> {
    let step = Step {
        command,
        reason: "OffsetsRequested",
        note: operation.word().to_string(),
    };
    match execute::execute(&ctx.prober, &ctx.fence, target, std::slice::from_ref(&step)).await {
        Ok(None) => Ok(Ok(())),
        Ok(Some((_, f))) => Ok(Err(f)),
        Err(execute::NotLeader) => Err(Error::Fenced),
    }
}

/// Lists the offsets into the ConfigMap; the partitions listed.
async fn list(
    mc: &ManagedConnector,
    ctx: &Context,
    target: &Target,
    cm: &str,
) -> Result<Result<Option<usize>, Failure>, Error> {
    let source = ctx.prober.source(target.source.kind());
    let listed = match source.offsets(target).await {
        Ok(o) => o,
        Err(f) => return Ok(Err(f)),
    };
    let text = match offsets::render(&listed) {
        Ok(t) => t,
        Err(why) => return Ok(Err(Failure::new(FailureKind::InvalidResponse, why))),
    };
    let api = config_maps(mc, ctx);
    if let Some(existing) = api.get_opt(cm).await.or_else(final_kube)? {
        let owned = existing
            .owner_references()
            .iter()
            .any(|o| Some(&o.uid) == mc.uid().as_ref() && o.controller == Some(true));
        if !owned {
            return Ok(Err(Failure::new(
                FailureKind::ActionNotAllowed,
                format!(
                    "ConfigMap {cm} exists and was not created by this ManagedConnector; it is left alone (delete it, or name another in spec.offsets.listToConfigMap)"
                ),
            )));
        }
    }
    let owner = mc.controller_owner_ref(&());
    let body = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": cm,
            "labels": {"app.kubernetes.io/managed-by": crate::apply::FIELD_MANAGER},
            "ownerReferences": owner.into_iter().collect::<Vec<_>>(),
        },
        "data": {OFFSETS_KEY: text},
    });
    let written = api
        .patch(
            cm,
            &PatchParams::apply(crate::apply::FIELD_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await;
    match written {
        Ok(_) => Ok(Ok(Some(listed.partitions))),
        Err(e) => final_kube(e).map(|()| {
            Err(Failure::new(
                FailureKind::PermissionDenied,
                format!("the API server refused to let the operator write ConfigMap {cm}"),
            ))
        }),
    }
}

/// Alters the offsets to those the ConfigMap holds; the partitions altered.
async fn alter(
    mc: &ManagedConnector,
    ctx: &Context,
    target: &Target,
    cm: &str,
) -> Result<Result<Option<usize>, Failure>, Error> {
    let read = config_maps(mc, ctx).get_opt(cm).await;
    let Some(found) = read.or_else(final_kube)? else {
        return Ok(Err(Failure::new(
            FailureKind::ReferenceNotFound,
            format!(
                "ConfigMap {cm} (spec.offsets.alterFromConfigMap) not found or not readable: list the offsets first, edit {OFFSETS_KEY}, then ask again (such as \"alter:2\")"
            ),
        )));
    };
    let Some(text) = found.data.as_ref().and_then(|d| d.get(OFFSETS_KEY)) else {
        return Ok(Err(Failure::new(
            FailureKind::ReferenceNotFound,
            format!("ConfigMap {cm} has no key {OFFSETS_KEY}"),
        )));
    };
    let parsed = match offsets::parse(text.as_bytes()) {
        Ok(p) => p,
        Err(why) => {
            return Ok(Err(Failure::new(
                FailureKind::InvalidArgument,
                format!("ConfigMap {cm}: {why}"),
            )));
        }
    };
    let partitions = parsed.partitions;
    Ok(send(
        ctx,
        target,
        Command::AlterOffsets(parsed.body),
        Operation::Alter,
    )
    .await?
    .map(|()| Some(partitions)))
}

fn config_maps(mc: &ManagedConnector, ctx: &Context) -> Api<ConfigMap> {
    Api::namespaced(ctx.client.clone(), &mc.namespace().unwrap_or_default())
}

/// A Kubernetes refusal that will not change by retrying (forbidden, invalid) is the request's
/// final answer (`Ok`: the caller says what it could not do); anything else is retried with the
/// reconcile.
fn final_kube<T: Default>(e: kube::Error) -> Result<T, Error> {
    match &e {
        kube::Error::Api(a) if matches!(a.code, 403 | 422) => {
            tracing::warn!(
                code = a.code,
                reason = a.reason,
                "ConfigMap request refused"
            );
            Ok(T::default())
        }
        _ => Err(e.into()),
    }
}
