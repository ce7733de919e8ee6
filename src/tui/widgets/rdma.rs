//! The RDMA ports that sit on one interface (RoCE): each port's hardware counters as rates,
//! with their class (`rdma_classes.yaml`). Moving counters first, classified before raw;
//! loss and recovery (retransmits, timeouts, sequence errors, out of buffer) show red.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table};
use ratatui::Frame;

use super::{bad_style, gone_style, si, title_style};
use crate::monitor::rdma_classes::RdmaClass;
use crate::monitor::view::RdmaPortView;
use crate::monitor::{ClassRate, View};

/// The RDMA ports on the netdev `iface`.
pub fn ports_on<'a>(v: &'a View, iface: &str) -> Vec<&'a RdmaPortView> {
    v.rdma
        .iter()
        .filter(|p| p.netdev.as_deref() == Some(iface))
        .collect()
}

/// Lines the panel wants for `ports` (borders and header included).
pub fn height(ports: &[&RdmaPortView]) -> u16 {
    let rows: usize = ports.iter().map(|p| p.counters.len().max(1)).sum();
    u16::try_from(rows + 3).unwrap_or(u16::MAX)
}

fn is_trouble(class: &str) -> bool {
    RdmaClass::parse(class).is_some_and(RdmaClass::is_error)
}

/// The title: the ports with their loss rate (retransmits, timeouts and sequence errors per
/// second): ` RDMA rxe0/1 loss 15/s `.
pub fn title(ports: &[&RdmaPortView]) -> String {
    let each: Vec<String> = ports
        .iter()
        .map(|p| {
            let loss: f64 = p
                .classes
                .iter()
                .filter(|c| is_trouble(&c.class) && c.class != "out_of_buffer")
                .map(|c| c.rate)
                .sum();
            let gone = if p.present { "" } else { " (gone)" };
            format!("{}{gone} loss {}/s", p.key(), si(loss))
        })
        .collect();
    format!(" RDMA {} ", each.join(", "))
}

/// Draws the RDMA counters of `ports`.
pub fn render(f: &mut Frame, area: Rect, ports: &[&RdmaPortView]) {
    let block = Block::bordered()
        .title(title(ports))
        .title_style(title_style());
    let mut rows_data: Vec<(String, &ClassRate)> = Vec::new();
    for p in ports {
        for c in &p.counters {
            rows_data.push((p.key(), c));
        }
    }
    rows_data.sort_by(|(pa, a), (pb, b)| {
        (b.rate > 0.0)
            .cmp(&(a.rate > 0.0))
            .then_with(|| (a.class == "raw").cmp(&(b.class == "raw")))
            .then_with(|| pa.cmp(pb))
            .then_with(|| a.class.cmp(&b.class))
            .then_with(|| a.counter.cmp(&b.counter))
    });
    let multi = ports.len() > 1;
    let with_total = area.width >= 60;
    let mut heads = Vec::new();
    if multi {
        heads.push("port");
    }
    heads.extend(["class", "counter", "per s"]);
    if with_total {
        heads.push("total");
    }
    let header = Row::new(heads.iter().map(|&h| {
        Cell::from(if matches!(h, "per s" | "total") {
            Line::from(h).right_aligned()
        } else {
            Line::from(h)
        })
    }))
    .style(title_style());
    let rows = rows_data.iter().map(|(key, c)| {
        let style = if c.rate > 0.0 && is_trouble(&c.class) {
            bad_style()
        } else if c.rate == 0.0 {
            gone_style()
        } else {
            Style::default()
        };
        let mut cells = Vec::new();
        if multi {
            cells.push(Cell::from(key.clone()));
        }
        cells.push(Cell::from(c.class.clone()));
        cells.push(Cell::from(c.counter.clone()));
        cells.push(Cell::from(Line::from(si(c.rate)).right_aligned()));
        if with_total {
            cells.push(Cell::from(Line::from(si(c.total as f64)).right_aligned()));
        }
        Row::new(cells).style(style)
    });
    let mut widths = Vec::new();
    if multi {
        widths.push(Constraint::Length(10));
    }
    widths.extend([
        Constraint::Length(15),
        Constraint::Fill(1),
        Constraint::Length(6),
    ]);
    if with_total {
        widths.push(Constraint::Length(6));
    }
    f.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::view::RdmaClassRate;

    fn port(device: &str, netdev: &str, retransmits: f64) -> RdmaPortView {
        RdmaPortView {
            device: device.into(),
            port: 1,
            netdev: Some(netdev.into()),
            driver: "rxe".into(),
            present: true,
            classes: vec![
                RdmaClassRate {
                    class: "retransmits".into(),
                    rate: retransmits,
                    total: 100,
                },
                RdmaClassRate {
                    class: "out_of_buffer".into(),
                    rate: 50.0,
                    total: 9,
                },
            ],
            counters: vec![ClassRate {
                class: "retransmits".into(),
                counter: "completer_retry_err".into(),
                rate: retransmits,
                total: 100,
            }],
        }
    }

    #[test]
    fn ports_on_an_interface_and_the_title_counts_loss_only() {
        let v = View {
            rdma: vec![port("rxe0", "rs0", 15.0), port("rxe1", "eth0", 0.0)],
            ..View::default()
        };
        let on = ports_on(&v, "rs0");
        assert_eq!(on.len(), 1);
        // out_of_buffer (RNR) is not loss on the wire.
        assert_eq!(title(&on), " RDMA rxe0/1 loss 15/s ");
        assert!(ports_on(&v, "rs1").is_empty());
        assert_eq!(height(&on), 4);
    }
}
