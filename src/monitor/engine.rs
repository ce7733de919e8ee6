//! The monitor engine: samples in, a [`View`] out. Pure: no I/O, no clock of its own (time is
//! the samples' `t_ns`), so scenario tests drive it with recorded or written samples.
//!
//! [`Engine::ingest`] runs for every sample (cheap: per-interval deltas, the rx and tx burst
//! detectors of every interface, the alert windows, the chart history and the flight
//! recorder); [`Engine::view`] turns what accumulated since the previous view into rates.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::bands::{BandState, PfcState, PFC_COUNTER, PFC_SOURCE_DCB, PFC_SOURCE_ETHTOOL};
use super::classes::{classify_in, Class, ClassMatch, ClassTables, ALL_CLASSES};
use super::microburst::{Burst, BurstConfig, BurstDetector, BurstSummary, Interval};
use super::pause::{self, PauseAcc, PauseKey, PauseTotal, PauseView};
use super::rate::{counters_array, idx, step, CounterRates, Step, N_COUNTERS};
use super::record::{FlightConfig, FlightRecorder};
use super::sample::{
    merge_flows, top_flows, CounterNames, IfaceFlows, IfaceSample, NodeSlow, Sample, SlowIface,
    SocketTotals, SoftnetTotals, TopFlow,
};
use super::thresholds::{crosses, too_hot, Metric, Thresholds};
use super::totals::{
    BurstTotals, ClassTotal, Histogram, IfaceTotals, QueueTotals, Totals, UTILIZATION_BOUNDS,
};
use super::view::{
    Alert, ClassRate, DirBurst, IfaceRates, IfaceView, QueueView, RatePoint, SocketRates, TempView,
    View,
};
use crate::model::{Dir, Temperature};

/// How the engine judges and keeps what it sees.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Line rate for utilization and bursts when set (`--line-rate`); otherwise the link
    /// speed of each interface. Without either an interface gets no burst detection.
    pub line_rate_bps: Option<u64>,
    /// Utilization above which a sample interval is part of a burst (0.5 = 50%).
    pub burst_threshold: f64,
    /// Alert thresholds.
    pub thresholds: Thresholds,
    /// Driver counter class tables.
    pub classes: Arc<ClassTables>,
    /// Rates are judged against the thresholds over windows this long (ns).
    pub alert_window_ns: u64,
    /// One chart point per this many ns.
    pub history_step_ns: u64,
    /// Chart points kept per interface.
    pub history_points: usize,
    /// Alerts kept.
    pub max_alerts: usize,
    /// Recent bursts kept per interface.
    pub max_recent_bursts: usize,
    /// The flight recorder (last minutes of samples), if wanted.
    pub flight: Option<FlightConfig>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            line_rate_bps: None,
            burst_threshold: super::microburst::DEFAULT_THRESHOLD,
            thresholds: Thresholds::default(),
            classes: Arc::new(ClassTables::builtin()),
            alert_window_ns: 1_000_000_000,
            history_step_ns: 250_000_000,
            history_points: 240,
            max_alerts: 200,
            max_recent_bursts: 64,
            flight: None,
        }
    }
}

/// Counter deltas accumulated over some span of time.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    d: [u64; N_COUNTERS],
    ns: u64,
}

impl Acc {
    fn add(&mut self, d: &[u64; N_COUNTERS], ns: u64) {
        for (a, x) in self.d.iter_mut().zip(d) {
            *a = a.wrapping_add(*x);
        }
        self.ns += ns;
    }

    fn rate(&self, i: usize) -> f64 {
        per_sec(self.d[i], self.ns)
    }
}

fn per_sec(v: u64, ns: u64) -> f64 {
    if ns == 0 {
        0.0
    } else {
        v as f64 * 1e9 / ns as f64
    }
}

/// Driver-private counters of one interface.
#[derive(Debug, Default)]
struct DriverState {
    names: Option<CounterNames>,
    /// Class of each counter (same order as `names`).
    classes: Vec<Option<ClassMatch>>,
    /// Values, advances and rates (kept when no slow sample came since).
    c: CounterRates,
}

#[derive(Debug)]
struct IfState {
    ifindex: u32,
    name: Arc<str>,
    present: bool,
    /// Number of the last sample that carried the interface (to see it vanish).
    seen: u64,
    up: bool,
    speed_mbps: Option<u64>,
    prev: Option<(u64, [u64; N_COUNTERS])>,
    /// Previous advance of each counter (to tell a wrap from a reset).
    last_d: [u64; N_COUNTERS],
    view: Acc,
    window: Acc,
    window_txto: u64,
    window_class: [u64; ALL_CLASSES.len()],
    hist: Acc,
    history: VecDeque<RatePoint>,
    rates: IfaceRates,
    rx: Option<DirDetector>,
    tx: Option<DirDetector>,
    detector_rate: Option<u64>,
    rx_summary: BurstSummary,
    tx_summary: BurstSummary,
    recent: VecDeque<DirBurst>,
    ended: Vec<DirBurst>,
    resets: u64,
    driver_name: Option<String>,
    driver_na: Option<String>,
    driver: DriverState,
    txto_prev: Vec<(u32, u64)>,
    txto_view: u64,
    temps: Vec<Temperature>,
    /// The module's last reading (slow reads, every few rounds).
    module: Option<crate::model::module::ModuleReading>,
    /// Metrics alerting now (an alert fires when a metric starts crossing, not every window).
    active: Vec<&'static str>,
    mtu: Option<u32>,
    carrier_changes: Option<u32>,
    /// Cumulative burst totals (never reset by a view).
    rx_tot: BurstTotals,
    tx_tot: BurstTotals,
    /// Utilization of every sample interval.
    rx_util: Histogram,
    tx_util: Histogram,
    /// Flows of the running rx and tx bursts (eBPF source).
    rx_flows: Vec<TopFlow>,
    tx_flows: Vec<TopFlow>,
    /// Pause by side and priority since the last `pause_share` judgement, over this many ns
    /// of driver reads, and the drops counted meanwhile.
    window_pause: BTreeMap<PauseKey, PauseAcc>,
    window_pause_ns: u64,
    window_pause_drops: u64,
    /// Pause since the previous view, over this many ns of driver reads.
    view_pause: BTreeMap<PauseKey, PauseAcc>,
    view_pause_ns: u64,
    /// Pause of the previous view (kept when no slow sample came since).
    pause_views: Vec<PauseView>,
    /// Classes (bands) of the root qdisc.
    bands: BandState,
    /// PFC counters of dcbnl; while they come, per-priority pause frames come from them
    /// and the `ethtool -S` per-priority pause frame counters are left out.
    pfc: PfcState,
}

impl IfState {
    fn new(s: &IfaceSample) -> Self {
        Self {
            seen: 0,
            ifindex: s.ifindex,
            name: s.name.clone(),
            present: true,
            up: s.up,
            speed_mbps: s.speed_mbps,
            prev: None,
            last_d: [0; N_COUNTERS],
            view: Acc::default(),
            window: Acc::default(),
            window_txto: 0,
            window_class: [0; ALL_CLASSES.len()],
            hist: Acc::default(),
            history: VecDeque::new(),
            rates: IfaceRates::default(),
            rx: None,
            tx: None,
            detector_rate: None,
            rx_summary: BurstSummary::default(),
            tx_summary: BurstSummary::default(),
            recent: VecDeque::new(),
            ended: Vec::new(),
            resets: 0,
            driver_name: None,
            driver_na: None,
            driver: DriverState::default(),
            txto_prev: Vec::new(),
            txto_view: 0,
            temps: Vec::new(),
            module: None,
            active: Vec::new(),
            mtu: None,
            carrier_changes: None,
            rx_tot: BurstTotals::default(),
            tx_tot: BurstTotals::default(),
            rx_util: Histogram::new(&UTILIZATION_BOUNDS),
            tx_util: Histogram::new(&UTILIZATION_BOUNDS),
            rx_flows: Vec::new(),
            tx_flows: Vec::new(),
            window_pause: BTreeMap::new(),
            window_pause_ns: 0,
            window_pause_drops: 0,
            view_pause: BTreeMap::new(),
            view_pause_ns: 0,
            pause_views: Vec::new(),
            bands: BandState::default(),
            pfc: PfcState::default(),
        }
    }
}

