//! The operator as users run it: the release `hack/release` pushed to a real registry, installed by
//! `helm install oci://…` onto a real node, whose containerd pulls the image from that registry (`hack/node`: containerd, runc, CNI, kubelet, kube-proxy, kube-scheduler and
//! kube-controller-manager) into a namespace that enforces Pod Security `restricted`, talking to
//! the API server through the in-cluster config and to the Data Plane simulator across the node's
//! bridge.
//!
//! Marked `#[ignore]`: `hack/test` runs them after `hack/registry up`, `hack/release --push` and
//! `hack/testenv up --node`, with `MCO_RELEASE` (hack/release's answer), `MCO_REGISTRY` and
//! `MCO_NODE_IP` from `hack/node env`. Where no node can run, hack/test says why and does not run them.

mod common;

use common::*;
use dataplane_sim::Sim;
use dataplane_sim::scenario::Scenario;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};
use managed_connector_operator::crd::{HolisticState, ManagedConnector};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

const RELEASE: &str = "mco-node";
const FULLNAME: &str = "mco-node-managed-connector-operator";

/// What hack/release published, as hack/test passes it on.
struct Release {
    version: String,
    /// Where it was published, e.g. `127.0.0.1:PORT/managed-connector-operator` for the README's
    /// `ghcr.io/managed-connector-operator`.
    registry: String,
    /// REPOSITORY:TAG of the image.
    image: String,
    /// Of the image index: what a Pod shows in its imageID.
    digest: String,
    /// `oci://…/charts/managed-connector-operator`.
    chart: String,
}

fn release_of(answer: &Value) -> Release {
    let field = |name: &str| {
        answer[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {answer}"))
            .to_string()
    };
    Release {
        version: field("version"),
        registry: field("registry"),
        image: field("image"),
        digest: field("digest"),
        chart: field("chart"),
    }
}

fn published() -> Release {
    let text = std::env::var("MCO_RELEASE").expect("MCO_RELEASE is not set: run through hack/test");
    release_of(&serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

/// The registry name the README installs from; the tests' registry takes its place.
const README_REGISTRY: &str = "ghcr.io/managed-connector-operator";

/// The commands of the README's installation section (or of docs/install.md's upgrade section):
/// the first `helm <verb>` command of the first `sh` block under the heading, continuation lines
/// joined, split into words, with the release's registry for the README's.
fn documented_command(file: &str, heading: &str, verb: &str, release: &Release) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("{file} has a section {heading}"));
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_else(|| panic!("{file} {heading}: a sh block"));
    let joined = block.replace("\\\n", " ");
    let line = joined
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("helm {verb} ")))
        .unwrap_or_else(|| panic!("{file} {heading}: a helm {verb} command in {block}"));
    line.split_whitespace()
        .skip(1)
        .map(|w| w.replace(README_REGISTRY, &release.registry))
        .collect()
}

/// Replaces the value after `flag` (or of `--set key=`) in a documented command; the test's
/// release name, namespace and simulator differ from the README's, nothing else.
fn replace_value(args: &mut [String], flag: &str, value: &str) {
    if let Some(key) = flag.strip_prefix("--set ") {
        let at = args
            .iter()
            .position(|a| a.starts_with(&format!("{key}=")))
            .unwrap_or_else(|| panic!("--set {key}= in {args:?}"));
        args[at] = format!("{key}={value}");
        return;
    }
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} in {args:?}"));
    args[at + 1] = value.to_string();
}

/// The next patch version, for the upgrade.
fn next_version(version: &str) -> String {
    let (core, _) = version.split_once('-').unwrap_or((version, ""));
    let mut parts: Vec<u64> = core.split('.').map(|p| p.parse().unwrap()).collect();
    parts[2] += 1;
    format!("{}.{}.{}", parts[0], parts[1], parts[2])
}

/// The kubelet pulled the Pod's image (from the registry: nothing was imported into containerd),
/// as its Events say.
fn assert_pulled(namespace: &str, pod: &str, image: &str) {
    let events: Value = serde_json::from_str(&kubectl_ok(&[
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        &format!("involvedObject.name={pod}"),
        "-o",
        "json",
    ]))
    .unwrap();
    let messages: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "Pulled")
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with(&format!("Successfully pulled image \"{image}\""))),
        "the kubelet pulled {image}: {messages:?}"
    );
}

