//! Counter deltas that survive driver resets and 32-bit wraps, and the interface counters as
//! an indexed array (for thresholds by name and for compact recordings).

use crate::model::Counters;

/// Number of fields of [`Counters`].
pub const N_COUNTERS: usize = 24;

/// Field names of [`Counters`] in [`counters_array`] order (the `rtnl_link_stats64` order).
pub const COUNTER_NAMES: [&str; N_COUNTERS] = crate::model::COUNTER_NAMES;

/// Indexes into [`counters_array`] of the fields the engine uses by name.
#[allow(missing_docs)]
pub mod idx {
    pub const RX_PACKETS: usize = 0;
    pub const TX_PACKETS: usize = 1;
    pub const RX_BYTES: usize = 2;
    pub const TX_BYTES: usize = 3;
    pub const RX_DROPPED: usize = 6;
    pub const TX_DROPPED: usize = 7;
    pub const RX_OVER: usize = 11;
    pub const RX_CRC: usize = 12;
    pub const RX_FIFO: usize = 14;
    pub const RX_MISSED: usize = 15;
}

/// The counters as an array in `rtnl_link_stats64` order.
pub fn counters_array(c: &Counters) -> [u64; N_COUNTERS] {
    [
        c.rx_packets,
        c.tx_packets,
        c.rx_bytes,
        c.tx_bytes,
        c.rx_errors,
        c.tx_errors,
        c.rx_dropped,
        c.tx_dropped,
        c.multicast,
        c.collisions,
        c.rx_length_errors,
        c.rx_over_errors,
        c.rx_crc_errors,
        c.rx_frame_errors,
        c.rx_fifo_errors,
        c.rx_missed_errors,
        c.tx_aborted_errors,
        c.tx_carrier_errors,
        c.tx_fifo_errors,
        c.tx_heartbeat_errors,
        c.tx_window_errors,
        c.rx_compressed,
        c.tx_compressed,
        c.rx_nohandler,
    ]
}

/// The inverse of [`counters_array`].
pub fn counters_from_array(a: &[u64; N_COUNTERS]) -> Counters {
    Counters {
        rx_packets: a[0],
        tx_packets: a[1],
        rx_bytes: a[2],
        tx_bytes: a[3],
        rx_errors: a[4],
        tx_errors: a[5],
        rx_dropped: a[6],
        tx_dropped: a[7],
        multicast: a[8],
        collisions: a[9],
        rx_length_errors: a[10],
        rx_over_errors: a[11],
        rx_crc_errors: a[12],
        rx_frame_errors: a[13],
        rx_fifo_errors: a[14],
        rx_missed_errors: a[15],
        tx_aborted_errors: a[16],
        tx_carrier_errors: a[17],
        tx_fifo_errors: a[18],
        tx_heartbeat_errors: a[19],
        tx_window_errors: a[20],
        rx_compressed: a[21],
        tx_compressed: a[22],
        rx_nohandler: a[23],
    }
}

/// The index of a counter field by name.
pub fn counter_index(name: &str) -> Option<usize> {
    COUNTER_NAMES.iter().position(|n| *n == name)
}

/// How a counter moved between two reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It advanced by this much (a 32-bit wrap included).
    Delta(u64),
    /// It went backwards and is no 32-bit wrap: the driver reset its counters. What happened
    /// between the reads is unknown, so it counts as nothing (never as a huge rate).
    Reset,
}

impl Step {
    /// The advance, 0 for a reset.
    pub fn value(self) -> u64 {
        match self {
            Step::Delta(d) => d,
            Step::Reset => 0,
        }
    }
}

/// Smallest advance a 32-bit wrap may claim whatever the counter's recent pace.
const WRAP_FLOOR: u64 = 1 << 20;

/// The step of a counter from `prev` to `cur`; `recent` is its previous advance (0 if
/// unknown).
///
/// A counter that went backwards either wrapped or was reset. Drivers that keep 32-bit
/// hardware counters wrap at 2^32; a wrap is accepted when `prev` fits in 32 bits and the
/// advance it implies is plausible: at most four times the counter's previous advance (or
/// 2^20). Anything else is a reset (driver reload, `ethtool --reset`, device re-created),
/// which counts as nothing: a reset of a counter that happened to sit near 2^32 must not
/// show as a huge rate.
pub fn step(prev: u64, cur: u64, recent: u64) -> Step {
    if cur >= prev {
        return Step::Delta(cur - prev);
    }
    if u32::try_from(prev).is_ok() {
        let d = (cur + (1u64 << 32)) - prev;
        if d <= recent.saturating_mul(4).max(WRAP_FLOOR) {
            return Step::Delta(d);
        }
    }
    Step::Reset
}

/// Rates of a set of counters read now and then (driver counters, RDMA `hw_counters`): each
/// read's advance per counter ([`step`]: a wrap counted, a reset not) accumulates until a
/// view turns it into per-second rates.
#[derive(Debug, Default)]
pub struct CounterRates {
    /// Last values read, and when (ns).
    pub prev: Option<(u64, Vec<u64>)>,
    /// Previous advance of each counter (to tell a wrap from a reset).
    last_d: Vec<u64>,
    /// Advances since the previous view, over `acc_ns`.
    acc: Vec<u64>,
    acc_ns: u64,
    /// Rates of the previous view (kept when no read came since).
    pub rates: Vec<f64>,
}

