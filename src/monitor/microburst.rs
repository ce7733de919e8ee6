//! Microbursts: one definition shared by `dpuctl watch`/`stats` (counter samples) and
//! `dpuctl capture analyze` (time bins of a capture).
//!
//! Time is cut into intervals (a sample interval of the sampler, or a bin of a capture). The
//! utilization of an interval is the bits it carried over what the line could carry in that
//! time. A *burst* is a run of consecutive intervals whose utilization is above a threshold
//! (default 50%). Each burst has a start, a duration (the sum of its intervals), the bytes and
//! packets it carried, its peak utilization, and the drops counted during it, so that drops
//! can be tied to the bursts that caused them.
//!
//! The detector is streaming: push intervals in time order and it returns each burst as it
//! ends. A gap between two intervals (an interval that was not pushed, e.g. an empty capture
//! bin) ends a running burst.

use serde::{Deserialize, Serialize};

/// Default utilization threshold above which an interval is part of a burst.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// How intervals are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstConfig {
    /// Line rate in bits per second (link speed, or `--line-rate`). Must be > 0.
    pub line_rate_bps: u64,
    /// Utilization (0.0..=1.0 and beyond) an interval must exceed to be part of a burst.
    pub threshold: f64,
}

impl BurstConfig {
    /// A config with the default threshold.
    pub fn new(line_rate_bps: u64) -> Self {
        Self {
            line_rate_bps,
            threshold: DEFAULT_THRESHOLD,
        }
    }

    /// Utilization of `bytes` carried in `dur_ns` nanoseconds (0 when either is 0).
    pub fn utilization(&self, bytes: u64, dur_ns: u64) -> f64 {
        if dur_ns == 0 || self.line_rate_bps == 0 {
            return 0.0;
        }
        (bytes as f64 * 8.0 * 1e9) / (dur_ns as f64 * self.line_rate_bps as f64)
    }
}

/// One interval of time with what crossed the link in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Interval {
    /// Start, in nanoseconds on the source's clock.
    pub start_ns: u64,
    /// Length in nanoseconds.
    pub dur_ns: u64,
    /// Bytes carried.
    pub bytes: u64,
    /// Packets carried.
    pub packets: u64,
    /// Drops counted in the interval (any drop counters the caller ties to bursts); `None`
    /// when the source cannot see drops (a packet capture holds what arrived, not what the
    /// NIC dropped).
    pub drops: Option<u64>,
}

/// A microburst: a run of intervals above the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Burst {
    /// Start, in nanoseconds on the source's clock.
    pub start_ns: u64,
    /// Duration in nanoseconds (the sum of its intervals).
    pub duration_ns: u64,
    /// Bytes carried during the burst.
    pub bytes: u64,
    /// Packets carried during the burst.
    pub packets: u64,
    /// Highest utilization of one interval of the burst (1.0 = line rate).
    pub peak_util: f64,
    /// Mean utilization over the burst.
    pub mean_util: f64,
    /// Number of intervals.
    pub intervals: u32,
    /// Drops counted during the burst; `None` when the source cannot see drops.
    pub drops: Option<u64>,
}

/// Streaming burst detector.
#[derive(Debug, Clone)]
pub struct BurstDetector {
    cfg: BurstConfig,
    cur: Option<Burst>,
    /// End of the last pushed interval, to see gaps.
    last_end: Option<u64>,
}

impl BurstDetector {
    /// A detector with this config.
    pub fn new(cfg: BurstConfig) -> Self {
        Self {
            cfg,
            cur: None,
            last_end: None,
        }
    }

    /// The config.
    pub fn config(&self) -> &BurstConfig {
        &self.cfg
    }

    /// The burst running now, if any (not yet ended).
    pub fn running(&self) -> Option<&Burst> {
        self.cur.as_ref()
    }

