//! Per-queue rates of one interface: packets, bits and drops per second, tx timeouts.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::{bad_style, gone_style, si, title_style};
use crate::monitor::{IfaceView, QueueView};

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), si)
}

/// Queues in the order the table lists them: the ones in trouble (dropping, or with tx
/// timeouts) first, most drops first, so that on a NIC with 64 queues the one that drops is
/// on screen; then the others in direction and index order.
pub fn ordered(queues: &[QueueView]) -> Vec<&QueueView> {
    let trouble = |q: &QueueView| q.drops.unwrap_or(0.0) > 0.0 || q.tx_timeout.unwrap_or(0) > 0;
    let mut v: Vec<&QueueView> = queues.iter().collect();
    v.sort_by(|a, b| {
        trouble(b)
            .cmp(&trouble(a))
            .then_with(|| {
                let (x, y) = (a.drops.unwrap_or(0.0), b.drops.unwrap_or(0.0));
                y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal)
            })
            .then_with(|| a.dir.cmp(&b.dir))
            .then_with(|| a.index.cmp(&b.index))
    });
    v
}

/// Draws the queue table of `i` (as many queues as fit; the title says how many there are
/// and how many are in trouble).
pub fn render(f: &mut Frame, area: Rect, i: &IfaceView) {
    let queues = ordered(&i.queues);
    let trouble = queues
        .iter()
        .filter(|q| q.drops.unwrap_or(0.0) > 0.0 || q.tx_timeout.unwrap_or(0) > 0)
        .count();
    let title = if trouble > 0 {
        format!(
            " {} queues ({}, {trouble} in trouble) ",
            i.name,
            i.queues.len()
        )
    } else {
        format!(" {} queues ({}) ", i.name, i.queues.len())
    };
    let block = Block::bordered().title(title).title_style(title_style());
    if let Some(why) = i.queues.iter().find_map(|q| q.na.as_deref()) {
        // Counters that miss the traffic: the reason, wrapped, instead of rows of n/a.
        let n = i.queues.iter().filter(|q| q.na.is_some()).count();
        let p = Paragraph::new(format!("rx queues ({n}) n/a: {why}"))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .style(gone_style())
            .block(block);
        f.render_widget(p, area);
        return;
    }
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
    let rows = queues.iter().map(|q| {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn q(dir: &str, index: u32, drops: f64, timeouts: Option<u64>) -> QueueView {
        QueueView {
            dir: dir.into(),
            index,
            drops: Some(drops),
            tx_timeout: timeouts,
            ..QueueView::default()
        }
    }

    #[test]
    fn queues_in_trouble_come_first() {
        let qs = [
            q("rx", 0, 0.0, None),
            q("rx", 1, 5.0, None),
            q("tx", 0, 0.0, Some(0)),
            q("rx", 63, 90.0, None),
            q("tx", 1, 0.0, Some(2)),
        ];
        let names: Vec<String> = ordered(&qs)
            .iter()
            .map(|q| format!("{}-{}", q.dir, q.index))
            .collect();
        assert_eq!(names, ["rx-63", "rx-1", "tx-1", "rx-0", "tx-0"]);
    }
}
