//! Fills a [`NodeState`] from the kernel: netlink for links and counters, the ethtool family
//! for settings, ioctl for driver counters, sysfs and procfs for the rest.
//!
//! With a fixture root (anything but the live `/sys` and `/proc`) only files are read: link
//! attributes and counters come from sysfs, and ethtool settings are n/a, because netlink and
//! ethtool would describe the running kernel rather than the tree.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::model::{
    Avail, Counters, CpuSet, DriverInfo, Interface, Irq, NamedCounter, NodeState, Topology,
    SNAPSHOT_SCHEMA,
};

use super::ethtool::{DeviceSettings, Ethtool, EthtoolError};
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

/// Most threads reading interface files at once.
const MAX_WORKERS: usize = 4;
/// Fewest interfaces worth a thread of their own.
const MIN_PER_WORKER: usize = 4;

/// Reads the node; `names` restricts the interfaces read (empty = all).
///
/// The work is spread over threads: the ethtool requests (which all take the kernel's RTNL
/// lock, so they gain nothing from more than one thread) run on one, then that thread joins
/// the others in reading each interface's sysfs files, which is most of the cost.
pub fn collect(root: &SysRoot, names: &[String]) -> Result<NodeState, CollectError> {
    collect_with(root, names, Reads::Full)
}

/// What a collection reads besides the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// Everything a snapshot holds.
    Full,
    /// The settings tune writes, for reading them back after a step: no pluggable-module
    /// EEPROM (I2C reads of several pages per interface on real optics; tune never writes a
    /// module) and no PCI walk (no knob lives there).
    Settings,
    /// What `topo` and `nccl` print from: the CPU/GPU layout, each interface's device, the
    /// RDMA devices (their GID tables as far as given) and the PCI walk. No ethtool (no
    /// module EEPROM), qdiscs, IRQs, queues, sensors or sysctls: neither command prints any.
    Fabric(super::rdma::RdmaReads),
}

/// [`collect`] without the reads no knob depends on: the module EEPROM and the PCI tree
/// (`module` is n/a, `pci` empty). `tune` reads its steps back with it.
pub fn collect_settings(root: &SysRoot, names: &[String]) -> Result<NodeState, CollectError> {
    collect_with(root, names, Reads::Settings)
}

/// [`collect`] of the GPU fabric alone (see `Reads::Fabric`): every interface with its
/// device and PCI place but its settings, counters, IRQs and queues unread, no sysctls, the
/// RDMA devices read as `reads` says, and the PCI walk. `topo` and `nccl` read it.
pub fn collect_fabric(
    root: &SysRoot,
    reads: super::rdma::RdmaReads,
) -> Result<NodeState, CollectError> {
    collect_with(root, &[], Reads::Fabric(reads))
}

