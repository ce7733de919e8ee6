//! RDMA (RoCE, InfiniBand): retransmits and sequence errors in the window, congestion
//! notifications without ECN-capable traffic, and the RoCE MTU against the netdev's.

#[allow(clippy::wildcard_imports)]
use super::*;

use crate::model::rdma::{RdmaDevice, RdmaPort};
use crate::monitor::rdma_classes::{table_name, RdmaClass, RdmaTables};

/// Retransmit, timeout and sequence error events per second above which RoCE is losing
/// packets all the time rather than now and then: at tens per second a job that moves
/// gigabytes per second spends a visible share of its time in Go-Back-N recovery.
const RDMA_ERRORS_PER_SEC_CRIT: f64 = 10.0;

/// Deltas per class of one port over the window, with the counters behind each.
fn class_deltas(
    tables: &RdmaTables,
    dev: &RdmaDevice,
    deltas: &BTreeMap<String, (u64, u64)>,
) -> BTreeMap<RdmaClass, Vec<(String, u64, u64)>> {
    let table = table_name(dev);
    let mut out: BTreeMap<RdmaClass, Vec<(String, u64, u64)>> = BTreeMap::new();
    for (name, &(d, end)) in deltas {
        if let Some(class) = tables.classify(&table, name) {
            out.entry(class).or_default().push((name.clone(), d, end));
        }
    }
    out
}

/// The RDMA ports under examination: those on an examined interface, and InfiniBand ports
/// (which sit on no netdev).
fn ports<'a>(ctx: &Ctx<'a>) -> impl Iterator<Item = (&'a RdmaDevice, &'a RdmaPort)> {
    let names: Vec<&'a str> = ctx.ifaces.iter().map(|i| i.name.as_str()).collect();
    ctx.inputs
        .node
        .rdma
        .iter()
        .flat_map(|d| d.ports.iter().map(move |p| (d, p)))
        .filter(move |(_, p)| p.netdev.as_deref().is_none_or(|n| names.contains(&n)))
}

pub(super) fn rdma_errors(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    if ports(ctx).next().is_none() {
        return Vec::new();
    }
    if ctx.window().is_none() {
        return vec![na_window(c, ctx)];
    }
    let tables = RdmaTables::builtin();
    let secs = ctx.secs();
    let mut out = Vec::new();
    for (d, p) in ports(ctx) {
        let key = format!("{}/{}", d.name, p.port);
        let deltas = ctx.rdma_delta(&key);
        if deltas.is_empty() {
            out.push(Finding::new(
                c,
                &key,
                Severity::Na,
                "no RDMA hardware counters in the window",
            ));
            continue;
        }
        let by_class = class_deltas(&tables, d, &deltas);
        let mut f = Finding::new(
            c,
            &key,
            Severity::Ok,
            "no RDMA retransmits or sequence errors",
        );
        let mut total = 0;
        let mut rising = Vec::new();
        for class in [
            RdmaClass::Retransmits,
            RdmaClass::Timeouts,
            RdmaClass::SequenceErrors,
            RdmaClass::OutOfBuffer,
        ] {
            let Some(rows) = by_class.get(&class) else {
                continue;
            };
            let sum: u64 = rows.iter().map(|r| r.1).sum();
            for (name, delta, end) in rows {
                f = f.ev_delta(format!("{name} ({class})"), *end, *delta, secs);
            }
            if sum > 0 {
                rising.push(format!("{class} {:.1}/s", sum as f64 / secs));
                if class != RdmaClass::OutOfBuffer {
                    total += sum;
                }
            }
        }
        if !rising.is_empty() {
            let rate = total as f64 / secs;
            f.severity = if rate >= RDMA_ERRORS_PER_SEC_CRIT {
                Severity::Crit
            } else {
                Severity::Warn
            };
            f.title = format!(
                "RDMA {} on {}: packets are lost between the RDMA peers",
                rising.join(", "),
                p.netdev.as_deref().unwrap_or("the fabric"),
            );
        }
        out.push(f);
    }
    out
}

/// Whether a type-of-service byte has ECN bits set (00 is `Not-ECT`).
fn ecn_capable(tos: u8) -> bool {
    tos & 0x3 != 0
}

