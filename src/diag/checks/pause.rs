//! Throughput capped by pause frames: the share of the window each side and priority spent
//! paused, global pause on while PFC is configured, PFC on priorities that carry no RoCE, and
//! RoCE in a lossy class.
//!
//! The share is [`crate::monitor::pause::share`]: from the driver's pause duration counters
//! where it has them, else estimated from XOFF frames (an upper bound), n/a without a line
//! rate. RoCE's priority is knowable only from the DCB APP table: an entry for UDP port 4791
//! (`RoCEv2`), else one for DSCP 26 (the RoCE marking of NVIDIA's reference setup, `ToS` 106);
//! without either the finding says it is unknown.

#[allow(clippy::wildcard_imports)]
use super::*;
use crate::model::dcb::{DcbState, APP_SEL_DGRAM, APP_SEL_DSCP};
use crate::monitor::classes::{Class, ClassTables};
use crate::monitor::pause::{share, PauseAcc, PauseKey, ShareSource};
use crate::monitor::thresholds::DEFAULT_PAUSE_SHARE;

/// The `RoCEv2` UDP port.
const ROCE_UDP_PORT: u16 = 4791;
/// The DSCP of the RoCE reference marking (`ToS` 106).
const ROCE_DSCP: u16 = 26;

/// RoCE's priority from the APP table, and where it came from.
pub(super) fn roce_priority(dcb: &DcbState) -> Option<(u8, &'static str)> {
    let find = |sel: u8, proto: u16| {
        dcb.apps
            .iter()
            .find(|a| a.selector == sel && a.protocol == proto)
            .map(|a| a.priority)
    };
    find(APP_SEL_DGRAM, ROCE_UDP_PORT)
        .map(|p| (p, "APP table entry for UDP 4791 (RoCEv2)"))
        .or_else(|| {
            find(APP_SEL_DSCP, ROCE_DSCP).map(|p| {
                (
                    p,
                    "APP table entry for DSCP 26 (the reference RoCE marking)",
                )
            })
        })
}

