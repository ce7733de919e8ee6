//! `dpuctl stats`: the rates, bursts and alerts of `watch`, streamed as tables or JSON lines.

use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::{GlobalArgs, StatsArgs, StatsFormat};
use crate::monitor::config::{self, Settings};
use crate::monitor::microburst::{bursts_table, fmt_duration, Burst};
use crate::monitor::record::{self, Header, Recorder};
use crate::monitor::sampler::{self, SamplerError, SamplerMsg};
use crate::monitor::{Alert, ClassRate, Engine, IfaceView, QueueView, Sample, SocketRates, View};
use crate::sys::{procfs, SysRoot};

/// Runs `dpuctl stats`.
pub fn run(_global: &GlobalArgs, root: &SysRoot, args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let mut settings = config::settings(&super::monitor_options(&args.monitor), root)?;
    settings.sampler.ifaces.clone_from(&args.ifaces);
    // The flight recorder serves the screen (dump the last minutes after the fact); a stream
    // has `--record` for that, so stats does not pay for encoding every sample twice.
    settings.engine.flight = None;
    let mut out = Printer::new(args.format);
    if let Some(path) = &args.replay {
        replay(path, args, &settings, &mut out)?;
    } else {
        live(root, args, &settings, &mut out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Emits a view every `interval` of sample time.
struct Driver {
    engine: Engine,
    interval_ns: u64,
    next: Option<u64>,
    printed: u64,
    count: Option<u64>,
    origin_ns: u64,
    /// Samples ingested since the last print.
    pending: bool,
}

impl Driver {
    fn new(settings: &Settings, args: &StatsArgs) -> Self {
        Self {
            engine: Engine::new(settings.engine.clone()),
            interval_ns: (args.interval.as_nanos() as u64).max(1),
            next: None,
            printed: 0,
            count: args.count,
            origin_ns: 0,
            pending: false,
        }
    }

    fn done(&self) -> bool {
        self.count.is_some_and(|c| self.printed >= c)
    }

    /// Ingests a sample; prints when it closes an interval. Returns false once `--count`
    /// intervals are printed.
    fn sample(&mut self, s: &Sample, out: &mut Printer) -> anyhow::Result<bool> {
        self.engine.ingest(s);
        self.pending = true;
        let next = *self.next.get_or_insert_with(|| {
            self.origin_ns = s.t_ns;
            s.t_ns + self.interval_ns
        });
        if s.t_ns >= next {
            // Far behind (a stalled sampler): the next boundary after this sample.
            let k = (s.t_ns - next) / self.interval_ns + 1;
            self.next = Some(next + k * self.interval_ns);
            let last = self.count.is_some_and(|c| self.printed + 1 >= c);
            if last {
                self.engine.finish();
            }
            let v = self.engine.view();
            out.view(&v, self.origin_ns)?;
            self.printed += 1;
            self.pending = false;
        }
        Ok(!self.done())
    }

    /// End of input: prints what is left (bursts still running end here).
    fn finish(&mut self, out: &mut Printer) -> anyhow::Result<()> {
        if self.done() || self.next.is_none() {
            return Ok(());
        }
        self.engine.finish();
        let v = self.engine.view();
        // A last interval only when something happened since the previous one (samples, or a
        // burst that was still running).
        let ended = v.ifaces.iter().any(|i| !i.ended_bursts.is_empty());
        if self.pending || ended || !v.new_alerts.is_empty() {
            out.view(&v, self.origin_ns)?;
        }
        Ok(())
    }
}

fn replay(
    path: &std::path::Path,
    args: &StatsArgs,
    settings: &Settings,
    out: &mut Printer,
) -> anyhow::Result<()> {
    let mut r = record::Reader::open(path)?;
    let mut d = Driver::new(settings, args);
    let watch: Vec<String> = args.ifaces.clone();
    let mut seen = vec![false; watch.len()];
    while let Some(mut s) = r.next_sample()? {
        if !watch.is_empty() {
            s.ifaces.retain(|i| watch.iter().any(|w| **w == *i.name));
            s.rdma.retain(|p| p.watched(&watch));
            for i in &s.ifaces {
                if let Some(p) = watch.iter().position(|w| **w == *i.name) {
                    seen[p] = true;
                }
            }
        }
        if !d.sample(&s, out)? {
            return Ok(());
        }
    }
    if let Some(p) = seen.iter().position(|s| !s) {
        anyhow::bail!(
            "failed to replay {}: no interface \"{}\" in the recording",
            path.display(),
            watch[p]
        );
    }
    d.finish(out)
}

fn live(
    root: &SysRoot,
    args: &StatsArgs,
    settings: &Settings,
    out: &mut Printer,
) -> anyhow::Result<()> {
    if !root.is_live() {
        anyhow::bail!(
            "failed to start stats: live sampling reads netlink and needs the live /sys and /proc \
             (drop --sysfs-root/--procfs-root, or use --replay FILE)"
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())
            .context("failed to install signal handler")?;
    }
    let (tx, rx) = mpsc::sync_channel::<SamplerMsg>(256);
    let handle = sampler::spawn(settings.sampler.clone(), move |m| tx.send(m).is_ok()).map_err(
        |e| match e {
            SamplerError::NoSuchInterface(name) => {
                anyhow::anyhow!("failed to watch interface \"{name}\": no such interface")
            }
            other => anyhow::Error::new(other).context("failed to start the sampler"),
        },
    )?;
    let mut recorder = match &settings.record {
        Some(path) => {
            let host = procfs::hostname(root).unwrap_or_default();
            let wall = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let h = Header::new(&host, &args.ifaces, wall, settings.sampler.interval_ns);
            Some(Recorder::create(path, &h)?)
        }
        None => None,
    };
    let mut d = Driver::new(settings, args);
    let result = (|| -> anyhow::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            let msg = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(m) => m,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            match msg {
                SamplerMsg::Batch(b) => {
                    d.engine.note_missed(b.missed);
                    for s in &b.samples {
                        if let Some(r) = &mut recorder {
                            r.write(s)?;
                        }
                        if !d.sample(s, out)? {
                            return Ok(());
                        }
                    }
                }
                SamplerMsg::Error(e) => {
                    return Err(anyhow::Error::new(e).context("sampler stopped"));
                }
            }
        }
        d.finish(out)
    })();
    // Closing the channel first: a sampler blocked on a full channel sees it and stops.
    drop(rx);
    handle.join();
    if let Some(r) = &mut recorder {
        r.flush()?;
    }
    result
}

/// One interface in a JSON interval line.
#[derive(Serialize)]
struct JIface<'a> {
    name: &'a str,
    ifindex: u32,
    present: bool,
    up: bool,
    line_rate_bps: Option<u64>,
    rx_bps: f64,
    tx_bps: f64,
    rx_pps: f64,
    tx_pps: f64,
    rx_missed: f64,
    rx_fifo: f64,
    rx_crc: f64,
    rx_dropped: f64,
    rx_over: f64,
    rx_errors: f64,
    tx_dropped: f64,
    tx_errors: f64,
    tx_timeout: f64,
    rx_util: Option<f64>,
    tx_util: Option<f64>,
    rx_bursts: u64,
    tx_bursts: u64,
    counter_resets: u64,
    classes: &'a [ClassRate],
    /// Driver counters no table knows, only those that moved.
    raw: Vec<&'a ClassRate>,
    queues: &'a [QueueView],
    #[serde(skip_serializing_if = "Option::is_none")]
    driver_stats_na: Option<&'a str>,
    /// Pause by side and priority, with the share of the period spent paused.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pause: &'a [crate::monitor::pause::PauseView],
    /// Where per-priority pause frames come from: `dcbnl` or `ethtool`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pfc_source: Option<&'a str>,
    /// Classes (bands) of the root qdisc; absent when it has none.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    bands: &'a [crate::monitor::bands::BandView],
}

