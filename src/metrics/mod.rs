//! Prometheus metrics, in the text format `/metrics` serves.
//!
//! Per-resource series follow kube-state-metrics' "state set" style: one series per possible
//! holistic state, `1` for the current one and `0` for the others, so alerts select `== 1` and need
//! no regex. Series of deleted resources are removed (see [`Metrics::forget`]). No label or value
//! ever carries a credential. Beside them: `managed_connector_build_info` and the conventional
//! `process_*` series ([`process`]).

pub mod process;
mod resource;

pub use resource::ConnectorMetrics;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Identifies one ManagedConnector in per-resource series. Shared strings: a resource has
/// sixteen series, and fleets have thousands of resources.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabels {
    /// Namespace of the resource.
    pub namespace: Arc<str>,
    /// Name of the resource.
    pub name: Arc<str>,
}

impl ResourceLabels {
    /// Labels of `namespace/name`.
    pub fn new(namespace: &str, name: &str) -> Self {
        ResourceLabels {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    namespace: Arc<str>,
    name: Arc<str>,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceReasonLabels {
    namespace: Arc<str>,
    name: Arc<str>,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    source: &'static str,
    endpoint: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    source: &'static str,
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
    trigger: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ViaLabels {
    via: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// Task states reported by `managed_connector_tasks`.
const TASK_STATES: [&str; 6] = [
    "RUNNING",
    "FAILED",
    "PAUSED",
    "RESTARTING",
    "UNASSIGNED",
    "OTHER",
];

/// Probe results the alerts watch, created at zero (see [`Metrics::new`]).
fn probe_results() -> [&'static str; 6] {
    use crate::probe::FailureKind::*;
    [
        "ok",
        "deferred",
        TokenQuotaExceeded.reason(),
        CredentialsRejected.reason(),
        Unauthenticated.reason(),
        PermissionDenied.reason(),
    ]
}

/// Event reasons the alerts watch, created at zero.
const ALERTED_EVENTS: [&str; 1] = [crate::status::GAVE_UP];

/// A running reconcile; dropping it takes it off `managed_connector_reconciles_in_flight`.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Every metric the operator exports. Cheap to clone: the families share their storage.
#[derive(Clone)]
pub struct Metrics {
    holistic_state: Family<StateLabels, Gauge>,
    ready: Family<ResourceLabels, Gauge>,
    ready_reason: Family<ResourceReasonLabels, Gauge>,
    /// The reason each resource's `ready_reason` series carries now, so a change removes the old.
    reasons: Arc<Mutex<HashMap<ResourceLabels, String>>>,
    tasks: Family<StateLabels, Gauge>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<EndpointLabels, Histogram>,
    probes: Family<ResultLabels, Counter>,
    reconciles: Counter,
    in_flight: Gauge,
    reconcile_errors: Family<ResultLabels, Counter>,
    token_requests: Family<OutcomeLabels, Counter>,
    tokens_issued: Counter,
    status_patches: Counter,
    events: Family<ReasonLabels, Counter>,
    watched: Gauge,
    batch_groups: Gauge,
    batched: Gauge,
    observations: Family<ViaLabels, Counter>,
    actions: Family<ActionLabels, Counter>,
    /// Which per-resource series are kept.
    connector_metrics: ConnectorMetrics,
}

impl Metrics {
    /// Creates the metrics with every per-resource series and registers them (prefix
    /// `managed_connector`).
    pub fn new(registry: &mut Registry) -> Self {
        Metrics::with(registry, ConnectorMetrics::Full)
    }

    /// Creates the metrics, keeping the per-resource series `connector_metrics` says.
    pub fn with(registry: &mut Registry, connector_metrics: ConnectorMetrics) -> Self {
        let m = Metrics {
            holistic_state: Family::default(),
            ready: Family::default(),
            ready_reason: Family::default(),
            reasons: Arc::default(),
            tasks: Family::default(),
            requests: Family::default(),
            latency: Family::new_with_constructor(|| {
                Histogram::new([
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ])
            }),
            probes: Family::default(),
            reconciles: Counter::default(),
            in_flight: Gauge::default(),
            reconcile_errors: Family::default(),
            token_requests: Family::default(),
            tokens_issued: Counter::default(),
            status_patches: Counter::default(),
            events: Family::default(),
            watched: Gauge::default(),
            batch_groups: Gauge::default(),
            batched: Gauge::default(),
            observations: Family::default(),
            actions: Family::default(),
            connector_metrics,
        };
        m.register(registry.sub_registry_with_prefix("managed_connector"));
        m.born_at_zero();
        registry
            .sub_registry_with_prefix("managed_connector")
            .register(
                "build",
                "The operator's version: always 1, with the version as label",
                prometheus_client::metrics::info::Info::new(vec![(
                    "version".to_string(),
                    env!("CARGO_PKG_VERSION").to_string(),
                )]),
            );
        registry.register_collector(Box::new(process::ProcessCollector));
        m
    }

    /// Every family with its help text, as `/metrics` lists it.
    fn register(&self, r: &mut Registry) {
        r.register(
            "holistic_state",
            "Holistic state of each ManagedConnector: 1 for the current state, 0 for the others",
            self.holistic_state.clone(),
        );
        r.register(
            "ready",
            "1 when the ManagedConnector's Ready condition is True, else 0",
            self.ready.clone(),
        );
        r.register(
        "ready_reason",
        "The reason of each ManagedConnector's Ready condition (a CamelCase word such as Healthy, Degraded, ConnectorNotFound, CredentialsRejected), always 1; its message is in the resource's status",
        self.ready_reason.clone(),
    );
        r.register(
            "tasks",
            "Tasks of each ManagedConnector by Kafka Connect state",
            self.tasks.clone(),
        );
        r.register(
        "requests",
        "Requests to the status sources by source (dataplane, kafka_connect), endpoint (status: one connector, list: a page of a cluster's connectors) and outcome",
        self.requests.clone(),
    );
        r.register(
            "request_duration_seconds",
            "Latency of requests to the status sources by source and endpoint",
            self.latency.clone(),
        );
        r.register(
            "probes",
            "Status probes by result: ok, or the failure's condition reason",
            self.probes.clone(),
        );
        r.register("reconciles", "Reconciles started", self.reconciles.clone());
        r.register(
        "reconciles_in_flight",
        "Reconciles running now; at the limit (4 x --max-concurrent-requests) further resources wait in the queue",
        self.in_flight.clone(),
    );
        r.register(
            "reconcile_errors",
            "Reconciles that failed on the Kubernetes side, by error",
            self.reconcile_errors.clone(),
        );
        r.register(
            "token_requests",
            "OAuth2 token requests to the token endpoint by outcome",
            self.token_requests.clone(),
        );
        r.register(
        "tokens_issued",
        "Tokens the token endpoints issued (each counts against the organisation's daily quota)",
        self.tokens_issued.clone(),
    );
        r.register(
            "status_patches",
            "Status writes to the Kubernetes API server",
            self.status_patches.clone(),
        );
        r.register(
            "watched_resources",
            "ManagedConnectors in the operator's watch cache",
            self.watched.clone(),
        );
        r.register(
            "batch_groups",
            "Connect clusters read by listing (one poller each)",
            self.batch_groups.clone(),
        );
        r.register(
        "observations",
        "Connector statuses read from a source, by how: list (a resource served by its cluster's listing) or single (one request)",
        self.observations.clone(),
    );
        r.register(
            "batched_resources",
            "ManagedConnectors served from their cluster's listing",
            self.batched.clone(),
        );
        r.register(
            "events",
            "Kubernetes Events published, by reason",
            self.events.clone(),
        );
        r.register(
        "actions",
        "Commands sent to connectors, by action (put_config, pause, resume, stop, restart, restart_task, delete, list_offsets, alter_offsets, reset_offsets, reset_topics), trigger (automatic, requested, declared, deletion) and outcome (ok or a failure reason)",
        self.actions.clone(),
    );
    }

    /// Series an alert watches, created at zero.
    fn born_at_zero(&self) {
        // Series an alert takes the rate or increase of exist from the start: a counter born at
        // 1 shows Prometheus no increase, so its first occurrence would go unnoticed.
        for result in probe_results() {
            self.probes
                .get_or_create(&ResultLabels { result })
                .inc_by(0);
        }
        for result in ["api", "client", "metadata", "fenced"] {
            self.reconcile_errors
                .get_or_create(&ResultLabels { result })
                .inc_by(0);
        }
        for reason in ALERTED_EVENTS {
            self.events
                .get_or_create(&ReasonLabels {
                    reason: reason.to_string(),
                })
                .inc_by(0);
        }
    }

    /// Counts a reconcile as running until the returned guard is dropped.
    pub fn reconcile_running(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Counts one command sent to a connector.
    pub fn action(&self, action: &'static str, trigger: &'static str, outcome: &'static str) {
        self.actions
            .get_or_create(&ActionLabels {
                action,
                trigger,
                outcome,
            })
            .inc();
    }

    /// Counts one request to a status source and its latency.
    pub fn request(
        &self,
        source: &'static str,
        endpoint: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                source,
                endpoint,
                outcome,
            })
            .inc();
        self.latency
            .get_or_create(&EndpointLabels { source, endpoint })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one probe by result (`ok` or a failure reason).
    pub fn probe(&self, result: &'static str) {
        self.probes.get_or_create(&ResultLabels { result }).inc();
    }

    /// Counts one reconcile.
    pub fn reconcile(&self) {
        self.reconciles.inc();
    }

    /// Counts one failed reconcile.
    pub fn reconcile_error(&self, result: &'static str) {
        self.reconcile_errors
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// Counts one token endpoint request.
    pub fn token_request(&self, outcome: &'static str) {
        self.token_requests
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts one token issued.
    pub fn token_issued(&self) {
        self.tokens_issued.inc();
    }

    /// Counts one status write.
    pub fn status_patch(&self) {
        self.status_patches.inc();
    }

    /// Sets the number of watched resources.
    pub fn set_watched(&self, n: usize) {
        self.watched.set(n as i64);
    }

    /// Counts `n` connector statuses read `via` a listing or a single request.
    pub fn observed(&self, via: &'static str, n: usize) {
        self.observations
            .get_or_create(&ViaLabels { via })
            .inc_by(n as u64);
    }

    /// Sets the number of batched groups and of the resources in them.
    pub fn set_batched(&self, groups: usize, resources: usize) {
        self.batch_groups.set(groups as i64);
        self.batched.set(resources as i64);
    }

    /// Counts one published Event.
    pub fn event(&self, reason: &str) {
        self.events
            .get_or_create(&ReasonLabels {
                reason: reason.to_string(),
            })
            .inc();
    }
}

fn reason_labels(who: &ResourceLabels, reason: String) -> ResourceReasonLabels {
    ResourceReasonLabels {
        namespace: who.namespace.clone(),
        name: who.name.clone(),
        reason,
    }
}

fn state_labels(who: &ResourceLabels, state: &'static str) -> StateLabels {
    StateLabels {
        namespace: who.namespace.clone(),
        name: who.name.clone(),
        state,
    }
}

/// Renders the registry in the Prometheus text format.
///
/// The text is sized from the last one: at 10,000 resources it is tens of MiB, and a String
/// grown by doubling holds up to twice that, plus the old buffer while it copies, at every
/// scrape (heaptrack showed the scrape as the largest single peak allocation).
pub fn render(registry: &Registry) -> String {
    static LAST_LEN: AtomicUsize = AtomicUsize::new(0);
    let last = LAST_LEN.load(Ordering::Relaxed);
    let mut out = String::with_capacity(last.saturating_add(last / 32).saturating_add(4096));
    // Encoding into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    LAST_LEN.store(out.len(), Ordering::Relaxed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::HolisticState;
    use crate::health::TaskCounts;

    #[test]
    fn build_info_and_process_series_are_exported() {
        let mut registry = Registry::default();
        let _m = Metrics::new(&mut registry);
        let text = render(&registry);
        assert!(
            text.contains(&format!(
                "managed_connector_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        for series in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_open_fds ",
            "process_start_time_seconds ",
        ] {
            assert!(text.contains(series), "{series} in {text}");
        }
    }

    #[test]
    fn state_set_has_one_current_state_and_is_forgotten_on_delete() {
        let mut registry = Registry::default();
        let m = Metrics::new(&mut registry);
        let who = ResourceLabels::new("ns", "orders");
        m.set_connector(
            &who,
            Some(HolisticState::Degraded),
            Some(TaskCounts::of(["RUNNING", "FAILED"])),
        );
        let text = render(&registry);
        assert!(text.contains(
            r#"managed_connector_holistic_state{namespace="ns",name="orders",state="Degraded"} 1"#
        ));
        assert!(text.contains(
            r#"managed_connector_holistic_state{namespace="ns",name="orders",state="Healthy"} 0"#
        ));
        assert!(
            text.contains(
                r#"managed_connector_tasks{namespace="ns",name="orders",state="FAILED"} 1"#
            )
        );
        m.set_connector(&who, None, None);
        let text = render(&registry);
        assert!(
            !text.contains(r#"managed_connector_tasks{namespace="ns",name="orders""#),
            "{text}"
        );
        assert!(text.contains(
            r#"managed_connector_holistic_state{namespace="ns",name="orders",state="Degraded"} 0"#
        ));
        m.set_ready(&who, false, "Degraded");
        m.set_ready(&who, true, "Healthy");
        let text = render(&registry);
        assert!(
            text.contains(
                r#"managed_connector_ready_reason{namespace="ns",name="orders",reason="Healthy"} 1"#
            ),
            "{text}"
        );
        assert!(
            !text.contains(r#"reason="Degraded""#),
            "the old reason is gone: {text}"
        );
        m.forget(&who);
        assert!(!render(&registry).contains("orders"));
    }

    #[test]
    fn requests_are_labelled_by_source_endpoint_and_outcome() {
        let mut registry = Registry::default();
        let m = Metrics::new(&mut registry);
        m.request("dataplane", "list", "ok", Duration::from_millis(20));
        m.request(
            "kafka_connect",
            "status",
            "timeout",
            Duration::from_secs(10),
        );
        let text = render(&registry);
        assert!(
            text.contains(
                r#"managed_connector_requests_total{source="dataplane",endpoint="list",outcome="ok"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"managed_connector_request_duration_seconds_bucket{le="0.025",source="dataplane",endpoint="list"} 1"#),
            "{text}"
        );
    }
}
