//! The help overlay: every key, and what the screen shows.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::title_style;

/// The keys, as the overlay lists them.
pub const KEYS: &[(&str, &str)] = &[
    ("? h", "this help (Esc closes)"),
    (
        "space p",
        "pause / resume the display (a replay stops its clock)",
    ),
    (
        "s S",
        "sort by the next column (the header marks it); S reverses",
    ),
    (
        "/",
        "filter interfaces by name: type, Enter keeps, Esc clears",
    ),
    ("Enter", "zoom: queues, driver counter classes, charts"),
    ("Esc", "back from the zoom; clears the filter"),
    (
        "j k \u{2191} \u{2193}",
        "select an interface (in the zoom: the next one)",
    ),
    ("g G", "first / last interface"),
    ("r", "reset rates, bursts and alerts"),
    (
        "w",
        "save the last minutes (--history) to ./dpuctl-HOST-TIME.rec",
    ),
    ("q Ctrl-C", "quit"),
];

/// Draws the overlay centred over `area`.
pub fn render(f: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| Line::from(format!(" {k:<10} {what}")))
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(
        "Rates are per second over the last refresh. Drop columns: missed=rx_missed_errors \
         fifo=rx_fifo_errors crc=rx_crc_errors rxdrop=rx_dropped over=rx_over_errors \
         txdrop=tx_dropped txto=tx_timeout. A burst is a run of sample intervals above the \
         utilization threshold of the line rate. Grey rows: the interface vanished. Header \
         skipped N: sample deadlines the sampler missed (a busy CPU).",
    ));
    let w = area.width.saturating_sub(4).min(90);
    let h = area.height.saturating_sub(2).min(24);
    let [col] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [pop] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(col);
    f.render_widget(Clear, pop);
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::bordered().title(" help ").title_style(title_style()));
    f.render_widget(p, pop);
}
