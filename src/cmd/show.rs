//! `dpuctl show`: one view of every NIC.

use std::process::ExitCode;

use anyhow::bail;

use crate::cli::{Format, ShowArgs};
use crate::model::rdma::RdmaDevice;
use crate::output;
use crate::sys::SysRoot;

/// Runs `show`.
pub fn run(root: &SysRoot, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    if args.rdma {
        return run_rdma(root, args);
    }
    let mut state = crate::source::load(root, args.from.as_deref(), &args.ifaces)?;
    if args.ifaces.is_empty() && !args.all {
        state.interfaces.retain(|i| i.name != "lo");
    }
    if !args.ifaces.is_empty() {
        // The RDMA devices on the named interfaces.
        state.rdma.retain(|d| {
            d.netdevs()
                .iter()
                .any(|n| args.ifaces.iter().any(|i| i == n))
        });
    }
    let text = match args.format {
        Format::Json if args.module => output::json(&output::module::modules_doc(&state))?,
        Format::Yaml if args.module => output::yaml(&output::module::modules_doc(&state))?,
        Format::Table if args.module => output::module::module_view(&state),
        Format::Json => output::json(&state)?,
        Format::Yaml => output::yaml(&state)?,
        Format::Table if args.stats => output::show_table_with_stats(&state),
        Format::Table => output::show_table(&state),
    };
    output::write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// `show --rdma`: the RDMA devices alone, read without the interfaces' settings.
fn run_rdma(root: &SysRoot, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let mut devs = match &args.from {
        Some(p) => crate::source::load_snapshot(p)?.rdma,
        None => crate::sys::collect::rdma(root)?,
    };
    select_rdma(&mut devs, &args.ifaces)?;
    let text = match args.format {
        Format::Json => output::json(&devs)?,
        Format::Yaml => output::yaml(&devs)?,
        Format::Table => output::rdma_table(&devs),
    };
    output::write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Keeps the devices named, by device name or by a netdev they sit on; a name that matches
/// none is an error listing what there is.
pub fn select_rdma(devs: &mut Vec<RdmaDevice>, names: &[String]) -> anyhow::Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let matches = |d: &RdmaDevice, n: &str| d.name == n || d.netdevs().contains(&n);
    for n in names {
        if !devs.iter().any(|d| matches(d, n)) {
            let known: Vec<String> = devs
                .iter()
                .map(|d| {
                    let nd = d.netdevs();
                    if nd.is_empty() {
                        d.name.clone()
                    } else {
                        format!("{} ({})", d.name, nd.join(", "))
                    }
                })
                .collect();
            bail!(
                "no RDMA device {n:?} (by name or netdev) on this node (have: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
    }
    devs.retain(|d| names.iter().any(|n| matches(d, n)));
    Ok(())
}
