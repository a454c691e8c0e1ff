//! The controller: watches ManagedConnectors (and the ConnectClusters they name), keeps the
//! compact watch cache, and runs [`crate::reconcile`] for every change worth one.
//!
//! Reconciles are triggered by spec changes (generation), the start of a deletion, the restart
//! annotations and their own requeue timers; the operator's own status writes do not trigger a
//! new probe.

use crate::connect_cluster::ConnectCluster;
use crate::crd::ManagedConnector;
use crate::manage::restart;
use crate::reconcile::{error_policy, reconcile};
use futures::{StreamExt, TryStreamExt};
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use crate::config::OperatorConfig;
pub use crate::context::{Context, Error};

/// What makes a change worth a reconcile: the spec (generation), the start of a deletion, and
/// the restart annotations. The operator's own status writes and finalizer edits are not.
fn reconcile_worthy(mc: &ManagedConnector) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    mc.metadata.generation.hash(&mut h);
    mc.metadata.deletion_timestamp.is_some().hash(&mut h);
    let annotations = mc.metadata.annotations.as_ref();
    for key in [
        restart::RESTART_ANNOTATION,
        restart::RESTART_TASK_ANNOTATION,
    ] {
        annotations.and_then(|a| a.get(key)).hash(&mut h);
    }
    Some(h.finish())
}

/// A change of a ConnectCluster reaches every resource naming it at once; its status writes (a
/// check a minute) are not changes, only a new generation is.
fn follow_connect_clusters(
    controller: Controller<ManagedConnector>,
    client: &Client,
) -> Controller<ManagedConnector> {
    let users = controller.store();
    let clusters = watcher(
        Api::<ConnectCluster>::all(client.clone()),
        watcher::Config::default().any_semantic(),
    )
    .default_backoff()
    .applied_objects()
    .predicate_filter(kube::runtime::predicates::generation, Default::default());
    controller.watches_stream(clusters, move |cc: ConnectCluster| {
        let name = cc.name_any();
        users
            .state()
            .iter()
            .filter(|mc| mc.names_cluster(&name))
            .map(|mc| ObjectRef::from_obj(&**mc))
            .collect::<Vec<_>>()
    })
}

/// Runs the controller until `shutdown` resolves; `ready` turns true once the cache is filled.
pub async fn run(
    ctx: Arc<Context>,
    concurrency: u16,
    ready: Arc<AtomicBool>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let (reader, writer) = reflector::store();
    ctx.batcher.set_store(reader.clone());
    let _ = ctx.resources.set(reader.clone());
    // All but a quarter of the workers (at least one): the rest are always free for others.
    let share = usize::from(concurrency).max(1);
    ctx.tenant_share.store(
        share.saturating_sub((share / 4).max(1)).max(1),
        Ordering::Relaxed,
    );
    // One shutdown for both controllers.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    // ConnectClusters first: a resource naming one is resolved only once they are listed.
    follow_platform(&ctx, reader.clone(), stopped(), stopped()).await;
    let triggered = ctx
        .triggered
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let listed = Arc::new(tokio::sync::Notify::new());
    let stream = watch(&ctx, writer, ready.clone(), listed.clone());
    let stream = crate::heap::accounted_stream(crate::heap::Share::WatchCache, stream);
    tokio::spawn(prune(ctx.clone(), reader.clone(), ready, listed));

    let mut controller = Controller::for_stream(stream, reader)
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency));
    if let Some(triggered) = triggered {
        controller = controller.reconcile_on(triggered);
    }
    if ctx.prober.config.connect_clusters {
        controller = follow_connect_clusters(controller, &ctx.client);
    }
    controller
        .graceful_shutdown_on(stopped())
        .run(
            |mc, ctx| crate::heap::accounted(crate::heap::Share::Reconcile, reconcile(mc, ctx)),
            error_policy,
            ctx,
        )
        .for_each(|result| async move {
            if let Err(e) = result {
                match e {
                    kube::runtime::controller::Error::ReconcilerFailed(..) => {}
                    other => tracing::warn!(error = %other, "controller"),
                }
            }
        })
        .await;
    tracing::info!("controller stopped");
}

