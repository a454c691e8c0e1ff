//! Offsets and topics on request against the real Kafka Connect worker (`hack/kafkaenv`): a
//! FileStream source's offsets are listed into a ConfigMap the resource owns, an alteration
//! waits while the connector runs and is carried out once it is stopped (from the edited
//! ConfigMap), a reset empties them, each once per annotation value; a ConfigMap the resource did
//! not create is left alone; a topics reset empties the worker's active topics.
//!
//! Marked `#[ignore]`; `hack/test` runs it with `KAFKA_CONNECT_URL` set.

mod common;

use common::*;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use managed_connector_operator::crd::{HolisticState, ManagedConnector};
use serde_json::{Value, json};
use std::time::Duration;

const OFFSETS: &str = "connectors.dataplane.dev/offsets";

/// The worker's offsets of `connector`, as it lists them.
async fn worker_offsets(connect: &Connect, connector: &str) -> Value {
    let (status, body) = connect
        .call(
            reqwest::Method::GET,
            &format!("/connectors/{connector}/offsets"),
            None,
        )
        .await;
    assert_eq!(status, 200, "offsets of {connector}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn position(offsets: &Value) -> Option<i64> {
    offsets["offsets"][0]["offset"]["position"].as_i64()
}

fn annotate(ns: &str, key: &str, value: &str) {
    kubectl_ok(&[
        "annotate",
        "--overwrite",
        "-n",
        ns,
        "managedconnector",
        "source",
        &format!("{key}={value}"),
    ]);
}

async fn wait_result(env: &Env, request: &str, result: &str) -> ManagedConnector {
    env.wait_for(
        "source",
        POLL * 3 + MARGIN,
        &format!("offsets request {request} {result}"),
        |mc| {
            mc.status
                .as_ref()
                .and_then(|s| s.offsets.as_ref())
                .is_some_and(|o| o.request == request && o.result == result)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the control plane and Kafka Connect: hack/test"]
async fn offsets_are_listed_altered_and_reset_on_request() {
    let connect = Connect::new();
    let env = Env::new("offsets", &[]).await;
    let ns = env.ns.clone();
    let connector = unique("offsets-source");
    let input = root().join(format!("target/kafka/{connector}.txt"));
    std::fs::write(&input, "one\ntwo\nthree\n").unwrap();
    let spec = |state: &str| {
        json!({
            "connectorName": connector,
            "pollInterval": "5s",
            "kafkaConnect": {"url": connect_url()},
            "config": {"connector.class": "FileStreamSource", "tasks.max": "1",
                       "file": input, "topic": format!("{connector}-out")},
            "state": state,
            "deletionPolicy": "Delete",
        })
    };
    env.apply("source", spec("Running")).await;
    env.wait_state("source", HolisticState::Healthy, POLL * 4 + MARGIN)
        .await;
    // The task has read the file and the worker committed where it is (flush every second).
    wait_until("offsets committed", Duration::from_secs(30), || async {
        position(&worker_offsets(&connect, &connector).await).is_some_and(|p| p > 0)
    })
    .await;
    let listed_at = worker_offsets(&connect, &connector).await;

    // 1. List while running: the worker's offsets in the resource's own ConfigMap.
    annotate(&ns, OFFSETS, "list");
    let mc = wait_result(&env, "list", "Succeeded").await;
    let o = mc.status.unwrap().offsets.unwrap();
    assert_eq!(o.partitions, Some(1));
    assert_eq!(o.config_map.as_deref(), Some("source-offsets"));
    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), &ns);
    let cm = cms.get("source-offsets").await.unwrap();
    let text = &cm.data.as_ref().unwrap()["offsets.json"];
    let in_cm: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        in_cm, listed_at,
        "the ConfigMap holds what the worker lists"
    );
    let owner = &cm.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("ManagedConnector", "source")
    );

    // 2. Alter while running: it waits, says what to do, and sends nothing.
    let mut edited = in_cm.clone();
    edited["offsets"][0]["offset"]["position"] = json!(0);
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "source-offsets"},
                      "data": {"offsets.json": edited.to_string()}});
    cms.patch(
        "source-offsets",
        &PatchParams::apply("e2e").force(),
        &Patch::Apply(&body),
    )
    .await
    .unwrap();
    annotate(&ns, OFFSETS, "alter");
    let mc = wait_result(&env, "alter", "WaitingForStop").await;
    // Said in the Synced condition too; the connector's health is not touched.
    let (synced, reason, said) = condition(&mc, "Synced").unwrap();
    assert_eq!(
        (synced.as_str(), reason.as_str()),
        ("False", "OffsetsWaitingForStop")
    );
    assert_eq!(condition(&mc, "Ready").unwrap().0, "True");
    assert_eq!(condition(&mc, "Stalled").unwrap().0, "False");
    let message = mc.status.unwrap().offsets.unwrap().message;
    assert!(message.contains("spec.state: Stopped"), "{message}");
    assert_eq!(said, message);
    env.assert_events("source", &["OffsetsWaitingForStop"])
        .await;
    assert!(
        position(&worker_offsets(&connect, &connector).await) > Some(0),
        "not altered while running"
    );

    // 3. Stopped as declared: the alteration runs, from the edited ConfigMap.
    env.apply("source", spec("Stopped")).await;
    let mc = wait_result(&env, "alter", "Succeeded").await;
    assert_eq!(mc.status.unwrap().offsets.unwrap().partitions, Some(1));
    assert_eq!(
        position(&worker_offsets(&connect, &connector).await),
        Some(0),
        "the worker holds the altered offset"
    );
    env.assert_events("source", &["OffsetsSucceeded"]).await;

    // 4. Reset: no offsets left. The same value again is not a second request.
    annotate(&ns, OFFSETS, "reset");
    wait_result(&env, "reset", "Succeeded").await;
    assert_eq!(
        worker_offsets(&connect, &connector).await["offsets"],
        json!([])
    );
    let metrics = env.metrics().await;
    for action in ["list_offsets", "alter_offsets", "reset_offsets"] {
        let line = format!(
            r#"managed_connector_actions_total{{action="{action}",trigger="requested",outcome="ok"}} 1"#
        );
        assert!(metrics.contains(&line), "{line} in:\n{metrics}");
    }

    // 5. A ConfigMap of the name the spec gives that the resource did not create: left alone.
    let foreign = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "foreign"},
                         "data": {"offsets.json": "kept"}});
    cms.patch(
        "foreign",
        &PatchParams::apply("e2e").force(),
        &Patch::Apply(&foreign),
    )
    .await
    .unwrap();
    let mut with_foreign = spec("Stopped");
    with_foreign["offsets"] = json!({"listToConfigMap": "foreign"});
    env.apply("source", with_foreign.clone()).await;
    annotate(&ns, OFFSETS, "list:2");
    let mc = wait_result(&env, "list:2", "Failed").await;
    let message = mc.status.unwrap().offsets.unwrap().message;
    assert!(
        message.contains("not created by this ManagedConnector"),
        "{message}"
    );
    let kept = cms.get("foreign").await.unwrap();
    assert_eq!(kept.data.unwrap()["offsets.json"], "kept");

    // 6. Topics reset: the worker's active topics are emptied, once.
    let topics = |c: String| {
        let connect = &connect;
        async move {
            let (_, body) = connect
                .call(
                    reqwest::Method::GET,
                    &format!("/connectors/{c}/topics"),
                    None,
                )
                .await;
            serde_json::from_str::<Value>(&body).unwrap()[&c]["topics"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0)
        }
    };
    assert_eq!(
        topics(connector.clone()).await,
        1,
        "the source used its topic"
    );
    annotate(&ns, "connectors.dataplane.dev/reset-topics", "1");
    env.wait_for("source", POLL * 3 + MARGIN, "topics reset", |mc| {
        mc.status
            .as_ref()
            .is_some_and(|s| s.handled_topics_reset.as_deref() == Some("1"))
    })
    .await;
    assert_eq!(topics(connector.clone()).await, 0, "reset on the worker");
    env.assert_events("source", &["TopicsResetRequested"]).await;

    env.api()
        .delete("source", &Default::default())
        .await
        .unwrap();
    env.wait_gone("source", Duration::from_secs(30)).await;
}
