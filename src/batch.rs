//! Batch polling: one listing per Connect cluster instead of one request per connector.
//!
//! Resources whose [`Target`]s share a [`GroupKey`] (source, origin, cluster, credentials) form a
//! group. While a group is batched, one poller task lists the cluster's connectors once per
//! interval (the shortest `pollInterval` of its members), page by page, keeps the statuses of the
//! connectors its possible members name, and triggers every member's reconcile; a member's
//! reconcile reads its connector from that snapshot and does no I/O towards Connect.
//!
//! Per connector instead: with `--batch never`; with `auto` (the default) for a group of one; for
//! a source without a usable list endpoint (403, 404, 405, 501 on the list: retried after an
//! hour); and once for a member the current snapshot did not consider (a resource created since:
//! one GET gives it a status at once, the next listing includes it).
//!
//! A listing is not proof of absence: what a listing's silence means is decided in
//! [`crate::absence`].

use crate::absence::{Listed, confirmation, fan_out, is_outage, outage_failure};
use crate::crd::ManagedConnector;
use crate::probe::{Failure, FailureKind, ListFailure, Observation};
use crate::prober::Prober;
use crate::resolve::{GroupKey, SourceKind, Target};
use crate::schedule::next_poll;
use futures::channel::mpsc;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use std::collections::{HashMap, HashSet};
use std::hash::RandomState;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

/// When to list a cluster's connectors instead of reading each connector on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BatchMode {
    /// Groups of two or more resources are listed; a lone resource is read on its own.
    #[default]
    Auto,
    /// Every group is listed, even a group of one.
    Always,
    /// Every connector is read on its own.
    Never,
}

/// How long a source whose list endpoint is unusable is read per connector before the list is
/// tried again.
pub const UNSUPPORTED_RETRY: Duration = Duration::from_secs(3600);
/// Most pages one listing follows (a server whose tokens never end must not keep a poller busy).
pub const MAX_PAGES: usize = 1000;

/// How a member's reconcile gets its observation.
#[derive(Debug)]
pub enum Serve {
    /// Read the connector on its own.
    Single,
    /// Read it on its own this once: the group's current snapshot did not consider it (a
    /// resource created since); the group's next listing does, and triggers it.
    Once,
    /// From the group's snapshot.
    Observed(Box<Observation>),
    /// The group's first listing is under way; its end triggers this reconcile.
    Pending,
}

/// A member of a group.
#[derive(Debug, Clone)]
struct Member {
    connector: String,
    poll: Duration,
}

/// What one listing found, for the connectors it considered.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Connector names the listing looked for.
    pub considered: HashSet<String>,
    /// What it found for them: their status, or the listing's failure for all of them.
    pub result: Result<HashMap<String, Observation>, Failure>,
}

impl Snapshot {
    /// The observation of `connector`; `None` when the listing did not consider it.
    pub fn observe(&self, connector: &str) -> Option<Observation> {
        if !self.considered.contains(connector) {
            return None;
        }
        Some(match &self.result {
            Err(f) => Observation::Failed(f.clone()),
            Ok(found) => found.get(connector).cloned().unwrap_or_else(|| {
                Observation::Failed(Failure::new(
                    FailureKind::ConnectorNotFound,
                    format!("connector {connector:?} is not in the cluster's connector list"),
                ))
            }),
        })
    }
}

#[derive(Default)]
struct GroupState {
    members: HashMap<ObjectRef<ManagedConnector>, Member>,
    /// A member's target: all members share the group key, so any one speaks for all.
    target: Option<Target>,
    snapshot: Option<Arc<Snapshot>>,
    unsupported_until: Option<Instant>,
    poller: bool,
    /// Pages the last complete listing took.
    pages: usize,
    /// Page size of this group's listings: the operator's `--list-page-size` at first, halved
    /// each time a page exceeds `--max-response-bytes` (0: not listed yet).
    page_size: u32,
}

/// One group of resources answered by one listing.
struct Group {
    /// The one copy of the key: every member's entry in [`Batcher::membership`] points here.
    key: Arc<GroupKey>,
    state: Mutex<GroupState>,
}