    /// Pushes the next interval; returns a burst when this interval (or a gap before it)
    /// ends one. Intervals must come in time order; an interval that starts before the end
    /// of the previous one is treated as contiguous.
    pub fn push(&mut self, iv: &Interval) -> Option<Burst> {
        let mut ended = None;
        if let Some(end) = self.last_end {
            if iv.start_ns > end {
                ended = self.cur.take();
            }
        }
        self.last_end = Some(iv.start_ns.saturating_add(iv.dur_ns));
        let util = self.cfg.utilization(iv.bytes, iv.dur_ns);
        if util > self.cfg.threshold {
            let b = self.cur.get_or_insert(Burst {
                start_ns: iv.start_ns,
                duration_ns: 0,
                bytes: 0,
                packets: 0,
                peak_util: 0.0,
                mean_util: 0.0,
                intervals: 0,
                drops: iv.drops.map(|_| 0),
            });
            b.duration_ns += iv.dur_ns;
            b.bytes += iv.bytes;
            b.packets += iv.packets;
            b.drops = b.drops.zip(iv.drops).map(|(a, d)| a + d);
            b.intervals += 1;
            if util > b.peak_util {
                b.peak_util = util;
            }
            b.mean_util = self.cfg.utilization(b.bytes, b.duration_ns);
            ended
        } else {
            // An interval below the threshold ends a running burst; when a gap already ended
            // one, that one is returned and this interval cannot end another.
            ended.or_else(|| self.cur.take())
        }
    }

    /// Ends the input: returns the burst still running, if any.
    pub fn finish(&mut self) -> Option<Burst> {
        self.last_end = None;
        self.cur.take()
    }
}

/// All bursts of a series of intervals (in time order).
pub fn detect(intervals: &[Interval], cfg: BurstConfig) -> Vec<Burst> {
    let mut d = BurstDetector::new(cfg);
    let mut out: Vec<Burst> = intervals.iter().filter_map(|iv| d.push(iv)).collect();
    out.extend(d.finish());
    out
}

/// Upper bounds (exclusive, ns) of the duration histogram buckets; the last bucket is open.
pub const HISTOGRAM_BOUNDS_NS: [u64; 5] = [10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// Labels of the histogram buckets, one more than [`HISTOGRAM_BOUNDS_NS`].
pub const HISTOGRAM_LABELS: [&str; 6] = [
    "<10us", "10-100us", "0.1-1ms", "1-10ms", "10-100ms", ">=100ms",
];

/// Running summary of bursts: what the burst panel and the end of an analysis show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurstSummary {
    /// Number of bursts.
    pub count: u64,
    /// Longest duration in nanoseconds.
    pub longest_ns: u64,
    /// Highest peak utilization.
    pub peak_util: f64,
    /// Bytes carried in bursts.
    pub bytes: u64,
    /// Drops counted during bursts; `None` for a source that cannot see drops (see
    /// [`BurstSummary::without_drops`]), or once a burst without drops was added.
    pub drops: Option<u64>,
    /// Counts per duration bucket ([`HISTOGRAM_LABELS`]).
    pub histogram: [u64; 6],
}

/// An empty summary of a source that sees drops (interface counters): 0 drops so far.
impl Default for BurstSummary {
    fn default() -> Self {
        Self {
            count: 0,
            longest_ns: 0,
            peak_util: 0.0,
            bytes: 0,
            drops: Some(0),
            histogram: [0; 6],
        }
    }
}

impl BurstSummary {
    /// An empty summary of a source that cannot see drops (a packet capture).
    pub fn without_drops() -> Self {
        Self {
            drops: None,
            ..Self::default()
        }
    }

    /// Adds one burst.
    pub fn add(&mut self, b: &Burst) {
        self.count += 1;
        self.longest_ns = self.longest_ns.max(b.duration_ns);
        if b.peak_util > self.peak_util {
            self.peak_util = b.peak_util;
        }
        self.bytes += b.bytes;
        self.drops = self.drops.zip(b.drops).map(|(a, d)| a + d);
        let i = HISTOGRAM_BOUNDS_NS
            .iter()
            .position(|&ub| b.duration_ns < ub)
            .unwrap_or(HISTOGRAM_BOUNDS_NS.len());
        self.histogram[i] += 1;
    }

