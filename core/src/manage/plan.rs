//! Plan (pure): from what the reconcile observed, what the resource declares and what the status
//! remembers, the commands to send (in order), the restart and configuration status to record,
//! what the conditions should say, and the Events. [`settle`] folds the commands' results in.
//!
//! Order within one reconcile: create or reconfigure, then pause/resume/stop, then restarts;
//! a restart is never sent in the same reconcile as another command (the connector is about to
//! change anyway, and the next reconcile decides on fresh state).

use super::command::Command;
use super::declared::{Actual, Declared, StateChange, state_command};
use super::restart::{self, Auto, Policy, Request, Seen};
use crate::crd::{
    DesiredState, HolisticState, ManagedConnectorSpec, ManagedConnectorStatus, RestartStatus,
};
use crate::health::{Assessment, ConnectStatus};
use crate::probe::{Failure, FailureKind, Observation};
use crate::resolve::SourceKind;
use crate::status::{EventSpec, Management, Note, READY, STALLED};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use std::collections::BTreeMap;

/// Reason of the Stalled condition once automatic restarts are exhausted (a word of the status).
pub use crate::status::GAVE_UP;
/// Reason of the Synced condition when the source refused the declared configuration.
pub const CONFIG_REJECTED: &str = "ConfigRejected";
/// Drifted keys recorded in `status.config.driftedKeys` at most (messages name 20 and count the rest).
pub const MAX_DRIFTED_KEYS: usize = 64;
/// What a refusal's message says first (the source's message can be long, and is cut).
const NOT_PUT_AGAIN: &str = "not put again until spec.config or its Secrets change";

/// What one reconcile knows.
pub struct Inputs<'a> {
    /// The spec.
    pub spec: &'a ManagedConnectorSpec,
    /// The connector's name.
    pub connector: &'a str,
    /// The resource's annotations (restart requests).
    pub annotations: &'a BTreeMap<String, String>,
    /// The stored status.
    pub stored: Option<&'a ManagedConnectorStatus>,
    /// What the source said about the connector this time.
    pub observation: &'a Observation,
    /// The declared configuration, when the resource declares one.
    pub declared: Option<&'a Declared>,
    /// The connector's configuration: `Some(None)` when it does not exist; `None` when not read.
    pub actual: Option<Option<&'a Actual>>,
    /// The source (the Data Plane has no single-task restart).
    pub source: SourceKind,
    /// Why the source refused this very declaration (Secret values included) before: it is not
    /// put again until the declaration changes.
    pub refused: Option<&'a str>,
    /// Now.
    pub now: Timestamp,
}

/// One command and the Event its success deserves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The command.
    pub command: Command,
    /// Event reason on success.
    pub reason: &'static str,
    /// Event note on success.
    pub note: String,
}

/// What to do and what to record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Commands, in order.
    pub steps: Vec<Step>,
    /// Status parts and the conditions' note.
    pub management: Management,
    /// Events that do not depend on a command's success.
    pub events: Vec<EventSpec>,
    /// Come back at this time (a pending automatic restart).
    pub wake: Option<Timestamp>,
}

impl Plan {
    /// Whether a restart is among the steps (recorded in the status before it is sent).
    pub fn restarts(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.command, Command::Restart { .. } | Command::RestartTask(_)))
    }
}

/// Whether the resource asks the operator to act at all (a declared configuration, a restart
/// policy, a restart request, or restart state to keep).
pub fn wants_management(
    spec: &ManagedConnectorSpec,
    annotations: &BTreeMap<String, String>,
) -> bool {
    spec.config.is_some()
        || Policy::from_spec(spec.restart_policy.as_ref()).is_some()
        || annotations.contains_key(restart::RESTART_ANNOTATION)
        || annotations.contains_key(restart::RESTART_TASK_ANNOTATION)
}

