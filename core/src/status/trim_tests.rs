//! A status built from the watch cache's trimmed copy is the status built from the whole one:
//! the same write decision, and after [`crate::trim::restore`] the same status, for every kind
//! of outcome (a fresh read, a failure that keeps the last known state, a suspension, a
//! deletion that failed).

use super::tests::{at, build, failed, found};
use super::*;
use crate::trim::{restore, trim_status};

#[test]
fn a_status_built_from_the_trimmed_cache_is_the_one_built_from_the_whole() {
    let outcomes = [
        ("the same read", found("RUNNING", &["RUNNING", "FAILED"])),
        ("another read", found("RUNNING", &["RUNNING", "RUNNING"])),
        (
            "a failure that passes",
            failed(FailureKind::DataPlaneUnavailable),
        ),
        ("a failure to act on", failed(FailureKind::PermissionDenied)),
        ("no such connector", failed(FailureKind::ConnectorNotFound)),
        ("suspended", Outcome::Suspended),
        (
            "deferred",
            Outcome::Probed(Observation::Deferred(Duration::from_secs(5))),
        ),
    ];
    // Degraded with a failed task's trace and its error: every part the cache trims.
    let whole = build(None, &found("RUNNING", &["RUNNING", "FAILED"]), 0);
    assert!(!whole.errors.is_empty() && !whole.tasks[1].trace.is_empty());
    let mut cached = whole.clone();
    trim_status(&mut cached);
    assert!(cached.trimmed.is_some());
    for later in [10, 3600] {
        for (what, outcome) in &outcomes {
            let from_whole = build(Some(&whole), outcome, later);
            let mut from_cache = build(Some(&cached), outcome, later);
            let heartbeat = Settings::default().heartbeat;
            assert_eq!(
                needs_write(Some(&cached), &from_cache, heartbeat),
                needs_write(Some(&whole), &from_whole, heartbeat),
                "{what} after {later} s: the same write decision"
            );
            restore(&mut from_cache, Some(&whole));
            assert_eq!(from_cache, from_whole, "{what} after {later} s");
        }
    }
    let failed_deletion = |prev| delete_failed(prev, Some(3), "could not delete", at(20));
    let mut from_cache = failed_deletion(Some(&cached));
    restore(&mut from_cache, Some(&whole));
    assert_eq!(
        from_cache,
        failed_deletion(Some(&whole)),
        "a failed deletion"
    );
}

/// The comparison trims the other side when one is trimmed: the whole status of the same
/// connector needs no write over its trimmed copy, another one does.
#[test]
fn a_comparison_with_a_trimmed_side_trims_the_other() {
    let whole = build(None, &found("RUNNING", &["RUNNING", "FAILED"]), 0);
    let mut cached = whole.clone();
    trim_status(&mut cached);
    let heartbeat = Settings::default().heartbeat;
    assert!(!needs_write(Some(&cached), &whole, heartbeat));
    assert!(!needs_write(Some(&whole), &cached, heartbeat));
    let other = build(None, &found("RUNNING", &["FAILED", "FAILED"]), 0);
    assert!(needs_write(Some(&cached), &other, heartbeat));
}
