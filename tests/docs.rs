//! References generated from the code and committed under `docs/`, checked for drift: the flag
//! reference of `run` and of `status` (`kubectl mconn`) from the clap definitions. A stale file
//! fails with the command that rewrites it:
//!
//! ```sh
//! MCO_WRITE_DOCS=1 cargo test --test docs
//! ```

use clap::CommandFactory;
use managed_connector_operator::cli::{Cli, PluginCli};
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
