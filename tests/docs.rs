//! References generated from the code and committed, checked for drift: the flag reference of
//! `run` and of `status` (`kubectl mconn`) from the clap definitions (`docs/flags.md`), and the
//! chart's README from the `# --` comments of its values (helm-docs style). A stale file fails
//! with the command that rewrites it:
//!
//! ```sh
//! MCO_WRITE_DOCS=1 cargo test --test docs
//! ```

use clap::CommandFactory;
use managed_connector_operator::cli::{Cli, PluginCli};
use serde_json::Value;
use std::path::Path;

/// One table row per flag: name, environment variable, default, and the whole help text.
fn flag_table(command: &clap::Command) -> String {
    let mut out = String::from("| flag | env | default | meaning |\n|---|---|---|---|\n");
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if ["help", "version"].contains(&long) {
            continue;
        }
        let env = arg
            .get_env()
            .map(|e| format!("`{}`", e.to_string_lossy()))
            .unwrap_or_default();
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .filter(|v| !v.is_empty())
            .collect();
        let default = if defaults.is_empty() {
            String::new()
        } else {
            format!("`{}`", defaults.join(","))
        };
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        let mut meaning = help.split_whitespace().collect::<Vec<_>>().join(" ");
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| format!("`{}`", v.get_name()))
            .collect();
        if !values.is_empty() && !matches!(arg.get_action(), clap::ArgAction::SetTrue) {
            meaning.push_str(&format!(" (one of {})", values.join(", ")));
        }
        out.push_str(&format!(
            "| `--{long}` | {env} | {default} | {} |\n",
            meaning.replace('|', "\\|")
        ));
    }
    out
}

fn reference() -> String {
    let cli = Cli::command();
    let run = cli.find_subcommand("run").expect("the run subcommand");
    let status = PluginCli::command();
    format!(
        "# Flag reference\n\n\
         Generated from the command line's definition by `tests/docs.rs`; do not edit by hand\n\
         (`MCO_WRITE_DOCS=1 cargo test --test docs` rewrites it). Every flag of `run` can also be\n\
         set by its environment variable; `--help` shows the same texts.\n\n\
         ## `managed-connector-operator run`\n\n{}\n\
         ## `managed-connector-operator status` (`kubectl mconn`)\n\n{}",
        flag_table(run),
        flag_table(&status)
    )
}

#[test]
fn the_flag_reference_matches_the_command_line() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/flags.md");
    let generated = reference();
    if std::env::var_os("MCO_WRITE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("docs/flags.md written");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/flags.md is stale: run `MCO_WRITE_DOCS=1 cargo test --test docs`"
    );
    // The table is the command line's, flag for flag.
    let run = Cli::command();
    let run = run.find_subcommand("run").expect("run");
    for arg in run.get_arguments().filter_map(|a| a.get_long()) {
        if arg != "help" {
            assert!(generated.contains(&format!("`--{arg}`")), "--{arg} missing");
        }
    }
}

/// Every value the chart documents (a `# --` comment above it, continued by `#` lines), with its
/// path, in file order.
fn documented_values(values: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<String> = None;
    for line in values.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if let Some(first) = text.strip_prefix("# --") {
            pending = Some(first.trim().to_string());
            continue;
        }
        if let Some(more) = text.strip_prefix('#') {
            if let Some(p) = pending.as_mut() {
                p.push(' ');
                p.push_str(more.trim());
            }
            continue;
        }
        if text.is_empty() || text.starts_with('-') {
            if text.is_empty() {
                pending = None;
            }
            continue;
        }
        let Some((key, _)) = text.split_once(':') else {
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key.trim().to_string()));
        if let Some(description) = pending.take() {
            let path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
            out.push((path.join("."), description));
        }
    }
    out
}

fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

fn chart_readme() -> String {
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/managed-connector-operator");
    let values = std::fs::read_to_string(chart.join("values.yaml")).expect("values.yaml");
    let parsed: Value = serde_saphyr::from_str(&values).expect("values.yaml parses");
    let meta: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(chart.join("Chart.yaml")).expect("Chart.yaml"),
    )
    .expect("Chart.yaml parses");
    let mut out = format!(
        "# managed-connector-operator\n\n{}.\n\n\
         Generated from `values.yaml` and `Chart.yaml` by `tests/docs.rs`; do not edit by hand\n\
         (`MCO_WRITE_DOCS=1 cargo test --test docs` rewrites it). What the operator does, how to\n\
         install it and how it behaves: the project's README.\n\n\
         ## Values\n\n| key | type | default | description |\n|---|---|---|---|\n",
        meta["description"].as_str().unwrap_or_default()
    );
    for (path, description) in documented_values(&values) {
        let value = at(&parsed, &path)
            .unwrap_or_else(|| panic!("documented value {path} is not in values.yaml"));
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "int",
            Value::String(_) => "string",
            Value::Array(_) => "list",
            Value::Object(_) => "object",
        };
        let default = serde_json::to_string(value).expect("JSON");
        out.push_str(&format!(
            "| `{path}` | {kind} | `{}` | {} |\n",
            default.replace('|', "\\|"),
            description.replace('|', "\\|")
        ));
    }
    out
}

