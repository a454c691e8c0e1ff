//! One connector in full: state, tasks with their workers, the parsed errors, restarts, declared
//! configuration, conditions and their history (the resource's Events). Pure.

use super::paint::{Cell, Paint, Tone, age, table, tone_of};
use crate::crd::{ErrorType, ManagedConnector};
use k8s_openapi::jiff::Timestamp;
use std::fmt::Write as _;

/// One Event of the resource, as the view needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// When it last happened.
    pub time: Option<Timestamp>,
    /// Normal or Warning.
    pub type_: String,
    /// The operator's reason word.
    pub reason: String,
    /// How many times (an Event series counts repeats).
    pub count: i32,
    /// What it said.
    pub message: String,
}

/// How many history entries are shown (the newest).
const HISTORY: usize = 15;

/// The view of `mc`. `history` is what could be read of its Events (oldest first), or why not.
pub fn render(
    mc: &ManagedConnector,
    history: &Result<Vec<HistoryEntry>, String>,
    now: Timestamp,
    paint: Paint,
) -> String {
    let mut out = String::new();
    let h = |text: &str| paint.tone(Tone::Heading, text);
    let field = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(
            out,
            "{}{} {value}",
            h(label),
            " ".repeat(12usize.saturating_sub(label.len()))
        );
    };
    let namespace = mc.metadata.namespace.as_deref().unwrap_or_default();
    let name = mc.metadata.name.as_deref().unwrap_or_default();
    field(&mut out, "Name:", &format!("{namespace}/{name}"));
    let status = mc.status.as_ref();
    // The URL as the operator logs it: never a query or userinfo, where secrets hide.
    let source = match &mc.spec.kafka_connect {
        Some(k) => match url::Url::parse(&k.url) {
            Ok(url) => format!("Kafka Connect at {}", crate::policy::display_url(&url)),
            Err(_) => "Kafka Connect (invalid URL)".to_string(),
        },
        None => format!("Data Plane API, cluster {}", mc.spec.cluster_name),
    };
    let connector = status
        .and_then(|s| s.connector_name.clone())
        .unwrap_or_else(|| mc.connector_name());
    let kind = status
        .and_then(|s| s.type_.clone())
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    field(
        &mut out,
        "Connector:",
        &format!("{connector}{kind} on {source}"),
    );
    let Some(status) = status else {
        field(
            &mut out,
            "State:",
            &paint.tone(
                Tone::Warn,
                "Pending (the operator has not reported on it yet)",
            ),
        );
        return out;
    };
    let state = status
        .holistic_state
        .map(|s| s.as_str())
        .unwrap_or("Unknown");
    field(&mut out, "State:", &paint.tone(tone_of(state), state));
    if let Some(ready) = status.conditions.iter().find(|c| c.type_ == "Ready") {
        field(
            &mut out,
            "Ready:",
            &format!(
                "{} {}: {}",
                paint.tone(tone_of(&ready.status), &ready.status),
                ready.reason,
                ready.message
            ),
        );
    }
    field(
        &mut out,
        "Last sync:",
        &match &status.last_sync_time {
            Some(t) => format!("{} ago", age(Some(t.0), now)),
            None => "never".to_string(),
        },
    );
    if let Some(c) = &status.connector {
        let worker = if c.worker_id.is_empty() {
            "-"
        } else {
            &c.worker_id
        };
        field(
            &mut out,
            "Instance:",
            &format!("{} on {worker}", paint.tone(tone_of(&c.state), &c.state)),
        );
    }

    let tasks = status.tasks_ready.as_deref().unwrap_or("-");
    field(&mut out, "Tasks:", &format!("{tasks} running"));
    if !status.tasks.is_empty() {
        let rows: Vec<Vec<Cell>> = status
            .tasks
            .iter()
            .map(|t| {
                vec![
                    Cell::plain(t.id.to_string()),
                    Cell::word(t.state.clone()),
                    Cell::plain(if t.worker_id.is_empty() {
                        "-".to_string()
                    } else {
                        t.worker_id.clone()
                    }),
                ]
            })
            .collect();
        out.push_str(&table(paint, "  ", &["ID", "STATE", "WORKER"], &rows));
    }
    if let Some(omitted) = &status.omitted_tasks {
        let by_state: Vec<String> = omitted
            .states
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let _ = writeln!(
            out,
            "  and {} more tasks: {}",
            omitted.count,
            by_state.join(", ")
        );
    }

    if !status.errors.is_empty() {
        let _ = writeln!(out, "{}", h("Errors:"));
        for e in &status.errors {
            let (word, tone) = match e.type_ {
                ErrorType::Error => ("Error", Tone::Bad),
                ErrorType::Warning => ("Warning", Tone::Warn),
            };
            let _ = writeln!(out, "  {} {}", paint.tone(tone, word), e.title);
            for line in e.content.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }

    if let Some(r) = &status.restarts {
        let mut parts = vec![format!("{} automatic", r.count)];
        if let Some(t) = &r.last_restart_time {
            parts.push(format!("last {} ago", age(Some(t.0), now)));
        }
        if let Some(t) = &r.next_restart_time {
            let left = t.0.as_second().saturating_sub(now.as_second()).max(0);
            parts.push(format!("next in {}", super::paint::duration(left)));
        }
        field(&mut out, "Restarts:", &parts.join(", "));
    }
    if let Some(c) = &status.config {
        let mut parts = vec![match &c.last_applied_time {
            Some(t) => format!("applied {} ago", age(Some(t.0), now)),
            None => "not applied yet".to_string(),
        }];
        if c.drifted_keys.is_empty() {
            parts.push("as declared".to_string());
        } else {
            parts.push(paint.tone(
                Tone::Warn,
                &format!("changed outside the spec: {}", c.drifted_keys.join(", ")),
            ));
        }
        field(&mut out, "Config:", &parts.join(", "));
    }

    let _ = writeln!(out, "{}", h("Conditions:"));
    let rows: Vec<Vec<Cell>> = status
        .conditions
        .iter()
        .map(|c| {
            vec![
                Cell::plain(c.type_.clone()),
                Cell::word(c.status.clone()),
                Cell::plain(c.reason.clone()),
                Cell::plain(age(Some(c.last_transition_time.0), now)),
                Cell::plain(c.message.clone()),
            ]
        })
        .collect();
    out.push_str(&table(
        paint,
        "  ",
        &["TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"],
        &rows,
    ));

    let _ = writeln!(out, "{}", h("History:"));
    match history {
        Err(why) => {
            let _ = writeln!(out, "  (its Events could not be read: {why})");
        }
        Ok(entries) if entries.is_empty() => {
            let _ = writeln!(out, "  (no Events: none yet, or expired)");
        }
        Ok(entries) => {
            let skip = entries.len().saturating_sub(HISTORY);
            let rows: Vec<Vec<Cell>> = entries
                .iter()
                .skip(skip)
                .map(|e| {
                    let tone = if e.type_ == "Warning" {
                        Tone::Warn
                    } else {
                        Tone::Plain
                    };
                    vec![
                        Cell::plain(age(e.time, now)),
                        Cell {
                            text: e.type_.clone(),
                            tone,
                        },
                        Cell::plain(e.reason.clone()),
                        Cell::plain(if e.count > 1 {
                            format!("x{}", e.count)
                        } else {
                            String::new()
                        }),
                        Cell::plain(e.message.clone()),
                    ]
                })
                .collect();
            out.push_str(&table(
                paint,
                "  ",
                &["AGE", "TYPE", "REASON", "TIMES", "MESSAGE"],
                &rows,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_connector_in_full() {
        let mc: ManagedConnector = serde_json::from_value(json!({
            "apiVersion": "connectors.dataplane.dev/v1alpha1", "kind": "ManagedConnector",
            "metadata": {"name": "orders", "namespace": "team-a"},
            "spec": {"clusterName": "redpanda"},
            "status": {
                "connectorName": "orders-sink", "type": "sink", "source": "DataPlane",
                "holisticState": "Degraded", "tasksReady": "1/2",
                "connector": {"state": "RUNNING", "workerId": "10.0.0.1:8083"},
                "tasks": [
                    {"id": 0, "state": "RUNNING", "workerId": "10.0.0.1:8083"},
                    {"id": 1, "state": "FAILED", "workerId": "10.0.0.2:8083", "trace": "boom"}
                ],
                "errors": [{"type": "Error", "title": "Task 1 failed", "content": "org.example.Boom: no table\nsee the sink's log"}],
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": "Degraded", "message": "1 of 2 tasks failed", "lastTransitionTime": "2026-11-29T11:55:00Z"},
                    {"type": "Synced", "status": "True", "reason": "Synced", "message": "ok", "lastTransitionTime": "2026-11-29T10:00:00Z"}
                ],
                "lastSyncTime": "2026-11-29T11:59:50Z",
                "restarts": {"count": 2, "lastRestartTime": "2026-11-29T11:57:00Z", "nextRestartTime": "2026-11-29T12:06:00Z"}
            }
        }))
        .unwrap();
        let now: Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        let history = Ok(vec![HistoryEntry {
            time: Some("2026-11-29T11:55:00Z".parse().unwrap()),
            type_: "Warning".into(),
            reason: "Degraded".into(),
            count: 3,
            message: "1 of 2 tasks failed".into(),
        }]);
        let out = render(&mc, &history, now, Paint { color: false });
        let expected = "\
Name:        team-a/orders
Connector:   orders-sink (sink) on Data Plane API, cluster redpanda
State:       Degraded
Ready:       False Degraded: 1 of 2 tasks failed
Last sync:   10s ago
Instance:    RUNNING on 10.0.0.1:8083
Tasks:       1/2 running
  ID  STATE    WORKER
  0   RUNNING  10.0.0.1:8083
  1   FAILED   10.0.0.2:8083
Errors:
  Error Task 1 failed
    org.example.Boom: no table
    see the sink's log
Restarts:    2 automatic, last 3m ago, next in 6m
Conditions:
  TYPE    STATUS  REASON    SINCE  MESSAGE
  Ready   False   Degraded  5m     1 of 2 tasks failed
  Synced  True    Synced    120m   ok
History:
  AGE  TYPE     REASON    TIMES  MESSAGE
  5m   Warning  Degraded  x3     1 of 2 tasks failed
";
        assert_eq!(out, expected);
        let refused = render(&mc, &Err("forbidden".into()), now, Paint { color: false });
        let mut connect = mc.clone();
        connect.spec.kafka_connect = serde_json::from_value(
            json!({"url": "https://connect.example:8083/base?token=hunter2"}),
        )
        .unwrap();
        let shown = render(&connect, &history, now, Paint { color: false });
        assert!(
            shown.contains(
                "orders-sink (sink) on Kafka Connect at https://connect.example:8083/base\n"
            ),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"));
        assert!(
            refused.ends_with("History:\n  (its Events could not be read: forbidden)\n"),
            "{refused}"
        );
    }
}
