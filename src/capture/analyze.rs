//! The analysis of a packet stream: time bins, microbursts, inter-arrival statistics, flows
//! and TCP hints, all accumulated packet by packet in one pass with no allocation per packet
//! (the flow table grows only with new flows).
//!
//! Bytes are wire bytes as the capture records them (`origlen`: the frame without preamble,
//! inter-frame gap and usually without FCS), the same bytes the interface counters that
//! `dpuctl watch` reads count, so bursts mean the same thing in both.
//!
//! A capture taken on a host with GSO/TSO (or GRO on receive) holds super-frames of up to
//! 64 KiB that never crossed a wire as one frame: the NIC sends them as MTU-sized segments,
//! back to back at the line rate. Binned at their timestamp they would put 64 KiB into one
//! 10 us bin (over 500% of 10 Gb/s) and make bursts that cannot exist. A frame longer than
//! [`MAX_WIRE_FRAME`] is therefore spread over its serialization time at the line rate,
//! behind any earlier such frame still on the wire, and counted ([`GsoFrames`]).

use serde::Serialize;

use super::decode::{self, flags, FlowKey, TcpInfo};
use super::hash::FxHasher;
use super::reader::Packet;
use crate::monitor::microburst::{Burst, BurstConfig, BurstDetector, BurstSummary, Interval};

/// Default bin width: 10 microseconds.
pub const DEFAULT_RESOLUTION_NS: u64 = 10_000;

/// The longest frame a standard Ethernet link carries as one frame: MTU 1500 plus the
/// Ethernet header and one VLAN tag (`origlen` holds no FCS). Longer frames are GSO/TSO
/// super-frames of a host-side capture (or jumbo frames of a link with a larger MTU, which
/// also take their serialization time): their bytes are spread over it.
pub const MAX_WIRE_FRAME: u64 = 1518;

/// Columns of the rate chart.
pub const CHART_COLUMNS: usize = 88;

/// What to compute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Bin width in nanoseconds (> 0).
    pub resolution_ns: u64,
    /// Line rate and threshold for bursts.
    pub burst: BurstConfig,
    /// Flows listed in each top list.
    pub top: usize,
    /// Keep every non-empty bin (for `--bins` and tests; memory grows with the capture).
    pub keep_bins: bool,
}

/// Per-direction TCP sequence tracking.
#[derive(Debug, Clone, Copy, Default)]
struct TcpState {
    init: bool,
    /// End of the highest sequence range seen.
    next: u32,
    /// The newest hole (sequence range skipped by a segment that arrived ahead of it).
    hole: Option<(u32, u32)>,
}

/// `a` is after `b` in sequence space (RFC 1982 serial arithmetic).
#[inline]
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// TCP hint counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TcpHints {
    /// Segments whose sequence range had already been seen with payload.
    pub retransmissions: u64,
    /// Segments that filled a hole left by a later segment that arrived first.
    pub out_of_order: u64,
    /// Segments advertising a zero receive window (SYN/FIN/RST excluded).
    pub zero_windows: u64,
    /// Segments with RST.
    pub resets: u64,
    /// Segments carrying payload: what the other counts are a share of.
    pub data_segments: u64,
}

impl TcpHints {
    fn add(&mut self, o: &TcpHints) {
        self.retransmissions += o.retransmissions;
        self.out_of_order += o.out_of_order;
        self.zero_windows += o.zero_windows;
        self.resets += o.resets;
        self.data_segments += o.data_segments;
    }
}

