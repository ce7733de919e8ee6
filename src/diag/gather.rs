//! Fills [`Inputs`] from the live kernel: a counter reading at the start and at the end of
//! the window, and a 1 ms series of interface counters in between for microbursts. All
//! kernel access goes through the `sys` readers.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::evidence::{IfaceSample, Inputs, Peer, PeerAttrs, Sample, Series, Window};
use crate::model::{Avail, Counters, NodeState};
use crate::monitor::bpf_source::{self, Source};
use crate::monitor::microburst::Interval;
use crate::monitor::sampler::{SamplerConfig, SamplerMsg};
use crate::sys::ethtool::Ethtool;
use crate::sys::netlink::Rtnl;
use crate::sys::{procfs, snmp, sysfs, write, SysRoot};

/// Interval of the fine counter series.
pub const SERIES_STEP: Duration = Duration::from_millis(1);

/// Shortest and longest accepted window.
const MIN_WINDOW: Duration = Duration::from_millis(100);
const MAX_WINDOW: Duration = Duration::from_secs(600);

/// Parses a window length: `5s`, `500ms`, `1m`, or plain seconds (`3`, `2.5`).
pub fn parse_window(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration (examples: 5s, 500ms, 1m)");
    // A bare number is seconds here (there is no other unit a window could mean).
    let d = match text.trim().parse::<f64>() {
        Ok(secs) => Duration::try_from_secs_f64(secs).map_err(|_| bad())?,
        Err(_) => crate::units::parse_duration(text).map_err(|_| bad())?,
    };
    if d < MIN_WINDOW || d > MAX_WINDOW {
        return Err(format!("window {text:?} is out of range (100ms to 10m)"));
    }
    Ok(d)
}

/// Inputs without live counters (a snapshot, or a fixture root): `why` there is no window,
/// and what is known about irqbalance.
pub fn without_window(node: NodeState, why: &str, irqbalance: Avail<Option<u32>>) -> Inputs {
    Inputs {
        node,
        window: Avail::na(why),
        irqbalance,
        capture: Vec::new(),
        peers: Avail::na(why),
        line_rate_bps: None,
        read_only_sysctls: Vec::new(),
        nccl_conf: None,
    }
}

/// The other end of every veth among the interfaces of `node`, read through rtnetlink in
/// the peer's own namespace (`IFLA_LINK_NETNSID`): an interface of this namespace that happens
/// to have the peer's ifindex is never taken for it.
pub fn peers(node: &NodeState) -> Avail<Vec<Peer>> {
    let mut rtnl = match Rtnl::open() {
        Ok(r) => r,
        Err(e) => return Avail::na(format!("rtnetlink: {e}")),
    };
    let refs = match rtnl.link_refs() {
        Ok(r) => r,
        Err(e) => return Avail::na(format!("failed to list links: {e}")),
    };
    let mut out = Vec::new();
    for i in node
        .interfaces
        .iter()
        .filter(|i| i.kind.as_deref() == Some("veth"))
    {
        let Some(r) = refs.iter().find(|r| r.ifindex == i.ifindex) else {
            continue;
        };
        let attrs = match rtnl.link_by_index(r.link, r.netnsid) {
            Ok(l) => Avail::Ok(PeerAttrs {
                name: l.name,
                mtu: l.mtu,
            }),
            Err(e) => Avail::na(match r.netnsid {
                Some(id) => format!(
                    "the peer (ifindex {}) is in another network namespace (id {id}) that \
                     could not be read: {e}",
                    r.link
                ),
                None => format!("the peer (ifindex {}) could not be read: {e}", r.link),
            }),
        };
        out.push(Peer {
            iface: i.name.clone(),
            ifindex: r.link,
            netnsid: r.netnsid,
            attrs,
        });
    }
    Avail::Ok(out)
}