impl Group {
    fn lock(&self) -> std::sync::MutexGuard<'_, GroupState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The groups, their pollers and the channel that triggers members' reconciles.
pub struct Batcher {
    mode: BatchMode,
    page_size: u32,
    hasher: RandomState,
    groups: Mutex<HashMap<GroupKey, Arc<Group>>>,
    /// Each member's group, by the group's own key (no copy of its URL and cluster per member).
    membership: Mutex<HashMap<ObjectRef<ManagedConnector>, Arc<GroupKey>>>,
    trigger: mpsc::UnboundedSender<ObjectRef<ManagedConnector>>,
    store: OnceLock<Store<ManagedConnector>>,
    /// Pollers started so far: the k-th takes phase [`phase`]`(k)` of the interval.
    pollers_started: std::sync::atomic::AtomicU32,
}

impl Batcher {
    /// A batcher; the receiver yields the resources whose snapshot changed (for the controller's
    /// `reconcile_on`).
    pub fn new(
        mode: BatchMode,
        page_size: u32,
    ) -> (Self, mpsc::UnboundedReceiver<ObjectRef<ManagedConnector>>) {
        let (trigger, triggered) = mpsc::unbounded();
        (
            Batcher {
                mode,
                page_size: page_size.clamp(1, crate::dataplane::list::MAX_PAGE_ENTRIES as u32),
                hasher: RandomState::new(),
                groups: Mutex::default(),
                membership: Mutex::default(),
                trigger,
                store: OnceLock::new(),
                pollers_started: Default::default(),
            },
            triggered,
        )
    }

    /// The watch cache, whose resources tell a listing which connectors to keep.
    pub fn set_store(&self, store: Store<ManagedConnector>) {
        let _ = self.store.set(store);
    }

    /// Registers `member` (whose target is `target`) and says how its reconcile gets its
    /// observation. Starts the group's poller when the group turns batched.
    pub fn serve(
        self: &Arc<Self>,
        prober: &Arc<Prober>,
        member: ObjectRef<ManagedConnector>,
        target: &Target,
        poll: Duration,
    ) -> Serve {
        if self.mode == BatchMode::Never {
            return Serve::Single;
        }
        let _share = crate::heap::enter(crate::heap::Share::Batch);
        let key = target.group_key(&self.hasher);
        let group = self.join(
            member,
            &key,
            Member {
                connector: target.connector.clone(),
                poll,
            },
        );
        let mut state = group.lock();
        state.target = Some(target.clone());
        let now = Instant::now();
        if state.unsupported_until.is_some_and(|t| t > now) {
            return Serve::Single;
        }
        if !batched(self.mode, state.members.len()) {
            return Serve::Single;
        }
        if !state.poller {
            state.poller = true;
            let span = tracing::info_span!(
                "batch",
                source = key.kind.label(),
                url = %crate::policy::display_url(target.source.url()),
                cluster = key.cluster
            );
            let slot = self
                .pollers_started
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let poller = poll_group(self.clone(), prober.clone(), group.clone(), slot);
            let poller = crate::heap::accounted(crate::heap::Share::Batch, poller);
            tokio::spawn(poller.instrument(span));
        }
        match &state.snapshot {
            None => Serve::Pending,
            Some(snapshot) => match snapshot.observe(&target.connector) {
                Some(o) => Serve::Observed(Box::new(o)),
                None => Serve::Once,
            },
        }
    }

    /// Removes `member` from its group, if any (suspended, deleted).
    pub fn leave(&self, member: &ObjectRef<ManagedConnector>) {
        let key = self
            .membership
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(member);
        if let Some(key) = key {
            self.remove_from(&key, member);
        }
    }

    /// Keeps only the members still in the watch cache.
    pub fn retain(&self, live: &HashSet<ObjectRef<ManagedConnector>>) {
        let gone: Vec<(ObjectRef<ManagedConnector>, Arc<GroupKey>)> = {
            let mut membership = self.membership.lock().unwrap_or_else(|e| e.into_inner());
            let gone = membership
                .iter()
                .filter(|(m, _)| !live.contains(*m))
                .map(|(m, k)| (m.clone(), k.clone()))
                .collect();
            membership.retain(|m, _| live.contains(m));
            gone
        };
        for (member, key) in gone {
            self.remove_from(&key, &member);
        }
    }

    /// Requests one cycle costs: a request per member read on its own, the last listing's pages
    /// per batched group. `watched` counts every resource.
    pub fn requests_per_cycle(&self, watched: usize) -> usize {
        let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let mut batched_members = 0usize;
        let mut pages = 0usize;
        for group in groups.values() {
            let state = group.lock();
            if state.poller {
                batched_members = batched_members.saturating_add(state.members.len());
                pages = pages.saturating_add(state.pages.max(1));
            }
        }
        watched
            .saturating_sub(batched_members)
            .saturating_add(pages)
    }

