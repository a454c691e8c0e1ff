//! Acting: declared configuration and state, deletion, restarts, who may act.

use super::*;

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
    env.capture("legacy", "config-rejected");
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
async fn a_plugin_the_data_plane_cluster_lacks_is_refused_before_a_put() {
    let env = Env::new("plugin", &["--topics-refresh", "10s"]).await;
    let spec = |class: &str| {
        json!({
            "pollInterval": "5s",
            "dataplane": {"credentialsSecretRef": {"name": "creds"}},
            "config": {"connector.class": class, "topics": "orders"},
            "tasksMax": 2,
        })
    };
    env.apply("orders", spec("com.example.Missing")).await;
    let mc = env
        .wait_condition(
            "orders",
            "Stalled",
            "True",
            "PluginNotFound",
            POLL * 2 + MARGIN,
        )
        .await;
    env.capture("orders", "plugin-not-found");
    let (_, _, message) = condition(&mc, "Synced").unwrap();
    assert!(
        message.contains("has no plugin com.example.Missing (connector.class); it has: com.example.Sink, com.example.Source"),
        "{message}"
    );
    assert!(!mc.status.as_ref().unwrap().plugin.as_ref().unwrap().found);
    env.wait_polls("orders", 2).await;
    let counts = env.sim.counts().by_endpoint;
    assert!(
        counts
            .keys()
            .all(|k| !k.starts_with("put_config") && !k.starts_with("create")),
        "nothing was put: {counts:?}"
    );
    // The cluster's plugin list is read once (the Data Plane's cluster endpoint), not per poll.
    assert_eq!(counts.get("cluster 200"), Some(&1), "{counts:?}");

    // A class the cluster has: created (no validation endpoint on the Data Plane), with it.
    env.apply("orders", spec("com.example.Sink")).await;
    let mc = env
        .wait_state("orders", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    let plugin = mc.status.as_ref().unwrap().plugin.clone().unwrap();
    assert!(
        plugin.found && plugin.class == "com.example.Sink",
        "{plugin:?}"
    );
    assert_eq!(plugin.type_.as_deref(), Some("sink"));
    let config = env.sim.config_of("redpanda", "orders").expect("created");
    assert_eq!(
        config["tasks.max"], "2",
        "spec.tasksMax is put as tasks.max"
    );
    assert_eq!(mc.status.as_ref().unwrap().task_count, Some(2));
    // --topics-refresh: the Data Plane's topics endpoint, read every 10 s, not every poll.
    env.wait_for(
        "orders",
        Duration::from_secs(10) + POLL + MARGIN,
        "topics",
        |mc| mc.status.as_ref().is_some_and(|s| s.topics == ["orders"]),
    )
    .await;
    env.wait_polls("orders", 3).await;
    let counts = env.sim.counts().by_endpoint;
    let topics = counts.get("topics 200").copied().unwrap_or(0);
    let status = counts.get("status 200").copied().unwrap_or(0)
        + counts.get("list 200").copied().unwrap_or(0);
    assert!(topics >= 1 && topics < status, "{counts:?}");
    env.assert_events("orders", &["ActionFailed", "ConnectorCreated"])
        .await;

    // Offsets: the Data Plane API has none; the request says so once and is not retried.
    // A topics reset is sent once per value.
    let annotate = |key: &str, value: &str| {
        kubectl_ok(&[
            "annotate",
            "--overwrite",
            "-n",
            &env.ns,
            "managedconnector",
            "orders",
            &format!("connectors.dataplane.dev/{key}={value}"),
        ]);
    };
    annotate("offsets", "list");
    annotate("reset-topics", "1");
    let mc = env
        .wait_for("orders", POLL * 3 + MARGIN, "both requests handled", |mc| {
            mc.status.as_ref().is_some_and(|s| {
                s.handled_topics_reset.as_deref() == Some("1")
                    && s.offsets
                        .as_ref()
                        .is_some_and(|o| o.result == "NotSupported")
            })
        })
        .await;
    env.capture("orders", "offsets-not-supported");
    let offsets = mc.status.unwrap().offsets.unwrap();
    assert!(
        offsets.message.contains("no offsets endpoint"),
        "{}",
        offsets.message
    );
    env.wait_polls("orders", 2).await;
    let counts = env.sim.counts().by_endpoint;
    assert_eq!(counts.get("topics_reset 200"), Some(&1), "{counts:?}");
    env.assert_events("orders", &["OffsetsNotSupported", "TopicsResetRequested"])
        .await;
    let not_supported = env
        .events("orders")
        .await
        .into_iter()
        .filter(|(_, r, _)| r == "OffsetsNotSupported")
        .map(|(_, _, n)| n)
        .sum::<i32>();
    assert_eq!(not_supported, 1, "said once, not per poll");
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
    env.capture("sticky", "restarts-exhausted");
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
