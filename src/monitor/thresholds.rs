//! Thresholds: which rates (and temperatures) raise an alert.
//!
//! A rate threshold is "metric per second above LIMIT"; a limit of 0 means "any". Metrics are
//! the interface counter names (`rx_fifo_errors`, `rx_crc_errors`, ...), `tx_timeout`,
//! `softnet_dropped`, `softnet_time_squeeze`, the socket-level drops of the network namespace
//! (`udp_rcvbuf_errors`, `udp_in_errors`, `tcp_backlog_drop`, `tcp_listen_drops`,
//! `tcp_listen_overflows`), and the driver counter classes
//! (`buffer_exhaustion`, `fifo_overflow`, `crc`, `pause`, `queue_drops`). Temperatures alert
//! when within `temperature_margin` degrees of the sensor's critical value. `pause_share` is
//! not a rate but a fraction of the link (0.1 = 10%): it alerts when pause (any side, any
//! priority) took more of a window than that while no drop counter moved (see
//! [`super::pause`]).

use std::fmt;

use super::classes::{Class, ALL_CLASSES};
use super::rate::{counter_index, COUNTER_NAMES};
use super::sample::SocketTotals;

/// What a rate threshold watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// An interface counter, by index into [`COUNTER_NAMES`].
    Counter(usize),
    /// Transmit timeouts (sum over the interface's queues).
    TxTimeout,
    /// Softnet backlog drops (all CPUs).
    SoftnetDropped,
    /// Softnet time squeezes (all CPUs).
    SoftnetSqueeze,
    /// Driver counters of a class, summed.
    Class(Class),
    /// A socket-level drop counter of the network namespace, by index into
    /// [`SocketTotals::NAMES`].
    Socket(usize),
    /// The share of the link spent paused while nothing dropped (a fraction, not a rate).
    PauseShare,
}

impl Metric {
    /// The metric with this name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "tx_timeout" => Some(Metric::TxTimeout),
            "softnet_dropped" => Some(Metric::SoftnetDropped),
            "softnet_time_squeeze" => Some(Metric::SoftnetSqueeze),
            "pause_share" => Some(Metric::PauseShare),
            _ => counter_index(name)
                .map(Metric::Counter)
                .or_else(|| {
                    SocketTotals::NAMES
                        .iter()
                        .position(|n| *n == name)
                        .map(Metric::Socket)
                })
                .or_else(|| Class::parse(name).map(Metric::Class)),
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Counter(i) => COUNTER_NAMES[i],
            Metric::TxTimeout => "tx_timeout",
            Metric::SoftnetDropped => "softnet_dropped",
            Metric::SoftnetSqueeze => "softnet_time_squeeze",
            Metric::Class(c) => c.name(),
            Metric::Socket(i) => SocketTotals::NAMES[i],
            Metric::PauseShare => "pause_share",
        }
    }

    /// True for the node-wide metrics (not per interface).
    pub fn is_node(self) -> bool {
        matches!(
            self,
            Metric::SoftnetDropped | Metric::SoftnetSqueeze | Metric::Socket(_)
        )
    }

    /// Every metric name, for error messages and help.
    pub fn all_names() -> Vec<&'static str> {
        let mut v: Vec<&'static str> = COUNTER_NAMES.to_vec();
        v.extend(["tx_timeout", "softnet_dropped", "softnet_time_squeeze"]);
        v.extend(SocketTotals::NAMES);
        v.extend(ALL_CLASSES.iter().map(|c| c.name()));
        v.push("pause_share");
        v
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// "metric per second above limit".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateRule {
    /// What is watched.
    pub metric: Metric,
    /// Per second; the alert fires when the rate is above it (0: any).
    pub limit: f64,
}

/// The thresholds in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Rate rules, at most one per metric.
    pub rates: Vec<RateRule>,
    /// Alert when a temperature is within this many degrees of its critical value.
    pub temp_margin_c: Option<f64>,
}

/// Default `pause_share` limit: pause took more than 10% of the link.
pub const DEFAULT_PAUSE_SHARE: f64 = 0.1;

/// Default temperature margin, degrees C below critical.
pub const DEFAULT_TEMP_MARGIN_C: f64 = 10.0;

