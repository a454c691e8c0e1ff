//! The prober: the only I/O towards Connect. Reads what a spec refers to, resolves its target
//! ([`crate::resolve`], pure) and asks the target's source for one connector; the answer is
//! assessed once, here ([`crate::probe::Report::assess`]). Cluster-wide listings are in
//! [`crate::batch`].

use crate::config::OperatorConfig;
use crate::connect::ConnectClient;
use crate::crd::ManagedConnector;
use crate::dataplane::{ClientConfig, DataplaneClient};
use crate::http::Gate;
use crate::metrics::Metrics;
use crate::platform::book::ClusterBook;
use crate::plugin_cache::PluginCache;
use crate::probe::{Failure, FailureKind, Observation};
use crate::ref_cache::RefSource;
use crate::refs::{RefKind, Reference};
use crate::resolve::{self, Lookups, SourceKind, Target};
use crate::source::StatusSource;
use std::sync::Arc;

/// Resolves where and how to read a resource's status, and reads it.
pub struct Prober {
    /// The one gate (rate limit, concurrency, per-origin shares, pauses) every request to every
    /// source passes.
    pub gate: Arc<Gate>,
    /// The Data Plane client.
    pub dataplane: DataplaneClient,
    /// The Kafka Connect REST client.
    pub connect: ConnectClient,
    /// Where Secrets and ConfigMaps come from.
    pub refs: Arc<dyn RefSource>,
    /// Operator-wide defaults.
    pub config: OperatorConfig,
    /// Metrics.
    pub metrics: Metrics,
    /// The ConnectClusters the platform declares.
    pub clusters: ClusterBook,
    /// The Connect clusters' plugin lists, read rarely.
    pub plugins: PluginCache,
}

impl Prober {
    /// A prober whose sources share one gate with these limits.
    pub fn new(
        client_config: &ClientConfig,
        metrics: Metrics,
        refs: Arc<dyn RefSource>,
        config: OperatorConfig,
    ) -> Result<Self, reqwest::Error> {
        let gate = Arc::new(Gate::new(
            client_config.max_requests_per_second,
            client_config.max_concurrent_requests,
        ));
        let policy = &config.url_policy;
        let dataplane = DataplaneClient::with_gate(
            client_config.clone(),
            policy,
            gate.clone(),
            metrics.clone(),
        )?;
        let connect = ConnectClient::new(gate.clone(), client_config, policy, metrics.clone());
        Ok(Prober {
            gate,
            dataplane,
            connect,
            refs,
            config,
            metrics,
            clusters: ClusterBook::default(),
            plugins: PluginCache::default(),
        })
    }

    /// Reads what the spec refers to and resolves the resource's [`Target`] (pure, in
    /// [`resolve`]). `Err` only when the Kubernetes API failed.
    pub async fn target(
        &self,
        mc: &ManagedConnector,
    ) -> Result<Result<Target, Failure>, kube::Error> {
        let cluster = self.clusters.of(mc);
        let lookups = self
            .lookups(resolve::references(mc, &self.config, cluster.as_deref()))
            .await?;
        Ok(resolve::resolve(
            mc,
            &self.config,
            cluster.as_deref(),
            &lookups,
        ))
    }

    /// Reads each of `references` (through the cache). `Err` only when the Kubernetes API failed.
    pub async fn lookups(&self, references: Vec<Reference>) -> Result<Lookups, kube::Error> {
        let mut lookups = Lookups::new();
        for reference in references {
            let (kind, namespace, name) = &reference;
            let found = self.refs.lookup(*kind, namespace, name).await?;
            lookups.insert(reference, found);
        }
        Ok(lookups)
    }

    /// The source of a kind.
    pub fn source(&self, kind: SourceKind) -> &dyn StatusSource {
        match kind {
            SourceKind::DataPlane => &self.dataplane,
            SourceKind::KafkaConnect => &self.connect,
        }
    }

    /// Asks the target's source for its one connector, and assesses the answer.
    pub async fn fetch_one(&self, target: &Target) -> Observation {
        let observation = self
            .source(target.source.kind())
            .one(target)
            .await
            .observe();
        if !matches!(observation, Observation::Deferred(_)) {
            self.metrics.observed("single", 1);
        }
        self.refused(target, &observation);
        observation
    }

    /// After a source refused the credentials, reads their Secret again next time instead of
    /// waiting for the cache to expire (a fixed Secret is picked up at once).
    pub fn refused(&self, target: &Target, observation: &Observation) {
        if let (Observation::Failed(f), Some((namespace, name))) =
            (observation, &target.credentials_ref)
            && matches!(
                f.kind,
                FailureKind::CredentialsRejected | FailureKind::Unauthenticated
            )
        {
            self.refs.forget(RefKind::Secret, namespace, name);
        }
    }

    /// Probes the resource's connector once. `Err` only when the Kubernetes API failed.
    pub async fn observe(&self, mc: &ManagedConnector) -> Result<Observation, kube::Error> {
        Ok(match self.target(mc).await? {
            Ok(target) => self.fetch_one(&target).await,
            Err(failure) => Observation::Failed(failure),
        })
    }
}
