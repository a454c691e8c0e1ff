//! Command line: `run` starts the operator, `crd` prints the CustomResourceDefinition.
//! Every flag of `run` can also be set by an environment variable (shown in `--help`).

use crate::batch::BatchMode;
use crate::controller::{self, Context, OperatorConfig};
use crate::crd::parse_go_duration;
use crate::dataplane::ClientConfig;
use crate::dataplane::auth::{AuthDefaults, DEFAULT_AUDIENCE, DEFAULT_TOKEN_URL};
use crate::fetch::Prober;
use crate::leader::{ElectionConfig, Fence, Leadership};
use crate::metrics::Metrics;
use crate::policy::UrlPolicy;
use crate::ref_cache::RefCache;
use crate::server::{self, ServerState};
use crate::status::Settings;
use crate::telemetry::{self, LogFormat};
use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use kube::runtime::events::Reporter;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use url::Url;

/// Reports the health of Kafka Connect connectors (Redpanda Cloud managed connectors) in the
/// status and conditions of `ManagedConnector` resources.
#[derive(Debug, Parser)]
#[command(name = "managed-connector-operator", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the operator against the cluster of the current kubeconfig (or in-cluster config).
    Run(Box<RunArgs>),
    /// Print a CustomResourceDefinition as YAML: `managedconnectors` (default) or
    /// `connectclusters`.
    Crd {
        /// Plural of the CRD.
        #[arg(default_value = "managedconnectors", value_parser = clap::builder::PossibleValuesParser::new(crate::schema::PLURALS))]
        plural: String,
    },
    /// Show connectors' health as the operator last wrote it: a table of a namespace's (or every
    /// namespace's) ManagedConnectors, trouble first, or one in full. Reads with your kubeconfig.
    /// Installed as `kubectl-mconn` on the PATH, it is the kubectl plugin `kubectl mconn`.
    Status(crate::report::StatusArgs),
}

/// The command line when run as the kubectl plugin `kubectl mconn` (the binary installed or linked
/// as `kubectl-mconn`): the flags of `status`.
#[derive(Debug, Parser)]
#[command(name = "kubectl mconn", version)]
pub struct PluginCli {
    /// The flags of `status`.
    #[command(flatten)]
    pub args: crate::report::StatusArgs,
}

/// Whether the program was started as the kubectl plugin (its file name is `kubectl-mconn`).
pub fn invoked_as_plugin(argv0: &std::ffi::OsStr) -> bool {
    std::path::Path::new(argv0)
        .file_stem()
        .is_some_and(|stem| stem == "kubectl-mconn")
}

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

    /// How long the last known state is reported as current while the Data Plane API is
    /// unreachable; after that Ready turns Unknown (StatusStale).
    #[arg(long, env = "MCO_STALE_AFTER", default_value = "10m", value_parser = parse_duration)]
    pub stale_after: Duration,

    /// How long a resource with `deletionPolicy: Delete` waits for its connector to be deleted
    /// (credentials or source gone, refusals) before it is let go anyway, with a
    /// `ConnectorLeftBehind` Warning naming the connector: a deletion always ends, and so does
    /// the deletion of a namespace holding it.
    #[arg(long, env = "MCO_DELETION_TIMEOUT", default_value = "5m", value_parser = parse_duration)]
    pub deletion_timeout: Duration,

    /// Data Plane requests in flight at once, across all resources.
    #[arg(long, env = "MCO_MAX_CONCURRENT_REQUESTS", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent_requests: u16,

    /// Data Plane requests per second, across all resources.
    #[arg(long, env = "MCO_MAX_REQUESTS_PER_SECOND", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_requests_per_second: u32,

    /// Timeout of one Data Plane or token request, body included.
    #[arg(long, env = "MCO_REQUEST_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Least time between two token requests for one credential set. Redpanda Cloud's token
    /// quota is per organisation and per day: however many resources or URLs answer 401, a
    /// credential set costs at most one token per interval (longer while fresh tokens are
    /// refused).
    #[arg(long, env = "MCO_MIN_TOKEN_INTERVAL", default_value = "1m", value_parser = parse_duration)]
    pub min_token_interval: Duration,

    /// Largest Data Plane response read, in bytes; larger answers are an InvalidResponse.
    #[arg(long, env = "MCO_MAX_RESPONSE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_response_bytes: usize,

    /// When to read a whole Connect cluster in one listing (paged on the Data Plane,
    /// `?expand=status` on Kafka Connect) instead of one request per connector: `auto` lists
    /// clusters two or more resources point at with the same credentials, `always` every one,
    /// `never` none. A source whose list endpoint is unusable is read per connector.
    #[arg(long, env = "MCO_BATCH", value_enum, default_value = "auto")]
    pub batch: BatchMode,

    /// Connectors per page of a Data Plane listing (the API's default is 100).
    #[arg(long, env = "MCO_LIST_PAGE_SIZE", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
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

