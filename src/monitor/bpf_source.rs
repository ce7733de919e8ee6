//! The eBPF sample source (`--source bpf`): the same [`SamplerMsg`] stream as the counter
//! sampler, from the in-kernel time bins of [`crate::sys::bpf`].
//!
//! One thread drains the bins every 50-100 ms (the batch interval), cuts them into
//! intervals with [`Binner`] (one interval per hot bin, quiet time merged) and hands the
//! samples to the sink. Bytes and packets come from the bins; the other interface counters
//! (drops, errors) from one `RTM_GETSTATS` read per drain, so they change at drain
//! resolution, on the drain's last sample. The slow reads (link table, speeds, driver
//! counters, ...) run on the same thread at the refresh interval, as with counters.
//!
//! The interfaces are those watched at the start; an interface created later is not seen.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::bins::{Binner, Cum, Point};
use super::sample::{IfaceFlows, IfaceSample, Sample, TopFlow};
use super::sampler::{
    Batch, CounterSource, RtnlSource, SamplerConfig, SamplerError, SamplerHandle, SamplerMsg,
    SlowReader, SlowRound, WatchedLink,
};
use crate::model::Counters;
use crate::sys::bpf::{self, BinProbe, FlowKey, RawBin};

/// Where samples come from (`--source`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// In-kernel time bins (eBPF), with the top flows of each burst.
    Bpf,
    /// Interface counters read every sample interval.
    #[default]
    Counters,
    /// eBPF where the kernel, BTF and privilege allow it, else counters (the reason is
    /// printed).
    Auto,
}

/// Default bin width, ns.
pub const DEFAULT_BIN_NS: u64 = 10_000;

/// The source, loaded and attached, not yet running.
pub struct Prepared {
    cfg: SamplerConfig,
    probe: BinProbe,
    slow: SlowReader,
    first: SlowRound,
    counters: RtnlSource,
}

fn bpf_err(e: &bpf::BpfError) -> SamplerError {
    SamplerError::Bpf(e.to_string())
}

/// Checks privilege and BTF, reads the links, loads and attaches the program. Nothing is
/// attached when it fails.
pub fn prepare(cfg: &SamplerConfig) -> Result<Prepared, SamplerError> {
    bpf::preflight().map_err(|e| bpf_err(&e))?;
    let mut slow = SlowReader::new(cfg);
    let first = slow.read()?;
    for name in &cfg.ifaces {
        if !first.links.iter().any(|l| *l.name == **name) {
            return Err(SamplerError::NoSuchInterface(name.clone()));
        }
    }
    let ifaces: Vec<(u32, String)> = first
        .links
        .iter()
        .map(|l| (l.ifindex, l.name.to_string()))
        .collect();
    let probe = BinProbe::open(&ifaces, cfg.bin_ns).map_err(|e| bpf_err(&e))?;
    let mut counters = RtnlSource::open()?;
    counters.node_links = slow.node_links;
    Ok(Prepared {
        cfg: cfg.clone(),
        probe,
        slow,
        first,
        counters,
    })
}

impl Prepared {
    /// Program ids, as `(name, id)`.
    pub fn program_ids(&self) -> Vec<(String, u32)> {
        self.probe.program_ids()
    }

    /// Starts the drain thread.
    pub fn start<F>(self, sink: F) -> Result<SamplerHandle, SamplerError>
    where
        F: FnMut(SamplerMsg) -> bool + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let watched = self
            .first
            .links
            .iter()
            .map(|l| (l.ifindex, l.name.to_string()))
            .collect();
        let s = stop.clone();
        let t = std::thread::Builder::new()
            .name("dpuctl-bpf".into())
            .spawn(move || {
                run(self, sink, &s);
                s.store(true, Ordering::Relaxed);
            })
            .map_err(SamplerError::Thread)?;
        Ok(SamplerHandle::from_parts(stop, vec![t], watched))
    }
}

/// Bytes per bin above which a bin is hot: the burst threshold at the line rate.
pub fn cap_bytes(line_rate_bps: Option<u64>, threshold: f64, width_ns: u64) -> Option<f64> {
    line_rate_bps
        .filter(|r| *r > 0)
        .map(|r| threshold * r as f64 * width_ns as f64 / 8e9)
}

fn flow(k: &FlowKey, bytes: u64) -> TopFlow {
    TopFlow {
        src: k.src,
        dst: k.dst,
        sport: k.sport,
        dport: k.dport,
        proto: k.proto,
        bytes,
    }
}

