//! When a status is worth writing, and the Events a transition deserves (pure).

use super::*;

/// Whether `next` must be written over `stored`: any difference other than timestamps, or a
/// `lastSyncTime` older than the heartbeat.
pub fn needs_write(
    stored: Option<&ManagedConnectorStatus>,
    next: &ManagedConnectorStatus,
    heartbeat: Duration,
) -> bool {
    let Some(stored) = stored else {
        return true;
    };
    // A trimmed status (the watch cache's) is compared by its digest.
    let trimmed = stored.trimmed.is_some() || next.trimmed.is_some();
    if comparable(stored, trimmed) != comparable(next, trimmed) {
        return true;
    }
    match (&stored.last_sync_time, &next.last_sync_time) {
        (None, Some(_)) => true,
        (Some(old), Some(new)) => elapsed(old.0, new.0) >= heartbeat,
        _ => false,
    }
}

/// The form a status is compared in: without its timestamps, and trimmed when either side of
/// the comparison was (one copy).
fn comparable(s: &ManagedConnectorStatus, trimmed: bool) -> ManagedConnectorStatus {
    let epoch = Time(Timestamp::UNIX_EPOCH);
    let mut s = s.clone();
    if trimmed {
        crate::trim::trim_status(&mut s);
    }
    s.last_sync_time = None;
    for c in &mut s.conditions {
        c.last_transition_time = epoch.clone();
    }
    s
}

/// An Event the change deserves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    /// Warning when something turned bad.
    pub warning: bool,
    /// CamelCase reason.
    pub reason: String,
    /// For people.
    pub note: String,
}

/// Events for the change from `stored` to `next`: holistic-state transitions (Warning when it
/// turns bad, Normal otherwise), probing starting to fail or changing its failure, and recovering.
/// Computed from the stored status, so a restarted operator does not repeat them and a steady
/// connector produces none.
pub fn transition_events(
    stored: Option<&ManagedConnectorStatus>,
    next: &ManagedConnectorStatus,
) -> Vec<EventSpec> {
    let mut events = Vec::new();
    let before = stored.and_then(|s| s.holistic_state);
    let name = next.connector_name.as_deref().unwrap_or("");
    if let Some(after) = next.holistic_state
        && before != Some(after)
    {
        let bad = matches!(
            after,
            HolisticState::Degraded
                | HolisticState::Unhealthy
                | HolisticState::Destroyed
                | HolisticState::Unknown
        );
        let was = before.map(|b| format!(" (was {b})")).unwrap_or_default();
        let ready_msg = find(&next.conditions, READY)
            .map(|c| c.message.as_str())
            .unwrap_or("");
        events.push(EventSpec {
            warning: bad,
            reason: after.as_str().to_string(),
            note: cut(
                &format!("connector {name} is {after}{was}: {ready_msg}"),
                1000,
            ),
        });
    }
    let synced = |s: Option<&ManagedConnectorStatus>| {
        s.and_then(|s| find(&s.conditions, SYNCED))
            .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
    };
    let ready_reason = |s: Option<&ManagedConnectorStatus>| {
        s.and_then(|s| find(&s.conditions, READY))
            .map(|c| c.reason.clone())
    };
    match (synced(stored), synced(Some(next))) {
        (old, Some((new_status, new_reason, new_msg))) if new_status == "False" => {
            let changed = old
                .as_ref()
                .is_none_or(|(s, r, _)| s != "False" || *r != new_reason);
            if changed {
                events.push(EventSpec {
                    warning: true,
                    reason: new_reason.clone(),
                    note: cut(&new_msg, 1000),
                });
            }
        }
        (Some((old_status, _, _)), Some((new_status, _, _)))
            if old_status == "False" && new_status == "True" =>
        {
            events.push(EventSpec {
                warning: false,
                reason: "SyncRecovered".into(),
                note: "the Data Plane API answers again".into(),
            });
        }
        _ => {}
    }
    // Became stuck (see `stall`): the holistic state did not change, the verdict did.
    for reason in [
        stall::NO_TASKS,
        stall::UNASSIGNED_TOO_LONG,
        stall::OFFSETS_NOT_MOVING,
    ] {
        if ready_reason(Some(next)).as_deref() == Some(reason)
            && ready_reason(stored).as_deref() != Some(reason)
        {
            let msg = find(&next.conditions, READY)
                .map(|c| c.message.clone())
                .unwrap_or_default();
            events.push(EventSpec {
                warning: true,
                reason: reason.into(),
                note: cut(&msg, 1000),
            });
        }
    }
    let nf = FailureKind::ConnectorNotFound.reason();
    if ready_reason(Some(next)).as_deref() == Some(nf)
        && ready_reason(stored).as_deref() != Some(nf)
    {
        let msg = find(&next.conditions, READY)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        events.push(EventSpec {
            warning: true,
            reason: nf.into(),
            note: cut(&msg, 1000),
        });
    }
    events
}