    /// The summary of these bursts, starting from `empty` ([`BurstSummary::default`], or
    /// [`BurstSummary::without_drops`]).
    pub fn of(empty: Self, bursts: &[Burst]) -> Self {
        let mut s = empty;
        for b in bursts {
            s.add(b);
        }
        s
    }
}

/// Formats a duration in ns the way burst output shows it ("850us", "12.4ms", "1.20s").
pub fn fmt_duration(ns: u64) -> String {
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        let us = ns as f64 / 1e3;
        if us < 100.0 {
            format!("{us:.1}us")
        } else {
            format!("{us:.0}us")
        }
    } else if ns < 1_000_000_000 {
        format!("{:.1}ms", ns as f64 / 1e6)
    } else {
        format!("{:.2}s", ns as f64 / 1e9)
    }
}

/// The table both `watch`/`stats` and `capture analyze` print for bursts. Start times are
/// shown as seconds after `origin_ns`. The drops column is left out when no burst has drops
/// (a capture cannot see them).
pub fn bursts_table(bursts: &[Burst], origin_ns: u64) -> comfy_table::Table {
    let drops = bursts.iter().any(|b| b.drops.is_some());
    // One token per cell, headers included, for awk.
    let mut head = vec!["start_s", "duration", "bytes", "packets", "peak", "mean"];
    if drops {
        head.push("drops");
    }
    let mut t = crate::output::table(&head);
    for b in bursts {
        let mut row = vec![
            format!("{:.6}", b.start_ns.saturating_sub(origin_ns) as f64 / 1e9),
            fmt_duration(b.duration_ns),
            b.bytes.to_string(),
            b.packets.to_string(),
            format!("{:.0}%", b.peak_util * 100.0),
            format!("{:.0}%", b.mean_util * 100.0),
        ];
        if drops {
            row.push(fmt_drops(b.drops));
        }
        t.add_row(row);
    }
    t
}

