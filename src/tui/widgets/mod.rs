//! One file per widget. Each `render` draws plain data into an area and reads nothing else:
//! no clock, no I/O, so a frame is a function of the state.

pub mod alerts;
pub mod bands;
pub mod bursts;
pub mod charts;
pub mod classes;
pub mod footer;
pub mod header;
pub mod help;
pub mod iface_table;
pub mod queues;
pub mod rdma;
pub mod summary;
pub mod temps;

use ratatui::style::{Color, Modifier, Style};

/// Style of rows of interfaces that vanished.
pub fn gone_style() -> Style {
    Style::default().fg(Color::DarkGray)
}

/// Style of values that need attention (drops, alerts, hot sensors).
pub fn bad_style() -> Style {
    Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
}

/// Style of block titles.
pub fn title_style() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

/// A number with an SI suffix and three significant digits ("950", "1.23k", "12.3M", "9.87G").
pub fn si(v: f64) -> String {
    if !v.is_finite() {
        return "?".into();
    }
    let a = v.abs();
    let (div, suffix) = if a >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let x = v / div;
    if suffix.is_empty() {
        if a == 0.0 {
            "0".into()
        } else if a < 10.0 && x.fract() != 0.0 {
            format!("{x:.1}")
        } else {
            format!("{x:.0}")
        }
    } else if x.abs() >= 100.0 {
        format!("{x:.0}{suffix}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}{suffix}")
    } else {
        format!("{x:.2}{suffix}")
    }
}

/// Bits per second ("12.3M", "0").
pub fn bps(v: f64) -> String {
    si(v)
}

/// A utilization ("73%"), or "n/a" when the line rate is unknown.
pub fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |u| format!("{:.0}%", u * 100.0))
}

/// A Unix time in ms as "HH:MM:SS.mmm" (UTC).
pub fn clock(wall_ms: u64) -> String {
    let ms = wall_ms % 1000;
    let s = wall_ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{ms:03}",
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_keeps_three_digits() {
        assert_eq!(si(0.0), "0");
        assert_eq!(si(0.3), "0.3");
        assert_eq!(si(7.0), "7");
        assert_eq!(si(950.0), "950");
        assert_eq!(si(1_234.0), "1.23k");
        assert_eq!(si(12_345_678.0), "12.3M");
        assert_eq!(si(9_870_000_000.0), "9.87G");
        assert_eq!(si(f64::NAN), "?");
    }

    #[test]
    fn clock_is_utc_time_of_day() {
        // 2026-11-23 12:34:56.789 UTC
        assert_eq!(clock(1_795_437_296_789), "12:34:56.789");
        assert_eq!(pct(None), "n/a");
        assert_eq!(pct(Some(0.734)), "73%");
    }
}
