//! The node model: plain data with serde, no I/O.
//!
//! Everything dpuctl knows about a node is a [`NodeState`]. `sys` fills it from the live
//! kernel; a snapshot file holds one as JSON, so every read command also works offline.

pub mod cpuset;
pub mod dcb;
pub mod ethtool;
pub mod knobs;
pub mod module;
pub mod pci;
pub mod qos;
pub mod rdma;
pub mod settings;

use serde::{Deserialize, Serialize};

pub use cpuset::CpuSet;
pub use ethtool::{
    Channels, Coalesce, Feature, Fec, LinkInfo, Pause, PauseStats, Rings, StatsGroup, StdStats,
};
pub use settings::{Knob, Setting, SkippedSetting, Value};

/// Version of the snapshot format; bumped on incompatible changes.
pub const SNAPSHOT_SCHEMA: u32 = 1;

pub use crate::input::MAX_QUEUE_INDEX;

/// A queue index from a snapshot, refused above [`MAX_QUEUE_INDEX`] so that no reader sizes
/// anything by an index nobody checked.
fn queue_index<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v > MAX_QUEUE_INDEX {
        return Err(serde::de::Error::custom(format!(
            "queue index {v} is above the limit of {MAX_QUEUE_INDEX}"
        )));
    }
    Ok(v)
}

/// [`queue_index`] for an optional index.
fn opt_queue_index<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Option::<u32>::deserialize(d)?
        .map(|v| {
            if v > MAX_QUEUE_INDEX {
                Err(serde::de::Error::custom(format!(
                    "queue index {v} is above the limit of {MAX_QUEUE_INDEX}"
                )))
            } else {
                Ok(v)
            }
        })
        .transpose()
}

/// A value a device may not support.
///
/// Serialized as the value itself, or as `{"n/a": "reason"}` when the kernel or driver does
/// not provide it, so that scripts can tell "unsupported" from "zero".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Avail<T> {
    /// Not available, with the reason (e.g. "not supported by driver veth").
    Na(NaReason),
    /// The value read from the node.
    Ok(T),
}

/// The reason a value is not available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NaReason {
    /// Human-readable reason.
    #[serde(rename = "n/a")]
    pub reason: String,
}

impl<T> Avail<T> {
    /// A not-available value with this reason.
    pub fn na(reason: impl Into<String>) -> Self {
        Avail::Na(NaReason {
            reason: reason.into(),
        })
    }

    /// The value, if available.
    pub fn get(&self) -> Option<&T> {
        match self {
            Avail::Ok(v) => Some(v),
            Avail::Na(_) => None,
        }
    }

    /// The reason it is not available, if so.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Avail::Ok(_) => None,
            Avail::Na(r) => Some(&r.reason),
        }
    }
}

impl<T> From<Result<T, String>> for Avail<T> {
    fn from(r: Result<T, String>) -> Self {
        match r {
            Ok(v) => Avail::Ok(v),
            Err(e) => Avail::na(e),
        }
    }
}

/// Everything dpuctl knows about one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeState {
    /// Snapshot format version ([`SNAPSHOT_SCHEMA`]).
    pub schema: u32,
    /// Host name (from procfs `sys/kernel/hostname`).
    pub hostname: String,
    /// Kernel release (from procfs `sys/kernel/osrelease`).
    pub kernel: String,
    /// When this state was read, milliseconds since the Unix epoch.
    pub taken_at_ms: u64,
    /// CPUs, NUMA nodes and GPUs.
    pub topology: Topology,
    /// Network interfaces, sorted by name.
    pub interfaces: Vec<Interface>,
    /// Network sysctls a tuning profile may set.
    pub sysctls: Vec<Sysctl>,
    /// Per-CPU softnet statistics (`/proc/net/softnet_stat`).
    pub softnet: Vec<SoftnetStat>,
    /// RDMA devices (`/sys/class/infiniband`), sorted by name; empty without RDMA.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rdma: Vec<rdma::RdmaDevice>,
    /// PCI functions of GPUs and NICs, the bridges between them, and `GPUDirect` RDMA; a
    /// snapshot without them (an older dpuctl) loads as "not recorded", never as "no".
    #[serde(default = "pci::PciFabric::not_recorded")]
    pub pci: pci::PciFabric,
}

impl NodeState {
    /// The interface with this name.
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
}

