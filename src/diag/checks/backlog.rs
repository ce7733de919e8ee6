//! Queue backlog: NIC and per-queue drops, ring sizes, softnet backlog, RSS balance.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Suggested rx ring: the device maximum.
pub(super) const RINGS_MAX_BODY: &str = "    rings: {rx: max}\n";

pub(super) fn nic_drops(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let Some((d, end)) = ctx.counters_delta(&i.name) else {
            out.push(Finding::not_in_window(c, &i.name));
            continue;
        };
        let nic = d.rx_missed_errors + d.rx_fifo_errors + d.rx_over_errors;
        let f = if nic > 0 {
            Finding::new(
                c,
                &i.name,
                Severity::Crit,
                format!("the NIC dropped {nic} packets: receive ring or FIFO full"),
            )
            .fix(Fix::iface_profile(
                &[&i.name],
                "receive ring at the device maximum",
                RINGS_MAX_BODY,
            ))
        } else if d.rx_dropped > 0 || d.tx_dropped > 0 {
            let mut parts = Vec::new();
            if d.rx_dropped > 0 {
                parts.push(format!("{} on receive", d.rx_dropped));
            }
            if d.tx_dropped > 0 {
                // veth counts here what its peer could not take (peer down, its backlog
                // full); a NIC, what its transmit path discarded.
                parts.push(format!("{} on transmit", d.tx_dropped));
            }
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!("packets dropped by the kernel: {}", parts.join(", ")),
            )
        } else {
            Finding::new(c, &i.name, Severity::Ok, "no receive or transmit drops")
        };
        out.push(
            f.ev_delta(
                "rx_missed_errors",
                end.rx_missed_errors,
                d.rx_missed_errors,
                secs,
            )
            .ev_delta("rx_fifo_errors", end.rx_fifo_errors, d.rx_fifo_errors, secs)
            .ev_delta("rx_over_errors", end.rx_over_errors, d.rx_over_errors, secs)
            .ev_delta("rx_dropped", end.rx_dropped, d.rx_dropped, secs)
            .ev_delta("tx_dropped", end.tx_dropped, d.tx_dropped, secs),
        );
    }
    out
}

pub(super) fn queue_drops(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let deltas = ctx.driver_delta(&i.name);
        let drops: Vec<_> = deltas
            .iter()
            .filter(|(k, _)| queue_counter(k).is_some_and(|(_, _, r)| is_drop_counter(r)))
            .collect();
        if drops.is_empty() {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "the driver has no per-queue drop counters",
            ));
            continue;
        }
        let rising: Vec<_> = drops.iter().filter(|(_, (d, _))| *d > 0).copied().collect();
        let mut f = if rising.is_empty() {
            Finding::new(c, &i.name, Severity::Ok, "no per-queue drops")
        } else {
            let total: u64 = rising.iter().map(|(_, (d, _))| d).sum();
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!("{total} drops on {} queue counters", rising.len()),
            )
            .fix(Fix::iface_profile(
                &[&i.name],
                "receive ring at the device maximum",
                RINGS_MAX_BODY,
            ))
        };
        for (k, (d, end)) in if rising.is_empty() { &drops } else { &rising } {
            f = f.ev_delta(k.as_str(), *end, *d, secs);
        }
        out.push(f);
    }
    out
}

pub(super) fn rings(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let Some(r) = i.rings.get() else {
            out.push(Finding::unavailable(c, &i.name, "rings", &i.rings));
            continue;
        };
        let (Some(rx), Some(max)) = (r.rx, r.rx_max) else {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "no rx ring size reported",
            ));
            continue;
        };
        let dropping = ctx
            .counters_delta(&i.name)
            .is_some_and(|(d, _)| d.rx_missed_errors + d.rx_fifo_errors + d.rx_over_errors > 0);
        let f = if rx >= max {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("rx ring at its maximum {max}"),
            )
        } else {
            Finding::new(
                c,
                &i.name,
                if dropping {
                    Severity::Warn
                } else {
                    Severity::Info
                },
                format!("rx ring {rx} of {max}: room for a longer burst"),
            )
            .fix(Fix::iface_profile(
                &[&i.name],
                "receive ring at the device maximum",
                RINGS_MAX_BODY,
            ))
        };
        out.push(f.ev("rx ring", rx).ev("rx ring max", max));
    }
    out
}