/// Starts the ConnectCluster controller (when the operator reads ConnectClusters) and waits up
/// to 30 s for its first listing, or until the operator is told to stop (a leader stopping during
/// its start must release its Lease within the shutdown timeout, not after this wait).
async fn follow_platform(
    ctx: &Context,
    resources: reflector::Store<ManagedConnector>,
    stopped: impl std::future::Future<Output = ()> + Send + Sync + 'static,
    stop: impl std::future::Future<Output = ()>,
) {
    let clusters_listed = Arc::new(tokio::sync::Notify::new());
    if ctx.prober.config.connect_clusters {
        let platform = Arc::new(crate::platform::controller::ClusterContext {
            client: ctx.client.clone(),
            prober: ctx.prober.clone(),
            fence: ctx.fence.clone(),
            resources,
        });
        tokio::spawn(crate::platform::controller::run(
            platform,
            clusters_listed.clone(),
            stopped,
        ));
    } else {
        clusters_listed.notify_one();
    }
    tokio::select! {
        listed = tokio::time::timeout(Duration::from_secs(30), clusters_listed.notified()) => {
            if listed.is_err() {
                tracing::warn!(
                    "ConnectClusters not listed within 30s; resources naming one may report ConnectClusterNotFound until they are"
                );
            }
        }
        _ = stop => {}
    }
}

/// The watch of ManagedConnectors (in the namespace and selector the operator serves), feeding
/// the compact cache; `ready` turns true and `listed` is told when the first listing is in.
fn watch(
    ctx: &Context,
    writer: reflector::store::Writer<ManagedConnector>,
    ready: Arc<AtomicBool>,
    listed: Arc<tokio::sync::Notify>,
) -> impl futures::Stream<Item = Result<ManagedConnector, watcher::Error>> + Send + 'static {
    let client = ctx.client.clone();
    let api: Api<ManagedConnector> = match &ctx.prober.config.namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let mut config = watcher::Config::default().any_semantic();
    if let Some(selector) = &ctx.prober.config.selector {
        config = config.labels(selector);
    }
    // Readiness is taken from the watch stream itself (the initial list is complete) rather than
    // from `Store::wait_until_ready`, whose signal wakes only one of several concurrent waiters.
    watcher(api, config)
        .default_backoff()
        .inspect_ok(move |event| {
            if matches!(event, watcher::Event::InitDone) {
                ready.store(true, Ordering::SeqCst);
                listed.notify_one();
            }
        })
        // The cache keeps what reconcile reads: managedFields and the last-applied annotation
        // are often larger than the spec, and fleets are large.
        .modify(|mc: &mut ManagedConnector| {
            mc.metadata.managed_fields = None;
            if let Some(a) = mc.metadata.annotations.as_mut() {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
            crate::trim::trim(mc);
        })
        .reflect(writer)
        .applied_objects()
        .predicate_filter(reconcile_worthy, Default::default())
}

/// Every 30 s and after the first listing: forgets the series and state of resources no longer
/// watched, and says once that the cache is filled.
async fn prune(
    ctx: Arc<Context>,
    store: reflector::Store<ManagedConnector>,
    ready: Arc<AtomicBool>,
    listed: Arc<tokio::sync::Notify>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    let mut announced = false;
    loop {
        tokio::select! {
            _ = listed.notified() => {}
            _ = tick.tick() => {}
        }
        ctx.prune(&store);
        if !announced && ready.load(Ordering::SeqCst) {
            announced = true;
            tracing::info!(
                resources = ctx.watched.load(Ordering::Relaxed),
                "watch cache filled; reconciling"
            );
        }
    }
}
