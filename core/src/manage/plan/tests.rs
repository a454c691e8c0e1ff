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
        restart_policy: Some(Box::new(crate::crd::RestartPolicy {
            type_: crate::crd::RestartPolicyType::OnFailure,
            max_restarts: max,
            ..Default::default()
        })),
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
        i.refused = Some((CONFIG_REJECTED, "the configuration was refused: HTTP 500"));
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
