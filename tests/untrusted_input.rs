//! Everything the operator reads from outside — status, list and error bodies, token answers,
//! `Retry-After`, `ratelimit` and quota headers, durations in a spec — may be written by someone
//! hostile: a tenant can point a resource at a server of their own. Property tests feed every
//! parser arbitrary bytes and arbitrary JSON shaped like the real answers, and check that nothing
//! panics (a panic in a reconciler takes the whole operator down) and that what comes out is
//! bounded: waits within their caps, messages and traces within their limits.

use k8s_openapi::jiff::Timestamp;
use managed_connector_operator::connect::failure_for;
use managed_connector_operator::crd::{SourceKind, parse_go_duration};
use managed_connector_operator::dataplane::auth::{parse_token_answer, quota_wait};
use managed_connector_operator::dataplane::{parse_rpc_error, parse_status_body};
use managed_connector_operator::health;
use managed_connector_operator::http::{MAX_SERVER_WAIT, ratelimit_reset, retry_after};
use managed_connector_operator::probe::Observation;
use managed_connector_operator::schedule::{MAX_REQUEUE, next_poll};
use managed_connector_operator::status::{
    self, ERROR_CONTENT_LIMIT, ERROR_TITLE_LIMIT, MAX_ERRORS, MESSAGE_LIMIT, Outcome, Settings,
    Subject, TRACE_BUDGET, TRACE_LIMIT,
};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Map, Value};
use std::time::Duration;

/// Keys of the real answers, so that generated JSON reaches past the first type check.
const KEYS: &[&str] = &[
    "status",
    "name",
    "connector",
    "tasks",
    "state",
    "worker_id",
    "trace",
    "id",
    "type",
    "holistic_state",
    "errors",
    "title",
    "content",
    "code",
    "message",
    "details",
    "reason",
    "@type",
    "access_token",
    "expires_in",
    "error",
    "error_description",
    "error_code",
];

/// Words the parsers branch on.
const WORDS: &[&str] = &[
    "RUNNING",
    "FAILED",
    "PAUSED",
    "STOPPED",
    "RESTARTING",
    "UNASSIGNED",
    "DESTROYED",
    "CONNECTOR_HOLISTIC_STATE_DEGRADED",
    "CONNECTOR_HOLISTIC_STATE_HEALTHY",
    "CONNECTOR_ERROR_TYPE_ERROR",
    "NOT_FOUND",
    "UNAUTHENTICATED",
    "Caused by: x.Y: z",
    "\tat a.B.c(B.java:1)",
    "sink",
    "source",
    "",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
        ".{0,64}".prop_map(Value::from),
        // Long strings: traces, messages.
        (1usize..20_000).prop_map(|n| Value::from("Caused by: e.E: ".repeat(n / 16 + 1))),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 256, 12, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..12).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![prop::sample::select(KEYS).prop_map(String::from), ".{0,8}"],
                    inner
                ),
                0..10
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A status answer of the right shape with arbitrary contents, many tasks and long traces.
fn status_body() -> impl Strategy<Value = Vec<u8>> {
    let instance = (
        prop::sample::select(WORDS),
        ".{0,20}",
        prop_oneof![
            ".{0,40}",
            (0usize..40_000).prop_map(|n| "\tat x.Y(Z.java:1)\n".repeat(n / 18))
        ],
    );
    (
        instance.clone(),
        prop::collection::vec((any::<i32>(), instance), 0..100),
        prop::option::of(prop::sample::select(WORDS)),
        any::<bool>(),
    )
        .prop_map(|((state, worker, trace), tasks, holistic, wrapped)| {
            let inner = serde_json::json!({
                "name": "c",
                "type": "sink",
                "connector": {"state": state, "worker_id": worker, "trace": trace},
                "tasks": tasks.into_iter().map(|(id, (state, worker, trace))| serde_json::json!({
                    "id": id, "state": state, "worker_id": worker, "trace": trace
                })).collect::<Vec<_>>(),
                "holistic_state": holistic,
            });
            let body = if wrapped {
                serde_json::json!({ "status": inner })
            } else {
                inner
            };
            serde_json::to_vec(&body).unwrap()
        })
}

fn bytes_or_json() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
    ]
}

fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,64}",
        any::<u64>().prop_map(|n| n.to_string()),
        (any::<u64>(), any::<u64>(), any::<u64>())
            .prop_map(|(l, r, t)| format!("limit={l},remaining={r},reset={t}")),
        (any::<u64>(), any::<u64>())
            .prop_map(|(r, t)| format!("b=per_day;q=100;r={};t={t}", r % 2)),
    ]
}

fn subject() -> Subject {
    Subject {
        generation: Some(1),
        created: Some(Timestamp::UNIX_EPOCH),
        connector_name: "c".into(),
        cluster_name: "redpanda".into(),
        source: SourceKind::DataPlane,
    }
}

