//! Stuck connectors over time, through the whole status (the public entry point).

use super::super::*;
use crate::health;

const T0: i64 = 1_700_000_000;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(T0 + secs).expect("valid time")
}

fn found(connector: &str, tasks: &[&str]) -> Outcome {
    let status = ConnectStatus {
        name: "orders".into(),
        type_: "source".into(),
        ..health::test_status(connector, tasks)
    };
    let assessment = health::assess(&status, None, None);
    Outcome::Probed(Observation::Found { status, assessment })
}

fn subject() -> Subject {
    Subject {
        generation: Some(1),
        created: Some(at(0)),
        connector_name: "orders".into(),
        cluster_name: "redpanda".into(),
        source: SourceKind::KafkaConnect,
    }
}

/// (Ready status, Ready reason, Reconciling, Stalled).
fn verdict(s: &ManagedConnectorStatus) -> (String, String, String, String) {
    let c = |t: &str| {
        s.conditions
            .iter()
            .find(|c| c.type_ == t)
            .map(|c| (c.status.clone(), c.reason.clone()))
            .unwrap()
    };
    (c(READY).0, c(READY).1, c(RECONCILING).0, c(STALLED).0)
}

fn run(steps: &[(i64, Outcome)], settings: &Settings) -> Vec<ManagedConnectorStatus> {
    let mut prev: Option<ManagedConnectorStatus> = None;
    let mut out = Vec::new();
    for (t, outcome) in steps {
        let next = desired_status(prev.as_ref(), &subject(), outcome, at(*t), settings);
        out.push(next.clone());
        prev = Some(next);
    }
    out
}

fn v(
    ready: &str,
    reason: &str,
    reconciling: &str,
    stalled: &str,
) -> (String, String, String, String) {
    (
        ready.into(),
        reason.into(),
        reconciling.into(),
        stalled.into(),
    )
}

#[test]
fn running_with_no_tasks_is_on_the_way_then_stalled() {
    let settings = Settings::default(); // 5 minutes
    let s = run(
        &[
            (0, found("RUNNING", &[])),
            (240, found("RUNNING", &[])),
            (301, found("RUNNING", &[])),
            (400, found("RUNNING", &["RUNNING"])),
        ],
        &settings,
    );
    assert_eq!(
        verdict(&s[0]),
        v("False", "Unhealthy", "True", "False"),
        "a new connector gets its tasks"
    );
    assert_eq!(s[0].stall.as_ref().unwrap().kind, "NoTasks");
    assert_eq!(verdict(&s[1]), v("False", "Unhealthy", "True", "False"));
    assert_eq!(s[1].stall, s[0].stall, "the start is kept");
    assert_eq!(verdict(&s[2]), v("False", NO_TASKS, "False", "True"));
    let ready = s[2].conditions.iter().find(|c| c.type_ == READY).unwrap();
    assert!(
        ready
            .message
            .contains("has been running with no tasks for 301s (longer than 5m)"),
        "{}",
        ready.message
    );
    assert_eq!(verdict(&s[3]), v("True", "Healthy", "False", "False"));
    assert_eq!(s[3].stall, None);
    // One Warning when it became stalled, none while it stays so.
    let events = transition_events(Some(&s[1]), &s[2]);
    assert!(
        events.iter().any(|e| e.warning && e.reason == NO_TASKS),
        "{events:?}"
    );
    assert!(transition_events(Some(&s[2]), &s[2]).is_empty());
}

#[test]
fn unassigned_for_too_long_is_stalled_and_another_shape_starts_the_clock_again() {
    let settings = Settings {
        stall_after: std::time::Duration::from_secs(60),
        ..Settings::default()
    };
    let s = run(
        &[
            (0, found("UNASSIGNED", &[])),
            (59, found("UNASSIGNED", &[])),
            (61, found("UNASSIGNED", &[])),
            // Assigned now, its task not yet: another shape, a new start.
            (70, found("RUNNING", &["UNASSIGNED"])),
            (100, found("RUNNING", &["UNASSIGNED"])),
            (131, found("RUNNING", &["UNASSIGNED"])),
        ],
        &settings,
    );
    assert_eq!(verdict(&s[0]), v("False", "Unassigned", "True", "False"));
    assert_eq!(verdict(&s[1]), v("False", "Unassigned", "True", "False"));
    assert_eq!(
        verdict(&s[2]),
        v("False", UNASSIGNED_TOO_LONG, "False", "True")
    );
    assert_eq!(
        s[3].stall.as_ref().unwrap().since.0,
        at(0),
        "the same kind keeps its start"
    );
    assert_eq!(
        verdict(&s[5]),
        v("False", UNASSIGNED_TOO_LONG, "False", "True")
    );
}

