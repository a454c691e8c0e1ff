//! The layers of the operator and who may import whom, checked over every `crate::` path in code
//! (doc comments may name anything). The rules are the ones `src/lib.rs` and `core/src/lib.rs`
//! state:
//!
//! - the **core** (pure: resource types, assessment, resolution, policy, scheduling, status,
//!   planners, settings, credentials) is its own crate, `core/`, that cannot import the operator
//!   and has no client, HTTP, runtime or metrics crate among its dependencies (checked below);
//! - **metrics** imports only the core;
//! - **sources** (the HTTP gate and the Data Plane and Kafka Connect clients, behind the one
//!   `source` trait) import the core, metrics, the gate and the trait, never each other;
//! - the **shell** (controller, context, fetch, batch, apply, execute, leader, caches, server,
//!   CLI, the status command) may import anything below it;
//! - `status` does not import the planners.

use std::collections::BTreeSet;
use std::path::Path;

const SOURCES: &[&str] = &[
    "connect",
    "connect::wire",
    "dataplane",
    "dataplane::auth",
    "dataplane::errors",
    "dataplane::list",
    "dataplane::wire",
    "http",
    "source",
];

/// Everything else: the operator shell and the binary's edge (listed, so that a new module is
/// placed in a layer on purpose).
const SHELL: &[&str] = &[
    "act",
    "allocator",
    "apply",
    "batch",
    "cli",
    "cli::args",
    "cli::convert",
    "cli::import",
    "context",
    "controller",
    "deletion",
    "heap",
    "leader",
    "manage::check",
    "manage::execute",
    "manage::offsets_request",
    "observe",
    "platform",
    "platform::book",
    "platform::controller",
    "plugin_cache",
    "prober",
    "reconcile",
    "recorder",
    "ref_cache",
    "report",
    "report::detail",
    "report::fleet",
    "report::paint",
    "server",
    "telemetry",
    "visit",
];

const OPERATOR_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
const CORE_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/core/src");

/// The module a file is (`core/src/resolve/mod.rs` is `resolve`: the operator re-exports the
/// core's modules under the same names).
fn module_of(path: &Path) -> String {
    let rel = path
        .strip_prefix(OPERATOR_SRC)
        .or_else(|_| path.strip_prefix(CORE_SRC))
        .expect("under src or core/src");
    let s = rel.to_string_lossy().trim_end_matches(".rs").to_string();
    s.trim_end_matches("/mod").replace('/', "::")
}

/// Every module a file names through `crate::` in its code, its own tests left out.
fn imports(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    let mut found = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        for (i, _) in line.match_indices("crate::") {
            let path: String = line[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
            // The longest module prefix of the path (`manage::plan::GAVE_UP` is `manage::plan`).
            let module = (1..=parts.len())
                .rev()
                .map(|n| parts[..n].join("::"))
                .find(|m| modules.contains(m));
            if let Some(m) = module {
                found.insert(m);
            }
        }
    }
    found
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            // A module's tests (`batch/tests.rs`) are test code: they may use anything.
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

#[test]
fn every_import_goes_down_the_layers() {
    let mut core_paths = Vec::new();
    files(Path::new(CORE_SRC), &mut core_paths);
    let mut paths = Vec::new();
    files(Path::new(OPERATOR_SRC), &mut paths);
    let core: BTreeSet<String> = core_paths
        .iter()
        .map(|p| module_of(p))
        .filter(|m| m != "lib")
        .collect();
    let modules: BTreeSet<String> = paths
        .iter()
        .chain(&core_paths)
        .map(|p| module_of(p))
        .collect();
    for m in SOURCES.iter().chain(SHELL) {
        assert!(
            modules.contains(*m),
            "no module {m}: update the layer lists"
        );
    }
    let unplaced: Vec<&String> = modules
        .iter()
        .filter(|m| !["lib", "main", "manage"].contains(&m.as_str()))
        .filter(|m| m.split("::").next() != Some("metrics"))
        .filter(|m| !core.contains(*m))
        .filter(|m| ![SOURCES, SHELL].iter().any(|l| l.contains(&m.as_str())))
        .collect();
    assert!(unplaced.is_empty(), "modules in no layer: {unplaced:?}");
    let is_core = |m: &str| core.contains(m);
    let is_source = |m: &str| SOURCES.contains(&m);
    let mut broken = Vec::new();
    let mut graph: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for path in paths.iter().chain(&core_paths) {
        let me = module_of(path);
        if me == "lib" || me == "main" {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("readable");
        for used in imports(&text, &modules) {
            if used == me || used.starts_with(&format!("{me}::")) {
                continue;
            }
            graph.entry(me.clone()).or_default().insert(used.clone());
            let same_tree = used.split("::").next() == me.split("::").next();
            let allowed = if is_core(&me) {
                is_core(&used)
                    && !((me == "status" || me.starts_with("status::"))
                        && used.starts_with("manage"))
            } else if me.split("::").next() == Some("metrics") {
                is_core(&used) || same_tree
            } else if is_source(&me) {
                is_core(&used)
                    || used == "metrics"
                    || used == "http"
                    || used == "source"
                    || same_tree
            } else {
                true
            };
            if !allowed {
                broken.push(format!("{me} -> {used}"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layers (see src/lib.rs):\n  {}",
        broken.join("\n  ")
    );
    // Within a layer (the shell may import anything below it) modules still may not import
    // each other, directly or round about.
    if let Some(cycle) = find_cycle(&graph) {
        panic!("modules import each other: {}", cycle.join(" -> "));
    }
}

/// A cycle of the import graph, if it has one (depth-first search).
fn find_cycle(graph: &std::collections::BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

/// The core crate stays pure by what it may depend on: kube only for the derive and kube-core's
/// types (no default features, so no client), and none of the crates that do I/O.
#[test]
fn the_core_crate_depends_on_no_io_crate() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/core/Cargo.toml"))
        .expect("core/Cargo.toml");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [dependencies] table");
    let names: Vec<&str> = deps
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split(['=', '.', ' ']).next())
        .collect();
    for forbidden in [
        "tokio",
        "reqwest",
        "hyper",
        "tower",
        "axum",
        "prometheus-client",
        "kube-client",
        "kube-runtime",
        "kube-lease-manager",
        "futures",
        "tracing",
        "governor",
        "rustls",
    ] {
        assert!(
            !names.contains(&forbidden),
            "core/ depends on {forbidden}: {names:?}"
        );
    }
    let kube = deps
        .lines()
        .find(|l| l.starts_with("kube "))
        .expect("kube (for the derive)");
    assert!(
        kube.contains("default-features = false") && kube.contains(r#"features = ["derive"]"#),
        "kube in core/ must be the derive only: {kube}"
    );
    let workspace = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("Cargo.toml");
    assert!(
        workspace
            .lines()
            .any(|l| l.starts_with("kube = ") && l.contains("default-features = false")),
        "the workspace's kube must leave its default features (the client) off"
    );
}