/// The status the operator would write for `observation`, checked against every bound the
/// README promises.
fn assert_status_bounded(observation: Observation) {
    let status = status::desired_status(
        None,
        &subject(),
        &Outcome::Probed(observation),
        Timestamp::UNIX_EPOCH,
        &Settings::default(),
    );
    for c in &status.conditions {
        assert!(
            c.message.len() <= MESSAGE_LIMIT,
            "condition message {}",
            c.message.len()
        );
    }
    assert!(
        status.errors.len() <= MAX_ERRORS + 2,
        "{} errors",
        status.errors.len()
    );
    for e in &status.errors {
        assert!(e.title.len() <= ERROR_TITLE_LIMIT && e.content.len() <= ERROR_CONTENT_LIMIT);
    }
    let traces: usize = status
        .tasks
        .iter()
        .map(|t| t.trace.len())
        .chain(status.connector.iter().map(|c| c.trace.len()))
        .sum();
    for t in &status.tasks {
        assert!(t.trace.len() <= TRACE_LIMIT + 64);
    }
    // Once the budget is spent each trace is a short `[trace omitted: N bytes]`.
    let markers = 40 * (status.tasks.len() + 1);
    assert!(
        traces <= TRACE_BUDGET + markers,
        "traces take {traces} bytes"
    );
}

#[test]
fn a_body_of_a_million_empty_tasks_costs_a_thousand() {
    // The attack: the largest answer the operator reads (4 MiB) as `{"tasks":[{},{},...]}`.
    // Before the bound it became 1.4 million task objects, several times over.
    let n = (4 * 1024 * 1024 - 64) / 3;
    let mut body = String::with_capacity(4 * 1024 * 1024);
    body.push_str(r#"{"status":{"name":"bomb","connector":{"state":"RUNNING"},"tasks":["#);
    for i in 0..n {
        body.push_str(if i == 0 { "{}" } else { ",{}" });
    }
    body.push_str("]}}");
    let parsed = parse_status_body(body.as_bytes()).unwrap();
    assert_eq!(parsed.status.tasks.len(), health::MAX_LISTED_TASKS);
    assert_eq!(parsed.status.task_counts().total, n);
    let assessment = health::assess(&parsed.status, None, None);
    assert_eq!(
        assessment.state,
        managed_connector_operator::crd::HolisticState::Unknown,
        "tasks in no state"
    );
    let status = status::desired_status(
        None,
        &subject(),
        &Outcome::Probed(Observation::Found {
            status: parsed.status,
            assessment,
        }),
        Timestamp::UNIX_EPOCH,
        &Settings::default(),
    );
    let omitted = status.omitted_tasks.as_ref().expect("counted");
    assert_eq!(omitted.count as usize, n - health::MAX_LISTED_TASKS);
    assert_eq!(
        status.tasks_ready.as_deref(),
        Some(format!("0/{n}").as_str())
    );
    assert_eq!(status::task_counts(&status).total, n);
    let size = serde_json::to_vec(&status).unwrap().len();
    assert!(size < 256 * 1024, "status of {size} bytes");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn status_bodies_never_panic_and_their_status_is_bounded(body in prop_oneof![bytes_or_json(), status_body()]) {
        if let Ok(parsed) = parse_status_body(&body) {
            let assessment = health::assess(
                &parsed.status,
                parsed.holistic_state.as_deref(),
                parsed.errors.as_deref(),
            );
            assert_status_bounded(Observation::Found { status: parsed.status, assessment });
        }
    }

    #[test]
    fn error_bodies_never_panic_and_their_messages_are_bounded(body in bytes_or_json(), code in 100u16..600) {
        let _ = parse_rpc_error(&body);
        let failure = failure_for(code, &body, "c");
        assert_status_bounded(Observation::Failed(failure));
    }

    #[test]
    fn token_answers_never_panic_and_lifetimes_stay_between_a_minute_and_a_day(body in bytes_or_json(), n in any::<u64>()) {
        for body in [body, format!(r#"{{"access_token":"t","expires_in":{n}}}"#).into_bytes()] {
            if let Some((_, lifetime)) = parse_token_answer(&body) {
                prop_assert!(lifetime >= Duration::from_secs(60));
                prop_assert!(lifetime <= Duration::from_secs(86_400));
            }
        }
    }

    #[test]
    fn server_waits_are_capped(retry in header_text(), ratelimit in header_text(), quota in header_text()) {
        let mut headers = HeaderMap::new();
        for (name, value) in [("retry-after", &retry), ("ratelimit", &ratelimit), ("auth0-organization-quota-limit", &quota)] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
        prop_assert!(retry_after(&headers).is_none_or(|d| d <= MAX_SERVER_WAIT));
        prop_assert!(ratelimit_reset(&headers).is_none_or(|d| d <= MAX_SERVER_WAIT));
        prop_assert!(quota_wait(&headers).is_none_or(|d| d <= Duration::from_secs(86_400)));
    }

    #[test]
    fn durations_and_waits_never_overflow(text in "[0-9.]{0,30}(ns|us|ms|s|m|h){0,3}[0-9]{0,20}(h|m|s)?", failures in any::<u32>(), jitter in any::<f64>(), secs in any::<u64>()) {
        let poll = parse_go_duration(&text).unwrap_or(Duration::from_secs(30));
        let failure = managed_connector_operator::probe::Failure {
            kind: managed_connector_operator::probe::FailureKind::DataPlaneUnavailable,
            message: String::new(),
            retry_after: Some(Duration::from_secs(secs)),
        };
        prop_assert!(next_poll(Some(&failure), failures, poll, jitter) <= MAX_REQUEUE);
        prop_assert!(next_poll(None, 0, poll, jitter) <= MAX_REQUEUE);
    }
}
