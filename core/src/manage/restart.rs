//! Restarts (pure): Strimzi's backoff curve, the automatic-restart decision table and the restart
//! requests people make with annotations. The state lives in `status.restarts`, so a decision
//! survives an operator restart or a change of leader.

use crate::crd::{RestartPolicy, RestartPolicyType, RestartStatus, parse_go_duration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::time::Duration;

/// Restart the connector and all of its tasks once per new value (`kubectl annotate --overwrite
/// mconn NAME connectors.dataplane.dev/restart="$(date +%s)"`).
pub const RESTART_ANNOTATION: &str = "connectors.dataplane.dev/restart";
/// Restart one task once per new value: `<task id>`, or `<task id>:<anything>` to restart the
/// same task again.
pub const RESTART_TASK_ANNOTATION: &str = "connectors.dataplane.dev/restart-task";
/// Unit of the backoff curve unless the spec sets one (Strimzi's minute).
pub const DEFAULT_BASE: Duration = Duration::from_secs(60);
/// Longest wait between automatic restarts unless the spec sets one (Strimzi's hour).
pub const DEFAULT_MAX: Duration = Duration::from_secs(3600);
/// How long a connector stays healthy before its restart count starts over, unless set.
pub const DEFAULT_RESET_AFTER: Duration = Duration::from_secs(600);
/// Shortest backoff unit the operator uses, whatever a stored object says.
const MIN_BASE: Duration = Duration::from_secs(1);

/// An `OnFailure` restart policy with its durations parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Give up after this many automatic restarts in a row.
    pub max_restarts: Option<u32>,
    /// Unit of the curve.
    pub base: Duration,
    /// Cap of the curve.
    pub max: Duration,
    /// Healthy time after which the count starts over.
    pub reset_after: Duration,
}

impl Policy {
    /// The policy of a spec; `None` for `Never` or unset. Unparsable durations (the API server
    /// refuses them; an object stored before the CRD could hold one) fall back to the defaults.
    pub fn from_spec(policy: Option<&RestartPolicy>) -> Option<Policy> {
        let p = policy.filter(|p| p.type_ == RestartPolicyType::OnFailure)?;
        let duration =
            |s: Option<&str>, default: Duration| s.and_then(parse_go_duration).unwrap_or(default);
        let backoff = p.backoff.as_ref();
        Some(Policy {
            max_restarts: p.max_restarts,
            base: duration(backoff.and_then(|b| b.base.as_deref()), DEFAULT_BASE).max(MIN_BASE),
            max: duration(backoff.and_then(|b| b.max.as_deref()), DEFAULT_MAX),
            reset_after: duration(p.reset_after.as_deref(), DEFAULT_RESET_AFTER),
        })
    }
}

/// How long to wait after `restarts` automatic restarts before the next one:
/// min((n*n + n) * base, max). Saturates instead of overflowing.
pub fn backoff(restarts: u32, base: Duration, max: Duration) -> Duration {
    let n = u64::from(restarts);
    let factor = n.saturating_mul(n.saturating_add(1));
    let factor = u32::try_from(factor).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

/// What the connector shows, as far as restarts care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The connector instance or a task is `FAILED`.
    pub failed: bool,
    /// The holistic state is `Healthy`.
    pub healthy: bool,
}

/// The automatic-restart decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auto {
    /// Nothing failed (or nothing is known): no restart.
    Idle,
    /// Restart now.
    Restart,
    /// Failed, but the backoff has not run out: come back at this time.
    Wait(Timestamp),
    /// Failed after `maxRestarts` automatic restarts: a person has to look.
    GaveUp,
}

