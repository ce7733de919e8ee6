//! Pause (flow control) by side and priority, and the share of the link it takes.
//!
//! Sides: `rx` is pause received (the peer asks us to stop: the peer is slowing us down),
//! `tx` is pause sent (we ask the peer to stop: we are slowing the peer down). A priority is
//! a PFC priority (802.1Qbb); no priority means link-level 802.3x pause.
//!
//! **Pause share** is the fraction of a time window a side spent paused:
//! - from the driver's pause duration counters where it has them (mlx5
//!   `rx_prio3_pause_duration`, microseconds): paused microseconds / window;
//! - otherwise estimated from pause frames: XOFF/pause frames x quanta x 512 bit times / line
//!   rate, with the quanta Linux drivers send ([`DEFAULT_QUANTA`], 0xFFFF). It is an upper
//!   bound: an XON frame, or a refresh before the time runs out, ends a pause early (XON
//!   frames ask for zero quanta and are not counted). Capped at 1.
//! - none (n/a) from frames when the line rate is unknown.
//!
//! The daqiri case (pause ate 21.7% of a 400G link with every drop counter at zero) is what
//! [`Metric::PauseShare`](super::thresholds::Metric::PauseShare) alerts on: a share above the
//! threshold while the interface and driver drop counters did not move.

use serde::{Deserialize, Serialize};

use crate::model::Dir;

/// Pause quanta per frame assumed by the frame estimate: what the Linux drivers program
/// (ixgbe/igb `IXGBE_DEFAULT_FCPAUSE`/`0xFFFF`, i40e/ice and mlx5 firmware defaults).
pub const DEFAULT_QUANTA: u64 = 0xFFFF;

/// Bit times per pause quantum (IEEE 802.3 Annex 31B).
pub const QUANTUM_BIT_TIMES: u64 = 512;

/// How a pause share was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareSource {
    /// From the driver's pause duration counters.
    Duration,
    /// Estimated from pause frames (an upper bound).
    FrameEstimate,
}

impl ShareSource {
    /// The name in views and labels.
    pub fn name(self) -> &'static str {
        match self {
            ShareSource::Duration => "duration",
            ShareSource::FrameEstimate => "frame_estimate",
        }
    }
}

/// Side and priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PauseKey {
    /// `true` for sent (tx), `false` for received (rx).
    pub sent: bool,
    /// PFC priority; `None` for link-level pause.
    pub priority: Option<u32>,
}

impl PauseKey {
    /// The key of a counter's direction and captured priority.
    pub fn new(dir: Option<Dir>, priority: Option<u32>) -> Self {
        Self {
            sent: dir == Some(Dir::Tx),
            priority,
        }
    }

    /// "rx" or "tx".
    pub fn side(self) -> &'static str {
        if self.sent {
            "tx"
        } else {
            "rx"
        }
    }

    /// The priority label: the number, or `global` for link-level pause.
    pub fn priority_label(self) -> String {
        self.priority
            .map_or_else(|| "global".to_string(), |p| p.to_string())
    }
}

/// Pause counted over some time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PauseAcc {
    /// XOFF/pause frames (XON frames excluded).
    pub frames: u64,
    /// XON frames.
    pub xon_frames: u64,
    /// Microseconds paused, from duration counters.
    pub duration_us: u64,
    /// A duration counter contributed (so a zero duration is a measurement).
    pub has_duration: bool,
}

impl PauseAcc {
    /// Adds a counter's advance.
    pub fn add(&mut self, counter: &str, duration: bool, d: u64) {
        if duration {
            self.has_duration = true;
            self.duration_us = self.duration_us.saturating_add(d);
        } else if is_xon(counter) {
            self.xon_frames = self.xon_frames.saturating_add(d);
        } else {
            self.frames = self.frames.saturating_add(d);
        }
    }

    /// All pause frames (XOFF and XON).
    pub fn all_frames(&self) -> u64 {
        self.frames.saturating_add(self.xon_frames)
    }
}

/// True for a counter of XON frames (a pause of zero quanta: the end of a pause).
pub fn is_xon(counter: &str) -> bool {
    let c = counter.to_ascii_lowercase();
    c.contains("xon") && !c.contains("xoff")
}

/// Seconds paused by these frames at this line rate (the frame estimate, uncapped).
pub fn frame_seconds(frames: u64, line_rate_bps: u64) -> f64 {
    if line_rate_bps == 0 {
        return 0.0;
    }
    frames as f64 * (DEFAULT_QUANTA * QUANTUM_BIT_TIMES) as f64 / line_rate_bps as f64
}

/// The share of `window_ns` spent paused, and how it was found; `None` when it cannot be
/// known (no duration counter and no line rate, or an empty window).
pub fn share(
    acc: &PauseAcc,
    window_ns: u64,
    line_rate_bps: Option<u64>,
) -> Option<(f64, ShareSource)> {
    if window_ns == 0 {
        return None;
    }
    let window_s = window_ns as f64 / 1e9;
    if acc.has_duration {
        let s = acc.duration_us as f64 / 1e6 / window_s;
        return Some((s.min(1.0), ShareSource::Duration));
    }
    let lr = line_rate_bps.filter(|&r| r > 0)?;
    let s = frame_seconds(acc.frames, lr) / window_s;
    Some((s.min(1.0), ShareSource::FrameEstimate))
}

