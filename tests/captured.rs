//! The answers Redpanda's own Data Plane code gave in front of a real Kafka Connect 3.9.1 worker
//! (`tests/data/dataplane-captured/`, see its README) against the operator and the simulator:
//!
//! 1. every captured answer goes through the operator's parsers and classification, and the
//!    operator's own holistic state and errors agree with what Redpanda computed;
//! 2. the simulator, driven through the same scenario (the same requests, in the same order,
//!    with the sink's tasks failing as the real worker's did), gives the same answers: the same
//!    HTTP status and the same JSON, holistic state and parsed errors included.

use dataplane_sim::Sim;
use dataplane_sim::scenario::{
    ClusterScenario, ConnectorState, PluginScenario, Scenario, TaskScenario,
};
use managed_connector_operator::dataplane::list::parse_list_page;
use managed_connector_operator::dataplane::{DataplaneError, parse_rpc_error, parse_status_body};
use managed_connector_operator::health::{self, ServerError};
use managed_connector_operator::manage::declared::parse_actual;
use managed_connector_operator::probe::{FailureKind, config_refusal};
use serde_json::Value;
use std::path::PathBuf;

/// One captured exchange.
#[derive(Debug, Clone)]
struct Exchange {
    file: String,
    method: String,
    path: String,
    body: Option<String>,
    status: u16,
    answer: String,
    /// `after pause: {...}`-style summaries of the status that followed.
    after: Vec<(String, Value)>,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/dataplane-captured")
}

/// Reads `answers-*.txt`: `### METHOD PATH [body=JSON]`, the status line, headers, a blank line,
/// the body; summary lines (`after X: {...}`) belong to the exchange before them.
fn exchanges() -> Vec<Exchange> {
    let mut out: Vec<Exchange> = Vec::new();
    for n in 1..=4 {
        let file = format!("answers-{n}.txt");
        let text = std::fs::read_to_string(dir().join(&file)).expect("captured answers");
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            if let Some(request) = line.strip_prefix("### ") {
                let (head, body) = match request.split_once(" body=") {
                    Some((h, b)) => (h, Some(b.to_string())),
                    None => (request, None),
                };
                let mut parts = head.trim().splitn(2, ' ');
                let method = parts.next().unwrap().to_string();
                let path = parts.next().unwrap().trim().to_string();
                let status_line = lines.next().expect("status line");
                let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
                for h in lines.by_ref() {
                    if h.is_empty() {
                        break;
                    }
                }
                let answer = match lines.peek() {
                    Some(l) if l.starts_with('{') => lines.next().unwrap().to_string(),
                    _ => String::new(),
                };
                out.push(Exchange {
                    file: file.clone(),
                    method,
                    path,
                    body,
                    status,
                    answer,
                    after: Vec::new(),
                });
            } else if let Some((what, json)) = line.split_once(": {") {
                let summary: Value = serde_json::from_str(&format!("{{{json}")).expect("summary");
                out.last_mut()
                    .unwrap()
                    .after
                    .push((what.to_string(), summary));
            }
        }
    }
    out
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The cluster and connector a path names.
fn names(path: &str) -> (String, String) {
    let p = path.split('?').next().unwrap();
    let parts: Vec<&str> = p.split('/').collect();
    let cluster = parts.get(4).map(|s| s.to_string()).unwrap_or_default();
    let connector = parts.get(6).map(|s| s.to_string()).unwrap_or_default();
    (cluster, connector)
}

#[test]
fn the_captures_hold_every_case_the_reference_names() {
    let all = exchanges();
    assert!(all.len() >= 35, "{} exchanges", all.len());
    for (method, tail, status) in [
        ("GET", "/connectors", 200),
        ("GET", "/status", 404),
        ("POST", "/connectors", 500),
        ("GET", "/topics", 200),
        ("PUT", "/pause", 202),
        ("POST", "/restart", 204),
        ("DELETE", "/new-one", 204),
    ] {
        assert!(
            all.iter()
                .any(|e| e.method == method && e.path.ends_with(tail) && e.status == status),
            "{method} …{tail} {status}"
        );
    }
}

