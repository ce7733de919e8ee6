//! The interface table: rates, utilization and drop classes, one row per interface.
//! Columns are dropped by priority when the terminal is narrow; vanished interfaces stay
//! listed, greyed.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use ratatui::Frame;

use super::{bad_style, bps, gone_style, pct, si, title_style};
use crate::monitor::IfaceView;
use crate::tui::app::{drops_per_sec, State};

/// One column: header, width, priority (lower is kept longer) and its cell.
struct Col {
    head: &'static str,
    width: u16,
    prio: u8,
    cell: fn(&IfaceView) -> String,
    /// Drop columns turn red when non-zero.
    drop: bool,
}

fn rate(v: f64) -> String {
    si(v)
}

const COLS: &[Col] = &[
    Col {
        head: "iface",
        width: 16,
        prio: 0,
        cell: |i| {
            if i.present {
                i.name.clone()
            } else {
                format!("{} gone", i.name)
            }
        },
        drop: false,
    },
    Col {
        head: "rx bps",
        width: 7,
        prio: 0,
        cell: |i| bps(i.rates.rx_bps),
        drop: false,
    },
    Col {
        head: "tx bps",
        width: 7,
        prio: 0,
        cell: |i| bps(i.rates.tx_bps),
        drop: false,
    },
    Col {
        head: "rx%",
        width: 4,
        prio: 1,
        cell: |i| pct(i.rates.rx_util),
        drop: false,
    },
    Col {
        head: "tx%",
        width: 4,
        prio: 1,
        cell: |i| pct(i.rates.tx_util),
        drop: false,
    },
    Col {
        head: "rx pps",
        width: 7,
        prio: 2,
        cell: |i| si(i.rates.rx_pps),
        drop: false,
    },
    Col {
        head: "tx pps",
        width: 7,
        prio: 2,
        cell: |i| si(i.rates.tx_pps),
        drop: false,
    },
    Col {
        head: "drops/s",
        width: 7,
        prio: 0,
        cell: |i| rate(drops_per_sec(i)),
        drop: true,
    },
    Col {
        head: "missed",
        width: 6,
        prio: 3,
        cell: |i| rate(i.rates.rx_missed),
        drop: true,
    },
    Col {
        head: "fifo",
        width: 6,
        prio: 3,
        cell: |i| rate(i.rates.rx_fifo),
        drop: true,
    },
    Col {
        head: "crc",
        width: 6,
        prio: 3,
        cell: |i| rate(i.rates.rx_crc),
        drop: true,
    },
    Col {
        head: "rxdrop",
        width: 6,
        prio: 4,
        cell: |i| rate(i.rates.rx_dropped),
        drop: true,
    },
    Col {
        head: "over",
        width: 6,
        prio: 4,
        cell: |i| rate(i.rates.rx_over),
        drop: true,
    },
    Col {
        head: "txdrop",
        width: 6,
        prio: 3,
        cell: |i| rate(i.rates.tx_dropped),
        drop: true,
    },
    Col {
        head: "txto",
        width: 5,
        prio: 3,
        cell: |i| rate(i.rates.tx_timeout),
        drop: true,
    },
    Col {
        head: "bursts",
        width: 6,
        prio: 1,
        cell: |i| (i.rx_bursts.count + i.tx_bursts.count).to_string(),
        drop: false,
    },
];

/// The columns that fit in `width` (borders and one space between columns included), in
/// table order, with their widths: the name column is as wide as the longest name shown.
fn fitting(width: u16, name_w: u16) -> Vec<(&'static Col, u16)> {
    let w = |c: &Col| if c.head == "iface" { name_w } else { c.width };
    let mut used = 2u16; // borders
    let mut keep = vec![false; COLS.len()];
    for prio in 0..=4 {
        for (k, c) in COLS.iter().enumerate() {
            if c.prio == prio && used + w(c) < width {
                used += w(c) + 1;
                keep[k] = true;
            }
        }
    }
    COLS.iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some((c, w(c))))
        .collect()
}

/// Draws the table of `s.rows()` with the selected row highlighted.
pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let rows = s.rows();
    let name_w = rows
        .iter()
        .map(|i| (COLS[0].cell)(i).chars().count() as u16)
        .max()
        .unwrap_or(5)
        .clamp(5, COLS[0].width);
    let cols = fitting(area.width, name_w);
    let header = Row::new(cols.iter().map(|(c, _)| {
        let mut h = c.head.to_string();
        if c.head == s.sort.label() || (c.head == "drops/s" && s.sort.label() == "drops") {
            h.push(if s.sort_reversed {
                '\u{25b2}'
            } else {
                '\u{25bc}'
            });
        }
        if c.head == "iface" {
            Cell::from(h)
        } else {
            Cell::from(Line::from(h).right_aligned())
        }
    }))
    .style(title_style());
    let body = rows.iter().map(|i| {
        let cells = cols.iter().map(|(c, _)| {
            let text = (c.cell)(i);
            let mut cell = Cell::from(if c.head == "iface" {
                Line::from(text.clone())
            } else {
                Line::from(text.clone()).right_aligned()
            });
            if c.drop && text != "0" && i.present {
                cell = cell.style(bad_style());
            }
            cell
        });
        let row = Row::new(cells);
        if i.present {
            row
        } else {
            row.style(gone_style())
        }
    });
    let title = if s.filter.is_empty() {
        format!(" interfaces ({}) ", rows.len())
    } else {
        format!(
            " interfaces ({} of {}, filter \"{}\") ",
            rows.len(),
            s.view.ifaces.len(),
            s.filter
        )
    };
    let table = Table::new(body, cols.iter().map(|(_, w)| Constraint::Length(*w)))
        .header(header)
        .block(Block::bordered().title(title).title_style(title_style()))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .column_spacing(1);
    let mut ts = TableState::default().with_selected(s.selected_index());
    f.render_stateful_widget(table, area, &mut ts);
    if rows.is_empty() {
        let msg = if s.view.ifaces.is_empty() {
            "waiting for the first samples..."
        } else {
            "no interface matches the filter"
        };
        let inner = Rect {
            x: area.x + 2,
            y: area.y + 2,
            width: area.width.saturating_sub(4),
            height: u16::from(area.height > 3),
        };
        f.render_widget(ratatui::widgets::Paragraph::new(msg), inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_terminals_keep_the_important_columns() {
        let heads = |w| fitting(w, 12).iter().map(|c| c.0.head).collect::<Vec<_>>();
        let narrow = heads(80);
        assert!(narrow.starts_with(&["iface", "rx bps", "tx bps"]));
        assert!(narrow.contains(&"drops/s") && narrow.contains(&"bursts"));
        assert!(!narrow.contains(&"crc"));
        assert_eq!(heads(200).len(), COLS.len());
        let tiny = heads(40);
        assert_eq!(tiny, ["iface", "rx bps", "tx bps", "drops/s"]);
    }
}
