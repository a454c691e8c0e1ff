//! Claims (pure): at most one resource acts on a connector. Every resource that would change a
//! connector (declared config or state, a restart policy or request, `deletionPolicy: Delete`)
//! claims it, named by its source, origin, Connect cluster and connector name; the oldest claimant
//! (creation time, then namespace/name) acts, every other one only reads and says who owns it.
//! Two resources declaring one connector differently would otherwise reconfigure, pause and
//! resume it in turn forever.

use crate::config::OperatorConfig;
use crate::connect_cluster::ConnectCluster;
use crate::crd::{DeletionPolicy, ManagedConnector, OwnedConnector};
use crate::manage::plan;
use crate::resolve::place;
use kube::ResourceExt;
use std::sync::Arc;
use url::Url;

/// Whether the resource would change its connector, and so claims it (pure).
pub fn claims(mc: &ManagedConnector) -> bool {
    !mc.spec.suspend
        && (plan::wants_management(&mc.spec, mc.annotations())
            || (mc.spec.deletion_policy == Some(DeletionPolicy::Delete)
                && crate::manage::finalizer::present(mc)))
}

/// The connector a spec names, as [`crate::resolve::Target::identity`] names it after
/// resolution, computed from the spec alone (no Secret is read): `None` when the spec names no
/// usable URL (it then cannot act either). `cluster` is the ConnectCluster the spec names.
pub fn identity(
    mc: &ManagedConnector,
    config: &OperatorConfig,
    cluster: Option<&ConnectCluster>,
) -> Option<OwnedConnector> {
    let place = place(mc, cluster)?;
    let url = match place.url {
        Some(u) => Url::parse(u).ok()?,
        None => config.default_dataplane_url.clone()?,
    };
    Some(OwnedConnector {
        source: place.kind.word().to_string(),
        url: url.to_string(),
        cluster_name: place.cluster_name.to_string(),
        name: mc.connector_name(),
    })
}

/// Who acts on `connector` (pure): the oldest of `resources` that claims it, `me` included;
/// `None` when that is `me` (or nobody else claims it). `identity_of` names each resource's
/// connector (see [`identity`]).
pub fn owner_other_than_me(
    me: &ManagedConnector,
    connector: &OwnedConnector,
    resources: &[Arc<ManagedConnector>],
    identity_of: impl Fn(&ManagedConnector) -> Option<OwnedConnector>,
) -> Option<(String, String)> {
    let order = |mc: &ManagedConnector| {
        (
            mc.metadata.creation_timestamp.as_ref().map(|t| t.0),
            mc.namespace().unwrap_or_default(),
            mc.name_any(),
        )
    };
    let mine = order(me);
    resources
        .iter()
        .filter(|other| other.uid() != me.uid() && other.connector_name() == connector.name)
        .filter(|other| claims(other) && identity_of(other).as_ref() == Some(connector))
        .map(|other| order(other))
        .filter(|theirs| *theirs < mine)
        .min()
        .map(|(_, ns, name)| (ns, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ManagedConnectorSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    fn mc(ns: &str, name: &str, created: i64, spec: serde_json::Value) -> Arc<ManagedConnector> {
        let spec: ManagedConnectorSpec = serde_json::from_value(spec).expect("spec");
        let mut mc = ManagedConnector::new(name, spec);
        mc.metadata.namespace = Some(ns.into());
        mc.metadata.uid = Some(format!("{ns}/{name}"));
        mc.metadata.creation_timestamp = Some(Time(Timestamp::from_second(created).expect("t")));
        Arc::new(mc)
    }

    #[test]
    fn the_oldest_claimant_acts_and_readers_never_claim() {
        let config = OperatorConfig::default();
        let declared = |url: &str| {
            serde_json::json!({"connectorName": "orders", "kafkaConnect": {"url": url},
                "config": {"connector.class": "X"}})
        };
        let a = mc("team-a", "orders", 100, declared("http://connect:8083"));
        let b = mc("team-b", "orders", 50, declared("http://connect:8083/"));
        let c = mc(
            "team-c",
            "orders",
            10,
            serde_json::json!({"connectorName": "orders", "kafkaConnect": {"url": "http://connect:8083"}}),
        );
        let d = mc("team-d", "orders", 5, declared("http://other:8083"));
        let e = mc("team-e", "aaa", 50, declared("http://connect:8083"));
        let all = vec![a.clone(), b.clone(), c.clone(), d.clone(), e.clone()];
        let key = |m: &ManagedConnector| identity(m, &config, None);
        let orders = key(&a).expect("identity");
        assert_eq!(
            orders,
            key(&b).expect("identity"),
            "one URL, written two ways"
        );
        assert_eq!(
            owner_other_than_me(&a, &orders, &all, key),
            Some(("team-b".into(), "orders".into())),
            "b is older and declares the same connector"
        );
        assert_eq!(
            owner_other_than_me(&b, &orders, &all, key),
            None,
            "b owns it"
        );
        assert!(!claims(&c), "a reader never claims, however old");
        let tie = mc("team-0", "orders", 50, declared("http://connect:8083"));
        let with_tie = [all.clone(), vec![tie]].concat();
        assert_eq!(
            owner_other_than_me(&b, &orders, &with_tie, key),
            Some(("team-0".into(), "orders".into())),
            "same creation second: namespace/name decides"
        );
        let mut suspended = (*b).clone();
        suspended.spec.suspend = true;
        let all = vec![a.clone(), Arc::new(suspended), c, d, e];
        assert_eq!(
            owner_other_than_me(&a, &orders, &all, key),
            Some(("team-e".into(), "aaa".into())),
            "a suspended claimant acts on nothing: the next oldest one acts"
        );
    }
}
