//! The ConnectClusters the operator knows, from one watch: resolution looks them up by name
//! without a request, and a change of one reaches every resource that names it.

use crate::connect_cluster::ConnectCluster;
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

    /// Every ConnectCluster.
    pub fn all(&self) -> Vec<Arc<ConnectCluster>> {
        self.store.get().map(Store::state).unwrap_or_default()
    }
}