impl TcpState {
    /// Classifies one segment (the heuristics follow Wireshark's tcp analysis, without its
    /// timing rules: a capture point may sit anywhere on the path).
    #[inline]
    fn segment(&mut self, t: &TcpInfo, h: &mut TcpHints) {
        if t.flags & flags::RST != 0 {
            h.resets += 1;
        }
        if t.payload > 0 {
            h.data_segments += 1;
        }
        if t.window == 0 && t.flags & (flags::SYN | flags::FIN | flags::RST) == 0 {
            h.zero_windows += 1;
        }
        let ctl = u32::from(t.flags & flags::SYN != 0) + u32::from(t.flags & flags::FIN != 0);
        let len = t.payload.wrapping_add(ctl);
        let end = t.seq.wrapping_add(len);
        if !self.init {
            self.init = true;
            self.next = end;
            return;
        }
        if len == 0 || t.flags & flags::RST != 0 {
            return;
        }
        if t.seq == self.next {
            self.next = end;
        } else if after(t.seq, self.next) {
            self.hole = Some((self.next, t.seq));
            self.next = end;
        } else {
            // Keep-alive: zero or one byte just below the next expected sequence number.
            if ctl == 0 && t.payload <= 1 && t.seq == self.next.wrapping_sub(1) {
                return;
            }
            if let Some((hs, he)) = self.hole {
                if !after(hs, t.seq) && after(he, t.seq) {
                    h.out_of_order += 1;
                    if t.seq == hs {
                        self.hole = if after(he, end) {
                            Some((end, he))
                        } else {
                            None
                        };
                    }
                    return;
                }
            }
            h.retransmissions += 1;
            if after(end, self.next) {
                self.next = end;
            }
        }
    }
}

#[inline]
fn hash_key(k: &FlowKey) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = FxHasher::default();
    k.hash(&mut h);
    h.finish()
}

/// Open-addressing index of the flow list: slots hold a flow's position + 1 (0 = empty),
/// probed linearly from the key's hash; the keys live in the flow list only. A general hash
/// map costs a third of the per-packet time here (it stores the key again and probes in
/// groups); this needs one slot read and one key compare in the common case.
#[derive(Debug)]
struct FlowIndex {
    slots: Vec<u32>,
    mask: usize,
    len: usize,
}

impl FlowIndex {
    fn new() -> Self {
        Self {
            slots: vec![0; 1024],
            mask: 1023,
            len: 0,
        }
    }

