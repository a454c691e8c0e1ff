//! The topics a connector uses (pure): when to read them again, how the answer reads, and what
//! the status keeps of it.

use super::text::elapsed;
use crate::crd::ManagedConnectorStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use std::time::Duration;

/// Topics kept in `status.topics`.
pub const MAX_TOPICS: usize = 100;
/// Topics read from one answer at most.
const MAX_READ: usize = 100_000;

/// Whether the topics are to be read now: told to (`every` not zero) and not read within it.
pub fn topics_due(
    stored: Option<&ManagedConnectorStatus>,
    now: Timestamp,
    every: Duration,
) -> bool {
    if every.is_zero() {
        return false;
    }
    stored
        .and_then(|s| s.topics_read_time.as_ref())
        .is_none_or(|t| elapsed(t.0, now) >= every)
}

/// Reads a topics answer: the Data Plane's `{"topics": [...]}` or Kafka Connect's
/// `{"<connector>": {"topics": [...]}}`.
pub fn parse_topics(body: &[u8]) -> Result<Vec<String>, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "not a topic list: {}",
            crate::probe::describe_json_error(&e)
        )
    })?;
    let list = match value.get("topics") {
        Some(list) => list,
        None => value
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(|inner| inner.get("topics"))
            .ok_or("not a topic list: no topics")?,
    };
    let list = list
        .as_array()
        .ok_or("not a topic list: topics is not a list")?;
    Ok(list
        .iter()
        .filter_map(|t| t.as_str())
        .take(MAX_READ)
        .map(str::to_string)
        .collect())
}

/// Puts `topics` (read at `now`) into `next`: sorted, without duplicates, the first
/// [`MAX_TOPICS`] and the count of the others.
pub fn record_topics(next: &mut ManagedConnectorStatus, mut topics: Vec<String>, now: Timestamp) {
    topics.sort_unstable();
    topics.dedup();
    let omitted = topics.len().saturating_sub(MAX_TOPICS);
    topics.truncate(MAX_TOPICS);
    next.topics = topics;
    next.topics_omitted = (omitted > 0).then(|| i32::try_from(omitted).unwrap_or(i32::MAX));
    next.topics_read_time = Some(Time(now));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_read_when_due_parsed_from_both_sources_and_bounded() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let every = Duration::from_secs(600);
        assert!(!topics_due(None, now, Duration::ZERO), "off");
        assert!(topics_due(None, now, every), "never read");
        let mut s = ManagedConnectorStatus::default();
        record_topics(&mut s, vec!["b".into(), "a".into(), "b".into()], now);
        assert_eq!(s.topics, ["a", "b"]);
        assert_eq!(s.topics_omitted, None);
        let later = |secs: i64| Timestamp::from_second(1_700_000_000 + secs).unwrap();
        assert!(!topics_due(Some(&s), later(599), every));
        assert!(topics_due(Some(&s), later(600), every));

        assert_eq!(parse_topics(br#"{"topics":["t1"]}"#).unwrap(), ["t1"]);
        assert_eq!(
            parse_topics(br#"{"src-ok":{"topics":["t2","t1"]}}"#).unwrap(),
            ["t2", "t1"]
        );
        assert!(parse_topics(br#"{"topics":[]}"#).unwrap().is_empty());
        assert!(parse_topics(br#"{"x":1}"#).is_err());
        assert!(parse_topics(b"<html>").is_err());

        let many: Vec<String> = (0..250).map(|i| format!("t{i:03}")).collect();
        record_topics(&mut s, many, now);
        assert_eq!(s.topics.len(), MAX_TOPICS);
        assert_eq!(s.topics[0], "t000");
        assert_eq!(s.topics_omitted, Some(150));
    }
}