/// CPU and NUMA layout, and the GPUs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    /// Online CPUs.
    pub online_cpus: CpuSet,
    /// NUMA nodes with their CPUs (one node 0 with all CPUs on non-NUMA machines).
    pub numa_nodes: Vec<NumaNode>,
    /// Physical core of each online CPU, to place work on cores before hyperthread siblings.
    pub cpus: Vec<Cpu>,
    /// GPUs (PCI 3D and display controllers; a BMC's VGA is left out).
    pub gpus: Vec<Gpu>,
}

impl Topology {
    /// The NUMA node a CPU belongs to.
    pub fn node_of_cpu(&self, cpu: u32) -> Option<i32> {
        self.numa_nodes
            .iter()
            .find(|n| n.cpus.contains(cpu))
            .map(|n| n.id)
    }

    /// The CPUs of a NUMA node.
    pub fn cpus_of_node(&self, node: i32) -> Option<&CpuSet> {
        self.numa_nodes
            .iter()
            .find(|n| n.id == node)
            .map(|n| &n.cpus)
    }
}

/// One NUMA node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumaNode {
    /// Node id.
    pub id: i32,
    /// Its CPUs.
    pub cpus: CpuSet,
}

/// One logical CPU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cpu {
    /// Logical CPU number.
    pub id: u32,
    /// Physical package (socket).
    pub package: u32,
    /// Core id within the package.
    pub core: u32,
    /// Hyperthread siblings, this CPU included.
    pub siblings: CpuSet,
}

/// A GPU found on the PCI bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gpu {
    /// PCI address, e.g. `0000:c1:00.0`.
    pub pci_address: String,
    /// PCI vendor id, e.g. `0x10de`.
    pub vendor: String,
    /// PCI device id.
    pub device: String,
    /// Bound driver, if any.
    pub driver: Option<String>,
    /// NUMA node, `None` when the platform reports none (-1).
    pub numa_node: Option<i32>,
    /// The sysfs device path below `devices/`, showing the PCI bridges above it.
    pub pci_path: String,
}

/// A network interface and everything read about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interface {
    /// Interface name.
    pub name: String,
    /// Kernel interface index.
    pub ifindex: u32,
    /// Link kind from rtnetlink (veth, bond, ...); `None` for physical NICs.
    pub kind: Option<String>,
    /// Driver and bus information (`ethtool -i`).
    pub driver: Avail<DriverInfo>,
    /// Hardware address.
    pub mac: Option<String>,
    /// MTU in bytes.
    pub mtu: u32,
    /// Transmit queue length (txqueuelen).
    pub txqueuelen: u32,
    /// Operational state (up, down, lowerlayerdown, ...).
    pub operstate: String,
    /// Carrier present; `None` while the interface is down (the kernel reports no carrier
    /// for a device that is not running: sysfs `carrier` reads EINVAL).
    pub carrier: Option<bool>,
    /// Carrier changes since boot (flaps).
    pub carrier_changes: Option<u32>,
    /// Number of transmit queues.
    pub num_tx_queues: u32,
    /// Number of receive queues.
    pub num_rx_queues: u32,
    /// PCI address of the device behind the interface.
    pub pci_address: Option<String>,
    /// PCI vendor id of that device, e.g. `0x15b3`.
    #[serde(default)]
    pub pci_vendor: Option<String>,
    /// PCI device id of that device.
    #[serde(default)]
    pub pci_device: Option<String>,
    /// The device's sysfs path below `devices/`, showing the PCI bridges and switches above
    /// it (compared with [`Gpu::pci_path`] to find the nearest GPU).
    #[serde(default)]
    pub device_path: Option<String>,
    /// NUMA node of the device (walked up to its PCI parent); `None` if unknown or -1.
    pub numa_node: Option<i32>,
    /// CPUs local to the device (`local_cpulist`).
    pub local_cpus: Option<CpuSet>,
    /// `PCIe` link: current vs maximum speed and width.
    pub pcie: Avail<PcieLink>,
    /// Speed, duplex, autoneg and link modes (`ethtool IFACE`).
    pub link: Avail<LinkInfo>,
    /// Ring sizes (`ethtool -g`).
    pub rings: Avail<Rings>,
    /// Channels (`ethtool -l`).
    pub channels: Avail<Channels>,
    /// Interrupt coalescing (`ethtool -c`).
    pub coalesce: Avail<Coalesce>,
    /// Pause frames (`ethtool -a`), with pause statistics where the driver has them.
    pub pause: Avail<Pause>,
    /// Offload features (`ethtool -k`).
    pub features: Avail<Vec<Feature>>,
    /// Forward error correction (`ethtool --show-fec`).
    pub fec: Avail<Fec>,
    /// 64-bit interface counters (`ip -s link`).
    pub counters: Counters,
    /// Standard ethtool statistics groups (`ethtool -S --groups`).
    pub std_stats: Avail<StdStats>,
    /// Driver-private counters (`ethtool -S`), in the driver's order.
    pub driver_stats: Avail<Vec<NamedCounter>>,
    /// Receive and transmit queues with their steering settings.
    pub queues: Vec<Queue>,
    /// IRQs of the device, mapped to queues where the name tells.
    pub irqs: Vec<Irq>,
    /// Temperatures from the device's hwmon.
    pub temperatures: Vec<Temperature>,
    /// The pluggable module's EEPROM pages (SFP, QSFP, QSFP-DD/OSFP), decoded by
    /// `crate::module` when shown; n/a with the reason where they cannot be read.
    #[serde(default = "module_not_read")]
    pub module: Avail<module::ModuleEeprom>,
    /// Qdiscs and classes (`tc -s qdisc/class show`); `None` where not read (a fixture tree,
    /// an older snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tc: Option<qos::TcState>,
    /// IEEE DCB state (dcbnl), n/a with the reason where the driver has none; `None` where
    /// not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dcb: Option<Avail<dcb::DcbState>>,
}

