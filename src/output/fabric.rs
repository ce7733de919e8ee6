//! The `topo` table.

use std::fmt::Write as _;

use crate::fabric::topo::{TopoPair, TopoReport};
use crate::fabric::PcieRel;
use crate::model::{Avail, PcieLink};

use super::{push_table, table};

/// `32.0 GT/s x16`, with the maximum after it when the link runs below it.
pub fn pcie(link: &Avail<PcieLink>) -> String {
    match link {
        Avail::Ok(l) => {
            let speed = |s: &str| s.trim_end_matches(" PCIe").to_string();
            let cur = format!("{} x{}", speed(&l.current_speed), l.current_width);
            if l.degraded() {
                format!("{cur} of {} x{} DEGRADED", speed(&l.max_speed), l.max_width)
            } else {
                cur
            }
        }
        Avail::Na(_) => "n/a".to_string(),
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The `topo` view: the matrix, the GPUs, the NICs, ACS redirect, `GPUDirect`, a legend.
pub fn topo_table(r: &TopoReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "GPU fabric: {} GPU(s), {} NIC(s). GPUDirect RDMA: {} ({})",
        r.gpus.len(),
        r.nics.len(),
        r.gpudirect.status,
        r.gpudirect.reason
    );
    if r.gpus.is_empty() {
        out.push_str("No GPUs found (PCI class 0x0300/0x0302/0x0380, a BMC's VGA left out).\n");
    }
    if r.nics.is_empty() {
        out.push_str(
            "No NIC functions found (no PCI netdev or RDMA device): NICs on virtual buses \
             have no PCIe relation.\n",
        );
    }
    // NIC rows (as nvidia-smi prints them) where there are NICs to relate.
    let nic_rows = r.nics.len() >= 2;
    let matrix = !r.nics.is_empty() && (!r.gpus.is_empty() || nic_rows);
    if matrix {
        out.push('\n');
        let mut header: Vec<&str> = vec![""];
        header.extend(r.nics.iter().map(|n| n.name.as_str()));
        let mut t = table(&header);
        let cell = |p: &TopoPair| {
            let rel = p.relation.map_or("-", PcieRel::as_str).to_string();
            if p.acs_redirect.is_empty() {
                rel
            } else {
                format!("{rel}*")
            }
        };
        for g in &r.gpus {
            let mut row = vec![g.name.clone()];
            row.extend(g.pairs.iter().map(cell));
            t.add_row(row);
        }
        if nic_rows {
            for n in &r.nics {
                let mut row = vec![n.name.clone()];
                row.extend(r.nics.iter().map(|m| {
                    if m.name == n.name {
                        "X".to_string()
                    } else {
                        n.pairs
                            .iter()
                            .find(|p| p.nic == m.name)
                            .map_or_else(|| "-".to_string(), cell)
                    }
                }));
                t.add_row(row);
            }
        }
        push_table(&mut out, &t);
    }
    if !r.gpus.is_empty() {
        out.push('\n');
        let mut t = table(&[
            "GPU",
            "PCI",
            "NUMA",
            "CPUs",
            "PCIe",
            "nearest NIC",
            "NIC Gb/s",
        ]);
        for g in &r.gpus {
            let nearest = match g.nearest_relation {
                Some(rel) => format!("{} ({rel})", g.nearest.join(",")),
                None => "-".to_string(),
            };
            t.add_row(vec![
                g.name.clone(),
                g.address.clone(),
                opt(g.numa_node),
                g.local_cpus
                    .as_ref()
                    .map_or("-".into(), crate::model::CpuSet::to_list),
                pcie(&g.link),
                nearest,
                g.nic_gbps.map_or("-".into(), |v| format!("{v:.0}")),
            ]);
        }
        push_table(&mut out, &t);
    }
    if !r.nics.is_empty() {
        out.push('\n');
        let mut t = table(&[
            "NIC", "PCI", "netdev", "RDMA", "NUMA", "CPUs", "PCIe", "speed",
        ]);
        for n in &r.nics {
            t.add_row(vec![
                n.name.clone(),
                n.address.clone(),
                if n.netdevs.is_empty() {
                    "-".into()
                } else {
                    n.netdevs.join(",")
                },
                if n.rdma.is_empty() {
                    "-".into()
                } else {
                    n.rdma.join(",")
                },
                opt(n.numa_node),
                n.local_cpus
                    .as_ref()
                    .map_or("-".into(), crate::model::CpuSet::to_list),
                pcie(&n.link),
                n.speed_mbps
                    .map_or("-".into(), |s| format!("{} Gb/s", s / 1000)),
            ]);
        }
        push_table(&mut out, &t);
    }
    let mut acs: Vec<String> = r
        .gpus
        .iter()
        .flat_map(|g| {
            g.pairs
                .iter()
                .filter(|p| !p.acs_redirect.is_empty())
                .map(move |p| format!("  {} - {}: {}", g.name, p.nic, p.acs_redirect.join(", ")))
        })
        .collect();
    // Each NIC pair once, in the order of the NICs.
    for (i, n) in r.nics.iter().enumerate() {
        for p in n.pairs.iter().filter(|p| !p.acs_redirect.is_empty()) {
            if r.nics[i + 1..].iter().any(|m| m.name == p.nic) {
                acs.push(format!(
                    "  {} - {}: {}",
                    n.name,
                    p.nic,
                    p.acs_redirect.join(", ")
                ));
            }
        }
    }
    if !acs.is_empty() {
        out.push_str(
            "\n* ACS redirect on the path (peer-to-peer traffic goes up to the root complex):\n",
        );
        for l in acs {
            out.push_str(&l);
            out.push('\n');
        }
    }
    if matrix {
        out.push_str("\nLegend:\n");
        for rel in [
            PcieRel::Pix,
            PcieRel::Pxb,
            PcieRel::Phb,
            PcieRel::Node,
            PcieRel::Sys,
        ] {
            let _ = writeln!(out, "  {:<5} {}", rel.as_str(), rel.meaning());
        }
    }
    out
}
