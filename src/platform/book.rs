//! The ConnectClusters the operator knows, from one watch: resolution looks them up by name
//! without a request, and a change of one reaches every resource that names it.

use crate::connect_cluster::ConnectCluster;
use crate::crd::ManagedConnector;
use kube::runtime::reflector::{ObjectRef, Store};
use std::sync::{Arc, OnceLock};

/// ConnectClusters by name; empty until the watch has listed them.
#[derive(Default)]
pub struct ClusterBook {
    store: OnceLock<Store<ConnectCluster>>,
}

impl ClusterBook {
    /// Reads from `store` from now on (set once, by the ConnectCluster controller).
    pub fn set_store(&self, store: Store<ConnectCluster>) {
        let _ = self.store.set(store);
    }

    /// The ConnectCluster named `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Arc<ConnectCluster>> {
        self.store.get()?.get(&ObjectRef::new(name))
    }

    /// The ConnectCluster a resource names, if it names one that exists.
    pub fn of(&self, mc: &ManagedConnector) -> Option<Arc<ConnectCluster>> {
        self.get(&mc.spec.connect_cluster_ref.as_ref()?.name)
    }
}
