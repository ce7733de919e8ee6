//! What the checks look at: the node state, a counter window, and further evidence sources.
//!
//! [`Inputs`] is plain data. The live command fills it from the kernel (`diag::gather`), the
//! scenario tests from files, `--from` from a snapshot (no window then: the checks that need
//! counter rates say n/a). A capture analysis plugs in as one more [`CaptureEvidence`] in
//! [`Inputs::capture`], next to the counter series; the capture checks read both.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{Avail, Counters, CpuSet, NodeState, SoftnetStat};
use crate::monitor::microburst::{Burst, Interval};

/// Everything the checks see.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// The node (live or a snapshot), restricted to the interfaces under examination.
    pub node: NodeState,
    /// Counters at the start and end of the measured window, or why there is none.
    pub window: Avail<Window>,
    /// PID of a running irqbalance (`Ok(None)`: not running), or why it is unknown.
    pub irqbalance: Avail<Option<u32>>,
    /// Results of capture analyses, one per capture (none when nothing was captured).
    pub capture: Vec<CaptureEvidence>,
    /// The other ends of the examined veth interfaces as rtnetlink tells them (namespace
    /// included), or why they are unknown (a snapshot: then only a pair of interfaces that
    /// name each other as peers counts).
    pub peers: Avail<Vec<Peer>>,
    /// Line rate given by the user (`--line-rate`), bits per second: it wins over any link
    /// speed, and is the only line rate of a virtual device.
    pub line_rate_bps: Option<u64>,
    /// Sysctls that exist but cannot be written here (global ones seen from a network
    /// namespace): a fix cannot set them. Known on the live node only.
    pub read_only_sysctls: Vec<String>,
    /// The nccl.conf NCCL would read, where there is one (live node only).
    pub nccl_conf: Option<NcclConfFile>,
}

/// An nccl.conf and where it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NcclConfFile {
    /// Its path.
    pub path: String,
    /// Its text.
    pub text: String,
}

/// The other end of a veth interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    /// The examined interface whose peer this is.
    pub iface: String,
    /// The peer's ifindex, in its own namespace (`IFLA_LINK`).
    pub ifindex: u32,
    /// Id of the peer's namespace as this namespace knows it (`IFLA_LINK_NETNSID`); `None`:
    /// the peer is in this namespace.
    #[serde(default)]
    pub netnsid: Option<i32>,
    /// The peer's name and MTU, or why they could not be read.
    pub attrs: Avail<PeerAttrs>,
}

/// What is read of a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerAttrs {
    /// Its name, in its namespace.
    pub name: String,
    /// Its MTU.
    pub mtu: u32,
}

/// Counters read at the start and at the end of a window, plus a fine series for bursts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// First reading.
    pub start: Sample,
    /// Last reading.
    pub end: Sample,
    /// Per interface, the byte/packet/drop counts of each short interval (1 ms live), for
    /// microburst detection. Left out of reports (thousands of points).
    #[serde(default, skip_serializing)]
    pub series: BTreeMap<String, Series>,
}

impl Window {
    /// Length of the window in seconds (at least 1 ms, so rates stay finite).
    pub fn seconds(&self) -> f64 {
        (self.end.t_ms.saturating_sub(self.start.t_ms)).max(1) as f64 / 1000.0
    }
}

/// One reading of every counter the checks use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// When, in milliseconds on the window's clock.
    pub t_ms: u64,
    /// Per-interface counters.
    #[serde(default)]
    pub interfaces: Vec<IfaceSample>,
    /// Per-CPU softnet statistics.
    #[serde(default)]
    pub softnet: Vec<SoftnetStat>,
    /// Protocol counters `Group.Name` (`/proc/net/snmp`, `/proc/net/netstat`).
    #[serde(default)]
    pub proto: BTreeMap<String, u64>,
    /// Effective affinity of every IRQ of the examined interfaces, by IRQ number.
    #[serde(default)]
    pub irq_affinity: BTreeMap<u32, CpuSet>,
    /// RDMA hardware counters per port, keyed `DEV/PORT` (`rxe0/1`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rdma: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Sample {
    /// The reading of one interface.
    pub fn iface(&self, name: &str) -> Option<&IfaceSample> {
        self.interfaces.iter().find(|i| i.name == name)
    }
}

