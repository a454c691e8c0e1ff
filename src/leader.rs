//! Leader election over a coordination.k8s.io Lease (kube-lease-manager), so that several replicas
//! can run and only one polls and writes. A replica that loses the lease exits, as
//! controller-runtime's managers do: its caches, backoff state and per-resource metrics belong to
//! its term, and a restart as a standby is the simplest way to drop them all.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;
use kube::{Api, Client};
use kube_lease_manager::{LeaseManagerBuilder, LeaseManagerError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Lease parameters.
#[derive(Debug, Clone)]
pub struct ElectionConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub lease_name: String,
    /// This replica's identity (recorded as the Lease holder).
    pub identity: String,
    /// Seconds a leader's claim is valid without renewal; a standby takes over after that.
    pub lease_duration_seconds: u64,
}

/// A running election.
pub struct Leadership {
    rx: watch::Receiver<bool>,
    task: JoinHandle<Result<kube_lease_manager::LeaseManager, LeaseManagerError>>,
}

impl Leadership {
    /// Joins the election; the background task keeps trying to take and renew the Lease.
    pub async fn join(client: Client, config: &ElectionConfig) -> Result<Self, LeaseManagerError> {
        let duration = config.lease_duration_seconds.max(2);
        let manager = LeaseManagerBuilder::new(client, &config.lease_name)
            .with_namespace(&config.namespace)
            .with_identity(&config.identity)
            .with_duration(duration)
            // Renew a third of the way before expiry so a slow API server does not cost the lease.
            .with_grace((duration / 3).max(1))
            .with_field_manager("managed-connector-operator")
            .build()
            .await?;
        let (rx, task) = manager.watch().await;
        Ok(Leadership { rx, task })
    }

    /// Waits until this replica holds the Lease; `false` if the election ended first.
    pub async fn acquired(&mut self) -> bool {
        self.rx.wait_for(|leader| *leader).await.is_ok()
    }

    /// Resolves when this replica no longer holds the Lease.
    pub async fn lost(&mut self) {
        let _ = self.rx.wait_for(|leader| !*leader).await;
    }

    /// Gives the Lease up at once, so a standby need not wait for it to expire.
    pub async fn release(self) {
        drop(self.rx);
        match self.task.await {
            Ok(Ok(_)) => tracing::info!("released the leader Lease"),
            Ok(Err(e)) => tracing::warn!(error = %e, "could not release the leader Lease"),
            Err(e) => tracing::warn!(error = %e, "leader election task failed"),
        }
    }
}

/// Whether this replica may write now. Without leader election, always. With it, only within the
/// term the Lease grants this replica as last read: checked before every write, so a replica
/// that was frozen (SIGSTOP, a stalled node, a long GC pause) past its term never writes after
/// a new leader took over, even in the moments before it notices.
#[derive(Clone)]
pub struct Fence(Option<Arc<Mutex<Option<Instant>>>>);

/// Margin kept off the end of a term: the clocks of this replica and the one that will take over
/// need not agree to the millisecond.
const FENCE_MARGIN: Duration = Duration::from_secs(1);

impl Fence {
    /// A fence that never closes (no leader election).
    pub fn open() -> Self {
        Fence(None)
    }

    /// A fence that stays closed until [`Fence::guard`] finds this replica holding the Lease.
    pub fn closed() -> Self {
        Fence(Some(Arc::new(Mutex::new(None))))
    }

    /// May this replica write now?
    pub fn may_write(&self) -> bool {
        match &self.0 {
            None => true,
            Some(until) => until
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some_and(|until| Instant::now() < until),
        }
    }

    /// Reads the Lease now and then (a quarter of its duration), extending the term to what it
    /// says: its renewal time plus its duration, measured on this replica's monotonic clock from
    /// the moment of the read. Runs until the guard is dropped; the first read completes before
    /// it returns.
    pub async fn guard(&self, client: Client, config: &ElectionConfig) -> FenceGuard {
        let Some(until) = self.0.clone() else {
            return FenceGuard(tokio::spawn(async {}));
        };
        let leases: Api<Lease> = Api::namespaced(client, &config.namespace);
        let name = config.lease_name.clone();
        let identity = config.identity.clone();
        let every = Duration::from_secs((config.lease_duration_seconds / 4).max(1));
        let read = move || {
            let (leases, name, identity, until) = (
                leases.clone(),
                name.clone(),
                identity.clone(),
                until.clone(),
            );
            async move {
                let asked = Instant::now();
                let term = match leases.get(&name).await {
                    Ok(lease) => remaining_term(&lease, &identity, Timestamp::now()),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the leader Lease; writes wait");
                        None
                    }
                };
                *until.lock().unwrap_or_else(|e| e.into_inner()) = term
                    .and_then(|t| t.checked_sub(FENCE_MARGIN))
                    .map(|t| asked + t);
            }
        };
        read().await;
        FenceGuard(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                read().await;
            }
        }))
    }
}

/// Keeps a [`Fence`] up to date while it lives.
pub struct FenceGuard(JoinHandle<()>);

impl Drop for FenceGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How much of its term `identity` has left by `now`, if it holds `lease`.
pub fn remaining_term(lease: &Lease, identity: &str, now: Timestamp) -> Option<Duration> {
    let spec = lease.spec.as_ref()?;
    if spec.holder_identity.as_deref() != Some(identity) {
        return None;
    }
    let renewed = spec.renew_time.as_ref()?.0;
    let duration = u64::try_from(spec.lease_duration_seconds?).ok()?;
    let end = renewed.checked_add(Duration::from_secs(duration)).ok()?;
    let left = end.duration_since(now);
    if left.is_negative() {
        return None;
    }
    Duration::try_from(left).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn lease(holder: &str, renewed: Timestamp, seconds: i32) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                renew_time: Some(MicroTime(renewed)),
                lease_duration_seconds: Some(seconds),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_term_ends_a_lease_duration_after_the_last_renewal() {
        let t0 = Timestamp::UNIX_EPOCH;
        let at = |s: i64| {
            t0.checked_add(k8s_openapi::jiff::SignedDuration::from_secs(s))
                .unwrap()
        };
        let l = lease("me", t0, 15);
        assert_eq!(
            remaining_term(&l, "me", at(5)),
            Some(Duration::from_secs(10))
        );
        assert_eq!(remaining_term(&l, "me", at(15)), Some(Duration::ZERO));
        assert_eq!(remaining_term(&l, "me", at(16)), None, "expired");
        assert_eq!(remaining_term(&l, "other", at(5)), None, "not the holder");
        assert_eq!(remaining_term(&Lease::default(), "me", at(5)), None);
        assert_eq!(remaining_term(&lease("me", t0, -3), "me", at(0)), None);
    }

    #[test]
    fn open_and_closed_fences() {
        assert!(Fence::open().may_write());
        let fence = Fence::closed();
        assert!(!fence.may_write(), "closed until the Lease is read");
        if let Some(until) = &fence.0 {
            *until.lock().unwrap() = Some(Instant::now() + Duration::from_secs(5));
        }
        assert!(fence.may_write());
        if let Some(until) = &fence.0 {
            *until.lock().unwrap() = Some(Instant::now());
        }
        assert!(!fence.may_write(), "a term that ended");
    }
}
