//! What users look at, checked with a real Prometheus (Debian's, through `hack/promenv`):
//!
//! - the chart's alert rules pass `promtool check rules`, and every alert has `promtool test
//!   rules` unit tests (`tests/prometheus/alerts.test.yaml`) that pass;
//! - the test Prometheus scrapes the operator as the chart's ServiceMonitor would have the
//!   Prometheus Operator scrape it;
//! - after the end-to-end run, every query of the chart's Grafana dashboard (panels and variables)
//!   parses and returns series from what that Prometheus scraped of the real operator processes.
//!
//! Marked `#[ignore]`: `hack/test` runs them with helm built and Prometheus installed; the
//! dashboard test after the end-to-end tests, with `PROMETHEUS_URL` set.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn prometheus_dir() -> PathBuf {
    let dir = root().join("target/prometheus");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn promtool(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs (hack/promenv install)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

fn rendered(kind: &str, set: &[&str]) -> Value {
    let docs = helm_template("mco-node", "mco-system", set);
    let mut found = docs.into_iter().filter(|d| d["kind"] == kind);
    let one = found
        .next()
        .unwrap_or_else(|| panic!("the chart renders no {kind}"));
    assert!(found.next().is_none(), "more than one {kind}");
    one
}

/// The chart's PrometheusRule, as Prometheus reads rule files.
fn rule_groups() -> Value {
    let rule = rendered("PrometheusRule", &["metrics.prometheusRule.enabled=true"]);
    json!({ "groups": rule["spec"]["groups"] })
}

#[test]
#[ignore = "needs helm (.tools/bin) and promtool (hack/promenv install)"]
fn alert_rules_pass_promtool_and_every_alert_has_unit_tests() {
    let dir = prometheus_dir();
    let groups = rule_groups();
    // JSON is YAML: the rules exactly as rendered, no re-serialisation in between.
    std::fs::write(dir.join("alerts.rules.yaml"), groups.to_string()).unwrap();
    let tests = std::fs::read_to_string(root().join("tests/prometheus/alerts.test.yaml")).unwrap();
    std::fs::write(dir.join("alerts.test.yaml"), &tests).unwrap();

    let checked = promtool(&dir, &["check", "rules", "alerts.rules.yaml"]);
    eprintln!("{checked}");
    let tested = promtool(&dir, &["test", "rules", "alerts.test.yaml"]);
    eprintln!("{tested}");

    let alerts: BTreeSet<String> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .filter_map(|r| r["alert"].as_str().map(str::to_string))
        .collect();
    assert!(alerts.len() >= 8, "alerts: {alerts:?}");
    let tests: Value = serde_saphyr::from_str(&tests).unwrap();
    let mut fires = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for case in tests["tests"].as_array().unwrap() {
        for t in case["alert_rule_test"].as_array().unwrap() {
            let name = t["alertname"].as_str().unwrap().to_string();
            let expected = t["exp_alerts"].as_array().map(Vec::len).unwrap_or(0);
            if expected > 0 {
                fires.insert(name);
            } else {
                quiet.insert(name);
            }
        }
    }
    for alert in &alerts {
        assert!(
            fires.contains(alert),
            "{alert}: no test that it fires (tests/prometheus/alerts.test.yaml)"
        );
        assert!(
            quiet.contains(alert),
            "{alert}: no test that it stays quiet or resolves"
        );
    }
    let unknown: Vec<_> = fires
        .union(&quiet)
        .filter(|a| !alerts.contains(*a))
        .collect();
    assert!(
        unknown.is_empty(),
        "tests of alerts the chart lacks: {unknown:?}"
    );
    // Prometheus, when running, evaluates the rules too (alerts show on its /alerts page).
    if let Ok(url) = std::env::var("PROMETHEUS_URL") {
        let _ = Command::new("curl")
            .args(["-fsS", "-X", "POST", &format!("{url}/-/reload")])
            .status();
    }
}

#[test]
#[ignore = "needs helm (.tools/bin)"]
fn the_test_prometheus_scrapes_as_the_chart_servicemonitor_says() {
    let monitor = rendered("ServiceMonitor", &["metrics.serviceMonitor.enabled=true"]);
    let service = rendered("Service", &[]);
    let config: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root().join("hack/prometheus/prometheus.yml")).unwrap(),
    )
    .unwrap();
    let jobs = config["scrape_configs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2, "the node's Pod and the e2e processes");
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert_eq!(monitor["spec"]["endpoints"].as_array().unwrap().len(), 1);
    for job in jobs {
        let job_name = job["job_name"].as_str().unwrap();
        assert_eq!(job["metrics_path"], endpoint["path"], "{job_name}: path");
        assert_eq!(
            job["honor_labels"], endpoint["honorLabels"],
            "{job_name}: honor_labels"
        );
        assert_eq!(
            job["scheme"].as_str().unwrap_or("http"),
            endpoint["scheme"].as_str().unwrap_or("http"),
            "{job_name}: scheme"
        );
    }
    // The ServiceMonitor selects the chart's metrics Service, by a port that Service has.
    for (key, value) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
    {
        assert_eq!(
            &service["metadata"]["labels"][key], value,
            "the metrics Service lacks the ServiceMonitor's label {key}"
        );
    }
    let port = endpoint["port"].as_str().unwrap();
    assert!(
        service["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == port),
        "the metrics Service has no port named {port}"
    );
}

/// The dashboard as the chart ships it (the ConfigMap's data).
fn shipped_dashboard() -> Value {
    let map = rendered("ConfigMap", &["metrics.grafanaDashboard.enabled=true"]);
    assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1");
    let text = map["data"]["managed-connectors.json"].as_str().unwrap();
    serde_json::from_str(text).expect("the dashboard is JSON")
}

/// `(panel title, query)` of every panel, rows included.
fn panel_queries(dashboard: &Value) -> Vec<(String, String)> {
    fn walk(panels: &[Value], out: &mut Vec<(String, String)>) {
        for p in panels {
            if let Some(inner) = p["panels"].as_array() {
                walk(inner, out);
            }
            for t in p["targets"].as_array().into_iter().flatten() {
                out.push((
                    p["title"].as_str().unwrap_or_default().to_string(),
                    t["expr"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dashboard["panels"].as_array().unwrap(), &mut out);
    out
}

/// Grafana's variables as Grafana would fill them with "All" / any connector.
fn as_grafana_sends(query: &str) -> String {
    query
        .replace("$__rate_interval", "1m")
        .replace("$namespace", ".*")
        .replace("$name", ".+")
}

async fn prometheus(path: &str, params: &[(&str, String)]) -> Value {
    let base = std::env::var("PROMETHEUS_URL").expect("PROMETHEUS_URL (hack/promenv env)");
    let mut url = url::Url::parse(&format!("{base}{path}")).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    managed_connector_operator::http::install_crypto_provider();
    let answer = reqwest::Client::new()
        .get(url)
        .send()
        .await
        .expect("Prometheus answers");
    answer.json().await.expect("Prometheus answers JSON")
}

/// The whole run so far, as Unix seconds: from the start of this Prometheus (hack/promenv up
/// writes it) to now.
fn run_window() -> (String, String) {
    let started = std::fs::read_to_string(prometheus_dir().join("started"))
        .expect("target/prometheus/started (hack/promenv up)");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (started.trim().to_string(), now.to_string())
}

/// `query` evaluated every `step` seconds over the run.
async fn query_range(query: &str, step: u32) -> Value {
    let (start, end) = run_window();
    prometheus(
        "/api/v1/query_range",
        &[
            ("query", query.to_string()),
            ("start", start),
            ("end", end),
            ("step", step.to_string()),
        ],
    )
    .await
}

#[tokio::test]
#[ignore = "needs helm and the Prometheus of hack/promenv after the end-to-end tests"]
async fn every_dashboard_query_returns_series_scraped_from_the_real_operator() {
    let dashboard = shipped_dashboard();
    let queries = panel_queries(&dashboard);
    assert!(queries.len() >= 20, "{} queries", queries.len());
    let (started, _) = run_window();
    let mut failures = Vec::new();
    for (title, query) in &queries {
        // `or vector(0)` shows 0 rather than "No data" on a stat; without it, a misspelt metric
        // is still caught.
        let sent = as_grafana_sends(query.trim_end_matches(" or vector(0)"));
        let answer = query_range(&sent, 15).await;
        let series = answer["data"]["result"].as_array().map(Vec::len);
        match (answer["status"].as_str(), series) {
            (Some("success"), Some(n)) if n > 0 => {
                eprintln!("ok   {title}: {n} series  {sent}");
            }
            (Some("success"), _) => failures.push(format!("{title}: no series for {sent}")),
            _ => failures.push(format!("{title}: {sent}: {answer}")),
        }
    }
    // The variables' label_values() queries, as Grafana's Prometheus data source asks them.
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        let Some(definition) = variable["definition"].as_str() else {
            continue;
        };
        let inner = definition
            .strip_prefix("label_values(")
            .and_then(|d| d.strip_suffix(')'))
            .expect("label_values(selector, label)");
        let (selector, label) = inner.rsplit_once(',').unwrap();
        let answer = prometheus(
            &format!("/api/v1/label/{}/values", label.trim()),
            &[
                ("match[]", as_grafana_sends(selector.trim())),
                ("start", started.clone()),
            ],
        )
        .await;
        let values = answer["data"].as_array().map(Vec::len).unwrap_or(0);
        if values == 0 {
            failures.push(format!("variable {definition}: no values: {answer}"));
        } else {
            eprintln!("ok   variable {definition}: {values} values");
        }
    }
    assert!(
        failures.is_empty(),
        "dashboard queries without data:\n{}",
        failures.join("\n")
    );
}

/// The promtool tests feed the alerts series written by hand; this checks that the chart's rules,
/// evaluated by this Prometheus during the run, matched the series the real operator exported:
/// alerts the end-to-end scenarios must have set off (pending at least: a scenario lasts less
/// than most alerts' `for`).
#[tokio::test]
#[ignore = "needs the Prometheus of hack/promenv after the end-to-end tests"]
async fn the_alerts_went_off_on_the_real_operators_series_during_the_run() {
    let answer = query_range("count by (alertname, alertstate) (ALERTS)", 5).await;
    let seen: BTreeSet<String> = answer["data"]["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                s["metric"]["alertname"].as_str().unwrap_or_default(),
                s["metric"]["alertstate"].as_str().unwrap_or_default()
            )
        })
        .collect();
    eprintln!("alerts during the run: {seen:?}");
    for expected in [
        // A task failed (simulator and the real FileStreamSink).
        "ManagedConnectorFailedTasks (pending)",
        // Many scenarios are not Ready for a while.
        "ManagedConnectorNotReady (pending)",
        // The automatic-restart scenarios give up; this alert has no `for`.
        "ManagedConnectorRestartsExhausted (firing)",
    ] {
        assert!(
            seen.contains(expected),
            "{expected} never went off: {seen:?}"
        );
    }
}