fn collect_with(root: &SysRoot, names: &[String], reads: Reads) -> Result<NodeState, CollectError> {
    let fabric = matches!(reads, Reads::Fabric(_));
    let (topology, links) = std::thread::scope(|s| {
        let topology = s.spawn(|| topology::read(root));
        let links = links(root);
        (join(topology), links)
    });
    let topology = topology.map_err(|source| CollectError::Io {
        what: format!("CPU topology under {}", root.sysfs.display()),
        source,
    })?;
    let links = links?;
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
    let all = links.len();
    let links: Vec<_> = links
        .into_iter()
        .filter(|(l, _)| names.is_empty() || names.contains(&l.name))
        .collect();
    // A dump asks about every device of the namespace, so it pays off only when most of
    // them are wanted; for a few named ones, requests per device ask the kernel less.
    let bulk = links.len() * 2 >= all && links.len() > 1;
    let irq_lines = if fabric {
        Vec::new()
    } else {
        procfs::interrupts(root).unwrap_or_default()
    };
    let files = FileWork {
        root,
        irq_lines: &irq_lines,
        links: &links,
        next: AtomicUsize::new(0),
        fabric,
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, MAX_WORKERS)
        .min(links.len().div_ceil(MIN_PER_WORKER))
        .max(1);
    let (mut done, eth, globals) = std::thread::scope(|s| {
        let side = s.spawn(|| {
            let eth = if fabric {
                Err("not read (the GPU fabric read takes no ethtool settings)".to_string())
            } else if root.is_live() {
                ethtool_part(&links, bulk, reads == Reads::Full)
            } else {
                Err("ethtool reads the running kernel, not a --sysfs-root tree".to_string())
            };
            let globals = Globals::read(root, reads);
            (eth, globals, files.work())
        });
        let helpers: Vec<_> = (1..workers).map(|_| s.spawn(|| files.work())).collect();
        let mut done = files.work();
        for h in helpers {
            done.extend(join(h));
        }
        let (eth, globals, rest) = join(side);
        done.extend(rest);
        (done, eth, globals)
    });
    done.sort_by_key(|(i, _)| *i);
    let mut eth = eth.map(Vec::into_iter);
    let interfaces = links
        .into_iter()
        .zip(done)
        .map(|((l, c), (_, f))| {
            let e = match &mut eth {
                Ok(it) => it.next().ok_or("no ethtool answer"),
                Err(why) => Err(why.as_str()),
            };
            interface(&topology, l, c, f, e)
        })
        .collect::<Vec<Interface>>();
    let mut interfaces = interfaces;
    if root.is_live() && !fabric {
        read_tc(&mut interfaces);
    }
    let pci = if reads == Reads::Full || fabric {
        super::pci::read(root, &interfaces, &topology.gpus, &globals.rdma)
    } else {
        crate::model::pci::PciFabric::default()
    };
    Ok(NodeState {
        schema: SNAPSHOT_SCHEMA,
        hostname: globals.hostname,
        kernel: globals.kernel,
        taken_at_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        topology,
        interfaces,
        sysctls: globals.sysctls,
        softnet: globals.softnet,
        rdma: globals.rdma,
        pci,
    })
}

/// Fills the qdiscs and classes of each interface (one qdisc dump; classes and filters only
/// where the root is not the kernel's default). A failure leaves them unread (`None`).
fn read_tc(interfaces: &mut [Interface]) {
    let Ok(mut tc) = super::tc::Tc::open() else {
        return;
    };
    let Ok(mut all) = tc.all_qdiscs() else {
        return;
    };
    let mut dcb = super::dcb::Dcb::open().ok();
    for i in interfaces {
        let qdiscs = all.remove(&i.ifindex).unwrap_or_default();
        i.tc = tc.state(i.ifindex, qdiscs).ok();
        i.dcb = dcb.as_mut().map(|d| match d.ieee(&i.name) {
            Ok(s) => Avail::Ok(s),
            Err(e) if e.is_unsupported() => {
                let driver = i.driver.get().map_or("this driver", |d| d.driver.as_str());
                Avail::na(format!("no DCB (dcbnl) in {driver}"))
            }
            Err(e) => Avail::na(format!("dcbnl: {e}")),
        });
    }
}

/// The result of a scoped thread; its panic goes on in the caller.
fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// The node-wide files `show` reads besides interfaces.
struct Globals {
    hostname: String,
    kernel: String,
    sysctls: Vec<crate::model::Sysctl>,
    softnet: Vec<crate::model::SoftnetStat>,
    rdma: Vec<crate::model::rdma::RdmaDevice>,
}

impl Globals {
    fn read(root: &SysRoot, reads: Reads) -> Self {
        if let Reads::Fabric(rdma) = reads {
            return Self {
                hostname: procfs::hostname(root).unwrap_or_default(),
                kernel: procfs::kernel_release(root).unwrap_or_default(),
                sysctls: Vec::new(),
                softnet: Vec::new(),
                rdma: rdma_with(root, rdma).unwrap_or_default(),
            };
        }
        Self {
            hostname: procfs::hostname(root).unwrap_or_default(),
            kernel: procfs::kernel_release(root).unwrap_or_default(),
            sysctls: sysctl::read_all(root),
            softnet: procfs::softnet(root).unwrap_or_default(),
            // An RDMA tree that cannot be read leaves the section empty rather than failing
            // every read command on a node whose Ethernet side is fine.
            rdma: read_rdma(root),
        }
    }
}

