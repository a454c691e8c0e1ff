use super::*;
use crate::crd::{DeletionPolicy, DesiredState, ManagedConnector, RestartPolicyType};

fn connector(spec: Value) -> Value {
    json!({
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaConnector",
        "metadata": {
            "name": "orders-source",
            "namespace": "kafka",
            "labels": {"strimzi.io/cluster": "connect-a", "team": "orders"},
            "annotations": {"strimzi.io/restart": "true", "owner": "orders-team"},
        },
        "spec": spec,
    })
}

fn typed(c: &Converted) -> ManagedConnector {
    serde_json::from_value(c.manifest.clone()).expect("a valid ManagedConnector")
}

#[test]
fn a_kafka_connector_becomes_an_adopting_managed_connector_that_puts_what_strimzi_put() {
    let c = convert(
        &connector(json!({
            "class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "tasksMax": 2,
            "config": {"file": "/opt/kafka/LICENSE", "topic": "orders", "batch.size": 100,
                       "errors.log.enable": true, "password": "${secrets:kafka/db:password}"},
            "autoRestart": {"enabled": true, "maxRestarts": 10},
        })),
        &Target::default(),
    )
    .unwrap();
    assert!(c.notes.is_empty(), "{:?}", c.notes);
    let mc = typed(&c);
    assert_eq!(mc.metadata.name.as_deref(), Some("orders-source"));
    assert_eq!(mc.metadata.namespace.as_deref(), Some("kafka"));
    let labels = mc.metadata.labels.clone().unwrap();
    assert_eq!(labels.get("team").map(String::as_str), Some("orders"));
    assert!(!labels.contains_key("strimzi.io/cluster"), "{labels:?}");
    let annotations = mc.metadata.annotations.clone().unwrap();
    assert_eq!(annotations.len(), 1, "{annotations:?}");
    let spec = &mc.spec;
    assert_eq!(spec.connector_name.as_deref(), Some("orders-source"));
    assert_eq!(spec.connect_cluster_ref.as_ref().unwrap().name, "connect-a");
    assert!(spec.adopt);
    assert_eq!(spec.deletion_policy, Some(DeletionPolicy::Orphan));
    assert_eq!(spec.state, None, "running is the default");
    let config = spec.config.clone().unwrap();
    let get = |k: &str| config.get(k).map(String::as_str);
    assert_eq!(
        get("connector.class"),
        Some("org.apache.kafka.connect.file.FileStreamSourceConnector")
    );
    assert_eq!(get("tasks.max"), None, "spec.tasksMax puts it");
    assert_eq!(spec.tasks_max, Some(2));
    assert_eq!(get("batch.size"), Some("100"));
    assert_eq!(get("errors.log.enable"), Some("true"));
    assert_eq!(
        get("password"),
        Some("${secrets:kafka/db:password}"),
        "a config-provider placeholder stays: the worker resolves it, as it did under Strimzi"
    );
    assert_eq!(config.len(), 6);
    let policy = spec.restart_policy.clone().unwrap();
    assert_eq!(policy.type_, RestartPolicyType::OnFailure);
    assert_eq!(policy.max_restarts, Some(10));
    assert!(policy.backoff.is_none(), "Strimzi's curve is the default");
}

#[test]
fn states_and_the_deprecated_pause() {
    let table = [
        (json!({"state": "running"}), None),
        (json!({"state": "paused"}), Some(DesiredState::Paused)),
        (json!({"state": "stopped"}), Some(DesiredState::Stopped)),
        (json!({"pause": true}), Some(DesiredState::Paused)),
        (json!({"pause": false}), None),
        (
            json!({"state": "stopped", "pause": true}),
            Some(DesiredState::Stopped),
        ),
    ];
    for (extra, want) in table {
        let mut spec = json!({"class": "com.example.Sink"});
        spec.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let c = convert(&connector(spec), &Target::default()).unwrap();
        assert_eq!(typed(&c).spec.state, want, "{extra}");
    }
}

#[test]
fn flags_override_the_cluster_label_and_the_namespace() {
    let target = Target {
        connect_cluster: Some("shared-connect".into()),
        namespace: Some("data".into()),
    };
    let c = convert(&connector(json!({"class": "com.example.Sink"})), &target).unwrap();
    let mc = typed(&c);
    assert_eq!(mc.spec.connect_cluster_ref.unwrap().name, "shared-connect");
    assert_eq!(mc.metadata.namespace.as_deref(), Some("data"));
    assert_eq!(mc.spec.restart_policy, None, "no autoRestart: none");
    let config = mc.spec.config.unwrap();
    assert_eq!(config.len(), 1, "no tasks.max unless Strimzi's spec had it");
}

#[test]
fn what_does_not_carry_over_is_said() {
    let c = convert(
        &connector(json!({
            "class": "com.example.Sink",
            "config": {"connector.class": "other", "tasks.max": 9, "topics": "a"},
            "listOffsets": {"toConfigMap": {"name": "offsets"}},
            "somethingNew": 1,
        })),
        &Target::default(),
    )
    .unwrap();
    let notes = c.notes.join("\n");
    for part in [
        "spec.config.connector.class left out",
        "spec.config.tasks.max left out",
        "offsets are asked for with the connectors.dataplane.dev/offsets annotation",
        "spec.somethingNew is not known",
    ] {
        assert!(notes.contains(part), "{part}: {notes}");
    }
    let offsets = typed(&c).spec.offsets.unwrap();
    assert_eq!(offsets.list_to_config_map.as_deref(), Some("offsets"));
    assert_eq!(offsets.alter_from_config_map, None);
    let config = typed(&c).spec.config.unwrap();
    assert_eq!(
        config.get("connector.class").map(String::as_str),
        Some("com.example.Sink")
    );
    assert!(!config.contains_key("tasks.max"));
}

#[test]
fn refusals_say_which_field() {
    let no_label = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaConnector",
        "metadata": {"name": "x"}, "spec": {"class": "c"}});
    let table = [
        (
            json!({"apiVersion": "v1", "kind": "ConfigMap"}),
            "not a Strimzi KafkaConnector",
        ),
        (
            json!({"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaConnect"}),
            "kind \"KafkaConnect\"",
        ),
        (
            json!({"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaConnector", "metadata": {}}),
            "metadata.name is missing",
        ),
        (connector(json!({"tasksMax": 1})), "spec.class is missing"),
        (
            connector(json!({"class": "c", "tasksMax": "two"})),
            "spec.tasksMax is not a whole number",
        ),
        (
            connector(json!({"class": "c", "tasksMax": 0})),
            "spec.tasksMax is not a whole number from 1 to 10000",
        ),
        (
            connector(json!({"class": "c", "config": {"nested": {"a": 1}}})),
            "spec.config.nested is not a string",
        ),
        (
            connector(json!({"class": "c", "state": "gone"})),
            "spec.state is \"gone\"",
        ),
        (no_label, "--connect-cluster"),
    ];
    for (doc, want) in table {
        let err = convert(&doc, &Target::default()).unwrap_err().to_string();
        assert!(err.contains(want), "{want}: {err}");
    }
}
