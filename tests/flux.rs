//! A real Flux (`hack/fluxenv`: source-controller and kustomize-controller v1.9.6) applies
//! ManagedConnectors from a Git repository the test writes (served by hack/gitserver) and judges
//! them with kstatus, as users' Kustomizations do: `wait: true` and `healthChecks` are Ready when
//! every connector is, fail early (not after the timeout) when one is Stalled (Degraded,
//! Unhealthy, ConfigRejected, RestartsExhausted), recover when it recovers, and a suspended connector does not hold them up. `prune: true` deletes the
//! connector with `deletionPolicy: Delete` and leaves it with `Orphan`. The real operator (a
//! process, as in the end-to-end tests) writes the status from the simulator.
//!
//! Marked `#[ignore]`: run after `hack/testenv up` and `hack/fluxenv up`, with
//! `eval "$(hack/fluxenv env)"`.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long a Kustomization waits for health (`spec.timeout`). A fail-fast verdict says so in its
/// message ("failed early due to stalled resources"); one that waited out this timeout says
/// "timeout waiting for".
const TIMEOUT: &str = "2m";
const WITHIN: Duration = Duration::from_secs(90);

/// A GitRepository for `repo` and a Kustomization applying it into the namespace, both in the
/// namespace; `health` is `{"wait": true}` or `{"healthChecks": [...]}`.
fn create_kustomization(ns: &str, name: &str, repo: &Repo, health: Value) {
    kubectl_apply(&json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"url": repo.url, "interval": "1m", "ref": {"branch": "main"}, "timeout": "20s"},
    }));
    let mut spec = json!({
        "interval": "1m",
        "retryInterval": "5s",
        "path": "./",
        "prune": true,
        "sourceRef": {"kind": "GitRepository", "name": name},
        "targetNamespace": ns,
        "timeout": TIMEOUT,
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), health.as_object()) {
        spec.extend(extra.clone());
    }
    kubectl_apply(&json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }));
}

/// What `flux reconcile source git` and `flux reconcile kustomization` write: reconcile now.
fn reconcile(ns: &str, name: &str) {
    let now = format!("{:?}", Instant::now());
    for kind in [
        "gitrepositories.source.toolkit.fluxcd.io",
        "kustomizations.kustomize.toolkit.fluxcd.io",
    ] {
        kubectl_ok(&[
            "annotate",
            "--overwrite",
            "-n",
            ns,
            kind,
            name,
            &format!("reconcile.fluxcd.io/requestedAt={now}"),
        ]);
    }
}

/// The Kustomization's Ready condition (status, reason, message) and its last attempted revision.
#[derive(Debug)]
struct Verdict {
    status: String,
    reason: String,
    message: String,
    revision: String,
}