/// The sample of a point: bytes and packets from the bins, the other counters from the
/// latest `RTM_GETSTATS` read.
pub fn sample_of(
    p: &Point,
    t_ns: u64,
    wall_ms: u64,
    links: &[WatchedLink],
    counters: &[(u32, Counters)],
) -> Sample {
    let mut ifaces = Vec::with_capacity(p.ifaces.len());
    let mut flows = Vec::new();
    for pi in &p.ifaces {
        let Some(l) = links.iter().find(|l| l.ifindex == pi.ifindex) else {
            continue;
        };
        let mut c = counters
            .iter()
            .find(|(i, _)| *i == pi.ifindex)
            .map(|(_, c)| *c)
            .unwrap_or_default();
        c.rx_bytes = pi.cum.rx_bytes;
        c.rx_packets = pi.cum.rx_packets;
        c.tx_bytes = pi.cum.tx_bytes;
        c.tx_packets = pi.cum.tx_packets;
        ifaces.push(IfaceSample {
            ifindex: pi.ifindex,
            name: l.name.clone(),
            up: l.up,
            speed_mbps: l.speed_mbps,
            counters: c,
            slow: None,
        });
        if !pi.rx_flows.is_empty() || !pi.tx_flows.is_empty() {
            flows.push(IfaceFlows {
                ifindex: pi.ifindex,
                rx: pi.rx_flows.iter().map(|(k, b)| flow(k, *b)).collect(),
                tx: pi.tx_flows.iter().map(|(k, b)| flow(k, *b)).collect(),
            });
        }
    }
    Sample {
        t_ns,
        wall_ms,
        ifaces,
        flows,
        ..Sample::default()
    }
}

fn wall_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn set_caps(b: &mut Binner, cfg: &SamplerConfig, links: &[WatchedLink], width: u64) {
    for l in links {
        let rate = cfg
            .line_rate_bps
            .or(l.speed_mbps.map(|m| m.saturating_mul(1_000_000)));
        b.set_cap(l.ifindex, cap_bytes(rate, cfg.burst_threshold, width));
    }
}

fn run<F: FnMut(SamplerMsg) -> bool>(prepared: Prepared, mut sink: F, stop: &AtomicBool) {
    let Prepared {
        cfg,
        mut probe,
        mut slow,
        first,
        counters: mut src,
    } = prepared;
    let width = probe.width_ns();
    let drain_ns = cfg.batch_ns.clamp(50_000_000, 100_000_000);
    let base_ns = bpf::monotonic_ns();
    let start = probe.bin_of(base_ns) + 1;
    let mut links = first.links.clone();
    let mut buf: Vec<(u32, Counters)> = Vec::new();
    if let Err(e) = src.read(&links, &mut buf) {
        let _ = sink(SamplerMsg::Error(e));
        return;
    }
    let mut binner = Binner::new(start);
    for l in &links {
        let c = buf
            .iter()
            .find(|(i, _)| *i == l.ifindex)
            .map(|(_, c)| *c)
            .unwrap_or_default();
        binner.add_iface(
            l.ifindex,
            Cum {
                rx_bytes: c.rx_bytes,
                rx_packets: c.rx_packets,
                tx_bytes: c.tx_bytes,
                tx_packets: c.tx_packets,
            },
        );
    }
    set_caps(&mut binner, &cfg, &links, width);
    // The baseline sample at the start, with the first slow round.
    let base_point = Point {
        edge: start,
        ifaces: links
            .iter()
            .map(|l| {
                let c = buf
                    .iter()
                    .find(|(i, _)| *i == l.ifindex)
                    .map(|(_, c)| *c)
                    .unwrap_or_default();
                super::bins::PointIface {
                    ifindex: l.ifindex,
                    cum: Cum {
                        rx_bytes: c.rx_bytes,
                        rx_packets: c.rx_packets,
                        tx_bytes: c.tx_bytes,
                        tx_packets: c.tx_packets,
                    },
                    rx_flows: Vec::new(),
                    tx_flows: Vec::new(),
                }
            })
            .collect(),
    };
    let mut first_sample = sample_of(
        &base_point,
        probe.edge_mono(start).saturating_sub(base_ns),
        wall_now_ms(),
        &links,
        &buf,
    );
    attach_slow(&mut first_sample, first);
    let mut pending = vec![first_sample];
    let slow_every = cfg.slow_interval_ns.max(drain_ns);
    let mut next_slow = base_ns + slow_every;
    let mut prev_counters = buf.clone();
    let mut raw: Vec<RawBin> = Vec::new();
    let mut step = 1u64;
    loop {
        let deadline = base_ns + step * drain_ns;
        step += 1;
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let now = bpf::monotonic_ns();
            if now >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_nanos((deadline - now).min(20_000_000)));
        }
        let now = bpf::monotonic_ns();
        // The bin open now and the one before may still take a packet counted on another
        // CPU: the horizon stays one bin behind.
        let horizon = probe.bin_of(now).saturating_sub(1);
        let t0 = bpf::monotonic_ns();
        if let Err(e) = probe.drain(horizon, &mut raw) {
            let _ = sink(SamplerMsg::Error(bpf_err(&e)));
            return;
        }
        binner.push(&raw);
        raw.clear();
        if let Err(e) = src.read(&links, &mut buf) {
            let _ = sink(SamplerMsg::Error(e));
            return;
        }
        let mut round = None;
        if now >= next_slow {
            next_slow += slow_every;
            match slow.read() {
                Ok(r) => {
                    links.clone_from(&r.links);
                    set_caps(&mut binner, &cfg, &links, width);
                    round = Some(r);
                }
                Err(e) => {
                    let _ = sink(SamplerMsg::Error(e));
                    return;
                }
            }
        }
        let points = binner.emit(horizon);
        let wall = wall_now_ms();
        let count = points.len();
        for (i, p) in points.iter().enumerate() {
            let last = i + 1 == count;
            let c = if last { &buf } else { &prev_counters };
            let t_mono = probe.edge_mono(p.edge);
            let w = wall.saturating_sub(now.saturating_sub(t_mono) / 1_000_000);
            let mut s = sample_of(p, t_mono.saturating_sub(base_ns), w, &links, c);
            if last {
                if let Some(r) = round.take() {
                    attach_slow(&mut s, r);
                }
            }
            pending.push(s);
        }
        prev_counters.clone_from(&buf);
        let t1 = bpf::monotonic_ns();
        let batch = Batch {
            samples: std::mem::take(&mut pending),
            missed: 0,
            max_late_ns: now.saturating_sub(deadline),
            reads: 1,
            read_ns: t1 - t0,
        };
        if !sink(SamplerMsg::Batch(batch)) {
            return;
        }
    }
}

