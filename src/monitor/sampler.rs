//! The sampler: its own threads, kernel reads only, samples out through a sink.
//!
//! The fast thread reads the counters of every watched interface with one `RTM_GETSTATS`
//! request per sample, on a grid of absolute deadlines (`start + k * interval`): it sleeps to
//! the next deadline, never "interval after the last read", so time does not drift, and when
//! it falls behind by whole intervals it skips them and reports them as missed instead of
//! sampling in a hurry. Samples are handed to the sink in batches (every few tens of ms), not
//! one by one: each hand-over may wake the consumer's thread.
//!
//! A slow thread reads, every `slow_interval`: the link table (names, oper state), link
//! speeds, driver counters (`ethtool -S`), per-queue `tx_timeout`, temperatures, softnet,
//! the socket-level drops of `/proc/net/snmp`, `snmp6` and `netstat`, the classes (bands) of
//! each root qdisc and the PFC counters of dcbnl (see [`super::bands`] for why there), and
//! the hardware counters of every RDMA port (`/sys/class/infiniband/*/ports/*/hw_counters`):
//! those are judged over seconds, the kernel caches them for `lifespan` ms (10 by default)
//! and mlx5 asks its firmware for them, so reading them every 1 ms sample would only cost.
//! It sends them to the fast thread, which attaches them to its next sample; so an expensive
//! `ethtool -S` of a NIC with a thousand counters never delays a counter sample.
//!
//! Time comes from a [`Clock`], so the scheduling is tested with a fake clock and no sleep.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::sample::{
    CounterNames, DriverStats, IfaceSample, NodeSlow, RdmaPortSample, Sample, SlowIface,
    SocketTotals, SoftnetTotals,
};
use crate::model::Counters;
use crate::sys::ethtool::{self as eth, Ethtool};
use crate::sys::netlink::Rtnl;
use crate::sys::{procfs, sysfs, SysRoot};

/// Time as the sampler sees it.
pub trait Clock: Send + 'static {
    /// Monotonic time, ns (any origin).
    fn now_ns(&self) -> u64;
    /// Wall-clock time, ms since the Unix epoch.
    fn wall_ms(&self) -> u64;
    /// Returns at `deadline_ns` (on the `now_ns` scale) or soon after.
    fn sleep_until(&mut self, deadline_ns: u64);
}

/// The real clock: `CLOCK_MONOTONIC` for time, an absolute `clock_nanosleep` to wait (no
/// clock read before sleeping).
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    /// `CLOCK_MONOTONIC` at creation, ns: the origin of `now_ns`.
    base_ns: u64,
}

fn monotonic_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

impl Default for SystemClock {
    fn default() -> Self {
        Self {
            base_ns: monotonic_ns(),
        }
    }
}

impl Clock for SystemClock {
    fn now_ns(&self) -> u64 {
        monotonic_ns() - self.base_ns
    }

    fn wall_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    fn sleep_until(&mut self, deadline_ns: u64) {
        let at = self.base_ns + deadline_ns;
        let ts = rustix::time::Timespec {
            tv_sec: (at / 1_000_000_000) as i64,
            tv_nsec: (at % 1_000_000_000) as _,
        };
        // An absolute deadline: a signal's early return is simply slept again.
        while let Err(rustix::io::Errno::INTR) =
            rustix::thread::clock_nanosleep_absolute(rustix::thread::ClockId::Monotonic, &ts)
        {
        }
    }
}

/// What to sample and how often.
#[derive(Debug, Clone)]
pub struct SamplerConfig {
    /// Interfaces to watch by name; empty: all but lo.
    pub ifaces: Vec<String>,
    /// Counter sample interval, ns (100 us and up).
    pub interval_ns: u64,
    /// Interval of the slow reads, ns.
    pub slow_interval_ns: u64,
    /// Samples are handed over at least this often, ns.
    pub batch_ns: u64,
    /// Read driver counters (`ethtool -S`) in the slow reads.
    pub driver_stats: bool,
    /// Read the node-wide detail in the slow reads ([`NodeSlow`]: per-CPU softnet rows, UDP
    /// socket buffer drops), for consumers that show them (the exporter).
    pub node_detail: bool,
    /// sysfs/procfs roots.
    pub root: SysRoot,
    /// Where samples come from (`--source`).
    pub source: super::bpf_source::Source,
    /// Bin width of the eBPF source, ns (`--bin-width`).
    pub bin_ns: u64,
    /// Line rate the eBPF source judges hot bins against (`--line-rate`; else link speed).
    pub line_rate_bps: Option<u64>,
    /// Burst threshold (utilization) of the eBPF source's hot bins.
    pub burst_threshold: f64,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            ifaces: Vec::new(),
            interval_ns: 1_000_000,
            slow_interval_ns: 250_000_000,
            batch_ns: 50_000_000,
            driver_stats: true,
            node_detail: false,
            root: SysRoot::live(),
            source: super::bpf_source::Source::Counters,
            bin_ns: super::bpf_source::DEFAULT_BIN_NS,
            line_rate_bps: None,
            burst_threshold: super::microburst::DEFAULT_THRESHOLD,
        }
    }
}

/// What the sampler hands to its sink.
#[derive(Debug)]
pub enum SamplerMsg {
    /// Samples, in time order.
    Batch(Batch),
    /// The sampler failed and stopped.
    Error(SamplerError),
}

/// A batch of samples.
#[derive(Debug, Default)]
pub struct Batch {
    /// The samples.
    pub samples: Vec<Sample>,
    /// Deadlines missed since the previous batch: skipped because the thread was late by
    /// whole intervals, or sampled and discarded because the read itself was interrupted
    /// (see [`max_read_ns`]).
    pub missed: u64,
    /// Largest lateness of a sample in this batch after its deadline, ns.
    pub max_late_ns: u64,
    /// Counter reads in this batch (kept and discarded samples).
    pub reads: u64,
    /// Time those reads took, summed, ns.
    pub read_ns: u64,
}