#[test]
fn zero_turns_the_check_off_and_failed_tasks_are_not_stuck() {
    let off = Settings {
        stall_after: std::time::Duration::ZERO,
        ..Settings::default()
    };
    let s = run(
        &[(0, found("RUNNING", &[])), (9_999, found("RUNNING", &[]))],
        &off,
    );
    assert_eq!(
        verdict(&s[1]),
        v("False", "Unhealthy", "False", "True"),
        "as assessed"
    );
    let s = run(
        &[
            (0, found("RUNNING", &["FAILED", "UNASSIGNED"])),
            (9_999, found("PAUSED", &["PAUSED"])),
        ],
        &Settings::default(),
    );
    assert_eq!(s[0].stall, None, "a failed task says what is wrong itself");
    assert_eq!(s[1].stall, None);
}

#[test]
fn offsets_digest_ignores_partition_order_and_sees_a_change() {
    let a = serde_json::json!({"offsets": [
        {"partition": {"f": "a"}, "offset": {"position": 1}},
        {"partition": {"f": "b"}, "offset": {"position": 2}}]});
    let reordered = serde_json::json!({"offsets": [
        {"partition": {"f": "b"}, "offset": {"position": 2}},
        {"partition": {"f": "a"}, "offset": {"position": 1}}]});
    let moved = serde_json::json!({"offsets": [
        {"partition": {"f": "a"}, "offset": {"position": 3}},
        {"partition": {"f": "b"}, "offset": {"position": 2}}]});
    assert_eq!(offsets_digest(&a), offsets_digest(&reordered));
    assert_ne!(offsets_digest(&a), offsets_digest(&moved));
    assert_eq!(offsets_digest(&a).len(), 16);
    let p = progress(None, offsets_digest(&a), at(0));
    assert_eq!(p.changed_time, Time(at(0)));
    assert_eq!(
        progress(Some(&p), offsets_digest(&a), at(50)),
        p,
        "same: keeps its time"
    );
    assert_eq!(
        progress(Some(&p), offsets_digest(&moved), at(50)).changed_time,
        Time(at(50))
    );
}

#[test]
fn offsets_that_do_not_move_for_the_specs_limit_are_stalled() {
    let settings = Settings::default();
    let limit = Duration::from_secs(600);
    let watched = |changed: i64| Management {
        progress: Some((
            OffsetsProgress {
                digest: "d".into(),
                changed_time: Time(at(changed)),
            },
            limit,
        )),
        ..Default::default()
    };
    let step = |prev: Option<&ManagedConnectorStatus>, t: i64, m: &Management| {
        desired_status_managed(
            prev,
            &subject(),
            &found("RUNNING", &["RUNNING"]),
            m,
            at(t),
            &settings,
        )
    };
    let s0 = step(None, 0, &watched(0));
    assert_eq!(verdict(&s0), v("True", "Healthy", "False", "False"));
    assert!(s0.stall.is_none());
    assert_eq!(s0.offsets_progress.as_ref().unwrap().digest, "d");
    let s1 = step(Some(&s0), 599, &watched(0));
    assert_eq!(
        verdict(&s1),
        v("True", "Healthy", "False", "False"),
        "not yet"
    );
    let s2 = step(Some(&s1), 601, &watched(0));
    assert_eq!(
        verdict(&s2),
        v("False", OFFSETS_NOT_MOVING, "False", "True"),
        "past the limit: stalled, whatever --stall-after says"
    );
    assert_eq!(s2.stall.as_ref().unwrap().since, Time(at(0)));
    let message = &s2
        .conditions
        .iter()
        .find(|c| c.type_ == READY)
        .unwrap()
        .message;
    assert!(
        message.contains("without its offsets changing for 601s (longer than 10m)"),
        "{message}"
    );
    let events = transition_events(Some(&s1), &s2);
    assert!(
        events
            .iter()
            .any(|e| e.warning && e.reason == OFFSETS_NOT_MOVING)
    );
    // They moved: healthy again.
    let s3 = step(Some(&s2), 620, &watched(615));
    assert_eq!(verdict(&s3), v("True", "Healthy", "False", "False"));
    assert!(s3.stall.is_none());
    // Not watched any more (the option removed, the connector paused): nothing kept.
    let s4 = step(Some(&s3), 9999, &Management::default());
    assert!(s4.offsets_progress.is_none() && s4.stall.is_none());
}