#[derive(Serialize)]
struct JInterval<'a> {
    r#type: &'static str,
    t_ns: u64,
    wall_ms: u64,
    samples: u64,
    missed_deadlines: u64,
    softnet_dropped: f64,
    softnet_squeezed: f64,
    /// Socket-level drops per second; null until two reads were seen.
    sockets: Option<SocketRates>,
    ifaces: Vec<JIface<'a>>,
    /// RDMA ports: hardware counter rates by class, and each counter (unclassified ones only
    /// when they moved).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rdma: Vec<JRdma<'a>>,
}

/// One RDMA port in a JSON interval line.
#[derive(Serialize)]
struct JRdma<'a> {
    device: &'a str,
    port: u32,
    netdev: Option<&'a str>,
    driver: &'a str,
    present: bool,
    classes: &'a [crate::monitor::view::RdmaClassRate],
    counters: Vec<&'a ClassRate>,
}

#[derive(Serialize)]
struct JBurst<'a> {
    r#type: &'static str,
    iface: &'a str,
    dir: &'a str,
    #[serde(flatten)]
    burst: &'a Burst,
    duration_est_ns: u64,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    top_flows: &'a [crate::monitor::sample::TopFlow],
}

#[derive(Serialize)]
struct JAlert<'a> {
    r#type: &'static str,
    #[serde(flatten)]
    alert: &'a Alert,
}