/// Node-wide softnet state.
#[derive(Debug, Default)]
struct SoftnetState {
    prev: Option<(u64, SoftnetTotals)>,
    view: (u64, u64, u64),
    window: (u64, u64, u64),
    rates: (f64, f64),
    active: Vec<&'static str>,
}

/// Node-wide socket-level drops.
#[derive(Debug, Default)]
struct SocketState {
    prev: Option<(u64, SocketTotals)>,
    /// Deltas and ns since the last view.
    view: ([u64; SocketTotals::N], u64),
    /// Deltas and ns of the alert window.
    window: ([u64; SocketTotals::N], u64),
    /// Rates of the last view; `None` until two reads were seen.
    rates: Option<SocketRates>,
    active: Vec<&'static str>,
}

/// Samples in, views out.
#[derive(Debug)]
pub struct Engine {
    cfg: EngineConfig,
    ifaces: Vec<IfState>,
    softnet: SoftnetState,
    sockets: SocketState,
    t_ns: u64,
    wall_ms: u64,
    alerts: VecDeque<Alert>,
    new_alerts: Vec<Alert>,
    samples: u64,
    missed: u64,
    flight: Option<FlightRecorder>,
    /// The newest node-wide detail of the slow reads.
    node: Option<NodeSlow>,
    /// Alerts raised so far per (interface, metric).
    raised: Vec<(String, String, u64)>,
    /// RDMA ports and their hardware counters.
    rdma: super::rdma_rates::RdmaRates,
}

impl Engine {
    /// An engine with this config.
    pub fn new(cfg: EngineConfig) -> Self {
        let flight = cfg.flight.map(FlightRecorder::new);
        Self {
            cfg,
            ifaces: Vec::new(),
            softnet: SoftnetState::default(),
            sockets: SocketState::default(),
            t_ns: 0,
            wall_ms: 0,
            alerts: VecDeque::new(),
            new_alerts: Vec::new(),
            samples: 0,
            missed: 0,
            flight,
            node: None,
            raised: Vec::new(),
            rdma: super::rdma_rates::RdmaRates::default(),
        }
    }

    /// The config.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Counts sample deadlines the sampler reported missed (shown in the view).
    pub fn note_missed(&mut self, n: u64) {
        self.missed += n;
    }

    /// The flight recorder, when configured.
    pub fn flight_recorder(&self) -> Option<&FlightRecorder> {
        self.flight.as_ref()
    }

    /// Forgets bursts, alerts, history and interfaces that vanished; keeps the counter
    /// baselines of present interfaces so rates continue without a jump.
    pub fn reset(&mut self) {
        self.ifaces.retain(|i| i.present);
        for i in &mut self.ifaces {
            let fresh = IfState {
                prev: i.prev,
                driver_name: i.driver_name.take(),
                driver_na: i.driver_na.take(),
                driver: std::mem::take(&mut i.driver),
                txto_prev: std::mem::take(&mut i.txto_prev),
                temps: std::mem::take(&mut i.temps),
                module: i.module.take(),
                bands: std::mem::take(&mut i.bands),
                pfc: std::mem::take(&mut i.pfc),
                name: i.name.clone(),
                ifindex: i.ifindex,
                up: i.up,
                speed_mbps: i.speed_mbps,
                ..IfState::new_empty()
            };
            *i = fresh;
        }
        self.alerts.clear();
        self.new_alerts.clear();
        self.softnet.active.clear();
        self.sockets.active.clear();
        self.rdma.reset();
        self.samples = 0;
        self.missed = 0;
    }

    /// Takes one sample (in time order; an out-of-order sample is ignored).
    pub fn ingest(&mut self, s: &Sample) {
        if self.samples > 0 && s.t_ns < self.t_ns {
            return;
        }
        self.samples += 1;
        self.t_ns = s.t_ns;
        self.wall_ms = s.wall_ms;
        if let Some(f) = &mut self.flight {
            f.push(s);
        }
        for is in &s.ifaces {
            let pos = match self.ifaces.binary_search_by_key(&is.ifindex, |x| x.ifindex) {
                Ok(p) => p,
                Err(p) => {
                    self.ifaces.insert(p, IfState::new(is));
                    p
                }
            };
            let st = &mut self.ifaces[pos];
            st.seen = self.samples;
            let flows = s.flows.iter().find(|f| f.ifindex == is.ifindex);
            ingest_iface(&self.cfg, st, is, s.t_ns, flows);
            if let Some(slow) = &is.slow {
                ingest_slow(&self.cfg, st, slow, s.t_ns);
            }
            let mut raised = Vec::new();
            check_window(&self.cfg, st, s, &mut raised);
            if let Some(slow) = &is.slow {
                check_temps(&self.cfg, st, slow, s, &mut raised);
                if slow.module.is_some() {
                    check_module(st, s, &mut raised);
                }
            }
            for a in raised {
                self.push_alert(a);
            }
        }
        // Interfaces that vanished (not in this sample): end their bursts, drop the baseline.
        for st in &mut self.ifaces {
            if st.present && st.seen != self.samples {
                st.present = false;
                st.prev = None;
                st.driver.c.prev = None;
                st.bands = BandState::default();
                st.pfc = PfcState::default();
                finish_bursts(st, self.cfg.max_recent_bursts);
            }
        }
        if let Some(sn) = s.softnet {
            self.ingest_softnet(sn, s);
        }
        if let Some(n) = &s.node {
            self.node = Some((**n).clone());
        }
        if let Some(so) = s.sockets {
            self.ingest_sockets(so, s);
        }
        self.rdma.ingest(s);
    }

    fn ingest_sockets(&mut self, so: SocketTotals, s: &Sample) {
        let st = &mut self.sockets;
        let Some((pt, prev)) = st.prev.replace((s.t_ns, so)) else {
            return;
        };
        let ns = s.t_ns.saturating_sub(pt);
        let (old, new) = (prev.to_array(), so.to_array());
        for k in 0..SocketTotals::N {
            // A counter that went backwards (a namespace re-created under the same reader)
            // is re-based, not counted.
            let d = step(old[k], new[k], 0).value();
            st.view.0[k] += d;
            st.window.0[k] += d;
        }
        st.view.1 += ns;
        st.window.1 += ns;
        if st.window.1 < self.cfg.alert_window_ns {
            return;
        }
        let (wd, wns) = std::mem::take(&mut st.window);
        let mut raised = Vec::new();
        for (k, v) in wd.iter().enumerate() {
            let metric = Metric::Socket(k);
            let Some(rule) = self.cfg.thresholds.rule(metric) else {
                continue;
            };
            let rate = per_sec(*v, wns);
            if edge(&mut st.active, metric.name(), crosses(rule, rate)) {
                raised.push(Alert {
                    t_ns: s.t_ns,
                    wall_ms: s.wall_ms,
                    iface: "sockets".into(),
                    metric: metric.name().into(),
                    value: rate,
                    limit: rule.limit,
                    message: format!(
                        "sockets: {} at {}/s (limit {}/s)",
                        metric.name(),
                        fmt_rate(rate),
                        fmt_rate(rule.limit)
                    ),
                });
            }
        }
        for a in raised {
            self.push_alert(a);
        }
    }

    fn push_alert(&mut self, a: Alert) {
        match self
            .raised
            .iter_mut()
            .find(|(i, m, _)| *i == a.iface && *m == a.metric)
        {
            Some(r) => r.2 += 1,
            None => self.raised.push((a.iface.clone(), a.metric.clone(), 1)),
        }
        self.new_alerts.push(a.clone());
        self.alerts.push_back(a);
        while self.alerts.len() > self.cfg.max_alerts {
            self.alerts.pop_front();
        }
    }

