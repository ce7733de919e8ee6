//! Text output of an analysis: summary, rate chart, bursts, flows and TCP hints (100 columns
//! at most). Pure functions of the results.

use std::fmt::Write as _;

use super::analyze::{Analysis, Chart, Flow};
use crate::monitor::microburst::{bursts_table, fmt_duration, HISTOGRAM_LABELS};
use crate::output::{human_bytes, push_table, table};

/// Bursts listed in the text output (the longest ones, in time order); JSON lists all.
pub const LISTED_BURSTS: usize = 20;

/// Rows of the chart.
const CHART_ROWS: u64 = 8;

/// A bit rate for people: "9.80 Gb/s", "120 Mb/s".
pub fn fmt_bps(bps: f64) -> String {
    let (v, unit) = if bps >= 1e12 {
        (bps / 1e12, "Tb/s")
    } else if bps >= 1e9 {
        (bps / 1e9, "Gb/s")
    } else if bps >= 1e6 {
        (bps / 1e6, "Mb/s")
    } else if bps >= 1e3 {
        (bps / 1e3, "kb/s")
    } else {
        return format!("{bps:.0} b/s");
    };
    if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

fn fmt_secs(ns: u64) -> String {
    format!("{:.6}", ns as f64 / 1e9)
}

/// The analysis as text. `title` is the first line (file or interface and what is known of
/// it); `rate_note` says where the line rate came from.
pub fn render(title: &str, rate_note: &str, a: &Analysis) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{title}");
    if a.packets == 0 {
        out.push_str("no packets\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{} packets, {} on the wire in {} s, mean {}",
        a.packets,
        human_bytes(a.bytes),
        fmt_secs(a.duration_ns),
        fmt_bps(a.mean_bps)
    );
    if let Some(p) = &a.peak_bin {
        let _ = writeln!(
            out,
            "bins of {}: {} with packets, busiest {} ({}) at {} s",
            fmt_duration(a.resolution_ns),
            a.nonempty_bins,
            fmt_bps(p.bps),
            human_bytes(p.bytes),
            fmt_secs(p.start_ns.saturating_sub(a.first_ns))
        );
    }
    let _ = writeln!(
        out,
        "line rate {} ({rate_note}), burst threshold {:.0}%",
        fmt_bps(a.line_rate_bps as f64),
        a.threshold * 100.0
    );
    if let Some(g) = &a.inter_arrival {
        let _ = writeln!(
            out,
            "inter-arrival  min {}  mean {}  p50 {}  p99 {}  max {}",
            fmt_duration(g.min),
            fmt_duration(g.mean.round() as u64),
            fmt_duration(g.p50),
            fmt_duration(g.p99),
            fmt_duration(g.max)
        );
    }
    if a.gso.frames > 0 {
        let _ = writeln!(
            out,
            "GSO frames: {} longer than a wire frame ({} B, largest {}, {}), captured on the \
             host before segmentation; each spread over its serialization time at the line rate",
            a.gso.frames,
            super::analyze::MAX_WIRE_FRAME,
            human_bytes(a.gso.largest),
            human_bytes(a.gso.bytes)
        );
    }
    if a.timestamps_backwards > 0 {
        let _ = writeln!(
            out,
            "{} packets with a timestamp earlier than the one before (counted in the open bin)",
            a.timestamps_backwards
        );
    }
    out.push('\n');
    out.push_str(&chart(&a.chart, a));
    out.push('\n');
    bursts_section(&mut out, a);
    flows_section(&mut out, "top flows by bytes", &a.top_by_bytes, a);
    if a.top_by_packets == a.top_by_bytes {
        out.push_str("top flows by packets: the same, in the same order\n\n");
    } else {
        flows_section(&mut out, "top flows by packets", &a.top_by_packets, a);
    }
    let _ = writeln!(
        out,
        "tcp  retransmissions {}  out-of-order {}  zero windows {}  resets {}",
        a.tcp.retransmissions, a.tcp.out_of_order, a.tcp.zero_windows, a.tcp.resets
    );
    out
}

fn bursts_section(out: &mut String, a: &Analysis) {
    let s = &a.burst_summary;
    if s.count == 0 {
        let _ = writeln!(
            out,
            "bursts: none above {:.0}% of {} in any {} bin\n",
            a.threshold * 100.0,
            fmt_bps(a.line_rate_bps as f64),
            fmt_duration(a.resolution_ns)
        );
        return;
    }
    let _ = writeln!(
        out,
        "bursts: {} (longest {}, peak {:.0}%, {} in bursts)",
        s.count,
        fmt_duration(s.longest_ns),
        s.peak_util * 100.0,
        human_bytes(s.bytes)
    );
    let hist: Vec<String> = HISTOGRAM_LABELS
        .iter()
        .zip(s.histogram)
        .map(|(l, n)| format!("{l} {n}"))
        .collect();
    let _ = writeln!(out, "durations: {}", hist.join(", "));
    let _ = writeln!(
        out,
        "drops: not in a capture (it holds what arrived); `dpuctl stats` ties the NIC's drops \
         to bursts"
    );
    let listed: Vec<_> = if a.bursts.len() > LISTED_BURSTS {
        let mut idx: Vec<usize> = (0..a.bursts.len()).collect();
        idx.sort_by_key(|&i| std::cmp::Reverse(a.bursts[i].duration_ns));
        idx.truncate(LISTED_BURSTS);
        idx.sort_unstable();
        let _ = writeln!(
            out,
            "the {LISTED_BURSTS} longest, in time order (--format json lists all):"
        );
        idx.into_iter().map(|i| a.bursts[i].clone()).collect()
    } else {
        a.bursts.clone()
    };
    push_table(out, &bursts_table(&listed, a.first_ns));
    out.push('\n');
}

fn flows_section(out: &mut String, title: &str, flows: &[Flow], a: &Analysis) {
    let _ = writeln!(out, "{title} ({} flows)", a.flow_count);
    let mut t = table(&[
        "flow",
        "proto",
        "packets",
        "bytes",
        "share",
        "rate",
        "retr/ooo/zwin/rst",
    ]);
    for f in flows {
        let dur = f.last_ns.saturating_sub(f.first_ns);
        let hints = if f.proto == "tcp" {
            format!(
                "{}/{}/{}/{}",
                f.tcp.retransmissions, f.tcp.out_of_order, f.tcp.zero_windows, f.tcp.resets
            )
        } else {
            "-".into()
        };
        t.add_row(vec![
            f.flow.clone(),
            f.proto.clone(),
            f.packets.to_string(),
            human_bytes(f.bytes),
            format!("{:.1}%", f.bytes as f64 * 100.0 / a.bytes.max(1) as f64),
            if dur > 0 {
                fmt_bps(f.bytes as f64 * 8e9 / dur as f64)
            } else {
                "-".into()
            },
            hints,
        ]);
    }
    push_table(out, &t);
    out.push('\n');
}

/// The rate over time: one column per chart column, the height its busiest bin, `-` marking
/// the burst threshold and `^` under columns with a burst.
pub fn chart(c: &Chart, a: &Analysis) -> String {
    let mut out = String::new();
    let res = a.resolution_ns;
    let max = c
        .columns
        .iter()
        .map(|x| x.peak_bin_bytes)
        .max()
        .unwrap_or(0);
    if max == 0 {
        return out;
    }
    let bps = |bytes: u64| bytes as f64 * 8e9 / res as f64;
    let thr_bytes = a.threshold * a.line_rate_bps as f64 * res as f64 / 8e9;
    let level = |bytes: f64| (bytes * CHART_ROWS as f64 / max as f64).ceil() as u64;
    let thr_row = level(thr_bytes);
    let _ = writeln!(
        out,
        "rate of the busiest {} bin per column ({} per column), bursts marked ^",
        fmt_duration(res),
        fmt_duration(c.bins_per_column * res)
    );
    for row in (1..=CHART_ROWS).rev() {
        let label = if row == CHART_ROWS {
            fmt_bps(bps(max))
        } else if row == thr_row {
            format!("{:.0}% line", a.threshold * 100.0)
        } else {
            String::new()
        };
        let mut line = format!("{label:>10} |");
        for col in &c.columns {
            let h = level(col.peak_bin_bytes as f64);
            line.push(if h >= row {
                '#'
            } else if row == thr_row {
                '-'
            } else {
                ' '
            });
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let mut axis = format!("{:>10} +", "0");
    axis.push_str(&"-".repeat(c.columns.len()));
    let _ = writeln!(out, "{axis}");
    if c.columns.iter().any(|x| x.burst) {
        let marks: String = c
            .columns
            .iter()
            .map(|x| if x.burst { '^' } else { ' ' })
            .collect();
        let _ = writeln!(out, "{:>10}  {}", "", marks.trim_end());
    }
    let span = c.columns.len() as u64 * c.bins_per_column * res;
    let start = c.origin_bin * res;
    let left = fmt_secs(start.saturating_sub(a.first_ns));
    let right = format!("{} s", fmt_secs((start + span).saturating_sub(a.first_ns)));
    let width = c.columns.len().max(left.len() + right.len() + 1);
    let _ = writeln!(out, "{:>10}  {left}{right:>w$}", "", w = width - left.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_format_by_magnitude() {
        assert_eq!(fmt_bps(9.8e9), "9.80 Gb/s");
        assert_eq!(fmt_bps(120e6), "120 Mb/s");
        assert_eq!(fmt_bps(12.5e3), "12.5 kb/s");
        assert_eq!(fmt_bps(800.0), "800 b/s");
    }
}
