//! Leader election: a frozen leader, a standby taking over.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_frozen_leader_writes_nothing_after_thawing_and_shutdown_has_a_deadline() {
    let lease_ns = match std::env::var("E2E_LEASE_NAMESPACE") {
        Ok(ns) => ns,
        Err(_) => {
            let ns = format!("e2e-fence-lease-{}", rand::random::<u32>() % 100_000);
            kubectl_ok(&["create", "namespace", &ns]);
            ns
        }
    };
    let lease_name = format!("e2e-fence-{}", rand::random::<u32>() % 100_000);
    let args = [
        "--leader-election",
        "--leader-election-namespace",
        &lease_ns,
        "--leader-election-lease-name",
        &lease_name,
        "--leader-election-lease-duration",
        "4s",
        "--request-timeout",
        "60s",
        "--shutdown-timeout",
        "2s",
    ];
    let mut env = Env::new("fence", &args).await;
    let second_port = free_port();
    let second_log = env.log.with_extension("second.log");
    let second = env.spawn_operator(second_port, &second_log);
    let first = env.operator.take().expect("first replica");
    env.serve_and_watch("orders", "RUNNING", &["RUNNING"]).await;
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
    env.wait_polls("orders", 1).await;
    let reconciles = |m: &str| metric_value(m, "managed_connector_reconciles_total");
    let first_leads = reconciles(&env.metrics().await) > 0.0;
    let (mut leader, leader_log, mut survivor) = if first_leads {
        (first, env.log.clone(), second)
    } else {
        (second, second_log, first)
    };

    // Freeze the leader past its Lease; the other replica takes over and reports a change.
    let pid = leader.id().to_string();
    Command::new("kill").args(["-STOP", &pid]).status().unwrap();
    env.sim
        .set_state("redpanda", "orders", "PAUSED", &["PAUSED"]);
    env.wait_state(
        "orders",
        HolisticState::Paused,
        Duration::from_secs(4) + POLL + MARGIN * 2,
    )
    .await;
    // Another change, then thaw: the old leader's overdue probe sees a state its cache lacks
    // and would write it; its term ended, so it must not.
    env.sim
        .set_state("redpanda", "orders", "RUNNING", &["RUNNING", "FAILED"]);
    let thawed_at = std::fs::metadata(&leader_log).unwrap().len() as usize;
    Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = leader.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the thawed leader did not step down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        !status.success(),
        "a replica that lost its Lease exits with an error"
    );
    let after = std::fs::read_to_string(&leader_log).unwrap()[thawed_at..].to_string();
    assert!(
        !after.contains("status written"),
        "the thawed leader wrote:\n{after}"
    );
    eprintln!(
        "  thawed leader: {}; exited with {status}",
        if after.contains("not the leader") {
            "a write refused by the fence"
        } else {
            "no write attempted"
        }
    );
    env.wait_state("orders", HolisticState::Degraded, POLL + MARGIN * 2)
        .await;

    // SIGTERM with a request hanging (60 s timeout): the survivor stops within its 2 s shutdown
    // deadline (plus the Lease release), cancelling the request, and releases the Lease.
    let hang = Faults {
        hang: true,
        ..Default::default()
    };
    env.sim.set_faults("redpanda", "orders", hang.clone());
    if batch_mode() {
        env.sim.set_list_faults("redpanda", hang, &[]);
    }
    let hanging = Instant::now() + POLL + MARGIN * 2;
    while env.sim.in_flight() == 0 {
        assert!(Instant::now() < hanging, "no request hanging");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stopped = Instant::now();
    Command::new("kill")
        .args(["-TERM", &survivor.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2 + 3) + MARGIN * 2;
    let status = loop {
        if let Some(status) = survivor.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "SIGTERM did not stop the operator within its deadline"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}");
    eprintln!("  stopped {:?} after SIGTERM", stopped.elapsed());
    let holder = kubectl_ok(&[
        "get",
        "lease",
        &lease_name,
        "-n",
        &lease_ns,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert_eq!(holder, "", "the Lease was released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn a_standby_takes_over_when_the_leader_dies() {
    // Under the chart's RBAC, Leases may only live in the release namespace.
    let lease_ns = match std::env::var("E2E_LEASE_NAMESPACE") {
        Ok(ns) => ns,
        Err(_) => {
            let ns = format!("e2e-leader-lease-{}", rand::random::<u32>() % 100_000);
            kubectl_ok(&["create", "namespace", &ns]);
            ns
        }
    };
    let lease_name = format!("e2e-leader-{}", rand::random::<u32>() % 100_000);
    let args = [
        "--leader-election",
        "--leader-election-namespace",
        &lease_ns,
        "--leader-election-lease-name",
        &lease_name,
        "--leader-election-lease-duration",
        "4s",
    ];
    let mut env = Env::new("leader", &args).await;
    let standby_port = free_port();
    let standby_log = env.log.with_extension("standby.log");
    let standby = env.spawn_operator(standby_port, &standby_log);
    let mut replicas = vec![env.operator.take().expect("first replica"), standby];

    env.serve_and_watch("orders", "RUNNING", &["RUNNING"]).await;
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
    env.wait_polls("orders", 1).await;
    // Exactly one replica reconciles.
    let (first, second) = (env.metrics().await, metrics_at(standby_port).await);
    let reconciles = |m: &str| metric_value(m, "managed_connector_reconciles_total");
    let first_leads = reconciles(&first) > 0.0;
    assert!(
        first_leads != (reconciles(&second) > 0.0),
        "one leader: {} vs {}",
        reconciles(&first),
        reconciles(&second)
    );
    let holder = kubectl_ok(&[
        "get",
        "lease",
        &lease_name,
        "-n",
        &lease_ns,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    eprintln!(
        "  leader: {} ({holder})",
        if first_leads { "first" } else { "second" }
    );

    // Kill the leader without a chance to release the Lease.
    let killed = Instant::now();
    let leader = &mut replicas[if first_leads { 0 } else { 1 }];
    leader.kill().unwrap();
    leader.wait().unwrap();
    env.sim
        .set_state("redpanda", "orders", "RUNNING", &["RUNNING", "FAILED"]);
    env.wait_state(
        "orders",
        HolisticState::Degraded,
        Duration::from_secs(4) + POLL + MARGIN * 2,
    )
    .await;
    eprintln!(
        "  the survivor reported Degraded {:?} after the leader died",
        killed.elapsed()
    );
    let new_holder = kubectl_ok(&[
        "get",
        "lease",
        &lease_name,
        "-n",
        &lease_ns,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert_ne!(holder, new_holder, "the Lease changed hands");
    let events = env.events("orders").await;
    let total = |reason: &str| {
        events
            .iter()
            .filter(|e| e.1 == reason)
            .map(|e| e.2)
            .sum::<i32>()
    };
    assert_eq!(
        (total("Healthy"), total("Degraded")),
        (1, 1),
        "no duplicate Event: {events:?}"
    );
    for mut replica in replicas {
        let _ = replica.kill();
        let _ = replica.wait();
    }
}