/// The decision table. `seen` is `None` when this reconcile learnt nothing about the connector
/// (the source failed, or it does not exist); `healthy_since` is when `Ready` turned `True`.
/// Returns the decision and the restart status to record (count reset, incremented, next time).
pub fn decide(
    policy: &Policy,
    seen: Option<Seen>,
    restarts: &RestartStatus,
    healthy_since: Option<Timestamp>,
    now: Timestamp,
) -> (Auto, RestartStatus) {
    let mut r = restarts.clone();
    let Some(seen) = seen else {
        return (Auto::Idle, r);
    };
    if !seen.failed {
        r.next_restart_time = None;
        let healthy_long_enough = seen.healthy
            && healthy_since.is_some_and(|since| elapsed(since, now) >= policy.reset_after);
        if healthy_long_enough {
            r.count = 0;
        }
        return (Auto::Idle, r);
    }
    if policy.max_restarts.is_some_and(|max| r.count >= max) {
        r.next_restart_time = None;
        return (Auto::GaveUp, r);
    }
    let due = match &r.last_restart_time {
        Some(last) if r.count > 0 => after(last.0, backoff(r.count, policy.base, policy.max)),
        _ => now,
    };
    if now >= due {
        r.count = r.count.saturating_add(1);
        r.last_restart_time = Some(Time(now));
        r.next_restart_time = Some(Time(after(now, backoff(r.count, policy.base, policy.max))));
        (Auto::Restart, r)
    } else {
        r.next_restart_time = Some(Time(due));
        (Auto::Wait(due), r)
    }
}

/// A restart someone asked for with an annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Restart the connector and all of its tasks (`value`: the annotation's value).
    Connector(String),
    /// Restart one task; `None` when the value names no task id.
    Task(String, Option<u32>),
}

/// The annotations' requests not acted on yet (their values differ from the ones recorded).
pub fn requests(annotations: &BTreeMap<String, String>, handled: &RestartStatus) -> Vec<Request> {
    let mut out = Vec::new();
    if let Some(v) = annotations.get(RESTART_ANNOTATION)
        && handled.handled_request.as_ref() != Some(v)
    {
        out.push(Request::Connector(v.clone()));
    }
    if let Some(v) = annotations.get(RESTART_TASK_ANNOTATION)
        && handled.handled_task_request.as_ref() != Some(v)
    {
        let id = v.split(':').next().unwrap_or("").trim().parse::<u32>().ok();
        out.push(Request::Task(v.clone(), id));
    }
    out
}

fn elapsed(since: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(since)).unwrap_or(Duration::ZERO)
}

