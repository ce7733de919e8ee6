//! The checks: pure functions of [`Inputs`], each producing findings with severity, evidence,
//! an explanation and a fix.
//!
//! A check that needs counter rates and has no window (a snapshot) gives one n/a finding with
//! the reason; checks over the node state alone always run. Thresholds are named constants
//! with the reason for their value next to them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::evidence::{IfaceSample, Inputs, Window};
use crate::model::{Avail, Counters, CpuSet, Dir, Interface};
use crate::monitor::microburst::{self, BurstConfig, BurstSummary};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// The check could not run (the reason is in the title).
    #[serde(rename = "n/a")]
    Na,
    /// Nothing wrong.
    #[serde(rename = "ok")]
    Ok,
    /// Worth knowing, not a problem by itself.
    #[serde(rename = "info")]
    Info,
    /// A problem that costs latency or throughput.
    #[serde(rename = "warn")]
    Warn,
    /// A problem that loses packets or the link.
    #[serde(rename = "crit")]
    Crit,
}

impl Severity {
    /// The label shown in text output.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Na => "n/a",
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warn => "WARN",
            Severity::Crit => "CRIT",
        }
    }

    /// True for warn and crit: what makes the exit code 1.
    pub fn is_problem(self) -> bool {
        self >= Severity::Warn
    }
}

/// A step of the decision tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// Check queue backlog.
    Backlog,
    /// Adjust IRQ affinity.
    Irq,
    /// Check throughput.
    Throughput,
    /// Verify link bandwidth.
    Link,
    /// Capture analysis.
    Capture,
    /// Locate protocol errors.
    Proto,
    /// The GPU fabric: GPU-NIC `PCIe` relations, ACS, NCCL settings (GPU nodes only).
    Fabric,
}

impl Step {
    /// The step's title as the tree names it.
    pub fn title(self) -> &'static str {
        match self {
            Step::Backlog => "check queue backlog",
            Step::Irq => "adjust IRQ affinity",
            Step::Throughput => "check throughput",
            Step::Link => "verify link bandwidth",
            Step::Capture => "capture analysis",
            Step::Proto => "locate protocol errors",
            Step::Fabric => "check the GPU fabric",
        }
    }
}

/// One value a finding rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What was measured (`rx_missed_errors`, `net.core.netdev_max_backlog`).
    pub what: String,
    /// The value (at the end of the window for counters).
    pub value: String,
    /// Change over the window, for counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<u64>,
    /// Change per second over the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

/// The suggested fix: a dpuctl command, and the profile it applies when it is not a shipped
/// one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// What the fix does, one line.
    pub summary: String,
    /// The command to run.
    pub command: String,
    /// A profile to save as `troubleshoot-fix.yaml` first (the command applies it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// File name (without `.yaml`) the suggested profiles are saved under; the `name:` key of a
/// profile must equal it.
pub const FIX_PROFILE: &str = "troubleshoot-fix";

impl Fix {
    /// A shipped profile applied to one interface.
    pub fn tune(profile: &str, iface: &str, summary: &str) -> Self {
        Self {
            summary: summary.to_string(),
            command: format!("dpuctl tune {profile} --iface {iface}"),
            profile: None,
        }
    }

    /// A profile of interface settings (`body`: the keys of one interface block, indented by
    /// 4) for the named interfaces.
    pub fn iface_profile(ifaces: &[&str], summary: &str, body: &str) -> Self {
        let names = ifaces.join(", ");
        let mut yaml = format!(
            "name: {FIX_PROFILE}\ndescription: {summary}\ninterfaces:\n  - match: {{name: [{names}]}}\n"
        );
        yaml.push_str(body);
        let iface_args: String = ifaces.iter().fold(String::new(), |mut s, i| {
            let _ = write!(s, " --iface {i}");
            s
        });
        Self {
            summary: summary.to_string(),
            command: format!("dpuctl tune ./{FIX_PROFILE}.yaml{iface_args}"),
            profile: Some(yaml),
        }
    }

    /// A profile of sysctls (`body`: `name: value` lines indented by 2).
    pub fn sysctl_profile(summary: &str, body: &str) -> Self {
        Self {
            summary: summary.to_string(),
            command: format!("dpuctl tune ./{FIX_PROFILE}.yaml"),
            profile: Some(format!(
                "name: {FIX_PROFILE}\ndescription: {summary}\nsysctl:\n{body}"
            )),
        }
    }
}

/// One result of one check for one subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Check id, e.g. `backlog.softnet`.
    pub id: String,
    /// Step of the tree it belongs to.
    pub step: Step,
    /// What it is about: an interface name, or `node`.
    pub subject: String,
    /// How bad.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// The values it rests on.
    pub evidence: Vec<Evidence>,
    /// One paragraph: why it matters.
    pub explanation: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

