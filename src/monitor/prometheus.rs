//! The Prometheus text exposition format (0.0.4) of what the engine accumulated.
//!
//! Pure: [`render`] turns [`Totals`] and a little about the sampler into the body of a
//! `GET /metrics`, so a scrape costs a formatting pass over data already in memory and asks
//! the kernel nothing. Every series is monotonic or a current value; nothing resets when it
//! is read, so scrapers at any interval (and a pair of HA Prometheus servers) agree.
//!
//! Naming follows the Prometheus guides: a `dpuctl_` prefix, base units (bytes, seconds,
//! celsius, ratio), `_total` on counters, `_info` for metadata, and queue, direction, class,
//! CPU and sensor as labels, never inside a name.

use std::fmt::Write as _;

use super::rate::{counters_array, N_COUNTERS};
use super::totals::{Histogram, IfaceTotals, Totals};

/// `dpuctl exporter --help` after the options.
pub const EXPORTER_HELP: &str = "Examples:
  dpuctl exporter                                  all interfaces, http://127.0.0.1:9059/metrics
  dpuctl exporter eth2 eth3 --listen 0.0.0.0:9059  serve every address (explicit)
  dpuctl exporter eth2 --line-rate 100G --raw-counter 'rx_prio*_pause'
  dpuctl exporter --check throughput --check-interval 30s

The sampler runs as for `stats` (--sample-interval 1ms by default); a scrape renders what it
has accumulated and asks the kernel nothing. Counters are the kernel's own (they match
`ip -s link`); microbursts are counters and histograms that only grow, so any scrape
interval sees every burst. GET /metrics answers the Prometheus text format 0.0.4, GET / a
short page, anything else 404. SIGTERM or SIGINT stops it cleanly.

Metrics (prefix dpuctl_): network_{receive,transmit}_{bytes,packets,errors,dropped}_total and
each error counter of `ip -s link` (receive_crc_errors_total, receive_missed_errors_total,
receive_fifo_errors_total, receive_over_errors_total, ...), network_transmit_timeouts_total,
network_up, network_speed_bytes, network_mtu_bytes, network_carrier_changes_total,
network_info; queue_{packets,bytes,drops}_total{queue,direction},
queue_transmit_timeouts_total; driver_class_total{class}; driver_stat{stat} (--raw-counter);
pause_frames_total, pause_seconds_total{direction,priority,source} (per-priority frames from
dcbnl where the driver has DCB, else from ethtool -S); qdisc_class_{bytes,packets,drops,
requeues,overlimits}_total, qdisc_class_backlog_{bytes,packets}{class,band} (the root qdisc's
classes, read each slow round);
microbursts_total, microburst_{bytes,drops}_total, microburst_duration_seconds (histogram,
100us..1s), sample_utilization_ratio (histogram) {direction}; softnet_{processed,dropped,
times_squeezed}_total{cpu}; udp_{receive,send}_buffer_errors_total;
nic_temperature{,_critical}_celsius{sensor}; module_temperature{,_high_warning}_celsius,
module_{receive,transmit}_power_dbm{lane}, module_{receive,transmit}_power_low_warning_dbm (modules,
read every few slow rounds; needs CAP_NET_ADMIN); rdma_counter_total{device,port,counter,class}
(RDMA hw_counters that have a class: retransmits, timeouts, sequence_errors, out_of_buffer,
cnp_sent, cnp_handled, ecn_marked), rdma_port_info{device,port,interface,driver};
alert_active, alerts_total{metric};
sampler_{interval_seconds,samples_total,missed_deadlines_total,reads_total,
read_seconds_total}; profile_{drifted,skipped,compared}_settings{profile} (--check);
build_info.

Runs unprivileged; where a driver refuses its counters (ethtool -S) without CAP_NET_ADMIN,
they are left out. --check reads what `dpuctl check` reads.
Exit codes: 0 stopped by a signal, 2 error (bad flags, address in use, missing interface).";

/// Content type of the body.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Where the interface counters go: metric name (after `dpuctl_network_`) and help, per
/// field of `rtnl_link_stats64` (the order of [`counters_array`]).
const IFACE_COUNTERS: [(&str, &str); N_COUNTERS] = [
    ("receive_packets_total", "Packets received (rx_packets)."),
    (
        "transmit_packets_total",
        "Packets transmitted (tx_packets).",
    ),
    ("receive_bytes_total", "Bytes received (rx_bytes)."),
    ("transmit_bytes_total", "Bytes transmitted (tx_bytes)."),
    (
        "receive_errors_total",
        "Receive errors, all kinds (rx_errors).",
    ),
    (
        "transmit_errors_total",
        "Transmit errors, all kinds (tx_errors).",
    ),
    (
        "receive_dropped_total",
        "Received packets dropped by the stack or driver (rx_dropped).",
    ),
    (
        "transmit_dropped_total",
        "Packets dropped on transmit (tx_dropped).",
    ),
    (
        "receive_multicast_total",
        "Multicast packets received (multicast).",
    ),
    ("collisions_total", "Collisions (collisions)."),
    (
        "receive_length_errors_total",
        "Frames with a bad length (rx_length_errors).",
    ),
    (
        "receive_over_errors_total",
        "Receive ring overruns (rx_over_errors).",
    ),
    (
        "receive_crc_errors_total",
        "Frames with a bad CRC/FCS (rx_crc_errors).",
    ),
    (
        "receive_frame_errors_total",
        "Frame alignment errors (rx_frame_errors).",
    ),
    (
        "receive_fifo_errors_total",
        "Receive FIFO overruns in the NIC (rx_fifo_errors).",
    ),
    (
        "receive_missed_errors_total",
        "Packets the NIC missed for lack of host buffers (rx_missed_errors).",
    ),
    (
        "transmit_aborted_errors_total",
        "Aborted transmits (tx_aborted_errors).",
    ),
    (
        "transmit_carrier_errors_total",
        "Transmit carrier errors (tx_carrier_errors).",
    ),
    (
        "transmit_fifo_errors_total",
        "Transmit FIFO errors (tx_fifo_errors).",
    ),
    (
        "transmit_heartbeat_errors_total",
        "Transmit heartbeat errors (tx_heartbeat_errors).",
    ),
    (
        "transmit_window_errors_total",
        "Late collisions (tx_window_errors).",
    ),
    (
        "receive_compressed_total",
        "Compressed packets received (rx_compressed).",
    ),
    (
        "transmit_compressed_total",
        "Compressed packets transmitted (tx_compressed).",
    ),
    (
        "receive_nohandler_total",
        "Packets dropped for lack of a protocol handler (rx_nohandler).",
    ),
];

