//! The GPU x NIC matrix of `dpuctl topo`: each pair's `PCIe` relation, the bridges with ACS
//! redirect on its path, each GPU's nearest NICs and its share of their bandwidth.

use serde::{Deserialize, Serialize};

use crate::model::pci::{GpuDirect, PciFabric, PciFunction, PciRole};
use crate::model::{Avail, CpuSet, NodeState, PcieLink};

use super::relation::{bridges_between, relation, PcieRel};

/// Everything `topo` prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopoReport {
    /// GPUs by PCI address (the order of `nvidia-smi` and of CUDA with
    /// `CUDA_DEVICE_ORDER=PCI_BUS_ID`), with their pairs.
    pub gpus: Vec<TopoGpu>,
    /// NIC functions by PCI address.
    pub nics: Vec<TopoNic>,
    /// `GPUDirect` RDMA.
    pub gpudirect: GpuDirect,
}

/// A GPU and its relation to every NIC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopoGpu {
    /// `GPU0`, `GPU1`, ... in PCI address order.
    pub name: String,
    /// PCI address.
    pub address: String,
    /// NUMA node.
    pub numa_node: Option<i32>,
    /// CPUs local to the GPU.
    pub local_cpus: Option<CpuSet>,
    /// `PCIe` link.
    pub link: Avail<PcieLink>,
    /// One entry per NIC, in the order of [`TopoReport::nics`].
    pub pairs: Vec<TopoPair>,
    /// The NICs with the nearest relation (among the RDMA NICs, where there are any).
    pub nearest: Vec<String>,
    /// That relation.
    pub nearest_relation: Option<PcieRel>,
    /// This GPU's share of its nearest NICs' link speed in Gb/s: each NIC's speed divided
    /// among the GPUs it is nearest to.
    pub nic_gbps: Option<f64>,
}

/// A GPU-NIC pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopoPair {
    /// NIC name (as in [`TopoNic::name`]).
    pub nic: String,
    /// `PCIe` relation; `None` when either side has no PCI path.
    pub relation: Option<PcieRel>,
    /// Bridges on the path with ACS peer-to-peer redirect enabled (PCI addresses).
    pub acs_redirect: Vec<String>,
}

/// A NIC function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopoNic {
    /// The RDMA device name, else the netdev name.
    pub name: String,
    /// PCI address.
    pub address: String,
    /// Netdevs on the function.
    pub netdevs: Vec<String>,
    /// RDMA devices on the function.
    pub rdma: Vec<String>,
    /// NUMA node.
    pub numa_node: Option<i32>,
    /// Local CPUs.
    pub local_cpus: Option<CpuSet>,
    /// `PCIe` link.
    pub link: Avail<PcieLink>,
    /// Link speed in Mb/s (netdev `speed`).
    pub speed_mbps: Option<u64>,
    /// One entry per other NIC, in the order of [`TopoReport::nics`]: the NIC-NIC rows of
    /// `nvidia-smi topo -m` (which NICs share a switch, which sit across NUMA nodes).
    #[serde(default)]
    pub pairs: Vec<TopoPair>,
}

/// The name a NIC function goes by in the matrix.
pub fn nic_name(f: &PciFunction) -> String {
    f.rdma
        .first()
        .or_else(|| f.netdevs.first())
        .cloned()
        .unwrap_or_else(|| f.address.clone())
}

/// The pairs of `nics[i]` with every other NIC.
fn nic_pairs(fabric: &PciFabric, nics: &[&PciFunction], i: usize) -> Vec<TopoPair> {
    let a = nics[i];
    nics.iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, b)| {
            let relation = relation(&a.path, a.numa_node, &b.path, b.numa_node);
            TopoPair {
                nic: nic_name(b),
                relation,
                acs_redirect: acs_on_path(fabric, relation, &a.path, &b.path),
            }
        })
        .collect()
}

