//! What every reconcile shares ([`Context`]: client, recorder, metrics, prober, fence, the
//! batcher and the per-resource memory of failures and refusals) and the one error that stops a
//! reconcile ([`Error`]). Apart from the reconciler, so that the stages it calls (apply) take
//! the context without importing the reconciler.

use crate::batch::{self, BatchMode, Batcher};
use crate::crd::ManagedConnector;
use crate::leader::Fence;
use crate::metrics::{Metrics, ResourceLabels};
use crate::probe::Observation;
use crate::prober::Prober;
use crate::recorder::EventRecorder;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Errors that stop a reconcile: only Kubernetes API trouble. Data Plane failures are not errors
/// here; they become conditions.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The object lacks a namespace or name (cannot happen for a namespaced resource).
    #[error("object has no {0}")]
    MissingMetadata(&'static str),
    /// This replica's term as leader ended (or was never confirmed): nothing is written.
    #[error("not the leader (the Lease term ended): status not written")]
    Fenced,
}

impl Error {
    pub(crate) fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube(kube::Error::Api(_)) => "api",
            Error::Kube(_) => "client",
            Error::MissingMetadata(_) => "metadata",
            Error::Fenced => "fenced",
        }
    }
}

/// What every reconcile shares.
pub struct Context {
    /// Kubernetes client.
    pub client: Client,
    /// Publishes Events.
    pub recorder: EventRecorder,
    /// Metrics.
    pub metrics: Metrics,
    /// Reads connector status.
    pub prober: Arc<Prober>,
    /// Whether this replica may write (leader election).
    pub fence: Fence,
    /// Batch groups and their pollers.
    pub batcher: Arc<Batcher>,
    /// Reconciles the batch pollers ask for (taken by [`run`]).
    pub(crate) triggered:
        Mutex<Option<futures::channel::mpsc::UnboundedReceiver<ObjectRef<ManagedConnector>>>>,
    /// Consecutive failed probes per object uid, for backoff.
    pub(crate) failures: Mutex<HashMap<String, u32>>,
    /// Resources that have per-resource metric series, to drop them when the resource goes.
    pub(crate) tracked: Mutex<HashSet<(String, String)>>,
    /// Resources in the watch cache, for pacing (updated by the pruner).
    pub(crate) watched: AtomicUsize,
    /// Per object uid: Kubernetes API failures in a row, and what the last probe found when its
    /// status could not be written, so the retry writes it without asking the source again.
    pub(crate) kube_failures: Mutex<HashMap<String, KubeFailures>>,
    /// Per object uid: the declaration a source refused (its fingerprint) and why; it is not put
    /// again until the declaration, Secret values included, changes.
    pub(crate) refusals: Mutex<HashMap<String, Refusal>>,
    /// Key of those fingerprints; never leaves the process.
    pub(crate) fingerprint_key: ring::hmac::Key,
    /// The watched resources (set by [`run`]), to find the resources claiming one connector.
    pub(crate) resources: std::sync::OnceLock<Store<ManagedConnector>>,
    /// Reconciles one namespace may run at once (set by [`run`] from its concurrency), and
    /// each namespace's turns.
    pub(crate) tenant_share: AtomicUsize,
    pub(crate) tenant_turns: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

/// A refused declaration: its fingerprint, the condition reason and the message.
pub(crate) type Refusal = (Vec<u8>, String, String);

/// Kubernetes API trouble of one resource.
#[derive(Default)]
pub(crate) struct KubeFailures {
    in_a_row: u32,
    unwritten: Option<(Observation, Instant)>,
}

impl Context {
    /// A context for the controller.
    pub fn new(
        client: Client,
        reporter: Reporter,
        metrics: Metrics,
        prober: Prober,
        fence: Fence,
        batch: BatchMode,
        page_size: u32,
    ) -> Self {
        let (batcher, triggered) = Batcher::new(batch, page_size);
        Context {
            batcher: Arc::new(batcher),
            triggered: Mutex::new(Some(triggered)),
            recorder: EventRecorder::new(client.clone(), reporter),
            client,
            metrics,
            prober: Arc::new(prober),
            fence,
            failures: Mutex::default(),
            kube_failures: Mutex::default(),
            refusals: Mutex::default(),
            fingerprint_key: ring::hmac::Key::generate(
                ring::hmac::HMAC_SHA256,
                &ring::rand::SystemRandom::new(),
            )
            .unwrap_or_else(|_| {
                // No system randomness: a key from the clock still keeps the digests apart
                // from any value's plain hash.
                let seed = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default();
                ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &seed.to_le_bytes())
            }),
            tracked: Mutex::default(),
            watched: AtomicUsize::new(0),
            resources: std::sync::OnceLock::new(),
            tenant_share: AtomicUsize::new(tokio::sync::Semaphore::MAX_PERMITS),
            tenant_turns: Mutex::default(),
        }
    }

