//! The status command against what the operator wrote.

use super::*;

/// `managed-connector-operator status` (and `kubectl mconn`) over resources the real operator
/// wrote, compared with golden files (`tests/golden/`, ages and the namespace masked; set
/// UPDATE_GOLDEN=1 to rewrite them). It reads with the user's kubeconfig: a user who may read the
/// resources but not their Events still sees everything else.
#[tokio::test]
#[ignore]
async fn the_status_command_shows_what_the_operator_wrote() {
    let env = Env::new("status-view", &[]).await;
    env.serve_and_watch("orders", "RUNNING", &["RUNNING", "FAILED"])
        .await;
    env.serve_and_watch("payments", "RUNNING", &["RUNNING", "RUNNING"])
        .await;
    env.serve_and_watch("audit", "FAILED", &[]).await;
    env.serve_and_watch("archive", "PAUSED", &["PAUSED"]).await;
    let within = Duration::from_secs(30);
    env.wait_state("orders", HolisticState::Degraded, within)
        .await;
    env.wait_state("payments", HolisticState::Healthy, within)
        .await;
    env.wait_state("audit", HolisticState::Unhealthy, within)
        .await;
    env.wait_state("archive", HolisticState::Paused, within)
        .await;

    let test_kubeconfig = std::env::var("KUBECONFIG").expect("KUBECONFIG of the test cluster");
    let status = |args: &[&str], kubeconfig: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_managed-connector-operator"))
            .arg("status")
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, fleet, err) = status(&["-n", &env.ns], &test_kubeconfig);
    assert!(ok, "{err}");
    assert!(!fleet.contains('\u{1b}'), "no colour when piped: {fleet}");
    golden("status-fleet.txt", &mask(&fleet, &env.ns));

    let (ok, one, err) = status(&["-n", &env.ns, "orders"], &test_kubeconfig);
    assert!(ok, "{err}");
    golden("status-orders.txt", &mask(&one, &env.ns));

    // As kubectl does: -o json and yaml give the objects, -o wide more columns, -l filters.
    let (ok, json, err) = status(&["-n", &env.ns, "-o", "json"], &test_kubeconfig);
    assert!(ok, "{err}");
    let list: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(list["kind"], "List");
    let mut names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["archive", "audit", "orders", "payments"]);
    let (ok, yaml, err) = status(&["-n", &env.ns, "orders", "-o", "yaml"], &test_kubeconfig);
    assert!(ok, "{err}");
    let orders: serde_json::Value = serde_saphyr::from_str(&yaml).expect("YAML");
    assert_eq!(orders["status"]["holisticState"], "Degraded");
    let (ok, wide, err) = status(&["-n", &env.ns, "-o", "wide"], &test_kubeconfig);
    assert!(ok, "{err}");
    assert!(wide.lines().next().unwrap().contains("SOURCE"), "{wide}");
    assert!(wide.contains("DataPlane"), "{wide}");
    let (ok, none, err) = status(&["-n", &env.ns, "-l", "no-such=label"], &test_kubeconfig);
    assert!(ok, "{err}");
    assert!(
        none.is_empty() && err.contains("matching no-such=label"),
        "{none}{err}"
    );

    // -w: the table first, then a row (no header) each time a connector changes.
    let mut watching = Command::new(env!("CARGO_BIN_EXE_managed-connector-operator"))
        .args(["status", "-n", &env.ns, "-w"])
        .env("KUBECONFIG", &test_kubeconfig)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read on a thread of its own, received without blocking the runtime the simulator runs on.
    let (lines, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
    let stdout = watching.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut next_line = async |what: &str| {
        tokio::time::timeout(Duration::from_secs(30), received.recv())
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("status -w printed {what}"))
    };
    let mut first = Vec::new();
    for _ in 0..5 {
        first.push(next_line("the table").await);
    }
    assert!(first[0].starts_with("NAME"), "{first:?}");
    env.sim
        .set_state("redpanda", "payments", "PAUSED", &["PAUSED", "PAUSED"]);
    let row = loop {
        let line = next_line("a row for the change").await;
        assert!(!line.starts_with("NAME"), "no header again: {line}");
        // Other writes (a heartbeat, another connector) may come first; the change comes.
        if line.starts_with("payments") && line.contains("Paused") {
            break line;
        }
    };
    assert!(row.split_whitespace().count() >= 5, "a full row: {row}");
    watching.kill().unwrap();
    watching.wait().unwrap();
    env.sim
        .set_state("redpanda", "payments", "RUNNING", &["RUNNING", "RUNNING"]);
    env.wait_state("payments", HolisticState::Healthy, within)
        .await;

    let (ok, coloured, err) = status(&["-n", &env.ns, "--color", "always"], &test_kubeconfig);
    assert!(ok, "{err}");
    assert!(
        coloured.contains("\u{1b}[31m"),
        "red for trouble: {coloured:?}"
    );

    // As the kubectl plugin: the binary on the PATH as kubectl-mconn, run by kubectl.
    let plugins = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_managed-connector-operator"),
        plugins.path().join("kubectl-mconn"),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        plugins.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("kubectl")
        .args(["mconn", "-n", &env.ns])
        .env("PATH", &path)
        .env("KUBECONFIG", &test_kubeconfig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl mconn: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        mask(&String::from_utf8_lossy(&out.stdout), &env.ns),
        mask(&fleet, &env.ns)
    );

    // A user who may read ManagedConnectors in this namespace, and nothing else.
    kubectl_ok(&["create", "serviceaccount", "viewer", "-n", &env.ns]);
    kubectl_ok(&[
        "create",
        "role",
        "connector-viewer",
        "-n",
        &env.ns,
        "--verb=get,list",
        "--resource=managedconnectors.connectors.dataplane.dev",
    ]);
    kubectl_ok(&[
        "create",
        "rolebinding",
        "connector-viewer",
        "-n",
        &env.ns,
        "--role=connector-viewer",
        &format!("--serviceaccount={}:viewer", env.ns),
    ]);
    let viewer = service_account_kubeconfig(&env.ns, "viewer", &format!("{}-viewer", env.ns));
    let viewer = viewer.to_str().unwrap();
    let (ok, limited, err) = status(&["-n", &env.ns, "orders"], viewer);
    assert!(ok, "{err}");
    assert!(
        limited.contains("(its Events could not be read:") && limited.contains("forbidden"),
        "{limited}"
    );
    assert!(
        limited.contains("  1   FAILED"),
        "the rest is shown: {limited}"
    );
    let (ok, _, err) = status(&["-A"], viewer);
    assert!(!ok, "listing every namespace is not the viewer's to do");
    assert!(
        err.contains("listing managedconnectors in all namespaces") && err.contains("forbidden"),
        "{err}"
    );
    let (ok, _, err) = status(&["-n", &env.ns, "nonesuch"], &test_kubeconfig);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "no managedconnector nonesuch in namespace {}",
            env.ns
        )),
        "{err}"
    );
}

