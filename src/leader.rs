//! Leader election over a coordination.k8s.io Lease (kube-lease-manager), so that several replicas
//! can run and only one polls and writes. A replica that loses the lease exits, as
//! controller-runtime's managers do: its caches, backoff state and per-resource metrics belong to
//! its term, and a restart as a standby is the simplest way to drop them all.

use kube::Client;
use kube_lease_manager::{LeaseManagerBuilder, LeaseManagerError};
use tokio::sync::watch;
use tokio::task::JoinHandle;

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
