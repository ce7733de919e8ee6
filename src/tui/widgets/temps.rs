//! NIC temperatures, red within 10 C of the critical value.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::{bad_style, gone_style, title_style};
use crate::monitor::IfaceView;

/// Degrees below the critical value at which a sensor shows as hot (the alert's default).
const HOT_MARGIN_C: f64 = 10.0;

/// Draws one line per sensor of `ifaces`; "none" when no NIC reports a temperature.
pub fn render(f: &mut Frame, area: Rect, ifaces: &[&IfaceView]) {
    let mut lines = Vec::new();
    for i in ifaces {
        for t in &i.temps {
            let crit = t
                .crit
                .map_or_else(String::new, |c| format!(" crit {c:.0}C"));
            let hot = t.crit.is_some_and(|c| t.celsius >= c - HOT_MARGIN_C);
            let style = if !i.present {
                gone_style()
            } else if hot {
                bad_style()
            } else {
                Style::default()
            };
            lines.push(
                Line::from(format!("{} {} {:.0}C{crit}", i.name, t.label, t.celsius)).style(style),
            );
        }
    }
    // Pluggable modules: temperature, and the weakest receive lane against the module's own
    // low warning (red below it).
    for i in ifaces {
        let Some(m) = &i.module else { continue };
        if let Some(t) = m.temperature_c {
            let hot = m.temperature_high_warning_c.is_some_and(|w| t > w);
            let style = if hot { bad_style() } else { Style::default() };
            lines.push(Line::from(format!("{} module {t:.0}C", i.name)).style(style));
        }
        let weakest = m
            .lanes
            .iter()
            .filter_map(|l| Some((l.lane, l.rx_power_dbm?)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((lane, p)) = weakest {
            let low = m.rx_power_low_warning_dbm.is_some_and(|w| p < w);
            let warn = m
                .rx_power_low_warning_dbm
                .map_or_else(String::new, |w| format!(" warn {w:.1}"));
            let style = if low { bad_style() } else { Style::default() };
            lines.push(
                Line::from(format!("{} rx lane {lane} {p:.1}dBm{warn}", i.name)).style(style),
            );
        }
    }
    if lines.is_empty() {
        lines.push(Line::from("n/a: no NIC reports a temperature").style(gone_style()));
    }
    let p = Paragraph::new(lines).block(
        Block::bordered()
            .title(" temperatures ")
            .title_style(title_style()),
    );
    f.render_widget(p, area);
}
