//! The Secrets, ConfigMaps and Namespaces resources refer to, read with a GET and kept briefly
//! (I/O), behind a small trait so the probe path runs without an API server.

use crate::refs::{Data, Lookup, RefKind};
use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::{Api, Client};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Reads the Secrets and ConfigMaps resources refer to. A trait so that the probe path can be
/// exercised without an API server; the operator uses [`RefCache`].
pub trait RefSource: Send + Sync {
    /// Looks up `namespace/name`. `Err` only when the Kubernetes API failed (retried).
    fn lookup<'a>(
        &'a self,
        kind: RefKind,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Lookup, kube::Error>>;

    /// Drops what is cached for the object, after what it held was refused.
    fn forget(&self, kind: RefKind, namespace: &str, name: &str);
}

/// Secrets and ConfigMaps read with a GET and kept for a short time, instead of a cluster-wide
/// watch: the operator never holds every Secret of the cluster in memory, and its RBAC can be
/// limited to `get`. A fixed or newly created object is picked up within [`RefCache::TTL`].
pub struct RefCache {
    client: Client,
    entries: Mutex<HashMap<RefKey, (Instant, Lookup)>>,
}

/// (kind, namespace, name) of a cached reference.
type RefKey = (RefKind, String, String);

impl RefCache {
    /// How long a read object (or its absence) is remembered.
    pub const TTL: Duration = Duration::from_secs(30);
    /// Bytes of Secret and ConfigMap data held at most; beyond, the cache starts over (tenants
    /// choose how many objects their resources name, and how large they are).
    pub const MAX_BYTES: usize = 64 * 1024 * 1024;

    /// A cache reading through `client`.
    pub fn new(client: Client) -> Self {
        RefCache {
            client,
            entries: Mutex::default(),
        }
    }
}

fn lookup_result<K>(
    result: Result<Option<K>, kube::Error>,
    data: impl FnOnce(K) -> Data,
) -> Result<Lookup, kube::Error> {
    match result {
        Ok(Some(obj)) => Ok(Lookup::Found(data(obj))),
        Ok(None) => Ok(Lookup::Missing),
        Err(kube::Error::Api(s)) if s.code == 403 => Ok(Lookup::Forbidden),
        Err(e) => Err(e),
    }
}

impl RefSource for RefCache {
    fn lookup<'a>(
        &'a self,
        kind: RefKind,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Lookup, kube::Error>> {
        async move {
            let key = (kind, namespace.to_string(), name.to_string());
            {
                let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((at, found)) = entries.get(&key)
                    && at.elapsed() < Self::TTL
                {
                    return Ok(found.clone());
                }
            }
            let found = match kind {
                RefKind::Secret => {
                    let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
                    lookup_result(api.get_opt(name).await, |s| {
                        s.data
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(k, v)| (k, v.0))
                            .collect()
                    })?
                }
                RefKind::ConfigMap => {
                    let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
                    lookup_result(api.get_opt(name).await, |c| {
                        let mut data: Data = c
                            .data
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(k, v)| (k, v.into_bytes()))
                            .collect();
                        data.extend(
                            c.binary_data
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(k, v)| (k, v.0)),
                        );
                        data
                    })?
                }
                RefKind::Namespace => {
                    let api: Api<Namespace> = Api::all(self.client.clone());
                    lookup_result(api.get_metadata_opt(name).await, |n| {
                        n.metadata
                            .labels
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(k, v)| (k, v.into_bytes()))
                            .collect()
                    })?
                }
            };
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            // Expired entries go when new ones come: the cache holds what was read in the last
            // TTL, never everything ever read.
            entries.retain(|_, (at, _)| at.elapsed() < Self::TTL);
            let size = |l: &Lookup| match l {
                Lookup::Found(data) => data.iter().map(|(k, v)| k.len() + v.len()).sum(),
                _ => 0,
            };
            let held: usize = entries.values().map(|(_, l)| size(l)).sum();
            if held.saturating_add(size(&found)) > Self::MAX_BYTES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), found.clone()));
            Ok(found)
        }
        .boxed()
    }

    fn forget(&self, kind: RefKind, namespace: &str, name: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&(kind, namespace.to_string(), name.to_string()));
    }
}