    #[inline]
    fn find(&self, h: u64, key: &FlowKey, flows: &[(FlowKey, FlowAcc)]) -> Option<u32> {
        let mut i = h as usize & self.mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if flows[s as usize - 1].0 == *key {
                return Some(s - 1);
            }
            i = (i + 1) & self.mask;
        }
    }

    fn place(&mut self, h: u64, idx: u32) {
        let mut i = h as usize & self.mask;
        while self.slots[i] != 0 {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = idx + 1;
    }

    /// Adds flow `idx` (already in `flows`); grows at half full so probes stay short.
    fn insert(&mut self, h: u64, idx: u32, flows: &[(FlowKey, FlowAcc)]) {
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            let cap = self.slots.len() * 2;
            self.slots = vec![0; cap];
            self.mask = cap - 1;
            for (j, (k, _)) in flows.iter().enumerate() {
                self.place(hash_key(k), j as u32);
            }
        } else {
            self.place(h, idx);
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct FlowAcc {
    packets: u64,
    bytes: u64,
    first_ns: u64,
    last_ns: u64,
    hints: TcpHints,
    tcp: TcpState,
}

/// One flow in the results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// `src:port > dst:port`, the address pair, or the ethertype.
    pub flow: String,
    /// Protocol name.
    pub proto: String,
    /// Source address (empty for non-IP).
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// Source port (0 when none).
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Packets.
    pub packets: u64,
    /// Wire bytes.
    pub bytes: u64,
    /// First packet, ns.
    pub first_ns: u64,
    /// Last packet, ns.
    pub last_ns: u64,
    /// TCP hints of this flow (all zero for non-TCP).
    pub tcp: TcpHints,
}

impl Flow {
    fn new(k: &FlowKey, a: &FlowAcc) -> Self {
        Self {
            flow: k.to_string(),
            proto: k.proto_name(),
            src: k.src_addr(),
            dst: k.dst_addr(),
            sport: k.sport,
            dport: k.dport,
            packets: a.packets,
            bytes: a.bytes,
            first_ns: a.first_ns,
            last_ns: a.last_ns,
            tcp: a.hints,
        }
    }
}

/// Log-linear histogram of inter-arrival times: exact below 256 ns, then 128 sub-buckets per
/// power of two (at most 0.8% below the true value).
#[derive(Debug, Clone)]
struct Histogram {
    counts: Box<[u64]>,
    n: u64,
    /// Sum of the gaps: at most the time the capture spans, so a u64 holds it.
    sum: u64,
    min: u64,
    max: u64,
}

const SUB: u32 = 7;
const BUCKETS: usize = ((64 - SUB as usize) << SUB) + (1 << SUB);

#[inline]
fn bucket(v: u64) -> usize {
    if v < (1 << (SUB + 1)) {
        return v as usize;
    }
    let e = v.ilog2();
    let m = (v >> (e - SUB)) & ((1 << SUB) - 1);
    (((e - SUB + 1) as usize) << SUB) + m as usize
}

fn bucket_low(i: usize) -> u64 {
    if i < (1 << (SUB + 1)) {
        return i as u64;
    }
    let e = (i >> SUB) as u32 + SUB - 1;
    let m = (i & ((1 << SUB) - 1)) as u64;
    ((1u64 << SUB) + m) << (e - SUB)
}

impl Histogram {
    fn new() -> Self {
        Self {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            n: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    #[inline]
    fn add(&mut self, v: u64) {
        self.counts[bucket(v)] += 1;
        self.n += 1;
        self.sum = self.sum.wrapping_add(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// The value at quantile `q` (lower bound of its bucket, clamped to min/max).
    fn quantile(&self, q: f64) -> u64 {
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return bucket_low(i).clamp(self.min, self.max);
            }
        }
        self.max
    }
}

/// Inter-arrival statistics in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InterArrival {
    /// Gaps measured (packets - 1, minus timestamps that went backwards).
    pub count: u64,
    /// Smallest gap.
    pub min: u64,
    /// Mean gap.
    pub mean: f64,
    /// Median (bucketed: within 0.8% below the true value, exact under 256 ns).
    pub p50: u64,
    /// 99th percentile (same precision).
    pub p99: u64,
    /// Largest gap.
    pub max: u64,
}

/// One column of the rate chart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChartColumn {
    /// Bytes in the column.
    pub bytes: u64,
    /// Bytes of the busiest bin in the column.
    pub peak_bin_bytes: u64,
    /// A bin of the column was above the burst threshold.
    pub burst: bool,
}

/// The rate over time in at most [`CHART_COLUMNS`] columns; a column covers a power-of-two
/// number of bins and doubles (merging neighbours) when the capture outgrows the chart, so
/// memory is constant whatever the length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chart {
    /// Bin index of the first column's start.
    pub origin_bin: u64,
    /// Bins per column.
    pub bins_per_column: u64,
    /// Columns, oldest first.
    pub columns: Vec<ChartColumn>,
}

impl Chart {
    fn new() -> Self {
        Self {
            origin_bin: 0,
            bins_per_column: 1,
            columns: Vec::with_capacity(CHART_COLUMNS),
        }
    }

    fn add(&mut self, bin: u64, bytes: u64, hot: bool) {
        if self.columns.is_empty() {
            self.origin_bin = bin;
        }
        let mut col = (bin - self.origin_bin) / self.bins_per_column;
        while col >= CHART_COLUMNS as u64 {
            let merged: Vec<ChartColumn> = self
                .columns
                .chunks(2)
                .map(|c| {
                    let mut m = c[0];
                    if let Some(b) = c.get(1) {
                        m.bytes += b.bytes;
                        m.peak_bin_bytes = m.peak_bin_bytes.max(b.peak_bin_bytes);
                        m.burst |= b.burst;
                    }
                    m
                })
                .collect();
            self.columns = merged;
            self.bins_per_column *= 2;
            col = (bin - self.origin_bin) / self.bins_per_column;
        }
        let col = col as usize;
        if self.columns.len() <= col {
            self.columns.resize(col + 1, ChartColumn::default());
        }
        let c = &mut self.columns[col];
        c.bytes += bytes;
        c.peak_bin_bytes = c.peak_bin_bytes.max(bytes);
        c.burst |= hot;
    }
}