/// The plan.
pub fn plan(i: &Inputs<'_>) -> Plan {
    let stored_restarts = i.stored.and_then(|s| s.restarts.clone());
    let mut plan = Plan {
        management: Management {
            restarts: stored_restarts.clone(),
            config: i.stored.and_then(|s| s.config.clone()),
            note: None,
            owned: i.stored.and_then(|s| s.owned_connector.clone()),
        },
        ..Default::default()
    };
    let found = match i.observation {
        Observation::Found { status, assessment } => Some((status, assessment)),
        _ => None,
    };
    let desired = i.spec.state.unwrap_or_default();

    // 1. The declared configuration and state.
    declare(i, &mut plan);

    // 2. Restarts: on request, else automatic; never alongside another command.
    let policy = Policy::from_spec(i.spec.restart_policy.as_ref());
    let mut restarts = stored_restarts.clone().unwrap_or_default();
    if let Some((status, assessment)) = found
        && plan.steps.is_empty()
        && desired == DesiredState::Running
    {
        requested(i, &mut plan, &mut restarts);
        if plan.steps.is_empty()
            && let Some(policy) = &policy
        {
            automatic(i, &mut plan, policy, &mut restarts, (status, assessment));
        }
    }
    plan.management.restarts =
        (policy.is_some() || stored_restarts.is_some() || restarts != RestartStatus::default())
            .then_some(restarts);
    if policy.is_none()
        && let Some(r) = plan.management.restarts.as_mut()
    {
        r.count = 0;
        r.next_restart_time = None;
    }
    plan
}

/// The declared configuration and state: create, reconfigure, pause, resume or stop (pure).
fn declare(i: &Inputs<'_>, plan: &mut Plan) {
    let found = match i.observation {
        Observation::Found { status, assessment } => Some((status, assessment)),
        _ => None,
    };
    let name = i.connector;
    let now = Time(i.now);
    let absent =
        matches!(i.observation, Observation::Failed(f) if f.kind == FailureKind::ConnectorNotFound);
    let desired = i.spec.state.unwrap_or_default();
    let stored_config = i.stored.and_then(|s| s.config.clone());
    if let Some(d) = i.declared {
        let mut cs = stored_config.clone().unwrap_or_default();
        let refusal = i.refused.map(|why| Note::Failed {
            reason: CONFIG_REJECTED.into(),
            message: if why.starts_with(NOT_PUT_AGAIN) {
                why.to_string()
            } else {
                format!("{NOT_PUT_AGAIN}: {why}")
            },
            attention: true,
        });
        match i.actual {
            Some(None) if found.is_none() && refusal.is_some() => {
                plan.management.note = refusal;
            }
            Some(None) if found.is_none() => {
                plan.steps.push(Step {
                    command: Command::PutConfig(d.body()),
                    reason: "ConnectorCreated",
                    note: format!("created connector {name} from spec.config"),
                });
                if let Some(change) = match desired {
                    DesiredState::Running => None,
                    DesiredState::Paused => Some(StateChange::Pause),
                    DesiredState::Stopped => Some(StateChange::Stop),
                } {
                    plan.steps.push(state_step(change, name));
                }
                cs.created = true;
                cs.drifted_keys = Vec::new();
                cs.applied_hash = Some(d.hash.clone());
                cs.last_applied_time = Some(now.clone());
                plan.management.note = Some(Note::Acting {
                    reason: "Creating",
                    message: format!("creating connector {name} from spec.config"),
                });
            }
            Some(Some(actual)) => {
                let drift = d.drift(actual);
                // Kept in the status bounded: a tenant's connector may differ in every one of
                // a thousand keys.
                let recorded: Vec<String> = drift.iter().take(MAX_DRIFTED_KEYS).cloned().collect();
                // The same keys differ right after this very configuration was put: the source
                // does not keep what it is given (it masks or normalises values). Putting it
                // again would restart the connector every few seconds, for nothing.
                let not_kept = !drift.is_empty()
                    && cs.drifted_keys == recorded
                    && cs.applied_hash.as_ref() == Some(&d.hash)
                    && cs.last_applied_time.is_some();
                if drift.is_empty() {
                    cs.applied_hash = Some(d.hash.clone());
                } else if refusal.is_some() {
                    plan.management.note = refusal;
                } else if not_kept {
                    plan.management.note = Some(Note::Failed {
                        reason: "ConfigNotKept".into(),
                        message: format!(
                            "connector {name} still reports other values for {} after spec.config was applied; the source may mask or normalise them (not applied again until spec.config or its Secrets change)",
                            list(&drift)
                        ),
                        attention: true,
                    });
                } else {
                    plan.steps.push(Step {
                        command: Command::PutConfig(d.body()),
                        reason: "ConfigApplied",
                        note: format!(
                            "applied spec.config to connector {name}; differing keys: {}",
                            list(&drift)
                        ),
                    });
                    cs.applied_hash = Some(d.hash.clone());
                    cs.last_applied_time = Some(now.clone());
                    plan.management.note = Some(Note::Acting {
                        reason: "ApplyingConfig",
                        message: format!(
                            "applying spec.config to connector {name}; differing keys: {}",
                            list(&drift)
                        ),
                    });
                }
                cs.drifted_keys = recorded;
                if absent {
                    // Created a moment ago: its status is not there yet.
                    plan.management.note.get_or_insert(Note::Acting {
                        reason: "Creating",
                        message: format!("connector {name} exists; waiting for its first status"),
                    });
                }
            }
            _ => {}
        }
        if let Some((status, _)) = found {
            let actual = status.connector.state.as_str();
            if let Some(change) = state_command(desired, actual) {
                let step = state_step(change, name);
                plan.management.note.get_or_insert(Note::Acting {
                    reason: step.reason,
                    message: step.note.clone(),
                });
                plan.steps.push(step);
            } else if plan.steps.is_empty()
                && matches!(
                    (desired, actual),
                    (DesiredState::Paused, "PAUSED") | (DesiredState::Stopped, "STOPPED")
                )
            {
                plan.management.note = Some(Note::AsDeclared {
                    message: format!(
                        "connector {name} is {}, as spec.state declares",
                        actual.to_ascii_lowercase()
                    ),
                });
            }
        }
        plan.management.config = Some(cs);
    } else {
        plan.management.config = None;
    }
}

