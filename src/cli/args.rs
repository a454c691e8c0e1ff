//! The flags of `run` (every one also settable by an environment variable, shown in `--help`),
//! their parsers, and the settings they describe.

use crate::batch::BatchMode;
use crate::config::OperatorConfig;
use crate::crd::parse_go_duration;
use crate::dataplane::ClientConfig;
use crate::dataplane::auth::{AuthDefaults, DEFAULT_AUDIENCE, DEFAULT_TOKEN_URL};
use crate::leader::ElectionConfig;
use crate::policy::UrlPolicy;
use crate::status::Settings;
use crate::telemetry::LogFormat;
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;
use url::Url;

/// Flags of `run`.
#[derive(Debug, Args)]
#[command(next_line_help = false)]
pub struct RunArgs {
    /// Data Plane API URL for resources without spec.dataplane.url
    /// (e.g. https://api-a1b2c3.cabc123.fmc.prd.cloud.redpanda.com).
    #[arg(long, env = "MCO_DATAPLANE_URL", value_parser = parse_http_url)]
    pub dataplane_url: Option<Url>,

    /// Credentials Secret, as <namespace>/<name>, for resources without
    /// spec.dataplane.credentialsSecretRef. Keys: client_id and client_secret (optional token_url,
    /// audience), or token.
    #[arg(long, env = "MCO_CREDENTIALS_SECRET", value_parser = parse_secret_ref, value_name = "NAMESPACE/NAME")]
    pub credentials_secret: Option<(String, String)>,

