//! `dpuctl topo` and `dpuctl nccl`: the GPU fabric of the node.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::cli::{Format, NcclArgs, NcclFormat, TopoArgs};
use crate::fabric::{self, nccl};
use crate::output;
use crate::sys::rdma::RdmaReads;
use crate::sys::SysRoot;

/// Runs `topo`.
pub fn run(root: &SysRoot, args: &TopoArgs) -> anyhow::Result<ExitCode> {
    // topo prints no GID and no counter: each port's GID table is read only as far as its
    // netdev, its counters not at all.
    let state = crate::source::load_fabric(root, args.from.as_deref(), RdmaReads::Fabric)?;
    let report = fabric::topo::report(&state);
    let text = match args.format {
        Format::Json => output::json(&report)?,
        Format::Yaml => output::yaml(&report)?,
        Format::Table => output::fabric::topo_table(&report),
    };
    output::write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `nccl`: the settings, or with `--check`/`--check-env` the comparison (exit 0
/// matches, 1 wrong settings, 2 error or nothing compared).
pub fn nccl(root: &SysRoot, args: &NcclArgs) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let state = crate::source::load_fabric(root, args.from.as_deref(), RdmaReads::All)?;
    let report = fabric::topo::report(&state);
    let ports = nccl::hca_ports(&state);
    let plan = nccl::plan(&report, &ports, &args.gpus)?;
    let (source, given) = if let Some(path) = &args.check {
        let text = crate::input::read_text(path, crate::input::MAX_CONFIG_BYTES, "nccl.conf files")
            .with_context(|| format!("failed to read {}", path.display()))?;
        let given = nccl::parse_conf(&path.display().to_string(), &text)
            .map_err(|e| anyhow::anyhow!("failed to parse {e}"))?;
        (path.display().to_string(), given)
    } else if args.check_env {
        let mut given: Vec<nccl::GivenSetting> = std::env::vars()
            .filter(|(k, _)| k.starts_with("NCCL_"))
            .map(|(name, value)| nccl::GivenSetting {
                name,
                value,
                at: "environment".into(),
            })
            .collect();
        given.sort_by(|a, b| a.name.cmp(&b.name));
        ("environment".to_string(), given)
    } else {
        let text = match args.format {
            NcclFormat::Env => nccl::render_env(&plan),
            NcclFormat::Conf => nccl::render_conf(&plan),
            NcclFormat::Json => output::json(&plan)?,
        };
        output::write_stdout(text.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    };
    let interfaces: Vec<String> = state.interfaces.iter().map(|i| i.name.clone()).collect();
    let items = nccl::check(
        &nccl::CheckNode {
            topo: &report,
            ports: &ports,
            interfaces: &interfaces,
            plan: &plan,
        },
        &given,
    );
    let wrong = items.iter().filter(|i| !i.ok).count();
    let status = if items.is_empty() {
        "nothing-compared"
    } else if wrong > 0 {
        "wrong"
    } else {
        "ok"
    };
    if args.format == NcclFormat::Json {
        let v = serde_json::json!({
            "source": source,
            "status": status,
            "items": items,
            "node": plan,
        });
        output::write_stdout(output::json(&v)?.as_bytes())?;
    } else if output::verbosity() > output::Verbosity::Quiet {
        let mut out = String::new();
        for i in &items {
            let verdict = if i.ok { "ok   " } else { "WRONG" };
            let _ = write!(out, "{verdict} {}={} ({})", i.name, i.value, i.at);
            if !i.detail.is_empty() {
                let _ = write!(out, ": {}", i.detail);
            }
            out.push('\n');
        }
        let _ = writeln!(out, "{source}: {} compared, {wrong} wrong", items.len());
        output::write_stdout(out.as_bytes())?;
    }
    if items.is_empty() {
        anyhow::bail!(
            "nothing compared: {source} sets none of NCCL_SOCKET_IFNAME, NCCL_IB_HCA, \
             NCCL_IB_GID_INDEX, NCCL_IB_TC, NCCL_NET_GDR_LEVEL"
        );
    }
    Ok(ExitCode::from(u8::from(wrong > 0)))
}