/// The pod of the release that holds `ready` containers, with its container status.
fn pods(namespace: &str) -> Vec<Value> {
    let out = kubectl_ok(&[
        "get",
        "pods",
        "-n",
        namespace,
        "-l",
        &format!("app.kubernetes.io/instance={RELEASE}"),
        "-o",
        "json",
    ]);
    let list: Value = serde_json::from_str(&out).unwrap();
    list["items"].as_array().unwrap().clone()
}

fn is_ready(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && pod["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn name_of(pod: &Value) -> String {
    pod["metadata"]["name"].as_str().unwrap().to_string()
}

/// The Pod whose replica holds the Lease (identities are `<pod name>-<random>`).
fn leading_pod(namespace: &str) -> Option<String> {
    let holder = lease_holder(namespace);
    pods(namespace)
        .iter()
        .map(name_of)
        .find(|pod| holder.starts_with(&format!("{pod}-")))
}

/// The identity holding the Lease, empty if none.
fn lease_holder(namespace: &str) -> String {
    let out = kubectl(&[
        "get",
        "lease",
        FULLNAME,
        "-n",
        namespace,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a person would look at when the node misbehaves.
fn diagnostics(namespace: &str) -> String {
    let mut out = String::new();
    for args in [
        vec!["get", "pods", "-n", namespace, "-o", "wide"],
        vec!["describe", "pods", "-n", namespace],
        vec!["get", "events", "-n", namespace, "--sort-by=.lastTimestamp"],
        vec!["get", "nodes", "-o", "wide"],
    ] {
        let o = kubectl(&args);
        out.push_str(&format!(
            "\n$ kubectl {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    out
}

async fn wait_until<T>(
    what: &str,
    within: Duration,
    namespace: &str,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("not {what} within {within:?}{}", diagnostics(namespace));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The operator process of a Pod as the host sees it.
struct HostProcess {
    pid: i32,
    uid: u32,
    /// Mount options of the container's root filesystem.
    root_options: String,
}

fn host_process_of(pod: &Value) -> HostProcess {
    let uid = pod["metadata"]["uid"].as_str().unwrap();
    // The kubelet puts a pod's processes into cgroups named after its UID (cgroupfs driver).
    let pids: Vec<i32> = Command::new("sh")
        .args([
            "-c",
            &format!(
                "find /sys/fs/cgroup/pids/ -path '*pod{uid}*' -name cgroup.procs -exec cat {{}} +"
            ),
        ])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    for pid in pids {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if !cmdline.starts_with(b"/managed-connector-operator") {
            continue;
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let uid = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|u| u.parse().ok())
            .unwrap();
        let mounts = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
        let root_options = mounts
            .lines()
            .find(|l| l.split_whitespace().nth(4) == Some("/"))
            .and_then(|l| l.split_whitespace().nth(5))
            .unwrap()
            .to_string();
        return HostProcess {
            pid,
            uid,
            root_options,
        };
    }
    panic!("no operator process in the cgroups of pod {uid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the node and hack/release's registry: hack/test"]
async fn helm_install_runs_the_operator_as_a_pod_under_pod_security_restricted() {
    managed_connector_operator::http::install_crypto_provider();
    let release = published();
    let node_ip = std::env::var("MCO_NODE_IP").expect("MCO_NODE_IP (hack/node env)");
    let client = Client::try_default().await.unwrap();
    let suffix = rand::random::<u32>() % 100_000;
    let system = format!("mco-node-{suffix}");
    let tenant = format!("node-demo-{suffix}");
    for ns in [&system, &tenant] {
        kubectl_ok(&["create", "namespace", ns]);
        kubectl_ok(&[
            "label",
            "namespace",
            ns,
            "pod-security.kubernetes.io/enforce=restricted",
            "pod-security.kubernetes.io/enforce-version=latest",
        ]);
    }
    // Pod Security admission is on: a pod that is not restricted is refused in that namespace
    // (once the controller-manager has given it the default ServiceAccount every pod needs).
    wait_until(
        "a default ServiceAccount",
        Duration::from_secs(30),
        &system,
        async || {
            kubectl(&["get", "serviceaccount", "default", "-n", &system])
                .status
                .success()
                .then_some(())
        },
    )
    .await;
    let refused = kubectl(&[
        "run",
        "not-restricted",
        "-n",
        &system,
        "--image",
        &release.image,
        "--image-pull-policy=Never",
    ]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("violates PodSecurity \"restricted:latest\""),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // The Data Plane simulator with the demo's connectors, on the node's bridge where Pods reach it.
    let scenario =
        std::fs::read_to_string(root().join("hack/scenarios/demo.yaml")).expect("demo scenario");
    let sim = Sim::new(Scenario::parse(&scenario).unwrap());
    let addr = sim
        .start(format!("{node_ip}:0").parse().unwrap())
        .await
        .expect("simulator listens on the node's bridge");
    let sim_url = format!("http://{addr}");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &tenant);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "redpanda-credentials"},
                "stringData": {"client_id": "demo", "client_secret": "demo-secret", "token_url": format!("{sim_url}/oauth/token")}
            }))
            .unwrap(),
        )
        .await
        .unwrap();

    // The README's installation, from the registry: the chart's default image is the release's
    // index there, which the node's containerd pulls. Only the registry, the release name, the
    // namespace and the Data Plane URL (the simulator) differ; the rest is test plumbing.
    let mut install = documented_command("README.md", "Install", "install", &release);
    assert_eq!(install[0], "install");
    assert_eq!(
        install[2], release.chart,
        "the README installs the chart from the registry"
    );
    assert_eq!(
        install
            .iter()
            .position(|a| a == "--version")
            .map(|i| install[i + 1].clone()),
        Some(release.version.clone()),
        "the README installs this version"
    );
    install[1] = RELEASE.to_string();
    replace_value(&mut install, "--namespace", &system);
    replace_value(&mut install, "--set dataplane.url", &sim_url);
    install.extend(
        [
            "--plain-http", // the loopback test registry
            "--set",
            "allowInsecureHttp=true", // the simulator speaks plain http on the node's bridge
            "--wait",
            "--timeout",
            "180s",
        ]
        .map(String::from),
    );
    eprintln!("[node] helm {}", install.join(" "));
    helm_ok(&install.iter().map(String::as_str).collect::<Vec<_>>());
    let pod = wait_until(
        "one Ready operator Pod",
        Duration::from_secs(60),
        &system,
        async || {
            let pods = pods(&system);
            (pods.len() == 1 && is_ready(&pods[0])).then(|| pods[0].clone())
        },
    )
    .await;
    let pod_name = name_of(&pod);
    let container = &pod["status"]["containerStatuses"][0];
    assert_eq!(container["image"], release.image.as_str());
    assert!(
        container["imageID"]
            .as_str()
            .unwrap()
            .ends_with(&format!("@{}", release.digest)),
        "runs the image index hack/release pushed: {} vs {}",
        container["imageID"],
        release.digest
    );
    assert_pulled(&system, &pod_name, &release.image);
    assert_eq!(container["restartCount"], 0);
    let process = host_process_of(&pod);
    assert_eq!(process.uid, 65532, "the operator process runs as nonroot");
    assert!(
        process.root_options.split(',').any(|o| o == "ro"),
        "read-only root filesystem: {}",
        process.root_options
    );

    // In-cluster config: it found the API server through the kubernetes Service and holds the Lease.
    let holder = wait_until(
        "the Lease held",
        Duration::from_secs(30),
        &system,
        async || leading_pod(&system),
    )
    .await;
    assert_eq!(holder, pod_name);

    // The demo's connectors, watched from the tenant's namespace.
    let connectors = [
        "orders-sink",
        "payments-source",
        "audit-log-sink",
        "clickstream-s3-sink",
        "inventory-cdc",
        "metrics-sink",
        "billing-sink",
    ];
    for name in connectors {
        kubectl_apply(&json!({
            "apiVersion": "connectors.dataplane.dev/v1alpha1",
            "kind": "ManagedConnector",
            "metadata": {"name": name, "namespace": tenant},
            "spec": {"pollInterval": "5s", "dataplane": {"credentialsSecretRef": {"name": "redpanda-credentials"}}}
        }));
    }
    let api: Api<ManagedConnector> = Api::namespaced(client.clone(), &tenant);
    let state_of = |mc: &ManagedConnector| mc.status.as_ref().and_then(|s| s.holistic_state);
    for (name, want) in [
        ("orders-sink", HolisticState::Healthy),
        ("payments-source", HolisticState::Degraded),
        ("audit-log-sink", HolisticState::Unhealthy),
        ("clickstream-s3-sink", HolisticState::Paused),
    ] {
        let mc = wait_until(
            &format!("{name} {want}"),
            Duration::from_secs(30),
            &system,
            async || {
                let mc = api.get(name).await.ok()?;
                (state_of(&mc) == Some(want)).then_some(mc)
            },
        )
        .await;
        let ready = condition(&mc, "Ready").unwrap();
        assert_eq!(
            ready.0,
            if want == HolisticState::Healthy {
                "True"
            } else {
                "False"
            }
        );
    }
    // inventory-cdc restarts for 45 s after the simulator starts; metrics-sink cycles.
    let mc = wait_until(
        "inventory-cdc probed",
        Duration::from_secs(30),
        &system,
        async || {
            let mc = api.get("inventory-cdc").await.ok()?;
            state_of(&mc).is_some().then_some(mc)
        },
    )
    .await;
    assert!(matches!(
        state_of(&mc),
        Some(HolisticState::Restarting | HolisticState::Healthy)
    ));
    let mc = wait_until(
        "billing-sink not found",
        Duration::from_secs(30),
        &system,
        async || {
            let mc = api.get("billing-sink").await.ok()?;
            condition(&mc, "Ready")
                .is_some_and(|c| c.1 == "ConnectorNotFound")
                .then_some(mc)
        },
    )
    .await;
    assert_eq!(condition(&mc, "Synced").unwrap().0, "True");

    // /metrics through the chart's Service: the ClusterIP, routed by kube-proxy to the Pod.
    let cluster_ip = kubectl_ok(&[
        "get",
        "service",
        &format!("{FULLNAME}-metrics"),
        "-n",
        &system,
        "-o",
        "jsonpath={.spec.clusterIP}",
    ]);
    let series = format!(
        "managed_connector_holistic_state{{namespace=\"{tenant}\",name=\"orders-sink\",state=\"Healthy\"}} 1"
    );
    let metrics_url = format!("http://{cluster_ip}:8080/metrics");
    wait_until(
        "metrics through the Service",
        Duration::from_secs(30),
        &system,
        async || {
            let text = reqwest::get(&metrics_url).await.ok()?.text().await.ok()?;
            text.contains(&series).then_some(())
        },
    )
    .await;

    // A real Prometheus scrapes the Pod as the chart's ServiceMonitor would have it scraped.
    scraped_as_the_service_monitor_says(&system, &tenant, &pod_name).await;

    // kubectl logs: one JSON object per line, and the API server it found in the cluster.
    let logs = kubectl_ok(&["logs", "-n", &system, &pod_name]);
    let lines: Vec<Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
    let starting = lines
        .iter()
        .find(|l| l["message"] == "starting")
        .expect("a starting line");
    assert_eq!(starting["api_server"], "https://10.96.0.1/", "{starting}");
    assert!(
        !logs.contains("demo-secret"),
        "no client secret in the logs"
    );

    // The next release, pushed to the same registry; the upgrade as docs/install.md has it: the
    // CRDs first (Helm never upgrades them), then helm upgrade. A new Pod takes over; nothing in
    // the status is lost or reset.
    let next = release_of(
        &serde_json::from_str::<Value>(&run(
            root().join("hack/release").to_str().unwrap(),
            &[
                "--version",
                &next_version(&release.version),
                "--registry",
                &release.registry,
                "--push",
                "--plain-http",
            ],
        ))
        .unwrap(),
    );
    assert_ne!(next.digest, release.digest);
    let before = api.get("orders-sink").await.unwrap();
    let ready_since = |mc: &ManagedConnector| {
        mc.status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.last_transition_time.clone())
    };
    let (stop_watching, watching) = tokio::sync::watch::channel(false);
    let watcher = {
        let api = api.clone();
        tokio::spawn(async move {
            // Every Ready reason seen on a steady connector while the operator is replaced.
            let mut seen = BTreeSet::new();
            loop {
                // One last read after the stop: the state the test just waited for is seen too.
                let stop = *watching.borrow();
                if let Ok(mc) = api.get("orders-sink").await
                    && let Some(c) = condition(&mc, "Ready")
                {
                    seen.insert(c.1);
                }
                if stop {
                    break seen;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let show = documented_command("docs/install.md", "Upgrading", "show", &release);
    let pipe = show
        .iter()
        .position(|w| w == "|")
        .expect("helm show crds … | kubectl apply");
    let (mut helm_show, kubectl_apply_crds) = (show[..pipe].to_vec(), show[pipe + 1..].to_vec());
    assert_eq!(helm_show[..3], ["show", "crds", next.chart.as_str()]);
    assert_eq!(
        kubectl_apply_crds,
        ["kubectl", "apply", "--server-side", "-f", "-"]
    );
    replace_value(&mut helm_show, "--version", &next.version);
    helm_show.push("--plain-http".to_string());
    let crds = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        crds.path(),
        helm_ok(&helm_show.iter().map(String::as_str).collect::<Vec<_>>()),
    )
    .unwrap();
    kubectl_ok(&[
        "apply",
        "--server-side",
        "-f",
        crds.path().to_str().unwrap(),
    ]);
    let mut upgrade = documented_command("docs/install.md", "Upgrading", "upgrade", &release);
    assert_eq!(upgrade[2], next.chart);
    upgrade[1] = RELEASE.to_string();
    replace_value(&mut upgrade, "--version", &next.version);
    replace_value(&mut upgrade, "--namespace", &system);
    upgrade.extend(["--plain-http", "--wait", "--timeout", "180s"].map(String::from));
    eprintln!("[node] helm {}", upgrade.join(" "));
    helm_ok(&upgrade.iter().map(String::as_str).collect::<Vec<_>>());
    let next_digest = next.digest.clone();
    let upgraded = wait_until(
        "only the new Pod left",
        Duration::from_secs(60),
        &system,
        async || {
            let pods = pods(&system);
            (pods.len() == 1
                && is_ready(&pods[0])
                && pods[0]["status"]["containerStatuses"][0]["imageID"]
                    .as_str()
                    .is_some_and(|id| id.ends_with(&format!("@{next_digest}"))))
            .then(|| pods[0].clone())
        },
    )
    .await;
    assert_ne!(name_of(&upgraded), pod_name);
    assert_pulled(&system, &name_of(&upgraded), &next.image);
    wait_until(
        "the new Pod holding the Lease",
        Duration::from_secs(30),
        &system,
        async || (leading_pod(&system)? == name_of(&upgraded)).then_some(()),
    )
    .await;
    sim.set_state("redpanda", "orders-sink", "PAUSED", &["PAUSED"]);
    wait_until(
        "orders-sink Paused by the new Pod",
        Duration::from_secs(20),
        &system,
        async || {
            let mc = api.get("orders-sink").await.ok()?;
            (state_of(&mc) == Some(HolisticState::Paused)).then_some(())
        },
    )
    .await;
    stop_watching.send(true).unwrap();
    let seen = watcher.await.unwrap();
    assert_eq!(
        seen,
        BTreeSet::from(["Healthy".to_string(), "Paused".to_string()]),
        "the status stayed through the rollout"
    );
    sim.set_state(
        "redpanda",
        "orders-sink",
        "RUNNING",
        &["RUNNING", "RUNNING", "RUNNING"],
    );
    let after = wait_until(
        "orders-sink Healthy again",
        Duration::from_secs(20),
        &system,
        async || {
            let mc = api.get("orders-sink").await.ok()?;
            (state_of(&mc) == Some(HolisticState::Healthy)).then_some(mc)
        },
    )
    .await;
    assert_ne!(
        ready_since(&after),
        ready_since(&before),
        "Ready went False and back"
    );
    let payments = api.get("payments-source").await.unwrap();
    assert_eq!(
        payments.status.as_ref().unwrap().errors.len(),
        2,
        "a connector nobody touched kept its parsed errors"
    );

    // Two replicas: deleting the leader's Pod hands the Lease to the other one.
    let lease_duration = Duration::from_secs(8);
    eprintln!("[node] two replicas");
    helm_ok(&[
        "upgrade",
        RELEASE,
        &next.chart,
        "--version",
        &next.version,
        "--plain-http",
        "--namespace",
        &system,
        "--reuse-values",
        "--set",
        "replicaCount=2",
        "--set",
        &format!("leaderElection.leaseDuration={}s", lease_duration.as_secs()),
        "--wait",
        "--timeout",
        "180s",
    ]);
    let (leader, standby) = wait_until(
        "two Ready Pods, one leading",
        Duration::from_secs(60),
        &system,
        async || {
            let pods = pods(&system);
            if pods.len() != 2 || !pods.iter().all(is_ready) {
                return None;
            }
            let leader = leading_pod(&system)?;
            let other = pods.iter().map(name_of).find(|n| *n != leader)?;
            Some((leader, other))
        },
    )
    .await;
    let deleted = Instant::now();
    kubectl_ok(&["delete", "pod", &leader, "-n", &system, "--wait=false"]);
    // The leader releases the Lease on SIGTERM; the standby, or the Pod that replaces the deleted
    // one if it asks first, takes it.
    let successor = wait_until(
        "another Pod leading",
        lease_duration + MARGIN,
        &system,
        async || leading_pod(&system).filter(|p| *p != leader),
    )
    .await;
    eprintln!(
        "[node] {} leads {:?} after the leader's Pod was deleted",
        if successor == standby {
            "the standby"
        } else {
            "the replacement Pod"
        },
        deleted.elapsed()
    );
    sim.set_state(
        "redpanda",
        "clickstream-s3-sink",
        "RUNNING",
        &["RUNNING", "RUNNING"],
    );
    wait_until(
        "clickstream-s3-sink Healthy under the new leader",
        POLL + MARGIN * 2,
        &system,
        async || {
            let mc = api.get("clickstream-s3-sink").await.ok()?;
            (state_of(&mc) == Some(HolisticState::Healthy)).then_some(())
        },
    )
    .await;

    // A leader that dies without a word (SIGKILL on the host) keeps the Lease until it expires;
    // then another replica, or the restarted container under a new identity, takes over.
    let dead = lease_holder(&system);
    let leader_pod = pods(&system)
        .into_iter()
        .find(|p| dead.starts_with(&format!("{}-", name_of(p))))
        .expect("the leader's Pod");
    let killed = Instant::now();
    let pid = host_process_of(&leader_pod).pid;
    run("kill", &["-KILL", &pid.to_string()]);
    // kube-lease-manager: a standby wakes at the expiry it last read, force-releases, waits up to
    // a second (against collisions) and takes the Lease.
    // Twice the duration: on the CI machine's two busy cores the takeover once came later than
    // duration + 1 s + MARGIN (12 s); the time it took is printed below, not asserted.
    let successor = wait_until(
        "a new leader after the lease expired",
        lease_duration * 2 + MARGIN,
        &system,
        async || {
            let holder = lease_holder(&system);
            (!holder.is_empty() && holder != dead).then_some(holder)
        },
    )
    .await;
    eprintln!(
        "[node] {successor} leads {:?} after the leader was killed (lease duration {lease_duration:?})",
        killed.elapsed()
    );
    sim.set_state(
        "redpanda",
        "clickstream-s3-sink",
        "PAUSED",
        &["PAUSED", "PAUSED"],
    );
    wait_until(
        "clickstream-s3-sink Paused under the next leader",
        POLL + MARGIN * 2,
        &system,
        async || {
            let mc = api.get("clickstream-s3-sink").await.ok()?;
            (state_of(&mc) == Some(HolisticState::Paused)).then_some(())
        },
    )
    .await;

    // helm uninstall removes everything the chart created (CRDs stay, as Helm keeps crds/).
    let manifest = helm_ok(&["get", "manifest", RELEASE, "--namespace", &system]);
    let created: Vec<(String, String, String)> = manifest
        .split("\n---")
        .filter_map(|doc| serde_saphyr::from_str::<Value>(doc).ok())
        .filter(|v| v.is_object())
        .map(|v| {
            (
                v["kind"].as_str().unwrap().to_string(),
                v["metadata"]["name"].as_str().unwrap().to_string(),
                v["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    assert!(
        created.iter().any(|c| c.0 == "Deployment") && created.len() >= 6,
        "{created:?}"
    );
    helm_ok(&[
        "uninstall",
        RELEASE,
        "--namespace",
        &system,
        "--wait",
        "--timeout",
        "120s",
    ]);
    for (kind, name, namespace) in &created {
        let mut args = vec![
            "get",
            kind.as_str(),
            name.as_str(),
            "--ignore-not-found",
            "-o",
            "name",
        ];
        if !namespace.is_empty() {
            args.extend(["-n", namespace.as_str()]);
        }
        assert_eq!(
            kubectl_ok(&args).trim(),
            "",
            "{kind} {namespace}/{name} left behind"
        );
    }
    wait_until(
        "no operator Pod left",
        Duration::from_secs(60),
        &system,
        async || pods(&system).is_empty().then_some(()),
    )
    .await;
    // The statuses the operator wrote stay with the resources.
    let kept = api.list(&Default::default()).await.unwrap();
    assert_eq!(kept.items.len(), connectors.len());
    assert!(
        kept.items
            .iter()
            .all(|mc| mc.status.as_ref().is_some_and(|s| s.reported())),
        "{:?}",
        kept.items.iter().map(|m| m.name_any()).collect::<Vec<_>>()
    );
    for ns in [&system, &tenant] {
        kubectl_ok(&["delete", "namespace", ns, "--wait=false"]);
    }
}

fn kubectl_apply(object: &Value) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(object).unwrap()).unwrap();
    kubectl_ok(&[
        "apply",
        "--server-side",
        "-f",
        file.path().to_str().unwrap(),
    ]);
}

/// The Prometheus of `hack/promenv` scrapes the operator's Pod. Debian's Prometheus has no
/// Kubernetes service discovery, so this does what the Prometheus Operator's configuration for the
/// chart's ServiceMonitor does: the Services carrying the ServiceMonitor's selector labels, the
/// addresses of their Endpoints on the port it names, with the target labels it sets. Then the
/// operator's series must arrive with the resource's namespace kept (honorLabels) and the Pod's.
async fn scraped_as_the_service_monitor_says(system: &str, tenant: &str, pod_name: &str) {
    let prometheus = std::env::var("PROMETHEUS_URL")
        .expect("PROMETHEUS_URL: hack/promenv up, then eval \"$(hack/promenv env)\"");
    let monitor = helm_template(RELEASE, system, &["metrics.serviceMonitor.enabled=true"])
        .into_iter()
        .find(|d| d["kind"] == "ServiceMonitor")
        .expect("the chart renders a ServiceMonitor");
    let selector: Vec<String> = monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
        .collect();
    let port_name = monitor["spec"]["endpoints"][0]["port"].as_str().unwrap();
    let services: Value = serde_json::from_str(&kubectl_ok(&[
        "get",
        "services",
        "-n",
        system,
        "-l",
        &selector.join(","),
        "-o",
        "json",
    ]))
    .unwrap();
    let mut targets = Vec::new();
    for service in services["items"].as_array().unwrap() {
        let service_name = service["metadata"]["name"].as_str().unwrap();
        let endpoints: Value = serde_json::from_str(&kubectl_ok(&[
            "get",
            "endpoints",
            service_name,
            "-n",
            system,
            "-o",
            "json",
        ]))
        .unwrap();
        for subset in endpoints["subsets"].as_array().into_iter().flatten() {
            let Some(port) = subset["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == port_name)
            else {
                continue;
            };
            for address in subset["addresses"].as_array().into_iter().flatten() {
                targets.push(json!({
                    "targets": [format!("{}:{}", address["ip"].as_str().unwrap(), port["port"])],
                    "labels": {
                        "namespace": system,
                        "service": service_name,
                        "job": service_name,
                        "pod": address["targetRef"]["name"],
                        "container": "operator",
                        "endpoint": port_name,
                    }
                }));
            }
        }
    }
    assert_eq!(
        targets.len(),
        1,
        "one Pod behind the metrics Service: {targets:?}"
    );
    let dir = root().join("target/prometheus/targets/node");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{RELEASE}.json"));
    std::fs::write(
        file.with_extension("partial"),
        Value::from(targets).to_string(),
    )
    .unwrap();
    std::fs::rename(file.with_extension("partial"), &file).unwrap();

    let query = format!(
        "managed_connector_holistic_state{{namespace=\"{tenant}\",name=\"orders-sink\",state=\"Healthy\"}} == 1"
    );
    let mut url = url::Url::parse(&format!("{prometheus}/api/v1/query")).unwrap();
    url.query_pairs_mut().append_pair("query", &query);
    let series = wait_until(
        "Prometheus scraping the Pod",
        Duration::from_secs(60),
        system,
        async || {
            let answer: Value = reqwest::get(url.clone()).await.ok()?.json().await.ok()?;
            answer["data"]["result"].as_array()?.first().cloned()
        },
    )
    .await;
    let labels = &series["metric"];
    assert_eq!(labels["pod"], pod_name, "{series}");
    assert_eq!(
        labels["namespace"], tenant,
        "the resource's namespace, not the Pod's: {series}"
    );
    assert_eq!(labels["endpoint"], port_name, "{series}");
    eprintln!("[node] Prometheus scraped the Pod: {series}");
}