    /// The shortest cycle in which every watched resource can be probed within the global request
    /// rate, with a quarter of headroom for retries. Polling any faster would only queue reconciles
    /// behind the rate limiter, and the ones queued last would starve.
    pub fn min_cycle(&self) -> Duration {
        let watched = self.watched.load(Ordering::Relaxed);
        let watched = self.batcher.requests_per_cycle(watched) as f64;
        let rps = f64::from(self.prober.gate.max_requests_per_second().max(1));
        Duration::from_secs_f64(watched / rps * 1.25)
    }

    /// A turn for a reconcile of `namespace`, if the namespace has one left (outside
    /// [`crate::controller::run`] no share is set and every reconcile gets one).
    pub(crate) fn tenant_turn(&self, namespace: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let share = self.tenant_share.load(Ordering::Relaxed);
        let turns = {
            let mut turns = self.tenant_turns.lock().unwrap_or_else(|e| e.into_inner());
            if turns.len() >= 4096 && !turns.contains_key(namespace) {
                turns.retain(|_, s| s.available_permits() < share);
            }
            turns
                .entry(namespace.to_string())
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(share)))
                .clone()
        };
        turns.try_acquire_owned().ok()
    }

    pub(crate) fn note_result(&self, uid: &str, failed: bool) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failed {
            let n = failures.entry(uid.to_string()).or_insert(0);
            *n += 1;
            *n
        } else {
            failures.remove(uid);
            0
        }
    }

    /// Drops metric series and backoff state of resources that no longer exist, and counts the
    /// watched resources for pacing.
    pub fn prune(&self, store: &Store<ManagedConnector>) {
        let objects = store.state();
        self.watched.store(objects.len(), Ordering::Relaxed);
        self.metrics.set_watched(objects.len());
        let live: HashSet<(String, String)> = objects
            .iter()
            .map(|o| (o.namespace().unwrap_or_default(), o.name_any()))
            .collect();
        let live_uids: HashSet<String> = objects.iter().filter_map(|o| o.uid()).collect();
        self.batcher.retain(&batch::live_refs(&objects));
        let (groups, batched) = self.batcher.batched_groups();
        self.metrics.set_batched(groups, batched);
        let mut tracked = self.tracked.lock().unwrap_or_else(|e| e.into_inner());
        tracked.retain(|(namespace, name)| {
            let keep = live.contains(&(namespace.clone(), name.clone()));
            if !keep {
                self.metrics.forget(&ResourceLabels::new(namespace, name));
            }
            keep
        });
        drop(tracked);
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.retain(|uid, _| live_uids.contains(uid));
        drop(failures);
        let mut kube = self.kube_failures.lock().unwrap_or_else(|e| e.into_inner());
        kube.retain(|uid, _| live_uids.contains(uid));
        drop(kube);
        let mut refusals = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        refusals.retain(|uid, _| live_uids.contains(uid));
    }

    /// Why the source refused this declaration before, if it did.
    pub(crate) fn refusal(&self, uid: &str, fingerprint: &[u8]) -> Option<(String, String)> {
        let refusals = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        refusals
            .get(uid)
            .filter(|(f, _, _)| f.as_slice() == fingerprint)
            .map(|(_, reason, why)| (reason.clone(), why.clone()))
    }

    /// Remembers (or forgets, with `None`) the refusal of a declaration.
    pub(crate) fn note_refusal(&self, uid: &str, refusal: Option<Refusal>) {
        let mut refusals = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        match refusal {
            Some(r) => refusals.insert(uid.to_string(), r),
            None => refusals.remove(uid),
        };
    }

    /// What the last probe found, if its status could not be written and it is still fresh.
    pub(crate) fn take_unwritten(&self, uid: &str, fresh_for: Duration) -> Option<Observation> {
        let mut kube = self.kube_failures.lock().unwrap_or_else(|e| e.into_inner());
        let (observation, at) = kube.get_mut(uid)?.unwritten.take()?;
        (at.elapsed() < fresh_for).then_some(observation)
    }

    /// Keeps what a probe found when its status could not be written, for the retry.
    pub(crate) fn keep_unwritten(&self, uid: &str, observation: Observation) {
        let mut kube = self.kube_failures.lock().unwrap_or_else(|e| e.into_inner());
        kube.entry(uid.to_string()).or_default().unwritten = Some((observation, Instant::now()));
    }

    /// Counts one more Kubernetes API failure in a row; returns how many.
    pub(crate) fn note_kube_failure(&self, uid: &str) -> u32 {
        let mut kube = self.kube_failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = kube.entry(uid.to_string()).or_default();
        entry.in_a_row = entry.in_a_row.saturating_add(1);
        entry.in_a_row
    }

    pub(crate) fn kube_recovered(&self, uid: &str) {
        let mut kube = self.kube_failures.lock().unwrap_or_else(|e| e.into_inner());
        kube.remove(uid);
    }
}