/// `t + d`, saturating at the largest timestamp.
fn after(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn backoff_follows_strimzis_curve_and_saturates() {
        let waits: Vec<u64> = (0..10)
            .map(|n| backoff(n, MIN, DEFAULT_MAX).as_secs() / 60)
            .collect();
        assert_eq!(waits, [0, 2, 6, 12, 20, 30, 42, 56, 60, 60]);
        let s = Duration::from_secs(1);
        assert_eq!(
            backoff(3, s, Duration::from_secs(10)),
            Duration::from_secs(10)
        );
        assert_eq!(
            backoff(2, s, Duration::from_secs(10)),
            Duration::from_secs(6)
        );
        assert_eq!(backoff(u32::MAX, Duration::MAX, DEFAULT_MAX), DEFAULT_MAX);
        assert_eq!(
            backoff(u32::MAX, MIN, Duration::MAX),
            Duration::MAX.min(MIN * u32::MAX)
        );
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn status(count: u32, last: Option<i64>) -> RestartStatus {
        RestartStatus {
            count,
            last_restart_time: last.map(|s| Time(at(s))),
            ..Default::default()
        }
    }

    #[test]
    fn decision_table() {
        let policy = Policy {
            max_restarts: Some(3),
            base: MIN,
            max: DEFAULT_MAX,
            reset_after: Duration::from_secs(600),
        };
        let failed = Some(Seen {
            failed: true,
            healthy: false,
        });
        let healthy = Some(Seen {
            failed: false,
            healthy: true,
        });
        let degraded_no_failure = Some(Seen {
            failed: false,
            healthy: false,
        });
        // (case, seen, status before, healthy since, now) -> (decision, count after, next)
        type Case = (
            &'static str,
            Option<Seen>,
            RestartStatus,
            Option<i64>,
            i64,
            Auto,
            u32,
            Option<i64>,
        );
        let table: Vec<Case> = vec![
            (
                "nothing known",
                None,
                status(1, Some(0)),
                None,
                10,
                Auto::Idle,
                1,
                None,
            ),
            (
                "first failure restarts at once",
                failed,
                status(0, None),
                None,
                0,
                Auto::Restart,
                1,
                Some(120),
            ),
            (
                "failure after an old restart with the count reset",
                failed,
                status(0, Some(-9999)),
                None,
                0,
                Auto::Restart,
                1,
                Some(120),
            ),
            (
                "second failure waits 2 min",
                failed,
                status(1, Some(0)),
                None,
                60,
                Auto::Wait(at(120)),
                1,
                Some(120),
            ),
            (
                "second restart when due",
                failed,
                status(1, Some(0)),
                None,
                120,
                Auto::Restart,
                2,
                Some(120 + 360),
            ),
            (
                "third waits 6 min",
                failed,
                status(2, Some(0)),
                None,
                359,
                Auto::Wait(at(360)),
                2,
                Some(360),
            ),
            (
                "gives up at maxRestarts",
                failed,
                status(3, Some(0)),
                None,
                99999,
                Auto::GaveUp,
                3,
                None,
            ),
            (
                "healthy but not long enough keeps the count",
                healthy,
                status(2, Some(0)),
                Some(100),
                600,
                Auto::Idle,
                2,
                None,
            ),
            (
                "healthy long enough resets",
                healthy,
                status(2, Some(0)),
                Some(100),
                700,
                Auto::Idle,
                0,
                None,
            ),
            (
                "healthy without a known start keeps the count",
                healthy,
                status(2, Some(0)),
                None,
                9999,
                Auto::Idle,
                2,
                None,
            ),
            (
                "unhealthy without a failed instance is left alone",
                degraded_no_failure,
                status(0, None),
                None,
                0,
                Auto::Idle,
                0,
                None,
            ),
        ];
        for (case, seen, before, since, now, want, count, next) in table {
            let (got, after) = decide(&policy, seen, &before, since.map(at), at(now));
            assert_eq!(got, want, "{case}");
            assert_eq!(after.count, count, "{case}");
            assert_eq!(after.next_restart_time, next.map(|s| Time(at(s))), "{case}");
            if got == Auto::Restart {
                assert_eq!(after.last_restart_time, Some(Time(at(now))), "{case}");
            }
        }
        let unlimited = Policy {
            max_restarts: None,
            ..policy
        };
        let (got, _) = decide(
            &unlimited,
            failed,
            &status(500, Some(0)),
            None,
            at(99_999_999),
        );
        assert_eq!(got, Auto::Restart, "no maxRestarts: never gives up");
    }

    #[test]
    fn policy_from_spec_uses_defaults_and_ignores_never() {
        use crate::crd::RestartBackoff;
        assert_eq!(Policy::from_spec(None), None);
        assert_eq!(Policy::from_spec(Some(&RestartPolicy::default())), None);
        let p = RestartPolicy {
            type_: RestartPolicyType::OnFailure,
            max_restarts: Some(5),
            backoff: Some(RestartBackoff {
                base: Some("0s".into()),
                max: Some("garbage".into()),
            }),
            reset_after: Some("30s".into()),
        };
        assert_eq!(
            Policy::from_spec(Some(&p)),
            Some(Policy {
                max_restarts: Some(5),
                base: MIN_BASE,
                max: DEFAULT_MAX,
                reset_after: Duration::from_secs(30),
            })
        );
    }

    #[test]
    fn requests_are_the_annotation_values_not_yet_handled() {
        let ann = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let handled = RestartStatus {
            handled_request: Some("1".into()),
            handled_task_request: Some("2".into()),
            ..Default::default()
        };
        assert!(requests(&ann(&[]), &handled).is_empty());
        assert!(
            requests(
                &ann(&[(RESTART_ANNOTATION, "1"), (RESTART_TASK_ANNOTATION, "2")]),
                &handled
            )
            .is_empty()
        );
        assert_eq!(
            requests(
                &ann(&[
                    (RESTART_ANNOTATION, "x"),
                    (RESTART_TASK_ANNOTATION, "2:again")
                ]),
                &handled
            ),
            [
                Request::Connector("x".into()),
                Request::Task("2:again".into(), Some(2))
            ]
        );
        assert_eq!(
            requests(&ann(&[(RESTART_TASK_ANNOTATION, "first")]), &handled),
            [Request::Task("first".into(), None)]
        );
    }
}
