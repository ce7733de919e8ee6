//! Link bandwidth: speed and duplex, autonegotiation, FEC, `PCIe` link, carrier, pause frames.

#[allow(clippy::wildcard_imports)]
use super::*;
use crate::model::module::CableClass;

fn virtual_na(c: &Check, i: &Interface, kind: &str) -> Finding {
    Finding::new(
        c,
        &i.name,
        Severity::Na,
        format!("virtual device ({kind}): no physical link"),
    )
}

pub(super) fn link_speed(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        if let Some(kind) = &i.kind {
            out.push(virtual_na(c, i, kind));
            continue;
        }
        let Some(l) = i.link.get() else {
            out.push(Finding::unavailable(c, &i.name, "link", &i.link));
            continue;
        };
        let Some(speed) = l.speed_mbps.filter(|&s| s > 0 && s != u32::MAX) else {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "the driver reports no link speed",
            ));
            continue;
        };
        let best = best_mode_speed(&l.supported_modes);
        let mut f = Finding::new(
            c,
            &i.name,
            Severity::Ok,
            format!("{speed} Mb/s {}", l.duplex.as_deref().unwrap_or("")),
        )
        .ev("speed (Mb/s)", speed)
        .ev("duplex", l.duplex.as_deref().unwrap_or("unknown"));
        if let Some(b) = best {
            f = f.ev("best supported (Mb/s)", b);
        }
        if l.duplex.as_deref() == Some("half") {
            f.severity = Severity::Crit;
            f.title = "half duplex: collisions and a fraction of the bandwidth".to_string();
        } else if let Some(b) = best.filter(|&b| b > speed) {
            f.severity = Severity::Warn;
            f.title = format!("negotiated {speed} Mb/s, the NIC supports {b} Mb/s: check cable, optic and peer port");
        }
        out.push(f);
    }
    out
}

pub(super) fn autoneg(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    ctx.ifaces
        .iter()
        .map(|i| match i.link.get().and_then(|l| l.autoneg) {
            _ if i.kind.is_some() => virtual_na(c, i, i.kind.as_deref().unwrap_or_default()),
            None => Finding::new(c, &i.name, Severity::Na, "autonegotiation not reported"),
            Some(true) => Finding::new(c, &i.name, Severity::Ok, "autonegotiation on"),
            // No link modes at all (virtio-net and other paravirtual NICs): nothing to
            // negotiate, so "off" means nothing.
            Some(false) if i.link.get().is_some_and(|l| l.supported_modes.is_empty()) => {
                Finding::new(
                    c,
                    &i.name,
                    Severity::Na,
                    "no link modes reported: nothing to negotiate",
                )
            }
            // The peer advertises modes: it negotiates, and a forced port facing a
            // negotiating one ends in half duplex, a lower speed or no link.
            Some(false) if i.link.get().is_some_and(|l| !l.peer_modes.is_empty()) => {
                let peer = i
                    .link
                    .get()
                    .map(|l| l.peer_modes.join(" "))
                    .unwrap_or_default();
                Finding::new(
                    c,
                    &i.name,
                    Severity::Warn,
                    "autonegotiation off while the link partner negotiates: turn it on \
                     (ethtool -s IFACE autoneg on) or force the peer to the same speed",
                )
                .ev("autoneg", "off")
                .ev("peer advertises", peer)
            }
            Some(false) => Finding::new(
                c,
                &i.name,
                Severity::Info,
                "autonegotiation off: speed and duplex forced; both ends must agree \
                 (the driver reports no link partner advertisement)",
            )
            .ev("autoneg", "off")
            .ev("peer advertises", "n/a"),
        })
        .collect()
}

/// Speed from which links need FEC (25G and faster lanes).
const FEC_SPEED: u32 = 25_000;

