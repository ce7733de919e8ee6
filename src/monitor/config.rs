//! Monitor settings: the value parsers of the shared command-line flags, the `--config FILE`
//! (thresholds and user counter-class tables), and the resolved settings of a run.
//!
//! Config file format (YAML; every key optional, unknown keys are errors):
//!
//! ```yaml
//! thresholds:              # per second; 0 = any; "off" disables a default
//!   rx_fifo_errors: 100
//!   rx_missed_errors: 1000
//!   buffer_exhaustion: 10  # a driver counter class, summed
//!   temperature_margin: 10 # degrees C below the sensor's critical value
//! counter_classes:         # same format as the built-in table
//!   mlx5_core:
//!     "rx{q}_cache_empty": rx buffer_exhaustion
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::classes::ClassTables;
use super::engine::EngineConfig;
use super::record::FlightConfig;
use super::sampler::SamplerConfig;
use super::thresholds::{Limit, Thresholds};
use crate::sys::SysRoot;

/// `dpuctl stats --help` after the options: examples, output fields, config file.
pub const STATS_HELP: &str = "Examples:
  dpuctl stats eth2                           rates every second, bursts as they end
  dpuctl stats eth2 --interval 250ms -c 40 -f jsonl
                                              ten seconds as JSON lines
  dpuctl stats veth0 --line-rate 10G --sample-interval 100us
  dpuctl stats eth2 --threshold rx_missed_errors=1000 --record /tmp/eth2.rec
  dpuctl stats --replay /tmp/eth2.rec -f jsonl

JSON lines (-f jsonl), one object per line, by \"type\":
  interval  t_ns, wall_ms, samples, missed_deadlines, softnet_dropped, softnet_squeezed (/s),
            sockets: {udp_rcvbuf_errors, udp_in_errors, tcp_backlog_drop, tcp_listen_drops,
            tcp_listen_overflows} (/s, the network namespace's; null until read twice),
            ifaces: [{name, ifindex, present, up, line_rate_bps, rx_bps, tx_bps, rx_pps,
            tx_pps, rx_missed, rx_fifo, rx_crc, rx_dropped, rx_over, rx_errors, tx_dropped,
            tx_errors, tx_timeout (/s), rx_util, tx_util (0..1), rx_bursts, tx_bursts (count
            so far), counter_resets, classes: [{class, counter, rate, total}] (driver
            counters by meaning), raw: [...] (unclassified driver counters that moved),
            queues: [{dir, index, pps, bps, drops, tx_timeout, \"n/a\" (why the rates
            are null: veth counts per queue only its NAPI/XDP path)}]}],
            rdma: [{device, port, netdev, driver, present, classes: [{class, rate, total}]
            (RDMA hw_counters by meaning: retransmits, timeouts, sequence_errors,
            out_of_buffer, cnp_sent, cnp_handled, ecn_marked), counters: [{class, counter,
            rate, total}] (class raw: unclassified, only those that moved)}] (absent without
            RDMA ports; read with the slow reads; tables print them as one line per port:
            rdma DEV/PORT netdev NAME CLASS/s RATE ...)
  burst     iface, dir, start_ns, duration_ns (whole sample intervals), duration_est_ns
            (to a fraction of an interval), bytes, packets, peak_util, mean_util, intervals,
            drops (drops counted during the burst)
  alert     iface, metric, value, limit, t_ns, wall_ms, message
Rates are per second over the interval; t_ns is on the sampler's monotonic clock.

Bursts: a burst is a run of sample intervals whose utilization (bits over what the line
could carry) is above --burst-threshold; utilization needs a line rate: the link speed, or
--line-rate where the link reports none (veth).

Alerts (defaults): rx_fifo_errors above 100/s, any tx_timeout, any rx_crc_errors, a NIC
temperature within 10 C of its critical value; judged over 1 s windows, raised when a
metric starts crossing. Socket-level drops alert only when asked (--threshold
udp_rcvbuf_errors=0: any). Change them with --threshold or a --config file:
  thresholds:
    rx_fifo_errors: 100       # per second; 0 = any; off = none
    buffer_exhaustion: 10     # a driver counter class, summed
    temperature_margin: 10
  counter_classes:            # extra ethtool -S names, same format as the built-in table
    mlx5_core:
      \"rx{q}_cache_empty\": rx buffer_exhaustion

Exit codes: 0 success, 2 error (bad input, missing interface, no privilege).";

/// Smallest `--sample-interval`.
pub const MIN_SAMPLE_INTERVAL: Duration = Duration::from_micros(100);

/// `--sample-interval`: a duration of at least 100us.
pub fn parse_sample_interval(text: &str) -> Result<Duration, String> {
    let d = crate::units::parse_duration(text)?;
    if d < MIN_SAMPLE_INTERVAL {
        return Err(format!(
            "sample interval {text} is below the minimum of 100us"
        ));
    }
    Ok(d)
}

