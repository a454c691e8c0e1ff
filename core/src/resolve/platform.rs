//! Resolve through a ConnectCluster (pure): the platform's declaration, the namespace's labels
//! and the Secrets the declaration names become a [`Target`], or the [`Failure`] that says why
//! the namespace may not use the cluster. Whether the resource may act is decided here too
//! ([`Grant`]), once, from the cluster's `access` and `connectorNamePrefix`.

use super::parts::{ca_pem, connect_auth, dataplane_credentials, http_url, lookup};
use super::target::{Grant, Lookups, Reference, Source, Target};
use crate::config::OperatorConfig;
use crate::connect_cluster::ConnectCluster;
use crate::crd::ManagedConnector;
use crate::credentials::ConnectAuth;
use crate::probe::{Failure, FailureKind};
use crate::refs::{Lookup, RefKind, unreadable};
use kube::ResourceExt;
use std::collections::BTreeMap;

/// The target of a resource that names `cluster` in `spec.connectClusterRef`.
pub fn resolve(
    mc: &ManagedConnector,
    config: &OperatorConfig,
    cluster: &ConnectCluster,
    lookups: &Lookups,
) -> Result<Target, Failure> {
    let namespace = mc.namespace().unwrap_or_default();
    let name = cluster.name_any();
    let labels = match lookup(lookups, RefKind::Namespace, "", &namespace) {
        Lookup::Found(data) => data
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect::<BTreeMap<_, _>>(),
        other => {
            return Err(unreadable(
                RefKind::Namespace,
                "",
                &namespace,
                other,
                FailureKind::ConnectClusterRefused,
            ));
        }
    };
    let refused = |why: String| {
        Failure::new(
            FailureKind::ConnectClusterRefused,
            format!("ConnectCluster {name} {why}"),
        )
    };
    match cluster.spec.admits(&labels) {
        Ok(true) => {}
        Ok(false) => {
            return Err(refused(format!(
                "does not admit namespace {namespace}: its labels do not match the cluster's namespaceSelector (ask the platform team)"
            )));
        }
        Err(e) => return Err(refused(e.0)),
    }
    let connector = mc.connector_name();
    let grant = match cluster.spec.may_act_on(&namespace, &connector) {
        Ok(()) => Grant::Allowed,
        Err(e) => Grant::Refused(format!("ConnectCluster {name} {}", e.0)),
    };
    cluster_target(cluster, config, lookups, connector, grant)
}

/// The objects a ConnectCluster's source names (its Secrets, CA; the operator's default
/// credentials when it names none).
pub fn cluster_references(cluster: &ConnectCluster, config: &OperatorConfig) -> Vec<Reference> {
    let mut wanted = Vec::new();
    if let Some(d) = &cluster.spec.dataplane {
        match &d.credentials_secret_ref {
            Some(r) => wanted.push((RefKind::Secret, r.namespace.clone(), r.name.clone())),
            None => wanted.extend(
                config
                    .default_credentials_secret
                    .clone()
                    .map(|(ns, n)| (RefKind::Secret, ns, n)),
            ),
        }
    }
    if let Some(k) = &cluster.spec.kafka_connect {
        if let Some(r) = &k.credentials_secret_ref {
            wanted.push((RefKind::Secret, r.namespace.clone(), r.name.clone()));
        }
        if let Some(ca) = &k.ca {
            match (&ca.secret_key_ref, &ca.config_map_key_ref) {
                (Some(r), _) => wanted.push((RefKind::Secret, r.namespace.clone(), r.name.clone())),
                (None, Some(r)) => {
                    wanted.push((RefKind::ConfigMap, r.namespace.clone(), r.name.clone()))
                }
                (None, None) => {}
            }
        }
    }
    wanted
}