/// Why the sampler cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SamplerError {
    /// A named interface does not exist.
    #[error("no such interface: {0}")]
    NoSuchInterface(String),
    /// Netlink failed.
    #[error("failed to {what}: {source}")]
    Netlink {
        /// What was being done.
        what: &'static str,
        /// The cause.
        source: crate::sys::nl::NlError,
    },
    /// A thread could not start.
    #[error("failed to start the sampler thread: {0}")]
    Thread(std::io::Error),
    /// The eBPF source cannot run.
    #[error("eBPF source: {0}")]
    Bpf(String),
}

/// The running sampler. Dropping it stops the threads.
pub struct SamplerHandle {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// Interfaces watched at start, as `(ifindex, name)`.
    pub watched: Vec<(u32, String)>,
    /// The bin width (ns) when the eBPF source runs; `None` for the counter sampler.
    pub bin_ns: Option<u64>,
}

impl SamplerHandle {
    /// A handle of threads started elsewhere (the eBPF source).
    pub(crate) fn from_parts(
        stop: Arc<AtomicBool>,
        threads: Vec<JoinHandle<()>>,
        watched: Vec<(u32, String)>,
    ) -> Self {
        Self {
            stop,
            threads,
            watched,
            bin_ns: None,
        }
    }

    /// Asks the threads to stop (they finish their current step).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Stops and waits for the threads.
    pub fn join(mut self) {
        self.stop();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for SamplerHandle {
    fn drop(&mut self) {
        self.stop();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A watched link as the slow reads last saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedLink {
    /// ifindex.
    pub ifindex: u32,
    /// Name.
    pub name: Arc<str>,
    /// Oper state up.
    pub up: bool,
    /// Speed, Mbit/s.
    pub speed_mbps: Option<u64>,
}

/// One round of slow reads.
#[derive(Debug, Default)]
pub struct SlowRound {
    /// The watched links now.
    pub links: Vec<WatchedLink>,
    /// Slow reads per ifindex.
    pub ifaces: Vec<(u32, SlowIface)>,
    /// Softnet totals.
    pub softnet: Option<SoftnetTotals>,
    /// Socket-level drops.
    pub sockets: Option<SocketTotals>,
    /// Node-wide detail, when asked for ([`SamplerConfig::node_detail`]).
    pub node: Option<NodeSlow>,
    /// Hardware counters of the RDMA ports (of the watched interfaces, when named).
    pub rdma: Vec<RdmaPortSample>,
}

/// Where counters come from (the kernel, or a test's fake).
pub trait CounterSource: Send + 'static {
    /// Counters of all interfaces (or at least of `watched`) into `out`, cleared first.
    fn read(
        &mut self,
        watched: &[WatchedLink],
        out: &mut Vec<(u32, Counters)>,
    ) -> Result<(), SamplerError>;
}

/// `RTM_GETSTATS`: one dump for all interfaces, or one request per interface when few are
/// watched among many.
pub struct RtnlSource {
    rtnl: Rtnl,
    /// Interfaces on the node at the last link read (decides dump vs per-interface).
    pub node_links: usize,
}

impl RtnlSource {
    /// Opens the netlink socket.
    pub fn open() -> Result<Self, SamplerError> {
        Ok(Self {
            rtnl: Rtnl::open_for_samples().map_err(|source| SamplerError::Netlink {
                what: "open an rtnetlink socket",
                source,
            })?,
            node_links: 0,
        })
    }
}

/// Per-interface requests beat one dump when the watched interfaces are at most this many
/// and a small part of the node's (a request costs about as much as three dumped entries;
/// see `benches/sampler.rs`).
const PER_IFACE_MAX: usize = 2;

impl CounterSource for RtnlSource {
    fn read(
        &mut self,
        watched: &[WatchedLink],
        out: &mut Vec<(u32, Counters)>,
    ) -> Result<(), SamplerError> {
        if watched.len() <= PER_IFACE_MAX && self.node_links > 4 * watched.len() {
            out.clear();
            for w in watched {
                // A vanished interface fails its request: it is simply missing from the sample.
                if let Ok(c) = self.rtnl.sample(w.ifindex) {
                    out.push((w.ifindex, c));
                }
            }
            return Ok(());
        }
        self.rtnl
            .sample_all(out)
            .map_err(|source| SamplerError::Netlink {
                what: "read interface counters (RTM_GETSTATS)",
                source,
            })
    }
}

/// The deadline grid of the fast thread.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    start_ns: u64,
    interval_ns: u64,
    k: u64,
}

impl Schedule {
    /// A grid starting at `start_ns`.
    pub fn new(start_ns: u64, interval_ns: u64) -> Self {
        Self {
            start_ns,
            interval_ns: interval_ns.max(1),
            k: 0,
        }
    }

    /// The deadline of the current step.
    pub fn deadline(&self) -> u64 {
        self.start_ns + self.k * self.interval_ns
    }

    /// Moves to the next deadline after a sample finished at `now`; returns the deadlines
    /// skipped because `now` is already past them.
    pub fn advance(&mut self, now: u64) -> u64 {
        self.k += 1;
        let next = self.deadline();
        if now <= next {
            return 0;
        }
        // Already past the next deadline: every deadline that is gone counts as missed, and
        // the next sample waits for the first one still ahead, keeping the grid.
        let behind = (now - next) / self.interval_ns + 1;
        self.k += behind;
        behind
    }
}

/// Starts the sampler on the live kernel. Fails at once (before any thread starts) when a
/// named interface does not exist.
///
/// With `source` bpf the eBPF source runs instead (an error when it cannot); with auto it
/// runs where it can, and otherwise the counter sampler runs after one line on stderr that
/// says why.
pub fn spawn<F>(cfg: SamplerConfig, sink: F) -> Result<SamplerHandle, SamplerError>
where
    F: FnMut(SamplerMsg) -> bool + Send + 'static,
{
    use super::bpf_source::{self, Source};
    match cfg.source {
        Source::Counters => {}
        Source::Bpf => return with_bins(bpf_source::prepare(&cfg)?.start(sink), cfg.bin_ns),
        Source::Auto => match bpf_source::prepare(&cfg) {
            Ok(p) => return with_bins(p.start(sink), cfg.bin_ns),
            Err(e @ SamplerError::NoSuchInterface(_)) => return Err(e),
            Err(e) => eprintln!("dpuctl: --source auto: sampling counters ({e})"),
        },
    }
    let mut slow = SlowReader::new(&cfg);
    let first = slow.read()?;
    for name in &cfg.ifaces {
        if !first.links.iter().any(|l| *l.name == **name) {
            return Err(SamplerError::NoSuchInterface(name.clone()));
        }
    }
    let mut source = RtnlSource::open()?;
    source.node_links = slow.node_links;
    spawn_with(cfg, SystemClock::default(), source, slow, first, sink)
}

/// The handle of a started eBPF source, marked with its bin width.
fn with_bins(
    h: Result<SamplerHandle, SamplerError>,
    bin_ns: u64,
) -> Result<SamplerHandle, SamplerError> {
    h.map(|mut h| {
        h.bin_ns = Some(bin_ns);
        h
    })
}

/// Starts the sampler with a given clock, counter source and slow reader (tests, benches).
pub fn spawn_with<C, S, F>(
    cfg: SamplerConfig,
    clock: C,
    source: S,
    mut slow: SlowReader,
    first: SlowRound,
    sink: F,
) -> Result<SamplerHandle, SamplerError>
where
    C: Clock,
    S: CounterSource,
    F: FnMut(SamplerMsg) -> bool + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let watched = first
        .links
        .iter()
        .map(|l| (l.ifindex, l.name.to_string()))
        .collect();
    let (tx, rx) = slow_channel();
    let slow_stop = stop.clone();
    let slow_every = Duration::from_nanos(cfg.slow_interval_ns.max(1_000_000));
    let slow_thread = std::thread::Builder::new()
        .name("dpuctl-slow".into())
        .spawn(move || slow_loop(&mut slow, &tx, &slow_stop, slow_every))
        .map_err(SamplerError::Thread)?;
    let fast_stop = stop.clone();
    let fast = std::thread::Builder::new()
        .name("dpuctl-sampler".into())
        .spawn(move || {
            fast_loop(&cfg, clock, source, first, &rx, sink, &fast_stop);
            // The slow thread sees the flag at its next wake-up.
            fast_stop.store(true, Ordering::Relaxed);
        })
        .map_err(SamplerError::Thread)?;
    Ok(SamplerHandle {
        stop,
        threads: vec![fast, slow_thread],
        watched,
        bin_ns: None,
    })
}

/// The slow thread's end of its channel to the fast thread.
pub struct SlowOutbox {
    tx: Sender<Result<SlowRound, SamplerError>>,
    ready: Arc<AtomicBool>,
}

/// The fast thread's end: the channel, and a flag raised with each round sent, so the fast
/// loop looks at the channel only when something is in it (one atomic load per sample).
pub struct SlowInbox {
    rx: Receiver<Result<SlowRound, SamplerError>>,
    ready: Arc<AtomicBool>,
}

/// The channel from the slow thread to the fast one.
pub fn slow_channel() -> (SlowOutbox, SlowInbox) {
    let (tx, rx) = mpsc::channel();
    let ready = Arc::new(AtomicBool::new(false));
    (
        SlowOutbox {
            tx,
            ready: ready.clone(),
        },
        SlowInbox { rx, ready },
    )
}

impl SlowOutbox {
    /// Sends a round; false when the fast thread has gone.
    pub fn send(&self, round: Result<SlowRound, SamplerError>) -> bool {
        let ok = self.tx.send(round).is_ok();
        self.ready.store(true, Ordering::Release);
        ok
    }
}

fn slow_loop(slow: &mut SlowReader, tx: &SlowOutbox, stop: &AtomicBool, every: Duration) {
    let start = Instant::now();
    let mut k = 1u32;
    while !stop.load(Ordering::Relaxed) {
        // Sleep in short steps so a stop request is seen quickly.
        let deadline = start + every * k;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
        k += 1;
        if !tx.send(slow.read()) {
            return;
        }
    }
}

/// The fast loop; public so tests drive it with a fake clock and source.
pub fn fast_loop<C: Clock, S: CounterSource, F: FnMut(SamplerMsg) -> bool>(
    cfg: &SamplerConfig,
    mut clock: C,
    mut source: S,
    first: SlowRound,
    inbox: &SlowInbox,
    mut sink: F,
    stop: &AtomicBool,
) {
    let mut links = first.links.clone();
    let mut pending = Some(first);
    let mut buf: Vec<(u32, Counters)> = Vec::with_capacity(64);
    let mut batch = Batch::default();
    let start = clock.now_ns();
    let mut sched = Schedule::new(start, cfg.interval_ns);
    let mut batch_start = start;
    // Wall time of a sample is derived from its monotonic time and a wall-clock reading taken
    // once per batch (one clock read per sample less; a wall-clock step shows a batch later).
    let mut wall = WallFromMono::read(&clock, start);
    let max_read_ns = max_read_ns(cfg.interval_ns);
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let deadline = sched.deadline();
        clock.sleep_until(deadline);
        // Slow reads that arrived: new link table, attach the rest to this sample.
        // A plain load first: the swap's write would take the cache line from the other
        // core on every sample.
        if inbox.ready.load(Ordering::Relaxed) && inbox.ready.swap(false, Ordering::Acquire) {
            while let Ok(r) = inbox.rx.try_recv() {
                match r {
                    Ok(round) => {
                        links.clone_from(&round.links);
                        pending = Some(round);
                    }
                    Err(e) => {
                        let _ = sink(SamplerMsg::Error(e));
                        return;
                    }
                }
            }
        }
        let t0 = clock.now_ns();
        if let Err(e) = source.read(&links, &mut buf) {
            if !batch.samples.is_empty() {
                let _ = sink(SamplerMsg::Batch(std::mem::take(&mut batch)));
            }
            let _ = sink(SamplerMsg::Error(e));
            return;
        }
        let t1 = clock.now_ns();
        batch.reads += 1;
        batch.read_ns += t1 - t0;
        // The counters were read somewhere between t0 and t1. A read that took long means
        // the thread was descheduled during it, and when the kernel read the counters is
        // unknown: such a sample would put bytes in the wrong interval (a whole burst in one
        // sample), so it is discarded and counted as missed; the next sample's interval then
        // spans the time and holds the bytes.
        if t1 - t0 > max_read_ns {
            batch.missed += 1;
        } else {
            let t = t0 + (t1 - t0) / 2;
            batch.max_late_ns = batch.max_late_ns.max(t.saturating_sub(deadline));
            let slow = pending.take();
            batch
                .samples
                .push(assemble(&links, &buf, slow, t, wall.at(t)));
        }
        // Putting the sample together takes about a microsecond: the read's end stands for
        // "now" in the schedule.
        batch.missed += sched.advance(t1);
        if t1.saturating_sub(batch_start) >= cfg.batch_ns {
            batch_start = t1;
            wall = WallFromMono::read(&clock, t1);
            let cap = batch.samples.len();
            let full = std::mem::take(&mut batch);
            batch.samples.reserve(cap);
            if !sink(SamplerMsg::Batch(full)) {
                return;
            }
        }
    }
    if !batch.samples.is_empty() {
        let _ = sink(SamplerMsg::Batch(batch));
    }
}

