//! `reconcile` in process against a mock Kubernetes API server (tower-test), checked call by
//! call, as kube-rs's controller-rs tests its reconciler: which requests one reconcile makes, in
//! which order, with which bodies, and that it makes no others. The end-to-end tests prove the
//! same paths against a real API server; these pin the sequence, which the real server cannot
//! show (it takes a redundant write as gladly as a needed one).

use dataplane_sim::Sim;
use dataplane_sim::scenario::Scenario;
use http::{Method, Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use kube::runtime::controller::Action;
use kube::runtime::events::Reporter;
use managed_connector_operator::batch::BatchMode;
use managed_connector_operator::config::OperatorConfig;
use managed_connector_operator::context::{Context, Error};
use managed_connector_operator::crd::ManagedConnector;
use managed_connector_operator::credentials::AuthDefaults;
use managed_connector_operator::http::ClientConfig;
use managed_connector_operator::leader::Fence;
use managed_connector_operator::metrics::Metrics;
use managed_connector_operator::prober::Prober;
use managed_connector_operator::reconcile::reconcile;
use managed_connector_operator::ref_cache::RefCache;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower_test::mock::Handle;
use url::Url;

const OBJECT_PATH: &str =
    "/apis/connectors.dataplane.dev/v1alpha1/namespaces/tenant/managedconnectors/orders";
/// The status subresource: the operator may only patch it (the chart's RBAC), never get it.
const STATUS_PATH: &str =
    "/apis/connectors.dataplane.dev/v1alpha1/namespaces/tenant/managedconnectors/orders/status";
const SECRET_PATH: &str = "/api/v1/namespaces/tenant/secrets/creds";
const EVENTS_PATH: &str = "/apis/events.k8s.io/v1/namespaces/tenant/events";

type ApiHandle = Handle<Request<Body>, Response<Body>>;

/// A resource reading connector `orders` through the operator's Data Plane with Secret `creds`.
fn resource(status: Option<Value>, suspend: bool) -> ManagedConnector {
    let mut mc = json!({
        "apiVersion": "connectors.dataplane.dev/v1alpha1",
        "kind": "ManagedConnector",
        "metadata": {
            "name": "orders", "namespace": "tenant", "uid": "u-1", "generation": 1,
            "creationTimestamp": "2026-01-01T00:00:00Z", "resourceVersion": "1",
        },
        "spec": {
            "dataplane": {"credentialsSecretRef": {"name": "creds"}},
            "suspend": suspend,
        },
    });
    if let Some(status) = status {
        mc["status"] = status;
    }
    serde_json::from_value(mc).expect("a ManagedConnector")
}

/// The Data Plane: the simulator, in process over real HTTP, with connector `orders` running.
async fn dataplane() -> (Sim, Url) {
    let scenario = r#"
auth:
  clients: [{clientId: operator, clientSecret: s3cret}]
clusters:
  redpanda:
    connectors:
      - {name: orders, state: RUNNING, tasks: [{state: RUNNING}]}
"#;
    let sim = Sim::new(Scenario::parse(scenario).expect("scenario"));
    let addr = sim
        .start("127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("the simulator starts");
    let url = Url::parse(&format!("http://{addr}")).expect("a URL");
    (sim, url)
}

/// The Secret `creds` as the API server returns it.
fn secret() -> Value {
    use base64::Engine as _;
    let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
    json!({"apiVersion": "v1", "kind": "Secret",
           "metadata": {"name": "creds", "namespace": "tenant", "resourceVersion": "1"},
           "data": {"client_id": b64("operator"), "client_secret": b64("s3cret")}})
}

/// A context as the operator builds it, over a mock API server, reading `dataplane`.
fn context(dataplane: &Url) -> (Arc<Context>, ApiHandle) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let metrics = Metrics::new(&mut prometheus_client::registry::Registry::default());
    let prober = Prober::new(
        &ClientConfig::default(),
        metrics.clone(),
        Arc::new(RefCache::new(client.clone())),
        OperatorConfig {
            default_dataplane_url: Some(dataplane.clone()),
            auth_defaults: AuthDefaults {
                token_url: dataplane.join("/oauth/token").expect("a URL"),
                audience: "cloudv2-production.redpanda.cloud".into(),
            },
            ..OperatorConfig::default()
        },
    )
    .expect("a prober");
    let reporter = Reporter {
        controller: "managed-connector-operator".into(),
        instance: None,
    };
    let ctx = Context::new(
        client,
        reporter,
        metrics,
        prober,
        Fence::open(),
        BatchMode::Never,
        100,
    );
    (Arc::new(ctx), handle)
}

/// The next request the reconcile makes: its method, path and JSON body.
async fn next(
    handle: &mut ApiHandle,
) -> (
    Method,
    String,
    Value,
    tower_test::mock::SendResponse<Response<Body>>,
) {
    let (request, send) = tokio::time::timeout(Duration::from_secs(10), handle.next_request())
        .await
        .expect("the reconcile made no further request")
        .expect("the client went away");
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let bytes = request.into_body().collect_bytes().await.expect("a body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (method, path, body, send)
}

fn respond(send: tower_test::mock::SendResponse<Response<Body>>, code: StatusCode, body: &Value) {
    let response = Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("JSON")))
        .expect("a response");
    send.send_response(response);
}

