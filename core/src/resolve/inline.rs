//! Resolution of an inline source (pure): `spec.dataplane` (or the operator's defaults) and
//! `spec.kafkaConnect`, with the Secrets and ConfigMaps of the resource's own namespace.

use super::parts::{ca_pem, connect_auth, dataplane_credentials, http_url};
use super::target::{Grant, Lookups, Source, Target};
use crate::config::OperatorConfig;
use crate::crd::ManagedConnector;
use crate::credentials::ConnectAuth;
use crate::policy::UrlPolicy;
use crate::probe::{Failure, FailureKind};
use crate::refs::RefKind;
use kube::ResourceExt;

pub fn resolve_dataplane(
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
    let credentials = dataplane_credentials(lookups, &secret_ns, &secret_name, &url, config)?;
    Ok(Target {
        connector: mc.connector_name(),
        cluster: mc.spec.cluster_name.clone(),
        source: Source::DataPlane { url, credentials },
        credentials_ref: Some((secret_ns, secret_name)),
        grant: Grant::ByCredentials,
    })
}

pub fn resolve_connect(
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
        Some(r) => connect_auth(lookups, &namespace, &r.name, &url, config)?,
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
            Some(ca_pem(
                lookups,
                kind,
                &namespace,
                &key_ref.name,
                &key_ref.key,
            )?)
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
        grant: Grant::ByCredentials,
    })
}