/// Reads every counter the checks use, for the interfaces of `node`.
fn sample(
    root: &SysRoot,
    rtnl: &mut Rtnl,
    mut eth: Option<&mut Ethtool>,
    node: &NodeState,
    t_ms: u64,
) -> anyhow::Result<Sample> {
    let mut counters = Vec::new();
    rtnl.sample_all(&mut counters)
        .map_err(|e| anyhow::anyhow!("failed to read interface counters: {e}"))?;
    let links = rtnl
        .links()
        .map_err(|e| anyhow::anyhow!("failed to list interfaces: {e}"))?;
    let mut interfaces = Vec::with_capacity(node.interfaces.len());
    for i in &node.interfaces {
        // Only where the snapshot of the node found FEC: no request bound to fail per sample.
        let fec_uncorrectable = match (i.fec.get(), eth.as_deref_mut()) {
            (Some(_), Some(e)) => e.fec(&i.name).ok().and_then(|f| f.uncorrectable),
            _ => None,
        };
        let pause = match (
            i.pause.get().and_then(|p| p.stats.as_ref()),
            eth.as_deref_mut(),
        ) {
            (Some(_), Some(e)) => e.pause(&i.name).ok().and_then(|p| p.stats),
            _ => None,
        };
        interfaces.push(IfaceSample {
            name: i.name.clone(),
            counters: counters
                .iter()
                .find(|(ix, _)| *ix == i.ifindex)
                .map(|(_, c)| *c)
                .unwrap_or_default(),
            driver: eth
                .as_deref()
                .and_then(|e| e.driver_stats(&i.name).ok())
                .map(|v| v.into_iter().map(|c| (c.name, c.value)).collect())
                .unwrap_or_default(),
            carrier_changes: links
                .iter()
                .find(|l| l.ifindex == i.ifindex)
                .and_then(|l| l.carrier_changes),
            tx_timeouts: sysfs::queues(root, &i.name)
                .iter()
                .filter_map(|q| q.tx_timeout)
                .reduce(|a, b| a + b),
            fec_uncorrectable,
            rx_pause_frames: pause.as_ref().and_then(|p| p.rx_pause_frames),
            tx_pause_frames: pause.as_ref().and_then(|p| p.tx_pause_frames),
        });
    }
    let irq_affinity = node
        .interfaces
        .iter()
        .flat_map(|i| &i.irqs)
        .filter_map(|q| {
            let (aff, eff) = procfs::irq_affinity(root, q.irq);
            eff.or(aff).map(|s| (q.irq, s))
        })
        .collect();
    Ok(Sample {
        t_ms,
        interfaces,
        softnet: procfs::softnet(root).unwrap_or_default(),
        proto: snmp::read(root).unwrap_or_default(),
        irq_affinity,
        rdma: crate::sys::rdma::hw_counters_of(root, &node.rdma),
    })
}

/// Receive and transmit intervals between two readings.
fn intervals(a: &Counters, b: &Counters, start_ns: u64, dur_ns: u64) -> (Interval, Interval) {
    let rx = Interval {
        start_ns,
        dur_ns,
        bytes: b.rx_bytes.saturating_sub(a.rx_bytes),
        packets: b.rx_packets.saturating_sub(a.rx_packets),
        drops: Some(
            (b.rx_dropped + b.rx_missed_errors + b.rx_fifo_errors + b.rx_over_errors)
                .saturating_sub(
                    a.rx_dropped + a.rx_missed_errors + a.rx_fifo_errors + a.rx_over_errors,
                ),
        ),
    };
    let tx = Interval {
        start_ns,
        dur_ns,
        bytes: b.tx_bytes.saturating_sub(a.tx_bytes),
        packets: b.tx_packets.saturating_sub(a.tx_packets),
        drops: Some(b.tx_dropped.saturating_sub(a.tx_dropped)),
    };
    (rx, tx)
}

/// Measures a window of `len` on the live kernel for the interfaces of `node`; `progress`
/// gets the elapsed time about ten times a second.
pub fn measure(
    root: &SysRoot,
    node: NodeState,
    len: Duration,
    progress: &mut dyn FnMut(Duration, Duration),
) -> anyhow::Result<Inputs> {
    measure_from(root, node, len, progress, Source::Counters, None)
}

