//! Failures of the source and of the operator: conditions, outages, restarts, policy refusals.

use super::*;

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
