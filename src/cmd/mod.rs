//! One thin handler per subcommand.

mod capture;
mod exporter;
mod generate;
mod profile;
mod show;
mod snapshot;
mod stats;
mod topo;
mod troubleshoot;
mod tune;
mod watch;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub use generate::{complete_if_asked, completions, man_page, man_pages};

/// Runs the parsed command line.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let root = crate::source::root(&cli.global);
    match cli.command {
        Command::Show(args) => show::run(&root, &args),
        Command::Snapshot(args) => snapshot::run(&root, &args),
        Command::Profile(sub) => profile::run(&cli.global, &root, sub),
        Command::Tune(args) => tune::tune(&cli.global, &root, &args),
        Command::Check(args) => tune::check(&cli.global, &root, &args),
        Command::Rollback(args) => tune::rollback(&cli.global, &root, &args),
        Command::Watch(args) => watch::run(&cli.global, &root, &args),
        Command::Stats(args) => stats::run(&cli.global, &root, &args),
        Command::Exporter(args) => exporter::run(&cli.global, &root, &args),
        Command::Capture(args) => capture::run(&cli.global, &root, &args),
        Command::Troubleshoot(args) => troubleshoot::run(&cli.global, &root, &args),
        Command::Confirm => tune::confirm(&cli.global, &root),
        Command::History(args) => tune::history(&cli.global, &args),
        Command::ConfirmWatch { id } => tune::confirm_watch(&cli.global, &root, &id),
        Command::Completions { shell } => {
            crate::output::write_stdout(&completions(shell))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { subcommand } => {
            crate::output::write_stdout(&man_page(subcommand.as_deref())?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Topo(args) => topo::run(&root, &args),
        Command::Nccl(args) => topo::nccl(&root, &args),
    }
}

/// The monitor settings asked for by the shared `watch`/`stats` flags: the monitor knows
/// nothing of the command line.
pub(crate) fn monitor_options(
    a: &crate::cli::MonitorArgs,
) -> crate::monitor::config::MonitorOptions {
    crate::monitor::config::MonitorOptions {
        sample_interval: a.sample_interval,
        refresh: a.refresh,
        line_rate: a.line_rate,
        burst_threshold: a.burst_threshold,
        config: a.config.clone(),
        thresholds: a.thresholds.clone(),
        record: a.record.clone(),
        history: a.history,
        source: a.source,
        bin_width: a.bin_width,
    }
}
