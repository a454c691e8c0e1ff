//! Resolve (pure): a resource's spec, the operator's defaults, the ConnectCluster it names and
//! the Secrets and ConfigMaps those name become a [`Target`] (where to ask, with which
//! credentials, for which connector, whether it may act) or the [`Failure`] that says what is
//! missing.
//!
//! Split in two so no I/O happens here: [`references`] says which objects to read, the caller
//! reads them, [`resolve`] decides. Every policy check (where credentials may go, plain http,
//! refused hosts, which namespaces a ConnectCluster admits) happens here, before anything is sent.

mod inline;
pub mod parts;
mod place;
pub mod platform;
mod target;

pub use place::{Place, place};
pub use target::{Grant, GroupKey, Lookups, Reference, Source, SourceKind, Target};

use crate::config::OperatorConfig;
use crate::connect_cluster::ConnectCluster;
use crate::crd::ManagedConnector;
use crate::probe::{Failure, FailureKind};
use crate::refs::RefKind;
use kube::ResourceExt;

/// The objects the spec (or the operator's defaults, or the ConnectCluster it names) names, to be
/// read before [`resolve`].
pub fn references(
    mc: &ManagedConnector,
    config: &OperatorConfig,
    cluster: Option<&ConnectCluster>,
) -> Vec<Reference> {
    let namespace = mc.namespace().unwrap_or_default();
    let mut wanted = Vec::new();
    if mc.spec.connect_cluster_ref.is_some() {
        let Some(cluster) = cluster else {
            return wanted;
        };
        wanted.push((RefKind::Namespace, String::new(), namespace));
        wanted.extend(platform::cluster_references(cluster, config));
        return wanted;
    }
    match &mc.spec.kafka_connect {
        Some(source) => {
            if let Some(r) = &source.credentials_secret_ref {
                wanted.push((RefKind::Secret, namespace.clone(), r.name.clone()));
            }
            if let Some(ca) = &source.ca {
                match (&ca.secret_key_ref, &ca.config_map_key_ref) {
                    (Some(k), _) => wanted.push((RefKind::Secret, namespace, k.name.clone())),
                    (None, Some(k)) => wanted.push((RefKind::ConfigMap, namespace, k.name.clone())),
                    (None, None) => {}
                }
            }
        }
        None => match mc
            .spec
            .dataplane
            .as_ref()
            .and_then(|d| d.credentials_secret_ref.as_ref())
        {
            Some(r) => wanted.push((RefKind::Secret, namespace, r.name.clone())),
            None => {
                if let Some((ns, name)) = &config.default_credentials_secret {
                    wanted.push((RefKind::Secret, ns.clone(), name.clone()));
                }
            }
        },
    }
    wanted
}

