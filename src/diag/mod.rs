//! Guided troubleshooting: the latency/throughput decision tree over checks of the node state
//! and a counter window.
//!
//! - [`evidence`]: what the checks look at ([`evidence::Inputs`]): node, counter window,
//!   irqbalance, capture analyses;
//! - [`checks`]: the checks, pure functions producing [`checks::Finding`]s;
//! - [`flow`]: the tree as data, the branch choice, the walkers;
//! - [`render`]: text and markdown;
//! - [`gather`]: fills the inputs from the live kernel through `sys` readers.

pub mod checks;
pub mod evidence;
pub mod flow;
pub mod gather;
pub mod render;

pub use checks::{Evidence, Finding, Fix, Severity, Step, CHECKS};
pub use evidence::{CaptureEvidence, Inputs, Window};
pub use flow::{Decision, Report, Symptom};