/// Pause of one side and priority over the last refresh period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PauseView {
    /// "rx" (received: the peer slows us) or "tx" (sent: we slow the peer).
    pub dir: String,
    /// PFC priority; `None` for link-level pause.
    pub priority: Option<u32>,
    /// Pause frames per second (XOFF and XON).
    pub frames_per_s: f64,
    /// Share of the period spent paused (0..1); `None` when unknown (no duration counter and
    /// no line rate).
    pub share: Option<f64>,
    /// How the share was found: `duration` or `frame_estimate` (an upper bound).
    pub source: Option<ShareSource>,
}

/// Cumulative pause of one side and priority (for the exporter).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PauseTotal {
    /// "rx" or "tx".
    pub dir: &'static str,
    /// PFC priority; `None` for link-level pause.
    pub priority: Option<u32>,
    /// Pause frames (XOFF and XON).
    pub frames: u64,
    /// XOFF/pause frames (without XON).
    pub xoff_frames: u64,
    /// Microseconds paused, when the driver counts them.
    pub duration_us: Option<u64>,
}

impl PauseTotal {
    /// Nothing counted yet for the side and priority of `key`.
    pub fn empty(key: PauseKey) -> Self {
        PauseTotal {
            dir: key.side(),
            priority: key.priority,
            frames: 0,
            xoff_frames: 0,
            duration_us: None,
        }
    }

    /// Seconds paused and how it was found: the duration counters, else the frame estimate
    /// at `line_rate_bps`; `None` without either.
    pub fn seconds(&self, line_rate_bps: Option<u64>) -> Option<(f64, ShareSource)> {
        if let Some(us) = self.duration_us {
            return Some((us as f64 / 1e6, ShareSource::Duration));
        }
        let lr = line_rate_bps.filter(|&r| r > 0)?;
        Some((
            frame_seconds(self.xoff_frames, lr),
            ShareSource::FrameEstimate,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_duration_counter_gives_the_share() {
        let mut a = PauseAcc::default();
        a.add("rx_prio3_pause_duration", true, 217_000);
        a.add("rx_prio3_pause", false, 5);
        // 217 ms paused in 1 s: 21.7%, whatever the frame count says.
        let (s, src) = share(&a, 1_000_000_000, Some(400_000_000_000)).expect("share");
        assert!((s - 0.217).abs() < 1e-9, "{s}");
        assert_eq!(src, ShareSource::Duration);
        // A zero duration is a measurement (0%), not an unknown.
        let mut z = PauseAcc::default();
        z.add("tx_prio3_pause_duration", true, 0);
        assert_eq!(
            share(&z, 1_000_000_000, None),
            Some((0.0, ShareSource::Duration))
        );
    }

    #[test]
    fn frames_give_an_estimate_only_with_a_line_rate() {
        let mut a = PauseAcc::default();
        // 100 Gb/s: one 0xFFFF-quanta frame is 65535 * 512 / 1e11 s = 335.5392 us.
        a.add("rx_flow_control_xoff", false, 1000);
        a.add("rx_flow_control_xon", false, 1000);
        let (s, src) = share(&a, 1_000_000_000, Some(100_000_000_000)).expect("share");
        assert_eq!(src, ShareSource::FrameEstimate);
        assert!((s - 0.335_539_2).abs() < 1e-9, "{s}");
        assert_eq!(a.all_frames(), 2000);
        assert_eq!(share(&a, 1_000_000_000, None), None);
        assert_eq!(share(&a, 0, Some(1)), None);
        // Capped at the whole window.
        let (s, _) = share(&a, 1_000_000, Some(1_000_000_000)).expect("share");
        assert!((s - 1.0).abs() < f64::EPSILON, "{s}");
    }

    #[test]
    fn xon_counters_are_told_from_xoff() {
        assert!(is_xon("rx_priority_3_xon.nic"));
        assert!(is_xon("port.link_xon_rx"));
        assert!(!is_xon("rx_priority_3_xoff.nic"));
        assert!(!is_xon("rx_prio3_pause"));
        assert!(!is_xon("port.rx_priority_3_xon_2_xoff"));
    }

    #[test]
    fn totals_give_seconds_from_duration_else_frames() {
        let t = PauseTotal {
            dir: "rx",
            priority: Some(3),
            frames: 10,
            xoff_frames: 10,
            duration_us: Some(1_500_000),
        };
        assert_eq!(t.seconds(None), Some((1.5, ShareSource::Duration)));
        let f = PauseTotal {
            duration_us: None,
            ..t.clone()
        };
        assert_eq!(f.seconds(None), None);
        let (s, src) = f.seconds(Some(65535 * 512)).expect("seconds");
        assert_eq!(src, ShareSource::FrameEstimate);
        assert!((s - 10.0).abs() < 1e-9);
    }
}