/// A drop count, or "n/a" when the source cannot see drops.
pub fn fmt_drops(drops: Option<u64>) -> String {
    drops.map_or_else(|| "n/a".to_string(), |d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1 Gbit/s line: 125 bytes per microsecond.
    const GBIT: u64 = 1_000_000_000;

    fn iv(i: u64, bytes: u64) -> Interval {
        Interval {
            start_ns: i * 1_000,
            dur_ns: 1_000,
            bytes,
            packets: bytes / 100,
            drops: Some(0),
        }
    }

    #[test]
    fn utilization_is_bits_over_line_capacity() {
        let c = BurstConfig::new(GBIT);
        assert!((c.utilization(125, 1_000) - 1.0).abs() < 1e-9);
        assert!((c.utilization(25, 1_000) - 0.2).abs() < 1e-9);
        assert!(c.utilization(10, 0).abs() < f64::EPSILON);
    }

    #[test]
    fn run_above_threshold_is_one_burst() {
        // 0.2, 0.8, 1.0, 0.6, 0.1, 0.9 -> bursts [1..4) and [5..6)
        let ivs: Vec<_> = [25, 100, 125, 75, 12, 112]
            .iter()
            .enumerate()
            .map(|(i, &b)| iv(i as u64, b))
            .collect();
        let bursts = detect(&ivs, BurstConfig::new(GBIT));
        assert_eq!(bursts.len(), 2);
        assert_eq!(bursts[0].start_ns, 1_000);
        assert_eq!(bursts[0].duration_ns, 3_000);
        assert_eq!(bursts[0].bytes, 300);
        assert_eq!(bursts[0].intervals, 3);
        assert!((bursts[0].peak_util - 1.0).abs() < 1e-9);
        assert!((bursts[0].mean_util - 0.8).abs() < 1e-9);
        assert_eq!(bursts[1].start_ns, 5_000);
        assert_eq!(bursts[1].duration_ns, 1_000);
    }

    #[test]
    fn exactly_at_threshold_is_not_a_burst() {
        let bursts = detect(&[iv(0, 62), iv(1, 63)], BurstConfig::new(GBIT));
        // 62 bytes = 49.6%, 63 bytes = 50.4%
        assert_eq!(bursts.len(), 1);
        assert_eq!(bursts[0].start_ns, 1_000);
        let at = BurstConfig {
            line_rate_bps: 8_000_000_000,
            threshold: 0.5,
        };
        // 500 bytes in 1us at 8 Gbit/s = exactly 50%.
        assert!(detect(&[iv(0, 500)], at).is_empty());
    }

    #[test]
    fn a_gap_ends_a_burst() {
        let ivs = [iv(0, 125), iv(1, 125), iv(3, 125)];
        let bursts = detect(&ivs, BurstConfig::new(GBIT));
        assert_eq!(bursts.len(), 2);
        assert_eq!(bursts[0].duration_ns, 2_000);
        assert_eq!(bursts[1].start_ns, 3_000);
    }

    #[test]
    fn a_gap_then_a_quiet_interval_reports_the_burst_once() {
        let mut d = BurstDetector::new(BurstConfig::new(GBIT));
        assert!(d.push(&iv(0, 125)).is_none());
        let ended = d.push(&iv(5, 0));
        assert_eq!(ended.map(|b| b.start_ns), Some(0));
        assert!(d.finish().is_none());
    }

    #[test]
    fn drops_during_a_burst_are_tied_to_it() {
        let mut ivs = vec![iv(0, 10), iv(1, 125), iv(2, 125), iv(3, 10)];
        ivs[0].drops = Some(4); // before the burst: not tied
        ivs[2].drops = Some(7);
        let bursts = detect(&ivs, BurstConfig::new(GBIT));
        assert_eq!(bursts.len(), 1);
        assert_eq!(bursts[0].drops, Some(7));
    }

    #[test]
    fn summary_buckets_durations() {
        let mk = |d| Burst {
            start_ns: 0,
            duration_ns: d,
            bytes: 10,
            packets: 1,
            peak_util: 0.7,
            mean_util: 0.6,
            intervals: 1,
            drops: Some(1),
        };
        let s = BurstSummary::of(
            BurstSummary::default(),
            &[mk(5_000), mk(50_000), mk(2_000_000), mk(200_000_000)],
        );
        assert_eq!(s.count, 4);
        assert_eq!(s.histogram, [1, 1, 0, 1, 0, 1]);
        assert_eq!(s.longest_ns, 200_000_000);
        assert_eq!(s.drops, Some(4));
    }

    #[test]
    fn durations_format_by_magnitude() {
        assert_eq!(fmt_duration(500), "500ns");
        assert_eq!(fmt_duration(12_340), "12.3us");
        assert_eq!(fmt_duration(850_000), "850us");
        assert_eq!(fmt_duration(12_400_000), "12.4ms");
        assert_eq!(fmt_duration(1_200_000_000), "1.20s");
    }

    proptest::proptest! {
        /// Bursts never overlap, lie inside the input, and cover exactly the intervals above
        /// the threshold.
        #[test]
        fn bursts_cover_exactly_the_hot_intervals(
            bytes in proptest::collection::vec(0u64..200, 0..200),
            gaps in proptest::collection::vec(0u64..3, 0..200),
        ) {
            let mut t = 0;
            let mut ivs = Vec::new();
            for (i, b) in bytes.iter().enumerate() {
                t += gaps.get(i).copied().unwrap_or(0) * 1_000;
                ivs.push(Interval { start_ns: t, dur_ns: 1_000, bytes: *b, packets: 1, drops: Some(0) });
                t += 1_000;
            }
            let cfg = BurstConfig::new(GBIT);
            let bursts = detect(&ivs, cfg);
            let hot: u64 = ivs.iter().filter(|v| cfg.utilization(v.bytes, v.dur_ns) > 0.5).map(|v| v.bytes).sum();
            proptest::prop_assert_eq!(bursts.iter().map(|b| b.bytes).sum::<u64>(), hot);
            for w in bursts.windows(2) {
                proptest::prop_assert!(w[0].start_ns + w[0].duration_ns < w[1].start_ns + 1);
            }
            for b in &bursts {
                proptest::prop_assert!(b.mean_util > 0.5 && b.peak_util >= b.mean_util - 1e-9);
            }
        }
    }
}