    /// Groups that are batched now, and their members.
    pub fn batched_groups(&self) -> (usize, usize) {
        let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups
            .values()
            .map(|g| g.lock())
            .filter(|s| s.poller)
            .fold((0, 0), |(g, m), s| (g + 1, m + s.members.len()))
    }

    /// Puts `member` into `key`'s group (out of any other), under the groups' lock so that a
    /// group emptied at the same moment is not dropped with the member just put into it.
    fn join(&self, member: ObjectRef<ManagedConnector>, key: &GroupKey, m: Member) -> Arc<Group> {
        let group = {
            let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
            let group = match groups.get(key) {
                Some(group) => group.clone(),
                None => {
                    let group = Arc::new(Group {
                        key: Arc::new(key.clone()),
                        state: Mutex::default(),
                    });
                    groups.insert(key.clone(), group.clone());
                    group
                }
            };
            group.lock().members.insert(member.clone(), m);
            group
        };
        let previous = self
            .membership
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(member.clone(), group.key.clone());
        if let Some(previous) = previous.filter(|p| **p != *key) {
            self.remove_from(&previous, &member);
        }
        group
    }

    /// Drops a group nobody belongs to and nothing polls.
    fn forget_if_empty(&self, key: &GroupKey) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if groups.get(key).is_some_and(|g| {
            let state = g.lock();
            state.members.is_empty() && !state.poller
        }) {
            groups.remove(key);
        }
    }

    fn remove_from(&self, key: &GroupKey, member: &ObjectRef<ManagedConnector>) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(group) = groups.get(key) {
            let empty = {
                let mut state = group.lock();
                state.members.remove(member);
                state.members.is_empty() && !state.poller
            };
            if empty {
                groups.remove(key);
            }
        }
    }

    /// Connector names of the resources in the watch cache that may belong to `key`'s group
    /// (same source, URL and cluster by their spec): the listing keeps these and drops the rest.
    fn candidates(&self, key: &GroupKey, default_url: Option<&Url>) -> HashSet<String> {
        let Some(store) = self.store.get() else {
            return HashSet::new();
        };
        store
            .state()
            .iter()
            .filter(|mc| {
                !mc.spec.suspend
                    && spec_origin(mc, default_url).is_some_and(|(kind, url, cluster)| {
                        kind == key.kind && url == key.url && cluster == key.cluster
                    })
            })
            .map(|mc| mc.connector_name())
            .collect()
    }

    fn trigger(&self, members: impl IntoIterator<Item = ObjectRef<ManagedConnector>>) {
        for member in members {
            let _ = self.trigger.unbounded_send(member);
        }
    }
}

/// Whether a group of `members` is listed in `mode`.
pub fn batched(mode: BatchMode, members: usize) -> bool {
    match mode {
        BatchMode::Never => false,
        BatchMode::Always => members >= 1,
        BatchMode::Auto => members >= 2,
    }
}

/// The (source, URL, cluster) a spec points at: its group key but for the credentials.
fn spec_origin(
    mc: &ManagedConnector,
    default_url: Option<&Url>,
) -> Option<(SourceKind, String, String)> {
    let (kind, url, cluster) = match &mc.spec.kafka_connect {
        Some(k) => (
            SourceKind::KafkaConnect,
            Url::parse(&k.url).ok()?,
            String::new(),
        ),
        None => {
            let url = match mc.spec.dataplane.as_ref().and_then(|d| d.url.as_deref()) {
                Some(u) => Url::parse(u).ok()?,
                None => default_url?.clone(),
            };
            (SourceKind::DataPlane, url, mc.spec.cluster_name.clone())
        }
    };
    Some((kind, url.to_string(), cluster))
}

/// Reads the connectors a listing left out on their own (see the module docs), adding what
/// each read says to `found`.
async fn confirm_left_out(
    prober: &Prober,
    target: &Target,
    confirm: Vec<String>,
    found: &mut HashMap<String, Observation>,
) {
    let (mut failed, mut answered) = (0usize, 0usize);
    let mut outage: Option<Failure> = None;
    let left_out = confirm.len();
    for connector in confirm {
        if let Some(f) = &outage {
            found.insert(connector, Observation::Failed(f.clone()));
            continue;
        }
        let single = Target {
            connector: connector.clone(),
            ..target.clone()
        };
        let read = prober.fetch_one(&single).await;
        let o = confirmation(read, target.source.kind(), &target.cluster);
        match &o {
            Observation::Failed(f) if f.kind != FailureKind::ConnectorNotFound => {
                failed += 1;
                if is_outage(failed, answered) {
                    tracing::warn!(
                        cluster = target.cluster,
                        left_out,
                        reason = f.kind.reason(),
                        message = f.message,
                        "the connector list left out connectors whose own reads fail: an outage, last known states kept"
                    );
                    outage = Some(outage_failure(f, left_out, &target.cluster));
                }
            }
            _ => answered += 1,
        }
        found.insert(connector, o);
    }
}

