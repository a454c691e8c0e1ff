//! The four conditions each outcome of a reconcile asks for, one function per case (pure).
//! [`super::desired_status_managed`] picks the case, overlays what acting on the connector adds
//! and merges the result into the stored conditions.

use super::conditions::{Wanted, find, wanted};
use super::text::{elapsed, humanize, ready_message};
use super::{ConditionStatus, ConditionType, DELETE_FAILED, Settings, Subject};
use crate::crd::{HolisticState, ManagedConnectorStatus, SourceKind};
use crate::probe::{Failure, FailureKind};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;

/// Ready, Synced, Reconciling and Stalled, in that order.
pub(super) type AllFour = [Wanted; 4];

/// The same reason and message on every condition, with these statuses.
fn all(
    [ready, synced, reconciling, stalled]: [ConditionStatus; 4],
    reason: &str,
    message: &str,
) -> AllFour {
    [
        wanted(ConditionType::Ready, ready, reason, message),
        wanted(ConditionType::Synced, synced, reason, message),
        wanted(ConditionType::Reconciling, reconciling, reason, message),
        wanted(ConditionType::Stalled, stalled, reason, message),
    ]
}

/// A stored condition kept as it is.
fn kept(type_: ConditionType, c: &Condition) -> Wanted {
    Wanted {
        type_,
        status: ConditionStatus::parse(&c.status),
        reason: c.reason.clone(),
        message: c.message.clone(),
    }
}

/// Nothing known yet: the first probe is pending.
pub(super) fn waiting(name: &str) -> AllFour {
    use ConditionStatus::*;
    let msg = format!("waiting for the first status of connector {name}");
    all([Unknown, Unknown, True, False], "Probing", &msg)
}

/// `spec.suspend`: not polled, with the last known state in the message.
///
/// Ready is True: the resource is as its spec declares (suspended), as a Paused connector is
/// Ready when `spec.state` declares it. kstatus then reads it as Current, so a Flux Kustomization
/// with `wait: true` that holds a suspended connector completes instead of waiting out its
/// timeout; Argo CD's health check reads `spec.suspend` first and shows Suspended.
pub(super) fn suspended(last_known: &ManagedConnectorStatus) -> AllFour {
    use ConditionStatus::*;
    let known = last_known
        .holistic_state
        .map(|s| format!("; last known state: {s}"))
        .unwrap_or_default();
    let msg = format!("spec.suspend is true: the connector is not polled{known}");
    all([True, Unknown, False, False], "Suspended", &msg)
}

/// Deleting the connector of a resource being deleted failed and is retried: Synced=False and
/// Reconciling=True say why the resource stays; Ready and Stalled keep what was last known about
/// the connector (before any status: Unknown and False).
pub(super) fn delete_failed(stored: &[Condition], message: &str) -> AllFour {
    use ConditionStatus::*;
    let keep = |type_: ConditionType, default: ConditionStatus| match find(stored, type_.as_str()) {
        Some(c) => kept(type_, c),
        None => wanted(type_, default, DELETE_FAILED, message),
    };
    [
        keep(ConditionType::Ready, Unknown),
        wanted(ConditionType::Synced, False, DELETE_FAILED, message),
        wanted(ConditionType::Reconciling, True, DELETE_FAILED, message),
        keep(ConditionType::Stalled, False),
    ]
}

/// The connector's state as read (`next` already carries its tasks and errors).
/// The source, as messages name it.
fn source_name(source: SourceKind) -> &'static str {
    match source {
        SourceKind::DataPlane => "the Data Plane API",
        SourceKind::KafkaConnect => "the Kafka Connect REST API",
    }
}

