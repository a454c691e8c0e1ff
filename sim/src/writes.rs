//! The write endpoints (Kafka Connect through the Data Plane, v1) and the per-connector reads
//! beside them (get, config, topics), with the answers and messages Redpanda's code gives.

use crate::reads::connector_json;
use crate::scenario::{ConnectorScenario, PluginScenario};
use crate::wire::{self, json_response};
use crate::{Live, Sim, apply_faults, gated};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::BTreeMap;
use tokio::time::Instant;

fn no_connector(name: &str) -> Response {
    wire::connect_error(
        StatusCode::NOT_FOUND,
        &format!("Connector {name} not found (404)"),
    )
}

/// The gateway's answer to a body it cannot read.
fn invalid_body(detail: &str) -> Response {
    wire::rpc_error(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        &format!("invalid request body: {detail}"),
        Some("REASON_INVALID_INPUT"),
    )
}

/// Kafka Connect's own validation of a configuration write, with its wording and status: it
/// quotes the configuration back (values included) when the connector class is missing, and
/// answers an unknown class with a 500. `Err((status, message))` when refused.
fn validate_config(
    name: &str,
    config: &BTreeMap<String, String>,
    plugins: &[PluginScenario],
    version: &str,
) -> Result<String, (StatusCode, String)> {
    if let Some(n) = config.get("name")
        && n != name
    {
        return Err((
            StatusCode::BAD_REQUEST,
            format!(
                "Connector name configuration ({n}) doesn't match connector name in the URL ({name}) (400)"
            ),
        ));
    }
    let Some(class) = config.get("connector.class") else {
        let quoted = config
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err((
            StatusCode::BAD_REQUEST,
            format!("Connector config {{{quoted}}} contains no connector type (400)"),
        ));
    };
    match plugins.iter().find(|p| &p.class == class) {
        Some(p) => Ok(p.type_.clone()),
        None => {
            let mut sorted: Vec<wire::Plugin> = plugins
                .iter()
                .map(|p| (p.type_.clone(), version.to_string(), p.class.clone()))
                .collect();
            sorted.sort_by(|a, b| a.2.cmp(&b.2));
            Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{} (500)", wire::class_not_found(class, &sorted)),
            ))
        }
    }
}

fn tasks_of(config: &BTreeMap<String, String>) -> usize {
    config
        .get("tasks.max")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 100)
}

impl Sim {
    /// The plugins and version of a cluster.
    fn plugins_of(&self, cluster: &str) -> (Vec<PluginScenario>, String, String) {
        let s = self.lock();
        let c = s
            .scenario
            .clusters
            .get(cluster)
            .cloned()
            .unwrap_or_default();
        (c.plugins(), c.version.clone(), c.worker_id())
    }

    /// Creates or reconfigures a connector (running, with `tasks.max` running tasks on the
    /// cluster's worker); `true` when it was created. A new connector has no status for
    /// [`crate::STATUS_DELAY`], as a worker takes a moment to start it.
    fn put_connector(
        &self,
        cluster: &str,
        name: &str,
        config: BTreeMap<String, String>,
        type_: &str,
    ) -> bool {
        let (_, _, worker) = self.plugins_of(cluster);
        let mut s = self.lock();
        let mut tasks: Vec<_> = vec!["RUNNING"; tasks_of(&config)]
            .into_iter()
            .map(crate::scenario::TaskScenario::new)
            .collect();
        for t in &mut tasks {
            t.worker_id = worker.clone();
        }
        let key = (cluster.to_string(), name.to_string());
        let old = s.connectors.get(&key);
        let created = old.is_none();
        let mut spec = ConnectorScenario::new(name, "RUNNING", &[]);
        spec.tasks = tasks;
        spec.worker_id = worker;
        spec.type_ = type_.to_string();
        let mut created_at = Some(Instant::now());
        if let Some(old) = old {
            spec.faults = old.spec.faults.clone();
            spec.fails_again = old.spec.fails_again;
            created_at = old.created;
        }
        s.connectors.insert(
            key,
            Live {
                spec,
                since: Instant::now(),
                config,
                created: created_at,
            },
        );
        created
    }

    /// A connector's configuration, as the simulator holds it.
    pub fn config_of(&self, cluster: &str, name: &str) -> Option<BTreeMap<String, String>> {
        self.lock()
            .connectors
            .get(&(cluster.to_string(), name.to_string()))
            .map(|l| l.config.clone())
    }

