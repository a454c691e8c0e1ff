//! kubectl, helm and paths.

use std::path::PathBuf;
use std::process::Command;

/// Whether the operators of this run list every cluster (`MCO_BATCH=always`, set by `hack/test`
/// for one of its two end-to-end passes; the operator reads it from its environment).
pub fn batch_mode() -> bool {
    std::env::var("MCO_BATCH").is_ok_and(|m| m == "always")
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn kubectl(args: &[&str]) -> std::process::Output {
    Command::new("kubectl")
        .args(args)
        .output()
        .expect("kubectl runs")
}

pub fn kubectl_ok(args: &[&str]) -> String {
    let out = kubectl(args);
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn install_crd() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let crd = root().join("crds");
        let applied = kubectl(&[
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            crd.to_str().unwrap(),
        ]);
        let said = String::from_utf8_lossy(&applied.stderr);
        assert!(applied.status.success(), "applying crds/ failed: {said}");
        // The API server warns about what it does not understand (a schema `format` it does not
        // know, say): a user applying the CRDs would see it too.
        assert!(!said.contains("Warning"), "applying crds/ warned: {said}");
        // hack/wait-established asks again where `kubectl wait` gives up on a CRD that has no
        // conditions yet.
        let waited = Command::new(root().join("hack/wait-established"))
            .args([
                "crd/managedconnectors.connectors.dataplane.dev",
                "crd/connectclusters.connectors.dataplane.dev",
            ])
            .output()
            .expect("hack/wait-established runs");
        assert!(
            waited.status.success(),
            "the CRDs are not Established: {}",
            String::from_utf8_lossy(&waited.stderr)
        );
    });
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The chart's path, relative to the repository.
pub const CHART: &str = "charts/managed-connector-operator";

pub fn helm(args: &[&str]) -> std::process::Output {
    Command::new(root().join(".tools/bin/helm"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("helm runs (hack/tools.sh helm builds it)")
}

pub fn helm_ok(args: &[&str]) -> String {
    let out = helm(args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "helm {args:?} failed: {said}");
    // A symlink inside the chart makes every `helm install` and `template` warn about it.
    assert!(
        !said.contains("symbolic link"),
        "helm {args:?} warned about the chart: {said}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Renders the chart (CRDs included) as `release` in `namespace` and parses every document.
pub fn helm_template(release: &str, namespace: &str, set: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec![
        "template",
        release,
        CHART,
        "--namespace",
        namespace,
        "--include-crds",
    ];
    for s in set {
        args.push("--set");
        args.push(s);
    }
    let out = helm_ok(&args);
    out.split("\n---")
        .filter(|doc| {
            doc.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .map(|doc| {
            serde_saphyr::from_str::<serde_json::Value>(doc)
                .unwrap_or_else(|e| panic!("{e}: {doc}"))
        })
        .filter(|v| !v.is_null())
        .collect()
}

/// A kubeconfig for ServiceAccount `namespace/name`, with a token from `kubectl create token`.
pub fn service_account_kubeconfig(namespace: &str, name: &str, file: &str) -> PathBuf {
    let token = kubectl_ok(&["create", "token", name, "-n", namespace, "--duration=4h"]);
    let server = kubectl_ok(&[
        "config",
        "view",
        "--minify",
        "-o",
        "jsonpath={.clusters[0].cluster.server}",
    ]);
    let ca = kubectl_ok(&[
        "config",
        "view",
        "--minify",
        "-o",
        "jsonpath={.clusters[0].cluster.certificate-authority}",
    ]);
    let path = root().join("target/chart").join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: testenv\n  cluster: {{server: {server}, certificate-authority: {ca}}}\nusers:\n- name: sa\n  user: {{token: {}}}\ncontexts:\n- name: sa\n  context: {{cluster: testenv, user: sa}}\ncurrent-context: sa\n",
            token.trim()
        ),
    )
    .unwrap();
    path
}

/// Runs a program from the repository root and returns its stdout; panics with both outputs if
/// it fails.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Server-side applies one object given as JSON (kubectl reads it from a temporary file).
pub fn kubectl_apply(object: &serde_json::Value) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(object).unwrap()).unwrap();
    kubectl_ok(&[
        "apply",
        "--server-side",
        "--field-manager=e2e",
        "-f",
        file.path().to_str().unwrap(),
    ]);
}

/// A server-side dry run of a repository file (an example); returns kubectl's output.
pub fn dry_run(path: &str) -> String {
    let file = root().join(path);
    kubectl_ok(&[
        "apply",
        "--dry-run=server",
        "--server-side",
        "-f",
        file.to_str().unwrap(),
    ])
}
