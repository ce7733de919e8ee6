//! Live monitoring: the sampler thread, rates, driver counter classes, thresholds and
//! microbursts, shared by `dpuctl watch` (TUI) and `dpuctl stats` (streams for scripts).
//!
//! The sampler owns kernel I/O and sends [`Sample`]s down one channel; everything else here is
//! pure: the engine turns samples into a [`View`] (rates, bursts, alerts) that the TUI renders
//! and `stats` prints. Time is a value in the samples, so tests never sleep.

pub mod microburst;
pub mod view;

pub use microburst::{Burst, BurstConfig, BurstDetector, BurstSummary, Interval};
pub use view::{Alert, ClassRate, IfaceRates, IfaceView, QueueView, RatePoint, TempView, View};