impl Default for Thresholds {
    /// `rx_fifo_errors` above 100/s, any `tx_timeout`, any `rx_crc_errors`, pause above 10%
    /// of the link with no drops, and temperatures within 10 C of critical.
    fn default() -> Self {
        let rule = |name: &str, limit| RateRule {
            metric: Metric::parse(name).expect("known metric"),
            limit,
        };
        Self {
            rates: vec![
                rule("rx_fifo_errors", 100.0),
                rule("tx_timeout", 0.0),
                rule("rx_crc_errors", 0.0),
                rule("pause_share", DEFAULT_PAUSE_SHARE),
            ],
            temp_margin_c: Some(DEFAULT_TEMP_MARGIN_C),
        }
    }
}

/// A threshold setting as written in a config file or on the command line: a limit, or off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// Alert above this.
    Above(f64),
    /// No alert for this metric.
    Off,
}

impl Limit {
    /// Parses `off` or a non-negative number.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t == "off" {
            return Ok(Limit::Off);
        }
        match t.parse::<f64>() {
            Ok(v) if v >= 0.0 && v.is_finite() => Ok(Limit::Above(v)),
            _ => Err(format!(
                "invalid limit \"{text}\": expected a number >= 0 (per second) or \"off\""
            )),
        }
    }
}

impl Thresholds {
    /// Sets (or with [`Limit::Off`] removes) a threshold by name. `temperature_margin` sets
    /// the temperature margin.
    pub fn set(&mut self, name: &str, limit: Limit) -> Result<(), String> {
        if name == "temperature_margin" {
            self.temp_margin_c = match limit {
                Limit::Above(v) => Some(v),
                Limit::Off => None,
            };
            return Ok(());
        }
        let metric = Metric::parse(name).ok_or_else(|| {
            format!(
                "unknown threshold metric \"{name}\" (known: temperature_margin, {})",
                Metric::all_names().join(", ")
            )
        })?;
        self.rates.retain(|r| r.metric != metric);
        if let Limit::Above(limit) = limit {
            self.rates.push(RateRule { metric, limit });
        }
        Ok(())
    }

    /// Parses `METRIC=LIMIT` (command line) and applies it.
    pub fn apply_flag(&mut self, flag: &str) -> Result<(), String> {
        let (name, value) = flag
            .split_once('=')
            .ok_or_else(|| format!("invalid threshold \"{flag}\": expected METRIC=LIMIT"))?;
        self.set(name.trim(), Limit::parse(value)?)
    }

    /// The rule of a metric.
    pub fn rule(&self, metric: Metric) -> Option<&RateRule> {
        self.rates.iter().find(|r| r.metric == metric)
    }
}

/// True when a rate crosses a rule.
pub fn crosses(rule: &RateRule, rate: f64) -> bool {
    rate > rule.limit
}

/// True when a temperature is within `margin` degrees of `crit`.
pub fn too_hot(celsius: f64, crit: Option<f64>, margin: Option<f64>) -> bool {
    match (crit, margin) {
        (Some(c), Some(m)) => celsius >= c - m,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let t = Thresholds::default();
        let fifo = t
            .rule(Metric::parse("rx_fifo_errors").expect("m"))
            .expect("rule");
        assert!(!crosses(fifo, 100.0));
        assert!(crosses(fifo, 100.5));
        let crc = t
            .rule(Metric::parse("rx_crc_errors").expect("m"))
            .expect("rule");
        assert!(crosses(crc, 0.1));
        assert!(!crosses(crc, 0.0));
        assert!(t.rule(Metric::TxTimeout).is_some());
        assert!(too_hot(95.0, Some(105.0), t.temp_margin_c));
        assert!(!too_hot(94.9, Some(105.0), t.temp_margin_c));
        assert!(!too_hot(200.0, None, t.temp_margin_c));
    }

    #[test]
    fn flags_override_add_and_disable() {
        let mut t = Thresholds::default();
        t.apply_flag("rx_fifo_errors=5").expect("set");
        assert_eq!(t.rule(Metric::Counter(14)).map(|r| r.limit), Some(5.0));
        t.apply_flag("rx_crc_errors=off").expect("off");
        assert!(t.rule(Metric::Counter(12)).is_none());
        t.apply_flag("buffer_exhaustion=10").expect("class");
        assert!(t.rule(Metric::Class(Class::BufferExhaustion)).is_some());
        t.apply_flag("temperature_margin=off").expect("temp");
        assert_eq!(t.temp_margin_c, None);
        assert!(t.apply_flag("nonsense=1").is_err());
        assert!(t.apply_flag("rx_fifo_errors=-1").is_err());
        assert!(t.apply_flag("rx_fifo_errors").is_err());
    }

    #[test]
    fn every_metric_name_round_trips() {
        for n in Metric::all_names() {
            assert_eq!(Metric::parse(n).map(Metric::name), Some(n));
        }
    }
}
