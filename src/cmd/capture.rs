//! `dpuctl capture` (in progress).

use std::process::ExitCode;

use crate::cli::{CaptureArgs, GlobalArgs};
use crate::sys::root::SysRoot;

/// Runs `dpuctl capture`.
pub fn run(_global: &GlobalArgs, _root: &SysRoot, _args: &CaptureArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("dpuctl capture is not available in this build")
}