fn parse_duration(s: &str) -> Result<Duration, String> {
    parse_go_duration(s).ok_or_else(|| format!("{s:?} is not a duration such as 30s, 5m or 1h30m"))
}

fn parse_poll_interval(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < crate::crd::MIN_POLL_INTERVAL {
        return Err(format!("{s} is below the minimum poll interval of 5s"));
    }
    if d > crate::crd::MAX_POLL_INTERVAL {
        return Err(format!("{s} is above the maximum poll interval of 24h"));
    }
    Ok(d)
}

fn parse_http_url(s: &str) -> Result<Url, String> {
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

fn parse_secret_ref(s: &str) -> Result<(String, String), String> {
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
    fn check_urls(&self, policy: &UrlPolicy) -> anyhow::Result<()> {
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

    /// Limits of the Data Plane client these flags describe.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            request_timeout: self.request_timeout,
            max_response_bytes: self.max_response_bytes,
            max_concurrent_requests: usize::from(self.max_concurrent_requests),
            max_requests_per_second: self.max_requests_per_second,
            min_token_interval: self.min_token_interval,
            allow_link_local: self.allow_link_local,
        }
    }
}

/// Refuses a `--selector` the API server cannot parse at start, rather than a watch that fails
/// forever. Any other error (the API server not reachable yet) is left to the watch's retries.
async fn check_selector(
    client: &kube::Client,
    namespace: Option<&str>,
    selector: &str,
) -> anyhow::Result<()> {
    let api: kube::Api<crate::crd::ManagedConnector> = match namespace {
        Some(ns) => kube::Api::namespaced(client.clone(), ns),
        None => kube::Api::all(client.clone()),
    };
    let params = kube::api::ListParams::default().labels(selector).limit(1);
    match api.list_metadata(&params).await {
        Err(kube::Error::Api(e)) if e.code == 400 => {
            anyhow::bail!(
                "--selector {selector:?} is not a label selector: {}",
                e.message
            )
        }
        _ => Ok(()),
    }
}