/// One profile's compliance, as the last evaluation found it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compliance {
    /// The profile as given (`throughput`, `./site.yaml`).
    pub profile: String,
    /// Whether the last evaluation could run (an invalid profile or a read error: false).
    pub ok: bool,
    /// Settings compared.
    pub compared: u64,
    /// Settings that differ from the profile.
    pub drifted: u64,
    /// Settings that could not be compared on this node.
    pub skipped: u64,
    /// Evaluations so far.
    pub evaluations: u64,
    /// Wall-clock time of the last evaluation, Unix seconds.
    pub last_unix_s: f64,
}

/// What the renderer knows besides the engine's totals.
#[derive(Debug, Clone, Default)]
pub struct Meta<'a> {
    /// dpuctl version.
    pub version: &'a str,
    /// Counter sample interval, seconds.
    pub sample_interval_s: f64,
    /// Slow read interval, seconds.
    pub slow_interval_s: f64,
    /// Counter reads so far (kept and discarded samples).
    pub reads: u64,
    /// Time those reads took, summed, seconds.
    pub read_s: f64,
    /// Driver counters shown raw: `ethtool -S` names, `*` matches any run of characters.
    pub raw_allow: &'a [String],
    /// `--check` profiles.
    pub compliance: &'a [Compliance],
}

/// The body of `GET /metrics`.
pub fn render(t: &Totals, meta: &Meta<'_>) -> String {
    let mut w = Writer {
        out: String::with_capacity(4096 + t.ifaces.len() * 8192),
    };
    w.family(
        "dpuctl_build_info",
        "gauge",
        "dpuctl build; the value is 1.",
    );
    w.sample("dpuctl_build_info", &[("version", meta.version)], 1.0);

    iface_families(&mut w, t);
    queue_families(&mut w, t);
    driver_families(&mut w, t, meta.raw_allow);
    pause_families(&mut w, t);
    band_families(&mut w, t);
    burst_families(&mut w, t);
    node_families(&mut w, t);
    module_families(&mut w, t);
    rdma_families(&mut w, t);
    alert_families(&mut w, t);
    sampler_families(&mut w, t, meta);
    compliance_families(&mut w, meta.compliance);
    w.out
}

fn iface_families(w: &mut Writer, t: &Totals) {
    let arrays: Vec<[u64; N_COUNTERS]> = t
        .ifaces
        .iter()
        .map(|i| counters_array(&i.counters))
        .collect();
    for (k, (name, help)) in IFACE_COUNTERS.iter().enumerate() {
        let metric = format!("dpuctl_network_{name}");
        w.family(&metric, "counter", help);
        for (i, a) in t.ifaces.iter().zip(&arrays) {
            w.sample_u(&metric, &[("interface", &i.name)], a[k]);
        }
    }
    counter_per_iface(
        w,
        t,
        "dpuctl_network_transmit_timeouts_total",
        "Transmit timeouts (the watchdog reset a stuck tx queue), summed over queues.",
        |i| {
            let q: Vec<u64> = i.queues.iter().filter_map(|q| q.tx_timeouts).collect();
            (!q.is_empty()).then(|| q.iter().sum())
        },
    );
    counter_per_iface(
        w,
        t,
        "dpuctl_network_carrier_changes_total",
        "Carrier changes since the device was created.",
        |i| i.carrier_changes.map(u64::from),
    );
    counter_per_iface(
        w,
        t,
        "dpuctl_network_stats_resets_total",
        "Times an interface counter went backwards (a driver reset) while sampled.",
        |i| Some(i.counter_resets),
    );
    gauge_per_iface(
        w,
        t,
        "dpuctl_network_up",
        "Operational state is up (1) or not (0).",
        |i| Some(if i.up { 1.0 } else { 0.0 }),
    );
    gauge_per_iface(
        w,
        t,
        "dpuctl_network_speed_bytes",
        "Link speed in bytes per second, where the link reports one.",
        |i| i.speed_bps.map(|b| b as f64 / 8.0),
    );
    gauge_per_iface(
        w,
        t,
        "dpuctl_network_line_rate_bytes",
        "Line rate that utilization and bursts are judged against (link speed or --line-rate), \
         bytes per second.",
        |i| i.line_rate_bps.map(|b| b as f64 / 8.0),
    );
    gauge_per_iface(w, t, "dpuctl_network_mtu_bytes", "MTU in bytes.", |i| {
        i.mtu.map(f64::from)
    });
    w.family(
        "dpuctl_network_info",
        "gauge",
        "Interface metadata (kernel index, driver); the value is 1.",
    );
    for i in &t.ifaces {
        let ifindex = i.ifindex.to_string();
        w.sample(
            "dpuctl_network_info",
            &[
                ("interface", &i.name),
                ("ifindex", &ifindex),
                ("driver", i.driver.as_deref().unwrap_or("")),
            ],
            1.0,
        );
    }
}

fn queue_families(w: &mut Writer, t: &Totals) {
    type Get = fn(&super::totals::QueueTotals) -> Option<u64>;
    let fams: [(&str, &str, Get); 4] = [
        (
            "dpuctl_queue_packets_total",
            "Packets of one queue (driver counters).",
            |q| q.packets,
        ),
        (
            "dpuctl_queue_bytes_total",
            "Bytes of one queue (driver counters).",
            |q| q.bytes,
        ),
        (
            "dpuctl_queue_drops_total",
            "Drops of one queue (driver counters).",
            |q| q.drops,
        ),
        (
            "dpuctl_queue_transmit_timeouts_total",
            "Transmit timeouts of one tx queue (sysfs tx_timeout).",
            |q| q.tx_timeouts,
        ),
    ];
    for (name, help, get) in fams {
        w.family(name, "counter", help);
        for i in &t.ifaces {
            for q in &i.queues {
                if let Some(v) = get(q) {
                    let idx = q.index.to_string();
                    w.sample_u(
                        name,
                        &[
                            ("interface", &i.name),
                            ("queue", &idx),
                            ("direction", q.dir),
                        ],
                        v,
                    );
                }
            }
        }
    }
}