/// One interface's counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IfaceSample {
    /// Interface name.
    pub name: String,
    /// `rtnl_link_stats64` counters; in files a map of the nonzero ones by field name.
    #[serde(
        default,
        serialize_with = "ser_counters",
        deserialize_with = "de_counters"
    )]
    pub counters: Counters,
    /// Driver-private counters (`ethtool -S` names).
    #[serde(default)]
    pub driver: BTreeMap<String, u64>,
    /// Carrier changes since the device was created.
    #[serde(default)]
    pub carrier_changes: Option<u32>,
    /// Transmit timeouts summed over the tx queues.
    #[serde(default)]
    pub tx_timeouts: Option<u64>,
    /// FEC blocks the code could not correct, where the driver counts them.
    #[serde(default)]
    pub fec_uncorrectable: Option<u64>,
    /// Pause frames received (standard ethtool pause statistics).
    #[serde(default)]
    pub rx_pause_frames: Option<u64>,
    /// Pause frames sent (standard ethtool pause statistics).
    #[serde(default)]
    pub tx_pause_frames: Option<u64>,
}

/// The nonzero counters as a map: reports and fixtures stay short and readable.
fn ser_counters<S: Serializer>(c: &Counters, s: S) -> Result<S::Ok, S::Error> {
    let v = serde_json::to_value(c).map_err(serde::ser::Error::custom)?;
    let m: BTreeMap<String, u64> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_u64().filter(|&n| n != 0).map(|n| (k.clone(), n)))
        .collect();
    m.serialize(s)
}

fn de_counters<'de, D: Deserializer<'de>>(d: D) -> Result<Counters, D::Error> {
    let m = BTreeMap::<String, u64>::deserialize(d)?;
    let mut c = Counters::default();
    for (k, v) in m {
        if !crate::sys::sysfs::set_counter(&mut c, &k, v) {
            return Err(serde::de::Error::custom(format!(
                "unknown counter {k:?} (rtnl_link_stats64 field names: rx_bytes, rx_dropped, ...)"
            )));
        }
    }
    Ok(c)
}

/// Fine-grained traffic of one interface: one entry per interval, receive and transmit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Receive side.
    pub rx: Vec<Interval>,
    /// Transmit side.
    pub tx: Vec<Interval>,
}

/// A run of `n` equal intervals, the file form of a series.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct Segment {
    #[serde(default = "one")]
    n: u32,
    #[serde(default)]
    bytes: u64,
    #[serde(default)]
    packets: u64,
    #[serde(default)]
    drops: u64,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesFile {
    interval_us: u64,
    #[serde(default)]
    rx: Vec<Segment>,
    #[serde(default)]
    tx: Vec<Segment>,
}

impl<'de> Deserialize<'de> for Series {
    /// `{interval_us: 1000, rx: [{n: 100, bytes: 0}, {n: 3, bytes: 150000, drops: 20}], tx: []}`:
    /// runs of equal intervals, back to back from time 0.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = SeriesFile::deserialize(d)?;
        if f.interval_us == 0 {
            return Err(serde::de::Error::custom("interval_us must be > 0"));
        }
        let expand = |segs: &[Segment]| {
            let dur_ns = f.interval_us * 1000;
            let mut out = Vec::new();
            let mut t = 0;
            for s in segs {
                for _ in 0..s.n {
                    out.push(Interval {
                        start_ns: t,
                        dur_ns,
                        bytes: s.bytes,
                        packets: s.packets,
                        drops: Some(s.drops),
                    });
                    t += dur_ns;
                }
            }
            out
        };
        Ok(Series {
            rx: expand(&f.rx),
            tx: expand(&f.tx),
        })
    }
}

