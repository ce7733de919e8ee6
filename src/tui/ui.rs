//! The screens: a pure function of [`State`] that lays out the widgets. Small terminals get
//! fewer columns and panels, never a broken frame.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::app::{Mode, State};
use super::widgets::{
    alerts, bursts, charts, classes, footer, gone_style, header, help, iface_table, queues,
    summary, temps,
};
use crate::monitor::IfaceView;

/// Width from which the drop chart gets a panel of its own.
const WIDE: u16 = 110;

/// Draws the whole screen.
pub fn draw(f: &mut Frame, s: &State) {
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(f.area());
    header::render(f, top, s);
    footer::render(f, bottom, s);
    match &s.mode {
        Mode::Overview => overview(f, body, s),
        Mode::Zoom(name) => {
            if let Some(i) = s.zoomed() {
                zoom(f, body, i, s);
            } else {
                let p = Paragraph::new(format!(
                    "{name} is not watched any more (reset forgot it); Esc goes back"
                ))
                .style(gone_style())
                .block(Block::bordered().title(format!(" {name} ")));
                f.render_widget(p, body);
            }
        }
    }
    if s.help {
        help::render(f, body);
    }
}

fn overview(f: &mut Frame, area: Rect, s: &State) {
    let rows = s.rows();
    let want_table = rows.len().max(1) as u16 + 3;
    if area.height < 12 {
        // Tiny terminal: the table only.
        iface_table::render(f, area, s);
        return;
    }
    let table_h = want_table.min((area.height * 45 / 100).max(5));
    let rest = area.height - table_h;
    // The alerts row is as tall as its content (within 4..=10 lines); charts get the rest.
    let temps_n = rows.iter().map(|i| i.temps.len()).sum::<usize>();
    let low_want = (s.view.alerts.len().max(temps_n) as u16 + 2).clamp(4, 10);
    let (mid_h, low_h) = if rest >= 7 + low_want {
        (rest - low_want, low_want)
    } else if rest >= 10 {
        (7, rest - 7)
    } else {
        (rest, 0)
    };
    let [t, mid, low] = Layout::vertical([
        Constraint::Length(table_h),
        Constraint::Length(mid_h),
        Constraint::Length(low_h),
    ])
    .areas(area);
    iface_table::render(f, t, s);
    let current = s.selected_iface().or_else(|| rows.first().copied());
    if let Some(i) = current {
        charts_and_bursts(f, mid, i);
    }
    if low.height >= 3 {
        let keep = |a: &crate::monitor::Alert| {
            s.filter.is_empty() || a.iface.contains(&s.filter) || a.iface == "softnet"
        };
        let has_temps = rows.iter().any(|i| !i.temps.is_empty());
        if has_temps || area.width >= 100 {
            let tw = if area.width >= 100 {
                36
            } else {
                area.width / 3
            };
            let [a, tp] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Length(tw)]).areas(low);
            alerts::render(f, a, &s.view.alerts, &keep);
            temps::render(f, tp, &rows);
        } else {
            alerts::render(f, low, &s.view.alerts, &keep);
        }
    }
}

/// Throughput chart, drop chart (on wide screens) and burst panel of one interface, side by
/// side.
fn charts_and_bursts(f: &mut Frame, area: Rect, i: &IfaceView) {
    if area.width >= WIDE {
        let [chart, drops, burst] = Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Length(30),
            Constraint::Length(40),
        ])
        .areas(area);
        charts::throughput(f, chart, i);
        charts::drops(f, drops, i);
        bursts::render(f, burst, i);
    } else {
        let [chart, burst] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(38)]).areas(area);
        charts::throughput(f, chart, i);
        bursts::render(f, burst, i);
    }
}

fn zoom(f: &mut Frame, area: Rect, i: &IfaceView, s: &State) {
    if area.height < 14 {
        let [head, rest] =
            Layout::vertical([Constraint::Length(6.min(area.height)), Constraint::Fill(1)])
                .areas(area);
        summary::render(f, head, i);
        queues::render(f, rest, i);
        return;
    }
    let low_h = if area.height >= 30 { 12 } else { 7 };
    let [top, mid, low] = Layout::vertical([
        Constraint::Length(6),
        Constraint::Fill(1),
        Constraint::Length(low_h),
    ])
    .areas(area);
    summary::render(f, top, i);
    let (tables, notes) = if mid.height >= 14 {
        let [upper, lower] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(6)]).areas(mid);
        (upper, Some(lower))
    } else {
        (mid, None)
    };
    let qw = if area.width >= 100 { 44 } else { 34 };
    let [queue_area, class_area] =
        Layout::horizontal([Constraint::Length(qw), Constraint::Fill(1)]).areas(tables);
    queues::render(f, queue_area, i);
    // The root qdisc's bands above the driver counters, when it has classes.
    let want = super::widgets::bands::height(i);
    let class_area = if want > 0 && class_area.height >= 9 {
        // Five rows stay for the driver counters.
        let h = want.min(class_area.height - 5);
        let [band_area, rest] =
            Layout::vertical([Constraint::Length(h), Constraint::Fill(1)]).areas(class_area);
        super::widgets::bands::render(f, band_area, i);
        rest
    } else {
        class_area
    };
    // RDMA ports on this interface (RoCE): their counters below the driver's.
    let ports = super::widgets::rdma::ports_on(&s.view, &i.name);
    if ports.is_empty() || class_area.height < 8 {
        classes::render(f, class_area, i);
    } else {
        let h = super::widgets::rdma::height(&ports).min(class_area.height / 2);
        let [driver_area, rdma_area] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(h)]).areas(class_area);
        classes::render(f, driver_area, i);
        super::widgets::rdma::render(f, rdma_area, &ports);
    }
    if let Some(notes) = notes {
        let [alert_area, temp_area] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(36)]).areas(notes);
        alerts::render(f, alert_area, &s.view.alerts, &|al| al.iface == i.name);
        temps::render(f, temp_area, &[i]);
    }
    charts_and_bursts(f, low, i);
}