struct Printer {
    format: StatsFormat,
    buf: Vec<u8>,
}

impl Printer {
    fn new(format: StatsFormat) -> Self {
        Self {
            format,
            buf: Vec::with_capacity(8192),
        }
    }

    fn view(&mut self, v: &View, origin_ns: u64) -> anyhow::Result<()> {
        self.buf.clear();
        match self.format {
            StatsFormat::Jsonl => self.jsonl(v)?,
            StatsFormat::Table => self.table(v, origin_ns),
        }
        let mut so = std::io::stdout().lock();
        so.write_all(&self.buf)?;
        so.flush()?;
        Ok(())
    }

    fn jsonl(&mut self, v: &View) -> anyhow::Result<()> {
        for i in &v.ifaces {
            for b in &i.ended_bursts {
                serde_json::to_writer(
                    &mut self.buf,
                    &JBurst {
                        r#type: "burst",
                        iface: &i.name,
                        dir: &b.dir,
                        burst: &b.burst,
                        duration_est_ns: b.duration_est_ns,
                        top_flows: &b.top_flows,
                    },
                )?;
                self.buf.push(b'\n');
            }
        }
        for a in &v.new_alerts {
            serde_json::to_writer(
                &mut self.buf,
                &JAlert {
                    r#type: "alert",
                    alert: a,
                },
            )?;
            self.buf.push(b'\n');
        }
        let line = JInterval {
            r#type: "interval",
            t_ns: v.t_ns,
            wall_ms: v.wall_ms,
            samples: v.samples,
            missed_deadlines: v.missed_deadlines,
            softnet_dropped: v.softnet_dropped,
            softnet_squeezed: v.softnet_squeezed,
            sockets: v.sockets,
            ifaces: v.ifaces.iter().map(jiface).collect(),
            rdma: v
                .rdma
                .iter()
                .map(|p| JRdma {
                    device: &p.device,
                    port: p.port,
                    netdev: p.netdev.as_deref(),
                    driver: &p.driver,
                    present: p.present,
                    classes: &p.classes,
                    counters: p
                        .counters
                        .iter()
                        .filter(|c| c.class != "raw" || c.rate > 0.0)
                        .collect(),
                })
                .collect(),
        };
        serde_json::to_writer(&mut self.buf, &line)?;
        self.buf.push(b'\n');
        Ok(())
    }