/// Decides where and how to read the resource's connector, from what [`references`] named and
/// the ConnectCluster the spec names (`None`: it does not exist).
pub fn resolve(
    mc: &ManagedConnector,
    config: &OperatorConfig,
    cluster: Option<&ConnectCluster>,
    lookups: &Lookups,
) -> Result<Target, Failure> {
    if let Some(r) = &mc.spec.connect_cluster_ref {
        let cluster = cluster.ok_or_else(|| {
            Failure::new(
                FailureKind::ConnectClusterNotFound,
                format!("ConnectCluster {} does not exist", r.name),
            )
        })?;
        return platform::resolve(mc, config, cluster, lookups);
    }
    if config.require_connect_cluster {
        return Err(Failure::new(
            FailureKind::ConnectClusterRefused,
            "the operator runs with --require-connect-cluster: name a ConnectCluster in spec.connectClusterRef instead of spec.dataplane or spec.kafkaConnect (kubectl get connectclusters lists them)",
        ));
    }
    match &mc.spec.kafka_connect {
        Some(source) => inline::resolve_connect(mc, source, config, lookups),
        None => inline::resolve_dataplane(mc, config, lookups),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ManagedConnectorSpec;
    use crate::refs::Lookup;
    use std::hash::RandomState;
    use url::Url;

    fn mc(namespace: &str, spec: serde_json::Value) -> ManagedConnector {
        let spec: ManagedConnectorSpec = serde_json::from_value(spec).expect("spec");
        let mut mc = ManagedConnector::new("orders", spec);
        mc.metadata.namespace = Some(namespace.into());
        mc
    }

    fn secret(pairs: &[(&str, &str)]) -> Lookup {
        Lookup::Found(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
        )
    }

    fn config() -> OperatorConfig {
        OperatorConfig {
            default_dataplane_url: Some(Url::parse("https://api.example.com").unwrap()),
            default_credentials_secret: Some(("ops".into(), "rp".into())),
            ..OperatorConfig::default()
        }
    }

    fn lookups(entries: &[(RefKind, &str, &str, Lookup)]) -> Lookups {
        entries
            .iter()
            .map(|(k, ns, n, l)| ((*k, ns.to_string(), n.to_string()), l.clone()))
            .collect()
    }

    #[test]
    fn references_name_what_resolve_reads() {
        let c = config();
        let own = mc(
            "team-a",
            serde_json::json!({"clusterName": "redpanda", "dataplane": {"credentialsSecretRef": {"name": "mine"}}}),
        );
        assert_eq!(
            references(&own, &c, None),
            vec![(RefKind::Secret, "team-a".into(), "mine".into())]
        );
        let default = mc("team-a", serde_json::json!({"clusterName": "redpanda"}));
        assert_eq!(
            references(&default, &c, None),
            vec![(RefKind::Secret, "ops".into(), "rp".into())]
        );
        let connect = mc(
            "team-b",
            serde_json::json!({"clusterName": "x", "kafkaConnect": {"url": "http://c:8083",
                "credentialsSecretRef": {"name": "basic"},
                "ca": {"configMapKeyRef": {"name": "ca", "key": "ca.crt"}}}}),
        );
        assert_eq!(
            references(&connect, &c, None),
            vec![
                (RefKind::Secret, "team-b".into(), "basic".into()),
                (RefKind::ConfigMap, "team-b".into(), "ca".into())
            ]
        );
    }

    #[test]
    fn resolution_table() {
        let c = config();
        let rp = (
            RefKind::Secret,
            "ops",
            "rp",
            secret(&[("client_id", "id"), ("client_secret", "s")]),
        );
        let cases: Vec<(&str, serde_json::Value, Lookups, Result<&str, FailureKind>)> = vec![
            (
                "operator defaults",
                serde_json::json!({"clusterName": "redpanda"}),
                lookups(std::slice::from_ref(&rp)),
                Ok("https://api.example.com/"),
            ),
            (
                "default Secret missing",
                serde_json::json!({"clusterName": "redpanda"}),
                lookups(&[]),
                Err(FailureKind::CredentialsNotFound),
            ),
            (
                "own URL without own Secret",
                serde_json::json!({"clusterName": "redpanda", "dataplane": {"url": "https://evil.example"}}),
                lookups(std::slice::from_ref(&rp)),
                Err(FailureKind::CredentialsRequired),
            ),
            (
                "own URL, own Secret",
                serde_json::json!({"clusterName": "redpanda", "dataplane": {"url": "https://other.example", "credentialsSecretRef": {"name": "mine"}}}),
                lookups(&[(RefKind::Secret, "team-a", "mine", secret(&[("token", "t")]))]),
                Ok("https://other.example/"),
            ),
            (
                "token over plain http",
                serde_json::json!({"clusterName": "redpanda", "dataplane": {"url": "http://other.example", "credentialsSecretRef": {"name": "mine"}}}),
                lookups(&[(RefKind::Secret, "team-a", "mine", secret(&[("token", "t")]))]),
                Err(FailureKind::UrlNotAllowed),
            ),
            (
                "link-local",
                serde_json::json!({"clusterName": "redpanda", "dataplane": {"url": "http://169.254.169.254", "credentialsSecretRef": {"name": "mine"}}}),
                lookups(&[]),
                Err(FailureKind::UrlNotAllowed),
            ),
            (
                "Secret without keys",
                serde_json::json!({"clusterName": "redpanda", "dataplane": {"credentialsSecretRef": {"name": "mine"}}}),
                lookups(&[(RefKind::Secret, "team-a", "mine", secret(&[]))]),
                Err(FailureKind::CredentialsInvalid),
            ),
            (
                "Secret forbidden",
                serde_json::json!({"clusterName": "redpanda", "dataplane": {"credentialsSecretRef": {"name": "mine"}}}),
                lookups(&[(RefKind::Secret, "team-a", "mine", Lookup::Forbidden)]),
                Err(FailureKind::CredentialsNotFound),
            ),
            (
                "Kafka Connect without credentials",
                serde_json::json!({"clusterName": "x", "kafkaConnect": {"url": "http://connect:8083"}}),
                lookups(&[]),
                Ok("http://connect:8083/"),
            ),
            (
                "Kafka Connect CA key missing",
                serde_json::json!({"clusterName": "x", "kafkaConnect": {"url": "https://connect:8083", "ca": {"configMapKeyRef": {"name": "ca", "key": "ca.crt"}}}}),
                lookups(&[(
                    RefKind::ConfigMap,
                    "team-a",
                    "ca",
                    secret(&[("other", "x")]),
                )]),
                Err(FailureKind::ReferenceNotFound),
            ),
        ];
        for (what, spec, found, want) in cases {
            let got = resolve(&mc("team-a", spec), &c, None, &found);
            match (got, want) {
                (Ok(t), Ok(url)) => assert_eq!(t.source.url().as_str(), url, "{what}"),
                (Err(f), Err(kind)) => assert_eq!(f.kind, kind, "{what}: {}", f.message),
                (got, want) => panic!("{what}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn groups_share_source_origin_cluster_and_credentials() {
        let c = config();
        let hasher = RandomState::new();
        let found = lookups(&[
            (
                RefKind::Secret,
                "ops",
                "rp",
                secret(&[("client_id", "id"), ("client_secret", "s")]),
            ),
            (
                RefKind::Secret,
                "team-a",
                "same",
                secret(&[("client_id", "id"), ("client_secret", "s")]),
            ),
            (
                RefKind::Secret,
                "team-a",
                "other",
                secret(&[("client_id", "id"), ("client_secret", "s2")]),
            ),
        ]);
        let key = |spec: serde_json::Value| {
            resolve(&mc("team-a", spec), &c, None, &found)
                .expect("resolves")
                .group_key(&hasher)
        };
        let base = key(serde_json::json!({"clusterName": "redpanda", "connectorName": "a"}));
        assert_eq!(
            base,
            key(serde_json::json!({"clusterName": "redpanda", "connectorName": "b"})),
            "another connector of the same cluster"
        );
        assert_eq!(
            base,
            key(
                serde_json::json!({"clusterName": "redpanda", "dataplane": {"credentialsSecretRef": {"name": "same"}}})
            ),
            "the same credentials from another Secret"
        );
        assert_ne!(
            base,
            key(
                serde_json::json!({"clusterName": "redpanda", "dataplane": {"credentialsSecretRef": {"name": "other"}}})
            ),
            "another client secret"
        );
        assert_ne!(
            base,
            key(serde_json::json!({"clusterName": "other"})),
            "another cluster"
        );
    }
}