#[test]
fn the_chart_readme_matches_the_values() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/managed-connector-operator/README.md");
    let generated = chart_readme();
    if std::env::var_os("MCO_WRITE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("the chart README written");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "charts/managed-connector-operator/README.md is stale: run `MCO_WRITE_DOCS=1 cargo test --test docs`"
    );
}

/// Every value the chart has is documented: a leaf (or a list or map given whole) without a
/// `# --` comment above it or above the section holding it fails.
#[test]
fn every_chart_value_is_documented() {
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/managed-connector-operator");
    let values = std::fs::read_to_string(chart.join("values.yaml")).expect("values.yaml");
    let parsed: Value = serde_saphyr::from_str(&values).expect("values.yaml parses");
    let documented: Vec<String> = documented_values(&values)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    fn leaves(value: &Value, path: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    leaves(v, p, out);
                }
            }
            _ => out.push(path),
        }
    }
    let mut all = Vec::new();
    leaves(&parsed, String::new(), &mut all);
    let undocumented: Vec<&String> = all
        .iter()
        .filter(|leaf| {
            !documented
                .iter()
                .any(|d| *leaf == d || leaf.starts_with(&format!("{d}.")))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "values without a `# --` comment: {undocumented:?}"
    );
}

/// `values.schema.json` with every documented value's description taken from its `# --`
/// comment: one text for `helm show values`, the chart README and editors reading the schema.
fn described_schema() -> String {
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/managed-connector-operator");
    let values = std::fs::read_to_string(chart.join("values.yaml")).expect("values.yaml");
    let raw = std::fs::read_to_string(chart.join("values.schema.json")).expect("the schema");
    let mut schema: Value = serde_json::from_str(&raw).expect("the schema parses");
    for (path, description) in documented_values(&values) {
        let mut node = &mut schema;
        for key in path.split('.') {
            node = node
                .get_mut("properties")
                .and_then(|p| p.get_mut(key))
                .unwrap_or_else(|| panic!("values.schema.json has no property {path}"));
        }
        node["description"] = Value::String(description);
    }
    serde_json::to_string_pretty(&schema).expect("JSON") + "\n"
}

#[test]
fn the_values_schema_describes_every_value_as_values_yaml_does() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("charts/managed-connector-operator/values.schema.json");
    let generated = described_schema();
    if std::env::var_os("MCO_WRITE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("the schema written");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "values.schema.json descriptions differ from values.yaml's comments: run `MCO_WRITE_DOCS=1 cargo test --test docs`"
    );
    fn undescribed(node: &Value, path: &str, out: &mut Vec<String>) {
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                // Sections are named by their values; each value says what it is.
                let section = v.get("properties").is_some();
                if !section && v.get("description").is_none() {
                    out.push(p.clone());
                }
                undescribed(v, &p, out);
            }
        }
    }
    let mut missing = Vec::new();
    undescribed(
        &serde_json::from_str(&generated).expect("JSON"),
        "",
        &mut missing,
    );
    assert!(
        missing.is_empty(),
        "schema properties without a description: {missing:?}"
    );
}

/// GitHub's anchor of a heading: lower case, spaces to `-`, punctuation dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every relative link of the Markdown docs points at a file that exists, and at a heading
/// there when it names one: moving a section cannot leave a dead link behind.
#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![
        root.join("README.md"),
        root.join("CONTRIBUTING.md"),
        root.join("CHANGELOG.md"),
        root.join("charts/managed-connector-operator/README.md"),
    ];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        files.push(entry.expect("an entry").path());
    }
    let mut dead = Vec::new();
    let mut links = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            if target.starts_with("http") || target.contains(' ') {
                continue;
            }
            links += 1;
            let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
            let dir = file.parent().expect("a directory");
            let linked = if path.is_empty() {
                file.clone()
            } else {
                dir.join(path)
            };
            if !linked.exists() {
                dead.push(format!("{}: {target}", file.display()));
                continue;
            }
            if !anchor.is_empty() {
                let headings = std::fs::read_to_string(&linked).unwrap_or_default();
                let found = headings
                    .lines()
                    .filter(|l| l.starts_with('#'))
                    .any(|l| slug(l.trim_start_matches('#')) == anchor);
                if !found {
                    dead.push(format!("{}: {target} (no such heading)", file.display()));
                }
            }
        }
    }
    assert!(links > 20, "only {links} links found: the scan is broken");
    assert!(dead.is_empty(), "dead links:\n  {}", dead.join("\n  "));
}

