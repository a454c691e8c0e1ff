//! What `hack/release` publishes, read back from its files and from the registry it pushed to: the
//! image index for linux/amd64 and linux/arm64 (static binaries on an empty base, reproducible),
//! the chart pointing at that image, the kubectl plugin archives and their krew manifest, the SBOM,
//! and the checksums of all of them.
//!
//! Marked `#[ignore]`: `hack/test` runs it after `hack/registry up` and
//! `hack/release --registry "$MCO_REGISTRY/…" --push --plain-http`, passing the release's JSON
//! answer as `MCO_RELEASE`.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// hack/release's answer, as hack/test passes it on.
fn release() -> Value {
    let text = std::env::var("MCO_RELEASE").expect("MCO_RELEASE is not set: run through hack/test");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("MCO_RELEASE: {e}: {text}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

fn untar(archive: &Path, into: &Path) {
    run(
        "tar",
        &[
            "-xf",
            archive.to_str().unwrap(),
            "-C",
            into.to_str().unwrap(),
        ],
    );
}

#[test]
#[ignore = "needs hack/release's artifacts: hack/test"]
fn every_artifact_is_in_the_checksums_and_matches() {
    let release = release();
    let dir = PathBuf::from(release["dir"].as_str().unwrap());
    let version = release["version"].as_str().unwrap();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let listed: BTreeMap<String, String> = sums
        .lines()
        .map(|l| {
            let (sum, name) = l.split_once("  ").expect("sha256sum format");
            (name.to_string(), sum.to_string())
        })
        .collect();
    let mut expected = BTreeSet::from([
        format!("managed-connector-operator_{version}.oci.tar"),
        format!("managed-connector-operator-{version}.tgz"),
        format!("managed-connector-operator_{version}.cdx.json"),
        "mconn.yaml".to_string(),
    ]);
    for arch in ["amd64", "arm64"] {
        expected.insert(format!("managed-connector-operator_{version}_linux_{arch}"));
        expected.insert(format!("kubectl-mconn_{version}_linux_{arch}.tar.gz"));
    }
    assert_eq!(
        listed.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "{sums}"
    );
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "SHA256SUMS")
        .collect();
    assert_eq!(on_disk, expected, "nothing unlisted in {}", dir.display());
    for (name, sum) in &listed {
        assert_eq!(
            &sha256_hex(&std::fs::read(dir.join(name)).unwrap()),
            sum,
            "{name}"
        );
    }
}

#[test]
#[ignore = "needs hack/release's artifacts: hack/test"]
fn the_image_is_an_index_of_static_binaries_on_an_empty_base_and_is_reproducible() {
    let release = release();
    let dir = PathBuf::from(release["dir"].as_str().unwrap());
    let version = release["version"].as_str().unwrap();
    let archive = dir.join(format!("managed-connector-operator_{version}.oci.tar"));
    let layout = tempfile::tempdir().unwrap();
    untar(&archive, layout.path());
    assert!(
        std::fs::read_to_string(layout.path().join("oci-layout"))
            .unwrap()
            .contains("1.0.0")
    );

    // index.json names one image index, by the release's reference, for containerd and OCI tools.
    let top = json_file(&layout.path().join("index.json"));
    assert_eq!(top["manifests"].as_array().unwrap().len(), 1);
    let descriptor = &top["manifests"][0];
    assert_eq!(
        descriptor["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(descriptor["digest"], release["digest"]);
    assert_eq!(
        descriptor["annotations"]["org.opencontainers.image.ref.name"],
        version
    );
    assert_eq!(
        descriptor["annotations"]["io.containerd.image.name"],
        release["image"]
    );
    let index = json_file(&blob(layout.path(), release["digest"].as_str().unwrap()));
    let platforms: Vec<(String, String)> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                format!(
                    "{}/{}",
                    m["platform"]["os"].as_str().unwrap(),
                    m["platform"]["architecture"].as_str().unwrap()
                ),
                m["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        platforms.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
        ["linux/amd64", "linux/arm64"]
    );

    let head = run("git", &["rev-parse", "HEAD"]);
    for (platform, digest) in &platforms {
        let manifest = json_file(&blob(layout.path(), digest));
        assert_eq!(
            manifest["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        let config = json_file(&blob(
            layout.path(),
            manifest["config"]["digest"].as_str().unwrap(),
        ));
        assert_eq!(
            format!(
                "{}/{}",
                config["os"].as_str().unwrap(),
                config["architecture"].as_str().unwrap()
            ),
            *platform
        );
        assert_eq!(config["config"]["User"], "65532:65532");
        assert_eq!(
            config["config"]["Entrypoint"],
            json!(["/managed-connector-operator"])
        );
        assert_eq!(config["config"]["Cmd"], json!(["run"]));
        let labels = &config["config"]["Labels"];
        assert_eq!(labels["org.opencontainers.image.version"], version);
        assert!(
            labels["org.opencontainers.image.revision"]
                .as_str()
                .unwrap()
                .starts_with(head.trim()),
            "revision label {} is the commit {head}",
            labels["org.opencontainers.image.revision"]
        );

        // One layer: the static binary, the CA bundle and the user database, all owned by root.
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1);
        let layer = blob(layout.path(), layers[0]["digest"].as_str().unwrap());
        let listing = run("tar", &["-tzvf", layer.to_str().unwrap()]);
        let mut files = BTreeSet::new();
        for line in listing.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields[1], "0/0", "owned by root: {line}");
            if fields[0].starts_with('-') {
                files.insert(fields[5].to_string());
            }
            if fields[5] == "managed-connector-operator" {
                assert_eq!(fields[0], "-rwxr-xr-x", "{line}");
            }
        }
        assert_eq!(
            files,
            BTreeSet::from(
                [
                    "managed-connector-operator",
                    "etc/passwd",
                    "etc/group",
                    "etc/ssl/certs/ca-certificates.crt"
                ]
                .map(String::from)
            ),
            "{platform}"
        );
        // The binary inside is a static ELF for the platform (the arm64 one cannot run here).
        let rootfs = tempfile::tempdir().unwrap();
        untar(&layer, rootfs.path());
        let binary = rootfs.path().join("managed-connector-operator");
        let check = Command::new(root().join("hack/static-binary"))
            .args(["--check", platform, binary.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{platform}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let other = if platform == "linux/amd64" {
            "linux/arm64"
        } else {
            "linux/amd64"
        };
        let wrong = Command::new(root().join("hack/static-binary"))
            .args(["--check", other, binary.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            !wrong.status.success(),
            "the check tells the architectures apart"
        );
        // The same bytes as the released binary.
        assert_eq!(
            std::fs::read(&binary).unwrap(),
            std::fs::read(dir.join(format!(
                "managed-connector-operator_{version}_{}",
                platform.replace('/', "_")
            )))
            .unwrap()
        );
    }
    // The amd64 binary runs here and says its version.
    let amd64 = dir.join(format!("managed-connector-operator_{version}_linux_amd64"));
    assert!(run(amd64.to_str().unwrap(), &["--version"]).contains(env!("CARGO_PKG_VERSION")));

    // Reproducible: the same binaries and commit give the same digest and the same bytes.
    let again = root().join("target/image/reproduced.oci.tar");
    let amd64_arg = format!("linux/amd64={}", amd64.display());
    let arm64_arg = format!(
        "linux/arm64={}",
        dir.join(format!("managed-connector-operator_{version}_linux_arm64"))
            .display()
    );
    let repository = release["image"]
        .as_str()
        .unwrap()
        .rsplit_once(':')
        .unwrap()
        .0;
    let out = Command::new(root().join("hack/image"))
        .args([
            "--tag", version, "--binary", &amd64_arg, "--binary", &arm64_arg,
        ])
        .args(["--out", again.to_str().unwrap()])
        .env("MCO_IMAGE_REPOSITORY", repository)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rebuilt: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rebuilt["digest"], release["digest"]);
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&archive).unwrap(),
        "byte for byte"
    );
    std::fs::remove_file(&again).unwrap();
}

