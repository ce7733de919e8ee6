//! Protocol errors: TCP retransmits and resets, checksum, CRC and frame errors, tx timeouts.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn tcp_retrans(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let (Some((r, rv)), Some((s, sv))) = (
        ctx.proto_delta("Tcp.RetransSegs"),
        ctx.proto_delta("Tcp.OutSegs"),
    ) else {
        if ctx.window().is_none() {
            return vec![na_window(c, ctx)];
        }
        return vec![Finding::new(
            c,
            "node",
            Severity::Na,
            "no TCP counters (/proc/net/snmp) in the window",
        )];
    };
    let secs = ctx.secs();
    let mut f = super::capture::retrans_finding(c, "node", r, s)
        .ev_delta("Tcp.RetransSegs", rv, r, secs)
        .ev_delta("Tcp.OutSegs", sv, s, secs);
    if let Some((d, v)) = ctx.proto_delta("TcpExt.TCPTimeouts") {
        f = f.ev_delta("TcpExt.TCPTimeouts", v, d, secs);
    }
    vec![f]
}

/// Resets per second above which connections are being torn down, not closed.
const RESETS_PER_SEC: f64 = 10.0;

pub(super) fn tcp_resets(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    if ctx.window().is_none() {
        return vec![na_window(c, ctx)];
    }
    let secs = ctx.secs();
    let mut f = Finding::new(c, "node", Severity::Ok, "few TCP resets");
    let mut total = 0;
    for n in ["Tcp.EstabResets", "Tcp.OutRsts", "Tcp.AttemptFails"] {
        if let Some((d, v)) = ctx.proto_delta(n) {
            f = f.ev_delta(n, v, d, secs);
            if n != "Tcp.AttemptFails" {
                total += d;
            }
        }
    }
    if f.evidence.is_empty() {
        return vec![Finding::new(
            c,
            "node",
            Severity::Na,
            "no TCP counters (/proc/net/snmp) in the window",
        )];
    }
    let rate = total as f64 / secs;
    if rate >= RESETS_PER_SEC {
        f.severity = Severity::Warn;
        f.title = format!("{rate:.0} TCP resets/s: connections are torn down (timeouts, full queues, a middlebox)");
    }
    vec![f]
}

pub(super) fn checksum(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    if ctx.window().is_none() {
        return vec![na_window(c, ctx)];
    }
    let secs = ctx.secs();
    let mut f = Finding::new(c, "node", Severity::Ok, "no checksum errors");
    let mut total = 0;
    for n in [
        "Tcp.InCsumErrors",
        "Udp.InCsumErrors",
        "UdpLite.InCsumErrors",
        "Icmp.InCsumErrors",
    ] {
        if let Some((d, v)) = ctx.proto_delta(n) {
            f = f.ev_delta(n, v, d, secs);
            total += d;
        }
    }
    if f.evidence.is_empty() {
        return vec![Finding::new(
            c,
            "node",
            Severity::Na,
            "no checksum counters in the window",
        )];
    }
    if total > 0 {
        f.severity = Severity::Warn;
        f.title = format!(
            "{total} packets with bad checksums: corruption on the path or a broken offload"
        );
    }
    vec![f]
}

pub(super) fn crc(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let total = i.counters.rx_crc_errors + i.counters.rx_frame_errors;
        let mut f = Finding::new(c, &i.name, Severity::Ok, "no CRC or frame errors");
        if let Some((d, end)) = ctx.counters_delta(&i.name) {
            f = f
                .ev_delta("rx_crc_errors", end.rx_crc_errors, d.rx_crc_errors, secs)
                .ev_delta(
                    "rx_frame_errors",
                    end.rx_frame_errors,
                    d.rx_frame_errors,
                    secs,
                );
            let dd = d.rx_crc_errors + d.rx_frame_errors;
            if dd > 0 {
                f.severity = Severity::Crit;
                f.title = format!("{dd} CRC/frame errors during the window: cable, optic or port");
            }
        } else {
            f = f
                .ev("rx_crc_errors", i.counters.rx_crc_errors)
                .ev("rx_frame_errors", i.counters.rx_frame_errors);
        }
        if f.severity == Severity::Ok && total > 0 {
            f.severity = Severity::Info;
            f.title = if ctx.window().is_some() {
                format!("{total} CRC/frame errors since boot (none during the window)")
            } else {
                format!(
                    "{total} CRC/frame errors since boot (no window to tell if they are recent)"
                )
            };
        }
        out.push(f);
    }
    out
}

pub(super) fn tx_timeout(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let since_boot: Option<u64> = i
            .queues
            .iter()
            .filter_map(|q| q.tx_timeout)
            .reduce(|a, b| a + b);
        let mut f = Finding::new(c, &i.name, Severity::Ok, "no transmit timeouts");
        if let Some(n) = since_boot {
            f = f.ev("tx_timeout since boot", n);
            if n > 0 {
                f.severity = Severity::Warn;
                f.title =
                    format!("{n} transmit timeouts since boot: the driver reset a stuck queue");
            }
        }
        if let Some(w) = ctx.window() {
            if let (Some(a), Some(b)) = (
                w.start.iface(&i.name).and_then(|s| s.tx_timeouts),
                w.end.iface(&i.name).and_then(|s| s.tx_timeouts),
            ) {
                f = f.ev_delta("tx_timeout", b, b.saturating_sub(a), secs);
                if b > a {
                    f.severity = Severity::Crit;
                    f.title = format!(
                        "{} transmit timeouts during the window: a queue stalls",
                        b - a
                    );
                }
            }
        }
        if since_boot.is_none() && f.evidence.is_empty() {
            f.severity = Severity::Na;
            f.title = "no tx_timeout counters (no transmit queues in sysfs)".to_string();
        }
        out.push(f);
    }
    out
}
