//! The probe path (credentials → token → Data Plane → assessment → status) against the Data Plane
//! simulator running in-process over real HTTP. Kubernetes is replaced only by a map of Secrets;
//! the same code runs against a real API server in `tests/e2e/`.

mod common;

use dataplane_sim::Sim;
use dataplane_sim::scenario::{BodyShape, ConnectorScenario, Faults, Scenario};
use futures::FutureExt;
use futures::StreamExt;
use futures::future::BoxFuture;
use k8s_openapi::jiff::Timestamp;
use kube::api::ObjectMeta;
use kube::runtime::reflector::ObjectRef;
use managed_connector_operator::batch::{BatchMode, Batcher, Serve};
use managed_connector_operator::config::OperatorConfig;
use managed_connector_operator::crd::{
    DataplaneSource, HolisticState, ManagedConnector, ManagedConnectorSpec, ManagedConnectorStatus,
    SecretReference, SourceKind,
};
use managed_connector_operator::dataplane::ClientConfig;
use managed_connector_operator::dataplane::auth::AuthDefaults;
use managed_connector_operator::metrics::Metrics;
use managed_connector_operator::probe::{Failure, FailureKind, Observation};
use managed_connector_operator::prober::Prober;
use managed_connector_operator::ref_cache::RefSource;
use managed_connector_operator::refs::{Data, Lookup, RefKind};
use managed_connector_operator::resolve::Target;
use managed_connector_operator::status::{self, Outcome, Settings, Subject};
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

const SCENARIO: &str = r#"
auth:
  clients: [{clientId: operator, clientSecret: s3cret}]
  staticTokens: [static-token]
clusters:
  redpanda:
    connectors:
      - {name: healthy, state: RUNNING, tasks: [{state: RUNNING, count: 2}]}
      - name: degraded
        tasks:
          - {state: RUNNING}
          - state: FAILED
            trace: "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask\n\tat a.B.c(B.java:1)\nCaused by: java.net.ConnectException: Connection refused\n\tat d.E.f(E.java:2)"
      - {name: "weird/name with space?", tasks: [{state: RUNNING}]}
      - {name: paused, state: PAUSED, tasks: [{state: PAUSED}]}
"#;

/// Secrets by (namespace, name), standing in for the Kubernetes API.
#[derive(Default)]
struct Secrets(Mutex<HashMap<(String, String), Data>>);

impl Secrets {
    fn put(&self, ns: &str, name: &str, pairs: &[(&str, &str)]) {
        let data = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        self.0
            .lock()
            .unwrap()
            .insert((ns.into(), name.into()), data);
    }
}

impl RefSource for Secrets {
    fn lookup<'a>(
        &'a self,
        kind: RefKind,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Lookup, kube::Error>> {
        let found = match kind {
            RefKind::Secret => self
                .0
                .lock()
                .unwrap()
                .get(&(namespace.into(), name.into()))
                .cloned(),
            RefKind::ConfigMap | RefKind::Namespace => None,
        };
        async move { Ok(found.map(Lookup::Found).unwrap_or(Lookup::Missing)) }.boxed()
    }

    fn forget(&self, _: RefKind, _: &str, _: &str) {}
}

struct Harness {
    sim: Sim,
    url: Url,
    prober: Arc<Prober>,
    secrets: Arc<Secrets>,
    registry: Registry,
}

async fn harness_with(scenario: &str, client: ClientConfig) -> Harness {
    let sim = Sim::new(Scenario::parse(scenario).expect("scenario"));
    let addr = sim
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim starts");
    let url = Url::parse(&format!("http://{addr}")).unwrap();
    let secrets = Arc::new(Secrets::default());
    secrets.put(
        "team",
        "creds",
        &[("client_id", "operator"), ("client_secret", "s3cret")],
    );
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let config = OperatorConfig {
        default_dataplane_url: Some(url.clone()),
        default_credentials_secret: None,
        auth_defaults: AuthDefaults {
            token_url: url.join("/oauth/token").unwrap(),
            audience: "cloudv2-production.redpanda.cloud".into(),
        },
        ..OperatorConfig::default()
    };
    let prober = Arc::new(Prober::new(&client, metrics, secrets.clone(), config).expect("client"));
    Harness {
        sim,
        url,
        prober,
        secrets,
        registry,
    }
}

/// A harness whose tokens may be replaced at once after a 401 (the one-token-a-minute guard
/// has its own test, with the default interval).
async fn harness() -> Harness {
    harness_with(
        SCENARIO,
        ClientConfig {
            max_requests_per_second: 1000,
            min_token_interval: Duration::ZERO,
            ..ClientConfig::default()
        },
    )
    .await
}

fn resource(connector: &str, secret: &str) -> ManagedConnector {
    let mut mc = ManagedConnector::new(
        "mc",
        ManagedConnectorSpec {
            connector_name: Some(connector.into()),
            dataplane: Some(DataplaneSource {
                url: None,
                credentials_secret_ref: Some(SecretReference {
                    name: secret.into(),
                }),
            }),
            ..Default::default()
        },
    );
    mc.metadata = ObjectMeta {
        name: Some("mc".into()),
        namespace: Some("team".into()),
        generation: Some(1),
        creation_timestamp: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            Timestamp::now(),
        )),
        ..Default::default()
    };
    mc
}

