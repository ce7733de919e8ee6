//! Live monitoring: the sampler thread, rates, driver counter classes, thresholds and
//! microbursts, shared by `dpuctl watch` (TUI) and `dpuctl stats` (streams for scripts).
//!
//! The sampler ([`sampler`]) owns kernel I/O and hands batches of [`Sample`]s to a sink;
//! everything else here is pure: the [`engine`] turns samples into a [`View`] (rates, bursts,
//! alerts) that the TUI renders and `stats` prints. Time is a value in the samples, so tests
//! never sleep. [`record`] stores samples in a file and replays them.

pub mod bands;
pub mod bins;
pub mod bpf_source;
pub mod classes;
pub mod config;
pub mod engine;
pub mod microburst;
pub mod pause;
pub mod prometheus;
pub mod rate;
pub mod rdma_classes;
pub mod rdma_rates;
pub mod record;
pub mod sample;
pub mod sampler;
pub mod thresholds;
pub mod totals;
pub mod view;

pub use engine::{Engine, EngineConfig};
pub use microburst::{Burst, BurstConfig, BurstDetector, BurstSummary, Interval};
pub use sample::{
    CounterNames, DriverStats, IfaceSample, NodeSlow, Sample, SlowIface, SocketTotals,
    SoftnetTotals,
};
pub use view::{
    Alert, ClassRate, DirBurst, IfaceRates, IfaceView, QueueView, RatePoint, SocketRates, TempView,
    View,
};