impl Finding {
    fn new(check: &Check, subject: &str, severity: Severity, title: impl Into<String>) -> Self {
        Self {
            id: check.id.to_string(),
            step: check.step,
            subject: subject.to_string(),
            severity,
            title: title.into(),
            evidence: Vec::new(),
            explanation: check.explanation.to_string(),
            fix: None,
        }
    }

    /// The n/a finding of a check whose input `what` the device does not provide, with the
    /// reason the model kept.
    fn unavailable<T>(check: &Check, subject: &str, what: &str, v: &Avail<T>) -> Self {
        Self::new(
            check,
            subject,
            Severity::Na,
            format!("{what}: {}", v.reason().unwrap_or("n/a")),
        )
    }

    /// n/a for an interface the counter window does not hold.
    fn not_in_window(check: &Check, subject: &str) -> Self {
        Self::new(check, subject, Severity::Na, "not in the counter window")
    }

    fn ev(mut self, what: impl Into<String>, value: impl std::fmt::Display) -> Self {
        self.evidence.push(Evidence {
            what: what.into(),
            value: value.to_string(),
            delta: None,
            rate: None,
        });
        self
    }

    fn ev_delta(mut self, what: impl Into<String>, value: u64, delta: u64, secs: f64) -> Self {
        self.evidence.push(Evidence {
            what: what.into(),
            value: value.to_string(),
            delta: Some(delta),
            rate: Some(delta as f64 / secs),
        });
        self
    }

    fn fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
}

/// A check: its id, step, and the function that runs it.
pub struct Check {
    /// Stable id (`step.name`).
    pub id: &'static str,
    /// Step of the tree.
    pub step: Step,
    /// True when it only makes sense with a counter window.
    pub needs_window: bool,
    /// Why it matters (the explanation of its findings).
    pub explanation: &'static str,
    run: fn(&Check, &Ctx) -> Vec<Finding>,
}

/// What the checks share: the inputs, the interfaces under examination, and counter deltas.
pub struct Ctx<'a> {
    /// All inputs.
    pub inputs: &'a Inputs,
    /// The interfaces examined (lo left out unless it is the only one).
    pub ifaces: Vec<&'a Interface>,
}

impl<'a> Ctx<'a> {
    /// A context over these inputs.
    pub fn new(inputs: &'a Inputs) -> Self {
        let mut ifaces: Vec<&Interface> = inputs
            .node
            .interfaces
            .iter()
            .filter(|i| i.name != "lo")
            .collect();
        if ifaces.is_empty() {
            ifaces = inputs.node.interfaces.iter().collect();
        }
        Self { inputs, ifaces }
    }

    /// The window, if there is one.
    pub fn window(&self) -> Option<&'a Window> {
        self.inputs.window.get()
    }

    /// The line rate of an interface: `--line-rate` if given, else a physical link's speed;
    /// `None` when neither is known (a virtual device without `--line-rate`).
    pub fn line_rate(&self, i: &Interface) -> Option<u64> {
        self.inputs.line_rate_bps.or_else(|| speed_bps(i))
    }

    fn secs(&self) -> f64 {
        self.window().map_or(1.0, Window::seconds)
    }

    /// Counter changes of one interface over the window, with the end values.
    pub fn counters_delta(&self, name: &str) -> Option<(Counters, Counters)> {
        let w = self.window()?;
        let (a, b) = (w.start.iface(name)?, w.end.iface(name)?);
        Some((sub_counters(&b.counters, &a.counters), b.counters))
    }

    /// Driver counter changes of one interface over the window, with the end values.
    pub fn driver_delta(&self, name: &str) -> BTreeMap<String, (u64, u64)> {
        let Some(w) = self.window() else {
            return BTreeMap::new();
        };
        let (Some(a), Some(b)) = (w.start.iface(name), w.end.iface(name)) else {
            return BTreeMap::new();
        };
        b.driver
            .iter()
            .filter_map(|(k, &end)| {
                let start = a.driver.get(k)?;
                Some((k.clone(), (end.saturating_sub(*start), end)))
            })
            .collect()
    }

    /// RDMA hardware counter changes of one port (`DEV/PORT`) over the window, with the end
    /// values.
    pub fn rdma_delta(&self, key: &str) -> BTreeMap<String, (u64, u64)> {
        let Some(w) = self.window() else {
            return BTreeMap::new();
        };
        let (Some(a), Some(b)) = (w.start.rdma.get(key), w.end.rdma.get(key)) else {
            return BTreeMap::new();
        };
        b.iter()
            .filter_map(|(k, &end)| Some((k.clone(), (end.saturating_sub(*a.get(k)?), end))))
            .collect()
    }

    /// Change of a protocol counter over the window, with its end value.
    pub fn proto_delta(&self, name: &str) -> Option<(u64, u64)> {
        let w = self.window()?;
        let (a, b) = (w.start.proto.get(name)?, w.end.proto.get(name)?);
        Some((b.saturating_sub(*a), *b))
    }
}

