//! The read endpoints: one connector's status, the cluster's connector list, the clusters.

use crate::redpanda::{self, TaskView};
use crate::scenario::{BodyShape, ClusterScenario, ConnectorScenario, ConnectorState};
use crate::wire::{self, json_response};
use crate::{InFlight, Sim, apply_faults, gatekeep};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

/// Kafka's commit and cluster id of the worker the answers were captured from.
const COMMIT: &str = "f745dfdcee2b9851";
const KAFKA_CLUSTER_ID: &str = "2mnJK8r4ThinEakxTEMiPw";

/// The wire body of one connector's status, as the server computes it (`computed`: with
/// `holistic_state` and `errors`, by [`redpanda`]'s own code).
pub(crate) fn status_json(
    computed: bool,
    spec: &ConnectorScenario,
    state: &ConnectorState,
) -> Value {
    let mut tasks = Vec::new();
    for t in &state.tasks {
        for _ in 0..t.count.max(1) {
            tasks.push(t);
        }
    }
    let views: Vec<TaskView<'_>> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| TaskView {
            id: i as i64,
            state: &t.state,
            trace: &t.trace,
        })
        .collect();
    let mut body = json!({
        "name": spec.name,
        "connector": {"state": state.state, "worker_id": state.worker_id, "trace": state.trace},
        "tasks": tasks.iter().enumerate().map(|(i, t)| json!({"id": i, "state": t.state, "worker_id": t.worker_id, "trace": t.trace})).collect::<Vec<_>>(),
        "type": spec.type_,
    });
    if computed {
        let holistic = redpanda::holistic_state(&state.state, &views);
        let errors: Vec<Value> = redpanda::errors(
            &spec.name,
            &state.state,
            &state.trace,
            &views,
            holistic,
        )
        .into_iter()
        .map(|(type_, title, content)| json!({"type": type_, "title": title, "content": content}))
        .collect();
        body["holistic_state"] = json!(holistic);
        body["errors"] = json!(errors);
    }
    body
}

/// A connector as `GET .../connectors/{name}` (and a list entry's `info`) shows it: its
/// configuration with Kafka Connect's own `name`, and its tasks (none before they are assigned).
pub(crate) fn connector_json(
    name: &str,
    config: &BTreeMap<String, String>,
    tasks: usize,
    type_: &str,
) -> Value {
    let mut config = config.clone();
    config.insert("name".into(), name.into());
    let tasks: Vec<Value> = (0..tasks)
        .map(|i| json!({"connector": name, "task": i}))
        .collect();
    json!({"name": name, "config": config, "tasks": tasks, "type": type_})
}

pub(crate) async fn status_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let now = sim.inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    sim.inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
    // Counted down even when the client gives up on a hung request and the future is dropped.
    let _guard = InFlight(&sim.inner.in_flight);
    let response = status_response(&sim, &cluster, &name, &headers).await;
    sim.count("status", response.status());
    *sim.lock().per_connector.entry(name).or_insert(0) += 1;
    response
}

async fn status_response(sim: &Sim, cluster: &str, name: &str, headers: &HeaderMap) -> Response {
    if let Some(r) = gatekeep(sim, cluster, name, headers).await {
        return r;
    }
    let (shape, computed) = {
        let s = sim.lock();
        (s.scenario.shape, s.scenario.holistic_state)
    };
    let Some((spec, state, faults)) = sim
        .current(cluster, name)
        .filter(|_| sim.has_status(cluster, name))
    else {
        return wire::connect_error(
            StatusCode::NOT_FOUND,
            &format!("No status found for connector {name} (404)"),
        );
    };
    if let Some(r) = apply_faults(&faults).await {
        return r;
    }
    let body = status_json(computed, &spec, &state);
    let body = match shape {
        BodyShape::Wrapped => json!({ "status": body }),
        BodyShape::Flat => body,
    };
    json_response(StatusCode::OK, body)
}

fn invalid_cluster_name() -> Response {
    wire::invalid_input(&[(
        "cluster_name",
        "value does not match regex pattern `^[a-zA-Z0-9-_]+$`",
    )])
}

pub(crate) async fn list_handler(
    State(sim): State<Sim>,
    Path(cluster): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let now = sim.inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    sim.inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _guard = InFlight(&sim.inner.in_flight);
    let response = list_response(&sim, &cluster, &query, &headers).await;
    sim.count("list", response.status());
    response
}

/// How one listing request pages.
enum Paging {
    /// No `page_size`: every connector, in random order (as observed).
    All,
    /// `page_size` entries sorted by name, from the one a token names.
    Sorted {
        size: Option<usize>,
        from: Option<String>,
    },
}

fn paging(query: &HashMap<String, String>) -> Result<Paging, Box<Response>> {
    let Some(size) = query.get("page_size") else {
        return Ok(Paging::All);
    };
    let size: i64 = size
        .parse()
        .map_err(|_| wire::invalid_input(&[("page_size", "value must be an integer")]))?;
    let from = match query.get("page_token").filter(|t| !t.is_empty()) {
        Some(t) => Some(wire::page_start(t).ok_or_else(|| {
            Box::new(wire::invalid_input(&[("page_token", "invalid page token")]))
        })?),
        None => None,
    };
    Ok(Paging::Sorted {
        size: usize::try_from(size).ok().filter(|s| *s > 0),
        from,
    })
}