#[test]
fn every_captured_status_is_assessed_as_redpanda_assessed_it() {
    let mut statuses = 0;
    for e in exchanges().iter().filter(|e| e.status == 200) {
        let mut reports = Vec::new();
        if e.path.ends_with("/status") {
            reports.push(parse_status_body(e.answer.as_bytes()).expect("a status"));
        } else if e.method == "GET" && e.path.split('?').next().unwrap().ends_with("/connectors") {
            let page = parse_list_page(e.answer.as_bytes(), &|_: &str| true).expect("a page");
            let listed = json(&e.answer)["connectors"].as_array().unwrap().len();
            assert_eq!(page.entries.len(), listed, "{}: every entry kept", e.path);
            let token = json(&e.answer)["next_page_token"]
                .as_str()
                .unwrap()
                .to_string();
            assert_eq!(page.next_page_token, (!token.is_empty()).then_some(token));
            reports.extend(page.entries.into_iter().map(|(_, r)| r));
        }
        for report in reports {
            statuses += 1;
            let wire_state = report.holistic_state.clone().expect("Redpanda computes it");
            let server = report.errors.clone().expect("and the errors");
            // The operator's own computation, as for a Kafka Connect worker: no server values.
            let own = health::assess(&report.status, None, None);
            assert_eq!(
                health::holistic_state_to_wire(own.state),
                wire_state,
                "{}: {}",
                e.file,
                e.path
            );
            let own_errors: Vec<ServerError> =
                own.errors.iter().map(as_the_server_renders_it).collect();
            assert_eq!(own_errors, server, "{}: {}", e.file, e.path);
            // And the server's values are taken as sent.
            let taken = health::assess(&report.status, Some(&wire_state), Some(&server));
            assert_eq!(taken.state, own.state);
        }
    }
    assert!(statuses >= 5, "{statuses} statuses assessed");
}

#[test]
fn every_captured_error_is_classified() {
    let mut checked = 0;
    for e in exchanges().iter().filter(|e| e.status >= 400) {
        let rpc = parse_rpc_error(e.answer.as_bytes()).expect("a google.rpc.Status body");
        assert!(
            rpc.reason.is_some(),
            "{}: the ErrorInfo reason is read ({:?})",
            e.path,
            e.answer
        );
        let error = DataplaneError::Api {
            status: e.status,
            code: rpc.code.clone(),
            message: rpc.message.clone(),
            retry_after: None,
            rpc_body: true,
        };
        let (cluster, connector) = names(&e.path);
        let failure = error.to_failure(&cluster, &connector);
        let want = match (e.status, cluster.as_str()) {
            (404, "nope") => FailureKind::ClusterNotFound,
            (404, _) => FailureKind::ConnectorNotFound,
            (400, _) => FailureKind::InvalidArgument,
            // A duplicate create: a conflict, retried like a rebalance.
            (409, _) => FailureKind::DataPlaneUnavailable,
            // An unknown connector class, answered 500: a refusal of the configuration.
            (500, _) => {
                let refused = config_refusal(failure.clone());
                assert_eq!(refused.kind, FailureKind::InvalidArgument, "{}", e.answer);
                FailureKind::DataPlaneUnavailable
            }
            other => panic!("uncaptured case {other:?}"),
        };
        assert_eq!(failure.kind, want, "{} {}: {}", e.method, e.path, e.answer);
        checked += 1;
    }
    assert!(checked >= 12, "{checked} errors classified");
}

#[test]
fn the_captured_configuration_is_read() {
    let e = exchanges()
        .into_iter()
        .find(|e| e.path.ends_with("/src-ok/config") && e.method == "GET")
        .expect("captured");
    let actual = parse_actual(e.answer.as_bytes()).expect("a configuration");
    assert!(actual.0.contains_key("connector.class") && actual.0.contains_key("name"));
}

/// The scenario of the capture: one cluster on the worker the answers came from, with Kafka's
/// FileStream connectors.
fn captured_scenario() -> Scenario {
    let mut scenario = Scenario::default();
    scenario.auth.required = false;
    scenario.holistic_state = true;
    let cluster = ClusterScenario {
        address: "http://127.0.0.1:38083".into(),
        plugins: [
            (
                "sink",
                "org.apache.kafka.connect.file.FileStreamSinkConnector",
            ),
            (
                "source",
                "org.apache.kafka.connect.file.FileStreamSourceConnector",
            ),
        ]
        .into_iter()
        .map(|(t, c)| PluginScenario {
            class: c.into(),
            type_: t.into(),
        })
        .collect(),
        ..Default::default()
    };
    scenario.clusters.insert("redpanda".into(), cluster);
    scenario
}