pub(super) fn fec(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let Some(fec) = i.fec.get() else {
            out.push(Finding::unavailable(c, &i.name, "FEC", &i.fec));
            continue;
        };
        let active = fec.active.clone().unwrap_or_else(|| "unknown".to_string());
        let mut f =
            Finding::new(c, &i.name, Severity::Ok, format!("FEC {active}")).ev("active", &active);
        if let Some(n) = fec.corrected {
            f = f.ev("corrected blocks", n);
        }
        if let Some(n) = fec.uncorrectable {
            f = f.ev("uncorrectable blocks", n);
        }
        let speed = i.link.get().and_then(|l| l.speed_mbps).unwrap_or(0);
        let during = ctx.window().and_then(|w| {
            let a = w.start.iface(&i.name)?.fec_uncorrectable?;
            let b = w.end.iface(&i.name)?.fec_uncorrectable?;
            Some((b.saturating_sub(a), b))
        });
        if let Some((d, v)) = during {
            f = f.ev_delta("uncorrectable blocks", v, d, ctx.secs());
        }
        let since_boot = fec.uncorrectable.unwrap_or(0);
        if let Some((d, _)) = during.filter(|(d, _)| *d > 0) {
            f.severity = Severity::Crit;
            f.title =
                format!("{d} uncorrectable FEC blocks during the window: the link loses frames");
        } else if since_boot > 0 {
            // Old damage or ongoing: the window (when there is one) says it was quiet.
            f.severity = if during.is_some() {
                Severity::Info
            } else {
                Severity::Warn
            };
            f.title = format!("{since_boot} uncorrectable FEC blocks since the link came up");
        } else if speed >= FEC_SPEED
            && speed != u32::MAX
            && matches!(active.to_ascii_lowercase().as_str(), "off" | "none")
        {
            f.severity = Severity::Warn;
            f.title = format!("FEC off at {speed} Mb/s: bit errors become lost frames");
        }
        out.push(f);
    }
    out
}

pub(super) fn pcie(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    ctx.ifaces
        .iter()
        .map(|i| match &i.pcie {
            Avail::Na(r) => {
                Finding::new(c, &i.name, Severity::Na, format!("PCIe link: {}", r.reason))
            }
            Avail::Ok(p) => {
                let f = Finding::new(
                    c,
                    &i.name,
                    if p.degraded() {
                        Severity::Warn
                    } else {
                        Severity::Ok
                    },
                    if p.degraded() {
                        format!(
                            "PCIe link x{} {} below its capability x{} {}",
                            p.current_width, p.current_speed, p.max_width, p.max_speed
                        )
                    } else {
                        format!("PCIe link x{} {}", p.current_width, p.current_speed)
                    },
                );
                f.ev(
                    "current",
                    format!("x{} {}", p.current_width, p.current_speed),
                )
                .ev("capability", format!("x{} {}", p.max_width, p.max_speed))
            }
        })
        .collect()
}

/// Carrier changes since creation above which a link counts as unstable: up once is 1 or 2.
const FLAPPY: u32 = 4;

pub(super) fn carrier(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let mut f = Finding::new(c, &i.name, Severity::Ok, "carrier stable");
        if let Some(n) = i.carrier_changes {
            f = f.ev("carrier_changes since creation", n);
            if n > FLAPPY {
                f.severity = Severity::Info;
                f.title = format!("{n} carrier changes since the device was created");
            }
        }
        if let Some(w) = ctx.window() {
            if let (Some(a), Some(b)) = (
                w.start.iface(&i.name).and_then(|s| s.carrier_changes),
                w.end.iface(&i.name).and_then(|s| s.carrier_changes),
            ) {
                let d = u64::from(b.saturating_sub(a));
                f = f.ev_delta("carrier_changes", u64::from(b), d, secs);
                if d > 0 {
                    f.severity = Severity::Crit;
                    f.title = format!("the link flapped during the window ({d} carrier changes)");
                }
            }
        }
        if i.carrier == Some(false) {
            f.severity = Severity::Crit;
            f.title = "no carrier: the link is down".to_string();
        } else if i.carrier.is_none() && i.operstate == "down" {
            // The kernel keeps no carrier for an interface that is not up.
            f.severity = Severity::Crit;
            f.title = "no carrier: the interface is down".to_string();
        }
        out.push(f);
    }
    out
}

