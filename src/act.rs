//! Acting on one connector (I/O): reads the declared Secrets and the actual configuration, checks
//! who may act (the grant, the claim), plans ([`crate::manage::plan`], pure), records a restart
//! before sending it, sends the commands, and says what it did ([`Managed`]).

use crate::claim;
use crate::crd::{ManagedConnector, ManagedConnectorStatus};
use crate::manage::{check, declared, execute, offsets, offsets_request, plan};
use crate::probe::Failure;
use crate::probe::{FailureKind, Observation};
use crate::redact::Redactor;
use crate::resolve::Target;
use crate::status::{self, Outcome, Subject};
use crate::status::{Management, Note};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use crate::apply;

use crate::context::{Context, Error};

/// What acting on the connector decided and did.
pub(crate) struct Managed {
    pub(crate) management: Management,
    pub(crate) events: Vec<status::EventSpec>,
    /// Commands were sent and all succeeded.
    pub(crate) acted: bool,
    /// A command failed: the next attempt backs off as a failed probe would.
    pub(crate) command_failure: Option<Failure>,
    /// The Secret values the resource sends, to be kept out of everything the source says.
    pub(crate) redactor: Redactor,
    pub(crate) wake: Option<Timestamp>,
    /// The status written before a restart was sent (the restart is recorded first).
    pub(crate) written: Option<ManagedConnectorStatus>,
}

impl Managed {
    pub(crate) fn nothing(stored: Option<&ManagedConnectorStatus>) -> Self {
        Managed {
            management: Management::carry(stored),
            events: Vec::new(),
            acted: false,
            command_failure: None,
            redactor: Redactor::default(),
            wake: None,
            written: None,
        }
    }

    pub(crate) fn refused(
        stored: Option<&ManagedConnectorStatus>,
        failure: Failure,
        attention: bool,
    ) -> Self {
        let mut m = Managed::nothing(stored);
        m.management.note = Some(Note::Failed {
            reason: failure.kind.reason().to_string(),
            message: failure.message,
            attention,
        });
        m
    }
}

/// The imperative shell of [`crate::manage`]: reads the declared Secrets and the actual
/// configuration, plans (pure), records a restart before sending it, sends the commands.
pub(crate) async fn manage_connector(
    mc: &ManagedConnector,
    key: (&str, &str),
    ctx: &Context,
    target: &Target,
    observation: &Observation,
    stored: Option<&ManagedConnectorStatus>,
    subject: &Subject,
) -> Result<Managed, Error> {
    let (declared, actual) = match inputs(mc, ctx, target, subject).await? {
        Ok(inputs) => inputs,
        Err((failure, attention)) => return Ok(Managed::refused(stored, failure, attention)),
    };
    let now = Timestamp::now();
    let uid = mc.uid().unwrap_or_default();
    let fingerprint = declared
        .as_ref()
        .map(|d| d.fingerprint(&ctx.fingerprint_key));
    let refused = fingerprint.as_deref().and_then(|f| ctx.refusal(&uid, f));
    let mut plan = plan::plan(&plan::Inputs {
        spec: &mc.spec,
        connector: &subject.connector_name,
        annotations: mc.annotations(),
        stored,
        observation,
        declared: declared.as_ref(),
        actual: actual.as_ref().map(Option::as_ref),
        source: target.source.kind(),
        refused: refused.as_ref().map(|(r, m)| (r.as_str(), m.as_str())),
        now,
    });
    let written = if plan.restarts() {
        Some(record_restart(mc, key, ctx, &plan, observation, stored, subject, now).await?)
    } else {
        None
    };
    let is_put = |s: &plan::Step| matches!(s.command, crate::source::Command::PutConfig(_));
    let put_at = plan.steps.iter().position(is_put);
    let mut invalid_fields = None;
    let mut refused_before_sending = None;
    if let Some(d) = &declared {
        let putting = put_at.is_some() && ctx.fence.may_write();
        let checked = check::check(&ctx.prober, target, d, &subject.connector_name, putting).await;
        if checked.plugin.is_some() {
            plan.management.plugin = checked.plugin.map(Box::new);
        }
        if let (Some(at), Some((failure, fields))) = (put_at, checked.refusal) {
            // Refused before it was sent: as if the put had failed, nothing after it is sent.
            refused_before_sending = Some((at, failure));
            invalid_fields = Some(fields);
        }
    }
    // Refused before sending for the same reason as last time (a plugin still missing): the
    // condition says so already; one Event, not one per poll.
    let refused_again =
        refused_before_sending
            .as_ref()
            .is_some_and(|(_, f): &(usize, crate::probe::Failure)| {
                stored
                    .and_then(|s| s.conditions.iter().find(|c| c.type_ == status::SYNCED))
                    .is_some_and(|c| c.status == "False" && c.reason == f.kind.reason())
            });
    let failed = match refused_before_sending {
        Some(refused) => Some(refused),
        None if plan.steps.is_empty() => None,
        None => execute::execute(&ctx.prober, &ctx.fence, target, &plan.steps)
            .await
            .map_err(|_| Error::Fenced)?,
    };
    let command_failure = failed.as_ref().map(|(_, f)| f.clone());
    let put_failed = failed
        .as_ref()
        .is_some_and(|(i, _)| is_put(&plan.steps[*i]));
    let put_sent = plan.steps.iter().any(is_put);
    let acted = !plan.steps.is_empty() && command_failure.is_none();
    // Created by this resource: the one connector `deletionPolicy: Delete` may delete.
    if put_sent && !put_failed && matches!(actual, Some(None)) {
        plan.management.owned = Some(Box::new(target.identity()));
    }
    let mut events = plan::settle(
        &mut plan,
        failed,
        stored,
        declared.as_ref(),
        &subject.connector_name,
    );
    // Offsets on request, in a reconcile that sent nothing else (the next one sees the
    // connector as the commands left it).
    if plan.steps.is_empty() {
        let (offsets, more) = offsets_request::handle(
            mc,
            ctx,
            target,
            observation,
            plan.management.offsets.as_deref(),
            &subject.connector_name,
        )
        .await?;
        // A request that waits for the connector to stop says so where people look.
        if let Some(o) = offsets
            .as_ref()
            .filter(|o| o.result == offsets::WAITING_FOR_STOP)
        {
            plan.management.note.get_or_insert(Note::Failed {
                reason: "OffsetsWaitingForStop".into(),
                message: o.message.clone(),
                attention: false,
            });
        }
        plan.management.offsets = offsets.map(Box::new);
        events.extend(more);
    }
    if refused_again {
        events.retain(|e| e.reason != "ActionFailed");
    }
    if let (Some(fields), Some(cs)) = (invalid_fields, plan.management.config.as_mut()) {
        cs.invalid_fields = fields;
    }
    // A refused declaration is remembered so that it is not put again; one put is forgotten.
    match (&plan.management.note, fingerprint) {
        (
            Some(Note::Failed {
                reason, message, ..
            }),
            Some(f),
        ) if put_failed && plan::remembered(reason) => {
            ctx.note_refusal(&uid, Some((f, reason.clone(), message.clone())));
        }
        _ if put_sent && !put_failed => ctx.note_refusal(&uid, None),
        _ => {}
    }
    Ok(Managed {
        management: plan.management,
        events,
        acted,
        command_failure,
        redactor: declared.as_ref().map(|d| d.redactor()).unwrap_or_default(),
        wake: plan.wake,
        written,
    })
}

