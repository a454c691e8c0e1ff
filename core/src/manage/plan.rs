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
    ConfigStatus, DesiredState, HolisticState, ManagedConnectorSpec, ManagedConnectorStatus,
    RestartStatus,
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
/// Reason of the Synced condition when the plugin's validation refused it before a put.
pub const CONFIG_INVALID: &str = "ConfigInvalid";
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
    /// Why the source (or the plugin's validation) refused this very declaration (Secret values
    /// included) before, as (reason, message): it is not put again until the declaration changes.
    pub refused: Option<(&'a str, &'a str)>,
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
        || Policy::from_spec(spec.restart_policy.as_deref()).is_some()
        || annotations.contains_key(restart::RESTART_ANNOTATION)
        || annotations.contains_key(restart::RESTART_TASK_ANNOTATION)
        || super::offsets::wants(annotations)
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
            plugin: i.stored.and_then(|s| s.plugin.clone()),
            offsets: i.stored.and_then(|s| s.offsets.clone()),
            topics_reset: i.stored.and_then(|s| s.handled_topics_reset.clone()),
            progress: None,
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
    let policy = Policy::from_spec(i.spec.restart_policy.as_deref());
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
    // 3. A topics reset on request, once per value; never alongside another command.
    if found.is_some()
        && plan.steps.is_empty()
        && let Some(value) =
            super::offsets::topics_reset(i.annotations, plan.management.topics_reset.as_deref())
    {
        plan.steps.push(Step {
            command: Command::ResetTopics,
            reason: "TopicsResetRequested",
            note: format!(
                "reset the active topics of connector {}, as requested",
                i.connector
            ),
        });
        plan.management.topics_reset = Some(value);
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
    let Some(d) = i.declared else {
        plan.management.config = None;
        plan.management.plugin = None;
        return;
    };
    let found = match i.observation {
        Observation::Found { status, .. } => Some(status),
        _ => None,
    };
    let mut cs = i.stored.and_then(|s| s.config.clone()).unwrap_or_default();
    // The fields the plugin refused belong to the declaration it refused; the shell records
    // them again when a put's validation fails.
    if !matches!(i.refused, Some((CONFIG_INVALID, _))) {
        cs.invalid_fields.clear();
    }
    let refusal = i.refused.map(|(reason, why)| Note::Failed {
        reason: reason.into(),
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
        Some(None) if found.is_none() => create(i, d, plan, &mut cs),
        Some(Some(actual)) => reconfigure(i, d, actual, refusal, plan, &mut cs),
        _ => {}
    }
    if let Some(status) = found {
        follow_state(i, status.connector.state.as_str(), plan);
    }
    plan.management.config = Some(cs);
}

/// No connector yet: put the declared configuration (and the declared state right after).
fn create(i: &Inputs<'_>, d: &Declared, plan: &mut Plan, cs: &mut ConfigStatus) {
    let name = i.connector;
    plan.steps.push(Step {
        command: Command::PutConfig(d.body()),
        reason: "ConnectorCreated",
        note: format!("created connector {name} from spec.config"),
    });
    if let Some(change) = match i.spec.state.unwrap_or_default() {
        DesiredState::Running => None,
        DesiredState::Paused => Some(StateChange::Pause),
        DesiredState::Stopped => Some(StateChange::Stop),
    } {
        plan.steps.push(state_step(change, name));
    }
    cs.created = true;
    cs.drifted_keys = Vec::new();
    cs.applied_hash = Some(d.hash.clone());
    cs.last_applied_time = Some(Time(i.now));
    plan.management.note = Some(Note::Acting {
        reason: "Creating",
        message: format!("creating connector {name} from spec.config"),
    });
}

/// The connector exists: put the declared configuration where it drifted, unless it was refused
/// or the source does not keep what it is given.
fn reconfigure(
    i: &Inputs<'_>,
    d: &Declared,
    actual: &Actual,
    refusal: Option<Note>,
    plan: &mut Plan,
    cs: &mut ConfigStatus,
) {
    let name = i.connector;
    let drift = d.drift(actual);
    // Kept in the status bounded: a tenant's connector may differ in every one of a thousand
    // keys.
    let recorded: Vec<String> = drift.iter().take(MAX_DRIFTED_KEYS).cloned().collect();
    // The same keys differ right after this very configuration was put: the source does not
    // keep what it is given (it masks or normalises values). Putting it again would restart the
    // connector every few seconds, for nothing.
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
        cs.last_applied_time = Some(Time(i.now));
        plan.management.note = Some(Note::Acting {
            reason: "ApplyingConfig",
            message: format!(
                "applying spec.config to connector {name}; differing keys: {}",
                list(&drift)
            ),
        });
    }
    cs.drifted_keys = recorded;
    let absent =
        matches!(i.observation, Observation::Failed(f) if f.kind == FailureKind::ConnectorNotFound);
    if absent {
        // Created a moment ago: its status is not there yet.
        plan.management.note.get_or_insert(Note::Acting {
            reason: "Creating",
            message: format!("connector {name} exists; waiting for its first status"),
        });
    }
}

/// Pause, stop or resume the connector as `spec.state` declares; say so once it is as declared.
fn follow_state(i: &Inputs<'_>, actual: &str, plan: &mut Plan) {
    let name = i.connector;
    let desired = i.spec.state.unwrap_or_default();
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

/// Whether a failed put with this reason is a refusal of the declaration itself, remembered so
/// that the same declaration is not put (or validated) again: the source or its plugin said no,
/// and will say it again. A missing plugin is not: it may be installed any time.
pub fn remembered(reason: &str) -> bool {
    reason == CONFIG_REJECTED || reason == CONFIG_INVALID
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
        let message = if remembered(reason) {
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
            attention: remembered(reason) || failure.kind.needs_attention(),
        });
    }
    events
}

#[cfg(test)]
mod tests;
