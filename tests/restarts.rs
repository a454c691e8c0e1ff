//! The fault-matrix rows that take the control plane itself down: the kube-apiserver and etcd
//! restarted under a running operator (`hack/testenv restart`). `hack/test` runs this after the
//! other end-to-end tests, which share the control plane.

mod common;

use common::*;
use managed_connector_operator::crd::HolisticState;
use std::time::{Duration, Instant};

fn restart(component: &str) -> Duration {
    let started = Instant::now();
    let out = std::process::Command::new(root().join("hack/testenv"))
        .args(["restart", component])
        .output()
        .expect("hack/testenv runs");
    assert!(
        out.status.success(),
        "restart {component}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the local control plane: hack/test, after the other end-to-end tests"]
async fn the_operator_rides_out_an_api_server_and_an_etcd_restart() {
    let mut env = Env::new("restarts", &[]).await;
    env.serve_and_watch("orders", "RUNNING", &["RUNNING"]).await;
    env.wait_state("orders", HolisticState::Healthy, POLL + MARGIN)
        .await;
    for (component, state, tasks, holistic) in [
        (
            "kube-apiserver",
            "PAUSED",
            &["PAUSED"][..],
            HolisticState::Paused,
        ),
        ("etcd", "RUNNING", &["RUNNING"][..], HolisticState::Healthy),
    ] {
        let polls = env.polls("orders");
        // The change happens while the control plane is away.
        env.sim.set_state("redpanda", "orders", state, tasks);
        let down = tokio::task::spawn_blocking(move || restart(component))
            .await
            .unwrap();
        assert!(
            env.operator.as_mut().unwrap().try_wait().unwrap().is_none(),
            "the operator survived the {component} restart"
        );
        // After a failed write the retry writes what was found, it does not probe again: the
        // outage costs the Data Plane no more than the normal polls.
        let asked = env.polls("orders") - polls;
        let normal = (down.as_secs_f64() / POLL.as_secs_f64()).ceil() as u64 + 2;
        assert!(
            asked <= normal,
            "{asked} probes during a {down:?} {component} restart (at most {normal})"
        );
        // Kubernetes API failures back off 5 s, 10 s, 20 s...: the change shows once it is back.
        env.wait_state("orders", holistic, Duration::from_secs(45))
            .await;
        eprintln!(
            "  {component} away for {down:?}: {asked} probes meanwhile; {holistic} written after"
        );
    }
    env.stop_operator();
}