#[test]
#[ignore = "needs hack/release's artifacts: hack/test"]
fn the_registry_serves_the_index_and_the_chart_that_installs_it() {
    let release = release();
    let version = release["version"].as_str().unwrap();
    let registry = std::env::var("MCO_REGISTRY").expect("MCO_REGISTRY (hack/registry env)");
    let image = release["image"].as_str().unwrap();
    let (repository, tag) = image.rsplit_once(':').unwrap();
    let path = repository
        .strip_prefix(&format!("{registry}/"))
        .expect("the image is in the test registry");
    // The registry resolves the tag to the index the release built, by its digest.
    let headers = run(
        "curl",
        &[
            "-fsSI",
            "-H",
            "Accept: application/vnd.oci.image.index.v1+json",
            &format!("http://{registry}/v2/{path}/manifests/{tag}"),
        ],
    );
    let digest = headers
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("docker-content-digest:")
                .map(|d| d.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no digest header: {headers}"));
    assert_eq!(digest, release["digest"].as_str().unwrap());

    // The chart from the registry is the release's version, and its default image is that index.
    let chart = release["chart"].as_str().unwrap();
    let shown = helm_ok(&["show", "chart", chart, "--version", version, "--plain-http"]);
    let meta: Value = serde_saphyr::from_str(&shown).unwrap();
    assert_eq!(meta["version"], version);
    assert_eq!(meta["appVersion"], version);
    let rendered = helm_ok(&[
        "template",
        "x",
        chart,
        "--version",
        version,
        "--plain-http",
        "--show-only",
        "templates/deployment.yaml",
    ]);
    assert!(
        rendered.contains(&format!("image: \"{image}\"")),
        "{rendered}"
    );
    // The CRDs travel with it, as `helm show crds` prints them for the documented upgrade step.
    let crds = helm_ok(&["show", "crds", chart, "--version", version, "--plain-http"]);
    for name in [
        "managedconnectors.connectors.dataplane.dev",
        "connectclusters.connectors.dataplane.dev",
    ] {
        assert!(crds.contains(&format!("name: {name}")), "{name}");
    }
}

#[test]
#[ignore = "needs hack/release's artifacts: hack/test"]
fn the_plugin_archives_match_their_krew_manifest_and_the_sbom_lists_the_crates() {
    let release = release();
    let dir = PathBuf::from(release["dir"].as_str().unwrap());
    let version = release["version"].as_str().unwrap();
    let manifest: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("mconn.yaml")).unwrap()).unwrap();
    assert_eq!(manifest["kind"], "Plugin");
    assert_eq!(manifest["metadata"]["name"], "mconn");
    assert_eq!(manifest["spec"]["version"], format!("v{version}"));
    let platforms = manifest["spec"]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 2);
    for platform in platforms {
        let arch = platform["selector"]["matchLabels"]["arch"]
            .as_str()
            .unwrap();
        let file = format!("kubectl-mconn_{version}_linux_{arch}.tar.gz");
        assert!(
            platform["uri"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/v{version}/{file}")),
            "{platform}"
        );
        assert_eq!(
            platform["sha256"].as_str().unwrap(),
            sha256_hex(&std::fs::read(dir.join(&file)).unwrap())
        );
        assert_eq!(platform["bin"], "kubectl-mconn");
        let listing = run("tar", &["-tzvf", dir.join(&file).to_str().unwrap()]);
        let entries: BTreeMap<&str, &str> = listing
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f[5], f[0])
            })
            .collect();
        assert_eq!(
            entries,
            BTreeMap::from([("LICENSE", "-rw-r--r--"), ("kubectl-mconn", "-rwxr-xr-x")]),
            "{file}"
        );
    }
    // The amd64 plugin is the operator binary: started as kubectl-mconn, it is the status command.
    let unpacked = tempfile::tempdir().unwrap();
    untar(
        &dir.join(format!("kubectl-mconn_{version}_linux_amd64.tar.gz")),
        unpacked.path(),
    );
    let help = run(
        unpacked.path().join("kubectl-mconn").to_str().unwrap(),
        &["--help"],
    );
    assert!(help.contains("kubectl mconn"), "{help}");

    // The SBOM: CycloneDX, describing the operator, listing the crates of Cargo.lock it links with
    // the versions locked there.
    let sbom = json_file(&dir.join(format!("managed-connector-operator_{version}.cdx.json")));
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(
        sbom["metadata"]["component"]["name"],
        "managed-connector-operator"
    );
    let components: BTreeMap<String, String> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["version"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
    for krate in [
        "kube-client",
        "tokio",
        "rustls",
        "ring",
        "mimalloc",
        "managed-connector-core",
    ] {
        let locked = lock
            .split("[[package]]")
            .find(|p| p.contains(&format!("name = \"{krate}\"\n")))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
            .map(|v| v.trim_end_matches('"').to_string())
            .unwrap_or_else(|| panic!("{krate} in Cargo.lock"));
        assert_eq!(components.get(krate), Some(&locked), "{krate} in the SBOM");
    }
    assert!(
        !components.contains_key("tower-test"),
        "dev-dependencies are not in the binary's SBOM"
    );
}
