//! The reconciler, one pipeline per resource: resolve ([`crate::resolve`], pure) → fetch
//! ([`crate::fetch`], or the group's snapshot from [`crate::batch`]) → assess
//! ([`crate::probe::Report::assess`], pure) → build ([`crate::status`], pure) → apply
//! ([`crate::apply`]: status patch, Events) → schedule ([`crate::schedule`], pure).
//!
//! Reconciles are triggered by spec changes (generation) and by their own requeue timers; the
//! operator's own status writes do not trigger a new probe.

use crate::batch::Serve;
use crate::connect_cluster::ConnectCluster;
use crate::crd::{ManagedConnector, SourceKind};
use crate::manage::{execute, finalizer, plan, restart};
use crate::metrics::ResourceLabels;
use crate::probe::{FailureKind, Observation};
use crate::status::{self, Outcome, Subject};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::apply;
use crate::schedule::{AFTER_THE_PAUSE, MAX_REQUEUE, backstop, kube_backoff, next_poll};

pub use crate::config::OperatorConfig;
pub use crate::context::{Context, Error};

use crate::act::{Managed, claimed_by, manage_connector};
use crate::deletion::finalize;

/// One reconcile of one resource, within its namespace's share of the reconciles running at
/// once and of the request slots (see [`crate::http::TENANT`]): one namespace's resources,
/// however many and wherever they point, never take every worker or slot.
pub async fn reconcile(mc: Arc<ManagedConnector>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = mc.namespace().unwrap_or_default();
    let Some(_turn) = ctx.tenant_turn(&namespace) else {
        // Back in a moment, when one of the namespace's reconciles has ended.
        return Ok(Action::requeue(
            TENANT_BUSY_RETRY.mul_f64(1.0 + rand::random::<f64>()),
        ));
    };
    crate::http::TENANT
        .scope(namespace, reconcile_resource(mc, ctx))
        .await
}

/// How soon a reconcile refused for its namespace's share comes back (up to twice this).
const TENANT_BUSY_RETRY: Duration = Duration::from_secs(1);