/// `--bin-width`: a duration from 1us to 1ms.
pub fn parse_bin_width(text: &str) -> Result<Duration, String> {
    let d = crate::units::parse_duration(text)?;
    let ns = d.as_nanos() as u64;
    if !(crate::sys::bpf::MIN_WIDTH_NS..=crate::sys::bpf::MAX_WIDTH_NS).contains(&ns) {
        return Err(format!("bin width {text} is outside 1us..1ms"));
    }
    Ok(d)
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// The threshold section: metric names checked while parsing, so errors have a location.
#[derive(Debug, Default)]
struct ThresholdSection(Vec<(String, Limit)>);

impl<'de> Deserialize<'de> for ThresholdSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ThresholdSection;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of metric name to a limit per second (or \"off\")")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<ThresholdSection, A::Error> {
                let mut out = Vec::new();
                while let Some(MetricKey(k)) = m.next_key()? {
                    let v: LimitValue = m.next_value()?;
                    out.push((k, v.0));
                }
                Ok(ThresholdSection(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ThresholdSection, E> {
                Ok(ThresholdSection::default())
            }
        }
        d.deserialize_map(V)
    }
}

/// A threshold name, checked while parsing so that an error points at the key.
struct MetricKey(String);

impl<'de> Deserialize<'de> for MetricKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let k = String::deserialize(d)?;
        Thresholds::default()
            .set(&k, Limit::Off)
            .map_err(de::Error::custom)?;
        Ok(MetricKey(k))
    }
}

struct LimitValue(Limit);

