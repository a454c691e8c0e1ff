//! What Redpanda's Data Plane computes from Kafka Connect's status: `holistic_state` and `errors`.
//!
//! Written from the reference (`dataplane-api.md`, "How Redpanda computes `holistic_state`" and
//! "How Redpanda builds `errors`") and checked against the answers Redpanda's own code gave
//! (`tests/data/dataplane-captured/`), on purpose without the operator's `health` module: a
//! simulator that computed with the operator's code would agree with the operator by
//! construction, and could never show it wrong.

/// One task as the computation sees it.
pub struct TaskView<'a> {
    /// Task id.
    pub id: i64,
    /// Kafka Connect state.
    pub state: &'a str,
    /// Its trace.
    pub trace: &'a str,
}

/// `holistic_state` as the wire spells it.
pub fn holistic_state(connector: &str, tasks: &[TaskView<'_>]) -> &'static str {
    let total = tasks.len();
    let count = |s: &str| tasks.iter().filter(|t| t.state == s).count();
    let (running, failed) = (count("RUNNING"), count("FAILED"));
    let (restarting, unassigned) = (count("RESTARTING"), count("UNASSIGNED"));
    let state = if connector == "RUNNING" && total > 0 && running == total {
        "HEALTHY"
    } else if connector == "FAILED" || (connector == "RUNNING" && (total == 0 || failed == total)) {
        "UNHEALTHY"
    } else if connector == "RUNNING" && total > 0 && failed > 0 && failed < total {
        "DEGRADED"
    } else if connector == "PAUSED" {
        "PAUSED"
    } else if connector == "STOPPED" {
        "STOPPED"
    } else if connector == "RESTARTING" || (total > 0 && restarting > 0) {
        "RESTARTING"
    } else if connector == "UNASSIGNED" || (connector == "RUNNING" && total > 0 && unassigned > 0) {
        "UNASSIGNED"
    } else if connector == "DESTROYED" {
        "DESTROYED"
    } else {
        "UNKNOWN"
    };
    match state {
        "HEALTHY" => "CONNECTOR_HOLISTIC_STATE_HEALTHY",
        "UNHEALTHY" => "CONNECTOR_HOLISTIC_STATE_UNHEALTHY",
        "DEGRADED" => "CONNECTOR_HOLISTIC_STATE_DEGRADED",
        "PAUSED" => "CONNECTOR_HOLISTIC_STATE_PAUSED",
        "STOPPED" => "CONNECTOR_HOLISTIC_STATE_STOPPED",
        "RESTARTING" => "CONNECTOR_HOLISTIC_STATE_RESTARTING",
        "UNASSIGNED" => "CONNECTOR_HOLISTIC_STATE_UNASSIGNED",
        "DESTROYED" => "CONNECTOR_HOLISTIC_STATE_DESTROYED",
        _ => "CONNECTOR_HOLISTIC_STATE_UNKNOWN",
    }
}

/// One entry of `errors`: (`type`, `title`, `content`).
pub type ErrorEntry = (&'static str, String, String);

/// `errors`, connector entry first, then one per failed task in task order.
pub fn errors(
    name: &str,
    connector: &str,
    connector_trace: &str,
    tasks: &[TaskView<'_>],
    holistic: &str,
) -> Vec<ErrorEntry> {
    let mut out = Vec::new();
    let unhealthy = holistic.ends_with("_UNHEALTHY");
    if unhealthy || holistic.ends_with("_DEGRADED") {
        let failed = tasks.iter().filter(|t| t.state == "FAILED").count();
        let default = if connector == "FAILED" {
            format!("Connector {name} is in failed state.")
        } else if tasks.is_empty() {
            format!("Connector {name} is in running state but has no tasks.")
        } else if failed == tasks.len() {
            format!("Connector {name} is in running state. All tasks are in failed state.")
        } else {
            format!(
                "Connector {name} is in running state but has {failed} / {} failed tasks.",
                tasks.len()
            )
        };
        let title = if unhealthy {
            format!("Connector {name} is in unhealthy state.")
        } else {
            format!("Connector {name} is in degraded state.")
        };
        out.push(("TYPE_ERROR", title, from_trace(connector_trace, &default)));
    } else if !connector_trace.is_empty() {
        let title = format!("Connector {name} has an error");
        let content = from_trace(connector_trace, &title);
        out.push(("TYPE_ERROR", title, content));
    }
    for t in tasks.iter().filter(|t| t.state == "FAILED") {
        let title = format!("Connector {name} Task {} is in failed state.", t.id);
        let content = from_trace(t.trace, &title);
        out.push(("TYPE_ERROR", title, content));
    }
    out
}

/// The line of a trace people need, as the reference describes the steps.
fn from_trace(trace: &str, default: &str) -> String {
    if trace.is_empty() {
        return default.to_string();
    }
    let kept: Vec<&str> = trace
        .split('\n')
        .map(|l| l.trim_matches('\t'))
        .filter(|l| !l.ends_with("exception") && !l.ends_with(')'))
        .collect();
    let caused = kept
        .iter()
        .find(|l| l.to_lowercase().starts_with("caused by"));
    let Some(line) = caused.or(kept.first()) else {
        return default.to_string();
    };
    let line = line
        .strip_prefix("Caused by:")
        .or_else(|| line.strip_prefix("caused by:"))
        .unwrap_or(line);
    match line.split_once(':') {
        Some((_, rest)) => rest.trim().to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks<'a>(states: &[&'a str]) -> Vec<TaskView<'a>> {
        states
            .iter()
            .enumerate()
            .map(|(i, s)| TaskView {
                id: i as i64,
                state: s,
                trace: "",
            })
            .collect()
    }

    #[test]
    fn the_rules_in_order() {
        let table: &[(&str, &[&str], &str)] = &[
            ("RUNNING", &["RUNNING", "RUNNING"], "HEALTHY"),
            ("RUNNING", &[], "UNHEALTHY"),
            ("FAILED", &["RUNNING"], "UNHEALTHY"),
            ("RUNNING", &["FAILED", "FAILED"], "UNHEALTHY"),
            ("RUNNING", &["FAILED", "RESTARTING"], "DEGRADED"),
            ("PAUSED", &["PAUSED"], "PAUSED"),
            ("STOPPED", &[], "STOPPED"),
            ("RESTARTING", &[], "RESTARTING"),
            ("UNASSIGNED", &[], "UNASSIGNED"),
            ("RUNNING", &["RUNNING", "UNASSIGNED"], "UNASSIGNED"),
            ("DESTROYED", &[], "DESTROYED"),
            ("RUNNING", &["RUNNING", "PAUSED"], "UNKNOWN"),
            ("running", &["RUNNING"], "UNKNOWN"),
        ];
        for (c, t, want) in table {
            let got = holistic_state(c, &tasks(t));
            assert_eq!(got, format!("CONNECTOR_HOLISTIC_STATE_{want}"), "{c} {t:?}");
        }
    }

    #[test]
    fn trace_lines_as_the_reference_says() {
        let t = "org.apache.kafka.connect.errors.ConnectException: x\n\tat a.B(B.java:1)\nCaused by: org.apache.kafka.common.config.ConfigException: Missing required configuration \"bootstrap.servers\" which has no default value.\n\tat c.D(D.java:2)";
        assert_eq!(
            from_trace(t, "d"),
            "Missing required configuration \"bootstrap.servers\" which has no default value."
        );
        assert_eq!(from_trace("", "d"), "d");
        assert_eq!(from_trace("\tat a.B(B.java:1)", "d"), "d");
        assert_eq!(from_trace("no colon here", "d"), "");
        assert_eq!(
            from_trace("java.lang.IllegalStateException: boom", "d"),
            "boom"
        );
    }
}
