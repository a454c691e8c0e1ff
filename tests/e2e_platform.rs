//! End to end: Connect clusters the platform declares (`ConnectCluster`, issue 19). The real
//! operator binary against a real kube-apiserver and the simulator; `hack/test` runs them in both
//! batch modes.

mod common;

use common::*;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use managed_connector_operator::connect_cluster::ConnectCluster;
use managed_connector_operator::crd::HolisticState;
use serde_json::json;
use std::time::Duration;

/// ConnectClusters are cluster-scoped: each test's go when it ends.
struct Clusters {
    api: Api<ConnectCluster>,
    names: Vec<String>,
}

impl Clusters {
    fn new(env: &Env) -> Self {
        Clusters {
            api: Api::all(env.client.clone()),
            names: Vec::new(),
        }
    }

    /// Declares ConnectCluster `<namespace>-<suffix>` and returns its name.
    async fn declare(&mut self, env: &Env, suffix: &str, spec: serde_json::Value) -> String {
        let name = format!("{}-{suffix}", env.ns);
        let cc = json!({
            "apiVersion": "connectors.dataplane.dev/v1alpha1",
            "kind": "ConnectCluster",
            "metadata": {"name": name},
            "spec": spec,
        });
        self.api
            .patch(
                &name,
                &PatchParams::apply("e2e").force(),
                &Patch::Apply(&cc),
            )
            .await
            .unwrap_or_else(|e| panic!("apply ConnectCluster {name}: {e}"));
        self.names.push(name.clone());
        name
    }