/// Accumulates the analysis of one packet stream.
#[derive(Debug)]
pub struct Analyzer {
    opts: Options,
    packets: u64,
    bytes: u64,
    captured_bytes: u64,
    first_ns: u64,
    prev_ns: u64,
    last_ns: u64,
    reordered: u64,
    bin: u64,
    bin_start: u64,
    bin_end: u64,
    bin_bytes: u64,
    bin_packets: u64,
    nonempty_bins: u64,
    peak_bin: Option<(u64, u64)>,
    detector: BurstDetector,
    bursts: Vec<Burst>,
    bins: Vec<Bin>,
    gaps: Histogram,
    flows: Vec<(FlowKey, FlowAcc)>,
    index: FlowIndex,
    last_flow: Option<(FlowKey, u32)>,
    chart: Chart,
    gso: GsoFrames,
    /// When the last spread frame is done being serialized.
    wire_busy_until: u64,
    /// Bytes of spread frames still to be placed in later bins, with the time span they
    /// cover at the line rate (`start` at or after the current bin's end).
    spill: Option<Spill>,
}

/// Bytes of spread frames that fall after the current bin.
#[derive(Debug, Clone, Copy)]
struct Spill {
    start_ns: u64,
    end_ns: u64,
    bytes: u64,
}

/// Frames longer than [`MAX_WIRE_FRAME`]: GSO/TSO (or GRO) super-frames of a capture taken
/// on the host, spread over their serialization time at the line rate before binning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GsoFrames {
    /// How many.
    pub frames: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The longest one.
    pub largest: u64,
}

impl Analyzer {
    /// A new analysis.
    pub fn new(opts: Options) -> Self {
        assert!(opts.resolution_ns > 0, "resolution must be positive");
        Self {
            opts,
            packets: 0,
            bytes: 0,
            captured_bytes: 0,
            first_ns: 0,
            prev_ns: 0,
            last_ns: 0,
            reordered: 0,
            bin: 0,
            bin_start: 0,
            bin_end: 0,
            bin_bytes: 0,
            bin_packets: 0,
            nonempty_bins: 0,
            peak_bin: None,
            detector: BurstDetector::new(opts.burst),
            bursts: Vec::new(),
            bins: Vec::new(),
            gaps: Histogram::new(),
            flows: Vec::new(),
            index: FlowIndex::new(),
            last_flow: None,
            chart: Chart::new(),
            gso: GsoFrames::default(),
            wire_busy_until: 0,
            spill: None,
        }
    }

    /// Nanoseconds `bytes` take on the wire at the line rate (at least 1).
    fn serialization_ns(&self, bytes: u64) -> u64 {
        let rate = u128::from(self.opts.burst.line_rate_bps.max(1));
        let ns = (u128::from(bytes) * 8 * 1_000_000_000).div_ceil(rate);
        u64::try_from(ns).unwrap_or(u64::MAX).max(1)
    }

    /// Moves the part of the spill that falls in the current bin into it.
    fn take_spill(&mut self) {
        let Some(sp) = self.spill else {
            return;
        };
        if sp.start_ns >= self.bin_end {
            return;
        }
        if sp.end_ns <= self.bin_end {
            self.bin_bytes += sp.bytes;
            self.spill = None;
            return;
        }
        // The wire carries the line rate until the spill ends; the last bin gets the rest.
        let rate = u128::from(self.opts.burst.line_rate_bps.max(1));
        let here = (u128::from(self.bin_end - sp.start_ns) * rate + 4_000_000_000) / 8_000_000_000;
        let here = u64::try_from(here).unwrap_or(u64::MAX).min(sp.bytes);
        self.bin_bytes += here;
        self.spill = Some(Spill {
            start_ns: self.bin_end,
            end_ns: sp.end_ns,
            bytes: sp.bytes - here,
        });
    }

