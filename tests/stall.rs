//! A stuck connector that looks fine, against the real Kafka Connect worker (`hack/kafkaenv`):
//! a MirrorMaker 2 source whose topics do not exist runs with no tasks. Right after creation
//! that is on the way (Reconciling, `WaitingForTasks`); past `--stall-after` it is Ready=False
//! and Stalled=True (`NoTasks`), with one Warning Event and the Ready reason in the metrics the
//! `ManagedConnectorStalled` alert reads; once there is something to mirror it runs its task and
//! is Healthy again. A FileStream source that has read its whole file runs with offsets that no
//! longer move: with `spec.offsets.stallAfter` that is `OffsetsNotMoving`, until the file grows.
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
    env.capture("mirror", "waiting-for-tasks");
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
    env.capture("mirror", "no-tasks");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the control plane and Kafka Connect: hack/test"]
async fn a_source_whose_offsets_do_not_move_is_stalled_when_asked_to_watch_them() {
    let connect = Connect::new();
    let env = Env::new("offsets-stall", &[]).await;
    let connector = unique("idle-source");
    let input = root().join(format!("target/kafka/{connector}.txt"));
    std::fs::write(&input, "one\ntwo\n").unwrap();
    connect
        .put_config(
            &connector,
            json!({"connector.class": "FileStreamSource", "tasks.max": "1",
                   "file": input, "topic": format!("{connector}-out")}),
        )
        .await;
    env.apply(
        "idle",
        json!({
            "connectorName": connector,
            "pollInterval": "5s",
            "kafkaConnect": {"url": connect_url()},
            "offsets": {"stallAfter": "1m"},
        }),
    )
    .await;
    let mc = env
        .wait_state("idle", HolisticState::Healthy, POLL * 4 + MARGIN)
        .await;
    assert!(
        mc.status.as_ref().unwrap().offsets_progress.is_some(),
        "a watched source's offsets are read"
    );
    // Everything read: the offsets stay where they are while the connector runs.
    let mc = env
        .wait_condition(
            "idle",
            "Stalled",
            "True",
            "OffsetsNotMoving",
            Duration::from_secs(60) + POLL * 4 + MARGIN,
        )
        .await;
    env.capture("idle", "offsets-not-moving");
    assert_eq!(
        mc.status.as_ref().unwrap().holistic_state,
        Some(HolisticState::Healthy),
        "the worker calls it healthy; the operator does not"
    );
    let (ready, reason, message) = condition(&mc, "Ready").unwrap();
    assert_eq!(
        (ready.as_str(), reason.as_str()),
        ("False", "OffsetsNotMoving")
    );
    assert!(
        message.contains("without its offsets changing"),
        "{message}"
    );
    env.assert_events("idle", &["OffsetsNotMoving"]).await;
    // New data: the task reads it, its offsets move, it is Ready again.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&input)
        .unwrap();
    std::io::Write::write_all(&mut file, b"three\n").unwrap();
    env.wait_condition("idle", "Ready", "True", "Healthy", POLL * 4 + MARGIN)
        .await;
    connect.delete(&connector).await;
}
