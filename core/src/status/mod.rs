//! Status building, condition merging, diffing and transition Events: all pure.
//!
//! The reconciler gathers facts (the stored status, the object's generation and age, what the
//! probe found, the time) and this module decides what the status should be, whether it must be
//! written, and which Events the change deserves. Being pure, all of it is table-tested without a
//! server; timestamps are compared separately so a steady connector causes no writes.

use crate::crd::{
    ConfigStatus, ConnectorError, ConnectorInstance, ErrorType, HolisticState,
    ManagedConnectorStatus, OffsetsProgress, OffsetsStatus, OmittedTasks, OwnedConnector,
    PluginStatus, RestartStatus, SourceKind, TaskInstance,
};
use crate::health::{ConnectStatus, MAX_LISTED_TASKS, TaskCounts};
use crate::probe::{FailureKind, Observation};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use std::time::Duration;

/// Reason of the Stalled condition once automatic restarts are exhausted.
pub const GAVE_UP: &str = "RestartsExhausted";
/// Reason while deleting the connector of a resource being deleted fails and is retried.
pub const DELETE_FAILED: &str = "DeleteFailed";

/// The condition types the operator writes, in the order it writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionType {
    /// The connector is healthy (kstatus: Current; Argo CD: Healthy).
    Ready,
    /// The last call to the status source succeeded.
    Synced,
    /// A transition is under way (kstatus: InProgress).
    Reconciling,
    /// Needs attention (kstatus: Failed).
    Stalled,
}

impl ConditionType {
    /// The type as written in `status.conditions`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConditionType::Ready => "Ready",
            ConditionType::Synced => "Synced",
            ConditionType::Reconciling => "Reconciling",
            ConditionType::Stalled => "Stalled",
        }
    }
}

/// A condition's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionStatus {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown`.
    Unknown,
}

impl ConditionStatus {
    /// As written in `status.conditions`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }

    /// `True` or `False`.
    pub const fn from_bool(b: bool) -> Self {
        if b {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        }
    }

    /// Reads a stored status; anything but `True` and `False` is `Unknown`.
    pub fn parse(s: &str) -> Self {
        match s {
            "True" => ConditionStatus::True,
            "False" => ConditionStatus::False,
            _ => ConditionStatus::Unknown,
        }
    }
}

/// `Ready`, for comparing with stored conditions.
pub const READY: &str = ConditionType::Ready.as_str();
/// `Synced`.
pub const SYNCED: &str = ConditionType::Synced.as_str();
/// `Reconciling`.
pub const RECONCILING: &str = ConditionType::Reconciling.as_str();
/// `Stalled`.
pub const STALLED: &str = ConditionType::Stalled.as_str();

/// Largest trace kept in status, per connector or task.
pub const TRACE_LIMIT: usize = 4 * 1024;
/// Largest sum of all traces kept in one status.
pub const TRACE_BUDGET: usize = 32 * 1024;
/// Most errors listed in status; the rest are summarised in one Warning entry.
pub const MAX_ERRORS: usize = 20;
/// Longest error title kept.
pub const ERROR_TITLE_LIMIT: usize = 256;
/// Longest error content kept.
pub const ERROR_CONTENT_LIMIT: usize = 1024;
/// Longest condition message (Kubernetes allows 32768; people read the first line).
pub const MESSAGE_LIMIT: usize = 1024;

/// Operator-wide timing policy.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long after a resource's creation a missing connector counts as "not created yet".
    pub not_found_grace: Duration,
    /// How long the last known state is reported as current while the source fails.
    pub stale_after: Duration,
    /// `lastSyncTime` is refreshed at most this often when nothing else changes.
    pub heartbeat: Duration,
    /// How long a connector may run with no tasks, or wait for a worker, before it counts as
    /// stalled; zero: never.
    pub stall_after: Duration,
    /// How often each connector's topics are read; zero: never.
    pub topics_refresh: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            not_found_grace: Duration::from_secs(300),
            stale_after: Duration::from_secs(600),
            heartbeat: Duration::from_secs(300),
            stall_after: Duration::from_secs(300),
            topics_refresh: Duration::ZERO,
        }
    }
}