/// The switch ports with ACS redirect on the path of a pair that could talk peer-to-peer
/// inside a switch (PIX, PXB). Root ports are left out: traffic through them goes up to the
/// root complex anyway, and Linux enables redirect on them by default with an IOMMU.
fn acs_on_path(fabric: &PciFabric, relation: Option<PcieRel>, a: &str, b: &str) -> Vec<String> {
    if !matches!(relation, Some(PcieRel::Pix | PcieRel::Pxb)) {
        return Vec::new();
    }
    bridges_between(a, b)
        .iter()
        // host bridge / root port / ...: a switch port is at least three deep.
        .filter(|p| p.split('/').count() >= 3)
        .filter_map(|p| p.rsplit('/').next())
        .filter(|addr| fabric.function(addr).is_some_and(PciFunction::acs_redirect))
        .map(str::to_string)
        .collect()
}

/// Builds the report from the node's PCI fabric; a NIC whose netdev reports no speed counts
/// at the rate of its RDMA ports.
pub fn report(state: &NodeState) -> TopoReport {
    let mut fabric = state.pci.clone();
    for f in &mut fabric.functions {
        if f.speed_mbps.is_none() {
            f.speed_mbps = state
                .rdma
                .iter()
                .filter(|d| f.rdma.contains(&d.name))
                .flat_map(|d| d.ports.iter().filter_map(|p| p.rate_gbps))
                .map(|g| (g * 1000.0) as u64)
                .max();
        }
    }
    build(&fabric)
}

