//! Stuck connectors that look fine or look like they are on the way (pure): running with no
//! tasks, or a connector or task waiting for a worker. Either is normal for a moment (a new
//! connector gets its tasks, a rebalance moves them); past the operator's `--stall-after` it is
//! reported as stalled with its own reason, so kstatus (Flux), Argo CD and the alert rules stop
//! waiting for it. Since when is kept in `status.stall`, so an operator restart does not start
//! the clock again.

use super::conditions::{Wanted, wanted};
use super::text::{elapsed, humanize};
use super::{ConditionStatus, ConditionType, Settings};
use crate::crd::StallStatus;
use crate::health::ConnectStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// Ready and Stalled reason of a connector that has run with no tasks for too long.
pub const NO_TASKS: &str = "NoTasks";
/// Ready and Stalled reason of a connector (or task) unassigned for too long.
pub const UNASSIGNED_TOO_LONG: &str = "UnassignedTooLong";
/// `status.stall.kind` words.
const KIND_NO_TASKS: &str = "NoTasks";
const KIND_UNASSIGNED: &str = "Unassigned";

/// How the connector looks stuck now, if it does: `NoTasks` or `Unassigned`.
pub fn stuck(status: &ConnectStatus) -> Option<&'static str> {
    let c = status.connector.state.as_str();
    let t = status.task_counts();
    if c == "RUNNING" && t.total == 0 {
        Some(KIND_NO_TASKS)
    } else if c == "UNASSIGNED" || (c == "RUNNING" && t.unassigned > 0 && t.failed == 0) {
        Some(KIND_UNASSIGNED)
    } else {
        None
    }
}

/// `status.stall` now: the same kind keeps its start, another one starts now.
pub(super) fn track(
    prev: Option<&StallStatus>,
    kind: Option<&'static str>,
    now: Timestamp,
) -> Option<StallStatus> {
    let kind = kind?;
    Some(match prev {
        Some(p) if p.kind == kind => p.clone(),
        _ => StallStatus {
            kind: kind.to_string(),
            since: Time(now),
        },
    })
}

/// The conditions of a stuck connector: on the way (Reconciling) until `stall_after`, stalled
/// (Ready=False, Stalled=True with its reason) after it. `stall_after` zero: as assessed.
pub(super) fn overlay(
    targets: &mut [Wanted; 4],
    stall: &StallStatus,
    name: &str,
    now: Timestamp,
    settings: &Settings,
) {
    if settings.stall_after.is_zero() {
        return;
    }
    let for_ = elapsed(stall.since.0, now);
    let limit = humanize(settings.stall_after);
    let [ready, _, reconciling, stalled] = targets;
    if for_ < settings.stall_after {
        // Normal for a moment: on the way, not yet a failure (a new connector gets its tasks).
        if stall.kind == KIND_NO_TASKS {
            let msg = format!(
                "connector {name} is running with no tasks yet (for {}; stalled after {limit})",
                humanize(for_)
            );
            *reconciling = wanted(
                ConditionType::Reconciling,
                ConditionStatus::True,
                "WaitingForTasks",
                &msg,
            );
            *stalled = wanted(
                ConditionType::Stalled,
                ConditionStatus::False,
                "WaitingForTasks",
                &msg,
            );
        }
        return;
    }
    let (reason, what, hint) = match stall.kind.as_str() {
        KIND_NO_TASKS => (
            NO_TASKS,
            "has been running with no tasks",
            "the connector found nothing to do (no matching topics or tables?) or its tasks cannot start; check its configuration and the worker logs, then restart it",
        ),
        _ => (
            UNASSIGNED_TOO_LONG,
            "has waited for a worker",
            "no worker takes it (workers down or rebalancing, the plugin missing on some workers); check the Connect cluster",
        ),
    };
    let msg = format!(
        "connector {name} {what} for {} (longer than {limit}): {hint}",
        humanize(for_)
    );
    *ready = wanted(ConditionType::Ready, ConditionStatus::False, reason, &msg);
    *reconciling = wanted(
        ConditionType::Reconciling,
        ConditionStatus::False,
        reason,
        &msg,
    );
    *stalled = wanted(ConditionType::Stalled, ConditionStatus::True, reason, &msg);
}

#[cfg(test)]
mod tests;