pub(super) fn found(
    subject: &Subject,
    state: HolisticState,
    next: &ManagedConnectorStatus,
) -> AllFour {
    let name = &subject.connector_name;
    let msg = ready_message(name, state, next);
    let reason = state.as_str();
    let ready = match state {
        HolisticState::Healthy => ConditionStatus::True,
        HolisticState::Unknown => ConditionStatus::Unknown,
        _ => ConditionStatus::False,
    };
    let stalled = matches!(
        state,
        HolisticState::Degraded | HolisticState::Unhealthy | HolisticState::Destroyed
    );
    let reconciling = matches!(state, HolisticState::Restarting | HolisticState::Unassigned);
    [
        wanted(ConditionType::Ready, ready, reason, &msg),
        wanted(
            ConditionType::Synced,
            ConditionStatus::True,
            "Synced",
            &format!(
                "{} answered with the connector's status",
                source_name(subject.source)
            ),
        ),
        wanted(
            ConditionType::Reconciling,
            ConditionStatus::from_bool(reconciling),
            reason,
            &msg,
        ),
        wanted(
            ConditionType::Stalled,
            ConditionStatus::from_bool(stalled),
            reason,
            &msg,
        ),
    ]
}

/// No such connector: still on the way within the grace after creation, stalled after it.
pub(super) fn not_found(
    failure: &Failure,
    subject: &Subject,
    now: Timestamp,
    settings: &Settings,
) -> AllFour {
    let young = subject
        .created
        .map(|c| elapsed(c, now) < settings.not_found_grace)
        .unwrap_or(false);
    let msg = if young {
        format!(
            "{}; waiting up to {} after creation for it to appear",
            failure.message,
            humanize(settings.not_found_grace)
        )
    } else {
        format!(
            "{}; create the connector or fix spec.connectorName",
            failure.message
        )
    };
    let reason = FailureKind::ConnectorNotFound.reason();
    [
        wanted(ConditionType::Ready, ConditionStatus::False, reason, &msg),
        wanted(
            ConditionType::Synced,
            ConditionStatus::True,
            "Synced",
            &format!(
                "{} answered: no such connector",
                source_name(subject.source)
            ),
        ),
        wanted(
            ConditionType::Reconciling,
            ConditionStatus::from_bool(young),
            reason,
            &msg,
        ),
        wanted(
            ConditionType::Stalled,
            ConditionStatus::from_bool(!young),
            reason,
            &msg,
        ),
    ]
}

/// A failure a person must fix (credentials, a refused spec): stalled at once. Ready keeps the
/// last known state; before the first status there is none to keep, and the Ready a first visit
/// wrote ("Probing") would show a lasting error as progress in `kubectl get`, Argo CD and Flux,
/// so Ready says the error itself.
pub(super) fn needs_attention(failure: &Failure, last_ready: Option<&Condition>) -> AllFour {
    use ConditionStatus::*;
    let mut targets = all(
        [False, False, False, True],
        failure.kind.reason(),
        &failure.message,
    );
    if let Some(c) = last_ready {
        targets[0] = kept(ConditionType::Ready, c);
    }
    targets
}

/// A failure that may pass (a timeout, a 503): Synced says it; the other conditions keep the
/// last known state while it is fresh, then say the status is stale. Before the first status:
/// still on the way to one.
pub(super) fn passing(
    failure: &Failure,
    name: &str,
    last_known: &ManagedConnectorStatus,
    now: Timestamp,
    settings: &Settings,
) -> AllFour {
    use ConditionStatus::*;
    let reason = failure.kind.reason();
    let synced = wanted(ConditionType::Synced, False, reason, &failure.message);
    if last_known.last_sync_time.is_none() {
        let msg = format!(
            "waiting for the first status of connector {name}: {}",
            failure.message
        );
        let mut targets = all([Unknown, False, True, False], "Probing", &msg);
        targets[1] = synced;
        return targets;
    }
    let fresh = last_known
        .last_sync_time
        .as_ref()
        .is_some_and(|t| elapsed(t.0, now) < settings.stale_after);
    let stale = format!(
        "no status for over {}: {}",
        humanize(settings.stale_after),
        failure.message
    );
    let mut targets = all([Unknown, False, False, False], "StatusStale", &stale);
    targets[1] = synced;
    if fresh && find(&last_known.conditions, super::READY).is_some() {
        for (i, type_) in [
            (0, ConditionType::Ready),
            (2, ConditionType::Reconciling),
            (3, ConditionType::Stalled),
        ] {
            if let Some(c) = find(&last_known.conditions, type_.as_str()) {
                targets[i] = kept(type_, c);
            }
        }
    }
    targets
}