macro_rules! sub_fields {
    ($a:expr, $b:expr, $($f:ident),*) => {
        Counters { $($f: $a.$f.saturating_sub($b.$f)),* }
    };
}

/// `a - b` field by field (saturating: a counter that went backwards was reset).
pub fn sub_counters(a: &Counters, b: &Counters) -> Counters {
    sub_fields!(
        a,
        b,
        rx_packets,
        tx_packets,
        rx_bytes,
        tx_bytes,
        rx_errors,
        tx_errors,
        rx_dropped,
        tx_dropped,
        multicast,
        collisions,
        rx_length_errors,
        rx_over_errors,
        rx_crc_errors,
        rx_frame_errors,
        rx_fifo_errors,
        rx_missed_errors,
        tx_aborted_errors,
        tx_carrier_errors,
        tx_fifo_errors,
        tx_heartbeat_errors,
        tx_window_errors,
        rx_compressed,
        tx_compressed,
        rx_nohandler
    )
}

/// A per-queue driver counter name: `rx_queue_3_drops` (igb, ice, virtio-net, veth),
/// `rx3_packets` (mlx5), `[3]: rx_ucast_packets` (bnxt) -> direction, queue and the rest.
pub fn queue_counter(name: &str) -> Option<(Dir, u32, &str)> {
    if let Some(rest) = name.strip_prefix('[') {
        let (q, rest) = rest.split_once("]: ")?;
        let q = q.parse().ok()?;
        let (dir, rest) = if let Some(r) = rest.strip_prefix("rx_") {
            (Dir::Rx, r)
        } else {
            (Dir::Tx, rest.strip_prefix("tx_")?)
        };
        return Some((dir, q, rest));
    }
    for (prefix, dir) in [
        ("rx_queue_", Dir::Rx),
        ("tx_queue_", Dir::Tx),
        ("rx-", Dir::Rx),
        ("tx-", Dir::Tx),
        ("rx", Dir::Rx),
        ("tx", Dir::Tx),
    ] {
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        let q = rest[..digits].parse().ok()?;
        let tail = rest[digits..]
            .strip_prefix('_')
            .or_else(|| rest[digits..].strip_prefix('.'))?;
        return Some((dir, q, tail));
    }
    None
}

/// True for a per-queue counter of packets lost for lack of room (not XDP verdicts).
fn is_drop_counter(rest: &str) -> bool {
    !rest.contains("xdp")
        && (rest.contains("drop") || rest.contains("discard") || rest.contains("miss"))
}

/// The fastest speed among `modes` (`100000baseCR4/Full`), Mb/s.
pub fn best_mode_speed(modes: &[String]) -> Option<u32> {
    modes
        .iter()
        .filter_map(|m| {
            let digits: String = m.chars().take_while(char::is_ascii_digit).collect();
            (m[digits.len()..].starts_with("base")).then(|| digits.parse().ok())?
        })
        .max()
}

/// Bits per second as `9.41 Gb/s`.
pub fn fmt_bps(bps: f64) -> String {
    if bps >= 1e9 {
        format!("{:.2} Gb/s", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{:.2} Mb/s", bps / 1e6)
    } else if bps >= 1e3 {
        format!("{:.1} kb/s", bps / 1e3)
    } else {
        format!("{bps:.0} b/s")
    }
}

/// Drivers of software devices: their reported link speed (veth says 10000) is nominal.
const VIRTUAL_DRIVERS: &[&str] = &[
    "veth",
    "tun",
    "dummy",
    "bridge",
    "bonding",
    "team",
    "vxlan",
    "geneve",
    "macvlan",
    "ipvlan",
    "netkit",
    "wireguard",
    "ifb",
    "vrf",
    "nlmon",
];

/// True for a software device: a link kind from rtnetlink (veth, vxlan, ...), or a driver
/// of software devices. Its reported speed is not a line rate; it has no IRQs of its own.
pub fn is_virtual(i: &Interface) -> bool {
    i.kind.is_some()
        || i.driver
            .get()
            .is_some_and(|d| VIRTUAL_DRIVERS.contains(&d.driver.as_str()))
}

/// Line rate in bits per second from the link speed; none for virtual devices (see
/// [`is_virtual`]), whose reported speed limits nothing.
pub fn speed_bps(i: &Interface) -> Option<u64> {
    if is_virtual(i) {
        return None;
    }
    i.link
        .get()
        .and_then(|l| l.speed_mbps)
        .filter(|&s| s > 0 && s != u32::MAX)
        .map(|s| u64::from(s) * 1_000_000)
}

fn sysctl<'s>(ctx: &'s Ctx, name: &str) -> Option<&'s Avail<String>> {
    ctx.inputs
        .node
        .sysctls
        .iter()
        .find(|s| s.name == name)
        .map(|s| &s.value)
}

