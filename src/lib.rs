//! dpuctl: NIC tuning and diagnostics for Linux nodes.
//!
//! The binary is a thin wrapper around [`run`]. `sys` is the only module that touches the
//! kernel; `model` is plain data; `cmd` holds one handler per subcommand.

pub mod capture;
pub mod cli;
pub mod cmd;
pub mod diag;
pub mod fabric;
pub mod input;
pub mod model;
pub mod module;
pub mod monitor;
pub mod output;
pub mod profile;
pub mod source;
pub mod sys;
pub mod tui;
pub mod tune;
pub mod units;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Parses `args` and runs the command; the exit code for success paths, `Err` for failures
/// (which the binary prints as one line and turns into exit code 2).
pub fn run<I, T>(args: I) -> anyhow::Result<ExitCode>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut cli = match cli::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            e.print()?;
            return Ok(ExitCode::from(if e.use_stderr() { 2 } else { 0 }));
        }
    };
    cli.normalize();
    output::set_verbosity(if cli.global.quiet {
        output::Verbosity::Quiet
    } else if cli.global.verbose {
        output::Verbosity::Verbose
    } else {
        output::Verbosity::Normal
    });
    output::set_wrap(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    cmd::dispatch(cli)
}

/// True when the error chain ends in a broken pipe (the reader of stdout went away).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Entry points for the fuzz targets in `fuzz/` that reach parsers not otherwise public.
/// Not a stable interface.
#[doc(hidden)]
pub mod fuzzing {
    /// Parses and validates one profile file from text, without inheritance (what `profile
    /// validate` does for each file); the number of problems found.
    pub fn profile_file(stem: &str, text: &str) -> usize {
        crate::profile::parse_file(&format!("{stem}.yaml"), stem, text)
            .1
            .len()
    }
}
