//! A real Argo CD (`hack/argocdenv`: the application controller and repo server of argo-cd
//! v3.2.12, Redis, a Git server on loopback) syncs ManagedConnectors from a Git repository the test
//! writes, and judges their health with `argocd/connectors.dataplane.dev/ManagedConnector/health.lua` installed as docs/gitops.md says; the
//! real operator (a process, as in the end-to-end tests) writes their status from the simulator.
//!
//! Marked `#[ignore]`: run after `hack/testenv up` and `hack/argocdenv up`, with
//! `eval "$(hack/argocdenv env)"` (which includes hack/gitserver's).

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn argocd_namespace() -> String {
    std::env::var("ARGOCD_NAMESPACE").expect("ARGOCD_NAMESPACE: eval \"$(hack/argocdenv env)\"")
}

/// An Application syncing the repository into `namespace`, automated with prune and self-heal.
/// Background prune propagation: the test control plane has no garbage collector to finish a
/// foreground deletion.
fn create_application(name: &str, repo: &Repo, namespace: &str) {
    let app = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": argocd_namespace()},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo.url, "targetRevision": "main", "path": "."},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": {
                "automated": {"prune": true, "selfHeal": true},
                "syncOptions": ["PrunePropagationPolicy=background"]
            }
        }
    });
    kubectl_apply(&app);
}

fn application(name: &str) -> Value {
    serde_json::from_str(&kubectl_ok(&[
        "get",
        "applications.argoproj.io",
        name,
        "-n",
        &argocd_namespace(),
        "-o",
        "json",
    ]))
    .unwrap()
}

/// Asks Argo CD to look at Git again now (the repo server caches revisions).
fn refresh(name: &str, kind: &str) {
    kubectl_ok(&[
        "annotate",
        "--overwrite",
        "applications.argoproj.io",
        name,
        "-n",
        &argocd_namespace(),
        &format!("argocd.argoproj.io/refresh={kind}"),
    ]);
}