fn sysctl_num(ctx: &Ctx, name: &str, field: usize) -> Option<u64> {
    sysctl(ctx, name)?
        .get()?
        .split_whitespace()
        .nth(field)?
        .parse()
        .ok()
}

/// The value a fix proposes for a limit found short: `floor` when the current value is below
/// it (or unknown), else double the current value. Never lower than the current value: a
/// shortage is never fixed by lowering a limit.
pub fn raise(current: Option<u64>, floor: u64) -> u64 {
    match current {
        Some(v) if v >= floor => v.saturating_mul(2),
        _ => floor,
    }
}

fn na_window(check: &Check, ctx: &Ctx) -> Finding {
    let reason = ctx
        .inputs
        .window
        .reason()
        .unwrap_or("no counter window")
        .to_string();
    Finding::new(
        check,
        "node",
        Severity::Na,
        format!("no counter rates: {reason}"),
    )
}

fn queue_irqs(i: &Interface) -> impl Iterator<Item = &crate::model::Irq> {
    i.irqs.iter().filter(|q| q.queue.is_some())
}

mod backlog;
mod capture;
mod fabric;
mod irq;
mod link;
mod pause;
mod proto;
mod rdma;
mod throughput;

/// Every check, in the order the steps run them.
pub static CHECKS: &[Check] = &[
    Check { id: "backlog.nic-drops", step: Step::Backlog, needs_window: true, run: backlog::nic_drops,
        explanation: "When the receive ring is full the NIC drops packets before the kernel sees them (rx_missed/rx_fifo/rx_over). A queue that backs up that far adds its whole length to every packet's latency before it drops; a longer ring absorbs bursts, faster IRQ service (affinity, coalescing) drains it." },
    Check { id: "backlog.queue-drops", step: Step::Backlog, needs_window: true, run: backlog::queue_drops,
        explanation: "Per-queue drop counters of the driver show which receive queue overflows. One queue dropping while others idle points at RSS imbalance or a slow CPU behind that queue's IRQ; all queues dropping points at ring size or total load." },
    Check { id: "backlog.rings", step: Step::Backlog, needs_window: false, run: backlog::rings,
        explanation: "The receive ring is the NIC's buffer for packets the CPU has not collected yet. A ring below the device maximum overflows sooner under bursts; a longer ring trades a little memory (and cache footprint) for fewer drops." },
    Check { id: "backlog.softnet", step: Step::Backlog, needs_window: true, run: backlog::softnet,
        explanation: "Packets handed to a CPU's backlog (RPS, veth, tunnels, netif_rx) wait in a per-CPU queue of net.core.netdev_max_backlog packets; when it is full they are dropped (softnet_stat column 2). time_squeeze counts softirq rounds that ran out of budget with work left: packets waited for the next round." },
    Check { id: "backlog.max-backlog", step: Step::Backlog, needs_window: false, run: backlog::max_backlog,
        explanation: "net.core.netdev_max_backlog bounds each CPU's input backlog. Below the kernel default of 1000 even modest bursts through RPS or virtual devices overflow it and drop packets." },
    Check { id: "backlog.rss", step: Step::Backlog, needs_window: true, run: backlog::rss,
        explanation: "Receive side scaling hashes flows onto queues. When one queue carries most packets, its CPU saturates and its ring backs up while the others idle: few large flows, a hash key or indirection table that ignores ports, or traffic the NIC cannot hash (tunnels)." },
    Check { id: "irq.numa-remote", step: Step::Irq, needs_window: false, run: irq::numa_remote,
        explanation: "A queue IRQ served by a CPU on the other socket makes every descriptor and packet cross the inter-socket link: higher latency, lower throughput, and remote memory for the socket buffers. Queue IRQs belong on the NIC's NUMA node." },
    Check { id: "irq.gpu-far", step: Step::Irq, needs_window: false, run: irq::gpu_far,
        explanation: "For GPU traffic the data ends in GPU memory: queue IRQs and the threads they wake are best on the NUMA node of the GPU nearest the NIC, so the copy to the GPU does not cross sockets." },
    Check { id: "irq.stacked", step: Step::Irq, needs_window: false, run: irq::stacked,
        explanation: "Several queue IRQs on one CPU serialize their queues: the CPU serves them in turn while other local CPUs idle, so the queues back up under load. One queue IRQ per core keeps queues independent." },
    Check { id: "irq.irqbalance", step: Step::Irq, needs_window: false, run: irq::irqbalance,
        explanation: "irqbalance rewrites IRQ affinities every few seconds by its own load heuristics, undoing a tuned placement and moving queues between CPUs (cold caches, reordering). Stop it, or exclude the NIC's IRQs (IRQBALANCE_BANNED_CPUS / --banirq), before tuning affinity." },
    Check { id: "irq.moved", step: Step::Irq, needs_window: true, run: irq::moved,
        explanation: "An IRQ whose affinity changes while traffic flows moves its queue to another CPU: caches go cold and packets of one flow may be processed out of order for a moment. Something on the node (irqbalance, a script) is rewriting affinities." },
    Check { id: "irq.rps", step: Step::Irq, needs_window: false, run: irq::rps,
        explanation: "Receive packet steering (Documentation/networking/scaling.rst) spreads receive processing over CPUs in software. Devices without per-queue IRQs (veth, tunnels, single-IRQ NICs) process all received packets on one CPU unless RPS is set; RPS pointing off the NIC's node adds a cross-socket hop per packet." },
    Check { id: "irq.xps", step: Step::Irq, needs_window: false, run: irq::xps,
        explanation: "Transmit packet steering (XPS) maps CPUs to transmit queues so a CPU sends on its own queue and completes on its own IRQ. Unset, the queue is picked by flow hash; XPS that leaves out the CPUs serving a queue's IRQ has every send complete on another CPU, bouncing cache lines between them." },
    Check { id: "throughput.utilization", step: Step::Throughput, needs_window: true, run: throughput::utilization,
        explanation: "Bits per second over the window against the line rate. A link near its rate is the bottleneck itself (more links or a faster port); a link far below it while the application is slow points at the host: offloads, buffers, CPU placement." },
    Check { id: "throughput.offloads", step: Step::Throughput, needs_window: false, run: throughput::offloads,
        explanation: "GRO merges received segments, TSO and GSO let the stack hand the NIC 64 KiB at a time. With them off every 1500-byte packet goes through the stack alone and throughput hits the per-packet CPU cost long before the line rate." },
    Check { id: "throughput.socket-buffers", step: Step::Throughput, needs_window: false, run: throughput::socket_buffers,
        explanation: "A TCP flow can only have one receive window of data in flight; the window is capped by net.ipv4.tcp_rmem/tcp_wmem (and rmem_max/wmem_max for applications that size their buffers). Below the bandwidth-delay product a single flow cannot fill the link; overflowing receive buffers drop packets." },
    Check { id: "throughput.mtu", step: Step::Throughput, needs_window: false, run: throughput::mtu,
        explanation: "Both ends of a link must agree on the MTU: frames larger than the receiver's MTU are dropped (rx_length_errors), which looks like a black hole for large packets while small ones pass. Jumbo frames cut per-packet cost where every hop supports them." },
    Check { id: "throughput.pause", step: Step::Throughput, needs_window: false, run: pause::pause_cap,
        explanation: "Pause frames stop the sender: received pause means the peer is slowing this NIC down, sent pause means this NIC is slowing the peer. Pause can take a large share of a link with every drop counter at zero (lossless by design), so throughput falls with nothing dropped. The share comes from the pause duration counters where the driver has them, else from XOFF frames x 65535 quanta x 512 bit times / line rate (an upper bound). With PFC, global pause should be off (it stops every priority), PFC should be on the priority that carries RoCE and only there, and RoCE in a class without PFC is lossy." },
    Check { id: "link.speed", step: Step::Link, needs_window: false, run: link::link_speed,
        explanation: "The negotiated speed is the ceiling of the link. A speed below the best mode both NIC and cable support usually means a cable or optic of a lower class, a peer port configured lower, or lanes down; half duplex means a negotiation failure." },
    Check { id: "link.autoneg", step: Step::Link, needs_window: false, run: link::autoneg,
        explanation: "With autonegotiation off, speed and duplex are forced; a peer that still negotiates falls back to half duplex or a lower speed, and a later cable or optic change is not adapted to." },
    Check { id: "link.fec", step: Step::Link, needs_window: false, run: link::fec,
        explanation: "Forward error correction repairs bit errors on fast links (25G lanes and up). Without it, or with uncorrectable blocks counting up, bit errors become CRC errors and lost frames, which TCP pays for with retransmits." },
    Check { id: "link.pcie", step: Step::Link, needs_window: false, run: link::pcie,
        explanation: "The NIC's PCIe link trained below its capability (fewer lanes or a lower generation) caps what the NIC can move to memory, often below the network line rate: a card in the wrong slot, a riser, or a BIOS setting." },
    Check { id: "link.carrier", step: Step::Link, needs_window: false, run: link::carrier,
        explanation: "Each carrier change is the link going down or up. Flaps drop everything in flight, reset TCP congestion windows and can trigger bond or routing failovers; a flapping link points at the cable, optic, or peer port." },
    Check { id: "link.pause", step: Step::Link, needs_window: true, run: link::pause,
        explanation: "Ethernet pause frames stop the sender for a while. A steady stream of them (a pause storm) means a receiver cannot keep up and throttles the whole link, every flow on it, not just the one causing it." },
    Check { id: "link.optics", step: Step::Link, needs_window: false, run: link::optics,
        explanation: "CRC errors on one port usually come from the physical layer: a dirty connector, a failing optic or a marginal cable. The module's own diagnostics tell which: a receive lane at or near the module's low-power warning points at the optic or the fibre, CRC errors on copper at the cable. Active optical cables lose less signal than copper DAC over the same length." },
    Check { id: "capture.microbursts", step: Step::Capture, needs_window: false, run: capture::microbursts,
        explanation: "Microbursts are runs of milliseconds or less at a large share of line rate. Averages over seconds hide them, yet they fill rings and backlogs in an instant; bursts with drops during them are the cause of the drops." },
    Check { id: "capture.retransmissions", step: Step::Capture, needs_window: false, run: capture::capture_retrans,
        explanation: "Retransmissions seen on the wire show loss on the path of the captured flows: each one costs a round trip or a timeout and shrinks the sender's congestion window." },
    Check { id: "proto.tcp-retrans", step: Step::Proto, needs_window: true, run: proto::tcp_retrans,
        explanation: "TCP retransmits segments it believes lost. Above about 1% of segments, loss dominates throughput (congestion window cuts) and latency (a round trip or a timeout per loss); find the drop point in the earlier steps." },
    Check { id: "proto.tcp-resets", step: Step::Proto, needs_window: true, run: proto::tcp_resets,
        explanation: "Resets tear connections down without the normal close: a full listen queue, an application closing with unread data, a timeout, or a middlebox. Each costs a new handshake and whatever was in flight." },
    Check { id: "proto.checksum", step: Step::Proto, needs_window: true, run: proto::checksum,
        explanation: "Packets that arrive with a bad checksum are dropped by the stack. They come from corruption the link CRC did not catch (a bad switch, memory), or from a broken checksum offload." },
    Check { id: "proto.crc", step: Step::Proto, needs_window: false, run: proto::crc,
        explanation: "CRC and frame errors are frames damaged on the wire: a dirty or damaged fiber, a failing optic or cable, or a port in trouble. They are dropped by the NIC and count as loss for the protocols above." },
    Check { id: "fabric.nic-distance", step: Step::Fabric, needs_window: false, run: fabric::nic_distance,
        explanation: "GPUDirect RDMA moves data between GPU memory and the NIC over PCIe. A NIC on the GPU's PCIe switch (PIX, PXB) keeps that traffic off the CPU; a NIC behind another host bridge (NODE) or on the other socket (SYS) sends every byte through the root complex or across the CPUs' interconnect, and NCCL then stages it through host memory instead." },
    Check { id: "fabric.acs-redirect", step: Step::Fabric, needs_window: false, run: fabric::acs_redirect,
        explanation: "Access Control Services request/completion redirect on a PCIe switch port sends peer-to-peer transactions up to the root complex for checking instead of across the switch: GPUDirect RDMA between a GPU and a NIC on that switch slows down or fails (NCCL hangs or falls back)." },
    Check { id: "fabric.irq-gpu-node", step: Step::Fabric, needs_window: false, run: fabric::irq_gpu_node,
        explanation: "The queue IRQs of a GPU's nearest NIC wake the threads that feed the GPU: on another NUMA node than the GPU, every completion crosses the CPUs' interconnect before the data reaches the GPU." },
    Check { id: "fabric.nccl-conf", step: Step::Fabric, needs_window: false, run: fabric::nccl_conf,
        explanation: "NCCL reads /etc/nccl.conf (or $NCCL_CONF_FILE). A GID index that points at an empty slot or a RoCE v1 GID, an interface that does not exist or sits far from the GPUs, or a traffic class other than the fabric's makes NCCL fail to connect, fall back to sockets, or send RDMA in a class the switches do not treat as lossless." },
    Check { id: "proto.tx-timeout", step: Step::Proto, needs_window: false, run: proto::tx_timeout,
        explanation: "A transmit timeout is the kernel's watchdog finding a transmit queue stopped for seconds; the driver then resets the queue or the device, losing what was queued. Usually firmware or driver trouble, or the link paused for long." },
    // The RDMA checks say nothing on a node without RDMA ports under examination, window or
    // not, so they give their n/a for a missing window themselves (needs_window false).
    Check { id: "proto.rdma-errors", step: Step::Proto, needs_window: false, run: rdma::rdma_errors,
        explanation: "RoCE and InfiniBand transports recover a lost packet by Go-Back-N: the requester times out or gets a sequence-error NAK and resends everything after the loss. Retransmits, ACK timeouts and sequence errors rising mean loss between the RDMA peers (a lossy or congested fabric, PFC/ECN not set up, a bad link); out-of-buffer counts mean the receiver had no receive posted." },
    Check { id: "proto.rdma-cnp-ecn", step: Step::Proto, needs_window: false, run: rdma::cnp_without_ecn,
        explanation: "RoCE congestion control (DCQCN) works through ECN: switches mark ECN-capable packets, the receiver answers with CNPs and the sender slows down. Packets sent Not-ECT (ToS with ECN bits 00, the rdma_cm default) cannot be marked: under the same congestion they are dropped, and RDMA recovers drops slowly." },
    Check { id: "throughput.roce-mtu", step: Step::Throughput, needs_window: false, run: rdma::roce_mtu,
        explanation: "A RoCE port's MTU is the largest IB MTU (256..4096) that fits in the netdev's MTU after 96 bytes of RoCE headers. A netdev MTU of 4096 or 9000-minus-something that was meant for RDMA can leave RoCE at half the intended size: twice the packets, and half the payload per packet, for the same transfer." },
];

