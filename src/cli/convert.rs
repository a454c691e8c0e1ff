//! `convert strimzi`: Strimzi KafkaConnector manifests in, ManagedConnector manifests out
//! ([`managed_connector_core::strimzi`] does the conversion; this reads files and writes YAML).

use anyhow::Context as _;
use managed_connector_core::strimzi::{self, Target};
use serde_json::Value;
use std::io::Read as _;

/// Flags of `convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// What to convert from.
    #[command(subcommand)]
    pub from: ConvertFrom,
}

/// Sources `convert` reads.
#[derive(Debug, clap::Subcommand)]
pub enum ConvertFrom {
    /// Strimzi `KafkaConnector` manifests (YAML, several documents or a `kind: List`) to
    /// ManagedConnectors that adopt the running connectors and never delete them: the declared
    /// configuration is what Strimzi put, so the first reconcile changes nothing. Prints the
    /// manifests on stdout and what did not carry over on stderr. Example:
    /// `kubectl get kafkaconnectors -n kafka -o yaml | managed-connector-operator convert strimzi -`
    Strimzi(StrimziArgs),
}

/// Flags of `convert strimzi`.
#[derive(Debug, clap::Args)]
pub struct StrimziArgs {
    /// Files to read (`-` for stdin).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// ConnectCluster the resources reference (default: each KafkaConnector's
    /// `strimzi.io/cluster` label, the name of its Strimzi KafkaConnect).
    #[arg(long)]
    pub connect_cluster: Option<String>,
    /// Namespace of the resources (default: each KafkaConnector's own).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
}

/// Largest input read, per file: manifests, not data.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

fn read(file: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    if file == "-" {
        std::io::stdin()
            .take(MAX_INPUT)
            .read_to_string(&mut text)
            .context("reading stdin")?;
    } else {
        std::fs::File::open(file)
            .with_context(|| format!("opening {file}"))?
            .take(MAX_INPUT)
            .read_to_string(&mut text)
            .with_context(|| format!("reading {file}"))?;
    }
    Ok(text)
}

/// The documents of a file, with each `kind: List` (what `kubectl get -o yaml` prints) opened.
fn documents(file: &str, text: &str) -> anyhow::Result<Vec<Value>> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).with_context(|| format!("{file}: not YAML"))?;
    Ok(docs
        .into_iter()
        .filter(|d| !d.is_null())
        .flat_map(|d| match (d["kind"].as_str(), d["items"].as_array()) {
            (Some("List"), Some(items)) => items.clone(),
            _ => vec![d],
        })
        .collect())
}

/// Runs `convert`.
pub fn run(args: ConvertArgs) -> anyhow::Result<()> {
    let ConvertFrom::Strimzi(args) = args.from;
    let target = Target {
        connect_cluster: args.connect_cluster,
        namespace: args.namespace,
    };
    let mut out = String::new();
    for file in &args.files {
        let text = read(file)?;
        for (i, doc) in documents(file, &text)?.iter().enumerate() {
            let converted = strimzi::convert(doc, &target)
                .with_context(|| format!("{file}: document {}", i + 1))?;
            for note in &converted.notes {
                eprintln!("note: {note}");
            }
            out.push_str("---\n");
            out.push_str(&serde_saphyr::to_string(&converted.manifest).context("writing YAML")?);
        }
    }
    print!("{out}");
    Ok(())
}
