//! Bounds on what a status holds (pure): the connector and its tasks copied in with traces,
//! errors and task lists cut to size, and the shrunk status written when the API server refuses
//! the full one.

use super::*;

pub(super) fn fill_connector(
    next: &mut ManagedConnectorStatus,
    status: &ConnectStatus,
    errors: &[ConnectorError],
) {
    let mut budget = TRACE_BUDGET;
    // Every part the cache trims is set afresh here: nothing is carried over.
    next.trimmed = None;
    next.type_ = (!status.type_.is_empty()).then(|| status.type_.clone());
    next.connector = Some(ConnectorInstance {
        state: status.connector.state.clone(),
        worker_id: status.connector.worker_id.clone(),
        trace: bound_trace(&status.connector.trace, &mut budget),
    });
    let mut tasks: Vec<&crate::health::TaskStatus> = status.tasks.iter().collect();
    tasks.sort_by_key(|t| t.id);
    next.tasks = tasks
        .into_iter()
        .map(|t| TaskInstance {
            id: t.id,
            state: t.state.clone(),
            worker_id: t.worker_id.clone(),
            trace: bound_trace(&t.trace, &mut budget),
        })
        .collect();
    let counts = status.task_counts();
    next.tasks_ready = Some(format!("{}/{}", counts.running, counts.total));
    next.task_count = Some(i32::try_from(counts.total).unwrap_or(i32::MAX));
    next.omitted_tasks = omitted_tasks(status.omitted).map(Box::new);
    next.errors = bound_errors(errors);
    if let Some(omitted) = &next.omitted_tasks {
        let failed = status.omitted.failed;
        next.errors.push(ConnectorError {
            type_: ErrorType::Warning,
            title: format!("{} more tasks not listed", omitted.count),
            content: format!(
                "status lists the first {MAX_LISTED_TASKS} tasks of the answer; omittedTasks counts the others by state ({failed} failed)"
            ),
        });
    }
}

/// The status form of tasks counted but not listed; `None` when every task is listed.
pub(super) fn omitted_tasks(c: TaskCounts) -> Option<OmittedTasks> {
    if c.total == 0 {
        return None;
    }
    let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    let states = [
        ("RUNNING", c.running),
        ("FAILED", c.failed),
        ("PAUSED", c.paused),
        ("RESTARTING", c.restarting),
        ("UNASSIGNED", c.unassigned),
        ("OTHER", c.other()),
    ]
    .into_iter()
    .filter(|(_, v)| *v > 0)
    .map(|(s, v)| (s.to_string(), n(v)))
    .collect();
    Some(OmittedTasks {
        count: n(c.total),
        states,
    })
}

/// A status cut to its gist after the API server refused it (`why`): conditions, holistic state
/// and counts stay; tasks are counted, not listed; errors keep their first five entries.
pub fn shrunk(mut status: ManagedConnectorStatus, why: &str) -> ManagedConnectorStatus {
    let counts = task_counts(&status);
    status.tasks = Vec::new();
    status.omitted_tasks = omitted_tasks(counts).map(Box::new);
    if let Some(c) = status.connector.as_mut() {
        c.trace = String::new();
    }
    status.errors.truncate(5);
    status.errors.push(ConnectorError {
        type_: ErrorType::Warning,
        title: "status shortened".into(),
        content: cut(
            &format!("the API server refused the full status ({why}); tasks are counted in omittedTasks, traces and further errors left out"),
            ERROR_CONTENT_LIMIT,
        ),
    });
    status
}

/// Every task of a status by state, listed or only counted: what the task metrics report.
pub fn task_counts(status: &ManagedConnectorStatus) -> TaskCounts {
    let listed = TaskCounts::of(status.tasks.iter().map(|t| t.state.as_str()));
    let Some(omitted) = &status.omitted_tasks else {
        return listed;
    };
    let get = |state: &str| {
        omitted
            .states
            .get(state)
            .map_or(0, |&v| usize::try_from(v).unwrap_or(0))
    };
    listed.plus(TaskCounts {
        total: usize::try_from(omitted.count).unwrap_or(0),
        running: get("RUNNING"),
        failed: get("FAILED"),
        paused: get("PAUSED"),
        restarting: get("RESTARTING"),
        unassigned: get("UNASSIGNED"),
    })
}

pub(super) fn clear_connector(next: &mut ManagedConnectorStatus) {
    next.trimmed = None;
    next.type_ = None;
    next.holistic_state = None;
    next.connector = None;
    next.tasks = Vec::new();
    next.omitted_tasks = None;
    next.tasks_ready = None;
    next.task_count = None;
    next.stall = None;
    next.topics = Vec::new();
    next.topics_omitted = None;
    next.topics_read_time = None;
    next.errors = Vec::new();
}

/// Cuts a trace to [`TRACE_LIMIT`] and to what is left of the status-wide [`TRACE_BUDGET`], with a
/// marker that says how much was dropped; once the budget is spent, a trace becomes
/// `[trace omitted: N bytes]`. The head is kept: it names the exception; the parsed
/// cause is already in `errors`, computed from the whole trace.
pub fn bound_trace(trace: &str, budget: &mut usize) -> String {
    if trace.is_empty() {
        return String::new();
    }
    let allowed = TRACE_LIMIT.min(*budget);
    if trace.len() <= allowed {
        *budget -= trace.len();
        return trace.to_string();
    }
    let marker = format!("\n... [trace truncated: {} bytes in all]", trace.len());
    if allowed <= marker.len() {
        return format!("[trace omitted: {} bytes]", trace.len());
    }
    let head = floor_char_boundary(trace, allowed - marker.len());
    *budget -= head + marker.len();
    format!("{}{marker}", &trace[..head])
}

pub(super) fn bound_errors(errors: &[ConnectorError]) -> Vec<ConnectorError> {
    let mut out: Vec<ConnectorError> = errors
        .iter()
        .take(MAX_ERRORS)
        .map(|e| ConnectorError {
            type_: e.type_,
            title: cut(&e.title, ERROR_TITLE_LIMIT),
            content: cut(&e.content, ERROR_CONTENT_LIMIT),
        })
        .collect();
    if errors.len() > MAX_ERRORS {
        out.push(ConnectorError {
            type_: ErrorType::Warning,
            title: format!("{} more errors not shown", errors.len() - MAX_ERRORS),
            content: format!(
                "status lists at most {MAX_ERRORS} errors; status.tasks shows every task's state"
            ),
        });
    }
    out
}

/// Cuts text to at most `limit` bytes on a character boundary, marking the cut with `…`.
pub fn cut(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let end = floor_char_boundary(text, limit.saturating_sub('…'.len_utf8()));
    format!("{}…", &text[..end])
}

pub(super) fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
