//! Per-queue rates of one interface: packets, bits and drops per second, tx timeouts.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::{bad_style, gone_style, si, title_style};
use crate::monitor::IfaceView;

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), si)
}

/// Draws the queue table of `i` (as many queues as fit; the title says how many there are).
pub fn render(f: &mut Frame, area: Rect, i: &IfaceView) {
    let block = Block::bordered()
        .title(format!(" {} queues ({}) ", i.name, i.queues.len()))
        .title_style(title_style());
    if i.queues.is_empty() {
        let p = Paragraph::new("n/a: the driver reports no per-queue counters")
            .style(gone_style())
            .block(block);
        f.render_widget(p, area);
        return;
    }
    // Narrow panels leave out bits per second: packets and drops tell which queue suffers.
    let with_bps = area.width >= 44;
    let heads: &[&str] = if with_bps {
        &["queue", "pps", "bps", "drops/s", "timeouts"]
    } else {
        &["queue", "pps", "drops/s", "timeouts"]
    };
    let header = Row::new(heads.iter().map(|&h| {
        Cell::from(if h == "queue" {
            Line::from(h)
        } else {
            Line::from(h).right_aligned()
        })
    }))
    .style(title_style());
    let rows = i.queues.iter().map(|q| {
        let drops = q.drops.filter(|d| *d > 0.0);
        let timeout = q.tx_timeout.filter(|t| *t > 0);
        let mut cells = vec![
            Cell::from(format!("{}-{}", q.dir, q.index)),
            Cell::from(Line::from(opt(q.pps)).right_aligned()),
        ];
        if with_bps {
            cells.push(Cell::from(Line::from(opt(q.bps)).right_aligned()));
        }
        cells.extend([
            Cell::from(Line::from(opt(q.drops)).right_aligned()).style(if drops.is_some() {
                bad_style()
            } else {
                ratatui::style::Style::default()
            }),
            Cell::from(
                Line::from(q.tx_timeout.map_or_else(
                    || {
                        if q.dir == "tx" {
                            "n/a".into()
                        } else {
                            String::new()
                        }
                    },
                    |t| t.to_string(),
                ))
                .right_aligned(),
            )
            .style(if timeout.is_some() {
                bad_style()
            } else {
                ratatui::style::Style::default()
            }),
        ]);
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Length(6), Constraint::Length(7)];
    if with_bps {
        widths.push(Constraint::Length(7));
    }
    widths.extend([Constraint::Length(7), Constraint::Length(8)]);
    f.render_widget(Table::new(rows, widths).header(header).block(block), area);
}