/// Pause by side (`direction`: rx = received, the peer slows us; tx = sent, we slow the
/// peer) and `priority` (a PFC priority, or `global` for link-level pause).
fn pause_families(w: &mut Writer, t: &Totals) {
    let frames = "dpuctl_pause_frames_total";
    w.family(
        frames,
        "counter",
        "Pause frames (XOFF and XON) by direction (rx: received, the peer slows us; tx: sent, \
         we slow the peer) and priority (PFC priority, or global for 802.3x pause).",
    );
    for i in &t.ifaces {
        for p in &i.pause {
            let prio = p
                .priority
                .map_or_else(|| "global".to_string(), |x| x.to_string());
            w.sample_u(
                frames,
                &[
                    ("interface", &i.name),
                    ("direction", p.dir),
                    ("priority", &prio),
                ],
                p.frames,
            );
        }
    }
    let secs = "dpuctl_pause_seconds_total";
    w.family(
        secs,
        "counter",
        "Time spent paused by direction and priority: from the driver's pause duration \
         counters (source=duration), else XOFF frames x 65535 quanta x 512 bit times / line \
         rate (source=frame_estimate, an upper bound); absent without either. Its rate is the \
         share of the link spent paused.",
    );
    for i in &t.ifaces {
        for p in &i.pause {
            let Some((v, src)) = p.seconds(i.line_rate_bps) else {
                continue;
            };
            let prio = p
                .priority
                .map_or_else(|| "global".to_string(), |x| x.to_string());
            w.sample(
                secs,
                &[
                    ("interface", &i.name),
                    ("direction", p.dir),
                    ("priority", &prio),
                    ("source", src.name()),
                ],
                v,
            );
        }
    }
}

/// The classes (bands) of each root qdisc, as `tc -s class show` counts them: `class` is the
/// class id as `tc` prints it (`1:3`), `band` the band (ets, prio) or traffic class (mqprio)
/// where the kind has them, absent otherwise (htb). At most `bands::MAX_BANDS` classes per
/// interface; none where the root qdisc has no classes.
fn band_families(w: &mut Writer, t: &Totals) {
    type Get = fn(&super::bands::BandTotal) -> u64;
    let fams: [(&str, &str, &str, Get); 7] = [
        (
            "dpuctl_qdisc_class_bytes_total",
            "counter",
            "Bytes sent by one class (band) of the root qdisc.",
            |b| b.bytes,
        ),
        (
            "dpuctl_qdisc_class_packets_total",
            "counter",
            "Packets sent by one class (band) of the root qdisc.",
            |b| b.packets,
        ),
        (
            "dpuctl_qdisc_class_drops_total",
            "counter",
            "Packets dropped by one class (band) of the root qdisc.",
            |b| b.drops,
        ),
        (
            "dpuctl_qdisc_class_requeues_total",
            "counter",
            "Packets one class (band) of the root qdisc requeued (the driver was busy).",
            |b| b.requeues,
        ),
        (
            "dpuctl_qdisc_class_overlimits_total",
            "counter",
            "Times one class (band) of the root qdisc was over its limit.",
            |b| b.overlimits,
        ),
        (
            "dpuctl_qdisc_class_backlog_bytes",
            "gauge",
            "Bytes queued in one class (band) of the root qdisc at the last slow read.",
            |b| b.backlog_bytes,
        ),
        (
            "dpuctl_qdisc_class_backlog_packets",
            "gauge",
            "Packets queued in one class (band) of the root qdisc at the last slow read.",
            |b| b.backlog_packets,
        ),
    ];
    for (name, typ, help, get) in fams {
        w.family(name, typ, help);
        for i in &t.ifaces {
            for b in &i.bands {
                match b.band {
                    Some(band) => {
                        let band = band.to_string();
                        w.sample_u(
                            name,
                            &[("interface", &i.name), ("class", &b.class), ("band", &band)],
                            get(b),
                        );
                    }
                    None => {
                        w.sample_u(name, &[("interface", &i.name), ("class", &b.class)], get(b));
                    }
                }
            }
        }
    }
}

fn driver_families(w: &mut Writer, t: &Totals, allow: &[String]) {
    let name = "dpuctl_driver_class_total";
    w.family(
        name,
        "counter",
        "Driver counters (ethtool -S) summed by what they mean: buffer_exhaustion, \
         fifo_overflow, crc, pause, ... (classes.yaml).",
    );
    for i in &t.ifaces {
        for c in &i.classes {
            match c.dir {
                Some(d) => w.sample_u(
                    name,
                    &[("interface", &i.name), ("class", c.class), ("direction", d)],
                    c.total,
                ),
                None => w.sample_u(name, &[("interface", &i.name), ("class", c.class)], c.total),
            }
        }
    }
    if allow.is_empty() {
        return;
    }
    let name = "dpuctl_driver_stat";
    w.family(
        name,
        "gauge",
        "Driver counters (ethtool -S) named by --raw-counter, as the driver reports them \
         (most are counters: use rate()).",
    );
    for i in &t.ifaces {
        for (stat, v) in &i.driver_counters {
            if allow.iter().any(|p| glob(p, stat)) {
                w.sample_u(name, &[("interface", &i.name), ("stat", stat)], *v);
            }
        }
    }
}