/// [`measure`] with the fine series from `source`: the 1 ms counter series, or the eBPF
/// source's bins (hot bins one interval each at `line_rate_bps`, or the link speed; see
/// `monitor::bins`). With `Auto`, a source that cannot run falls back to counters after one
/// line on stderr that says why.
pub fn measure_from(
    root: &SysRoot,
    node: NodeState,
    len: Duration,
    progress: &mut dyn FnMut(Duration, Duration),
    source: Source,
    line_rate_bps: Option<u64>,
) -> anyhow::Result<Inputs> {
    let bpf = match source {
        Source::Counters => None,
        Source::Bpf | Source::Auto => {
            let cfg = SamplerConfig {
                ifaces: node.interfaces.iter().map(|i| i.name.clone()).collect(),
                driver_stats: false,
                root: root.clone(),
                source: Source::Bpf,
                line_rate_bps,
                ..SamplerConfig::default()
            };
            match bpf_source::prepare(&cfg) {
                Ok(p) => Some(p),
                Err(e) if source == Source::Auto => {
                    eprintln!("dpuctl: --source auto: sampling counters ({e})");
                    None
                }
                Err(e) => return Err(anyhow::Error::new(e).context("failed to measure")),
            }
        }
    };
    let mut rtnl = Rtnl::open().map_err(|e| anyhow::anyhow!("failed to open rtnetlink: {e}"))?;
    let mut eth = Ethtool::open().ok();
    let t0 = Instant::now();
    let start = sample(root, &mut rtnl, eth.as_mut(), &node, 0)?;
    let by_index: BTreeMap<u32, String> = node
        .interfaces
        .iter()
        .map(|i| (i.ifindex, i.name.clone()))
        .collect();
    let mut series: BTreeMap<String, Series> = by_index
        .values()
        .map(|n| (n.clone(), Series::default()))
        .collect();
    let mut prev: BTreeMap<u32, (Counters, u64)> = BTreeMap::new();
    let mut buf = Vec::new();
    let mut next = t0;
    let mut last_progress = Duration::ZERO;
    if let Some(p) = bpf {
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = p.start(move |m| tx.send(m).is_ok())?;
        while t0.elapsed() < len {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(SamplerMsg::Batch(b)) => {
                    for smp in &b.samples {
                        for is in &smp.ifaces {
                            let Some(name) = by_index.get(&is.ifindex) else {
                                continue;
                            };
                            if let Some((pc, pt)) = prev.get(&is.ifindex) {
                                let dur = smp.t_ns.saturating_sub(*pt).max(1);
                                let (r, t) = intervals(pc, &is.counters, *pt, dur);
                                if let Some(s) = series.get_mut(name) {
                                    s.rx.push(r);
                                    s.tx.push(t);
                                }
                            }
                            prev.insert(is.ifindex, (is.counters, smp.t_ns));
                        }
                    }
                }
                Ok(SamplerMsg::Error(e)) => {
                    return Err(anyhow::Error::new(e).context("eBPF source stopped"));
                }
                Err(_) => {}
            }
            progress(t0.elapsed().min(len), len);
        }
        handle.join();
    }
    while t0.elapsed() < len {
        let now_ns = t0.elapsed().as_nanos() as u64;
        rtnl.sample_all(&mut buf)
            .map_err(|e| anyhow::anyhow!("failed to read interface counters: {e}"))?;
        for (ix, c) in &buf {
            let Some(name) = by_index.get(ix) else {
                continue;
            };
            if let Some((pc, pt)) = prev.get(ix) {
                let (rx, tx) = intervals(pc, c, *pt, now_ns.saturating_sub(*pt).max(1));
                if let Some(s) = series.get_mut(name) {
                    s.rx.push(rx);
                    s.tx.push(tx);
                }
            }
            prev.insert(*ix, (*c, now_ns));
        }
        let el = t0.elapsed();
        if el.saturating_sub(last_progress) >= Duration::from_millis(100) {
            progress(el, len);
            last_progress = el;
        }
        // Absolute deadlines: a late wake-up shortens the next sleep instead of drifting.
        next += SERIES_STEP;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        } else {
            next = Instant::now();
        }
    }
    let end_ms = t0.elapsed().as_millis() as u64;
    let end = sample(root, &mut rtnl, eth.as_mut(), &node, end_ms)?;
    progress(len, len);
    Ok(Inputs {
        node,
        window: Avail::Ok(Window { start, end, series }),
        irqbalance: Avail::Ok(write::irqbalance_pid(root)),
        capture: Vec::new(),
        peers: Avail::na("not read"),
        line_rate_bps: None,
        read_only_sysctls: Vec::new(),
        nccl_conf: if root.is_live() { nccl_conf() } else { None },
    })
}

/// The nccl.conf NCCL would read: `$NCCL_CONF_FILE`, else `/etc/nccl.conf`; `None` when
/// there is none or it cannot be read as text.
pub fn nccl_conf() -> Option<super::evidence::NcclConfFile> {
    let path = std::env::var_os("NCCL_CONF_FILE")
        .map_or_else(|| std::path::PathBuf::from("/etc/nccl.conf"), Into::into);
    let text =
        crate::input::read_text(&path, crate::input::MAX_CONFIG_BYTES, "nccl.conf files").ok()?;
    Some(super::evidence::NcclConfFile {
        path: path.display().to_string(),
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_lengths() {
        assert_eq!(parse_window("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_window("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_window("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_window("2.5"), Ok(Duration::from_millis(2500)));
        assert!(parse_window("10ms")
            .expect_err("too short")
            .contains("out of range"));
        assert!(parse_window("fast")
            .expect_err("not a number")
            .contains("not a duration"));
        assert!(parse_window("-1s").is_err());
    }

    #[test]
    fn intervals_are_counter_differences() {
        let a = Counters {
            rx_bytes: 100,
            rx_packets: 1,
            rx_dropped: 1,
            tx_bytes: 5,
            ..Counters::default()
        };
        let b = Counters {
            rx_bytes: 1100,
            rx_packets: 3,
            rx_dropped: 2,
            rx_missed_errors: 4,
            tx_bytes: 5,
            ..Counters::default()
        };
        let (rx, tx) = intervals(&a, &b, 7, 1_000_000);
        assert_eq!(
            (rx.bytes, rx.packets, rx.drops, rx.start_ns),
            (1000, 2, Some(5), 7)
        );
        assert_eq!((tx.bytes, tx.packets), (0, 0));
    }
}