fn not_found(what: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
           "message": format!("{what} not found"), "code": 404})
}

/// The condition of this type in a status patch.
fn condition<'a>(patch: &'a Value, type_: &str) -> &'a Value {
    patch["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .unwrap_or_else(|| panic!("no {type_} condition in {patch}"))
}

/// Answers a status patch with the resource as the API server would store it.
fn stored(send: tower_test::mock::SendResponse<Response<Body>>, patch: &Value) {
    let mut mc = serde_json::to_value(resource(None, false)).expect("JSON");
    mc["status"] = patch["status"].clone();
    respond(send, StatusCode::OK, &mc);
}

/// After the reconcile returned: it left no request behind.
async fn no_more(handle: &mut ApiHandle) {
    let more = tokio::time::timeout(Duration::from_millis(200), handle.next_request()).await;
    if let Ok(Some((request, _))) = more {
        panic!(
            "an unexpected request: {} {}",
            request.method(),
            request.uri()
        );
    }
}

/// A first visit whose Secret is missing learns that before anything slow: it writes the lasting
/// condition a person must act on (no "Probing" first), with one Warning Event, and nothing more.
#[tokio::test]
async fn a_first_visit_with_a_missing_secret_writes_once_and_warns_once() {
    let (sim, url) = dataplane().await;
    let (ctx, mut handle) = context(&url);
    let mc = Arc::new(resource(None, false));
    let reconciled = tokio::spawn(reconcile(mc, ctx));

    let (method, path, _, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::GET, SECRET_PATH));
    respond(send, StatusCode::NOT_FOUND, &not_found("secrets \"creds\""));

    let (method, path, patch, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::PATCH, STATUS_PATH));
    let ready = condition(&patch, "Ready");
    assert_eq!(
        (&ready["status"], &ready["reason"]),
        (&json!("False"), &json!("CredentialsNotFound")),
        "{patch}"
    );
    assert_eq!(condition(&patch, "Stalled")["status"], "True");
    assert_eq!(condition(&patch, "Synced")["status"], "False");
    stored(send, &patch);

    let (method, path, event, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::POST, EVENTS_PATH));
    assert_eq!(event["type"], "Warning", "{event}");
    assert_eq!(event["reason"], "CredentialsNotFound", "{event}");
    assert_eq!(event["regarding"]["name"], "orders");
    respond(send, StatusCode::CREATED, &event);

    let action = reconciled.await.expect("no panic").expect("no error");
    assert_ne!(action, Action::await_change(), "a failure is read again");
    no_more(&mut handle).await;
    assert_eq!(
        sim.counts().total,
        0,
        "nothing was sent without credentials"
    );
}

/// A first visit that must read the source on its own says "Probing" before the read (a slow
/// source shows progress, not nothing), then writes what the read found: two writes, the
/// source read once, after the first.
#[tokio::test]
async fn a_first_visit_says_probing_before_reading_the_source() {
    let (sim, url) = dataplane().await;
    let (ctx, mut handle) = context(&url);
    let mc = Arc::new(resource(None, false));
    let reconciled = tokio::spawn(reconcile(mc, ctx));

    let (method, path, _, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::GET, SECRET_PATH));
    respond(send, StatusCode::OK, &secret());

    let (method, path, patch, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::PATCH, STATUS_PATH));
    assert_eq!(condition(&patch, "Ready")["reason"], "Probing", "{patch}");
    assert_eq!(condition(&patch, "Reconciling")["status"], "True");
    assert_eq!(sim.counts().total, 0, "Probing is written before the read");
    stored(send, &patch);

    let (method, path, patch, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::PATCH, STATUS_PATH));
    assert_eq!(condition(&patch, "Ready")["status"], "True", "{patch}");
    assert_eq!(patch["status"]["holisticState"], "Healthy", "{patch}");
    assert!(sim.counts().total > 0, "the source was read");
    stored(send, &patch);

    // The transition's Event (Healthy), then nothing else.
    let (method, path, event, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::POST, EVENTS_PATH));
    respond(send, StatusCode::CREATED, &event);
    reconciled.await.expect("no panic").expect("no error");
    no_more(&mut handle).await;
}