/// The result of a capture analysis, as one more evidence source. `dpuctl capture analyze`
/// produces bursts with the shared microburst definition; a conversion from its result to
/// this type is all it takes to feed it to the checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureEvidence {
    /// Where it came from (a capture file, or `live capture on eth2`).
    pub source: String,
    /// Interface captured on, when known.
    #[serde(default)]
    pub iface: Option<String>,
    /// Seconds covered.
    pub seconds: f64,
    /// Line rate the bursts were judged against, bits per second; `None`: no line rate was
    /// known (no `--line-rate`, no `if_speed` in the file, no physical link speed), so the
    /// bursts were not judged.
    #[serde(default)]
    pub line_rate_bps: Option<u64>,
    /// Bursts found (shared definition: `monitor::microburst`).
    #[serde(default)]
    pub bursts: Vec<Burst>,
    /// Frames longer than the MTU (GSO/TSO super-frames of a host-side capture), spread over
    /// their serialization time at the line rate before binning.
    #[serde(default)]
    pub gso_frames: u64,
    /// TCP data segments seen.
    #[serde(default)]
    pub tcp_segments: Option<u64>,
    /// TCP retransmissions seen (same sequence range sent again).
    #[serde(default)]
    pub tcp_retransmissions: Option<u64>,
}

/// The scenario file form of the inputs other than the node: the window, irqbalance and
/// capture results, as the scenario files hold them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowFile {
    /// The counter window; absent: no window, with `no_window` as the reason.
    #[serde(default)]
    pub window: Option<Window>,
    /// Reason shown when there is no window.
    #[serde(default)]
    pub no_window: Option<String>,
    /// irqbalance PID; absent: not running (with a window) or unknown (without one).
    #[serde(default)]
    pub irqbalance: Option<u32>,
    /// Capture analyses.
    #[serde(default)]
    pub capture: Vec<CaptureEvidence>,
    /// The veth peers as rtnetlink told them; absent: unknown (as from a snapshot).
    #[serde(default)]
    pub peers: Option<Vec<Peer>>,
    /// `--line-rate`, bits per second.
    #[serde(default)]
    pub line_rate_bps: Option<u64>,
    /// Sysctls read-only here.
    #[serde(default)]
    pub read_only_sysctls: Vec<String>,
    /// An nccl.conf to compare with the node.
    #[serde(default)]
    pub nccl_conf: Option<NcclConfFile>,
}

impl WindowFile {
    /// Inputs from this file and a node.
    pub fn into_inputs(self, node: NodeState) -> Inputs {
        let (window, irqbalance) = if let Some(w) = self.window {
            (Avail::Ok(w), Avail::Ok(self.irqbalance))
        } else {
            let why = self
                .no_window
                .unwrap_or_else(|| "no counter window in the scenario".to_string());
            // Without a live window irqbalance was not looked for either, unless given.
            let irq = self
                .irqbalance
                .map_or_else(|| Avail::na(&why), |p| Avail::Ok(Some(p)));
            (Avail::na(why), irq)
        };
        Inputs {
            node,
            window,
            irqbalance,
            capture: self.capture,
            peers: self.peers.map_or_else(
                || Avail::na("a snapshot does not record the peer's namespace"),
                Avail::Ok,
            ),
            line_rate_bps: self.line_rate_bps,
            read_only_sysctls: self.read_only_sysctls,
            nccl_conf: self.nccl_conf,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_segments_expand_back_to_back() {
        let s: Series = yaml_serde::from_str(
            "interval_us: 1000\nrx: [{n: 2, bytes: 10}, {bytes: 99, packets: 1, drops: 3}]\n",
        )
        .expect("parse");
        assert_eq!(s.rx.len(), 3);
        assert_eq!(s.rx[1].start_ns, 1_000_000);
        assert_eq!(s.rx[2].start_ns, 2_000_000);
        assert_eq!(s.rx[2].drops, Some(3));
        assert!(s.tx.is_empty());
    }

    #[test]
    fn counters_are_a_map_of_known_names() {
        let i: IfaceSample =
            yaml_serde::from_str("name: eth2\ncounters: {rx_bytes: 5, rx_missed_errors: 2}\n")
                .expect("parse");
        assert_eq!(i.counters.rx_bytes, 5);
        assert_eq!(i.counters.rx_missed_errors, 2);
        let e = yaml_serde::from_str::<IfaceSample>("name: x\ncounters: {rx_byte: 5}\n")
            .expect_err("unknown name");
        assert!(e.to_string().contains("unknown counter \"rx_byte\""), "{e}");
        let back = serde_json::to_string(&i).expect("json");
        assert!(back.contains("\"rx_missed_errors\":2") && !back.contains("tx_bytes"));
    }

    #[test]
    fn window_seconds_never_zero() {
        let w = Window::default();
        assert!(w.seconds() > 0.0);
    }
}
