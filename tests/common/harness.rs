//! One test's world: namespace, simulator, operator process(es).

use super::*;
use dataplane_sim::Sim;
use dataplane_sim::scenario::Scenario;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::api::events::v1::Event;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use managed_connector_operator::crd::{HolisticState, ManagedConnector};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An operator process, killed when dropped: a failing test leaves no replica behind.
pub struct Replica(pub Child);

impl std::ops::Deref for Replica {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Replica {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One test's world.
pub struct Env {
    pub client: Client,
    pub ns: String,
    pub sim: Sim,
    pub sim_url: String,
    pub operator: Option<Replica>,
    pub operator_args: Vec<String>,
    pub metrics_port: u16,
    pub log: PathBuf,
    pub operator_kubeconfig: Option<PathBuf>,
    pub all_namespaces: bool,
}

pub const SCENARIO: &str =
    "auth: {clients: [{clientId: e2e, clientSecret: e2e-secret}]}\nclusters: {redpanda: {}}\n";

/// How to start an environment's operator.
#[derive(Default)]
pub struct Options<'a> {
    /// Extra operator flags.
    pub args: &'a [&'a str],
    /// Use this namespace (it must exist) instead of creating one.
    pub namespace: Option<String>,
    /// Kubeconfig of the operator process (default: `E2E_OPERATOR_KUBECONFIG`, else the tests').
    pub kubeconfig: Option<PathBuf>,
    /// Watch every namespace (no `--namespace`): the test's `args` must then narrow the
    /// operator down with a `--selector` of its own, or it would take other tests' resources.
    pub all_namespaces: bool,
}

/// A fresh namespace name for test `name`.
pub fn namespace_for(name: &str) -> String {
    format!("e2e-{name}-{}", rand::random::<u32>() % 100_000)
}

impl Env {
    pub async fn new(name: &str, extra_args: &[&str]) -> Env {
        Env::with(
            name,
            Options {
                args: extra_args,
                ..Default::default()
            },
        )
        .await
    }

