use super::*;
use crate::crd::OffsetsSpec;
use crate::probe::FailureKind;

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

fn ann(value: Option<&str>) -> BTreeMap<String, String> {
    value
        .map(|v| (OFFSETS_ANNOTATION.to_string(), v.to_string()))
        .into_iter()
        .collect()
}

fn decide_with(
    value: Option<&str>,
    stored: Option<&OffsetsStatus>,
    source: SourceKind,
    state: Option<&str>,
    spec: &ManagedConnectorSpec,
) -> Decision {
    decide(&Inputs {
        annotations: &ann(value),
        resource: "orders",
        spec,
        connector: "orders-sink",
        stored,
        source,
        state,
        now: now(),
    })
}

fn stored(request: &str, result: &str) -> OffsetsStatus {
    OffsetsStatus {
        request: request.into(),
        operation: "alter".into(),
        result: result.into(),
        message: "before".into(),
        partitions: None,
        config_map: None,
        time: Time(Timestamp::from_second(1_700_000_000).unwrap()),
    }
}

#[test]
fn decision_table() {
    use SourceKind::{DataPlane, KafkaConnect};
    let spec = ManagedConnectorSpec::default();
    let done = stored("alter", SUCCEEDED);
    let waiting = stored("alter", WAITING_FOR_STOP);
    let retrying = stored("list", RETRYING);
    // (case, value, stored, source, state) -> Run(operation) | Record(result, event?) | Idle
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a OffsetsStatus>,
        SourceKind,
        Option<&'a str>,
        &'a str,
    );
    let table: [Case; 13] = [
        (
            "no annotation",
            None,
            None,
            KafkaConnect,
            Some("RUNNING"),
            "idle",
        ),
        (
            "list while running",
            Some("list"),
            None,
            KafkaConnect,
            Some("RUNNING"),
            "run list",
        ),
        (
            "list again with a suffix",
            Some("list:2"),
            Some(&done),
            KafkaConnect,
            Some("PAUSED"),
            "run list",
        ),
        (
            "alter while running waits",
            Some("alter"),
            None,
            KafkaConnect,
            Some("RUNNING"),
            "record WaitingForStop event",
        ),
        (
            "still waiting: no second Event",
            Some("alter"),
            Some(&waiting),
            KafkaConnect,
            Some("PAUSED"),
            "record WaitingForStop",
        ),
        (
            "alter once stopped",
            Some("alter"),
            Some(&waiting),
            KafkaConnect,
            Some("STOPPED"),
            "run alter",
        ),
        (
            "reset once stopped",
            Some("reset"),
            None,
            KafkaConnect,
            Some("STOPPED"),
            "run reset",
        ),
        (
            "a final result is not run again",
            Some("alter"),
            Some(&done),
            KafkaConnect,
            Some("STOPPED"),
            "idle",
        ),
        (
            "a retried one runs again",
            Some("list"),
            Some(&retrying),
            KafkaConnect,
            Some("RUNNING"),
            "run list",
        ),
        (
            "state unknown: later",
            Some("reset"),
            None,
            KafkaConnect,
            None,
            "idle",
        ),
        (
            "unknown word",
            Some("rewind"),
            None,
            KafkaConnect,
            Some("STOPPED"),
            "record Invalid event",
        ),
        (
            "the Data Plane has no offsets API",
            Some("list"),
            None,
            DataPlane,
            Some("RUNNING"),
            "record NotSupported event",
        ),
        (
            "Data Plane reset while stopped",
            Some("reset:1"),
            None,
            DataPlane,
            Some("STOPPED"),
            "record NotSupported event",
        ),
    ];
    for (case, value, stored, source, state, want) in table {
        let got = match decide_with(value, stored, source, state, &spec) {
            Decision::Idle => "idle".to_string(),
            Decision::Run { operation, .. } => format!("run {}", operation.word()),
            Decision::Record(s, event) => {
                assert!(
                    !is_final(&s.result) || s.request == value.unwrap_or(""),
                    "{case}"
                );
                match event {
                    Some(e) => {
                        assert!(e.warning, "{case}");
                        assert_eq!(e.reason, format!("Offsets{}", s.result), "{case}");
                        format!("record {} event", s.result)
                    }
                    None => format!("record {}", s.result),
                }
            }
        };
        assert_eq!(got, want, "{case}");
    }
}

#[test]
fn messages_say_what_to_do() {
    let spec = ManagedConnectorSpec::default();
    let Decision::Record(s, _) = decide_with(
        Some("alter"),
        None,
        SourceKind::KafkaConnect,
        Some("RUNNING"),
        &spec,
    ) else {
        panic!("waits")
    };
    assert!(s.message.contains("spec.state: Stopped"), "{}", s.message);
    assert!(s.message.contains("RUNNING"), "{}", s.message);
    let Decision::Record(s, _) = decide_with(
        Some("list"),
        None,
        SourceKind::DataPlane,
        Some("RUNNING"),
        &spec,
    ) else {
        panic!("not supported")
    };
    assert!(s.message.contains("no offsets endpoint"), "{}", s.message);
}

