//! The burst panel of one interface: count, longest, peak per direction, the histogram of
//! burst durations and the most recent bursts.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::{bad_style, si, title_style};
use crate::monitor::microburst::{fmt_drops, fmt_duration, BurstSummary, HISTOGRAM_LABELS};
use crate::monitor::IfaceView;
use crate::units::human_bytes;

fn dir_line(dir: &str, b: &BurstSummary) -> Line<'static> {
    let longest = if b.count == 0 {
        "-".to_string()
    } else {
        fmt_duration(b.longest_ns)
    };
    let peak = if b.count == 0 {
        "-".to_string()
    } else {
        format!("{:.0}%", b.peak_util * 100.0)
    };
    let drops = Span::styled(
        format!("{:>6}", fmt_drops(b.drops)),
        if b.drops.is_some_and(|d| d > 0) {
            bad_style()
        } else {
            Style::default()
        },
    );
    Line::from(vec![
        Span::raw(format!("{dir:<3}{:>6} {longest:>8} {peak:>5} ", b.count)),
        drops,
    ])
}

/// Draws the burst panel of `i` (rx and tx summed in the histogram).
pub fn render(f: &mut Frame, area: Rect, i: &IfaceView) {
    let inner_w = area.width.saturating_sub(2) as usize;
    let mut lines = vec![
        Line::from(format!(
            "{:<3}{:>6} {:>8} {:>5} {:>6}",
            "", "count", "longest", "peak", "drops"
        ))
        .style(title_style()),
        dir_line("rx", &i.rx_bursts),
        dir_line("tx", &i.tx_bursts),
    ];
    let counts: Vec<u64> = (0..HISTOGRAM_LABELS.len())
        .map(|k| i.rx_bursts.histogram[k] + i.tx_bursts.histogram[k])
        .collect();
    let inner_h = area.height.saturating_sub(2) as usize;
    if inner_h >= lines.len() + counts.len() {
        let max = counts.iter().copied().max().unwrap_or(0);
        let bar_room = inner_w.saturating_sub(9 + 1 + 6);
        for (label, &n) in HISTOGRAM_LABELS.iter().zip(&counts) {
            // Any non-zero bucket gets at least one cell so that rare bursts stay visible.
            let len = if max == 0 || n == 0 {
                0
            } else {
                ((n as f64 / max as f64) * bar_room as f64).ceil().max(1.0) as usize
            };
            lines.push(Line::from(vec![
                Span::raw(format!("{label:<9} ")),
                Span::styled(
                    "\u{2587}".repeat(len.min(bar_room)),
                    Style::default().fg(Color::Yellow),
                ),
                Span::raw(format!(" {n}")),
            ]));
        }
    } else {
        // Short panel: the histogram as counts, three buckets a line.
        for chunk in HISTOGRAM_LABELS
            .iter()
            .zip(&counts)
            .collect::<Vec<_>>()
            .chunks(3)
        {
            let text: Vec<String> = chunk.iter().map(|(l, n)| format!("{l} {n}")).collect();
            lines.push(Line::from(text.join("  ")));
        }
    }
    let room = (area.height as usize).saturating_sub(2 + lines.len());
    if room >= 2 && !i.recent_bursts.is_empty() {
        lines.push(
            Line::from(format!(
                "{:<3}{:>8} {:>5} {:>10} {:>6}",
                "new", "length", "peak", "bytes", "drops"
            ))
            .style(title_style()),
        );
        let mut left = room - 1;
        for d in i.recent_bursts.iter().rev() {
            if left == 0 {
                break;
            }
            left -= 1;
            let b = &d.burst;
            // The sub-interval estimate is finer than the whole intervals, when there is one.
            let length = if d.duration_est_ns > 0 {
                format!("~{}", fmt_duration(d.duration_est_ns))
            } else {
                fmt_duration(b.duration_ns)
            };
            lines.push(Line::from(format!(
                "{:<3}{:>8} {:>4.0}% {:>10} {:>6}",
                d.dir,
                length,
                b.peak_util * 100.0,
                human_bytes(b.bytes),
                fmt_drops(b.drops)
            )));
            // The eBPF source names the heaviest flow of each burst, on the line below.
            if let (Some(f), true) = (d.top_flows.first(), left > 0) {
                left -= 1;
                lines.push(Line::from(format!(" {f}")));
            }
        }
    }
    let line = i.line_rate_bps.map_or_else(
        || "line rate unknown".to_string(),
        |l| format!("line {}", si(l as f64)),
    );
    let title = format!(" bursts {} ({line}) ", i.name);
    let p = Paragraph::new(lines).block(Block::bordered().title(title).title_style(title_style()));
    f.render_widget(p, area);
}
