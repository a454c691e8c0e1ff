//! The simulator's own endpoints under `/sim/` (and its `/metrics`): what the tests use to set
//! connectors, faults and workers, revoke tokens and read request counts.

use crate::Sim;
use crate::scenario::{ConnectorScenario, Faults};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub(crate) async fn metrics_handler(State(sim): State<Sim>) -> Response {
    let counts = sim.counts();
    let s = sim.lock();
    let mut out = String::from(
        "# HELP dataplane_sim_requests_total Requests by endpoint and HTTP status.\n# TYPE dataplane_sim_requests_total counter\n",
    );
    for ((endpoint, code), n) in &s.requests {
        out.push_str(&format!(
            "dataplane_sim_requests_total{{endpoint=\"{endpoint}\",code=\"{code}\"}} {n}\n"
        ));
    }
    out.push_str("# HELP dataplane_sim_tokens_issued_total Tokens issued by the token endpoint.\n# TYPE dataplane_sim_tokens_issued_total counter\n");
    out.push_str(&format!(
        "dataplane_sim_tokens_issued_total {}\n",
        counts.tokens_issued
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

pub(crate) async fn requests_handler(State(sim): State<Sim>) -> Response {
    axum::Json(sim.counts()).into_response()
}

pub(crate) async fn global_faults_handler(
    State(sim): State<Sim>,
    axum::Json(faults): axum::Json<Faults>,
) -> Response {
    sim.set_global_faults(faults);
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) async fn connector_faults_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
    axum::Json(faults): axum::Json<Faults>,
) -> Response {
    if sim.set_faults(&cluster, &name, faults) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

pub(crate) async fn upsert_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
    axum::Json(mut connector): axum::Json<ConnectorScenario>,
) -> Response {
    connector.name = name;
    sim.upsert(&cluster, connector);
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) async fn delete_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
) -> Response {
    if sim.delete(&cluster, &name) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

pub(crate) async fn worker_handler(
    State(sim): State<Sim>,
    Path(cluster): Path<String>,
    axum::Json(down): axum::Json<WorkerSwitch>,
) -> Response {
    if sim.set_worker_down(&cluster, down.down) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// `PUT /sim/clusters/{cluster}/worker` body.
#[derive(serde::Deserialize)]
pub(crate) struct WorkerSwitch {
    down: bool,
}

pub(crate) async fn revoke_handler(State(sim): State<Sim>) -> Response {
    sim.revoke_tokens();
    StatusCode::NO_CONTENT.into_response()
}