/// Where a ConnectCluster's source is and how to ask it, for `connector` (empty for a check of
/// the cluster itself).
pub fn cluster_target(
    cluster: &ConnectCluster,
    config: &OperatorConfig,
    lookups: &Lookups,
    connector: String,
    grant: Grant,
) -> Result<Target, Failure> {
    let name = cluster.name_any();
    let here = format!("ConnectCluster {name}");
    if let Some(d) = &cluster.spec.dataplane {
        let url = match &d.url {
            Some(u) => http_url(u, &format!("{here} spec.dataplane.url"))?,
            None => config.default_dataplane_url.clone().ok_or_else(|| {
                Failure::new(
                    FailureKind::DataplaneUrlMissing,
                    format!(
                        "{here} names no Data Plane URL and the operator runs without --dataplane-url"
                    ),
                )
            })?,
        };
        config
            .url_policy
            .check_destination(&url, &format!("{here}'s Data Plane URL"))?;
        let (secret_ns, secret_name) = match &d.credentials_secret_ref {
            Some(r) => (r.namespace.clone(), r.name.clone()),
            None => config.default_credentials_secret.clone().ok_or_else(|| {
                Failure::new(
                    FailureKind::CredentialsNotFound,
                    format!(
                        "{here} names no credentials Secret and the operator runs without --credentials-secret"
                    ),
                )
            })?,
        };
        let credentials = dataplane_credentials(lookups, &secret_ns, &secret_name, &url, config)?;
        return Ok(Target {
            connector,
            cluster: d.cluster_name.clone(),
            source: Source::DataPlane { url, credentials },
            credentials_ref: Some((secret_ns, secret_name)),
            grant,
        });
    }
    let Some(k) = &cluster.spec.kafka_connect else {
        return Err(Failure::new(
            FailureKind::ConnectClusterRefused,
            format!("{here} sets neither dataplane nor kafkaConnect"),
        ));
    };
    let url = http_url(&k.url, &format!("{here} spec.kafkaConnect.url"))?;
    config
        .url_policy
        .check_destination(&url, &format!("{here} spec.kafkaConnect.url"))?;
    let auth = match &k.credentials_secret_ref {
        None => ConnectAuth::None,
        Some(r) => connect_auth(lookups, &r.namespace, &r.name, &url, config)?,
    };
    let ca = match &k.ca {
        None => None,
        Some(ca) => match (&ca.secret_key_ref, &ca.config_map_key_ref) {
            (Some(r), _) => Some(ca_pem(
                lookups,
                RefKind::Secret,
                &r.namespace,
                &r.name,
                &r.key,
            )?),
            (None, Some(r)) => Some(ca_pem(
                lookups,
                RefKind::ConfigMap,
                &r.namespace,
                &r.name,
                &r.key,
            )?),
            (None, None) => None,
        },
    };
    Ok(Target {
        connector,
        cluster: String::new(),
        source: Source::KafkaConnect { url, auth, ca },
        credentials_ref: k
            .credentials_secret_ref
            .as_ref()
            .map(|r| (r.namespace.clone(), r.name.clone())),
        grant,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ManagedConnectorSpec;
    use crate::resolve::references;

    fn mc(namespace: &str, name: &str) -> ManagedConnector {
        let spec: ManagedConnectorSpec =
            serde_json::from_value(serde_json::json!({"connectClusterRef": {"name": "shared"}}))
                .expect("spec");
        let mut mc = ManagedConnector::new(name, spec);
        mc.metadata.namespace = Some(namespace.into());
        mc
    }

    fn cluster(spec: serde_json::Value) -> ConnectCluster {
        ConnectCluster::new(
            "shared",
            serde_json::from_value(spec).expect("cluster spec"),
        )
    }

    fn found(pairs: &[(&str, &str)]) -> Lookup {
        Lookup::Found(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
        )
    }

    #[test]
    fn a_connect_cluster_decides_who_may_use_it_and_act() {
        let config = OperatorConfig::default();
        let shared = cluster(serde_json::json!({
            "kafkaConnect": {"url": "https://connect.kafka:8083",
                "credentialsSecretRef": {"namespace": "platform", "name": "connect"}},
            "namespaceSelector": {"matchLabels": {"tenant": "yes"}},
            "access": "Act", "connectorNamePrefix": "{namespace}-"}));
        let secret = (
            (
                RefKind::Secret,
                "platform".to_string(),
                "connect".to_string(),
            ),
            found(&[("username", "u"), ("password", "p")]),
        );
        let tenant_ns = (
            (RefKind::Namespace, String::new(), "team-a".to_string()),
            found(&[("tenant", "yes")]),
        );
        let other_ns = (
            (RefKind::Namespace, String::new(), "team-b".to_string()),
            found(&[]),
        );
        let lookups: Lookups = [secret, tenant_ns, other_ns].into_iter().collect();

        let refs = references(&mc("team-a", "team-a-orders"), &config, Some(&shared));
        assert_eq!(
            refs,
            vec![
                (RefKind::Namespace, String::new(), "team-a".to_string()),
                (
                    RefKind::Secret,
                    "platform".to_string(),
                    "connect".to_string()
                )
            ]
        );
        let own =
            resolve(&mc("team-a", "team-a-orders"), &config, &shared, &lookups).expect("admitted");
        assert_eq!(own.grant, Grant::Allowed);
        assert_eq!(own.source.url().as_str(), "https://connect.kafka:8083/");
        assert_eq!(
            own.credentials_ref,
            Some(("platform".into(), "connect".into()))
        );
        let foreign =
            resolve(&mc("team-a", "team-b-orders"), &config, &shared, &lookups).expect("readable");
        assert!(
            matches!(&foreign.grant, Grant::Refused(m) if m.contains("\"team-a-\"")),
            "{:?}",
            foreign.grant
        );
        let outsider = resolve(&mc("team-b", "team-b-orders"), &config, &shared, &lookups)
            .expect_err("not admitted");
        assert_eq!(outsider.kind, FailureKind::ConnectClusterRefused);
        assert!(
            outsider.message.contains("namespace team-b"),
            "{}",
            outsider.message
        );

        let read_only = cluster(
            serde_json::json!({"dataplane": {"url": "https://api.example",
            "credentialsSecretRef": {"namespace": "platform", "name": "rp"}}}),
        );
        let lookups: Lookups = [
            (
                (RefKind::Namespace, String::new(), "team-a".to_string()),
                found(&[]),
            ),
            (
                (RefKind::Secret, "platform".to_string(), "rp".to_string()),
                found(&[("token", "t")]),
            ),
        ]
        .into_iter()
        .collect();
        let t = resolve(&mc("team-a", "x"), &config, &read_only, &lookups).expect("readable");
        assert!(matches!(t.grant, Grant::Refused(_)));
        assert_eq!(t.cluster, "redpanda");
    }
}