/// Runs the checks of one step.
pub fn run_step(ctx: &Ctx, step: Step) -> Vec<Finding> {
    CHECKS
        .iter()
        .filter(|c| c.step == step)
        .flat_map(|c| {
            if c.needs_window && ctx.window().is_none() {
                vec![na_window(c, ctx)]
            } else {
                (c.run)(c, ctx)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_counter_names_of_common_drivers() {
        assert_eq!(
            queue_counter("rx_queue_3_drops"),
            Some((Dir::Rx, 3, "drops"))
        );
        assert_eq!(
            queue_counter("tx_queue_0_packets"),
            Some((Dir::Tx, 0, "packets"))
        );
        assert_eq!(
            queue_counter("rx12_packets"),
            Some((Dir::Rx, 12, "packets"))
        );
        assert_eq!(
            queue_counter("[2]: rx_ucast_packets"),
            Some((Dir::Rx, 2, "ucast_packets"))
        );
        assert_eq!(queue_counter("rx_packets"), None);
        assert_eq!(queue_counter("rx_queue_x_drops"), None);
        assert!(is_drop_counter("drops") && is_drop_counter("missed"));
        assert!(!is_drop_counter("xdp_drops") && !is_drop_counter("packets"));
    }

    #[test]
    fn best_mode_speed_reads_the_mode_names() {
        let modes = ["10000baseT/Full", "100000baseCR4/Full", "Autoneg"].map(String::from);
        assert_eq!(best_mode_speed(&modes), Some(100_000));
        assert_eq!(best_mode_speed(&[]), None);
    }

    #[test]
    fn check_ids_are_unique_and_prefixed_by_their_step() {
        let mut seen = BTreeSet::new();
        for c in CHECKS {
            assert!(seen.insert(c.id), "duplicate {}", c.id);
            let step = serde_json::to_value(c.step).expect("json");
            assert!(
                c.id.starts_with(&format!("{}.", step.as_str().expect("str"))),
                "{}",
                c.id
            );
        }
    }

    #[test]
    fn pending_move_when_effective_lies_outside_the_affinity() {
        let irq = |aff: &str, eff: &str| crate::model::Irq {
            irq: 1,
            name: "q".into(),
            queue: Some(0),
            count: 0,
            per_cpu: Vec::new(),
            affinity: Some(CpuSet::parse_list(aff).expect("list")),
            effective: Some(CpuSet::parse_list(eff).expect("list")),
            nic_local: None,
            gpu_local: None,
        };
        assert_eq!(
            irq::pending_move(&irq("0", "2")).map(CpuSet::to_list),
            Some("0".into())
        );
        assert_eq!(irq::pending_move(&irq("0-3", "2")), None);
        assert_eq!(irq::pending_move(&irq("2", "2")), None);
    }

    fn inputs_with(iface: Interface) -> Inputs {
        Inputs {
            node: crate::model::NodeState {
                schema: 1,
                hostname: "h".into(),
                kernel: "k".into(),
                taken_at_ms: 0,
                topology: serde_json::from_value(serde_json::json!({
                    "online_cpus": "0-7", "cpus": [], "gpus": [],
                    "numa_nodes": [{"id": 0, "cpus": "0-3"}, {"id": 1, "cpus": "4-7"}]
                }))
                .expect("topology"),
                interfaces: vec![iface],
                sysctls: vec![],
                softnet: vec![],
                rdma: vec![],
                pci: crate::model::pci::PciFabric::default(),
            },
            window: Avail::na("none"),
            irqbalance: Avail::Ok(None),
            capture: vec![],
            peers: Avail::na("none"),
            line_rate_bps: None,
            read_only_sysctls: Vec::new(),
            nccl_conf: None,
        }
    }

    /// igb-style vectors: `rx-N` and `tx-N` per queue, each pair on `cpus[N]`.
    fn rx_tx_irqs(cpus: &[u32]) -> Vec<crate::model::Irq> {
        let mut v = Vec::new();
        for (q, cpu) in cpus.iter().enumerate() {
            for dir in ["rx", "tx"] {
                let set = CpuSet::from_cpus([*cpu]);
                v.push(crate::model::Irq {
                    irq: 100 + v.len() as u32,
                    name: format!("igb0-{dir}-{q}"),
                    queue: Some(q as u32),
                    count: 0,
                    per_cpu: Vec::new(),
                    affinity: Some(set.clone()),
                    effective: Some(set),
                    nic_local: Some(true),
                    gpu_local: None,
                });
            }
        }
        v
    }

    fn stacked_severity(cpus: &[u32]) -> Severity {
        let mut nic: Interface = serde_json::from_value(serde_json::json!({
            "name": "igb0", "ifindex": 2, "kind": null, "driver": {"n/a": "x"},
            "mac": null, "mtu": 1500, "txqueuelen": 1000, "operstate": "up", "carrier": true,
            "carrier_changes": 1, "num_tx_queues": 4, "num_rx_queues": 4,
            "pci_address": "0000:81:01.0", "numa_node": 1, "local_cpus": "4-7",
            "pcie": {"n/a": "x"}, "link": {"n/a": "x"}, "rings": {"n/a": "x"},
            "channels": {"n/a": "x"}, "coalesce": {"n/a": "x"}, "pause": {"n/a": "x"},
            "features": {"n/a": "x"}, "fec": {"n/a": "x"}, "counters": Counters::default(),
            "std_stats": {"n/a": "x"}, "driver_stats": {"n/a": "x"},
            "queues": [], "irqs": [], "temperatures": []
        }))
        .expect("interface");
        nic.irqs = rx_tx_irqs(cpus);
        let inputs = inputs_with(nic);
        let ctx = Ctx::new(&inputs);
        let check = CHECKS
            .iter()
            .find(|c| c.id == "irq.stacked")
            .expect("check");
        let f = (check.run)(check, &ctx);
        assert_eq!(f.len(), 1);
        f[0].severity
    }

    #[test]
    fn stacked_counts_queues_not_vectors() {
        // rx-N and tx-N together on one CPU each: fine.
        assert_eq!(stacked_severity(&[4, 5, 6, 7]), Severity::Ok);
        // Queues 0 and 1 on CPU 4 while 6 and 7 (and more node-1 CPUs) are free.
        assert_eq!(stacked_severity(&[4, 4, 6, 7]), Severity::Warn);
    }

    #[test]
    fn raise_never_proposes_a_lower_value() {
        assert_eq!(raise(None, 600), 600);
        assert_eq!(raise(Some(300), 600), 600);
        assert_eq!(raise(Some(600), 600), 1200);
        assert_eq!(raise(Some(5000), 600), 10_000);
        for cur in [0, 1, 599, 600, 601, 1 << 40, u64::MAX] {
            assert!(raise(Some(cur), 600) >= cur, "{cur}");
        }
    }

    #[test]
    fn fmt_bps_units() {
        assert_eq!(fmt_bps(9.41e9), "9.41 Gb/s");
        assert_eq!(fmt_bps(12.0), "12 b/s");
    }
}