impl Harness {
    async fn observe(&self, connector: &str) -> Observation {
        self.prober
            .observe(&resource(connector, "creds"))
            .await
            .expect("no Kubernetes error")
    }

    async fn failure(&self, connector: &str) -> Failure {
        match self.observe(connector).await {
            Observation::Failed(f) => f,
            other => panic!("expected a failure for {connector}, got {other:?}"),
        }
    }

    async fn state(&self, connector: &str) -> HolisticState {
        match self.observe(connector).await {
            Observation::Found { assessment, .. } => assessment.state,
            other => panic!("{connector}: {other:?}"),
        }
    }

    /// One reconcile's worth of status: probe, then build on `prev`.
    async fn status(
        &self,
        connector: &str,
        prev: Option<&ManagedConnectorStatus>,
    ) -> ManagedConnectorStatus {
        let mc = resource(connector, "creds");
        let observation = self.prober.observe(&mc).await.unwrap();
        let subject = Subject {
            generation: Some(1),
            created: mc.metadata.creation_timestamp.as_ref().map(|t| t.0),
            connector_name: connector.into(),
            cluster_name: "redpanda".into(),
            source: SourceKind::DataPlane,
        };
        status::desired_status(
            prev,
            &subject,
            &Outcome::Probed(observation),
            Timestamp::now(),
            &Settings::default(),
        )
    }
}

fn ready(s: &ManagedConnectorStatus) -> (String, String) {
    let c = s
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .expect("Ready");
    (c.status.clone(), c.reason.clone())
}

fn synced(s: &ManagedConnectorStatus) -> (String, String) {
    let c = s
        .conditions
        .iter()
        .find(|c| c.type_ == "Synced")
        .expect("Synced");
    (c.status.clone(), c.reason.clone())
}

#[tokio::test]
async fn both_body_shapes_with_and_without_server_computed_state_give_the_same_status() {
    let h = harness().await;
    let mut seen = Vec::new();
    for shape in [BodyShape::Wrapped, BodyShape::Flat] {
        for computed in [true, false] {
            h.sim.set_shape(shape, computed);
            let s = h.status("degraded", None).await;
            assert_eq!(
                s.holistic_state,
                Some(HolisticState::Degraded),
                "{shape:?} {computed}"
            );
            assert_eq!(s.tasks_ready.as_deref(), Some("1/2"));
            assert_eq!(s.errors.len(), 2);
            assert_eq!(s.errors[1].content, "Connection refused");
            seen.push((s.errors.clone(), s.tasks.clone(), s.connector.clone()));
        }
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "every shape yields the same status"
    );
    assert_eq!(h.state("healthy").await, HolisticState::Healthy);
    assert_eq!(h.state("paused").await, HolisticState::Paused);
}

#[tokio::test]
async fn connector_names_are_percent_encoded() {
    let h = harness().await;
    assert_eq!(
        h.state("weird/name with space?").await,
        HolisticState::Healthy
    );
    assert_eq!(
        h.sim.counts().by_connector.get("weird/name with space?"),
        Some(&1)
    );
}

