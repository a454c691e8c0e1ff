//! What the operator writes: states, conditions, transitions, quiet steady state, refused specs.

use super::*;

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
            json!({"dataplane": {}, "tasksMax": 2}),
            "tasksMax needs config",
        ),
        (
            json!({"dataplane": {}, "offsets": {"stallAfter": "30s"}}),
            "offsets.stallAfter must be at least 1m",
        ),
        (
            json!({"dataplane": {}, "offsets": {"listToConfigMap": "Not_A_Name"}}),
            "spec.offsets.listToConfigMap",
        ),
        (
            json!({"dataplane": {}, "tasksMax": 2, "config": {"tasks.max": "2"}}),
            "tasks.max is set in config and tasksMax: set one",
        ),
        (
            json!({"dataplane": {}, "tasksMax": 0, "config": {}}),
            "should be greater than or equal to 1",
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
async fn suspend_stops_polling_and_resume_starts_it_again() {
    let env = Env::new("suspend", &[]).await;
    env.serve_and_watch("orders", "RUNNING", &["RUNNING"]).await;
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
    env.apply("orders", json!({"pollInterval": "5s", "suspend": true, "dataplane": {"credentialsSecretRef": {"name": "creds"}}}))
        .await;
    let mc = env
        .wait_condition("orders", "Ready", "True", "Suspended", POLL + MARGIN)
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
