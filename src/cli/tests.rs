use super::args::{parse_duration, parse_http_url, parse_poll_interval, parse_secret_ref};
use super::*;
use clap::CommandFactory;

#[test]
fn the_kubectl_plugin_takes_the_flags_of_status() {
    use std::ffi::OsStr;
    PluginCli::command().debug_assert();
    assert!(invoked_as_plugin(OsStr::new(
        "/usr/local/bin/kubectl-mconn"
    )));
    assert!(invoked_as_plugin(OsStr::new("kubectl-mconn")));
    assert!(!invoked_as_plugin(OsStr::new(
        "/usr/bin/managed-connector-operator"
    )));
    let plugin =
        PluginCli::try_parse_from(["kubectl-mconn", "-n", "team-a", "orders"]).expect("parses");
    assert_eq!(plugin.args.namespace.as_deref(), Some("team-a"));
    assert_eq!(plugin.args.name.as_deref(), Some("orders"));
    assert!(
        PluginCli::try_parse_from(["kubectl-mconn", "-A", "-n", "x"]).is_err(),
        "-A and -n exclude each other"
    );
    let status = Cli::try_parse_from(["mco", "status", "-A", "--color", "never"]).expect("parses");
    assert!(matches!(status.command, Command::Status(a) if a.all_namespaces));
}

#[test]
fn cli_is_consistent_and_every_flag_is_explained() {
    Cli::command().debug_assert();
    let run = Cli::command().find_subcommand("run").cloned().expect("run");
    for arg in run.get_arguments() {
        if matches!(arg.get_id().as_str(), "help" | "version") {
            continue;
        }
        assert!(arg.get_help().is_some(), "--{} has no help", arg.get_id());
        assert!(
            arg.get_env().is_some(),
            "--{} has no environment variable",
            arg.get_id()
        );
    }
}

#[test]
fn flag_values_are_checked() {
    assert!(parse_secret_ref("ns/name").is_ok());
    assert!(parse_secret_ref("name").is_err());
    assert!(parse_secret_ref("a/b/c").is_err());
    assert!(parse_http_url("ftp://x").is_err());
    assert!(parse_http_url("https://api.example.com").is_ok());
    assert!(parse_poll_interval("1s").is_err());
    assert_eq!(parse_poll_interval("1m"), Ok(Duration::from_secs(60)));
    assert!(parse_duration("five").is_err());
}