/// Restarts the annotations request, each once per value (pure).
fn requested(i: &Inputs<'_>, plan: &mut Plan, restarts: &mut RestartStatus) {
    let name = i.connector;
    let now = Time(i.now);
    for request in restart::requests(i.annotations, restarts) {
        match request {
            Request::Connector(value) => {
                plan.steps.push(Step {
                    command: Command::Restart { only_failed: false },
                    reason: "RestartRequested",
                    note: format!("restarted connector {name} and all of its tasks, as requested"),
                });
                restarts.handled_request = Some(value);
                restarts.last_restart_time = Some(now.clone());
            }
            Request::Task(value, Some(id)) => {
                let step = match i.source {
                    SourceKind::KafkaConnect => Step {
                        command: Command::RestartTask(id),
                        reason: "RestartRequested",
                        note: format!("restarted task {id} of connector {name}, as requested"),
                    },
                    SourceKind::DataPlane => Step {
                        command: Command::Restart { only_failed: true },
                        reason: "RestartRequested",
                        note: format!(
                            "task {id} of connector {name}: the Data Plane API has no single-task restart, so the failed instances were restarted"
                        ),
                    },
                };
                plan.steps.push(step);
                restarts.handled_task_request = Some(value);
                restarts.last_restart_time = Some(now.clone());
            }
            Request::Task(value, None) => {
                plan.events.push(EventSpec {
                    warning: true,
                    reason: "RestartRequestInvalid".into(),
                    note: format!(
                        "annotation {} is {value:?}: expected a task id, such as \"0\" or \"0:again\"",
                        restart::RESTART_TASK_ANNOTATION
                    ),
                });
                restarts.handled_task_request = Some(value);
            }
        }
    }
}

