//! Publishing Events (`events.k8s.io/v1`) with a compact, bounded memory of what was said.
//!
//! kube-runtime's `Recorder` keeps every Event it published, whole (note, references, metadata),
//! for six minutes so that a repeat becomes a series, and walks that whole cache on every
//! publish. With one operator serving thousands of resources that is kilobytes per resource after
//! a fleet-wide change, and quadratic work in a burst. This recorder keeps, per repeatable Event,
//! a 64-bit key, the Event's name, its count and when it was last said ([`Said`], pure), at most
//! [`MAX_REMEMBERED`] of them; the series semantics are kube's and client-go's: the same type,
//! action and reason for the same object within [`SERIES_WINDOW`] patches `series.count` of the
//! first Event instead of creating another.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType, Reporter};
use kube::{Api, Client};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a said Event can still grow a series (kube-runtime's and client-go's six minutes).
pub const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);
/// At most this many Events are remembered; past it a repeat is published as a new Event (the
/// same text, a count of one) instead of growing memory.
pub const MAX_REMEMBERED: usize = 16_384;
/// Expired entries are dropped at most this often, not on every publish.
const FORGET_EVERY: Duration = Duration::from_secs(30);

/// One remembered Event: what a repeat patches.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    name: Box<str>,
    count: i32,
    last: Instant,
}

/// What was said recently, by key (pure: time is passed in).
#[derive(Debug)]
pub struct Said {
    entries: HashMap<u64, Entry>,
    forgotten_at: Instant,
    capacity: usize,
}

/// What to do with an Event: create it, or patch the series of an earlier one.
#[derive(Debug, Clone, PartialEq)]
pub enum Publish {
    Create,
    Repeat { name: Box<str>, count: i32 },
}

impl Said {
    pub fn new(capacity: usize, now: Instant) -> Self {
        Said {
            entries: HashMap::new(),
            forgotten_at: now,
            capacity,
        }
    }

    /// Whether the Event under `key` repeats one said within the window, and if so, the series
    /// count it now reaches (counted here, so two repeats never send the same count).
    pub fn publish(&mut self, key: u64, now: Instant) -> Publish {
        if now.saturating_duration_since(self.forgotten_at) >= FORGET_EVERY {
            self.entries
                .retain(|_, e| now.saturating_duration_since(e.last) < SERIES_WINDOW);
            self.forgotten_at = now;
        }
        match self.entries.get_mut(&key) {
            Some(e) if now.saturating_duration_since(e.last) < SERIES_WINDOW => {
                e.count = e.count.saturating_add(1);
                e.last = now;
                Publish::Repeat {
                    name: e.name.clone(),
                    count: e.count,
                }
            }
            _ => Publish::Create,
        }
    }

