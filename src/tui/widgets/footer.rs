//! The bottom line: the keys of the screen shown, or the filter being typed.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::app::{Mode, State};

/// Draws the footer line.
pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let key = Style::default().add_modifier(Modifier::REVERSED);
    let line = if let Some(note) = &s.note {
        // The outcome of the last command replaces the keys until the next key.
        Line::from(Span::styled(
            format!(" {note} "),
            Style::default()
                .fg(ratatui::style::Color::Black)
                .bg(ratatui::style::Color::Green),
        ))
    } else if s.editing_filter {
        Line::from(vec![
            Span::styled(" / ", key),
            Span::raw(format!(" filter: {}_", s.filter)),
            Span::raw("   Enter keep  Esc clear"),
        ])
    } else {
        let keys: &[(&str, &str)] = match s.mode {
            Mode::Overview => &[
                ("q", "quit"),
                ("?", "help"),
                ("spc", "pause"),
                ("s", "sort"),
                ("/", "filter"),
                ("\u{21b5}", "zoom"),
                ("j/k", "move"),
                ("r", "reset"),
                ("w", "save"),
            ],
            Mode::Zoom(_) => &[
                ("q", "quit"),
                ("?", "help"),
                ("spc", "pause"),
                ("Esc", "back"),
                ("j/k", "next/prev iface"),
                ("r", "reset"),
                ("w", "save"),
            ],
        };
        let mut spans = Vec::new();
        for (k, what) in keys {
            spans.push(Span::styled(format!(" {k} "), key));
            spans.push(Span::raw(format!("{what} ")));
        }
        Line::from(spans)
    };
    f.render_widget(Paragraph::new(line), area);
}