    /// Hosts, besides the one of --dataplane-url, that may receive the operator-wide credentials
    /// (--credentials-secret) when a resource sets spec.dataplane.url without its own Secret:
    /// comma-separated patterns, `*` matching any characters (e.g.
    /// `*.fmc.prd.cloud.redpanda.com`). Default: none.
    #[arg(
        long,
        env = "MCO_TRUSTED_HOSTS",
        value_delimiter = ',',
        value_name = "PATTERNS"
    )]
    pub trusted_hosts: Vec<String>,

    /// Send credentials (tokens, client secrets, passwords) over plain http to other hosts than
    /// loopback. Off by default: only https carries a credential off the machine.
    #[arg(long, env = "MCO_ALLOW_INSECURE_HTTP", default_value_t = false)]
    pub allow_insecure_http: bool,

    /// Only these hosts may be probed or asked for tokens at all: comma-separated patterns, `*`
    /// matching any characters (e.g. `*.cloud.redpanda.com,connect.kafka.svc`). Default: any
    /// host. A refused URL is URLNotAllowed.
    #[arg(
        long,
        env = "MCO_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "PATTERNS"
    )]
    pub allowed_hosts: Vec<String>,

    /// Connect to link-local addresses (169.254.0.0/16, fe80::/10 and the cloud metadata
    /// addresses), refused by default whether written in a URL or resolved from a name.
    #[arg(long, env = "MCO_ALLOW_LINK_LOCAL", default_value_t = false)]
    pub allow_link_local: bool,

    /// OAuth2 token endpoint for Secrets without a token_url key.
    #[arg(long, env = "MCO_TOKEN_URL", default_value = DEFAULT_TOKEN_URL, value_parser = parse_http_url)]
    pub token_url: Url,

    /// Token audience for Secrets without an audience key.
    #[arg(long, env = "MCO_AUDIENCE", default_value = DEFAULT_AUDIENCE)]
    pub audience: String,

    /// Poll interval for resources without spec.pollInterval (Go duration, at least 5s).
    #[arg(long, env = "MCO_POLL_INTERVAL", default_value = "30s", value_parser = parse_poll_interval)]
    pub poll_interval: Duration,

    /// Refresh status.lastSyncTime at most this often while nothing else changes; a steady
    /// connector costs one status write per heartbeat, none per poll.
    #[arg(long, env = "MCO_STATUS_HEARTBEAT", default_value = "5m", value_parser = parse_duration)]
    pub status_heartbeat: Duration,

    /// How long after a resource's creation a missing connector is expected (still being
    /// created) rather than a problem (Stalled).
    #[arg(long, env = "MCO_NOT_FOUND_GRACE_PERIOD", default_value = "5m", value_parser = parse_duration)]
    pub not_found_grace_period: Duration,

    /// How long the last known state is reported as current while its source (Data Plane or
    /// Kafka Connect) cannot be read; after that Ready turns Unknown (StatusStale).
    #[arg(long, env = "MCO_STALE_AFTER", default_value = "10m", value_parser = parse_duration)]
    pub stale_after: Duration,

    /// How long a connector may run with no tasks, or it or a task wait for a worker
    /// (UNASSIGNED), before it is Ready=False and Stalled=True (reason NoTasks or
    /// UnassignedTooLong); `0s` turns the check off.
    #[arg(long, env = "MCO_STALL_AFTER", default_value = "5m", value_parser = parse_duration)]
    pub stall_after: Duration,

    /// How often each connector's topics (`status.topics`) are read: one request per connector
    /// (Kafka Connect `GET /connectors/{c}/topics`, the Data Plane's `.../topics`), so `0s` (the
    /// default) reads none; `10m` suits hundreds of connectors.
    #[arg(long, env = "MCO_TOPICS_REFRESH", default_value = "0s", value_parser = parse_duration)]
    pub topics_refresh: Duration,

    /// How long a resource with `deletionPolicy: Delete` waits for its connector to be deleted
    /// (credentials or source gone, refusals) before it is let go anyway, with a
    /// `ConnectorLeftBehind` Warning naming the connector: a deletion always ends, and so does
    /// the deletion of a namespace holding it.
    #[arg(long, env = "MCO_DELETION_TIMEOUT", default_value = "5m", value_parser = parse_duration)]
    pub deletion_timeout: Duration,

    /// Requests to the sources (Data Plane, Kafka Connect, token endpoints) in flight at once,
    /// across all resources.
    #[arg(long, env = "MCO_MAX_CONCURRENT_REQUESTS", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent_requests: u16,

    /// Requests per second to the sources (Data Plane, Kafka Connect, token endpoints), across
    /// all resources.
    #[arg(long, env = "MCO_MAX_REQUESTS_PER_SECOND", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_requests_per_second: u32,

    /// Timeout of one request to a source (Data Plane, Kafka Connect) or token endpoint, body
    /// included.
    #[arg(long, env = "MCO_REQUEST_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Least time between two token requests for one credential set. Redpanda Cloud's token
    /// quota is per organisation and per day: however many resources or URLs answer 401, a
    /// credential set costs at most one token per interval (longer while fresh tokens are
    /// refused).
    #[arg(long, env = "MCO_MIN_TOKEN_INTERVAL", default_value = "1m", value_parser = parse_duration)]
    pub min_token_interval: Duration,

    /// Largest response read from a source (Data Plane, Kafka Connect) or token endpoint, in
    /// bytes; larger answers are an InvalidResponse.
    #[arg(long, env = "MCO_MAX_RESPONSE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_response_bytes: usize,

    /// When to read a whole Connect cluster in one listing (paged on the Data Plane,
    /// `?expand=status` on Kafka Connect) instead of one request per connector: `auto` lists
    /// clusters two or more resources point at with the same credentials, `always` every one,
    /// `never` none. A source whose list endpoint is unusable is read per connector.
    #[arg(long, env = "MCO_BATCH", value_enum, default_value = "auto")]
    pub batch: BatchMode,

    /// Per-resource metric series: `full` (every holistic state as 0/1 and every task state,
    /// sixteen series per resource), `compact` (the current state, the task states that have
    /// tasks, Ready and its reason: about four; the chart's alerts and dashboard work the same)
    /// or `off` (none; the per-connector alerts then have nothing to read).
    #[arg(
        long,
        env = "MCO_CONNECTOR_METRICS",
        value_enum,
        default_value = "full"
    )]
    pub connector_metrics: crate::metrics::ConnectorMetrics,

    /// Connectors per page of a Data Plane listing, at most: the API's largest page, so that a
    /// cluster of 1,000 connectors is one request. A page larger than --max-response-bytes
    /// halves the size for that cluster (remembered while the operator runs).
    #[arg(long, env = "MCO_LIST_PAGE_SIZE", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub list_page_size: u32,

    /// Let resources that use the operator-wide --credentials-secret change connectors
    /// (spec.config, spec.state, restarts, deletionPolicy: Delete). Off by default: those
    /// credentials serve every namespace, and anyone who can write a ManagedConnector could act
    /// with them; resources naming their own Secret always may.
    #[arg(
        long,
        env = "MCO_OPERATOR_CREDENTIALS_MAY_ACT",
        default_value_t = false
    )]
    pub operator_credentials_may_act: bool,

    /// Tenants may use only Connect clusters the platform declares (`ConnectCluster`, named in
    /// `spec.connectClusterRef`): resources naming `spec.dataplane` or `spec.kafkaConnect` are
    /// refused with `ConnectClusterRefused`, so no tenant chooses where the operator connects.
    #[arg(long, env = "MCO_REQUIRE_CONNECT_CLUSTER", default_value_t = false)]
    pub require_connect_cluster: bool,

    /// Watch ConnectClusters (cluster-scoped: needs list/watch on connectclusters, patch on
    /// connectclusters/status and get on namespaces). `false` where the operator may not read
    /// cluster-scoped objects (the chart's namespaced mode): resources naming a ConnectCluster
    /// then report `ConnectClusterNotFound`.
    #[arg(long, env = "MCO_CONNECT_CLUSTERS", default_value_t = true, action = clap::ArgAction::Set)]
    pub connect_clusters: bool,

    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "MCO_NAMESPACE")]
    pub namespace: Option<String>,

    /// Watch only resources matching this label selector (e.g. `shard=a`, `team in (x,y)`), so
    /// several Deployments can each own a shard of the resources. Each shard needs its own
    /// --leader-election-lease-name. Keep the resources of one Connect cluster in one shard
    /// (label them by cluster) so each cluster is listed once.
    #[arg(long, env = "MCO_SELECTOR")]
    pub selector: Option<String>,

    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, env = "MCO_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,

    /// Log line format.
    #[arg(long, env = "MCO_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Log filter in RUST_LOG syntax, e.g. `info` or `managed_connector_operator=debug,kube=warn`.
    #[arg(long, env = "MCO_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Elect a leader through a Lease so that several replicas can run: only the leader polls
    /// and writes; a standby takes over when the leader's Lease expires.
    #[arg(long, env = "MCO_LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,

    /// Longest a shutdown (SIGTERM, SIGINT, a lost Lease) waits for reconciles in flight before
    /// abandoning them (their requests are cancelled); then the Lease is released and the process
    /// exits. Keep it below the Pod's terminationGracePeriodSeconds (the chart: 30s).
    #[arg(long, env = "MCO_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,

    /// Namespace of the leader Lease (default: the Pod's namespace from POD_NAMESPACE, else
    /// `default`).
    #[arg(long, env = "MCO_LEADER_ELECTION_NAMESPACE")]
    pub leader_election_namespace: Option<String>,

    /// Name of the leader Lease.
    #[arg(
        long,
        env = "MCO_LEADER_ELECTION_LEASE_NAME",
        default_value = "managed-connector-operator"
    )]
    pub leader_election_lease_name: String,

    /// How long a leader's Lease stays valid without renewal: the longest a standby waits to take
    /// over from a leader that died.
    #[arg(long, env = "MCO_LEADER_ELECTION_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub leader_election_lease_duration: Duration,
}

pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    parse_go_duration(s).ok_or_else(|| format!("{s:?} is not a duration such as 30s, 5m or 1h30m"))
}

pub(super) fn parse_poll_interval(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < crate::crd::MIN_POLL_INTERVAL {
        return Err(format!("{s} is below the minimum poll interval of 5s"));
    }
    if d > crate::crd::MAX_POLL_INTERVAL {
        return Err(format!("{s} is above the maximum poll interval of 24h"));
    }
    Ok(d)
}

pub(super) fn parse_http_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("not an http:// or https:// URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Not echoed: the point is that it holds a credential.
        return Err("a URL must not carry credentials (user:password@); use a Secret".into());
    }
    Ok(url)
}

pub(super) fn parse_secret_ref(s: &str) -> Result<(String, String), String> {
    match s.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((ns.to_string(), name.to_string()))
        }
        _ => Err(format!("{s:?} is not <namespace>/<name>")),
    }
}

impl RunArgs {
    /// The operator-wide configuration these flags describe.
    pub fn operator_config(&self) -> OperatorConfig {
        OperatorConfig {
            default_dataplane_url: self.dataplane_url.clone(),
            default_credentials_secret: self.credentials_secret.clone(),
            auth_defaults: AuthDefaults {
                token_url: self.token_url.clone(),
                audience: self.audience.clone(),
            },
            settings: Settings {
                not_found_grace: self.not_found_grace_period,
                stale_after: self.stale_after,
                heartbeat: self.status_heartbeat,
                stall_after: self.stall_after,
                topics_refresh: self.topics_refresh,
            },
            default_poll_interval: self.poll_interval,
            namespace: self.namespace.clone(),
            selector: self.selector.clone().filter(|s| !s.trim().is_empty()),
            url_policy: UrlPolicy::new(&self.trusted_hosts, self.allow_insecure_http)
                .with_allowed_hosts(&self.allowed_hosts)
                .with_link_local(self.allow_link_local),
            operator_credentials_may_act: self.operator_credentials_may_act,
            deletion_timeout: self.deletion_timeout,
            require_connect_cluster: self.require_connect_cluster,
            connect_clusters: self.connect_clusters,
        }
    }

