//! The plugin lists of Connect clusters (I/O), read rarely: one list per cluster and access (the
//! batch group key: same source, URL, cluster and credentials, so a list read with one tenant's
//! credentials is never handed to another's), shared by every resource that declares a
//! configuration there. A list is read again after [`REFRESH`], sooner ([`MISSING_REFRESH`])
//! when a declared plugin is not in it (it may have been installed since), and a cluster whose
//! list could not be read is not asked again for [`RETRY_AFTER_FAILURE`].

use crate::probe::Failure;
use crate::resolve::{GroupKey, Target};
use crate::source::{Plugin, StatusSource};
use std::collections::HashMap;
use std::hash::RandomState;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How long a plugin list serves.
pub const REFRESH: Duration = Duration::from_secs(600);
/// How old a list may be to say a declared plugin is missing.
pub const MISSING_REFRESH: Duration = Duration::from_secs(60);
/// How long a failed read is not repeated.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);
/// Clusters remembered at most (tenants choose how many URLs and credentials there are); the
/// least recently used goes first.
pub const MAX_CLUSTERS: usize = 1_024;

#[derive(Default)]
struct Entry {
    read: Option<(Instant, Arc<Vec<Plugin>>)>,
    failed: Option<(Instant, Failure)>,
}

/// One cluster's entry, locked while it is read.
type Shared = Arc<tokio::sync::Mutex<Entry>>;

/// The plugin lists, per cluster and access.
#[derive(Default)]
pub struct PluginCache {
    hasher: RandomState,
    /// One lock per cluster, so that the resources of a cluster wait for one read, not each
    /// make their own.
    entries: Mutex<HashMap<GroupKey, (Shared, Instant)>>,
}

impl PluginCache {
    /// The target's cluster's plugins; `has` says whether a list has what the caller looks for
    /// (a list without it is read again once it is [`MISSING_REFRESH`] old). `Err` when the list
    /// cannot be read now.
    pub async fn get(
        &self,
        source: &dyn StatusSource,
        target: &Target,
        has: impl Fn(&[Plugin]) -> bool,
    ) -> Result<Arc<Vec<Plugin>>, Failure> {
        let entry = self.entry(target.group_key(&self.hasher));
        let mut entry = entry.lock().await;
        let now = Instant::now();
        if let Some((at, plugins)) = &entry.read {
            let age = now.saturating_duration_since(*at);
            if age < MISSING_REFRESH || (age < REFRESH && has(plugins)) {
                return Ok(plugins.clone());
            }
        }
        if let Some((at, failure)) = &entry.failed
            && now.saturating_duration_since(*at) < RETRY_AFTER_FAILURE
        {
            return Err(failure.clone());
        }
        match source.plugins(target).await {
            Ok(plugins) => {
                let plugins = Arc::new(plugins);
                entry.read = Some((Instant::now(), plugins.clone()));
                entry.failed = None;
                Ok(plugins)
            }
            Err(failure) => {
                entry.failed = Some((Instant::now(), failure.clone()));
                Err(failure)
            }
        }
    }

    fn entry(&self, key: GroupKey) -> Shared {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some((entry, used)) = entries.get_mut(&key) {
            *used = now;
            return entry.clone();
        }
        if entries.len() >= MAX_CLUSTERS
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
        let entry: Shared = Arc::default();
        entries.insert(key, (entry.clone(), now));
        entry
    }

    /// How many clusters are remembered.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
