//! Driver counters of one interface by semantic class (buffer exhaustion, FIFO overflow,
//! CRC, pause, ...), then the counters no table knows, raw. Moving counters come first.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::{bad_style, gone_style, si, title_style};
use crate::monitor::{ClassRate, IfaceView};

/// Classes that count trouble; their moving counters show red.
fn is_trouble(class: &str) -> bool {
    !matches!(
        class,
        "raw" | "packets" | "bytes" | "queue_packets" | "queue_bytes" | "pause" | "pause_duration"
    )
}

/// The side and priority that spent the largest share of the period paused, for the title:
/// `pause rx prio 3 21.7%` (rx: received, the peer slows us; tx: sent, we slow the peer;
/// `~` before an estimate from frames, an upper bound). `None` when nothing paused.
pub fn worst_pause(i: &IfaceView) -> Option<String> {
    let p = i
        .pause
        .iter()
        .filter(|p| p.share.is_some_and(|s| s > 0.0))
        .max_by(|a, b| a.share.unwrap_or(0.0).total_cmp(&b.share.unwrap_or(0.0)))?;
    let prio = p
        .priority
        .map_or_else(|| "link".to_string(), |x| format!("prio {x}"));
    let est = if p.source == Some(crate::monitor::pause::ShareSource::FrameEstimate) {
        "~"
    } else {
        ""
    };
    Some(format!(
        "pause {} {prio} {est}{:.1}%",
        p.dir,
        p.share.unwrap_or(0.0) * 100.0
    ))
}

/// Draws the class table of `i`.
pub fn render(f: &mut Frame, area: Rect, i: &IfaceView) {
    let pause = worst_pause(i).map_or_else(String::new, |p| format!("- {p} "));
    let block = Block::bordered()
        .title(format!(
            " {} driver counters ({} classed, {} raw) {pause}",
            i.name,
            i.classes.len(),
            i.raw.len()
        ))
        .title_style(title_style());
    if i.classes.is_empty() && i.raw.is_empty() {
        let why = i
            .driver_stats_na
            .as_deref()
            .unwrap_or("the driver reports no private counters (ethtool -S)");
        let p = Paragraph::new(format!("n/a: {why}"))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .style(gone_style())
            .block(block);
        f.render_widget(p, area);
        return;
    }
    // Classed counters first, then raw ones; within each, moving ones first (then by name),
    // so that what changes is on screen even when the list is long.
    let mut all: Vec<&ClassRate> = i.classes.iter().collect();
    let mut raw: Vec<&ClassRate> = i.raw.iter().collect();
    let order = |a: &&ClassRate, b: &&ClassRate| {
        (b.rate > 0.0)
            .cmp(&(a.rate > 0.0))
            .then_with(|| a.class.cmp(&b.class))
            .then_with(|| a.counter.cmp(&b.counter))
    };
    all.sort_by(order);
    raw.sort_by(order);
    all.extend(raw);
    // Narrow panels leave out the totals: the rates say what moves now.
    let with_total = area.width >= 60;
    let heads: &[&str] = if with_total {
        &["class", "counter", "per s", "total"]
    } else {
        &["class", "counter", "per s"]
    };
    let header = Row::new(heads.iter().map(|&h| {
        Cell::from(if matches!(h, "per s" | "total") {
            Line::from(h).right_aligned()
        } else {
            Line::from(h)
        })
    }))
    .style(title_style());
    let rows = all.iter().map(|c| {
        let style = if c.rate > 0.0 && is_trouble(&c.class) {
            bad_style()
        } else if c.rate == 0.0 {
            gone_style()
        } else {
            Style::default()
        };
        let mut cells = vec![
            Cell::from(c.class.clone()),
            Cell::from(c.counter.clone()),
            Cell::from(Line::from(si(c.rate)).right_aligned()),
        ];
        if with_total {
            cells.push(Cell::from(Line::from(si(c.total as f64)).right_aligned()));
        }
        Row::new(cells).style(style)
    });
    let mut widths = vec![
        Constraint::Length(17),
        Constraint::Fill(1),
        Constraint::Length(6),
    ];
    if with_total {
        widths.push(Constraint::Length(6));
    }
    f.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::pause::{PauseView, ShareSource};

    #[test]
    fn the_title_names_the_side_and_priority_paused_most() {
        let mut i = IfaceView::default();
        assert_eq!(worst_pause(&i), None);
        let pv = |dir: &str, priority, share, source| PauseView {
            dir: dir.into(),
            priority,
            frames_per_s: 1.0,
            share,
            source,
        };
        i.pause = vec![
            pv("tx", Some(3), Some(0.01), Some(ShareSource::Duration)),
            pv("rx", Some(3), Some(0.217), Some(ShareSource::Duration)),
            pv("rx", None, None, None),
        ];
        assert_eq!(worst_pause(&i).as_deref(), Some("pause rx prio 3 21.7%"));
        i.pause = vec![pv("tx", None, Some(0.5), Some(ShareSource::FrameEstimate))];
        assert_eq!(worst_pause(&i).as_deref(), Some("pause tx link ~50.0%"));
    }
}
