//! Throughput: rates against the line rate, offloads, socket buffers, MTU.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Utilization above which the link itself is the limit.
const SATURATED: f64 = 0.9;

pub(super) fn utilization(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let Some((d, end)) = ctx.counters_delta(&i.name) else {
            out.push(Finding::not_in_window(c, &i.name));
            continue;
        };
        let rx = d.rx_bytes as f64 * 8.0 / secs;
        let tx = d.tx_bytes as f64 * 8.0 / secs;
        let mut f = match speed_bps(i) {
            Some(line) => {
                let u = rx.max(tx) / line as f64;
                let sev = if u >= SATURATED {
                    Severity::Warn
                } else {
                    Severity::Ok
                };
                Finding::new(
                    c,
                    &i.name,
                    sev,
                    format!(
                        "rx {} tx {} of {} ({:.0}%)",
                        fmt_bps(rx),
                        fmt_bps(tx),
                        fmt_bps(line as f64),
                        u * 100.0
                    ),
                )
            }
            None => Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("rx {} tx {} (line rate unknown)", fmt_bps(rx), fmt_bps(tx)),
            ),
        };
        f = f
            .ev_delta("rx_bytes", end.rx_bytes, d.rx_bytes, secs)
            .ev_delta("tx_bytes", end.tx_bytes, d.tx_bytes, secs)
            .ev_delta("rx_packets", end.rx_packets, d.rx_packets, secs)
            .ev_delta("tx_packets", end.tx_packets, d.tx_packets, secs);
        out.push(f);
    }
    out
}

pub(super) fn offloads(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let Some(feats) = i.features.get() else {
            out.push(Finding::unavailable(c, &i.name, "features", &i.features));
            continue;
        };
        let mut off = Vec::new();
        let mut f = Finding::new(c, &i.name, Severity::Ok, "GRO, TSO and GSO on");
        for (kernel, short) in [
            ("rx-gro", "gro"),
            ("tx-tcp-segmentation", "tso"),
            ("tx-generic-segmentation", "gso"),
            ("rx-lro", "lro"),
        ] {
            if let Some(ft) = feats.iter().find(|x| x.name == kernel) {
                f = f.ev(
                    kernel,
                    if ft.active {
                        "on"
                    } else if ft.fixed {
                        "off [fixed]"
                    } else {
                        "off"
                    },
                );
                // LRO off is a choice (it breaks forwarding), not a problem.
                if !ft.active && !ft.fixed && short != "lro" {
                    off.push(short);
                }
            }
        }
        if !off.is_empty() {
            f.severity = Severity::Warn;
            f.title = format!(
                "{} off: every packet costs a trip through the stack",
                off.join(", ")
            );
            let body = format!(
                "    features: {{{}}}\n",
                off.iter()
                    .map(|s| format!("{s}: on"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            f = f.fix(Fix::iface_profile(
                &[&i.name],
                "segmentation and receive offloads on",
                &body,
            ));
        }
        out.push(f);
    }
    out
}

/// Round trip the socket buffers must cover at line rate (a loaded data-center path).
const BDP_RTT_MS: u64 = 1;
/// Smallest buffer ceiling worth suggesting.
const MIN_BUFFER: u64 = 4 << 20;

pub(super) fn socket_buffers(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let fastest = ctx.ifaces.iter().filter_map(|i| speed_bps(i)).max();
    let need = fastest.map_or(MIN_BUFFER, |bps| {
        (bps / 8 * BDP_RTT_MS / 1000).max(MIN_BUFFER)
    });
    let mut f = Finding::new(
        c,
        "node",
        Severity::Ok,
        "socket buffer ceilings cover the bandwidth-delay product",
    );
    f = f.ev(
        "needed (line rate x 1 ms)",
        crate::output::human_bytes(need),
    );
    let mut small = Vec::new();
    for (name, field) in [
        ("net.ipv4.tcp_rmem", 2),
        ("net.ipv4.tcp_wmem", 2),
        ("net.core.rmem_max", 0),
        ("net.core.wmem_max", 0),
    ] {
        if let Some(v) = sysctl_num(ctx, name, field) {
            f = f.ev(name, v);
            if v < need {
                small.push(name);
            }
        }
    }
    let overflows = ["Udp.RcvbufErrors", "TcpExt.TCPRcvQDrop"]
        .iter()
        .filter_map(|n| ctx.proto_delta(n).map(|d| (*n, d)))
        .collect::<Vec<_>>();
    let secs = ctx.secs();
    let mut overflowed = 0;
    for (n, (d, end)) in &overflows {
        f = f.ev_delta(*n, *end, *d, secs);
        overflowed += d;
    }
    if !small.is_empty() || overflowed > 0 {
        let target = need.next_power_of_two().max(16 << 20);
        f.severity = if small.iter().any(|n| n.contains("tcp_")) || overflowed > 0 {
            Severity::Warn
        } else {
            Severity::Info
        };
        f.title = if overflowed > 0 {
            format!("{overflowed} packets dropped for full socket receive buffers")
        } else {
            format!(
                "{} below {}",
                small.join(", "),
                crate::output::human_bytes(need)
            )
        };
        f = f.fix(Fix::sysctl_profile(
            "socket buffer ceilings for the bandwidth-delay product",
            &format!(
                "  net.core.rmem_max: {target}\n  net.core.wmem_max: {target}\n  net.ipv4.tcp_rmem: \"4096 131072 {target}\"\n  net.ipv4.tcp_wmem: \"4096 16384 {target}\"\n"
            ),
        ));
    }
    vec![f]
}

fn peer_ifindex(i: &Interface) -> Option<u32> {
    i.driver_stats
        .get()?
        .iter()
        .find(|c| c.name == "peer_ifindex")
        .and_then(|c| u32::try_from(c.value).ok())
}

pub(super) fn mtu(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let mut f =
            Finding::new(c, &i.name, Severity::Ok, format!("MTU {}", i.mtu)).ev("mtu", i.mtu);
        let peer = peer_ifindex(i)
            .and_then(|p| ctx.inputs.node.interfaces.iter().find(|x| x.ifindex == p));
        if let Some(p) = peer {
            f = f.ev(format!("peer {} mtu", p.name), p.mtu);
            if p.mtu != i.mtu {
                f.severity = Severity::Warn;
                f.title = format!(
                    "MTU {} here, {} on the veth peer {}: larger frames are dropped",
                    i.mtu, p.mtu, p.name
                );
                if i.mtu < p.mtu {
                    let body = format!("    mtu: {}\n", p.mtu);
                    f = f.fix(Fix::iface_profile(
                        &[&i.name],
                        "the same MTU on both ends",
                        &body,
                    ));
                }
            }
        }
        if let Some((d, end)) = ctx.counters_delta(&i.name) {
            f = f.ev_delta(
                "rx_length_errors",
                end.rx_length_errors,
                d.rx_length_errors,
                secs,
            );
            if d.rx_length_errors > 0 && f.severity < Severity::Warn {
                f.severity = Severity::Warn;
                f.title = format!(
                    "{} frames longer than the MTU {} arrived: the far end uses a larger MTU",
                    d.rx_length_errors, i.mtu
                );
            }
        }
        out.push(f);
    }
    out
}
