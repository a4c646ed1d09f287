//! Entry point of the `tessera` binary.

use std::process::ExitCode;

use clap::Parser as _;

#[tokio::main]
async fn main() -> ExitCode {
    tessera::cli::run(tessera::cli::Cli::parse()).await
}
