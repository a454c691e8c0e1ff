//! Schedule: when a resource is probed again, after an answer, a failure, or a Kubernetes API
//! error. Pure; `jitter` is passed in so every rule is table-tested.

use crate::probe::{Failure, FailureKind};
use std::time::Duration;

/// When to probe again. Healthy answers (and "no such connector", which is an answer) wait the
/// poll interval, ±10%. Passing failures back off exponentially from 5 s up to five minutes (or
/// the poll interval if longer), never sooner than the server's `Retry-After`. Failures that need
/// a person back off from the poll interval up to five minutes, except credential problems, which
/// cost nothing to retry and are retried at the poll interval. `jitter` is uniform in [0, 1).
pub fn next_poll(
    failure: Option<&Failure>,
    failures: u32,
    poll: Duration,
    jitter: f64,
) -> Duration {
    // Every product below stays far from Duration's limits (mul_f64 panics past them).
    let poll = poll.min(MAX_REQUEUE);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let spread = |d: Duration, low: f64| d.mul_f64(low + (1.0 - low) * jitter);
    let cap = poll.max(Duration::from_secs(300));
    let exp = |base: Duration| {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
        base.saturating_mul(factor).min(cap)
    };
    let next = match failure {
        None => spread(poll.mul_f64(1.1), 0.9 / 1.1),
        Some(f) if f.kind == FailureKind::ConnectorNotFound => spread(poll.mul_f64(1.1), 0.9 / 1.1),
        Some(f) if f.kind.is_transient() => {
            let backoff = spread(exp(Duration::from_secs(5)), 0.5);
            // The resource whose answer paused its origin goes last when the pause ends: the
            // ones deferred by the pause come back within a second of its end, and a server
            // that keeps refusing this one connector cannot starve the others.
            backoff.max(
                f.retry_after
                    .map(|r| r.saturating_add(AFTER_THE_PAUSE))
                    .unwrap_or_default(),
            )
        }
        // Retrying costs no Data Plane request (the Secret read is cached, a rejected client is
        // not sent to the token endpoint again for a while), and a fixed Secret should be picked
        // up at the next poll, not minutes later.
        Some(f)
            if matches!(
                f.kind,
                FailureKind::CredentialsNotFound
                    | FailureKind::CredentialsInvalid
                    | FailureKind::CredentialsRejected
                    | FailureKind::CredentialsRequired
                    | FailureKind::UrlNotAllowed
                    | FailureKind::DataplaneUrlMissing
                    | FailureKind::ConnectClusterNotFound
                    | FailureKind::ConnectClusterRefused
            ) =>
        {
            spread(poll.mul_f64(1.1), 0.9 / 1.1).max(f.retry_after.unwrap_or_default().min(poll))
        }
        Some(f) => spread(exp(poll), 0.5).max(f.retry_after.unwrap_or_default()),
    };
    next.min(MAX_REQUEUE)
}

/// How much later than the resources a pause deferred the one that caused it comes back.
pub const AFTER_THE_PAUSE: Duration = Duration::from_secs(1);

/// When a batched member reconciles anyway if no listing triggers it first: two intervals and a
/// bit, so a member of a poller that stopped re-registers and restarts it.
pub fn backstop(poll: Duration, jitter: f64) -> Duration {
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    poll.saturating_mul(2)
        .saturating_add(Duration::from_secs_f64(5.0 * jitter))
        .min(MAX_REQUEUE)
}

/// The longest a resource waits for its next probe, whatever its poll interval or a server says:
/// a day keeps every deadline far from the clock's and the scheduler's limits.
pub const MAX_REQUEUE: Duration = Duration::from_secs(86_400);

