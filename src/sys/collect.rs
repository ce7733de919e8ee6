//! Fills a [`NodeState`] from the kernel: netlink for links and counters, the ethtool family
//! for settings, ioctl for driver counters, sysfs and procfs for the rest.
//!
//! With a fixture root (anything but the live `/sys` and `/proc`) only files are read: link
//! attributes and counters come from sysfs, and ethtool settings are n/a, because netlink and
//! ethtool would describe the running kernel rather than the tree.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::model::{
    Avail, Counters, CpuSet, DriverInfo, Interface, Irq, NodeState, Topology, SNAPSHOT_SCHEMA,
};

use super::ethtool::{Ethtool, EthtoolError};
use super::netlink::{LinkAttrs, Rtnl};
use super::nl::NlError;
use super::{irq, procfs, sysctl, sysfs, topology, SysRoot};

/// Why the node state could not be read at all. Per-knob failures never end up here: they
/// become n/a values with their reason.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// rtnetlink failed (no interface list, no counters).
    #[error("failed to list interfaces over rtnetlink: {0}")]
    Netlink(#[from] NlError),
    /// A file every node has could not be read.
    #[error("failed to read {what}: {source}")]
    Io {
        /// What was being read.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A named interface does not exist.
    #[error("no interface {name:?} on this node (have: {known})")]
    UnknownInterface {
        /// The requested name.
        name: String,
        /// Comma-separated names that exist.
        known: String,
    },
}

/// Most worker threads reading interfaces at once.
const MAX_WORKERS: usize = 4;
/// Fewest interfaces worth a thread of their own.
const MIN_PER_WORKER: usize = 4;

/// Reads the node; `names` restricts the interfaces read (empty = all).
pub fn collect(root: &SysRoot, names: &[String]) -> Result<NodeState, CollectError> {
    let topology = topology::read(root).map_err(|source| CollectError::Io {
        what: format!("CPU topology under {}", root.sysfs.display()),
        source,
    })?;
    let links = links(root)?;
    for n in names {
        if !links.iter().any(|(l, _)| &l.name == n) {
            return Err(CollectError::UnknownInterface {
                name: n.clone(),
                known: links
                    .iter()
                    .map(|(l, _)| l.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let irq_lines = procfs::interrupts(root).unwrap_or_default();
    let links: Vec<_> = links
        .into_iter()
        .filter(|(l, _)| names.is_empty() || names.contains(&l.name))
        .collect();
    // Each interface costs a dozen ethtool requests and a few dozen sysfs reads, all
    // independent: spread them over worker threads, each with its own ethtool socket.
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, MAX_WORKERS)
        .min(links.len().div_ceil(MIN_PER_WORKER))
        .max(1);
    let chunk = links.len().div_ceil(workers).max(1);
    let interfaces = std::thread::scope(|s| {
        let handles: Vec<_> = links
            .chunks(chunk)
            .map(|part| {
                let (topology, irq_lines) = (&topology, &irq_lines);
                s.spawn(move || {
                    let mut eth = if root.is_live() {
                        Ethtool::open().map_err(|e| e.reason())
                    } else {
                        Err("ethtool reads the running kernel, not a --sysfs-root tree".to_string())
                    };
                    part.iter()
                        .map(|(l, c)| {
                            interface(root, topology, irq_lines, eth.as_mut(), l.clone(), *c)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    Ok(NodeState {
        schema: SNAPSHOT_SCHEMA,
        hostname: procfs::hostname(root).unwrap_or_default(),
        kernel: procfs::kernel_release(root).unwrap_or_default(),
        taken_at_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        topology,
        interfaces,
        sysctls: sysctl::read_all(root),
        softnet: procfs::softnet(root).unwrap_or_default(),
    })
}

/// Links and their counters: over netlink on the live kernel, from sysfs files otherwise.
fn links(root: &SysRoot) -> Result<Vec<(LinkAttrs, Counters)>, CollectError> {
    if root.is_live() {
        let mut rtnl = Rtnl::open()?;
        let links = rtnl.links()?;
        let mut samples = Vec::new();
        rtnl.sample_all(&mut samples)?;
        let by_index: HashMap<u32, Counters> = samples.into_iter().collect();
        return Ok(links
            .into_iter()
            .map(|l| {
                let c = by_index.get(&l.ifindex).copied().unwrap_or_default();
                (l, c)
            })
            .collect());
    }
    let io = |what: String| move |source| CollectError::Io { what, source };
    let names = sysfs::interfaces(root).map_err(io("class/net".into()))?;
    names
        .into_iter()
        .map(|name| {
            let s = sysfs::link_from_sysfs(root, &name).map_err(io(format!("class/net/{name}")))?;
            Ok((
                LinkAttrs {
                    ifindex: s.ifindex,
                    name,
                    kind: None,
                    mac: s.address,
                    mtu: s.mtu,
                    txqueuelen: s.txqueuelen,
                    operstate: s.operstate,
                    carrier: s.carrier,
                    carrier_changes: s.carrier_changes,
                    num_tx_queues: s.num_tx_queues,
                    num_rx_queues: s.num_rx_queues,
                },
                s.counters,
            ))
        })
        .collect()
}

/// An ethtool answer as a model value: unsupported and failed reads become n/a with the reason.
fn avail<T>(r: Result<T, EthtoolError>) -> Avail<T> {
    match r {
        Ok(v) => Avail::Ok(v),
        Err(e) => Avail::na(e.reason()),
    }
}

fn interface(
    root: &SysRoot,
    topo: &Topology,
    irq_lines: &[procfs::IrqLine],
    eth: Result<&mut Ethtool, &mut String>,
    l: LinkAttrs,
    counters: Counters,
) -> Interface {
    let dev = sysfs::device_info(root, &l.name);
    let pci_id = |file: &str| {
        dev.pci_dir(root)
            .and_then(|d| sysfs::read_attr(&d.join(file)).ok())
    };
    let name = l.name.clone();
    let mut irqs = irq::device_irqs(root, &name, &dev, irq_lines);
    let gpu_node = topology::nearest_gpu(topo, dev.device_path.as_deref(), dev.numa_node)
        .and_then(|g| g.numa_node);
    mark_locality(&mut irqs, topo, dev.numa_node, gpu_node);
    let (driver, link, rings, channels, coalesce, pause, features, fec, std_stats, driver_stats) =
        match eth {
            Ok(e) => (
                avail(e.driver_info(&name)),
                avail(e.link_info(&name)),
                avail(e.rings(&name)),
                avail(e.channels(&name)),
                avail(e.coalesce(&name)),
                avail(e.pause(&name)),
                avail(e.features(&name)),
                avail(e.fec(&name)),
                avail(e.std_stats(&name)),
                avail(e.driver_stats(&name)),
            ),
            Err(why) => {
                let why = why.as_str();
                let driver = match &dev.driver {
                    Some(d) => Avail::Ok(DriverInfo {
                        driver: d.clone(),
                        bus_info: dev.pci_address.clone().unwrap_or_default(),
                        ..DriverInfo::default()
                    }),
                    None => Avail::na(why),
                };
                (
                    driver,
                    Avail::na(why),
                    Avail::na(why),
                    Avail::na(why),
                    Avail::na(why),
                    Avail::na(why),
                    Avail::na(why),
                    Avail::na(why),
                    Avail::na(why),
                    Avail::na(why),
                )
            }
        };
    Interface {
        name,
        ifindex: l.ifindex,
        kind: l.kind,
        driver,
        mac: l.mac,
        mtu: l.mtu,
        txqueuelen: l.txqueuelen,
        operstate: l.operstate,
        carrier: l.carrier,
        carrier_changes: l.carrier_changes,
        num_tx_queues: l.num_tx_queues,
        num_rx_queues: l.num_rx_queues,
        pci_address: dev.pci_address.clone(),
        pci_vendor: pci_id("vendor"),
        pci_device: pci_id("device"),
        device_path: dev.device_path.clone(),
        numa_node: dev.numa_node,
        local_cpus: dev.local_cpus.clone(),
        pcie: dev.pcie.clone(),
        link,
        rings,
        channels,
        coalesce,
        pause,
        features,
        fec,
        counters,
        std_stats,
        driver_stats,
        queues: sysfs::queues(root, &l.name),
        irqs,
        temperatures: sysfs::temperatures(root, &l.name),
    }
}

/// Sets `nic_local` / `gpu_local` of each IRQ: whether its affinity lies inside the CPUs of the
/// NIC's (or the nearest GPU's) NUMA node. Unknown node or affinity leaves `None`.
pub fn mark_locality(
    irqs: &mut [Irq],
    topo: &Topology,
    nic_node: Option<i32>,
    gpu_node: Option<i32>,
) {
    let cpus = |n: Option<i32>| -> Option<&CpuSet> { n.and_then(|n| topo.cpus_of_node(n)) };
    let (nic, gpu) = (cpus(nic_node), cpus(gpu_node));
    for irq in irqs {
        let aff = irq
            .effective
            .as_ref()
            .filter(|c| !c.is_empty())
            .or(irq.affinity.as_ref());
        irq.nic_local = aff.zip(nic).map(|(a, n)| a.is_subset(n));
        irq.gpu_local = aff.zip(gpu).map(|(a, g)| a.is_subset(g));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NumaNode;

    fn irq(aff: &str, eff: &str) -> Irq {
        Irq {
            irq: 1,
            name: "x".into(),
            queue: Some(0),
            count: 0,
            affinity: Some(CpuSet::parse_list(aff).expect("list")),
            effective: Some(CpuSet::parse_list(eff).expect("list")),
            nic_local: None,
            gpu_local: None,
        }
    }

    #[test]
    fn locality_uses_effective_affinity_first() {
        let topo = Topology {
            numa_nodes: vec![
                NumaNode {
                    id: 0,
                    cpus: CpuSet::parse_list("0-3").expect("list"),
                },
                NumaNode {
                    id: 1,
                    cpus: CpuSet::parse_list("4-7").expect("list"),
                },
            ],
            ..Topology::default()
        };
        // Allowed everywhere, but the kernel placed it on CPU 5: local to node 1.
        let mut v = vec![irq("0-7", "5"), irq("0-1", ""), irq("2", "2")];
        mark_locality(&mut v, &topo, Some(1), Some(0));
        assert_eq!(v[0].nic_local, Some(true));
        assert_eq!(v[0].gpu_local, Some(false));
        assert_eq!(v[1].nic_local, Some(false));
        assert_eq!(v[1].gpu_local, Some(true));
        mark_locality(&mut v, &topo, None, None);
        assert_eq!(v[2].nic_local, None);
    }
}
