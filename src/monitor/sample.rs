//! One timestamped sample of every watched interface: what the sampler reads and what a
//! recording stores.
//!
//! Counters come with every sample (one `RTM_GETSTATS` request); the slower reads (driver
//! counters, per-queue `tx_timeout`, temperatures, softnet, socket-level drops) come with some
//! samples only, as [`SlowIface`], [`Sample::softnet`] and [`Sample::sockets`]. Driver counter names are shared ([`CounterNames`]),
//! so a sample carries only the values.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{Counters, Temperature};

/// One sample of all watched interfaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When the counters were read, ns on the sampler's (monotonic) clock.
    pub t_ns: u64,
    /// Wall-clock time of `t_ns`, ms since the Unix epoch (for display only).
    pub wall_ms: u64,
    /// Watched interfaces that exist now, by ifindex. An interface missing here vanished.
    pub ifaces: Vec<IfaceSample>,
    /// Softnet totals over all CPUs, on samples that carry the slow reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub softnet: Option<SoftnetTotals>,
    /// Socket-level drops of the network namespace, on samples that carry the slow reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sockets: Option<SocketTotals>,
    /// Node-wide detail of the slow reads (per-CPU softnet rows, UDP buffer drops), on the
    /// samples that carry the slow reads, when the sampler was asked for it (the exporter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Box<NodeSlow>>,
    /// Top flows of the interval this sample closes, per interface (the eBPF source, on
    /// intervals of one hot bin; empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<IfaceFlows>,
    /// RDMA hardware counters of every RDMA port, on the samples that carry the slow reads
    /// (recordings without them load with none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rdma: Vec<RdmaPortSample>,
}

/// The hardware counters of one RDMA port (`/sys/class/infiniband/DEV/ports/N/hw_counters`),
/// read with the slow reads: they are judged over seconds, and the kernel caches them for
/// `lifespan` ms anyway (mlx5 asks its firmware for them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdmaPortSample {
    /// Device name (`mlx5_0`, `rxe0`).
    pub device: String,
    /// Port number, from 1.
    pub port: u32,
    /// Kernel driver of the device (`mlx5_core`), or the RDMA driver of a software device
    /// (`rxe`); `None` when neither is known.
    #[serde(default)]
    pub driver: Option<String>,
    /// The netdev the port sits on (RoCE); `None` on InfiniBand.
    #[serde(default)]
    pub netdev: Option<String>,
    /// Counter names (shared between samples) and values.
    pub counters: DriverStats,
}

impl RdmaPortSample {
    /// `DEV/PORT`, as `rdma statistic show` names a port.
    pub fn key(&self) -> String {
        format!("{}/{}", self.device, self.port)
    }

    /// Whether a port belongs to the watched interfaces: all when none are named, else the
    /// ports on a named netdev and the ports on none (InfiniBand), like troubleshoot's.
    pub fn watched(&self, names: &[String]) -> bool {
        names.is_empty() || self.netdev.as_ref().is_none_or(|n| names.contains(n))
    }
}

/// Top flows of one interface over one interval, by direction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IfaceFlows {
    /// Interface index.
    pub ifindex: u32,
    /// Received, heaviest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rx: Vec<TopFlow>,
    /// Sent, heaviest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tx: Vec<TopFlow>,
}

/// A flow (5-tuple) with the bytes it carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopFlow {
    /// Source address.
    pub src: std::net::IpAddr,
    /// Destination address.
    pub dst: std::net::IpAddr,
    /// Source port (0 without one).
    pub sport: u16,
    /// Destination port (0 without one).
    pub dport: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Bytes (L2 header included).
    pub bytes: u64,
}

impl std::fmt::Display for TopFlow {
    /// `udp 10.0.0.1:4000>10.0.0.2:9000` (IPv6 addresses in brackets; the protocol number
    /// for protocols other than tcp, udp, sctp, icmp).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ep = |a: std::net::IpAddr, p: u16| match a {
            std::net::IpAddr::V4(v) => format!("{v}:{p}"),
            std::net::IpAddr::V6(v) => format!("[{v}]:{p}"),
        };
        let proto = match self.proto {
            1 => "icmp".to_string(),
            6 => "tcp".to_string(),
            17 => "udp".to_string(),
            58 => "icmp6".to_string(),
            132 => "sctp".to_string(),
            n => format!("proto{n}"),
        };
        write!(
            f,
            "{proto} {}>{}",
            ep(self.src, self.sport),
            ep(self.dst, self.dport)
        )
    }
}

