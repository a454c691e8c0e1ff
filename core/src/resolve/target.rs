//! What resolution yields: where to read one connector ([`Target`]), with which source and
//! credentials, whether the resource may act there ([`Grant`]), and its batch group.

use crate::crd::OwnedConnector;
use crate::credentials::ConnectAuth;
use crate::credentials::Credentials;
use secrecy::ExposeSecret;
use std::hash::{BuildHasher, Hash, Hasher};
use url::Url;

pub use crate::refs::{Lookups, Reference};

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
    /// Whether commands may go out on this target.
    pub grant: Grant,
}

/// Who decides whether a resource may change its connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Inline source: the credentials decide (the operator-wide ones act only when the operator
    /// allows it; a resource's own credentials act).
    ByCredentials,
    /// A ConnectCluster with `access: Act` allows it for this namespace and connector name.
    Allowed,
    /// A ConnectCluster refuses it; why.
    Refused(String),
}

impl Target {
    /// The connector this target names, as recorded in `status.ownedConnector` and used to find
    /// the resources that claim one connector.
    pub fn identity(&self) -> OwnedConnector {
        OwnedConnector {
            source: self.source.kind().word().to_string(),
            url: self.source.url().to_string(),
            cluster_name: self.cluster.clone(),
            name: self.connector.clone(),
        }
    }
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
    /// The secret values this source sends (client secret, tokens, passwords): a source that
    /// quotes its request back must not put them into status, Events or logs.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Source::DataPlane { credentials, .. } => match credentials {
                Credentials::ClientCredentials { client_secret, .. } => {
                    vec![client_secret.expose_secret()]
                }
                Credentials::StaticToken(t) => vec![t.expose_secret()],
            },
            Source::KafkaConnect { auth, .. } => match auth {
                ConnectAuth::None => vec![],
                ConnectAuth::Basic { password, .. } => vec![password.expose_secret()],
                ConnectAuth::Bearer(t) => vec![t.expose_secret()],
            },
        }
    }

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
