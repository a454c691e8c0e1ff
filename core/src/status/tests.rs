use super::*;
use crate::health::{self, InstanceStatus, TaskStatus};
use crate::probe::Failure;

const T0: i64 = 1_700_000_000;

pub(super) fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(T0 + secs).expect("valid time")
}

pub(super) fn subject() -> Subject {
    Subject {
        generation: Some(3),
        created: Some(at(0)),
        connector_name: "orders".into(),
        cluster_name: "redpanda".into(),
        source: SourceKind::DataPlane,
    }
}

pub(super) fn found(connector: &str, tasks: &[&str]) -> Outcome {
    let status = ConnectStatus {
        name: "orders".into(),
        connector: InstanceStatus {
            state: connector.into(),
            worker_id: "w:8083".into(),
            trace: String::new(),
        },
        tasks: tasks
            .iter()
            .enumerate()
            .map(|(i, s)| TaskStatus {
                id: i as i32,
                state: s.to_string(),
                worker_id: "w:8083".into(),
                trace: if *s == "FAILED" {
                    "x.ConnectException: outer\nCaused by: java.net.ConnectException: Connection refused".into()
                } else {
                    String::new()
                },
            })
            .collect(),
        type_: "sink".into(),
        omitted: Default::default(),
    };
    let assessment = health::assess(&status, None, None);
    Outcome::Probed(Observation::Found { status, assessment })
}

pub(super) fn failed(kind: FailureKind) -> Outcome {
    Outcome::Probed(Observation::Failed(Failure::new(
        kind,
        format!("{} happened", kind.reason()),
    )))
}

fn cond<'a>(s: &'a ManagedConnectorStatus, t: &str) -> (&'a str, &'a str) {
    let c = find(&s.conditions, t).unwrap_or_else(|| panic!("no {t} condition"));
    (c.status.as_str(), c.reason.as_str())
}

/// The kstatus verdict, computed the way sigs.k8s.io/cli-utils/pkg/kstatus does.
fn kstatus(s: &ManagedConnectorStatus) -> &'static str {
    if cond(s, RECONCILING).0 == "True" {
        "InProgress"
    } else if cond(s, STALLED).0 == "True" {
        "Failed"
    } else if cond(s, READY).0 == "True" {
        "Current"
    } else {
        "InProgress"
    }
}

pub(super) fn build(
    prev: Option<&ManagedConnectorStatus>,
    outcome: &Outcome,
    now: i64,
) -> ManagedConnectorStatus {
    desired_status(prev, &subject(), outcome, at(now), &Settings::default())
}

#[test]
fn the_condition_table() {
    // situation, outcome, Ready (status, reason), Stalled, Reconciling, Synced, kstatus
    type Row<'a> = (
        &'a str,
        Outcome,
        (&'a str, &'a str),
        &'a str,
        &'a str,
        &'a str,
        &'a str,
    );
    let table: Vec<Row> = vec![
        (
            "not probed yet",
            Outcome::NotProbed,
            ("Unknown", "Probing"),
            "False",
            "True",
            "Unknown",
            "InProgress",
        ),
        (
            "healthy",
            found("RUNNING", &["RUNNING", "RUNNING"]),
            ("True", "Healthy"),
            "False",
            "False",
            "True",
            "Current",
        ),
        (
            "degraded",
            found("RUNNING", &["RUNNING", "FAILED"]),
            ("False", "Degraded"),
            "True",
            "False",
            "True",
            "Failed",
        ),
        (
            "unhealthy",
            found("FAILED", &[]),
            ("False", "Unhealthy"),
            "True",
            "False",
            "True",
            "Failed",
        ),
        (
            "destroyed",
            found("DESTROYED", &[]),
            ("False", "Destroyed"),
            "True",
            "False",
            "True",
            "Failed",
        ),
        (
            "restarting",
            found("RESTARTING", &[]),
            ("False", "Restarting"),
            "False",
            "True",
            "True",
            "InProgress",
        ),
        (
            "unassigned",
            found("UNASSIGNED", &[]),
            ("False", "Unassigned"),
            "False",
            "True",
            "True",
            "InProgress",
        ),
        (
            "paused",
            found("PAUSED", &["PAUSED"]),
            ("False", "Paused"),
            "False",
            "False",
            "True",
            "InProgress",
        ),
        (
            "stopped",
            found("STOPPED", &[]),
            ("False", "Stopped"),
            "False",
            "False",
            "True",
            "InProgress",
        ),
        (
            "unknown",
            found("RUNNING", &["RUNNING", "PAUSED"]),
            ("Unknown", "Unknown"),
            "False",
            "False",
            "True",
            "InProgress",
        ),
        (
            "suspended",
            Outcome::Suspended,
            ("True", "Suspended"),
            "False",
            "False",
            "Unknown",
            "Current",
        ),
    ];
    for (why, outcome, ready, stalled, reconciling, synced, ks) in table {
        let s = build(None, &outcome, 10);
        assert_eq!(cond(&s, READY), ready, "{why}: Ready");
        assert_eq!(cond(&s, STALLED).0, stalled, "{why}: Stalled");
        assert_eq!(cond(&s, RECONCILING).0, reconciling, "{why}: Reconciling");
        assert_eq!(cond(&s, SYNCED).0, synced, "{why}: Synced");
        assert_eq!(kstatus(&s), ks, "{why}: kstatus");
        assert_eq!(s.observed_generation, Some(3), "{why}");
        assert!(
            s.conditions
                .iter()
                .all(|c| c.observed_generation == Some(3)),
            "{why}"
        );
        assert_eq!(s.conditions.len(), 4, "{why}: one entry per type");
    }
}