    /// Makes a connector fail again after every restart (or not).
    pub fn set_fails_again(&self, cluster: &str, name: &str, fails_again: bool) -> bool {
        match self
            .lock()
            .connectors
            .get_mut(&(cluster.to_string(), name.to_string()))
        {
            Some(l) => {
                l.spec.fails_again = fails_again;
                true
            }
            None => false,
        }
    }
}

pub(crate) async fn create_handler(
    State(sim): State<Sim>,
    Path(cluster): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    struct Create {
        #[serde(default)]
        name: String,
        #[serde(default)]
        config: Option<BTreeMap<String, String>>,
    }
    let create: Create = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            let r = invalid_body(&e.to_string());
            sim.count("create", r.status());
            return r;
        }
    };
    // The request is validated before anything else, as the gateway does.
    let mut violations = Vec::new();
    if create.name.is_empty() {
        violations.push(("connector.name", "value is required"));
    }
    if create.config.is_none() {
        violations.push(("connector.config", "value is required"));
    }
    if !violations.is_empty() {
        let r = wire::invalid_input(&violations);
        sim.count("create", r.status());
        return r;
    }
    let name = create.name.clone();
    let config = create.config.unwrap_or_default();
    gated(&sim, "create", (&cluster, &name), &headers, async {
        let refused = |status: StatusCode, message: &str| {
            wire::connect_error(status, &format!("failed to create connector: {message}"))
        };
        if sim.current(&cluster, &name).is_some() {
            return wire::rpc_error(
                StatusCode::CONFLICT,
                "ALREADY_EXISTS",
                &format!("failed to create connector: Connector {name} already exists (409)"),
                Some("REASON_KAFKA_CONNECT_API_ERROR"),
            );
        }
        let (plugins, version, _) = sim.plugins_of(&cluster);
        let type_ = match validate_config(&name, &config, &plugins, &version) {
            Ok(t) => t,
            Err((status, message)) => return refused(status, &message),
        };
        sim.put_connector(&cluster, &name, config.clone(), &type_);
        json_response(
            StatusCode::CREATED,
            json!({"connector": connector_json(&name, &config, 0, &type_)}),
        )
    })
    .await
}

pub(crate) async fn info_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    gated(&sim, "info", (&cluster, &name), &headers, async {
        match (sim.current(&cluster, &name), sim.config_of(&cluster, &name)) {
            (Some((spec, state, _)), Some(config)) => {
                let tasks = state.tasks.iter().map(|t| t.count.max(1)).sum();
                json_response(
                    StatusCode::OK,
                    json!({"connector": connector_json(&name, &config, tasks, &spec.type_)}),
                )
            }
            _ => no_connector(&name),
        }
    })
    .await
}

pub(crate) async fn delete_connector_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    gated(&sim, "delete", (&cluster, &name), &headers, async {
        if sim.current(&cluster, &name).is_none() {
            return no_connector(&name);
        }
        sim.delete(&cluster, &name);
        StatusCode::NO_CONTENT.into_response()
    })
    .await
}

pub(crate) async fn config_get_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    gated(&sim, "config", (&cluster, &name), &headers, async {
        match (sim.current(&cluster, &name), sim.config_of(&cluster, &name)) {
            (Some(_), Some(mut config)) => {
                config.insert("name".into(), name.clone());
                json_response(StatusCode::OK, json!({ "config": config }))
            }
            _ => no_connector(&name),
        }
    })
    .await
}

pub(crate) async fn config_put_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    gated(&sim, "put_config", (&cluster, &name), &headers, async {
        let Ok(config) = serde_json::from_slice::<BTreeMap<String, String>>(&body) else {
            return invalid_body("expected a map of strings");
        };
        let (plugins, version, _) = sim.plugins_of(&cluster);
        let type_ = match validate_config(&name, &config, &plugins, &version) {
            Ok(t) => t,
            Err((status, message)) => return wire::connect_error(status, &message),
        };
        let created = sim.put_connector(&cluster, &name, config.clone(), &type_);
        let (status, tasks) = if created {
            (StatusCode::CREATED, 0)
        } else {
            (StatusCode::OK, tasks_of(&config))
        };
        json_response(
            status,
            json!({"connector": connector_json(&name, &config, tasks, &type_)}),
        )
    })
    .await
}