/// The declared configuration and the actual one: `None` for nothing declared (then nothing is
/// read), `Some(None)` for a connector that does not exist.
type Inputs = (Option<declared::Declared>, Option<Option<declared::Actual>>);

/// Why the resource does not act now, and whether a person must.
type Refusal = (Failure, bool);

/// The declared configuration (from the spec and its Secrets) and the actual one (read only
/// when something is declared), once the resource may act on the connector; else why not and
/// whether a person must act.
async fn inputs(
    mc: &ManagedConnector,
    ctx: &Context,
    target: &Target,
    subject: &Subject,
) -> Result<Result<Inputs, Refusal>, Error> {
    if let Err(f) = execute::may_act(target, &ctx.prober.config) {
        return Ok(Err((f, true)));
    }
    if let Some((owner_ns, owner)) = claimed_by(ctx, mc, target) {
        let f = Failure::new(
            FailureKind::ConnectorClaimed,
            format!(
                "connector {} is managed by ManagedConnector {owner_ns}/{owner}, the oldest resource that acts on it; this one only reads it (delete one of the two, or make this one read-only)",
                subject.connector_name
            ),
        );
        return Ok(Err((f, true)));
    }
    let lookups = ctx.prober.lookups(declared::references(mc)).await?;
    let declared = match declared::declared(mc, &lookups) {
        Ok(d) => d,
        Err(f) => return Ok(Err((f, true))),
    };
    let Some(d) = &declared else {
        return Ok(Ok((None, None)));
    };
    match ctx.prober.source(target.source.kind()).config(target).await {
        Ok(actual) => Ok(Ok((declared, Some(actual)))),
        Err(mut f) => {
            f.message = d.redact(&f.message);
            let attention = f.kind.needs_attention();
            Ok(Err((f, attention)))
        }
    }
}

/// Writes the restart into the status before it is sent: after a crash or a change of leader
/// the restart is not sent again (at most once, rather than at least once).
#[allow(clippy::too_many_arguments)]
async fn record_restart(
    mc: &ManagedConnector,
    key: (&str, &str),
    ctx: &Context,
    plan: &plan::Plan,
    observation: &Observation,
    stored: Option<&ManagedConnectorStatus>,
    subject: &Subject,
    now: Timestamp,
) -> Result<ManagedConnectorStatus, Error> {
    let settings = ctx.prober.config.settings;
    let mut ahead = plan.management.clone();
    ahead.note.get_or_insert(Note::Acting {
        reason: "Restarting",
        message: format!("restarting connector {}", subject.connector_name),
    });
    let next = status::desired_status_managed(
        stored,
        subject,
        &Outcome::Probed(observation.clone()),
        &ahead,
        now,
        &settings,
    );
    apply::apply(mc, key, ctx, stored, next, &settings).await
}

/// The other resource that acts on the target's connector, when it is older (see [`claim`]).
pub(crate) fn claimed_by(
    ctx: &Context,
    mc: &ManagedConnector,
    target: &Target,
) -> Option<(String, String)> {
    let store = ctx.resources.get()?;
    let config = &ctx.prober.config;
    claim::owner_other_than_me(mc, &target.identity(), &store.state(), |other| {
        let cluster = ctx.prober.clusters.of(other);
        claim::identity(other, config, cluster.as_deref())
    })
}
