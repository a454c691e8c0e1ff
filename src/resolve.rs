//! Resolve (pure): a resource's spec, the operator's defaults and the Secrets and ConfigMaps the
//! spec names become a [`Target`] (where to ask, with which credentials, for which connector) or
//! the [`Failure`] that says what is missing.
//!
//! Split in two so no I/O happens here: [`references`] says which objects to read, the caller
//! reads them, [`resolve`] decides. Every policy check (where credentials may go, plain http,
//! refused hosts) happens here, before anything is sent.

use crate::connect::ConnectAuth;
use crate::controller::OperatorConfig;
use crate::crd::ManagedConnector;
use crate::dataplane::auth::Credentials;
use crate::policy::UrlPolicy;
use crate::probe::{Failure, FailureKind};
use crate::refs::{Data, Lookup, RefKind, unreadable};
use kube::ResourceExt;
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash, Hasher};
use url::Url;

/// An object a spec refers to: (kind, namespace, name).
pub type Reference = (RefKind, String, String);

/// What was read for each [`Reference`].
pub type Lookups = BTreeMap<Reference, Lookup>;

/// Where and how to read one connector's status.
#[derive(Debug, Clone)]
pub struct Target {
    /// The connector's name in its Connect cluster.
    pub connector: String,
    /// The Connect cluster's name (Data Plane) or `""` (Kafka Connect, one cluster per URL).
    pub cluster: String,
    /// The source and its credentials.
    pub source: Source,
    /// The Secret whose credentials a source refused, to read it again rather than wait for the
    /// cache to expire.
    pub credentials_ref: Option<(String, String)>,
}

/// A status source and what it takes to ask it.
#[derive(Debug, Clone)]
pub enum Source {
    /// Redpanda Cloud's Data Plane API.
    DataPlane {
        /// Base URL.
        url: Url,
        /// Credentials for the Bearer token.
        credentials: Credentials,
    },
    /// A self-hosted Kafka Connect REST API.
    KafkaConnect {
        /// Base URL.
        url: Url,
        /// Authentication.
        auth: ConnectAuth,
        /// Extra trusted CA certificates (PEM).
        ca: Option<Vec<u8>>,
    },
}

/// Which kind of source (the word lives with the failures it classifies, below every stage).
pub use crate::probe::SourceKind;

impl Source {
    /// Which kind of source this is.
    pub fn kind(&self) -> SourceKind {
        match self {
            Source::DataPlane { .. } => SourceKind::DataPlane,
            Source::KafkaConnect { .. } => SourceKind::KafkaConnect,
        }
    }

    /// The base URL.
    pub fn url(&self) -> &Url {
        match self {
            Source::DataPlane { url, .. } | Source::KafkaConnect { url, .. } => url,
        }
    }

    /// Feeds everything that decides what this source answers and to whom into `h`: kind, URL,
    /// credentials (secret values included, so only holders of the same secret share an answer)
    /// and CA. Used with a process-local keyed hasher; the result never leaves the process.
    fn hash_access(&self, h: &mut impl Hasher) {
        self.kind().hash(h);
        self.url().as_str().hash(h);
        match self {
            Source::DataPlane { credentials, .. } => credentials.hash_secrets(h),
            Source::KafkaConnect { auth, ca, .. } => {
                match auth {
                    ConnectAuth::None => 0u8.hash(h),
                    ConnectAuth::Basic { username, password } => {
                        1u8.hash(h);
                        username.hash(h);
                        password.expose_secret().hash(h);
                    }
                    ConnectAuth::Bearer(t) => {
                        2u8.hash(h);
                        t.expose_secret().hash(h);
                    }
                }
                ca.hash(h);
            }
        }
    }
}

/// Resources whose targets share this key can be answered by one listing of their Connect
/// cluster: same source, origin, cluster and credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    /// Source kind.
    pub kind: SourceKind,
    /// Base URL (no userinfo: the CRD and the CLI refuse it).
    pub url: String,
    /// Connect cluster name.
    pub cluster: String,
    /// Keyed hash of the credentials and CA (see [`Source::hash_access`]).
    pub access: u64,
}