/// A status the API server refused is written on the next reconcile from what was read then:
/// an API server outage must not turn into a request to the source per retry.
#[tokio::test]
async fn a_refused_status_write_is_retried_without_reading_again() {
    let (sim, url) = dataplane().await;
    let (ctx, mut handle) = context(&url);
    let probing = json!({"connectorName": "orders", "source": "DataPlane", "conditions": [
        {"type": "Ready", "status": "Unknown", "reason": "Probing", "message": "waiting",
         "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}]});
    let mc = Arc::new(resource(Some(probing), false));
    let first = tokio::spawn(reconcile(mc.clone(), ctx.clone()));
    let (method, path, _, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::GET, SECRET_PATH));
    respond(send, StatusCode::OK, &secret());
    let (method, path, patch, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::PATCH, STATUS_PATH));
    assert_eq!(condition(&patch, "Ready")["reason"], "Healthy", "{patch}");
    let trouble = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                         "reason": "InternalError", "message": "etcd is down", "code": 500});
    respond(send, StatusCode::INTERNAL_SERVER_ERROR, &trouble);
    let refused = first.await.expect("no panic");
    assert!(matches!(refused, Err(Error::Kube(_))), "{refused:?}");
    let reads = sim.counts().endpoint("status");
    assert_eq!(reads, 1, "{:?}", sim.counts());

    let second = tokio::spawn(reconcile(mc, ctx));
    let (method, path, patch, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::PATCH, STATUS_PATH));
    assert_eq!(condition(&patch, "Ready")["reason"], "Healthy", "{patch}");
    stored(send, &patch);
    let (method, path, event, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::POST, EVENTS_PATH));
    assert_eq!(event["type"], "Normal", "{event}");
    respond(send, StatusCode::CREATED, &event);
    second.await.expect("no panic").expect("no error");
    no_more(&mut handle).await;
    assert_eq!(
        sim.counts().endpoint("status"),
        reads,
        "the retry wrote what was read, without reading again"
    );
}

/// A suspended resource is written once as Suspended and not read at all; it waits for a change.
#[tokio::test]
async fn a_suspended_resource_is_written_once_and_not_read() {
    let (sim, url) = dataplane().await;
    let (ctx, mut handle) = context(&url);
    let mc = Arc::new(resource(None, true));
    let reconciled = tokio::spawn(reconcile(mc, ctx));
    let (method, path, patch, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::PATCH, STATUS_PATH));
    let ready = condition(&patch, "Ready");
    assert_eq!(
        (&ready["status"], &ready["reason"]),
        (&json!("True"), &json!("Suspended"))
    );
    stored(send, &patch);
    let action = reconciled.await.expect("no panic").expect("no error");
    assert_eq!(action, Action::await_change());
    no_more(&mut handle).await;
    assert_eq!(sim.counts().total, 0, "a suspended resource is not read");
}

