//! A stuck connector that looks fine, against the real Kafka Connect worker (`hack/kafkaenv`):
//! a MirrorMaker 2 source whose topics do not exist runs with no tasks. Right after creation
//! that is on the way (Reconciling, `WaitingForTasks`); past `--stall-after` it is Ready=False
//! and Stalled=True (`NoTasks`), with one Warning Event and the Ready reason in the metrics the
//! `ManagedConnectorStalled` alert reads; once there is something to mirror it runs its task and
//! is Healthy again.
//!
//! Marked `#[ignore]`; `hack/test` runs it with `KAFKA_CONNECT_URL` set.

mod common;

use common::*;
use managed_connector_operator::crd::HolisticState;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the control plane and Kafka Connect: hack/test"]
async fn a_source_running_with_no_tasks_is_reported_stalled_after_the_threshold() {
    let connect = Connect::new();
    let env = Env::new("stall", &["--stall-after", "15s"]).await;
    let connector = unique("mirror");
    let bootstrap = std::env::var("KAFKA_BOOTSTRAP_SERVERS").expect("hack/kafkaenv env");
    let prefix = format!("{connector}-in");
    env.apply(
        "mirror",
        json!({
            "connectorName": connector,
            "pollInterval": "5s",
            "kafkaConnect": {"url": connect_url()},
            "config": {
                "connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector",
                "source.cluster.alias": "upstream",
                "source.cluster.bootstrap.servers": bootstrap,
                "target.cluster.bootstrap.servers": bootstrap,
                "topics": format!("{prefix}.*"),
                "refresh.topics.interval.seconds": "5",
                "sync.topic.acls.enabled": "false",
                "sync.topic.configs.enabled": "false",
                "emit.offset-syncs.enabled": "false",
            },
            "deletionPolicy": "Delete",
        }),
    )
    .await;
    // Running, no tasks: on the way first (a new connector gets its tasks).
    let mc = env
        .wait_condition(
            "mirror",
            "Reconciling",
            "True",
            "WaitingForTasks",
            POLL * 3 + MARGIN,
        )
        .await;
    assert_eq!(cond(&mc, "Stalled").0, "False");
    let stall = mc
        .status
        .as_ref()
        .unwrap()
        .stall
        .clone()
        .expect("status.stall");
    assert_eq!(stall.kind, "NoTasks");

    // Past the threshold: stalled, with its own reason.
    let mc = env
        .wait_condition(
            "mirror",
            "Stalled",
            "True",
            "NoTasks",
            Duration::from_secs(15) + POLL * 2 + MARGIN,
        )
        .await;
    assert_eq!(cond(&mc, "Ready"), ("False".into(), "NoTasks".into()));
    assert_eq!(cond(&mc, "Reconciling").0, "False");
    let (_, _, message) = condition(&mc, "Ready").unwrap();
    assert!(
        message.contains("has been running with no tasks for"),
        "{message}"
    );
    assert_eq!(
        mc.status.as_ref().unwrap().stall.as_ref().unwrap().since,
        stall.since,
        "the clock kept running"
    );
    env.assert_events("mirror", &["NoTasks"]).await;
    let metrics = env.metrics().await;
    let series = format!(
        r#"managed_connector_ready_reason{{namespace="{}",name="mirror",reason="NoTasks"}} 1"#,
        env.ns
    );
    assert!(metrics.contains(&series), "{series} not in the metrics");

    // Something to mirror: the connector finds the topic, runs a task, and is healthy.
    let topic = format!("{prefix}-orders");
    let created = std::process::Command::new("java")
        .args(["-cp", &format!("{}/.tools/kafka/libs/*", root().display())])
        .args([
            "org.apache.kafka.tools.TopicCommand",
            "--bootstrap-server",
            &bootstrap,
            "--create",
            "--topic",
            &topic,
            "--partitions",
            "1",
        ])
        .output()
        .expect("java runs");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let mc = env
        .wait_state(
            "mirror",
            HolisticState::Healthy,
            Duration::from_secs(30) + POLL * 2,
        )
        .await;
    assert_eq!(mc.status.as_ref().unwrap().stall, None);
    assert_eq!(cond(&mc, "Stalled").0, "False");
    assert!(connect.config(&connector).await.is_some());
    env.api()
        .delete("mirror", &Default::default())
        .await
        .unwrap();
    env.wait_gone("mirror", POLL * 2 + MARGIN).await;
}
