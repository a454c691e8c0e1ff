//! The per-resource series (holistic state, tasks, Ready and its reason), as many as
//! `--connector-metrics` asks for. They are most of what a large fleet costs Prometheus and the
//! operator: sixteen series per resource in `full`, about four in `compact`, none in `off`.

use super::{Metrics, ResourceLabels, TASK_STATES, reason_labels, state_labels};
use crate::crd::HolisticState;
use crate::health::TaskCounts;

/// Which per-resource series the operator exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ConnectorMetrics {
    /// Every holistic state (1 for the current one, 0 for the others) and every task state:
    /// sixteen series per resource, kube-state-metrics' state-set style.
    #[default]
    Full,
    /// The current holistic state only (value 1) and the task states that have tasks, with
    /// Ready and its reason: about four series per resource. The chart's alert rules and the
    /// dashboard work unchanged (they select `== 1` and `> 0`).
    Compact,
    /// No per-resource series: the fleet-wide counters only. The per-connector alert rules
    /// (failed tasks, not ready, stalled) have nothing to read.
    Off,
}

impl Metrics {
    /// Records a resource's holistic state and its task counts; `None` tasks (no connector)
    /// removes the task series.
    pub fn set_connector(
        &self,
        who: &ResourceLabels,
        state: Option<HolisticState>,
        tasks: Option<TaskCounts>,
    ) {
        let mode = self.connector_metrics;
        if mode == ConnectorMetrics::Off {
            return;
        }
        for s in HolisticState::ALL {
            let current = state == Some(s);
            let labels = state_labels(who, s.as_str());
            if mode == ConnectorMetrics::Compact && !current {
                self.holistic_state.remove(&labels);
            } else {
                self.holistic_state
                    .get_or_create(&labels)
                    .set(i64::from(current));
            }
        }
        let values = tasks.map(|t| {
            [
                t.running,
                t.failed,
                t.paused,
                t.restarting,
                t.unassigned,
                t.other(),
            ]
        });
        for (i, state) in TASK_STATES.into_iter().enumerate() {
            let labels = state_labels(who, state);
            match values.map(|v| v[i]) {
                // No connector (not found): its old FAILED count must not keep an alert firing.
                None => {
                    self.tasks.remove(&labels);
                }
                Some(0) if mode == ConnectorMetrics::Compact => {
                    self.tasks.remove(&labels);
                }
                Some(n) => {
                    self.tasks
                        .get_or_create(&labels)
                        .set(i64::try_from(n).unwrap_or(i64::MAX));
                }
            }
        }
    }

    /// Records whether a resource is Ready, and why (the condition's reason).
    pub fn set_ready(&self, who: &ResourceLabels, ready: bool, reason: &str) {
        if self.connector_metrics == ConnectorMetrics::Off {
            return;
        }
        self.ready.get_or_create(who).set(i64::from(ready));
        let mut reasons = self.reasons.lock().unwrap_or_else(|e| e.into_inner());
        match reasons.get(who) {
            Some(current) if current == reason => return,
            Some(current) => {
                self.ready_reason
                    .remove(&reason_labels(who, current.clone()));
            }
            None => {}
        }
        self.ready_reason
            .get_or_create(&reason_labels(who, reason.to_string()))
            .set(1);
        reasons.insert(who.clone(), reason.to_string());
    }

    /// Drops every series of a resource that no longer exists.
    pub fn forget(&self, who: &ResourceLabels) {
        self.ready.remove(who);
        let reason = self
            .reasons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(who);
        if let Some(reason) = reason {
            self.ready_reason.remove(&reason_labels(who, reason));
        }
        for s in HolisticState::ALL {
            self.holistic_state.remove(&state_labels(who, s.as_str()));
        }
        for s in TASK_STATES {
            self.tasks.remove(&state_labels(who, s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::registry::Registry;

    fn series(mode: ConnectorMetrics, tasks: TaskCounts) -> Vec<String> {
        let mut registry = Registry::default();
        let m = Metrics::with(&mut registry, mode);
        let who = ResourceLabels::new("team", "orders");
        m.set_connector(&who, Some(HolisticState::Degraded), Some(tasks));
        m.set_ready(&who, false, "Degraded");
        super::super::render(&registry)
            .lines()
            .filter(|l| l.contains(r#"name="orders""#))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn each_mode_keeps_what_it_says_and_the_alerts_still_read() {
        let tasks = TaskCounts {
            total: 3,
            running: 2,
            failed: 1,
            ..Default::default()
        };
        let full = series(ConnectorMetrics::Full, tasks);
        assert_eq!(full.len(), HolisticState::ALL.len() + TASK_STATES.len() + 2);
        let compact = series(ConnectorMetrics::Compact, tasks);
        let has = |lines: &[String], part: &str| lines.iter().any(|l| l.contains(part));
        for part in [
            r#"managed_connector_holistic_state{namespace="team",name="orders",state="Degraded"} 1"#,
            r#"managed_connector_tasks{namespace="team",name="orders",state="RUNNING"} 2"#,
            r#"managed_connector_tasks{namespace="team",name="orders",state="FAILED"} 1"#,
            r#"managed_connector_ready{namespace="team",name="orders"} 0"#,
            r#"managed_connector_ready_reason{namespace="team",name="orders",reason="Degraded"} 1"#,
        ] {
            assert!(has(&compact, part), "{part} in {compact:#?}");
            assert!(has(&full, part), "{part} in {full:#?}");
        }
        assert_eq!(compact.len(), 5, "{compact:#?}");
        assert!(series(ConnectorMetrics::Off, tasks).is_empty());
    }

    #[test]
    fn compact_drops_the_old_state_and_emptied_task_states() {
        let mut registry = Registry::default();
        let m = Metrics::with(&mut registry, ConnectorMetrics::Compact);
        let who = ResourceLabels::new("team", "orders");
        let failed = TaskCounts {
            total: 1,
            failed: 1,
            ..Default::default()
        };
        let running = TaskCounts {
            total: 1,
            running: 1,
            ..Default::default()
        };
        m.set_connector(&who, Some(HolisticState::Unhealthy), Some(failed));
        m.set_connector(&who, Some(HolisticState::Healthy), Some(running));
        let text = super::super::render(&registry);
        assert!(!text.contains(r#"state="Unhealthy""#), "{text}");
        assert!(!text.contains(r#"state="FAILED""#), "{text}");
        assert!(text.contains(r#"state="Healthy"} 1"#), "{text}");
        m.forget(&who);
        assert!(!super::super::render(&registry).contains(r#"name="orders""#));
    }
}