    /// Flushes the current bin, then every bin the spill covers before `ts` (whose bytes
    /// are all spilled ones), and opens the bin of `ts` with its share of the spill.
    fn advance_to(&mut self, ts: u64) {
        self.flush_bin();
        while let Some(sp) = self.spill {
            if sp.start_ns / self.opts.resolution_ns >= ts / self.opts.resolution_ns {
                break;
            }
            self.start_bin(sp.start_ns);
            self.take_spill();
            self.flush_bin();
        }
        self.start_bin(ts);
        self.take_spill();
    }

    /// Adds a frame longer than [`MAX_WIRE_FRAME`]: serialized from `ts` (or when the wire
    /// is free of the previous such frame) at the line rate, its bytes go to the bins that
    /// time covers.
    fn spread(&mut self, ts: u64, len: u64) {
        self.gso.frames += 1;
        self.gso.bytes += len;
        self.gso.largest = self.gso.largest.max(len);
        let start = ts.max(self.wire_busy_until).max(self.bin_start);
        let end = start.saturating_add(self.serialization_ns(len));
        self.wire_busy_until = end;
        self.spill = Some(match self.spill {
            // The wire is busy until the spill ends: this frame follows it.
            Some(sp) => Spill {
                start_ns: sp.start_ns,
                end_ns: end,
                bytes: sp.bytes + len,
            },
            None => Spill {
                start_ns: start,
                end_ns: end,
                bytes: len,
            },
        });
        self.take_spill();
    }

