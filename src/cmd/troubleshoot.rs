//! `dpuctl troubleshoot` (in progress).

use std::process::ExitCode;

use crate::cli::{GlobalArgs, TroubleshootArgs};
use crate::sys::root::SysRoot;

/// Runs `dpuctl troubleshoot`.
pub fn run(
    _global: &GlobalArgs,
    _root: &SysRoot,
    _args: &TroubleshootArgs,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("dpuctl troubleshoot is not available in this build")
}
