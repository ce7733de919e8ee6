//! CPU sets on a node: policies (`nic-numa`, `gpu-numa`, `all`) resolved against the
//! topology, `exclude`, and the spread order that puts physical cores before their
//! hyperthread siblings.

use std::collections::{BTreeSet, HashMap};

use crate::model::knobs::nearest_gpu;
use crate::model::{CpuSet, Interface, Topology};

use super::resolve::ResolveError;
use super::validate::CpuSpec;

/// The CPUs of the NIC's NUMA node; all online CPUs (with a note) when the NIC has no node
/// or the node is not in the topology.
pub fn nic_node_cpus(
    topo: &Topology,
    iface: &Interface,
    what: &str,
    notes: &mut Vec<String>,
) -> CpuSet {
    if let Some(node) = iface.numa_node {
        if let Some(cpus) = topo.cpus_of_node(node) {
            return cpus.clone();
        }
    }
    notes.push(format!(
        "{}: {what}: the NIC has no NUMA node, using all online CPUs {}",
        iface.name, topo.online_cpus
    ));
    topo.online_cpus.clone()
}

/// What a CPU spec stands for on this node for this interface. `what` names the setting in
/// notes and errors (`irq_affinity cpus`).
pub fn resolve_spec(
    spec: &CpuSpec,
    topo: &Topology,
    iface: &Interface,
    what: &str,
    notes: &mut Vec<String>,
) -> Result<CpuSet, ResolveError> {
    let name = &iface.name;
    match spec {
        CpuSpec::Set(s) => {
            if !topo.online_cpus.is_empty() && !s.is_subset(&topo.online_cpus) {
                let off = CpuSet::from_cpus(s.iter().filter(|c| !topo.online_cpus.contains(*c)));
                return Err(ResolveError::Offline {
                    iface: name.clone(),
                    what: what.to_string(),
                    cpus: off.to_list(),
                    online: topo.online_cpus.to_list(),
                });
            }
            Ok(s.clone())
        }
        CpuSpec::None => Ok(CpuSet::new()),
        CpuSpec::All => Ok(topo.online_cpus.clone()),
        CpuSpec::NicNuma => {
            let set = nic_node_cpus(topo, iface, what, notes);
            if let Some(n) = iface.numa_node.filter(|n| topo.cpus_of_node(*n).is_some()) {
                notes.push(format!("{name}: {what} nic-numa = {set} (node {n})"));
            }
            Ok(set)
        }
        CpuSpec::GpuNuma(addr) => {
            if topo.gpus.is_empty() {
                return Err(ResolveError::NoGpu {
                    iface: name.clone(),
                    what: what.to_string(),
                });
            }
            let gpu = match addr {
                Some(a) => topo
                    .gpus
                    .iter()
                    .find(|g| g.pci_address.eq_ignore_ascii_case(a))
                    .ok_or_else(|| ResolveError::UnknownGpu {
                        iface: name.clone(),
                        what: what.to_string(),
                        addr: a.clone(),
                        known: topo
                            .gpus
                            .iter()
                            .map(|g| g.pci_address.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })?,
                // The GPU behind the same PCIe switch or root port, else one on the NIC's
                // NUMA node. Without either, the work goes to a GPU's node anyway (where the
                // data is consumed): the first GPU that has a node.
                None => {
                    if let Some(g) =
                        nearest_gpu(topo, iface.device_path.as_deref(), iface.numa_node)
                    {
                        g
                    } else {
                        let g = topo
                            .gpus
                            .iter()
                            .find(|g| g.numa_node.is_some())
                            .unwrap_or(&topo.gpus[0]);
                        notes.push(format!(
                            "{name}: {what} gpu-numa: no GPU on the NIC's NUMA node, using GPU {}",
                            g.pci_address
                        ));
                        g
                    }
                }
            };
            let Some((n, cpus)) = gpu
                .numa_node
                .and_then(|n| topo.cpus_of_node(n).map(|c| (n, c)))
            else {
                notes.push(format!(
                    "{name}: {what} gpu-numa: GPU {} has no NUMA node, using all online CPUs {}",
                    gpu.pci_address, topo.online_cpus
                ));
                return Ok(topo.online_cpus.clone());
            };
            notes.push(format!(
                "{name}: {what} gpu-numa = {cpus} (node {n} of GPU {})",
                gpu.pci_address
            ));
            Ok(cpus.clone())
        }
    }
}

/// `cpus` minus `exclude`, both resolved. An empty result is an error unless `cpus` was
/// explicitly empty (`none`) and `allow_none` is set.
pub fn resolve_with_exclude(
    cpus: &CpuSpec,
    exclude: Option<&CpuSpec>,
    allow_none: bool,
    topo: &Topology,
    iface: &Interface,
    what: &str,
    notes: &mut Vec<String>,
) -> Result<CpuSet, ResolveError> {
    let set = resolve_spec(cpus, topo, iface, what, notes)?;
    let explicit_none =
        matches!(cpus, CpuSpec::None) || matches!(cpus, CpuSpec::Set(s) if s.is_empty());
    if explicit_none {
        if allow_none {
            return Ok(set);
        }
        return Err(ResolveError::NoCpu {
            iface: iface.name.clone(),
            what: what.to_string(),
            detail: format!("'{cpus}' is empty"),
        });
    }
    let (left, detail) = match exclude {
        None => (set.clone(), format!("{cpus} has no CPU on this node")),
        Some(ex) => {
            let ex_set = resolve_spec(ex, topo, iface, &format!("{what} exclude"), notes)?;
            (
                CpuSet::from_cpus(set.iter().filter(|c| !ex_set.contains(*c))),
                format!("{cpus} = {set}, all excluded by {ex} = {ex_set}"),
            )
        }
    };
    if left.is_empty() {
        return Err(ResolveError::NoCpu {
            iface: iface.name.clone(),
            what: what.to_string(),
            detail,
        });
    }
    Ok(left)
}

/// The CPUs of `set` in the order to hand them out one per IRQ or queue: the first
/// hyperthread of every physical core before any second one, and so on; ascending CPU
/// number within each round. A CPU whose earlier siblings are not in the set counts as the
/// first of its core. CPUs missing from the topology count as cores of their own.
pub fn spread_order(topo: &Topology, set: &CpuSet) -> Vec<u32> {
    let by_id: HashMap<u32, &CpuSet> = topo.cpus.iter().map(|c| (c.id, &c.siblings)).collect();
    let mut ranked: Vec<(usize, u32)> = set
        .iter()
        .map(|cpu| {
            let rank = by_id.get(&cpu).map_or(0, |sib| {
                sib.iter().filter(|s| *s < cpu && set.contains(*s)).count()
            });
            (rank, cpu)
        })
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().map(|(_, c)| c).collect()
}

/// Number of physical cores (distinct package and core id) among the CPUs of `set`; CPUs
/// missing from the topology count as cores of their own.
pub fn physical_cores(topo: &Topology, set: &CpuSet) -> usize {
    let by_id: HashMap<u32, (u32, u32)> = topo
        .cpus
        .iter()
        .map(|c| (c.id, (c.package, c.core)))
        .collect();
    let mut cores: BTreeSet<(u32, u32, u32)> = BTreeSet::new();
    for cpu in set.iter() {
        match by_id.get(&cpu) {
            Some(&(p, c)) => cores.insert((p, c, u32::MAX)),
            None => cores.insert((u32::MAX, u32::MAX, cpu)),
        };
    }
    cores.len()
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::{Cpu, Gpu, NumaNode};

    /// A topology of `nodes` NUMA nodes with `cores` physical cores each and two hyperthreads
    /// per core, numbered like Linux on x86: the first threads of all cores, node by node,
    /// then the second threads (CPU c and c + nodes*cores are siblings).
    pub fn topology(nodes: u32, cores: u32, gpus: &[(&str, i32)]) -> Topology {
        let total = nodes * cores;
        let mut cpus = Vec::new();
        let mut numa = Vec::new();
        for n in 0..nodes {
            let first: Vec<u32> = (n * cores..(n + 1) * cores).collect();
            let all: Vec<u32> = first.iter().flat_map(|&c| [c, c + total]).collect();
            numa.push(NumaNode {
                id: n as i32,
                cpus: CpuSet::from_cpus(all),
            });
        }
        for id in 0..2 * total {
            let phys = id % total;
            cpus.push(Cpu {
                id,
                package: phys / cores,
                core: phys % cores,
                siblings: CpuSet::from_cpus([phys, phys + total]),
            });
        }
        Topology {
            online_cpus: CpuSet::from_cpus(0..2 * total),
            numa_nodes: numa,
            cpus,
            gpus: gpus
                .iter()
                .map(|(addr, node)| Gpu {
                    pci_address: (*addr).to_string(),
                    vendor: "0x10de".into(),
                    device: "0x2330".into(),
                    driver: Some("nvidia".into()),
                    numa_node: Some(*node),
                    pci_path: format!("pci0000:00/{addr}"),
                })
                .collect(),
        }
    }

    /// An interface with only what CPU policies look at.
    pub fn nic(name: &str, node: Option<i32>) -> Interface {
        let text = serde_json::json!({
            "name": name, "ifindex": 2, "kind": null,
            "driver": {"driver": "mlx5_core", "version": "", "firmware": "", "bus_info": ""},
            "mac": null, "mtu": 1500, "txqueuelen": 1000, "operstate": "up", "carrier": true,
            "carrier_changes": 1, "num_tx_queues": 0, "num_rx_queues": 0,
            "pci_address": "0000:81:00.0", "numa_node": node, "local_cpus": null,
            "pcie": {"n/a": "x"}, "link": {"n/a": "x"}, "rings": {"n/a": "x"},
            "channels": {"n/a": "x"}, "coalesce": {"n/a": "x"}, "pause": {"n/a": "x"},
            "features": {"n/a": "x"}, "fec": {"n/a": "x"},
            "counters": crate::model::Counters::default(),
            "std_stats": {"n/a": "x"}, "driver_stats": {"n/a": "x"},
            "queues": [], "irqs": [], "temperatures": []
        });
        serde_json::from_value(text).expect("interface")
    }

    fn set(s: &str) -> CpuSet {
        CpuSet::parse_list(s).expect("list")
    }

    #[test]
    fn policies_on_one_two_and_four_nodes() {
        let mut notes = Vec::new();
        // One node, 4 cores: nic-numa is every CPU.
        let t1 = topology(1, 4, &[]);
        let r = resolve_spec(
            &CpuSpec::NicNuma,
            &t1,
            &nic("eth0", Some(0)),
            "irq",
            &mut notes,
        );
        assert_eq!(r.expect("ok"), set("0-7"));
        // Two nodes like the fixture: node 1 is 4-7,12-15.
        let t2 = topology(2, 4, &[("0000:c1:00.0", 1)]);
        let eth2 = nic("eth2", Some(1));
        let r = resolve_spec(&CpuSpec::NicNuma, &t2, &eth2, "irq", &mut notes);
        assert_eq!(r.expect("ok"), set("4-7,12-15"));
        let r = resolve_spec(
            &CpuSpec::GpuNuma(None),
            &t2,
            &nic("eno1", Some(0)),
            "rps",
            &mut notes,
        );
        assert_eq!(
            r.expect("ok"),
            set("4-7,12-15"),
            "no GPU on node 0: the GPU's node"
        );
        assert_eq!(
            notes[notes.len() - 2..],
            [
                "eno1: rps gpu-numa: no GPU on the NIC's NUMA node, using GPU 0000:c1:00.0",
                "eno1: rps gpu-numa = 4-7,12-15 (node 1 of GPU 0000:c1:00.0)"
            ]
        );
        // Four nodes x 16 cores x 2 threads = 128 CPUs; GPUs on nodes 2 and 3.
        let t4 = topology(4, 16, &[("0000:41:00.0", 2), ("0000:c1:00.0", 3)]);
        let n3 = nic("ens1f0", Some(3));
        let r = resolve_spec(&CpuSpec::GpuNuma(None), &t4, &n3, "irq", &mut notes);
        assert_eq!(r.expect("ok"), set("48-63,112-127"));
        let named = CpuSpec::GpuNuma(Some("0000:41:00.0".into()));
        let r = resolve_spec(&named, &t4, &n3, "irq", &mut notes);
        assert_eq!(r.expect("ok"), set("32-47,96-111"));
        let r = resolve_spec(&CpuSpec::All, &t4, &n3, "irq", &mut notes);
        assert_eq!(r.expect("ok").len(), 128);
        let bad = CpuSpec::GpuNuma(Some("0000:99:00.0".into()));
        assert_eq!(
            resolve_spec(&bad, &t4, &n3, "irq_affinity cpus", &mut notes)
                .expect_err("unknown")
                .to_string(),
            "ens1f0: irq_affinity cpus: no GPU at 0000:99:00.0 (GPUs: 0000:41:00.0, 0000:c1:00.0)"
        );
        assert!(matches!(
            resolve_spec(&CpuSpec::GpuNuma(None), &t1, &n3, "irq", &mut notes),
            Err(ResolveError::NoGpu { .. })
        ));
    }

    #[test]
    fn a_nic_without_a_node_uses_every_online_cpu_with_a_note() {
        let t = topology(2, 4, &[]);
        let mut notes = Vec::new();
        let r = resolve_spec(
            &CpuSpec::NicNuma,
            &t,
            &nic("veth0", None),
            "xps cpus",
            &mut notes,
        );
        assert_eq!(r.expect("ok"), set("0-15"));
        assert_eq!(
            notes,
            ["veth0: xps cpus: the NIC has no NUMA node, using all online CPUs 0-15"]
        );
    }

    #[test]
    fn exclude_and_offline_and_empty() {
        let t = topology(2, 4, &[]);
        let eth2 = nic("eth2", Some(1));
        let mut notes = Vec::new();
        let ex = CpuSpec::Set(set("4,12"));
        let r = resolve_with_exclude(
            &CpuSpec::NicNuma,
            Some(&ex),
            false,
            &t,
            &eth2,
            "irq",
            &mut notes,
        );
        assert_eq!(r.expect("ok"), set("5-7,13-15"));
        let all_out = CpuSpec::Set(set("0-15"));
        let e = resolve_with_exclude(
            &CpuSpec::NicNuma,
            Some(&all_out),
            false,
            &t,
            &eth2,
            "irq_affinity cpus",
            &mut notes,
        )
        .expect_err("empty");
        assert_eq!(
            e.to_string(),
            "eth2: irq_affinity cpus resolves to no CPU (nic-numa = 4-7,12-15, all excluded by 0-15 = 0-15)"
        );
        let off = CpuSpec::Set(set("14-17"));
        assert_eq!(
            resolve_with_exclude(&off, None, false, &t, &eth2, "rps cpus", &mut notes)
                .expect_err("offline")
                .to_string(),
            "eth2: rps cpus names CPUs that are not online: 16-17 (online: 0-15)"
        );
        assert_eq!(
            resolve_with_exclude(&CpuSpec::None, None, true, &t, &eth2, "rps", &mut notes),
            Ok(CpuSet::new())
        );
        assert!(
            resolve_with_exclude(&CpuSpec::None, None, false, &t, &eth2, "irq", &mut notes)
                .is_err()
        );
        // Masks beyond 64 CPUs.
        let t4 = topology(4, 16, &[]);
        let m = CpuSet::parse_mask("0x1,00000000,00000000,00000001").expect("mask");
        let r = resolve_with_exclude(&CpuSpec::Set(m), None, false, &t4, &eth2, "irq", &mut notes);
        assert_eq!(r.expect("ok"), set("0,96"));
    }

    #[test]
    fn spread_puts_physical_cores_first() {
        let t = topology(2, 4, &[]);
        assert_eq!(
            spread_order(&t, &set("4-7,12-15")),
            [4, 5, 6, 7, 12, 13, 14, 15]
        );
        // Without CPU 4, its sibling 12 is the first thread of that core.
        assert_eq!(
            spread_order(&t, &set("5-7,12-15")),
            [5, 6, 7, 12, 13, 14, 15]
        );
        let t4 = topology(4, 32, &[]);
        let node2 = t4.cpus_of_node(2).expect("node").clone();
        let order = spread_order(&t4, &node2);
        assert_eq!(order.len(), 64);
        assert_eq!(order[..32], (64..96).collect::<Vec<_>>()[..]);
        assert_eq!(order[32..], (192..224).collect::<Vec<_>>()[..]);
        assert_eq!(physical_cores(&t4, &node2), 32);
        assert_eq!(physical_cores(&t4, &t4.online_cpus), 128);
        assert_eq!(physical_cores(&Topology::default(), &set("0-3")), 4);
    }

    proptest! {
        #[test]
        fn spread_order_is_a_permutation_with_first_threads_first(
            nodes in 1u32..5, cores in 1u32..40, pick in proptest::collection::vec(any::<bool>(), 0..320)
        ) {
            let t = topology(nodes, cores, &[]);
            let chosen = CpuSet::from_cpus(t.online_cpus.iter().filter(|c| pick.get(*c as usize).copied().unwrap_or(true)));
            let order = spread_order(&t, &chosen);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, chosen.iter().collect::<Vec<_>>());
            // No core gets a second thread before every core with a thread in the set has one.
            let n_cores = physical_cores(&t, &chosen);
            let mut seen = std::collections::HashSet::new();
            for (i, cpu) in order.iter().enumerate() {
                let c = &t.cpus[*cpu as usize];
                let fresh = seen.insert((c.package, c.core));
                prop_assert_eq!(fresh, i < n_cores, "cpu {} at {}", cpu, i);
            }
        }
    }
}
