//! One reconcile of one resource, as the pipeline it is: resolve and observe
//! ([`crate::observe`]: the unwritten status, the group's snapshot or one read) → act
//! ([`crate::act`]: plan, pure, then the commands; a restart is recorded ahead of sending it) →
//! decide the status ([`crate::status`], pure) → apply once ([`crate::apply`]: status patch,
//! Events) → schedule ([`crate::schedule`], pure).
//!
//! Each step returns a value; only three writes happen on the way, each for a reason: the
//! first visit's "not probed yet" when it has to wait (before its own, possibly rate-limited
//! read or its group's first listing, so nobody wonders whether the operator saw the resource;
//! [`crate::observe::Start`]), the restart record (before the restart is sent, so it is sent at
//! most once), and the one status at the end.

use crate::act::{Managed, claimed_by, manage_connector};
use crate::apply;
use crate::context::{Context, Error};
use crate::crd::{ManagedConnector, ManagedConnectorStatus};
use crate::deletion::finalize;
use crate::manage::{execute, finalizer};

use crate::observe::{Observed, Reading, Start, observe};
use crate::probe::{Failure, FailureKind, Observation};
use crate::schedule::{backstop, kube_backoff, next_poll};
use crate::status::{self, Outcome};
use crate::visit::Visit;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use std::sync::Arc;
use std::time::Duration;

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

/// After a Kubernetes API failure: retry with jittered exponential backoff (5 s doubling to five
/// minutes), so an API server in trouble is not hammered by every resource at once.
pub fn error_policy(mc: Arc<ManagedConnector>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.reconcile_error(error.metric_label());
    let in_a_row = ctx.note_kube_failure(&mc.uid().unwrap_or_default());
    let retry = kube_backoff(in_a_row, rand::random::<f64>());
    tracing::warn!(namespace = mc.namespace(), name = mc.name_any(), %error, in_a_row, retry_in = ?retry, "reconcile failed");
    Action::requeue(retry)
}

/// How soon a reconcile refused for its namespace's share comes back (up to twice this).
const TENANT_BUSY_RETRY: Duration = Duration::from_secs(1);

/// How long after sending commands the connector is read again.
const AFTER_A_COMMAND: Duration = Duration::from_secs(2);

/// One reconcile of one resource, in a span naming it (every log line of the reconcile carries
/// the resource).
#[tracing::instrument(name = "reconcile", skip_all, fields(namespace = mc.metadata.namespace.as_deref().unwrap_or_default(), name = mc.metadata.name.as_deref().unwrap_or_default()))]
async fn reconcile_resource(mc: Arc<ManagedConnector>, ctx: Arc<Context>) -> Result<Action, Error> {
    ctx.metrics.reconcile();
    let Some(mc) = whole(mc, &ctx).await? else {
        return Ok(Action::await_change());
    };
    let _running = ctx.metrics.reconcile_running();
    let visit = Visit::of(&mc, &ctx)?;
    if mc.metadata.deletion_timestamp.is_some() {
        // With `deletionPolicy: Delete` the connector goes first.
        return finalize(&mc, visit.key(), &visit.uid, &ctx).await;
    }
    keep_finalizer(&mc, &ctx).await?;
    if mc.spec.suspend {
        return suspend(&mc, &ctx, &visit).await;
    }
    let mut start = Start::new(&mc);
    let observed = match observe(&mc, &ctx, &visit, &mut start).await? {
        Observed::Later(action) => return Ok(action),
        Observed::Now(observed) => observed,
    };
    let stored = start.into_stored();
    let failure = observed.failure();
    ctx.metrics
        .probe(failure.as_ref().map(|f| f.kind.reason()).unwrap_or("ok"));
    let mut managed = act(&mc, &ctx, &visit, &observed, stored.as_ref()).await?;
    let stored = managed.written.take().or(stored);
    let observation = managed.redactor.observation(observed.observation.clone());
    if let Observation::Failed(f) = &observation
        && !observed.from_snapshot
    {
        tracing::warn!(
            namespace = visit.namespace,
            name = visit.name,
            connector = visit.subject.connector_name,
            reason = f.kind.reason(),
            message = f.message,
            "probe failed"
        );
    }
    watch_offsets(
        &mc,
        &ctx,
        &observed,
        &observation,
        stored.as_ref(),
        &mut managed,
    )
    .await;
    let now = Timestamp::now();
    let mut next = status::desired_status_managed(
        stored.as_ref(),
        &visit.subject,
        &Outcome::Probed(observation.clone()),
        &managed.management,
        now,
        &ctx.prober.config.settings,
    );
    refresh_topics(&ctx, &observed, &observation, &mut next, now).await;
    write(
        &mc,
        &ctx,
        &visit,
        stored.as_ref(),
        next,
        observation,
        &mut managed,
    )
    .await?;
    Ok(Action::requeue(next_visit(
        &ctx, &visit, &observed, managed, failure,
    )))
}