fn verdict(ns: &str, name: &str) -> Verdict {
    let k: Value = serde_json::from_str(&kubectl_ok(&[
        "get",
        "kustomizations.kustomize.toolkit.fluxcd.io",
        name,
        "-n",
        ns,
        "-o",
        "json",
    ]))
    .unwrap();
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let ready = k["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .cloned()
        .unwrap_or(Value::Null);
    Verdict {
        status: text(&ready["status"]),
        reason: text(&ready["reason"]),
        message: text(&ready["message"]),
        revision: text(&k["status"]["lastAttemptedRevision"]),
    }
}

/// Waits until the Kustomization has tried `commit` and reached a verdict (Ready True or False).
async fn wait_verdict(ns: &str, name: &str, commit: &str, what: &str) -> Verdict {
    let started = Instant::now();
    loop {
        let v = verdict(ns, name);
        if v.revision.ends_with(commit) && (v.status == "True" || v.status == "False") {
            eprintln!("  {what}: {v:?} after {:?}", started.elapsed());
            return v;
        }
        assert!(
            started.elapsed() < WITHIN,
            "{what}: no verdict on {commit} within {WITHIN:?}: {v:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits for a verdict with this Ready status on `commit`, asking for reconciles meanwhile (a
/// failed health check is retried only after `retryInterval`).
async fn wait_ready(ns: &str, name: &str, commit: &str, status: &str, what: &str) -> Verdict {
    let started = Instant::now();
    loop {
        let v = wait_verdict(ns, name, commit, what).await;
        if v.status == status {
            return v;
        }
        assert!(
            started.elapsed() < WITHIN,
            "{what}: still {v:?} after {WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        reconcile(ns, name);
    }
}

fn assert_failed_early(v: &Verdict, connector: &str) {
    assert_eq!(
        (v.status.as_str(), v.reason.as_str()),
        ("False", "HealthCheckFailed"),
        "{v:?}"
    );
    assert!(
        v.message.contains("failed early due to stalled resources"),
        "kstatus failed fast, not after the timeout: {v:?}"
    );
    assert!(
        v.message.contains("ManagedConnector/") && v.message.contains(connector),
        "the message names the connector: {v:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs hack/testenv and hack/fluxenv"]
async fn flux_waits_for_connectors_fails_fast_when_one_is_stalled_and_recovers() {
    let env = Env::new("flux", &[]).await;
    let ns = env.ns.clone();
    let repo = Repo::new(&ns);
    env.sim.upsert(
        "redpanda",
        connector("orders", "RUNNING", &["RUNNING", "RUNNING"]),
    );
    env.sim
        .upsert("redpanda", connector("payments", "RUNNING", &["RUNNING"]));
    repo.write("orders.yaml", &manifest("orders", json!({})));
    repo.write("payments.yaml", &manifest("payments", json!({})));
    let commit = repo.push("two connectors");
    create_kustomization(&ns, "connectors", &repo, json!({"wait": true}));

    // Ready once both connectors are Healthy (kstatus Current).
    let v = wait_ready(&ns, "connectors", &commit, "True", "Ready").await;
    assert_eq!(v.reason, "ReconciliationSucceeded", "{v:?}");
    for name in ["orders", "payments"] {
        let mc = env.get(name).await;
        assert_eq!(cond(&mc, "Ready"), ("True".into(), "Healthy".into()));
    }

    // A task fails: Degraded is Stalled=True, kstatus Failed, and the next reconcile fails early.
    env.sim
        .set_state("redpanda", "orders", "RUNNING", &["RUNNING", "FAILED"]);
    env.wait_condition("orders", "Stalled", "True", "Degraded", POLL + MARGIN)
        .await;
    reconcile(&ns, "connectors");
    let v = wait_ready(
        &ns,
        "connectors",
        &commit,
        "False",
        "failed early (Degraded)",
    )
    .await;
    assert_failed_early(&v, "orders");

    // It recovers: Ready again.
    env.sim
        .set_state("redpanda", "orders", "RUNNING", &["RUNNING", "RUNNING"]);
    env.wait_state(
        "orders",
        managed_connector_operator::crd::HolisticState::Healthy,
        POLL + MARGIN,
    )
    .await;
    reconcile(&ns, "connectors");
    wait_ready(&ns, "connectors", &commit, "True", "Ready again").await;

    // A declared configuration the cluster rejects (no connector.class): Stalled=True
    // (ConfigRejected) fails the Kustomization early; fixing it in Git recovers.
    repo.write(
        "payments.yaml",
        &manifest("payments", json!({"config": {"topics": "payments"}})),
    );
    let bad = repo.push("payments: a configuration without connector.class");
    reconcile(&ns, "connectors");
    let v = wait_ready(
        &ns,
        "connectors",
        &bad,
        "False",
        "failed early (ConfigRejected)",
    )
    .await;
    assert_failed_early(&v, "payments");
    let mc = env.get("payments").await;
    assert_eq!(
        cond(&mc, "Stalled"),
        ("True".into(), "ConfigRejected".into())
    );
    repo.write(
        "payments.yaml",
        &manifest(
            "payments",
            json!({"config": {"connector.class": "com.example.Sink", "topics": "payments"}}),
        ),
    );
    let fixed = repo.push("payments: with connector.class");
    reconcile(&ns, "connectors");
    wait_ready(&ns, "connectors", &fixed, "True", "Ready after the fix").await;

    // A suspended connector is as declared (Ready=True, Suspended: kstatus Current), so it does
    // not make `wait: true` wait out its timeout.
    repo.write("orders.yaml", &manifest("orders", json!({"suspend": true})));
    let suspended = repo.push("suspend orders");
    reconcile(&ns, "connectors");
    env.wait_condition("orders", "Ready", "True", "Suspended", POLL + MARGIN)
        .await;
    let v = wait_ready(
        &ns,
        "connectors",
        &suspended,
        "True",
        "Ready with one suspended",
    )
    .await;
    assert_eq!(v.reason, "ReconciliationSucceeded", "{v:?}");
    eprintln!(
        "{}",
        kubectl_ok(&["get", "gitrepository,kustomization,mconn", "-n", &ns])
    );

    // Automatic restarts that give up (RestartsExhausted, Stalled=True) fail it early too.
    let mut sticky = connector("sticky", "RUNNING", &["FAILED"]);
    sticky.fails_again = true;
    env.sim.upsert("redpanda", sticky);
    repo.write(
        "sticky.yaml",
        &manifest(
            "sticky",
            json!({"restartPolicy": {"type": "OnFailure", "maxRestarts": 1, "backoff": {"base": "1s"}}}),
        ),
    );
    let exhausting = repo.push("sticky: restart once, then give up");
    reconcile(&ns, "connectors");
    let v = wait_ready(
        &ns,
        "connectors",
        &exhausting,
        "False",
        "failed early (RestartsExhausted)",
    )
    .await;
    let mc = env
        .wait_condition(
            "sticky",
            "Stalled",
            "True",
            "RestartsExhausted",
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(mc.status.and_then(|s| s.restarts).map(|r| r.count), Some(1));
    assert_failed_early(&v, "sticky");
    delete_kustomization(&ns, "connectors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs hack/testenv and hack/fluxenv"]
async fn flux_health_checks_and_prune_with_both_deletion_policies() {
    let env = Env::new("flux-prune", &[]).await;
    let ns = env.ns.clone();
    let repo = Repo::new(&ns);
    for name in ["orders", "legacy", "billing"] {
        env.sim
            .upsert("redpanda", connector(name, "RUNNING", &["RUNNING"]));
    }
    repo.write("orders.yaml", &manifest("orders", json!({})));
    repo.write(
        "legacy.yaml",
        &manifest("legacy", json!({"deletionPolicy": "Orphan"})),
    );
    repo.write(
        "billing.yaml",
        &manifest(
            "billing",
            json!({"deletionPolicy": "Delete", "adopt": true}),
        ),
    );
    let commit = repo.push("three connectors");
    // healthChecks names one connector: Ready follows that one only.
    create_kustomization(
        &ns,
        "connectors",
        &repo,
        json!({"healthChecks": [{"apiVersion": "connectors.dataplane.dev/v1alpha1", "kind": "ManagedConnector", "name": "orders", "namespace": ns}]}),
    );
    wait_ready(
        &ns,
        "connectors",
        &commit,
        "True",
        "Ready (health check on orders)",
    )
    .await;
    env.sim
        .set_state("redpanda", "billing", "RUNNING", &["FAILED"]);
    env.wait_condition("billing", "Stalled", "True", "Unhealthy", POLL + MARGIN)
        .await;
    reconcile(&ns, "connectors");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let v = wait_ready(
        &ns,
        "connectors",
        &commit,
        "True",
        "still Ready (billing is not checked)",
    )
    .await;
    assert_eq!(v.reason, "ReconciliationSucceeded", "{v:?}");
    env.sim
        .set_state("redpanda", "orders", "RUNNING", &["FAILED"]);
    env.wait_condition("orders", "Stalled", "True", "Unhealthy", POLL + MARGIN)
        .await;
    reconcile(&ns, "connectors");
    let v = wait_ready(&ns, "connectors", &commit, "False", "failed early (orders)").await;
    assert_failed_early(&v, "orders");
    env.sim
        .set_state("redpanda", "orders", "RUNNING", &["RUNNING"]);
    reconcile(&ns, "connectors");
    wait_ready(
        &ns,
        "connectors",
        &commit,
        "True",
        "Ready (orders recovered)",
    )
    .await;

    // The operator holds the Delete one with a finalizer before it is pruned.
    env.wait_for("billing", WITHIN, "holding a finalizer", |mc| {
        !mc.metadata
            .finalizers
            .clone()
            .unwrap_or_default()
            .is_empty()
    })
    .await;
    // Removed from Git: prune deletes both resources; the connector goes with `Delete` and
    // stays with `Orphan`.
    repo.remove("billing.yaml");
    repo.remove("legacy.yaml");
    let pruned = repo.push("remove billing and legacy");
    reconcile(&ns, "connectors");
    env.wait_gone("billing", WITHIN).await;
    env.wait_gone("legacy", WITHIN).await;
    let deletes: Vec<String> = env
        .sim
        .counts()
        .by_endpoint
        .keys()
        .filter(|k| k.starts_with("delete"))
        .cloned()
        .collect();
    assert_eq!(
        env.sim.counts().by_endpoint.get("delete 204"),
        Some(&1),
        "exactly one connector deleted: {deletes:?}"
    );
    assert!(
        env.sim.config_of("redpanda", "legacy").is_some(),
        "the Orphan connector stays on the cluster"
    );
    assert!(
        env.sim.config_of("redpanda", "billing").is_none(),
        "the Delete connector is gone from the cluster"
    );
    let v = wait_ready(&ns, "connectors", &pruned, "True", "Ready after the prune").await;
    assert_eq!(v.reason, "ReconciliationSucceeded", "{v:?}");
    delete_kustomization(&ns, "connectors");
}

/// examples/gitops/flux.yaml is accepted by the API server with Flux's own CRDs (a server-side
/// dry run into the Flux namespace).
#[test]
#[ignore = "needs hack/testenv and hack/fluxenv"]
fn the_flux_example_passes_a_server_side_dry_run_against_fluxs_crds() {
    let out = dry_run("examples/gitops/flux.yaml");
    assert_eq!(out.matches("(server dry run)").count(), 3, "{out}");
}

/// Deletes a test's GitRepository and Kustomization, so Flux stops reconciling them once the
/// test's operator is gone.
fn delete_kustomization(ns: &str, name: &str) {
    for kind in [
        "kustomizations.kustomize.toolkit.fluxcd.io",
        "gitrepositories.source.toolkit.fluxcd.io",
    ] {
        kubectl_ok(&["delete", kind, name, "-n", ns, "--wait=false"]);
    }
}