/// The Application's sync status, health status, and each resource's health and message.
fn summary(app: &Value) -> (String, String, Vec<(String, String, String)>) {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let resources = app["status"]["resources"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| {
                    (
                        text(&r["name"]),
                        text(&r["health"]["status"]),
                        text(&r["health"]["message"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (
        text(&app["status"]["sync"]["status"]),
        text(&app["status"]["health"]["status"]),
        resources,
    )
}

async fn wait_app(
    name: &str,
    what: &str,
    within: Duration,
    mut ok: impl FnMut(&(String, String, Vec<(String, String, String)>)) -> bool,
) -> (String, String, Vec<(String, String, String)>) {
    let started = Instant::now();
    loop {
        let now = summary(&application(name));
        if ok(&now) {
            eprintln!("  {what}: after {:?}", started.elapsed());
            return now;
        }
        assert!(
            started.elapsed() < within,
            "{what} not within {within:?}; the Application: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn health_of<'a>(s: &'a (String, String, Vec<(String, String, String)>), name: &str) -> &'a str {
    s.2.iter()
        .find(|r| r.0 == name)
        .map(|r| r.1.as_str())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs hack/testenv and hack/argocdenv"]
async fn argo_cd_syncs_connectors_from_git_and_its_health_follows_them() {
    let env = Env::new("argocd", &[]).await;
    let app = env.ns.clone();
    let repo = Repo::new(&app);
    env.sim.upsert(
        "redpanda",
        common::connector("orders", "RUNNING", &["RUNNING", "RUNNING"]),
    );
    env.sim.upsert(
        "redpanda",
        common::connector("payments", "RUNNING", &["RUNNING"]),
    );
    repo.write("orders.json", &manifest("orders", json!({})));
    repo.write("payments.json", &manifest("payments", json!({})));
    // Not on the cluster yet: within the grace period after creation that is Progressing.
    repo.write("billing.json", &manifest("billing", json!({})));
    repo.push("three connectors");
    create_application(&app, &repo, &env.ns);

    // Synced from Git; the two that exist Healthy, the missing one Progressing, the app
    // Progressing (Argo CD takes the worst of its resources).
    let within = Duration::from_secs(60);
    let s = wait_app(&app, "synced, two Healthy, one Progressing", within, |s| {
        s.0 == "Synced"
            && health_of(s, "orders") == "Healthy"
            && health_of(s, "payments") == "Healthy"
            && health_of(s, "billing") == "Progressing"
    })
    .await;
    assert_eq!(s.1, "Progressing", "{s:?}");
    assert!(
        s.2.iter()
            .any(|r| r.0 == "billing" && r.2.contains("ConnectorNotFound")),
        "the Lua's message names the reason: {s:?}"
    );

    // The missing connector appears: the Application is Healthy.
    env.sim.upsert(
        "redpanda",
        common::connector("billing", "RUNNING", &["RUNNING"]),
    );
    wait_app(&app, "Healthy", within, |s| s.1 == "Healthy").await;

    // A task fails in the simulator: Degraded, with the task's error in the message.
    env.sim
        .set_state("redpanda", "orders", "RUNNING", &["RUNNING", "FAILED"]);
    let s = wait_app(&app, "Degraded", within, |s| s.1 == "Degraded").await;
    assert_eq!(health_of(&s, "orders"), "Degraded", "{s:?}");
    // Automatic restarts turned on in Git: the operator restarts the failed task and Argo CD
    // shows the Application Healthy again, without anyone touching the connector.
    repo.write(
        "orders.json",
        &manifest(
            "orders",
            json!({"restartPolicy": {"type": "OnFailure", "backoff": {"base": "1s"}}}),
        ),
    );
    repo.push("orders: restart failed tasks automatically");
    refresh(&app, "normal");
    wait_app(
        &app,
        "Healthy again after an automatic restart",
        within,
        |s| s.0 == "Synced" && s.1 == "Healthy",
    )
    .await;
    assert_eq!(
        env.sim.counts().by_endpoint.get("restart 204"),
        Some(&1),
        "the operator restarted the failed task once"
    );

    // Suspended from Git: spec.suspend on one resource.
    repo.write(
        "payments.json",
        &manifest("payments", json!({"suspend": true})),
    );
    repo.push("suspend payments");
    refresh(&app, "normal");
    wait_app(&app, "payments Suspended", within, |s| {
        health_of(s, "payments") == "Suspended"
    })
    .await;
    repo.write("payments.json", &manifest("payments", json!({})));
    repo.push("resume payments");
    refresh(&app, "normal");
    wait_app(&app, "Healthy after resuming", within, |s| {
        s.1 == "Healthy" && s.0 == "Synced"
    })
    .await;

    // Nothing the operator writes (status, conditions, defaults) makes the app OutOfSync: a hard
    // refresh and several resyncs later it is still Synced, with no new sync operation.
    let synced_at = application(&app)["status"]["operationState"]["finishedAt"].clone();
    refresh(&app, "hard");
    tokio::time::sleep(Duration::from_secs(25)).await;
    let after = application(&app);
    assert_eq!(summary(&after).0, "Synced", "{after}");
    assert_eq!(
        after["status"]["operationState"]["finishedAt"], synced_at,
        "no sync was needed after the operator's writes"
    );

    // Pruning: a connector removed from Git with deletionPolicy Delete is deleted on the cluster
    // and its resource goes away.
    repo.write(
        "billing.json",
        &manifest(
            "billing",
            json!({"deletionPolicy": "Delete", "adopt": true}),
        ),
    );
    repo.push("billing: delete the connector with the resource");
    refresh(&app, "normal");
    env.wait_for(
        "billing",
        Duration::from_secs(60),
        "holding a finalizer",
        |mc| {
            mc.metadata
                .finalizers
                .as_ref()
                .is_some_and(|f| !f.is_empty())
        },
    )
    .await;
    repo.remove("billing.json");
    repo.push("remove billing");
    refresh(&app, "normal");
    env.wait_gone("billing", Duration::from_secs(60)).await;
    assert_eq!(
        env.sim.counts().by_endpoint.get("delete 204"),
        Some(&1),
        "the connector was deleted on the cluster"
    );
    wait_app(&app, "Synced and Healthy after the prune", within, |s| {
        s.0 == "Synced" && s.1 == "Healthy" && s.2.len() == 2
    })
    .await;
    kubectl_ok(&[
        "delete",
        "applications.argoproj.io",
        &app,
        "-n",
        &argocd_namespace(),
        "--wait=false",
    ]);
}

/// A sync wave waits for the ManagedConnector: a ConfigMap in a later wave (something that
/// depends on the connector running) is applied only once Argo CD finds the connector Healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs hack/testenv and hack/argocdenv"]
async fn a_sync_wave_waits_until_the_connector_is_healthy() {
    let env = Env::new("argocd-wave", &[]).await;
    let app = env.ns.clone();
    let repo = Repo::new(&app);
    let mut orders = manifest("orders", json!({}));
    orders["metadata"]["annotations"] = json!({"argocd.argoproj.io/sync-wave": "0"});
    repo.write("orders.json", &orders);
    repo.write(
        "consumer.json",
        &json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "orders-consumer", "annotations": {"argocd.argoproj.io/sync-wave": "1"}},
            "data": {"topic": "orders"}
        }),
    );
    repo.push("a connector, then what depends on it");
    create_application(&app, &repo, &env.ns);

    // The connector is not on the cluster yet (Progressing, within the grace period): the second
    // wave waits.
    let within = Duration::from_secs(60);
    wait_app(&app, "orders Progressing", within, |s| {
        health_of(s, "orders") == "Progressing"
    })
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(
        kubectl(&["get", "configmap", "orders-consumer", "-n", &env.ns])
            .status
            .code()
            != Some(0),
        "the later wave was applied while the connector was not Healthy"
    );
    let phase = application(&app)["status"]["operationState"]["phase"].clone();
    assert_eq!(phase, "Running", "the sync waits: {phase}");

    // The connector appears and is running: the wave goes on and the sync succeeds.
    env.sim.upsert(
        "redpanda",
        common::connector("orders", "RUNNING", &["RUNNING"]),
    );
    // (A ConfigMap has no health in Argo CD: it counts once it is there.)
    wait_app(
        &app,
        "Synced and Healthy with the second wave",
        within,
        |s| s.0 == "Synced" && s.1 == "Healthy" && s.2.iter().any(|r| r.0 == "orders-consumer"),
    )
    .await;
    // The operation finishes once Argo CD has seen the last wave healthy, a moment after the
    // resources show it.
    let started = Instant::now();
    loop {
        let phase = application(&app)["status"]["operationState"]["phase"].clone();
        if phase == "Succeeded" {
            break;
        }
        assert!(
            phase == "Running" && started.elapsed() < within,
            "the sync did not succeed: {phase}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    kubectl_ok(&["get", "configmap", "orders-consumer", "-n", &env.ns]);
    kubectl_ok(&[
        "delete",
        "applications.argoproj.io",
        &app,
        "-n",
        &argocd_namespace(),
        "--wait=false",
    ]);
}

/// A control plane of its own without the project's CRD (`TESTENV_DIR=... hack/testenv up`),
/// stopped when dropped.
struct BareCluster {
    dir: std::path::PathBuf,
}

impl BareCluster {
    fn start() -> BareCluster {
        let dir = root().join(format!("target/testenv-bare-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = std::process::Command::new(root().join("hack/testenv"))
            .arg("up")
            .env("TESTENV_DIR", &dir)
            .output()
            .expect("hack/testenv runs");
        assert!(
            out.status.success(),
            "a second control plane: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        BareCluster { dir }
    }

    fn kubectl(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", self.dir.join("kubeconfig"))
            .output()
            .expect("kubectl runs")
    }

    /// Argo CD's cluster Secret for it: its server and the admin client certificate.
    fn register(&self, name: &str) -> String {
        use base64::Engine;
        let read = |file: &str| {
            base64::engine::general_purpose::STANDARD
                .encode(std::fs::read(self.dir.join("pki").join(file)).unwrap())
        };
        let server = std::fs::read_to_string(self.dir.join("server"))
            .unwrap()
            .trim()
            .to_string();
        let config = json!({"tlsClientConfig": {"caData": read("ca.crt"), "certData": read("admin.crt"), "keyData": read("admin.key")}});
        let secret = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": argocd_namespace(), "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
            "stringData": {"name": name, "server": server, "config": config.to_string()},
        });
        kubectl_apply(&secret);
        server
    }
}

impl Drop for BareCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(root().join("hack/testenv"))
            .arg("down")
            .env("TESTENV_DIR", &self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The CRD and ManagedConnectors in one Application, on a cluster that has never seen the CRD:
/// the first sync succeeds (no retry is configured, so a refused dry run would fail it), with the
/// `SkipDryRunOnMissingResource=true` sync option docs/gitops.md names and, as Argo CD v3.2 skips
/// the dry run for resources whose CRD is in the same sync, without it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs hack/testenv and hack/argocdenv"]
async fn the_crd_and_connectors_in_one_application_sync_on_the_first_try() {
    for annotated in [true, false] {
        first_sync_with_the_crd(annotated).await;
    }
}

async fn first_sync_with_the_crd(annotated: bool) {
    let cluster = BareCluster::start();
    let name = format!("crd-{}-{annotated}", std::process::id());
    let server = cluster.register(&name);
    let repo = Repo::new(&name);
    repo.write_text(
        "crd.yaml",
        &std::fs::read_to_string(
            root().join("crds/managedconnectors.connectors.dataplane.dev.yaml"),
        )
        .unwrap(),
    );
    let mut orders = manifest("orders", json!({}));
    if annotated {
        orders["metadata"]["annotations"] =
            json!({"argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true"});
    }
    repo.write("orders.json", &orders);
    repo.push("the CRD and a connector");
    let app = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": argocd_namespace()},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo.url, "targetRevision": "main", "path": "."},
            "destination": {"server": server, "namespace": "data"},
            "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]}
        }
    });
    kubectl_apply(&app);

    let started = Instant::now();
    let state = loop {
        let a = application(&name);
        let phase = a["status"]["operationState"]["phase"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if matches!(phase.as_str(), "Succeeded" | "Failed" | "Error") {
            break a["status"]["operationState"].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no sync result within 60 s: {}",
            a["status"]
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(
        state["phase"], "Succeeded",
        "the first sync (annotated: {annotated}): {state}"
    );
    assert_eq!(
        state["retryCount"].as_i64().unwrap_or(0),
        0,
        "on the first try: {state}"
    );
    let out = cluster.kubectl(&[
        "get",
        "managedconnector",
        "orders",
        "-n",
        "data",
        "-o",
        "name",
    ]);
    assert!(
        out.status.success(),
        "the connector is on the new cluster: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No operator watches that cluster: the Lua reports that it waits for one.
    let s = wait_app(&name, "orders Progressing", Duration::from_secs(30), |s| {
        health_of(s, "orders") == "Progressing"
    })
    .await;
    assert_eq!(s.0, "Synced", "{s:?}");
    kubectl_ok(&[
        "delete",
        "applications.argoproj.io",
        &name,
        "-n",
        &argocd_namespace(),
        "--wait=false",
    ]);
    kubectl_ok(&["delete", "secret", &name, "-n", &argocd_namespace()]);
}

/// examples/gitops/argocd-application.yaml is accepted by the API server with Argo CD's own CRDs.
#[test]
#[ignore = "needs hack/testenv and hack/argocdenv"]
fn the_argo_cd_example_passes_a_server_side_dry_run_against_argo_cds_crds() {
    let out = dry_run("examples/gitops/argocd-application.yaml");
    assert!(out.contains("(server dry run)"), "{out}");
}