    /// Packets so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Wire bytes so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn start_bin(&mut self, ts: u64) {
        let res = self.opts.resolution_ns;
        self.bin = ts / res;
        self.bin_start = self.bin * res;
        self.bin_end = self.bin_start.saturating_add(res);
    }

    fn flush_bin(&mut self) {
        if self.bin_packets == 0 && self.bin_bytes == 0 {
            return;
        }
        let iv = Interval {
            start_ns: self.bin_start,
            dur_ns: self.opts.resolution_ns,
            bytes: self.bin_bytes,
            packets: self.bin_packets,
            // A capture holds what arrived: drops are not in it.
            drops: None,
        };
        self.nonempty_bins += 1;
        if self.peak_bin.is_none_or(|(_, b)| self.bin_bytes > b) {
            self.peak_bin = Some((self.bin_start, self.bin_bytes));
        }
        let hot = self.opts.burst.utilization(iv.bytes, iv.dur_ns) > self.opts.burst.threshold;
        self.chart.add(self.bin, self.bin_bytes, hot);
        if let Some(b) = self.detector.push(&iv) {
            self.bursts.push(b);
        }
        if self.opts.keep_bins {
            self.bins.push(Bin {
                start_ns: iv.start_ns,
                bytes: iv.bytes,
                packets: iv.packets,
            });
        }
        self.bin_bytes = 0;
        self.bin_packets = 0;
    }

    /// Adds one packet.
    #[inline]
    pub fn push(&mut self, p: &Packet<'_>) {
        let ts = p.ts_ns;
        let len = u64::from(p.origlen);
        if self.packets == 0 {
            self.first_ns = ts;
            self.prev_ns = ts;
            self.last_ns = ts;
            self.start_bin(ts);
        } else if ts >= self.prev_ns {
            self.gaps.add(ts - self.prev_ns);
            self.prev_ns = ts;
            self.last_ns = ts;
        } else {
            // A timestamp that goes backwards (several interfaces, or clock steps): counted,
            // and its bytes go to the current bin, which is already open.
            self.reordered += 1;
        }
        if ts >= self.bin_end {
            if self.spill.is_some() {
                self.advance_to(ts);
            } else {
                self.flush_bin();
                self.start_bin(ts);
            }
        }
        if len > MAX_WIRE_FRAME {
            self.spread(ts, len);
        } else {
            self.bin_bytes += len;
        }
        self.bin_packets += 1;
        self.packets += 1;
        self.bytes += len;
        self.captured_bytes += p.data.len() as u64;

        let (key, tcp) = decode::decode(p.linktype, p.data);
        let idx = match self.last_flow {
            // Packets come in trains of one flow; skip the hash lookup for those.
            Some((k, i)) if k == key => i as usize,
            _ => {
                let i = {
                    let h = hash_key(&key);
                    if let Some(i) = self.index.find(h, &key, &self.flows) {
                        i
                    } else {
                        let i = self.flows.len() as u32;
                        self.flows.push((
                            key,
                            FlowAcc {
                                first_ns: ts,
                                ..FlowAcc::default()
                            },
                        ));
                        self.index.insert(h, i, &self.flows);
                        i
                    }
                };
                self.last_flow = Some((key, i));
                i as usize
            }
        };
        let f = &mut self.flows[idx].1;
        f.packets += 1;
        f.bytes += len;
        f.last_ns = ts;
        if let Some(t) = tcp {
            f.tcp.segment(&t, &mut f.hints);
        }
    }

    /// Ends the stream and computes the results.
    pub fn finish(mut self) -> Analysis {
        if let Some(sp) = self.spill {
            // The bins up to the end of the last spread frame.
            self.advance_to(sp.end_ns.saturating_sub(1).max(self.bin_start));
        }
        self.flush_bin();
        if let Some(b) = self.detector.finish() {
            self.bursts.push(b);
        }
        let mut tcp = TcpHints::default();
        for (_, f) in &self.flows {
            tcp.add(&f.hints);
        }
        let top = |by: fn(&FlowAcc) -> (u64, u64)| -> Vec<Flow> {
            let mut v: Vec<&(FlowKey, FlowAcc)> = self.flows.iter().collect();
            // Ties broken by the other measure, then by first appearance (stable sort).
            v.sort_by_key(|(_, a)| std::cmp::Reverse(by(a)));
            v.iter()
                .take(self.opts.top)
                .map(|(k, a)| Flow::new(k, a))
                .collect()
        };
        let top_by_bytes = top(|a| (a.bytes, a.packets));
        let top_by_packets = top(|a| (a.packets, a.bytes));
        let duration_ns = self.last_ns.saturating_sub(self.first_ns);
        let inter_arrival = (self.gaps.n > 0).then(|| InterArrival {
            count: self.gaps.n,
            min: self.gaps.min,
            mean: self.gaps.sum as f64 / self.gaps.n as f64,
            p50: self.gaps.quantile(0.5),
            p99: self.gaps.quantile(0.99),
            max: self.gaps.max,
        });
        let res = self.opts.resolution_ns;
        Analysis {
            packets: self.packets,
            bytes: self.bytes,
            captured_bytes: self.captured_bytes,
            first_ns: self.first_ns,
            last_ns: self.last_ns,
            duration_ns,
            timestamps_backwards: self.reordered,
            resolution_ns: res,
            line_rate_bps: self.opts.burst.line_rate_bps,
            threshold: self.opts.burst.threshold,
            mean_bps: if duration_ns > 0 {
                self.bytes as f64 * 8e9 / duration_ns as f64
            } else {
                0.0
            },
            peak_bin: self.peak_bin.map(|(start_ns, bytes)| PeakBin {
                start_ns,
                bytes,
                bps: bytes as f64 * 8e9 / res as f64,
            }),
            nonempty_bins: self.nonempty_bins,
            burst_summary: BurstSummary::of(BurstSummary::without_drops(), &self.bursts),
            bursts: self.bursts,
            inter_arrival,
            flow_count: self.flows.len() as u64,
            top_by_bytes,
            top_by_packets,
            tcp,
            gso: self.gso,
            chart: self.chart,
            bins: self.opts.keep_bins.then_some(self.bins),
        }
    }
}

