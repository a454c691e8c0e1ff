//! End-to-end tests: the real operator binary, a real kube-apiserver + etcd (`hack/testenv`), the
//! Data Plane simulator, `kubectl`. Marked `#[ignore]`; `hack/test` runs them with the control
//! plane up (`cargo test --test e2e -- --ignored`). Each test has its own namespace, simulator and
//! operator process (`--namespace`), so they run in parallel.

mod common;

use common::*;
use dataplane_sim::scenario::Faults;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use managed_connector_operator::crd::HolisticState;
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn every_holistic_state_in_status_conditions_kubectl_and_metrics() {
    let env = Env::new("states", &[]).await;
    // name, connector state, tasks, holistic state, Ready, Stalled, Reconciling, tasksReady
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a [&'a str],
        HolisticState,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
    );
    let cases: [Case; 9] = [
        (
            "healthy",
            "RUNNING",
            &["RUNNING", "RUNNING"],
            HolisticState::Healthy,
            "True",
            "False",
            "False",
            "2/2",
        ),
        (
            "degraded",
            "RUNNING",
            &["RUNNING", "FAILED"],
            HolisticState::Degraded,
            "False",
            "True",
            "False",
            "1/2",
        ),
        (
            "unhealthy",
            "FAILED",
            &[],
            HolisticState::Unhealthy,
            "False",
            "True",
            "False",
            "0/0",
        ),
        (
            "paused",
            "PAUSED",
            &["PAUSED"],
            HolisticState::Paused,
            "False",
            "False",
            "False",
            "0/1",
        ),
        (
            "stopped",
            "STOPPED",
            &[],
            HolisticState::Stopped,
            "False",
            "False",
            "False",
            "0/0",
        ),
        (
            "restarting",
            "RESTARTING",
            &["RESTARTING"],
            HolisticState::Restarting,
            "False",
            "False",
            "True",
            "0/1",
        ),
        (
            "unassigned",
            "UNASSIGNED",
            &["UNASSIGNED"],
            HolisticState::Unassigned,
            "False",
            "False",
            "True",
            "0/1",
        ),
        (
            "destroyed",
            "DESTROYED",
            &[],
            HolisticState::Destroyed,
            "False",
            "True",
            "False",
            "0/0",
        ),
        (
            "unknown",
            "RUNNING",
            &["RUNNING", "PAUSED"],
            HolisticState::Unknown,
            "Unknown",
            "False",
            "False",
            "1/2",
        ),
    ];
    for (name, state, tasks, ..) in &cases {
        env.serve_and_watch(name, state, tasks).await;
    }
    for (name, _, tasks, hs, ready, stalled, reconciling, tasks_ready) in &cases {
        let mc = env.wait_state(name, *hs, POLL + MARGIN).await;
        let s = mc.status.clone().unwrap();
        eprintln!("  {name}: {hs} Ready={ready} Stalled={stalled} Reconciling={reconciling}");
        assert_eq!(
            cond(&mc, "Ready"),
            (ready.to_string(), hs.to_string()),
            "{name}"
        );
        assert_eq!(cond(&mc, "Stalled").0, *stalled, "{name}");
        assert_eq!(cond(&mc, "Reconciling").0, *reconciling, "{name}");
        assert_eq!(
            cond(&mc, "Synced"),
            ("True".into(), "Synced".into()),
            "{name}"
        );
        assert_eq!(s.tasks_ready.as_deref(), Some(*tasks_ready), "{name}");
        assert_eq!(s.tasks.len(), tasks.len(), "{name}");
        assert_eq!(s.connector_name.as_deref(), Some(*name));
        assert_eq!(s.type_.as_deref(), Some("sink"));
        assert_eq!(s.observed_generation, mc.metadata.generation);
        assert!(s.last_sync_time.is_some());
        assert!(
            s.conditions
                .iter()
                .all(|c| c.observed_generation == mc.metadata.generation)
        );
        env.capture(name, name);
    }
    let degraded = env.get("degraded").await.status.unwrap();
    assert_eq!(degraded.errors.len(), 2);
    assert_eq!(degraded.errors[1].content, "Connection refused");

    let plain = table(&kubectl_ok(&["get", "managedconnectors", "-n", &env.ns]));
    let wide = table(&kubectl_ok(&["get", "mconn", "-n", &env.ns, "-o", "wide"]));
    let header: Vec<_> = plain[0].keys().cloned().collect();
    let mut expected = vec!["AGE", "CONNECTOR", "NAME", "READY", "STATE", "TASKS"];
    expected.sort();
    assert_eq!(header, expected);
    for (name, _, _, hs, ready, _, _, tasks_ready) in &cases {
        let row = plain
            .iter()
            .find(|r| r["NAME"] == *name)
            .unwrap_or_else(|| panic!("{name} listed"));
        assert_eq!(row["CONNECTOR"], *name);
        assert_eq!(row["STATE"], hs.to_string());
        assert_eq!(row["TASKS"], *tasks_ready);
        assert_eq!(row["READY"], *ready);
        assert!(!row["AGE"].is_empty());
        let w = wide.iter().find(|r| r["NAME"] == *name).unwrap();
        assert_eq!(w["TYPE"], "sink");
        assert_eq!(w["CLUSTER"], "redpanda");
        assert_eq!(w["REASON"], hs.to_string());
        let mc = env.get(name).await;
        assert_eq!(
            w["MESSAGE"],
            condition(&mc, "Ready").unwrap().2,
            "{name}: MESSAGE is the Ready message"
        );
    }

    let metrics = env.metrics().await;
    for (name, _, _, hs, ..) in &cases {
        let line = format!(
            r#"managed_connector_holistic_state{{namespace="{}",name="{name}",state="{hs}"}} 1"#,
            env.ns
        );
        assert!(metrics.contains(&line), "missing {line}");
    }
    assert!(metrics.contains(&format!(
        r#"managed_connector_tasks{{namespace="{}",name="degraded",state="FAILED"}} 1"#,
        env.ns
    )));
    assert!(
        metrics.contains(r#"managed_connector_token_requests_total{outcome="ok"} 1"#),
        "one token for all"
    );
    assert!(
        metrics.lines().any(|l| l
            .starts_with("managed_connector_request_duration_seconds_bucket{")
            && l.contains(r#"source="dataplane""#)),
        "{metrics}"
    );
    assert!(!metrics.contains("e2e-secret"));
    assert_eq!(env.sim.counts().tokens_issued, 1);

    let health = reqwest::get(format!("http://127.0.0.1:{}/readyz", env.metrics_port))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn transitions_show_within_a_poll_and_emit_one_event_each() {
    let env = Env::new("transitions", &[]).await;
    env.sim.upsert(
        "redpanda",
        connector("orders", "RUNNING", &["RUNNING", "RUNNING"]),
    );
    env.watch_connector("orders").await;
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
    let within = POLL + MARGIN;
    let steps: [(&str, &[&str], HolisticState); 5] = [
        ("RUNNING", &["RUNNING", "FAILED"], HolisticState::Degraded),
        ("RUNNING", &["RUNNING", "RUNNING"], HolisticState::Healthy),
        ("PAUSED", &["PAUSED", "PAUSED"], HolisticState::Paused),
        (
            "RESTARTING",
            &["RESTARTING", "RESTARTING"],
            HolisticState::Restarting,
        ),
        ("RUNNING", &["RUNNING", "RUNNING"], HolisticState::Healthy),
    ];
    for (state, tasks, hs) in steps {
        env.sim.set_state("redpanda", "orders", state, tasks);
        let started = Instant::now();
        env.wait_state("orders", hs, within).await;
        eprintln!("  → {hs} seen after {:?}", started.elapsed());
        if hs == HolisticState::Degraded {
            env.capture("orders", "transition-degraded");
        }
    }
    // A few polls with nothing changing: no further Events.
    env.wait_polls("orders", 2).await;
    let events = env.events("orders").await;
    let reasons: Vec<_> = events
        .iter()
        .map(|(t, r, n)| format!("{t}/{r}x{n}"))
        .collect();
    eprintln!("  events: {reasons:?}");
    let total = |reason: &str| {
        events
            .iter()
            .filter(|e| e.1 == reason)
            .map(|e| e.2)
            .sum::<i32>()
    };
    assert_eq!(total("Healthy"), 3, "{reasons:?}");
    assert_eq!(total("Degraded"), 1, "{reasons:?}");
    assert_eq!(total("Paused"), 1, "{reasons:?}");
    assert_eq!(total("Restarting"), 1, "{reasons:?}");
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "Degraded")
    );
    assert!(
        events
            .iter()
            .all(|(t, r, _)| r != "Healthy" || t == "Normal")
    );
    assert_eq!(
        events.iter().map(|e| e.2).sum::<i32>(),
        6,
        "nothing else: {reasons:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_steady_connector_causes_no_status_writes() {
    let env = Env::new("steady", &[]).await;
    env.serve_and_watch("steady", "RUNNING", &["RUNNING"]).await;
    let before = env
        .wait_state("steady", HolisticState::Healthy, POLL + MARGIN)
        .await;
    let patches = |m: &str| {
        m.lines()
            .find(|l| l.starts_with("managed_connector_status_patches_total "))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(|v| v.to_string())
    };
    let metrics_before = patches(&env.metrics().await);
    env.wait_polls("steady", 3).await;
    let after = env.get("steady").await;
    assert_eq!(
        before.resource_version(),
        after.resource_version(),
        "no write in 3 polls"
    );
    assert_eq!(patches(&env.metrics().await), metrics_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn invalid_specs_are_refused_with_a_clear_message() {
    let env = Env::new("invalid", &[]).await;
    let cases = [
        (
            json!({"clusterName": "no spaces allowed"}),
            "spec.clusterName",
        ),
        (json!({"clusterName": "x".repeat(129)}), "spec.clusterName"),
        (
            json!({"pollInterval": "1s"}),
            "pollInterval must be at least 5s",
        ),
        (json!({"pollInterval": "soon"}), "spec.pollInterval"),
        (
            json!({"pollInterval": "48h"}),
            "pollInterval must be at most 24h",
        ),
        (
            json!({"dataplane": {"url": "https://user:pass@dp.example.com"}}),
            "url must not carry credentials",
        ),
        (
            json!({"kafkaConnect": {"url": "http://admin@connect:8083"}}),
            "url must not carry credentials",
        ),
        (
            json!({"dataplane": {"url": "ftp://example.com"}}),
            "url must be an absolute http:// or https:// URL",
        ),
        (
            json!({"dataplane": {"url": "not a url"}}),
            "url must be an absolute http:// or https:// URL",
        ),
        (
            json!({"dataplane": {"credentialsSecretRef": {"name": "Not_A_Name"}}}),
            "credentialsSecretRef.name",
        ),
        (
            json!({"dataplane": {"credentialsSecretRef": {"name": "x", "namespace": "other"}}}),
            "unknown field \"spec.dataplane.credentialsSecretRef.namespace\"",
        ),
        (json!({"connectorName": ""}), "spec.connectorName"),
        (
            json!({"pollInterval": "30s"}),
            "set exactly one of connectClusterRef",
        ),
        (
            json!({"dataplane": {}, "config": {"name": "other", "connector.class": "x"}}),
            "spec.config.name must be the connector's name",
        ),
        (
            json!({"dataplane": {}, "config": {"a": "1"}, "state": "Sleeping"}),
            "spec.state",
        ),
        (
            json!({"dataplane": {}, "state": "Paused"}),
            "state needs config",
        ),
        (
            json!({"dataplane": {}, "configFrom": [{"key": "p", "secretKeyRef": {"name": "s", "key": "k"}}]}),
            "configFrom needs config",
        ),
        (
            json!({"dataplane": {}, "config": {"p": "1"}, "configFrom": [{"key": "p", "secretKeyRef": {"name": "s", "key": "k"}}]}),
            "a configFrom key is also set in config",
        ),
        (
            json!({"dataplane": {}, "restartPolicy": {"type": "Always"}}),
            "spec.restartPolicy.type",
        ),
        (
            json!({"dataplane": {}, "restartPolicy": {"type": "OnFailure", "backoff": {"base": "100ms"}}}),
            "backoff.base must be at least 1s",
        ),
        (
            json!({"dataplane": {}, "deletionPolicy": "Remove"}),
            "spec.deletionPolicy",
        ),
        (
            json!({"dataplane": {}, "restartPolicy": {"type": "OnFailure", "backoff": {"base": "10s", "max": "0s"}}}),
            "backoff.max must be at least backoff.base",
        ),
        (
            json!({"dataplane": {}, "restartPolicy": {"type": "OnFailure", "backoff": {"max": "30s"}}}),
            "backoff.max must be at least backoff.base",
        ),
        (
            json!({"dataplane": {}, "connectorName": ".."}),
            "connectorName must not be . or ..",
        ),
        (
            json!({"dataplane": {}, "connectorName": "."}),
            "connectorName must not be . or ..",
        ),
        (
            json!({"dataplane": {}, "connectClusterRef": {"name": "shared"}}),
            "set exactly one of connectClusterRef",
        ),
        (
            json!({"dataplane": {}, "config": {},
                   "configFrom": (0..65).map(|i| json!({"key": format!("k{i}"), "secretKeyRef": {"name": "s", "key": "k"}})).collect::<Vec<_>>()}),
            "must have at most 64 items",
        ),
    ];
    for (i, (spec, message)) in cases.iter().enumerate() {
        let doc = json!({
            "apiVersion": "connectors.dataplane.dev/v1alpha1",
            "kind": "ManagedConnector",
            "metadata": {"name": format!("bad-{i}"), "namespace": env.ns},
            "spec": spec,
        });
        let file = root().join(format!("target/e2e/{}-bad-{i}.json", env.ns));
        std::fs::write(&file, doc.to_string()).unwrap();
        let out = kubectl(&["apply", "--validate=strict", "-f", file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{spec} was accepted");
        assert!(
            stderr.contains(message),
            "{spec}: expected {message:?} in: {stderr}"
        );
        eprintln!(
            "  refused {spec}: {}",
            stderr.lines().last().unwrap_or_default().trim()
        );
    }
    // The connector's own name in config is fine.
    env.apply(
        "good",
        json!({"dataplane": {}, "suspend": true, "config": {"name": "good", "connector.class": "x"}}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn probe_failures_get_their_conditions_and_events() {
    // Per connector: the faults are injected on single connectors' status requests (the same
    // classification applies to listings, unit-tested in probe::classify and tests/dataplane.rs).
    let env = Env::new(
        "failures",
        &["--not-found-grace-period", "8s", "--batch", "never"],
    )
    .await;
    env.sim
        .upsert("redpanda", connector("exists", "RUNNING", &["RUNNING"]));
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &env.ns);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "wrong"}, "stringData": {"client_id": "e2e", "client_secret": "guessed-wrong", "token_url": format!("{}/oauth/token", env.sim_url)}})).unwrap(),
        )
        .await
        .unwrap();
    let with = |secret: &str, extra: serde_json::Value| {
        let mut spec = json!({"pollInterval": "5s", "connectorName": "exists", "dataplane": {"credentialsSecretRef": {"name": secret}}});
        if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        spec
    };
    env.apply("missing-secret", with("does-not-exist", json!({})))
        .await;
    env.apply("bad-credentials", with("wrong", json!({}))).await;
    env.apply(
        "wrong-cluster",
        with("creds", json!({"clusterName": "nope"})),
    )
    .await;
    env.apply(
        "unknown-connector",
        with("creds", json!({"connectorName": "never-created"})),
    )
    .await;

    for (name, reason) in [
        ("missing-secret", "CredentialsNotFound"),
        ("bad-credentials", "CredentialsRejected"),
        ("wrong-cluster", "ClusterNotFound"),
    ] {
        let mc = env
            .wait_condition(name, "Synced", "False", reason, POLL + MARGIN)
            .await;
        assert_eq!(
            cond(&mc, "Stalled"),
            ("True".into(), reason.into()),
            "{name}"
        );
        // Nothing known yet, and a person must act: Ready says so (never "Probing").
        assert_eq!(
            cond(&mc, "Ready"),
            ("False".into(), reason.into()),
            "{name}: Ready names the lasting error"
        );
        let message = condition(&mc, "Synced").unwrap().2;
        assert!(
            !message.contains("guessed-wrong"),
            "secret in message: {message}"
        );
        let events = env.events(name).await;
        assert!(
            events.iter().any(|(t, r, _)| t == "Warning" && r == reason),
            "{name}: {events:?}"
        );
        env.capture(name, name);
        eprintln!("  {name}: Synced=False ({reason}): {message}");
    }
    let mc = env
        .wait_condition(
            "unknown-connector",
            "Ready",
            "False",
            "ConnectorNotFound",
            POLL + MARGIN,
        )
        .await;
    assert_eq!(
        cond(&mc, "Reconciling").0,
        "True",
        "within the grace period"
    );
    assert_eq!(cond(&mc, "Synced").0, "True");
    env.capture("unknown-connector", "not-found-young");
    let mc = env
        .wait_for(
            "unknown-connector",
            Duration::from_secs(8) + POLL + MARGIN,
            "Stalled after the grace period",
            |mc| condition(mc, "Stalled").is_some_and(|c| c.0 == "True"),
        )
        .await;
    assert_eq!(cond(&mc, "Reconciling").0, "False");
    env.capture("unknown-connector", "not-found-stalled");

    // A permission problem on a connector that was healthy keeps Ready as it was.
    env.apply("forbidden", with("creds", json!({}))).await;
    env.wait_state("forbidden", HolisticState::Healthy, POLL + MARGIN)
        .await;
    env.sim.set_faults(
        "redpanda",
        "exists",
        Faults {
            forbidden: true,
            ..Default::default()
        },
    );
    let mc = env
        .wait_condition(
            "forbidden",
            "Synced",
            "False",
            "PermissionDenied",
            POLL + MARGIN,
        )
        .await;
    assert_eq!(cond(&mc, "Ready"), ("True".into(), "Healthy".into()));
    assert_eq!(cond(&mc, "Stalled").0, "True");

    // Fixing the Secret heals the resource without touching it.
    secrets
        .patch(
            "wrong",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"client_secret": "e2e-secret"}})),
        )
        .await
        .unwrap();
    env.sim.set_faults("redpanda", "exists", Faults::default());
    env.wait_state(
        "bad-credentials",
        HolisticState::Healthy,
        Duration::from_secs(30) + POLL * 2 + MARGIN,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_tenant_cannot_send_the_operator_or_its_credentials_where_it_likes() {
    // The attack: a tenant points a resource at a server of its own and names no Secret, hoping
    // for the operator-wide token. The operator-wide Secret lives in the operator's namespace.
    let mut env = Env::new("exfiltration", &[]).await;
    let operator_ns = namespace_for("exfiltration-operator");
    kubectl_ok(&["create", "namespace", &operator_ns]);
    kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "operator-creds",
        "-n",
        &operator_ns,
        "--from-literal=client_id=e2e",
        "--from-literal=client_secret=e2e-secret",
        &format!("--from-literal=token_url={}/oauth/token", env.sim_url),
    ]);
    env.stop_operator();
    env.operator_args = vec![
        "--credentials-secret".into(),
        format!("{operator_ns}/operator-creds"),
    ];
    env.start_operator();
    let attacker = dataplane_sim::Sim::new(
        dataplane_sim::scenario::Scenario::parse("clusters: {redpanda: {}}").unwrap(),
    );
    let attacker_url = format!(
        "http://{}",
        attacker
            .start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
    );
    env.sim
        .upsert("redpanda", connector("orders", "RUNNING", &["RUNNING"]));
    // The operator's own Data Plane with the operator's credentials: fine.
    env.apply("orders", json!({"pollInterval": "5s", "dataplane": {}}))
        .await;
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
    // Another URL without a Secret: refused, and said so.
    env.apply(
        "stolen",
        json!({"pollInterval": "5s", "connectorName": "orders", "dataplane": {"url": attacker_url}}),
    )
    .await;
    let mc = env
        .wait_condition(
            "stolen",
            "Synced",
            "False",
            "CredentialsRequired",
            POLL + MARGIN,
        )
        .await;
    let message = condition(&mc, "Synced").unwrap().2;
    assert!(message.contains("credentialsSecretRef"), "{message}");
    assert_eq!(cond(&mc, "Stalled").0, "True");
    let events = env.events("stolen").await;
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "CredentialsRequired"),
        "{events:?}"
    );
    // A credential never crosses a network in clear text (192.0.2.0/24 is TEST-NET: nothing is
    // sent, the policy refuses before connecting).
    env.apply(
        "cleartext",
        json!({"pollInterval": "5s", "connectorName": "orders",
               "dataplane": {"url": "http://192.0.2.10:8080", "credentialsSecretRef": {"name": "creds"}}}),
    )
    .await;
    let mc = env
        .wait_condition(
            "cleartext",
            "Synced",
            "False",
            "URLNotAllowed",
            POLL + MARGIN,
        )
        .await;
    assert!(
        condition(&mc, "Synced")
            .unwrap()
            .2
            .contains("--allow-insecure-http")
    );
    // Cloud metadata is never asked, by a Data Plane URL or a Kafka Connect one.
    env.apply(
        "metadata",
        json!({"pollInterval": "5s", "connectorName": "orders",
               "dataplane": {"url": "http://169.254.169.254", "credentialsSecretRef": {"name": "creds"}}}),
    )
    .await;
    env.apply(
        "metadata-connect",
        json!({"pollInterval": "5s", "kafkaConnect": {"url": "http://[fd00:ec2::254]/latest"}}),
    )
    .await;
    for name in ["metadata", "metadata-connect"] {
        let mc = env
            .wait_condition(name, "Synced", "False", "URLNotAllowed", POLL + MARGIN)
            .await;
        assert!(
            condition(&mc, "Synced").unwrap().2.contains("link-local"),
            "{name}"
        );
    }
    env.wait_polls("orders", 2).await;
    assert_eq!(
        attacker.counts().endpoint("status"),
        0,
        "the attacker's server heard nothing"
    );
    assert_eq!(attacker.counts().endpoint("token"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn an_outage_keeps_the_last_known_state() {
    let env = Env::new("outage", &[]).await;
    env.sim.upsert(
        "redpanda",
        connector("orders", "RUNNING", &["RUNNING", "FAILED"]),
    );
    env.watch_connector("orders").await;
    let known = env
        .wait_state("orders", HolisticState::Degraded, POLL + MARGIN)
        .await;
    env.sim.set_global_faults(Faults {
        status: Some(503),
        ..Default::default()
    });
    let during = env
        .wait_condition(
            "orders",
            "Synced",
            "False",
            "DataPlaneUnavailable",
            POLL + MARGIN,
        )
        .await;
    let (k, d) = (
        known.status.clone().unwrap(),
        during.status.clone().unwrap(),
    );
    assert_eq!(d.holistic_state, k.holistic_state);
    assert_eq!(d.tasks, k.tasks);
    assert_eq!(d.errors, k.errors);
    assert_eq!(d.connector, k.connector);
    assert_eq!(d.last_sync_time, k.last_sync_time);
    assert_eq!(cond(&during, "Ready"), cond(&known, "Ready"));
    assert_eq!(
        cond(&during, "Stalled"),
        cond(&known, "Stalled"),
        "kstatus keeps its verdict"
    );
    env.capture("orders", "outage");
    let events = env.events("orders").await;
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "DataPlaneUnavailable"),
        "{events:?}"
    );
    env.sim.set_global_faults(Faults::default());
    env.wait_condition(
        "orders",
        "Synced",
        "True",
        "Synced",
        Duration::from_secs(20),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn every_data_plane_fault_keeps_the_last_state_and_recovers_without_a_stampede() {
    // One resource per fault, all at once: each must keep its last known state with a Synced
    // reason while the fault lasts, show a change made during the fault once it ends, and the
    // operator must stay up and keep to its request rate afterwards.
    let env = Env::new(
        "faults",
        &[
            "--request-timeout",
            "2s",
            "--max-response-bytes",
            "1048576",
            "--max-requests-per-second",
            "4",
        ],
    )
    .await;
    let rows: [(&str, Faults, &str); 9] = [
        (
            "server-error",
            Faults {
                status: Some(500),
                ..Default::default()
            },
            "DataPlaneUnavailable",
        ),
        (
            "bad-gateway",
            Faults {
                status: Some(502),
                ..Default::default()
            },
            "DataPlaneUnavailable",
        ),
        (
            "unavailable",
            Faults {
                status: Some(503),
                retry_after: Some(2),
                ..Default::default()
            },
            "DataPlaneUnavailable",
        ),
        (
            "conflict",
            Faults {
                status: Some(409),
                ..Default::default()
            },
            "DataPlaneUnavailable",
        ),
        (
            "rate-limited",
            Faults {
                status: Some(429),
                retry_after: Some(3),
                ..Default::default()
            },
            "DataPlaneUnavailable",
        ),
        (
            "slow-body",
            Faults {
                slow_body: Some("5s".into()),
                ..Default::default()
            },
            "DataPlaneUnavailable",
        ),
        (
            "hung",
            Faults {
                hang: true,
                ..Default::default()
            },
            "DataPlaneUnavailable",
        ),
        (
            "malformed",
            Faults {
                malformed: true,
                ..Default::default()
            },
            "InvalidResponse",
        ),
        (
            "oversized",
            Faults {
                oversized_bytes: Some(2 * 1024 * 1024),
                ..Default::default()
            },
            "InvalidResponse",
        ),
    ];
    // Listing every cluster (MCO_BATCH=always), a fault hits a cluster's list: each row gets a
    // cluster of its own. Reading per connector, it hits one connector's status.
    let batch = batch_mode();
    let cluster = |name: &str| {
        if batch {
            name.to_string()
        } else {
            "redpanda".to_string()
        }
    };
    let set_faults = |name: &str, faults: Faults| {
        if batch {
            env.sim.set_list_faults(name, faults, &[]);
        } else {
            env.sim.set_faults("redpanda", name, faults);
        }
    };
    for (name, _, _) in &rows {
        env.sim
            .upsert(&cluster(name), connector(name, "RUNNING", &["RUNNING"]));
        env.apply(
            name,
            json!({"pollInterval": "5s", "clusterName": cluster(name),
                   "dataplane": {"credentialsSecretRef": {"name": "creds"}}}),
        )
        .await;
    }
    for (name, _, _) in &rows {
        env.wait_state(name, HolisticState::Healthy, POLL * 2 + MARGIN)
            .await;
    }
    for (name, faults, _) in &rows {
        set_faults(name, faults.clone());
    }
    for (name, _, reason) in &rows {
        let mc = env
            .wait_condition(name, "Synced", "False", reason, POLL * 3 + MARGIN)
            .await;
        assert_eq!(
            mc.status.as_ref().unwrap().holistic_state,
            Some(HolisticState::Healthy),
            "{name}: last known state kept"
        );
        assert_eq!(cond(&mc, "Ready").0, "True", "{name}: Ready carried");
        eprintln!("  {name}: Synced=False ({reason}), last known Healthy kept");
    }
    // A change during the fault, then the fault ends: the change shows.
    for (name, _, _) in &rows {
        env.sim
            .set_state(&cluster(name), name, "RUNNING", &["RUNNING", "FAILED"]);
        set_faults(name, Faults::default());
    }
    let requests = || {
        let c = env.sim.counts();
        c.endpoint("status") + c.endpoint("list")
    };
    let recovered = Instant::now();
    let before = requests();
    for (name, _, _) in &rows {
        // Backoff after a few failures stays under 20 s (5 s doubling, jittered).
        env.wait_state(name, HolisticState::Degraded, Duration::from_secs(25))
            .await;
    }
    let window = recovered.elapsed();
    let sent = requests() - before;
    // 4 per second, with a burst of 4: recovery is no stampede.
    let allowed = (window.as_secs_f64() * 4.0).ceil() as u64 + 4;
    assert!(
        sent <= allowed,
        "{sent} requests in {window:?} after recovery (at most {allowed})"
    );
    eprintln!("  all recovered in {window:?} with {sent} requests");
    let metrics = env.metrics().await;
    assert!(metric_value(&metrics, "managed_connector_reconciles_total") > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_restarted_operator_loses_nothing_and_repeats_no_event() {
    let mut env = Env::new("restart", &[]).await;
    env.sim.upsert(
        "redpanda",
        connector("orders", "RUNNING", &["RUNNING", "FAILED"]),
    );
    env.sim
        .upsert("redpanda", connector("billing", "RUNNING", &["RUNNING"]));
    env.watch_connector("orders").await;
    env.watch_connector("billing").await;
    env.wait_state("orders", HolisticState::Degraded, POLL + MARGIN)
        .await;
    let billing = env
        .wait_state("billing", HolisticState::Healthy, POLL + MARGIN)
        .await;
    let events_before = (env.events("orders").await, env.events("billing").await);

    env.stop_operator();
    env.start_operator();
    env.wait_polls("orders", 2).await;
    env.wait_polls("billing", 2).await;

    let events_after = (env.events("orders").await, env.events("billing").await);
    assert_eq!(
        events_before, events_after,
        "no Event repeated after a restart"
    );
    let billing_after = env.get("billing").await;
    assert_eq!(
        billing.resource_version(),
        billing_after.resource_version(),
        "no status rewrite after a restart"
    );
    assert_eq!(billing.status, billing_after.status);
    // It still follows changes.
    env.sim
        .set_state("redpanda", "orders", "RUNNING", &["RUNNING", "RUNNING"]);
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn suspend_stops_polling_and_resume_starts_it_again() {
    let env = Env::new("suspend", &[]).await;
    env.serve_and_watch("orders", "RUNNING", &["RUNNING"]).await;
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
    env.apply("orders", json!({"pollInterval": "5s", "suspend": true, "dataplane": {"credentialsSecretRef": {"name": "creds"}}}))
        .await;
    let mc = env
        .wait_condition("orders", "Ready", "False", "Suspended", POLL + MARGIN)
        .await;
    assert_eq!(
        mc.status.as_ref().unwrap().holistic_state,
        Some(HolisticState::Healthy),
        "last known kept"
    );
    env.capture("orders", "suspended");
    let polls = env.polls("orders");
    tokio::time::sleep(POLL * 2 + MARGIN).await;
    assert_eq!(
        env.polls("orders"),
        polls,
        "no Data Plane call while suspended"
    );
    let series = format!("namespace=\"{}\",name=\"orders\"", env.ns);
    assert!(
        !env.metrics().await.contains(&series),
        "no metric series while suspended (a ready of 0 would fire the NotReady alert)"
    );
    env.watch_connector("orders").await;
    env.wait_condition("orders", "Ready", "True", "Healthy", POLL + MARGIN)
        .await;
    assert!(env.metrics().await.contains(&series), "back after resuming");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_deleted_resource_disappears_from_metrics() {
    let env = Env::new("delete", &[]).await;
    env.serve_and_watch("gone", "RUNNING", &["RUNNING"]).await;
    env.wait_state("gone", HolisticState::Healthy, POLL + MARGIN)
        .await;
    assert!(env.metrics().await.contains(r#"name="gone""#));
    env.api()
        .delete("gone", &DeleteParams::default())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(45);
    while env.metrics().await.contains(r#"name="gone""#) {
        assert!(
            Instant::now() < deadline,
            "series of a deleted resource still exported"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_frozen_leader_writes_nothing_after_thawing_and_shutdown_has_a_deadline() {
    let lease_ns = match std::env::var("E2E_LEASE_NAMESPACE") {
        Ok(ns) => ns,
        Err(_) => {
            let ns = format!("e2e-fence-lease-{}", rand::random::<u32>() % 100_000);
            kubectl_ok(&["create", "namespace", &ns]);
            ns
        }
    };
    let lease_name = format!("e2e-fence-{}", rand::random::<u32>() % 100_000);
    let args = [
        "--leader-election",
        "--leader-election-namespace",
        &lease_ns,
        "--leader-election-lease-name",
        &lease_name,
        "--leader-election-lease-duration",
        "4s",
        "--request-timeout",
        "60s",
        "--shutdown-timeout",
        "2s",
    ];
    let mut env = Env::new("fence", &args).await;
    let second_port = free_port();
    let second_log = env.log.with_extension("second.log");
    let second = env.spawn_operator(second_port, &second_log);
    let first = env.operator.take().expect("first replica");
    env.serve_and_watch("orders", "RUNNING", &["RUNNING"]).await;
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
    env.wait_polls("orders", 1).await;
    let reconciles = |m: &str| metric_value(m, "managed_connector_reconciles_total");
    let first_leads = reconciles(&env.metrics().await) > 0.0;
    let (mut leader, leader_log, mut survivor) = if first_leads {
        (first, env.log.clone(), second)
    } else {
        (second, second_log, first)
    };

    // Freeze the leader past its Lease; the other replica takes over and reports a change.
    let pid = leader.id().to_string();
    Command::new("kill").args(["-STOP", &pid]).status().unwrap();
    env.sim
        .set_state("redpanda", "orders", "PAUSED", &["PAUSED"]);
    env.wait_state(
        "orders",
        HolisticState::Paused,
        Duration::from_secs(4) + POLL + MARGIN * 2,
    )
    .await;
    // Another change, then thaw: the old leader's overdue probe sees a state its cache lacks
    // and would write it; its term ended, so it must not.
    env.sim
        .set_state("redpanda", "orders", "RUNNING", &["RUNNING", "FAILED"]);
    let thawed_at = std::fs::metadata(&leader_log).unwrap().len() as usize;
    Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = leader.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the thawed leader did not step down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        !status.success(),
        "a replica that lost its Lease exits with an error"
    );
    let after = std::fs::read_to_string(&leader_log).unwrap()[thawed_at..].to_string();
    assert!(
        !after.contains("status written"),
        "the thawed leader wrote:\n{after}"
    );
    eprintln!(
        "  thawed leader: {}; exited with {status}",
        if after.contains("not the leader") {
            "a write refused by the fence"
        } else {
            "no write attempted"
        }
    );
    env.wait_state("orders", HolisticState::Degraded, POLL + MARGIN * 2)
        .await;

    // SIGTERM with a request hanging (60 s timeout): the survivor stops within its 2 s shutdown
    // deadline (plus the Lease release), cancelling the request, and releases the Lease.
    let hang = Faults {
        hang: true,
        ..Default::default()
    };
    env.sim.set_faults("redpanda", "orders", hang.clone());
    if batch_mode() {
        env.sim.set_list_faults("redpanda", hang, &[]);
    }
    let hanging = Instant::now() + POLL + MARGIN * 2;
    while env.sim.in_flight() == 0 {
        assert!(Instant::now() < hanging, "no request hanging");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stopped = Instant::now();
    Command::new("kill")
        .args(["-TERM", &survivor.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2 + 3) + MARGIN * 2;
    let status = loop {
        if let Some(status) = survivor.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "SIGTERM did not stop the operator within its deadline"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}");
    eprintln!("  stopped {:?} after SIGTERM", stopped.elapsed());
    let holder = kubectl_ok(&[
        "get",
        "lease",
        &lease_name,
        "-n",
        &lease_ns,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert_eq!(holder, "", "the Lease was released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_standby_takes_over_when_the_leader_dies() {
    // Under the chart's RBAC, Leases may only live in the release namespace.
    let lease_ns = match std::env::var("E2E_LEASE_NAMESPACE") {
        Ok(ns) => ns,
        Err(_) => {
            let ns = format!("e2e-leader-lease-{}", rand::random::<u32>() % 100_000);
            kubectl_ok(&["create", "namespace", &ns]);
            ns
        }
    };
    let lease_name = format!("e2e-leader-{}", rand::random::<u32>() % 100_000);
    let args = [
        "--leader-election",
        "--leader-election-namespace",
        &lease_ns,
        "--leader-election-lease-name",
        &lease_name,
        "--leader-election-lease-duration",
        "4s",
    ];
    let mut env = Env::new("leader", &args).await;
    let standby_port = free_port();
    let standby_log = env.log.with_extension("standby.log");
    let standby = env.spawn_operator(standby_port, &standby_log);
    let mut replicas = vec![env.operator.take().expect("first replica"), standby];

    env.serve_and_watch("orders", "RUNNING", &["RUNNING"]).await;
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
    env.wait_polls("orders", 1).await;
    // Exactly one replica reconciles.
    let (first, second) = (env.metrics().await, metrics_at(standby_port).await);
    let reconciles = |m: &str| metric_value(m, "managed_connector_reconciles_total");
    let first_leads = reconciles(&first) > 0.0;
    assert!(
        first_leads != (reconciles(&second) > 0.0),
        "one leader: {} vs {}",
        reconciles(&first),
        reconciles(&second)
    );
    let holder = kubectl_ok(&[
        "get",
        "lease",
        &lease_name,
        "-n",
        &lease_ns,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    eprintln!(
        "  leader: {} ({holder})",
        if first_leads { "first" } else { "second" }
    );

    // Kill the leader without a chance to release the Lease.
    let killed = Instant::now();
    let leader = &mut replicas[if first_leads { 0 } else { 1 }];
    leader.kill().unwrap();
    leader.wait().unwrap();
    env.sim
        .set_state("redpanda", "orders", "RUNNING", &["RUNNING", "FAILED"]);
    env.wait_state(
        "orders",
        HolisticState::Degraded,
        Duration::from_secs(4) + POLL + MARGIN * 2,
    )
    .await;
    eprintln!(
        "  the survivor reported Degraded {:?} after the leader died",
        killed.elapsed()
    );
    let new_holder = kubectl_ok(&[
        "get",
        "lease",
        &lease_name,
        "-n",
        &lease_ns,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert_ne!(holder, new_holder, "the Lease changed hands");
    let events = env.events("orders").await;
    let total = |reason: &str| {
        events
            .iter()
            .filter(|e| e.1 == reason)
            .map(|e| e.2)
            .sum::<i32>()
    };
    assert_eq!(
        (total("Healthy"), total("Degraded")),
        (1, 1),
        "no duplicate Event: {events:?}"
    );
    for mut replica in replicas {
        let _ = replica.kill();
        let _ = replica.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn the_first_probe_and_a_generation_lag_are_in_progress() {
    let mut env = Env::new("progress", &[]).await;
    // A slow Data Plane answer keeps the first-visit status in place long enough to capture it.
    let mut slow = connector("orders", "RUNNING", &["RUNNING"]);
    slow.faults = Faults {
        latency: Some("6s".into()),
        ..Default::default()
    };
    env.sim.upsert("redpanda", slow);
    if batch_mode() {
        env.sim.set_list_faults(
            "redpanda",
            Faults {
                latency: Some("6s".into()),
                ..Default::default()
            },
            &[],
        );
    }
    env.watch_connector("orders").await;
    let probing = env
        .wait_condition("orders", "Ready", "Unknown", "Probing", POLL)
        .await;
    assert_eq!(cond(&probing, "Reconciling").0, "True");
    assert_eq!(cond(&probing, "Synced").0, "Unknown");
    env.capture("orders", "first-probe");
    env.wait_state("orders", HolisticState::Healthy, POLL * 2 + MARGIN)
        .await;

    // With the operator stopped, a spec change leaves the status one generation behind.
    env.stop_operator();
    env.apply(
        "orders",
        json!({"pollInterval": "6s", "dataplane": {"credentialsSecretRef": {"name": "creds"}}}),
    )
    .await;
    let lagging = env.get("orders").await;
    assert_eq!(lagging.metadata.generation, Some(2));
    assert_eq!(
        lagging.status.as_ref().unwrap().observed_generation,
        Some(1)
    );
    env.capture("orders", "generation-lag");
    env.start_operator();
    env.wait_for("orders", POLL * 2 + MARGIN, "observedGeneration 2", |mc| {
        mc.status.as_ref().and_then(|s| s.observed_generation) == Some(2)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_fleet_is_read_by_listing_its_clusters_and_groups_follow_the_resources() {
    // Pinned to batch mode whatever MCO_BATCH says: this is the test of listing.
    let env = Env::new("batch", &["--batch", "auto", "--list-page-size", "4"]).await;
    let names: Vec<String> = (1..=10).map(|i| format!("conn-{i:02}")).collect();
    for n in &names {
        env.sim
            .upsert("redpanda", connector(n, "RUNNING", &["RUNNING"]));
    }
    env.sim.upsert(
        "redpanda",
        connector("broken", "RUNNING", &["RUNNING", "FAILED"]),
    );
    for n in &names {
        env.watch_connector(n).await;
    }
    env.watch_connector("broken").await;
    for n in &names {
        env.wait_state(n, HolisticState::Healthy, POLL * 2 + MARGIN)
            .await;
    }
    env.wait_state("broken", HolisticState::Degraded, POLL * 2 + MARGIN)
        .await;
    let counts = env.sim.counts();
    let lists = counts.endpoint("list");
    assert!(lists >= 3, "11 connectors in pages of 4: {counts:?}");
    // A resource may be read on its own while its group forms (the first of a group, one
    // created after a listing began): a few, never one per connector per poll.
    let singles = counts.endpoint("status");
    assert!(singles <= 11, "{counts:?}");

    // Steady (from the first listing that found every resource in the cache): pages only.
    let deadline = Instant::now() + POLL * 2 + MARGIN;
    while env.sim.counts().endpoint("list") < lists + 3 {
        assert!(Instant::now() < deadline, "a listing within an interval");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = env.sim.counts();
    tokio::time::sleep(POLL * 3).await;
    let after = env.sim.counts();
    assert_eq!(
        after.endpoint("status"),
        before.endpoint("status"),
        "no connector read on its own while its cluster is listed: {after:?}"
    );
    let pages = after.endpoint("list") - before.endpoint("list");
    assert!(
        (3..=9).contains(&pages),
        "3 pages per 5 s interval over 15 s: {pages}"
    );

    // A change shows within an interval.
    let changed = Instant::now();
    env.sim
        .set_state("redpanda", "conn-03", "PAUSED", &["PAUSED"]);
    env.wait_state("conn-03", HolisticState::Paused, POLL + MARGIN)
        .await;
    eprintln!("  change → status in {:?}", changed.elapsed());

    // A failed page: every member keeps its last known state with Synced=False, nobody is gone.
    env.sim.set_list_faults(
        "redpanda",
        Faults {
            status: Some(503),
            ..Default::default()
        },
        &[2],
    );
    for n in ["conn-01", "conn-10", "broken"] {
        let mc = env
            .wait_condition(
                n,
                "Synced",
                "False",
                "DataPlaneUnavailable",
                POLL * 2 + MARGIN,
            )
            .await;
        assert_ne!(
            cond(&mc, "Ready").1,
            "ConnectorNotFound",
            "{n}: a failed listing says nothing about existence"
        );
    }
    assert_eq!(
        env.get("conn-03").await.status.unwrap().holistic_state,
        Some(HolisticState::Paused),
        "last known state kept"
    );
    env.sim.set_list_faults("redpanda", Faults::default(), &[]);
    env.wait_condition(
        "conn-01",
        "Synced",
        "True",
        "Synced",
        Duration::from_secs(20),
    )
    .await;

    // Edited to another cluster: it leaves the group and is read there.
    env.sim
        .upsert("other", connector("conn-05", "PAUSED", &["PAUSED"]));
    env.apply(
        "conn-05",
        json!({"pollInterval": "5s", "clusterName": "other",
               "dataplane": {"credentialsSecretRef": {"name": "creds"}}}),
    )
    .await;
    env.wait_state("conn-05", HolisticState::Paused, POLL * 2 + MARGIN)
        .await;
    // Deleted from the cluster: gone after the grace period's start (NotFound reason).
    env.sim.delete("redpanda", "conn-07");
    env.wait_for("conn-07", POLL * 3 + MARGIN, "connector not found", |mc| {
        mc.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.reason == "ConnectorNotFound")
        })
    })
    .await;
    let metrics = env.metrics().await;
    assert!(
        metrics.contains(
            r#"managed_connector_requests_total{source="dataplane",endpoint="list",outcome="ok"}"#
        ),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_shard_watches_only_the_resources_its_selector_matches() {
    // A selector the API server cannot parse is refused at start, with the reason.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_managed-connector-operator"))
        .args([
            "run",
            "--selector",
            "shard in ((",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("operator runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("an operator with a malformed --selector kept running");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("--selector") && stderr.contains("not a label selector"),
        "{stderr}"
    );

    let env = Env::new("shard", &["--selector", "shard=a"]).await;
    env.sim
        .upsert("redpanda", connector("mine", "RUNNING", &["RUNNING"]));
    env.sim
        .upsert("redpanda", connector("theirs", "RUNNING", &["RUNNING"]));
    env.watch_connector("mine").await;
    env.watch_connector("theirs").await;
    kubectl_ok(&["label", "mconn", "-n", &env.ns, "mine", "shard=a"]);
    kubectl_ok(&["label", "mconn", "-n", &env.ns, "theirs", "shard=b"]);
    env.wait_state("mine", HolisticState::Healthy, POLL * 2 + MARGIN)
        .await;
    env.wait_polls("mine", 2).await;
    assert!(
        env.get("theirs").await.status.is_none(),
        "another shard's resource is never written"
    );
    if !batch_mode() {
        // (A listing of the cluster names every connector in it, this one too.)
        assert_eq!(env.polls("theirs"), 0, "nor probed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_connector_declared_in_git_is_created_reconfigured_paused_stopped_and_deleted() {
    let env = Env::new("declared", &[]).await;
    let password = format!("pw-{}", rand::random::<u64>());
    env.secret("db", json!({"password": password})).await;
    let spec = |topics: &str, state: &str| {
        json!({
            "pollInterval": "5s",
            "dataplane": {"credentialsSecretRef": {"name": "creds"}},
            "config": {"connector.class": "com.example.Sink", "tasks.max": "2", "topics": topics},
            "configFrom": [{"key": "connection.password", "secretKeyRef": {"name": "db", "key": "password"}}],
            "state": state,
            "deletionPolicy": "Delete",
        })
    };
    env.apply("orders", spec("orders", "Running")).await;
    let mc = env
        .wait_state("orders", HolisticState::Healthy, POLL * 2 + MARGIN)
        .await;
    let config = env.sim.config_of("redpanda", "orders").expect("created");
    assert_eq!(config["topics"], "orders");
    assert_eq!(
        config["connection.password"], password,
        "the Secret's value was sent"
    );
    let cs = mc.status.as_ref().unwrap().config.clone().unwrap();
    assert!(cs.created);
    assert!(cs.applied_hash.as_deref().unwrap().starts_with("sha256:"));
    assert!(cs.drifted_keys.is_empty());
    assert!(
        mc.finalizers()
            .contains(&"connectors.dataplane.dev/delete-connector".to_string())
    );
    assert_eq!(env.sim.counts().by_endpoint.get("put_config 201"), Some(&1));

    // Changed in Git: applied once; applying the same manifest again changes nothing.
    env.apply("orders", spec("orders,returns", "Running")).await;
    env.wait_for("orders", POLL * 2 + MARGIN, "reconfigured", |_| {
        env.sim
            .config_of("redpanda", "orders")
            .is_some_and(|c| c["topics"] == "orders,returns")
    })
    .await;
    let generation = env.get("orders").await.metadata.generation;
    env.apply("orders", spec("orders,returns", "Running")).await;
    assert_eq!(env.get("orders").await.metadata.generation, generation);
    env.wait_polls("orders", 2).await;
    assert_eq!(env.sim.counts().by_endpoint.get("put_config 200"), Some(&1));

    // Changed behind the operator's back: drift is put right.
    let mut edited = env.sim.config_of("redpanda", "orders").unwrap();
    edited.insert("topics".into(), "hijacked".into());
    let client = reqwest::Client::new();
    let token = client
        .post(format!("{}/oauth/token", env.sim_url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "e2e"),
            ("client_secret", "e2e-secret"),
            ("audience", "cloudv2-production.redpanda.cloud"),
        ])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let put = client
        .put(format!(
            "{}/v1/kafka-connect/clusters/redpanda/connectors/orders/config",
            env.sim_url
        ))
        .bearer_auth(&token)
        .json(&edited)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    env.wait_for("orders", POLL * 2 + MARGIN, "drift put right", |_| {
        env.sim
            .config_of("redpanda", "orders")
            .is_some_and(|c| c["topics"] == "orders,returns")
    })
    .await;

    // Paused, stopped and running again, as declared; Ready while paused or stopped as declared.
    env.apply("orders", spec("orders,returns", "Paused")).await;
    let mc = env
        .wait_state("orders", HolisticState::Paused, POLL * 2 + MARGIN)
        .await;
    env.wait_condition("orders", "Ready", "True", "Paused", POLL + MARGIN)
        .await;
    assert_eq!(cond(&mc, "Stalled").0, "False");
    env.apply("orders", spec("orders,returns", "Stopped")).await;
    env.wait_state("orders", HolisticState::Stopped, POLL * 2 + MARGIN)
        .await;
    env.apply("orders", spec("orders,returns", "Running")).await;
    env.wait_state("orders", HolisticState::Healthy, POLL * 2 + MARGIN)
        .await;
    let counts = env.sim.counts();
    for endpoint in ["pause 202", "stop 202", "resume 202"] {
        assert_eq!(
            counts.by_endpoint.get(endpoint),
            Some(&1),
            "{endpoint}: {counts:?}"
        );
    }
    env.assert_events(
        "orders",
        &[
            "ConnectorCreated",
            "ConfigApplied",
            "Pausing",
            "Stopping",
            "Resuming",
        ],
    )
    .await;
    assert!(
        !env.visible_text("orders").await.contains(&password),
        "the Secret's value shows in an Event or the status"
    );

    // Deleted with deletionPolicy: Delete: the connector goes first, then the resource.
    env.api()
        .delete("orders", &DeleteParams::default())
        .await
        .unwrap();
    let deadline = Instant::now() + POLL + MARGIN;
    while env.api().get_opt("orders").await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "resource still there");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(env.sim.config_of("redpanda", "orders"), None);
    assert_eq!(env.sim.counts().by_endpoint.get("delete 204"), Some(&1));
    let log = std::fs::read_to_string(&env.log).unwrap();
    assert!(!log.contains(&password), "the Secret's value is in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn orphan_keeps_the_connector_and_a_rejected_config_says_why_without_its_secret() {
    let env = Env::new("orphan", &[]).await;
    let password = format!("pw-{}", rand::random::<u64>());
    env.secret("db", json!({"password": password})).await;
    env.sim
        .upsert("redpanda", connector("legacy", "RUNNING", &["RUNNING"]));
    // No connector.class: the simulator refuses it as Kafka Connect does, quoting the whole
    // configuration (the password included) in its message.
    env.apply(
        "legacy",
        json!({
            "pollInterval": "5s",
            "dataplane": {"credentialsSecretRef": {"name": "creds"}},
            "config": {"topics": "legacy"},
            "configFrom": [{"key": "connection.password", "secretKeyRef": {"name": "db", "key": "password"}}],
        }),
    )
    .await;
    let mc = env
        .wait_condition(
            "legacy",
            "Stalled",
            "True",
            "ConfigRejected",
            POLL * 2 + MARGIN,
        )
        .await;
    let (_, _, message) = condition(&mc, "Synced").unwrap();
    assert!(message.contains("contains no connector type"), "{message}");
    assert!(message.contains("[redacted]"), "{message}");
    assert!(!env.visible_text("legacy").await.contains(&password));
    // The running connector's health is still reported.
    assert_eq!(cond(&mc, "Ready"), ("True".into(), "Healthy".into()));
    assert!(
        mc.finalizers().is_empty(),
        "no finalizer without deletionPolicy: Delete"
    );
    env.api()
        .delete("legacy", &DeleteParams::default())
        .await
        .unwrap();
    tokio::time::sleep(POLL).await;
    assert!(env.api().get_opt("legacy").await.unwrap().is_none());
    assert!(
        env.sim
            .counts()
            .by_endpoint
            .keys()
            .all(|k| !k.starts_with("delete"))
    );
    assert!(
        env.sim.config_of("redpanda", "legacy").is_some(),
        "orphaned, not deleted"
    );
    let log = std::fs::read_to_string(&env.log).unwrap();
    assert!(!log.contains(&password), "the Secret's value is in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn restart_on_request_happens_once_per_annotation_value() {
    let mut env = Env::new("restart-request", &[]).await;
    let ns = env.ns.clone();
    env.serve_and_watch("flaky", "RUNNING", &["RUNNING", "FAILED"])
        .await;
    env.wait_state("flaky", HolisticState::Degraded, POLL + MARGIN)
        .await;
    let annotate = |value: &str| {
        kubectl_ok(&[
            "annotate",
            "--overwrite",
            "-n",
            &ns,
            "managedconnector",
            "flaky",
            &format!("connectors.dataplane.dev/restart={value}"),
        ]);
    };
    let sim = env.sim.clone();
    let restarts = || {
        sim.counts()
            .by_endpoint
            .get("restart 204")
            .copied()
            .unwrap_or(0)
    };
    annotate("1");
    let mc = env
        .wait_state("flaky", HolisticState::Healthy, POLL + MARGIN)
        .await;
    assert_eq!(restarts(), 1);
    let r = mc.status.unwrap().restarts.unwrap();
    assert_eq!(r.handled_request.as_deref(), Some("1"));
    assert_eq!(r.count, 0, "a requested restart is not an automatic one");
    // The same value again (a no-op annotate, a re-sync, an operator restart): nothing.
    annotate("1");
    env.stop_operator();
    env.start_operator();
    env.wait_polls("flaky", 2).await;
    assert_eq!(restarts(), 1, "repeated after an operator restart");
    // A new value: one more.
    annotate("2");
    env.wait_for("flaky", POLL + MARGIN, "second request handled", |mc| {
        mc.status
            .as_ref()
            .and_then(|s| s.restarts.as_ref())
            .and_then(|r| r.handled_request.as_deref())
            == Some("2")
    })
    .await;
    env.wait_polls("flaky", 1).await;
    assert_eq!(restarts(), 2);
    let events = env.events("flaky").await;
    assert_eq!(
        events
            .iter()
            .filter(|(_, r, _)| r == "RestartRequested")
            .map(|e| e.2)
            .sum::<i32>(),
        2,
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn automatic_restarts_back_off_then_give_up_at_max_restarts() {
    let env = Env::new("auto-restart", &[]).await;
    let mut c = connector("sticky", "RUNNING", &["FAILED"]);
    c.fails_again = true;
    env.sim.upsert("redpanda", c);
    env.apply(
        "sticky",
        json!({
            "pollInterval": "5s",
            "dataplane": {"credentialsSecretRef": {"name": "creds"}},
            "restartPolicy": {"type": "OnFailure", "maxRestarts": 3, "backoff": {"base": "1s"}},
        }),
    )
    .await;
    // Restarts at 0 s, then after 2 s and 6 s more; then it gives up.
    let seen_waiting = std::cell::Cell::new(false);
    let mc = env
        .wait_for("sticky", Duration::from_secs(40), "gave up", |mc| {
            if let Some(s) = &mc.status
                && s.restarts
                    .as_ref()
                    .is_some_and(|r| r.next_restart_time.is_some())
                && condition(mc, "Reconciling").is_some_and(|c| c.1 == "RestartingAutomatically")
            {
                seen_waiting.set(true);
            }
            condition(mc, "Stalled").is_some_and(|c| c.0 == "True" && c.1 == "RestartsExhausted")
        })
        .await;
    assert!(
        seen_waiting.get(),
        "the backoff (nextRestartTime, Reconciling=RestartingAutomatically) never showed"
    );
    let r = mc.status.as_ref().unwrap().restarts.clone().unwrap();
    assert_eq!(r.count, 3);
    assert_eq!(r.next_restart_time, None);
    let (_, _, ready) = condition(&mc, "Ready").unwrap();
    assert!(
        ready.contains("gave up after 3 automatic restarts"),
        "{ready}"
    );
    env.wait_polls("sticky", 2).await;
    assert_eq!(env.sim.counts().by_endpoint.get("restart 204"), Some(&3));
    let events = env.events("sticky").await;
    let count = |reason: &str| {
        events
            .iter()
            .filter(|(_, r, _)| r == reason)
            .map(|e| e.2)
            .sum::<i32>()
    };
    assert_eq!(count("RestartedAutomatically"), 3, "{events:?}");
    assert_eq!(count("RestartsExhausted"), 1, "{events:?}");
    let metrics = env.metrics().await;
    assert!(
        metrics.contains(r#"managed_connector_actions_total{action="restart",trigger="automatic",outcome="ok"} 3"#),
        "{metrics}"
    );
    // Fixed: one requested restart brings it back, and the Stalled condition clears.
    env.sim.set_fails_again("redpanda", "sticky", false);
    kubectl_ok(&[
        "annotate",
        "-n",
        &env.ns,
        "managedconnector",
        "sticky",
        "connectors.dataplane.dev/restart=fixed",
    ]);
    env.wait_condition("sticky", "Ready", "True", "Healthy", POLL + MARGIN)
        .await;
    env.wait_condition("sticky", "Stalled", "False", "Healthy", POLL + MARGIN)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn the_operator_wide_credentials_read_but_do_not_act() {
    let ns = namespace_for("operator-creds");
    kubectl_ok(&["create", "namespace", &ns]);
    let default_secret = format!("{ns}/creds");
    let env = Env::with(
        "operator-creds",
        Options {
            args: &["--credentials-secret", &default_secret],
            namespace: Some(ns.clone()),
            ..Default::default()
        },
    )
    .await;
    env.sim
        .upsert("redpanda", connector("shared", "RUNNING", &["FAILED"]));
    env.apply(
        "shared",
        json!({"pollInterval": "5s", "dataplane": {}, "restartPolicy": {"type": "OnFailure"}}),
    )
    .await;
    let mc = env
        .wait_condition(
            "shared",
            "Stalled",
            "True",
            "CredentialsRequired",
            POLL * 2 + MARGIN,
        )
        .await;
    assert_eq!(
        mc.status.as_ref().unwrap().holistic_state,
        Some(HolisticState::Unhealthy),
        "the status is still read"
    );
    assert!(
        env.sim
            .counts()
            .by_endpoint
            .keys()
            .all(|k| !k.starts_with("restart"))
    );
}

/// `managed-connector-operator status` (and `kubectl mconn`) over resources the real operator
/// wrote, compared with golden files (`tests/golden/`, ages and the namespace masked; set
/// UPDATE_GOLDEN=1 to rewrite them). It reads with the user's kubeconfig: a user who may read the
/// resources but not their Events still sees everything else.
#[tokio::test]
#[ignore]
async fn the_status_command_shows_what_the_operator_wrote() {
    let env = Env::new("status-view", &[]).await;
    env.serve_and_watch("orders", "RUNNING", &["RUNNING", "FAILED"])
        .await;
    env.serve_and_watch("payments", "RUNNING", &["RUNNING", "RUNNING"])
        .await;
    env.serve_and_watch("audit", "FAILED", &[]).await;
    env.serve_and_watch("archive", "PAUSED", &["PAUSED"]).await;
    let within = Duration::from_secs(30);
    env.wait_state("orders", HolisticState::Degraded, within)
        .await;
    env.wait_state("payments", HolisticState::Healthy, within)
        .await;
    env.wait_state("audit", HolisticState::Unhealthy, within)
        .await;
    env.wait_state("archive", HolisticState::Paused, within)
        .await;

    let test_kubeconfig = std::env::var("KUBECONFIG").expect("KUBECONFIG of the test cluster");
    let status = |args: &[&str], kubeconfig: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_managed-connector-operator"))
            .arg("status")
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, fleet, err) = status(&["-n", &env.ns], &test_kubeconfig);
    assert!(ok, "{err}");
    assert!(!fleet.contains('\u{1b}'), "no colour when piped: {fleet}");
    golden("status-fleet.txt", &mask(&fleet, &env.ns));

    let (ok, one, err) = status(&["-n", &env.ns, "orders"], &test_kubeconfig);
    assert!(ok, "{err}");
    golden("status-orders.txt", &mask(&one, &env.ns));

    let (ok, coloured, err) = status(&["-n", &env.ns, "--color", "always"], &test_kubeconfig);
    assert!(ok, "{err}");
    assert!(
        coloured.contains("\u{1b}[31m"),
        "red for trouble: {coloured:?}"
    );

    // As the kubectl plugin: the binary on the PATH as kubectl-mconn, run by kubectl.
    let plugins = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_managed-connector-operator"),
        plugins.path().join("kubectl-mconn"),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        plugins.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("kubectl")
        .args(["mconn", "-n", &env.ns])
        .env("PATH", &path)
        .env("KUBECONFIG", &test_kubeconfig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl mconn: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        mask(&String::from_utf8_lossy(&out.stdout), &env.ns),
        mask(&fleet, &env.ns)
    );

    // A user who may read ManagedConnectors in this namespace, and nothing else.
    kubectl_ok(&["create", "serviceaccount", "viewer", "-n", &env.ns]);
    kubectl_ok(&[
        "create",
        "role",
        "connector-viewer",
        "-n",
        &env.ns,
        "--verb=get,list",
        "--resource=managedconnectors.connectors.dataplane.dev",
    ]);
    kubectl_ok(&[
        "create",
        "rolebinding",
        "connector-viewer",
        "-n",
        &env.ns,
        "--role=connector-viewer",
        &format!("--serviceaccount={}:viewer", env.ns),
    ]);
    let viewer = service_account_kubeconfig(&env.ns, "viewer", &format!("{}-viewer", env.ns));
    let viewer = viewer.to_str().unwrap();
    let (ok, limited, err) = status(&["-n", &env.ns, "orders"], viewer);
    assert!(ok, "{err}");
    assert!(
        limited.contains("(its Events could not be read:") && limited.contains("forbidden"),
        "{limited}"
    );
    assert!(
        limited.contains("  1   FAILED"),
        "the rest is shown: {limited}"
    );
    let (ok, _, err) = status(&["-A"], viewer);
    assert!(!ok, "listing every namespace is not the viewer's to do");
    assert!(
        err.contains("listing managedconnectors in all namespaces") && err.contains("forbidden"),
        "{err}"
    );
    let (ok, _, err) = status(&["-n", &env.ns, "nonesuch"], &test_kubeconfig);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "no managedconnector nonesuch in namespace {}",
            env.ns
        )),
        "{err}"
    );
}

/// Ages (`12s`, `3m`, ...) become `<age>`, the test's namespace `<ns>`, and runs of spaces two
/// spaces, since masking changes column widths (alignment is unit-tested in src/report).
fn mask(text: &str, namespace: &str) -> String {
    text.replace(namespace, "<ns>")
        .lines()
        .map(|line| {
            let indent = line.len() - line.trim_start().len();
            let words: Vec<String> = line
                .split_whitespace()
                .map(|w| {
                    let digits = w.trim_end_matches(['s', 'm', 'h', 'd']);
                    let is_age = !digits.is_empty()
                        && digits.len() + 1 == w.len()
                        && digits.chars().all(|c| c.is_ascii_digit());
                    if is_age {
                        "<age>".to_string()
                    } else {
                        w.to_string()
                    }
                })
                .collect();
            let gaps: Vec<&str> = line
                .trim()
                .split(|c: char| !c.is_whitespace())
                .filter(|g| !g.is_empty())
                .map(|g| if g.len() > 1 { "  " } else { " " })
                .collect();
            let mut out = " ".repeat(indent);
            for (i, w) in words.iter().enumerate() {
                out.push_str(w);
                if let Some(gap) = gaps.get(i) {
                    out.push_str(gap);
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Compares `actual` with `tests/golden/<file>`, or writes it there with UPDATE_GOLDEN=1.
fn golden(file: &str, actual: &str) {
    let path = root().join("tests/golden").join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs from what the status command printed (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}
