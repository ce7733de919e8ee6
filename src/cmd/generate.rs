//! Shell completions and man pages, generated from the clap definition.
//!
//! The generated files are committed under completions/ and man/; a test regenerates them
//! and fails when they drift.

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::Cli;

/// The environment variable through which the shell asks `dpuctl` for completions.
pub const COMPLETE_VAR: &str = "COMPLETE";

/// Answers a completion request from the shell (`COMPLETE=SHELL dpuctl -- WORDS...`, sent by
/// the scripts of [`completions`]) and exits; returns at once when there is none.
///
/// The completions come from the CLI definition at the time of the request: subcommands and
/// flags (the hidden ones left out), interface names from sysfs and profile names from the
/// shipped profiles and the profile directory.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(COMPLETE_VAR)
        .bin("dpuctl")
        .completer("dpuctl")
        .complete();
}

/// The completion script for `shell`: it registers `dpuctl` with the shell, which then asks
/// `dpuctl` itself for the candidates of each word (see [`complete_if_asked`]).
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let completer: &dyn EnvCompleter = match shell {
        clap_complete::Shell::Zsh => &Zsh,
        clap_complete::Shell::Fish => &Fish,
        clap_complete::Shell::Elvish => &Elvish,
        clap_complete::Shell::PowerShell => &Powershell,
        // Bash, and any shell clap_complete adds later (the enum is non-exhaustive).
        _ => &Bash,
    };
    let mut out = Vec::new();
    completer
        .write_registration(COMPLETE_VAR, "dpuctl", "dpuctl", "dpuctl", &mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// Names of the man pages: `dpuctl` and `dpuctl-SUBCOMMAND` for each subcommand.
pub fn man_pages() -> Vec<String> {
    let cmd = Cli::command();
    std::iter::once("dpuctl".to_string())
        .chain(
            cmd.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| format!("dpuctl-{}", s.get_name())),
        )
        .collect()
}

/// The man page (roff) of dpuctl, or of one subcommand when `sub` is given.
pub fn man_page(sub: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let page = match sub {
        None => cmd,
        Some(name) => {
            let s = cmd
                .find_subcommand(name)
                .with_context(|| format!("no subcommand {name:?} (see `dpuctl --help`)"))?
                .clone();
            let full = format!("dpuctl-{name}");
            s.name(full).bin_name(format!("dpuctl {name}"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    Ok(out)
}
