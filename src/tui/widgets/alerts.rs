//! Alerts, newest first, with their time, value and threshold.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::{bad_style, clock, gone_style, si, title_style};
use crate::monitor::Alert;

fn value(a: &Alert) -> String {
    if a.metric == "temperature" {
        format!("{:.0}C (limit {:.0}C)", a.value, a.limit)
    } else {
        format!("{}/s (limit {}/s)", si(a.value), si(a.limit))
    }
}

/// Draws the alerts whose interface passes `keep`, newest first, as many as fit.
pub fn render(f: &mut Frame, area: Rect, alerts: &[Alert], keep: &dyn Fn(&Alert) -> bool) {
    let room = area.height.saturating_sub(2) as usize;
    let shown: Vec<&Alert> = alerts.iter().rev().filter(|a| keep(a)).collect();
    let mut lines: Vec<Line> = shown
        .iter()
        .take(room)
        .map(|a| {
            Line::from(vec![
                Span::raw(format!("{} ", clock(a.wall_ms))),
                Span::styled(format!("{} {} ", a.iface, a.metric), bad_style()),
                Span::raw(format!("{} ", value(a))),
                // Engine messages that only repeat the metric add nothing here.
                Span::styled(
                    if a.message.contains(&a.metric) {
                        String::new()
                    } else {
                        a.message.clone()
                    },
                    gone_style(),
                ),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from("no alerts").style(gone_style()));
    }
    let title = format!(" alerts ({}, UTC) ", shown.len());
    let p = Paragraph::new(lines).block(Block::bordered().title(title).title_style(title_style()));
    f.render_widget(p, area);
}