/// The wait after `in_a_row` Kubernetes API failures of one resource: 5 s doubling up to five
/// minutes, spread over its upper half by `jitter` in [0, 1).
pub fn kube_backoff(in_a_row: u32, jitter: f64) -> Duration {
    let base = Duration::from_secs(5)
        .saturating_mul(2u32.saturating_pow(in_a_row.saturating_sub(1).min(16)))
        .min(Duration::from_secs(300));
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    base.mul_f64(0.5 + 0.5 * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(kind: FailureKind, retry_after: Option<u64>) -> Failure {
        Failure {
            kind,
            message: String::new(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn polls_at_the_interval_with_jitter() {
        let poll = Duration::from_secs(30);
        assert_eq!(next_poll(None, 0, poll, 0.0), Duration::from_secs(27));
        assert_eq!(next_poll(None, 0, poll, 1.0), Duration::from_secs(33));
        let nf = f(FailureKind::ConnectorNotFound, None);
        assert_eq!(next_poll(Some(&nf), 0, poll, 0.0), Duration::from_secs(27));
    }

    #[test]
    fn transient_failures_back_off_exponentially_and_honour_retry_after() {
        let poll = Duration::from_secs(30);
        let down = f(FailureKind::DataPlaneUnavailable, None);
        let at = |n, j| next_poll(Some(&down), n, poll, j);
        assert_eq!(at(1, 1.0), Duration::from_secs(5));
        assert_eq!(at(2, 1.0), Duration::from_secs(10));
        assert_eq!(at(3, 1.0), Duration::from_secs(20));
        assert_eq!(
            at(3, 0.0),
            Duration::from_secs(10),
            "jitter spreads over the upper half"
        );
        assert_eq!(
            at(20, 1.0),
            Duration::from_secs(300),
            "capped at five minutes"
        );
        let limited = f(FailureKind::DataPlaneUnavailable, Some(42));
        assert_eq!(
            next_poll(Some(&limited), 1, poll, 1.0),
            Duration::from_secs(43),
            "after the resources the pause deferred"
        );
        let long_poll = Duration::from_secs(900);
        assert_eq!(
            next_poll(Some(&down), 20, long_poll, 1.0),
            long_poll,
            "cap is the poll interval when longer"
        );
    }

    #[test]
    fn lasting_failures_start_at_the_poll_interval() {
        let poll = Duration::from_secs(30);
        let denied = f(FailureKind::PermissionDenied, None);
        assert_eq!(next_poll(Some(&denied), 1, poll, 1.0), poll);
        assert_eq!(
            next_poll(Some(&denied), 2, poll, 1.0),
            Duration::from_secs(60)
        );
        assert_eq!(
            next_poll(Some(&denied), 9, poll, 1.0),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn a_batched_member_comes_back_after_two_intervals_at_most_a_day() {
        let s = Duration::from_secs;
        assert_eq!(backstop(s(30), 0.0), s(60));
        assert_eq!(backstop(s(30), 1.0), s(65));
        assert_eq!(backstop(s(30), f64::NAN), Duration::from_millis(62_500));
        assert_eq!(backstop(Duration::MAX, 0.5), MAX_REQUEUE);
    }

    #[test]
    fn kubernetes_failures_back_off_exponentially() {
        let s = Duration::from_secs;
        assert_eq!(kube_backoff(1, 1.0), s(5));
        assert_eq!(kube_backoff(2, 1.0), s(10));
        assert_eq!(
            kube_backoff(3, 0.0),
            s(10),
            "jitter spreads over the upper half"
        );
        assert_eq!(kube_backoff(20, 1.0), s(300));
        assert_eq!(kube_backoff(u32::MAX, f64::NAN), s(225));
    }

    #[test]
    fn no_wait_exceeds_a_day_whatever_the_spec_or_the_server_says() {
        let centuries = Duration::from_secs(100 * 365 * 86_400);
        let far = f(FailureKind::DataPlaneUnavailable, Some(u64::MAX));
        for (failure, failures) in [(None, 0), (Some(&far), 1), (Some(&far), u32::MAX)] {
            for jitter in [0.0, 0.5, 1.0] {
                let next = next_poll(failure, failures, centuries, jitter);
                assert!(next <= MAX_REQUEUE && next >= MAX_REQUEUE / 3, "{next:?}");
            }
        }
    }
}
