//! `dpuctl topo` and `dpuctl nccl`: the GPU fabric of the node.

use std::process::ExitCode;

use crate::cli::{Format, NcclArgs, TopoArgs};
use crate::fabric;
use crate::output;
use crate::sys::SysRoot;

/// Runs `topo`.
pub fn run(root: &SysRoot, args: &TopoArgs) -> anyhow::Result<ExitCode> {
    let state = crate::source::load(root, args.from.as_deref(), &[])?;
    let report = fabric::topo::report(&state);
    let text = match args.format {
        Format::Json => output::json(&report)?,
        Format::Yaml => output::yaml(&report)?,
        Format::Table => output::fabric::topo_table(&report),
    };
    output::write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `nccl`.
pub fn nccl(_root: &SysRoot, _args: &NcclArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("nccl: not yet")
}
