#!/usr/bin/env python3
"""Writes the chart's Grafana dashboard (charts/managed-connector-operator/dashboards/managed-connectors.json)
to stdout: the JSON is generated from this file, never edited by hand; hack/test fails when they differ.

    python3 hack/dashboard/generate.py > charts/managed-connector-operator/dashboards/managed-connectors.json

Every query must return series from the operators of an end-to-end run (tests/observability.rs),
and the result must pass Grafana's schema (dashboard_test.go beside this file).
"""
import json
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'namespace=~"$namespace"'
ONE = 'namespace=~"$namespace",name=~"$name"'
RI = "$__rate_interval"
panels = []
nid = [0]
def panel(type_, title, desc, targets, w, h, x, y, **extra):
    nid[0] += 1
    p = {"id": nid[0], "type": type_, "title": title, "description": desc,
         "datasource": DS, "gridPos": {"h": h, "w": w, "x": x, "y": y},
         "targets": [dict({"refId": chr(65 + i), "datasource": DS, "expr": e, "legendFormat": l}, **({"instant": True, "range": False, "format": "table"} if type_ == "table" else {})) for i, (e, l) in enumerate(targets)]}
    p.update(extra)
    panels.append(p)
def row(title, y):
    nid[0] += 1
    panels.append({"id": nid[0], "type": "row", "title": title, "collapsed": False, "panels": [], "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}})

row("Fleet", 0)
panel("stat", "Connectors", "ManagedConnectors the operator reports on (with a first probe done).",
      [(f'count(managed_connector_ready{{{SEL}}}) or vector(0)', "connectors")], 6, 4, 0, 1)
panel("stat", "Not ready", "Connectors whose Ready condition is not True, paused and stopped ones excluded (the alert ManagedConnectorNotReady fires after 15 minutes).",
      [(f'count(managed_connector_ready{{{SEL}}} == 0 unless on (namespace, name) managed_connector_holistic_state{{state=~"Paused|Stopped"}} == 1) or vector(0)', "not ready")], 6, 4, 6, 1)
panel("stat", "Failed tasks", "Tasks in state FAILED across the fleet.",
      [(f'sum(managed_connector_tasks{{{SEL},state="FAILED"}}) or vector(0)', "failed tasks")], 6, 4, 12, 1)
panel("stat", "Paused or stopped", "Connectors paused or stopped, on purpose or not.",
      [(f'count(managed_connector_holistic_state{{{SEL},state=~"Paused|Stopped"}} == 1) or vector(0)', "paused or stopped")], 6, 4, 18, 1)
panel("timeseries", "Connectors by state", "How many connectors are in each holistic state over time.",
      [(f'sum by (state) (managed_connector_holistic_state{{{SEL}}})', "{{state}}")], 12, 8, 0, 5)
panel("timeseries", "Failed tasks by connector", "Failed tasks of each connector; the cause of each is in the resource's status.errors.",
      [(f'sum by (namespace, name) (managed_connector_tasks{{{SEL},state="FAILED"}})', "{{namespace}}/{{name}}")], 12, 8, 12, 5)
panel("table", "Not ready now", "Each connector not Ready, with the reason of its Ready condition; the message is in the resource (managed-connector-operator status -n NAMESPACE NAME).",
      [(f'managed_connector_ready_reason{{{SEL}}} and on (namespace, name) (managed_connector_ready == 0)', "")], 24, 8, 0, 13)
row("Connector $namespace/$name", 21)
panel("state-timeline", "Holistic state", "The connector's holistic state over time (one row per state it was in).",
      [(f'managed_connector_holistic_state{{{ONE}}} == 1', "{{state}}")], 12, 6, 0, 22)
panel("state-timeline", "Ready reason", "The reason of the Ready condition over time: Healthy, Degraded, Unhealthy, ConnectorNotFound, CredentialsRejected, ...",
      [(f'managed_connector_ready_reason{{{ONE}}}', "{{reason}}")], 12, 6, 12, 22)
panel("timeseries", "Tasks by state", "The connector's tasks by Kafka Connect state. Which worker runs each task, and each failed task's parsed error, are in the resource: managed-connector-operator status -n NAMESPACE NAME.",
      [(f'sum by (state) (managed_connector_tasks{{{ONE}}})', "{{state}}")], 12, 8, 0, 28)
panel("timeseries", "Ready", "1 while the Ready condition is True.",
      [(f'max by (namespace, name) (managed_connector_ready{{{ONE}}})', "ready")], 12, 8, 12, 28)
row("Operator", 36)
panel("timeseries", "Requests by source and outcome", "Requests to the Data Plane API and to Kafka Connect per second, by outcome (ok, not_found, timeout, server_error, rate_limited, ...).",
      [(f'sum by (source, outcome) (rate(managed_connector_requests_total[{RI}]))', "{{source}} {{outcome}}")], 12, 8, 0, 37)
panel("timeseries", "Request latency", "p50 and p99 latency of requests to each source.",
      [(f'histogram_quantile(0.5, sum by (source, le) (rate(managed_connector_request_duration_seconds_bucket[{RI}])))', "{{source}} p50"),
       (f'histogram_quantile(0.99, sum by (source, le) (rate(managed_connector_request_duration_seconds_bucket[{RI}])))', "{{source}} p99")], 12, 8, 12, 37)
panel("timeseries", "Rate limits and pauses", "Probes put off because a source asked every client to pause (Retry-After, ratelimit headers), and requests answered 429.",
      [(f'sum(rate(managed_connector_probes_total{{result="deferred"}}[{RI}]))', "probes deferred"),
       (f'sum by (source, outcome) (rate(managed_connector_requests_total{{outcome=~"rate_limited|paused"}}[{RI}]))', "{{source}} {{outcome}}")], 12, 8, 0, 45)
panel("timeseries", "Token requests", "OAuth2 token requests by outcome, and tokens issued (each counts against the organisation's daily quota).",
      [(f'sum by (outcome) (rate(managed_connector_token_requests_total[{RI}]))', "{{outcome}}"),
       (f'sum(rate(managed_connector_tokens_issued_total[{RI}]))', "issued")], 12, 8, 12, 45)
panel("timeseries", "Status writes and Events", "Status writes to the API server (none while nothing changes) and Events published, by reason.",
      [(f'sum(rate(managed_connector_status_patches_total[{RI}]))', "status writes"),
       (f'sum by (reason) (rate(managed_connector_events_total[{RI}]))', "event {{reason}}")], 12, 8, 0, 53)
panel("timeseries", "Reconciles and errors", "Reconciles per second, and reconciles that failed on the Kubernetes side by error.",
      [(f'sum(rate(managed_connector_reconciles_total[{RI}]))', "reconciles"),
       (f'sum by (result) (rate(managed_connector_reconcile_errors_total[{RI}]))', "error {{result}}")], 12, 8, 12, 53)
panel("timeseries", "Queue", "Reconciles running now per replica (at 4 x --max-concurrent-requests the rest wait), and resources in its watch cache.",
      [('sum by (pod) (managed_connector_reconciles_in_flight)', "{{pod}} in flight"),
       ('sum by (pod) (managed_connector_watched_resources)', "{{pod}} watched")], 12, 8, 0, 61)
panel("timeseries", "Commands to connectors", "Commands sent to connectors (create/configure, pause, resume, stop, restart, delete) by outcome.",
      [(f'sum by (action, outcome) (rate(managed_connector_actions_total[{RI}]))', "{{action}} {{outcome}}")], 12, 8, 12, 61)
panel("timeseries", "Reads by listing and single", "Connector statuses read from a cluster's listing versus one request each.",
      [(f'sum by (via) (rate(managed_connector_observations_total[{RI}]))', "{{via}}")], 24, 8, 0, 69)

var = lambda name, label, query, **kw: dict({"name": name, "label": label, "type": "query", "datasource": DS,
      "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 1}, "definition": query, "refresh": 2, "sort": 1}, **kw)
dash = {
  "uid": "managed-connectors",
  "title": "Managed connectors",
  "description": "Kafka Connect connectors watched by managed-connector-operator: the fleet, one connector, and the operator itself.",
  "tags": ["kafka-connect", "managed-connector-operator"],
  "timezone": "browser",
  "editable": True,
  "graphTooltip": 1,
  "time": {"from": "now-6h", "to": "now"},
  "refresh": "1m",
  "schemaVersion": 42,
  "version": 1,
  "annotations": {"list": []},
  "links": [],
  "templating": {"list": [
    {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus"},
    var("namespace", "Namespace", "label_values(managed_connector_ready, namespace)", multi=True, includeAll=True, allValue=".*"),
    var("name", "Connector", 'label_values(managed_connector_ready{namespace=~"$namespace"}, name)'),
  ]},
  "panels": panels,
}
print(json.dumps(dash, indent=2))