/// Wall-clock ms of a monotonic time, from one reading of both clocks.
#[derive(Debug, Clone, Copy)]
struct WallFromMono {
    mono_ns: u64,
    wall_ms: u64,
}

impl WallFromMono {
    fn read<C: Clock>(clock: &C, mono_ns: u64) -> Self {
        Self {
            mono_ns,
            wall_ms: clock.wall_ms(),
        }
    }

    fn at(&self, t_ns: u64) -> u64 {
        if t_ns >= self.mono_ns {
            self.wall_ms + (t_ns - self.mono_ns) / 1_000_000
        } else {
            self.wall_ms
                .saturating_sub((self.mono_ns - t_ns).div_ceil(1_000_000))
        }
    }
}

/// A read taking longer than this (ns) for an interval is discarded: half the interval,
/// at least 100 us (a dump of a hundred interfaces takes about that long).
pub fn max_read_ns(interval_ns: u64) -> u64 {
    (interval_ns / 2).max(100_000)
}

/// The sample of counters `buf` for the watched `links`, with the slow reads attached.
fn assemble(
    links: &[WatchedLink],
    buf: &[(u32, Counters)],
    mut slow: Option<SlowRound>,
    t: u64,
    wall_ms: u64,
) -> Sample {
    let mut ifaces = Vec::with_capacity(links.len());
    let node = slow.as_mut().and_then(|r| r.node.take()).map(Box::new);
    let rdma = slow
        .as_mut()
        .map(|r| std::mem::take(&mut r.rdma))
        .unwrap_or_default();
    // Both lists are in ifindex order (the kernel dumps in ifindex order, the links are
    // sorted): one merge walk, not a search per link.
    let mut bi = 0;
    for l in links {
        while bi < buf.len() && buf[bi].0 < l.ifindex {
            bi += 1;
        }
        let c = match buf.get(bi) {
            Some((i, c)) if *i == l.ifindex => c,
            // Out of order after all (never seen): fall back to a search.
            _ => match buf.iter().find(|(i, _)| *i == l.ifindex) {
                Some((_, c)) => c,
                None => continue,
            },
        };
        let s = slow.as_mut().and_then(|r| {
            r.ifaces
                .iter()
                .position(|(i, _)| *i == l.ifindex)
                .map(|p| Box::new(r.ifaces.swap_remove(p).1))
        });
        ifaces.push(IfaceSample {
            ifindex: l.ifindex,
            name: l.name.clone(),
            up: l.up,
            speed_mbps: l.speed_mbps,
            counters: *c,
            slow: s,
        });
    }
    Sample {
        t_ns: t,
        wall_ms,
        ifaces,
        sockets: slow.as_ref().and_then(|r| r.sockets),
        softnet: slow.and_then(|r| r.softnet),
        node,
        flows: Vec::new(),
        rdma,
    }
}

