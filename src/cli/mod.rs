//! Command line: `run` starts the operator, `crd` prints the CustomResourceDefinition, `convert`
//! turns other tools' manifests into ManagedConnectors.
//! Every flag of `run` can also be set by an environment variable (shown in `--help`).

use crate::controller::{self, Context, OperatorConfig};
use crate::leader::{Fence, Leadership};
use crate::metrics::Metrics;
use crate::prober::Prober;
use crate::ref_cache::RefCache;
use crate::server::{self, ServerState};
use crate::telemetry;
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kube::runtime::events::Reporter;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

mod args;
pub mod convert;
pub mod import;
pub use args::RunArgs;

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
    /// Print a shell completion script: `source <(managed-connector-operator completion bash)`,
    /// or into your shell's completion directory.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Convert other tools' manifests into ManagedConnectors: `convert strimzi FILE...`.
    Convert(convert::ConvertArgs),
    /// Print the connectors of a live Connect cluster as ManagedConnectors (status-only, or
    /// adopting them with their configuration): `import kafka-connect --url URL`.
    Import(import::ImportArgs),
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
        match lead(&ctx, &election, &fence, &ready, &mut signal_rx).await? {
            Some((lease, guard)) => {
                leadership = Some(lease);
                _fence_guard = Some(guard);
            }
            None => {
                // Stopped while standing by.
                let _ = stop_tx.send(true);
                server
                    .await
                    .context("HTTP server task")?
                    .context("HTTP server")?;
                return Ok(());
            }
        }
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

/// Stands by (healthy and ready: a standby is what keeps a rollout or a node drain safe) until
/// this replica holds the Lease, and the Lease itself says so; `None` when a signal came first
/// (the Lease released).
async fn lead(
    ctx: &Context,
    election: &crate::leader::ElectionConfig,
    fence: &Fence,
    ready: &AtomicBool,
    signal_rx: &mut tokio::sync::watch::Receiver<Option<&'static str>>,
) -> anyhow::Result<Option<(Leadership, crate::leader::FenceGuard)>> {
    let mut lease = Leadership::join(ctx.client.clone(), election)
        .await
        .with_context(|| {
            format!(
                "joining leader election on Lease {}/{} (needs get, create, update and patch on leases)",
                election.namespace, election.lease_name
            )
        })?;
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
                return Ok(None);
            }
        }
        // Not ready from here until the leader's cache is filled: a replica starting to lead is
        // not the standby it was, and a rollout must not count it as one.
        ready.store(false, Ordering::SeqCst);
        // Two replicas starting together can both be told they hold a Lease that only one of
        // them does (the election library's lock is last-writer-wins): believe the Lease itself,
        // read once every write of that moment has landed (a read right away can still show
        // this replica before the other's write), and stand by again until the library notices.
        // A stop signal during the wait releases the Lease at once.
        tokio::select! {
            _ = tokio::time::sleep(LEASE_SETTLE) => {}
            _ = signal_rx.wait_for(Option::is_some) => {
                let _ = tokio::time::timeout(RELEASE_TIMEOUT, lease.release()).await;
                return Ok(None);
            }
        }
        let guard = fence.guard(ctx.client.clone(), election).await;
        if fence.may_write() {
            tracing::info!(identity = election.identity, "became the leader");
            return Ok(Some((lease, guard)));
        }
        drop(guard);
        ready.store(true, Ordering::SeqCst);
        tracing::warn!(
            identity = election.identity,
            "told this replica leads, but the Lease names another holder: standing by"
        );
        tokio::select! {
            _ = lease.lost() => {}
            _ = signal_rx.wait_for(Option::is_some) => {
                let _ = tokio::time::timeout(RELEASE_TIMEOUT, lease.release()).await;
                return Ok(None);
            }
        }
    }
}

/// How long a replica told it leads waits before reading the Lease to confirm it (both writers of
/// a simultaneous acquisition have written by then).
const LEASE_SETTLE: Duration = Duration::from_secs(1);

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
    let metrics = Metrics::with(&mut registry, args.connector_metrics);
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
mod tests;
