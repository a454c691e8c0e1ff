use super::*;

fn options(with_config: bool) -> Options {
    Options {
        reads: Reads::KafkaConnect("http://connect.kafka.svc:8083".into()),
        namespace: Some("data".into()),
        with_config,
    }
}

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn status_only_by_default() {
    let live = config(&[
        ("connector.class", "x"),
        ("connection.password", "hunter22"),
    ]);
    let got = import("orders", 0, Some(&live), &options(false));
    assert_eq!(
        got.manifest,
        json!({
            "apiVersion": "connectors.dataplane.dev/v1alpha1",
            "kind": "ManagedConnector",
            "metadata": {"name": "orders", "namespace": "data"},
            "spec": {"connectorName": "orders", "kafkaConnect": {"url": "http://connect.kafka.svc:8083"}},
        })
    );
    assert!(got.notes.is_empty());
}

#[test]
fn with_config_adopts_what_runs_and_never_prints_a_secret() {
    let live = config(&[
        ("name", "Orders_Sink"),
        ("connector.class", "io.example.JdbcSink"),
        ("tasks.max", "3"),
        ("topics", "orders"),
        ("connection.password", "hunter22"),
        (
            "sasl.jaas.config",
            "org.apache.kafka... password=\"s3cret\";",
        ),
        ("db.user", "writer"),
        ("api.key", "${secrets:data/db:key}"),
    ]);
    let got = import("Orders_Sink", 0, Some(&live), &options(true));
    let text = got.manifest.to_string() + &got.notes.join("\n");
    assert!(
        !text.contains("hunter22") && !text.contains("s3cret"),
        "{text}"
    );
    let spec = &got.manifest["spec"];
    assert_eq!(got.manifest["metadata"]["name"], "orders-sink");
    assert_eq!(spec["connectorName"], "Orders_Sink");
    assert_eq!(spec["tasksMax"], 3);
    assert_eq!(spec["adopt"], true);
    assert_eq!(spec["deletionPolicy"], "Orphan");
    assert_eq!(
        spec["config"],
        json!({"connector.class": "io.example.JdbcSink", "topics": "orders", "db.user": "writer",
               "api.key": "${secrets:data/db:key}"}),
        "name and tasks.max left out; a config-provider placeholder kept"
    );
    assert_eq!(
        spec["configFrom"],
        json!([
            {"key": "connection.password", "secretKeyRef": {"name": "orders-sink-config", "key": "connection.password"}},
            {"key": "sasl.jaas.config", "secretKeyRef": {"name": "orders-sink-config", "key": "sasl.jaas.config"}},
        ])
    );
    assert_eq!(got.notes.len(), 1);
    assert!(
        got.notes[0].starts_with("Orders_Sink: create Secret orders-sink-config with keys connection.password, sasl.jaas.config"),
        "{}",
        got.notes[0]
    );
}

#[test]
fn odd_values_and_names() {
    let live = config(&[("tasks.max", "lots"), ("client.secret", "[hidden]")]);
    let got = import("x", 0, Some(&live), &options(true));
    assert_eq!(
        got.manifest["spec"]["config"]["tasks.max"], "lots",
        "not a number: kept as written"
    );
    assert!(
        got.notes.iter().any(|n| n.contains("masked")),
        "{:?}",
        got.notes
    );
    let got = import("x", 0, None, &options(true));
    assert!(got.notes[0].contains("imported status-only"));
    assert!(got.manifest["spec"].get("config").is_none());
    for (connector, resource) in [
        ("orders", "orders"),
        ("Orders Sink!", "orders-sink"),
        ("__", "connector-7"),
        ("a.b_c", "a.b-c"),
    ] {
        assert_eq!(resource_name(connector, 7), resource, "{connector}");
    }
    assert_eq!(resource_name(&"x".repeat(300), 0).len(), 253);
    let dp = Options {
        reads: Reads::DataPlane {
            url: "https://api.example".into(),
            cluster: "redpanda".into(),
        },
        namespace: None,
        with_config: false,
    };
    let got = import("x", 0, None, &dp);
    assert_eq!(got.manifest["spec"]["clusterName"], "redpanda");
    assert!(got.manifest["metadata"].get("namespace").is_none());
    for (key, value, secret) in [
        ("connection.password", "x", true),
        ("ssl.keystore.password", "x", true),
        ("topics", "[hidden]", true),
        ("aws.secret.access.key", "x", true),
        ("topics", "orders", false),
        ("key.converter", "x", false),
        ("connection.password", "${file:/s:p}", false),
    ] {
        assert_eq!(is_secret(key, value), secret, "{key}={value}");
    }
}
