//! The operator's settings from the command line (plain data): what every stage reads, owned by
//! none of them.

use crate::credentials::AuthDefaults;
use crate::policy::UrlPolicy;
use crate::status::Settings;
use std::time::Duration;
use url::Url;

/// Operator-wide settings from the command line.
#[derive(Debug, Clone)]
pub struct OperatorConfig {
    /// Data Plane URL for resources that do not set `spec.dataplane.url`.
    pub default_dataplane_url: Option<Url>,
    /// Credentials Secret (namespace, name) for resources that do not name one.
    pub default_credentials_secret: Option<(String, String)>,
    /// Token endpoint and audience for Secrets that do not set them.
    pub auth_defaults: AuthDefaults,
    /// Timing policy for status.
    pub settings: Settings,
    /// Poll interval of resources that do not set one.
    pub default_poll_interval: Duration,
    /// Watch only this namespace.
    pub namespace: Option<String>,
    /// Watch only resources matching this label selector (a shard).
    pub selector: Option<String>,
    /// Where credentials may be sent.
    pub url_policy: UrlPolicy,
    /// Whether the operator-wide credentials may change connectors (not only read them).
    pub operator_credentials_may_act: bool,
    /// Longest a deletion waits for the connector to go before the resource is let go.
    pub deletion_timeout: Duration,
    /// Resources must name a ConnectCluster (no inline sources).
    pub require_connect_cluster: bool,
    /// Watch ConnectClusters (cluster-scoped).
    pub connect_clusters: bool,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        OperatorConfig {
            default_dataplane_url: None,
            default_credentials_secret: None,
            auth_defaults: AuthDefaults::default(),
            settings: Settings::default(),
            default_poll_interval: crate::crd::DEFAULT_POLL_INTERVAL,
            namespace: None,
            selector: None,
            url_policy: UrlPolicy::default(),
            operator_credentials_may_act: false,
            deletion_timeout: Duration::from_secs(300),
            require_connect_cluster: false,
            connect_clusters: true,
        }
    }
}