    async fn wait_status(&self, name: &str, ready: &str, used_by: u32) -> ConnectCluster {
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        loop {
            let cc = self.api.get(name).await.expect("get ConnectCluster");
            let status = cc.status.clone().unwrap_or_default();
            let got = status
                .conditions
                .iter()
                .find(|c| c.type_ == "Ready")
                .map(|c| c.status.clone());
            if got.as_deref() == Some(ready) && status.used_by == used_by {
                return cc;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "ConnectCluster {name}: want Ready={ready} usedBy={used_by}, have {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = kubectl(&["delete", "connectcluster", name, "--wait=false"]);
        }
    }
}

fn own_ns_selector(env: &Env) -> serde_json::Value {
    json!({"matchLabels": {"kubernetes.io/metadata.name": env.ns}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_connect_cluster_decides_who_may_use_it_and_what_they_may_do() {
    let env = Env::new("platform", &[]).await;
    let mut clusters = Clusters::new(&env);
    let source =
        json!({"url": env.sim_url, "credentialsSecretRef": {"namespace": env.ns, "name": "creds"}});
    let shared = clusters
        .declare(
            &env,
            "shared",
            json!({"dataplane": source, "namespaceSelector": own_ns_selector(&env),
                   "access": "Act", "connectorNamePrefix": "{namespace}-"}),
        )
        .await;
    let read_only = clusters
        .declare(&env, "read", json!({"dataplane": source}))
        .await;
    let elsewhere = clusters
        .declare(
            &env,
            "elsewhere",
            json!({"dataplane": source, "namespaceSelector": {"matchLabels": {"tenant": "nobody"}}, "access": "Act"}),
        )
        .await;
    let config = json!({"connector.class": "com.example.Sink", "tasks.max": "1", "topics": "t"});
    let own_name = format!("{}-orders", env.ns);

    // Within the namespace's prefix: created, and recorded as this resource's.
    env.apply(
        "own",
        json!({"pollInterval": "5s", "connectClusterRef": {"name": shared},
               "connectorName": own_name, "config": config}),
    )
    .await;
    let own = env
        .wait_state("own", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    assert!(env.sim.config_of("redpanda", &own_name).is_some());
    let owned = own
        .status
        .as_ref()
        .and_then(|s| s.owned_connector.clone())
        .expect("status.ownedConnector");
    assert_eq!(owned.name, own_name);

    // Outside the prefix: refused, nothing sent.
    env.apply(
        "foreign",
        json!({"pollInterval": "5s", "connectClusterRef": {"name": shared},
               "connectorName": "team-b-orders", "config": config}),
    )
    .await;
    let foreign = env
        .wait_condition(
            "foreign",
            "Synced",
            "False",
            "ActionNotAllowed",
            POLL * 3 + MARGIN,
        )
        .await;
    let message = condition(&foreign, "Synced").unwrap().2;
    assert!(message.contains(&format!("\"{}-\"", env.ns)), "{message}");
    assert!(env.sim.config_of("redpanda", "team-b-orders").is_none());

    // A Read cluster: reading works, acting is refused.
    env.sim
        .upsert("redpanda", connector("watched", "RUNNING", &["RUNNING"]));
    env.apply(
        "reader",
        json!({"pollInterval": "5s", "connectClusterRef": {"name": read_only}, "connectorName": "watched"}),
    )
    .await;
    env.wait_state("reader", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    env.apply(
        "actor",
        json!({"pollInterval": "5s", "connectClusterRef": {"name": read_only},
               "connectorName": "watched", "config": config}),
    )
    .await;
    let actor = env
        .wait_condition(
            "actor",
            "Synced",
            "False",
            "ActionNotAllowed",
            POLL * 3 + MARGIN,
        )
        .await;
    assert!(
        condition(&actor, "Synced")
            .unwrap()
            .2
            .contains("Read access only"),
        "{:?}",
        condition(&actor, "Synced")
    );

    // A namespace outside the selector: refused before anything is read.
    env.apply(
        "outsider",
        // An hour's interval: after the refusal only the ConnectCluster watch can bring it back.
        json!({"pollInterval": "1h", "connectClusterRef": {"name": elsewhere}, "connectorName": "watched"}),
    )
    .await;
    let outsider = env
        .wait_condition(
            "outsider",
            "Ready",
            "False",
            "ConnectClusterRefused",
            POLL * 3 + MARGIN,
        )
        .await;
    assert_eq!(cond(&outsider, "Stalled").0, "True");
    assert!(
        condition(&outsider, "Ready")
            .unwrap()
            .2
            .contains(&format!("does not admit namespace {}", env.ns))
    );

    // A ConnectCluster that does not exist.
    env.apply(
        "dangling",
        json!({"pollInterval": "5s", "connectClusterRef": {"name": format!("{}-nothing", env.ns)}}),
    )
    .await;
    env.wait_condition(
        "dangling",
        "Ready",
        "False",
        "ConnectClusterNotFound",
        POLL * 3 + MARGIN,
    )
    .await;

    // Status: health and usage.
    clusters.wait_status(&shared, "True", 2).await;
    clusters.wait_status(&read_only, "True", 2).await;
    clusters.wait_status(&elsewhere, "True", 1).await;

    // A change of the cluster reaches its users at once: opening the selector admits outsider.
    clusters
        .declare(
            &env,
            "elsewhere",
            json!({"dataplane": source, "access": "Act"}),
        )
        .await;
    env.wait_state("outsider", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;

    // Bad credentials show on the cluster itself.
    let broken = clusters
        .declare(
            &env,
            "broken",
            json!({"dataplane": {"url": env.sim_url, "credentialsSecretRef": {"namespace": env.ns, "name": "absent"}}}),
        )
        .await;
    let cc = clusters.wait_status(&broken, "False", 0).await;
    let ready = &cc.status.unwrap().conditions[0];
    assert_eq!(ready.reason, "CredentialsNotFound", "{ready:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn require_connect_cluster_refuses_inline_sources() {
    let env = Env::new("platform-only", &["--require-connect-cluster"]).await;
    let mut clusters = Clusters::new(&env);
    env.sim
        .upsert("redpanda", connector("watched", "RUNNING", &["RUNNING"]));
    env.apply(
        "inline",
        json!({"pollInterval": "5s", "connectorName": "watched",
               "dataplane": {"credentialsSecretRef": {"name": "creds"}}}),
    )
    .await;
    let inline = env
        .wait_condition(
            "inline",
            "Ready",
            "False",
            "ConnectClusterRefused",
            POLL * 3 + MARGIN,
        )
        .await;
    assert!(
        condition(&inline, "Ready")
            .unwrap()
            .2
            .contains("--require-connect-cluster")
    );
    assert_eq!(env.sim.counts().total, 0, "an inline source was asked");
    let shared = clusters
        .declare(
            &env,
            "only",
            json!({"dataplane": {"url": env.sim_url, "credentialsSecretRef": {"namespace": env.ns, "name": "creds"}}}),
        )
        .await;
    env.apply(
        "declared",
        json!({"pollInterval": "5s", "connectorName": "watched", "connectClusterRef": {"name": shared}}),
    )
    .await;
    env.wait_state("declared", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    let _ = Api::<ConnectCluster>::all(env.client.clone())
        .delete(&shared, &DeleteParams::default())
        .await;
}
