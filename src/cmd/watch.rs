//! `dpuctl watch` (in progress).

use std::process::ExitCode;

use crate::cli::{GlobalArgs, WatchArgs};
use crate::sys::root::SysRoot;

/// Runs `dpuctl watch`.
pub fn run(_global: &GlobalArgs, _root: &SysRoot, _args: &WatchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("dpuctl watch is not available in this build")
}
