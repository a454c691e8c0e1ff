//! The pieces both resolutions share (pure): reading what was looked up, URLs, credentials and CA
//! certificates, each with the policy checks that belong to it.

use super::target::Lookups;
use crate::config::OperatorConfig;
use crate::credentials::ConnectAuth;
use crate::credentials::Credentials;
use crate::probe::{Failure, FailureKind};
use crate::refs::{Data, Lookup, RefKind, unreadable};
use url::Url;

pub fn lookup<'a>(lookups: &'a Lookups, kind: RefKind, namespace: &str, name: &str) -> &'a Lookup {
    lookups
        .get(&(kind, namespace.to_string(), name.to_string()))
        .unwrap_or(&Lookup::Missing)
}

pub fn secret_data<'a>(
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

pub fn http_url(raw: &str, field: &str) -> Result<Url, Failure> {
    match Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
        _ => Err(Failure::new(
            FailureKind::InvalidArgument,
            format!("{field} {raw:?} is not an http(s) URL"),
        )),
    }
}

/// Data Plane credentials from a Secret, only towards a token endpoint and over a transport the
/// policy allows for them.
pub fn dataplane_credentials(
    lookups: &Lookups,
    namespace: &str,
    name: &str,
    url: &Url,
    config: &OperatorConfig,
) -> Result<Credentials, Failure> {
    let policy = &config.url_policy;
    let data = secret_data(lookups, namespace, name, FailureKind::CredentialsNotFound)?;
    let credentials =
        Credentials::from_secret_data(data, &config.auth_defaults).map_err(|mut f| {
            f.message = format!("Secret {namespace}/{name}: {}", f.message);
            f
        })?;
    policy.check_transport(url, "the Data Plane API token")?;
    if let Credentials::ClientCredentials { token_url, .. } = &credentials {
        policy.check_destination(token_url, "the token endpoint (token_url)")?;
        policy.check_transport(token_url, "the client secret")?;
    }
    Ok(credentials)
}

/// Kafka Connect credentials from a Secret, only over a transport the policy allows for them.
pub fn connect_auth(
    lookups: &Lookups,
    namespace: &str,
    name: &str,
    url: &Url,
    config: &OperatorConfig,
) -> Result<ConnectAuth, Failure> {
    let data = secret_data(lookups, namespace, name, FailureKind::CredentialsNotFound)?;
    config
        .url_policy
        .check_transport(url, "the Kafka Connect credentials")?;
    ConnectAuth::from_secret_data(data).map_err(|e| {
        Failure::new(
            FailureKind::CredentialsInvalid,
            format!("Secret {namespace}/{name}: {e}"),
        )
    })
}

/// The PEM CA certificate(s) under `key` of a Secret or ConfigMap.
pub fn ca_pem(
    lookups: &Lookups,
    kind: RefKind,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Vec<u8>, Failure> {
    match lookup(lookups, kind, namespace, name) {
        Lookup::Found(data) => data.get(key).cloned().ok_or_else(|| {
            Failure::new(
                FailureKind::ReferenceNotFound,
                format!("{} {namespace}/{name} has no key {key:?}", kind.word()),
            )
        }),
        other => Err(unreadable(
            kind,
            namespace,
            name,
            other,
            FailureKind::ReferenceNotFound,
        )),
    }
}
