//! One thin handler per subcommand.

mod generate;
mod show;
mod snapshot;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub use generate::{completions, man_page, man_pages};

/// Runs the parsed command line.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let root = crate::source::root(&cli.global);
    match cli.command {
        Command::Show(args) => show::run(&root, &args),
        Command::Snapshot(args) => snapshot::run(&root, &args),
        Command::Completions { shell } => {
            crate::output::write_stdout(&completions(shell))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { subcommand } => {
            crate::output::write_stdout(&man_page(subcommand.as_deref())?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