    fn ingest_softnet(&mut self, sn: SoftnetTotals, s: &Sample) {
        let st = &mut self.softnet;
        let Some((pt, prev)) = st.prev.replace((s.t_ns, sn)) else {
            return;
        };
        let ns = s.t_ns.saturating_sub(pt);
        let dd = step(prev.dropped, sn.dropped, 0).value();
        let dq = step(prev.time_squeeze, sn.time_squeeze, 0).value();
        st.view = (st.view.0 + dd, st.view.1 + dq, st.view.2 + ns);
        st.window = (st.window.0 + dd, st.window.1 + dq, st.window.2 + ns);
        if st.window.2 < self.cfg.alert_window_ns {
            return;
        }
        let (wd, wq, wns) = std::mem::take(&mut st.window);
        let mut raised = Vec::new();
        for (metric, v) in [(Metric::SoftnetDropped, wd), (Metric::SoftnetSqueeze, wq)] {
            let Some(rule) = self.cfg.thresholds.rule(metric) else {
                continue;
            };
            let rate = per_sec(v, wns);
            if edge(&mut st.active, metric.name(), crosses(rule, rate)) {
                raised.push(Alert {
                    t_ns: s.t_ns,
                    wall_ms: s.wall_ms,
                    iface: "softnet".into(),
                    metric: metric.name().into(),
                    value: rate,
                    limit: rule.limit,
                    message: format!(
                        "softnet: {} at {}/s (limit {}/s)",
                        metric.name(),
                        fmt_rate(rate),
                        fmt_rate(rule.limit)
                    ),
                });
            }
        }
        for a in raised {
            self.push_alert(a);
        }
    }

    /// Rates over the period since the previous view, and everything else the screens show.
    pub fn view(&mut self) -> View {
        let mut ifaces = Vec::with_capacity(self.ifaces.len());
        for st in &mut self.ifaces {
            ifaces.push(iface_view(&self.cfg, st));
        }
        let sn = &mut self.softnet;
        if sn.view.2 > 0 {
            sn.rates = (per_sec(sn.view.0, sn.view.2), per_sec(sn.view.1, sn.view.2));
            sn.view = (0, 0, 0);
        }
        let so = &mut self.sockets;
        if so.view.1 > 0 {
            let (d, ns) = std::mem::take(&mut so.view);
            let r = d.map(|v| per_sec(v, ns));
            so.rates = Some(SocketRates {
                udp_rcvbuf_errors: r[0],
                udp_in_errors: r[1],
                tcp_backlog_drop: r[2],
                tcp_listen_drops: r[3],
                tcp_listen_overflows: r[4],
            });
        }
        View {
            t_ns: self.t_ns,
            wall_ms: self.wall_ms,
            ifaces,
            softnet_dropped: sn.rates.0,
            softnet_squeezed: sn.rates.1,
            sockets: so.rates,
            alerts: self.alerts.iter().cloned().collect(),
            new_alerts: std::mem::take(&mut self.new_alerts),
            samples: self.samples,
            missed_deadlines: self.missed,
            flight_span_ns: self.flight.as_ref().map_or(0, FlightRecorder::span_ns),
            rdma: self.rdma.view(),
        }
    }

    /// What accumulated since the engine started: absolute counters, burst counts and
    /// histograms. Reading it changes nothing (unlike [`Engine::view`]), so any number of
    /// readers at any interval see the same monotonic series.
    pub fn totals(&self) -> Totals {
        let ifaces = self
            .ifaces
            .iter()
            .filter(|st| st.present)
            .filter_map(|st| iface_totals(&self.cfg, st))
            .collect();
        let mut active_alerts = Vec::new();
        for st in self.ifaces.iter().filter(|st| st.present) {
            for m in &st.active {
                active_alerts.push((st.name.to_string(), (*m).to_string()));
            }
        }
        for m in &self.softnet.active {
            active_alerts.push(("softnet".to_string(), (*m).to_string()));
        }
        let node = self.node.as_ref();
        Totals {
            t_ns: self.t_ns,
            wall_ms: self.wall_ms,
            samples: self.samples,
            missed_deadlines: self.missed,
            ifaces,
            softnet: node.map(|n| n.softnet.clone()).unwrap_or_default(),
            udp_rcvbuf_errors: node.and_then(|n| n.udp_rcvbuf_errors),
            udp_sndbuf_errors: node.and_then(|n| n.udp_sndbuf_errors),
            active_alerts,
            alerts_raised: self.raised.clone(),
            rdma: self.rdma.totals(),
        }
    }

    /// Ends the input: bursts still running are closed (they show in the next view).
    pub fn finish(&mut self) {
        let max = self.cfg.max_recent_bursts;
        for st in &mut self.ifaces {
            finish_bursts(st, max);
        }
    }
}

impl IfState {
    fn new_empty() -> Self {
        Self::new(&IfaceSample {
            ifindex: 0,
            name: Arc::from(""),
            up: false,
            speed_mbps: None,
            counters: crate::model::Counters::default(),
            slow: None,
        })
    }
}

/// Marks a metric active or not; true when it just became active.
fn edge(active: &mut Vec<&'static str>, metric: &'static str, crossing: bool) -> bool {
    let was = active.contains(&metric);
    if crossing && !was {
        active.push(metric);
        true
    } else {
        if !crossing && was {
            active.retain(|m| *m != metric);
        }
        false
    }
}

fn fmt_rate(v: f64) -> String {
    if v.fract().abs() < 1e-9 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn line_rate(cfg: &EngineConfig, st: &IfState) -> Option<u64> {
    cfg.line_rate_bps
        .or(st.speed_mbps.map(|m| m.saturating_mul(1_000_000)))
        .filter(|r| *r > 0)
}

/// A burst detector with what it takes to estimate a burst's duration below one interval.
#[derive(Debug)]
struct DirDetector {
    det: BurstDetector,
    /// The interval pushed last.
    prev: Option<Interval>,
    /// The interval right before the running burst (below the threshold).
    lead: Option<Interval>,
    /// First and last interval of the running burst.
    first: Option<Interval>,
    last: Option<Interval>,
}

fn contiguous(a: &Interval, b: &Interval) -> bool {
    a.start_ns + a.dur_ns >= b.start_ns
}

impl DirDetector {
    fn new(cfg: BurstConfig) -> Self {
        Self {
            det: BurstDetector::new(cfg),
            prev: None,
            lead: None,
            first: None,
            last: None,
        }
    }

    fn push(&mut self, iv: &Interval) -> Option<(Burst, u64)> {
        let was_running = self.det.running().is_some();
        let ended = self.det.push(iv);
        let running = self.det.running().is_some();
        let out = ended.map(|b| {
            // The interval that ended the burst is its trailing edge when it follows it and
            // is not itself the start of a new burst.
            let trail = self
                .last
                .filter(|l| !running && contiguous(l, iv))
                .map(|_| *iv);
            let est = self.estimate(&b, trail.as_ref());
            (b, est)
        });
        if running && (!was_running || out.is_some()) {
            self.lead = self.prev.filter(|p| contiguous(p, iv) && out.is_none());
            self.first = Some(*iv);
        }
        if running {
            self.last = Some(*iv);
        }
        self.prev = Some(*iv);
        out
    }

    fn finish(&mut self) -> Option<(Burst, u64)> {
        let b = self.det.finish()?;
        let est = self.estimate(&b, None);
        self.prev = None;
        Some((b, est))
    }

    /// Bytes of the burst and of its neighbouring intervals over the rate inside it (from
    /// its interior intervals, or its peak when it has none): the time the burst took, to a
    /// fraction of an interval.
    fn estimate(&self, b: &Burst, trail: Option<&Interval>) -> u64 {
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return b.duration_ns;
        };
        let (interior_bytes, interior_ns, edge_bytes) = if b.intervals >= 3 {
            (
                b.bytes - first.bytes - last.bytes,
                b.duration_ns - first.dur_ns - last.dur_ns,
                first.bytes + last.bytes,
            )
        } else {
            (0, 0, b.bytes)
        };
        let rate = if interior_ns > 0 && interior_bytes > 0 {
            interior_bytes as f64 / interior_ns as f64
        } else {
            let cfg = self.det.config();
            b.peak_util * cfg.line_rate_bps as f64 / 8e9
        };
        if rate <= 0.0 {
            return b.duration_ns;
        }
        let lead = self.lead.as_ref();
        let around: u64 = lead.map_or(0, |l| l.bytes) + trail.map_or(0, |t| t.bytes);
        let est = interior_ns as f64 + (edge_bytes + around) as f64 / rate;
        let max = b.duration_ns + lead.map_or(0, |l| l.dur_ns) + trail.map_or(0, |t| t.dur_ns);
        (est as u64).clamp(interior_ns, max)
    }
}

/// Flows kept per burst.
pub const FLOWS_PER_BURST: usize = 5;