    fn table(&mut self, v: &View, origin_ns: u64) {
        let mut out = String::new();
        let secs = v.t_ns.saturating_sub(origin_ns) as f64 / 1e9;
        // One token per cell, headers included, so that `awk '{print $2}'` picks a column;
        // scripts that want every field use --format jsonl.
        let mut table = crate::output::table(&[
            "iface",
            "rx_bit/s",
            "tx_bit/s",
            "rx_pkt/s",
            "tx_pkt/s",
            "util_rx/tx",
            "drops/s",
            "bursts_rx/tx",
        ]);
        for i in &v.ifaces {
            let r = &i.rates;
            let drops = r.rx_dropped + r.rx_missed + r.rx_fifo + r.tx_dropped;
            let util = match (r.rx_util, r.tx_util) {
                (Some(a), Some(b)) => format!("{:.0}%/{:.0}%", a * 100.0, b * 100.0),
                _ => "n/a".into(),
            };
            table.add_row(vec![
                if i.present {
                    i.name.clone()
                } else {
                    format!("{}(gone)", i.name)
                },
                fmt_bps(r.rx_bps),
                fmt_bps(r.tx_bps),
                format!("{:.0}", r.rx_pps),
                format!("{:.0}", r.tx_pps),
                util,
                format!("{drops:.0}"),
                format!("{}/{}", i.rx_bursts.count, i.tx_bursts.count),
            ]);
        }
        let _ = write!(out, "-- {secs:.3}s");
        if v.missed_deadlines > 0 {
            let _ = write!(out, " ({} sample deadlines missed)", v.missed_deadlines);
        }
        out.push('\n');
        crate::output::push_table(&mut out, &table);
        if let Some(so) = &v.sockets {
            // Drops no interface counter shows: the datagram reached the socket, which had
            // no room. One `name/s value` pair each, for awk.
            let _ = writeln!(
                out,
                "sockets udp_rcvbuf_errors/s {:.0} udp_in_errors/s {:.0} tcp_backlog_drop/s {:.0} \
                 tcp_listen_drops/s {:.0} tcp_listen_overflows/s {:.0}",
                so.udp_rcvbuf_errors,
                so.udp_in_errors,
                so.tcp_backlog_drop,
                so.tcp_listen_drops,
                so.tcp_listen_overflows
            );
        }
        for i in &v.ifaces {
            for dir in ["rx", "tx"] {
                let bursts: Vec<Burst> = i
                    .ended_bursts
                    .iter()
                    .filter(|b| b.dir == dir)
                    .map(|b| b.burst.clone())
                    .collect();
                if bursts.is_empty() {
                    continue;
                }
                let longest = bursts.iter().map(|b| b.duration_ns).max().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "{} {dir} bursts: {} (longest {})",
                    i.name,
                    bursts.len(),
                    fmt_duration(longest)
                );
                crate::output::push_table(&mut out, &bursts_table(&bursts, origin_ns));
                for b in i.ended_bursts.iter().filter(|b| b.dir == dir) {
                    if b.top_flows.is_empty() {
                        continue;
                    }
                    let flows: Vec<String> = b
                        .top_flows
                        .iter()
                        .map(|f| format!("{f} {}B", f.bytes))
                        .collect();
                    let _ = writeln!(
                        out,
                        "{} {dir} burst at {:.6}s top flows: {}",
                        i.name,
                        b.burst.start_ns.saturating_sub(origin_ns) as f64 / 1e9,
                        flows.join(", ")
                    );
                }
            }
        }
        for i in &v.ifaces {
            for l in pause_lines(i) {
                let _ = writeln!(out, "{l}");
            }
        }
        for p in &v.rdma {
            let _ = writeln!(out, "{}", rdma_line(p));
        }
        for i in &v.ifaces {
            for l in band_lines(i) {
                let _ = writeln!(out, "{l}");
            }
        }
        for a in &v.new_alerts {
            let _ = writeln!(out, "ALERT {}", a.message);
        }
        self.buf.extend_from_slice(out.as_bytes());
    }
}

fn jiface(i: &IfaceView) -> JIface<'_> {
    let r = &i.rates;
    JIface {
        name: &i.name,
        ifindex: i.ifindex,
        present: i.present,
        up: i.up,
        line_rate_bps: i.line_rate_bps,
        rx_bps: r.rx_bps,
        tx_bps: r.tx_bps,
        rx_pps: r.rx_pps,
        tx_pps: r.tx_pps,
        rx_missed: r.rx_missed,
        rx_fifo: r.rx_fifo,
        rx_crc: r.rx_crc,
        rx_dropped: r.rx_dropped,
        rx_over: r.rx_over,
        rx_errors: r.rx_errors,
        tx_dropped: r.tx_dropped,
        tx_errors: r.tx_errors,
        tx_timeout: r.tx_timeout,
        rx_util: r.rx_util,
        tx_util: r.tx_util,
        rx_bursts: i.rx_bursts.count,
        tx_bursts: i.tx_bursts.count,
        counter_resets: i.counter_resets,
        classes: &i.classes,
        raw: i.raw.iter().filter(|c| c.rate > 0.0).collect(),
        queues: &i.queues,
        driver_stats_na: i.driver_stats_na.as_deref(),
        pause: &i.pause,
        pfc_source: i.pfc_source.as_deref(),
        bands: &i.bands,
    }
}