/// The slow reads of the live kernel.
pub struct SlowReader {
    names: Vec<String>,
    root: SysRoot,
    driver_stats: bool,
    node_detail: bool,
    rtnl: Option<Rtnl>,
    ethtool: Option<Ethtool>,
    /// The ioctl socket and counter buffers, kept across rounds (a socket and two mappings
    /// per interface and round otherwise).
    ioctl: Option<eth::ioctl::Session>,
    /// What the rounds keep per watched interface, by ifindex.
    known: HashMap<u32, Known>,
    round: u64,
    /// Interfaces on the node at the last read.
    pub node_links: usize,
    /// Link notifications: the link table is dumped again only when one arrived (or every
    /// `SPEED_EVERY` rounds, or always when the subscription failed).
    events: Option<crate::sys::netlink::LinkEvents>,
    /// The link table of the last dump, with the round it was read in.
    links: Option<(Vec<crate::sys::netlink::LinkAttrs>, u64)>,
    /// The RDMA ports' counter directories, with the round they were found in.
    rdma: Option<(crate::sys::rdma_counters::RdmaCounterFiles, u64)>,
    /// The traffic-control socket for the root qdiscs' classes, kept across rounds.
    tc: Option<crate::sys::tc::Tc>,
    /// The dcbnl socket for PFC counters, kept across rounds.
    dcb: Option<crate::sys::dcb::Dcb>,
    /// dcbnl requests sent so far (a driver without DCB is asked once).
    pub dcb_requests: u64,
}

