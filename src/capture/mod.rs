//! Packet capture and microsecond burst analysis (`dpuctl capture`).
//!
//! [`reader`] walks pcap and pcapng files without copying; [`decode`] finds each packet's
//! flow; [`analyze`] bins, detects bursts (with the definition `dpuctl watch` uses,
//! [`crate::monitor::microburst`]), and gathers inter-arrival statistics, flows and TCP hints
//! in one pass; [`report`] renders the results; [`live`] captures through libpcap.

pub mod analyze;
pub mod decode;
pub mod hash;
pub mod live;
pub mod reader;
pub mod report;
pub mod write;

use serde::Serialize;

pub use analyze::{Analysis, Analyzer, Options};
pub use reader::{Format, Packet, ReadError, Reader};

/// Line rate assumed for files when neither `--line-rate` nor the file says (pcapng
/// `if_speed`): 10 Gbit/s, the most common server port below the GPU fabric.
pub const DEFAULT_LINE_RATE_BPS: u64 = 10_000_000_000;

/// Where the line rate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RateSource {
    /// `--line-rate`.
    Flag,
    /// The file's `if_speed` option.
    File,
    /// The link speed of the capture interface.
    Interface,
    /// [`DEFAULT_LINE_RATE_BPS`].
    Default,
}

impl RateSource {
    /// For the text output.
    pub fn note(self) -> &'static str {
        match self {
            Self::Flag => "--line-rate",
            Self::File => "if_speed of the file",
            Self::Interface => "link speed of the interface",
            Self::Default => "assumed; set --line-rate",
        }
    }
}

/// Results of reading and analyzing one capture file.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// File format.
    pub format: Format,
    /// What the packets read show.
    pub analysis: Analysis,
    /// Where the line rate came from.
    pub rate_source: RateSource,
    /// The error that stopped reading early, if any (the analysis covers what came before).
    pub error: Option<ReadError>,
}

/// Analyzes the bytes of a capture file. `line_rate` is `--line-rate` if given; `make`
/// builds the options from the line rate decided. `progress(done, total)` is called every
/// 64Ki packets. Only an unreadable file header is an `Err`; later faults end the analysis
/// and come back in [`FileResult::error`].
pub fn analyze_bytes(
    buf: &[u8],
    line_rate: Option<u64>,
    make: impl FnOnce(u64) -> Options,
    mut progress: impl FnMut(usize, usize),
) -> Result<FileResult, ReadError> {
    let mut r = Reader::new(buf)?;
    let format = r.format();
    let (rate, rate_source) = if let Some(v) = line_rate {
        (v, RateSource::Flag)
    } else {
        // pcapng interfaces are described before their packets: reading the first packet
        // on a copy of the reader has parsed them.
        let mut peek = r.clone();
        let _ = peek.next_packet();
        match peek.speed_bps().filter(|&s| s > 0) {
            Some(s) => (s, RateSource::File),
            None => (DEFAULT_LINE_RATE_BPS, RateSource::Default),
        }
    };
    let mut an = Analyzer::new(make(rate));
    let mut n = 0u32;
    let error = loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                an.push(&p);
                n += 1;
                if n == 1 << 16 {
                    n = 0;
                    progress(r.position(), r.len());
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    Ok(FileResult {
        format,
        analysis: an.finish(),
        rate_source,
        error,
    })
}

/// A value with a unit suffix, case-insensitive: the number and the lower-cased suffix.
fn split_unit(s: &str) -> Result<(f64, String), String> {
    let s = s.trim();
    let i = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(i);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' does not start with a number"))?;
    if !v.is_finite() || v <= 0.0 {
        return Err(format!("'{s}' must be positive"));
    }
    Ok((v, unit.trim().to_ascii_lowercase()))
}

/// Parses a line rate in bits per second: `10G`, `25gbit`, `100M`, `400Gb/s`, `1.5gbps`,
/// `1000000` (bits per second).
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let (v, unit) = split_unit(s)?;
    let base = unit
        .strip_suffix("bit/s")
        .or_else(|| unit.strip_suffix("bits"))
        .or_else(|| unit.strip_suffix("bit"))
        .or_else(|| unit.strip_suffix("bps"))
        .or_else(|| unit.strip_suffix("b/s"))
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let mul = match base {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        _ => {
            return Err(format!(
                "unknown unit in '{s}' (use e.g. 100M, 10G, 25gbit, 400Gb/s)"
            ))
        }
    };
    let bps = v * mul;
    if !(1.0..=1e15).contains(&bps) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(bps.round() as u64)
}

/// Parses a duration into nanoseconds: `10us`, `1.5ms`, `100ns`, `2s`, `5m`, `1h` (a unit
/// is required: a bare number is ambiguous between a bin width and a capture length).
pub fn parse_duration_ns(s: &str) -> Result<u64, String> {
    let (v, unit) = split_unit(s)?;
    let mul = match unit.as_str() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        "" => {
            return Err(format!(
                "'{s}' needs a unit: ns, us, ms, s, m or h (e.g. 10us, 30s)"
            ))
        }
        _ => return Err(format!("unknown unit in '{s}' (use ns, us, ms, s, m or h)")),
    };
    let ns = (v * mul).round();
    if !(1.0..=1e18).contains(&ns) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(ns as u64)
}

/// Parses a utilization threshold: `0.5`, `50%`.
pub fn parse_threshold(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v: f64 = if let Some(p) = t.strip_suffix('%') {
        p.trim()
            .parse::<f64>()
            .map_err(|_| format!("'{s}' is not a percentage"))?
            / 100.0
    } else {
        t.parse().map_err(|_| format!("'{s}' is not a number"))?
    };
    if !(v > 0.0 && v.is_finite()) {
        return Err(format!(
            "'{s}' must be above 0 (0.5 or 50% is half the line rate)"
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_units() {
        assert_eq!(parse_rate("10G"), Ok(10_000_000_000));
        assert_eq!(parse_rate("25gbit"), Ok(25_000_000_000));
        assert_eq!(parse_rate("100M"), Ok(100_000_000));
        assert_eq!(parse_rate("400Gb/s"), Ok(400_000_000_000));
        assert_eq!(parse_rate("1.5gbps"), Ok(1_500_000_000));
        assert_eq!(parse_rate("1000000"), Ok(1_000_000));
        assert!(parse_rate("10X").is_err());
        assert!(parse_rate("G").is_err());
        assert!(parse_rate("0G").is_err());
    }

    #[test]
    fn durations_need_units() {
        assert_eq!(parse_duration_ns("10us"), Ok(10_000));
        assert_eq!(parse_duration_ns("1.5ms"), Ok(1_500_000));
        assert_eq!(parse_duration_ns("2s"), Ok(2_000_000_000));
        assert_eq!(parse_duration_ns("5m"), Ok(300_000_000_000));
        assert!(parse_duration_ns("10").is_err());
        assert!(parse_duration_ns("0.1ns").is_err());
    }

    #[test]
    fn thresholds_as_fraction_or_percent() {
        assert_eq!(parse_threshold("0.5"), Ok(0.5));
        assert_eq!(parse_threshold("80%"), Ok(0.8));
        assert!(parse_threshold("0").is_err());
        assert!(parse_threshold("x").is_err());
    }
}
