//! Holistic state and error parsing: Redpanda's algorithm, as pure functions.
//!
//! The Data Plane API usually computes `holistic_state` and `errors` itself; when it does not
//! (absent or `UNSPECIFIED`), or when the status comes from a plain Kafka Connect worker, the
//! operator computes them here with exactly the same rules, so a connector looks the same whichever
//! way it was read. The rules are in `../shared/reference/dataplane-api.md` and docs/status.md; every
//! rule and edge case has a row in the table tests below.

use crate::crd::{ConnectorError, ErrorType, HolisticState};
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Tasks listed with their details; beyond these, tasks are only counted by state. Kafka Connect
/// clusters rarely run more than a few hundred tasks per connector, while an answer of a few
/// megabytes can hold a million `{}`: reading it must not cost a million objects.
pub const MAX_LISTED_TASKS: usize = 1000;

/// Kafka Connect's status of one connector: the common part of the Data Plane API's
/// `ConnectorStatus` and Kafka Connect's own `GET /connectors/{name}/status`. Read as it streams
/// in, keeping at most [`MAX_LISTED_TASKS`] tasks in detail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectStatus {
    /// Connector name.
    pub name: String,
    /// The connector instance.
    pub connector: InstanceStatus,
    /// Its tasks, the first [`MAX_LISTED_TASKS`] of them.
    pub tasks: Vec<TaskStatus>,
    /// Tasks beyond those, counted by state.
    pub omitted: TaskCounts,
    /// `source` or `sink`.
    pub type_: String,
}

impl<'de> Deserialize<'de> for ConnectStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StatusFields::default())
    }
}

/// The fields of a connector status, read one key at a time. The Data Plane's answer shares them
/// and adds its own, which are handed to `extra`.
#[derive(Default)]
pub struct StatusFields {
    pub status: ConnectStatus,
}

impl StatusFields {
    /// Reads the value of `key` into the status if it is one of its fields; `false` otherwise
    /// (the value is then still to be read).
    pub fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        let s = &mut self.status;
        match key {
            "name" => s.name = map.next_value::<Option<String>>()?.unwrap_or_default(),
            "type" => s.type_ = map.next_value::<Option<String>>()?.unwrap_or_default(),
            "connector" => {
                s.connector = map
                    .next_value::<Option<InstanceStatus>>()?
                    .unwrap_or_default()
            }
            "tasks" => {
                let tasks = map
                    .next_value::<Option<BoundedTasks>>()?
                    .unwrap_or_default();
                s.tasks = tasks.listed;
                s.omitted = tasks.omitted;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl<'de> Visitor<'de> for StatusFields {
    type Value = ConnectStatus;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a connector status object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<ConnectStatus, A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if !self.read(&key, &mut map)? {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(self.status)
    }
}

/// A task list read element by element: the first [`MAX_LISTED_TASKS`] in full, the rest only
/// for their state.
#[derive(Default)]
struct BoundedTasks {
    listed: Vec<TaskStatus>,
    omitted: TaskCounts,
}

impl<'de> Deserialize<'de> for BoundedTasks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Tasks;
        impl<'de> Visitor<'de> for Tasks {
            type Value = BoundedTasks;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of tasks")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BoundedTasks, A::Error> {
                #[derive(Deserialize)]
                struct StateOnly {
                    #[serde(default, deserialize_with = "null_as_default")]
                    state: String,
                }
                let mut tasks = BoundedTasks::default();
                while tasks.listed.len() < MAX_LISTED_TASKS {
                    match seq.next_element::<TaskStatus>()? {
                        Some(task) => tasks.listed.push(task),
                        None => return Ok(tasks),
                    }
                }
                while let Some(task) = seq.next_element::<StateOnly>()? {
                    tasks.omitted.add(&task.state);
                }
                Ok(tasks)
            }
        }
        d.deserialize_seq(Tasks)
    }
}

/// State of the connector instance as Kafka Connect reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct InstanceStatus {
    /// `RUNNING`, `FAILED`, ... (Kafka Connect's own words).
    #[serde(default, deserialize_with = "null_as_default")]
    pub state: String,
    /// `host:port` of the worker.
    #[serde(default, deserialize_with = "null_as_default")]
    pub worker_id: String,
    /// Java stack trace; empty when healthy.
    #[serde(default, deserialize_with = "null_as_default")]
    pub trace: String,
}

