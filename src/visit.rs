//! What one reconcile knows of its resource before it reads anything: its names, uid, the
//! subject its status speaks of, its metric labels and its interval.

use crate::context::{Context, Error};
use crate::crd::{ManagedConnector, SourceKind};
use crate::metrics::ResourceLabels;
use crate::status::Subject;
use kube::ResourceExt;
use std::time::Duration;

/// What one reconcile knows of its resource before it reads anything.
pub(crate) struct Visit {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) uid: String,
    pub(crate) subject: Subject,
    pub(crate) who: ResourceLabels,
    /// The resource's interval, never faster than the global rate allows for every watched
    /// resource (beyond that reconciles would only queue behind the rate limiter).
    pub(crate) poll: Duration,
}

impl Visit {
    pub(crate) fn of(mc: &ManagedConnector, ctx: &Context) -> Result<Self, Error> {
        let namespace = mc.namespace().ok_or(Error::MissingMetadata("namespace"))?;
        let name = mc
            .metadata
            .name
            .clone()
            .ok_or(Error::MissingMetadata("name"))?;
        let cluster = ctx.prober.clusters.of(mc);
        // A resource whose ConnectCluster is missing says so as a Data Plane resource would.
        let source = crate::resolve::place(mc, cluster.as_deref())
            .map(|p| p.kind)
            .unwrap_or(SourceKind::DataPlane);
        Ok(Visit {
            who: ResourceLabels::new(&namespace, &name),
            uid: mc.uid().unwrap_or_default(),
            subject: Subject {
                generation: mc.metadata.generation,
                created: mc.metadata.creation_timestamp.as_ref().map(|t| t.0),
                connector_name: mc.connector_name(),
                cluster_name: mc.spec.cluster_name.clone(),
                source,
            },
            poll: mc
                .spec
                .poll_interval(ctx.prober.config.default_poll_interval)
                .max(ctx.min_cycle()),
            namespace,
            name,
        })
    }

    pub(crate) fn key(&self) -> (&str, &str) {
        (&self.namespace, &self.name)
    }
}