/// RDMA devices from sysfs, with netlink filling the netdev of each port on the live node.
fn read_rdma(root: &SysRoot) -> Vec<crate::model::rdma::RdmaDevice> {
    rdma(root).unwrap_or_default()
}

/// RDMA devices from sysfs, with netlink filling the netdev of each port on the live node
/// (`show --rdma` reads only these).
pub fn rdma(root: &SysRoot) -> Result<Vec<crate::model::rdma::RdmaDevice>, super::rdma::RdmaError> {
    rdma_with(root, super::rdma::RdmaReads::All)
}

/// [`rdma`] reading as much of each device as `reads` says.
pub fn rdma_with(
    root: &SysRoot,
    reads: super::rdma::RdmaReads,
) -> Result<Vec<crate::model::rdma::RdmaDevice>, super::rdma::RdmaError> {
    let mut devs = super::rdma::read_devices_with(root, reads)?;
    if root.is_live() {
        // Without netlink the sysfs view stands: the netdev comes from the GID table.
        let counters = reads == super::rdma::RdmaReads::All;
        let _ = super::rdma_nl::enrich_with(&mut devs, counters);
    }
    Ok(devs)
}

/// The sysfs part of every interface, shared by the threads: each takes the next interface
/// not yet taken, so a thread that started late (the ethtool one) still does its share.
struct FileWork<'a> {
    root: &'a SysRoot,
    irq_lines: &'a [procfs::IrqLine],
    links: &'a [(LinkAttrs, Counters)],
    next: AtomicUsize,
    /// Only each interface's device (`Reads::Fabric`).
    fabric: bool,
}

impl FileWork<'_> {
    /// Reads interfaces until none are left; returns them with their positions in `links`.
    fn work(&self) -> Vec<(usize, FilePart)> {
        let mut out = Vec::new();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some((l, _)) = self.links.get(i) else {
                return out;
            };
            let part = if self.fabric {
                device_part(self.root, &l.name)
            } else {
                file_part(self.root, self.irq_lines, &l.name)
            };
            out.push((i, part));
        }
    }
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

/// What sysfs and procfs tell about one interface.
struct FilePart {
    dev: sysfs::DeviceInfo,
    pci_vendor: Option<String>,
    pci_device: Option<String>,
    irqs: Vec<Irq>,
    queues: Vec<crate::model::Queue>,
    temperatures: Vec<crate::model::Temperature>,
}

/// What the ethtool family and ioctl tell about one interface.
struct EthPart {
    driver: Result<DriverInfo, EthtoolError>,
    settings: DeviceSettings,
    driver_stats: Result<Vec<NamedCounter>, EthtoolError>,
    module: Avail<crate::model::module::ModuleEeprom>,
}

/// The ethtool side of every interface in `links`, in order: one dump per message type when
/// `bulk`, else requests per interface. `Err` holds why ethtool cannot be used at all.
///
/// It runs on one thread: these requests all take the kernel's RTNL lock, so more threads
/// would only queue on it.
fn ethtool_part(
    links: &[(LinkAttrs, Counters)],
    bulk: bool,
    modules: bool,
) -> Result<Vec<EthPart>, String> {
    let mut eth = Ethtool::open().map_err(|e| e.reason())?;
    let settings = if bulk {
        let devs: Vec<(u32, &str)> = links
            .iter()
            .map(|(l, _)| (l.ifindex, l.name.as_str()))
            .collect();
        eth.settings_all(&devs)
    } else {
        links.iter().map(|(l, _)| eth.settings(&l.name)).collect()
    };
    Ok(links
        .iter()
        .zip(settings)
        .map(|((l, _), settings)| {
            let (driver, driver_stats) = eth.driver_info_and_stats(&l.name);
            let module = if modules {
                crate::sys::ethtool::module::read(Some(&mut eth), &l.name)
            } else {
                Avail::na("not read (settings read-back)")
            };
            EthPart {
                driver,
                settings,
                driver_stats,
                module,
            }
        })
        .collect())
}

