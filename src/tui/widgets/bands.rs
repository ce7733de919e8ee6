//! The classes (bands) of an interface's root qdisc: sent, drops and requeues per second,
//! backlog now. Bands that drop come first; a root without classes draws nothing.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table};
use ratatui::Frame;

use super::{bad_style, si, title_style};
use crate::monitor::bands::BandView;
use crate::monitor::IfaceView;

/// Bands in the order the table lists them: dropping ones first (most drops first), then by
/// class id as `tc` lists them.
pub fn ordered(bands: &[BandView]) -> Vec<&BandView> {
    let mut v: Vec<&BandView> = bands.iter().collect();
    v.sort_by(|a, b| {
        (b.drops > 0.0)
            .cmp(&(a.drops > 0.0))
            .then_with(|| b.drops.total_cmp(&a.drops))
            .then_with(|| a.band.cmp(&b.band))
            .then_with(|| a.class.cmp(&b.class))
    });
    v
}

/// Rows the table wants for `i` (its borders and header included); 0 without bands.
pub fn height(i: &IfaceView) -> u16 {
    if i.bands.is_empty() {
        0
    } else {
        u16::try_from(i.bands.len())
            .unwrap_or(u16::MAX)
            .saturating_add(3)
    }
}

/// Draws the band table of `i`.
pub fn render(f: &mut Frame, area: Rect, i: &IfaceView) {
    let kind = i.bands.first().map_or("", |b| b.kind.as_str());
    let dropping = i.bands.iter().filter(|b| b.drops > 0.0).count();
    let title = if dropping > 0 {
        format!(
            " {} {kind} bands ({}, {dropping} dropping) ",
            i.name,
            i.bands.len()
        )
    } else {
        format!(" {} {kind} bands ({}) ", i.name, i.bands.len())
    };
    let block = Block::bordered().title(title).title_style(title_style());
    let heads = [
        "band",
        "class",
        "bps",
        "pps",
        "drops/s",
        "requeue/s",
        "backlog",
    ];
    let header = Row::new(heads.iter().map(|&h| {
        Cell::from(if matches!(h, "band" | "class") {
            Line::from(h)
        } else {
            Line::from(h).right_aligned()
        })
    }))
    .style(title_style());
    let rows = ordered(&i.bands).into_iter().map(|b| {
        let red = |bad: bool| if bad { bad_style() } else { Style::default() };
        Row::new(vec![
            Cell::from(b.band.map_or_else(|| "-".to_string(), |x| x.to_string())),
            Cell::from(b.class.clone()),
            Cell::from(Line::from(si(b.bps)).right_aligned()),
            Cell::from(Line::from(si(b.pps)).right_aligned()),
            Cell::from(Line::from(si(b.drops)).right_aligned()).style(red(b.drops > 0.0)),
            Cell::from(Line::from(si(b.requeues)).right_aligned()),
            Cell::from(
                Line::from(format!(
                    "{}B/{}p",
                    si(b.backlog_bytes as f64),
                    b.backlog_packets
                ))
                .right_aligned(),
            ),
        ])
    });
    let widths = [
        Constraint::Length(4),
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Fill(1),
    ];
    f.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(band: u32, drops: f64) -> BandView {
        BandView {
            class: format!("1:{}", band + 1),
            kind: "ets".into(),
            band: Some(band),
            drops,
            ..BandView::default()
        }
    }

    #[test]
    fn dropping_bands_come_first() {
        let bands = [b(0, 0.0), b(1, 5.0), b(2, 0.0), b(3, 90.0)];
        let order: Vec<Option<u32>> = ordered(&bands).iter().map(|x| x.band).collect();
        assert_eq!(order, [Some(3), Some(1), Some(0), Some(2)]);
        let i = IfaceView {
            bands: bands.to_vec(),
            ..IfaceView::default()
        };
        assert_eq!(height(&i), 7);
        assert_eq!(height(&IfaceView::default()), 0);
    }
}
