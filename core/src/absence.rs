//! Absence (pure): what a cluster's connector list says about the connectors it leaves out.
//!
//! A listing is not proof of absence (Redpanda's Data Plane answers an empty list, `200`, while
//! the Connect worker behind it is down). The rules, each unit-tested below:
//! - A failed listing, or one whose page fails half way, leaves every member with its last known
//!   state (the failure goes into their conditions as Synced=False), never `ConnectorNotFound`.
//! - A connector the listing leaves out is read on its own before it is called gone, unless its
//!   own read already said "no such connector" after an earlier listing (then nothing changed).
//!   Its own read decides: a status, "no such connector", or a failure, which keeps its last
//!   known state.
//! - When the first [`OUTAGE_SAMPLE`] of those reads all fail (none answers a status or "no such
//!   connector"), the listing is an outage of the source: every connector it left out keeps its
//!   last known state with that failure, without more reads.
//! - A connector named without a status (created a moment ago, a worker rebalancing) exists: it
//!   is read on its own like one left out.

use crate::probe::{Failure, FailureKind, Observation, SourceKind};
use std::collections::{HashMap, HashSet};

/// Own reads of connectors a listing left out that must all fail before the listing counts as an
/// outage of the source (and the rest are not read).
pub const OUTAGE_SAMPLE: usize = 3;

/// What a complete listing said, page by page, for the connectors it kept.
#[derive(Debug, Default)]
pub struct Listed {
    /// Kept entries with a status, assessed.
    pub found: Vec<(String, Observation)>,
    /// Kept entries named without a status.
    pub unstated: Vec<String>,
}

/// Fan-out (pure): the observations a complete listing gives for the connectors it considered,
/// and the ones to read on their own before anything is said about them: left out (or named
/// without a status) and not already known to be absent from an earlier own read.
pub fn fan_out(
    listed: Listed,
    considered: &HashSet<String>,
    previous: Option<&HashMap<String, Observation>>,
) -> (HashMap<String, Observation>, Vec<String>) {
    let mut found: HashMap<String, Observation> = listed
        .found
        .into_iter()
        .filter(|(name, _)| considered.contains(name))
        .collect();
    let unstated: HashSet<&str> = listed.unstated.iter().map(String::as_str).collect();
    let known_absent = |name: &str| -> Option<Observation> {
        match previous?.get(name) {
            Some(o @ Observation::Failed(f)) if f.kind == FailureKind::ConnectorNotFound => {
                Some(o.clone())
            }
            _ => None,
        }
    };
    let mut confirm = Vec::new();
    for name in considered {
        if found.contains_key(name) {
            continue;
        }
        match known_absent(name).filter(|_| !unstated.contains(name.as_str())) {
            Some(absent) => {
                found.insert(name.clone(), absent);
            }
            None => confirm.push(name.clone()),
        }
    }
    confirm.sort();
    (found, confirm)
}

/// What a connector's own read says after a listing left it out (pure): its status, "no such
/// connector", or a failure that keeps its last known state and says why.
pub fn confirmation(read: Observation, source: SourceKind, cluster: &str) -> Observation {
    match read {
        Observation::Failed(f) if f.kind != FailureKind::ConnectorNotFound => {
            Observation::Failed(Failure {
                message: format!(
                    "{}; the connector list{} left it out, so its last known state is kept",
                    f.message,
                    of_cluster(cluster)
                ),
                ..f
            })
        }
        Observation::Deferred(left) => Observation::Failed(Failure {
            kind: FailureKind::unavailable(source),
            message: format!(
                "the connector list{} left it out and the source asked for a pause before it could be read on its own; last known state kept",
                of_cluster(cluster)
            ),
            retry_after: Some(left),
        }),
        answered => answered,
    }
}

/// Whether the own reads so far show an outage of the source rather than connectors that are
/// gone (pure): the first [`OUTAGE_SAMPLE`] all failed, none answered.
pub fn is_outage(failed: usize, answered: usize) -> bool {
    answered == 0 && failed >= OUTAGE_SAMPLE
}

/// The failure of a connector left out of a listing that is an outage (not read on its own).
pub fn outage_failure(sample: &Failure, left_out: usize, cluster: &str) -> Failure {
    Failure {
        message: format!(
            "the connector list{} left out {left_out} connectors and the first {OUTAGE_SAMPLE} read on their own failed: an outage of the source, not a deletion; last known state kept ({})",
            of_cluster(cluster),
            sample.message
        ),
        ..sample.clone()
    }
}