/// Pause frames per second above which flow control dominates the link.
const PAUSE_STORM: f64 = 1000.0;

pub(super) fn pause(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    if ctx.window().is_none() {
        return vec![na_window(c, ctx)];
    }
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let mut counters: Vec<_> = ctx
            .driver_delta(&i.name)
            .into_iter()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                (k.contains("pause") || k.contains("xoff")) && !k.contains("duration")
            })
            .collect();
        // The standard statistics (ETHTOOL_A_PAUSE_STATS), for drivers that count pause
        // frames there rather than (or as well as) in `ethtool -S`.
        if let Some(w) = ctx.window() {
            let (a, b) = (w.start.iface(&i.name), w.end.iface(&i.name));
            for (name, get) in [
                (
                    "rx_pause_frames",
                    (|s: &IfaceSample| s.rx_pause_frames) as fn(&IfaceSample) -> Option<u64>,
                ),
                ("tx_pause_frames", |s: &IfaceSample| s.tx_pause_frames),
            ] {
                if let (Some(x), Some(y)) = (a.and_then(get), b.and_then(get)) {
                    counters.push((name.to_string(), (y.saturating_sub(x), y)));
                }
            }
        }
        if counters.is_empty() {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "the driver has no pause frame counters",
            ));
            continue;
        }
        let mut f = Finding::new(c, &i.name, Severity::Ok, "no pause storm");
        let mut worst: Option<(String, f64)> = None;
        for (k, (d, end)) in &counters {
            f = f.ev_delta(k.as_str(), *end, *d, secs);
            let r = *d as f64 / secs;
            if r > worst.as_ref().map_or(0.0, |w| w.1) {
                worst = Some((k.clone(), r));
            }
        }
        if let Some((k, r)) = worst.filter(|w| w.1 >= PAUSE_STORM) {
            f.severity = Severity::Warn;
            f.title = if k.contains("tx") {
                format!("this NIC sends {r:.0} pause frames/s: its receive side cannot keep up")
            } else {
                format!(
                    "the peer sends {r:.0} pause frames/s: congestion upstream throttles this link"
                )
            };
        }
        out.push(f);
    }
    out
}

/// A receive power within this many dB of the module's low warning counts as "near" it.
pub const RX_MARGIN_DB: f64 = 2.0;

