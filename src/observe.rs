//! What one reconcile reads (I/O): a status the API server did not take last time (written
//! again without asking the source: an API server outage must not become a request storm), the
//! group's snapshot ([`crate::batch`]), or one read of its own ([`crate::prober`]).

use crate::apply;
use crate::batch::Serve;
use crate::context::{Context, Error};
use crate::crd::{ManagedConnector, ManagedConnectorStatus};
use crate::manage::plan;
use crate::probe::{Failure, Observation};
use crate::resolve::Target;
use crate::schedule::{AFTER_THE_PAUSE, MAX_REQUEUE, backstop};
use crate::status::Outcome;
use crate::visit::Visit;
use kube::ResourceExt;
use kube::runtime::controller::Action;

/// What was read, and how.
pub(crate) struct Reading {
    pub(crate) observation: Observation,
    /// The resource acts on its connector and read it alone: a decision to restart or
    /// reconfigure is never taken on a listing that may predate the last command.
    pub(crate) acting: Option<Target>,
    /// The target of a resource that only reads.
    pub(crate) resolved: Option<Target>,
    /// Served from the group's snapshot (its poller logged any failure once for all).
    pub(crate) from_snapshot: bool,
    /// The group's next listing triggers this resource (no single-read cadence of its own).
    pub(crate) triggered_by_group: bool,
}

impl Reading {
    /// The failure the read ended in, if any.
    pub(crate) fn failure(&self) -> Option<Failure> {
        match &self.observation {
            Observation::Failed(f) => Some(f.clone()),
            _ => None,
        }
    }

    /// Where the connector was read, when the spec resolved.
    pub(crate) fn target(&self) -> Option<&Target> {
        self.acting.as_ref().or(self.resolved.as_ref())
    }
}

/// The status a reconcile starts from. A resource the operator has not reported on says
/// "Probing" before anything that may take a while (its own read of the source, or waiting for
/// its group's first listing), so kubectl, Argo CD and Flux show progress at once; one served
/// from its group's snapshot goes straight to its first status. At an operator start that is
/// most resources: one status write each instead of two.
pub(crate) struct Start<'a> {
    mc: &'a ManagedConnector,
    stored: Option<ManagedConnectorStatus>,
    probing_due: bool,
}

impl<'a> Start<'a> {
    pub(crate) fn new(mc: &'a ManagedConnector) -> Self {
        Start {
            mc,
            stored: mc.status.clone(),
            probing_due: !mc.status.as_ref().is_some_and(|s| s.reported()),
        }
    }

    /// Writes "Probing" once, on a first visit about to wait.
    async fn before_waiting(&mut self, ctx: &Context, visit: &Visit) -> Result<(), Error> {
        if !std::mem::take(&mut self.probing_due) {
            return Ok(());
        }
        let stored = self.stored.as_ref();
        let written =
            apply::apply_outcome(self.mc, visit, ctx, stored, &Outcome::NotProbed).await?;
        self.stored = Some(written);
        Ok(())
    }

    /// The status stored now (the one just written, if any).
    pub(crate) fn into_stored(self) -> Option<ManagedConnectorStatus> {
        self.stored
    }
}

/// A reading now, or a time to come back having learnt nothing.
pub(crate) enum Observed {
    Now(Box<Reading>),
    Later(Action),
}

/// Reads the resource's connector, or says when to come back: the group's first listing is
/// pending, or the origin asked for a pause.
pub(crate) async fn observe(
    mc: &ManagedConnector,
    ctx: &Context,
    visit: &Visit,
    start: &mut Start<'_>,
) -> Result<Observed, Error> {
    let (mut acting, mut resolved) = (None, None);
    let (mut from_snapshot, mut triggered_by_group) = (false, false);
    let me = || crate::batch::member_ref(mc);
    let observation = match ctx.take_unwritten(&visit.uid, visit.poll) {
        Some(o) => o,
        None => match ctx.prober.target(mc).await? {
            Err(failure) => {
                ctx.batcher.leave(&me());
                Observation::Failed(failure)
            }
            Ok(target) if plan::wants_management(&mc.spec, mc.annotations()) => {
                ctx.batcher.leave(&me());
                start.before_waiting(ctx, visit).await?;
                ctx.prober.fetch_one(acting.insert(target)).await
            }
            Ok(target) => {
                let target = resolved.insert(target);
                match ctx.batcher.serve(&ctx.prober, me(), target, visit.poll) {
                    Serve::Single => {
                        start.before_waiting(ctx, visit).await?;
                        ctx.prober.fetch_one(target).await
                    }
                    Serve::Once => {
                        triggered_by_group = true;
                        start.before_waiting(ctx, visit).await?;
                        ctx.prober.fetch_one(target).await
                    }
                    Serve::Observed(o) => {
                        (from_snapshot, triggered_by_group) = (true, true);
                        *o
                    }
                    // The group's first listing ends by triggering this reconcile.
                    Serve::Pending => {
                        start.before_waiting(ctx, visit).await?;
                        let back = backstop(visit.poll, rand::random::<f64>());
                        return Ok(Observed::Later(Action::requeue(back)));
                    }
                }
            }
        },
    };
    if let Observation::Deferred(left) = &observation {
        // The origin asked for a pause: nothing learned, nothing written (but Probing on a
        // first visit); back at its end (spread over a second so the resources of one origin do
        // not return at once).
        ctx.metrics.probe("deferred");
        start.before_waiting(ctx, visit).await?;
        let back = left.saturating_add(AFTER_THE_PAUSE.mul_f64(rand::random::<f64>()));
        tracing::debug!(namespace = visit.namespace, name = visit.name, back_in = ?back, "origin paused; probe deferred");
        return Ok(Observed::Later(Action::requeue(back.min(MAX_REQUEUE))));
    }
    Ok(Observed::Now(Box::new(Reading {
        observation,
        acting,
        resolved,
        from_snapshot,
        triggered_by_group,
    })))
}