impl Target {
    /// The batch group of this target; `hasher` is one process-wide random key.
    pub fn group_key(&self, hasher: &impl BuildHasher) -> GroupKey {
        let mut h = hasher.build_hasher();
        self.source.hash_access(&mut h);
        GroupKey {
            kind: self.source.kind(),
            url: self.source.url().to_string(),
            cluster: self.cluster.clone(),
            access: h.finish(),
        }
    }
}

/// The objects the spec (or the operator's defaults) names, to be read before [`resolve`].
pub fn references(mc: &ManagedConnector, config: &OperatorConfig) -> Vec<Reference> {
    let namespace = mc.namespace().unwrap_or_default();
    let mut wanted = Vec::new();
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

/// Decides where and how to read the resource's connector, from what [`references`] named.
pub fn resolve(
    mc: &ManagedConnector,
    config: &OperatorConfig,
    lookups: &Lookups,
) -> Result<Target, Failure> {
    match &mc.spec.kafka_connect {
        Some(source) => resolve_connect(mc, source, config, lookups),
        None => resolve_dataplane(mc, config, lookups),
    }
}

fn lookup<'a>(lookups: &'a Lookups, kind: RefKind, namespace: &str, name: &str) -> &'a Lookup {
    lookups
        .get(&(kind, namespace.to_string(), name.to_string()))
        .unwrap_or(&Lookup::Missing)
}

fn secret_data<'a>(
    lookups: &'a Lookups,
    namespace: &str,
    name: &str,
    missing: FailureKind,
) -> Result<&'a Data, Failure> {
    match lookup(lookups, RefKind::Secret, namespace, name) {
        Lookup::Found(data) => Ok(data),
        other => Err(unreadable(RefKind::Secret, namespace, name, other, missing)),
    }
}

fn http_url(raw: &str, field: &str) -> Result<Url, Failure> {
    match Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
        _ => Err(Failure::new(
            FailureKind::InvalidArgument,
            format!("{field} {raw:?} is not an http(s) URL"),
        )),
    }
}

fn resolve_dataplane(
    mc: &ManagedConnector,
    config: &OperatorConfig,
    lookups: &Lookups,
) -> Result<Target, Failure> {
    let namespace = mc.namespace().unwrap_or_default();
    let spec_source = mc.spec.dataplane.as_ref();
    let url = match spec_source.and_then(|d| d.url.as_deref()) {
        Some(u) => http_url(u, "spec.dataplane.url")?,
        None => config.default_dataplane_url.clone().ok_or_else(|| {
            Failure::new(
                FailureKind::DataplaneUrlMissing,
                "no Data Plane URL: set spec.dataplane.url or run the operator with --dataplane-url",
            )
        })?,
    };
    let policy = &config.url_policy;
    policy.check_destination(&url, "the Data Plane URL")?;
    let (secret_ns, secret_name) = match spec_source.and_then(|d| d.credentials_secret_ref.as_ref())
    {
        Some(r) => (namespace, r.name.clone()),
        None if !policy
            .operator_credentials_may_go_to(&url, config.default_dataplane_url.as_ref()) =>
        {
            return Err(UrlPolicy::credentials_required(&url, "spec.dataplane.url"));
        }
        None => config.default_credentials_secret.clone().ok_or_else(|| {
            Failure::new(
                FailureKind::CredentialsNotFound,
                "no credentials: set spec.dataplane.credentialsSecretRef or run the operator with --credentials-secret",
            )
        })?,
    };
    let data = secret_data(
        lookups,
        &secret_ns,
        &secret_name,
        FailureKind::CredentialsNotFound,
    )?;
    let credentials =
        Credentials::from_secret_data(data, &config.auth_defaults).map_err(|mut f| {
            f.message = format!("Secret {secret_ns}/{secret_name}: {}", f.message);
            f
        })?;
    policy.check_transport(&url, "the Data Plane API token")?;
    if let Credentials::ClientCredentials { token_url, .. } = &credentials {
        policy.check_destination(token_url, "the token endpoint (token_url)")?;
        policy.check_transport(token_url, "the client secret")?;
    }
    Ok(Target {
        connector: mc.connector_name(),
        cluster: mc.spec.cluster_name.clone(),
        source: Source::DataPlane { url, credentials },
        credentials_ref: Some((secret_ns, secret_name)),
    })
}

