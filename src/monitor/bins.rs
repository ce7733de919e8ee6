//! Time bins of the eBPF source turned into the sample stream of the counter sampler. Pure:
//! bins in, points (cumulative counters at chosen bin edges) out.
//!
//! The program counts every packet into a per-CPU bin of `width_ns` (10 us by default). The
//! [`Binner`] merges the CPUs' copies of a bin, then cuts time into the intervals the engine
//! will see, by emitting a point (cumulative counters of every interface) at some bin edges:
//!
//! - a *hot* bin (one whose bytes in some direction exceed the burst threshold at the
//!   interface's line rate: `cap` bytes) is an interval of its own, and so are the bin before
//!   it (the burst's lead) and the bin after it (its trail), which the engine's duration
//!   estimate reads;
//! - runs of *quiet* bins (and the empty time between bins) are merged into one interval:
//!   every bin of it is under the threshold, so the merged interval is too, and the engine
//!   finds exactly the bursts it would find in bins of `width_ns` while it sees a few points
//!   per drain instead of one per bin;
//! - each drain ends with a point at its horizon, so rates move on at idle.
//!
//! Without a line rate (no `--line-rate` and a link that reports no speed) nothing is hot,
//! as the engine then detects no bursts either.
//!
//! The flows of a hot bin (merged over CPUs, heaviest first) go with the point that closes
//! it; the engine sums them over the burst.

use std::collections::BTreeMap;

use crate::sys::bpf::{Dir, FlowKey, RawBin};

/// Flows with their bytes.
type Flows = Vec<(FlowKey, u64)>;

/// Flows kept per interval after merging CPUs.
pub const FLOWS_PER_BIN: usize = 8;

/// Cumulative counters of one interface as the bins count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cum {
    /// Received bytes.
    pub rx_bytes: u64,
    /// Received packets.
    pub rx_packets: u64,
    /// Sent bytes.
    pub tx_bytes: u64,
    /// Sent packets.
    pub tx_packets: u64,
}

/// One interface at a point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointIface {
    /// Interface index.
    pub ifindex: u32,
    /// Cumulative counters at the point.
    pub cum: Cum,
    /// Flows of the interval the point closes, when it is a hot bin: received.
    pub rx_flows: Vec<(FlowKey, u64)>,
    /// Same, sent.
    pub tx_flows: Vec<(FlowKey, u64)>,
}

/// Cumulative counters of every interface at a bin edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// The bin edge: time `edge * width_ns` on `CLOCK_MONOTONIC`.
    pub edge: u64,
    /// Every interface the binner knows, in ifindex order.
    pub ifaces: Vec<PointIface>,
}

#[derive(Debug, Clone, Default)]
struct DirBin {
    bytes: u64,
    packets: u64,
    flows: Vec<(FlowKey, u64)>,
}