/// One line per band of the root qdisc that sent, dropped, requeued or held packets in the
/// period, as `name value` pairs for awk: `eth0 band 2 class 1:3 ets bit/s 1.20M pkt/s 100
/// drops/s 5 requeues/s 0 backlog_bytes 3000 backlog_pkts 2`.
fn band_lines(i: &IfaceView) -> Vec<String> {
    i.bands
        .iter()
        .filter(|b| {
            b.bps > 0.0
                || b.drops > 0.0
                || b.requeues > 0.0
                || b.backlog_bytes > 0
                || b.backlog_packets > 0
        })
        .map(|b| {
            format!(
                "{} band {} class {} {} bit/s {} pkt/s {:.0} drops/s {:.0} requeues/s {:.0} \
                 backlog_bytes {} backlog_pkts {}",
                i.name,
                b.band.map_or_else(|| "-".to_string(), |x| x.to_string()),
                b.class,
                b.kind,
                fmt_bps(b.bps),
                b.pps,
                b.drops,
                b.requeues,
                b.backlog_bytes,
                b.backlog_packets
            )
        })
        .collect()
}

/// One line per side and priority that paused in the period: frames per second and the share
/// of the period spent paused (rx: received, the peer slows us; tx: sent, we slow the peer).
fn pause_lines(i: &IfaceView) -> Vec<String> {
    let mut out = Vec::new();
    for p in &i.pause {
        if p.frames_per_s == 0.0 && p.share.unwrap_or(0.0) == 0.0 {
            continue;
        }
        let prio = p
            .priority
            .map_or_else(|| "link-level".to_string(), |x| format!("priority {x}"));
        let who = if p.dir == "tx" {
            "sent, we slow the peer"
        } else {
            "received, the peer slows us"
        };
        let share = match (p.share, p.source) {
            (Some(s), Some(crate::monitor::pause::ShareSource::FrameEstimate)) => {
                format!("up to {:.1}% of the link (from frames)", s * 100.0)
            }
            (Some(s), _) => format!("{:.1}% of the link", s * 100.0),
            (None, _) => "share n/a (no duration counter, no line rate)".to_string(),
        };
        out.push(format!(
            "{} pause {} {prio} ({who}): {:.0}/s, {share}",
            i.name, p.dir, p.frames_per_s
        ));
    }
    out
}

/// One line per RDMA port: its netdev, then a `class/s value` pair per class its driver's
/// table knows, for awk: `rdma rxe0/1 netdev rs0 retransmits/s 15 sequence_errors/s 0 ...`.
fn rdma_line(p: &crate::monitor::view::RdmaPortView) -> String {
    let mut l = format!(
        "rdma {}{} netdev {}",
        p.key(),
        if p.present { "" } else { "(gone)" },
        p.netdev.as_deref().unwrap_or("-")
    );
    if p.classes.is_empty() {
        let _ = write!(l, " (no classified counters for driver {})", p.driver);
    }
    for c in &p.classes {
        let _ = write!(l, " {}/s {}", c.class, fmt_count_rate(c.rate));
    }
    l
}

