//! `cargo xtask`: Switchyard's automation, in Rust so that it runs wherever cargo does.
//!
//! - `cargo xtask ci` runs every check that CI runs, in the order that fails fastest.
//! - `cargo xtask perf [--quick]` runs the headline benchmarks and writes
//!   `target/perf/summary.json`.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool reports on its standard streams"
)]

mod ci;
mod perf;
mod shell;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Switchyard's automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every check: formatting, clippy, tests, doc tests, docs and tidy tests.
    Ci,
    /// Run the headline benchmarks and write target/perf/summary.json.
    Perf {
        /// Short measurements: about a minute after the build.
        #[arg(long)]
        quick: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let root = shell::workspace_root()?;
    match Cli::parse().command {
        Command::Ci => ci::run(&root),
        Command::Perf { quick } => perf::run(&root, quick),
    }
}