impl CounterRates {
    /// Starts over for `n` counters (the set of names changed).
    pub fn reset(&mut self, n: usize) {
        self.prev = None;
        self.last_d = vec![0; n];
        self.acc = vec![0; n];
        self.acc_ns = 0;
        self.rates = vec![0.0; n];
    }

    /// How many counters there are.
    pub fn len(&self) -> usize {
        self.acc.len()
    }

    /// True before the first [`CounterRates::reset`].
    pub fn is_empty(&self) -> bool {
        self.acc.is_empty()
    }

    /// Takes `values` read at `t` (as many as [`CounterRates::len`]), calls `each(i, d)`
    /// with each counter's advance since the previous read, and returns the ns since it
    /// (`None` on the first read).
    pub fn advance(
        &mut self,
        t: u64,
        values: &[u64],
        mut each: impl FnMut(usize, u64),
    ) -> Option<u64> {
        let mut dt = None;
        if let Some((pt, prev)) = &self.prev {
            let ns = t.saturating_sub(*pt);
            self.acc_ns += ns;
            for (i, (p, c)) in prev.iter().zip(values).enumerate() {
                let d = step(*p, *c, self.last_d[i]).value();
                self.last_d[i] = d;
                self.acc[i] += d;
                each(i, d);
            }
            dt = Some(ns);
        }
        match &mut self.prev {
            Some((pt, v)) => {
                *pt = t;
                v.clear();
                v.extend_from_slice(values);
            }
            None => self.prev = Some((t, values.to_vec())),
        }
        dt
    }

    /// Turns the advances since the previous view into [`CounterRates::rates`]; false when
    /// no time passed since (the rates stay as they were).
    pub fn settle(&mut self) -> bool {
        if self.acc_ns == 0 {
            return false;
        }
        for (r, a) in self.rates.iter_mut().zip(&self.acc) {
            *r = *a as f64 * 1e9 / self.acc_ns as f64;
        }
        self.acc.iter_mut().for_each(|a| *a = 0);
        self.acc_ns = 0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_rates_accumulate_between_views_and_count_a_reset_as_nothing() {
        let mut c = CounterRates::default();
        c.reset(2);
        let mut seen = Vec::new();
        assert_eq!(c.advance(0, &[10, 100], |i, d| seen.push((i, d))), None);
        assert!(seen.is_empty());
        assert_eq!(
            c.advance(500_000_000, &[20, 50], |i, d| seen.push((i, d))),
            Some(500_000_000)
        );
        assert_eq!(
            seen,
            [(0, 10), (1, 0)],
            "the second counter went back: a reset"
        );
        c.advance(1_000_000_000, &[30, 60], |_, _| {});
        assert!(c.settle());
        assert_eq!(c.rates, [20.0, 10.0]);
        assert!(!c.settle(), "no read since the view");
        assert_eq!(c.rates, [20.0, 10.0]);
        c.reset(1);
        assert_eq!((c.len(), c.prev.is_none()), (1, true));
    }

    #[test]
    fn forward_is_a_delta() {
        assert_eq!(step(10, 25, 0), Step::Delta(15));
        assert_eq!(step(7, 7, 0), Step::Delta(0));
    }

    #[test]
    fn a_32_bit_wrap_counts_what_crossed() {
        assert_eq!(step(u64::from(u32::MAX) - 9, 5, 0), Step::Delta(15));
        // A fast counter: 100 MB per step, wrapping.
        let prev = u64::from(u32::MAX) - 60_000_000;
        assert_eq!(
            step(prev, 40_000_000, 100_000_000),
            Step::Delta(100_000_001)
        );
    }

    #[test]
    fn going_backwards_far_is_a_reset_not_a_huge_rate() {
        assert_eq!(step(5_000_000_000, 12, 1000), Step::Reset);
        // Near 2^32 but far more than the counter's pace: a reset, not a 1.3 G step.
        assert_eq!(step(3_000_000_000, 10, 1000), Step::Reset);
        assert_eq!(step(100, 3, 0).value(), 0);
    }

    #[test]
    fn arrays_round_trip_and_names_match_fields() {
        let mut a = [0u64; N_COUNTERS];
        for (i, v) in a.iter_mut().enumerate() {
            *v = i as u64 * 3 + 1;
        }
        let c = counters_from_array(&a);
        assert_eq!(counters_array(&c), a);
        let j = serde_json::to_value(c).expect("json");
        for (i, n) in COUNTER_NAMES.iter().enumerate() {
            assert_eq!(j[n].as_u64(), Some(a[i]), "{n}");
        }
        assert_eq!(counter_index("rx_fifo_errors"), Some(idx::RX_FIFO));
        assert_eq!(COUNTER_NAMES[idx::RX_MISSED], "rx_missed_errors");
        assert_eq!(COUNTER_NAMES[idx::RX_CRC], "rx_crc_errors");
        assert_eq!(COUNTER_NAMES[idx::RX_OVER], "rx_over_errors");
        assert_eq!(COUNTER_NAMES[idx::TX_DROPPED], "tx_dropped");
    }
}