#[tokio::test]
async fn one_token_serves_every_probe() {
    let h = harness().await;
    let probes = (0..20).map(|i| {
        let h = &h;
        async move {
            h.state(if i % 2 == 0 { "healthy" } else { "degraded" })
                .await
        }
    });
    futures::future::join_all(probes).await;
    let counts = h.sim.counts();
    assert_eq!(counts.tokens_issued, 1, "{counts:?}");
    assert_eq!(counts.endpoint("status"), 20);
    let text = managed_connector_operator::metrics::render(&h.registry);
    assert!(
        text.contains(r#"managed_connector_token_requests_total{outcome="ok"} 1"#),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "no secret in metrics");
}

#[tokio::test]
async fn a_revoked_token_is_refreshed_once_then_reported() {
    let h = harness().await;
    h.state("healthy").await;
    h.sim.revoke_tokens();
    assert_eq!(
        h.state("healthy").await,
        HolisticState::Healthy,
        "401 → new token → success"
    );
    let c = h.sim.counts();
    assert_eq!(c.tokens_issued, 2);
    assert_eq!(c.by_endpoint.get("status 401"), Some(&1));

    // A static token the server refuses: no token endpoint to ask, reported at once.
    h.secrets
        .put("team", "static", &[("token", "not-the-right-one")]);
    let f = match h
        .prober
        .observe(&resource("healthy", "static"))
        .await
        .unwrap()
    {
        Observation::Failed(f) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(f.kind, FailureKind::Unauthenticated);
    assert!(
        !f.message.contains("not-the-right-one"),
        "token not in message: {}",
        f.message
    );
    h.secrets
        .put("team", "static", &[("token", "static-token")]);
    assert!(matches!(
        h.prober
            .observe(&resource("healthy", "static"))
            .await
            .unwrap(),
        Observation::Found { .. }
    ));
}

#[tokio::test]
async fn a_url_that_refuses_every_token_costs_one_token_per_interval() {
    // The attack: a resource whose Data Plane URL answers 401 to every token, with a token
    // endpoint whose quota the whole organisation shares. Before the guard, every probe fetched
    // a new token.
    let h = harness_with(SCENARIO, ClientConfig::default()).await;
    let refuser = Sim::new(Scenario::parse("clusters: {redpanda: {}}").unwrap());
    let refuser_url = format!(
        "http://{}",
        refuser.start("127.0.0.1:0".parse().unwrap()).await.unwrap()
    );
    h.secrets.put(
        "team",
        "org-creds",
        &[
            ("client_id", "operator"),
            ("client_secret", "s3cret"),
            ("token_url", h.url.join("/oauth/token").unwrap().as_str()),
        ],
    );
    let mut mc = resource("healthy", "org-creds");
    mc.spec.dataplane.as_mut().unwrap().url = Some(refuser_url);
    for probe in 0..20 {
        let Observation::Failed(f) = h.prober.observe(&mc).await.unwrap() else {
            panic!("the refuser accepts nothing")
        };
        assert_eq!(f.kind, FailureKind::Unauthenticated, "probe {probe}: {f:?}");
        if probe > 0 {
            assert!(
                f.retry_after.unwrap() > Duration::from_secs(50),
                "tells when the next token may be requested: {f:?}"
            );
        }
    }
    assert_eq!(
        h.sim.counts().tokens_issued,
        1,
        "one token for twenty probes"
    );
    assert_eq!(
        refuser.counts().endpoint("status"),
        1,
        "and no request without a token to send"
    );
    let text = managed_connector_operator::metrics::render(&h.registry);
    assert!(
        text.contains("managed_connector_tokens_issued_total 1"),
        "{text}"
    );
}

#[tokio::test]
async fn answers_built_to_overflow_the_clock_are_survived() {
    // The attack: a token endpoint (any tenant may name one in its Secret) that says its tokens
    // live 2^64-1 seconds, and a Data Plane that asks to come back in 2^64-1 seconds. Before the
    // caps, `Instant + Duration` panicked in the reconciler and took the operator down.
    let scenario = SCENARIO.replace(
        "staticTokens: [static-token]",
        "staticTokens: [static-token]\n  expiresInSeconds: 18446744073709551615",
    );
    let h = harness_with(&scenario, ClientConfig::default()).await;
    assert_eq!(h.state("healthy").await, HolisticState::Healthy);
    h.sim.set_faults(
        "redpanda",
        "healthy",
        Faults {
            status: Some(429),
            retry_after: Some(u64::MAX),
            ..Faults::default()
        },
    );
    let f = h.failure("healthy").await;
    assert_eq!(f.kind, FailureKind::DataPlaneUnavailable);
    assert_eq!(
        f.retry_after,
        Some(managed_connector_operator::http::MAX_SERVER_WAIT)
    );
    let next =
        managed_connector_operator::schedule::next_poll(Some(&f), 1, Duration::from_secs(30), 0.5);
    assert!(
        next <= managed_connector_operator::http::MAX_SERVER_WAIT
            + managed_connector_operator::schedule::AFTER_THE_PAUSE,
        "{next:?}"
    );
}

#[tokio::test]
async fn the_token_quota_makes_the_operator_back_off() {
    let scenario = SCENARIO.replace(
        "staticTokens: [static-token]",
        "staticTokens: [static-token]\n  dailyQuota: 1",
    );
    let h = harness_with(
        &scenario,
        ClientConfig {
            min_token_interval: Duration::ZERO,
            ..ClientConfig::default()
        },
    )
    .await;
    h.state("healthy").await;
    h.sim.revoke_tokens();
    let f = h.failure("healthy").await;
    assert_eq!(f.kind, FailureKind::TokenQuotaExceeded);
    assert!(
        f.retry_after.unwrap() > Duration::from_secs(40_000),
        "waits for the quota reset: {f:?}"
    );
    let before = h.sim.counts().endpoint("token");
    for _ in 0..5 {
        assert_eq!(
            h.failure("degraded").await.kind,
            FailureKind::TokenQuotaExceeded
        );
    }
    assert_eq!(
        h.sim.counts().endpoint("token"),
        before,
        "no token request while blocked"
    );
}

#[tokio::test]
async fn every_error_class_gets_its_failure() {
    let h = harness().await;
    assert_eq!(
        h.failure("no-such-connector").await.kind,
        FailureKind::ConnectorNotFound
    );

    let mut wrong_cluster = resource("healthy", "creds");
    wrong_cluster.spec.cluster_name = "other".into();
    let f = match h.prober.observe(&wrong_cluster).await.unwrap() {
        Observation::Failed(f) => f,
        o => panic!("{o:?}"),
    };
    assert_eq!(f.kind, FailureKind::ClusterNotFound, "{f:?}");

    let mut bad_param = resource("healthy", "creds");
    bad_param.spec.cluster_name = "bad cluster!".into();
    let f = match h.prober.observe(&bad_param).await.unwrap() {
        Observation::Failed(f) => f,
        o => panic!("{o:?}"),
    };
    assert_eq!(f.kind, FailureKind::InvalidArgument);

    for (secret, pairs, kind) in [
        ("missing", None, FailureKind::CredentialsNotFound),
        (
            "empty",
            Some(vec![("foo", "bar")]),
            FailureKind::CredentialsInvalid,
        ),
        (
            "wrong",
            Some(vec![("client_id", "operator"), ("client_secret", "guess")]),
            FailureKind::CredentialsRejected,
        ),
    ] {
        if let Some(p) = &pairs {
            h.secrets.put("team", secret, p);
        }
        let f = match h
            .prober
            .observe(&resource("healthy", secret))
            .await
            .unwrap()
        {
            Observation::Failed(f) => f,
            o => panic!("{o:?}"),
        };
        assert_eq!(f.kind, kind, "{secret}: {f:?}");
        assert!(
            !f.message.contains("guess"),
            "secret value leaked: {}",
            f.message
        );
    }

    let faults: Vec<(Faults, FailureKind)> = vec![
        (
            Faults {
                forbidden: true,
                ..Default::default()
            },
            FailureKind::PermissionDenied,
        ),
        (
            Faults {
                status: Some(501),
                ..Default::default()
            },
            FailureKind::FeatureNotConfigured,
        ),
        (
            Faults {
                status: Some(500),
                ..Default::default()
            },
            FailureKind::DataPlaneUnavailable,
        ),
        (
            Faults {
                status: Some(503),
                ..Default::default()
            },
            FailureKind::DataPlaneUnavailable,
        ),
        (
            Faults {
                status: Some(409),
                ..Default::default()
            },
            FailureKind::DataPlaneUnavailable,
        ),
        (
            Faults {
                malformed: true,
                ..Default::default()
            },
            FailureKind::InvalidResponse,
        ),
        (
            Faults {
                oversized_bytes: Some(8 * 1024 * 1024),
                ..Default::default()
            },
            FailureKind::InvalidResponse,
        ),
    ];
    for (fault, kind) in faults {
        h.sim.set_faults("redpanda", "healthy", fault.clone());
        let f = h.failure("healthy").await;
        assert_eq!(f.kind, kind, "{fault:?}: {f:?}");
    }
    h.sim.set_faults("redpanda", "healthy", Faults::default());
    assert_eq!(
        h.state("healthy").await,
        HolisticState::Healthy,
        "recovers when the fault clears"
    );

    let mut no_url = resource("healthy", "creds");
    no_url.spec.dataplane = None;
    let bare_metrics = Metrics::new(&mut Registry::default());
    let mut bare = Prober::new(
        &ClientConfig::default(),
        bare_metrics,
        h.secrets.clone(),
        OperatorConfig::default(),
    )
    .unwrap();
    let kind = |o: Observation| match o {
        Observation::Failed(f) => f.kind,
        o => panic!("{o:?}"),
    };
    assert_eq!(
        kind(bare.observe(&no_url).await.unwrap()),
        FailureKind::DataplaneUrlMissing
    );
    bare.config.default_dataplane_url = Some(h.url.clone());
    assert_eq!(
        kind(bare.observe(&no_url).await.unwrap()),
        FailureKind::CredentialsNotFound,
        "no secret named anywhere"
    );
}

#[tokio::test]
async fn rate_limited_answers_carry_retry_after() {
    let h = harness().await;
    h.sim.set_faults(
        "redpanda",
        "healthy",
        Faults {
            status: Some(429),
            retry_after: Some(7),
            ..Default::default()
        },
    );
    let f = h.failure("healthy").await;
    assert_eq!(f.kind, FailureKind::DataPlaneUnavailable);
    assert_eq!(f.retry_after, Some(Duration::from_secs(7)));
    let next =
        managed_connector_operator::schedule::next_poll(Some(&f), 1, Duration::from_secs(30), 0.0);
    assert!(
        next >= Duration::from_secs(7),
        "requeue honours Retry-After: {next:?}"
    );
    // Every other resource of that origin waits out the pause without asking (and without
    // holding a slot): deferred, with the time left.
    let asked = h.sim.counts().endpoint("status");
    match h.observe("degraded").await {
        Observation::Deferred(left) => assert!(
            left > Duration::from_secs(5) && left <= Duration::from_secs(7),
            "{left:?}"
        ),
        other => panic!("expected a deferred probe, got {other:?}"),
    }
    assert_eq!(h.sim.counts().endpoint("status"), asked, "nothing sent");
}

#[tokio::test]
async fn a_hanging_origin_cannot_take_every_request_slot() {
    // The attack: many resources pointing at a tarpit that never answers. Of 4 slots, one origin
    // gets at most 3; a healthy origin is answered while they hang.
    let h = harness_with(
        SCENARIO,
        ClientConfig {
            max_concurrent_requests: 4,
            max_requests_per_second: 1000,
            request_timeout: Duration::from_secs(30),
            min_token_interval: Duration::ZERO,
            ..ClientConfig::default()
        },
    )
    .await;
    h.secrets
        .put("team", "static", &[("token", "static-token")]);
    let tarpit = Sim::new(
        Scenario::parse(
            "auth: {staticTokens: [static-token]}\nfaults: {hang: true}\nclusters: {redpanda: {}}",
        )
        .unwrap(),
    );
    let tarpit_url = format!(
        "http://{}",
        tarpit.start("127.0.0.1:0".parse().unwrap()).await.unwrap()
    );
    let prober = Arc::new(h.prober);
    let hanging: Vec<_> = (0..8)
        .map(|i| {
            let prober = prober.clone();
            let mut mc = resource(&format!("c{i}"), "static");
            mc.spec.dataplane.as_mut().unwrap().url = Some(tarpit_url.clone());
            tokio::spawn(async move { prober.observe(&mc).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answered = prober.observe(&resource("healthy", "creds")).await.unwrap();
    assert!(
        matches!(answered, Observation::Found { .. }),
        "{answered:?}"
    );
    assert!(
        hanging.iter().all(|t| !t.is_finished()),
        "answered while every tarpit probe still hangs"
    );
    assert_eq!(
        tarpit.counts().max_in_flight,
        3,
        "the tarpit held three of the four slots, no more"
    );
    for t in hanging {
        t.abort();
    }
}

#[tokio::test]
async fn slow_answers_succeed_and_hung_ones_time_out() {
    let h = harness_with(
        SCENARIO,
        ClientConfig {
            request_timeout: Duration::from_secs(1),
            ..ClientConfig::default()
        },
    )
    .await;
    h.sim.set_faults(
        "redpanda",
        "healthy",
        Faults {
            latency: Some("300ms".into()),
            ..Default::default()
        },
    );
    assert_eq!(h.state("healthy").await, HolisticState::Healthy);
    h.sim.set_faults(
        "redpanda",
        "healthy",
        Faults {
            hang: true,
            ..Default::default()
        },
    );
    let f = h.failure("healthy").await;
    assert_eq!(f.kind, FailureKind::DataPlaneUnavailable);
    assert!(f.message.contains("no answer within 1s"), "{}", f.message);
    // Headers at once, the body a byte at a time: the timeout covers the body too.
    h.sim.set_faults(
        "redpanda",
        "healthy",
        Faults {
            slow_body: Some("3s".into()),
            ..Default::default()
        },
    );
    let f = h.failure("healthy").await;
    assert_eq!(f.kind, FailureKind::DataPlaneUnavailable);
    assert!(f.message.contains("no answer within 1s"), "{}", f.message);
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let h = harness_with(
        SCENARIO,
        ClientConfig {
            max_concurrent_requests: 4,
            max_requests_per_second: 1000,
            ..ClientConfig::default()
        },
    )
    .await;
    h.sim.set_global_faults(Faults {
        latency: Some("100ms".into()),
        ..Default::default()
    });
    futures::future::join_all((0..12).map(|_| h.state("healthy"))).await;
    let c = h.sim.counts();
    assert_eq!(c.endpoint("status"), 12);
    // One origin: every slot but the quarter kept for other origins.
    assert_eq!(c.max_in_flight, 3, "{c:?}");
}

#[tokio::test]
async fn the_global_rate_limit_spaces_requests() {
    let h = harness_with(
        SCENARIO,
        ClientConfig {
            max_concurrent_requests: 50,
            max_requests_per_second: 4,
            ..ClientConfig::default()
        },
    )
    .await;
    let started = std::time::Instant::now();
    futures::future::join_all((0..12).map(|_| h.state("healthy"))).await;
    // 4/s with a burst of 4: the 12th request cannot leave before 2 s. A lower bound on behaviour,
    // not a speed claim.
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_outage_keeps_the_last_known_state() {
    let h = harness().await;
    let first = h.status("degraded", None).await;
    assert_eq!(ready(&first), ("False".into(), "Degraded".into()));
    h.sim.set_global_faults(Faults {
        status: Some(503),
        ..Default::default()
    });
    let during = h.status("degraded", Some(&first)).await;
    assert_eq!(
        synced(&during),
        ("False".into(), "DataPlaneUnavailable".into())
    );
    assert_eq!(ready(&during), ready(&first));
    assert_eq!(during.tasks, first.tasks);
    assert_eq!(during.errors, first.errors);
    assert_eq!(during.holistic_state, Some(HolisticState::Degraded));
    h.sim.set_global_faults(Faults::default());
    h.sim
        .set_state("redpanda", "degraded", "RUNNING", &["RUNNING", "RUNNING"]);
    let after = h.status("degraded", Some(&during)).await;
    assert_eq!(ready(&after), ("True".into(), "Healthy".into()));
    assert_eq!(synced(&after), ("True".into(), "Synced".into()));
    let events: Vec<_> = status::transition_events(Some(&during), &after)
        .into_iter()
        .map(|e| e.reason)
        .collect();
    assert_eq!(
        events,
        vec!["Healthy".to_string(), "SyncRecovered".to_string()]
    );
}

#[tokio::test]
async fn a_connector_created_later_is_found() {
    let h = harness().await;
    let before = h.status("late", None).await;
    assert_eq!(ready(&before), ("False".into(), "ConnectorNotFound".into()));
    h.sim.upsert(
        "redpanda",
        ConnectorScenario::new("late", "RUNNING", &["RUNNING"]),
    );
    let after = h.status("late", Some(&before)).await;
    assert_eq!(ready(&after), ("True".into(), "Healthy".into()));
}

#[tokio::test]
async fn a_data_plane_behind_a_certificate_of_an_unknown_ca_is_refused_clearly() {
    let h = harness().await;
    let (_ca, cert, key) = common::test_certificates();
    let upstream = h.url.socket_addrs(|| None).unwrap()[0];
    let front = common::tls_front(upstream, &cert, &key).await;
    let mut mc = resource("healthy", "creds");
    mc.spec.dataplane.as_mut().unwrap().url = Some(format!("https://{front}"));
    let Observation::Failed(f) = h.prober.observe(&mc).await.unwrap() else {
        panic!("an unknown CA is not trusted")
    };
    assert_eq!(f.kind, FailureKind::DataPlaneUnavailable);
    assert!(
        f.message.to_lowercase().contains("certificate") || f.message.contains("UnknownIssuer"),
        "says it is the certificate: {}",
        f.message
    );
}

#[tokio::test]
async fn a_token_endpoint_that_is_down_is_reported_and_not_hammered() {
    let h = harness().await;
    // A token endpoint that accepts connections and drops them at once, counting them.
    let broken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = broken.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in broken.incoming() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    h.secrets.put(
        "team",
        "down",
        &[
            ("client_id", "operator"),
            ("client_secret", "s3cret"),
            ("token_url", &format!("http://{closed}/oauth/token")),
        ],
    );
    for attempt in 0..3 {
        let Observation::Failed(f) = h
            .prober
            .observe(&resource("healthy", "down"))
            .await
            .unwrap()
        else {
            panic!("no token, no status")
        };
        assert_eq!(f.kind, FailureKind::DataPlaneUnavailable, "{f:?}");
        assert!(f.message.contains("token endpoint"), "{}", f.message);
        assert!(f.retry_after.is_some(), "says when it tries again");
        if attempt == 0 {
            assert!(f.message.contains("unreachable"), "{}", f.message);
        }
    }
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "asked once, then waits its backoff"
    );
    assert_eq!(
        h.sim.counts().endpoint("status"),
        0,
        "nothing sent without a token"
    );
}

// Batch polling: one listing per cluster, fanned out to the members' reconciles.

const BATCH_SCENARIO: &str = r#"
auth:
  clients: [{clientId: operator, clientSecret: s3cret}]
  staticTokens: [static-token]
clusters:
  redpanda:
    synthetic: {count: 250, prefix: "c-", tasks: 2}
    connectors:
      - {name: broken, state: FAILED, trace: "java.lang.RuntimeException: boom"}
  small:
    connectors:
      - {name: a, tasks: [{state: RUNNING}]}
      - {name: b, tasks: [{state: RUNNING}]}
      - {name: c, tasks: [{state: RUNNING}]}
      - {name: d, tasks: [{state: RUNNING}]}
      - {name: e, tasks: [{state: RUNNING}]}
      - {name: f, tasks: [{state: RUNNING}]}
"#;

type Triggers = futures::channel::mpsc::UnboundedReceiver<ObjectRef<ManagedConnector>>;

struct Batch {
    h: Harness,
    batcher: Arc<Batcher>,
    triggers: Triggers,
}

async fn batch(mode: BatchMode, page_size: u32) -> Batch {
    let h = harness_with(
        BATCH_SCENARIO,
        ClientConfig {
            max_requests_per_second: 1000,
            ..ClientConfig::default()
        },
    )
    .await;
    let (batcher, triggers) = Batcher::new(mode, page_size);
    Batch {
        h,
        batcher: Arc::new(batcher),
        triggers,
    }
}

fn member(name: &str) -> ObjectRef<ManagedConnector> {
    ObjectRef::new(name).within("team")
}

impl Batch {
    async fn target(&self, cluster: &str, connector: &str, secret: &str) -> Target {
        let mut mc = resource(connector, secret);
        mc.spec.cluster_name = cluster.into();
        self.h.prober.target(&mc).await.unwrap().expect("resolves")
    }

    fn serve(&self, name: &str, target: &Target) -> Serve {
        self.batcher
            .serve(&self.h.prober, member(name), target, Duration::from_secs(1))
    }

    /// Waits until each of `names` was triggered at least once.
    async fn triggered(&mut self, names: &[&str]) {
        let mut waiting: std::collections::HashSet<ObjectRef<ManagedConnector>> =
            names.iter().map(|n| member(n)).collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !waiting.is_empty() {
            let next = tokio::time::timeout_at(deadline, self.triggers.next())
                .await
                .expect("members triggered in time")
                .expect("channel open");
            waiting.remove(&next);
        }
    }
}

fn observed(serve: Serve) -> Observation {
    match serve {
        Serve::Observed(o) => *o,
        other => panic!("expected an observation from the snapshot, got {other:?}"),
    }
}

fn state_of(o: &Observation) -> Result<HolisticState, FailureKind> {
    match o {
        Observation::Found { assessment, .. } => Ok(assessment.state),
        Observation::Failed(f) => Err(f.kind),
        Observation::Deferred(_) => panic!("deferred"),
    }
}

#[tokio::test]
async fn a_cluster_is_listed_in_pages_and_every_member_served_from_it() {
    let mut b = batch(BatchMode::Auto, 100).await;
    let mut members = Vec::new();
    for i in 1..=250 {
        members.push((format!("m{i}"), format!("c-{i:05}")));
    }
    members.push(("m-broken".into(), "broken".into()));
    members.push(("m-nope".into(), "nope".into()));
    let mut targets = Vec::new();
    for (name, connector) in &members {
        targets.push(b.target("redpanda", connector, "creds").await);
        let serve = b.serve(name, targets.last().unwrap());
        if name == "m1" {
            assert!(
                matches!(serve, Serve::Single),
                "a group of one is read alone"
            );
        } else {
            assert!(matches!(serve, Serve::Pending), "{name}: {serve:?}");
        }
    }
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    b.triggered(&names).await;
    for ((name, connector), target) in members.iter().zip(&targets) {
        let o = observed(b.serve(name, target));
        let want = match connector.as_str() {
            "broken" => Ok(HolisticState::Unhealthy),
            "nope" => Err(FailureKind::ConnectorNotFound),
            _ => Ok(HolisticState::Healthy),
        };
        assert_eq!(state_of(&o), want, "{connector}");
    }
    let counts = b.h.sim.counts();
    assert_eq!(
        counts.endpoint("list"),
        3,
        "251 connectors in pages of 100: {counts:?}"
    );
    let late = b.target("redpanda", "c-00250", "creds").await;
    assert!(
        matches!(b.serve("m-late", &late), Serve::Observed(_)),
        "a new resource whose connector the listing kept is served from it"
    );
    let unseen = b.target("redpanda", "late", "creds").await;
    assert!(
        matches!(b.serve("m-unseen", &unseen), Serve::Once),
        "one the listing did not consider is read alone once"
    );
    assert_eq!(
        counts.endpoint("status"),
        1,
        "only the connector the listing left out (nope) read alone, to confirm it is absent"
    );
    assert_eq!(b.batcher.batched_groups(), (1, 254));
    assert_eq!(
        b.batcher.requests_per_cycle(254),
        3,
        "what pacing counts for a cycle"
    );
    let metrics = managed_connector_operator::metrics::render(&b.h.registry);
    assert!(
        metrics.contains(
            r#"managed_connector_requests_total{source="dataplane",endpoint="list",outcome="ok"} 3"#
        ),
        "{metrics}"
    );
}

/// A line's value in the rendered metrics (0 when absent).
fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_page_too_large_for_the_response_cap_halves_the_page_size_for_its_group() {
    // Pages of 1000 (the default) do not fit 64 KiB with these statuses; smaller ones do.
    let h = harness_with(
        BATCH_SCENARIO,
        ClientConfig {
            max_requests_per_second: 1000,
            max_response_bytes: 64 * 1024,
            ..ClientConfig::default()
        },
    )
    .await;
    let (batcher, triggers) = Batcher::new(BatchMode::Always, 1000);
    let mut b = Batch {
        h,
        batcher: Arc::new(batcher),
        triggers,
    };
    let mut members = Vec::new();
    for i in 1..=250 {
        let target = b.target("redpanda", &format!("c-{i:05}"), "creds").await;
        let name = format!("m{i}");
        b.serve(&name, &target);
        members.push((name, target));
    }
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    b.triggered(&names).await;
    for (name, target) in &members {
        assert_eq!(
            state_of(&observed(b.serve(name, target))),
            Ok(HolisticState::Healthy),
            "{name}: served from a listing in smaller pages"
        );
    }
    let ok = r#"managed_connector_requests_total{source="dataplane",endpoint="list",outcome="ok"}"#;
    let too_large = r#"managed_connector_requests_total{source="dataplane",endpoint="list",outcome="too_large"}"#;
    let text = managed_connector_operator::metrics::render(&b.h.registry);
    let (first_ok, refused) = (metric(&text, ok), metric(&text, too_large));
    assert!(refused >= 1.0, "pages of 1000 exceeded the cap:\n{text}");
    assert!(
        first_ok > 1.0,
        "the listing took several smaller pages:\n{text}"
    );
    let pages = b.batcher.requests_per_cycle(250);
    assert!(pages > 1 && pages < 250, "{pages} pages per cycle");
    // The next cycles list with the size that fitted: no page too large again, the same pages.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let text = managed_connector_operator::metrics::render(&b.h.registry);
    assert_eq!(metric(&text, too_large), refused, "remembered:\n{text}");
    let more = metric(&text, ok) - first_ok;
    assert!(more >= pages as f64, "{more} more pages, {pages} per cycle");
}

#[tokio::test]
async fn a_failed_page_keeps_members_from_looking_gone() {
    let mut b = batch(BatchMode::Always, 2).await;
    let names = ["a", "b", "c", "d", "e", "f"];
    let mut targets = Vec::new();
    for n in names {
        targets.push(b.target("small", n, "creds").await);
        b.serve(n, targets.last().unwrap());
    }
    b.triggered(&names).await;
    assert_eq!(
        state_of(&observed(b.serve("f", &targets[5]))),
        Ok(HolisticState::Healthy)
    );
    let faults = Faults {
        status: Some(503),
        ..Faults::default()
    };
    assert!(b.h.sim.set_list_faults("small", faults, &[2]));
    b.triggered(&names).await;
    for (n, t) in names.iter().zip(&targets) {
        assert_eq!(
            state_of(&observed(b.serve(n, t))),
            Err(FailureKind::DataPlaneUnavailable),
            "{n}: the listing failed on page 2, so nobody is called gone"
        );
    }
    assert!(b.h.sim.set_list_faults("small", Faults::default(), &[]));
    b.triggered(&names).await;
    for (n, t) in names.iter().zip(&targets) {
        assert_eq!(
            state_of(&observed(b.serve(n, t))),
            Ok(HolisticState::Healthy),
            "{n}"
        );
    }
}

#[tokio::test]
async fn a_connector_that_shifts_between_pages_is_not_lost_and_a_deleted_one_is_gone() {
    let mut b = batch(BatchMode::Always, 2).await;
    let names = ["a", "b", "c", "d", "e", "f"];
    let mut targets = Vec::new();
    for n in names {
        targets.push(b.target("small", n, "creds").await);
        b.serve(n, targets.last().unwrap());
    }
    b.triggered(&names).await;
    // Slow pages, then delete `a` while the next listing is between its first and second page.
    // Redpanda's page tokens name the next page's first connector (not an offset), so nothing
    // shifts: `c` is still listed, and `a`, left out, is confirmed gone by its own read.
    b.h.sim.set_list_faults(
        "small",
        Faults {
            latency: Some("300ms".into()),
            ..Faults::default()
        },
        &[],
    );
    let lists = b.h.sim.counts().endpoint("list");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while b.h.sim.counts().endpoint("list") < lists + 2 {
        assert!(std::time::Instant::now() < deadline, "listing in time");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(b.h.sim.delete("small", "a"));
    let statuses = b.h.sim.counts().endpoint("status");
    // Only members whose connector changed are triggered: a (gone), not c.
    b.triggered(&["a"]).await;
    assert_eq!(
        state_of(&observed(b.serve("c", &targets[2]))),
        Ok(HolisticState::Healthy),
        "c stayed on its page"
    );
    assert_eq!(
        state_of(&observed(b.serve("a", &targets[0]))),
        Err(FailureKind::ConnectorNotFound),
        "a was deleted"
    );
    assert_eq!(
        b.h.sim.counts().endpoint("status"),
        statuses + 1,
        "a vanished from that listing and was confirmed with a single read"
    );
    // A connector created later shows in the next listing.
    b.h.sim
        .upsert("small", ConnectorScenario::new("a", "PAUSED", &["PAUSED"]));
    b.triggered(&["a"]).await;
    assert_eq!(
        state_of(&observed(b.serve("a", &targets[0]))),
        Ok(HolisticState::Paused)
    );
}

#[tokio::test]
async fn a_source_without_a_usable_list_is_read_per_connector() {
    let mut b = batch(BatchMode::Always, 100).await;
    b.h.sim.set_list_faults(
        "small",
        Faults {
            status: Some(501),
            ..Faults::default()
        },
        &[],
    );
    let ta = b.target("small", "a", "creds").await;
    let tb = b.target("small", "b", "creds").await;
    assert!(matches!(b.serve("a", &ta), Serve::Pending));
    assert!(matches!(b.serve("b", &tb), Serve::Pending));
    b.triggered(&["a", "b"]).await;
    assert!(matches!(b.serve("a", &ta), Serve::Single), "fallback");
    assert!(matches!(b.serve("b", &tb), Serve::Single), "fallback");
    assert_eq!(
        b.h.sim.counts().endpoint("list"),
        1,
        "tried once, not again for an hour"
    );
    assert_eq!(b.batcher.batched_groups().0, 0);
}

#[tokio::test]
async fn groups_follow_credentials_and_membership() {
    let mut b = batch(BatchMode::Auto, 100).await;
    b.h.secrets
        .put("team", "token", &[("token", "static-token")]);
    let ta = b.target("small", "a", "creds").await;
    let tb = b.target("small", "b", "creds").await;
    let other = b.target("small", "c", "token").await;
    assert!(matches!(b.serve("a", &ta), Serve::Single), "alone");
    assert!(
        matches!(b.serve("c", &other), Serve::Single),
        "other credentials: another group, alone"
    );
    assert!(
        matches!(b.serve("b", &tb), Serve::Pending),
        "a and b: a group"
    );
    b.triggered(&["a", "b"]).await;
    assert_eq!(
        state_of(&observed(b.serve("a", &ta))),
        Ok(HolisticState::Healthy)
    );
    // b moves to the other credentials: a is alone again, b and c form a group.
    let tb2 = b.target("small", "b", "token").await;
    assert!(matches!(b.serve("b", &tb2), Serve::Pending));
    assert!(matches!(b.serve("a", &ta), Serve::Single), "alone again");
    b.triggered(&["b", "c"]).await;
    assert_eq!(
        state_of(&observed(b.serve("c", &other))),
        Ok(HolisticState::Healthy)
    );
    // Deleted resources leave their group.
    b.batcher
        .retain(&[member("a"), member("c")].into_iter().collect());
    assert!(matches!(b.serve("c", &other), Serve::Single), "c alone now");
}