/// Link speeds are asked again every this many rounds (or when the oper state changes):
/// they change with the link, which the oper state shows at once. Driver counter names,
/// the tx queue list and the hwmon sensors are found again as often (and at once when the
/// counter count changes or a file is gone).
const SPEED_EVERY: u64 = 8;

/// What the slow rounds keep of one interface from round to round.
#[derive(Default)]
struct Known {
    /// Driver name (asked once; `None` inside when the driver info cannot be read).
    driver: std::cell::OnceCell<Option<String>>,
    /// Driver counter names, shared by all samples while they stay the same, with the round
    /// they were read in.
    names: Option<(CounterNames, u64)>,
    /// The sysfs files each round reads.
    files: Option<IfaceFiles>,
    /// Link speed, with the round it was read in and whether the link was up then.
    speed: Option<(Option<u64>, u64, bool)>,
    /// The module EEPROM cannot be read (no module access, no privilege): not asked again.
    module_na: bool,
    /// dcbnl is not asked before this round: never again (`u64::MAX`) once the driver
    /// answered that it has no DCB, `SPEED_EVERY` rounds later after another error.
    dcb_next: u64,
}

/// The sysfs files of one interface that each round reads, with the name and round they
/// were found for.
struct IfaceFiles {
    name: Arc<str>,
    round: u64,
    tx_timeouts: sysfs::TxTimeoutFiles,
    temps: sysfs::TemperatureFiles,
}

impl IfaceFiles {
    fn find(root: &SysRoot, name: &Arc<str>, round: u64) -> Self {
        Self {
            name: name.clone(),
            round,
            tx_timeouts: sysfs::TxTimeoutFiles::find(root, name),
            temps: sysfs::TemperatureFiles::find(&sysfs::netdev_dirs(root, name)),
        }
    }
}

impl SlowReader {
    /// A reader for this config.
    pub fn new(cfg: &SamplerConfig) -> Self {
        Self {
            names: cfg.ifaces.clone(),
            root: cfg.root.clone(),
            driver_stats: cfg.driver_stats,
            node_detail: cfg.node_detail,
            rtnl: None,
            ethtool: None,
            ioctl: None,
            known: HashMap::new(),
            round: 0,
            node_links: 0,
            events: None,
            links: None,
            rdma: None,
            tc: None,
            dcb: None,
            dcb_requests: 0,
        }
    }

    /// One round of slow reads.
    pub fn read(&mut self) -> Result<SlowRound, SamplerError> {
        if self.rtnl.is_none() {
            self.rtnl = Some(Rtnl::open().map_err(|source| SamplerError::Netlink {
                what: "open an rtnetlink socket",
                source,
            })?);
        }
        self.round += 1;
        let all = self.link_table()?;
        self.node_links = all.len();
        if self.ethtool.is_none() {
            self.ethtool = Ethtool::open().ok();
        }
        let mut round = SlowRound::default();
        // The root qdiscs of every interface: one dump per round, for the band reads.
        if self.tc.is_none() {
            self.tc = crate::sys::tc::Tc::open().ok();
        }
        let qdiscs = self.tc.as_mut().and_then(|tc| tc.all_qdiscs().ok());
        let mut watched: Vec<_> = all
            .into_iter()
            .filter(|l| {
                if self.names.is_empty() {
                    l.name != "lo"
                } else {
                    self.names.contains(&l.name)
                }
            })
            .collect();
        watched.sort_by_key(|l| l.ifindex);
        self.known
            .retain(|i, _| watched.binary_search_by_key(i, |l| l.ifindex).is_ok());
        for l in &watched {
            let up = l.operstate == "up" || (l.operstate == "unknown" && l.carrier == Some(true));
            let known = self.known.entry(l.ifindex).or_default();
            let speed = match known.speed {
                Some((s, r, was_up)) if was_up == up && self.round - r < SPEED_EVERY => s,
                _ => {
                    let s = self
                        .ethtool
                        .as_mut()
                        .and_then(|e| e.link_info(&l.name).ok())
                        .and_then(|li| li.speed_mbps)
                        .map(u64::from);
                    known.speed = Some((s, self.round, up));
                    s
                }
            };
            let name: Arc<str> = Arc::from(l.name.as_str());
            round.links.push(WatchedLink {
                ifindex: l.ifindex,
                name: name.clone(),
                up,
                speed_mbps: speed,
            });
            let driver = known
                .driver
                .get_or_init(|| eth::ioctl::driver_info(&l.name).ok().map(|d| d.driver))
                .clone();
            let mut slow = SlowIface {
                driver,
                mtu: Some(l.mtu),
                carrier_changes: l.carrier_changes,
                ..SlowIface::default()
            };
            // Driver counters first: when their names change (a channel change, usually),
            // the queue files are found again in the same round.
            if self.driver_stats {
                match self.driver_counters(l.ifindex, &l.name) {
                    Ok(stats) => slow.driver_stats = Some(stats),
                    Err(e) => slow.driver_stats_na = Some(e.reason()),
                }
            }
            // The module's diagnostics, every SPEED_EVERY rounds (I2C reads are slow), never
            // again once the interface answered that it has no readable module.
            let module_na = self.known.get(&l.ifindex).is_some_and(|k| k.module_na);
            if !module_na && (self.round - 1).is_multiple_of(SPEED_EVERY) {
                match eth::module::read(self.ethtool.as_mut(), &l.name) {
                    crate::model::Avail::Ok(e) => {
                        slow.module = crate::module::decode(&e)
                            .ok()
                            .and_then(|m| crate::module::reading(&m));
                    }
                    crate::model::Avail::Na(_) => {
                        if let Some(k) = self.known.get_mut(&l.ifindex) {
                            k.module_na = true;
                        }
                    }
                }
            }
            (slow.tx_timeouts, slow.temps) = self.sysfs_reads(l.ifindex, &name);
            slow.bands = qdiscs.as_ref().and_then(|q| {
                let root = q.get(&l.ifindex)?.iter().find(|q| q.is_root())?;
                self.bands(l.ifindex, root)
            });
            slow.pfc = self.pfc_counters(l.ifindex, &l.name);
            round.ifaces.push((l.ifindex, slow));
        }
        let rows = procfs::softnet(&self.root).ok();
        round.softnet = rows.as_deref().map(SoftnetTotals::of);
        // Three small files of the sampler's network namespace, like softnet: the slow
        // rounds only, never per sample.
        let snmp = crate::sys::snmp::read(&self.root).ok();
        round.sockets = snmp.as_ref().map(SocketTotals::of);
        round.rdma = self.rdma_counters();
        if self.node_detail {
            let get = |k: &str| snmp.as_ref().and_then(|m| m.get(k).copied());
            round.node = Some(NodeSlow {
                softnet: rows.unwrap_or_default(),
                udp_rcvbuf_errors: get("Udp.RcvbufErrors"),
                udp_sndbuf_errors: get("Udp.SndbufErrors"),
            });
        }
        Ok(round)
    }