fn burst_families(w: &mut Writer, t: &Totals) {
    type Get = fn(&super::totals::BurstTotals) -> u64;
    let fams: [(&str, &str, Get); 3] = [
        (
            "dpuctl_microbursts_total",
            "Microbursts ended: runs of sample intervals above the burst threshold of the \
             line rate.",
            |b| b.count,
        ),
        (
            "dpuctl_microburst_bytes_total",
            "Bytes carried in microbursts.",
            |b| b.bytes,
        ),
        (
            "dpuctl_microburst_drops_total",
            "Drops counted during microbursts (rx: dropped, missed, fifo; tx: dropped).",
            |b| b.drops,
        ),
    ];
    for (name, help, get) in fams {
        w.family(name, "counter", help);
        for i in &t.ifaces {
            if i.line_rate_bps.is_none() && i.rx_bursts.count == 0 && i.tx_bursts.count == 0 {
                continue;
            }
            w.sample_u(
                name,
                &[("interface", &i.name), ("direction", "rx")],
                get(&i.rx_bursts),
            );
            w.sample_u(
                name,
                &[("interface", &i.name), ("direction", "tx")],
                get(&i.tx_bursts),
            );
        }
    }
    let name = "dpuctl_microburst_duration_seconds";
    w.family(
        name,
        "histogram",
        "Durations of microbursts (estimated to a fraction of a sample interval).",
    );
    for i in &t.ifaces {
        if i.line_rate_bps.is_none() && i.rx_bursts.count == 0 && i.tx_bursts.count == 0 {
            continue;
        }
        w.histogram(name, &i.name, "rx", &i.rx_bursts.duration);
        w.histogram(name, &i.name, "tx", &i.tx_bursts.duration);
    }
    let name = "dpuctl_sample_utilization_ratio";
    w.family(
        name,
        "histogram",
        "Utilization of the line rate in each sample interval (1 = line rate).",
    );
    for i in &t.ifaces {
        if i.line_rate_bps.is_none() {
            continue;
        }
        w.histogram(name, &i.name, "rx", &i.rx_util);
        w.histogram(name, &i.name, "tx", &i.tx_util);
    }
}

fn node_families(w: &mut Writer, t: &Totals) {
    type Get = fn(&crate::model::SoftnetStat) -> u64;
    let fams: [(&str, &str, Get); 3] = [
        (
            "dpuctl_softnet_processed_total",
            "Packets processed by the CPU's softirq (softnet_stat).",
            |s| s.processed,
        ),
        (
            "dpuctl_softnet_dropped_total",
            "Packets dropped because the CPU's backlog was full (netdev_max_backlog).",
            |s| s.dropped,
        ),
        (
            "dpuctl_softnet_times_squeezed_total",
            "Times net_rx_action ran out of budget or time with work left.",
            |s| s.time_squeeze,
        ),
    ];
    for (name, help, get) in fams {
        w.family(name, "counter", help);
        for s in &t.softnet {
            let cpu = s.cpu.to_string();
            w.sample_u(name, &[("cpu", &cpu)], get(s));
        }
    }
    w.family(
        "dpuctl_udp_receive_buffer_errors_total",
        "counter",
        "UDP datagrams dropped because a socket's receive buffer was full (Udp RcvbufErrors).",
    );
    if let Some(v) = t.udp_rcvbuf_errors {
        w.sample_u("dpuctl_udp_receive_buffer_errors_total", &[], v);
    }
    w.family(
        "dpuctl_udp_send_buffer_errors_total",
        "counter",
        "UDP datagrams dropped because a socket's send buffer was full (Udp SndbufErrors).",
    );
    if let Some(v) = t.udp_sndbuf_errors {
        w.sample_u("dpuctl_udp_send_buffer_errors_total", &[], v);
    }
    for (name, help, crit) in [
        (
            "dpuctl_nic_temperature_celsius",
            "NIC temperature sensors (hwmon).",
            false,
        ),
        (
            "dpuctl_nic_temperature_critical_celsius",
            "Critical temperature of each NIC sensor that has one.",
            true,
        ),
    ] {
        w.family(name, "gauge", help);
        for i in &t.ifaces {
            for s in &i.temps {
                let v = if crit { s.crit } else { Some(s.celsius) };
                if let Some(v) = v {
                    w.sample(name, &[("interface", &i.name), ("sensor", &s.label)], v);
                }
            }
        }
    }
}

/// The pluggable modules: temperature, per-lane optical power (lane label, at most 8) and
/// the module's own warning levels, from the slow reads.
fn module_families(w: &mut Writer, t: &Totals) {
    let modules = || {
        t.ifaces
            .iter()
            .filter_map(|i| Some((i, i.module.as_ref()?)))
    };
    let name = "dpuctl_module_temperature_celsius";
    w.family(
        name,
        "gauge",
        "Pluggable module temperature (SFF-8472/8636, CMIS).",
    );
    for (i, m) in modules() {
        if let Some(v) = m.temperature_c {
            w.sample(name, &[("interface", &i.name)], v);
        }
    }
    let name = "dpuctl_module_temperature_high_warning_celsius";
    w.family(name, "gauge", "The module's own high temperature warning.");
    for (i, m) in modules() {
        if let Some(v) = m.temperature_high_warning_c {
            w.sample(name, &[("interface", &i.name)], v);
        }
    }
    for (name, help, rx) in [
        (
            "dpuctl_module_receive_power_dbm",
            "Receive optical power of each module lane.",
            true,
        ),
        (
            "dpuctl_module_transmit_power_dbm",
            "Transmit optical power of each module lane.",
            false,
        ),
    ] {
        w.family(name, "gauge", help);
        for (i, m) in modules() {
            for l in &m.lanes {
                let v = if rx { l.rx_power_dbm } else { l.tx_power_dbm };
                if let Some(v) = v {
                    let lane = l.lane.to_string();
                    w.sample(name, &[("interface", &i.name), ("lane", &lane)], v);
                }
            }
        }
    }
    for (name, help, rx) in [
        (
            "dpuctl_module_receive_power_low_warning_dbm",
            "The module's own low receive power warning.",
            true,
        ),
        (
            "dpuctl_module_transmit_power_low_warning_dbm",
            "The module's own low transmit power warning.",
            false,
        ),
    ] {
        w.family(name, "gauge", help);
        for (i, m) in modules() {
            let v = if rx {
                m.rx_power_low_warning_dbm
            } else {
                m.tx_power_low_warning_dbm
            };
            if let Some(v) = v {
                w.sample(name, &[("interface", &i.name)], v);
            }
        }
    }
}

