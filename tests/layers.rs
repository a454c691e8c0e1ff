//! The layers of `src/` and who may import whom, checked over every `crate::` path in code (doc
//! comments may name anything). The rules are the ones `src/lib.rs` states:
//!
//! - the **core** (pure: resource types, assessment, resolution, policy, scheduling, status,
//!   planners, settings, credentials) imports only the core;
//! - **metrics** imports only the core;
//! - **sources** (the HTTP gate and the Data Plane and Kafka Connect clients, behind the one
//!   `source` trait) import the core, metrics, the gate and the trait, never each other;
//! - the **shell** (controller, context, fetch, batch, apply, execute, leader, caches, server,
//!   CLI, the status command) may import anything below it;
//! - `status` does not import the planners.

use std::collections::BTreeSet;
use std::path::Path;

const CORE: &[&str] = &[
    "absence",
    "claim",
    "config",
    "connect_cluster",
    "crd",
    "credentials",
    "health",
    "manage",
    "manage::command",
    "manage::declared",
    "manage::finalizer",
    "manage::plan",
    "manage::restart",
    "policy",
    "probe",
    "redact",
    "refs",
    "resolve",
    "resolve::inline",
    "resolve::parts",
    "resolve::platform",
    "resolve::target",
    "schedule",
    "schema",
    "status",
    "status::bounds",
    "status::conditions",
    "status::events",
    "status::text",
    "trim",
];
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
    "apply",
    "batch",
    "cli",
    "context",
    "controller",
    "deletion",
    "fetch",
    "leader",
    "manage::execute",
    "platform",
    "platform::book",
    "platform::controller",
    "ref_cache",
    "report",
    "report::detail",
    "report::fleet",
    "report::paint",
    "server",
    "telemetry",
];

/// The module a file is (`src/resolve/mod.rs` is `resolve`).
fn module_of(path: &Path) -> String {
    let rel = path
        .strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
        .expect("under src");
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
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_import_goes_down_the_layers() {
    let mut paths = Vec::new();
    files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut paths,
    );
    let modules: BTreeSet<String> = paths.iter().map(|p| module_of(p)).collect();
    for m in CORE.iter().chain(SOURCES).chain(SHELL) {
        assert!(
            modules.contains(*m),
            "no module {m}: update the layer lists"
        );
    }
    let unplaced: Vec<&String> = modules
        .iter()
        .filter(|m| !["lib", "main", "metrics"].contains(&m.as_str()))
        .filter(|m| {
            ![CORE, SOURCES, SHELL]
                .iter()
                .any(|l| l.contains(&m.as_str()))
        })
        .collect();
    assert!(unplaced.is_empty(), "modules in no layer: {unplaced:?}");
    let is_core = |m: &str| CORE.contains(&m);
    let is_source = |m: &str| SOURCES.contains(&m);
    let mut broken = Vec::new();
    for path in &paths {
        let me = module_of(path);
        if me == "lib" || me == "main" {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("readable");
        for used in imports(&text, &modules) {
            if used == me || used.starts_with(&format!("{me}::")) {
                continue;
            }
            let same_tree = used.split("::").next() == me.split("::").next();
            let allowed = if is_core(&me) {
                is_core(&used) && !(me == "status" && used.starts_with("manage::"))
            } else if me == "metrics" {
                is_core(&used)
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
}