/// Reads the connector's topics into `next` when they are due (`--topics-refresh`): one request
/// per connector every so often, never per poll. A failed read keeps the last ones (logged) and
/// waits for the next refresh too.
async fn refresh_topics(
    ctx: &Context,
    observed: &crate::observe::Reading,
    observation: &Observation,
    next: &mut crate::crd::ManagedConnectorStatus,
    now: Timestamp,
) {
    let every = ctx.prober.config.settings.topics_refresh;
    let found = matches!(observation, Observation::Found { .. });
    let Some(target) = observed.acting.as_ref().or(observed.resolved.as_ref()) else {
        return;
    };
    if !found || !status::topics_due(Some(next), now, every) {
        return;
    }
    match ctx.prober.source(target.source.kind()).topics(target).await {
        Ok(topics) => status::record_topics(next, topics, now),
        Err(f) => {
            // Not asked again before the next refresh (a source that does not track topics
            // refuses every time).
            tracing::debug!(
                connector = target.connector,
                reason = f.kind.reason(),
                message = f.message,
                "topics not read; keeping the last ones"
            );
            next.topics_read_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now));
        }
    }
}

/// Reads a running source's offsets when `spec.offsets.stallAfter` asks for it (Kafka Connect
/// only, one request per poll): whether they moved goes into the status, which calls them
/// stalled past the limit. A failed read keeps what was known; nothing is watched otherwise.
async fn watch_offsets(
    mc: &ManagedConnector,
    ctx: &Context,
    observed: &crate::observe::Reading,
    observation: &Observation,
    stored: Option<&crate::crd::ManagedConnectorStatus>,
    managed: &mut crate::act::Managed,
) {
    let limit = mc
        .spec
        .offsets
        .as_ref()
        .and_then(|o| o.stall_after.as_deref())
        .and_then(crate::crd::parse_go_duration);
    let target = observed.acting.as_ref().or(observed.resolved.as_ref());
    let running_source = match observation {
        Observation::Found { status, .. } => {
            let tasks = status.task_counts();
            status.type_ == "source"
                && status.connector.state == "RUNNING"
                && tasks.total > 0
                && tasks.running == tasks.total
        }
        _ => false,
    };
    let (Some(limit), Some(target), true) = (limit, target, running_source) else {
        return;
    };
    if target.source.kind() != crate::resolve::SourceKind::KafkaConnect {
        return;
    }
    let prev = stored.and_then(|s| s.offsets_progress.as_deref());
    let progress = match ctx
        .prober
        .source(target.source.kind())
        .offsets(target)
        .await
    {
        Ok(o) => status::progress(prev, status::offsets_digest(&o.body), Timestamp::now()),
        Err(f) => {
            tracing::debug!(
                connector = target.connector,
                reason = f.kind.reason(),
                message = f.message,
                "offsets not read; keeping what was known"
            );
            let Some(prev) = prev else { return };
            prev.clone()
        }
    };
    managed.management.progress = Some((progress, limit));
}

/// The cache holds a large configuration as a marker only: this reconcile reads it whole
/// (`None`: the resource is gone).
async fn whole(
    mc: Arc<ManagedConnector>,
    ctx: &Context,
) -> Result<Option<Arc<ManagedConnector>>, Error> {
    if !crate::trim::is_trimmed(&mc) {
        return Ok(Some(mc));
    }
    let api: Api<ManagedConnector> =
        Api::namespaced(ctx.client.clone(), &mc.namespace().unwrap_or_default());
    Ok(api.get_opt(&mc.name_any()).await?.map(Arc::new))
}

/// The finalizer is there exactly when deleting the resource must first do something.
async fn keep_finalizer(mc: &ManagedConnector, ctx: &Context) -> Result<(), Error> {
    let cluster = ctx.prober.clusters.of(mc);
    let wanted = finalizer::wanted(
        mc,
        ctx.prober.config.operator_credentials_may_act,
        cluster.as_deref(),
    );
    if wanted == finalizer::present(mc) {
        return Ok(());
    }
    if !ctx.fence.may_write() {
        return Err(Error::Fenced);
    }
    let api: Api<ManagedConnector> =
        Api::namespaced(ctx.client.clone(), &mc.namespace().unwrap_or_default());
    Ok(apply::set_finalizer(&api, mc, wanted).await?)
}

/// A suspended resource says so and is not read; its series go (a ready of 0 would keep an
/// alert firing for a resource nobody asked to watch) until the next probe after resuming.
async fn suspend(mc: &ManagedConnector, ctx: &Context, visit: &Visit) -> Result<Action, Error> {
    apply::apply_outcome(mc, visit, ctx, mc.status.as_ref(), &Outcome::Suspended).await?;
    ctx.metrics.forget(&visit.who);
    ctx.tracked
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&(visit.namespace.clone(), visit.name.clone()));
    ctx.note_result(&visit.uid, false);
    ctx.batcher.leave(&crate::batch::member_ref(mc));
    Ok(Action::await_change())
}

