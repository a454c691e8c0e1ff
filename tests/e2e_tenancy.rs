//! End-to-end attack tests of one operator serving many tenants (issue 19): the real operator
//! binary against a real kube-apiserver and the simulator. `hack/test` runs them in both batch
//! modes.

mod common;

use common::*;
use dataplane_sim::scenario::{ConnectorState, TaskScenario};
use kube::ResourceExt;
use managed_connector_operator::crd::HolisticState;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_trace_that_quotes_a_secret_value_reaches_status_and_events_redacted() {
    let env = Env::new("trace-secret", &[]).await;
    let password = format!("pw/{}@x y", rand::random::<u64>());
    env.secret("db", json!({"password": password})).await;
    env.apply(
        "orders",
        json!({
            "pollInterval": "5s",
            "dataplane": {"credentialsSecretRef": {"name": "creds"}},
            "config": {"connector.class": "com.example.Sink", "tasks.max": "2", "topics": "orders"},
            "configFrom": [{"key": "connection.password", "secretKeyRef": {"name": "db", "key": "password"}}],
        }),
    )
    .await;
    env.wait_state("orders", HolisticState::Healthy, POLL * 2 + MARGIN)
        .await;
    // As a JDBC driver does: the connection URL, password included, raw and URL-encoded.
    let encoded: String = url::form_urlencoded::byte_serialize(password.as_bytes()).collect();
    let trace = format!(
        "org.apache.kafka.connect.errors.ConnectException: cannot connect\n\tat a.B(B.java:1)\nCaused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for jdbc:postgresql://db:5432/orders?user=app&password={password} (also {encoded})\n"
    );
    let failed = |trace: &str| TaskScenario {
        trace: trace.to_string(),
        ..TaskScenario::new("FAILED")
    };
    assert!(env.sim.set_status(
        "redpanda",
        "orders",
        ConnectorState {
            state: "RUNNING".into(),
            tasks: vec![TaskScenario::new("RUNNING"), failed(&trace)],
            ..Default::default()
        },
    ));
    let mc = env
        .wait_state("orders", HolisticState::Degraded, POLL * 2 + MARGIN)
        .await;
    let status = serde_json::to_string(&mc.status).unwrap();
    assert!(status.contains("[redacted]"), "{status}");
    for form in [password.as_str(), encoded.as_str()] {
        assert!(!status.contains(form), "status holds {form}: {status}");
        let visible = env.visible_text("orders").await;
        assert!(
            !visible.contains(form),
            "visible text holds {form}: {visible}"
        );
    }
    let log = std::fs::read_to_string(&env.log).unwrap_or_default();
    assert!(
        !log.contains(&password),
        "the operator log holds the password"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn an_answer_that_is_not_the_sources_is_described_never_quoted() {
    let env = Env::new("reflection", &[]).await;
    // A service inside the cluster that is not Kafka Connect, answering what only it should know:
    // a JSON string on the status path, a JSON object with a `message` on errors.
    let secret = format!("internal-only-{}", rand::random::<u64>());
    let (ok_body, err_body) = (
        format!("\"{secret}\""),
        format!("{{\"message\":\"{secret}\"}}"),
    );
    let app = axum::Router::new()
        .route(
            "/ok/connectors/{name}/status",
            axum::routing::get(move || {
                let b = ok_body.clone();
                async move { ([("content-type", "application/json")], b) }
            }),
        )
        .route(
            "/err/connectors/{name}/status",
            axum::routing::get(move || {
                let b = err_body.clone();
                async move {
                    (
                        axum::http::StatusCode::BAD_REQUEST,
                        [("content-type", "application/json")],
                        b,
                    )
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    for (name, path, reason) in [
        ("string-body", "ok", "InvalidResponse"),
        ("message-body", "err", "InvalidArgument"),
    ] {
        env.apply(
            name,
            json!({"pollInterval": "5s", "connectorName": "x",
                   "kafkaConnect": {"url": format!("http://{addr}/{path}")}}),
        )
        .await;
        let mc = env
            .wait_condition(name, "Synced", "False", reason, POLL * 2 + MARGIN)
            .await;
        let message = condition(&mc, "Synced").unwrap().2;
        eprintln!("  {name}: {message}");
        let visible = env.visible_text(name).await;
        assert!(!visible.contains(&secret), "{name}: reflected: {visible}");
    }
    let log = std::fs::read_to_string(&env.log).unwrap_or_default();
    assert!(!log.contains(&secret), "the operator log quotes the answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_deletion_always_ends() {
    let env = Env::new("deletion-ends", &["--deletion-timeout", "10s"]).await;
    let finalizers = |mc: &managed_connector_operator::crd::ManagedConnector| {
        mc.metadata.finalizers.clone().unwrap_or_default()
    };
    // On the operator-wide credentials the resource may never delete: no finalizer to hang on.
    env.sim
        .upsert("redpanda", connector("shared", "RUNNING", &["RUNNING"]));
    env.apply(
        "shared",
        json!({"pollInterval": "5s", "dataplane": {}, "deletionPolicy": "Delete"}),
    )
    .await;
    // With its own Secret it may: the finalizer is added.
    env.secret(
        "own",
        json!({"client_id": "e2e", "client_secret": "e2e-secret", "token_url": format!("{}/oauth/token", env.sim_url)}),
    )
    .await;
    env.sim
        .upsert("redpanda", connector("owned", "RUNNING", &["RUNNING"]));
    env.apply(
        "owned",
        json!({"pollInterval": "5s", "dataplane": {"credentialsSecretRef": {"name": "own"}}, "deletionPolicy": "Delete", "adopt": true}),
    )
    .await;
    env.wait_state("owned", HolisticState::Healthy, POLL * 2 + MARGIN)
        .await;
    let owned = env
        .wait_for("owned", POLL + MARGIN, "holding the finalizer", |mc| {
            !finalizers(mc).is_empty()
        })
        .await;
    assert_eq!(
        finalizers(&owned),
        ["connectors.dataplane.dev/delete-connector"]
    );
    env.wait_for("shared", POLL + MARGIN, "reconciled", |mc| {
        mc.status.as_ref().is_some_and(|s| !s.conditions.is_empty())
    })
    .await;
    assert!(
        finalizers(&env.get("shared").await).is_empty(),
        "no finalizer where it could never delete"
    );
    let api = env.api();
    api.delete("shared", &Default::default()).await.unwrap();
    // The source refuses the deletion (it would otherwise still succeed: the credentials are
    // cached), and, as in a namespace deletion, the Secret goes first, then the resource.
    env.sim.set_global_faults(dataplane_sim::scenario::Faults {
        status: Some(503),
        ..Default::default()
    });
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(env.client.clone(), &env.ns);
    secrets.delete("own", &Default::default()).await.unwrap();
    let started = std::time::Instant::now();
    api.delete("owned", &Default::default()).await.unwrap();
    // Until the deletion timeout it stays, and its status says why (not only an Event).
    let failing = env
        .wait_for("owned", POLL + MARGIN, "DeleteFailed in status", |mc| {
            condition(mc, "Synced").is_some_and(|c| c.0 == "False" && c.1 == "DeleteFailed")
        })
        .await;
    assert!(failing.metadata.deletion_timestamp.is_some());
    assert_eq!(
        cond(&failing, "Reconciling"),
        ("True".into(), "DeleteFailed".into())
    );
    let said = condition(&failing, "Synced").unwrap().2;
    assert!(said.contains("could not delete connector owned"), "{said}");
    env.capture("owned", "delete-failed");
    let gone = |name: &'static str| {
        let api = api.clone();
        async move {
            let deadline = std::time::Instant::now() + POLL * 4 + MARGIN;
            loop {
                match api.get_opt(name).await.unwrap() {
                    None => return,
                    Some(_) if std::time::Instant::now() > deadline => {
                        panic!("{name} still there after the deletion timeout")
                    }
                    Some(_) => tokio::time::sleep(std::time::Duration::from_millis(300)).await,
                }
            }
        }
    };
    gone("shared").await;
    gone("owned").await;
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_secs(9),
        "owned waited for its connector first ({waited:?})"
    );
    let events = env.events("owned").await;
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "ConnectorLeftBehind"),
        "{events:?}"
    );
    assert!(
        env.sim.config_of("redpanda", "owned").is_some(),
        "the connector was left behind"
    );
    let metrics = env.metrics().await;
    assert!(
        metrics.contains(r#"outcome="ConnectorLeftBehind"} 1"#),
        "counted: {metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn two_resources_declaring_one_connector_do_not_fight_over_it() {
    // One operator for two namespaces (narrowed to this test's resources by a label).
    let value = format!("owner-{}", rand::random::<u32>());
    let label = ("mco-e2e-owner", value.as_str());
    let selector = format!("mco-e2e-owner={value}");
    let env = Env::with(
        "one-owner",
        Options {
            args: &["--selector", &selector],
            all_namespaces: true,
            ..Default::default()
        },
    )
    .await;
    let other_ns = tenant_namespace(&env, "one-owner-b").await;
    let spec = |topics: &str| {
        json!({"pollInterval": "5s", "connectorName": "contested",
               "dataplane": {"credentialsSecretRef": {"name": "creds"}},
               "config": {"connector.class": "com.example.Sink", "tasks.max": "1", "topics": topics},
               "deletionPolicy": "Delete"})
    };
    let first = env.api();
    let theirs: kube::Api<managed_connector_operator::crd::ManagedConnector> =
        kube::Api::namespaced(env.client.clone(), &other_ns);
    apply_labelled(&first, "first", label, spec("a")).await;
    env.wait_state("first", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    // Created a second later, in another namespace: the younger claimant.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    apply_labelled(&theirs, "second", label, spec("b")).await;
    let deadline = std::time::Instant::now() + POLL * 3 + MARGIN;
    let second = loop {
        let mc = theirs.get("second").await.unwrap();
        if condition(&mc, "Synced").is_some_and(|c| c.1 == "ConnectorClaimed") {
            break mc;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "second: {:?}",
            mc.status
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    };
    capture_in(&other_ns, "second", "connector-claimed");
    let message = condition(&second, "Synced").unwrap().2;
    assert!(
        message.contains(&format!("{}/first", env.ns)),
        "names the owner: {message}"
    );
    assert_eq!(cond(&second, "Synced").0, "False");
    assert_eq!(cond(&second, "Stalled").0, "True");
    // Four intervals of both resources: the owner's configuration stays, nobody puts again.
    let puts = |c: &dataplane_sim::RequestCounts| c.endpoint("put_config") + c.endpoint("create");
    let before = puts(&env.sim.counts());
    tokio::time::sleep(POLL * 4).await;
    assert_eq!(
        puts(&env.sim.counts()),
        before,
        "configuration puts while both exist"
    );
    let config = env.sim.config_of("redpanda", "contested").expect("exists");
    assert_eq!(config.get("topics").map(String::as_str), Some("a"));
    assert_eq!(cond(&env.get("first").await, "Synced").0, "True");

    // The younger one goes: it did not create the connector, so it is not deleted.
    theirs.delete("second", &Default::default()).await.unwrap();
    let deadline = std::time::Instant::now() + POLL * 2 + MARGIN;
    while theirs.get_opt("second").await.unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "second still there");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert!(
        env.sim.config_of("redpanda", "contested").is_some(),
        "deleted by a resource that did not own it"
    );
    // A resource edited to name another connector does not delete that one either.
    env.sim.upsert(
        "redpanda",
        connector("someone-elses", "RUNNING", &["RUNNING"]),
    );
    let mut edited = spec("a");
    edited["connectorName"] = json!("someone-elses");
    apply_labelled(&first, "first", label, edited).await;
    env.wait_for(
        "first",
        POLL * 3 + MARGIN,
        "reading the other connector",
        |mc| {
            mc.status.as_ref().is_some_and(|s| {
                s.connector_name.as_deref() == Some("someone-elses") && s.last_sync_time.is_some()
            })
        },
    )
    .await;
    env.api()
        .delete("first", &Default::default())
        .await
        .unwrap();
    env.wait_gone("first", POLL * 2 + MARGIN).await;
    assert!(
        env.sim.config_of("redpanda", "someone-elses").is_some(),
        "deleted a connector the resource was edited to point at"
    );
    env.assert_events("first", &["ConnectorKept"]).await;
    let _ = kubectl(&["delete", "namespace", &other_ns, "--wait=false"]);
}

/// Another namespace for a test's operator, with the same simulator credentials as the test's.
async fn tenant_namespace(env: &Env, name: &str) -> String {
    let ns = namespace_for(name);
    kubectl_ok(&["create", "namespace", &ns]);
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(env.client.clone(), &ns);
    secrets
        .create(
            &Default::default(),
            &serde_json::from_value(json!({"metadata": {"name": "creds"}, "stringData": {
                "client_id": "e2e", "client_secret": "e2e-secret",
                "token_url": format!("{}/oauth/token", env.sim_url)}}))
            .unwrap(),
        )
        .await
        .unwrap();
    ns
}

/// Applies a ManagedConnector carrying label `key=value` (its operator's `--selector`).
async fn apply_labelled(
    api: &kube::Api<managed_connector_operator::crd::ManagedConnector>,
    name: &str,
    (key, value): (&str, &str),
    spec: serde_json::Value,
) {
    let doc = json!({"apiVersion": "connectors.dataplane.dev/v1alpha1", "kind": "ManagedConnector",
                     "metadata": {"name": name, "labels": {key: value}}, "spec": spec});
    api.patch(
        name,
        &kube::api::PatchParams::apply("e2e").force(),
        &kube::api::Patch::Apply(&doc),
    )
    .await
    .unwrap_or_else(|e| panic!("apply {name}: {e}"));
}

/// A server that accepts connections and never answers (a tarpit a tenant points at).
async fn tarpit() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn one_namespace_over_many_hanging_origins_does_not_starve_another() {
    let value = format!("fair-{}", rand::random::<u32>());
    let label = ("mco-e2e-fairness", value.as_str());
    let selector = format!("mco-e2e-fairness={value}");
    let env = Env::with(
        "fair-hostile",
        Options {
            args: &["--selector", &selector, "--request-timeout", "30s"],
            all_namespaces: true,
            ..Default::default()
        },
    )
    .await;
    // The victim: another namespace, one resource on the simulator, polled every 5 s.
    let victim_ns = tenant_namespace(&env, "fair-victim").await;
    env.sim
        .upsert("redpanda", connector("victim", "RUNNING", &["RUNNING"]));
    // The hostile namespace: 60 resources over three origins that never answer (enough to keep
    // every slot taken through their backoff).
    let pits = [tarpit().await, tarpit().await, tarpit().await];
    let hostile = env.api();
    for i in 0..60 {
        let name = format!("pit-{i}");
        // Acting (a declared config): each reads alone, none shares a listing.
        let spec = json!({"pollInterval": "5s", "connectorName": name,
                          "kafkaConnect": {"url": pits[i % 3]},
                          "config": {"connector.class": "com.example.Sink", "topics": "t"}});
        apply_labelled(&hostile, &name, label, spec).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let victims: kube::Api<managed_connector_operator::crd::ManagedConnector> =
        kube::Api::namespaced(env.client.clone(), &victim_ns);
    apply_labelled(
        &victims,
        "victim",
        label,
        json!({"pollInterval": "5s", "dataplane": {"credentialsSecretRef": {"name": "creds"}}}),
    )
    .await;
    // Its first status, then its interval, while the tarpits hold every request sent to them.
    let deadline = std::time::Instant::now() + POLL * 3 + MARGIN;
    loop {
        let mc = victims.get("victim").await.unwrap();
        if mc.status.as_ref().and_then(|s| s.holistic_state) == Some(HolisticState::Healthy) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the victim has no status: {:?}",
            mc.status
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let reads = || {
        env.sim
            .counts()
            .by_connector
            .get("victim")
            .copied()
            .unwrap_or(0)
    };
    let before = reads();
    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    let during = reads() - before;
    eprintln!("  victim read {during} times in 30 s with a 5 s interval");
    assert!(
        during >= 4,
        "the other namespace starved: read {during} times in 30 s at a 5 s interval"
    );
    // The hostile resources say why they wait, in their own conditions.
    let pit = env.get("pit-0").await;
    eprintln!("  pit-0: {:?}", condition(&pit, "Synced"));
    let _ = kubectl(&["delete", "namespace", &victim_ns, "--wait=false"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn specs_of_a_mebibyte_are_refused_before_they_reach_the_operator() {
    let env = Env::new("big-specs", &[]).await;
    let apply = |name: &str, config: serde_json::Value| {
        let doc = json!({"apiVersion": "connectors.dataplane.dev/v1alpha1", "kind": "ManagedConnector",
            "metadata": {"name": name}, "spec": {"suspend": true, "dataplane": {}, "config": config}});
        let api = env.api();
        let name = name.to_string();
        async move {
            api.patch(
                &name,
                &kube::api::PatchParams::apply("e2e").force(),
                &kube::api::Patch::Apply(&doc),
            )
            .await
        }
    };
    let mebibyte = "x".repeat(1 << 20);
    let mut refusals = Vec::new();
    for i in 0..30 {
        let e = apply(&format!("big-{i}"), json!({"connection.url": mebibyte}))
            .await
            .expect_err("a 1 MiB value is refused");
        refusals.push(e.to_string());
    }
    assert!(
        refusals
            .iter()
            .all(|e| e.contains("may not be more than 65536 bytes")),
        "{}",
        refusals[0]
    );
    // Many values each under the bound, together over the total.
    let many: serde_json::Map<String, serde_json::Value> = (0..8)
        .map(|i| (format!("k{i}"), json!("y".repeat(40_000))))
        .collect();
    let e = apply("many", serde_json::Value::Object(many))
        .await
        .expect_err("320 KB in all is refused");
    assert!(e.to_string().contains("at most 256 KiB"), "{e}");
    assert!(env.api().get_opt("big-0").await.unwrap().is_none());

    // Within the bounds, a large configuration is applied whole (the watch cache holds only a
    // marker for it, and the reconcile reads the object).
    let large = "z".repeat(60_000);
    env.apply(
        "large",
        json!({"pollInterval": "5s", "dataplane": {"credentialsSecretRef": {"name": "creds"}},
               "config": {"connector.class": "com.example.Sink", "topics": "t", "transforms.script": large}}),
    )
    .await;
    env.wait_state("large", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    let applied = env.sim.config_of("redpanda", "large").expect("created");
    assert_eq!(applied.get("transforms.script"), Some(&large));
    let mc = env.get("large").await;
    assert_eq!(cond(&mc, "Synced").0, "True");
    assert!(
        !mc.annotations()
            .contains_key(managed_connector_operator::trim::TRIMMED),
        "the cache's marker reached the API server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_source_that_quotes_the_credentials_back_has_them_redacted() {
    let env = Env::new("quoted-credentials", &[]).await;
    let password = format!("cr3d-{}", rand::random::<u64>());
    env.secret("basic", json!({"username": "app", "password": password}))
        .await;
    // A Kafka Connect REST API (or a proxy in front of it) that quotes the request's
    // credentials in its own error shape.
    let app = axum::Router::new().route(
        "/connectors/{name}/status",
        axum::routing::get(|headers: axum::http::HeaderMap| async move {
            use base64::Engine as _;
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Basic "))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            (
                axum::http::StatusCode::BAD_REQUEST,
                [("content-type", "application/json")],
                json!({"error_code": 400, "message": format!("credentials {auth} are not valid here")})
                    .to_string(),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    env.apply(
        "quoted",
        json!({"pollInterval": "5s", "kafkaConnect": {"url": format!("http://{addr}"),
               "credentialsSecretRef": {"name": "basic"}}}),
    )
    .await;
    let mc = env
        .wait_condition(
            "quoted",
            "Synced",
            "False",
            "InvalidArgument",
            POLL * 2 + MARGIN,
        )
        .await;
    let message = condition(&mc, "Synced").unwrap().2;
    assert!(message.contains("[redacted]"), "{message}");
    let visible = env.visible_text("quoted").await;
    assert!(
        !visible.contains(&password),
        "status or Events hold the password: {visible}"
    );
    let log = std::fs::read_to_string(&env.log).unwrap_or_default();
    assert!(
        !log.contains(&password),
        "the operator log holds the password"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_terminating_namespace_without_its_secret_lets_its_resources_go_at_once() {
    // The default deletion timeout (5 minutes): the resource must go long before it.
    let env = Env::new("ns-terminating", &[]).await;
    env.sim
        .upsert("redpanda", connector("kept", "RUNNING", &["RUNNING"]));
    env.apply(
        "kept",
        json!({"pollInterval": "5s", "dataplane": {"credentialsSecretRef": {"name": "creds"}},
               "deletionPolicy": "Delete", "adopt": true}),
    )
    .await;
    env.wait_for(
        "kept",
        POLL * 3 + MARGIN,
        "holding the finalizer and owning the connector",
        |mc| {
            mc.metadata
                .finalizers
                .as_ref()
                .is_some_and(|f| !f.is_empty())
                && mc
                    .status
                    .as_ref()
                    .is_some_and(|s| s.owned_connector.is_some())
        },
    )
    .await;
    // As a namespace deletion goes (without a controller-manager here, by hand): the namespace
    // is terminating, its Secret goes, then the resource; the source refuses the deletion.
    env.sim.set_global_faults(dataplane_sim::scenario::Faults {
        status: Some(503),
        ..Default::default()
    });
    kubectl_ok(&["delete", "namespace", &env.ns, "--wait=false"]);
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(env.client.clone(), &env.ns);
    secrets.delete("creds", &Default::default()).await.unwrap();
    let started = std::time::Instant::now();
    env.api().delete("kept", &Default::default()).await.unwrap();
    // The cached Secret lasts up to 30 s; then the resource goes, not after 5 minutes.
    env.wait_gone("kept", std::time::Duration::from_secs(90))
        .await;
    eprintln!("  gone after {:?}", started.elapsed());
    let log = std::fs::read_to_string(&env.log).unwrap_or_default();
    assert!(
        log.contains("leaving the connector behind"),
        "no log line names the connector left behind"
    );
}