/// An automatic restart of the failed instances, when the policy says one is due (pure).
fn automatic(
    i: &Inputs<'_>,
    plan: &mut Plan,
    policy: &Policy,
    restarts: &mut RestartStatus,
    (status, assessment): (&ConnectStatus, &Assessment),
) {
    let name = i.connector;
    let seen = Seen {
        failed: status.connector.state == "FAILED"
            || status.tasks.iter().any(|t| t.state == "FAILED")
            || status.omitted.failed > 0,
        healthy: assessment.state == HolisticState::Healthy,
    };
    let healthy_since = i
        .stored
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == READY))
        .filter(|c| c.status == "True")
        .map(|c| c.last_transition_time.0);
    let (auto, next) = restart::decide(policy, Some(seen), restarts, healthy_since, i.now);
    *restarts = next;
    let of = policy
        .max_restarts
        .map(|m| format!(" of {m}"))
        .unwrap_or_default();
    match auto {
        Auto::Idle => {}
        Auto::Restart => {
            let message = format!(
                "restarting the failed instances of connector {name} (automatic restart {}{of})",
                restarts.count
            );
            plan.steps.push(Step {
                command: Command::Restart { only_failed: true },
                reason: "RestartedAutomatically",
                note: format!(
                    "restarted the failed instances of connector {name} (automatic restart {}{of})",
                    restarts.count
                ),
            });
            plan.management.note = Some(Note::Acting {
                reason: "RestartingAutomatically",
                message,
            });
        }
        Auto::Wait(at) => {
            plan.wake = Some(at);
            plan.management.note = Some(Note::Waiting {
                reason: "RestartingAutomatically",
                message: format!(
                    "restarting automatically: restart {}{of} at {at}",
                    restarts.count.saturating_add(1)
                ),
            });
        }
        Auto::GaveUp => {
            let message = format!(
                "gave up after {} automatic restarts (spec.restartPolicy.maxRestarts); fix the cause, then restart it with the {} annotation",
                restarts.count,
                restart::RESTART_ANNOTATION
            );
            let already = i
                .stored
                .and_then(|s| s.conditions.iter().find(|c| c.type_ == STALLED))
                .is_some_and(|c| c.reason == GAVE_UP);
            if !already {
                plan.events.push(EventSpec {
                    warning: true,
                    reason: GAVE_UP.into(),
                    note: format!("connector {name}: {message}"),
                });
            }
            plan.management.note = Some(Note::GaveUp { message });
        }
    }
}

fn state_step(change: StateChange, name: &str) -> Step {
    match change {
        StateChange::Pause => Step {
            command: Command::Pause,
            reason: "Pausing",
            note: format!("pausing connector {name} (spec.state: Paused)"),
        },
        StateChange::Resume => Step {
            command: Command::Resume,
            reason: "Resuming",
            note: format!("resuming connector {name} (spec.state: Running)"),
        },
        StateChange::Stop => Step {
            command: Command::Stop,
            reason: "Stopping",
            note: format!("stopping connector {name} (spec.state: Stopped)"),
        },
    }
}

fn list(keys: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut out = keys
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if keys.len() > SHOWN {
        out.push_str(&format!(" and {} more", keys.len() - SHOWN));
    }
    out
}

