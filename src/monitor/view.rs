//! What the monitor engine hands to its renderers: the TUI (`dpuctl watch`) and the streams
//! of `dpuctl stats`. Plain data; the engine fills it, renderers only read it.

use serde::{Deserialize, Serialize};

use super::microburst::{Burst, BurstSummary};

/// Everything the screens show at one refresh.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// Time of the newest sample, ns on the sampler's clock.
    pub t_ns: u64,
    /// Wall-clock time (Unix ms) of `t_ns`, for display of times.
    pub wall_ms: u64,
    /// Watched interfaces, in the order the engine keeps them (ifindex order).
    pub ifaces: Vec<IfaceView>,
    /// Softnet (all CPUs): backlog drops per second.
    pub softnet_dropped: f64,
    /// Softnet (all CPUs): time squeezes per second.
    pub softnet_squeezed: f64,
    /// Socket-level drops of the network namespace per second; `None` until two slow reads
    /// were seen (or `/proc/net/snmp` could not be read).
    #[serde(default)]
    pub sockets: Option<SocketRates>,
    /// Alerts raised so far, oldest first, bounded (the newest are kept).
    pub alerts: Vec<Alert>,
    /// Alerts raised since the previous view (also in `alerts`), oldest first.
    #[serde(default)]
    pub new_alerts: Vec<Alert>,
    /// Samples ingested since the engine started (or was reset).
    #[serde(default)]
    pub samples: u64,
    /// Sample deadlines the sampler missed so far (it was late by a whole interval or more).
    #[serde(default)]
    pub missed_deadlines: u64,
    /// Span of the samples the flight recorder holds now, ns (0 without a flight recorder).
    #[serde(default)]
    pub flight_span_ns: u64,
    /// RDMA ports with their hardware counters as rates, by device then port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rdma: Vec<RdmaPortView>,
}

/// One RDMA port's hardware counters as rates over the last refresh period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RdmaPortView {
    /// Device name (`mlx5_0`, `rxe0`).
    pub device: String,
    /// Port number.
    pub port: u32,
    /// The netdev the port sits on (RoCE), if any.
    #[serde(default)]
    pub netdev: Option<String>,
    /// The class table of the device: its driver (`mlx5_core`), else its name's prefix (`rxe`).
    pub driver: String,
    /// False once the port is gone (kept, greyed, until reset).
    pub present: bool,
    /// Per class the device's table knows (`retransmits`, `timeouts`, `sequence_errors`,
    /// `out_of_buffer`, `cnp_sent`, `cnp_handled`, `ecn_marked`), its counters summed.
    pub classes: Vec<RdmaClassRate>,
    /// Every counter as a rate, with its class or `raw`.
    pub counters: Vec<ClassRate>,
}

impl RdmaPortView {
    /// `DEV/PORT`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.device, self.port)
    }
}

/// The counters of one RDMA class on one port, summed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdmaClassRate {
    /// Class name.
    pub class: String,
    /// Per second over the last refresh period.
    pub rate: f64,
    /// Current sum of the counters.
    pub total: u64,
}

/// Socket-level drops of the network namespace, per second (names as in
/// [`super::SocketTotals`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SocketRates {
    /// UDP receive-buffer drops (`RcvbufErrors`, IPv4 + IPv6).
    pub udp_rcvbuf_errors: f64,
    /// UDP datagrams not delivered (`InErrors`, receive-buffer drops included).
    pub udp_in_errors: f64,
    /// TCP segments dropped at a full socket backlog (`TCPBacklogDrop`).
    pub tcp_backlog_drop: f64,
    /// Connection requests dropped by listeners (`ListenDrops`).
    pub tcp_listen_drops: f64,
    /// Connection requests dropped at a full accept queue (`ListenOverflows`).
    pub tcp_listen_overflows: f64,
}

impl SocketRates {
    /// UDP datagrams lost at sockets per second (`InErrors` counts receive-buffer drops
    /// too, so this is not their sum).
    pub fn udp_drops(&self) -> f64 {
        self.udp_in_errors.max(self.udp_rcvbuf_errors)
    }

    /// TCP segments and connection requests dropped at sockets per second (backlog drops
    /// plus listen drops, which include overflows).
    pub fn tcp_drops(&self) -> f64 {
        self.tcp_backlog_drop + self.tcp_listen_drops.max(self.tcp_listen_overflows)
    }
}