/// The group's poller: lists, fans out, triggers, sleeps; ends when the group stops being
/// batched (members left, list unsupported).
async fn poll_group(batcher: Arc<Batcher>, prober: Arc<Prober>, group: Arc<Group>, slot: u32) {
    let mut failures = 0u32;
    let mut first = true;
    loop {
        let Some((target, interval, connectors)) = next_round(&batcher, &group) else {
            return;
        };
        let mut considered =
            batcher.candidates(&group.key, prober.config.default_dataplane_url.as_ref());
        let members = connectors.len();
        considered.extend(connectors);
        let started = Instant::now();
        let page_size = match group.lock().page_size {
            0 => batcher.page_size,
            remembered => remembered,
        };
        let listed = list(&prober, &target, &considered, page_size).await;
        let listed = match listed {
            // Pages this large do not fit the response cap: list again with half the size,
            // and keep it for this group.
            Err(ListFailure::TooLarge(_)) if page_size > 1 => {
                let smaller = page_size / 2;
                tracing::info!(
                    cluster = target.cluster,
                    page_size,
                    smaller,
                    "a page exceeded --max-response-bytes; listing with smaller pages"
                );
                group.lock().page_size = smaller;
                continue;
            }
            Err(ListFailure::TooLarge(f)) => Err(ListFailure::Failed(f)),
            other => other,
        };
        group.lock().page_size = page_size;
        let wait = match listed {
            Ok((listed, pages)) => {
                let previous = group.lock().snapshot.clone();
                let previous = previous.as_deref().and_then(|p| p.result.as_ref().ok());
                let (mut found, confirm) = fan_out(listed, &considered, previous);
                confirm_left_out(&prober, &target, confirm, &mut found).await;
                failures = 0;
                tracing::debug!(
                    cluster = target.cluster,
                    members,
                    found = found.len(),
                    pages,
                    took = ?started.elapsed(),
                    "listed"
                );
                prober.metrics.observed("list", members);
                let snapshot = Snapshot {
                    considered,
                    result: Ok(found),
                };
                deliver(&batcher, &group, snapshot, Some(pages));
                let shift = std::mem::take(&mut first).then(|| phase(slot));
                wait_until_due(&group, started, interval, shift).await;
                Duration::ZERO
            }
            Err(ListFailure::Deferred(left)) => left,
            Err(ListFailure::Unsupported(why)) => {
                tracing::info!(
                    cluster = target.cluster,
                    reason = why,
                    "the connector list cannot be used; reading each connector on its own for an hour"
                );
                group.lock().unsupported_until = Some(Instant::now() + UNSUPPORTED_RETRY);
                continue;
            }
            Err(ListFailure::Failed(f) | ListFailure::TooLarge(f)) => {
                failures = failures.saturating_add(1);
                prober.refused(&target, &Observation::Failed(f.clone()));
                tracing::warn!(
                    cluster = target.cluster,
                    reason = f.kind.reason(),
                    message = f.message,
                    "listing failed"
                );
                let wait = next_poll(Some(&f), failures, interval, rand::random::<f64>());
                let snapshot = Snapshot {
                    considered,
                    result: Err(f),
                };
                deliver(&batcher, &group, snapshot, None);
                wait
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// The target, interval and member connectors of the next listing; `None` when the group stops
/// (the list is unsupported, batching no longer pays, no target) and its members read on their
/// own from now on.
fn next_round(batcher: &Batcher, group: &Group) -> Option<(Target, Duration, Vec<String>)> {
    let mut state = group.lock();
    let unsupported = state.unsupported_until.is_some_and(|t| t > Instant::now());
    if unsupported || !batched(batcher.mode, state.members.len()) || state.target.is_none() {
        state.poller = false;
        state.snapshot = None;
        let members: Vec<_> = state.members.keys().cloned().collect();
        drop(state);
        if members.is_empty() {
            batcher.forget_if_empty(&group.key);
        }
        batcher.trigger(members);
        tracing::debug!(cluster = group.key.cluster, "batch group stopped");
        return None;
    }
    let interval = state
        .members
        .values()
        .map(|m| m.poll)
        .min()
        .unwrap_or(crate::crd::DEFAULT_POLL_INTERVAL);
    let connectors = state
        .members
        .values()
        .map(|m| m.connector.clone())
        .collect();
    Some((state.target.clone()?, interval, connectors))
}

/// The next listing is due one interval after this one started; the interval is read again
/// while waiting, as triggered members register their current one. After its first listing a
/// group moves its cycle earlier by `shift` (a share of the interval, [`phase`]), so that
/// groups started together (an operator start) list spread over the interval instead of at the
/// same moments.
async fn wait_until_due(group: &Group, started: Instant, interval: Duration, shift: Option<f64>) {
    let due = match shift {
        Some(share) => (started + interval)
            .checked_sub(interval.mul_f64(share))
            .unwrap_or(started),
        None => started + interval,
    };
    loop {
        let current = group
            .lock()
            .members
            .values()
            .map(|m| m.poll)
            .min()
            .unwrap_or(interval);
        let left = (started + current)
            .min(due)
            .saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
    }
}

/// The share of the interval the `slot`-th poller shifts its cycle by (pure): the fractional
/// parts of multiples of the golden ratio (0, .62, .24, .85, .47, .09, ...): for any number of
/// groups the largest gap between their listings is under twice an even spread's, where random
/// shifts bunch.
pub fn phase(slot: u32) -> f64 {
    const GOLDEN: f64 = 0.618_033_988_749_894_9;
    (f64::from(slot) * GOLDEN).fract()
}

/// Stores the snapshot and triggers every member.
fn deliver(batcher: &Batcher, group: &Group, snapshot: Snapshot, pages: Option<usize>) {
    let changed: Vec<_> = {
        let mut state = group.lock();
        let previous = state.snapshot.take();
        let changed = changed_members(&state.members, previous.as_deref(), &snapshot);
        state.snapshot = Some(Arc::new(snapshot));
        if let Some(p) = pages {
            state.pages = p;
        }
        changed
    };
    batcher.trigger(changed);
}

/// Fan-out (pure): the members whose observation differs between two snapshots (all of them
/// after the first). The others' statuses already say what the new snapshot says; their
/// backstop reconcile refreshes `lastSyncTime` at the heartbeat.
fn changed_members(
    members: &HashMap<ObjectRef<ManagedConnector>, Member>,
    previous: Option<&Snapshot>,
    next: &Snapshot,
) -> Vec<ObjectRef<ManagedConnector>> {
    members
        .iter()
        .filter(|(_, m)| {
            previous.is_none_or(|p| p.observe(&m.connector) != next.observe(&m.connector))
        })
        .map(|(r, _)| r.clone())
        .collect()
}

/// Lists the target's cluster page by page through its source, keeping the `considered`
/// connectors; the observations and the pages it took.
async fn list(
    prober: &Prober,
    target: &Target,
    considered: &HashSet<String>,
    page_size: u32,
) -> Result<(Listed, usize), ListFailure> {
    let wanted = |name: &str| considered.contains(name);
    let source = prober.source(target.source.kind());
    let mut found = Listed::default();
    let mut token: Option<String> = None;
    let mut pages = 0usize;
    loop {
        let page = source
            .page(target, page_size, token.as_deref(), &wanted)
            .await?;
        pages += 1;
        found
            .found
            .extend(page.reports.into_iter().map(|(name, r)| (name, r.assess())));
        found.unstated.extend(page.unstated);
        match page.next {
            None => return Ok((found, pages)),
            Some(next) if token.as_deref() == Some(next.as_str()) || pages >= MAX_PAGES => {
                return Err(ListFailure::Failed(Failure::new(
                    FailureKind::InvalidResponse,
                    format!(
                        "the connector list of cluster {:?} did not end after {pages} pages",
                        target.cluster
                    ),
                )));
            }
            Some(next) => token = Some(next),
        }
    }
}

/// Every resource in the watch cache, by reference.
pub fn live_refs(objects: &[Arc<ManagedConnector>]) -> HashSet<ObjectRef<ManagedConnector>> {
    objects.iter().map(|o| member_ref(o)).collect()
}

/// A member's reference: namespace and name only. `ObjectRef::from_obj` also copies the uid and
/// resourceVersion, which equality and hashing ignore and which a group keeps twice per member.
pub fn member_ref(mc: &ManagedConnector) -> ObjectRef<ManagedConnector> {
    let r = ObjectRef::new(&mc.name_any());
    match mc.metadata.namespace.as_deref() {
        Some(ns) => r.within(ns),
        None => r,
    }
}

#[cfg(test)]
mod tests;
