use super::*;

#[test]
fn tasks_beyond_the_listed_ones_are_counted_and_still_decide_the_state() {
    let tasks: Vec<String> = (0..1500)
        .map(|i| {
            let state = if (1200..1203).contains(&i) {
                "FAILED"
            } else {
                "RUNNING"
            };
            format!(r#"{{"id":{i},"state":"{state}","worker_id":"w","trace":"t{i}"}}"#)
        })
        .collect();
    let body = format!(
        r#"{{"name":"big","connector":{{"state":"RUNNING"}},"tasks":[{}]}}"#,
        tasks.join(",")
    );
    let status: ConnectStatus = serde_json::from_str(&body).unwrap();
    assert_eq!(status.tasks.len(), MAX_LISTED_TASKS);
    assert_eq!(status.tasks[999].id, 999);
    assert_eq!(status.omitted.total, 500);
    assert_eq!(status.omitted.failed, 3);
    let all = status.task_counts();
    assert_eq!((all.total, all.running, all.failed), (1500, 1497, 3));
    assert_eq!(
        holistic_state(&status),
        HolisticState::Degraded,
        "failed tasks past the list count"
    );
}
use HolisticState::*;

fn status(connector: &str, tasks: &[&str]) -> ConnectStatus {
    test_status(connector, tasks)
}

#[test]
fn holistic_state_rules_in_order() {
    let table: &[(&str, &[&str], HolisticState, &str)] = &[
        ("RUNNING", &["RUNNING"], Healthy, "rule 1"),
        (
            "RUNNING",
            &["RUNNING", "RUNNING", "RUNNING"],
            Healthy,
            "rule 1, many",
        ),
        ("FAILED", &[], Unhealthy, "rule 2: connector failed"),
        (
            "FAILED",
            &["RUNNING", "RUNNING"],
            Unhealthy,
            "rule 2: failed connector with running tasks",
        ),
        ("RUNNING", &[], Unhealthy, "rule 2: running with no tasks"),
        (
            "RUNNING",
            &["FAILED", "FAILED"],
            Unhealthy,
            "rule 2: all tasks failed",
        ),
        (
            "RUNNING",
            &["FAILED"],
            Unhealthy,
            "rule 2: single failed task",
        ),
        ("RUNNING", &["RUNNING", "FAILED"], Degraded, "rule 3"),
        (
            "RUNNING",
            &["FAILED", "RESTARTING"],
            Degraded,
            "rule 3 before rule 6",
        ),
        (
            "RUNNING",
            &["FAILED", "UNASSIGNED"],
            Degraded,
            "rule 3 before rule 7",
        ),
        ("PAUSED", &["PAUSED"], Paused, "rule 4"),
        ("PAUSED", &[], Paused, "rule 4, no tasks"),
        ("PAUSED", &["RESTARTING"], Paused, "rule 4 before rule 6"),
        ("STOPPED", &[], Stopped, "rule 5"),
        ("STOPPED", &["RESTARTING"], Stopped, "rule 5 before rule 6"),
        (
            "RESTARTING",
            &[],
            Restarting,
            "rule 6: connector restarting",
        ),
        (
            "RUNNING",
            &["RUNNING", "RESTARTING"],
            Restarting,
            "rule 6: a task restarting",
        ),
        (
            "UNASSIGNED",
            &["RESTARTING"],
            Restarting,
            "rule 6 before rule 7",
        ),
        (
            "UNASSIGNED",
            &[],
            Unassigned,
            "rule 7: connector unassigned",
        ),
        (
            "RUNNING",
            &["RUNNING", "UNASSIGNED"],
            Unassigned,
            "rule 7: a task unassigned",
        ),
        ("DESTROYED", &[], Destroyed, "rule 8"),
        (
            "DESTROYED",
            &["RUNNING"],
            Destroyed,
            "rule 8, regardless of tasks",
        ),
        (
            "RUNNING",
            &["RUNNING", "PAUSED"],
            Unknown,
            "running with a paused task",
        ),
        (
            "RUNNING",
            &["RUNNING", "SOMETHING"],
            Unknown,
            "unrecognised task state",
        ),
        ("WEIRD", &[], Unknown, "unrecognised connector state"),
        ("", &[], Unknown, "no connector state"),
        (
            "running",
            &["running"],
            Unknown,
            "comparison is case-sensitive",
        ),
        (
            "UNASSIGNED",
            &["RUNNING"],
            Unassigned,
            "rule 7 with running tasks",
        ),
    ];
    for (connector, tasks, want, why) in table {
        assert_eq!(
            holistic_state(&status(connector, tasks)),
            *want,
            "{why}: {connector} {tasks:?}"
        );
    }
}

#[test]
fn content_from_trace_rules() {
    let table: &[(&str, &str, &str)] = &[
        (
            "",
            "Missing required configuration \"bootstrap.servers\" which has no default value.",
            "empty trace gives the default",
        ),
        (
            "org.apache.kafka.connect.errors.ConnectException: boom\n\tat a.B.c(B.java:1)\nCaused by: org.apache.kafka.common.config.ConfigException: Missing required configuration \"bootstrap.servers\" which has no default value.\n\tat x.Y.z(Y.java:2)",
            "Missing required configuration \"bootstrap.servers\" which has no default value.",
            "first Caused by wins",
        ),
        (
            "org.apache.kafka.connect.errors.ConnectException: outer\nCaused by: java.io.IOException: first cause\nCaused by: java.net.ConnectException: Connection refused",
            "first cause",
            "the first of several Caused by lines",
        ),
        (
            "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\tat x.Y.z(Y.java:2)",
            "Tolerance exceeded in error handler",
            "no Caused by: first kept line",
        ),
        (
            "caused by: foo.Bar: lower case prefix",
            "lower case prefix",
            "caused by is case-insensitive and stripped",
        ),
        (
            "CAUSED BY: foo.Bar: upper",
            "foo.Bar: upper",
            "only Caused by:/caused by: are stripped; the text after the first colon remains",
        ),
        (
            "java.lang.RuntimeException\n\tat a.B(B.java:1)\n\tCaused by: a.b.SomeException: tabbed cause",
            "tabbed cause",
            "tabs are trimmed before matching",
        ),
        (
            "some.lowercaseexception\nreal.Error: message",
            "message",
            "lines ending in lower-case exception are dropped",
        ),
        (
            "java.lang.NullPointerException",
            "",
            "an exception name without a colon gives an empty string (upper-case Exception is kept)",
        ),
        (
            "\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)",
            "DEFAULT",
            "only frames: the default",
        ),
        (
            "at x(Y.java:1)\nplain line without colon",
            "",
            "a kept line with no colon gives empty",
        ),
        (
            "a.B: text: with: colons",
            "text: with: colons",
            "text after the first colon only",
        ),
        (
            "  spaced.Error:   padded message   ",
            "padded message",
            "spaces are trimmed from the result",
        ),
    ];
    for (trace, want, why) in table {
        let default = if *want == "DEFAULT" {
            "DEFAULT"
        } else {
            "Missing required configuration \"bootstrap.servers\" which has no default value."
        };
        assert_eq!(content_from_trace(trace, default), *want, "{why}");
    }
}

fn with_traces(mut s: ConnectStatus, connector_trace: &str, task_traces: &[&str]) -> ConnectStatus {
    s.connector.trace = connector_trace.into();
    for (t, trace) in s.tasks.iter_mut().zip(task_traces) {
        t.trace = trace.to_string();
    }
    s
}

fn e(title: &str, content: &str) -> ConnectorError {
    ConnectorError {
        type_: ErrorType::Error,
        title: title.into(),
        content: content.into(),
    }
}

#[test]
fn parsed_errors_cases() {
    let degraded = with_traces(
        status("RUNNING", &["RUNNING", "FAILED"]),
        "",
        &[
            "",
            "x.ConnectException: outer\n\tat a(B.java:1)\nCaused by: java.net.ConnectException: Connection refused\n\tat b(C.java:2)",
        ],
    );
    assert_eq!(
        parsed_errors(&degraded, Degraded),
        vec![
            e(
                "Connector c is in degraded state.",
                "Connector c is in running state but has 1 / 2 failed tasks."
            ),
            e(
                "Connector c Task 1 is in failed state.",
                "Connection refused"
            ),
        ]
    );

    let failed_connector = with_traces(
        status("FAILED", &[]),
        "x.ConfigException: bad config\n\tat a(B.java:1)",
        &[],
    );
    assert_eq!(
        parsed_errors(&failed_connector, Unhealthy),
        vec![e("Connector c is in unhealthy state.", "bad config")]
    );
    let failed_no_trace = status("FAILED", &[]);
    assert_eq!(
        parsed_errors(&failed_no_trace, Unhealthy),
        vec![e(
            "Connector c is in unhealthy state.",
            "Connector c is in failed state."
        )]
    );
    assert_eq!(
        parsed_errors(&status("RUNNING", &[]), Unhealthy),
        vec![e(
            "Connector c is in unhealthy state.",
            "Connector c is in running state but has no tasks."
        )]
    );
    assert_eq!(
        parsed_errors(&status("RUNNING", &["FAILED", "FAILED"]), Unhealthy),
        vec![
            e(
                "Connector c is in unhealthy state.",
                "Connector c is in running state. All tasks are in failed state."
            ),
            e(
                "Connector c Task 0 is in failed state.",
                "Connector c Task 0 is in failed state."
            ),
            e(
                "Connector c Task 1 is in failed state.",
                "Connector c Task 1 is in failed state."
            ),
        ]
    );
    // A trace on a connector that is otherwise fine still reports an error.
    let healthy_with_trace =
        with_traces(status("RUNNING", &["RUNNING"]), "x.Warn: flaky once", &[]);
    assert_eq!(
        parsed_errors(&healthy_with_trace, Healthy),
        vec![e("Connector c has an error", "flaky once")]
    );
    assert_eq!(
        parsed_errors(&status("RUNNING", &["RUNNING"]), Healthy),
        vec![]
    );
    // Failed tasks are reported even when the holistic state is not degraded/unhealthy.
    let paused = status("PAUSED", &["FAILED"]);
    assert_eq!(
        parsed_errors(&paused, Paused),
        vec![e(
            "Connector c Task 0 is in failed state.",
            "Connector c Task 0 is in failed state."
        )]
    );
}

#[test]
fn assess_takes_the_server_answer_when_it_computed_one() {
    let s = status("RUNNING", &["RUNNING", "FAILED"]);
    let server = [ServerError {
        type_: "TYPE_WARNING".into(),
        title: "t".into(),
        content: "c".into(),
    }];
    let a = assess(&s, Some("CONNECTOR_HOLISTIC_STATE_HEALTHY"), Some(&server));
    assert_eq!(
        a.state, Healthy,
        "server state wins even when the local rules disagree"
    );
    assert_eq!(a.origin, Origin::Server);
    assert_eq!(a.errors[0].type_, ErrorType::Warning);

    let a = assess(&s, Some("CONNECTOR_HOLISTIC_STATE_DEGRADED"), None);
    assert_eq!(
        a.errors.len(),
        2,
        "errors computed for the server's state when absent"
    );

    for absent in [
        None,
        Some("CONNECTOR_HOLISTIC_STATE_UNSPECIFIED"),
        Some("CONNECTOR_HOLISTIC_STATE_NEW_THING"),
    ] {
        let a = assess(&s, absent, Some(&[]));
        assert_eq!(a.state, Degraded, "{absent:?}");
        assert_eq!(a.origin, Origin::Computed);
        assert_eq!(a.errors.len(), 2);
    }
}

#[test]
fn wire_names_round_trip() {
    for state in HolisticState::ALL {
        assert_eq!(
            holistic_state_from_wire(&holistic_state_to_wire(state)),
            Some(state)
        );
    }
    assert_eq!(
        holistic_state_from_wire("CONNECTOR_HOLISTIC_STATE_UNSPECIFIED"),
        None
    );
    assert_eq!(
        ServerError {
            type_: "TYPE_UNSPECIFIED".into(),
            ..Default::default()
        }
        .to_status()
        .type_,
        ErrorType::Error
    );
}

#[test]
fn status_bodies_tolerate_nulls_quoted_ids_and_unknown_fields() {
    let s: ConnectStatus = serde_json::from_str(
        r#"{"name":"x","connector":{"state":"RUNNING","worker_id":null},"tasks":[{"id":"3","state":"RUNNING","extra":1}],"type":"source","future":true}"#,
    )
    .expect("parses");
    assert_eq!(s.tasks[0].id, 3);
    assert_eq!(s.connector.worker_id, "");
    assert_eq!(holistic_state(&s), Healthy);
}

/// Status bodies captured from a real Apache Kafka Connect 4.3.1 worker (hack/kafkaenv).
#[test]
fn real_kafka_connect_bodies() {
    let failed: ConnectStatus = serde_json::from_str(include_str!(
        "../../../tests/fixtures/connect-failed-sink-status.json"
    ))
    .unwrap();
    assert_eq!(holistic_state(&failed), Unhealthy, "its only task failed");
    assert_eq!(
        parsed_errors(&failed, Unhealthy),
        vec![
            e(
                "Connector bad-sink is in unhealthy state.",
                "Connector bad-sink is in running state. All tasks are in failed state."
            ),
            e(
                "Connector bad-sink Task 0 is in failed state.",
                "/nonexistent/dir/out.txt"
            ),
        ]
    );
    assert_eq!(
        content_from_trace(&failed.tasks[0].trace, "default"),
        "/nonexistent/dir/out.txt",
        "the NoSuchFileException cause, not the ConnectException wrapper"
    );
    let restarting: ConnectStatus = serde_json::from_str(include_str!(
        "../../../tests/fixtures/connect-restarting-status.json"
    ))
    .unwrap();
    assert_eq!(holistic_state(&restarting), Restarting);
    let running: ConnectStatus = serde_json::from_str(include_str!(
        "../../../tests/fixtures/connect-running-source-status.json"
    ))
    .unwrap();
    assert_eq!(running.type_, "source");
    assert_eq!(holistic_state(&running), Healthy);
}