/// One interface on screen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IfaceView {
    /// Interface name.
    pub name: String,
    /// Kernel interface index.
    pub ifindex: u32,
    /// False once the interface vanished (kept on screen, greyed, until reset).
    pub present: bool,
    /// Operational state is up.
    pub up: bool,
    /// Line rate used for utilization and bursts (link speed or `--line-rate`), if known.
    pub line_rate_bps: Option<u64>,
    /// Rates over the last refresh period.
    pub rates: IfaceRates,
    /// Driver-private counters with a semantic class, as rates.
    pub classes: Vec<ClassRate>,
    /// Driver-private counters no table knows, as rates (shown raw).
    pub raw: Vec<ClassRate>,
    /// Per-queue rates (from driver counters) and tx timeouts.
    pub queues: Vec<QueueView>,
    /// Recent rate points for the charts, oldest first, bounded.
    pub history: Vec<RatePoint>,
    /// rx bursts so far.
    pub rx_bursts: BurstSummary,
    /// tx bursts so far.
    pub tx_bursts: BurstSummary,
    /// The most recent bursts (both directions), newest last, bounded.
    pub recent_bursts: Vec<DirBurst>,
    /// Bursts that ended since the previous view, oldest first (also in `recent_bursts`).
    #[serde(default)]
    pub ended_bursts: Vec<DirBurst>,
    /// NIC temperatures.
    pub temps: Vec<TempView>,
    /// The pluggable module's temperature and per-lane optical power (slow reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<crate::model::module::ModuleReading>,
    /// Driver name (`ethtool -i`), once the slow reads saw it.
    #[serde(default)]
    pub driver: Option<String>,
    /// Why driver counters are not shown ("n/a" reason), if so.
    #[serde(default)]
    pub driver_stats_na: Option<String>,
    /// Times a counter went backwards (driver reset) and was re-based instead of counted.
    #[serde(default)]
    pub counter_resets: u64,
    /// Pause by side (rx: received, the peer slows us; tx: sent, we slow the peer) and
    /// priority, with the share of the period spent paused where it can be known.
    #[serde(default)]
    pub pause: Vec<super::pause::PauseView>,
    /// Where the per-priority pause frames come from: `dcbnl` (the driver's `ieee_pfc`
    /// counters) or `ethtool` (its `ethtool -S` counters); absent without either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pfc_source: Option<String>,
    /// Classes (bands) of the root qdisc: sent, drops and requeues as rates, backlog as
    /// read last; empty when the root has no classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<super::bands::BandView>,
}

/// Per-second rates of one interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct IfaceRates {
    /// Received bits per second.
    pub rx_bps: f64,
    /// Transmitted bits per second.
    pub tx_bps: f64,
    /// Received packets per second.
    pub rx_pps: f64,
    /// Transmitted packets per second.
    pub tx_pps: f64,
    /// `rx_missed_errors` per second.
    pub rx_missed: f64,
    /// `rx_fifo_errors` per second.
    pub rx_fifo: f64,
    /// `rx_crc_errors` per second.
    pub rx_crc: f64,
    /// `rx_dropped` per second.
    pub rx_dropped: f64,
    /// `rx_errors` per second.
    #[serde(default)]
    pub rx_errors: f64,
    /// `tx_errors` per second.
    #[serde(default)]
    pub tx_errors: f64,
    /// `rx_over_errors` per second.
    pub rx_over: f64,
    /// `tx_dropped` per second.
    pub tx_dropped: f64,
    /// tx timeouts per second (sum over queues).
    pub tx_timeout: f64,
    /// rx utilization of the line rate (0.0..), when the line rate is known.
    pub rx_util: Option<f64>,
    /// tx utilization of the line rate.
    pub tx_util: Option<f64>,
}

/// A driver counter (or a class sum) as a rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassRate {
    /// Semantic class (`buffer_exhaustion`, `fifo_overflow`, `crc`, `pause`, ...), or `raw`.
    pub class: String,
    /// Driver counter name as `ethtool -S` prints it.
    pub counter: String,
    /// Per second over the last refresh period.
    pub rate: f64,
    /// Current counter value.
    pub total: u64,
}

/// One queue on screen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueView {
    /// "rx" or "tx".
    pub dir: String,
    /// Queue index.
    pub index: u32,
    /// Packets per second, if the driver counts per queue.
    pub pps: Option<f64>,
    /// Bits per second, if the driver counts per queue.
    pub bps: Option<f64>,
    /// Drops per second, if the driver counts per queue.
    pub drops: Option<f64>,
    /// `tx_timeout` total of the queue (sysfs), tx queues only.
    pub tx_timeout: Option<u64>,
    /// Why the rates of this queue are not known although the driver has counters for it
    /// (veth counts per queue only its NAPI/XDP path), if so.
    #[serde(rename = "n/a", default, skip_serializing_if = "Option::is_none")]
    pub na: Option<String>,
}

/// One chart point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RatePoint {
    /// ns on the sampler's clock.
    pub t_ns: u64,
    /// Received bits per second.
    pub rx_bps: f64,
    /// Transmitted bits per second.
    pub tx_bps: f64,
    /// All drop and error counters summed, per second.
    pub drops: f64,
}

/// A burst with its direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirBurst {
    /// "rx" or "tx".
    pub dir: String,
    /// The burst.
    #[serde(flatten)]
    pub burst: Burst,
    /// Duration estimated below one interval: the bytes of the burst and of the intervals
    /// around it over the rate inside it. `duration_ns` counts whole intervals, so its edges
    /// are only as fine as the sample interval; this estimate places them within a fraction
    /// of one.
    #[serde(default)]
    pub duration_est_ns: u64,
    /// The heaviest flows of the burst (eBPF source only), heaviest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_flows: Vec<super::sample::TopFlow>,
}

/// A temperature sensor of the NIC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TempView {
    /// Sensor label.
    pub label: String,
    /// Degrees Celsius.
    pub celsius: f64,
    /// Critical value, if the sensor has one.
    pub crit: Option<f64>,
}

/// A threshold crossed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// ns on the sampler's clock.
    pub t_ns: u64,
    /// Wall-clock time (Unix ms).
    pub wall_ms: u64,
    /// Interface (or "softnet").
    pub iface: String,
    /// What crossed (`rx_fifo_errors`, `tx_timeout`, `rx_crc_errors`, `temperature`, ...).
    pub metric: String,
    /// The value that crossed it (a rate per second, or degrees).
    pub value: f64,
    /// The threshold.
    pub limit: f64,
    /// One line for people.
    pub message: String,
}
