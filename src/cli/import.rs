//! `import`: the connectors of a live Connect cluster (a Kafka Connect REST API, or a Redpanda
//! Cloud cluster through the Data Plane API) printed as ManagedConnector manifests
//! ([`managed_connector_core::import`] decides what each says; this reads the cluster, with the
//! same bounded requests as the operator, and writes YAML).

use crate::dataplane::auth::{DEFAULT_AUDIENCE, DEFAULT_TOKEN_URL, TokenCache};
use crate::http::{self, Gate};
use anyhow::{Context as _, bail};
use managed_connector_core::credentials::Credentials;
use managed_connector_core::import::{self, Options, Reads};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Largest answer read (a listing with every connector's configuration).
const MAX_ANSWER: usize = 64 * 1024 * 1024;
/// Pages of a Data Plane listing read at most (1000 connectors each).
const MAX_PAGES: usize = 1_000;
const TIMEOUT: Duration = Duration::from_secs(30);

/// Flags of `import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Where to read the connectors.
    #[command(subcommand)]
    pub from: ImportFrom,
}

/// What every `import` takes.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Declare each connector's live configuration (`spec.config`, adopting the connector with
    /// `adopt: true` and `deletionPolicy: Orphan`); values that look secret become `configFrom`
    /// references to a Secret named in a note, never printed. Default: status-only resources.
    #[arg(long)]
    pub with_config: bool,
    /// Reference this ConnectCluster instead of the URL (platform-declared clusters).
    #[arg(long)]
    pub connect_cluster: Option<String>,
    /// Namespace of the resources (default: none in the manifests; `kubectl apply -n` decides).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Only connectors whose name starts with this.
    #[arg(long, default_value = "")]
    pub prefix: String,
}

/// Sources `import` reads.
#[derive(Debug, clap::Subcommand)]
pub enum ImportFrom {
    /// A Kafka Connect REST API. Basic auth: --username and MCO_CONNECT_PASSWORD; a bearer
    /// token: MCO_CONNECT_TOKEN. Example:
    /// `managed-connector-operator import kafka-connect --url http://connect.kafka.svc:8083 --with-config -n data`
    KafkaConnect {
        /// Base URL of the REST API.
        #[arg(long)]
        url: Url,
        /// Basic auth user (the password from MCO_CONNECT_PASSWORD).
        #[arg(long)]
        username: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A Redpanda Cloud Connect cluster through the Data Plane API. Credentials:
    /// MCO_CLIENT_ID and MCO_CLIENT_SECRET (OAuth2 client credentials), or MCO_DATAPLANE_TOKEN.
    Dataplane {
        /// The cluster's Data Plane API URL.
        #[arg(long)]
        url: Url,
        /// Connect cluster name.
        #[arg(long, default_value = "redpanda")]
        cluster: String,
        /// OAuth2 token endpoint.
        #[arg(long, env = "MCO_TOKEN_URL", default_value = DEFAULT_TOKEN_URL)]
        token_url: Url,
        /// Token audience.
        #[arg(long, env = "MCO_AUDIENCE", default_value = DEFAULT_AUDIENCE)]
        audience: String,
        #[command(flatten)]
        common: Common,
    },
}

/// The live connectors: name and, when read, configuration.
type Live = Vec<(String, Option<BTreeMap<String, String>>)>;

struct Reader {
    http: reqwest::Client,
    gate: Arc<Gate>,
}

impl Reader {
    fn new() -> anyhow::Result<Self> {
        Ok(Reader {
            http: http::client(TIMEOUT, &[], true).context("building the HTTP client")?,
            gate: Arc::new(Gate::new(20, 4)),
        })
    }

    async fn get(&self, url: &Url, auth: Auth<'_>) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        request = match auth {
            Auth::None => request,
            Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
            Auth::Bearer(token) => request.bearer_auth(token),
        };
        let shown = crate::policy::display_url(url);
        let fetched = self
            .gate
            .fetch(request, url, MAX_ANSWER, TIMEOUT)
            .await
            .map_err(|e| anyhow::anyhow!("{shown}: {}", describe(&e)))?;
        if !fetched.status.is_success() {
            bail!(
                "{shown} answered HTTP {}: {}",
                fetched.status.as_u16(),
                http::unquoted(&fetched.body)
            );
        }
        serde_json::from_slice(&fetched.body).map_err(|e| {
            anyhow::anyhow!(
                "{shown}: {}",
                managed_connector_core::probe::describe_json_error(&e)
            )
        })
    }
}

