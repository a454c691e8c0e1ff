//! A Git repository the GitOps tests write and hack/gitserver serves over HTTP to Argo CD and
//! Flux, and the ManagedConnector manifests committed to it.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A bare repository the Git server serves, and a working copy to commit from.
pub struct Repo {
    pub url: String,
    bare: PathBuf,
    work: tempfile::TempDir,
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "gitops test")
        .env("GIT_AUTHOR_EMAIL", "gitops@example.com")
        .env("GIT_COMMITTER_NAME", "gitops test")
        .env("GIT_COMMITTER_EMAIL", "gitops@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name}: eval \"$(hack/gitserver env)\""))
}

impl Repo {
    pub fn new(name: &str) -> Repo {
        let bare = PathBuf::from(env("GIT_SERVER_DIR")).join(format!("{name}.git"));
        let _ = std::fs::remove_dir_all(&bare);
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "--bare", "--initial-branch=main", "."]);
        let work = tempfile::tempdir().unwrap();
        git(work.path(), &["init", "--initial-branch=main", "."]);
        let url = format!("{}/{name}.git", env("GIT_SERVER"));
        Repo { url, bare, work }
    }

    pub fn write(&self, file: &str, object: &Value) {
        self.write_text(file, &serde_json::to_string_pretty(object).unwrap());
    }

    pub fn write_text(&self, file: &str, text: &str) {
        let path = self.work.path().join(file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.work.path().join(file)).unwrap();
    }

    /// Commits everything and pushes it; returns the commit.
    pub fn push(&self, message: &str) -> String {
        git(self.work.path(), &["add", "-A"]);
        git(
            self.work.path(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        git(
            self.work.path(),
            &["push", "-q", "-f", self.bare.to_str().unwrap(), "main"],
        );
        git(self.work.path(), &["rev-parse", "HEAD"])
    }
}

/// A ManagedConnector as committed to Git: polled every 5 s from the simulator's `redpanda`
/// cluster with the `creds` Secret, `spec_extra` merged into the spec.
pub fn manifest(name: &str, spec_extra: Value) -> Value {
    let mut spec =
        json!({"pollInterval": "5s", "dataplane": {"credentialsSecretRef": {"name": "creds"}}});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
        spec.extend(extra.clone());
    }
    json!({
        "apiVersion": "connectors.dataplane.dev/v1alpha1",
        "kind": "ManagedConnector",
        "metadata": {"name": name},
        "spec": spec,
    })
}