/// The resource the status is for.
#[derive(Debug, Clone)]
pub struct Subject {
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// `metadata.creationTimestamp`.
    pub created: Option<Timestamp>,
    /// Connector name that was (or is to be) probed.
    pub connector_name: String,
    /// Cluster name, for messages.
    pub cluster_name: String,
    /// Where the status is read.
    pub source: SourceKind,
}

/// What the reconcile found out this time. One lives per reconcile, on the stack: boxing the
/// probed status would only add an allocation.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// Nothing yet: the first probe is pending.
    NotProbed,
    /// `spec.suspend` is true: no probe.
    Suspended,
    /// A probe ran.
    Probed(Observation),
}

mod bounds;
mod conditions;
mod events;
mod outcome;
mod stall;
mod text;
mod topics;

use bounds::*;
pub use bounds::{bound_trace, cut, shrunk, task_counts};
use conditions::*;
pub use events::{EventSpec, needs_write, transition_events};
pub use stall::{
    NO_TASKS, OFFSETS_NOT_MOVING, UNASSIGNED_TOO_LONG, offsets_digest, progress, stuck,
};
pub use text::humanize;
use text::*;
pub use topics::{MAX_TOPICS, parse_topics, record_topics, topics_due};

/// What acting on the connector adds to its status ([`crate::manage::plan`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Management {
    /// `status.restarts` to record.
    pub restarts: Option<RestartStatus>,
    /// `status.config` to record.
    pub config: Option<ConfigStatus>,
    /// What the conditions should add.
    pub note: Option<Note>,
    /// `status.ownedConnector` to record.
    pub owned: Option<Box<OwnedConnector>>,
    /// `status.plugin` to record.
    pub plugin: Option<Box<PluginStatus>>,
    /// `status.offsets` to record.
    pub offsets: Option<Box<OffsetsStatus>>,
    /// `status.handledTopicsReset` to record.
    pub topics_reset: Option<String>,
    /// `status.offsetsProgress` to record, and `spec.offsets.stallAfter` when the offsets are
    /// watched (see [`stall::progress`]).
    pub progress: Option<(OffsetsProgress, Duration)>,
}

impl Management {
    /// Nothing decided: the stored parts stay.
    pub fn carry(stored: Option<&ManagedConnectorStatus>) -> Self {
        Management {
            restarts: stored.and_then(|s| s.restarts.clone()),
            config: stored.and_then(|s| s.config.clone()),
            note: None,
            owned: stored.and_then(|s| s.owned_connector.clone()),
            plugin: stored.and_then(|s| s.plugin.clone()),
            offsets: stored.and_then(|s| s.offsets.clone()),
            topics_reset: stored.and_then(|s| s.handled_topics_reset.clone()),
            progress: None,
        }
    }
}

/// How acting on the connector shows in the conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A command is under way: `Reconciling=True`, not stalled.
    Acting {
        /// Reason.
        reason: &'static str,
        /// Message.
        message: String,
    },
    /// Failed, and an automatic restart is scheduled: `Reconciling=True`, not stalled; the
    /// Ready message says when.
    Waiting {
        /// Reason.
        reason: &'static str,
        /// Message.
        message: String,
    },
    /// Paused or stopped as `spec.state` declares: `Ready=True`, nothing to wait for.
    AsDeclared {
        /// Message.
        message: String,
    },
    /// Automatic restarts are exhausted: `Stalled=True` (`RestartsExhausted`).
    GaveUp {
        /// Message.
        message: String,
    },
    /// A command failed: `Synced=False`; `Stalled=True` when a person must act.
    Failed {
        /// Reason.
        reason: String,
        /// Message (never a Secret value).
        message: String,
        /// Whether a person must act.
        attention: bool,
    },
}

/// The status the resource should have now, for a resource the operator only observes (or
/// whose management decided nothing).
pub fn desired_status(
    prev: Option<&ManagedConnectorStatus>,
    subject: &Subject,
    outcome: &Outcome,
    now: Timestamp,
    settings: &Settings,
) -> ManagedConnectorStatus {
    desired_status_managed(
        prev,
        subject,
        outcome,
        &Management::carry(prev),
        now,
        settings,
    )
}