/// RDMA ports: the hardware counters that `rdma_classes.yaml` classifies (retransmits,
/// timeouts, sequence errors, out of buffer, CNPs, ECN marks), one series per counter with
/// its class as a label, and an info series tying each port to its netdev. Unclassified
/// counters are left out: an mlx5 port has some eighty, and the table bounds the series to
/// the ones that mean trouble or congestion.
fn rdma_families(w: &mut Writer, t: &Totals) {
    let name = "dpuctl_rdma_counter_total";
    w.family(
        name,
        "counter",
        "RDMA hardware counters (/sys/class/infiniband/DEV/ports/N/hw_counters) with a class: \
         retransmits, timeouts, sequence_errors, out_of_buffer, cnp_sent, cnp_handled, \
         ecn_marked (rdma_classes.yaml).",
    );
    for p in &t.rdma {
        let port = p.port.to_string();
        for (counter, class, v) in &p.counters {
            if let Some(class) = class {
                w.sample_u(
                    name,
                    &[
                        ("device", &p.device),
                        ("port", &port),
                        ("counter", counter),
                        ("class", class),
                    ],
                    *v,
                );
            }
        }
    }
    let name = "dpuctl_rdma_port_info";
    w.family(
        name,
        "gauge",
        "RDMA port metadata: the netdev it sits on (interface, empty on InfiniBand) and the \
         counter class table (driver); the value is 1.",
    );
    for p in &t.rdma {
        let port = p.port.to_string();
        w.sample(
            name,
            &[
                ("device", &p.device),
                ("port", &port),
                ("interface", p.netdev.as_deref().unwrap_or("")),
                ("driver", &p.driver),
            ],
            1.0,
        );
    }
}

fn alert_families(w: &mut Writer, t: &Totals) {
    let name = "dpuctl_alert_active";
    w.family(
        name,
        "gauge",
        "1 while a threshold of the monitor is crossed (interface or softnet, metric), 0 after.",
    );
    for (iface, metric, _) in &t.alerts_raised {
        let active = t
            .active_alerts
            .iter()
            .any(|(i, m)| i == iface && m == metric);
        w.sample(
            name,
            &[("interface", iface), ("metric", metric)],
            if active { 1.0 } else { 0.0 },
        );
    }
    let name = "dpuctl_alerts_total";
    w.family(
        name,
        "counter",
        "Alerts raised (a threshold started being crossed).",
    );
    for (iface, metric, n) in &t.alerts_raised {
        w.sample_u(name, &[("interface", iface), ("metric", metric)], *n);
    }
}

fn sampler_families(w: &mut Writer, t: &Totals, meta: &Meta<'_>) {
    w.family(
        "dpuctl_sampler_interval_seconds",
        "gauge",
        "Counter sample interval.",
    );
    w.sample(
        "dpuctl_sampler_interval_seconds",
        &[],
        meta.sample_interval_s,
    );
    w.family(
        "dpuctl_sampler_slow_interval_seconds",
        "gauge",
        "Interval of the slow reads (driver counters, tx_timeout, temperatures, softnet).",
    );
    w.sample(
        "dpuctl_sampler_slow_interval_seconds",
        &[],
        meta.slow_interval_s,
    );
    w.family(
        "dpuctl_sampler_samples_total",
        "counter",
        "Counter samples taken.",
    );
    w.sample_u("dpuctl_sampler_samples_total", &[], t.samples);
    w.family(
        "dpuctl_sampler_missed_deadlines_total",
        "counter",
        "Sample deadlines missed (the sampler was late by a whole interval, or a read was \
         interrupted and discarded).",
    );
    w.sample_u(
        "dpuctl_sampler_missed_deadlines_total",
        &[],
        t.missed_deadlines,
    );
    w.family(
        "dpuctl_sampler_reads_total",
        "counter",
        "Counter reads (RTM_GETSTATS).",
    );
    w.sample_u("dpuctl_sampler_reads_total", &[], meta.reads);
    w.family(
        "dpuctl_sampler_read_seconds_total",
        "counter",
        "Time spent in counter reads; over dpuctl_sampler_reads_total, the sample duration.",
    );
    w.sample("dpuctl_sampler_read_seconds_total", &[], meta.read_s);
    w.family(
        "dpuctl_sampler_last_sample_timestamp_seconds",
        "gauge",
        "Wall-clock time of the newest sample (Unix seconds).",
    );
    if t.samples > 0 {
        w.sample(
            "dpuctl_sampler_last_sample_timestamp_seconds",
            &[],
            t.wall_ms as f64 / 1e3,
        );
    }
}

fn compliance_families(w: &mut Writer, c: &[Compliance]) {
    type Get = fn(&Compliance) -> f64;
    if c.is_empty() {
        return;
    }
    let fams: [(&str, &str, &str, Get); 6] = [
        (
            "dpuctl_profile_check_ok",
            "gauge",
            "1 when the last check of the profile ran, 0 when it failed (invalid profile, \
             unreadable node).",
            |c| if c.ok { 1.0 } else { 0.0 },
        ),
        (
            "dpuctl_profile_compared_settings",
            "gauge",
            "Settings of the profile compared with the node at the last check.",
            |c| c.compared as f64,
        ),
        (
            "dpuctl_profile_drifted_settings",
            "gauge",
            "Settings that differ from the profile at the last check (configuration drift).",
            |c| c.drifted as f64,
        ),
        (
            "dpuctl_profile_skipped_settings",
            "gauge",
            "Settings of the profile that could not be compared on this node.",
            |c| c.skipped as f64,
        ),
        (
            "dpuctl_profile_checks_total",
            "counter",
            "Checks of the profile run.",
            |c| c.evaluations as f64,
        ),
        (
            "dpuctl_profile_last_check_timestamp_seconds",
            "gauge",
            "Wall-clock time of the last check (Unix seconds).",
            |c| c.last_unix_s,
        ),
    ];
    for (name, typ, help, get) in fams {
        w.family(name, typ, help);
        for p in c {
            w.sample(name, &[("profile", &p.profile)], get(p));
        }
    }
}

fn counter_per_iface(
    w: &mut Writer,
    t: &Totals,
    name: &str,
    help: &str,
    get: impl Fn(&IfaceTotals) -> Option<u64>,
) {
    w.family(name, "counter", help);
    for i in &t.ifaces {
        if let Some(v) = get(i) {
            w.sample_u(name, &[("interface", &i.name)], v);
        }
    }
}