/// One reconcile of one resource, in a span naming it (every log line of the reconcile carries
/// the resource).
#[tracing::instrument(name = "reconcile", skip_all, fields(namespace = mc.metadata.namespace.as_deref().unwrap_or_default(), name = mc.metadata.name.as_deref().unwrap_or_default()))]
async fn reconcile_resource(mc: Arc<ManagedConnector>, ctx: Arc<Context>) -> Result<Action, Error> {
    ctx.metrics.reconcile();
    // The cache holds a large configuration as a marker only: this reconcile reads it whole.
    let mc = if crate::trim::is_trimmed(&mc) {
        let api: Api<ManagedConnector> =
            Api::namespaced(ctx.client.clone(), &mc.namespace().unwrap_or_default());
        match api.get_opt(&mc.name_any()).await? {
            Some(whole) => Arc::new(whole),
            None => return Ok(Action::await_change()),
        }
    } else {
        mc
    };
    let _running = ctx.metrics.reconcile_running();
    let namespace = mc.namespace().ok_or(Error::MissingMetadata("namespace"))?;
    let name = mc
        .metadata
        .name
        .clone()
        .ok_or(Error::MissingMetadata("name"))?;
    let uid = mc.uid().unwrap_or_default();
    let settings = ctx.prober.config.settings;
    let cluster = ctx.prober.clusters.of(&mc);
    let subject = Subject {
        generation: mc.metadata.generation,
        created: mc.metadata.creation_timestamp.as_ref().map(|t| t.0),
        connector_name: mc.connector_name(),
        cluster_name: mc.spec.cluster_name.clone(),
        source: match (&mc.spec.connect_cluster_ref, &cluster) {
            (Some(_), Some(c)) if c.spec.kafka_connect.is_some() => SourceKind::KafkaConnect,
            (None, _) if mc.spec.kafka_connect.is_some() => SourceKind::KafkaConnect,
            _ => SourceKind::DataPlane,
        },
    };
    let who = ResourceLabels::new(&namespace, &name);
    let mut stored = mc.status.clone();
    // Never poll faster than the global rate allows for every watched resource: beyond that,
    // reconciles would only queue behind the rate limiter and some would starve.
    let poll = mc
        .spec
        .poll_interval(ctx.prober.config.default_poll_interval)
        .max(ctx.min_cycle());

    // Deletion: with `deletionPolicy: Delete` the connector goes first.
    if mc.metadata.deletion_timestamp.is_some() {
        return finalize(&mc, (&namespace, &name), &uid, &ctx).await;
    }
    let wanted = finalizer::wanted(
        &mc,
        ctx.prober.config.operator_credentials_may_act,
        cluster.as_deref(),
    );
    if wanted != finalizer::present(&mc) {
        if !ctx.fence.may_write() {
            return Err(Error::Fenced);
        }
        let api: Api<ManagedConnector> = Api::namespaced(ctx.client.clone(), &namespace);
        apply::set_finalizer(&api, &mc, wanted).await?;
    }

    if mc.spec.suspend {
        let next = status::desired_status(
            stored.as_ref(),
            &subject,
            &Outcome::Suspended,
            Timestamp::now(),
            &settings,
        );
        apply::apply(
            &mc,
            (&namespace, &name),
            &ctx,
            stored.as_ref(),
            next,
            &settings,
        )
        .await?;
        // Not watched: no series (a ready of 0 would keep an alert firing for a resource nobody
        // asked to watch); they come back with the next probe after resuming.
        ctx.metrics.forget(&who);
        ctx.tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(namespace.clone(), name.clone()));
        ctx.note_result(&uid, false);
        ctx.batcher.leave(&ObjectRef::from_obj(&*mc));
        return Ok(Action::await_change());
    }

    // First visit: say so before the (possibly rate-limited) probe, so nobody wonders whether the
    // operator saw the resource at all.
    if stored.as_ref().is_none_or(|s| s.conditions.is_empty()) {
        let next = status::desired_status(
            stored.as_ref(),
            &subject,
            &Outcome::NotProbed,
            Timestamp::now(),
            &settings,
        );
        stored = Some(
            apply::apply(
                &mc,
                (&namespace, &name),
                &ctx,
                stored.as_ref(),
                next,
                &settings,
            )
            .await?,
        );
    }

    // A status the API server did not take last time is written now, without asking the source
    // again: an API server outage must not turn into a Data Plane request storm.
    // Served from the group's snapshot (its poller logged any failure once for all), and whether
    // the group's next listing triggers this resource (so no single-read cadence of its own).
    let (mut from_snapshot, mut triggered_by_group) = (false, false);
    // A resource that acts on its connector reads it alone: a decision to restart or reconfigure
    // is never taken on a listing that may predate the last command.
    let acts = plan::wants_management(&mc.spec, mc.annotations());
    let (mut acting_target, mut resolved) = (None, None);
    let observation = match ctx.take_unwritten(&uid, poll) {
        Some(o) => o,
        None => match ctx.prober.target(&mc).await? {
            Err(failure) => {
                ctx.batcher.leave(&ObjectRef::from_obj(&*mc));
                Observation::Failed(failure)
            }
            Ok(target) if acts => {
                ctx.batcher.leave(&ObjectRef::from_obj(&*mc));
                let o = ctx.prober.fetch_one(&target).await;
                acting_target = Some(target);
                o
            }
            Ok(target) => {
                let target = resolved.insert(target);
                match ctx
                    .batcher
                    .serve(&ctx.prober, ObjectRef::from_obj(&*mc), target, poll)
                {
                    Serve::Single => ctx.prober.fetch_one(target).await,
                    Serve::Once => {
                        triggered_by_group = true;
                        ctx.prober.fetch_one(target).await
                    }
                    Serve::Observed(o) => {
                        (from_snapshot, triggered_by_group) = (true, true);
                        *o
                    }
                    // The group's first listing ends by triggering this reconcile.
                    Serve::Pending => {
                        return Ok(Action::requeue(backstop(poll, rand::random::<f64>())));
                    }
                }
            }
        },
    };
    let failure = match &observation {
        Observation::Found { .. } => None,
        Observation::Failed(f) => Some(f.clone()),
        Observation::Deferred(left) => {
            // The origin asked for a pause: nothing learned, nothing written; back at its end
            // (spread over a second so the resources of one origin do not return at once).
            ctx.metrics.probe("deferred");
            let back = left.saturating_add(AFTER_THE_PAUSE.mul_f64(rand::random::<f64>()));
            tracing::debug!(namespace, name, back_in = ?back, "origin paused; probe deferred");
            return Ok(Action::requeue(back.min(MAX_REQUEUE)));
        }
    };
    ctx.metrics
        .probe(failure.as_ref().map(|f| f.kind.reason()).unwrap_or("ok"));
    let learnt = match &observation {
        Observation::Found { .. } => true,
        Observation::Failed(f) => f.kind == FailureKind::ConnectorNotFound,
        Observation::Deferred(_) => false,
    };
    let mut managed = match &acting_target {
        Some(target) if learnt => {
            manage_connector(
                &mc,
                (&namespace, &name),
                &ctx,
                target,
                &observation,
                stored.as_ref(),
                &subject,
            )
            .await?
        }
        _ => Managed::nothing(stored.as_ref()),
    };
    if let Some(written) = managed.written.take() {
        stored = Some(written);
    }
    // `spec.adopt`: a connector that exists is this resource's to delete, once it may act on it.
    if let Some(target) = acting_target.as_ref().or(resolved.as_ref())
        && mc.spec.adopt
        && matches!(observation, Observation::Found { .. })
        && execute::may_act(target, &ctx.prober.config).is_ok()
        && claimed_by(&ctx, &mc, target).is_none()
    {
        managed.management.owned = Some(target.identity());
    }
    // Connectors quote their configuration in traces and errors (a JDBC driver prints the
    // connection URL): nothing the source said reaches status, Events or logs with a Secret value.
    // The credentials the source was sent are kept out too.
    if let Some(target) = acting_target.as_ref().or(resolved.as_ref()) {
        managed.redactor = managed.redactor.and(target.source.secrets());
    }
    let observation = managed.redactor.observation(observation);
    if let Observation::Failed(f) = &observation
        && !from_snapshot
    {
        tracing::warn!(
            namespace,
            name,
            connector = subject.connector_name,
            reason = f.kind.reason(),
            message = f.message,
            "probe failed"
        );
    }
    let next = status::desired_status_managed(
        stored.as_ref(),
        &subject,
        &Outcome::Probed(observation.clone()),
        &managed.management,
        Timestamp::now(),
        &settings,
    );
    // Task counts come from the status being written: the fresh ones after a probe, the last
    // known ones during an outage, none once the connector is gone.
    ctx.metrics.set_connector(
        &who,
        next.holistic_state,
        next.connector.as_ref().map(|_| status::task_counts(&next)),
    );
    if let Some(ready) = next.conditions.iter().find(|c| c.type_ == status::READY) {
        ctx.metrics
            .set_ready(&who, ready.status == "True", &ready.reason);
    }
    ctx.tracked
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert((namespace.clone(), name.clone()));
    if let Err(e) = apply::apply(
        &mc,
        (&namespace, &name),
        &ctx,
        stored.as_ref(),
        next,
        &settings,
    )
    .await
    {
        ctx.keep_unwritten(&uid, observation);
        return Err(e);
    }
    ctx.kube_recovered(&uid);
    apply::publish(
        &mc,
        (&namespace, &name),
        &ctx,
        std::mem::take(&mut managed.events),
        "Act",
    )
    .await;
    if managed.acted {
        // Look again soon: the command's effect is what the status should show next.
        ctx.note_result(&uid, false);
        return Ok(Action::requeue(AFTER_A_COMMAND));
    }

    if triggered_by_group {
        // The group's poller comes back with the next listing; this is only a safety net.
        ctx.note_result(&uid, false);
        return Ok(Action::requeue(backstop(poll, rand::random::<f64>())));
    }
    // A failed command backs off like a failed probe: a source that refuses a command (or is
    // down) is not asked again every few seconds.
    let failure = managed.command_failure.take().or(failure);
    let counts_as_failure = failure
        .as_ref()
        .is_some_and(|f| f.kind != FailureKind::ConnectorNotFound);
    let failures = ctx.note_result(&uid, counts_as_failure);
    let mut next = next_poll(failure.as_ref(), failures, poll, rand::random::<f64>());
    if let Some(wake) = managed.wake {
        // A pending automatic restart comes due before the next poll.
        let until = Duration::try_from(wake.duration_since(Timestamp::now())).unwrap_or_default();
        next = next.min(until.saturating_add(Duration::from_millis(500)));
    }
    tracing::debug!(namespace, name, next_probe_in = ?next, "probed");
    Ok(Action::requeue(next))
}

