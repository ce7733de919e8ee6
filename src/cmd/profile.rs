//! `dpuctl profile list|show|validate` (in progress).

use std::process::ExitCode;

use crate::cli::{GlobalArgs, ProfileCommand};
use crate::sys::SysRoot;

/// Runs a `profile` subcommand.
pub fn run(_g: &GlobalArgs, _root: &SysRoot, _cmd: ProfileCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("profile commands are not available in this build")
}