    /// Remembers a created Event, unless the memory is full.
    pub fn created(&mut self, key: u64, name: &str, now: Instant) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            return;
        }
        let entry = Entry {
            name: name.into(),
            count: 1,
            last: now,
        };
        self.entries.insert(key, entry);
    }

    /// Forgets an Event the API server no longer has (a patch answered 404).
    pub fn forget(&mut self, key: u64) {
        self.entries.remove(&key);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Publishes Events for the operator, remembering repeats compactly.
pub struct EventRecorder {
    client: Client,
    reporter: Reporter,
    hasher: RandomState,
    said: Mutex<Said>,
}

impl EventRecorder {
    pub fn new(client: Client, reporter: Reporter) -> Self {
        EventRecorder {
            client,
            reporter,
            hasher: RandomState::new(),
            said: Mutex::new(Said::new(MAX_REMEMBERED, Instant::now())),
        }
    }

    /// The series key: type, action, reason and the object (its uid where known). The note is
    /// not part of it (as in kube-runtime and client-go): a repeat keeps the first note.
    fn key(&self, ev: &Event, regarding: &ObjectReference) -> u64 {
        let mut h = self.hasher.build_hasher();
        matches!(ev.type_, EventType::Warning).hash(&mut h);
        ev.action.hash(&mut h);
        ev.reason.hash(&mut h);
        regarding.namespace.hash(&mut h);
        regarding.name.hash(&mut h);
        regarding.uid.hash(&mut h);
        h.finish()
    }

    fn remember(&self) -> std::sync::MutexGuard<'_, Said> {
        self.said
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes `ev` about `regarding`: a new Event, or a series patch of the same one said
    /// within [`SERIES_WINDOW`].
    pub async fn publish(
        &self,
        ev: &Event,
        regarding: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let key = self.key(ev, regarding);
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let events: Api<K8sEvent> = Api::namespaced(self.client.clone(), namespace);
        let decision = {
            let _share = crate::heap::enter(crate::heap::Share::Events);
            self.remember().publish(key, Instant::now())
        };
        if let Publish::Repeat { name, count } = decision {
            let series = serde_json::json!({ "series": EventSeries {
                count,
                last_observed_time: MicroTime(Timestamp::now()),
            }});
            match events
                .patch(&name, &PatchParams::default(), &Patch::Merge(&series))
                .await
            {
                Ok(_) => return Ok(()),
                // Gone (the API server's Event TTL, or deleted): say it anew below.
                Err(kube::Error::Api(e)) if e.code == 404 => self.remember().forget(key),
                Err(e) => return Err(e),
            }
        }
        let event = self.event(ev, regarding);
        let created = events.create(&PostParams::default(), &event).await?;
        if let Some(name) = created.metadata.name.as_deref() {
            let _share = crate::heap::enter(crate::heap::Share::Events);
            self.remember().created(key, name, Instant::now());
        }
        Ok(())
    }

    fn event(&self, ev: &Event, regarding: &ObjectReference) -> K8sEvent {
        let now = Timestamp::now();
        let controller = &self.reporter.controller;
        K8sEvent {
            action: Some(ev.action.clone()),
            reason: Some(ev.reason.clone()),
            event_time: Some(MicroTime(now)),
            regarding: Some(regarding.clone()),
            note: ev.note.clone(),
            metadata: ObjectMeta {
                namespace: regarding.namespace.clone(),
                name: Some(format!(
                    "{}.{:x}",
                    regarding.name.as_deref().unwrap_or(controller),
                    now.as_nanosecond()
                )),
                ..Default::default()
            },
            reporting_controller: Some(controller.clone()),
            reporting_instance: Some(
                self.reporter
                    .instance
                    .clone()
                    .unwrap_or_else(|| controller.clone()),
            ),
            type_: Some(match ev.type_ {
                EventType::Normal => "Normal".into(),
                EventType::Warning => "Warning".into(),
            }),
            related: ev.secondary.clone(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_within_the_window_grows_the_series_of_the_first() {
        let t0 = Instant::now();
        let mut said = Said::new(10, t0);
        assert_eq!(said.publish(1, t0), Publish::Create);
        said.created(1, "orders.1", t0);
        let at = |s: u64| t0 + Duration::from_secs(s);
        let repeat = |count| Publish::Repeat {
            name: "orders.1".into(),
            count,
        };
        assert_eq!(said.publish(1, at(10)), repeat(2));
        assert_eq!(said.publish(1, at(20)), repeat(3));
        assert_eq!(said.publish(2, at(20)), Publish::Create, "another key");
        // The window counts from the last time it was said.
        assert_eq!(said.publish(1, at(20 + 359)), repeat(4));
        assert_eq!(said.publish(1, at(20 + 359 + 360)), Publish::Create);
    }

    #[test]
    fn expired_entries_are_forgotten_and_memory_is_bounded() {
        let t0 = Instant::now();
        let mut said = Said::new(3, t0);
        for key in 0..5 {
            said.created(key, "x", t0);
        }
        assert_eq!(said.len(), 3, "at most the capacity");
        assert_eq!(said.publish(4, t0), Publish::Create, "not remembered");
        // Past the window, the next publish forgets them all.
        let later = t0 + SERIES_WINDOW + FORGET_EVERY;
        assert_eq!(said.publish(9, later), Publish::Create);
        assert!(said.is_empty());
        said.created(7, "y", later);
        said.forget(7);
        assert!(said.is_empty());
    }
}