pub(super) fn cnp_without_ecn(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    if ports(ctx).next().is_none() {
        return Vec::new();
    }
    if ctx.window().is_none() {
        return vec![na_window(c, ctx)];
    }
    let tables = RdmaTables::builtin();
    let secs = ctx.secs();
    let mut out = Vec::new();
    for (d, p) in ports(ctx).filter(|(_, p)| p.is_roce()) {
        let key = format!("{}/{}", d.name, p.port);
        let by_class = class_deltas(&tables, d, &ctx.rdma_delta(&key));
        let mut f = Finding::new(c, &key, Severity::Ok, "no congestion notifications");
        let mut cnps = 0;
        for class in [
            RdmaClass::CnpSent,
            RdmaClass::CnpHandled,
            RdmaClass::EcnMarked,
        ] {
            for (name, delta, end) in by_class.get(&class).into_iter().flatten() {
                f = f.ev_delta(format!("{name} ({class})"), *end, *delta, secs);
                cnps += delta;
            }
        }
        f = f.ev(
            "rdma_cm default_roce_tos",
            p.default_roce_tos
                .map_or_else(|| "unset (0)".to_string(), |t| t.to_string()),
        );
        if cnps > 0 {
            match p.default_roce_tos {
                Some(t) if ecn_capable(t) => {
                    f.title =
                        format!("congestion notifications flow; rdma_cm ToS {t} is ECN-capable");
                }
                tos => {
                    f.severity = Severity::Warn;
                    f.title = format!(
                        "congestion is being signalled (CNPs/ECN marks) but rdma_cm connections send ToS {} (Not-ECT): switches drop their packets instead of marking them; set rdma_cm default_roce_tos to an ECN-capable value (106: DSCP 26, ECT(0), as NCCL_IB_TC=106)",
                        tos.unwrap_or(0)
                    );
                }
            }
        }
        out.push(f);
    }
    out
}

/// The netdev MTU a RoCE path MTU needs: the kernel leaves 96 bytes for the RoCE headers
/// (`iboe_get_mtu` in `include/rdma/ib_addr.h`: GRH 40, UDP 8, BTH 12, XRC 4, `AtomicETH` 28,
/// ICRC 4), and vendor guides round that up to the next hundred: 4096 needs 4200, 2048 needs
/// 2200, 1024 needs 1200.
pub fn roce_min_netdev_mtu(ib_mtu: u32) -> u32 {
    (ib_mtu + 96).div_ceil(100) * 100
}

pub(super) fn roce_mtu(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (d, p) in ports(ctx).filter(|(_, p)| p.is_roce()) {
        let key = format!("{}/{}", d.name, p.port);
        let Some(i) = p
            .netdev
            .as_deref()
            .and_then(|n| ctx.inputs.node.interface(n))
        else {
            continue;
        };
        let active = crate::sys::rdma::roce_active_mtu(i.mtu);
        let mut f = Finding::new(
            c,
            &key,
            Severity::Ok,
            format!(
                "RoCE MTU {} on {} (MTU {})",
                active.map_or_else(|| "none".into(), |m| m.to_string()),
                i.name,
                i.mtu
            ),
        )
        .ev(format!("{} mtu", i.name), i.mtu);
        if let Some(m) = p.active_mtu {
            f = f.ev("active_mtu", m);
        }
        // The next RDMA MTU up: when the netdev MTU is at least that large, the operator
        // raised it for RDMA, yet it falls short of the headroom that MTU needs.
        let next = active.map_or(256, |m| (m * 2).min(4096));
        let need = roce_min_netdev_mtu(next);
        if active != Some(4096) && i.mtu >= next && i.mtu < need {
            f.severity = Severity::Warn;
            f.title = format!(
                "{} has MTU {}, which leaves RoCE at {}: an RDMA MTU of {next} needs at least {need} on the netdev",
                i.name,
                i.mtu,
                active.map_or_else(|| "no MTU".into(), |m| m.to_string())
            );
            f = f.fix(Fix::iface_profile(
                &[&i.name],
                &format!("room for RoCE MTU {next}"),
                &format!("    mtu: {need}\n"),
            ));
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roce_mtu_needs() {
        assert_eq!(roce_min_netdev_mtu(4096), 4200);
        assert_eq!(roce_min_netdev_mtu(2048), 2200);
        assert_eq!(roce_min_netdev_mtu(1024), 1200);
        // Every recommended value gives the RDMA MTU it is for.
        for m in [256, 512, 1024, 2048, 4096] {
            assert_eq!(
                crate::sys::rdma::roce_active_mtu(roce_min_netdev_mtu(m)),
                Some(m)
            );
        }
        assert!(ecn_capable(106));
        assert!(!ecn_capable(104));
    }
}
