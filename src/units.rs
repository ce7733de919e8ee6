//! Values with units as users type them on the command line and in config files: line rates,
//! durations and utilization thresholds. One parser each, so that `watch`, `stats`, `capture`
//! and `troubleshoot` accept the same spellings.

use std::time::Duration;

/// Human-readable size with binary units (`1.5 KiB`): one spelling for every printer,
/// and for the lower layers (diagnosis, bursts) that put sizes in their messages.
pub fn human_bytes(v: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut x = v as f64;
    let mut i = 0;
    while x >= 1024.0 && i + 1 < UNITS.len() {
        x /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v} B")
    } else {
        format!("{x:.1} {}", UNITS[i])
    }
}

/// Splits `s` into its leading number and its lower-cased unit.
fn split_unit(s: &str) -> Option<(f64, String)> {
    let t = s.trim();
    let i = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(i);
    let v: f64 = num.parse().ok()?;
    Some((v, unit.trim().to_ascii_lowercase()))
}

/// Parses a line rate in bits per second: `10G`, `25gbit`, `100M`, `400Gb/s`, `1.5Gbps`,
/// `400Mbit/s`, `1T`, `1P`, or plain bits per second; 1 kbit/s to 1 Pbit/s.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let bad = || format!("invalid line rate '{s}': expected e.g. 100M, 10G, 25gbit, 400Gb/s");
    let (v, unit) = split_unit(s).ok_or_else(bad)?;
    let base = ["bit/s", "bits", "bit", "bps", "b/s", "b"]
        .iter()
        .find_map(|suffix| unit.strip_suffix(suffix))
        .unwrap_or(&unit);
    let mul = match base {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "p" => 1e15,
        _ => return Err(bad()),
    };
    let bps = v * mul;
    if !(1e3..=1e15).contains(&bps) {
        return Err(format!(
            "line rate '{s}' is out of range (1kbit/s to 1Pbit/s)"
        ));
    }
    Ok(bps.round() as u64)
}

/// Parses a duration with a unit: `100ns`, `10us`, `1.5ms`, `2s`, `5m`, `1h`. A unit is
/// required: a bare number is ambiguous between a bin width and a capture length.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (v, unit) = split_unit(s).ok_or_else(|| {
        format!("invalid duration '{s}': expected a number and a unit, e.g. 10us, 1ms, 30s")
    })?;
    let mul = match unit.as_str() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "" => {
            return Err(format!(
                "duration '{s}' needs a unit: ns, us, ms, s, m or h"
            ))
        }
        _ => return Err(format!("unknown unit in '{s}' (ns, us, ms, s, m or h)")),
    };
    let secs = v * mul;
    // Below a nanosecond rounds to nothing; above ~31 years is a typo.
    if !(1e-9..=1e9).contains(&secs) {
        return Err(format!("duration '{s}' is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A timeout: a duration with a unit (`90s`, `5m`), or a bare whole number of seconds.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n <= 1_000_000_000 => Ok(Duration::from_secs(n)),
        Ok(_) => Err(format!("timeout '{s}' is out of range")),
        Err(_) => parse_duration(s),
    }
}

/// [`parse_duration`] in nanoseconds.
pub fn parse_duration_ns(s: &str) -> Result<u64, String> {
    parse_duration(s).map(|d| d.as_nanos() as u64)
}

/// Parses a utilization threshold as a fraction of the line rate: `50%` or `0.5` (above 0,
/// at most 1000%).
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = if let Some(p) = t.strip_suffix('%') {
        p.trim().parse::<f64>().map(|v| v / 100.0)
    } else {
        t.parse::<f64>()
    }
    .map_err(|_| format!("invalid threshold '{s}': expected e.g. 50% or 0.5"))?;
    if !(v > 0.0 && v <= 10.0) {
        return Err(format!(
            "threshold '{s}' must be above 0 (0.5 or 50% is half the line rate)"
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_take_common_spellings() {
        assert_eq!(parse_rate("10G"), Ok(10_000_000_000));
        assert_eq!(parse_rate("25gbit"), Ok(25_000_000_000));
        assert_eq!(parse_rate("100M"), Ok(100_000_000));
        assert_eq!(parse_rate("400Gb/s"), Ok(400_000_000_000));
        assert_eq!(parse_rate("400Mbit/s"), Ok(400_000_000));
        assert_eq!(parse_rate("1.5gbps"), Ok(1_500_000_000));
        assert_eq!(parse_rate("1000000"), Ok(1_000_000));
        // Both ends of the range the messages name.
        assert_eq!(parse_rate("1P"), Ok(1_000_000_000_000_000));
        assert_eq!(parse_rate("1Pbit/s"), Ok(1_000_000_000_000_000));
        assert_eq!(parse_rate("1k"), Ok(1_000));
        for bad in ["10X", "G", "0G", "0", "fast", "-1G", "100", "1.1P", "2P"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_need_units() {
        assert_eq!(parse_duration_ns("10us"), Ok(10_000));
        assert_eq!(parse_duration_ns("100ns"), Ok(100));
        assert_eq!(parse_duration_ns("1.5ms"), Ok(1_500_000));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["10", "0.1ns", "0ms", "5 parsecs", "ms", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn thresholds_as_fraction_or_percent() {
        assert_eq!(parse_fraction("0.5"), Ok(0.5));
        assert_eq!(parse_fraction("80%"), Ok(0.8));
        assert_eq!(parse_fraction("50 %"), Ok(0.5));
        for bad in ["0", "0%", "x", "-0.5", "NaN", "2000%"] {
            assert!(parse_fraction(bad).is_err(), "{bad}");
        }
    }
}