fn resolve_connect(
    mc: &ManagedConnector,
    source: &crate::crd::KafkaConnectSource,
    config: &OperatorConfig,
    lookups: &Lookups,
) -> Result<Target, Failure> {
    let namespace = mc.namespace().unwrap_or_default();
    let url = http_url(&source.url, "spec.kafkaConnect.url")?;
    config
        .url_policy
        .check_destination(&url, "spec.kafkaConnect.url")?;
    let auth = match &source.credentials_secret_ref {
        None => ConnectAuth::None,
        Some(r) => {
            let data = secret_data(
                lookups,
                &namespace,
                &r.name,
                FailureKind::CredentialsNotFound,
            )?;
            config
                .url_policy
                .check_transport(&url, "the Kafka Connect credentials")?;
            ConnectAuth::from_secret_data(data).map_err(|e| {
                Failure::new(
                    FailureKind::CredentialsInvalid,
                    format!("Secret {namespace}/{}: {e}", r.name),
                )
            })?
        }
    };
    let ca = match &source.ca {
        None => None,
        Some(ca) => {
            let (kind, key_ref) = match (&ca.secret_key_ref, &ca.config_map_key_ref) {
                (Some(k), _) => (RefKind::Secret, k),
                (None, Some(k)) => (RefKind::ConfigMap, k),
                (None, None) => {
                    return Err(Failure::new(
                        FailureKind::InvalidArgument,
                        "spec.kafkaConnect.ca names neither a Secret nor a ConfigMap key",
                    ));
                }
            };
            match lookup(lookups, kind, &namespace, &key_ref.name) {
                Lookup::Found(data) => match data.get(&key_ref.key) {
                    Some(pem) => Some(pem.clone()),
                    None => {
                        return Err(Failure::new(
                            FailureKind::ReferenceNotFound,
                            format!(
                                "{} {namespace}/{} has no key {:?}",
                                kind.word(),
                                key_ref.name,
                                key_ref.key
                            ),
                        ));
                    }
                },
                other => {
                    return Err(unreadable(
                        kind,
                        &namespace,
                        &key_ref.name,
                        other,
                        FailureKind::ReferenceNotFound,
                    ));
                }
            }
        }
    };
    Ok(Target {
        connector: mc.connector_name(),
        cluster: String::new(),
        credentials_ref: source
            .credentials_secret_ref
            .as_ref()
            .map(|r| (namespace, r.name.clone())),
        source: Source::KafkaConnect { url, auth, ca },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ManagedConnectorSpec;
    use std::hash::RandomState;

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
            references(&own, &c),
            vec![(RefKind::Secret, "team-a".into(), "mine".into())]
        );
        let default = mc("team-a", serde_json::json!({"clusterName": "redpanda"}));
        assert_eq!(
            references(&default, &c),
            vec![(RefKind::Secret, "ops".into(), "rp".into())]
        );
        let connect = mc(
            "team-b",
            serde_json::json!({"clusterName": "x", "kafkaConnect": {"url": "http://c:8083",
                "credentialsSecretRef": {"name": "basic"},
                "ca": {"configMapKeyRef": {"name": "ca", "key": "ca.crt"}}}}),
        );
        assert_eq!(
            references(&connect, &c),
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
            let got = resolve(&mc("team-a", spec), &c, &found);
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
            resolve(&mc("team-a", spec), &c, &found)
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
