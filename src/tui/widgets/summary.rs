//! The zoom screen's summary of one interface: state, line rate, rates and every drop
//! counter with its kernel name.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::{bad_style, bps, gone_style, pct, si, title_style};
use crate::monitor::IfaceView;

fn counter(name: &str, v: f64) -> Span<'static> {
    let style = if v > 0.0 {
        bad_style()
    } else {
        Style::default()
    };
    Span::styled(format!("{name} {}/s  ", si(v)), style)
}

/// Draws the summary of `i`.
pub fn render(f: &mut Frame, area: Rect, i: &IfaceView) {
    let r = &i.rates;
    let state = match (i.present, i.up) {
        (false, _) => "gone",
        (true, true) => "up",
        (true, false) => "down",
    };
    let line_rate = i.line_rate_bps.map_or_else(
        || "n/a (link reports no speed; set --line-rate)".to_string(),
        |l| format!("{}bit/s", si(l as f64)),
    );
    let driver = i.driver.as_deref().unwrap_or("?");
    let resets = if i.counter_resets > 0 {
        format!("  counter resets {}", i.counter_resets)
    } else {
        String::new()
    };
    let lines = vec![
        Line::from(format!(
            "ifindex {}  {state}  driver {driver}  line {line_rate}{resets}",
            i.ifindex
        )),
        Line::from(format!(
            "rx {}bit/s {}pkt/s {}   tx {}bit/s {}pkt/s {}",
            bps(r.rx_bps),
            si(r.rx_pps),
            pct(r.rx_util),
            bps(r.tx_bps),
            si(r.tx_pps),
            pct(r.tx_util),
        )),
        Line::from(vec![
            counter("rx_missed_errors", r.rx_missed),
            counter("rx_fifo_errors", r.rx_fifo),
            counter("rx_crc_errors", r.rx_crc),
            counter("rx_errors", r.rx_errors),
        ]),
        Line::from(vec![
            counter("rx_dropped", r.rx_dropped),
            counter("rx_over_errors", r.rx_over),
            counter("tx_dropped", r.tx_dropped),
            counter("tx_timeout", r.tx_timeout),
            counter("tx_errors", r.tx_errors),
        ]),
    ];
    let mut p = Paragraph::new(lines)
        .wrap(ratatui::widgets::Wrap { trim: true })
        .block(
            Block::bordered()
                .title(format!(" {} ", i.name))
                .title_style(title_style()),
        );
    if !i.present {
        p = p.style(gone_style());
    }
    f.render_widget(p, area);
}