/// The pluggable module on the port: CRC errors with a weak receive lane (below or within
/// [`RX_MARGIN_DB`] of the module's own low warning) point at the optic, the fibre or its
/// connectors; CRC errors on a copper cable point at the cable; an alarm the module raises
/// is reported as it is.
pub(super) fn optics(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        if let Some(kind) = &i.kind {
            out.push(virtual_na(c, i, kind));
            continue;
        }
        let Some(raw) = i.module.get() else {
            out.push(Finding::unavailable(c, &i.name, "module EEPROM", &i.module));
            continue;
        };
        let m = match crate::module::decode(raw) {
            Ok(m) => m,
            Err(e) => {
                out.push(Finding::new(c, &i.name, Severity::Na, e.to_string()));
                continue;
            }
        };
        // CRC errors: during the window when there is one, else since boot.
        let (crc, crc_what) = match ctx.counters_delta(&i.name) {
            Some((a, b)) => (
                b.rx_crc_errors.saturating_sub(a.rx_crc_errors),
                "rx_crc_errors during the window",
            ),
            None => (i.counters.rx_crc_errors, "rx_crc_errors since boot"),
        };
        let mut f = Finding::new(
            c,
            &i.name,
            Severity::Ok,
            format!(
                "{} {} {} ({})",
                m.identifier,
                m.vendor,
                m.part_number,
                m.cable.as_str()
            ),
        )
        .ev("module", format!("{} {}", m.identifier, m.part_number))
        .ev("cable", m.cable.as_str())
        .ev(crc_what, crc);
        let weak = crate::module::weakest_rx_lane(&m);
        let low_warning_dbm = m.dom.as_ref().and_then(|d| {
            d.thresholds
                .rx_power_mw
                .and_then(|l| crate::module::units::mw_to_dbm(l.low_warning))
        });
        let mut near = None;
        if let Some((lane, margin)) = weak {
            f = f.ev(
                format!("weakest rx lane {} (dBm)", lane.lane),
                lane.rx_power_dbm
                    .map_or_else(|| "no light".to_string(), |d| format!("{d:.2}")),
            );
            if let Some(w) = low_warning_dbm {
                f = f.ev("rx low warning (dBm)", format!("{w:.2}"));
            }
            let flagged = lane.rx_power_flags.low_warning || lane.rx_power_flags.low_alarm;
            if let Some(mg) = margin {
                f = f.ev("margin to low warning (dB)", format!("{mg:.2}"));
            }
            if flagged || margin.is_some_and(|mg| mg < RX_MARGIN_DB) {
                near = Some((lane.lane, margin));
            }
        }
        let alarms: Vec<String> = m
            .dom
            .iter()
            .flat_map(|d| {
                let module = [("temperature", d.temperature_flags), ("vcc", d.vcc_flags)];
                let lanes = d.lanes.iter().flat_map(|l| {
                    [
                        (format!("lane {} bias", l.lane), l.bias_flags),
                        (format!("lane {} tx power", l.lane), l.tx_power_flags),
                        (format!("lane {} rx power", l.lane), l.rx_power_flags),
                    ]
                });
                module
                    .into_iter()
                    .map(|(n, f)| (n.to_string(), f))
                    .chain(lanes)
                    .filter(|(_, f)| f.high_alarm || f.low_alarm)
                    .map(|(n, f)| format!("{n} {}", f.describe()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let margin_words = |lane: u8, margin: Option<f64>| match margin {
            Some(mg) if mg < 0.0 => format!("lane {lane} is {:.2} dB below", -mg),
            Some(mg) => format!("lane {lane} is {mg:.2} dB above"),
            None => format!("lane {lane} is flagged at"),
        };
        if let (true, Some((lane, margin))) = (crc > 0, near) {
            f.severity = Severity::Crit;
            f.title = format!(
                "CRC errors with RX power near its threshold: {} the module's low warning; \
                 clean the connectors, then replace the optic or the fibre",
                margin_words(lane, margin)
            );
        } else if crc > 0 && matches!(m.cable, CableClass::Dac | CableClass::Acc) {
            f.severity = Severity::Warn;
            f.title = format!(
                "CRC errors on a {} copper cable: reseat or replace the cable",
                if m.cable == CableClass::Dac {
                    "passive"
                } else {
                    "active"
                }
            );
        } else if !alarms.is_empty() {
            f.severity = Severity::Warn;
            f.title = format!("the module raises alarms: {}", alarms.join("; "));
        } else if let Some((lane, margin)) = near {
            f.severity = Severity::Warn;
            f.title = format!(
                "RX power near its threshold: {} the module's low warning",
                margin_words(lane, margin)
            );
        } else if m.cable == CableClass::Dac {
            // The physical-layer guideline: active optical cables lose less signal than
            // copper DAC; a profile can require one (`module: {cable: aoc}`, see check).
            let speed = i.link.get().and_then(|l| l.speed_mbps).unwrap_or(0);
            f.severity = Severity::Info;
            f.title = format!(
                "passive copper DAC{}{}: an active optical cable (AOC) loses less signal",
                m.length_m
                    .map_or_else(String::new, |l| format!(" of {l} m")),
                if speed > 0 && speed != u32::MAX {
                    format!(" at {} Gb/s", speed / 1000)
                } else {
                    String::new()
                }
            );
        }
        out.push(f);
    }
    out
}