impl<'de> Deserialize<'de> for LimitValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LimitValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number >= 0 or \"off\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LimitValue, E> {
                Ok(LimitValue(Limit::Above(v as f64)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LimitValue, E> {
                Limit::parse(&v.to_string())
                    .map(LimitValue)
                    .map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LimitValue, E> {
                Limit::parse(&v.to_string())
                    .map(LimitValue)
                    .map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LimitValue, E> {
                Limit::parse(v).map(LimitValue).map_err(E::custom)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<LimitValue, E> {
                // YAML 1.1 reads a bare `off` as false.
                if v {
                    Err(E::custom("expected a number >= 0 or \"off\", found true"))
                } else {
                    Ok(LimitValue(Limit::Off))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    thresholds: ThresholdSection,
    #[serde(default)]
    counter_classes: Option<ClassTables>,
}

/// What a config file holds.
#[derive(Debug, Default)]
pub struct FileConfig {
    /// Threshold settings in file order.
    pub thresholds: Vec<(String, Limit)>,
    /// User counter-class tables.
    pub classes: Option<ClassTables>,
}

/// Parses config text; `path` names it in errors.
pub fn parse_config(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    let raw: RawConfig = yaml_serde::from_str(text).map_err(|e| {
        let (mut line, mut column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let msg = e.to_string();
        let message = msg.replacen(&format!(" at line {line} column {column}"), "", 1);
        // The YAML parser places errors about a mapping key at the mapping; point at the key.
        if let Some(key) = message
            .split_once("unknown threshold metric \"")
            .and_then(|(_, r)| r.split_once('"'))
            .map(|(k, _)| k)
        {
            if let Some((l, c)) = locate_key(text, line, key) {
                (line, column) = (l, c);
            }
        }
        ConfigError {
            path: path.to_path_buf(),
            line,
            column,
            message: crate::input::shorten_quoted(&message),
        }
    })?;
    Ok(FileConfig {
        thresholds: raw.thresholds.0,
        classes: raw.counter_classes,
    })
}

/// Line and column (from 1) of `key:` at or after line `from`.
fn locate_key(text: &str, from: usize, key: &str) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find_map(|(i, l)| {
            let t = l.trim_start();
            let indent = l.len() - t.len();
            let t = t.trim_start_matches(['"', '\'']);
            t.strip_prefix(key)
                .filter(|r| {
                    r.trim_start_matches(['"', '\''])
                        .trim_start()
                        .starts_with(':')
                })
                .map(|_| (i + 1, indent + 1))
        })
}

/// Everything a monitoring run needs, resolved from the flags and the config file.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The engine's config.
    pub engine: EngineConfig,
    /// The sampler's config (interfaces empty: the command fills them).
    pub sampler: SamplerConfig,
    /// Screen refresh / view period.
    pub refresh: Duration,
    /// `--record FILE`.
    pub record: Option<PathBuf>,
}

/// Budget of the flight recorder, bytes.
pub const FLIGHT_MAX_BYTES: usize = 16 << 20;

/// What the user asked of a monitoring run (`watch`, `stats`), whatever the command line
/// spelled: the command layer fills it from its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorOptions {
    /// Counter sample interval.
    pub sample_interval: Duration,
    /// Screen refresh, and the period of the slower reads.
    pub refresh: Duration,
    /// Line rate in bit/s for utilization and bursts; `None`: the link speed.
    pub line_rate: Option<u64>,
    /// Utilization (0..1) above which a sample interval is part of a burst.
    pub burst_threshold: f64,
    /// A YAML file of thresholds and counter classes.
    pub config: Option<PathBuf>,
    /// Alert thresholds `METRIC=LIMIT`, applied after the config file.
    pub thresholds: Vec<String>,
    /// Write every sample to this file.
    pub record: Option<PathBuf>,
    /// Minutes the flight recorder keeps (0: off).
    pub history: u32,
    /// Where samples come from.
    pub source: super::bpf_source::Source,
    /// Bin width of the eBPF source.
    pub bin_width: Duration,
}

/// Resolves a monitoring run's options (reads the config file).
pub fn settings(args: &MonitorOptions, root: &SysRoot) -> anyhow::Result<Settings> {
    use anyhow::Context as _;
    let mut thresholds = Thresholds::default();
    let mut classes = ClassTables::builtin();
    if let Some(path) = &args.config {
        let text = crate::input::read_text(path, crate::input::MAX_CONFIG_BYTES, "configs")
            .with_context(|| format!("failed to read config {}", path.display()))?;
        let fc = parse_config(&text, path)?;
        for (name, limit) in fc.thresholds {
            thresholds
                .set(&name, limit)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        }
        if let Some(user) = fc.classes {
            classes.extend_with(user);
        }
    }
    for t in &args.thresholds {
        thresholds
            .apply_flag(t)
            .map_err(|e| anyhow::anyhow!("invalid --threshold: {e}"))?;
    }
    let refresh = args.refresh;
    let interval = args.sample_interval;
    let engine = EngineConfig {
        line_rate_bps: args.line_rate,
        burst_threshold: args.burst_threshold,
        thresholds,
        classes: Arc::new(classes),
        history_step_ns: refresh.as_nanos() as u64,
        flight: (args.history > 0).then(|| FlightConfig {
            span_ns: u64::from(args.history) * 60_000_000_000,
            max_bytes: FLIGHT_MAX_BYTES,
        }),
        ..EngineConfig::default()
    };
    let sampler = SamplerConfig {
        ifaces: Vec::new(),
        interval_ns: interval.as_nanos() as u64,
        slow_interval_ns: (refresh.as_nanos() as u64).max(interval.as_nanos() as u64),
        // Consumers need samples only at each refresh: each hand-over wakes the consumer
        // thread (a futex wake, an IPI), so batches go every fifth of the refresh (50 ms by
        // default), which keeps the channel short and the flight recorder current.
        batch_ns: (refresh.as_nanos() as u64 / 5).max(1_000_000),
        driver_stats: true,
        node_detail: false,
        root: root.clone(),
        source: args.source,
        bin_ns: args.bin_width.as_nanos() as u64,
        line_rate_bps: args.line_rate,
        burst_threshold: args.burst_threshold,
    };
    Ok(Settings {
        engine,
        sampler,
        refresh,
        record: args.record.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_widths_run_from_1us_to_1ms() {
        assert!(parse_bin_width("1us").is_ok());
        assert!(parse_bin_width("1ms").is_ok());
        assert!(parse_bin_width("10us").is_ok());
        assert!(parse_bin_width("999ns").is_err());
        assert!(parse_bin_width("2ms").is_err());
    }

    #[test]
    fn sample_intervals_start_at_100us() {
        assert!(parse_sample_interval("50us").is_err());
        assert!(parse_sample_interval("100us").is_ok());
        assert!(parse_sample_interval("1").is_err());
    }

    #[test]
    fn config_files_parse_and_errors_are_located() {
        let c = parse_config(
            "thresholds:\n  rx_fifo_errors: 5\n  rx_crc_errors: off\n  temperature_margin: 3.5\ncounter_classes:\n  mynic:\n    \"d{q}\": rx queue_drops\n",
            Path::new("c.yaml"),
        )
        .expect("valid");
        assert_eq!(c.thresholds.len(), 3);
        assert_eq!(c.thresholds[1], ("rx_crc_errors".into(), Limit::Off));
        assert!(c.classes.is_some());
        let e = parse_config(
            "thresholds:\n  rx_fifo_errors: 5\n  bogus: 1\n",
            Path::new("c.yaml"),
        )
        .expect_err("unknown metric");
        assert_eq!(
            (e.line, e.path.clone()),
            (3, PathBuf::from("c.yaml")),
            "{e}"
        );
        assert!(
            e.message.contains("unknown threshold metric \"bogus\""),
            "{e}"
        );
        let e = parse_config("thresholds:\n  rx_fifo_errors: -4\n", Path::new("c.yaml"))
            .expect_err("negative");
        assert_eq!(e.line, 2);
        let e = parse_config("thresold: {}\n", Path::new("c.yaml")).expect_err("typo");
        assert_eq!((e.line, e.column), (1, 1));
        assert!(
            e.to_string()
                .starts_with("c.yaml:1:1: unknown field `thresold`"),
            "{e}"
        );
        let e = parse_config(
            "counter_classes:\n  x:\n    \"a{q}\": queue_drops\n",
            Path::new("c.yaml"),
        )
        .expect_err("no dir");
        assert_eq!(e.line, 3);
    }
}