/// The module of an interface in a snapshot taken before modules were read.
fn module_not_read() -> Avail<module::ModuleEeprom> {
    Avail::na("not in this snapshot")
}

/// `ethtool -i`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverInfo {
    /// Driver name.
    pub driver: String,
    /// Driver version.
    pub version: String,
    /// Firmware version.
    pub firmware: String,
    /// Bus information (PCI address for PCI NICs).
    pub bus_info: String,
}

/// A named counter value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCounter {
    /// Counter name as the driver gives it.
    pub name: String,
    /// Value.
    pub value: u64,
}

/// `PCIe` link state of the NIC's PCI function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcieLink {
    /// Current link speed as sysfs reports it, e.g. `16.0 GT/s PCIe`.
    pub current_speed: String,
    /// Maximum link speed.
    pub max_speed: String,
    /// Current link width (lanes).
    pub current_width: u32,
    /// Maximum link width.
    pub max_width: u32,
}

impl PcieLink {
    /// True when the link runs below what it can do (speed or width). A maximum the device
    /// does not report (`Unknown` speed, width 0: some switch ports) is no evidence of a
    /// degraded link.
    pub fn degraded(&self) -> bool {
        let slower = match (gts(&self.current_speed), gts(&self.max_speed)) {
            (Some(cur), Some(max)) => cur < max,
            _ => false,
        };
        (self.max_width > 0 && self.current_width < self.max_width) || slower
    }
}

/// The transfer rate of a sysfs link speed (`16.0 GT/s PCIe`, `2.5 GT/s`), `None` for
/// `Unknown` and anything else it cannot read.
fn gts(speed: &str) -> Option<f64> {
    let (n, rest) = speed.trim().split_once(' ')?;
    rest.starts_with("GT/s").then(|| n.parse().ok()).flatten()
}

/// 64-bit interface counters (`struct rtnl_link_stats64`).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub multicast: u64,
    pub collisions: u64,
    pub rx_length_errors: u64,
    pub rx_over_errors: u64,
    pub rx_crc_errors: u64,
    pub rx_frame_errors: u64,
    pub rx_fifo_errors: u64,
    pub rx_missed_errors: u64,
    pub tx_aborted_errors: u64,
    pub tx_carrier_errors: u64,
    pub tx_fifo_errors: u64,
    pub tx_heartbeat_errors: u64,
    pub tx_window_errors: u64,
    pub rx_compressed: u64,
    pub tx_compressed: u64,
    pub rx_nohandler: u64,
}

