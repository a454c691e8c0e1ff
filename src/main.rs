use clap::Parser;
use managed_connector_operator::cli::{Cli, Command, PluginCli, invoked_as_plugin};
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: the operator allocates many small objects on several
/// threads (a status per resource, per reconcile), where glibc's per-thread arenas fragment and
/// keep freed memory; measured in BENCHMARKS.md.
#[cfg(not(any(feature = "heap-shares", feature = "system-allocator")))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The bench build: mimalloc with live bytes counted by share (`managed_connector_operator::heap`).
#[cfg(feature = "heap-shares")]
#[global_allocator]
static GLOBAL: managed_connector_operator::heap::Counting =
    managed_connector_operator::heap::Counting;

// With `--features system-allocator` (a bench and profiling build) no global allocator is set:
// glibc's malloc, which heaptrack and valgrind can trace and which hack/bench compares against.

#[tokio::main]
async fn main() -> ExitCode {
    managed_connector_operator::allocator::purge_freed_memory_at_once();
    let as_plugin = std::env::args_os()
        .next()
        .is_some_and(|argv0| invoked_as_plugin(&argv0));
    let command = if as_plugin {
        Command::Status(PluginCli::parse().args)
    } else {
        Cli::parse().command
    };
    let result = match command {
        Command::Crd { plural } => match managed_connector_operator::schema::crd_yaml_of(&plural) {
            Some(yaml) => yaml
                .map(|yaml| print!("{yaml}"))
                .map_err(anyhow::Error::from),
            None => Err(anyhow::anyhow!("unknown CRD {plural:?}")),
        },
        Command::Run(args) => managed_connector_operator::cli::run(*args).await,
        Command::Status(args) => managed_connector_operator::report::run(args).await,
        Command::Convert(args) => managed_connector_operator::cli::convert::run(args),
        Command::Import(args) => managed_connector_operator::cli::import::run(args).await,
        Command::Completion { shell } => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(
                shell,
                &mut command,
                "managed-connector-operator",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
