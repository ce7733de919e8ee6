//! Settings and statistics the ethtool netlink family reports, as plain data.
//!
//! Field names follow the attribute names of Documentation/networking/ethtool-netlink.rst.
//! `None` means the kernel left the attribute out: the driver does not support that field.

use serde::{Deserialize, Serialize};

use super::NamedCounter;

/// Ring sizes (`ETHTOOL_MSG_RINGS_GET`).
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rings {
    pub rx_max: Option<u32>,
    pub rx_mini_max: Option<u32>,
    pub rx_jumbo_max: Option<u32>,
    pub tx_max: Option<u32>,
    pub rx: Option<u32>,
    pub rx_mini: Option<u32>,
    pub rx_jumbo: Option<u32>,
    pub tx: Option<u32>,
    pub rx_buf_len: Option<u32>,
    pub cqe_size: Option<u32>,
    pub tx_push: Option<bool>,
    pub rx_push: Option<bool>,
}

/// Channel counts (`ETHTOOL_MSG_CHANNELS_GET`).
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channels {
    pub rx_max: Option<u32>,
    pub tx_max: Option<u32>,
    pub other_max: Option<u32>,
    pub combined_max: Option<u32>,
    pub rx: Option<u32>,
    pub tx: Option<u32>,
    pub other: Option<u32>,
    pub combined: Option<u32>,
}

/// Interrupt coalescing (`ETHTOOL_MSG_COALESCE_GET`): every field the kernel knows.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coalesce {
    pub rx_usecs: Option<u32>,
    pub rx_max_frames: Option<u32>,
    pub rx_usecs_irq: Option<u32>,
    pub rx_max_frames_irq: Option<u32>,
    pub tx_usecs: Option<u32>,
    pub tx_max_frames: Option<u32>,
    pub tx_usecs_irq: Option<u32>,
    pub tx_max_frames_irq: Option<u32>,
    pub stats_block_usecs: Option<u32>,
    pub use_adaptive_rx: Option<bool>,
    pub use_adaptive_tx: Option<bool>,
    pub pkt_rate_low: Option<u32>,
    pub rx_usecs_low: Option<u32>,
    pub rx_max_frames_low: Option<u32>,
    pub tx_usecs_low: Option<u32>,
    pub tx_max_frames_low: Option<u32>,
    pub pkt_rate_high: Option<u32>,
    pub rx_usecs_high: Option<u32>,
    pub rx_max_frames_high: Option<u32>,
    pub tx_usecs_high: Option<u32>,
    pub tx_max_frames_high: Option<u32>,
    pub rate_sample_interval: Option<u32>,
    pub use_cqe_mode_tx: Option<bool>,
    pub use_cqe_mode_rx: Option<bool>,
    pub tx_aggr_max_bytes: Option<u32>,
    pub tx_aggr_max_frames: Option<u32>,
    pub tx_aggr_time_usecs: Option<u32>,
}

/// Pause frame settings (`ETHTOOL_MSG_PAUSE_GET`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// Pause autonegotiation.
    pub autoneg: bool,
    /// Honour received pause frames.
    pub rx: bool,
    /// Send pause frames.
    pub tx: bool,
    /// Pause frame counters, where the driver has them.
    pub stats: Option<PauseStats>,
}

/// Pause frame counters (`ETHTOOL_A_PAUSE_STATS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseStats {
    /// Pause frames sent.
    pub tx_pause_frames: Option<u64>,
    /// Pause frames received.
    pub rx_pause_frames: Option<u64>,
}

/// One offload feature (`ETHTOOL_MSG_FEATURES_GET`), by its kernel name (`rx-gro`, not
/// `generic-receive-offload` as `ethtool -k` prints it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feature {
    /// Kernel feature name, e.g. `rx-gro`, `rx-lro`, `tx-tcp-segmentation`.
    pub name: String,
    /// Currently on.
    pub active: bool,
    /// Requested by the user (may differ from active when a dependency forbids it).
    pub wanted: bool,
    /// Cannot be changed on this device.
    pub fixed: bool,
}

/// Link settings and modes (`ETHTOOL_MSG_LINKINFO_GET`, `_LINKMODES_GET`, `_LINKSTATE_GET`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    /// Speed in Mb/s; `None` when unknown (no link, or a virtual device).
    pub speed_mbps: Option<u32>,
    /// `full`, `half`, or `None` when unknown.
    pub duplex: Option<String>,
    /// Autonegotiation on.
    pub autoneg: Option<bool>,
    /// Port type (`tp`, `fibre`, `da`, `other`, ...).
    pub port: Option<String>,
    /// Lanes in use.
    pub lanes: Option<u32>,
    /// Link detected (`ETHTOOL_A_LINKSTATE_LINK`).
    pub link_detected: Option<bool>,
    /// Supported link modes, e.g. `100000baseCR4/Full`.
    pub supported_modes: Vec<String>,
    /// Advertised link modes.
    pub advertised_modes: Vec<String>,
    /// Link modes the link partner advertises (`ETHTOOL_A_LINKMODES_PEER`), where the
    /// driver knows them; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peer_modes: Vec<String>,
}

/// Forward error correction (`ETHTOOL_MSG_FEC_GET`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fec {
    /// Configured modes (`None`, `Auto`, `Off`, `RS`, `BASER`, `LLRS`).
    pub configured: Vec<String>,
    /// Active mode.
    pub active: Option<String>,
    /// Corrected blocks, where the driver counts them.
    pub corrected: Option<u64>,
    /// Uncorrectable blocks.
    pub uncorrectable: Option<u64>,
}

/// Standard statistics groups (`ETHTOOL_MSG_STATS_GET`): eth-phy, eth-mac, eth-ctrl, rmon.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StdStats {
    /// Groups the driver reports; an empty list when it reports none.
    pub groups: Vec<StatsGroup>,
}

/// One standard statistics group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsGroup {
    /// Group name (`eth-phy`, `eth-mac`, `eth-ctrl`, `rmon`).
    pub name: String,
    /// Counters, named as the kernel's string set names them.
    pub counters: Vec<NamedCounter>,
}
