//! `dataplane-sim`: a stand-in for the Redpanda Cloud Data Plane API and its token endpoint.
//! See the README ("Data Plane simulator") for the scenario format and the control endpoints.

use clap::Parser;
use dataplane_sim::Sim;
use dataplane_sim::scenario::Scenario;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Serves the Data Plane API's Kafka Connect status and list endpoints, an OAuth2 token endpoint
/// (/oauth/token), /metrics and control endpoints under /sim, from a scenario file.
#[derive(Debug, Parser)]
#[command(name = "dataplane-sim", version)]
struct Args {
    /// Scenario file (YAML or JSON). Without it the simulator starts empty: one cluster
    /// `redpanda`, no connectors, client `sim`/`sim-secret`.
    #[arg(long, env = "SIM_SCENARIO")]
    scenario: Option<PathBuf>,

    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "SIM_LISTEN", default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// Write the bound address (host:port) to this file once listening, for scripts.
    #[arg(long, env = "SIM_ADDR_FILE")]
    addr_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let scenario = match &args.scenario {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Scenario::parse(&t))
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: scenario {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        },
        None => Scenario::parse(
            "clusters: {redpanda: {}}\nauth: {clients: [{clientId: sim, clientSecret: sim-secret}]}\n",
        )
        .expect("built-in scenario parses"),
    };
    let sim = Sim::new(scenario);
    let addr = match sim.start(args.listen).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.addr_file
        && let Err(e) = std::fs::write(path, addr.to_string())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    eprintln!("dataplane-sim listening on http://{addr}");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