fn push_burst(st: &mut IfState, dir: Dir, (b, est): (Burst, u64), max: usize) {
    let flows = std::mem::take(match dir {
        Dir::Rx => &mut st.rx_flows,
        Dir::Tx => &mut st.tx_flows,
    });
    let tot = match dir {
        Dir::Rx => {
            st.rx_summary.add(&b);
            &mut st.rx_tot
        }
        Dir::Tx => {
            st.tx_summary.add(&b);
            &mut st.tx_tot
        }
    };
    tot.count += 1;
    tot.bytes += b.bytes;
    tot.drops += b.drops.unwrap_or(0);
    tot.duration.observe(est as f64 / 1e9);
    let db = DirBurst {
        dir: dir_name(dir).into(),
        burst: b,
        duration_est_ns: est,
        top_flows: top_flows(flows, FLOWS_PER_BURST),
    };
    st.recent.push_back(db.clone());
    while st.recent.len() > max {
        st.recent.pop_front();
    }
    st.ended.push(db);
}

fn dir_name(d: Dir) -> &'static str {
    match d {
        Dir::Rx => "rx",
        Dir::Tx => "tx",
    }
}

fn finish_bursts(st: &mut IfState, max: usize) {
    if let Some(b) = st.rx.as_mut().and_then(DirDetector::finish) {
        push_burst(st, Dir::Rx, b, max);
    }
    if let Some(b) = st.tx.as_mut().and_then(DirDetector::finish) {
        push_burst(st, Dir::Tx, b, max);
    }
}

fn ingest_iface(
    cfg: &EngineConfig,
    st: &mut IfState,
    is: &IfaceSample,
    t: u64,
    flows: Option<&IfaceFlows>,
) {
    if !st.present {
        // Back after vanishing: a new baseline, no delta across the gap.
        st.present = true;
        st.prev = None;
    }
    st.name = is.name.clone();
    st.up = is.up;
    st.speed_mbps = is.speed_mbps;
    let cur = counters_array(&is.counters);
    let Some((pt, prev)) = st.prev.replace((t, cur)) else {
        return;
    };
    let ns = t.saturating_sub(pt);
    if ns == 0 {
        return;
    }
    let mut d = [0u64; N_COUNTERS];
    let mut reset = false;
    for i in 0..N_COUNTERS {
        match step(prev[i], cur[i], st.last_d[i]) {
            Step::Delta(x) => {
                d[i] = x;
                st.last_d[i] = x;
            }
            Step::Reset => reset = true,
        }
    }
    if reset {
        st.resets += 1;
    }
    st.view.add(&d, ns);
    st.window.add(&d, ns);
    st.hist.add(&d, ns);
    if st.hist.ns >= cfg.history_step_ns {
        let h = std::mem::take(&mut st.hist);
        st.history.push_back(RatePoint {
            t_ns: t,
            rx_bps: h.rate(idx::RX_BYTES) * 8.0,
            tx_bps: h.rate(idx::TX_BYTES) * 8.0,
            drops: per_sec(drops_all(&h.d), h.ns),
        });
        while st.history.len() > cfg.history_points {
            st.history.pop_front();
        }
    }
    // Bursts.
    let lr = line_rate(cfg, st);
    if lr != st.detector_rate {
        finish_bursts(st, cfg.max_recent_bursts);
        st.detector_rate = lr;
        let mk = |r: u64| {
            DirDetector::new(BurstConfig {
                line_rate_bps: r,
                threshold: cfg.burst_threshold,
            })
        };
        st.rx = lr.map(mk);
        st.tx = lr.map(mk);
    }
    if let Some(r) = lr {
        // Bits over what the line could carry in the interval.
        let cap = r as f64 * ns as f64 / 1e9;
        st.rx_util.observe(d[idx::RX_BYTES] as f64 * 8.0 / cap);
        st.tx_util.observe(d[idx::TX_BYTES] as f64 * 8.0 / cap);
    }
    let rx_iv = Interval {
        start_ns: pt,
        dur_ns: ns,
        bytes: d[idx::RX_BYTES],
        packets: d[idx::RX_PACKETS],
        drops: Some(d[idx::RX_DROPPED] + d[idx::RX_MISSED] + d[idx::RX_FIFO]),
    };
    let tx_iv = Interval {
        start_ns: pt,
        dur_ns: ns,
        bytes: d[idx::TX_BYTES],
        packets: d[idx::TX_PACKETS],
        drops: Some(d[idx::TX_DROPPED]),
    };
    if let Some(b) = st.rx.as_mut().and_then(|x| x.push(&rx_iv)) {
        push_burst(st, Dir::Rx, b, cfg.max_recent_bursts);
    }
    if let Some(b) = st.tx.as_mut().and_then(|x| x.push(&tx_iv)) {
        push_burst(st, Dir::Tx, b, cfg.max_recent_bursts);
    }
    // The flows of an interval that is part of the running burst count for it (a burst
    // that just ended took its flows above).
    if let Some(f) = flows {
        if st.rx.as_ref().is_some_and(|x| x.det.running().is_some()) {
            merge_flows(&mut st.rx_flows, &f.rx);
        }
        if st.tx.as_ref().is_some_and(|x| x.det.running().is_some()) {
            merge_flows(&mut st.tx_flows, &f.tx);
        }
    }
}

/// Drops and errors summed for the chart.
fn drops_all(d: &[u64; N_COUNTERS]) -> u64 {
    d[idx::RX_DROPPED] + d[idx::TX_DROPPED] + d[idx::RX_MISSED] + d[idx::RX_FIFO]
}

fn ingest_slow(cfg: &EngineConfig, st: &mut IfState, slow: &SlowIface, t: u64) {
    if slow.driver.is_some() && slow.driver != st.driver_name {
        st.driver_name.clone_from(&slow.driver);
        st.driver.names = None;
    }
    st.driver_na.clone_from(&slow.driver_stats_na);
    st.temps.clone_from(&slow.temps);
    if slow.module.is_some() {
        st.module.clone_from(&slow.module);
    }
    if slow.mtu.is_some() {
        st.mtu = slow.mtu;
    }
    if slow.carrier_changes.is_some() {
        st.carrier_changes = slow.carrier_changes;
    }
    // tx timeouts per queue.
    let mut txto = 0u64;
    for (q, v) in &slow.tx_timeouts {
        if let Some((_, p)) = st.txto_prev.iter().find(|(pq, _)| pq == q) {
            txto += step(*p, *v, 0).value();
        }
    }
    st.txto_prev.clone_from(&slow.tx_timeouts);
    st.txto_view += txto;
    st.window_txto += txto;
    if let Some(b) = &slow.bands {
        st.bands.ingest(t, b);
    }
    // PFC frames from dcbnl: their time also counts for the pause windows (once per read).
    let mut pause_ns_counted = false;
    if let Some(p) = &slow.pfc {
        if let Some((dt, deltas)) = st.pfc.ingest(t, p) {
            st.window_pause_ns += dt;
            st.view_pause_ns += dt;
            pause_ns_counted = true;
            for (key, d) in deltas {
                st.window_pause
                    .entry(key)
                    .or_default()
                    .add(PFC_COUNTER, false, d);
                st.view_pause
                    .entry(key)
                    .or_default()
                    .add(PFC_COUNTER, false, d);
            }
        }
    }
    // Driver counters.
    let Some(ds) = &slow.driver_stats else {
        return;
    };
    let dr = &mut st.driver;
    let same = dr
        .names
        .as_ref()
        .is_some_and(|n| Arc::ptr_eq(n, &ds.names) || **n == *ds.names);
    if !same {
        let table = st.driver_name.as_deref().and_then(|d| cfg.classes.table(d));
        dr.classes = ds
            .names
            .iter()
            .map(|n| table.and_then(|t| classify_in(t, n)))
            .collect();
        dr.names = Some(ds.names.clone());
        dr.c.reset(ds.names.len());
    }
    if ds.values.len() != dr.c.len() {
        return;
    }
    let pfc_from_dcb = st.pfc.prev.is_some();
    let classes = &dr.classes;
    let (window_class, window_pause, view_pause) = (
        &mut st.window_class,
        &mut st.window_pause,
        &mut st.view_pause,
    );
    let dt = dr.c.advance(t, &ds.values, |i, d| {
        let Some(m) = classes[i] else { return };
        let ci = ALL_CLASSES.iter().position(|c| *c == m.class).unwrap_or(0);
        window_class[ci] += d;
        // Per-priority pause frames come from one source: dcbnl where it answers.
        let counted_by_dcb = pfc_from_dcb && m.class == Class::Pause && m.queue.is_some();
        if matches!(m.class, Class::Pause | Class::PauseDuration) && !counted_by_dcb {
            let key = PauseKey::new(m.dir, m.queue);
            let duration = m.class == Class::PauseDuration;
            let name = &ds.names[i];
            window_pause.entry(key).or_default().add(name, duration, d);
            view_pause.entry(key).or_default().add(name, duration, d);
        }
    });
    if let Some(dt) = dt {
        if !pause_ns_counted {
            st.window_pause_ns += dt;
            st.view_pause_ns += dt;
        }
    }
}

