//! Moving connectors in, end to end against the real Kafka Connect worker
//! (`hack/kafkaenv`): the connector runs as Strimzi would have created it (class, `tasks.max` and
//! its config, put through the REST API), `convert strimzi` turns its KafkaConnector into a
//! ManagedConnector, and the operator adopts it without a put, a restart or a deletion. A
//! connector made by hand, with a password, is read back by `import kafka-connect --with-config`
//! and adopted the same way once its Secret exists.
//!
//! Marked `#[ignore]`; `hack/test` runs it with `KAFKA_CONNECT_URL` set.

mod common;

use common::*;
use managed_connector_operator::crd::HolisticState;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the control plane and Kafka Connect: hack/test"]
async fn a_converted_strimzi_connector_is_adopted_without_a_put_restart_or_deletion() {
    let connect = Connect::new();
    let env = Env::new("strimzi-move", &[]).await;
    let connector = unique("strimzi-source");
    let input = root().join(format!("target/kafka/{connector}.txt"));
    std::fs::write(&input, "one\ntwo\n").unwrap();
    // What Strimzi's operator puts for a KafkaConnector: class, tasks.max and spec.config.
    let file = input.to_str().unwrap().to_string();
    connect
        .put_config(
            &connector,
            json!({"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
                   "tasks.max": "1", "file": file, "topic": connector, "batch.size": "100"}),
        )
        .await;
    let before = connect.config(&connector).await.expect("created");

    let kafka_connector = format!(
        "apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaConnector\nmetadata:\n  name: {connector}\n  namespace: kafka\n  labels: {{strimzi.io/cluster: connect}}\nspec:\n  class: org.apache.kafka.connect.file.FileStreamSourceConnector\n  tasksMax: 1\n  config:\n    file: {file}\n    topic: {connector}\n    batch.size: 100\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kafkaconnector.yaml");
    std::fs::write(&path, kafka_connector).unwrap();
    let yaml = run(
        env!("CARGO_BIN_EXE_managed-connector-operator"),
        &["convert", "strimzi", path.to_str().unwrap(), "-n", &env.ns],
    );
    let converted: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    assert_eq!(converted.len(), 1, "{yaml}");
    // The test's worker in place of the ConnectCluster the manifest names.
    let mut spec = converted[0]["spec"].clone();
    let spec_map = spec.as_object_mut().unwrap();
    spec_map.remove("connectClusterRef");
    spec_map.insert("kafkaConnect".into(), json!({"url": connect_url()}));
    spec_map.insert("pollInterval".into(), json!("5s"));
    env.apply("moved", spec).await;

    assert_adopted_without_change(&env, &connect, "moved", &connector, &before).await;
    // Orphan: deleting the resource leaves the connector running.
    env.api()
        .delete("moved", &Default::default())
        .await
        .unwrap();
    env.wait_gone("moved", POLL + MARGIN).await;
    assert!(connect.config(&connector).await.is_some(), "still there");
    connect.delete(&connector).await;
}

/// The resource `name` adopted `connector` and changed nothing on the worker: Healthy, then three
/// more intervals without a put, a restart or a deletion, the configuration still `before`.
async fn assert_adopted_without_change(
    env: &Env,
    connect: &Connect,
    name: &str,
    connector: &str,
    before: &Value,
) {
    let mc = env
        .wait_state(name, HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    // Three more intervals: time for any put or restart the adoption would make.
    tokio::time::sleep(POLL * 3).await;
    let mc = env.get(mc.metadata.name.as_deref().unwrap()).await;
    let status = mc.status.clone().unwrap();
    let config = status.config.clone().expect("status.config");
    assert!(!config.created, "adopted, not created: {config:?}");
    assert!(config.drifted_keys.is_empty(), "{config:?}");
    assert_eq!(
        status.owned_connector.as_ref().map(|o| o.name.as_str()),
        Some(connector),
        "adopted: the resource acts on it from now on"
    );
    let events = env.events(name).await;
    for reason in [
        "ConfigApplied",
        "Restarted",
        "RestartedAutomatically",
        "ConnectorDeleted",
    ] {
        assert!(
            events.iter().all(|(_, r, _)| r != reason),
            "{reason} during the adoption: {events:?}"
        );
    }
    assert_eq!(
        connect.config(connector).await.as_ref(),
        Some(before),
        "the worker's configuration is unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the control plane and Kafka Connect: hack/test"]
async fn a_connector_made_by_hand_is_imported_with_its_secret_kept_out_and_adopted() {
    let connect = Connect::new();
    let env = Env::new("import", &[]).await;
    let connector = unique("by-hand");
    let input = root().join(format!("target/kafka/{connector}.txt"));
    std::fs::write(&input, "one\n").unwrap();
    let password = format!("pw-{}", rand::random::<u64>());
    connect
        .put_config(
            &connector,
            json!({"connector.class": "FileStreamSource", "tasks.max": "1",
                   "file": input, "topic": connector, "example.password": password}),
        )
        .await;
    let before = connect.config(&connector).await.expect("created");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_managed-connector-operator"))
        .args([
            "import",
            "kafka-connect",
            "--url",
            &connect_url(),
            "--with-config",
        ])
        .args(["--prefix", &connector, "-n", &env.ns])
        .output()
        .unwrap();
    let (yaml, notes) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{notes}");
    assert!(
        !yaml.contains(&password) && !notes.contains(&password),
        "the password was printed"
    );
    let secret = format!("{connector}-config");
    assert!(
        notes.contains(&format!(
            "create Secret {secret} with keys example.password"
        )),
        "{notes}"
    );
    let imported: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    assert_eq!(imported.len(), 1, "{yaml}");
    let mut spec = imported[0]["spec"].clone();
    assert_eq!(spec["tasksMax"], 1);
    assert_eq!(
        spec["configFrom"][0]["secretKeyRef"]["name"],
        secret.as_str()
    );
    // What the note says to do, then the manifest (with a shorter interval for the test).
    env.secret(&secret, json!({"example.password": password}))
        .await;
    spec.as_object_mut()
        .unwrap()
        .insert("pollInterval".into(), json!("5s"));
    let name = imported[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    env.apply(&name, spec).await;
    assert_adopted_without_change(&env, &connect, &name, &connector, &before).await;
    assert!(!env.visible_text(&name).await.contains(&password));
    connect.delete(&connector).await;
}