/// Adds `more` into `acc` (summing a flow seen in both).
pub fn merge_flows(acc: &mut Vec<TopFlow>, more: &[TopFlow]) {
    for f in more {
        match acc.iter_mut().find(|a| {
            (a.src, a.dst, a.sport, a.dport, a.proto) == (f.src, f.dst, f.sport, f.dport, f.proto)
        }) {
            Some(a) => a.bytes += f.bytes,
            None => acc.push(*f),
        }
    }
}

/// The `n` heaviest of `flows`, heaviest first.
pub fn top_flows(mut flows: Vec<TopFlow>, n: usize) -> Vec<TopFlow> {
    flows.sort_by_key(|f| std::cmp::Reverse(f.bytes));
    flows.truncate(n);
    flows
}

/// Node-wide detail of one round of slow reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeSlow {
    /// `/proc/net/softnet_stat`, one row per online CPU.
    #[serde(default)]
    pub softnet: Vec<crate::model::SoftnetStat>,
    /// `Udp.RcvbufErrors` of `/proc/net/snmp` (datagrams dropped on a full socket buffer).
    #[serde(default)]
    pub udp_rcvbuf_errors: Option<u64>,
    /// `Udp.SndbufErrors` of `/proc/net/snmp` (datagrams dropped on a full send buffer).
    #[serde(default)]
    pub udp_sndbuf_errors: Option<u64>,
}

/// One interface in a sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IfaceSample {
    /// Kernel interface index.
    pub ifindex: u32,
    /// Interface name (shared between samples, not copied).
    #[serde(serialize_with = "ser_arc_str", deserialize_with = "de_arc_str")]
    pub name: Arc<str>,
    /// Operational state is up.
    pub up: bool,
    /// Link speed in Mbit/s, when the link reports one (veth does not).
    #[serde(default)]
    pub speed_mbps: Option<u64>,
    /// The 64-bit interface counters.
    pub counters: Counters,
    /// The slower reads, on some samples only (boxed: most samples have none, and the
    /// sampler writes every sample's interfaces once per interval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow: Option<Box<SlowIface>>,
}

/// What the sampler reads at the lower rate for one interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlowIface {
    /// Driver name (`ethtool -i`), which picks the counter class table.
    #[serde(default)]
    pub driver: Option<String>,
    /// Driver-private counters (`ethtool -S`), or why there are none.
    #[serde(default)]
    pub driver_stats: Option<DriverStats>,
    /// Why driver counters could not be read (unsupported, no permission), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_stats_na: Option<String>,
    /// `tx_timeout` of each tx queue (sysfs), as `(queue, total)`.
    #[serde(default)]
    pub tx_timeouts: Vec<(u32, u64)>,
    /// Temperatures of the device (hwmon).
    #[serde(default)]
    pub temps: Vec<Temperature>,
    /// MTU (from the link table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Carrier changes since the device was created (from the link table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_changes: Option<u32>,
    /// The pluggable module's temperature and optical power, on the rounds that read it
    /// (every few slow rounds; never on interfaces whose module cannot be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<crate::model::module::ModuleReading>,
    /// Classes of the root qdisc with their counters (`tc -s class show`); empty when the
    /// root has no classes, `None` when they were not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bands: Option<Vec<super::bands::BandSample>>,
    /// PFC frames per priority from dcbnl, where the driver has DCB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pfc: Option<super::bands::PfcCounters>,
}

/// Driver counter names of one interface, shared by every sample that carries its values.
pub type CounterNames = Arc<[String]>;

/// Driver-private counter values with their (shared) names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverStats {
    /// Names, as `ethtool -S` prints them.
    #[serde(serialize_with = "ser_names", deserialize_with = "de_names")]
    pub names: CounterNames,
    /// Values, in the order of `names`.
    pub values: Vec<u64>,
}

impl DriverStats {
    /// The value of a counter by name.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.values.get(i).copied())
    }
}

/// Softnet statistics summed over CPUs (`/proc/net/softnet_stat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftnetTotals {
    /// Packets processed.
    pub processed: u64,
    /// Backlog drops.
    pub dropped: u64,
    /// Time squeezes.
    pub time_squeeze: u64,
}