fn check_window(cfg: &EngineConfig, st: &mut IfState, s: &Sample, out: &mut Vec<Alert>) {
    if st.window.ns < cfg.alert_window_ns {
        return;
    }
    let w = std::mem::take(&mut st.window);
    let txto = std::mem::take(&mut st.window_txto);
    let classes = std::mem::take(&mut st.window_class);
    check_pause(cfg, st, window_drops(&w, &classes), s, out);
    for rule in &cfg.thresholds.rates {
        let v = match rule.metric {
            Metric::Counter(i) => w.d[i],
            Metric::TxTimeout => txto,
            Metric::Class(c) => classes[ALL_CLASSES.iter().position(|x| *x == c).unwrap_or(0)],
            Metric::SoftnetDropped
            | Metric::SoftnetSqueeze
            | Metric::Socket(_)
            | Metric::PauseShare => continue,
        };
        let rate = per_sec(v, w.ns);
        let name = rule.metric.name();
        if edge(&mut st.active, name, crosses(rule, rate)) {
            let any = rule.limit == 0.0;
            out.push(Alert {
                t_ns: s.t_ns,
                wall_ms: s.wall_ms,
                iface: st.name.to_string(),
                metric: name.into(),
                value: rate,
                limit: rule.limit,
                message: if any {
                    format!(
                        "{}: {name} at {}/s ({v} in the last window)",
                        st.name,
                        fmt_rate(rate)
                    )
                } else {
                    format!(
                        "{}: {name} at {}/s, above {}/s",
                        st.name,
                        fmt_rate(rate),
                        fmt_rate(rule.limit)
                    )
                },
            });
        }
    }
}

/// Drops of an alert window: the interface's drop counters and the driver's drop classes.
fn window_drops(w: &Acc, classes: &[u64; ALL_CLASSES.len()]) -> u64 {
    let mut n = [
        idx::RX_DROPPED,
        idx::TX_DROPPED,
        idx::RX_MISSED,
        idx::RX_FIFO,
        idx::RX_OVER,
    ]
    .iter()
    .map(|&i| w.d[i])
    .sum::<u64>();
    for (i, c) in ALL_CLASSES.iter().enumerate() {
        if matches!(
            c,
            Class::BufferExhaustion | Class::FifoOverflow | Class::QueueDrops
        ) {
            n += classes[i];
        }
    }
    n
}