/// State of one task as Kafka Connect reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TaskStatus {
    /// Task id: a JSON number, or a string holding one (protobuf JSON may quote integers).
    #[serde(default, deserialize_with = "number_or_string")]
    pub id: i32,
    /// `RUNNING`, `FAILED`, ...
    #[serde(default, deserialize_with = "null_as_default")]
    pub state: String,
    /// `host:port` of the worker.
    #[serde(default, deserialize_with = "null_as_default")]
    pub worker_id: String,
    /// Java stack trace; empty when healthy.
    #[serde(default, deserialize_with = "null_as_default")]
    pub trace: String,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(i32),
        Text(String),
    }
    match Option::<Id>::deserialize(d)? {
        None => Ok(0),
        Some(Id::Number(n)) => Ok(n),
        Some(Id::Text(s)) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// Task counts by state; other states only add to `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskCounts {
    /// All tasks.
    pub total: usize,
    /// `RUNNING` tasks.
    pub running: usize,
    /// `FAILED` tasks.
    pub failed: usize,
    /// `PAUSED` tasks.
    pub paused: usize,
    /// `RESTARTING` tasks.
    pub restarting: usize,
    /// `UNASSIGNED` tasks.
    pub unassigned: usize,
}

impl TaskCounts {
    /// Counts tasks by exact, upper-case state, as Redpanda does.
    pub fn of<'a>(states: impl IntoIterator<Item = &'a str>) -> Self {
        let mut c = TaskCounts::default();
        for state in states {
            c.add(state);
        }
        c
    }

    /// Counts one more task.
    pub fn add(&mut self, state: &str) {
        let bump = |n: &mut usize| *n = n.saturating_add(1);
        bump(&mut self.total);
        match state {
            RUNNING => bump(&mut self.running),
            FAILED => bump(&mut self.failed),
            PAUSED => bump(&mut self.paused),
            RESTARTING => bump(&mut self.restarting),
            UNASSIGNED => bump(&mut self.unassigned),
            _ => {}
        }
    }

    /// Both counts together.
    pub fn plus(self, other: TaskCounts) -> TaskCounts {
        TaskCounts {
            total: self.total.saturating_add(other.total),
            running: self.running.saturating_add(other.running),
            failed: self.failed.saturating_add(other.failed),
            paused: self.paused.saturating_add(other.paused),
            restarting: self.restarting.saturating_add(other.restarting),
            unassigned: self.unassigned.saturating_add(other.unassigned),
        }
    }

    /// Tasks in a state none of the counters name.
    pub fn other(&self) -> usize {
        self.total.saturating_sub(
            self.running + self.failed + self.paused + self.restarting + self.unassigned,
        )
    }
}

const RUNNING: &str = "RUNNING";
const FAILED: &str = "FAILED";
const PAUSED: &str = "PAUSED";
const STOPPED: &str = "STOPPED";
const RESTARTING: &str = "RESTARTING";
const UNASSIGNED: &str = "UNASSIGNED";
const DESTROYED: &str = "DESTROYED";

impl ConnectStatus {
    /// Counts of all this connector's tasks by state, listed or not.
    pub fn task_counts(&self) -> TaskCounts {
        TaskCounts::of(self.tasks.iter().map(|t| t.state.as_str())).plus(self.omitted)
    }
}

/// Redpanda's holistic state: the first rule that matches wins.
pub fn holistic_state(status: &ConnectStatus) -> HolisticState {
    let c = status.connector.state.as_str();
    let t = status.task_counts();
    if c == RUNNING && t.total > 0 && t.running == t.total {
        HolisticState::Healthy
    } else if c == FAILED || (c == RUNNING && (t.total == 0 || t.failed == t.total)) {
        HolisticState::Unhealthy
    } else if c == RUNNING && t.total > 0 && t.failed > 0 && t.failed < t.total {
        HolisticState::Degraded
    } else if c == PAUSED {
        HolisticState::Paused
    } else if c == STOPPED {
        HolisticState::Stopped
    } else if c == RESTARTING || (t.total > 0 && t.restarting > 0) {
        HolisticState::Restarting
    } else if c == UNASSIGNED || (c == RUNNING && t.total > 0 && t.unassigned > 0) {
        HolisticState::Unassigned
    } else if c == DESTROYED {
        HolisticState::Destroyed
    } else {
        HolisticState::Unknown
    }
}

/// Redpanda's parsed errors: the connector entry first (at most one), then one per failed task.
pub fn parsed_errors(status: &ConnectStatus, state: HolisticState) -> Vec<ConnectorError> {
    let name = &status.name;
    let mut errors = Vec::new();
    let connector_trace = status.connector.trace.as_str();
    if matches!(state, HolisticState::Unhealthy | HolisticState::Degraded) {
        let t = status.task_counts();
        let title = format!(
            "Connector {name} is in {} state.",
            state.as_str().to_lowercase()
        );
        let default = if status.connector.state == FAILED {
            format!("Connector {name} is in failed state.")
        } else if t.total == 0 {
            format!("Connector {name} is in running state but has no tasks.")
        } else if t.failed == t.total {
            format!("Connector {name} is in running state. All tasks are in failed state.")
        } else {
            format!(
                "Connector {name} is in running state but has {} / {} failed tasks.",
                t.failed, t.total
            )
        };
        errors.push(error(title, content_from_trace(connector_trace, &default)));
    } else if !connector_trace.is_empty() {
        let title = format!("Connector {name} has an error");
        let content = content_from_trace(connector_trace, &title);
        errors.push(error(title, content));
    }
    for task in status.tasks.iter().filter(|t| t.state == FAILED) {
        let title = format!("Connector {name} Task {} is in failed state.", task.id);
        let content = content_from_trace(&task.trace, &title);
        errors.push(error(title, content));
    }
    errors
}

