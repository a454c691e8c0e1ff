//! End-to-end tests of what Redpanda's own Data Plane code showed and the documents do not say
//! (`tests/data/dataplane-captured/`): the real operator binary against a real kube-apiserver
//! and the simulator, which answers as the captured service does. `hack/test` runs them in both
//! batch modes (`MCO_BATCH=always|never`).
//!
//! 1. With a cluster's Connect worker down, the listing answers an empty list (200) and single
//!    reads 500: every resource keeps its last known state, none is reported deleted.
//! 2. An unknown `connector.class` (the real service answers its put with a 500) is not in the
//!    cluster's plugin list: refused before any put (`PluginNotFound`), said once.
//! 3. A wrong cluster name (and a URL the policy refuses) is a lasting error, not "Probing".

mod common;

use common::*;
use managed_connector_operator::crd::HolisticState;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_worker_outage_keeps_every_last_known_state_while_another_cluster_goes_on() {
    let env = Env::new("worker-down", &[]).await;
    // `down` runs on the worker that goes down; `up` on another cluster's, which stays up.
    let down = [
        (
            "orders",
            "RUNNING",
            &["RUNNING", "RUNNING"][..],
            HolisticState::Healthy,
        ),
        (
            "billing",
            "RUNNING",
            &["RUNNING", "FAILED"][..],
            HolisticState::Degraded,
        ),
        ("audit", "PAUSED", &["PAUSED"][..], HolisticState::Paused),
    ];
    for (name, state, tasks, _) in &down {
        env.sim.upsert("redpanda", connector(name, state, tasks));
        env.apply(
            name,
            json!({"pollInterval": "5s", "dataplane": {"credentialsSecretRef": {"name": "creds"}}}),
        )
        .await;
    }
    for name in ["clicks", "views"] {
        env.sim
            .upsert("other", connector(name, "RUNNING", &["RUNNING"]));
        env.apply(
            name,
            json!({"pollInterval": "5s", "clusterName": "other",
                   "dataplane": {"credentialsSecretRef": {"name": "creds"}}}),
        )
        .await;
    }
    for (name, _, _, state) in &down {
        env.wait_state(name, *state, POLL * 2 + MARGIN).await;
    }
    env.wait_state("clicks", HolisticState::Healthy, POLL * 2 + MARGIN)
        .await;
    let before: Vec<_> = {
        let mut v = Vec::new();
        for (name, ..) in &down {
            v.push(env.get(name).await);
        }
        v
    };

    assert!(env.sim.set_worker_down("redpanda", true));
    let counts_at_start = env.sim.counts();
    // Every resource of that cluster says the source fails, and keeps what it knew.
    for ((name, _, _, state), known) in down.iter().zip(&before) {
        let mc = env
            .wait_condition(
                name,
                "Synced",
                "False",
                "DataPlaneUnavailable",
                POLL * 3 + MARGIN,
            )
            .await;
        let s = mc.status.as_ref().unwrap();
        assert_eq!(
            s.holistic_state,
            Some(*state),
            "{name}: last known state kept"
        );
        assert_eq!(
            s.tasks,
            known.status.as_ref().unwrap().tasks,
            "{name}: tasks kept"
        );
        assert_eq!(
            cond(&mc, "Ready"),
            cond(known, "Ready"),
            "{name}: Ready kept"
        );
        let synced = condition(&mc, "Synced").unwrap().2;
        assert!(synced.contains("connection refused"), "{name}: {synced}");
    }
    // While it lasts (several listings), none is ever called gone, and the other cluster's
    // changes still show.
    env.sim
        .set_state("other", "clicks", "RUNNING", &["RUNNING", "FAILED"]);
    let until = Instant::now() + POLL * 3;
    while Instant::now() < until {
        for (name, _, _, state) in &down {
            let mc = env.get(name).await;
            let s = mc.status.as_ref().unwrap();
            assert_ne!(cond(&mc, "Ready").1, "ConnectorNotFound", "{name}");
            assert_eq!(s.holistic_state, Some(*state), "{name}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let clicks = env
        .wait_state("clicks", HolisticState::Degraded, POLL * 2 + MARGIN)
        .await;
    assert_eq!(
        cond(&clicks, "Synced").0,
        "True",
        "the other cluster is fine"
    );
    let counts = env.sim.counts();
    if batch_mode() {
        // Each listing of the empty cluster costs at most the outage sample of own reads.
        let lists = counts.endpoint("list") - counts_at_start.endpoint("list");
        let reads = counts.endpoint("status") - counts_at_start.endpoint("status");
        assert!(lists >= 2, "{lists} listings during the outage");
        assert!(
            reads <= (lists + 1) * managed_connector_operator::absence::OUTAGE_SAMPLE as u64,
            "{reads} own reads for {lists} listings"
        );
    }
    // One Event per resource for the outage, not one per listing.
    for (name, ..) in &down {
        let events = env.events(name).await;
        let outage: Vec<_> = events
            .iter()
            .filter(|(_, r, _)| r == "DataPlaneUnavailable")
            .collect();
        assert_eq!(outage.len(), 1, "{name}: {events:?}");
        assert_eq!(outage[0].2, 1, "{name}: published once: {events:?}");
        assert!(
            !events.iter().any(|(_, r, _)| r == "ConnectorNotFound"),
            "{name}: {events:?}"
        );
    }

    // The worker comes back: in sync again; a connector deleted since is then gone for real.
    assert!(env.sim.set_worker_down("redpanda", false));
    for (name, ..) in &down {
        env.wait_condition(name, "Synced", "True", "Synced", POLL * 4 + MARGIN)
            .await;
    }
    assert!(env.sim.delete("redpanda", "audit"));
    let gone = env
        .wait_condition(
            "audit",
            "Ready",
            "False",
            "ConnectorNotFound",
            POLL * 3 + MARGIN,
        )
        .await;
    assert!(gone.status.unwrap().holistic_state.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_connector_class_the_cluster_lacks_is_refused_once_and_never_put() {
    let env = Env::new("unknown-class", &[]).await;
    let spec = |class: &str| {
        json!({
            "pollInterval": "5s",
            "dataplane": {"credentialsSecretRef": {"name": "creds"}},
            "config": {"connector.class": class, "tasks.max": "1", "topics": "orders"},
        })
    };
    // The cluster's plugin list (GetConnectCluster) lacks the class: refused before a put,
    // where the real service would answer 500 "Failed to find any class".
    env.apply("orders", spec("com.example.DoesNotExist")).await;
    let mc = env
        .wait_condition(
            "orders",
            "Synced",
            "False",
            "PluginNotFound",
            POLL * 2 + MARGIN,
        )
        .await;
    assert_eq!(
        cond(&mc, "Stalled"),
        ("True".into(), "PluginNotFound".into())
    );
    let message = condition(&mc, "Synced").unwrap().2;
    assert!(
        message.contains("has no plugin com.example.DoesNotExist (connector.class)"),
        "{message}"
    );
    // Three intervals later nothing was put, and it was said once: a refusal is not an outage.
    // (Read alone, the resource backs off after the refusal, so the polls in that time are not
    // counted: in batch mode its cluster's listing comes every interval anyway.)
    let before = env.polls("orders");
    tokio::time::sleep(POLL * 3).await;
    assert!(env.polls("orders") > before, "still read");
    let counts = env.sim.counts();
    assert!(
        counts
            .by_endpoint
            .keys()
            .all(|k| !k.starts_with("put_config")),
        "never put: {counts:?}"
    );
    let events = env.events("orders").await;
    let failed: Vec<_> = events
        .iter()
        .filter(|(_, r, _)| r == "ActionFailed")
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(failed[0].2, 1, "{events:?}");

    // Fixed in the spec: put again, created, healthy.
    env.apply("orders", spec("com.example.Sink")).await;
    let mc = env
        .wait_state("orders", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    assert_eq!(cond(&mc, "Synced").0, "True");
    assert_eq!(env.sim.counts().by_endpoint.get("put_config 201"), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_wrong_cluster_name_or_a_refused_url_is_a_lasting_error_not_probing() {
    let env = Env::new("lasting", &[]).await;
    // Two resources on the wrong cluster, so that batch mode lists it.
    for name in ["wrong-a", "wrong-b"] {
        env.apply(
            name,
            json!({"pollInterval": "5s", "clusterName": "nope", "connectorName": "orders",
                   "dataplane": {"credentialsSecretRef": {"name": "creds"}}}),
        )
        .await;
    }
    env.apply(
        "link-local",
        json!({"pollInterval": "5s", "connectorName": "orders",
               "dataplane": {"url": "https://169.254.169.254", "credentialsSecretRef": {"name": "creds"}}}),
    )
    .await;
    for (name, reason) in [
        ("wrong-a", "ClusterNotFound"),
        ("wrong-b", "ClusterNotFound"),
        ("link-local", "URLNotAllowed"),
    ] {
        let mc = env
            .wait_condition(name, "Ready", "False", reason, POLL * 2 + MARGIN)
            .await;
        assert_eq!(
            cond(&mc, "Stalled"),
            ("True".into(), reason.into()),
            "{name}"
        );
        assert_eq!(cond(&mc, "Reconciling").0, "False", "{name}");
        assert_eq!(
            cond(&mc, "Synced"),
            ("False".into(), reason.into()),
            "{name}"
        );
    }
    // What `kubectl get` shows: the error as the reason, not progress.
    let out = kubectl_ok(&["get", "managedconnectors", "-n", &env.ns, "-o", "wide"]);
    for row in table(&out) {
        let reason = row.get("REASON").cloned().unwrap_or_default();
        assert!(
            reason == "ClusterNotFound" || reason == "URLNotAllowed",
            "{row:?}\n{out}"
        );
        assert_eq!(row.get("READY").map(String::as_str), Some("False"), "{out}");
    }
    // And it stays so.
    tokio::time::sleep(POLL * 2).await;
    for name in ["wrong-a", "wrong-b", "link-local"] {
        let mc = env.get(name).await;
        assert_eq!(cond(&mc, "Ready").0, "False", "{name}");
        assert_ne!(cond(&mc, "Ready").1, "Probing", "{name}");
    }
}