/// The busiest bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PeakBin {
    /// Start of the bin, ns.
    pub start_ns: u64,
    /// Bytes in it.
    pub bytes: u64,
    /// Its rate in bits per second.
    pub bps: f64,
}

/// Results of one analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Packets.
    pub packets: u64,
    /// Wire bytes (original lengths).
    pub bytes: u64,
    /// Captured bytes (after the snapshot length cut).
    pub captured_bytes: u64,
    /// First timestamp, ns since the epoch.
    pub first_ns: u64,
    /// Last timestamp.
    pub last_ns: u64,
    /// Last minus first.
    pub duration_ns: u64,
    /// Packets whose timestamp was earlier than the one before.
    pub timestamps_backwards: u64,
    /// Bin width, ns.
    pub resolution_ns: u64,
    /// Line rate used for utilization, bits/s.
    pub line_rate_bps: u64,
    /// Burst threshold (utilization).
    pub threshold: f64,
    /// Mean rate over the capture, bits/s.
    pub mean_bps: f64,
    /// The busiest bin.
    pub peak_bin: Option<PeakBin>,
    /// Bins with at least one packet.
    pub nonempty_bins: u64,
    /// Bursts in time order.
    pub bursts: Vec<Burst>,
    /// Burst summary (count, longest, duration histogram).
    pub burst_summary: BurstSummary,
    /// Inter-arrival statistics (none with fewer than two packets).
    pub inter_arrival: Option<InterArrival>,
    /// Distinct flows.
    pub flow_count: u64,
    /// Top flows by bytes.
    pub top_by_bytes: Vec<Flow>,
    /// Top flows by packets.
    pub top_by_packets: Vec<Flow>,
    /// TCP hints over all flows.
    pub tcp: TcpHints,
    /// Frames longer than a wire frame (GSO/TSO super-frames), spread over their
    /// serialization time at the line rate.
    pub gso: GsoFrames,
    /// Rate over time, for the chart.
    #[serde(skip)]
    pub chart: Chart,
    /// Every non-empty bin, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bins: Option<Vec<Bin>>,
}