/// Runs the operator until SIGTERM or SIGINT.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    // Before anything else: a SIGTERM during start-up (a rollout, a restart right after a start)
    // is then a graceful stop once start-up reaches the shutdown handling, not a kill.
    let signals = register_signals();
    telemetry::init(args.log_format, &args.log_level).map_err(anyhow::Error::msg)?;
    let config = args.operator_config();
    args.check_urls(&config.url_policy)?;
    let election = args.election_config();
    let (ctx, registry, fence) = build_context(&args, config, election.is_some()).await?;
    let ready = Arc::new(AtomicBool::new(false));

    let listener = tokio::net::TcpListener::bind(args.metrics_addr)
        .await
        .with_context(|| format!("cannot listen on --metrics-addr {}", args.metrics_addr))?;
    tracing::info!(addr = %listener.local_addr()?, "serving /metrics, /healthz, /readyz");
    let app = server::router(ServerState {
        registry: Arc::new(registry),
        ready: ready.clone(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
            })
            .await
    });

    // SIGTERM/SIGINT, observed once and shared by every phase below.
    let (signal_tx, mut signal_rx) = tokio::sync::watch::channel(None::<&'static str>);
    tokio::spawn(async move {
        let _ = signal_tx.send(Some(shutdown_signal(signals).await));
    });

    let mut leadership = None;
    let mut _fence_guard = None;
    if let Some(election) = election {
        let mut lease = Leadership::join(ctx.client.clone(), &election)
            .await
            .with_context(|| {
                format!(
                    "joining leader election on Lease {}/{} (needs get, create, update and patch on leases)",
                    election.namespace, election.lease_name
                )
            })?;
        // A standby is healthy and ready: it is what keeps a rollout or a node drain safe.
        ready.store(true, Ordering::SeqCst);
        tracing::info!(
            identity = election.identity,
            lease = election.lease_name,
            "standing by until this replica holds the Lease"
        );
        loop {
            tokio::select! {
                acquired = lease.acquired() => {
                    if !acquired {
                        anyhow::bail!("leader election ended before this replica became the leader");
                    }
                }
                _ = signal_rx.wait_for(Option::is_some) => {
                    if tokio::time::timeout(RELEASE_TIMEOUT, lease.release()).await.is_err() {
                        tracing::warn!("could not release the leader Lease in time; it expires on its own");
                    }
                    let _ = stop_tx.send(true);
                    server.await.context("HTTP server task")?.context("HTTP server")?;
                    return Ok(());
                }
            }
            // Two replicas starting together can both be told they hold a Lease that only one
            // of them does (the election library's lock is last-writer-wins): believe the Lease
            // itself, and stand by again until the library notices.
            let guard = fence.guard(ctx.client.clone(), &election).await;
            if fence.may_write() {
                _fence_guard = Some(guard);
                break;
            }
            drop(guard);
            tracing::warn!(
                identity = election.identity,
                "told this replica leads, but the Lease names another holder: standing by"
            );
            tokio::select! {
                _ = lease.lost() => {}
                _ = signal_rx.wait_for(Option::is_some) => {
                    let _ = tokio::time::timeout(RELEASE_TIMEOUT, lease.release()).await;
                    let _ = stop_tx.send(true);
                    server.await.context("HTTP server task")?.context("HTTP server")?;
                    return Ok(());
                }
            }
        }
        tracing::info!(identity = election.identity, "became the leader");
        ready.store(false, Ordering::SeqCst);
        leadership = Some(lease);
    }

    let mut controller_stop = stop_rx;
    // Reconciles are mostly waiting (rate limiter, Data Plane): allow several per request slot.
    let concurrency = args.max_concurrent_requests.saturating_mul(4);
    let controller = controller::run(ctx, concurrency, ready, async move {
        let _ = controller_stop.wait_for(|s| *s).await;
    });
    tokio::pin!(controller);
    let lost = async {
        match leadership.as_mut() {
            Some(lease) => lease.lost().await,
            None => std::future::pending().await,
        }
    };
    let mut lost_lease = false;
    tokio::select! {
        _ = &mut controller => {}
        signal = signal_rx.wait_for(Option::is_some) => {
            let signal = signal.ok().and_then(|s| *s).unwrap_or("signal");
            tracing::info!(signal, timeout = ?args.shutdown_timeout, "shutting down: finishing reconciles in flight");
            let _ = stop_tx.send(true);
            finish(&mut controller, args.shutdown_timeout).await;
        }
        _ = lost => {
            tracing::error!("lost the leader Lease: stopping so that only the new leader writes");
            lost_lease = true;
            let _ = stop_tx.send(true);
            finish(&mut controller, args.shutdown_timeout).await;
        }
    }
    let _ = stop_tx.send(true);
    drop(_fence_guard);
    if let Some(lease) = leadership
        && tokio::time::timeout(RELEASE_TIMEOUT, lease.release())
            .await
            .is_err()
    {
        tracing::warn!("could not release the leader Lease in time; it expires on its own");
    }
    server
        .await
        .context("HTTP server task")?
        .context("HTTP server")?;
    if lost_lease {
        anyhow::bail!("lost the leader Lease");
    }
    Ok(())
}

