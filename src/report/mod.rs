//! `managed-connector-operator status` (also `kubectl mconn`): the connectors' health as the
//! operator last wrote it, for a person at a terminal. Reads with the user's own kubeconfig and
//! RBAC, never the operator's: what it shows is what `kubectl get` would let them see.
//!
//! The views are pure functions of the resources (`fleet`, `detail`); this file only reads them.

pub mod detail;
pub mod fleet;
pub mod paint;

use crate::crd::ManagedConnector;
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use detail::HistoryEntry;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use paint::Paint;

use std::path::PathBuf;

/// Flags of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One ManagedConnector: its tasks with their workers, parsed errors, conditions and history.
    /// Without it, a table of all of them, those needing attention first.
    pub name: Option<String>,

    /// Namespace to look in (default: the kubeconfig context's, else `default`).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,

    /// Every namespace you may list ManagedConnectors in.
    #[arg(short = 'A', long, conflicts_with_all = ["namespace", "name"])]
    pub all_namespaces: bool,

    /// Only the ManagedConnectors matching this label selector (`-l team=payments,tier!=dev`).
    #[arg(short = 'l', long, conflicts_with = "name")]
    pub selector: Option<String>,

    /// Output: table (the default), wide (with source, cluster and connector type), or the
    /// objects as the API server has them, as json or yaml (a List without a name).
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    /// After the first view, print the connectors again as they change (a row, an object, or the
    /// full view of one connector per change), as `kubectl get -w` does, until interrupted.
    #[arg(short = 'w', long)]
    pub watch: bool,

    /// Colour: auto (on a terminal, unless NO_COLOR, CLICOLOR=0 or TERM=dumb; CLICOLOR_FORCE
    /// colours a pipe too), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context (default: its current context).
    #[arg(long)]
    pub context: Option<String>,
}

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// A table, as `kubectl get` prints it (one connector: its full view).
    Table,
    /// The table with more columns.
    Wide,
    /// The objects as JSON.
    Json,
    /// The objects as YAML.
    Yaml,
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR, CLICOLOR=0 or TERM=dumb (CLICOLOR_FORCE: always).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    fn paint(self) -> Paint {
        let color = match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            // anstream's rule, as clap's own: a terminal, unless NO_COLOR, CLICOLOR=0 or
            // TERM=dumb; CLICOLOR_FORCE colours a pipe too.
            ColorChoice::Auto => {
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
            }
        };
        Paint { color }
    }
}

/// Prints the fleet table or one connector's view.
pub async fn run(args: StatusArgs) -> anyhow::Result<()> {
    crate::http::install_crypto_provider();
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..Default::default()
    };
    let config = match (&args.kubeconfig, &args.context) {
        (Some(path), _) => {
            let file = Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(file, &options)
                .await
                .with_context(|| format!("kubeconfig {}", path.display()))?
        }
        // $KUBECONFIG (several files merged, as kubectl does) or ~/.kube/config.
        (None, Some(context)) => Config::from_kubeconfig(&options)
            .await
            .with_context(|| format!("kubeconfig context {context}"))?,
        // The same, else the in-cluster ServiceAccount.
        (None, None) => Config::infer()
            .await
            .context("no kubeconfig ($KUBECONFIG, ~/.kube/config) and not in a cluster")?,
    };
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = Client::try_from(config).context("building the Kubernetes client")?;
    let paint = args.color.paint();
    let api: Api<ManagedConnector> = if args.all_namespaces {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), &namespace)
    };
    let view = View {
        args: &args,
        client: &client,
        namespace: &namespace,
        paint,
    };

    let shown = match &args.name {
        Some(name) => {
            let mc = api
                .get_opt(name)
                .await
                .with_context(|| format!("reading managedconnector {namespace}/{name}"))?
                .with_context(|| format!("no managedconnector {name} in namespace {namespace}"))?;
            print!("{}", view.one(&mc).await?);
            vec![mc]
        }
        None => {
            let mut params = ListParams::default();
            if let Some(selector) = &args.selector {
                params = params.labels(selector);
            }
            let items = api
                .list(&params)
                .await
                .with_context(|| match args.all_namespaces {
                    true => "listing managedconnectors in all namespaces".to_string(),
                    false => format!("listing managedconnectors in namespace {namespace}"),
                })?
                .items;
            print!("{}", view.many(&items)?);
            items
        }
    };
    if args.watch {
        use std::io::Write as _;
        std::io::stdout().flush().ok();
        follow(&view, api, shown).await?;
    }
    Ok(())
}

/// What `status` prints, with what it needs to print it.
struct View<'a> {
    args: &'a StatusArgs,
    client: &'a Client,
    namespace: &'a str,
    paint: Paint,
}

