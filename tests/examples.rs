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