/// One table per CRD: every field of spec and status with its type and description, from the
/// schema the API server enforces.
fn api_reference() -> String {
    use managed_connector_operator::schema::{connect_cluster_crd, crd};
    fn kind_of(schema: &Value) -> String {
        let t = schema["type"].as_str().unwrap_or("object");
        match t {
            "array" => format!("[]{}", kind_of(&schema["items"])),
            "object"
                if schema
                    .get("additionalProperties")
                    .is_some_and(Value::is_object) =>
            {
                format!("map[string]{}", kind_of(&schema["additionalProperties"]))
            }
            "string" => match schema["format"].as_str() {
                Some(f) => format!("string ({f})"),
                None => match schema["enum"].as_array() {
                    Some(values) => values
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" \\| "),
                    None => "string".to_string(),
                },
            },
            other => other.to_string(),
        }
    }
    fn fields(schema: &Value, path: &str, out: &mut String) {
        let Some(props) = schema["properties"].as_object() else {
            return;
        };
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, field) in props {
            let p = format!("{path}.{name}");
            let description = field["description"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace('|', "\\|");
            let mark = if required.contains(&name.as_str()) {
                " (required)"
            } else {
                ""
            };
            out.push_str(&format!(
                "| `{p}` | {}{mark} | {description} |\n",
                kind_of(field)
            ));
            fields(field, &p, out);
            if field["type"] == "array" {
                fields(&field["items"], &format!("{p}[]"), out);
            }
        }
    }
    let mut out = String::from(
        "# API reference\n\n\
         Generated from the CRDs (`crds/`, themselves generated from `core/src/crd/` and\n\
         `core/src/connect_cluster.rs`) by `tests/docs.rs`; do not edit by hand\n\
         (`MCO_WRITE_DOCS=1 cargo test --test docs` rewrites it). `kubectl explain` shows the same texts.\n",
    );
    for crd in [crd(), connect_cluster_crd()] {
        let crd = serde_json::to_value(crd).expect("JSON");
        let kind = crd["spec"]["names"]["kind"].as_str().unwrap_or_default();
        let version = &crd["spec"]["versions"][0];
        let schema = &version["schema"]["openAPIV3Schema"];
        out.push_str(&format!(
            "\n## {kind} (`{}/{}`, {})\n\n{}\n\n| field | type | description |\n|---|---|---|\n",
            crd["spec"]["group"].as_str().unwrap_or_default(),
            version["name"].as_str().unwrap_or_default(),
            crd["spec"]["scope"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase(),
            schema["description"]
                .as_str()
                .unwrap_or_default()
                .split("\n\n")
                .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join("\n\n"),
        ));
        for part in ["spec", "status"] {
            fields(&schema["properties"][part], part, &mut out);
        }
    }
    out
}

#[test]
fn the_api_reference_matches_the_crds() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md");
    let generated = api_reference();
    if std::env::var_os("MCO_WRITE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("docs/api.md written");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/api.md is stale: run `MCO_WRITE_DOCS=1 cargo test --test docs`"
    );
    for field in [
        "spec.connectorName",
        "spec.restartPolicy.backoff.base",
        "status.conditions",
        "spec.namespaceSelector",
    ] {
        assert!(
            generated.contains(&format!("| `{field}` |")),
            "{field} missing"
        );
    }
}

/// The value of argocd-cm's `resource.customizations.actions.connectors.dataplane.dev_ManagedConnector`
/// key, built from the Lua files of `argocd/connectors.dataplane.dev/ManagedConnector/actions/`
/// (Argo CD's own layout, which argocd-cm cannot read as files).
fn argocd_actions() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("argocd/connectors.dataplane.dev/ManagedConnector/actions");
    let block = |file: &Path, indent: &str| {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        text.lines()
            .map(|l| {
                if l.is_empty() {
                    "\n".to_string()
                } else {
                    format!("{indent}{l}\n")
                }
            })
            .collect::<String>()
    };
    let mut out = String::from(
        "# Generated from argocd/connectors.dataplane.dev/ManagedConnector/actions/ (`MCO_WRITE_DOCS=1\n\
         # cargo test --test docs` rewrites it): the value of argocd-cm's key\n\
         # resource.customizations.actions.connectors.dataplane.dev_ManagedConnector (docs/gitops.md).\n\
         discovery.lua: |\n",
    );
    out.push_str(&block(&dir.join("discovery.lua"), "  "));
    out.push_str("definitions:\n");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("action.lua").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        out.push_str(&format!("  - name: {name}\n    action.lua: |\n"));
        out.push_str(&block(&dir.join(&name).join("action.lua"), "      "));
    }
    out
}

#[test]
fn the_argocd_actions_value_matches_the_lua_files() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("argocd/actions.yaml");
    let generated = argocd_actions();
    if std::env::var_os("MCO_WRITE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("argocd/actions.yaml written");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "argocd/actions.yaml is stale: run `MCO_WRITE_DOCS=1 cargo test --test docs`"
    );
    for action in ["restart", "suspend", "resume"] {
        assert!(
            generated.contains(&format!("  - name: {action}\n")),
            "{generated}"
        );
    }
}