/// An event rate in one token: whole numbers from 10 up, one decimal below ("0", "0.5", "15").
fn fmt_count_rate(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v < 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// Bits per second in one token, with an SI prefix: "9.41G", "120.00M", "0".
fn fmt_bps(bps: f64) -> String {
    let (v, u) = if bps >= 1e9 {
        (bps / 1e9, "G")
    } else if bps >= 1e6 {
        (bps / 1e6, "M")
    } else if bps >= 1e3 {
        (bps / 1e3, "k")
    } else {
        return format!("{bps:.0}");
    };
    format!("{v:.2}{u}")
}

#[cfg(test)]
mod rdma_tests {
    use super::*;
    use crate::monitor::view::{RdmaClassRate, RdmaPortView};

    #[test]
    fn rdma_lines_name_the_port_its_netdev_and_each_class_rate() {
        let class = |class: &str, rate| RdmaClassRate {
            class: class.into(),
            rate,
            total: 9,
        };
        let mut p = RdmaPortView {
            device: "rxe0".into(),
            port: 1,
            netdev: Some("rs0".into()),
            driver: "rxe".into(),
            present: true,
            classes: vec![
                class("retransmits", 120.4),
                class("sequence_errors", 0.0),
                class("out_of_buffer", 0.25),
            ],
            counters: vec![],
        };
        assert_eq!(
            rdma_line(&p),
            "rdma rxe0/1 netdev rs0 retransmits/s 120 sequence_errors/s 0 out_of_buffer/s 0.2"
        );
        p.present = false;
        p.netdev = None;
        p.classes.clear();
        p.driver = "bnxt_re".into();
        assert_eq!(
            rdma_line(&p),
            "rdma rxe0/1(gone) netdev - (no classified counters for driver bnxt_re)"
        );
    }
}

#[cfg(test)]
mod band_tests {
    use super::*;
    use crate::monitor::bands::BandView;

    #[test]
    fn band_lines_skip_idle_bands_and_name_every_value() {
        let i = IfaceView {
            name: "eth0".into(),
            bands: vec![
                BandView {
                    class: "1:1".into(),
                    kind: "ets".into(),
                    band: Some(0),
                    ..BandView::default()
                },
                BandView {
                    class: "1:3".into(),
                    kind: "ets".into(),
                    band: Some(2),
                    bps: 1_200_000.0,
                    pps: 100.0,
                    drops: 5.0,
                    backlog_bytes: 3000,
                    backlog_packets: 2,
                    ..BandView::default()
                },
                BandView {
                    class: "1:10".into(),
                    kind: "htb".into(),
                    band: None,
                    backlog_packets: 1,
                    ..BandView::default()
                },
            ],
            ..IfaceView::default()
        };
        assert_eq!(
            band_lines(&i),
            [
                "eth0 band 2 class 1:3 ets bit/s 1.20M pkt/s 100 drops/s 5 requeues/s 0 backlog_bytes 3000 backlog_pkts 2",
                "eth0 band - class 1:10 htb bit/s 0 pkt/s 0 drops/s 0 requeues/s 0 backlog_bytes 0 backlog_pkts 1",
            ]
        );
    }
}

#[cfg(test)]
mod pause_tests {
    use super::*;
    use crate::monitor::pause::{PauseView, ShareSource};

    #[test]
    fn pause_lines_name_side_priority_and_share_and_skip_idle_ones() {
        let mut i = IfaceView {
            name: "eth0".into(),
            ..IfaceView::default()
        };
        i.pause = vec![
            PauseView {
                dir: "rx".into(),
                priority: Some(3),
                frames_per_s: 40000.0,
                share: Some(0.217),
                source: Some(ShareSource::Duration),
            },
            PauseView {
                dir: "tx".into(),
                priority: None,
                frames_per_s: 100.0,
                share: Some(0.3356),
                source: Some(ShareSource::FrameEstimate),
            },
            PauseView {
                dir: "tx".into(),
                priority: Some(3),
                frames_per_s: 0.0,
                share: Some(0.0),
                source: Some(ShareSource::Duration),
            },
            PauseView {
                dir: "rx".into(),
                priority: None,
                frames_per_s: 5.0,
                share: None,
                source: None,
            },
        ];
        assert_eq!(
            pause_lines(&i),
            [
                "eth0 pause rx priority 3 (received, the peer slows us): 40000/s, 21.7% of the link",
                "eth0 pause tx link-level (sent, we slow the peer): 100/s, up to 33.6% of the link (from frames)",
                "eth0 pause rx link-level (received, the peer slows us): 5/s, share n/a (no duration counter, no line rate)",
            ]
        );
    }
}
