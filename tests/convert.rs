//! `managed-connector-operator convert strimzi`, the binary as users run it: KafkaConnectors in
//! (`tests/data/strimzi-kafkaconnectors.yaml`: a `kind: List` as kubectl prints it, and one more
//! document), ManagedConnectors out, what did not carry over on stderr, a clear refusal naming the
//! file and document. The output passing the real API server's checks is in tests/examples.rs.

use managed_connector_operator::crd::{DeletionPolicy, DesiredState, ManagedConnector};
use std::process::{Command, Output};

fn convert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_managed-connector-operator"))
        .arg("convert")
        .arg("strimzi")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

const INPUT: &str = "tests/data/strimzi-kafkaconnectors.yaml";

#[test]
fn strimzi_kafka_connectors_become_adopting_managed_connectors() {
    let out = convert(&[INPUT]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let resources: Vec<ManagedConnector> = serde_saphyr::from_multiple(&stdout).expect("YAML");
    let names: Vec<_> = resources
        .iter()
        .map(|r| r.metadata.name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["orders-source", "audit-sink", "billing-sink"]);
    for r in &resources {
        assert!(r.spec.adopt, "{names:?}");
        assert_eq!(r.spec.deletion_policy, Some(DeletionPolicy::Orphan));
        assert_eq!(r.metadata.namespace.as_deref(), Some("kafka"));
    }
    let clusters: Vec<_> = resources
        .iter()
        .map(|r| r.spec.connect_cluster_ref.clone().unwrap().name)
        .collect();
    assert_eq!(clusters, ["connect-a", "connect-a", "connect-b"]);
    let audit = &resources[1];
    assert_eq!(audit.spec.state, Some(DesiredState::Paused));
    let config = audit.spec.config.clone().unwrap();
    assert_eq!(
        config.get("connection.password").map(String::as_str),
        Some("${secrets:kafka/audit-db:password}")
    );
    assert_eq!(config.get("tasks.max"), None, "spec.tasksMax puts it");
    assert_eq!(audit.spec.tasks_max, Some(1));
    assert_eq!(
        audit
            .spec
            .offsets
            .as_ref()
            .and_then(|o| o.list_to_config_map.as_deref()),
        Some("audit-offsets")
    );
    assert_eq!(
        resources[0]
            .spec
            .restart_policy
            .as_ref()
            .and_then(|p| p.max_restarts),
        Some(5)
    );
    assert!(
        stderr.contains("note: audit-sink: offsets are asked for with the connectors.dataplane.dev/offsets annotation"),
        "{stderr}"
    );

    // Flags: one ConnectCluster and one namespace for all, from stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_managed-connector-operator"))
        .args([
            "convert",
            "strimzi",
            "-",
            "--connect-cluster",
            "shared",
            "-n",
            "data",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            &std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(INPUT)).unwrap(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let resources: Vec<ManagedConnector> =
        serde_saphyr::from_multiple(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(resources.len(), 3);
    assert!(resources.iter().all(|r| {
        r.spec.connect_cluster_ref.as_ref().unwrap().name == "shared"
            && r.metadata.namespace.as_deref() == Some("data")
    }));
}

#[test]
fn what_cannot_be_converted_is_refused_with_its_file_and_document() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaConnector\nmetadata: {name: a, labels: {strimzi.io/cluster: c}}\nspec: {class: x}\n---\napiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaConnector\nmetadata: {name: b, labels: {strimzi.io/cluster: c}}\nspec: {tasksMax: 1}\n",
    )
    .unwrap();
    let out = convert(&[file.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.yaml: document 2"), "{stderr}");
    assert!(
        stderr.contains("KafkaConnector b: spec.class is missing"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing printed when something is refused"
    );
    let missing = convert(&["no-such-file.yaml"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("opening no-such-file.yaml"));
}