/// The status the resource should have now, with what acting on the connector decided.
pub fn desired_status_managed(
    prev: Option<&ManagedConnectorStatus>,
    subject: &Subject,
    outcome: &Outcome,
    management: &Management,
    now: Timestamp,
    settings: &Settings,
) -> ManagedConnectorStatus {
    // What the previous status knows about the connector is carried over only while it describes
    // the same connector; after `spec.connectorName` changes it describes something else.
    let last_known = prev
        .filter(|p| p.connector_name.as_deref() == Some(subject.connector_name.as_str()))
        .cloned()
        .unwrap_or_default();
    let mut next = ManagedConnectorStatus {
        observed_generation: subject.generation,
        connector_name: Some(subject.connector_name.clone()),
        source: Some(subject.source),
        conditions: Vec::new(),
        ..last_known.clone()
    };
    let name = &subject.connector_name;
    let mut targets = match outcome {
        Outcome::Probed(Observation::Deferred(_)) if prev.is_some() => {
            // Nothing was asked, so nothing changed.
            return prev.cloned().unwrap_or_default();
        }
        Outcome::NotProbed | Outcome::Probed(Observation::Deferred(_)) => outcome::waiting(name),
        Outcome::Suspended => outcome::suspended(&last_known),
        Outcome::Probed(Observation::Found { status, assessment }) => {
            fill_connector(&mut next, status, &assessment.errors);
            next.holistic_state = Some(assessment.state);
            next.last_sync_time = Some(Time(now));
            let progress = management.progress.as_ref();
            next.stall = stall::track(last_known.stall.as_deref(), stuck(status), now)
                .or_else(|| stall::not_moving(progress, now))
                .map(Box::new);
            let mut targets = outcome::found(subject, assessment.state, &next);
            if let Some(s) = &next.stall {
                let limit = progress.map_or(settings.stall_after, |(_, limit)| *limit);
                stall::overlay(&mut targets, s, name, now, settings.stall_after, limit);
            }
            targets
        }
        Outcome::Probed(Observation::Failed(failure))
            if failure.kind == FailureKind::ConnectorNotFound =>
        {
            clear_connector(&mut next);
            next.last_sync_time = Some(Time(now));
            outcome::not_found(failure, subject, now, settings)
        }
        Outcome::Probed(Observation::Failed(failure)) if failure.kind.needs_attention() => {
            // Whether any answer about the connector (a status, or "no such connector") was
            // ever had: only then is there a Ready to keep.
            let ever_known = last_known.last_sync_time.is_some();
            let last_ready = find(&last_known.conditions, READY).filter(|_| ever_known);
            outcome::needs_attention(failure, last_ready)
        }
        Outcome::Probed(Observation::Failed(failure)) => {
            outcome::passing(failure, name, &last_known, now, settings)
        }
    };
    if let Outcome::Probed(_) = outcome {
        next.restarts = management.restarts.clone();
        next.config = management.config.clone();
        next.owned_connector = management.owned.clone();
        next.plugin = management.plugin.clone();
        next.offsets = management.offsets.clone();
        next.handled_topics_reset = management.topics_reset.clone();
        next.offsets_progress = management
            .progress
            .as_ref()
            .map(|(p, _)| Box::new(p.clone()));
        if let Some(note) = &management.note {
            overlay(&mut targets, note);
        }
    }
    next.conditions = merge_conditions(&last_known_or_prev(prev), targets, subject.generation, now);
    next
}

/// The status of a resource being deleted whose connector could not be deleted (it is retried):
/// everything last known stays, and Synced=False, Reconciling=True (`DeleteFailed`) say why the
/// resource does not go, so `kubectl get`, Argo CD and Flux show it, not only an Event.
pub fn delete_failed(
    prev: Option<&ManagedConnectorStatus>,
    generation: Option<i64>,
    message: &str,
    now: Timestamp,
) -> ManagedConnectorStatus {
    let stored = last_known_or_prev(prev);
    let targets = outcome::delete_failed(&stored, message);
    ManagedConnectorStatus {
        conditions: merge_conditions(&stored, targets, generation, now),
        ..prev.cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod trim_tests;
