//! What the engine has accumulated since it started, as plain data: absolute counters, burst
//! counts and histograms that only grow. The exporter renders it; any number of readers,
//! scraping at any interval, compute the same increases from it (nothing resets when read).

use serde::Serialize;

use super::view::TempView;
use crate::model::{Counters, SoftnetStat};

/// Upper bounds (seconds) of the burst duration histogram: 100 us to 1 s.
pub const BURST_DURATION_BOUNDS_S: [f64; 13] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// Upper bounds of the per-sample utilization histogram (1.0 = line rate).
pub const UTILIZATION_BOUNDS: [f64; 9] = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0];

/// A cumulative histogram with fixed bounds (Prometheus semantics: bucket `i` counts the
/// observations `<= bounds[i]`, and the `+Inf` bucket is `count`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// Upper bounds, ascending.
    pub bounds: &'static [f64],
    /// Observations per bucket, not cumulative (`bounds.len() + 1` entries: the last is
    /// above every bound).
    pub counts: Vec<u64>,
    /// Sum of the observations.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

impl Histogram {
    /// An empty histogram with these bounds.
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    /// Adds one observation.
    pub fn observe(&mut self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += v;
        self.count += 1;
    }

    /// `(bound, cumulative count)` per bound, without `+Inf` (that is `count`).
    pub fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let mut acc = 0;
        self.bounds.iter().zip(&self.counts).map(move |(b, c)| {
            acc += c;
            (*b, acc)
        })
    }
}

/// Bursts of one direction of one interface, since the engine started.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurstTotals {
    /// Bursts ended.
    pub count: u64,
    /// Bytes carried in them.
    pub bytes: u64,
    /// Drops counted during them.
    pub drops: u64,
    /// Their estimated durations, seconds.
    pub duration: Histogram,
}

impl Default for BurstTotals {
    fn default() -> Self {
        Self {
            count: 0,
            bytes: 0,
            drops: 0,
            duration: Histogram::new(&BURST_DURATION_BOUNDS_S),
        }
    }
}

/// One queue's driver counters (absolute), where the driver has them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueTotals {
    /// "rx" or "tx".
    pub dir: &'static str,
    /// Queue index.
    pub index: u32,
    /// Packets.
    pub packets: Option<u64>,
    /// Bytes.
    pub bytes: Option<u64>,
    /// Drops.
    pub drops: Option<u64>,
    /// `tx_timeout` of the queue (sysfs), tx queues only.
    pub tx_timeouts: Option<u64>,
}

/// Driver counters of one class (and direction, where the table gives one), summed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassTotal {
    /// Class name (`crc`, `fifo_overflow`, `buffer_exhaustion`, `pause`, ...).
    pub class: &'static str,
    /// "rx", "tx", or `None` when the table gives no direction.
    pub dir: Option<&'static str>,
    /// Sum of the counters' values.
    pub total: u64,
}

/// One interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IfaceTotals {
    /// Name.
    pub name: String,
    /// Kernel index.
    pub ifindex: u32,
    /// Operational state is up.
    pub up: bool,
    /// Link speed, bits per second, when the link reports one.
    pub speed_bps: Option<u64>,
    /// Line rate used for utilization and bursts (speed or `--line-rate`).
    pub line_rate_bps: Option<u64>,
    /// MTU, once the slow reads saw it.
    pub mtu: Option<u32>,
    /// Carrier changes, once the slow reads saw them.
    pub carrier_changes: Option<u32>,
    /// The 64-bit interface counters as the kernel has them now.
    pub counters: Counters,
    /// Driver name.
    pub driver: Option<String>,
    /// Per-queue driver counters and tx timeouts, by direction then index.
    pub queues: Vec<QueueTotals>,
    /// Driver counters summed by class (`crc`, `pause`, ...) and direction, by class name.
    pub classes: Vec<ClassTotal>,
    /// Every driver counter by name (the exporter shows an allow-list of them).
    pub driver_counters: Vec<(String, u64)>,
    /// NIC temperatures.
    pub temps: Vec<TempView>,
    /// The pluggable module's temperature and per-lane optical power (slow reads).
    pub module: Option<crate::model::module::ModuleReading>,
    /// rx bursts.
    pub rx_bursts: BurstTotals,
    /// tx bursts.
    pub tx_bursts: BurstTotals,
    /// Utilization of every rx sample interval (when the line rate is known).
    pub rx_util: Histogram,
    /// Utilization of every tx sample interval.
    pub tx_util: Histogram,
    /// Times a counter went backwards and was re-based.
    pub counter_resets: u64,
    /// Pause frames and time by side and priority (driver pause classes).
    pub pause: Vec<super::pause::PauseTotal>,
    /// Where the per-priority pause frames come from (`dcbnl` or `ethtool`), if anywhere.
    pub pfc_source: Option<&'static str>,
    /// Classes (bands) of the root qdisc with the kernel's counters; empty when it has none.
    pub bands: Vec<super::bands::BandTotal>,
}

/// Everything accumulated, at the newest sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Time of the newest sample, ns on the sampler's clock.
    pub t_ns: u64,
    /// Wall-clock time of the newest sample (Unix ms).
    pub wall_ms: u64,
    /// Samples ingested.
    pub samples: u64,
    /// Sample deadlines the sampler missed.
    pub missed_deadlines: u64,
    /// Present interfaces that have counters, in ifindex order.
    pub ifaces: Vec<IfaceTotals>,
    /// Per-CPU softnet rows of the newest slow read that had them.
    pub softnet: Vec<SoftnetStat>,
    /// `Udp.RcvbufErrors`, when read.
    pub udp_rcvbuf_errors: Option<u64>,
    /// `Udp.SndbufErrors`, when read.
    pub udp_sndbuf_errors: Option<u64>,
    /// Alerts active now, as `(interface or "softnet", metric)`.
    pub active_alerts: Vec<(String, String)>,
    /// Alerts raised since the start, as `(interface or "softnet", metric, count)`.
    pub alerts_raised: Vec<(String, String, u64)>,
    /// Present RDMA ports with their hardware counters, by device then port.
    pub rdma: Vec<RdmaPortTotals>,
}

/// One RDMA port's hardware counters as the kernel has them now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RdmaPortTotals {
    /// Device name.
    pub device: String,
    /// Port number.
    pub port: u32,
    /// The netdev the port sits on (RoCE), if any.
    pub netdev: Option<String>,
    /// The class table of the device (driver, else the name's prefix).
    pub driver: String,
    /// Every counter: name, class (`None` when the table does not know it), value.
    pub counters: Vec<(String, Option<&'static str>, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let mut h = Histogram::new(&BURST_DURATION_BOUNDS_S);
        h.observe(0.0001); // on a bound: that bucket
        h.observe(0.0003);
        h.observe(2.0); // above every bound: only +Inf
        let c: Vec<(f64, u64)> = h.cumulative().collect();
        assert_eq!(c[0], (0.0001, 1));
        assert_eq!(c[1], (0.00025, 1));
        assert_eq!(c[2], (0.0005, 2));
        assert_eq!(c.last(), Some(&(1.0, 2)));
        assert_eq!(h.count, 3);
        assert!((h.sum - 2.0004).abs() < 1e-12);
    }
}