/// The status of a degraded `orders` as the API server stores it: a failed task with its
/// worker and trace, and the error parsed from it (the parts the watch cache trims).
fn degraded() -> Value {
    let condition = |type_: &str, status: &str, reason: &str| {
        json!({"type": type_, "status": status, "reason": reason, "message": "as it was",
               "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1})
    };
    json!({
        "observedGeneration": 1, "connectorName": "orders", "source": "DataPlane",
        "type": "source", "holisticState": "Degraded",
        "connector": {"state": "RUNNING", "workerId": "10.0.3.7:8083"},
        "tasks": [{"id": 0, "state": "FAILED", "workerId": "10.0.3.7:8083",
                   "trace": "org.apache.kafka.connect.errors.ConnectException: boom\n\tat Task.run"}],
        "taskCount": 1, "tasksReady": "0/1",
        "errors": [{"type": "Error", "title": "Connector orders Task 0 is in failed state.",
                    "content": "boom"}],
        "lastSyncTime": "2026-01-01T00:00:00Z",
        "conditions": [condition("Ready", "False", "Degraded"), condition("Synced", "True", "Synced"),
                       condition("Reconciling", "False", "Degraded"),
                       condition("Stalled", "False", "Degraded")],
    })
}

/// A resource as the watch cache holds it: traces, workers and errors trimmed to a digest.
fn cached(status: Value) -> ManagedConnector {
    let mut mc = resource(Some(status), false);
    managed_connector_operator::trim::trim(&mut mc);
    mc
}

/// A read that finds what the trimmed cache stands for writes nothing: the digest compares the
/// dropped parts, so an unchanged connector costs no write and no read of the whole object.
#[tokio::test]
async fn an_unchanged_connector_over_a_trimmed_status_writes_nothing() {
    let (sim, url) = dataplane().await;
    let (ctx, mut handle) = context(&url);
    let first = tokio::spawn(reconcile(Arc::new(resource(None, false)), ctx.clone()));
    let (_, _, _, send) = next(&mut handle).await;
    respond(send, StatusCode::OK, &secret());
    let healthy = loop {
        let (method, path, body, send) = next(&mut handle).await;
        if method == Method::PATCH && body["status"]["holisticState"] == "Healthy" {
            stored(send, &body);
            break body["status"].clone();
        }
        // Probing, and its answer.
        assert_eq!((method, path.as_str()), (Method::PATCH, STATUS_PATH));
        stored(send, &body);
    };
    let (method, _, event, send) = next(&mut handle).await;
    assert_eq!(method, Method::POST);
    respond(send, StatusCode::CREATED, &event);
    first.await.expect("no panic").expect("no error");
    let mc = cached(healthy.clone());
    let trimmed = mc.status.as_ref().expect("a status");
    assert!(
        trimmed.trimmed.is_some(),
        "the workers were trimmed: {trimmed:?}"
    );
    assert!(trimmed.tasks.iter().all(|t| t.worker_id.is_empty()));

    let reads = sim.counts().endpoint("status");
    let mut second = tokio::spawn(reconcile(Arc::new(mc), ctx));
    tokio::select! {
        done = &mut second => done.expect("no panic").expect("no error"),
        Some((request, _)) = handle.next_request() => {
            panic!("an unexpected request: {} {}", request.method(), request.uri())
        }
    };
    no_more(&mut handle).await;
    assert_eq!(sim.counts().endpoint("status"), reads + 1, "read once more");
}

/// A failed read keeps the last known tasks and errors. From a trimmed cache the reconcile does
/// not have them, so the write reads the stored status first and puts them back: a server-side
/// apply without them would remove them.
#[tokio::test]
async fn a_failed_read_over_a_trimmed_status_keeps_the_tasks_and_errors_stored() {
    let unreachable = Url::parse("http://127.0.0.1:9").expect("a URL");
    let (ctx, mut handle) = context(&unreachable);
    let reconciled = tokio::spawn(reconcile(Arc::new(cached(degraded())), ctx));
    let (method, path, _, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::GET, SECRET_PATH));
    respond(send, StatusCode::OK, &secret());

    let (method, path, _, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::GET, OBJECT_PATH));
    let mut whole = serde_json::to_value(resource(None, false)).expect("JSON");
    whole["status"] = degraded();
    respond(send, StatusCode::OK, &whole);

    let (method, path, patch, send) = next(&mut handle).await;
    assert_eq!((method, path.as_str()), (Method::PATCH, STATUS_PATH));
    assert_eq!(condition(&patch, "Synced")["status"], "False", "{patch}");
    assert_eq!(patch["status"]["tasks"], degraded()["tasks"], "{patch}");
    assert_eq!(patch["status"]["errors"], degraded()["errors"], "{patch}");
    assert_eq!(
        patch["status"]["connector"],
        degraded()["connector"],
        "{patch}"
    );
    stored(send, &patch);
    // The Events of the failure, then nothing else.
    let done = loop {
        if reconciled.is_finished() {
            break reconciled.await.expect("no panic");
        }
        if let Ok(Some((request, send))) =
            tokio::time::timeout(Duration::from_millis(100), handle.next_request()).await
        {
            assert_eq!(
                request.method(),
                Method::POST,
                "only Events: {}",
                request.uri()
            );
            respond(send, StatusCode::CREATED, &json!({}));
        }
    };
    done.expect("no error");
    no_more(&mut handle).await;
}