    pub async fn with(name: &str, options: Options<'_>) -> Env {
        managed_connector_operator::http::install_crypto_provider();
        install_crd();
        let client = Client::try_default()
            .await
            .expect("KUBECONFIG points at the test control plane");
        let ns = match options.namespace {
            Some(ns) => ns,
            None => {
                let ns = namespace_for(name);
                let namespaces: Api<Namespace> = Api::all(client.clone());
                namespaces
                    .create(
                        &PostParams::default(),
                        &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
                    )
                    .await
                    .expect("namespace created");
                ns
            }
        };
        let sim = Sim::new(Scenario::parse(SCENARIO).unwrap());
        let addr = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let sim_url = format!("http://{addr}");
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        secrets
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({
                    "metadata": {"name": "creds"},
                    "stringData": {"client_id": "e2e", "client_secret": "e2e-secret", "token_url": format!("{sim_url}/oauth/token")}
                }))
                .unwrap(),
            )
            .await
            .expect("secret created");
        let dir = root().join("target/e2e");
        std::fs::create_dir_all(&dir).unwrap();
        let mut env = Env {
            client,
            sim,
            sim_url,
            operator: None,
            operator_args: options.args.iter().map(|s| s.to_string()).collect(),
            operator_kubeconfig: options
                .kubeconfig
                .or_else(|| std::env::var_os("E2E_OPERATOR_KUBECONFIG").map(PathBuf::from)),
            metrics_port: free_port(),
            all_namespaces: options.all_namespaces,
            log: dir.join(format!("{ns}.log")),
            ns,
        };
        env.start_operator();
        eprintln!(
            "[{name}] namespace {} · operator log {}",
            env.ns,
            env.log.display()
        );
        env
    }

    pub fn start_operator(&mut self) {
        self.operator = Some(self.spawn_operator(self.metrics_port, &self.log));
    }

    /// An operator process with this environment's flags (a second one is a second replica).
    pub fn spawn_operator(&self, metrics_port: u16, log: &PathBuf) -> Replica {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_managed-connector-operator"));
        // Under `hack/test` the operator runs with the Helm chart's ServiceAccount token, so every
        // scenario also proves the chart's RBAC is enough.
        if let Some(kubeconfig) = &self.operator_kubeconfig {
            command.env("KUBECONFIG", kubeconfig);
        }
        let replica = command
            .arg("run")
            .args(if self.all_namespaces {
                vec![]
            } else {
                vec!["--namespace", &self.ns]
            })
            .args(["--dataplane-url", &self.sim_url])
            .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .args([
                "--log-format",
                "json",
                "--log-level",
                "info,managed_connector_operator=debug",
            ])
            .args(&self.operator_args)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .map(Replica)
            .expect("operator starts");
        self.announce_to_prometheus(metrics_port);
        replica
    }

    /// Under `hack/test` a real Prometheus scrapes every operator process (hack/promenv): a file
    /// per process, with the target labels the chart's ServiceMonitor gives a Pod.
    fn announce_to_prometheus(&self, metrics_port: u16) {
        let Some(dir) = std::env::var_os("E2E_PROMETHEUS_TARGETS").map(PathBuf::from) else {
            return;
        };
        let target = json!([{
            "targets": [format!("127.0.0.1:{metrics_port}")],
            "labels": {
                "namespace": self.ns,
                "service": "managed-connector-operator-metrics",
                "job": "managed-connector-operator-metrics",
                "pod": format!("managed-connector-operator-{metrics_port}"),
                "container": "operator",
                "endpoint": "metrics",
            }
        }]);
        // Written whole, then renamed: Prometheus never reads half a file.
        let path = dir.join(format!("{}-{metrics_port}.json", self.ns));
        let partial = path.with_extension("partial");
        std::fs::write(&partial, target.to_string()).expect("target file written");
        std::fs::rename(&partial, &path).expect("target file renamed");
    }

    /// SIGTERM, and wait for a graceful exit.
    pub fn stop_operator(&mut self) {
        if let Some(mut child) = self.operator.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    assert!(
                        status.success(),
                        "operator exited with {status} after SIGTERM"
                    );
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            panic!("operator did not stop within 15s of SIGTERM");
        }
    }

    pub fn api(&self) -> Api<ManagedConnector> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub async fn apply(&self, name: &str, spec: serde_json::Value) {
        let mc = json!({
            "apiVersion": "connectors.dataplane.dev/v1alpha1",
            "kind": "ManagedConnector",
            "metadata": {"name": name},
            "spec": spec,
        });
        self.api()
            .patch(name, &PatchParams::apply("e2e").force(), &Patch::Apply(&mc))
            .await
            .unwrap_or_else(|e| panic!("apply {name}: {e}"));
    }

    /// Serves connector `name` from the simulator in `state` and watches it with a resource.
    pub async fn serve_and_watch(&self, name: &str, state: &str, tasks: &[&str]) {
        self.sim.upsert("redpanda", connector(name, state, tasks));
        self.watch_connector(name).await;
    }

    /// A resource for connector `name` using the namespace's credentials Secret.
    pub async fn watch_connector(&self, name: &str) {
        self.apply(
            name,
            json!({"pollInterval": "5s", "dataplane": {"credentialsSecretRef": {"name": "creds"}}}),
        )
        .await;
    }

    /// Creates (or replaces the data of) a Secret in the test's namespace from `stringData`.
    pub async fn secret(&self, name: &str, data: serde_json::Value) {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &self.ns);
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data});
        secrets
            .patch(
                name,
                &kube::api::PatchParams::apply("e2e").force(),
                &kube::api::Patch::Apply(secret),
            )
            .await
            .expect("secret applied");
    }

    /// Every Event of the namespace and the resource's status, as text (to look for what must
    /// not be there).
    pub async fn visible_text(&self, name: &str) -> String {
        let events = kubectl_ok(&["get", "events.events.k8s.io", "-n", &self.ns, "-o", "json"]);
        let status = serde_json::to_string(&self.get(name).await.status).unwrap();
        format!("{events}\n{status}")
    }

    /// Waits until resource `name` no longer exists.
    pub async fn wait_gone(&self, name: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while self.api().get_opt(name).await.unwrap().is_some() {
            assert!(
                Instant::now() < deadline,
                "{name} still there after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn get(&self, name: &str) -> ManagedConnector {
        self.api()
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("get {name}: {e}"))
    }

    pub async fn wait_for(
        &self,
        name: &str,
        within: Duration,
        what: &str,
        pred: impl Fn(&ManagedConnector) -> bool,
    ) -> ManagedConnector {
        let deadline = Instant::now() + within;
        loop {
            let mc = self.get(name).await;
            if pred(&mc) {
                return mc;
            }
            if Instant::now() > deadline {
                panic!(
                    "{}/{name}: not {what} within {within:?}; status:\n{}\noperator log: {}",
                    self.ns,
                    serde_json::to_string_pretty(&mc.status).unwrap(),
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn wait_state(
        &self,
        name: &str,
        state: HolisticState,
        within: Duration,
    ) -> ManagedConnector {
        self.wait_for(name, within, &format!("{state}"), |mc| {
            mc.status.as_ref().and_then(|s| s.holistic_state) == Some(state)
        })
        .await
    }

    pub async fn wait_condition(
        &self,
        name: &str,
        type_: &str,
        status: &str,
        reason: &str,
        within: Duration,
    ) -> ManagedConnector {
        self.wait_for(
            name,
            within,
            &format!("{type_}={status} ({reason})"),
            |mc| condition(mc, type_).is_some_and(|c| c.0 == status && c.1 == reason),
        )
        .await
    }

    /// Asserts that the resource's Events include each of `reasons`.
    pub async fn assert_events(&self, name: &str, reasons: &[&str]) {
        let events = self.events(name).await;
        for reason in reasons {
            assert!(
                events.iter().any(|(_, r, _)| r == reason),
                "no {reason} Event for {name}: {events:?}"
            );
        }
    }

    /// Events published for one resource: (type, reason, times).
    pub async fn events(&self, name: &str) -> Vec<(String, String, i32)> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.ns);
        let mut events: Vec<_> = api
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .collect();
        events.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
        events
            .into_iter()
            .map(|e| {
                let times = e.series.as_ref().map(|s| s.count).unwrap_or(1);
                (
                    e.type_.unwrap_or_default(),
                    e.reason.unwrap_or_default(),
                    times,
                )
            })
            .collect()
    }

    pub async fn metrics(&self) -> String {
        metrics_at(self.metrics_port).await
    }

    /// Waits until the simulator has served `connector`'s status `n` more times (a status
    /// request, or a list page it was on).
    pub async fn wait_polls(&self, connector: &str, n: u64) {
        let start = self.polls(connector);
        let deadline = Instant::now() + POLL * (n as u32 + 2) + MARGIN;
        while self.polls(connector) < start + n {
            assert!(
                Instant::now() < deadline,
                "{connector}: fewer than {n} polls; log {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn polls(&self, connector: &str) -> u64 {
        self.sim
            .counts()
            .by_connector
            .get(connector)
            .copied()
            .unwrap_or(0)
    }

    /// Captures the object as `kubectl get -o yaml` shows it, for the Argo CD and kstatus tests.
    pub fn capture(&self, name: &str, as_file: &str) {
        capture_in(&self.ns, name, as_file);
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // The last metrics, for the secret scan that follows the run (tests/secret_scan.rs).
        if self.operator.is_some()
            && let Some(text) = scrape_blocking(self.metrics_port)
        {
            let _ = std::fs::write(self.log.with_extension("metrics"), text);
        }
        if let Some(mut child) = self.operator.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(dir) = std::env::var_os("E2E_PROMETHEUS_TARGETS").map(PathBuf::from) {
            let prefix = format!("{}-", self.ns);
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

/// Writes the resource as `kubectl get -o yaml` shows it to target/captured/AS_FILE.yaml, for
/// the Argo CD and kstatus testdata (hack/capture-testdata copies it into argocd/).
pub fn capture_in(namespace: &str, name: &str, as_file: &str) {
    let yaml = kubectl_ok(&[
        "get",
        "managedconnector",
        name,
        "-n",
        namespace,
        "-o",
        "yaml",
    ]);
    let dir = root().join("target/captured");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{as_file}.yaml")), yaml).unwrap();
}
