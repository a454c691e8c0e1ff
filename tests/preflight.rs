//! Before a declared configuration is put, against the real Kafka Connect worker
//! (`hack/kafkaenv`): a `connector.class` the worker has no plugin for is refused with what it
//! has (`PluginNotFound`), a configuration the plugin's own validation refuses is not put and
//! says which fields are wrong (`ConfigInvalid`, `status.config.invalidFields`), without the
//! Secret value the plugin quotes; fixed, it is created. `spec.tasksMax` and the scale
//! subresource: `kubectl scale` changes the worker's `tasks.max` and the tasks it runs.
//!
//! Marked `#[ignore]`; `hack/test` runs it with `KAFKA_CONNECT_URL` set.

mod common;

use common::*;
use managed_connector_operator::crd::HolisticState;
use serde_json::{Value, json};

const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the control plane and Kafka Connect: hack/test"]
async fn a_missing_plugin_and_an_invalid_configuration_are_refused_before_any_put() {
    let connect = Connect::new();
    let env = Env::new("preflight", &[]).await;
    let connector = unique("preflight-sink");
    let output = root().join(format!("target/kafka/{connector}.out"));
    // A value the plugin refuses and quotes back in its message, from a Secret.
    let tolerance = format!("pw-{}", rand::random::<u64>());
    env.secret("tolerance", json!({"value": tolerance})).await;
    let spec = |config: Value| {
        json!({
            "connectorName": connector,
            "pollInterval": "5s",
            "kafkaConnect": {"url": connect_url()},
            "config": config,
            "configFrom": [{"key": "errors.tolerance", "secretKeyRef": {"name": "tolerance", "key": "value"}}],
            "deletionPolicy": "Delete",
        })
    };

    // 1. No such plugin on the worker: nothing is put, the condition says what it has.
    env.apply(
        "sink",
        spec(json!({"connector.class": "com.example.DoesNotExist", "file": output, "topics": connector})),
    )
    .await;
    let mc = env
        .wait_condition(
            "sink",
            "Stalled",
            "True",
            "PluginNotFound",
            POLL * 2 + MARGIN,
        )
        .await;
    let (_, _, message) = condition(&mc, "Synced").unwrap();
    assert!(
        message.contains("has no plugin com.example.DoesNotExist (connector.class); it has: ")
            && message.contains(SINK),
        "{message}"
    );
    let plugin = mc
        .status
        .as_ref()
        .unwrap()
        .plugin
        .clone()
        .expect("status.plugin");
    assert!(!plugin.found, "{plugin:?}");
    assert_eq!(plugin.class, "com.example.DoesNotExist");
    assert!(
        connect.config(&connector).await.is_none(),
        "nothing was put"
    );

    // 2. The plugin exists (by its alias) but refuses the configuration: the fields, no put.
    env.apply(
        "sink",
        spec(json!({"connector.class": "FileStreamSink", "file": output})),
    )
    .await;
    let mc = env
        .wait_condition(
            "sink",
            "Stalled",
            "True",
            "ConfigInvalid",
            POLL * 2 + MARGIN,
        )
        .await;
    env.capture("sink", "config-invalid");
    let status = mc.status.clone().unwrap();
    let plugin = status.plugin.clone().unwrap();
    assert!(plugin.found);
    assert_eq!(plugin.class, SINK);
    assert_eq!(plugin.type_.as_deref(), Some("sink"));
    assert!(
        plugin
            .version
            .as_deref()
            .is_some_and(|v| v.starts_with("4.")),
        "{plugin:?}"
    );
    let fields = status.config.clone().unwrap().invalid_fields;
    let named: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert!(
        named.contains(&"errors.tolerance") && named.contains(&"topics"),
        "{fields:?}"
    );
    let tolerance_errors = &fields
        .iter()
        .find(|f| f.name == "errors.tolerance")
        .unwrap()
        .errors;
    assert!(
        tolerance_errors[0].contains("Invalid value [redacted] for configuration errors.tolerance"),
        "{tolerance_errors:?}"
    );
    let (_, _, message) = condition(&mc, "Synced").unwrap();
    assert!(
        message.contains("the plugin's validation refused spec.config"),
        "{message}"
    );
    assert!(
        message.contains("topics: Must configure one of topics or topics.regex"),
        "{message}"
    );
    assert!(
        connect.config(&connector).await.is_none(),
        "nothing was put"
    );
    env.assert_events("sink", &["ActionFailed"]).await;
    assert!(!env.visible_text("sink").await.contains(&tolerance));

    // 3. Fixed in Git (no value from the Secret, the topics named): validated, created,
    // healthy; no fields left.
    let mut fixed = spec(json!({"connector.class": "FileStreamSink", "file": output,
                                "topics": connector, "errors.tolerance": "all"}));
    fixed.as_object_mut().unwrap().remove("configFrom");
    env.apply("sink", fixed).await;
    let mc = env
        .wait_state("sink", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    let status = mc.status.clone().unwrap();
    assert!(status.config.clone().unwrap().invalid_fields.is_empty());
    assert_eq!(cond(&mc, "Stalled").0, "False");
    let config = connect.config(&connector).await.expect("created");
    assert_eq!(config["errors.tolerance"], "all");
    env.assert_events("sink", &["ConnectorCreated"]).await;

    let log = std::fs::read_to_string(&env.log).unwrap();
    assert!(
        !log.contains(&tolerance),
        "the Secret's value is in the log"
    );
    env.api().delete("sink", &Default::default()).await.unwrap();
    env.wait_gone("sink", POLL * 2 + MARGIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the control plane and Kafka Connect: hack/test"]
async fn kubectl_scale_sets_tasks_max_and_the_worker_runs_that_many_tasks() {
    let connect = Connect::new();
    let env = Env::new("scale", &[]).await;
    let connector = unique("scaled-sink");
    let output = root().join(format!("target/kafka/{connector}.out"));
    env.apply(
        "scaled",
        json!({
            "connectorName": connector,
            "pollInterval": "5s",
            "kafkaConnect": {"url": connect_url()},
            "config": {"connector.class": SINK, "file": output, "topics": connector},
            "tasksMax": 1,
            "deletionPolicy": "Delete",
        }),
    )
    .await;
    let mc = env
        .wait_state("scaled", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    assert_eq!(mc.status.as_ref().unwrap().task_count, Some(1));
    assert_eq!(connect.config(&connector).await.unwrap()["tasks.max"], "1");

    let resource = format!("managedconnector/{}", mc.metadata.name.as_deref().unwrap());
    let scale = kubectl_ok(&[
        "get",
        &resource,
        "-n",
        &env.ns,
        "--subresource=scale",
        "-o",
        "json",
    ]);
    let scale: Value = serde_json::from_str(&scale).unwrap();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(
        (
            scale["spec"]["replicas"].as_i64(),
            scale["status"]["replicas"].as_i64()
        ),
        (Some(1), Some(1))
    );

    kubectl_ok(&["scale", &resource, "-n", &env.ns, "--replicas", "3"]);
    wait_until("tasks.max 3 on the worker", POLL * 2 + MARGIN, || async {
        connect
            .config(&connector)
            .await
            .is_some_and(|c| c["tasks.max"] == "3")
    })
    .await;
    let mc = env
        .wait_for("scaled", POLL * 4 + MARGIN, "three running tasks", |mc| {
            let s = mc.status.as_ref();
            s.and_then(|s| s.task_count) == Some(3)
                && s.and_then(|s| s.tasks_ready.as_deref()) == Some("3/3")
        })
        .await;
    assert_eq!(mc.spec.tasks_max, Some(3));
    env.assert_events("scaled", &["ConfigApplied"]).await;

    // tasks.max in spec.config too is refused by the API server, naming both.
    let both = kubectl(&[
        "patch",
        &resource,
        "-n",
        &env.ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"config":{"tasks.max":"2"}}}"#,
    ]);
    let stderr = String::from_utf8_lossy(&both.stderr);
    assert!(!both.status.success());
    assert!(
        stderr.contains("tasks.max is set in config and tasksMax: set one"),
        "{stderr}"
    );

    // A read-only resource has nothing to scale: the API server says why.
    env.apply(
        "watched",
        json!({"connectorName": connector, "pollInterval": "5s", "kafkaConnect": {"url": connect_url()}}),
    )
    .await;
    let out = kubectl(&[
        "scale",
        "managedconnector/watched",
        "-n",
        &env.ns,
        "--replicas",
        "2",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a read-only resource was scaled");
    assert!(stderr.contains("tasksMax needs config"), "{stderr}");
    env.api()
        .delete("watched", &Default::default())
        .await
        .unwrap();
    env.api()
        .delete("scaled", &Default::default())
        .await
        .unwrap();
    env.wait_gone("scaled", POLL * 2 + MARGIN).await;
}