/// Ages (`12s`, `3m`, ...) become `<age>`, the test's namespace `<ns>`, and runs of spaces two
/// spaces, since masking changes column widths (alignment is unit-tested in src/report).
fn mask(text: &str, namespace: &str) -> String {
    text.replace(namespace, "<ns>")
        .lines()
        .map(|line| {
            let indent = line.len() - line.trim_start().len();
            let words: Vec<String> = line
                .split_whitespace()
                .map(|w| {
                    let digits = w.trim_end_matches(['s', 'm', 'h', 'd']);
                    let is_age = !digits.is_empty()
                        && digits.len() + 1 == w.len()
                        && digits.chars().all(|c| c.is_ascii_digit());
                    if is_age {
                        "<age>".to_string()
                    } else {
                        w.to_string()
                    }
                })
                .collect();
            let gaps: Vec<&str> = line
                .trim()
                .split(|c: char| !c.is_whitespace())
                .filter(|g| !g.is_empty())
                .map(|g| if g.len() > 1 { "  " } else { " " })
                .collect();
            let mut out = " ".repeat(indent);
            for (i, w) in words.iter().enumerate() {
                out.push_str(w);
                if let Some(gap) = gaps.get(i) {
                    out.push_str(gap);
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Compares `actual` with `tests/golden/<file>`, or writes it there with UPDATE_GOLDEN=1.
fn golden(file: &str, actual: &str) {
    let path = root().join("tests/golden").join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs from what the status command printed (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

/// `import dataplane` reads every connector of a cluster through the Data Plane listing (with a
/// token from client credentials, as the operator gets one), and its status-only manifests are
/// resources the operator reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local control plane: hack/test"]
async fn import_dataplane_prints_resources_that_read_every_connector() {
    let env = Env::new("import-dp", &[]).await;
    for name in ["orders", "Payments_Source"] {
        env.sim
            .upsert("redpanda", connector(name, "RUNNING", &["RUNNING"]));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_managed-connector-operator"))
        .args([
            "import",
            "dataplane",
            "--url",
            &env.sim_url,
            "--cluster",
            "redpanda",
        ])
        .args(["--token-url", &format!("{}/oauth/token", env.sim_url)])
        .env("MCO_CLIENT_ID", "e2e")
        .env("MCO_CLIENT_SECRET", "e2e-secret")
        .output()
        .unwrap();
    let (yaml, notes) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{notes}");
    assert!(!yaml.contains("e2e-secret") && !notes.contains("e2e-secret"));
    let imported: Vec<serde_json::Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    let names: Vec<&str> = imported
        .iter()
        .map(|m| m["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["payments-source", "orders"],
        "in connector-name order: {yaml}"
    );
    assert_eq!(imported[0]["spec"]["connectorName"], "Payments_Source");
    assert_eq!(imported[0]["spec"]["clusterName"], "redpanda");
    assert!(imported[0]["spec"].get("config").is_none(), "status-only");
    for m in &imported {
        let mut spec = m["spec"].clone();
        spec["dataplane"]["credentialsSecretRef"] = serde_json::json!({"name": "creds"});
        spec["pollInterval"] = serde_json::json!("5s");
        env.apply(m["metadata"]["name"].as_str().unwrap(), spec)
            .await;
    }
    env.wait_state("payments-source", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
    env.wait_state("orders", HolisticState::Healthy, POLL * 3 + MARGIN)
        .await;
}