fn of_cluster(cluster: &str) -> String {
    if cluster.is_empty() {
        String::new()
    } else {
        format!(" of cluster {cluster:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Report;
    use std::time::Duration;

    fn found(state: &str) -> Observation {
        Report::from_connect(crate::health::test_status(state, &[])).assess()
    }

    fn listed(entries: &[(&str, &str)]) -> Listed {
        Listed {
            found: entries
                .iter()
                .map(|(n, s)| (n.to_string(), found(s)))
                .collect(),
            unstated: Vec::new(),
        }
    }

    fn names(list: &[&str]) -> HashSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_connector_that_vanishes_between_listings_is_confirmed_first() {
        let considered = names(&["a", "b"]);
        let previous: HashMap<String, Observation> = [
            ("a".to_string(), found("RUNNING")),
            ("b".to_string(), found("RUNNING")),
        ]
        .into_iter()
        .collect();
        let (_, confirm) = fan_out(listed(&[("a", "RUNNING")]), &considered, Some(&previous));
        assert_eq!(confirm, ["b"]);
        // An empty listing (a Connect worker that is down, behind the Data Plane) is no proof.
        let (map, confirm) = fan_out(Listed::default(), &considered, Some(&previous));
        assert_eq!(confirm, ["a", "b"]);
        assert!(
            map.is_empty(),
            "nothing said about them before their own reads"
        );
        // After a failed listing there is no previous result (the batcher passes none).
        let (_, confirm) = fan_out(Listed::default(), &considered, None);
        assert_eq!(
            confirm,
            ["a", "b"],
            "after a failed listing nothing is known absent"
        );
    }

    #[test]
    fn a_connector_already_read_as_absent_is_not_read_again() {
        let considered = names(&["a", "gone"]);
        let absent = Observation::Failed(Failure::new(FailureKind::ConnectorNotFound, "404"));
        let previous: HashMap<String, Observation> = [
            ("a".to_string(), found("RUNNING")),
            ("gone".to_string(), absent.clone()),
        ]
        .into_iter()
        .collect();
        let (map, confirm) = fan_out(listed(&[("a", "RUNNING")]), &considered, Some(&previous));
        assert!(confirm.is_empty(), "{confirm:?}");
        assert_eq!(map.get("gone"), Some(&absent));
        // Named without a status now: it exists again, so it is read.
        let mut now = listed(&[("a", "RUNNING")]);
        now.unstated.push("gone".into());
        let (map, confirm) = fan_out(now, &considered, Some(&previous));
        assert_eq!(confirm, ["gone"]);
        assert!(!map.contains_key("gone"));
        // A transient failure of its own read is not an absence: read again next time.
        let previous: HashMap<String, Observation> = [(
            "gone".to_string(),
            Observation::Failed(Failure::new(FailureKind::DataPlaneUnavailable, "500")),
        )]
        .into_iter()
        .collect();
        let (_, confirm) = fan_out(listed(&[("a", "RUNNING")]), &considered, Some(&previous));
        assert_eq!(confirm, ["gone"]);
    }

    #[test]
    fn own_reads_decide_and_failures_keep_the_last_known_state() {
        use SourceKind::*;
        let nf = Failure::new(FailureKind::ConnectorNotFound, "HTTP 404");
        let down = Failure::new(
            FailureKind::DataPlaneUnavailable,
            "HTTP 500: dial tcp: refused",
        );
        let table: Vec<(Observation, SourceKind, Option<FailureKind>)> = vec![
            (found("RUNNING"), DataPlane, None),
            (
                Observation::Failed(nf.clone()),
                DataPlane,
                Some(FailureKind::ConnectorNotFound),
            ),
            (
                Observation::Failed(down.clone()),
                DataPlane,
                Some(FailureKind::DataPlaneUnavailable),
            ),
            (
                Observation::Deferred(Duration::from_secs(9)),
                DataPlane,
                Some(FailureKind::DataPlaneUnavailable),
            ),
            (
                Observation::Deferred(Duration::from_secs(9)),
                KafkaConnect,
                Some(FailureKind::ConnectUnavailable),
            ),
        ];
        for (read, source, want) in table {
            let o = confirmation(read.clone(), source, "redpanda");
            match (&o, want) {
                (Observation::Found { .. }, None) => assert_eq!(o, read),
                (Observation::Failed(f), Some(kind)) => {
                    assert_eq!(f.kind, kind, "{read:?}");
                    if kind != FailureKind::ConnectorNotFound {
                        assert!(
                            f.message.contains("last known state is kept")
                                || f.message.contains("last known state kept"),
                            "{f:?}"
                        );
                        assert!(f.message.contains("\"redpanda\""), "{f:?}");
                    } else {
                        assert_eq!(f, &nf, "absence as the source said it");
                    }
                }
                other => panic!("{read:?} -> {other:?}"),
            }
        }
        match confirmation(Observation::Deferred(Duration::from_secs(9)), DataPlane, "") {
            Observation::Failed(f) => assert_eq!(f.retry_after, Some(Duration::from_secs(9))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_outage_is_told_from_deletions_by_the_first_own_reads() {
        // (failed, answered) after each read -> outage?
        let table = [
            (1, 0, false),
            (2, 0, false),
            (OUTAGE_SAMPLE, 0, true),
            (OUTAGE_SAMPLE + 5, 0, true),
            (OUTAGE_SAMPLE, 1, false),
            (0, 10, false),
        ];
        for (failed, answered, want) in table {
            assert_eq!(
                is_outage(failed, answered),
                want,
                "{failed} failed, {answered} answered"
            );
        }
        let sample = Failure {
            retry_after: Some(Duration::from_secs(3)),
            ..Failure::new(
                FailureKind::DataPlaneUnavailable,
                "HTTP 500 INTERNAL: dial tcp",
            )
        };
        let f = outage_failure(&sample, 18, "redpanda");
        assert_eq!(f.kind, FailureKind::DataPlaneUnavailable);
        assert_eq!(f.retry_after, sample.retry_after);
        assert!(
            f.message.contains("left out 18 connectors")
                && f.message.contains("not a deletion")
                && f.message.contains("dial tcp"),
            "{}",
            f.message
        );
    }

    #[test]
    fn fan_out_gives_each_considered_connector_its_entry_or_not_found() {
        let considered = names(&["a", "b", "c"]);
        let (map, confirm) = fan_out(
            listed(&[("a", "RUNNING"), ("b", "FAILED"), ("zzz", "RUNNING")]),
            &considered,
            None,
        );
        assert_eq!(map.len(), 2, "entries nobody considered are dropped");
        assert_eq!(
            confirm,
            ["c"],
            "left out of the first listing: read on its own"
        );
        assert!(matches!(map.get("a"), Some(Observation::Found { .. })));
        assert!(!map.contains_key("c"), "nothing said before its own read");
    }
}