/// Folds the commands' results into the plan: `failed` is the index of the step that failed and
/// its failure (the steps after it were not sent). Returns the Events to publish.
pub fn settle(
    plan: &mut Plan,
    failed: Option<(usize, Failure)>,
    stored: Option<&ManagedConnectorStatus>,
    declared: Option<&Declared>,
    connector: &str,
) -> Vec<EventSpec> {
    let sent = failed.as_ref().map(|(i, _)| *i).unwrap_or(plan.steps.len());
    let mut events = std::mem::take(&mut plan.events);
    for step in &plan.steps[..sent] {
        events.push(EventSpec {
            warning: false,
            reason: step.reason.into(),
            note: step.note.clone(),
        });
    }
    if let Some((i, failure)) = failed {
        let step = &plan.steps[i];
        let scrub = |m: &str| {
            declared
                .map(|d| d.redact(m))
                .unwrap_or_else(|| m.to_string())
        };
        let message = scrub(&format!(
            "could not {} connector {connector}: {}",
            step.command.verb().replace('_', " "),
            failure.message
        ));
        let reason = match (&step.command, failure.kind) {
            (Command::PutConfig(_), FailureKind::InvalidArgument) => CONFIG_REJECTED,
            (_, kind) => kind.reason(),
        };
        // The shell remembers a refused declaration (see `Inputs::refused`).
        let message = if reason == CONFIG_REJECTED {
            format!("{NOT_PUT_AGAIN}: {message}")
        } else {
            message
        };
        if matches!(step.command, Command::PutConfig(_))
            && let Some(cs) = plan.management.config.as_mut()
        {
            // Not applied: the status keeps what was last applied.
            let before = stored.and_then(|s| s.config.clone()).unwrap_or_default();
            cs.applied_hash = before.applied_hash;
            cs.last_applied_time = before.last_applied_time;
            cs.created = before.created;
        }
        events.push(EventSpec {
            warning: true,
            reason: "ActionFailed".into(),
            note: message.clone(),
        });
        plan.management.note = Some(Note::Failed {
            reason: reason.to_string(),
            message,
            attention: reason == CONFIG_REJECTED || failure.kind.needs_attention(),
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Report;

    fn found(connector: &str, tasks: &[&str]) -> Observation {
        Report::from_connect(crate::health::test_status(connector, tasks)).assess()
    }

    fn not_found() -> Observation {
        Observation::Failed(Failure::new(FailureKind::ConnectorNotFound, "404"))
    }

    fn on_failure(max: Option<u32>) -> ManagedConnectorSpec {
        ManagedConnectorSpec {
            restart_policy: Some(crate::crd::RestartPolicy {
                type_: crate::crd::RestartPolicyType::OnFailure,
                max_restarts: max,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn inputs<'a>(
        spec: &'a ManagedConnectorSpec,
        annotations: &'a BTreeMap<String, String>,
        stored: Option<&'a ManagedConnectorStatus>,
        observation: &'a Observation,
    ) -> Inputs<'a> {
        Inputs {
            spec,
            connector: "c",
            annotations,
            stored,
            observation,
            declared: None,
            actual: None,
            source: SourceKind::KafkaConnect,
            refused: None,
            now: Timestamp::from_second(1_800_000_000).unwrap(),
        }
    }

    fn commands(p: &Plan) -> Vec<Command> {
        p.steps.iter().map(|s| s.command.clone()).collect()
    }

    #[test]
    fn status_only_resources_get_no_commands() {
        let spec = ManagedConnectorSpec::default();
        let none = BTreeMap::new();
        for obs in [found("FAILED", &["FAILED"]), not_found()] {
            let p = plan(&inputs(&spec, &none, None, &obs));
            assert!(p.steps.is_empty());
            assert_eq!(p.management.restarts, None);
            assert_eq!(p.management.config, None);
        }
    }

    #[test]
    fn automatic_restarts_only_failed_instances_and_never_healthy_ones() {
        let spec = on_failure(Some(2));
        let none = BTreeMap::new();
        let healthy = found("RUNNING", &["RUNNING"]);
        let p = plan(&inputs(&spec, &none, None, &healthy));
        assert!(p.steps.is_empty());
        let failed = found("RUNNING", &["RUNNING", "FAILED"]);
        let p = plan(&inputs(&spec, &none, None, &failed));
        assert_eq!(commands(&p), [Command::Restart { only_failed: true }]);
        assert_eq!(p.management.restarts.as_ref().map(|r| r.count), Some(1));
        // Recorded: the next reconcile waits (2 min with the default unit).
        let stored = ManagedConnectorStatus {
            restarts: p.management.restarts.clone(),
            ..Default::default()
        };
        let p = plan(&inputs(&spec, &none, Some(&stored), &failed));
        assert!(p.steps.is_empty());
        assert!(matches!(p.management.note, Some(Note::Waiting { .. })));
        assert!(p.wake.is_some());
        // Exhausted: one Event, then silence.
        let stored = ManagedConnectorStatus {
            restarts: Some(RestartStatus {
                count: 2,
                ..Default::default()
            }),
            ..Default::default()
        };
        let p = plan(&inputs(&spec, &none, Some(&stored), &failed));
        assert!(p.steps.is_empty());
        assert!(matches!(p.management.note, Some(Note::GaveUp { .. })));
        assert_eq!(p.events.len(), 1);
        assert_eq!(p.events[0].reason, GAVE_UP);
    }

    #[test]
    fn a_restart_request_is_acted_on_once_per_value() {
        let spec = ManagedConnectorSpec::default();
        let ann: BTreeMap<String, String> =
            [(restart::RESTART_ANNOTATION.to_string(), "1".to_string())].into();
        let obs = found("RUNNING", &["RUNNING"]);
        let p = plan(&inputs(&spec, &ann, None, &obs));
        assert_eq!(commands(&p), [Command::Restart { only_failed: false }]);
        let stored = ManagedConnectorStatus {
            restarts: p.management.restarts.clone(),
            ..Default::default()
        };
        assert!(
            plan(&inputs(&spec, &ann, Some(&stored), &obs))
                .steps
                .is_empty()
        );
        // Not found: kept for later, not recorded.
        let p = plan(&inputs(&spec, &ann, None, &not_found()));
        assert!(p.steps.is_empty());
        assert_eq!(p.management.restarts, None);
        // A task on the Data Plane restarts the failed instances.
        let ann: BTreeMap<String, String> = [(
            restart::RESTART_TASK_ANNOTATION.to_string(),
            "0".to_string(),
        )]
        .into();
        let mut i = inputs(&spec, &ann, None, &obs);
        assert_eq!(commands(&plan(&i)), [Command::RestartTask(0)]);
        i.source = SourceKind::DataPlane;
        assert_eq!(
            commands(&plan(&i)),
            [Command::Restart { only_failed: true }]
        );
    }

    #[test]
    fn declared_connectors_are_created_reconfigured_and_put_in_their_state() {
        use crate::crd::ManagedConnector;
        let mut mc = ManagedConnector::new(
            "c",
            ManagedConnectorSpec {
                config: Some([("a".to_string(), "1".to_string())].into()),
                state: Some(DesiredState::Stopped),
                ..Default::default()
            },
        );
        mc.metadata.namespace = Some("ns".into());
        let d = super::super::declared::declared(&mc, &Default::default())
            .unwrap()
            .unwrap();
        let none = BTreeMap::new();
        let absent = not_found();
        let mut i = inputs(&mc.spec, &none, None, &absent);
        i.declared = Some(&d);
        i.actual = Some(None);
        let p = plan(&i);
        assert_eq!(commands(&p), [Command::PutConfig(d.body()), Command::Stop]);
        assert!(p.management.config.as_ref().unwrap().created);
        // In place and stopped: nothing to do.
        let same = super::super::declared::parse_actual(br#"{"a":"1","name":"c"}"#).unwrap();
        let stopped = found("STOPPED", &[]);
        let mut i = inputs(&mc.spec, &none, None, &stopped);
        i.declared = Some(&d);
        i.actual = Some(Some(&same));
        let p = plan(&i);
        assert!(p.steps.is_empty());
        assert_eq!(
            p.management.config.as_ref().unwrap().applied_hash,
            Some(d.hash.clone())
        );
        // Drifted and running: reconfigure, then stop.
        let other = super::super::declared::parse_actual(br#"{"a":"2"}"#).unwrap();
        let running = found("RUNNING", &["RUNNING"]);
        let mut i = inputs(&mc.spec, &none, None, &running);
        i.declared = Some(&d);
        i.actual = Some(Some(&other));
        let mut p = plan(&i);
        assert_eq!(commands(&p), [Command::PutConfig(d.body()), Command::Stop]);
        assert_eq!(p.management.config.as_ref().unwrap().drifted_keys, ["a"]);
        // Put, and the same keys still differ with the same declaration: not put again.
        let stored = ManagedConnectorStatus {
            config: p.management.config.clone(),
            ..Default::default()
        };
        let mut i = inputs(&mc.spec, &none, Some(&stored), &running);
        i.declared = Some(&d);
        i.actual = Some(Some(&other));
        let again = plan(&i);
        assert_eq!(commands(&again), [Command::Stop]);
        assert!(matches!(
            &again.management.note,
            Some(Note::Failed { reason, .. }) if reason == "ConfigNotKept"
        ));
        // The write refused: the note says so, nothing claims it was applied.
        let events = settle(
            &mut p,
            Some((0, Failure::new(FailureKind::InvalidArgument, "bad"))),
            None,
            Some(&d),
            "c",
        );
        assert!(matches!(
            &p.management.note,
            Some(Note::Failed { reason, attention: true, .. }) if reason == "ConfigRejected"
        ));
        assert_eq!(p.management.config.as_ref().unwrap().applied_hash, None);
        assert_eq!(events.len(), 1);
        assert!(events[0].warning);
    }

    #[test]
    fn a_refused_declaration_is_not_put_again() {
        use crate::crd::ManagedConnector;
        let mut mc = ManagedConnector::new(
            "c",
            ManagedConnectorSpec {
                config: Some([("connector.class".to_string(), "x.Nope".to_string())].into()),
                ..Default::default()
            },
        );
        mc.metadata.namespace = Some("ns".into());
        let d = super::super::declared::declared(&mc, &Default::default())
            .unwrap()
            .unwrap();
        let none = BTreeMap::new();
        let absent = not_found();
        let running = found("RUNNING", &["RUNNING"]);
        let other = super::super::declared::parse_actual(br#"{"connector.class":"y"}"#).unwrap();
        // (observation, actual): to create, to reconfigure.
        for (observation, actual) in [(&absent, None), (&running, Some(&other))] {
            let mut i = inputs(&mc.spec, &none, None, observation);
            i.declared = Some(&d);
            i.actual = Some(actual);
            assert_eq!(
                commands(&plan(&i)),
                [Command::PutConfig(d.body())],
                "not refused: put"
            );
            i.refused = Some("the configuration was refused: HTTP 500");
            let p = plan(&i);
            assert!(p.steps.is_empty(), "refused: not put again ({actual:?})");
            match &p.management.note {
                Some(Note::Failed {
                    reason,
                    message,
                    attention: true,
                }) => {
                    assert_eq!(reason, CONFIG_REJECTED);
                    assert!(message.contains("HTTP 500") && message.contains("not put again"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_configuration_refused_with_a_500_is_config_rejected() {
        let mut p = Plan {
            steps: vec![Step {
                command: Command::PutConfig(super::super::declared::ConfigBody(Default::default())),
                reason: "ConnectorCreated",
                note: String::new(),
            }],
            ..Default::default()
        };
        let refused = crate::probe::config_refusal(Failure::new(
            FailureKind::DataPlaneUnavailable,
            "Data Plane API unavailable: HTTP 500 INTERNAL: failed to create connector: Failed to find any class that implements Connector and which name matches com.example.DoesNotExist",
        ));
        settle(&mut p, Some((0, refused)), None, None, "c");
        assert!(matches!(
            &p.management.note,
            Some(Note::Failed { reason, attention: true, .. }) if reason == CONFIG_REJECTED
        ));
    }
}