/// Names of the fields of [`Counters`], in `struct rtnl_link_stats64` order: also the names
/// of the files in `/sys/class/net/X/statistics/`
/// (Documentation/ABI/testing/sysfs-class-net-statistics).
pub const COUNTER_NAMES: [&str; 24] = [
    "rx_packets",
    "tx_packets",
    "rx_bytes",
    "tx_bytes",
    "rx_errors",
    "tx_errors",
    "rx_dropped",
    "tx_dropped",
    "multicast",
    "collisions",
    "rx_length_errors",
    "rx_over_errors",
    "rx_crc_errors",
    "rx_frame_errors",
    "rx_fifo_errors",
    "rx_missed_errors",
    "tx_aborted_errors",
    "tx_carrier_errors",
    "tx_fifo_errors",
    "tx_heartbeat_errors",
    "tx_window_errors",
    "rx_compressed",
    "tx_compressed",
    "rx_nohandler",
];

/// Direction of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// Receive.
    Rx,
    /// Transmit.
    Tx,
}

/// One queue of an interface (`/sys/class/net/X/queues/{rx,tx}-N`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    /// rx or tx.
    pub dir: Dir,
    /// Queue index, at most [`MAX_QUEUE_INDEX`].
    #[serde(deserialize_with = "queue_index")]
    pub index: u32,
    /// RPS CPUs (rx queues).
    pub rps_cpus: Option<CpuSet>,
    /// RPS flow table size (rx queues).
    pub rps_flow_cnt: Option<u32>,
    /// XPS CPUs (tx queues); `None` where the file is absent or unreadable.
    pub xps_cpus: Option<CpuSet>,
    /// Transmit timeouts seen on this queue (tx queues).
    pub tx_timeout: Option<u64>,
}

/// An IRQ of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Irq {
    /// IRQ number.
    pub irq: u32,
    /// Name in /proc/interrupts (e.g. `eth2-TxRx-3`).
    pub name: String,
    /// Queue index, when the name tells it; at most [`MAX_QUEUE_INDEX`].
    #[serde(deserialize_with = "opt_queue_index", default)]
    pub queue: Option<u32>,
    /// Interrupts handled so far, summed over CPUs.
    pub count: u64,
    /// `smp_affinity_list`.
    pub affinity: Option<CpuSet>,
    /// `effective_affinity_list`: the CPUs the kernel actually routes the IRQ to, often one
    /// of the affinity's.
    pub effective: Option<CpuSet>,
    /// Interrupts handled by each CPU so far (`/proc/interrupts`), in CPU order; CPUs that
    /// handled none are left out.
    #[serde(default)]
    pub per_cpu: Vec<CpuCount>,
    /// Whether the affinity lies inside the NIC's NUMA node (`None`: NIC node unknown).
    pub nic_local: Option<bool>,
    /// Whether the affinity lies inside the nearest GPU's NUMA node (`None`: no GPU node).
    pub gpu_local: Option<bool>,
}

/// Interrupts one CPU handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuCount {
    /// The CPU.
    pub cpu: u32,
    /// Interrupts it handled.
    pub count: u64,
}

impl Irq {
    /// True where the kernel reports an effective affinity different from the configured
    /// one (it picks one CPU of a mask, or the driver's managed affinity overrides it).
    pub fn effective_differs(&self) -> bool {
        matches!((&self.affinity, &self.effective), (Some(a), Some(e)) if a != e)
    }

    /// The CPUs that handled the most interrupts, busiest first (ties by CPU number).
    pub fn top_cpus(&self, n: usize) -> Vec<CpuCount> {
        let mut v = self.per_cpu.clone();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.cpu.cmp(&b.cpu)));
        v.truncate(n);
        v
    }
}

/// A temperature sensor of the device (hwmon).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Temperature {
    /// Sensor label (or `tempN`).
    pub label: String,
    /// Current value in degrees Celsius.
    pub celsius: f64,
    /// Critical threshold, when the driver gives one.
    pub crit: Option<f64>,
}

/// A sysctl and its value, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sysctl {
    /// Dotted name, e.g. `net.core.rmem_max`.
    pub name: String,
    /// Value with whitespace runs folded to one space.
    pub value: Avail<String>,
}

/// One row of `/proc/net/softnet_stat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftnetStat {
    /// CPU the row belongs to.
    pub cpu: u32,
    /// Packets processed.
    pub processed: u64,
    /// Packets dropped because the backlog was full (`netdev_max_backlog`).
    pub dropped: u64,
    /// Times `net_rx_action` ran out of budget or time with work left.
    pub time_squeeze: u64,
    /// RPS IPIs received.
    pub received_rps: u64,
    /// Flow limit drops.
    pub flow_limit: u64,
    /// Backlog length at read time, where the kernel reports it.
    pub backlog_len: Option<u64>,
}