/// How long after sending commands the connector is read again.
const AFTER_A_COMMAND: Duration = Duration::from_secs(2);

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

/// After a Kubernetes API failure: retry with jittered exponential backoff (5 s doubling to five
/// minutes), so an API server in trouble is not hammered by every resource at once.
pub fn error_policy(mc: Arc<ManagedConnector>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.reconcile_error(error.metric_label());
    let in_a_row = ctx.note_kube_failure(&mc.uid().unwrap_or_default());
    let retry = kube_backoff(in_a_row, rand::random::<f64>());
    tracing::warn!(namespace = mc.namespace(), name = mc.name_any(), %error, in_a_row, retry_in = ?retry, "reconcile failed");
    Action::requeue(retry)
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
    let client = ctx.client.clone();
    let api: Api<ManagedConnector> = match &ctx.prober.config.namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
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
    let clusters_listed = Arc::new(tokio::sync::Notify::new());
    let platform = Arc::new(crate::platform::controller::ClusterContext {
        client: ctx.client.clone(),
        prober: ctx.prober.clone(),
        fence: ctx.fence.clone(),
        resources: reader.clone(),
    });
    if ctx.prober.config.connect_clusters {
        tokio::spawn(crate::platform::controller::run(
            platform,
            clusters_listed.clone(),
            stopped(),
        ));
    } else {
        clusters_listed.notify_one();
    }
    if tokio::time::timeout(Duration::from_secs(30), clusters_listed.notified())
        .await
        .is_err()
    {
        tracing::warn!(
            "ConnectClusters not listed within 30s; resources naming one may report ConnectClusterNotFound until they are"
        );
    }
    let triggered = ctx
        .triggered
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    // Readiness is taken from the watch stream itself (the initial list is complete) rather than
    // from `Store::wait_until_ready`, whose signal wakes only one of several concurrent waiters.
    let listed = Arc::new(tokio::sync::Notify::new());
    let ready_flag = ready.clone();
    let listed_tx = listed.clone();
    let mut config = watcher::Config::default().any_semantic();
    if let Some(selector) = &ctx.prober.config.selector {
        config = config.labels(selector);
    }
    let stream = watcher(api, config)
        .default_backoff()
        .inspect_ok(move |event| {
            if matches!(event, watcher::Event::InitDone) {
                ready_flag.store(true, Ordering::SeqCst);
                listed_tx.notify_one();
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
        .predicate_filter(reconcile_worthy, Default::default());

    let store = reader.clone();
    let pruner_ctx = ctx.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        let mut announced = false;
        loop {
            tokio::select! {
                _ = listed.notified() => {}
                _ = tick.tick() => {}
            }
            pruner_ctx.prune(&store);
            if !announced && ready.load(Ordering::SeqCst) {
                announced = true;
                tracing::info!(
                    resources = pruner_ctx.watched.load(Ordering::Relaxed),
                    "watch cache filled; reconciling"
                );
            }
        }
    });

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
        .run(reconcile, error_policy, ctx)
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