/// Acting on the connector when the resource asks for it and the read taught something (a
/// connector found, or known to be absent); then who owns it and what to keep out of the text.
async fn act(
    mc: &ManagedConnector,
    ctx: &Context,
    visit: &Visit,
    observed: &Reading,
    stored: Option<&ManagedConnectorStatus>,
) -> Result<Managed, Error> {
    let learnt = match &observed.observation {
        Observation::Found { .. } => true,
        Observation::Failed(f) => f.kind == FailureKind::ConnectorNotFound,
        Observation::Deferred(_) => false,
    };
    let mut managed = match &observed.acting {
        Some(target) if learnt => {
            manage_connector(
                mc,
                visit.key(),
                ctx,
                target,
                &observed.observation,
                stored,
                &visit.subject,
            )
            .await?
        }
        _ => Managed::nothing(stored),
    };
    let Some(target) = observed.target() else {
        return Ok(managed);
    };
    // `spec.adopt`: a connector that exists is this resource's to delete, once it may act on it.
    if mc.spec.adopt
        && matches!(observed.observation, Observation::Found { .. })
        && execute::may_act(target, &ctx.prober.config).is_ok()
        && claimed_by(ctx, mc, target).is_none()
    {
        managed.management.owned = Some(Box::new(target.identity()));
    }
    // Connectors quote their configuration in traces and errors (a JDBC driver prints the
    // connection URL): nothing the source said reaches status, Events or logs with a Secret value.
    // The credentials the source was sent are kept out too.
    managed.redactor = std::mem::take(&mut managed.redactor).and(target.source.secrets());
    Ok(managed)
}

/// The one status write at the end, with the series and Events that go with it. A status the
/// API server did not take is kept and written next time without asking the source again.
async fn write(
    mc: &ManagedConnector,
    ctx: &Context,
    visit: &Visit,
    stored: Option<&ManagedConnectorStatus>,
    next: ManagedConnectorStatus,
    observation: Observation,
    managed: &mut Managed,
) -> Result<(), Error> {
    // Task counts come from the status being written: the fresh ones after a probe, the last
    // known ones during an outage, none once the connector is gone.
    {
        let _share = crate::heap::enter(crate::heap::Share::Metrics);
        ctx.metrics.set_connector(
            &visit.who,
            next.holistic_state,
            next.connector.as_ref().map(|_| status::task_counts(&next)),
        );
        if let Some(ready) = next.conditions.iter().find(|c| c.type_ == status::READY) {
            ctx.metrics
                .set_ready(&visit.who, ready.status == "True", &ready.reason);
        }
    }
    ctx.tracked
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert((visit.namespace.clone(), visit.name.clone()));
    let settings = ctx.prober.config.settings;
    if let Err(e) = apply::apply(mc, visit.key(), ctx, stored, next, &settings).await {
        ctx.keep_unwritten(&visit.uid, observation);
        return Err(e);
    }
    ctx.kube_recovered(&visit.uid);
    let events = std::mem::take(&mut managed.events);
    apply::publish(mc, visit.key(), ctx, events, "Act").await;
    Ok(())
}

/// When to come back: soon after a command, with the group's next listing when it serves this
/// resource, else after the interval or the backoff of a failure (a failed command backs off as
/// a failed probe does), and before a pending automatic restart comes due.
fn next_visit(
    ctx: &Context,
    visit: &Visit,
    observed: &Reading,
    mut managed: Managed,
    failure: Option<Failure>,
) -> Duration {
    if managed.acted {
        ctx.note_result(&visit.uid, false);
        return AFTER_A_COMMAND;
    }
    if observed.triggered_by_group {
        ctx.note_result(&visit.uid, false);
        // Watched offsets are read every poll: a listing that does not change is the very
        // case they look for.
        if managed.management.progress.is_some() {
            return visit.poll;
        }
        // The group's poller comes back with the next listing; this is only a safety net.
        return backstop(visit.poll, rand::random::<f64>());
    }
    let failure = managed.command_failure.take().or(failure);
    let counts_as_failure = failure
        .as_ref()
        .is_some_and(|f| f.kind != FailureKind::ConnectorNotFound);
    let failures = ctx.note_result(&visit.uid, counts_as_failure);
    let mut next = next_poll(
        failure.as_ref(),
        failures,
        visit.poll,
        rand::random::<f64>(),
    );
    if let Some(wake) = managed.wake {
        let until = Duration::try_from(wake.duration_since(Timestamp::now())).unwrap_or_default();
        next = next.min(until.saturating_add(Duration::from_millis(500)));
    }
    tracing::debug!(namespace = visit.namespace, name = visit.name, next_probe_in = ?next, "probed");
    next
}
