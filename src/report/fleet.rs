//! The fleet table: one line per ManagedConnector, the ones needing a person first. Pure.

use super::paint::{Cell, Paint, age, clip};
use crate::crd::{HolisticState, ManagedConnector};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;

/// The longest Ready message shown in the table (the one-connector view shows it whole).
const MESSAGE_WIDTH: usize = 72;

/// The condition of `type_`, if the operator wrote one.
pub fn condition<'a>(mc: &'a ManagedConnector, type_: &str) -> Option<&'a Condition> {
    mc.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

/// How much a resource needs a person, 0 most: Stalled (the operator cannot help), then not
/// Ready by severity of its state, then Ready unknown, then not reported on yet, then paused or
/// stopped as declared, then healthy.
pub fn trouble(mc: &ManagedConnector) -> u8 {
    let ready = condition(mc, "Ready").map(|c| c.status.as_str());
    let stalled = condition(mc, "Stalled").is_some_and(|c| c.status == "True");
    let state = mc.status.as_ref().and_then(|s| s.holistic_state);
    if stalled {
        return 0;
    }
    match (ready, state) {
        (Some("False"), Some(HolisticState::Unhealthy | HolisticState::Destroyed)) => 1,
        (Some("False"), Some(HolisticState::Degraded)) => 2,
        (Some("False"), _) => 3,
        (Some("True"), Some(HolisticState::Paused | HolisticState::Stopped)) => 6,
        (Some("True"), _) => 7,
        // Not yet reported on.
        (None, _) if !mc.status.as_ref().is_some_and(|s| s.reported()) => 5,
        // Unknown: the source is unreachable or the state is not known yet.
        _ => 4,
    }
}

/// The table, sorted by [`trouble`] then namespace and name; the NAMESPACE column only when the
/// resources come from more than one namespace's view (`all_namespaces`).
pub fn render(
    items: &[ManagedConnector],
    all_namespaces: bool,
    wide: bool,
    now: Timestamp,
    paint: Paint,
) -> String {
    let mut sorted: Vec<&ManagedConnector> = items.iter().collect();
    sorted.sort_by_key(|mc| {
        (
            trouble(mc),
            mc.metadata.namespace.clone().unwrap_or_default(),
            mc.metadata.name.clone().unwrap_or_default(),
        )
    });
    let mut header = vec![
        "NAME",
        "STATE",
        "TASKS",
        "READY",
        "REASON",
        "LAST SYNC",
        "MESSAGE",
    ];
    if wide {
        // Before MESSAGE, which runs to the end of the line.
        header.splice(6..6, ["SOURCE", "CLUSTER", "TYPE"]);
    }
    if all_namespaces {
        header.insert(0, "NAMESPACE");
    }
    let rows: Vec<Vec<Cell>> = sorted
        .iter()
        .map(|mc| {
            let status = mc.status.as_ref();
            let ready = condition(mc, "Ready");
            let state = status
                .and_then(|s| s.holistic_state)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "Pending".to_string());
            let mut row = vec![
                Cell::plain(mc.metadata.name.clone().unwrap_or_default()),
                Cell::word(state),
                Cell::plain(
                    status
                        .and_then(|s| s.tasks_ready.clone())
                        .unwrap_or_else(|| "-".to_string()),
                ),
                Cell::word(ready.map_or("-", |c| c.status.as_str())),
                Cell::plain(ready.map_or("-", |c| c.reason.as_str())),
                Cell::plain(age(
                    status.and_then(|s| s.last_sync_time.as_ref()).map(|t| t.0),
                    now,
                )),
                Cell::plain(clip(
                    ready.map_or("", |c| c.message.as_str()),
                    MESSAGE_WIDTH,
                )),
            ];
            if wide {
                let source = status.and_then(|s| s.source);
                // A Kafka Connect worker has no cluster name; the Data Plane's is in the spec.
                let cluster = match source {
                    Some(crate::crd::SourceKind::KafkaConnect) => "-".to_string(),
                    _ => mc.spec.cluster_name.clone(),
                };
                row.splice(
                    6..6,
                    [
                        Cell::plain(source.map_or("-", |s| s.word())),
                        Cell::plain(cluster),
                        Cell::plain(
                            status
                                .and_then(|s| s.type_.clone())
                                .unwrap_or_else(|| "-".to_string()),
                        ),
                    ],
                );
            }
            if all_namespaces {
                row.insert(
                    0,
                    Cell::plain(mc.metadata.namespace.clone().unwrap_or_default()),
                );
            }
            row
        })
        .collect();
    super::paint::table(paint, "", &header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mc(
        name: &str,
        state: Option<&str>,
        ready: Option<(&str, &str)>,
        stalled: bool,
    ) -> ManagedConnector {
        let mut conditions = vec![];
        if let Some((status, reason)) = ready {
            conditions.push(json!({"type": "Ready", "status": status, "reason": reason,
                "message": format!("{name} is {reason}"), "lastTransitionTime": "2026-11-29T11:00:00Z"}));
        }
        if stalled {
            conditions.push(
                json!({"type": "Stalled", "status": "True", "reason": "RestartsExhausted",
                "message": "gave up", "lastTransitionTime": "2026-11-29T11:00:00Z"}),
            );
        }
        let status = state.map(|s| {
            json!({"holisticState": s, "tasksReady": "1/2", "conditions": conditions,
            "lastSyncTime": "2026-11-29T11:59:30Z"})
        });
        serde_json::from_value(json!({
            "apiVersion": "connectors.dataplane.dev/v1alpha1", "kind": "ManagedConnector",
            "metadata": {"name": name, "namespace": "team-a"},
            "spec": {"clusterName": "c"},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn trouble_comes_first() {
        let items = vec![
            mc("healthy", Some("Healthy"), Some(("True", "Healthy")), false),
            mc("paused", Some("Paused"), Some(("True", "Paused")), false),
            mc("new", None, None, false),
            mc(
                "degraded",
                Some("Degraded"),
                Some(("False", "Degraded")),
                false,
            ),
            mc(
                "failed",
                Some("Unhealthy"),
                Some(("False", "Unhealthy")),
                false,
            ),
            mc(
                "gave-up",
                Some("Unhealthy"),
                Some(("False", "Unhealthy")),
                true,
            ),
            mc(
                "stale",
                Some("Healthy"),
                Some(("Unknown", "StatusStale")),
                false,
            ),
        ];
        let now: Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        let out = render(&items, false, false, now, Paint { color: false });
        let names: Vec<&str> = out
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "gave-up", "failed", "degraded", "stale", "new", "paused", "healthy"
            ]
        );
        assert!(
            out.starts_with(
                "NAME      STATE      TASKS  READY    REASON       LAST SYNC  MESSAGE\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("\nnew       Pending    -      -        -            -\n"),
            "{out}"
        );
        assert!(out.contains("30s"), "{out}");
        let all = render(&items, true, false, now, Paint { color: false });
        assert!(all.starts_with("NAMESPACE  NAME"), "{all}");
        let wide = render(&items, false, true, now, Paint { color: false });
        let header: Vec<&str> = wide
            .lines()
            .next()
            .unwrap()
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            header,
            [
                "NAME",
                "STATE",
                "TASKS",
                "READY",
                "REASON",
                "LAST SYNC",
                "SOURCE",
                "CLUSTER",
                "TYPE",
                "MESSAGE"
            ]
        );
    }
}