/// Puts a slow round's reads on a sample, as the counter sampler does.
fn attach_slow(s: &mut Sample, mut r: SlowRound) {
    s.softnet = r.softnet;
    s.sockets = r.sockets;
    s.node = r.node.take().map(Box::new);
    s.rdma = std::mem::take(&mut r.rdma);
    for i in &mut s.ifaces {
        if let Some(p) = r.ifaces.iter().position(|(x, _)| *x == i.ifindex) {
            i.slow = Some(Box::new(r.ifaces.swap_remove(p).1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::bins::PointIface;

    #[test]
    fn caps_are_the_threshold_share_of_a_bin_at_line_rate() {
        // 10 Gbit/s for 10 us = 12500 bytes; half of it.
        assert_eq!(cap_bytes(Some(10_000_000_000), 0.5, 10_000), Some(6250.0));
        assert_eq!(cap_bytes(None, 0.5, 10_000), None);
        assert_eq!(cap_bytes(Some(0), 0.5, 10_000), None);
    }

    #[test]
    fn samples_take_bytes_from_bins_and_the_rest_from_counters() {
        let links = vec![WatchedLink {
            ifindex: 4,
            name: Arc::from("veth0"),
            up: true,
            speed_mbps: None,
        }];
        let counters = vec![(
            4,
            Counters {
                rx_bytes: 1,
                rx_dropped: 9,
                ..Counters::default()
            },
        )];
        let k = FlowKey {
            src: "10.0.0.1".parse().expect("ip"),
            dst: "10.0.0.2".parse().expect("ip"),
            sport: 1,
            dport: 2,
            proto: 17,
        };
        let p = Point {
            edge: 1_000,
            ifaces: vec![PointIface {
                ifindex: 4,
                cum: Cum {
                    rx_bytes: 500,
                    rx_packets: 5,
                    tx_bytes: 7,
                    tx_packets: 1,
                },
                rx_flows: vec![(k, 400)],
                tx_flows: vec![],
            }],
        };
        let s = sample_of(&p, 8_000_000, 77, &links, &counters);
        assert_eq!(s.t_ns, 8_000_000);
        assert_eq!(s.wall_ms, 77);
        let c = s.ifaces[0].counters;
        assert_eq!(
            (c.rx_bytes, c.rx_packets, c.tx_bytes, c.rx_dropped),
            (500, 5, 7, 9)
        );
        assert_eq!(s.flows.len(), 1);
        assert_eq!(s.flows[0].rx[0].bytes, 400);
        assert_eq!(s.flows[0].rx[0].sport, 1);
    }
}
