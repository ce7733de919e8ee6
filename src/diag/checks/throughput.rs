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
        let mut f = match ctx.line_rate(i) {
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
                Severity::Na,
                format!(
                    "rx {} tx {}; no line rate to compare with ({}; --line-rate sets one)",
                    fmt_bps(rx),
                    fmt_bps(tx),
                    no_line_rate(i)
                ),
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
        let virt = is_virtual(i);
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
                // LRO off is a choice (it breaks forwarding), not a problem. GRO off on a
                // software device is its default and costs nothing: what it receives comes
                // from the local stack already aggregated (GSO), not from a wire.
                let not_a_problem = short == "lro" || (virt && short == "gro");
                if !ft.active && !ft.fixed && !not_a_problem {
                    off.push(short);
                }
            }
        }
        if off.is_empty() && virt && f.evidence.iter().any(|e| e.value == "off") {
            f.title = format!(
                "TSO and GSO on; GRO off is the default of a {} device (it receives \
                 aggregated packets from the local stack)",
                i.kind.as_deref().unwrap_or("virtual")
            );
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
/// Smallest buffer ceiling worth suggesting once a shortage is found.
const MIN_BUFFER: u64 = 4 << 20;

/// Why an interface has no line rate.
pub(super) fn no_line_rate(i: &Interface) -> String {
    if is_virtual(i) {
        format!(
            "{} is a virtual device: its reported speed is nominal",
            i.kind.as_deref().unwrap_or("it")
        )
    } else {
        "the driver reports no link speed".to_string()
    }
}

/// The socket-buffer sysctls: name, field holding the ceiling, and whether it bounds receive.
const BUFFER_SYSCTLS: [(&str, usize, bool); 4] = [
    ("net.ipv4.tcp_rmem", 2, true),
    ("net.ipv4.tcp_wmem", 2, false),
    ("net.core.rmem_max", 0, true),
    ("net.core.wmem_max", 0, false),
];

/// The line `name: value` of a fix raising the ceiling of `name` to `target`; `tcp_rmem`
/// and `tcp_wmem` keep their current minimum and default.
fn raised_line(ctx: &Ctx, name: &str, field: usize, target: u64) -> String {
    if field == 0 {
        return format!("  {name}: {target}\n");
    }
    let cur: Vec<String> = sysctl(ctx, name)
        .and_then(Avail::get)
        .map(|v| v.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let (min, def) = match cur.as_slice() {
        [a, b, _] => (a.clone(), b.clone()),
        _ if name.ends_with("rmem") => ("4096".to_string(), "131072".to_string()),
        _ => ("4096".to_string(), "16384".to_string()),
    };
    format!("  {name}: \"{min} {def} {target}\"\n")
}

pub(super) fn socket_buffers(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let fastest = ctx.ifaces.iter().filter_map(|i| ctx.line_rate(i)).max();
    // The bandwidth-delay product of the fastest line; none without a line rate (no
    // hidden floor then: there is nothing to compare the ceilings with).
    let need = fastest.map(|bps| (bps / 8 * BDP_RTT_MS / 1000).max(MIN_BUFFER));
    let mut f = if let (Some(n), Some(bps)) = (need, fastest) {
        Finding::new(
            c,
            "node",
            Severity::Ok,
            "socket buffer ceilings cover the bandwidth-delay product",
        )
        .ev("line rate", fmt_bps(bps as f64))
        .ev(
            "needed (line rate x 1 ms, at least 4 MiB)",
            crate::units::human_bytes(n),
        )
    } else {
        let why = ctx
            .ifaces
            .iter()
            .map(|i| format!("{}: {}", i.name, no_line_rate(i)))
            .collect::<Vec<_>>()
            .join("; ");
        Finding::new(
            c,
            "node",
            Severity::Na,
            format!(
                "no line rate, so no bandwidth-delay product to compare the ceilings with \
                 ({why}; --line-rate sets one)"
            ),
        )
    };
    let mut small = Vec::new();
    let mut current = BTreeMap::new();
    for (name, field, _) in BUFFER_SYSCTLS {
        if let Some(v) = sysctl_num(ctx, name, field) {
            f = f.ev(name, v);
            current.insert(name, v);
            if need.is_some_and(|n| v < n) {
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
    if small.is_empty() && overflowed == 0 {
        return vec![f];
    }
    // The keys to raise and to what: those below the need, to the need rounded up (16 MiB at
    // least); with receive-buffer overflows and no ceiling below the need, the receive
    // ceilings, doubled. Never a value below the current one.
    let target = need.map_or(16 << 20, |n| n.next_power_of_two().max(16 << 20));
    let raise_keys: Vec<(&str, usize, u64)> = if small.is_empty() {
        BUFFER_SYSCTLS
            .iter()
            .filter(|(n, _, rx)| *rx && current.contains_key(n))
            .map(|(n, field, _)| (*n, *field, raise(current.get(n).copied(), target)))
            .collect()
    } else {
        BUFFER_SYSCTLS
            .iter()
            .filter(|(n, _, _)| small.contains(n))
            .map(|(n, field, _)| (*n, *field, target.max(current.get(n).copied().unwrap_or(0))))
            .collect()
    };
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
            crate::units::human_bytes(need.unwrap_or(0))
        )
    };
    // A sysctl nobody may write here (a global one seen from a network namespace) is set
    // on the host, not by a fix run here.
    let (raise_keys, host_only): (Vec<_>, Vec<_>) = raise_keys
        .into_iter()
        .partition(|(n, _, _)| !ctx.inputs.read_only_sysctls.iter().any(|r| r == n));
    for (n, _, t) in &host_only {
        f = f.ev(
            format!("{n} (read-only in this network namespace)"),
            format!("raise to {t} on the host"),
        );
    }
    if !raise_keys.is_empty() {
        let body: String = raise_keys
            .iter()
            .map(|(n, field, t)| raised_line(ctx, n, *field, *t))
            .collect();
        f = f.fix(Fix::sysctl_profile(
            "socket buffer ceilings raised (none lowered)",
            &body,
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

/// What is known of the other end of a veth.
enum PeerView {
    /// Not a veth, or no peer.
    None,
    /// Read: its name, MTU, and the namespace id when it is in another namespace.
    Read(String, u32, Option<i32>),
    /// A peer that could not be read, and why.
    Unknown(String),
}

/// The peer of `i`: from rtnetlink where it was read (in the peer's own namespace), else
/// (a snapshot) the interface of the same snapshot that has the peer's ifindex only when it
/// names `i` as its peer in turn: an ifindex alone does not tell the namespace.
fn peer_of(ctx: &Ctx, i: &Interface) -> PeerView {
    match &ctx.inputs.peers {
        Avail::Ok(list) => match list.iter().find(|p| p.iface == i.name) {
            None => PeerView::None,
            Some(p) => match &p.attrs {
                Avail::Ok(a) => PeerView::Read(a.name.clone(), a.mtu, p.netnsid),
                Avail::Na(r) => PeerView::Unknown(r.reason.clone()),
            },
        },
        Avail::Na(why) => {
            let Some(pi) = peer_ifindex(i) else {
                return PeerView::None;
            };
            match ctx.inputs.node.interfaces.iter().find(|x| x.ifindex == pi) {
                Some(p) if p.kind == i.kind && peer_ifindex(p) == Some(i.ifindex) => {
                    PeerView::Read(p.name.clone(), p.mtu, None)
                }
                _ => PeerView::Unknown(format!(
                    "the peer (ifindex {pi}) is not an interface of this snapshot that names \
                     {} as its peer; it may be in another namespace ({})",
                    i.name, why.reason
                )),
            }
        }
    }
}

pub(super) fn mtu(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let mut f =
            Finding::new(c, &i.name, Severity::Ok, format!("MTU {}", i.mtu)).ev("mtu", i.mtu);
        match peer_of(ctx, i) {
            PeerView::None => {}
            PeerView::Unknown(why) => {
                f.severity = Severity::Na;
                f.title = format!(
                    "MTU {}; the veth peer's MTU could not be compared: {why}",
                    i.mtu
                );
            }
            PeerView::Read(name, mtu, nsid) => {
                let place = nsid.map_or_else(String::new, |id| {
                    format!(" (in another network namespace, id {id})")
                });
                f = f.ev(format!("peer {name}{place} mtu"), mtu);
                if mtu != i.mtu {
                    f.severity = Severity::Warn;
                    f.title = format!(
                        "MTU {} here, {mtu} on the veth peer {name}{place}: larger frames are dropped",
                        i.mtu
                    );
                    if i.mtu < mtu {
                        let body = format!("    mtu: {mtu}\n");
                        f = f.fix(Fix::iface_profile(
                            &[&i.name],
                            "the same MTU on both ends",
                            &body,
                        ));
                    } else if nsid.is_some() {
                        let _ = write!(
                            f.title,
                            "; raise {name}'s MTU to {} in its namespace",
                            i.mtu
                        );
                    }
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