    /// Refuses at start what every probe would refuse: the operator's own URLs sending
    /// credentials in clear text.
    pub(super) fn check_urls(&self, policy: &UrlPolicy) -> anyhow::Result<()> {
        if let Some(url) = &self.dataplane_url {
            policy
                .check_transport(url, "--dataplane-url: the Data Plane API token")
                .map_err(|f| anyhow::anyhow!(f.message))?;
        }
        policy
            .check_transport(&self.token_url, "--token-url: the client secret")
            .map_err(|f| anyhow::anyhow!(f.message))
    }

    /// The leader election these flags ask for, if any.
    pub fn election_config(&self) -> Option<ElectionConfig> {
        if !self.leader_election {
            return None;
        }
        let host = std::env::var("POD_NAME")
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| "managed-connector-operator".into());
        Some(ElectionConfig {
            namespace: self
                .leader_election_namespace
                .clone()
                .or_else(|| std::env::var("POD_NAMESPACE").ok())
                .unwrap_or_else(|| "default".into()),
            lease_name: self.leader_election_lease_name.clone(),
            // Unique per process, so a restarted Pod with the same name is a new candidate.
            identity: format!("{host}-{:08x}", rand::random::<u32>()),
            lease_duration_seconds: self.leader_election_lease_duration.as_secs().max(2),
        })
    }

    /// Limits of the source clients (Data Plane, Kafka Connect) these flags describe.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            request_timeout: self.request_timeout,
            max_response_bytes: self.max_response_bytes,
            max_concurrent_requests: usize::from(self.max_concurrent_requests),
            max_requests_per_second: self.max_requests_per_second,
            min_token_interval: self.min_token_interval,
        }
    }
}
