//! The four conditions (pure): what each should say ([`Wanted`]), what acting adds to them
//! ([`overlay`]), and the merge that keeps each one's `lastTransitionTime` while it holds.

use super::*;

pub(super) struct Wanted {
    pub(super) type_: ConditionType,
    pub(super) status: ConditionStatus,
    pub(super) reason: String,
    pub(super) message: String,
}

pub(super) fn wanted(
    type_: ConditionType,
    status: ConditionStatus,
    reason: &str,
    message: &str,
) -> Wanted {
    Wanted {
        type_,
        status,
        reason: reason.to_string(),
        message: cut(message, MESSAGE_LIMIT),
    }
}

pub(super) fn overlay(targets: &mut [Wanted; 4], note: &Note) {
    let [ready, synced, reconciling, stalled] = targets;
    let append = |t: &mut Wanted, message: &str| {
        t.message = cut(&format!("{}; {message}", t.message), MESSAGE_LIMIT);
    };
    match note {
        Note::Acting { reason, message } | Note::Waiting { reason, message } => {
            *reconciling = wanted(
                ConditionType::Reconciling,
                ConditionStatus::True,
                reason,
                message,
            );
            *stalled = wanted(
                ConditionType::Stalled,
                ConditionStatus::False,
                reason,
                message,
            );
            if matches!(note, Note::Waiting { .. }) {
                append(ready, message);
            }
        }
        Note::AsDeclared { message } => {
            let reason = ready.reason.clone();
            *ready = wanted(
                ConditionType::Ready,
                ConditionStatus::True,
                &reason,
                message,
            );
            *reconciling = wanted(
                ConditionType::Reconciling,
                ConditionStatus::False,
                &reason,
                message,
            );
            *stalled = wanted(
                ConditionType::Stalled,
                ConditionStatus::False,
                &reason,
                message,
            );
        }
        Note::GaveUp { message } => {
            *reconciling = wanted(
                ConditionType::Reconciling,
                ConditionStatus::False,
                GAVE_UP,
                message,
            );
            *stalled = wanted(
                ConditionType::Stalled,
                ConditionStatus::True,
                GAVE_UP,
                message,
            );
            append(ready, message);
        }
        Note::Failed {
            reason,
            message,
            attention,
        } => {
            *synced = wanted(
                ConditionType::Synced,
                ConditionStatus::False,
                reason,
                message,
            );
            if *attention {
                *reconciling = wanted(
                    ConditionType::Reconciling,
                    ConditionStatus::False,
                    reason,
                    message,
                );
                *stalled = wanted(
                    ConditionType::Stalled,
                    ConditionStatus::True,
                    reason,
                    message,
                );
            }
        }
    }
}

/// Conditions are merged against the previous status even when it described another connector:
/// `lastTransitionTime` belongs to the condition, not to the connector.
pub(super) fn last_known_or_prev(prev: Option<&ManagedConnectorStatus>) -> Vec<Condition> {
    prev.map(|p| p.conditions.clone()).unwrap_or_default()
}

pub(super) fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Builds the four conditions, keeping each one's `lastTransitionTime` while its status stays.
pub(super) fn merge_conditions(
    prev: &[Condition],
    targets: [Wanted; 4],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    targets
        .into_iter()
        .map(|t| {
            let last_transition_time = match find(prev, t.type_.as_str()) {
                Some(p) if p.status == t.status.as_str() => p.last_transition_time.clone(),
                _ => Time(now),
            };
            Condition {
                type_: t.type_.as_str().to_string(),
                status: t.status.as_str().to_string(),
                reason: t.reason,
                message: t.message,
                observed_generation: generation,
                last_transition_time,
            }
        })
        .collect()
}