async fn list_response(
    sim: &Sim,
    cluster: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    if let Some(r) = sim.refuse_unauthorized(headers) {
        return r;
    }
    if !crate::valid_cluster_name(cluster) {
        return invalid_cluster_name();
    }
    let (global, info) = {
        let s = sim.lock();
        let Some(c) = s.scenario.clusters.get(cluster) else {
            return wire::unknown_cluster();
        };
        (s.scenario.faults.clone(), c.clone())
    };
    if let Some(r) = apply_faults(&global).await {
        return r;
    }
    let paging = match paging(query) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    // Connectors with a status: Kafka Connect's own listing leaves out one it cannot find the
    // status of (created a moment ago).
    let names: Vec<String> = {
        let s = sim.lock();
        s.connectors
            .keys()
            .filter(|(c, _)| c == cluster)
            .map(|(_, n)| n.clone())
            .collect()
    };
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| sim.has_status(cluster, n) && sim.current(cluster, n).is_some())
        .collect();
    let (page_names, next, page) = match &paging {
        Paging::All => {
            let mut all = names.clone();
            shuffle(&mut all);
            (all, None, 1)
        }
        Paging::Sorted { size, from } => {
            let start = from
                .as_ref()
                .map(|f| names.partition_point(|n| n < f))
                .unwrap_or(0);
            let size = size.unwrap_or(names.len().max(1));
            let end = start.saturating_add(size).min(names.len());
            let next = names.get(end).map(|n| wire::page_token(n));
            (names[start.min(end)..end].to_vec(), next, start / size + 1)
        }
    };
    if (info.list_fault_pages.is_empty() || info.list_fault_pages.contains(&page))
        && let Some(r) = apply_faults(&info.list_faults).await
    {
        return r;
    }
    if info.worker_down {
        // As Redpanda's code answers while the worker is down: an empty list, not an error.
        return json_response(
            StatusCode::OK,
            json!({"connectors": [], "next_page_token": ""}),
        );
    }
    let computed = sim.lock().scenario.holistic_state;
    let mut connectors = Vec::new();
    for name in &page_names {
        if let Some((spec, state, _)) = sim.current(cluster, name) {
            let config = sim.config_of(cluster, name).unwrap_or_default();
            let tasks: usize = state.tasks.iter().map(|t| t.count.max(1)).sum();
            connectors.push(json!({
                "name": name,
                "info": connector_json(name, &config, tasks, &spec.type_),
                "status": status_json(computed, &spec, &state),
            }));
        }
    }
    {
        let mut s = sim.lock();
        for name in &page_names {
            *s.per_connector.entry(name.clone()).or_insert(0) += 1;
        }
    }
    json_response(
        StatusCode::OK,
        json!({"connectors": connectors, "next_page_token": next.unwrap_or_default()}),
    )
}

fn shuffle(names: &mut [String]) {
    for i in (1..names.len()).rev() {
        let j = (rand::random::<u64>() % (i as u64 + 1)) as usize;
        names.swap(i, j);
    }
}

/// A cluster as `GET /v1/kafka-connect/clusters` shows it.
fn cluster_json(name: &str, c: &ClusterScenario) -> Value {
    let mut plugins = c.plugins();
    plugins.sort_by(|a, b| a.class.cmp(&b.class));
    json!({
        "name": name,
        "address": c.address,
        "info": {"version": c.version, "commit": COMMIT, "kafka_cluster_id": KAFKA_CLUSTER_ID},
        "plugins": plugins.iter().map(|p| json!({"type": p.type_, "version": c.version, "class": p.class})).collect::<Vec<_>>(),
    })
}

pub(crate) async fn clusters_handler(State(sim): State<Sim>, headers: HeaderMap) -> Response {
    let response = match sim.refuse_unauthorized(&headers) {
        Some(r) => r,
        None => {
            let s = sim.lock();
            let clusters: Vec<Value> = s
                .scenario
                .clusters
                .iter()
                .map(|(n, c)| cluster_json(n, c))
                .collect();
            json_response(StatusCode::OK, json!({ "clusters": clusters }))
        }
    };
    sim.count("clusters", response.status());
    response
}

pub(crate) async fn cluster_handler(
    State(sim): State<Sim>,
    Path(cluster): Path<String>,
    headers: HeaderMap,
) -> Response {
    let response = match sim.refuse_unauthorized(&headers) {
        Some(r) => r,
        None if !crate::valid_cluster_name(&cluster) => invalid_cluster_name(),
        None => {
            let c = sim.lock().scenario.clusters.get(&cluster).cloned();
            match c {
                None => wire::unknown_cluster(),
                Some(c) if c.worker_down => wire::worker_down(&c.address, "/"),
                Some(c) => json_response(
                    StatusCode::OK,
                    json!({ "cluster": cluster_json(&cluster, &c) }),
                ),
            }
        }
    };
    sim.count("cluster", response.status());
    response
}