/// A non-empty time bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bin {
    /// Start, ns since the epoch (a multiple of the resolution).
    pub start_ns: u64,
    /// Wire bytes.
    pub bytes: u64,
    /// Packets.
    pub packets: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_monotonic_and_tight() {
        let mut prev = 0;
        for v in (0..5000u64).chain([1 << 20, (1 << 20) + 12_345, u64::MAX]) {
            let b = bucket(v);
            assert!(b >= prev || v > 4999, "bucket of {v} went down");
            prev = b;
            let lo = bucket_low(b);
            assert!(lo <= v, "{v} below its bucket {lo}");
            assert!((v - lo) as f64 <= v as f64 / 128.0, "{v} vs {lo}");
        }
        assert!(bucket(u64::MAX) < BUCKETS);
    }

    fn seg(seq: u32, payload: u32, fl: u8) -> TcpInfo {
        TcpInfo {
            seq,
            flags: fl,
            window: 1000,
            payload,
        }
    }

    #[test]
    fn tcp_retransmission_out_of_order_and_keepalive() {
        let mut s = TcpState::default();
        let mut h = TcpHints::default();
        s.segment(&seg(100, 0, flags::SYN), &mut h); // next 101
        s.segment(&seg(101, 10, 0), &mut h); // in order, next 111
        s.segment(&seg(121, 10, 0), &mut h); // ahead: hole 111..121, next 131
        s.segment(&seg(111, 10, 0), &mut h); // fills the hole: out of order
        s.segment(&seg(101, 10, 0), &mut h); // seen: retransmission
        s.segment(&seg(130, 1, 0), &mut h); // keep-alive at next-1: nothing
        s.segment(&seg(131, 0, 0), &mut h); // pure ack: nothing
        assert_eq!(
            h,
            TcpHints {
                retransmissions: 1,
                out_of_order: 1,
                zero_windows: 0,
                resets: 0,
                data_segments: 5
            }
        );
        let mut z = seg(131, 0, flags::RST);
        z.window = 0;
        s.segment(&z, &mut h);
        assert_eq!(h.resets, 1);
        assert_eq!(h.zero_windows, 0, "RST with window 0 is not a zero window");
    }

    /// Many flows: the flow index grows several times and still finds every flow.
    #[test]
    fn thousands_of_flows_are_counted_apart() {
        let mut an = Analyzer::new(Options {
            resolution_ns: 10_000,
            burst: BurstConfig::new(1_000_000_000),
            top: 3,
            keep_bins: false,
        });
        let frame = |i: u32| {
            let mut f = vec![0u8; 42];
            f[12] = 0x08;
            f[14] = 0x45;
            f[16..18].copy_from_slice(&28u16.to_be_bytes());
            f[23] = 17;
            f[26..30].copy_from_slice(&i.to_be_bytes());
            f[30..34].copy_from_slice(&[10, 0, 0, 1]);
            f[34..36].copy_from_slice(&((i % 50_000) as u16 + 1).to_be_bytes());
            f[36..38].copy_from_slice(&9u16.to_be_bytes());
            f
        };
        for round in 0..3u64 {
            for i in 0..5_000u32 {
                let data = frame(i);
                an.push(&Packet {
                    ts_ns: round * 1_000_000 + u64::from(i) * 100,
                    origlen: 42 + i % 7,
                    data: &data,
                    linktype: 1,
                    iface: 0,
                });
            }
        }
        let a = an.finish();
        assert_eq!(a.flow_count, 5_000);
        assert_eq!(a.packets, 15_000);
        // The largest flows are those of origlen 42 + 6, three packets each.
        assert!(a
            .top_by_bytes
            .iter()
            .all(|f| f.packets == 3 && f.bytes == 3 * 48));
    }

    /// Two 64 KB super-frames handed over 5 us apart, then a small frame while the wire is
    /// still busy with them: the second waits for the first, every byte lands in a bin, no
    /// bin holds more than the line rate carries (the small frame aside), and both are counted.
    #[test]
    fn gso_frames_queue_on_the_wire_and_keep_every_byte() {
        let mut an = Analyzer::new(Options {
            resolution_ns: 10_000,
            burst: BurstConfig::new(10_000_000_000),
            top: 0,
            keep_bins: true,
        });
        let big = vec![0u8; 65_000];
        let small = vec![0u8; 60];
        for (ts, data) in [(3_000, &big), (8_000, &big), (40_000, &small)] {
            an.push(&Packet {
                ts_ns: ts,
                origlen: data.len() as u32,
                data,
                linktype: 1,
                iface: 0,
            });
        }
        let a = an.finish();
        assert_eq!(a.gso.frames, 2);
        assert_eq!(a.gso.largest, 65_000);
        let bins = a.bins.expect("bins");
        let total: u64 = bins.iter().map(|b| b.bytes).sum();
        assert_eq!(total, 130_060);
        // 10 Gb/s carries 12500 B per 10 us bin; the small frame adds its 60 B to one.
        assert!(bins.iter().all(|b| b.bytes <= 12_560), "{bins:?}");
        // 130000 B take 104 us from 3 us: the last spread byte is in the bin at 100 us.
        assert_eq!(bins.last().expect("a bin").start_ns, 100_000);
        assert_eq!(bins.iter().map(|b| b.packets).sum::<u64>(), 3);
    }

    #[test]
    fn sequence_wraparound_is_in_order() {
        let mut s = TcpState::default();
        let mut h = TcpHints::default();
        s.segment(&seg(u32::MAX - 4, 10, 0), &mut h);
        s.segment(&seg(5, 10, 0), &mut h);
        s.segment(&seg(15, 10, 0), &mut h);
        assert_eq!(
            h,
            TcpHints {
                data_segments: 3,
                ..TcpHints::default()
            }
        );
    }
}