#[test]
fn the_config_map_is_the_specs_or_named_after_the_resource() {
    let default = ManagedConnectorSpec::default();
    let named = ManagedConnectorSpec {
        offsets: Some(Box::new(OffsetsSpec {
            list_to_config_map: Some("out".into()),
            alter_from_config_map: Some("in".into()),
            stall_after: None,
        })),
        ..Default::default()
    };
    let cm = |value, spec| match decide_with(
        Some(value),
        None,
        SourceKind::KafkaConnect,
        Some("STOPPED"),
        spec,
    ) {
        Decision::Run { config_map, .. } => config_map,
        other => panic!("{other:?}"),
    };
    assert_eq!(cm("list", &default).as_deref(), Some("orders-offsets"));
    assert_eq!(cm("alter", &default).as_deref(), Some("orders-offsets"));
    assert_eq!(cm("list", &named).as_deref(), Some("out"));
    assert_eq!(cm("alter", &named).as_deref(), Some("in"));
    assert_eq!(cm("reset", &named), None);
    let long = "a".repeat(253);
    let name = config_map_name(None, &long);
    assert_eq!(name.len(), 253);
    assert!(name.ends_with("a-offsets"));
    assert_eq!(
        config_map_name(None, &format!("{}-x", "b".repeat(244))).len(),
        252
    );
}

#[test]
fn parse_checks_the_shape_and_bounds() {
    let ok = br#"{"offsets":[{"partition":{"filename":"/a"},"offset":{"position":3}},{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":null}]}"#;
    let o = parse(ok).unwrap();
    assert_eq!(o.partitions, 2);
    assert_eq!(parse(br#"{"offsets":[]}"#).unwrap().partitions, 0);
    let bad: [(&[u8], &str); 5] = [
        (b"not json", "not JSON"),
        (br#"{"offset":[]}"#, "no \"offsets\" list"),
        (br#"{"offsets":[{"partition":"x","offset":{}}]}"#, "entry 0"),
        (br#"{"offsets":[{"partition":{}}]}"#, "entry 0"),
        (
            br#"{"offsets":[{"partition":{},"offset":{}},{"partition":{},"offset":7}]}"#,
            "entry 1",
        ),
    ];
    for (text, want) in bad {
        let e = parse(text).unwrap_err();
        assert!(e.contains(want), "{e}");
    }
    // A value a tenant wrote is not quoted back.
    let e = parse(br#"{"offsets": "s3cr3t"}"#).unwrap_err();
    assert!(!e.contains("s3cr3t"), "{e}");
    let e = parse(b"{\"offsets\": s3cr3t}").unwrap_err();
    assert!(!e.contains("s3cr3t"), "{e}");
    let big = vec![b' '; MAX_OFFSETS_BYTES + 1];
    assert!(parse(&big).unwrap_err().contains("more than"));
    let many = format!(
        "{{\"offsets\":[{}]}}",
        vec![r#"{"partition":{},"offset":{}}"#; MAX_PARTITIONS + 1].join(",")
    );
    assert!(parse(many.as_bytes()).unwrap_err().contains("partitions"));
}

#[test]
fn render_is_indented_and_reads_back() {
    let o =
        parse(br#"{"offsets":[{"partition":{"filename":"/a"},"offset":{"position":3}}]}"#).unwrap();
    let text = render(&o).unwrap();
    assert!(text.contains("\n  \"offsets\""), "{text}");
    assert_eq!(parse(text.as_bytes()).unwrap(), o);
}

#[test]
fn finished_says_what_happened_and_whether_it_is_final() {
    let (s, e) = finished("list", Operation::List, Some("cm"), "c", Ok(Some(3)), now());
    assert_eq!((s.result.as_str(), s.partitions), (SUCCEEDED, Some(3)));
    assert!(!e.warning);
    assert_eq!(e.reason, "OffsetsSucceeded");
    assert!(
        e.note.contains("3 partitions") && e.note.contains("ConfigMap cm"),
        "{}",
        e.note
    );
    let (s, _) = finished("reset", Operation::Reset, None, "c", Ok(None), now());
    assert_eq!(s.message, "reset the offsets of connector c");
    let refused = Failure::new(FailureKind::InvalidArgument, "unknown partition");
    let (s, e) = finished(
        "alter",
        Operation::Alter,
        Some("cm"),
        "c",
        Err(refused),
        now(),
    );
    assert_eq!(s.result, FAILED);
    assert!(is_final(&s.result));
    assert!(
        e.warning && e.note.contains("unknown partition"),
        "{}",
        e.note
    );
    let down = Failure::new(FailureKind::ConnectUnavailable, "connection refused");
    let (s, _) = finished("alter", Operation::Alter, Some("cm"), "c", Err(down), now());
    assert_eq!(s.result, RETRYING);
    assert!(!is_final(&s.result));
}

#[test]
fn topics_reset_once_per_value() {
    let ann: BTreeMap<String, String> =
        [(RESET_TOPICS_ANNOTATION.to_string(), "1".to_string())].into();
    assert_eq!(topics_reset(&ann, None).as_deref(), Some("1"));
    assert_eq!(topics_reset(&ann, Some("0")).as_deref(), Some("1"));
    assert_eq!(topics_reset(&ann, Some("1")), None);
    assert_eq!(topics_reset(&BTreeMap::new(), None), None);
    assert!(wants(&ann));
    assert!(!wants(&BTreeMap::new()));
}