impl SoftnetTotals {
    /// Sums per-CPU rows.
    pub fn of(rows: &[crate::model::SoftnetStat]) -> Self {
        rows.iter().fold(Self::default(), |a, r| Self {
            processed: a.processed.wrapping_add(r.processed),
            dropped: a.dropped.wrapping_add(r.dropped),
            time_squeeze: a.time_squeeze.wrapping_add(r.time_squeeze),
        })
    }
}

/// Socket-level drops of the sampler's network namespace, from `/proc/net/snmp`,
/// `/proc/net/snmp6` and `/proc/net/netstat`: packets the NIC and the stack delivered that a
/// socket then dropped, which no interface counter shows. IPv4 and IPv6 are summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketTotals {
    /// UDP datagrams dropped because the socket's receive buffer was full
    /// (`Udp.RcvbufErrors` + `Udp6.RcvbufErrors`).
    pub udp_rcvbuf_errors: u64,
    /// UDP datagrams that could not be delivered, receive-buffer drops, checksum errors and
    /// the rest (`Udp.InErrors` + `Udp6.InErrors`).
    pub udp_in_errors: u64,
    /// TCP segments dropped because the socket's backlog was full while a user held the
    /// socket (`TcpExt.TCPBacklogDrop`).
    pub tcp_backlog_drop: u64,
    /// Connection requests a listening socket dropped (`TcpExt.ListenDrops`, overflows
    /// included).
    pub tcp_listen_drops: u64,
    /// Connection requests dropped because a listener's accept queue was full
    /// (`TcpExt.ListenOverflows`).
    pub tcp_listen_overflows: u64,
}

impl SocketTotals {
    /// Number of counters.
    pub const N: usize = 5;
    /// Their names, as metrics and JSON fields, in [`SocketTotals::to_array`] order.
    pub const NAMES: [&'static str; Self::N] = [
        "udp_rcvbuf_errors",
        "udp_in_errors",
        "tcp_backlog_drop",
        "tcp_listen_drops",
        "tcp_listen_overflows",
    ];

    /// The totals in the counters of `/proc/net/snmp`, `snmp6` and `netstat` (absent
    /// counters count 0).
    pub fn of(c: &crate::sys::snmp::ProtoCounters) -> Self {
        let g = |k: &str| c.get(k).copied().unwrap_or(0);
        Self {
            udp_rcvbuf_errors: g("Udp.RcvbufErrors").wrapping_add(g("Udp6.RcvbufErrors")),
            udp_in_errors: g("Udp.InErrors").wrapping_add(g("Udp6.InErrors")),
            tcp_backlog_drop: g("TcpExt.TCPBacklogDrop"),
            tcp_listen_drops: g("TcpExt.ListenDrops"),
            tcp_listen_overflows: g("TcpExt.ListenOverflows"),
        }
    }

    /// The values in [`SocketTotals::NAMES`] order.
    pub fn to_array(self) -> [u64; Self::N] {
        [
            self.udp_rcvbuf_errors,
            self.udp_in_errors,
            self.tcp_backlog_drop,
            self.tcp_listen_drops,
            self.tcp_listen_overflows,
        ]
    }

    /// The totals from values in [`SocketTotals::NAMES`] order.
    pub fn from_array(v: [u64; Self::N]) -> Self {
        Self {
            udp_rcvbuf_errors: v[0],
            udp_in_errors: v[1],
            tcp_backlog_drop: v[2],
            tcp_listen_drops: v[3],
            tcp_listen_overflows: v[4],
        }
    }
}

impl Sample {
    /// The interface with this ifindex.
    pub fn iface(&self, ifindex: u32) -> Option<&IfaceSample> {
        self.ifaces.iter().find(|i| i.ifindex == ifindex)
    }

    /// True when the sample carries the slow reads.
    pub fn has_slow(&self) -> bool {
        self.softnet.is_some()
            || self.sockets.is_some()
            || self.ifaces.iter().any(|i| i.slow.is_some())
            || !self.rdma.is_empty()
    }
}

// serde's `rc` feature is not enabled in this crate; these helpers keep the shared names
// serializable without it.
fn ser_arc_str<S: Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

fn de_arc_str<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    Ok(Arc::from(String::deserialize(d)?))
}

