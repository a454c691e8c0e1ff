//! Deletion (I/O): with `deletionPolicy: Delete`, the connector this resource owns goes first, a
//! failure retries with backoff, and the resource is let go at the deletion timeout (or at once
//! when its namespace is terminating and its Secret gone): a deletion always ends.

use crate::claim;
use crate::crd::{DeletionPolicy, ManagedConnector};
use crate::manage::{execute, finalizer, plan};
use crate::probe::{Failure, FailureKind};
use crate::status;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::runtime::controller::Action;
use std::time::Duration;

use crate::apply;
use crate::schedule::next_poll;

use crate::context::{Context, Error};

/// Event reason (and action outcome) of a connector a deletion gave up on.
pub const LEFT_BEHIND: &str = "ConnectorLeftBehind";

/// Whether the namespace is being deleted: its Secrets are gone for good, so a deletion that
/// needs them is let go at once rather than after the timeout.
pub(crate) async fn namespace_terminating(ctx: &Context, namespace: &str) -> bool {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(ctx.client.clone());
    matches!(
        api.get_metadata_opt(namespace).await,
        Ok(Some(ns)) if ns.metadata.deletion_timestamp.is_some()
    )
}

/// The resource is being deleted: with `deletionPolicy: Delete` (and the finalizer), delete the
/// connector, then let the resource go; a failure keeps the finalizer, says why in an Event and
/// retries with backoff.
pub(crate) async fn finalize(
    mc: &ManagedConnector,
    key: (&str, &str),
    uid: &str,
    ctx: &Context,
) -> Result<Action, Error> {
    if !finalizer::present(mc) {
        return Ok(Action::await_change());
    }
    if !ctx.fence.may_write() {
        return Err(Error::Fenced);
    }
    if mc.spec.deletion_policy != Some(DeletionPolicy::Delete) {
        return let_go(mc, key, ctx, None).await;
    }
    let (namespace, name) = key;
    let connector = mc.connector_name();
    // Only the connector this resource created (or adopted) is deleted: never one the spec was
    // edited to point at, nor one that ran before the resource.
    let cluster = ctx.prober.clusters.of(mc);
    let named = claim::identity(mc, &ctx.prober.config, cluster.as_deref());
    let owned = mc
        .status
        .as_ref()
        .and_then(|s| s.owned_connector.as_deref());
    if named.is_none() || named.as_ref() != owned {
        tracing::info!(
            namespace,
            name,
            connector,
            "not deleting the connector: this resource did not create or adopt it"
        );
        let kept = event(
            false,
            "ConnectorKept",
            format!(
                "connector {connector} was not deleted: this resource did not create it (set spec.adopt to take over a connector that exists before the resource)"
            ),
        );
        return let_go(mc, key, ctx, Some(kept)).await;
    }
    let step = plan::Step {
        command: crate::source::Command::Delete,
        reason: "ConnectorDeleted",
        note: format!("deleted connector {connector} (deletionPolicy: Delete)"),
    };
    let Some(f) = send(mc, ctx, &step).await? else {
        let deleted = event(false, step.reason, step.note);
        return let_go(mc, key, ctx, Some(deleted)).await;
    };
    let timeout = ctx.prober.config.deletion_timeout;
    if finalizer::given_up(mc, timeout, Timestamp::now())
        || (f.kind == FailureKind::CredentialsNotFound
            && namespace_terminating(ctx, namespace).await)
    {
        // A deletion always ends: the connector is left behind, said in a Warning (or only the
        // log, where a terminating namespace refuses Events) and counted.
        tracing::warn!(namespace, name, connector, reason = f.kind.reason(), message = f.message, timeout = ?timeout, "could not delete the connector within the deletion timeout; letting the resource go and leaving the connector behind");
        ctx.prober
            .metrics
            .action(step.command.verb(), "deletion", LEFT_BEHIND);
        let left = event(
            true,
            LEFT_BEHIND,
            format!(
                "connector {connector} was left behind: it could not be deleted (within --deletion-timeout, {}, or before its namespace went): {}",
                status::humanize(timeout),
                f.message
            ),
        );
        return let_go(mc, key, ctx, Some(left)).await;
    }
    let failures = ctx.note_result(uid, true);
    let retry = next_poll(
        Some(&f),
        failures,
        Duration::from_secs(30),
        rand::random::<f64>(),
    )
    // Back when the deletion timeout ends, to let the resource go on time.
    .min(finalizer::left(mc, timeout, Timestamp::now()).saturating_add(Duration::from_secs(1)));
    tracing::warn!(namespace, name, connector, reason = f.kind.reason(), message = f.message, retry_in = ?retry, "could not delete the connector; the resource waits");
    let note = format!(
        "could not delete connector {connector}: {}; the resource stays until it is deleted (or its finalizer {} is removed by hand)",
        f.message,
        finalizer::FINALIZER
    );
    // In the status too, so kubectl, Argo CD and Flux say why the resource stays.
    let next = status::delete_failed(
        mc.status.as_ref(),
        mc.metadata.generation,
        &note,
        Timestamp::now(),
    );
    let settings = ctx.prober.config.settings;
    if let Err(e) = apply::apply(mc, key, ctx, mc.status.as_ref(), next, &settings).await {
        tracing::warn!(namespace, name, error = %e, "could not write the status of the failed deletion");
    }
    let failed = event(true, status::DELETE_FAILED, note);
    apply::publish(mc, key, ctx, vec![failed], "Delete").await;
    Ok(Action::requeue(retry))
}

/// Sends the delete where the resource may act; the failure if it did not go through.
async fn send(
    mc: &ManagedConnector,
    ctx: &Context,
    step: &plan::Step,
) -> Result<Option<Failure>, Error> {
    let target = match ctx.prober.target(mc).await? {
        Err(f) => return Ok(Some(f)),
        Ok(target) => target,
    };
    if let Err(f) = execute::may_act(&target, &ctx.prober.config) {
        return Ok(Some(f));
    }
    let failed = execute::execute(&ctx.prober, &ctx.fence, &target, std::slice::from_ref(step))
        .await
        .map_err(|_| Error::Fenced)?;
    Ok(failed.map(|(_, f)| f))
}

fn event(warning: bool, reason: &str, note: String) -> status::EventSpec {
    status::EventSpec {
        warning,
        reason: reason.into(),
        note,
    }
}

/// Says what became of the connector (if anything did), then removes the finalizer: the
/// resource goes.
async fn let_go(
    mc: &ManagedConnector,
    key: (&str, &str),
    ctx: &Context,
    said: Option<status::EventSpec>,
) -> Result<Action, Error> {
    if let Some(said) = said {
        apply::publish(mc, key, ctx, vec![said], "Delete").await;
    }
    let api: Api<ManagedConnector> = Api::namespaced(ctx.client.clone(), key.0);
    apply::set_finalizer(&api, mc, false).await?;
    Ok(Action::await_change())
}
