use super::*;
use crate::health::{ConnectStatus, InstanceStatus, TaskStatus};
use crate::probe::Report;

fn found(state: &str) -> Observation {
    let status = ConnectStatus {
        name: "c".into(),
        connector: InstanceStatus {
            state: state.into(),
            ..Default::default()
        },
        type_: "sink".into(),
        ..Default::default()
    };
    Report::from_connect(status).assess()
}

fn names(list: &[&str]) -> HashSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn modes_decide_by_group_size() {
    let table = [
        (BatchMode::Auto, 1, false),
        (BatchMode::Auto, 2, true),
        (BatchMode::Always, 1, true),
        (BatchMode::Always, 0, false),
        (BatchMode::Never, 100, false),
    ];
    for (mode, members, want) in table {
        assert_eq!(batched(mode, members), want, "{mode:?} with {members}");
    }
}

#[test]
fn a_snapshot_answers_only_for_what_it_considered() {
    let snapshot = Snapshot {
        considered: names(&["a", "c"]),
        result: Ok([("a".to_string(), found("RUNNING"))].into_iter().collect()),
    };
    assert!(matches!(
        snapshot.observe("a"),
        Some(Observation::Found { .. })
    ));
    match snapshot.observe("c") {
        Some(Observation::Failed(f)) => assert_eq!(f.kind, FailureKind::ConnectorNotFound),
        other => panic!("{other:?}"),
    }
    assert!(
        snapshot.observe("new").is_none(),
        "not considered: read alone"
    );
}

#[test]
fn only_members_whose_connector_changed_are_triggered() {
    let members: HashMap<ObjectRef<ManagedConnector>, Member> = ["a", "b", "c"]
        .into_iter()
        .map(|n| {
            (
                ObjectRef::new(&format!("m-{n}")).within("ns"),
                Member {
                    connector: n.to_string(),
                    poll: Duration::from_secs(30),
                },
            )
        })
        .collect();
    let snapshot = |states: &[(&str, &str)]| Snapshot {
        considered: names(&["a", "b", "c"]),
        result: Ok(states
            .iter()
            .map(|(n, s)| (n.to_string(), found(s)))
            .collect()),
    };
    let first = snapshot(&[("a", "RUNNING"), ("b", "RUNNING"), ("c", "RUNNING")]);
    assert_eq!(
        changed_members(&members, None, &first).len(),
        3,
        "all at first"
    );
    let next = snapshot(&[("a", "RUNNING"), ("b", "PAUSED")]);
    let mut changed: Vec<String> = changed_members(&members, Some(&first), &next)
        .into_iter()
        .map(|r| r.name)
        .collect();
    changed.sort();
    assert_eq!(changed, ["m-b", "m-c"], "b changed state, c disappeared");
    let failed = Snapshot {
        considered: names(&["a", "b", "c"]),
        result: Err(Failure::new(FailureKind::DataPlaneUnavailable, "503")),
    };
    assert_eq!(changed_members(&members, Some(&next), &failed).len(), 3);
    assert!(changed_members(&members, Some(&failed), &failed).is_empty());
}

#[test]
fn a_failed_listing_fails_every_member_without_not_found() {
    let snapshot = Snapshot {
        considered: names(&["a"]),
        result: Err(Failure::new(FailureKind::DataPlaneUnavailable, "HTTP 503")),
    };
    match snapshot.observe("a") {
        Some(Observation::Failed(f)) => assert_eq!(f.kind, FailureKind::DataPlaneUnavailable),
        other => panic!("{other:?}"),
    }
}

#[test]
fn healthy_traces_are_dropped_unhealthy_kept() {
    let status = |state: &str| ConnectStatus {
        name: "x".into(),
        connector: InstanceStatus {
            state: state.into(),
            worker_id: "w".into(),
            trace: "old trace".into(),
        },
        tasks: vec![TaskStatus {
            id: 0,
            state: state.into(),
            worker_id: "w".into(),
            trace: "task trace".into(),
        }],
        omitted: Default::default(),
        type_: "sink".into(),
    };
    match Report::from_connect(status("RUNNING")).assess() {
        Observation::Found { status, .. } => {
            assert!(status.connector.trace.is_empty() && status.tasks[0].trace.is_empty())
        }
        other => panic!("{other:?}"),
    }
    match Report::from_connect(status("FAILED")).assess() {
        Observation::Found { status, .. } => assert_eq!(status.tasks[0].trace, "task trace"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn pollers_started_together_spread_their_listings_over_the_interval() {
    for groups in 1..=64u32 {
        let mut phases: Vec<f64> = (0..groups).map(phase).collect();
        assert!(phases.iter().all(|p| (0.0..1.0).contains(p)), "{phases:?}");
        phases.sort_by(f64::total_cmp);
        let wrap = 1.0 - phases[phases.len() - 1] + phases[0];
        let largest = phases.windows(2).map(|w| w[1] - w[0]).fold(wrap, f64::max);
        let even = 1.0 / f64::from(groups);
        assert!(
            largest < 2.0 * even,
            "{groups} groups: a gap of {largest:.3} of the interval, even is {even:.3}"
        );
    }
}
