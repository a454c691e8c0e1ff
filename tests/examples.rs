//! Every manifest under `examples/` is accepted by a real API server with the CRDs installed (a
//! server-side dry run: the schema, the CEL rules and the defaults apply, nothing is stored), so
//! no example can rot. Needs the control plane (`hack/testenv up`); ignored by plain `cargo test`.

mod common;

use common::*;

#[test]
#[ignore = "needs a running kube-apiserver (hack/testenv up)"]
fn every_example_passes_a_server_side_dry_run() {
    install_crd();
    let namespace = format!("examples-{}", std::process::id());
    kubectl_ok(&["create", "namespace", &namespace]);
    let mut files: Vec<_> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the examples: {files:?}");
    for file in &files {
        let out = kubectl(&[
            "apply",
            "--dry-run=server",
            "--server-side",
            "-n",
            &namespace,
            "-f",
            file.to_str().expect("a UTF-8 path"),
        ]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{} refused: {said}", file.display());
        assert!(
            !said.contains("Warning"),
            "{} warned: {said}",
            file.display()
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("(server dry run)"),
            "{}: {stdout}",
            file.display()
        );
    }
    // The dry run can fail: a manifest the CEL rules refuse is refused here too.
    let bad = root().join("target/bad-example.yaml");
    std::fs::write(
        &bad,
        "apiVersion: connectors.dataplane.dev/v1alpha1\nkind: ManagedConnector\nmetadata: {name: bad}\nspec: {kafkaConnect: {url: \"ftp://x\"}}\n",
    )
    .expect("written");
    let out = kubectl(&[
        "apply",
        "--dry-run=server",
        "-n",
        &namespace,
        "-f",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "an ftp URL passed the dry run");
    kubectl_ok(&["delete", "namespace", &namespace, "--wait=false"]);
}

/// The Argo CD health check goes into `argocd-cm` as docs/gitops.md says: its first `sh` block,
/// run as written from the repository root, against an `argocd-cm` that already holds a key of
/// Argo CD's own, which must stay.
#[test]
#[ignore = "needs a running kube-apiserver (hack/testenv up)"]
fn the_documented_argo_cd_health_check_install_merges_into_argocd_cm() {
    let doc = std::fs::read_to_string(root().join("docs/gitops.md")).unwrap();
    let command = doc
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block in docs/gitops.md");
    assert!(command.contains("argocd-cm"), "{command}");
    // Argo CD's namespace under a name of its own: the one hack/argocdenv uses stays untouched
    // (and this control plane has no controller-manager to finish deleting a namespace).
    let namespace = format!("argocd-docs-{}", std::process::id());
    assert!(command.contains("-n argocd "), "{command}");
    let command = command.replace("-n argocd ", &format!("-n {namespace} "));
    // Its ConfigMap as an install leaves it.
    kubectl_ok(&["create", "namespace", &namespace]);
    kubectl_ok(&[
        "create",
        "configmap",
        "argocd-cm",
        "-n",
        &namespace,
        "--from-literal=timeout.reconciliation=180s",
    ]);
    for _ in 0..2 {
        // Twice: running it again (a new script version) changes nothing else.
        let out = std::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &command])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let cm: serde_json::Value = serde_json::from_str(&kubectl_ok(&[
        "get",
        "configmap",
        "argocd-cm",
        "-n",
        &namespace,
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(cm["data"]["timeout.reconciliation"], "180s", "{cm}");
    assert_eq!(
        cm["data"]["resource.customizations.health.connectors.dataplane.dev_ManagedConnector"],
        std::fs::read_to_string(
            root().join("argocd/connectors.dataplane.dev/ManagedConnector/health.lua")
        )
        .unwrap()
        .as_str(),
        "the script, byte for byte"
    );
    assert_eq!(
        cm["data"]["resource.customizations.actions.connectors.dataplane.dev_ManagedConnector"],
        std::fs::read_to_string(root().join("argocd/actions.yaml"))
            .unwrap()
            .as_str(),
        "the actions, byte for byte"
    );
    kubectl_ok(&["delete", "namespace", &namespace, "--wait=false"]);
}

/// What `convert strimzi` prints passes the same server-side dry run as the examples.
#[test]
#[ignore = "needs a running kube-apiserver (hack/testenv up)"]
fn converted_strimzi_connectors_pass_a_server_side_dry_run() {
    install_crd();
    let yaml = run(
        env!("CARGO_BIN_EXE_managed-connector-operator"),
        &[
            "convert",
            "strimzi",
            "tests/data/strimzi-kafkaconnectors.yaml",
            "-n",
            "default",
        ],
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &yaml).unwrap();
    let out = kubectl_ok(&[
        "apply",
        "--dry-run=server",
        "--server-side",
        "-f",
        file.path().to_str().unwrap(),
    ]);
    assert_eq!(out.matches("(server dry run)").count(), 3, "{out}");
}