fn gauge_per_iface(
    w: &mut Writer,
    t: &Totals,
    name: &str,
    help: &str,
    get: impl Fn(&IfaceTotals) -> Option<f64>,
) {
    w.family(name, "gauge", help);
    for i in &t.ifaces {
        if let Some(v) = get(i) {
            w.sample(name, &[("interface", &i.name)], v);
        }
    }
}

struct Writer {
    out: String,
}

impl Writer {
    fn family(&mut self, name: &str, typ: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {typ}");
    }

    fn labels(&mut self, labels: &[(&str, &str)]) {
        if labels.is_empty() {
            return;
        }
        self.out.push('{');
        for (k, (name, value)) in labels.iter().enumerate() {
            if k > 0 {
                self.out.push(',');
            }
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape_label_into(&mut self.out, value);
            self.out.push('"');
        }
        self.out.push('}');
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        self.out.push_str(name);
        self.labels(labels);
        self.out.push(' ');
        push_f64(&mut self.out, v);
        self.out.push('\n');
    }

    fn sample_u(&mut self, name: &str, labels: &[(&str, &str)], v: u64) {
        self.out.push_str(name);
        self.labels(labels);
        let _ = writeln!(self.out, " {v}");
    }

    fn histogram(&mut self, name: &str, iface: &str, dir: &str, h: &Histogram) {
        let bucket = format!("{name}_bucket");
        let mut le = String::new();
        for (bound, n) in h.cumulative() {
            le.clear();
            push_f64(&mut le, bound);
            self.sample_u(
                &bucket,
                &[("interface", iface), ("direction", dir), ("le", &le)],
                n,
            );
        }
        self.sample_u(
            &bucket,
            &[("interface", iface), ("direction", dir), ("le", "+Inf")],
            h.count,
        );
        self.sample(
            &format!("{name}_sum"),
            &[("interface", iface), ("direction", dir)],
            h.sum,
        );
        self.sample_u(
            &format!("{name}_count"),
            &[("interface", iface), ("direction", dir)],
            h.count,
        );
    }
}

