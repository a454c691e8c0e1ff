//! `status.topics` from the real Kafka Connect worker (`hack/kafkaenv`): a FileStream source that
//! produced to its topic shows it, read every `--topics-refresh`, not per poll.
//!
//! Marked `#[ignore]`; `hack/test` runs it with `KAFKA_CONNECT_URL` set.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the control plane and Kafka Connect: hack/test"]
async fn a_real_source_shows_the_topic_it_writes_to() {
    let connect = Connect::new();
    let env = Env::new("topics", &["--topics-refresh", "10s"]).await;
    let connector = unique("topics-source");
    let input = root().join(format!("target/kafka/{connector}.txt"));
    std::fs::write(&input, "one\ntwo\nthree\n").unwrap();
    let topic = format!("{connector}-out");
    connect
        .put_config(
            &connector,
            json!({"connector.class": "FileStreamSource", "tasks.max": "1",
                   "file": input, "topic": topic}),
        )
        .await;
    env.apply(
        "source",
        json!({"connectorName": connector, "pollInterval": "5s", "kafkaConnect": {"url": connect_url()}}),
    )
    .await;
    let mc = env
        .wait_for(
            "source",
            Duration::from_secs(10) * 2 + POLL + MARGIN,
            "its topic in status",
            |mc| {
                mc.status
                    .as_ref()
                    .is_some_and(|s| s.topics == [topic.clone()])
            },
        )
        .await;
    assert!(mc.status.as_ref().unwrap().topics_read_time.is_some());
    // Polled every 5 s, read every 10 s: fewer topic reads than status reads.
    tokio::time::sleep(POLL * 2).await;
    let requests = env.metrics().await;
    let reads: f64 = requests
        .lines()
        .find(|l| l.starts_with(r#"managed_connector_requests_total{source="kafka_connect",endpoint="topics",outcome="ok"}"#))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("topics requests counted");
    let polls: f64 = requests
        .lines()
        .filter(|l| {
            l.starts_with(r#"managed_connector_requests_total{source="kafka_connect",endpoint="#)
                && !l.contains("topics")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(
        reads < polls,
        "topics read {reads} times against {polls} status reads"
    );
    connect.delete(&connector).await;
}