fn prio_list(p: &[u8]) -> String {
    p.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

pub(super) fn pause_cap(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let tables = ClassTables::builtin();
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        if let Some(kind) = &i.kind {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                format!("virtual device ({kind}): no pause or PFC"),
            ));
            continue;
        }
        let driver = i.driver.get().map(|d| d.driver.as_str());
        let mut acc: BTreeMap<PauseKey, PauseAcc> = BTreeMap::new();
        let mut f = Finding::new(c, &i.name, Severity::Ok, "");
        let mut problems: Vec<String> = Vec::new();
        let mut sev = Severity::Ok;
        let mut measured = false;
        if ctx.window().is_some() {
            for (name, (d, end)) in ctx.driver_delta(&i.name) {
                let Some(m) = driver.and_then(|drv| tables.classify(drv, &name)) else {
                    continue;
                };
                if !matches!(m.class, Class::Pause | Class::PauseDuration) {
                    continue;
                }
                acc.entry(PauseKey::new(m.dir, m.queue)).or_default().add(
                    &name,
                    m.class == Class::PauseDuration,
                    d,
                );
                f = f.ev_delta(name, end, d, secs);
            }
            // The standard pause statistics, for drivers without pause counters of their own.
            if acc.is_empty() {
                if let Some(w) = ctx.window() {
                    let (a, b) = (w.start.iface(&i.name), w.end.iface(&i.name));
                    for (sent, get) in [
                        (
                            false,
                            (|s: &IfaceSample| s.rx_pause_frames)
                                as fn(&IfaceSample) -> Option<u64>,
                        ),
                        (true, |s: &IfaceSample| s.tx_pause_frames),
                    ] {
                        if let (Some(x), Some(y)) = (a.and_then(get), b.and_then(get)) {
                            let name = if sent {
                                "tx_pause_frames"
                            } else {
                                "rx_pause_frames"
                            };
                            acc.entry(PauseKey {
                                sent,
                                priority: None,
                            })
                            .or_default()
                            .add(name, false, y.saturating_sub(x));
                            f = f.ev_delta(name, y, y.saturating_sub(x), secs);
                        }
                    }
                }
            }
            let lr = ctx.line_rate(i);
            let window_ns = (secs * 1e9) as u64;
            for (k, a) in &acc {
                let prio = k.priority.map_or_else(
                    || "link-level pause".to_string(),
                    |p| format!("priority {p}"),
                );
                let side = if k.sent {
                    "sent (this NIC slows its peer)"
                } else {
                    "received (the peer slows this NIC)"
                };
                match share(a, window_ns, lr) {
                    Some((s, src)) => {
                        measured = true;
                        let how = match src {
                            ShareSource::Duration => "pause duration counters",
                            ShareSource::FrameEstimate => {
                                "XOFF frames x 65535 quanta x 512 bit times / line rate, an upper bound"
                            }
                        };
                        f = f.ev(
                            format!("pause share {} {prio}", k.side()),
                            format!("{:.1}% ({how})", s * 100.0),
                        );
                        if s > DEFAULT_PAUSE_SHARE {
                            sev = Severity::Warn;
                            let up_to = if src == ShareSource::FrameEstimate {
                                "up to "
                            } else {
                                ""
                            };
                            problems.push(format!(
                                "pause {side} on {prio} took {up_to}{:.1}% of the window",
                                s * 100.0
                            ));
                        }
                    }
                    None if a.all_frames() > 0 => {
                        f = f.ev(
                            format!("pause share {} {prio}", k.side()),
                            "n/a: no duration counter and no line rate (--line-rate sets one)",
                        );
                    }
                    None => {}
                }
            }
        }
        // Configuration: global pause and PFC, RoCE's class.
        let dcb = i.dcb.as_ref().and_then(|a| a.get());
        let global = i.pause.get().map(|p| p.rx || p.tx);
        if let Some(p) = i.pause.get() {
            f = f.ev(
                "global pause",
                format!("rx {} tx {}", onoff(p.rx), onoff(p.tx)),
            );
        }
        let mut config_known = global.is_some();
        if let Some(dcb) = dcb {
            config_known = true;
            let pfc = dcb
                .pfc
                .as_ref()
                .map(crate::model::dcb::IeeePfc::enabled)
                .unwrap_or_default();
            f = f.ev(
                "PFC",
                if pfc.is_empty() {
                    "off".to_string()
                } else {
                    format!("on priorities {}", prio_list(&pfc))
                },
            );
            if !pfc.is_empty() && global == Some(true) {
                sev = Severity::Warn;
                problems.push(format!(
                    "global pause is on while PFC is configured (priorities {}): global pause \
                     stops every priority, lossy traffic included",
                    prio_list(&pfc)
                ));
            }
            // The per-priority PFC counters of dcbnl, since boot: requests are PFC frames
            // sent (we slow the peer), indications PFC frames received (the peer slows us).
            if let Some(p) = &dcb.pfc {
                for (prio, (req, ind)) in p.requests.iter().zip(&p.indications).enumerate() {
                    if *req > 0 || *ind > 0 {
                        f = f.ev(
                            format!("PFC priority {prio} since boot"),
                            format!("{req} sent (requests), {ind} received (indications)"),
                        );
                    }
                }
            }
            match roce_priority(dcb) {
                Some((rp, from)) => {
                    f = f.ev("RoCE priority", format!("{rp} ({from})"));
                    if !pfc.contains(&rp) {
                        sev = Severity::Warn;
                        problems.push(format!(
                            "RoCE (priority {rp}) is in a lossy class: PFC is {}",
                            if pfc.is_empty() {
                                "off".to_string()
                            } else {
                                format!("on priorities {} only", prio_list(&pfc))
                            }
                        ));
                    }
                    let other: Vec<u8> = pfc.iter().copied().filter(|&p| p != rp).collect();
                    if !other.is_empty() {
                        sev = Severity::Warn;
                        problems.push(format!(
                            "PFC on priorit{} {} that carr{} no RoCE (RoCE is on {rp}): pause \
                             there stalls other traffic for nothing",
                            if other.len() == 1 { "y" } else { "ies" },
                            prio_list(&other),
                            if other.len() == 1 { "ies" } else { "y" },
                        ));
                    }
                }
                None => {
                    f = f.ev(
                        "RoCE priority",
                        "unknown: no APP table entry for UDP 4791 or DSCP 26, so whether PFC \
                         covers RoCE cannot be told",
                    );
                }
            }
        } else if let Some(Avail::Na(why)) = &i.dcb {
            f = f.ev("DCB", format!("n/a: {}", why.reason));
        }
        if !measured && !config_known && problems.is_empty() {
            f.severity = Severity::Na;
            f.title = "no pause counters, pause settings or DCB state to judge".to_string();
            out.push(f);
            continue;
        }
        f.severity = sev;
        f.title = if problems.is_empty() {
            "pause does not cap throughput".to_string()
        } else {
            format!("throughput capped by pause frames: {}", problems.join("; "))
        };
        out.push(f);
    }
    out
}

fn onoff(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}