/// The daqiri case: pause took more than `pause_share` of the link (any side and priority)
/// while nothing dropped. Judged when a driver read came in since the last judgement.
fn check_pause(cfg: &EngineConfig, st: &mut IfState, drops: u64, s: &Sample, out: &mut Vec<Alert>) {
    st.window_pause_drops = st.window_pause_drops.saturating_add(drops);
    let Some(rule) = cfg.thresholds.rule(Metric::PauseShare).copied() else {
        return;
    };
    if st.window_pause_ns == 0 {
        return;
    }
    let lr = line_rate(cfg, st);
    let ns = std::mem::take(&mut st.window_pause_ns);
    let drops = std::mem::take(&mut st.window_pause_drops);
    let acc = std::mem::take(&mut st.window_pause);
    let worst = acc
        .iter()
        .filter_map(|(k, a)| pause::share(a, ns, lr).map(|(sh, src)| (*k, sh, src)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let crossing = drops == 0 && worst.is_some_and(|(_, sh, _)| sh > rule.limit);
    if edge(&mut st.active, Metric::PauseShare.name(), crossing) {
        if let Some((k, sh, src)) = worst {
            let side = if k.sent {
                "sent (we slow the peer)"
            } else {
                "received (the peer slows us)"
            };
            let prio = k.priority.map_or_else(
                || "link-level pause".to_string(),
                |p| format!("priority {p}"),
            );
            out.push(Alert {
                t_ns: s.t_ns,
                wall_ms: s.wall_ms,
                iface: st.name.to_string(),
                metric: Metric::PauseShare.name().into(),
                value: sh,
                limit: rule.limit,
                message: format!(
                    "{}: pause {side} on {prio} took {:.1}% of the link ({}), above {:.1}%, \
                     with no drops",
                    st.name,
                    sh * 100.0,
                    match src {
                        pause::ShareSource::Duration => "pause duration counters",
                        pause::ShareSource::FrameEstimate =>
                            "estimated from pause frames, an upper bound",
                    },
                    rule.limit * 100.0
                ),
            });
        }
    }
}

fn check_temps(
    cfg: &EngineConfig,
    st: &mut IfState,
    slow: &SlowIface,
    s: &Sample,
    out: &mut Vec<Alert>,
) {
    let margin = cfg.thresholds.temp_margin_c;
    let hot: Vec<&Temperature> = slow
        .temps
        .iter()
        .filter(|t| too_hot(t.celsius, t.crit, margin))
        .collect();
    // One "temperature" metric per interface: alert when any sensor gets too hot.
    let crossing = !hot.is_empty();
    if edge(&mut st.active, "temperature", crossing) {
        let t = hot[0];
        let crit = t.crit.unwrap_or(0.0);
        out.push(Alert {
            t_ns: s.t_ns,
            wall_ms: s.wall_ms,
            iface: st.name.to_string(),
            metric: "temperature".into(),
            value: t.celsius,
            limit: crit - margin.unwrap_or(0.0),
            message: format!(
                "{}: {} at {:.1} C, critical {:.1} C",
                st.name, t.label, t.celsius, crit
            ),
        });
    }
}

/// Alerts when the module crosses its own warning thresholds: a lane's receive power below
/// its low warning (`module_rx_power`), the temperature above its high warning
/// (`module_temperature`). Edge-triggered like the others: once when it starts crossing.
fn check_module(st: &mut IfState, s: &Sample, out: &mut Vec<Alert>) {
    let Some(m) = st.module.clone() else {
        return;
    };
    let weak = m.rx_power_low_warning_dbm.and_then(|w| {
        m.lanes
            .iter()
            .filter_map(|l| Some((l.lane, l.rx_power_dbm?)))
            .filter(|&(_, p)| p < w)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(lane, p)| (lane, p, w))
    });
    if edge(&mut st.active, "module_rx_power", weak.is_some()) {
        if let Some((lane, p, w)) = weak {
            out.push(Alert {
                t_ns: s.t_ns,
                wall_ms: s.wall_ms,
                iface: st.name.to_string(),
                metric: "module_rx_power".into(),
                value: p,
                limit: w,
                message: format!(
                    "{}: module lane {lane} rx power {p:.2} dBm, below its low warning {w:.2} dBm",
                    st.name
                ),
            });
        }
    }
    let hot = m
        .temperature_c
        .zip(m.temperature_high_warning_c)
        .filter(|(t, w)| t > w);
    if edge(&mut st.active, "module_temperature", hot.is_some()) {
        if let Some((t, w)) = hot {
            out.push(Alert {
                t_ns: s.t_ns,
                wall_ms: s.wall_ms,
                iface: st.name.to_string(),
                metric: "module_temperature".into(),
                value: t,
                limit: w,
                message: format!(
                    "{}: module at {t:.1} C, above its high warning {w:.1} C",
                    st.name
                ),
            });
        }
    }
}

fn iface_view(cfg: &EngineConfig, st: &mut IfState) -> IfaceView {
    let v = std::mem::take(&mut st.view);
    let txto = std::mem::take(&mut st.txto_view);
    if v.ns > 0 {
        let lr = line_rate(cfg, st);
        let rx_bps = v.rate(idx::RX_BYTES) * 8.0;
        let tx_bps = v.rate(idx::TX_BYTES) * 8.0;
        st.rates = IfaceRates {
            rx_bps,
            tx_bps,
            rx_pps: v.rate(idx::RX_PACKETS),
            tx_pps: v.rate(idx::TX_PACKETS),
            rx_missed: v.rate(idx::RX_MISSED),
            rx_fifo: v.rate(idx::RX_FIFO),
            rx_crc: v.rate(idx::RX_CRC),
            rx_dropped: v.rate(idx::RX_DROPPED),
            rx_errors: v.rate(4),
            tx_errors: v.rate(5),
            rx_over: v.rate(idx::RX_OVER),
            tx_dropped: v.rate(idx::TX_DROPPED),
            tx_timeout: per_sec(txto, v.ns),
            rx_util: lr.map(|r| rx_bps / r as f64),
            tx_util: lr.map(|r| tx_bps / r as f64),
        };
    } else if !st.present {
        st.rates = IfaceRates::default();
    }
    // Driver counters.
    let dr = &mut st.driver;
    dr.c.settle();
    let mut classes = Vec::new();
    let mut raw = Vec::new();
    // By (direction, index): one lookup per counter, however many queues a driver (or a
    // recording) names.
    let mut queues: BTreeMap<(&'static str, u32), QueueView> = BTreeMap::new();
    // Packets the receive queues counted so far, all queues.
    let mut rx_queue_packets = 0u64;
    if let (Some(names), Some((_, values))) = (&dr.names, &dr.c.prev) {
        for (i, name) in names.iter().enumerate() {
            let rate = dr.c.rates.get(i).copied().unwrap_or(0.0);
            let total = values.get(i).copied().unwrap_or(0);
            match dr.classes.get(i).copied().flatten() {
                Some(m) if m.class.is_queue() && m.queue.is_some() => {
                    let dir = dir_name(m.dir.unwrap_or(Dir::Rx));
                    let q = m.queue.unwrap_or(0);
                    if m.class == Class::QueuePackets && m.dir != Some(Dir::Tx) {
                        rx_queue_packets = rx_queue_packets.saturating_add(total);
                    }
                    let qv = queue_entry(&mut queues, dir, q);
                    match m.class {
                        Class::QueuePackets => *qv.pps.get_or_insert(0.0) += rate,
                        Class::QueueBytes => *qv.bps.get_or_insert(0.0) += rate * 8.0,
                        _ => *qv.drops.get_or_insert(0.0) += rate,
                    }
                }
                Some(m) => classes.push(ClassRate {
                    class: m.class.name().to_string(),
                    counter: name.clone(),
                    rate,
                    total,
                }),
                None => raw.push(ClassRate {
                    class: "raw".to_string(),
                    counter: name.clone(),
                    rate,
                    total,
                }),
            }
        }
    }
    for (q, v) in &st.txto_prev {
        queue_entry(&mut queues, "tx", *q).tx_timeout = Some(*v);
    }
    let mut queues: Vec<QueueView> = queues.into_values().collect();
    if dr.c.prev.is_some() {
        mark_partial_queues(st, rx_queue_packets, &mut queues);
    }
    if st.view_pause_ns > 0 {
        let ns = std::mem::take(&mut st.view_pause_ns);
        let lr = line_rate(cfg, st);
        st.pause_views = std::mem::take(&mut st.view_pause)
            .into_iter()
            .map(|(k, a)| {
                let share = pause::share(&a, ns, lr);
                PauseView {
                    dir: k.side().to_string(),
                    priority: k.priority,
                    frames_per_s: per_sec(a.all_frames(), ns),
                    share: share.map(|x| x.0),
                    source: share.map(|x| x.1),
                }
            })
            .collect();
    } else if !st.present {
        st.pause_views.clear();
    }
    IfaceView {
        name: st.name.to_string(),
        ifindex: st.ifindex,
        present: st.present,
        up: st.up,
        line_rate_bps: line_rate(cfg, st),
        rates: st.rates,
        classes,
        raw,
        queues,
        history: st.history.iter().copied().collect(),
        rx_bursts: st.rx_summary.clone(),
        tx_bursts: st.tx_summary.clone(),
        recent_bursts: st.recent.iter().cloned().collect(),
        ended_bursts: std::mem::take(&mut st.ended),
        temps: temp_views(st),
        module: st.module.clone(),
        driver: st.driver_name.clone(),
        driver_stats_na: st.driver_na.clone(),
        counter_resets: st.resets,
        pause: st.pause_views.clone(),
        pfc_source: pfc_source(st).map(String::from),
        bands: st.bands.view(),
    }
}

/// Where the per-priority pause frames of an interface come from, if anywhere.
fn pfc_source(st: &IfState) -> Option<&'static str> {
    if st.pfc.prev.is_some() {
        return Some(PFC_SOURCE_DCB);
    }
    st.driver
        .classes
        .iter()
        .flatten()
        .any(|m| m.class == Class::Pause && m.queue.is_some())
        .then_some(PFC_SOURCE_ETHTOOL)
}

/// The cumulative state of one interface; `None` before its first counters.
fn iface_totals(cfg: &EngineConfig, st: &IfState) -> Option<IfaceTotals> {
    let (_, cur) = st.prev.as_ref()?;
    // By (direction, index), as the view's queues: one lookup per counter.
    let mut queues: BTreeMap<(&'static str, u32), QueueTotals> = BTreeMap::new();
    let mut classes: Vec<ClassTotal> = Vec::new();
    let mut pause_tot: BTreeMap<PauseKey, PauseTotal> = BTreeMap::new();
    let mut driver_counters = Vec::new();
    let dr = &st.driver;
    let pfc_from_dcb = st.pfc.prev.as_ref().map(|(_, p)| p);
    if let (Some(names), Some((_, values))) = (&dr.names, &dr.c.prev) {
        driver_counters.reserve(names.len());
        for (i, (name, v)) in names.iter().zip(values).enumerate() {
            driver_counters.push((name.clone(), *v));
            let Some(m) = dr.classes.get(i).copied().flatten() else {
                continue;
            };
            let dir = m.dir.map(dir_name);
            let counted_by_dcb =
                pfc_from_dcb.is_some() && m.class == Class::Pause && m.queue.is_some();
            if matches!(m.class, Class::Pause | Class::PauseDuration) && !counted_by_dcb {
                let key = PauseKey::new(m.dir, m.queue);
                let pt = pause_tot
                    .entry(key)
                    .or_insert_with(|| PauseTotal::empty(key));
                if m.class == Class::PauseDuration {
                    *pt.duration_us.get_or_insert(0) += v;
                } else {
                    pt.frames += v;
                    if !pause::is_xon(name) {
                        pt.xoff_frames += v;
                    }
                }
            }
            if let (true, Some(q)) = (m.class.is_queue(), m.queue) {
                let qt = queue_totals(&mut queues, dir.unwrap_or("rx"), q);
                let slot = match m.class {
                    Class::QueuePackets => &mut qt.packets,
                    Class::QueueBytes => &mut qt.bytes,
                    _ => &mut qt.drops,
                };
                *slot.get_or_insert(0) += v;
            } else {
                let class = m.class.name();
                match classes
                    .iter_mut()
                    .find(|c| c.class == class && c.dir == dir)
                {
                    Some(c) => c.total += v,
                    None => classes.push(ClassTotal {
                        class,
                        dir,
                        total: *v,
                    }),
                }
            }
        }
    }
    for (key, v) in pfc_from_dcb
        .into_iter()
        .flat_map(super::bands::PfcCounters::keyed)
    {
        let pt = pause_tot
            .entry(key)
            .or_insert_with(|| PauseTotal::empty(key));
        pt.frames += v;
        pt.xoff_frames += v;
    }
    for (q, v) in &st.txto_prev {
        queue_totals(&mut queues, "tx", *q).tx_timeouts = Some(*v);
    }
    let queues: Vec<QueueTotals> = queues.into_values().collect();
    classes.sort_by(|a, b| (a.class, a.dir).cmp(&(b.class, b.dir)));
    Some(IfaceTotals {
        name: st.name.to_string(),
        ifindex: st.ifindex,
        up: st.up,
        speed_bps: st.speed_mbps.map(|m| m.saturating_mul(1_000_000)),
        line_rate_bps: line_rate(cfg, st),
        mtu: st.mtu,
        carrier_changes: st.carrier_changes,
        counters: super::rate::counters_from_array(cur),
        driver: st.driver_name.clone(),
        queues,
        classes,
        driver_counters,
        temps: temp_views(st),
        module: st.module.clone(),
        rx_bursts: st.rx_tot.clone(),
        tx_bursts: st.tx_tot.clone(),
        rx_util: st.rx_util.clone(),
        tx_util: st.tx_util.clone(),
        counter_resets: st.resets,
        pause: pause_tot.into_values().collect(),
        pfc_source: pfc_source(st),
        bands: st.bands.totals(),
    })
}

fn queue_totals<'a>(
    queues: &'a mut BTreeMap<(&'static str, u32), QueueTotals>,
    dir: &'static str,
    index: u32,
) -> &'a mut QueueTotals {
    queues.entry((dir, index)).or_insert_with(|| QueueTotals {
        dir,
        index,
        ..QueueTotals::default()
    })
}