/// A failed request for people.
fn describe(e: &http::FetchError) -> String {
    use http::FetchError::*;
    match e {
        Paused(d) | Busy(d) => format!("not sent (wait {}s)", d.as_secs()),
        Refused(why) | Transport(why) => why.clone(),
        Timeout(d) => format!("no answer within {}s", d.as_secs()),
        BodyTooLarge { limit } => format!("the answer exceeded {limit} bytes"),
        Fenced => "not sent".into(),
    }
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

/// A configuration as the source gives it (values as strings).
fn config_of(v: &Value) -> Option<BTreeMap<String, String>> {
    v.as_object().map(|m| {
        m.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect()
    })
}

/// Kafka Connect: one listing (`?expand=info` for the configurations).
async fn kafka_connect(
    reader: &Reader,
    url: &Url,
    auth: Auth<'_>,
    with_config: bool,
) -> anyhow::Result<Live> {
    let query: &[(&str, &str)] = if with_config {
        &[("expand", "info")]
    } else {
        &[]
    };
    let list_url = http::endpoint_url(url, &["connectors"], query).map_err(anyhow::Error::msg)?;
    let answer = reader.get(&list_url, auth).await?;
    let live = match answer {
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .map(|n| (n.to_string(), None))
            .collect(),
        Value::Object(by_name) => by_name
            .iter()
            .map(|(n, v)| (n.clone(), config_of(&v["info"]["config"])))
            .collect(),
        _ => bail!(
            "{}: not a connector list",
            crate::policy::display_url(&list_url)
        ),
    };
    Ok(live)
}

/// The Data Plane: the listing, page by page (each entry carries its configuration).
async fn dataplane(reader: &Reader, url: &Url, cluster: &str, token: &str) -> anyhow::Result<Live> {
    let mut live = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MAX_PAGES {
        let mut query = vec![("page_size", "1000")];
        if !page_token.is_empty() {
            query.push(("page_token", page_token.as_str()));
        }
        let page_url = http::endpoint_url(
            url,
            &["v1", "kafka-connect", "clusters", cluster, "connectors"],
            &query,
        )
        .map_err(anyhow::Error::msg)?;
        let page = reader.get(&page_url, Auth::Bearer(token)).await?;
        for c in page["connectors"].as_array().into_iter().flatten() {
            if let Some(name) = c["name"].as_str() {
                live.push((name.to_string(), config_of(&c["info"]["config"])));
            }
        }
        match page["next_page_token"].as_str() {
            Some(next) if !next.is_empty() => page_token = next.to_string(),
            _ => return Ok(live),
        }
    }
    bail!("the listing did not end after {MAX_PAGES} pages")
}

/// The Data Plane token: MCO_DATAPLANE_TOKEN, or one from client credentials.
async fn dataplane_token(
    reader: &Reader,
    token_url: &Url,
    audience: &str,
) -> anyhow::Result<String> {
    if let Ok(token) = std::env::var("MCO_DATAPLANE_TOKEN") {
        return Ok(token);
    }
    let (Ok(client_id), Ok(secret)) = (
        std::env::var("MCO_CLIENT_ID"),
        std::env::var("MCO_CLIENT_SECRET"),
    ) else {
        bail!(
            "set MCO_CLIENT_ID and MCO_CLIENT_SECRET (client credentials), or MCO_DATAPLANE_TOKEN"
        );
    };
    let metrics =
        crate::metrics::Metrics::new(&mut prometheus_client::registry::Registry::default());
    let tokens = TokenCache::new(
        reader.http.clone(),
        reader.gate.clone(),
        TIMEOUT,
        metrics,
        Duration::ZERO,
    );
    let creds = Credentials::ClientCredentials {
        client_id,
        client_secret: SecretString::from(secret),
        token_url: token_url.clone(),
        audience: audience.to_string(),
    };
    let token = tokens
        .token(&creds)
        .await
        .map_err(|f| anyhow::anyhow!("getting a token: {}", f.message))?;
    Ok(token.expose().to_string())
}

/// Runs `import`.
pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let reader = Reader::new()?;
    let (live, reads, common) = match &args.from {
        ImportFrom::KafkaConnect {
            url,
            username,
            common,
        } => {
            let password = std::env::var("MCO_CONNECT_PASSWORD").ok();
            let token = std::env::var("MCO_CONNECT_TOKEN").ok();
            let auth = match (username, &password, &token) {
                (Some(u), Some(p), _) => Auth::Basic(u, p),
                (Some(_), None, _) => bail!("--username needs MCO_CONNECT_PASSWORD"),
                (None, _, Some(t)) => Auth::Bearer(t),
                _ => Auth::None,
            };
            let live = kafka_connect(&reader, url, auth, common.with_config).await?;
            (live, Reads::KafkaConnect(url.to_string()), common)
        }
        ImportFrom::Dataplane {
            url,
            cluster,
            token_url,
            audience,
            common,
        } => {
            let token = dataplane_token(&reader, token_url, audience).await?;
            let live = dataplane(&reader, url, cluster, &token).await?;
            let reads = Reads::DataPlane {
                url: url.to_string(),
                cluster: cluster.clone(),
            };
            (live, reads, common)
        }
    };
    let options = Options {
        reads: match &common.connect_cluster {
            Some(c) => Reads::ConnectCluster(c.clone()),
            None => reads,
        },
        namespace: common.namespace.clone(),
        with_config: common.with_config,
    };
    let mut live: Live = live
        .into_iter()
        .filter(|(n, _)| n.starts_with(&common.prefix))
        .collect();
    live.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (i, (name, config)) in live.iter().enumerate() {
        let imported = import::import(name, i, config.as_ref(), &options);
        for note in &imported.notes {
            eprintln!("note: {note}");
        }
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&imported.manifest).context("writing YAML")?);
    }
    eprintln!("imported {} connector(s)", live.len());
    print!("{out}");
    Ok(())
}