fn ser_names<S: Serializer>(v: &CounterNames, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().serialize(s)
}

fn de_names<'de, D: Deserializer<'de>>(d: D) -> Result<CounterNames, D::Error> {
    Ok(Arc::from(Vec::<String>::deserialize(d)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_print_as_protocol_and_endpoints() {
        let f = TopFlow {
            src: "10.0.0.1".parse().expect("ip"),
            dst: "fe80::1".parse().expect("ip"),
            sport: 4000,
            dport: 9000,
            proto: 17,
            bytes: 5,
        };
        assert_eq!(f.to_string(), "udp 10.0.0.1:4000>[fe80::1]:9000");
        let mut acc = vec![f];
        merge_flows(
            &mut acc,
            &[
                f,
                TopFlow {
                    sport: 1,
                    bytes: 100,
                    ..f
                },
            ],
        );
        assert_eq!(acc.len(), 2);
        assert_eq!(acc[0].bytes, 10);
        let t = top_flows(acc, 1);
        assert_eq!((t.len(), t[0].sport), (1, 1));
    }

    #[test]
    fn samples_round_trip_through_json() {
        let names: CounterNames = Arc::from(vec!["rx_queue_0_drops".to_string()]);
        let s = Sample {
            t_ns: 5,
            wall_ms: 7,
            ifaces: vec![IfaceSample {
                ifindex: 3,
                name: Arc::from("eth0"),
                up: true,
                speed_mbps: Some(25_000),
                counters: Counters {
                    rx_bytes: 9,
                    ..Counters::default()
                },
                slow: Some(Box::new(SlowIface {
                    driver: Some("ice".into()),
                    driver_stats: Some(DriverStats {
                        names,
                        values: vec![4],
                    }),
                    driver_stats_na: None,
                    tx_timeouts: vec![(0, 1)],
                    temps: vec![],
                    mtu: Some(1500),
                    carrier_changes: Some(2),
                    module: None,
                    bands: Some(vec![crate::monitor::bands::BandSample {
                        class: 0x0001_0002,
                        kind: "ets".into(),
                        stats: crate::model::qos::TcStats {
                            drops: 3,
                            backlog: 1500,
                            ..Default::default()
                        },
                    }]),
                    pfc: Some(crate::monitor::bands::PfcCounters {
                        requests: vec![1; 8],
                        indications: vec![2; 8],
                    }),
                })),
            }],
            softnet: Some(SoftnetTotals::default()),
            sockets: Some(SocketTotals {
                udp_rcvbuf_errors: 3,
                ..SocketTotals::default()
            }),
            node: None,
            flows: Vec::new(),
            rdma: vec![RdmaPortSample {
                device: "mlx5_0".into(),
                port: 1,
                driver: Some("mlx5_core".into()),
                netdev: Some("eth0".into()),
                counters: DriverStats {
                    names: Arc::from(vec!["out_of_sequence".to_string()]),
                    values: vec![9],
                },
            }],
        };
        let j = serde_json::to_string(&s).expect("serialize");
        let back: Sample = serde_json::from_str(&j).expect("deserialize");
        assert_eq!(back, s);
        let ds = back.ifaces[0]
            .slow
            .as_ref()
            .and_then(|x| x.driver_stats.as_ref());
        assert_eq!(ds.and_then(|d| d.get("rx_queue_0_drops")), Some(4));
        // A sample written before RDMA counters existed loads with none.
        let old: Sample =
            serde_json::from_str(r#"{"t_ns":1,"wall_ms":2,"ifaces":[]}"#).expect("old sample");
        assert!(old.rdma.is_empty());
    }

    #[test]
    fn rdma_ports_follow_the_watched_interfaces() {
        let mut p = RdmaPortSample {
            device: "rxe0".into(),
            port: 1,
            driver: None,
            netdev: Some("virtio0".into()),
            counters: DriverStats {
                names: Arc::from(Vec::<String>::new()),
                values: vec![],
            },
        };
        assert_eq!(p.key(), "rxe0/1");
        assert!(p.watched(&[]));
        assert!(p.watched(&["virtio0".into()]));
        assert!(!p.watched(&["eth0".into()]));
        p.netdev = None;
        assert!(
            p.watched(&["eth0".into()]),
            "InfiniBand ports sit on no netdev"
        );
    }
}