/// The temperatures of an interface as the view and the totals show them.
fn temp_views(st: &IfState) -> Vec<TempView> {
    st.temps
        .iter()
        .map(|t| TempView {
            label: t.label.clone(),
            celsius: t.celsius,
            crit: t.crit,
        })
        .collect()
}

/// Per-queue receive counters that never counted a packet of all the interface received
/// count only part of the traffic (veth's NAPI/XDP path): their zeros are not data, so the
/// rows are n/a with the reason. Totals, not rates: the driver counters are read less often
/// than the interface's, and a rate of 0 at the start of traffic says nothing.
fn mark_partial_queues(st: &IfState, rx_queue_packets: u64, queues: &mut [QueueView]) {
    let Some(why) = st
        .driver_name
        .as_deref()
        .and_then(super::classes::partial_queue_counters)
    else {
        return;
    };
    let received = st.prev.map_or(0, |(_, c)| c[idx::RX_PACKETS]);
    if rx_queue_packets > 0 || received == 0 {
        return;
    }
    for q in queues.iter_mut().filter(|q| q.dir == "rx") {
        q.pps = None;
        q.bps = None;
        q.drops = None;
        q.na = Some(why.to_string());
    }
}

fn queue_entry<'a>(
    queues: &'a mut BTreeMap<(&'static str, u32), QueueView>,
    dir: &'static str,
    index: u32,
) -> &'a mut QueueView {
    queues.entry((dir, index)).or_insert_with(|| QueueView {
        dir: dir.to_string(),
        index,
        ..QueueView::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Counters;

    fn sample(t_ms: u64, rx_bytes: u64, speed: Option<u64>) -> Sample {
        Sample {
            t_ns: t_ms * 1_000_000,
            wall_ms: t_ms,
            ifaces: vec![IfaceSample {
                ifindex: 3,
                name: Arc::from("eth0"),
                up: true,
                speed_mbps: speed,
                counters: Counters {
                    rx_bytes,
                    rx_crc_errors: t_ms / 500,
                    ..Counters::default()
                },
                slow: None,
            }],
            softnet: None,
            sockets: None,
            node: None,
            flows: Vec::new(),
            rdma: Vec::new(),
        }
    }

    /// 1 Gbit/s carries 125000 bytes per ms.
    fn feed(e: &mut Engine, per_ms: &[u64]) -> u64 {
        let mut total = 0;
        e.ingest(&sample(0, 0, Some(1000)));
        for (i, b) in per_ms.iter().enumerate() {
            total += b;
            e.ingest(&sample(i as u64 + 1, total, Some(1000)));
        }
        total
    }

    #[test]
    fn a_burst_carries_the_flows_of_its_intervals_only() {
        use std::net::{IpAddr, Ipv4Addr};
        let f = |port: u16, bytes: u64| TopFlow {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            sport: port,
            dport: 9,
            proto: 17,
            bytes,
        };
        let mut e = Engine::new(EngineConfig::default());
        // Quiet, two hot intervals, quiet, one hot, quiet; flows on every interval.
        let per_ms = [1000, 100_000, 100_000, 1000, 120_000, 0];
        let flows = [
            vec![f(1, 1000)],
            vec![f(7, 60_000), f(8, 40_000)],
            vec![f(7, 90_000), f(9, 10_000)],
            vec![f(1, 1000)],
            vec![f(5, 120_000)],
            vec![],
        ];
        e.ingest(&sample(0, 0, Some(1000)));
        let mut total = 0;
        for (i, (b, fl)) in per_ms.iter().zip(&flows).enumerate() {
            total += b;
            let mut s = sample(i as u64 + 1, total, Some(1000));
            s.flows = vec![IfaceFlows {
                ifindex: 3,
                rx: fl.clone(),
                tx: vec![],
            }];
            e.ingest(&s);
        }
        let v = e.view();
        let b = &v.ifaces[0].ended_bursts;
        assert_eq!(b.len(), 2);
        assert_eq!(
            b[0].top_flows,
            vec![f(7, 150_000), f(8, 40_000), f(9, 10_000)]
        );
        assert_eq!(b[1].top_flows, vec![f(5, 120_000)]);
    }

    #[test]
    fn an_out_of_order_sample_is_ignored() {
        let mut e = Engine::new(EngineConfig::default());
        feed(&mut e, &[1000, 1000]);
        e.ingest(&sample(1, 0, Some(1000)));
        let v = e.view();
        assert_eq!(v.samples, 3);
        assert_eq!(v.ifaces[0].counter_resets, 0);
        assert!((v.ifaces[0].rates.rx_bps - 8e6).abs() < 1.0);
    }

    #[test]
    fn one_interval_bursts_keep_their_interval_as_estimate() {
        let mut e = Engine::new(EngineConfig::default());
        feed(&mut e, &[0, 100_000, 0]);
        let v = e.view();
        let b = &v.ifaces[0].ended_bursts;
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].burst.duration_ns, 1_000_000);
        assert_eq!(b[0].duration_est_ns, 1_000_000);
    }

    #[test]
    fn the_estimate_places_the_edges_inside_the_intervals() {
        // At line rate from 0.75 ms in the second interval to 0.25 ms in the sixth: 3.5 ms.
        let mut e = Engine::new(EngineConfig::default());
        feed(&mut e, &[0, 31_250, 125_000, 125_000, 125_000, 31_250, 0]);
        e.finish();
        let v = e.view();
        let b = &v.ifaces[0].ended_bursts[0];
        assert_eq!(b.burst.duration_ns, 3_000_000);
        assert_eq!(b.duration_est_ns, 3_500_000);
    }

    #[test]
    fn a_speed_change_ends_the_running_burst() {
        let mut e = Engine::new(EngineConfig::default());
        feed(&mut e, &[125_000, 125_000]);
        e.ingest(&sample(3, 500_000, Some(10_000)));
        let v = e.view();
        assert_eq!(v.ifaces[0].ended_bursts.len(), 1);
        assert_eq!(v.ifaces[0].line_rate_bps, Some(10_000_000_000));
    }

    #[test]
    fn reset_forgets_history_but_keeps_the_baseline() {
        let mut e = Engine::new(EngineConfig::default());
        // One CRC error at 500 ms and 1000 ms: an alert at the end of the first window.
        let mut total = 0;
        for t in 0..=1000 {
            total += 1000;
            e.ingest(&sample(t, total, Some(1000)));
        }
        let v = e.view();
        assert_eq!(v.alerts.len(), 1, "{:?}", v.alerts);
        assert_eq!(v.alerts[0].metric, "rx_crc_errors");
        e.reset();
        e.ingest(&sample(1001, total + 1000, Some(1000)));
        let v = e.view();
        assert!(v.alerts.is_empty());
        assert_eq!(v.samples, 1);
        // No delta was lost or invented across the reset.
        assert!((v.ifaces[0].rates.rx_bps - 8e6).abs() < 1.0);
    }

    #[test]
    fn totals_only_grow_and_reading_them_or_a_view_resets_nothing() {
        let mut e = Engine::new(EngineConfig::default());
        // Two bursts: one interval at 80%, and two intervals at line rate.
        let total = feed(&mut e, &[0, 100_000, 0, 0, 125_000, 125_000, 0]);
        let before = e.totals();
        let _ = e.view();
        let after = e.totals();
        assert_eq!(before, after, "a view changed the totals");
        let i = &after.ifaces[0];
        assert_eq!(i.counters.rx_bytes, total);
        assert_eq!(i.rx_bursts.count, 2);
        assert_eq!(i.rx_bursts.bytes, 350_000);
        assert_eq!(i.rx_bursts.duration.count, 2);
        let cum: Vec<(f64, u64)> = i.rx_bursts.duration.cumulative().collect();
        // 1 ms and 2 ms estimated (no edge bytes around them).
        // Bounds 3 and 4 are 1 ms and 2.5 ms.
        assert_eq!((cum[3].1, cum[4].1), (1, 2));
        // Every sample interval is one utilization observation: 7 intervals, 3 at 80%+.
        assert_eq!(i.rx_util.count, 7);
        // Bound 4 is 0.5.
        let at_or_below_half = i.rx_util.cumulative().nth(4).map(|c| c.1);
        assert_eq!(at_or_below_half, Some(4));
        // More samples: the counts continue from where they were.
        let mut t = total;
        for (k, bytes) in [125_000u64, 0].iter().enumerate() {
            t += bytes;
            e.ingest(&sample(8 + k as u64, t, Some(1000)));
        }
        let later = e.totals();
        assert_eq!(later.ifaces[0].rx_bursts.count, 3);
        assert_eq!(later.ifaces[0].rx_util.count, 9);
    }

    #[test]
    fn totals_count_alerts_per_interface_and_metric() {
        let mut e = Engine::new(EngineConfig::default());
        let mut total = 0;
        for t in 0..=1000 {
            total += 1000;
            e.ingest(&sample(t, total, Some(1000)));
        }
        let t = e.totals();
        assert_eq!(
            t.alerts_raised,
            vec![("eth0".to_string(), "rx_crc_errors".to_string(), 1)]
        );
        assert_eq!(
            t.active_alerts,
            vec![("eth0".to_string(), "rx_crc_errors".to_string())]
        );
    }

    /// mlx5 counts PFC frames twice over: `ethtool -S` (`rx_prio3_pause`) and dcbnl
    /// (`ieee_pfc.indications[3]`), the same port counter. Where dcbnl answers, its counters
    /// are the per-priority frames and the `ethtool -S` ones are left out; durations and
    /// link-level pause still come from `ethtool -S`.
    fn pause_sample(t_ms: u64, frames: u64, dcb: bool) -> Sample {
        use crate::monitor::bands::PfcCounters;
        use crate::monitor::sample::{DriverStats, SlowIface};
        let names: CounterNames = Arc::from(vec![
            "rx_prio3_pause".to_string(),
            "rx_prio3_pause_duration".to_string(),
            "rx_global_pause".to_string(),
        ]);
        let mut s = sample(t_ms, 0, Some(100_000));
        let mut indications = vec![0; 8];
        indications[3] = frames;
        s.ifaces[0].slow = Some(Box::new(SlowIface {
            driver: Some("mlx5_core".into()),
            driver_stats: Some(DriverStats {
                names,
                values: vec![frames, frames * 10, 2 * frames],
            }),
            pfc: dcb.then(|| PfcCounters {
                requests: vec![1; 8],
                indications,
            }),
            ..SlowIface::default()
        }));
        s
    }

    #[test]
    fn pfc_frames_come_from_dcbnl_where_it_answers_and_are_counted_once() {
        for dcb in [true, false] {
            let mut e = Engine::new(EngineConfig::default());
            e.ingest(&pause_sample(0, 1000, dcb));
            e.ingest(&pause_sample(1000, 1100, dcb));
            let v = e.view();
            let i = &v.ifaces[0];
            let want = if dcb { "dcbnl" } else { "ethtool" };
            assert_eq!(i.pfc_source.as_deref(), Some(want));
            let p3 = i
                .pause
                .iter()
                .find(|p| p.dir == "rx" && p.priority == Some(3))
                .expect("rx priority 3");
            // 100 frames in 1 s, not 200; 1000 us paused of 1 s from the duration counter.
            assert!((p3.frames_per_s - 100.0).abs() < 1e-9, "{dcb}: {p3:?}");
            assert!(
                (p3.share.unwrap_or(0.0) - 0.001).abs() < 1e-9,
                "{dcb}: {p3:?}"
            );
            let global = i
                .pause
                .iter()
                .find(|p| p.dir == "rx" && p.priority.is_none());
            assert!(
                global.is_some_and(|g| (g.frames_per_s - 200.0).abs() < 1e-9),
                "{dcb}: {:?}",
                i.pause
            );
            // dcbnl's requests are the sent side (1 each, never moving); ethtool has none.
            let tx3 = i
                .pause
                .iter()
                .find(|p| p.dir == "tx" && p.priority == Some(3));
            assert_eq!(tx3.is_some(), dcb, "{:?}", i.pause);
            let t = e.totals();
            let tot = t.ifaces[0]
                .pause
                .iter()
                .find(|p| p.dir == "rx" && p.priority == Some(3))
                .expect("rx 3 total");
            assert_eq!((tot.frames, tot.duration_us), (1100, Some(11_000)), "{dcb}");
            assert_eq!(t.ifaces[0].pfc_source, Some(want));
        }
    }

    #[test]
    fn bands_come_and_go_with_the_root_qdisc() {
        use crate::model::qos::TcStats;
        use crate::monitor::bands::BandSample;
        use crate::monitor::sample::SlowIface;
        let with = |t_ms: u64, bands: Option<Vec<BandSample>>| {
            let mut s = sample(t_ms, 0, None);
            s.ifaces[0].slow = Some(Box::new(SlowIface {
                bands,
                ..SlowIface::default()
            }));
            s
        };
        let band = |drops: u32, backlog: u32| BandSample {
            class: 0x0001_0002,
            kind: "ets".into(),
            stats: TcStats {
                drops,
                backlog,
                qlen: backlog / 1000,
                ..TcStats::default()
            },
        };
        let mut e = Engine::new(EngineConfig::default());
        e.ingest(&with(0, Some(vec![])));
        assert!(e.view().ifaces[0].bands.is_empty());
        e.ingest(&with(250, Some(vec![band(0, 0)])));
        e.ingest(&with(500, Some(vec![band(50, 3000)])));
        // A round that could not read them changes nothing.
        e.ingest(&with(600, None));
        let v = e.view();
        let b = &v.ifaces[0].bands[0];
        assert_eq!((b.class.as_str(), b.band), ("1:2", Some(1)));
        assert!((b.drops - 200.0).abs() < 1e-9, "{b:?}");
        assert_eq!((b.backlog_bytes, b.backlog_packets), (3000, 3));
        assert_eq!(e.totals().ifaces[0].bands[0].drops, 50);
        e.ingest(&with(750, Some(vec![])));
        assert!(e.view().ifaces[0].bands.is_empty());
        assert!(e.totals().ifaces[0].bands.is_empty());
    }

    #[test]
    fn totals_sum_driver_counters_by_class_and_queue() {
        use crate::monitor::sample::{DriverStats, SlowIface};
        let mut e = Engine::new(EngineConfig::default());
        let names: CounterNames = Arc::from(vec![
            "rx_queue_0_drops".to_string(),
            "rx_queue_1_drops".to_string(),
            "rx_queue_1_xdp_packets".to_string(),
            "something_else".to_string(),
        ]);
        let mut s = sample(0, 0, Some(1000));
        s.ifaces[0].slow = Some(Box::new(SlowIface {
            driver: Some("veth".into()),
            driver_stats: Some(DriverStats {
                names,
                values: vec![3, 4, 50, 9],
            }),
            tx_timeouts: vec![(0, 2)],
            mtu: Some(1500),
            carrier_changes: Some(4),
            ..SlowIface::default()
        }));
        e.ingest(&s);
        let t = e.totals();
        let i = &t.ifaces[0];
        assert_eq!(i.mtu, Some(1500));
        assert_eq!(i.carrier_changes, Some(4));
        assert_eq!(i.driver_counters.len(), 4);
        let q1 = i
            .queues
            .iter()
            .find(|q| q.dir == "rx" && q.index == 1)
            .expect("rx queue 1");
        assert_eq!((q1.drops, q1.packets), (Some(4), Some(50)));
        let tx0 = i
            .queues
            .iter()
            .find(|q| q.dir == "tx" && q.index == 0)
            .expect("tx queue 0");
        assert_eq!(tx0.tx_timeouts, Some(2));
    }
}