#[test]
fn connector_not_found_is_expected_only_during_the_grace_period() {
    let young = build(None, &failed(FailureKind::ConnectorNotFound), 60);
    assert_eq!(cond(&young, READY), ("False", "ConnectorNotFound"));
    assert_eq!(cond(&young, RECONCILING).0, "True");
    assert_eq!(cond(&young, STALLED).0, "False");
    assert_eq!(cond(&young, SYNCED).0, "True");
    assert_eq!(kstatus(&young), "InProgress");

    let old = build(Some(&young), &failed(FailureKind::ConnectorNotFound), 301);
    assert_eq!(cond(&old, READY), ("False", "ConnectorNotFound"));
    assert_eq!(cond(&old, STALLED).0, "True");
    assert_eq!(cond(&old, RECONCILING).0, "False");
    assert_eq!(kstatus(&old), "Failed");
    assert!(old.connector.is_none() && old.tasks.is_empty() && old.holistic_state.is_none());
}

#[test]
fn lasting_failures_keep_ready_and_stall() {
    let healthy = build(None, &found("RUNNING", &["RUNNING"]), 10);
    for kind in [
        FailureKind::ClusterNotFound,
        FailureKind::CredentialsNotFound,
        FailureKind::CredentialsInvalid,
        FailureKind::CredentialsRejected,
        FailureKind::Unauthenticated,
        FailureKind::PermissionDenied,
        FailureKind::DataplaneUrlMissing,
        FailureKind::InvalidArgument,
        FailureKind::FeatureNotConfigured,
    ] {
        let s = build(Some(&healthy), &failed(kind), 40);
        assert_eq!(
            cond(&s, READY),
            ("True", "Healthy"),
            "{kind:?}: Ready unchanged"
        );
        assert_eq!(cond(&s, SYNCED), ("False", kind.reason()), "{kind:?}");
        assert_eq!(cond(&s, STALLED), ("True", kind.reason()), "{kind:?}");
        assert_eq!(kstatus(&s), "Failed", "{kind:?}");
        assert_eq!(s.tasks, healthy.tasks, "{kind:?}: last known tasks kept");

        // Before any status, also after the first visit wrote "Probing": Ready says the
        // error, so `kubectl get`, Argo CD and Flux do not show it as progress.
        let first_visit = build(None, &Outcome::NotProbed, 5);
        for prev in [None, Some(&first_visit)] {
            let fresh = build(prev, &failed(kind), 40);
            assert_eq!(
                cond(&fresh, READY),
                ("False", kind.reason()),
                "{kind:?}: Ready False without history (after {prev:?})"
            );
            assert_eq!(cond(&fresh, STALLED), ("True", kind.reason()), "{kind:?}");
            assert_eq!(kstatus(&fresh), "Failed");
        }
    }
}