/// Longest the Lease release may take at shutdown.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(3);
/// Everything a reconcile shares, from the command line: the Kubernetes client (kubeconfig or
/// in-cluster), metrics, the prober and its caches, and the fence (closed until elected when
/// leader election is on).
async fn build_context(
    args: &RunArgs,
    config: OperatorConfig,
    elected: bool,
) -> anyhow::Result<(Arc<Context>, Registry, Fence)> {
    // Kubeconfig if there is one, else the Pod's in-cluster config (service account token and the
    // kubernetes Service): logged, because "which cluster am I talking to" is the first question.
    let kube_config = kube::Config::infer()
        .await
        .context("no Kubernetes configuration: set KUBECONFIG, or run in a cluster")?;
    let api_server = kube_config.cluster_url.to_string();
    let client =
        kube::Client::try_from(kube_config).context("building the Kubernetes API client")?;
    if let Some(selector) = &config.selector {
        check_selector(&client, config.namespace.as_deref(), selector).await?;
    }
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let client_config = args.client_config();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        api_server,
        dataplane_url = config.default_dataplane_url.as_ref().map(|u| u.as_str()),
        trusted_hosts = ?args.trusted_hosts,
        allowed_hosts = ?args.allowed_hosts,
        allow_insecure_http = args.allow_insecure_http,
        credentials_secret = config.default_credentials_secret.as_ref().map(|(n, s)| format!("{n}/{s}")),
        namespace = config.namespace.as_deref().unwrap_or("<all>"),
        poll_interval = ?config.default_poll_interval,
        max_requests_per_second = args.max_requests_per_second,
        max_concurrent_requests = args.max_concurrent_requests,
        "starting"
    );
    let prober = Prober::new(
        &client_config,
        metrics.clone(),
        Arc::new(RefCache::new(client.clone())),
        config,
    )
    .context("building the HTTP client")?;
    let reporter = Reporter {
        controller: "managed-connector-operator".into(),
        instance: std::env::var("POD_NAME")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok()),
    };
    let fence = if elected {
        Fence::closed()
    } else {
        Fence::open()
    };
    let ctx = Arc::new(Context::new(
        client,
        reporter,
        metrics,
        prober,
        fence.clone(),
        args.batch,
        args.list_page_size,
    ));
    Ok((ctx, registry, fence))
}

/// Waits for the controller to finish its reconciles, at most `timeout`; what is still in flight
/// then is dropped, which cancels its requests.
async fn finish(
    controller: &mut (impl std::future::Future<Output = ()> + Unpin),
    timeout: Duration,
) {
    if tokio::time::timeout(timeout, controller).await.is_err() {
        tracing::warn!(
            ?timeout,
            "reconciles still in flight at the shutdown deadline: abandoned (their requests are cancelled)"
        );
    }
}

/// SIGTERM and SIGINT handlers, registered at once (see [`run`]).
struct Signals {
    term: std::io::Result<tokio::signal::unix::Signal>,
    int: std::io::Result<tokio::signal::unix::Signal>,
}

fn register_signals() -> Signals {
    use tokio::signal::unix::{SignalKind, signal};
    Signals {
        term: signal(SignalKind::terminate()),
        int: signal(SignalKind::interrupt()),
    }
}

async fn shutdown_signal(signals: Signals) -> &'static str {
    match (signals.term, signals.int) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        },
        _ => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_kubectl_plugin_takes_the_flags_of_status() {
        use std::ffi::OsStr;
        PluginCli::command().debug_assert();
        assert!(invoked_as_plugin(OsStr::new(
            "/usr/local/bin/kubectl-mconn"
        )));
        assert!(invoked_as_plugin(OsStr::new("kubectl-mconn")));
        assert!(!invoked_as_plugin(OsStr::new(
            "/usr/bin/managed-connector-operator"
        )));
        let plugin =
            PluginCli::try_parse_from(["kubectl-mconn", "-n", "team-a", "orders"]).expect("parses");
        assert_eq!(plugin.args.namespace.as_deref(), Some("team-a"));
        assert_eq!(plugin.args.name.as_deref(), Some("orders"));
        assert!(
            PluginCli::try_parse_from(["kubectl-mconn", "-A", "-n", "x"]).is_err(),
            "-A and -n exclude each other"
        );
        let status =
            Cli::try_parse_from(["mco", "status", "-A", "--color", "never"]).expect("parses");
        assert!(matches!(status.command, Command::Status(a) if a.all_namespaces));
    }

    #[test]
    fn cli_is_consistent_and_every_flag_is_explained() {
        Cli::command().debug_assert();
        let run = Cli::command().find_subcommand("run").cloned().expect("run");
        for arg in run.get_arguments() {
            if matches!(arg.get_id().as_str(), "help" | "version") {
                continue;
            }
            assert!(arg.get_help().is_some(), "--{} has no help", arg.get_id());
            assert!(
                arg.get_env().is_some(),
                "--{} has no environment variable",
                arg.get_id()
            );
        }
    }

    #[test]
    fn flag_values_are_checked() {
        assert!(parse_secret_ref("ns/name").is_ok());
        assert!(parse_secret_ref("name").is_err());
        assert!(parse_secret_ref("a/b/c").is_err());
        assert!(parse_http_url("ftp://x").is_err());
        assert!(parse_http_url("https://api.example.com").is_ok());
        assert!(parse_poll_interval("1s").is_err());
        assert_eq!(parse_poll_interval("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("five").is_err());
    }
}