impl View<'_> {
    /// One connector: its full view, or the object.
    async fn one(&self, mc: &ManagedConnector) -> anyhow::Result<String> {
        Ok(match self.args.output {
            Output::Json | Output::Yaml => objects(&serde_json::to_value(mc)?, self.args.output)?,
            Output::Table | Output::Wide => {
                let name = mc.metadata.name.as_deref().unwrap_or_default();
                let history = history(self.client, self.namespace, name).await;
                detail::render(mc, &history, Timestamp::now(), self.paint)
            }
        })
    }

    /// Several: the table, or a List of the objects. An empty table says so on stderr.
    fn many(&self, items: &[ManagedConnector]) -> anyhow::Result<String> {
        let args = self.args;
        if let Output::Json | Output::Yaml = args.output {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
            return objects(&list, args.output);
        }
        if items.is_empty() {
            let place = match args.all_namespaces {
                true => "any namespace".to_string(),
                false => format!("namespace {}", self.namespace),
            };
            let matching = args
                .selector
                .as_ref()
                .map(|s| format!(" matching {s}"))
                .unwrap_or_default();
            eprintln!("No ManagedConnectors{matching} in {place}.");
            return Ok(String::new());
        }
        let wide = args.output == Output::Wide;
        Ok(fleet::render(
            items,
            args.all_namespaces,
            wide,
            Timestamp::now(),
            self.paint,
        ))
    }

    /// One change while watching: the connector's table row (no header), its object, or its
    /// full view after a blank line.
    async fn change(&self, mc: &ManagedConnector) -> anyhow::Result<String> {
        match (&self.args.name, self.args.output) {
            (_, Output::Json | Output::Yaml) => {
                let text = objects(&serde_json::to_value(mc)?, self.args.output)?;
                Ok(match self.args.output {
                    Output::Yaml => format!("---\n{text}"),
                    _ => text,
                })
            }
            (Some(_), _) => Ok(format!("\n{}", self.one(mc).await?)),
            (None, _) => {
                let table = self.many(std::slice::from_ref(mc))?;
                Ok(table
                    .split_once('\n')
                    .map(|(_, rows)| rows.to_string())
                    .unwrap_or(table))
            }
        }
    }
}

/// `-w`: every change after the first view, as `kubectl get -w` prints it. A resource is printed
/// again only when its resourceVersion differs from the one last printed, so the watch's own
/// initial listing (and its relistings after a reconnect) repeat nothing already on screen.
async fn follow(
    view: &View<'_>,
    api: Api<ManagedConnector>,
    shown: Vec<ManagedConnector>,
) -> anyhow::Result<()> {
    use futures::StreamExt as _;
    use kube::runtime::{WatchStreamExt as _, watcher};
    use std::collections::HashMap;
    use std::io::Write as _;

    let key = |mc: &ManagedConnector| (mc.metadata.namespace.clone(), mc.metadata.name.clone());
    let mut printed: HashMap<_, Option<String>> = shown
        .iter()
        .map(|mc| (key(mc), mc.metadata.resource_version.clone()))
        .collect();
    let mut config = watcher::Config::default();
    if let Some(name) = &view.args.name {
        config = config.fields(&format!("metadata.name={name}"));
    }
    if let Some(selector) = &view.args.selector {
        config = config.labels(selector);
    }
    let mut events = std::pin::pin!(watcher(api, config).default_backoff());
    while let Some(event) = events.next().await {
        let (mc, deleted) = match event {
            Ok(watcher::Event::Apply(mc) | watcher::Event::InitApply(mc)) => (mc, false),
            Ok(watcher::Event::Delete(mc)) => (mc, true),
            Ok(watcher::Event::Init | watcher::Event::InitDone) => continue,
            // The watcher retries on its own; say why the screen may lag.
            Err(e) => {
                eprintln!("watch: {e}; retrying");
                continue;
            }
        };
        let version = mc.metadata.resource_version.clone();
        if !deleted && printed.get(&key(&mc)) == Some(&version) {
            continue;
        }
        if deleted {
            printed.remove(&key(&mc));
        } else {
            printed.insert(key(&mc), version);
        }
        print!("{}", view.change(&mc).await?);
        std::io::stdout().flush().ok();
    }
    Ok(())
}

/// The objects as `kubectl get -o json|yaml` prints them.
fn objects(value: &serde_json::Value, output: Output) -> anyhow::Result<String> {
    Ok(match output {
        Output::Yaml => serde_saphyr::to_string(value).context("writing YAML")?,
        _ => serde_json::to_string_pretty(value)? + "\n",
    })
}

/// The resource's Events, oldest first, or why they could not be read (RBAC may allow the
/// resources but not Events; the view then says so and shows the rest).
async fn history(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<Vec<HistoryEntry>, String> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let selector = format!("involvedObject.kind=ManagedConnector,involvedObject.name={name}");
    let events = api
        .list(&ListParams::default().fields(&selector))
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) => format!("{} ({})", s.message, s.reason),
            other => other.to_string(),
        })?;
    let mut entries: Vec<HistoryEntry> = events
        .items
        .into_iter()
        .map(|e| {
            let time = e
                .series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
                .or(e.last_timestamp.map(|t| t.0))
                .or(e.event_time.map(|t| t.0))
                .or(e.first_timestamp.map(|t| t.0));
            HistoryEntry {
                time,
                type_: e.type_.unwrap_or_default(),
                reason: e.reason.unwrap_or_default(),
                count: e.series.and_then(|s| s.count).or(e.count).unwrap_or(1),
                message: e.message.unwrap_or_default(),
            }
        })
        .collect();
    entries.sort_by_key(|e| e.time);
    Ok(entries)
}