/// [`report`] over the fabric alone.
pub fn build(fabric: &PciFabric) -> TopoReport {
    let nics: Vec<&PciFunction> = fabric
        .functions
        .iter()
        .filter(|f| f.role == PciRole::Nic)
        .collect();
    let gpus: Vec<&PciFunction> = fabric
        .functions
        .iter()
        .filter(|f| f.role == PciRole::Gpu)
        .collect();
    let any_rdma = nics.iter().any(|n| !n.rdma.is_empty());
    let mut out_gpus: Vec<TopoGpu> = gpus
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let pairs: Vec<TopoPair> = nics
                .iter()
                .map(|n| {
                    let relation = relation(&g.path, g.numa_node, &n.path, n.numa_node);
                    TopoPair {
                        nic: nic_name(n),
                        relation,
                        acs_redirect: acs_on_path(fabric, relation, &g.path, &n.path),
                    }
                })
                .collect();
            // A management NIC is no GPU's NIC where RDMA NICs exist.
            let candidates = || {
                pairs
                    .iter()
                    .zip(&nics)
                    .filter(|(_, n)| !any_rdma || !n.rdma.is_empty())
                    .map(|(p, _)| p)
            };
            let best = candidates().filter_map(|p| p.relation).min();
            let nearest = candidates()
                .filter(|p| best.is_some() && p.relation == best)
                .map(|p| p.nic.clone())
                .collect();
            TopoGpu {
                name: format!("GPU{i}"),
                address: g.address.clone(),
                numa_node: g.numa_node,
                local_cpus: g.local_cpus.clone(),
                link: g.link.clone(),
                pairs,
                nearest,
                nearest_relation: best,
                nic_gbps: None,
            }
        })
        .collect();
    // Each NIC's speed is shared by the GPUs it is nearest to.
    for g in 0..out_gpus.len() {
        let mut total = 0.0;
        let mut known = false;
        for nic in &out_gpus[g].nearest {
            let share = out_gpus.iter().filter(|o| o.nearest.contains(nic)).count();
            let speed = nics
                .iter()
                .find(|n| &nic_name(n) == nic)
                .and_then(|n| n.speed_mbps);
            if let Some(s) = speed {
                total += s as f64 / 1000.0 / share.max(1) as f64;
                known = true;
            }
        }
        out_gpus[g].nic_gbps = known.then_some(total);
    }
    TopoReport {
        gpus: out_gpus,
        nics: nics
            .iter()
            .enumerate()
            .map(|(i, n)| TopoNic {
                name: nic_name(n),
                address: n.address.clone(),
                netdevs: n.netdevs.clone(),
                rdma: n.rdma.clone(),
                numa_node: n.numa_node,
                local_cpus: n.local_cpus.clone(),
                link: n.link.clone(),
                speed_mbps: n.speed_mbps,
                pairs: nic_pairs(fabric, &nics, i),
            })
            .collect(),
        gpudirect: fabric.gpudirect.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(addr: &str, path: &str, role: PciRole, node: i32) -> PciFunction {
        PciFunction {
            address: addr.into(),
            path: path.into(),
            role,
            class: String::new(),
            vendor: String::new(),
            device: String::new(),
            driver: None,
            numa_node: Some(node),
            local_cpus: None,
            link: Avail::na("test"),
            acs: Avail::na("test"),
            netdevs: vec![],
            rdma: vec![],
            speed_mbps: None,
        }
    }

    #[test]
    fn nearest_nics_share_bandwidth_and_acs_is_found() {
        let sw = "pci0000:15/0000:15:01.0/0000:16:00.0";
        let mut nic0 = f(
            "0000:1a:00.0",
            &format!("{sw}/0000:17:02.0/0000:1a:00.0"),
            PciRole::Nic,
            0,
        );
        nic0.rdma = vec!["mlx5_0".into()];
        nic0.netdevs = vec!["eth0".into()];
        nic0.speed_mbps = Some(400_000);
        let mut nic1 = f(
            "0000:98:00.0",
            "pci0000:97/0000:97:01.0/0000:98:00.0",
            PciRole::Nic,
            1,
        );
        nic1.netdevs = vec!["eth1".into()];
        nic1.rdma = vec!["mlx5_1".into()];
        nic1.speed_mbps = Some(200_000);
        let mut bridge = f(
            "0000:17:00.0",
            &format!("{sw}/0000:17:00.0"),
            PciRole::Bridge,
            0,
        );
        bridge.acs = Avail::Ok(crate::model::pci::Acs {
            capability: true,
            control: 0x0c,
            request_redirect: true,
            completion_redirect: true,
        });
        let fabric = PciFabric {
            functions: vec![
                f(
                    "0000:18:00.0",
                    &format!("{sw}/0000:17:00.0/0000:18:00.0"),
                    PciRole::Gpu,
                    0,
                ),
                f(
                    "0000:19:00.0",
                    &format!("{sw}/0000:17:01.0/0000:19:00.0"),
                    PciRole::Gpu,
                    0,
                ),
                f(
                    "0000:99:00.0",
                    "pci0000:97/0000:97:02.0/0000:99:00.0",
                    PciRole::Gpu,
                    1,
                ),
                nic0,
                nic1,
                bridge,
            ],
            gpudirect: GpuDirect::default(),
        };
        let r = build(&fabric);
        assert_eq!(r.nics.len(), 2);
        assert_eq!(r.nics[0].name, "mlx5_0");
        assert_eq!(r.nics[1].name, "mlx5_1");
        let g0 = &r.gpus[0];
        assert_eq!(g0.name, "GPU0");
        assert_eq!(g0.pairs[0].relation, Some(PcieRel::Pix));
        assert_eq!(g0.pairs[0].acs_redirect, vec!["0000:17:00.0"]);
        assert_eq!(g0.pairs[1].relation, Some(PcieRel::Sys));
        assert_eq!(g0.nearest, vec!["mlx5_0"]);
        assert_eq!(r.gpus[1].pairs[0].acs_redirect, Vec::<String>::new());
        // mlx5_0 serves two GPUs: 200 Gb/s each; eth1 serves GPU2 alone.
        assert_eq!(g0.nic_gbps, Some(200.0));
        assert_eq!(r.gpus[2].nearest, vec!["mlx5_1"]);
        assert_eq!(r.gpus[2].nearest_relation, Some(PcieRel::Phb));
        assert_eq!(r.gpus[2].nic_gbps, Some(200.0));
        // No NICs: no nearest, no bandwidth.
        let r = build(&PciFabric {
            functions: fabric.functions[..3].to_vec(),
            gpudirect: GpuDirect::default(),
        });
        assert!(r.gpus[0].nearest.is_empty() && r.gpus[0].nic_gbps.is_none());
    }

    #[test]
    fn nic_pairs_without_gpus() {
        // Two NICs behind the downstream ports 17:01.0 and 17:02.0 of one switch (17:02.0 with
        // ACS redirect on), one on another node; no GPU.
        let sw = "pci0000:15/0000:15:01.0/0000:16:00.0";
        let mut eth0 = f(
            "0000:1a:00.0",
            &format!("{sw}/0000:17:01.0/0000:1a:00.0"),
            PciRole::Nic,
            0,
        );
        eth0.netdevs = vec!["eth0".into()];
        let mut eth1 = f(
            "0000:1b:00.0",
            &format!("{sw}/0000:17:02.0/0000:1b:00.0"),
            PciRole::Nic,
            0,
        );
        eth1.netdevs = vec!["eth1".into()];
        let mut eth2 = f(
            "0000:98:00.0",
            "pci0000:97/0000:97:01.0/0000:98:00.0",
            PciRole::Nic,
            1,
        );
        eth2.netdevs = vec!["eth2".into()];
        let mut port = f(
            "0000:17:02.0",
            &format!("{sw}/0000:17:02.0"),
            PciRole::Bridge,
            0,
        );
        port.acs = Avail::Ok(crate::model::pci::Acs {
            capability: true,
            control: 0x04,
            request_redirect: true,
            completion_redirect: false,
        });
        let r = build(&PciFabric {
            functions: vec![eth0.clone(), eth1, eth2, port],
            gpudirect: GpuDirect::default(),
        });
        assert!(r.gpus.is_empty());
        let names: Vec<&str> = r.nics.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["eth0", "eth1", "eth2"]);
        let rel = |i: usize| -> Vec<(String, Option<PcieRel>, Vec<String>)> {
            r.nics[i]
                .pairs
                .iter()
                .map(|p| (p.nic.clone(), p.relation, p.acs_redirect.clone()))
                .collect()
        };
        let acs = vec!["0000:17:02.0".to_string()];
        assert_eq!(
            rel(0),
            [
                ("eth1".into(), Some(PcieRel::Pix), acs.clone()),
                ("eth2".into(), Some(PcieRel::Sys), vec![]),
            ]
        );
        assert_eq!(
            rel(1),
            [
                ("eth0".into(), Some(PcieRel::Pix), acs),
                ("eth2".into(), Some(PcieRel::Sys), vec![]),
            ]
        );
        assert_eq!(
            rel(2),
            [
                ("eth0".into(), Some(PcieRel::Sys), vec![]),
                ("eth1".into(), Some(PcieRel::Sys), vec![]),
            ]
        );
        // The table: NIC rows, the redirect footnote once per pair, the legend.
        let t = crate::output::fabric::topo_table(&r);
        let rows: Vec<Vec<&str>> = t
            .lines()
            .map(|l| l.split_whitespace().collect())
            .filter(|w: &Vec<&str>| w.len() == 4 && w.contains(&"X"))
            .collect();
        assert_eq!(
            rows,
            [
                ["eth0", "X", "PIX*", "SYS"],
                ["eth1", "PIX*", "X", "SYS"],
                ["eth2", "SYS", "SYS", "X"],
            ],
            "{t}"
        );
        assert_eq!(t.matches("  eth0 - eth1: 0000:17:02.0").count(), 1, "{t}");
        assert!(!t.contains("eth1 - eth0"), "{t}");
        assert!(t.contains("Legend:"), "{t}");
        // One NIC: nothing to relate, no matrix.
        let one = build(&PciFabric {
            functions: vec![eth0],
            gpudirect: GpuDirect::default(),
        });
        assert!(one.nics[0].pairs.is_empty());
        assert!(!crate::output::fabric::topo_table(&one).contains("Legend:"));
    }
}
