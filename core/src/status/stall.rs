//! Stuck connectors that look fine or look like they are on the way (pure): running with no
//! tasks, or a connector or task waiting for a worker. Either is normal for a moment (a new
//! connector gets its tasks, a rebalance moves them); past the operator's `--stall-after` it is
//! reported as stalled with its own reason, so kstatus (Flux), Argo CD and the alert rules stop
//! waiting for it. Since when is kept in `status.stall`, so an operator restart does not start
//! the clock again. A source whose offsets do not move while everything runs is the third kind,
//! opt-in per resource (`spec.offsets.stallAfter`), tracked in `status.offsetsProgress`.

use super::conditions::{Wanted, wanted};
use super::text::{elapsed, humanize};
use super::{ConditionStatus, ConditionType};
use crate::crd::{OffsetsProgress, StallStatus};
use crate::health::ConnectStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use std::time::Duration;

/// Ready and Stalled reason of a connector that has run with no tasks for too long.
pub const NO_TASKS: &str = "NoTasks";
/// Ready and Stalled reason of a connector (or task) unassigned for too long.
pub const UNASSIGNED_TOO_LONG: &str = "UnassignedTooLong";
/// Ready and Stalled reason of a source whose offsets have not moved for
/// `spec.offsets.stallAfter` while it runs.
pub const OFFSETS_NOT_MOVING: &str = "OffsetsNotMoving";
/// `status.stall.kind` words.
const KIND_NO_TASKS: &str = "NoTasks";
const KIND_UNASSIGNED: &str = "Unassigned";

/// A digest of offsets as a source lists them, the same whatever order the partitions come in
/// and across operator restarts (FNV-1a of the sorted entries; not a secret, only a change check).
pub fn offsets_digest(offsets: &serde_json::Value) -> String {
    let mut entries: Vec<String> = offsets
        .get("offsets")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().map(|e| e.to_string()).collect())
        .unwrap_or_default();
    entries.sort_unstable();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in entries.iter().flat_map(|e| e.bytes().chain([b'\n'])) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// `status.offsetsProgress` after a read: the same digest keeps its time, another starts now.
pub fn progress(prev: Option<&OffsetsProgress>, digest: String, now: Timestamp) -> OffsetsProgress {
    match prev {
        Some(p) if p.digest == digest => p.clone(),
        _ => OffsetsProgress {
            digest,
            changed_time: Time(now),
        },
    }
}

/// The stall of offsets that have not changed for their limit (the connector runs: the shell
/// watches them only then).
pub(super) fn not_moving(
    progress: Option<&(OffsetsProgress, std::time::Duration)>,
    now: Timestamp,
) -> Option<StallStatus> {
    let (p, limit) = progress?;
    (elapsed(p.changed_time.0, now) >= *limit).then(|| StallStatus {
        kind: OFFSETS_NOT_MOVING.to_string(),
        since: p.changed_time.clone(),
    })
}

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
/// (Ready=False, Stalled=True with its reason) after it. `stall_after` zero: as assessed. Offsets
/// that do not move are judged by `offsets_after`, `spec.offsets.stallAfter`.
pub(super) fn overlay(
    targets: &mut [Wanted; 4],
    stall: &StallStatus,
    name: &str,
    now: Timestamp,
    stall_after: Duration,
    offsets_after: Duration,
) {
    let after = if stall.kind == OFFSETS_NOT_MOVING {
        offsets_after
    } else {
        stall_after
    };
    if after.is_zero() {
        return;
    }
    let for_ = elapsed(stall.since.0, now);
    let limit = humanize(after);
    let [ready, _, reconciling, stalled] = targets;
    if for_ < after {
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
        OFFSETS_NOT_MOVING => (
            OFFSETS_NOT_MOVING,
            "has run without its offsets changing",
            "its source may have nothing new, or its tasks are stuck reading it; check the source system and the worker logs, then restart it (spec.offsets.stallAfter)",
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
