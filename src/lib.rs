//! dpuctl: NIC tuning and diagnostics for Linux nodes.

pub mod model;
pub mod sys;
