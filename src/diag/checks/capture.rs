//! Capture analysis: microbursts (counter series or a capture) and retransmissions.

#[allow(clippy::wildcard_imports)]
use super::*;

/// How fine a counter series is: its number of intervals, their mean and longest length.
fn series_resolution(s: &crate::diag::evidence::Series) -> String {
    let span: u64 = s.rx.iter().map(|iv| iv.dur_ns).sum();
    let longest = s.rx.iter().map(|iv| iv.dur_ns).max().unwrap_or(0);
    format!(
        "{} intervals, {} on average, longest {}",
        s.rx.len(),
        microburst::fmt_duration(span / s.rx.len().max(1) as u64),
        microburst::fmt_duration(longest)
    )
}

pub(super) fn microbursts(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let mut summaries: Vec<(String, BurstSummary)> = Vec::new();
        let mut unjudged: Vec<&str> = Vec::new();
        let mut gso = 0;
        for cap in ctx
            .inputs
            .capture
            .iter()
            .filter(|x| x.iface.as_deref() == Some(i.name.as_str()))
        {
            gso += cap.gso_frames;
            if cap.line_rate_bps.is_none() {
                unjudged.push(&cap.source);
                continue;
            }
            summaries.push((
                cap.source.clone(),
                BurstSummary::of(BurstSummary::without_drops(), &cap.bursts),
            ));
        }
        let series = ctx.window().and_then(|w| w.series.get(&i.name));
        let mut resolution = None;
        if summaries.is_empty()
            && !unjudged.is_empty()
            && (series.is_none() || ctx.line_rate(i).is_none())
        {
            out.push(
                Finding::new(
                    c,
                    &i.name,
                    Severity::Na,
                    format!(
                        "no line rate to judge bursts against ({}; --line-rate sets one)",
                        super::throughput::no_line_rate(i)
                    ),
                )
                .ev("captures not judged", unjudged.join(", ")),
            );
            continue;
        }
        match (series, ctx.line_rate(i)) {
            (Some(s), Some(line)) => {
                let cfg = BurstConfig::new(line);
                resolution = Some(series_resolution(s));
                summaries.push((
                    "rx counters".to_string(),
                    BurstSummary::of(BurstSummary::default(), &microburst::detect(&s.rx, cfg)),
                ));
                summaries.push((
                    "tx counters".to_string(),
                    BurstSummary::of(BurstSummary::default(), &microburst::detect(&s.tx, cfg)),
                ));
            }
            (Some(s), None) if summaries.is_empty() => {
                out.push(
                    Finding::new(
                        c,
                        &i.name,
                        Severity::Na,
                        format!(
                            "no line rate to judge bursts against ({}; --line-rate sets one)",
                            super::throughput::no_line_rate(i)
                        ),
                    )
                    .ev("counter series", series_resolution(s)),
                );
                continue;
            }
            (None, _) if summaries.is_empty() => {
                let why = ctx
                    .inputs
                    .window
                    .reason()
                    .unwrap_or("no fine counter series for this interface");
                out.push(Finding::new(
                    c,
                    &i.name,
                    Severity::Na,
                    format!("no capture and no counter series: {why}"),
                ));
                continue;
            }
            _ => {}
        }
        let count: u64 = summaries.iter().map(|s| s.1.count).sum();
        // A capture cannot see drops: only counter series count here.
        let drops: u64 = summaries.iter().filter_map(|s| s.1.drops).sum();
        let mut f = Finding::new(
            c,
            &i.name,
            Severity::Ok,
            "no microbursts above 50% of line rate",
        );
        if let Some(r) = resolution {
            f = f.ev("counter series", r);
        }
        if !unjudged.is_empty() {
            f = f.ev("captures not judged (no line rate)", unjudged.join(", "));
        }
        if gso > 0 {
            f = f.ev(
                "GSO frames in the captures (spread over their serialization time)",
                gso,
            );
        }
        for (src, s) in &summaries {
            f = f.ev(
                format!("{src}: bursts"),
                format!(
                    "{} (longest {}, peak {:.0}%, {})",
                    s.count,
                    microburst::fmt_duration(s.longest_ns),
                    s.peak_util * 100.0,
                    s.drops.map_or_else(
                        || "drops not in a capture".to_string(),
                        |d| format!("{d} drops")
                    )
                ),
            );
        }
        if drops > 0 {
            f.severity = Severity::Crit;
            f.title = format!(
                "{count} microbursts, {drops} drops during them: queues overflow in bursts"
            );
            f = f.fix(Fix::iface_profile(
                &[&i.name],
                "receive ring at the device maximum",
                super::backlog::RINGS_MAX_BODY,
            ));
        } else if count > 0 {
            f.severity = Severity::Info;
            f.title = if summaries
                .iter()
                .any(|s| s.1.count > 0 && s.1.drops.is_some())
            {
                format!("{count} microbursts above 50% of line rate, no drops during them")
            } else {
                format!(
                    "{count} microbursts above 50% of line rate; a capture cannot see drops \
                     (dpuctl stats ties the NIC's drops to bursts)"
                )
            };
        }
        out.push(f);
    }
    out
}

/// Retransmitted share of TCP segments that costs throughput (warn) or collapses it (crit).
const RETRANS_WARN: f64 = 0.01;
const RETRANS_CRIT: f64 = 0.05;
/// Fewest segments for a retransmit ratio to mean anything.
const MIN_SEGMENTS: u64 = 1000;

pub(super) fn retrans_finding(c: &Check, subject: &str, retrans: u64, segs: u64) -> Finding {
    let ratio = if segs > 0 {
        retrans as f64 / segs as f64
    } else {
        0.0
    };
    let sev = if segs < MIN_SEGMENTS {
        Severity::Ok
    } else if ratio >= RETRANS_CRIT {
        Severity::Crit
    } else if ratio >= RETRANS_WARN {
        Severity::Warn
    } else {
        Severity::Ok
    };
    let title = if segs < MIN_SEGMENTS {
        format!("too little TCP traffic to judge ({segs} segments)")
    } else {
        format!("{:.2}% of TCP segments retransmitted", ratio * 100.0)
    };
    Finding::new(c, subject, sev, title)
}

pub(super) fn capture_retrans(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let caps: Vec<_> = ctx
        .inputs
        .capture
        .iter()
        .filter(|x| x.tcp_retransmissions.is_some() && x.tcp_segments.is_some())
        .collect();
    if caps.is_empty() {
        return vec![Finding::new(
            c,
            "node",
            Severity::Na,
            "no capture analysis given (node-wide TCP retransmits: proto.tcp-retrans)",
        )];
    }
    caps.iter()
        .map(|x| {
            let (r, s) = (
                x.tcp_retransmissions.unwrap_or(0),
                x.tcp_segments.unwrap_or(0),
            );
            retrans_finding(c, x.iface.as_deref().unwrap_or("node"), r, s)
                .ev("capture", &x.source)
                .ev("retransmissions", r)
                .ev("segments", s)
        })
        .collect()
}