/// A float as the text format wants it: `+Inf`, `-Inf`, `NaN`, or Rust's shortest
/// round-trip form (never an exponent, which the format would accept too).
fn push_f64(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Label values escape backslash, double quote and line feed.
fn escape_label_into(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Help text escapes backslash and line feed.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// `*` matches any run of characters (none included); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(p) => rest = &rest[p + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Counters, SoftnetStat};
    use crate::monitor::totals::{
        BurstTotals, ClassTotal, QueueTotals, BURST_DURATION_BOUNDS_S, UTILIZATION_BOUNDS,
    };
    use crate::monitor::TempView;
    use std::collections::HashSet;

    fn iface(name: &str) -> IfaceTotals {
        let mut rx_bursts = BurstTotals {
            count: 2,
            bytes: 3000,
            drops: 7,
            ..BurstTotals::default()
        };
        rx_bursts.duration.observe(0.0003);
        rx_bursts.duration.observe(0.002);
        IfaceTotals {
            name: name.into(),
            ifindex: 4,
            up: true,
            speed_bps: Some(25_000_000_000),
            line_rate_bps: Some(25_000_000_000),
            mtu: Some(9000),
            carrier_changes: Some(3),
            counters: Counters {
                rx_bytes: 123_456_789_012,
                rx_crc_errors: 5,
                rx_missed_errors: 6,
                tx_dropped: 8,
                ..Counters::default()
            },
            driver: Some("ice".into()),
            queues: vec![
                QueueTotals {
                    dir: "rx",
                    index: 0,
                    packets: Some(10),
                    bytes: Some(1000),
                    drops: Some(1),
                    tx_timeouts: None,
                },
                QueueTotals {
                    dir: "tx",
                    index: 1,
                    tx_timeouts: Some(2),
                    ..QueueTotals::default()
                },
            ],
            classes: vec![
                ClassTotal {
                    class: "crc",
                    dir: None,
                    total: 5,
                },
                ClassTotal {
                    class: "pause",
                    dir: Some("rx"),
                    total: 11,
                },
            ],
            driver_counters: vec![("rx_pause".into(), 11), ("port.rx_crc_errors".into(), 5)],
            pause: vec![
                crate::monitor::pause::PauseTotal {
                    dir: "rx",
                    priority: Some(3),
                    frames: 11,
                    xoff_frames: 11,
                    duration_us: Some(2_500_000),
                },
                crate::monitor::pause::PauseTotal {
                    dir: "tx",
                    priority: None,
                    frames: 4,
                    xoff_frames: 2,
                    duration_us: None,
                },
            ],
            temps: vec![TempView {
                label: "asic".into(),
                celsius: 61.5,
                crit: Some(105.0),
            }],
            module: Some(crate::model::module::ModuleReading {
                temperature_c: Some(40.5),
                temperature_high_warning_c: Some(70.0),
                rx_power_low_warning_dbm: Some(-10.4),
                tx_power_low_warning_dbm: Some(-7.4),
                lanes: vec![
                    crate::model::module::LaneReading {
                        lane: 1,
                        rx_power_dbm: Some(-1.5),
                        tx_power_dbm: Some(-3.0),
                    },
                    crate::model::module::LaneReading {
                        lane: 6,
                        rx_power_dbm: Some(-9.9),
                        tx_power_dbm: None,
                    },
                ],
            }),
            rx_bursts,
            tx_bursts: BurstTotals::default(),
            rx_util: Histogram::new(&UTILIZATION_BOUNDS),
            tx_util: Histogram::new(&UTILIZATION_BOUNDS),
            counter_resets: 0,
            pfc_source: Some("ethtool"),
            bands: vec![
                crate::monitor::bands::BandTotal {
                    class: "1:3".into(),
                    kind: "ets".into(),
                    band: Some(2),
                    drops: 17,
                    backlog_bytes: 4500,
                    ..Default::default()
                },
                crate::monitor::bands::BandTotal {
                    class: "1:10".into(),
                    kind: "htb".into(),
                    band: None,
                    bytes: 99,
                    ..Default::default()
                },
            ],
        }
    }

    fn totals() -> Totals {
        Totals {
            t_ns: 1,
            wall_ms: 1_700_000_000_000,
            samples: 1000,
            missed_deadlines: 2,
            ifaces: vec![iface("eth0"), iface("we\\ird\"name")],
            softnet: vec![SoftnetStat {
                cpu: 3,
                processed: 100,
                dropped: 4,
                time_squeeze: 9,
                ..SoftnetStat::default()
            }],
            udp_rcvbuf_errors: Some(12),
            udp_sndbuf_errors: None,
            active_alerts: vec![("eth0".into(), "rx_crc_errors".into())],
            alerts_raised: vec![
                ("eth0".into(), "rx_crc_errors".into(), 2),
                ("softnet".into(), "softnet_dropped".into(), 1),
            ],
            rdma: vec![
                super::super::totals::RdmaPortTotals {
                    device: "mlx5_0".into(),
                    port: 1,
                    netdev: Some("eth0".into()),
                    driver: "mlx5_core".into(),
                    counters: vec![
                        ("local_ack_timeout_err".into(), Some("timeouts"), 7),
                        ("out_of_sequence".into(), Some("sequence_errors"), 40),
                        ("rx_write_requests".into(), None, 123_456),
                    ],
                },
                super::super::totals::RdmaPortTotals {
                    device: "ibp1s0".into(),
                    port: 1,
                    netdev: None,
                    driver: "mlx5_core".into(),
                    counters: vec![("duplicate_request".into(), Some("retransmits"), 2)],
                },
            ],
        }
    }

    fn meta() -> Meta<'static> {
        Meta {
            version: "1.2.3",
            sample_interval_s: 0.001,
            slow_interval_s: 0.25,
            reads: 1002,
            read_s: 0.05,
            raw_allow: &[],
            compliance: &[],
        }
    }

    fn value(body: &str, series: &str) -> Option<String> {
        body.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')))
            .map(str::to_string)
    }

    /// The base name of a sample line's family (histogram suffixes stripped when the base
    /// is a histogram).
    fn family_of<'a>(name: &'a str, histograms: &HashSet<&str>) -> &'a str {
        for suf in ["_bucket", "_sum", "_count"] {
            if let Some(b) = name.strip_suffix(suf) {
                if histograms.contains(b) {
                    return b;
                }
            }
        }
        name
    }

    #[test]
    fn every_sample_belongs_to_one_declared_family_and_series_are_unique() {
        let allow = vec!["rx_*".to_string()];
        let c = vec![Compliance {
            profile: "throughput".into(),
            ok: true,
            compared: 10,
            drifted: 1,
            skipped: 2,
            evaluations: 3,
            last_unix_s: 1.7e9,
        }];
        let body = render(
            &totals(),
            &Meta {
                raw_allow: &allow,
                compliance: &c,
                ..meta()
            },
        );
        let mut typed: Vec<&str> = Vec::new();
        let mut histograms = HashSet::new();
        let mut series = HashSet::new();
        let mut current = "";
        for l in body.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                let (name, typ) = rest.split_once(' ').expect("TYPE name type");
                assert!(!typed.contains(&name), "family {name} declared twice");
                typed.push(name);
                if typ == "histogram" {
                    histograms.insert(name);
                }
                current = name;
                continue;
            }
            if l.starts_with('#') {
                continue;
            }
            let (s, v) = l.rsplit_once(' ').expect("series value");
            assert!(
                v == "+Inf" || v == "NaN" || v.parse::<f64>().is_ok(),
                "bad value in {l:?}"
            );
            let name = s.split('{').next().expect("name");
            assert_eq!(
                family_of(name, &histograms),
                current,
                "{l:?} outside its family"
            );
            assert!(series.insert(s.to_string()), "duplicate series {s}");
        }
        assert!(typed.contains(&"dpuctl_profile_drifted_settings"));
        assert!(typed.contains(&"dpuctl_driver_stat"));
    }

    #[test]
    fn rdma_counters_with_a_class_are_series_and_ports_name_their_netdev() {
        let body = render(&totals(), &meta());
        let v = |s: &str| value(&body, s);
        assert_eq!(
            v("dpuctl_rdma_counter_total{device=\"mlx5_0\",port=\"1\",counter=\"out_of_sequence\",class=\"sequence_errors\"}")
                .as_deref(),
            Some("40")
        );
        assert_eq!(
            v("dpuctl_rdma_counter_total{device=\"ibp1s0\",port=\"1\",counter=\"duplicate_request\",class=\"retransmits\"}")
                .as_deref(),
            Some("2")
        );
        // Counters without a class stay out: the table bounds the series.
        assert!(!body.contains("rx_write_requests"), "{body}");
        assert_eq!(body.matches("dpuctl_rdma_counter_total{").count(), 3);
        assert_eq!(
            v("dpuctl_rdma_port_info{device=\"mlx5_0\",port=\"1\",interface=\"eth0\",driver=\"mlx5_core\"}")
                .as_deref(),
            Some("1")
        );
        assert_eq!(
            v("dpuctl_rdma_port_info{device=\"ibp1s0\",port=\"1\",interface=\"\",driver=\"mlx5_core\"}")
                .as_deref(),
            Some("1")
        );
    }

    #[test]
    fn interface_counters_are_their_own_series_with_the_kernel_values() {
        let body = render(&totals(), &meta());
        let v = |s: &str| value(&body, s);
        assert_eq!(
            v("dpuctl_network_receive_bytes_total{interface=\"eth0\"}").as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            v("dpuctl_network_receive_crc_errors_total{interface=\"eth0\"}").as_deref(),
            Some("5")
        );
        assert_eq!(
            v("dpuctl_network_receive_missed_errors_total{interface=\"eth0\"}").as_deref(),
            Some("6")
        );
        assert_eq!(
            v("dpuctl_network_transmit_timeouts_total{interface=\"eth0\"}").as_deref(),
            Some("2")
        );
        assert_eq!(
            v("dpuctl_network_speed_bytes{interface=\"eth0\"}").as_deref(),
            Some("3125000000")
        );
        assert_eq!(
            v("dpuctl_network_mtu_bytes{interface=\"eth0\"}").as_deref(),
            Some("9000")
        );
        assert_eq!(
            v("dpuctl_queue_drops_total{interface=\"eth0\",queue=\"0\",direction=\"rx\"}")
                .as_deref(),
            Some("1")
        );
        assert_eq!(
            v("dpuctl_driver_class_total{interface=\"eth0\",class=\"pause\",direction=\"rx\"}")
                .as_deref(),
            Some("11")
        );
        assert_eq!(
            v("dpuctl_pause_frames_total{interface=\"eth0\",direction=\"rx\",priority=\"3\"}")
                .as_deref(),
            Some("11")
        );
        assert_eq!(
            v("dpuctl_pause_seconds_total{interface=\"eth0\",direction=\"rx\",priority=\"3\",source=\"duration\"}")
                .as_deref(),
            Some("2.5")
        );
        // 2 XOFF frames x 65535 x 512 bit times at 25 Gb/s (the XON frames ask for no time).
        assert_eq!(
            v("dpuctl_pause_seconds_total{interface=\"eth0\",direction=\"tx\",priority=\"global\",source=\"frame_estimate\"}")
                .as_deref(),
            Some("0.0026843136")
        );
        assert_eq!(
            v("dpuctl_qdisc_class_drops_total{interface=\"eth0\",class=\"1:3\",band=\"2\"}")
                .as_deref(),
            Some("17")
        );
        assert_eq!(
            v("dpuctl_qdisc_class_backlog_bytes{interface=\"eth0\",class=\"1:3\",band=\"2\"}")
                .as_deref(),
            Some("4500")
        );
        assert_eq!(
            v("dpuctl_qdisc_class_bytes_total{interface=\"eth0\",class=\"1:10\"}").as_deref(),
            Some("99")
        );
        assert_eq!(
            v("dpuctl_softnet_dropped_total{cpu=\"3\"}").as_deref(),
            Some("4")
        );
        assert_eq!(
            v("dpuctl_udp_receive_buffer_errors_total").as_deref(),
            Some("12")
        );
        assert_eq!(
            v("dpuctl_module_receive_power_dbm{interface=\"eth0\",lane=\"6\"}").as_deref(),
            Some("-9.9")
        );
        assert_eq!(
            v("dpuctl_module_transmit_power_dbm{interface=\"eth0\",lane=\"1\"}").as_deref(),
            Some("-3")
        );
        assert_eq!(
            v("dpuctl_module_transmit_power_dbm{interface=\"eth0\",lane=\"6\"}"),
            None,
            "a lane without a reading has no sample"
        );
        assert_eq!(
            v("dpuctl_module_receive_power_low_warning_dbm{interface=\"eth0\"}").as_deref(),
            Some("-10.4")
        );
        assert_eq!(
            v("dpuctl_module_temperature_celsius{interface=\"eth0\"}").as_deref(),
            Some("40.5")
        );
        assert_eq!(
            v("dpuctl_nic_temperature_critical_celsius{interface=\"eth0\",sensor=\"asic\"}")
                .as_deref(),
            Some("105")
        );
        assert_eq!(
            v("dpuctl_alert_active{interface=\"eth0\",metric=\"rx_crc_errors\"}").as_deref(),
            Some("1")
        );
        assert_eq!(
            v("dpuctl_alert_active{interface=\"softnet\",metric=\"softnet_dropped\"}").as_deref(),
            Some("0")
        );
        assert_eq!(
            v("dpuctl_build_info{version=\"1.2.3\"}").as_deref(),
            Some("1")
        );
        // Raw driver counters only behind the allow-list.
        assert!(!body.contains("dpuctl_driver_stat"));
        // No queue number or direction inside a metric name.
        for l in body.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().expect("name");
            assert!(!name.contains("queue_0") && !name.contains("rx_"), "{name}");
        }
    }

    #[test]
    fn burst_histograms_are_cumulative_with_inf_equal_to_the_count() {
        let body = render(&totals(), &meta());
        let b = |le: &str| {
            value(
                &body,
                &format!(
                    "dpuctl_microburst_duration_seconds_bucket{{interface=\"eth0\",direction=\"rx\",le=\"{le}\"}}"
                ),
            )
        };
        assert_eq!(b("0.0001").as_deref(), Some("0"));
        assert_eq!(b("0.0005").as_deref(), Some("1"));
        assert_eq!(b("0.0025").as_deref(), Some("2"));
        assert_eq!(b("1").as_deref(), Some("2"));
        assert_eq!(b("+Inf").as_deref(), Some("2"));
        assert_eq!(
            value(
                &body,
                "dpuctl_microbursts_total{interface=\"eth0\",direction=\"rx\"}"
            )
            .as_deref(),
            Some("2")
        );
        assert_eq!(
            value(
                &body,
                "dpuctl_microburst_drops_total{interface=\"eth0\",direction=\"rx\"}"
            )
            .as_deref(),
            Some("7")
        );
        let bounds = body
            .lines()
            .filter(|l| {
                l.starts_with(
                    "dpuctl_microburst_duration_seconds_bucket{interface=\"eth0\",direction=\"tx\"",
                )
            })
            .count();
        assert_eq!(bounds, BURST_DURATION_BOUNDS_S.len() + 1);
    }

    #[test]
    fn label_values_are_escaped() {
        let body = render(&totals(), &meta());
        assert!(
            body.contains("dpuctl_network_up{interface=\"we\\\\ird\\\"name\"} 1\n"),
            "{body}"
        );
    }

    #[test]
    fn raw_counters_follow_the_allow_list() {
        let allow = vec!["rx_*".to_string(), "port.rx_crc_errors".to_string()];
        let body = render(
            &totals(),
            &Meta {
                raw_allow: &allow,
                ..meta()
            },
        );
        assert!(body.contains("dpuctl_driver_stat{interface=\"eth0\",stat=\"rx_pause\"} 11\n"));
        assert!(
            body.contains("dpuctl_driver_stat{interface=\"eth0\",stat=\"port.rx_crc_errors\"} 5\n")
        );
    }

    #[test]
    fn globs_match_runs_of_characters() {
        assert!(glob("rx_*_drops", "rx_queue_3_drops"));
        assert!(glob("*", "anything"));
        assert!(glob("port.*", "port.rx_crc_errors"));
        assert!(!glob("rx_*_drops", "tx_queue_3_drops"));
        assert!(!glob("a*a", "a"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        assert!(glob("*x*y*", "axbyc"));
        assert!(!glob("*y*x*", "axbyc"));
    }
}