    /// The link table: dumped (`RTM_GETLINK`, a hundred microseconds for a few dozen links)
    /// when a link notification arrived since the last round, on the first round, every
    /// `SPEED_EVERY` rounds, and every round when notifications are unavailable; otherwise
    /// the last dump.
    fn link_table(&mut self) -> Result<Vec<crate::sys::netlink::LinkAttrs>, SamplerError> {
        if self.events.is_none() && self.links.is_none() {
            // Subscribed before the first dump, so that no change falls between the two.
            self.events = crate::sys::netlink::LinkEvents::open().ok();
        }
        let changed = match self
            .events
            .as_mut()
            .map(crate::sys::netlink::LinkEvents::changed)
        {
            Some(Ok(c)) => c,
            Some(Err(_)) | None => true,
        };
        if let Some((links, read_in)) = &self.links {
            if !changed && self.round - read_in < SPEED_EVERY {
                return Ok(links.clone());
            }
        }
        let rtnl = self.rtnl.as_mut().ok_or_else(|| SamplerError::Netlink {
            what: "list interfaces (RTM_GETLINK)",
            source: crate::sys::nl::NlError::Malformed("no rtnetlink socket".into()),
        })?;
        let all = rtnl.links().map_err(|source| SamplerError::Netlink {
            what: "list interfaces (RTM_GETLINK)",
            source,
        })?;
        self.links = Some((all.clone(), self.round));
        Ok(all)
    }

    /// The hardware counters of every RDMA port (of a watched interface, when interfaces are
    /// named), from the directories found at most `SPEED_EVERY` rounds ago (found again
    /// when one cannot be read: a device went away or came).
    fn rdma_counters(&mut self) -> Vec<RdmaPortSample> {
        use crate::sys::rdma_counters::RdmaCounterFiles;
        let round = self.round;
        if self
            .rdma
            .as_ref()
            .is_some_and(|(_, found)| round - found >= SPEED_EVERY)
        {
            self.rdma = None;
        }
        for attempt in 0..2 {
            let (files, _) = self
                .rdma
                .get_or_insert_with(|| (RdmaCounterFiles::find(&self.root), round));
            let names = &self.names;
            let read: Option<Vec<RdmaPortSample>> = files
                .ports
                .iter()
                .filter(|p| names.is_empty() || p.netdev.as_ref().is_none_or(|n| names.contains(n)))
                .map(|p| {
                    p.read().map(|r| RdmaPortSample {
                        device: p.device.clone(),
                        port: p.port,
                        driver: p.driver.clone(),
                        netdev: p.netdev.clone(),
                        counters: DriverStats {
                            names: p.names.clone(),
                            values: r.values,
                        },
                    })
                })
                .collect();
            match read {
                Some(v) => return v,
                None if attempt == 0 => self.rdma = None,
                None => {}
            }
        }
        Vec::new()
    }

    /// The classes of the root qdisc `root` with their counters (a class dump when the root
    /// is not the kernel's default); `None` when they cannot be read now (the device went
    /// away).
    fn bands(
        &mut self,
        ifindex: u32,
        root: &crate::model::qos::Qdisc,
    ) -> Option<Vec<super::bands::BandSample>> {
        let classes = self.tc.as_mut()?.root_classes(ifindex, root).ok()?;
        Some(
            classes
                .into_iter()
                .take(super::bands::MAX_BANDS)
                .map(|c| super::bands::BandSample {
                    class: c.handle,
                    kind: c.kind,
                    stats: c.stats,
                })
                .collect(),
        )
    }

    /// The PFC counters of dcbnl (`DCB_CMD_IEEE_GET`). A driver without DCB answers
    /// `EOPNOTSUPP` once and is never asked again; after another error it is asked again
    /// `SPEED_EVERY` rounds later.
    fn pfc_counters(&mut self, ifindex: u32, ifname: &str) -> Option<super::bands::PfcCounters> {
        let round = self.round;
        let known = self.known.entry(ifindex).or_default();
        if round < known.dcb_next {
            return None;
        }
        if self.dcb.is_none() {
            self.dcb = crate::sys::dcb::Dcb::open().ok();
        }
        let dcb = self.dcb.as_mut()?;
        self.dcb_requests += 1;
        match dcb.ieee(ifname) {
            Ok(state) => state.pfc.map(|p| super::bands::PfcCounters {
                requests: p.requests,
                indications: p.indications,
            }),
            Err(e) => {
                known.dcb_next = if e.is_unsupported() {
                    u64::MAX
                } else {
                    round + SPEED_EVERY
                };
                None
            }
        }
    }