fn error(title: String, content: String) -> ConnectorError {
    ConnectorError {
        type_: ErrorType::Error,
        title,
        content,
    }
}

/// The human part of a Java stack trace: the message of the first `Caused by:` line, else of the
/// first line that is not a stack frame or a bare exception name; `default` when there is none.
pub fn content_from_trace(trace: &str, default: &str) -> String {
    if trace.is_empty() {
        return default.to_string();
    }
    let kept: Vec<&str> = trace
        .split('\n')
        .map(|line| line.trim_matches('\t'))
        .filter(|line| !line.ends_with("exception") && !line.ends_with(')'))
        .collect();
    let chosen = kept
        .iter()
        .find(|line| starts_with_ignore_ascii_case(line, "caused by"))
        .or_else(|| kept.first());
    match chosen {
        Some(line) => clean_line(line),
        None => default.to_string(),
    }
}

fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn clean_line(line: &str) -> String {
    let line = line
        .strip_prefix("Caused by:")
        .or_else(|| line.strip_prefix("caused by:"))
        .unwrap_or(line);
    match line.split_once(':') {
        Some((_, rest)) => rest.trim().to_string(),
        None => String::new(),
    }
}

/// Where the holistic state and errors of an [`Assessment`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The Data Plane API computed them.
    Server,
    /// The operator computed them with the same rules.
    Computed,
}

/// Holistic state and errors of one connector, however they were obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// Holistic state.
    pub state: HolisticState,
    /// Parsed errors.
    pub errors: Vec<ConnectorError>,
    /// Who computed them.
    pub origin: Origin,
}

/// Takes the server's holistic state and errors when it computed them, else computes both.
///
/// A server that left the state absent or `UNSPECIFIED` did not run its algorithm, so its `errors`
/// (an empty list, as the server always emits arrays) say nothing: both are computed then. When the
/// state is given but `errors` is absent, the errors are computed for that state.
pub fn assess(
    status: &ConnectStatus,
    server_state: Option<&str>,
    server_errors: Option<&[ServerError]>,
) -> Assessment {
    match server_state.and_then(holistic_state_from_wire) {
        Some(state) => Assessment {
            state,
            errors: match server_errors {
                Some(errors) => errors.iter().map(ServerError::to_status).collect(),
                None => parsed_errors(status, state),
            },
            origin: Origin::Server,
        },
        None => {
            let state = holistic_state(status);
            Assessment {
                state,
                errors: parsed_errors(status, state),
                origin: Origin::Computed,
            }
        }
    }
}

/// Wire name of a holistic state (`CONNECTOR_HOLISTIC_STATE_DEGRADED`); `None` for `UNSPECIFIED`
/// and for names this version does not know, which are then computed locally.
pub fn holistic_state_from_wire(name: &str) -> Option<HolisticState> {
    let word = name
        .strip_prefix("CONNECTOR_HOLISTIC_STATE_")
        .unwrap_or(name);
    HolisticState::ALL
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(word))
}

/// Wire name of a holistic state, as the Data Plane API renders it.
pub fn holistic_state_to_wire(state: HolisticState) -> String {
    format!("CONNECTOR_HOLISTIC_STATE_{}", state.as_str().to_uppercase())
}

/// One entry of the Data Plane API's `errors`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ServerError {
    /// `TYPE_ERROR`, `TYPE_WARNING` or `TYPE_UNSPECIFIED`.
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub type_: String,
    /// Title.
    #[serde(default, deserialize_with = "null_as_default")]
    pub title: String,
    /// Content.
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: String,
}

impl ServerError {
    /// As it goes into status. Only `TYPE_WARNING` is a warning: the server marks every parsed error
    /// `TYPE_ERROR`, so an unspecified type is treated as the error it almost certainly is.
    pub fn to_status(&self) -> ConnectorError {
        let warning = matches!(self.type_.as_str(), "TYPE_WARNING" | "WARNING");
        ConnectorError {
            type_: if warning {
                ErrorType::Warning
            } else {
                ErrorType::Error
            },
            title: self.title.clone(),
            content: self.content.clone(),
        }
    }
}

/// A sink `c` in `connector` state with tasks in these states (ids 0, 1, ...), for tests.
#[cfg(test)]
pub(crate) fn test_status(connector: &str, tasks: &[&str]) -> ConnectStatus {
    ConnectStatus {
        name: "c".into(),
        connector: InstanceStatus {
            state: connector.into(),
            ..Default::default()
        },
        tasks: tasks
            .iter()
            .enumerate()
            .map(|(i, s)| TaskStatus {
                id: i as i32,
                state: s.to_string(),
                ..Default::default()
            })
            .collect(),
        type_: "sink".into(),
        omitted: Default::default(),
    }
}

#[cfg(test)]
mod tests;
