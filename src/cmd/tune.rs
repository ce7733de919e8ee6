//! `dpuctl tune|check|rollback|confirm|history` (in progress).

use std::process::ExitCode;

use crate::cli::{CheckArgs, GlobalArgs, HistoryArgs, RollbackArgs, TuneArgs};
use crate::sys::SysRoot;

const NA: &str = "tuning is not available in this build";

/// Runs `tune`.
pub fn tune(_g: &GlobalArgs, _root: &SysRoot, _a: &TuneArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(NA)
}
/// Runs `check`.
pub fn check(_g: &GlobalArgs, _root: &SysRoot, _a: &CheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(NA)
}
/// Runs `rollback`.
pub fn rollback(_g: &GlobalArgs, _root: &SysRoot, _a: &RollbackArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(NA)
}
/// Runs `confirm`.
pub fn confirm(_g: &GlobalArgs, _root: &SysRoot) -> anyhow::Result<ExitCode> {
    anyhow::bail!(NA)
}
/// Runs `history`.
pub fn history(_g: &GlobalArgs, _a: &HistoryArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(NA)
}
/// Waits out a confirm timeout and reverts.
pub fn confirm_watch(_g: &GlobalArgs, _root: &SysRoot, _id: &str) -> anyhow::Result<ExitCode> {
    anyhow::bail!(NA)
}