    /// `tx_timeout` per queue and temperatures, from files found at most `SPEED_EVERY`
    /// rounds ago (found again when one is gone).
    fn sysfs_reads(
        &mut self,
        ifindex: u32,
        name: &Arc<str>,
    ) -> (Vec<(u32, u64)>, Vec<crate::model::Temperature>) {
        let (root, round) = (&self.root, self.round);
        let slot = &mut self.known.entry(ifindex).or_default().files;
        if slot
            .as_ref()
            .is_some_and(|f| f.name != *name || round - f.round >= SPEED_EVERY)
        {
            *slot = None;
        }
        let files = slot.get_or_insert_with(|| IfaceFiles::find(root, name, round));
        let tx = if let Some(tx) = files.tx_timeouts.read() {
            tx
        } else {
            *files = IfaceFiles::find(root, name, round);
            files.tx_timeouts.read().unwrap_or_default()
        };
        (tx, files.temps.read())
    }

    /// Driver counters (`ethtool -S`). While the names read at most `SPEED_EVERY` rounds ago
    /// still fit the device's count, only the values are asked (one ioctl, not three).
    fn driver_counters(
        &mut self,
        ifindex: u32,
        ifname: &str,
    ) -> Result<DriverStats, eth::EthtoolError> {
        if self.ioctl.is_none() {
            self.ioctl = eth::ioctl::Session::open().ok();
        }
        let Some(session) = self.ioctl.as_mut() else {
            // Without a session the one-shot read reports why it cannot read either.
            let stats = eth::ioctl::driver_stats(ifname)?;
            return Ok(DriverStats {
                names: stats.iter().map(|c| c.name.clone()).collect(),
                values: stats.iter().map(|c| c.value).collect(),
            });
        };
        let known = self.known.entry(ifindex).or_default();
        if let Some((names, read_in)) = &known.names {
            if self.round - read_in < SPEED_EVERY {
                if let Some(values) = session.values(ifname, names.len())? {
                    return Ok(DriverStats {
                        names: names.clone(),
                        values,
                    });
                }
            }
        }
        let stats = session.stats(ifname)?;
        let names = match &mut known.names {
            // Unchanged names stay the same shared list.
            Some((n, read_in))
                if n.len() == stats.len() && n.iter().zip(&stats).all(|(a, b)| *a == b.name) =>
            {
                *read_in = self.round;
                n.clone()
            }
            old => {
                let n: CounterNames = stats.iter().map(|c| c.name.clone()).collect();
                if old.replace((n.clone(), self.round)).is_some() {
                    // Changed names: the queues changed, find their files again.
                    known.files = None;
                }
                n
            }
        };
        Ok(DriverStats {
            names,
            values: stats.iter().map(|c| c.value).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock that only moves when told: sleeping jumps to the deadline, each read costs
    /// `read_cost` ns, and `stalls` add extra time at given reads.
    struct FakeClock {
        now: Arc<std::sync::atomic::AtomicU64>,
    }

    impl Clock for FakeClock {
        fn now_ns(&self) -> u64 {
            self.now.load(Ordering::Relaxed)
        }
        fn wall_ms(&self) -> u64 {
            1_700_000_000_000 + self.now_ns() / 1_000_000
        }
        fn sleep_until(&mut self, deadline_ns: u64) {
            self.now.fetch_max(deadline_ns, Ordering::Relaxed);
        }
    }

    struct FakeSource {
        now: Arc<std::sync::atomic::AtomicU64>,
        reads: u64,
        read_cost: u64,
        stall_at: u64,
        stall_ns: u64,
        vanish: std::ops::Range<u64>,
    }

    impl CounterSource for FakeSource {
        fn read(
            &mut self,
            _w: &[WatchedLink],
            out: &mut Vec<(u32, Counters)>,
        ) -> Result<(), SamplerError> {
            out.clear();
            let mut cost = self.read_cost;
            if self.reads == self.stall_at {
                cost += self.stall_ns;
            }
            self.now.fetch_add(cost, Ordering::Relaxed);
            out.push((
                1,
                Counters {
                    rx_bytes: self.reads * 100,
                    ..Counters::default()
                },
            ));
            if !self.vanish.contains(&self.reads) {
                out.push((2, Counters::default()));
            }
            self.reads += 1;
            Ok(())
        }
    }

    fn link(i: u32, name: &str) -> WatchedLink {
        WatchedLink {
            ifindex: i,
            name: Arc::from(name),
            up: true,
            speed_mbps: None,
        }
    }

    fn run(stall_at: u64, stall_ns: u64, n: usize) -> (Vec<Sample>, u64, u64) {
        let (samples, missed, batches, _) = run_reads(stall_at, stall_ns, n);
        (samples, missed, batches)
    }

    /// Also the reads and their summed time the batches reported.
    fn run_reads(stall_at: u64, stall_ns: u64, n: usize) -> (Vec<Sample>, u64, u64, (u64, u64)) {
        let now = Arc::new(std::sync::atomic::AtomicU64::new(5_000));
        let cfg = SamplerConfig {
            interval_ns: 100_000,
            batch_ns: 1_000_000,
            ..SamplerConfig::default()
        };
        let first = SlowRound {
            links: vec![link(1, "a"), link(2, "b")],
            ..SlowRound::default()
        };
        let (_tx, rx) = slow_channel();
        let stop = AtomicBool::new(false);
        let mut samples = Vec::new();
        let mut missed = 0;
        let mut batches = 0;
        let mut reads = (0, 0);
        fast_loop(
            &cfg,
            FakeClock { now: now.clone() },
            FakeSource {
                now,
                reads: 0,
                read_cost: 7_000,
                stall_at,
                stall_ns,
                vanish: 20..25,
            },
            first,
            &rx,
            |m| {
                let SamplerMsg::Batch(b) = m else {
                    panic!("unexpected error")
                };
                batches += 1;
                missed += b.missed;
                reads = (reads.0 + b.reads, reads.1 + b.read_ns);
                samples.extend(b.samples);
                samples.len() < n
            },
            &stop,
        );
        (samples, missed, batches, reads)
    }

    #[test]
    fn batches_count_every_read_and_its_time_discarded_ones_included() {
        // Read 10 takes 350 us more than the 7 us of the others: discarded (over the 100 us
        // bound), but counted with its time.
        let (samples, missed, _, (reads, read_ns)) = run_reads(10, 350_000, 30);
        assert!(missed > 0);
        assert_eq!(reads, samples.len() as u64 + 1);
        assert_eq!(read_ns, reads * 7_000 + 350_000);
    }

    #[test]
    fn samples_sit_on_the_deadline_grid_and_are_batched() {
        let (samples, missed, batches) = run(u64::MAX, 0, 50);
        assert_eq!(missed, 0);
        assert!(samples.len() >= 50);
        // Each read takes 7 us: a sample's time is the middle of its read.
        for (k, s) in samples.iter().enumerate() {
            assert_eq!(s.t_ns, 5_000 + k as u64 * 100_000 + 3_500, "sample {k}");
        }
        // 100 us interval, batches every 1 ms: about ten samples per batch.
        assert!((4..=6).contains(&batches), "{batches} batches");
    }

    #[test]
    fn a_stall_is_reported_as_missed_deadlines_and_the_grid_holds() {
        // Read 10 takes 350 us more: deadlines 11, 12 and 13 are gone, and read 10 itself is
        // discarded (when the kernel read the counters in those 357 us is unknown).
        let (samples, missed, _) = run(10, 350_000, 30);
        assert_eq!(missed, 4);
        let t: Vec<u64> = samples.iter().map(|s| (s.t_ns - 5_000) / 1_000).collect();
        assert_eq!(t[9], 903);
        // Read 10 ends at 1000+357 us: the deadline at 1300 is gone, 1400 is next.
        assert_eq!(t[10], 1_403);
        assert!(samples
            .iter()
            .skip(10)
            .all(|s| (s.t_ns - 5_000 - 3_500) % 100_000 == 0));
    }

    #[test]
    fn a_slow_read_is_discarded_only_past_the_limit() {
        // 90 us more on a 7 us read at 100 us intervals: 97 us, under the 100 us limit, kept.
        let (samples, missed, _) = run(10, 90_000, 30);
        assert_eq!(missed, 0);
        assert_eq!(samples[10].t_ns, 5_000 + 1_000_000 + 48_500);
        assert_eq!(max_read_ns(1_000_000), 500_000);
        assert_eq!(max_read_ns(100_000), 100_000);
    }

    #[test]
    fn a_vanished_interface_is_missing_from_its_samples() {
        let (samples, _, _) = run(u64::MAX, 0, 30);
        assert_eq!(samples[19].ifaces.len(), 2);
        assert_eq!(samples[20].ifaces.len(), 1);
        assert_eq!(samples[24].ifaces.len(), 1);
        assert_eq!(samples[25].ifaces.len(), 2);
        assert_eq!(samples[0].ifaces[0].name.as_ref(), "a");
    }

    /// An RDMA port's `hw_counters` as `sysfs-class-infiniband` lays them out.
    fn rdma_port(sys: &std::path::Path, dev: &str, netdev: &str, counters: &[(&str, u64)]) {
        let d = sys.join("devices/virtual/infiniband").join(dev);
        let p = d.join("ports/1");
        std::fs::create_dir_all(p.join("hw_counters")).expect("mkdir");
        std::fs::create_dir_all(p.join("gid_attrs/ndevs")).expect("mkdir");
        std::fs::write(p.join("gid_attrs/ndevs/0"), format!("{netdev}\n")).expect("ndev");
        std::fs::write(d.join("node_desc"), "rxe\n").expect("node_desc");
        std::fs::write(d.join("parent"), format!("{netdev}\n")).expect("parent");
        for (n, v) in counters {
            std::fs::write(p.join("hw_counters").join(n), format!("{v}\n")).expect("counter");
        }
        std::fs::create_dir_all(sys.join("class/infiniband")).expect("mkdir");
        std::os::unix::fs::symlink(
            format!("../../devices/virtual/infiniband/{dev}"),
            sys.join("class/infiniband").join(dev),
        )
        .expect("ln");
    }

    #[test]
    fn slow_reads_carry_the_rdma_ports_of_the_watched_interfaces() {
        let t = tempfile::tempdir().expect("tempdir");
        let sys = t.path().join("sys");
        rdma_port(&sys, "rxe0", "eth0", &[("completer_retry_err", 7)]);
        rdma_port(&sys, "rxe1", "eth1", &[("completer_retry_err", 1)]);
        let root = SysRoot::new(&sys, t.path().join("proc"));
        let mut all = SlowReader::new(&SamplerConfig {
            root: root.clone(),
            ..SamplerConfig::default()
        });
        let got = all.rdma_counters();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].key(), "rxe0/1");
        assert_eq!(got[0].driver.as_deref(), Some("rxe"));
        assert_eq!(got[0].counters.get("completer_retry_err"), Some(7));
        let mut one = SlowReader::new(&SamplerConfig {
            ifaces: vec!["eth1".into()],
            root,
            ..SamplerConfig::default()
        });
        let got = one.rdma_counters();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key(), "rxe1/1");
        // The device went away: found again at once, without it.
        std::fs::remove_file(sys.join("class/infiniband/rxe0")).expect("rm");
        std::fs::remove_dir_all(sys.join("devices/virtual/infiniband/rxe0")).expect("rm");
        let got = all.rdma_counters();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key(), "rxe1/1");
    }

    #[test]
    fn schedule_skips_whole_intervals_only() {
        let mut s = Schedule::new(0, 100);
        assert_eq!(s.advance(50), 0);
        assert_eq!(s.deadline(), 100);
        // Finished at 250: deadline 200 is gone, 300 is next (one missed).
        assert_eq!(s.advance(250), 1);
        assert_eq!(s.deadline(), 300);
        // Finished at 399: before the deadline at 400, no miss.
        assert_eq!(s.advance(399), 0);
        assert_eq!(s.deadline(), 400);
        // Finished 1 ns after the next deadline: that one is missed.
        assert_eq!(s.advance(501), 1);
        assert_eq!(s.deadline(), 600);
    }
}