pub(crate) async fn topics_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    gated(&sim, "topics", (&cluster, &name), &headers, async {
        // A connector that does not exist has no topics: 200 with none, as observed.
        let config = sim.config_of(&cluster, &name).unwrap_or_default();
        let topics: Vec<&str> = ["topic", "topics"]
            .iter()
            .filter_map(|k| config.get(*k))
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        json_response(StatusCode::OK, json!({ "topics": topics }))
    })
    .await
}

pub(crate) async fn topics_reset_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    gated(&sim, "topics_reset", (&cluster, &name), &headers, async {
        json_response(StatusCode::OK, json!({}))
    })
    .await
}

pub(crate) async fn restart_handler(
    State(sim): State<Sim>,
    Path((cluster, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    gated(&sim, "restart", (&cluster, &name), &headers, async {
        #[derive(serde::Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct Restart {
            #[serde(default)]
            include_tasks: bool,
            #[serde(default)]
            only_failed: bool,
        }
        // Without a body the server restarts the connector instance only (as observed).
        let restart = if body.iter().all(u8::is_ascii_whitespace) {
            Restart::default()
        } else {
            match serde_json::from_slice::<Restart>(&body) {
                Ok(r) => r,
                Err(_) => {
                    return invalid_body(
                        r#"expected {"include_tasks": bool, "only_failed": bool}"#,
                    );
                }
            }
        };
        let Some((_, state, faults)) = sim.current(&cluster, &name) else {
            return wire::connect_error(
                StatusCode::NOT_FOUND,
                &format!("Unknown connector: {name} (404)"),
            );
        };
        if let Some(r) = apply_faults(&faults).await {
            return r;
        }
        let fails_again = sim
            .lock()
            .connectors
            .get(&(cluster.clone(), name.clone()))
            .is_some_and(|l| l.spec.fails_again);
        if !fails_again {
            let restart_one = |s: &str| !restart.only_failed || s == "FAILED";
            let mut next = state.clone();
            if restart_one(&state.state) {
                next.state = "RUNNING".into();
                next.trace = String::new();
            }
            for t in &mut next.tasks {
                if restart.include_tasks && restart_one(&t.state) {
                    t.state = "RUNNING".into();
                    t.trace = String::new();
                }
            }
            sim.set_status(&cluster, &name, next);
        }
        StatusCode::NO_CONTENT.into_response()
    })
    .await
}

pub(crate) async fn state_handler(
    State(sim): State<Sim>,
    Path((cluster, name, action)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let endpoint = match action.as_str() {
        "pause" => "pause",
        "resume" => "resume",
        "stop" => "stop",
        _ => "unknown",
    };
    if endpoint == "unknown" {
        sim.count(endpoint, StatusCode::NOT_FOUND);
        return StatusCode::NOT_FOUND.into_response();
    }
    gated(&sim, endpoint, (&cluster, &name), &headers, async {
        let Some((_, state, _)) = sim.current(&cluster, &name) else {
            return wire::connect_error(
                StatusCode::NOT_FOUND,
                &format!("Unknown connector {name} (404)"),
            );
        };
        let tasks = sim
            .config_of(&cluster, &name)
            .filter(|c| !c.is_empty())
            .map(|c| tasks_of(&c))
            .unwrap_or(
                state
                    .tasks
                    .iter()
                    .map(|t| t.count.max(1))
                    .sum::<usize>()
                    .max(1),
            );
        let (connector, task) = match endpoint {
            "pause" => ("PAUSED", Some("PAUSED")),
            "resume" => ("RUNNING", Some("RUNNING")),
            _ => ("STOPPED", None),
        };
        let worker = state.worker_id.clone();
        let mut next = state;
        next.state = connector.into();
        next.trace = String::new();
        next.tasks = match task {
            Some(t) => (0..tasks)
                .map(|_| {
                    let mut t = crate::scenario::TaskScenario::new(t);
                    t.worker_id = worker.clone();
                    t
                })
                .collect(),
            None => Vec::new(),
        };
        sim.set_status(&cluster, &name, next);
        json_response(StatusCode::ACCEPTED, json!({}))
    })
    .await
}