pub(super) fn softnet(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let Some(w) = ctx.window() else {
        return vec![na_window(c, ctx)];
    };
    let secs = ctx.secs();
    let (mut dropped, mut squeezed) = (Vec::new(), Vec::new());
    for e in &w.end.softnet {
        let Some(s) = w.start.softnet.iter().find(|s| s.cpu == e.cpu) else {
            continue;
        };
        let dd = e.dropped.saturating_sub(s.dropped);
        let dq = e.time_squeeze.saturating_sub(s.time_squeeze);
        if dd > 0 {
            dropped.push((e.cpu, dd, e.dropped));
        }
        if dq > 0 {
            squeezed.push((e.cpu, dq, e.time_squeeze));
        }
    }
    let backlog = sysctl_num(ctx, "net.core.netdev_max_backlog", 0);
    let total_drop: u64 = dropped.iter().map(|x| x.1).sum();
    let total_sq: u64 = squeezed.iter().map(|x| x.1).sum();
    let mut f = if total_drop > 0 {
        let target = backlog.map_or(16384, |b| (b * 4).max(16384));
        Finding::new(
            c,
            "node",
            Severity::Crit,
            format!(
                "{total_drop} packets dropped: per-CPU backlog full on {} CPU(s)",
                dropped.len()
            ),
        )
        .fix(Fix::sysctl_profile(
            "larger per-CPU backlog",
            &format!("  net.core.netdev_max_backlog: {target}\n"),
        ))
    } else if total_sq > 0 {
        Finding::new(
            c,
            "node",
            Severity::Warn,
            format!("softirq ran out of budget {total_sq} times (time_squeeze)"),
        )
        .fix(Fix::sysctl_profile(
            "larger softirq budget",
            &format!(
                "  net.core.netdev_budget: {}\n  net.core.netdev_budget_usecs: {}\n",
                raise(sysctl_num(ctx, "net.core.netdev_budget", 0), 600),
                raise(sysctl_num(ctx, "net.core.netdev_budget_usecs", 0), 8000)
            ),
        ))
    } else {
        Finding::new(c, "node", Severity::Ok, "no backlog drops, no time squeeze")
    };
    for (cpu, d, v) in dropped.iter().take(8) {
        f = f.ev_delta(format!("cpu{cpu} dropped"), *v, *d, secs);
    }
    for (cpu, d, v) in squeezed.iter().take(8) {
        f = f.ev_delta(format!("cpu{cpu} time_squeeze"), *v, *d, secs);
    }
    if let Some(b) = backlog {
        f = f.ev("net.core.netdev_max_backlog", b);
    }
    vec![f]
}

/// The kernel's default `netdev_max_backlog`.
const DEFAULT_BACKLOG: u64 = 1000;

pub(super) fn max_backlog(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let name = "net.core.netdev_max_backlog";
    let f = match sysctl(ctx, name) {
        None => Finding::new(c, "node", Severity::Na, format!("{name} was not read")),
        Some(Avail::Na(r)) => {
            Finding::new(c, "node", Severity::Na, format!("{name}: {}", r.reason))
        }
        Some(Avail::Ok(_)) => match sysctl_num(ctx, name, 0) {
            Some(v) if v < DEFAULT_BACKLOG => Finding::new(
                c,
                "node",
                Severity::Warn,
                format!("{name} is {v}, below the kernel default {DEFAULT_BACKLOG}"),
            )
            .ev(name, v)
            .fix(Fix::sysctl_profile(
                "per-CPU backlog at least the kernel default",
                &format!("  {name}: 16384\n"),
            )),
            Some(v) => Finding::new(c, "node", Severity::Ok, format!("{name} is {v}")).ev(name, v),
            None => Finding::new(c, "node", Severity::Na, format!("{name} is not a number")),
        },
    };
    vec![f]
}

/// Busiest queue over the mean above which receive side scaling counts as lopsided.
const RSS_IMBALANCE: f64 = 2.0;
/// Fewest packets in the window for an imbalance to mean anything.
const RSS_MIN_PACKETS: u64 = 1000;

pub(super) fn rss(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let per_q: BTreeMap<u32, (u64, u64)> = ctx
            .driver_delta(&i.name)
            .iter()
            .filter_map(|(k, v)| match queue_counter(k) {
                Some((Dir::Rx, q, "packets")) => Some((q, *v)),
                _ => None,
            })
            .collect();
        if per_q.len() < 2 {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "fewer than two receive queues with packet counters",
            ));
            continue;
        }
        let total: u64 = per_q.values().map(|v| v.0).sum();
        let max = per_q.values().map(|v| v.0).max().unwrap_or(0);
        let mean = total as f64 / per_q.len() as f64;
        let ratio = if mean > 0.0 { max as f64 / mean } else { 0.0 };
        let mut f = if total < RSS_MIN_PACKETS {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("too little traffic to judge ({total} packets)"),
            )
        } else if ratio > RSS_IMBALANCE {
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!(
                    "busiest receive queue has {ratio:.1}x the mean: flows hash onto few queues"
                ),
            )
        } else {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("queues balanced (busiest {ratio:.1}x the mean)"),
            )
        };
        for (q, (d, end)) in &per_q {
            f = f.ev_delta(format!("rx queue {q} packets"), *end, *d, secs);
        }
        out.push(f);
    }
    out
}