#[test]
fn passing_failures_before_the_first_status_keep_probing() {
    let first_visit = build(None, &Outcome::NotProbed, 5);
    for kind in [
        FailureKind::DataPlaneUnavailable,
        FailureKind::ConnectUnavailable,
        FailureKind::InvalidResponse,
        FailureKind::TokenQuotaExceeded,
    ] {
        for prev in [None, Some(&first_visit)] {
            let s = build(prev, &failed(kind), 40);
            assert_eq!(cond(&s, READY), ("Unknown", "Probing"), "{kind:?}");
            assert_eq!(cond(&s, SYNCED), ("False", kind.reason()), "{kind:?}");
            assert_eq!(cond(&s, RECONCILING).0, "True", "{kind:?}");
            assert_eq!(cond(&s, STALLED).0, "False", "{kind:?}");
            assert_eq!(kstatus(&s), "InProgress", "{kind:?}");
            let ready = s.conditions.iter().find(|c| c.type_ == READY).unwrap();
            assert!(
                ready.message.contains("waiting for the first status"),
                "{ready:?}"
            );
        }
    }
}

#[test]
fn outages_keep_the_last_known_state_until_it_is_stale() {
    let degraded = build(None, &found("RUNNING", &["RUNNING", "FAILED"]), 10);
    let during = build(
        Some(&degraded),
        &failed(FailureKind::DataPlaneUnavailable),
        100,
    );
    assert_eq!(cond(&during, READY), ("False", "Degraded"));
    assert_eq!(cond(&during, STALLED).0, "True", "kstatus as last known");
    assert_eq!(cond(&during, SYNCED), ("False", "DataPlaneUnavailable"));
    assert_eq!(during.tasks, degraded.tasks);
    assert_eq!(during.errors, degraded.errors);
    assert_eq!(during.holistic_state, Some(HolisticState::Degraded));
    assert_eq!(
        during.last_sync_time, degraded.last_sync_time,
        "lastSyncTime is the last success"
    );

    let stale = build(
        Some(&during),
        &failed(FailureKind::DataPlaneUnavailable),
        10 + 601,
    );
    assert_eq!(cond(&stale, READY), ("Unknown", "StatusStale"));
    assert_eq!(cond(&stale, STALLED).0, "False");
    assert_eq!(stale.tasks, degraded.tasks, "data kept even when stale");

    let never = build(None, &failed(FailureKind::DataPlaneUnavailable), 10);
    assert_eq!(cond(&never, READY), ("Unknown", "Probing"));
    assert_eq!(kstatus(&never), "InProgress");
}

#[test]
fn last_transition_time_moves_only_when_status_changes() {
    let a = build(None, &found("RUNNING", &["RUNNING", "FAILED"]), 10);
    let b = build(
        Some(&a),
        &found("RUNNING", &["FAILED", "RUNNING", "FAILED"]),
        50,
    );
    let ltt = |s: &ManagedConnectorStatus, t| {
        find(&s.conditions, t)
            .map(|c| c.last_transition_time.0)
            .unwrap()
    };
    assert_eq!(
        ltt(&b, READY),
        at(10),
        "still False: time kept though the message changed"
    );
    let c = build(Some(&b), &found("RUNNING", &["RUNNING"]), 90);
    assert_eq!(ltt(&c, READY), at(90));
    assert_eq!(ltt(&c, STALLED), at(90));
    assert_eq!(ltt(&c, RECONCILING), at(10));
}

#[test]
fn steady_connector_needs_no_write_until_the_heartbeat() {
    let hb = Duration::from_secs(300);
    let a = build(None, &found("RUNNING", &["RUNNING"]), 10);
    let b = build(Some(&a), &found("RUNNING", &["RUNNING"]), 40);
    assert!(!needs_write(Some(&a), &b, hb), "only lastSyncTime moved");
    let c = build(Some(&a), &found("RUNNING", &["RUNNING"]), 10 + 300);
    assert!(needs_write(Some(&a), &c, hb), "heartbeat due");
    let d = build(Some(&a), &found("RUNNING", &["RUNNING", "FAILED"]), 40);
    assert!(needs_write(Some(&a), &d, hb));
    assert!(needs_write(None, &a, hb));
    let e = build(Some(&a), &failed(FailureKind::DataPlaneUnavailable), 40);
    let f = build(Some(&e), &failed(FailureKind::DataPlaneUnavailable), 70);
    assert!(needs_write(Some(&a), &e, hb));
    assert!(
        !needs_write(Some(&e), &f, hb),
        "an ongoing outage is written once"
    );
}

