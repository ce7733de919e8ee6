//! Shell completions and man pages, generated from the clap definition.
//!
//! The generated files are committed under completions/ and man/; a test regenerates them
//! and fails when they drift.

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::Cli;

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "dpuctl", &mut out);
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
