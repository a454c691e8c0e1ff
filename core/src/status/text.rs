//! The words of the status (pure): the Ready message, ages and durations for people.

use super::*;

pub(super) fn ready_message(
    name: &str,
    state: HolisticState,
    status: &ManagedConnectorStatus,
) -> String {
    let tasks = status.tasks_ready.as_deref().unwrap_or("0/0");
    let summary = match state {
        HolisticState::Healthy => format!("connector {name} is running; {tasks} tasks running"),
        HolisticState::Unknown => format!(
            "connector {name} is in an undetermined state (connector {}, {tasks} tasks running)",
            status
                .connector
                .as_ref()
                .map(|c| c.state.as_str())
                .unwrap_or("?")
        ),
        other => format!(
            "connector {name} is {}; {tasks} tasks running",
            other.as_str().to_lowercase()
        ),
    };
    // The most specific error says what to fix: a failed task's cause beats the summary line.
    let detail = status
        .errors
        .iter()
        .rev()
        .find(|e| e.type_ == ErrorType::Error && !e.content.is_empty() && e.content != e.title)
        .or_else(|| status.errors.first());
    match detail {
        Some(e) => format!("{summary}. {} {}", e.title, e.content),
        None => summary,
    }
}

pub(super) fn elapsed(since: Timestamp, now: Timestamp) -> Duration {
    now.duration_since(since)
        .try_into()
        .unwrap_or(Duration::ZERO)
}

/// A duration as people write it (`5m`, `90s`).
pub fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}