#[test]
fn a_renamed_connector_does_not_inherit_the_old_state() {
    let a = build(None, &found("RUNNING", &["RUNNING", "FAILED"]), 10);
    let mut renamed = subject();
    renamed.connector_name = "payments".into();
    renamed.generation = Some(4);
    let s = desired_status(
        Some(&a),
        &renamed,
        &failed(FailureKind::DataPlaneUnavailable),
        at(20),
        &Settings::default(),
    );
    assert!(s.tasks.is_empty() && s.holistic_state.is_none());
    assert_eq!(cond(&s, READY).0, "Unknown");
    assert_eq!(s.connector_name.as_deref(), Some("payments"));
}

#[test]
fn a_refused_status_is_shrunk_to_its_gist() {
    let full = build(
        None,
        &found("RUNNING", &["RUNNING", "FAILED", "RUNNING"]),
        10,
    );
    let small = shrunk(full.clone(), "HTTP 422 Invalid");
    assert!(small.tasks.is_empty());
    assert_eq!(small.omitted_tasks.as_ref().unwrap().count, 3);
    assert_eq!(
        task_counts(&small),
        task_counts(&full),
        "the counts survive"
    );
    assert_eq!(small.holistic_state, full.holistic_state);
    assert_eq!(small.tasks_ready, full.tasks_ready);
    assert_eq!(small.conditions, full.conditions);
    let last = small.errors.last().unwrap();
    assert_eq!(last.type_, ErrorType::Warning);
    assert!(last.content.contains("HTTP 422"));
}

#[test]
fn huge_connectors_keep_a_small_status() {
    let trace_of = |frames: usize| {
        format!(
            "x.ConnectException: boom\n{}Caused by: y.Error: the real cause",
            "\tat a.B.c(B.java:1)\n".repeat(frames)
        )
    };
    let trace = trace_of(50_000);
    assert!(trace.len() > 1_000_000);
    let task_trace = |i: i32| {
        if i < 4 {
            trace.clone()
        } else {
            trace_of(3_000)
        }
    };
    let status = ConnectStatus {
        name: "big".into(),
        connector: InstanceStatus {
            state: "RUNNING".into(),
            worker_id: "w".into(),
            trace: trace.clone(),
        },
        tasks: (0..500)
            .map(|i| TaskStatus {
                id: i,
                state: if i % 2 == 0 { "FAILED" } else { "RUNNING" }.into(),
                worker_id: "10.0.0.1:8083".into(),
                trace: if i % 2 == 0 {
                    task_trace(i)
                } else {
                    String::new()
                },
            })
            .collect(),
        type_: "sink".into(),
        omitted: Default::default(),
    };
    let assessment = health::assess(&status, None, None);
    let s = build(
        None,
        &Outcome::Probed(Observation::Found { status, assessment }),
        10,
    );
    let size = serde_json::to_vec(&s).unwrap().len();
    assert!(size < 256 * 1024, "status is {size} bytes");
    assert_eq!(s.tasks.len(), 500);
    assert_eq!(s.tasks_ready.as_deref(), Some("250/500"));
    assert!(s.tasks[0].trace.contains("[trace truncated: "));
    assert!(
        s.tasks[498].trace.starts_with("[trace omitted"),
        "budget spent"
    );
    assert_eq!(s.errors.len(), MAX_ERRORS + 1);
    assert_eq!(
        s.errors[1].content, "the real cause",
        "errors come from the whole trace"
    );
    assert_eq!(s.errors[MAX_ERRORS].type_, ErrorType::Warning);
    let kept = |t: &str| {
        if t.starts_with("[trace omitted") {
            0
        } else {
            t.len()
        }
    };
    let total: usize = s.tasks.iter().map(|t| kept(&t.trace)).sum::<usize>()
        + kept(&s.connector.as_ref().unwrap().trace);
    assert!(total <= TRACE_BUDGET, "{total} bytes of traces kept");
}

#[test]
fn cut_respects_char_boundaries() {
    assert_eq!(cut("héllo wörld", 5), "h…", "é would straddle the limit");
    assert_eq!(cut("héllo wörld", 6), "hé…");
    assert_eq!(cut("short", 10), "short");
    let mut budget = 100;
    assert_eq!(bound_trace("", &mut budget), "");
    assert_eq!(bound_trace("ééé", &mut budget), "ééé");
    assert_eq!(budget, 94);
}

