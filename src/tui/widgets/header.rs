//! The top line: source, state flags (paused, finished, sampler error), sort, filter, softnet,
//! socket-level drops and the time of the view.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{bad_style, clock, si};
use crate::tui::app::State;

/// Draws the header line.
pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let mut spans = vec![
        Span::styled(
            " dpuctl watch ",
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ),
        Span::raw(format!(" {} ", s.source)),
    ];
    let flag = Style::default()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD);
    if s.paused {
        spans.push(Span::styled(" PAUSED ", flag));
        spans.push(Span::raw(" "));
    }
    if s.finished {
        spans.push(Span::styled(" replay finished (q quits) ", flag));
        spans.push(Span::raw(" "));
    }
    if let Some(e) = &s.error {
        spans.push(Span::styled(format!(" {e} "), bad_style()));
        spans.push(Span::raw(" "));
    }
    if s.view.missed_deadlines > 0 {
        // The sampler fell behind: bursts shorter than the gap may be missed.
        spans.push(Span::styled(
            format!("skipped {} ", s.view.missed_deadlines),
            Style::default().fg(Color::Yellow),
        ));
    }
    let v = &s.view;
    if let Some(so) = &v.sockets {
        // Drops at sockets (the interfaces delivered, the application could not keep up)
        // come before the sort and softnet, so that an 80-column header still shows them.
        for (proto, rate) in [("udp", so.udp_drops()), ("tcp", so.tcp_drops())] {
            if rate > 0.0 {
                spans.push(Span::styled(
                    format!("{proto} drop {}/s", si(rate)),
                    bad_style(),
                ));
                spans.push(Span::raw(" "));
            }
        }
    }
    let reversed = if s.sort_reversed { " reversed" } else { "" };
    spans.push(Span::raw(format!("sort:{}{reversed} ", s.sort.label())));
    if !s.filter.is_empty() || s.editing_filter {
        spans.push(Span::raw(format!("filter:{} ", s.filter)));
    }
    let soft = format!(
        "softnet {} drop/s {} sqz/s ",
        si(v.softnet_dropped),
        si(v.softnet_squeezed)
    );
    if v.softnet_dropped > 0.0 {
        spans.push(Span::styled(soft, bad_style()));
    } else if area.width >= 100 || v.softnet_squeezed > 0.0 {
        // A quiet softnet is left out of narrow headers.
        spans.push(Span::raw(soft));
    }
    if let Some(so) = v
        .sockets
        .filter(|so| so.udp_drops() == 0.0 && so.tcp_drops() == 0.0)
    {
        // Quiet sockets only where there is room to spare.
        if area.width >= 140 {
            spans.push(Span::raw(format!(
                "sockets {} drop/s ",
                si(so.udp_drops() + so.tcp_drops())
            )));
        }
    }
    // The time gets its own corner on wide screens; narrow ones need the room for the flags.
    let mut left = area;
    if v.wall_ms > 0 && area.width >= 100 {
        let [rest, time] = ratatui::layout::Layout::horizontal([
            ratatui::layout::Constraint::Fill(1),
            ratatui::layout::Constraint::Length(17),
        ])
        .areas(area);
        left = rest;
        f.render_widget(
            Paragraph::new(format!("{} UTC", clock(v.wall_ms))).right_aligned(),
            time,
        );
    }
    f.render_widget(Paragraph::new(Line::from(spans)), left);
}