impl DirBin {
    fn add(&mut self, b: &RawBin) {
        self.bytes += b.bytes;
        self.packets += b.packets;
        for (k, n) in &b.flows {
            match self.flows.iter_mut().find(|(x, _)| x == k) {
                Some(f) => f.1 += n,
                None => self.flows.push((*k, *n)),
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
struct IfBin {
    rx: DirBin,
    tx: DirBin,
}

#[derive(Debug, Clone, Default)]
struct IfState {
    cum: Cum,
    /// Bytes per bin above which a bin is hot; `None`: never hot.
    cap: Option<f64>,
}

/// Turns bins into points; see the module documentation.
#[derive(Debug, Clone)]
pub struct Binner {
    ifaces: BTreeMap<u32, IfState>,
    pending: BTreeMap<u64, BTreeMap<u32, IfBin>>,
    /// Bins before this one are emitted: a late bin is counted in the next interval.
    next_bin: u64,
    /// The last point's edge.
    last_edge: u64,
    /// Flows of the bin the next point closes (a hot bin).
    flows: BTreeMap<u32, (Flows, Flows)>,
    /// The edge of a burst's trail still to close.
    trail: Option<u64>,
}

fn top(mut flows: Vec<(FlowKey, u64)>) -> Vec<(FlowKey, u64)> {
    flows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    flows.truncate(FLOWS_PER_BIN);
    flows
}

impl Binner {
    /// A binner whose first interval starts at bin edge `start` (earlier bins are ignored).
    pub fn new(start: u64) -> Self {
        Self {
            ifaces: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_bin: start,
            last_edge: start,
            flows: BTreeMap::new(),
            trail: None,
        }
    }

    /// Adds an interface with its counters at the start (the kernel's totals, so the
    /// cumulative counters stay close to the interface's).
    pub fn add_iface(&mut self, ifindex: u32, base: Cum) {
        self.ifaces.entry(ifindex).or_default().cum = base;
    }

    /// Sets the bytes per bin above which a bin of `ifindex` is hot (`None`: never).
    pub fn set_cap(&mut self, ifindex: u32, cap: Option<f64>) {
        if let Some(s) = self.ifaces.get_mut(&ifindex) {
            s.cap = cap;
        }
    }

    /// Takes closed bins of any CPU, in any order.
    pub fn push(&mut self, bins: &[RawBin]) {
        for b in bins {
            if !self.ifaces.contains_key(&b.ifindex) {
                continue;
            }
            // A bin older than what is emitted already is counted in the next interval.
            let at = b.bin.max(self.next_bin);
            let ib = self
                .pending
                .entry(at)
                .or_default()
                .entry(b.ifindex)
                .or_default();
            match b.dir {
                Dir::Ingress => ib.rx.add(b),
                Dir::Egress => ib.tx.add(b),
            }
        }
    }

    fn hot(&self, bin: &BTreeMap<u32, IfBin>) -> bool {
        bin.iter().any(|(i, b)| {
            self.ifaces
                .get(i)
                .and_then(|s| s.cap)
                .is_some_and(|cap| b.rx.bytes as f64 > cap || b.tx.bytes as f64 > cap)
        })
    }

    fn point(&mut self, edge: u64, out: &mut Vec<Point>) {
        if edge <= self.last_edge {
            return;
        }
        self.last_edge = edge;
        let mut flows = std::mem::take(&mut self.flows);
        let ifaces = self
            .ifaces
            .iter()
            .map(|(i, s)| {
                let (rx, tx) = flows.remove(i).unwrap_or_default();
                PointIface {
                    ifindex: *i,
                    cum: s.cum,
                    rx_flows: rx,
                    tx_flows: tx,
                }
            })
            .collect();
        out.push(Point { edge, ifaces });
    }

    fn add(&mut self, bin: BTreeMap<u32, IfBin>, keep_flows: bool) {
        for (i, b) in bin {
            let Some(s) = self.ifaces.get_mut(&i) else {
                continue;
            };
            s.cum.rx_bytes += b.rx.bytes;
            s.cum.rx_packets += b.rx.packets;
            s.cum.tx_bytes += b.tx.bytes;
            s.cum.tx_packets += b.tx.packets;
            if keep_flows {
                self.flows.insert(i, (top(b.rx.flows), top(b.tx.flows)));
            }
        }
    }

    /// Emits the points of every bin before bin `horizon` (all of whose copies must have been
    /// pushed), ending with a point at `horizon`.
    pub fn emit(&mut self, horizon: u64) -> Vec<Point> {
        let mut out = Vec::new();
        let later = self.pending.split_off(&horizon.max(self.next_bin));
        let now = std::mem::replace(&mut self.pending, later);
        let hot: Vec<(u64, bool)> = now.iter().map(|(b, x)| (*b, self.hot(x))).collect();
        for (k, (b, bin)) in now.into_iter().enumerate() {
            let is_hot = hot[k].1;
            // Close a pending trail: the bin after a burst is an interval of its own.
            if let Some(t) = self.trail {
                if b > t {
                    self.point(t + 1, &mut out);
                    self.trail = None;
                }
            }
            let next_hot = hot.get(k + 1).is_some_and(|&(n, h)| h && n == b + 1);
            if is_hot {
                // The lead (the bin before) and the hot bin are intervals of their own.
                self.point(b.saturating_sub(1), &mut out);
                self.point(b, &mut out);
                self.add(bin, true);
                self.point(b + 1, &mut out);
                self.trail = Some(b + 1);
            } else {
                if next_hot {
                    self.point(b, &mut out);
                }
                self.add(bin, false);
                if self.trail == Some(b) || next_hot {
                    self.point(b + 1, &mut out);
                    self.trail = None;
                }
            }
            self.next_bin = b + 1;
        }
        if let Some(t) = self.trail {
            if t < horizon {
                self.point(t + 1, &mut out);
                self.trail = None;
            }
        }
        self.next_bin = self.next_bin.max(horizon);
        self.point(horizon, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::microburst::{BurstConfig, BurstDetector, Interval};
    use std::net::{IpAddr, Ipv4Addr};

    fn flow(port: u16) -> FlowKey {
        FlowKey {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            sport: port,
            dport: 9,
            proto: 17,
        }
    }

    fn raw(bin: u64, cpu: u32, dir: Dir, bytes: u64, port: u16) -> RawBin {
        RawBin {
            bin,
            ifindex: 3,
            dir,
            cpu,
            bytes,
            packets: bytes / 100,
            flows: vec![(flow(port), bytes)],
        }
    }

    /// The intervals between consecutive points (rx bytes).
    fn intervals(points: &[Point], start: u64) -> Vec<(u64, u64, u64)> {
        let mut prev = (start, 0u64);
        points
            .iter()
            .map(|p| {
                let c = p.ifaces[0].cum.rx_bytes;
                let iv = (prev.0, p.edge - prev.0, c - prev.1);
                prev = (p.edge, c);
                iv
            })
            .collect()
    }

    #[test]
    fn cpus_merge_and_quiet_time_is_one_interval() {
        let mut b = Binner::new(100);
        b.add_iface(3, Cum::default());
        b.set_cap(3, Some(1000.0));
        b.push(&[
            raw(105, 0, Dir::Ingress, 100, 1),
            raw(105, 1, Dir::Ingress, 200, 1),
            raw(150, 1, Dir::Egress, 50, 1),
        ]);
        let p = b.emit(200);
        // Nothing hot: one point at the horizon with everything counted.
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].edge, 200);
        let c = p[0].ifaces[0].cum;
        assert_eq!((c.rx_bytes, c.rx_packets, c.tx_bytes), (300, 3, 50));
        assert!(p[0].ifaces[0].rx_flows.is_empty());
        // The next drain goes on from there; a late bin lands in the next interval.
        b.push(&[raw(150, 0, Dir::Ingress, 7, 1)]);
        let p = b.emit(300);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].ifaces[0].cum.rx_bytes, 307);
    }

    #[test]
    fn hot_bins_are_intervals_of_their_own_with_lead_and_trail() {
        let mut b = Binner::new(0);
        b.add_iface(3, Cum::default());
        b.set_cap(3, Some(1000.0));
        b.push(&[
            raw(10, 0, Dir::Ingress, 10, 1),
            raw(40, 0, Dir::Ingress, 20, 1), // lead
            raw(41, 0, Dir::Ingress, 1500, 7),
            raw(41, 1, Dir::Ingress, 400, 8),
            raw(42, 1, Dir::Ingress, 3000, 7),
            raw(43, 0, Dir::Ingress, 30, 1), // trail
            raw(60, 0, Dir::Ingress, 5, 1),
        ]);
        let p = b.emit(100);
        let iv = intervals(&p, 0);
        assert_eq!(
            iv,
            vec![
                (0, 40, 10),
                (40, 1, 20),
                (41, 1, 1900),
                (42, 1, 3000),
                (43, 1, 30),
                (44, 56, 5),
            ]
        );
        // The hot bins carry their flows, merged over CPUs, heaviest first.
        let f41 = &p[2].ifaces[0].rx_flows;
        assert_eq!(f41, &vec![(flow(7), 1500), (flow(8), 400)]);
        assert_eq!(p[3].ifaces[0].rx_flows, vec![(flow(7), 3000)]);
        assert!(p[4].ifaces[0].rx_flows.is_empty());
    }

    #[test]
    fn an_empty_trail_and_a_burst_at_the_horizon_close_in_time() {
        let mut b = Binner::new(0);
        b.add_iface(3, Cum::default());
        b.set_cap(3, Some(1000.0));
        b.push(&[
            raw(20, 0, Dir::Ingress, 5000, 1),
            raw(99, 0, Dir::Egress, 5000, 2),
        ]);
        let p = b.emit(100);
        let edges: Vec<u64> = p.iter().map(|x| x.edge).collect();
        // lead 19..20, hot 20..21, empty trail 21..22; then 98..99 lead, 99..100 hot.
        assert_eq!(edges, vec![19, 20, 21, 22, 98, 99, 100]);
        assert_eq!(p[6].ifaces[0].tx_flows, vec![(flow(2), 5000)]);
    }

    #[test]
    fn the_engine_finds_the_same_bursts_in_points_as_in_bins() {
        // A random-ish pattern of bins; bursts found on every bin vs on the points.
        let cap = 1000.0;
        let cfg = BurstConfig {
            line_rate_bps: 8_000_000_000,
            threshold: 0.1,
        };
        // 8 Gbit/s over 10 us = 10_000 bytes per bin; 10% = 1000 bytes: `cap`.
        let width = 10_000u64;
        let mut seed = 12345u64;
        let mut bins = Vec::new();
        for n in 0..3000u64 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let r = (seed >> 33) % 100;
            let bytes = match r {
                0..=59 => 0,
                60..=89 => r * 10,
                _ => 1000 + r * 50,
            };
            if bytes > 0 {
                bins.push(raw(n, (r % 2) as u32, Dir::Ingress, bytes, 1));
            }
        }
        let mut all = BurstDetector::new(cfg);
        let mut want = Vec::new();
        let mut it = bins.iter().peekable();
        for n in 0..3000u64 {
            let bytes = match it.peek() {
                Some(b) if b.bin == n => it.next().map_or(0, |b| b.bytes),
                _ => 0,
            };
            let iv = Interval {
                start_ns: n * width,
                dur_ns: width,
                bytes,
                packets: 0,
                drops: None,
            };
            want.extend(all.push(&iv));
        }
        want.extend(all.finish());
        let mut b = Binner::new(0);
        b.add_iface(3, Cum::default());
        b.set_cap(3, Some(cap));
        let mut points = Vec::new();
        // Three drains with bins split across them.
        for h in [1000u64, 2000, 3000] {
            let part: Vec<RawBin> = bins
                .iter()
                .filter(|x| x.bin < h && x.bin + 1000 >= h)
                .cloned()
                .collect();
            b.push(&part);
            points.extend(b.emit(h));
        }
        assert!(points.len() < 3000, "quiet bins are merged");
        let mut det = BurstDetector::new(cfg);
        let mut got = Vec::new();
        for (s, d, bytes) in intervals(&points, 0) {
            got.extend(det.push(&Interval {
                start_ns: s * width,
                dur_ns: d * width,
                bytes,
                packets: 0,
                drops: None,
            }));
        }
        got.extend(det.finish());
        assert!(!want.is_empty());
        let key = |v: &[crate::monitor::Burst]| -> Vec<(u64, u64, u64)> {
            v.iter()
                .map(|x| (x.start_ns, x.duration_ns, x.bytes))
                .collect()
        };
        assert_eq!(key(&got), key(&want));
    }
}