#[test]
fn events_on_transitions_only() {
    let healthy = build(None, &found("RUNNING", &["RUNNING", "RUNNING"]), 10);
    let first = transition_events(None, &healthy);
    assert_eq!(first.len(), 1);
    assert!(!first[0].warning);
    assert_eq!(first[0].reason, "Healthy");

    let again = build(
        Some(&healthy),
        &found("RUNNING", &["RUNNING", "RUNNING"]),
        40,
    );
    assert!(
        transition_events(Some(&healthy), &again).is_empty(),
        "no Event per poll"
    );

    let degraded = build(
        Some(&healthy),
        &found("RUNNING", &["RUNNING", "FAILED"]),
        70,
    );
    let ev = transition_events(Some(&healthy), &degraded);
    assert_eq!(ev.len(), 1);
    assert!(ev[0].warning);
    assert_eq!(ev[0].reason, "Degraded");
    assert!(
        ev[0].note.contains("was Healthy") && ev[0].note.contains("Connection refused"),
        "{}",
        ev[0].note
    );

    let down = build(
        Some(&degraded),
        &failed(FailureKind::DataPlaneUnavailable),
        100,
    );
    let ev = transition_events(Some(&degraded), &down);
    assert_eq!(
        ev.iter()
            .map(|e| (e.warning, e.reason.as_str()))
            .collect::<Vec<_>>(),
        vec![(true, "DataPlaneUnavailable")]
    );
    let still_down = build(Some(&down), &failed(FailureKind::DataPlaneUnavailable), 130);
    assert!(transition_events(Some(&down), &still_down).is_empty());
    let back = build(
        Some(&still_down),
        &found("RUNNING", &["RUNNING", "RUNNING"]),
        160,
    );
    let ev = transition_events(Some(&still_down), &back);
    let reasons: Vec<_> = ev.iter().map(|e| (e.warning, e.reason.as_str())).collect();
    assert_eq!(reasons, vec![(false, "Healthy"), (false, "SyncRecovered")]);

    let missing = build(None, &failed(FailureKind::ConnectorNotFound), 10);
    let ev = transition_events(None, &missing);
    assert_eq!(
        ev.iter().map(|e| e.reason.as_str()).collect::<Vec<_>>(),
        vec!["ConnectorNotFound"]
    );
}

/// Synced says which source answered: a Kafka Connect worker is not "the Data Plane API".
#[test]
fn synced_names_the_source_that_answered() {
    for (source, name) in [
        (SourceKind::DataPlane, "the Data Plane API"),
        (SourceKind::KafkaConnect, "the Kafka Connect REST API"),
    ] {
        let subject = Subject {
            source,
            ..subject()
        };
        for (outcome, said) in [
            (
                found("RUNNING", &["RUNNING"]),
                "answered with the connector's status",
            ),
            (
                failed(FailureKind::ConnectorNotFound),
                "answered: no such connector",
            ),
        ] {
            let s = desired_status(None, &subject, &outcome, at(60), &Settings::default());
            let synced = find(&s.conditions, SYNCED).expect("Synced");
            assert_eq!(synced.message, format!("{name} {said}"), "{source:?}");
        }
    }
}

#[test]
fn a_failed_deletion_keeps_what_was_known_and_says_why_the_resource_stays() {
    let healthy = build(None, &found("RUNNING", &["RUNNING"]), 10);
    let s = delete_failed(
        Some(&healthy),
        Some(4),
        "could not delete connector orders: 503",
        at(20),
    );
    assert_eq!(
        cond(&s, READY),
        ("True", "Healthy"),
        "the connector still runs"
    );
    assert_eq!(cond(&s, SYNCED), ("False", DELETE_FAILED));
    assert_eq!(cond(&s, RECONCILING), ("True", DELETE_FAILED));
    assert_eq!(cond(&s, STALLED), ("False", "Healthy"));
    assert_eq!(kstatus(&s), "InProgress", "retried: not Failed");
    let ready = find(&s.conditions, READY).unwrap();
    assert_eq!(
        ready.last_transition_time,
        Time(at(10)),
        "Ready did not change"
    );
    let synced = find(&s.conditions, SYNCED).unwrap();
    assert_eq!(synced.last_transition_time, Time(at(20)));
    assert!(synced.message.contains("503"), "{}", synced.message);
    assert_eq!(s.holistic_state, healthy.holistic_state);
    assert_eq!(s.tasks, healthy.tasks);
    assert!(
        s.conditions
            .iter()
            .all(|c| c.observed_generation == Some(4))
    );

    let never = delete_failed(None, Some(1), "no credentials", at(5));
    assert_eq!(cond(&never, READY), ("Unknown", DELETE_FAILED));
    assert_eq!(cond(&never, STALLED), ("False", DELETE_FAILED));
    assert_eq!(never.conditions.len(), 4);
}
