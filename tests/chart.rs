//! The Helm chart: `helm lint`, `helm template` with default and non-default values checked for
//! the properties the chart promises, then `helm install` into the local API server and the real
//! operator binary running with a token of the chart's ServiceAccount, in cluster-wide and in
//! namespaced mode, with one and two replicas. Requests the chart must not allow are refused.
//!
//! Marked `#[ignore]`: `hack/test` runs them after building helm into `.tools/bin` and starting
//! the control plane. The cluster-wide release `mco` in `mco-system` stays installed, and its
//! ServiceAccount's kubeconfig (`target/chart/operator.kubeconfig`) is what `hack/test` then runs
//! every end-to-end scenario with.

mod common;

use common::*;
use managed_connector_operator::crd::HolisticState;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Renders the chart as release `mco` in `mco-system` and parses every document.
fn template(set: &[&str]) -> Vec<Value> {
    helm_template("mco", "mco-system", set)
}

fn find<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found = find(docs, kind);
    assert_eq!(found.len(), 1, "expected one {kind}, got {}", found.len());
    found[0]
}

fn args_of(docs: &[Value]) -> Vec<String> {
    one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// One (apiGroup, resource, verb) a role grants.
type Grant = (String, String, String);

fn rules(role: &Value) -> Vec<Grant> {
    let mut out = Vec::new();
    for rule in role["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    out.push((
                        group.as_str().unwrap().to_string(),
                        resource.as_str().unwrap().to_string(),
                        verb.as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

fn r(group: &str, resource: &str, verb: &str) -> (String, String, String) {
    (group.into(), resource.into(), verb.into())
}

#[test]
#[ignore = "needs helm in .tools/bin: hack/test"]
fn chart_lints_and_renders_hardened_least_privilege_defaults() {
    helm_ok(&["lint", "--strict", CHART]);
    let docs = template(&[]);

    // The CRD comes from crds/ itself: no second copy to drift.
    let crds = find(&docs, "CustomResourceDefinition");
    assert_eq!(crds.len(), 2, "ManagedConnector and ConnectCluster");
    for plural in managed_connector_operator::schema::PLURALS {
        let committed: Value = serde_saphyr::from_str(
            &std::fs::read_to_string(
                root().join(format!("crds/{plural}.connectors.dataplane.dev.yaml")),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(crds.contains(&&committed), "{plural} differs from crds/");
    }

    let deploy = one(&docs, "Deployment");
    let pod = &deploy["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(
        c["securityContext"]["capabilities"]["drop"],
        serde_json::json!(["ALL"])
    );
    assert_eq!(
        c["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    for kind in ["requests", "limits"] {
        assert!(
            c["resources"][kind]["cpu"].is_string() && c["resources"][kind]["memory"].is_string(),
            "{kind}"
        );
    }
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(deploy["spec"]["replicas"], 1);
    let args = args_of(&docs);
    assert!(args.contains(&"--leader-election".to_string()));
    assert!(args.contains(&"--leader-election-namespace=mco-system".to_string()));
    assert!(
        !args.iter().any(|a| a.starts_with("--namespace=")),
        "cluster-wide by default"
    );
    assert!(
        !args
            .iter()
            .any(|a| a.starts_with("--allow-insecure-http") || a.starts_with("--trusted-hosts")),
        "credentials go to dataplane.url only, and never in clear text, by default"
    );

    // Cluster-wide: read resources, patch their status and (deletionPolicy: Delete) their
    // finalizer, get Secrets and ConfigMaps (CA certificates), write Events. Nothing else.
    let cluster_roles = find(&docs, "ClusterRole");
    let (aggregated, operator): (Vec<&Value>, Vec<&Value>) =
        cluster_roles.into_iter().partition(|r| {
            r["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
        });
    assert_eq!(operator.len(), 1, "one ClusterRole for the operator");
    let cluster_role = operator[0];
    // Users' roles: view reads both kinds, edit and admin also write ManagedConnectors; no
    // ConnectCluster writes, no Secrets, nothing the operator's own role needs.
    let aggregated: Vec<(String, Vec<Grant>)> = aggregated
        .iter()
        .map(|r| {
            (
                r["metadata"]["name"].as_str().unwrap().to_string(),
                rules(r),
            )
        })
        .collect();
    let read = |res: &str| ["get", "list", "watch"].map(|v| r("connectors.dataplane.dev", res, v));
    let mut view: Vec<_> = [
        "connectclusters",
        "connectclusters/status",
        "managedconnectors",
        "managedconnectors/status",
    ]
    .into_iter()
    .flat_map(read)
    .collect();
    view.sort();
    let mut edit: Vec<_> = ["create", "delete", "deletecollection", "patch", "update"]
        .map(|v| r("connectors.dataplane.dev", "managedconnectors", v))
        .to_vec();
    edit.sort();
    assert_eq!(
        aggregated,
        vec![
            ("mco-managed-connector-operator-view".to_string(), view),
            ("mco-managed-connector-operator-edit".to_string(), edit)
        ]
    );
    assert_eq!(
        rules(cluster_role),
        vec![
            r("", "configmaps", "create"),
            r("", "configmaps", "get"),
            r("", "configmaps", "patch"),
            r("", "namespaces", "get"),
            r("", "secrets", "get"),
            r("connectors.dataplane.dev", "connectclusters", "get"),
            r("connectors.dataplane.dev", "connectclusters", "list"),
            r("connectors.dataplane.dev", "connectclusters", "watch"),
            r(
                "connectors.dataplane.dev",
                "connectclusters/status",
                "patch"
            ),
            r("connectors.dataplane.dev", "managedconnectors", "get"),
            r("connectors.dataplane.dev", "managedconnectors", "list"),
            r("connectors.dataplane.dev", "managedconnectors", "patch"),
            r("connectors.dataplane.dev", "managedconnectors", "watch"),
            r(
                "connectors.dataplane.dev",
                "managedconnectors/finalizers",
                "update"
            ),
            r(
                "connectors.dataplane.dev",
                "managedconnectors/status",
                "patch"
            ),
            r("events.k8s.io", "events", "create"),
            r("events.k8s.io", "events", "patch"),
        ]
    );
    let own = one(&docs, "Role");
    assert_eq!(own["metadata"]["namespace"], "mco-system");
    assert_eq!(
        rules(own),
        vec![
            r("coordination.k8s.io", "leases", "create"),
            r("coordination.k8s.io", "leases", "get"),
            r("coordination.k8s.io", "leases", "patch"),
            r("coordination.k8s.io", "leases", "update"),
        ]
    );
    assert!(find(&docs, "PodDisruptionBudget").is_empty());
    assert!(find(&docs, "Secret").is_empty());
    assert!(find(&docs, "ServiceMonitor").is_empty());
    assert!(find(&docs, "NetworkPolicy").is_empty(), "off by default");
    assert_eq!(one(&docs, "Service")["spec"]["ports"][0]["port"], 8080);
}

#[test]
#[ignore = "needs helm in .tools/bin: hack/test"]
fn chart_renders_namespaced_mode_replicas_credentials_monitoring_and_argocd() {
    let docs = template(&[
        "watchNamespace=team-a",
        "replicaCount=2",
        "credentials.create=true",
        "credentials.clientId=the-client",
        "credentials.clientSecret=the-secret",
        "dataplane.url=https://api.example.com",
        "trustedHosts={*.byoc.example.com,dp.example.net}",
        "allowInsecureHttp=true",
        "allowedHosts={*.example.com,dp.example.net}",
        "allowLinkLocal=true",
        "networkPolicy.enabled=true",
        "networkPolicy.egress.cidrs={10.0.0.0/8}",
        "metrics.serviceMonitor.enabled=true",
        "metrics.prometheusRule.enabled=true",
        "metrics.grafanaDashboard.enabled=true",
        "metrics.grafanaDashboard.namespace=monitoring",
        "metrics.grafanaDashboard.annotations.grafana_folder=Kafka",
        "rbac.secretNamespaces={ignored-in-namespaced-mode}",
    ]);
    assert!(
        find(&docs, "ClusterRole").is_empty() && find(&docs, "ClusterRoleBinding").is_empty(),
        "nothing cluster-wide"
    );
    let roles = find(&docs, "Role");
    let watched = roles
        .iter()
        .find(|r| r["metadata"]["namespace"] == "team-a")
        .expect("Role in team-a");
    assert!(rules(watched).contains(&r("", "secrets", "get")));
    assert!(rules(watched).contains(&r(
        "connectors.dataplane.dev",
        "managedconnectors/status",
        "patch"
    )));
    let own = roles
        .iter()
        .find(|r| r["metadata"]["namespace"] == "mco-system")
        .expect("Role in the release namespace");
    let secret_rule = own["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resources"][0] == "secrets")
        .expect("credentials rule");
    assert_eq!(
        secret_rule["resourceNames"],
        serde_json::json!(["mco-managed-connector-operator-credentials"]),
        "only its own Secret"
    );
    let policy = one(&docs, "NetworkPolicy");
    assert_eq!(
        policy["spec"]["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    assert_eq!(
        policy["spec"]["ingress"][0]["ports"][0]["port"], "metrics",
        "only the metrics port is reachable"
    );
    let egress = policy["spec"]["egress"].as_array().unwrap();
    assert_eq!(egress[0]["ports"][0]["port"], 53, "DNS");
    assert_eq!(egress[1]["to"][0]["ipBlock"]["cidr"], "10.0.0.0/8");
    let digest = format!("sha256:{}", "ab".repeat(32));
    let pinned = template(&[&format!("image.digest={digest}"), "image.tag=ignored"]);
    assert_eq!(
        one(&pinned, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("ghcr.io/managed-connector-operator/managed-connector-operator@{digest}"),
        "a digest pins the image"
    );
    let args = args_of(&docs);
    for expected in [
        "--namespace=team-a",
        "--credentials-secret=mco-system/mco-managed-connector-operator-credentials",
        "--dataplane-url=https://api.example.com",
        "--trusted-hosts=*.byoc.example.com,dp.example.net",
        "--allow-insecure-http",
        "--allowed-hosts=*.example.com,dp.example.net",
        "--allow-link-local",
        "--leader-election",
    ] {
        assert!(
            args.contains(&expected.to_string()),
            "{expected} in {args:?}"
        );
    }
    assert_eq!(one(&docs, "Deployment")["spec"]["replicas"], 2);
    assert_eq!(one(&docs, "PodDisruptionBudget")["spec"]["minAvailable"], 1);
    let secret = one(&docs, "Secret");
    assert_eq!(secret["stringData"]["client_id"], "the-client");
    assert!(one(&docs, "ServiceMonitor")["spec"]["endpoints"][0]["port"] == "metrics");
    // What each alert does is proven by promtool (tests/observability.rs); here, that the values
    // reach the rendered rules.
    let rules = one(&docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .clone();
    assert!(rules.len() >= 8, "{rules:?}");
    for rule in &rules {
        assert!(
            rule["alert"]
                .as_str()
                .unwrap()
                .starts_with("ManagedConnector")
        );
        assert_eq!(rule["labels"]["severity"], "warning");
    }
    let dashboard = find(&docs, "ConfigMap")
        .into_iter()
        .find(|c| c["metadata"]["namespace"] == "monitoring")
        .expect("Grafana dashboard ConfigMap in the namespace asked for");
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(
        dashboard["metadata"]["annotations"]["grafana_folder"],
        "Kafka"
    );
    let shipped: Value = serde_json::from_str(
        dashboard["data"]["managed-connectors.json"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root()
                .join(CHART)
                .join("dashboards/managed-connectors.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(shipped, file);
}

#[test]
#[ignore = "needs helm in .tools/bin: hack/test"]
fn bad_values_fail_at_install_time_with_a_clear_message() {
    for (set, message) in [
        ("replicaCount=-1", "/replicaCount"),
        ("pollInterval=soon", "/pollInterval"),
        ("logging.format=xml", "/logging/format"),
        ("dataplane.url=ftp://x", "/dataplane/url"),
        ("watchNamespace=Not_A_Namespace", "/watchNamespace"),
        ("image.digest=latest", "/image/digest"),
        ("batch=sometimes", "/batch"),
        ("listPageSize=5000", "/listPageSize"),
        ("shards[0].name=a", "missing property 'selector'"),
        ("connectClusters[0].name=a", "missing property 'spec'"),
        (
            "unknownKey=1",
            "additional properties 'unknownKey' not allowed",
        ),
        (
            "credentials.create=true",
            "credentials.clientId is required",
        ),
    ] {
        let out = helm(&["template", "mco", CHART, "--set", set]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{set} accepted");
        assert!(
            stderr.contains(message),
            "{set}: want {message:?} in {stderr}"
        );
    }
}

#[test]
#[ignore = "needs helm in .tools/bin: hack/test"]
fn connect_clusters_and_the_require_flag_come_from_values() {
    let docs = template(&[
        "requireConnectCluster=true",
        "connectClusters[0].name=shared-connect",
        "connectClusters[0].spec.kafkaConnect.url=http://connect.kafka.svc:8083",
        "connectClusters[0].spec.access=Act",
        "connectClusters[0].spec.namespaceSelector.matchLabels.tenant=yes",
    ]);
    let cc = one(&docs, "ConnectCluster");
    assert_eq!(cc["metadata"]["name"], "shared-connect");
    assert_eq!(cc["spec"]["access"], "Act");
    assert_eq!(
        cc["spec"]["namespaceSelector"]["matchLabels"]["tenant"],
        "yes"
    );
    assert_eq!(
        cc["spec"]["kafkaConnect"]["url"],
        "http://connect.kafka.svc:8083"
    );
    assert!(args_of(&docs).contains(&"--require-connect-cluster".to_string()));
    assert!(
        !args_of(&docs)
            .iter()
            .any(|a| a.starts_with("--connect-clusters"))
    );
    // Namespaced mode reads nothing cluster-scoped, so it does not watch ConnectClusters.
    let namespaced = template(&["watchNamespace=team-a"]);
    assert!(args_of(&namespaced).contains(&"--connect-clusters=false".to_string()));
    assert!(
        find(&template(&[]), "ConnectCluster").is_empty(),
        "none by default"
    );
}

#[test]
#[ignore = "needs helm in .tools/bin: hack/test"]
fn shards_render_one_deployment_each_with_its_selector_and_lease() {
    let plain = template(&[]);
    let args = args_of(&plain);
    assert!(args.contains(&"--batch=auto".to_string()), "{args:?}");
    assert!(args.contains(&"--list-page-size=1000".to_string()));
    assert!(args.contains(&"--connector-metrics=full".to_string()));
    assert!(!args.iter().any(|a| a.starts_with("--selector")));
    let docs = template(&[
        "shards[0].name=a",
        "shards[0].selector=shard=a",
        "shards[1].name=b",
        "shards[1].selector=shard in (b\\,c)",
        "replicaCount=2",
    ]);
    let deployments = find(&docs, "Deployment");
    assert_eq!(deployments.len(), 2);
    let mut selectors = Vec::new();
    for (d, shard) in deployments.iter().zip(["a", "b"]) {
        assert_eq!(
            d["metadata"]["name"],
            format!("mco-managed-connector-operator-{shard}")
        );
        let match_labels = &d["spec"]["selector"]["matchLabels"];
        assert_eq!(match_labels["connectors.dataplane.dev/shard"], shard);
        assert_eq!(
            d["spec"]["template"]["metadata"]["labels"]["connectors.dataplane.dev/shard"], shard,
            "the Pods carry the label their Deployment selects"
        );
        selectors.push(match_labels.clone());
        let args: Vec<String> = d["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        assert!(
            args.contains(&format!(
                "--leader-election-lease-name=mco-managed-connector-operator-{shard}"
            )),
            "its own Lease: {args:?}"
        );
        assert!(
            args.iter().any(|a| a.starts_with("--selector=shard")),
            "{args:?}"
        );
    }
    assert_ne!(selectors[0], selectors[1], "Deployments never share Pods");
}

fn can_i(kubeconfig: &PathBuf, args: &[&str]) -> bool {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["auth", "can-i"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "yes"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane and helm: hack/test"]
async fn cluster_wide_install_grants_what_the_operator_needs_and_no_more() {
    install_crd();
    helm_ok(&[
        "upgrade",
        "--install",
        "mco",
        CHART,
        "--namespace",
        "mco-system",
        "--create-namespace",
        // The real API server validates the NetworkPolicy too.
        "--set",
        "networkPolicy.enabled=true",
    ]);
    let sa = service_account_kubeconfig(
        "mco-system",
        "mco-managed-connector-operator",
        "operator.kubeconfig",
    );
    for (allowed, args) in [
        (
            true,
            vec![
                "list",
                "managedconnectors.connectors.dataplane.dev",
                "--all-namespaces",
            ],
        ),
        (
            true,
            vec![
                "watch",
                "managedconnectors.connectors.dataplane.dev",
                "--all-namespaces",
            ],
        ),
        (
            true,
            vec![
                "patch",
                "managedconnectors.connectors.dataplane.dev",
                "--subresource=status",
                "-n",
                "anywhere",
            ],
        ),
        (true, vec!["get", "secrets", "-n", "anywhere"]),
        (
            true,
            vec!["create", "events.events.k8s.io", "-n", "anywhere"],
        ),
        (
            true,
            vec!["create", "leases.coordination.k8s.io", "-n", "mco-system"],
        ),
        (
            false,
            vec![
                "update",
                "managedconnectors.connectors.dataplane.dev",
                "-n",
                "anywhere",
            ],
        ),
        (
            false,
            vec![
                "delete",
                "managedconnectors.connectors.dataplane.dev",
                "-n",
                "anywhere",
            ],
        ),
        (false, vec!["list", "secrets", "--all-namespaces"]),
        (false, vec!["list", "configmaps", "--all-namespaces"]),
        (false, vec!["delete", "configmaps", "-n", "anywhere"]),
        (false, vec!["watch", "secrets", "-n", "anywhere"]),
        (
            false,
            vec!["create", "leases.coordination.k8s.io", "-n", "default"],
        ),
        (false, vec!["create", "pods", "-n", "mco-system"]),
        (false, vec!["create", "events", "-n", "anywhere"]),
    ] {
        assert_eq!(can_i(&sa, &args), allowed, "can-i {args:?}");
    }

    // One replica under exactly these permissions.
    let env = Env::with(
        "chart-cluster",
        Options {
            kubeconfig: Some(sa.clone()),
            ..Default::default()
        },
    )
    .await;
    env.sim.upsert(
        "redpanda",
        connector("orders", "RUNNING", &["RUNNING", "FAILED"]),
    );
    env.watch_connector("orders").await;
    let mc = env
        .wait_state("orders", HolisticState::Degraded, POLL + MARGIN)
        .await;
    assert_eq!(cond(&mc, "Stalled").0, "True");
    let events = env.events("orders").await;
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "Degraded"),
        "Events allowed: {events:?}"
    );
    let log = std::fs::read_to_string(&env.log).unwrap();
    assert!(
        !log.contains("forbidden"),
        "nothing forbidden in the operator log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane and helm: hack/test"]
async fn namespaced_install_works_in_its_namespace_only_with_two_replicas() {
    install_crd();
    let team = namespace_for("chart-team");
    kubectl_ok(&["create", "namespace", &team]);
    let release_ns = format!("{team}-system");
    helm_ok(&[
        "upgrade",
        "--install",
        "mco-team",
        CHART,
        "--namespace",
        &release_ns,
        "--create-namespace",
        "--set",
        &format!("watchNamespace={team}"),
        "--set",
        "replicaCount=2",
    ]);
    let rendered = helm_ok(&["get", "manifest", "mco-team", "--namespace", &release_ns]);
    assert!(
        !rendered.contains("kind: ClusterRole"),
        "nothing cluster-wide in namespaced mode"
    );
    let sa = service_account_kubeconfig(
        &release_ns,
        "mco-team-managed-connector-operator",
        &format!("{team}.kubeconfig"),
    );
    assert!(can_i(&sa, &["get", "secrets", "-n", &team]));
    assert!(
        !can_i(&sa, &["get", "secrets", "-n", "default"]),
        "no Secret outside the watched namespace"
    );
    assert!(!can_i(
        &sa,
        &[
            "list",
            "managedconnectors.connectors.dataplane.dev",
            "--all-namespaces"
        ]
    ));
    // The API server itself refuses a read of another namespace's Secret with this token.
    let denied = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&sa)
        .args(["get", "secret", "creds", "-n", "mco-system"])
        .output()
        .unwrap();
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("forbidden"),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );

    // Two replicas with the chart's flags for leader election, under the chart's RBAC.
    let lease = "mco-team-managed-connector-operator";
    let args = [
        "--leader-election",
        "--leader-election-namespace",
        &release_ns,
        "--leader-election-lease-name",
        lease,
        "--leader-election-lease-duration",
        "4s",
    ];
    let mut env = Env::with(
        "chart-team",
        Options {
            args: &args,
            namespace: Some(team.clone()),
            kubeconfig: Some(sa.clone()),
            ..Default::default()
        },
    )
    .await;
    let second_port = free_port();
    let second = env.spawn_operator(second_port, &env.log.with_extension("second.log"));
    let mut replicas = vec![env.operator.take().expect("first replica"), second];
    env.serve_and_watch("orders", "RUNNING", &["RUNNING"]).await;
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
    let holder = kubectl_ok(&[
        "get",
        "lease",
        lease,
        "-n",
        &release_ns,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert!(!holder.is_empty(), "the Lease has a holder");

    // Kill whichever replica leads; the other takes over within the Lease duration.
    let first_leads =
        metric_value(&env.metrics().await, "managed_connector_reconciles_total") > 0.0;
    let leader = &mut replicas[if first_leads { 0 } else { 1 }];
    leader.kill().unwrap();
    leader.wait().unwrap();
    env.sim
        .set_state("redpanda", "orders", "PAUSED", &["PAUSED"]);
    env.wait_state(
        "orders",
        HolisticState::Paused,
        Duration::from_secs(4) + POLL + MARGIN * 2,
    )
    .await;
    let events = env.events("orders").await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.1 == "Paused")
            .map(|e| e.2)
            .sum::<i32>(),
        1,
        "{events:?}"
    );
    for mut replica in replicas {
        let _ = replica.kill();
        let _ = replica.wait();
    }
}

/// What users of other charts look for: name and namespace overrides, labels on everything,
/// security contexts that OpenShift's restricted-v2 accepts, extra args, env and volumes,
/// topology spread, a grace period, scale to zero, `global` from a parent chart, and one
/// PodDisruptionBudget per shard.
#[test]
#[ignore = "needs helm in .tools/bin: hack/test"]
fn chart_follows_helm_conventions() {
    let docs = template(&[
        "global.imageRegistry=registry.example.com",
        "fullnameOverride=connectors",
        "namespaceOverride=platform-ops",
        "commonLabels.team=platform",
        "podSecurityContext.runAsUser=null",
        "podSecurityContext.runAsGroup=null",
        "podSecurityContext.fsGroup=null",
        "extraArgs={--max-response-bytes=8388608}",
        "extraEnv[0].name=HTTPS_PROXY",
        "extraEnv[0].value=http://proxy:3128",
        "extraVolumes[0].name=corporate-ca",
        "extraVolumes[0].configMap.name=corporate-ca",
        "extraVolumeMounts[0].name=corporate-ca",
        "extraVolumeMounts[0].mountPath=/etc/ssl/corporate",
        "topologySpreadConstraints[0].maxSkew=1",
        "topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone",
        "topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway",
        "terminationGracePeriodSeconds=45",
    ]);
    for doc in &docs {
        let kind = doc["kind"].as_str().unwrap_or_default();
        if kind == "CustomResourceDefinition" {
            continue;
        }
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        assert!(
            name.starts_with("connectors"),
            "{kind} {name}: fullnameOverride"
        );
        assert_eq!(
            doc["metadata"]["labels"]["team"], "platform",
            "{kind} {name}: commonLabels"
        );
        let cluster_scoped = ["ClusterRole", "ClusterRoleBinding"].contains(&kind);
        if !cluster_scoped && !["Role", "RoleBinding"].contains(&kind) {
            assert_eq!(
                doc["metadata"]["namespace"], "platform-ops",
                "{kind} {name}: namespaceOverride"
            );
        }
    }
    let deployment = one(&docs, "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let security = &pod["securityContext"];
    assert!(
        security.get("runAsUser").is_none() && security.get("fsGroup").is_none(),
        "{security}"
    );
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(pod["terminationGracePeriodSeconds"], 45);
    assert_eq!(pod["topologySpreadConstraints"][0]["maxSkew"], 1);
    assert_eq!(pod["volumes"][0]["configMap"]["name"], "corporate-ca");
    let container = &pod["containers"][0];
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["volumeMounts"][0]["mountPath"],
        "/etc/ssl/corporate"
    );
    assert!(
        container["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "HTTPS_PROXY")
    );
    assert!(args_of(&docs).contains(&"--max-response-bytes=8388608".to_string()));
    let binding = find(&docs, "ClusterRoleBinding");
    assert_eq!(binding[0]["subjects"][0]["namespace"], "platform-ops");

    // Scale to zero: no Pods, no PodDisruptionBudget.
    let zero = template(&["replicaCount=0"]);
    assert_eq!(one(&zero, "Deployment")["spec"]["replicas"], 0);
    assert!(find(&zero, "PodDisruptionBudget").is_empty());

    // Shards with replicas: each Deployment's Pods have their own budget.
    let sharded = template(&[
        "replicaCount=2",
        "shards[0].name=a",
        "shards[0].selector=shard=a",
        "shards[1].name=b",
        "shards[1].selector=shard=b",
    ]);
    let budgets = find(&sharded, "PodDisruptionBudget");
    let selected: Vec<&Value> = budgets
        .iter()
        .map(|b| &b["spec"]["selector"]["matchLabels"]["connectors.dataplane.dev/shard"])
        .collect();
    assert_eq!(selected, [&Value::from("a"), &Value::from("b")]);
}

/// Every alert points at its runbook (a section of docs/runbooks.md), and each can be switched
/// off or given its own severity.
#[test]
#[ignore = "needs helm in .tools/bin: hack/test"]
fn every_alert_has_a_runbook_a_switch_and_its_own_severity() {
    let rules_of = |set: &[&str]| -> Vec<Value> {
        let mut all = vec!["metrics.prometheusRule.enabled=true"];
        all.extend_from_slice(set);
        let docs = template(&all);
        one(&docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
            .as_array()
            .expect("rules")
            .clone()
    };
    let runbooks = std::fs::read_to_string(root().join("docs/runbooks.md")).expect("runbooks");
    let all = rules_of(&[]);
    assert!(all.len() >= 8, "{all:?}");
    for rule in &all {
        let alert = rule["alert"].as_str().expect("an alert");
        let url = rule["annotations"]["runbook_url"]
            .as_str()
            .expect("runbook_url");
        let anchor = url.rsplit_once('#').expect("an anchor").1;
        assert_eq!(anchor, alert.to_lowercase());
        assert!(
            runbooks.contains(&format!("\n## {alert}\n")),
            "no runbook for {alert}"
        );
        assert_eq!(rule["labels"]["severity"], "warning");
    }
    let tuned = rules_of(&[
        "metrics.prometheusRule.alerts.ManagedConnectorNotReady.severity=critical",
        "metrics.prometheusRule.alerts.ManagedConnectorActionsFailing.enabled=false",
        "metrics.prometheusRule.runbookUrl=https://wiki.example.com/mco",
    ]);
    assert_eq!(tuned.len(), all.len() - 1);
    assert!(
        !tuned
            .iter()
            .any(|r| r["alert"] == "ManagedConnectorActionsFailing")
    );
    let not_ready = tuned
        .iter()
        .find(|r| r["alert"] == "ManagedConnectorNotReady")
        .expect("NotReady");
    assert_eq!(not_ready["labels"]["severity"], "critical");
    assert_eq!(
        not_ready["annotations"]["runbook_url"],
        "https://wiki.example.com/mco#managedconnectornotready"
    );
    // A misspelt alert name is refused, not ignored.
    let out = helm(&[
        "template",
        "mco",
        CHART,
        "--set",
        "metrics.prometheusRule.alerts.ManagedConnectorNotRedy.enabled=false",
    ]);
    assert!(!out.status.success(), "a misspelt alert name was accepted");
}