/// What sysfs and procfs tell about interface `name`. IRQ locality is left for
/// [`interface`], which has the topology.
fn file_part(root: &SysRoot, irq_lines: &[procfs::IrqLine], name: &str) -> FilePart {
    if !sysfs::valid_ifname(name) {
        // Not a name that can be turned into a path (names come from the kernel, so this
        // is only a guard): the same as an interface without a device, queues or sensors.
        let dev = sysfs::DeviceInfo::virtual_device();
        return FilePart {
            irqs: irq::device_irqs(root, name, &dev, irq_lines),
            dev,
            pci_vendor: None,
            pci_device: None,
            queues: Vec::new(),
            temperatures: Vec::new(),
        };
    }
    let dirs = sysfs::netdev_dirs(root, name);
    let dev = sysfs::device_info_in(root, &dirs);
    let pci_id = |file: &str| {
        dev.pci_dir(root)
            .and_then(|d| sysfs::read_attr(&d.join(file)).ok())
    };
    FilePart {
        pci_vendor: pci_id("vendor"),
        pci_device: pci_id("device"),
        irqs: irq::device_irqs(root, name, &dev, irq_lines),
        queues: sysfs::queues_in(&dirs),
        temperatures: sysfs::temperatures_in(&dirs),
        dev,
    }
}

/// The device of interface `name` alone: where it sits on PCI, no IRQs, queues or sensors.
fn device_part(root: &SysRoot, name: &str) -> FilePart {
    let dev = if sysfs::valid_ifname(name) {
        sysfs::device_info_in(root, &sysfs::netdev_dirs(root, name))
    } else {
        sysfs::DeviceInfo::virtual_device()
    };
    FilePart {
        dev,
        pci_vendor: None,
        pci_device: None,
        irqs: Vec::new(),
        queues: Vec::new(),
        temperatures: Vec::new(),
    }
}

fn interface(
    topo: &Topology,
    l: LinkAttrs,
    counters: Counters,
    mut f: FilePart,
    eth: Result<EthPart, &str>,
) -> Interface {
    let dev = f.dev;
    let gpu_node = topology::nearest_gpu(topo, dev.device_path.as_deref(), dev.numa_node)
        .and_then(|g| g.numa_node);
    mark_locality(&mut f.irqs, topo, dev.numa_node, gpu_node);
    let module = match &eth {
        Ok(e) => e.module.clone(),
        Err(why) => Avail::na(*why),
    };
    let (driver, link, rings, channels, coalesce, pause, features, fec, std_stats, driver_stats) =
        match eth {
            Ok(e) => (
                avail(e.driver),
                avail(e.settings.link),
                avail(e.settings.rings),
                avail(e.settings.channels),
                avail(e.settings.coalesce),
                avail(e.settings.pause),
                avail(e.settings.features),
                avail(e.settings.fec),
                avail(e.settings.std_stats),
                avail(e.driver_stats),
            ),
            Err(why) => {
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
        name: l.name,
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
        pci_address: dev.pci_address,
        pci_vendor: f.pci_vendor,
        pci_device: f.pci_device,
        device_path: dev.device_path,
        numa_node: dev.numa_node,
        local_cpus: dev.local_cpus,
        pcie: dev.pcie,
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
        queues: f.queues,
        irqs: f.irqs,
        temperatures: f.temperatures,
        module,
        tc: None,
        dcb: None,
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
            per_cpu: Vec::new(),
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
