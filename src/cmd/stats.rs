//! `dpuctl stats` (in progress).

use std::process::ExitCode;

use crate::cli::{GlobalArgs, StatsArgs};
use crate::sys::root::SysRoot;

/// Runs `dpuctl stats`.
pub fn run(_global: &GlobalArgs, _root: &SysRoot, _args: &StatsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("dpuctl stats is not available in this build")
}