/// What the real worker did that the simulator is told: the sink cannot open its file, so both
/// of its tasks fail with the worker's trace, and a restart does not help.
fn fail_the_sink(sim: &Sim, captured_status: &str) {
    let status = &json(captured_status)["status"];
    let tasks = status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| TaskScenario {
            state: t["state"].as_str().unwrap().into(),
            worker_id: t["worker_id"].as_str().unwrap().into(),
            trace: t["trace"].as_str().unwrap().into(),
            count: 1,
        })
        .collect();
    let state = ConnectorState {
        state: "RUNNING".into(),
        worker_id: "127.0.0.1:38083".into(),
        trace: String::new(),
        tasks,
    };
    assert!(sim.set_status("redpanda", "sink-bad", state));
    assert!(sim.set_fails_again("redpanda", "sink-bad", true));
}

/// Entries of a listing without `page_size` come in random order: compared by name.
fn normalised(path: &str, mut v: Value) -> Value {
    if !path.contains("page_size")
        && let Some(list) = v.get_mut("connectors").and_then(Value::as_array_mut)
    {
        list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    }
    v
}

fn summary(status: &Value) -> Value {
    let s = &status["status"];
    serde_json::json!({
        "hs": s["holistic_state"],
        "c": s["connector"]["state"],
        "t": s["tasks"].as_array().unwrap().iter().map(|t| t["state"].clone()).collect::<Vec<_>>(),
        "errors": s["errors"],
    })
}

#[tokio::test]
async fn the_simulator_answers_as_redpanda_did() {
    let sim = Sim::new(captured_scenario());
    let addr = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = format!("http://{addr}");
    managed_connector_operator::http::install_crypto_provider();
    let http = reqwest::Client::new();
    let all = exchanges();
    let mut compared = 0;
    let sink = all
        .iter()
        .find(|e| e.path.ends_with("/sink-bad/status"))
        .expect("the sink's status was captured");
    let mut started = false;
    for e in &all {
        if e.file == "answers-3.txt" && !started {
            // The capture's statuses were read once the worker had started both connectors.
            started = true;
            tokio::time::sleep(dataplane_sim::STATUS_DELAY).await;
            fail_the_sink(&sim, &sink.answer);
        }
        let url = format!("{base}{}", e.path);
        let mut request = http.request(e.method.parse().unwrap(), &url);
        if let Some(body) = &e.body {
            request = request
                .header("content-type", "application/json")
                .body(body.clone());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let what = format!(
            "{} {} {} ({})",
            e.file,
            e.method,
            e.path,
            e.body.as_deref().unwrap_or("")
        );
        assert_eq!(status, e.status, "{what}: status; simulator said {text}");
        if e.answer.is_empty() {
            assert!(text.is_empty(), "{what}: no body, simulator said {text}");
        } else {
            assert_eq!(
                normalised(&e.path, json(&text)),
                normalised(&e.path, json(&e.answer)),
                "{what}: body"
            );
        }
        let (cluster, connector) = names(&e.path);
        for (when, want) in &e.after {
            let url =
                format!("{base}/v1/kafka-connect/clusters/{cluster}/connectors/{connector}/status");
            let now = json(&http.get(&url).send().await.unwrap().text().await.unwrap());
            assert_eq!(&summary(&now), want, "{what}: {when}");
        }
        compared += 1;
    }
    assert_eq!(compared, all.len());
}

/// An error as the Data Plane API renders it.
fn as_the_server_renders_it(e: &managed_connector_operator::crd::ConnectorError) -> ServerError {
    use managed_connector_operator::crd::ErrorType;
    ServerError {
        type_: match e.type_ {
            ErrorType::Error => "TYPE_ERROR",
            ErrorType::Warning => "TYPE_WARNING",
        }
        .to_string(),
        title: e.title.clone(),
        content: e.content.clone(),
    }
}
