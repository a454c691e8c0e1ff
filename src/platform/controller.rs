//! The ConnectCluster controller (I/O): keeps the [`ClusterBook`](super::book::ClusterBook)
//! filled from one watch and writes each cluster's status: whether its source answers with its
//! credentials (one small listing call, at most once a minute) and how many resources name it.

use crate::connect_cluster::{ConnectCluster, ConnectClusterStatus};
use crate::crd::ManagedConnector;
use crate::leader::Fence;
use crate::probe::{Failure, ListFailure};
use crate::prober::Prober;
use crate::resolve::{Grant, platform};
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use std::sync::Arc;
use std::time::Duration;

/// How often a cluster's source is asked.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);
/// Field manager of the status writes.
const MANAGER: &str = "managed-connector-operator";

/// What the ConnectCluster reconciler shares.
pub struct ClusterContext {
    /// Kubernetes client.
    pub client: Client,
    /// The sources and the ConnectCluster book.
    pub prober: Arc<Prober>,
    /// Only the leader writes.
    pub fence: Fence,
    /// The ManagedConnectors, to count the users of a cluster.
    pub resources: Store<ManagedConnector>,
}

/// Whether the source answered, as the Ready condition's (status, reason, message) (pure).
pub fn health(result: &Result<(), ListFailure>, source: &str) -> (bool, String, String) {
    match result {
        Ok(()) => (
            true,
            "Answered".into(),
            format!("the {source} answered with these credentials"),
        ),
        Err(ListFailure::Unsupported(why)) => (
            true,
            "Answered".into(),
            format!(
                "the {source} answered; its listing is not available ({why}): resources are read one by one"
            ),
        ),
        Err(ListFailure::Failed(f) | ListFailure::TooLarge(f)) => {
            (false, f.kind.reason().into(), f.message.clone())
        }
        Err(ListFailure::Deferred(left)) => (
            false,
            "Deferred".into(),
            format!(
                "the {source} asked the operator to wait ({}s left)",
                left.as_secs()
            ),
        ),
    }
}

/// The status to write (pure): the Ready condition keeps its transition time while it holds.
pub fn next_status(
    stored: Option<&ConnectClusterStatus>,
    (ready, reason, message): (bool, String, String),
    used_by: u32,
    generation: Option<i64>,
    now: Timestamp,
) -> ConnectClusterStatus {
    let status = if ready { "True" } else { "False" }.to_string();
    let since = stored
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
        .filter(|c| c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or(Time(now));
    ConnectClusterStatus {
        conditions: vec![Condition {
            type_: "Ready".into(),
            status,
            reason,
            message: crate::status::cut(&message, 1024),
            last_transition_time: since,
            observed_generation: generation,
        }],
        used_by,
        observed_generation: generation,
        last_checked: Some(Time(now)),
    }
}

async fn check(
    cc: &ConnectCluster,
    ctx: &ClusterContext,
) -> Result<Result<(), ListFailure>, kube::Error> {
    let config = &ctx.prober.config;
    let lookups = ctx
        .prober
        .lookups(platform::cluster_references(cc, config))
        .await?;
    let target = match platform::cluster_target(
        cc,
        config,
        &lookups,
        String::new(),
        Grant::Refused("a check of the cluster".into()),
    ) {
        Ok(t) => t,
        Err(f) => return Ok(Err(ListFailure::Failed(f))),
    };
    let source = ctx.prober.source(target.source.kind());
    Ok(source.page(&target, 1, None, &|_| false).await.map(|_| ()))
}

/// Checks the cluster's source and writes its status.
pub async fn reconcile(
    cc: Arc<ConnectCluster>,
    ctx: Arc<ClusterContext>,
) -> Result<Action, kube::Error> {
    if !ctx.fence.may_write() {
        return Ok(Action::requeue(CHECK_EVERY));
    }
    let name = cc.name_any();
    let used_by = ctx
        .resources
        .state()
        .iter()
        .filter(|mc| mc.names_cluster(&name))
        .count();
    let source = if cc.spec.kafka_connect.is_some() {
        "Kafka Connect REST API"
    } else {
        "Data Plane API"
    };
    let result = check(&cc, &ctx).await?;
    if let Err(ListFailure::Failed(Failure { kind, message, .. })) = &result {
        tracing::warn!(
            connect_cluster = name,
            reason = kind.reason(),
            message,
            "ConnectCluster check failed"
        );
    }
    let status = next_status(
        cc.status.as_ref(),
        health(&result, source),
        u32::try_from(used_by).unwrap_or(u32::MAX),
        cc.metadata.generation,
        Timestamp::now(),
    );
    let api: Api<ConnectCluster> = Api::all(ctx.client.clone());
    let patch = serde_json::json!({
        "apiVersion": "connectors.dataplane.dev/v1alpha1",
        "kind": "ConnectCluster",
        "status": status,
    });
    api.patch_status(
        &name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(Action::requeue(CHECK_EVERY))
}

fn error_policy(cc: Arc<ConnectCluster>, error: &kube::Error, _: Arc<ClusterContext>) -> Action {
    tracing::warn!(connect_cluster = cc.name_any(), %error, "ConnectCluster reconcile failed");
    Action::requeue(Duration::from_secs(15))
}

/// Watches ConnectClusters into the prober's book and writes their status until `shutdown`.
/// `listed` fires once the first listing is in the book (or the watch failed to start).
pub async fn run(
    ctx: Arc<ClusterContext>,
    listed: Arc<tokio::sync::Notify>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<ConnectCluster> = Api::all(ctx.client.clone());
    let (reader, writer) = reflector::store();
    ctx.prober.clusters.set_store(reader.clone());
    let stream = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .inspect(move |event| match event {
            Ok(watcher::Event::InitDone) => listed.notify_one(),
            Err(e) => {
                tracing::warn!(error = %e, "watching ConnectClusters (is the ConnectCluster CRD installed, may the operator list them?)");
                listed.notify_one();
            }
            _ => {}
        })
        .reflect(writer)
        .applied_objects();
    Controller::for_stream(stream, reader)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|_| async {})
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::FailureKind;

    #[test]
    fn the_ready_condition_follows_the_check_and_keeps_its_transition_time() {
        let t0 = Timestamp::from_second(1_000).expect("time");
        let t1 = Timestamp::from_second(2_000).expect("time");
        let up = next_status(None, health(&Ok(()), "Data Plane API"), 3, Some(1), t0);
        assert_eq!(up.conditions[0].status, "True");
        assert_eq!(up.used_by, 3);
        let still = next_status(Some(&up), health(&Ok(()), "Data Plane API"), 4, Some(1), t1);
        assert_eq!(still.conditions[0].last_transition_time, Time(t0));
        assert_eq!(still.last_checked, Some(Time(t1)));
        let down = next_status(
            Some(&still),
            health(
                &Err(ListFailure::Failed(Failure::new(
                    FailureKind::CredentialsRejected,
                    "refused",
                ))),
                "Data Plane API",
            ),
            4,
            Some(1),
            t1,
        );
        assert_eq!(down.conditions[0].status, "False");
        assert_eq!(down.conditions[0].reason, "CredentialsRejected");
        assert_eq!(down.conditions[0].last_transition_time, Time(t1));
    }
}
