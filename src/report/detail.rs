//! One connector in full: state, tasks with their workers, the parsed errors, restarts, declared
//! configuration, conditions and their history (the resource's Events). Pure.

use super::paint::{Cell, Paint, Tone, age, table, tone_of};
use crate::crd::{ErrorType, ManagedConnector, ManagedConnectorStatus};
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
    let mut page = Page {
        out: String::new(),
        paint,
        now,
    };
    page.header(mc);
    let Some(status) = mc.status.as_ref().filter(|s| s.reported()) else {
        let pending = paint.tone(
            Tone::Warn,
            "Pending (the operator has not reported on it yet)",
        );
        page.field("State:", &pending);
        return page.out;
    };
    page.state(status);
    page.tasks(status);
    page.errors(status);
    page.actions(status);
    page.conditions(status);
    page.history(history);
    page.out
}

/// The page being written, one section at a time.
struct Page {
    out: String,
    paint: Paint,
    now: Timestamp,
}

impl Page {
    fn heading(&mut self, text: &str) {
        let _ = writeln!(self.out, "{}", self.paint.tone(Tone::Heading, text));
    }

    fn field(&mut self, label: &str, value: &str) {
        let _ = writeln!(
            self.out,
            "{}{} {value}",
            self.paint.tone(Tone::Heading, label),
            " ".repeat(12usize.saturating_sub(label.len()))
        );
    }

    fn age(&self, t: Option<Timestamp>) -> String {
        age(t, self.now)
    }

    /// Which resource, which connector, where.
    fn header(&mut self, mc: &ManagedConnector) {
        let namespace = mc.metadata.namespace.as_deref().unwrap_or_default();
        let name = mc.metadata.name.as_deref().unwrap_or_default();
        self.field("Name:", &format!("{namespace}/{name}"));
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
        self.field("Connector:", &format!("{connector}{kind} on {source}"));
    }

    /// State, Ready, the last sync and the connector instance.
    fn state(&mut self, status: &ManagedConnectorStatus) {
        let paint = self.paint;
        let state = status
            .holistic_state
            .map(|s| s.as_str())
            .unwrap_or("Unknown");
        self.field("State:", &paint.tone(tone_of(state), state));
        if let Some(ready) = status.conditions.iter().find(|c| c.type_ == "Ready") {
            let value = format!(
                "{} {}: {}",
                paint.tone(tone_of(&ready.status), &ready.status),
                ready.reason,
                ready.message
            );
            self.field("Ready:", &value);
        }
        let sync = match &status.last_sync_time {
            Some(t) => format!("{} ago", self.age(Some(t.0))),
            None => "never".to_string(),
        };
        self.field("Last sync:", &sync);
        if let Some(c) = &status.connector {
            let worker = if c.worker_id.is_empty() {
                "-"
            } else {
                &c.worker_id
            };
            let value = format!("{} on {worker}", paint.tone(tone_of(&c.state), &c.state));
            self.field("Instance:", &value);
        }
    }

    fn tasks(&mut self, status: &ManagedConnectorStatus) {
        let tasks = status.tasks_ready.as_deref().unwrap_or("-");
        self.field("Tasks:", &format!("{tasks} running"));
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
            let rendered = table(self.paint, "  ", &["ID", "STATE", "WORKER"], &rows);
            self.out.push_str(&rendered);
        }
        if let Some(omitted) = &status.omitted_tasks {
            let by_state: Vec<String> = omitted
                .states
                .iter()
                .map(|(s, n)| format!("{n} {s}"))
                .collect();
            let _ = writeln!(
                self.out,
                "  and {} more tasks: {}",
                omitted.count,
                by_state.join(", ")
            );
        }
    }

    fn errors(&mut self, status: &ManagedConnectorStatus) {
        if status.errors.is_empty() {
            return;
        }
        self.heading("Errors:");
        for e in &status.errors {
            let (word, tone) = match e.type_ {
                ErrorType::Error => ("Error", Tone::Bad),
                ErrorType::Warning => ("Warning", Tone::Warn),
            };
            let _ = writeln!(self.out, "  {} {}", self.paint.tone(tone, word), e.title);
            for line in e.content.lines() {
                let _ = writeln!(self.out, "    {line}");
            }
        }
    }

    /// What the operator did: restarts and the declared configuration.
    fn actions(&mut self, status: &ManagedConnectorStatus) {
        if let Some(r) = &status.restarts {
            let mut parts = vec![format!("{} automatic", r.count)];
            if let Some(t) = &r.last_restart_time {
                parts.push(format!("last {} ago", self.age(Some(t.0))));
            }
            if let Some(t) = &r.next_restart_time {
                let left = t.0.as_second().saturating_sub(self.now.as_second()).max(0);
                parts.push(format!("next in {}", super::paint::duration(left)));
            }
            self.field("Restarts:", &parts.join(", "));
        }
        if let Some(c) = &status.config {
            let mut parts = vec![match &c.last_applied_time {
                Some(t) => format!("applied {} ago", self.age(Some(t.0))),
                None => "not applied yet".to_string(),
            }];
            if c.drifted_keys.is_empty() {
                parts.push("as declared".to_string());
            } else {
                parts.push(self.paint.tone(
                    Tone::Warn,
                    &format!("changed outside the spec: {}", c.drifted_keys.join(", ")),
                ));
            }
            self.field("Config:", &parts.join(", "));
        }
    }

    fn conditions(&mut self, status: &ManagedConnectorStatus) {
        self.heading("Conditions:");
        let rows: Vec<Vec<Cell>> = status
            .conditions
            .iter()
            .map(|c| {
                vec![
                    Cell::plain(c.type_.clone()),
                    Cell::word(c.status.clone()),
                    Cell::plain(c.reason.clone()),
                    Cell::plain(self.age(Some(c.last_transition_time.0))),
                    Cell::plain(c.message.clone()),
                ]
            })
            .collect();
        let rendered = table(
            self.paint,
            "  ",
            &["TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"],
            &rows,
        );
        self.out.push_str(&rendered);
    }

    /// The resource's last Events.
    fn history(&mut self, history: &Result<Vec<HistoryEntry>, String>) {
        self.heading("History:");
        let entries = match history {
            Err(why) => {
                let _ = writeln!(self.out, "  (its Events could not be read: {why})");
                return;
            }
            Ok(entries) if entries.is_empty() => {
                let _ = writeln!(self.out, "  (no Events: none yet, or expired)");
                return;
            }
            Ok(entries) => entries,
        };
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
                    Cell::plain(self.age(e.time)),
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
        let rendered = table(
            self.paint,
            "  ",
            &["AGE", "TYPE", "REASON", "TIMES", "MESSAGE"],
            &rows,
        );
        self.out.push_str(&rendered);
    }
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
