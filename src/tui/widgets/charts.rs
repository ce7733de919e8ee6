//! Throughput (rx and tx lines) and drop charts of one interface over its recent history.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Sparkline};
use ratatui::Frame;

use super::{si, title_style};
use crate::monitor::IfaceView;

const RX: Style = Style::new().fg(Color::Cyan);
const TX: Style = Style::new().fg(Color::Magenta);

/// Draws rx and tx bits per second over the history of `i`.
pub fn throughput(f: &mut Frame, area: Rect, i: &IfaceView) {
    let h = &i.history;
    let t0 = h.first().map_or(0, |p| p.t_ns);
    let secs = |t: u64| t.saturating_sub(t0) as f64 / 1e9;
    let rx: Vec<(f64, f64)> = h.iter().map(|p| (secs(p.t_ns), p.rx_bps)).collect();
    let tx: Vec<(f64, f64)> = h.iter().map(|p| (secs(p.t_ns), p.tx_bps)).collect();
    let span = h.last().map_or(0.0, |p| secs(p.t_ns)).max(1.0);
    let top = h
        .iter()
        .map(|p| p.rx_bps.max(p.tx_bps))
        .fold(0.0, f64::max)
        .max(i.line_rate_bps.map_or(0.0, |l| l as f64 * 0.01))
        .max(1.0);
    // The title doubles as the legend: a legend box would cover the newest points.
    let title = Line::from(vec![
        Span::raw(format!(" {} bps ", i.name)),
        Span::styled(format!("rx {}", si(i.rates.rx_bps)), RX),
        Span::raw(" "),
        Span::styled(format!("tx {}", si(i.rates.tx_bps)), TX),
        Span::raw(" "),
    ]);
    let chart = Chart::new(vec![
        Dataset::default()
            .name("rx")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(RX)
            .data(&rx),
        Dataset::default()
            .name("tx")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(TX)
            .data(&tx),
    ])
    .block(Block::bordered().title(title).title_style(title_style()))
    .x_axis(
        Axis::default()
            .bounds([0.0, span])
            .labels([Span::raw("0"), Span::raw(format!("{span:.0}s"))]),
    )
    .y_axis(
        Axis::default()
            .bounds([0.0, top])
            .labels([Span::raw("0"), Span::raw(si(top))]),
    )
    .legend_position(None);
    f.render_widget(chart, area);
}

/// Draws drops and errors per second over the history of `i`, newest on the right.
pub fn drops(f: &mut Frame, area: Rect, i: &IfaceView) {
    let width = area.width.saturating_sub(2) as usize;
    let h = &i.history;
    let tail = &h[h.len().saturating_sub(width)..];
    // Rounded up so that any drop shows as at least one bar.
    let data: Vec<u64> = tail
        .iter()
        .map(|p| p.drops.max(0.0).ceil() as u64)
        .collect();
    let peak = data.iter().copied().max().unwrap_or(0);
    let title = format!(
        " drops/s now {} peak {} ",
        si(crate::tui::app::drops_per_sec(i)),
        si(peak as f64)
    );
    let style = if peak > 0 {
        Style::default().fg(Color::Red)
    } else {
        Style::default().fg(Color::DarkGray)
    };
    let spark = Sparkline::default()
        .block(Block::bordered().title(title).title_style(title_style()))
        .data(&data)
        .style(style);
    f.render_widget(spark, area);
}
