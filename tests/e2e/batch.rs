//! Batch polling and shards.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_fleet_is_read_by_listing_its_clusters_and_groups_follow_the_resources() {
    // Pinned to batch mode whatever MCO_BATCH says: this is the test of listing.
    let env = Env::new("batch", &["--batch", "auto", "--list-page-size", "4"]).await;
    let names: Vec<String> = (1..=10).map(|i| format!("conn-{i:02}")).collect();
    for n in &names {
        env.sim
            .upsert("redpanda", connector(n, "RUNNING", &["RUNNING"]));
    }
    env.sim.upsert(
        "redpanda",
        connector("broken", "RUNNING", &["RUNNING", "FAILED"]),
    );
    for n in &names {
        env.watch_connector(n).await;
    }
    env.watch_connector("broken").await;
    for n in &names {
        env.wait_state(n, HolisticState::Healthy, POLL * 2 + MARGIN)
            .await;
    }
    env.wait_state("broken", HolisticState::Degraded, POLL * 2 + MARGIN)
        .await;
    let counts = env.sim.counts();
    let lists = counts.endpoint("list");
    assert!(lists >= 3, "11 connectors in pages of 4: {counts:?}");
    // A resource may be read on its own while its group forms (the first of a group, one
    // created after a listing began): a few, never one per connector per poll.
    let singles = counts.endpoint("status");
    assert!(singles <= 11, "{counts:?}");

    // Steady (from the first listing that found every resource in the cache): pages only.
    let deadline = Instant::now() + POLL * 2 + MARGIN;
    while env.sim.counts().endpoint("list") < lists + 3 {
        assert!(Instant::now() < deadline, "a listing within an interval");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = env.sim.counts();
    tokio::time::sleep(POLL * 3).await;
    let after = env.sim.counts();
    assert_eq!(
        after.endpoint("status"),
        before.endpoint("status"),
        "no connector read on its own while its cluster is listed: {after:?}"
    );
    let pages = after.endpoint("list") - before.endpoint("list");
    assert!(
        (3..=9).contains(&pages),
        "3 pages per 5 s interval over 15 s: {pages}"
    );

    // A change shows within an interval.
    let changed = Instant::now();
    env.sim
        .set_state("redpanda", "conn-03", "PAUSED", &["PAUSED"]);
    env.wait_state("conn-03", HolisticState::Paused, POLL + MARGIN)
        .await;
    eprintln!("  change → status in {:?}", changed.elapsed());

    // A failed page: every member keeps its last known state with Synced=False, nobody is gone.
    env.sim.set_list_faults(
        "redpanda",
        Faults {
            status: Some(503),
            ..Default::default()
        },
        &[2],
    );
    for n in ["conn-01", "conn-10", "broken"] {
        let mc = env
            .wait_condition(
                n,
                "Synced",
                "False",
                "DataPlaneUnavailable",
                POLL * 2 + MARGIN,
            )
            .await;
        assert_ne!(
            cond(&mc, "Ready").1,
            "ConnectorNotFound",
            "{n}: a failed listing says nothing about existence"
        );
    }
    assert_eq!(
        env.get("conn-03").await.status.unwrap().holistic_state,
        Some(HolisticState::Paused),
        "last known state kept"
    );
    env.sim.set_list_faults("redpanda", Faults::default(), &[]);
    env.wait_condition(
        "conn-01",
        "Synced",
        "True",
        "Synced",
        Duration::from_secs(20),
    )
    .await;

    // Edited to another cluster: it leaves the group and is read there.
    env.sim
        .upsert("other", connector("conn-05", "PAUSED", &["PAUSED"]));
    env.apply(
        "conn-05",
        json!({"pollInterval": "5s", "clusterName": "other",
               "dataplane": {"credentialsSecretRef": {"name": "creds"}}}),
    )
    .await;
    env.wait_state("conn-05", HolisticState::Paused, POLL * 2 + MARGIN)
        .await;
    // Deleted from the cluster: gone after the grace period's start (NotFound reason).
    env.sim.delete("redpanda", "conn-07");
    env.wait_for("conn-07", POLL * 3 + MARGIN, "connector not found", |mc| {
        mc.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.reason == "ConnectorNotFound")
        })
    })
    .await;
    let metrics = env.metrics().await;
    assert!(
        metrics.contains(
            r#"managed_connector_requests_total{source="dataplane",endpoint="list",outcome="ok"}"#
        ),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_shard_watches_only_the_resources_its_selector_matches() {
    // A selector the API server cannot parse is refused at start, with the reason.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_managed-connector-operator"))
        .args([
            "run",
            "--selector",
            "shard in ((",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("operator runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("an operator with a malformed --selector kept running");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("--selector") && stderr.contains("not a label selector"),
        "{stderr}"
    );

    let env = Env::new("shard", &["--selector", "shard=a"]).await;
    env.sim
        .upsert("redpanda", connector("mine", "RUNNING", &["RUNNING"]));
    env.sim
        .upsert("redpanda", connector("theirs", "RUNNING", &["RUNNING"]));
    env.watch_connector("mine").await;
    env.watch_connector("theirs").await;
    kubectl_ok(&["label", "mconn", "-n", &env.ns, "mine", "shard=a"]);
    kubectl_ok(&["label", "mconn", "-n", &env.ns, "theirs", "shard=b"]);
    env.wait_state("mine", HolisticState::Healthy, POLL * 2 + MARGIN)
        .await;
    env.wait_polls("mine", 2).await;
    assert!(
        !env.get("theirs").await.status.is_some_and(|s| s.reported()),
        "another shard's resource is never written"
    );
    if !batch_mode() {
        // (A listing of the cluster names every connector in it, this one too.)
        assert_eq!(env.polls("theirs"), 0, "nor probed");
    }
}
