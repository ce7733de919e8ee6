//! Data Center Bridging state of an interface (IEEE 802.1Qaz): hardware ETS, PFC with its
//! per-priority pause counters, and the APP table (DSCP or port to priority), as dcbnl reports
//! them. Plain data; `sys::dcb` reads and writes it. Layouts: `struct ieee_ets`,
//! `struct ieee_pfc`, `struct dcb_app` in `include/uapi/linux/dcbnl.h`.

use serde::{Deserialize, Serialize};

/// `IEEE_8021QAZ_MAX_TCS`: priorities and traffic classes of 802.1Qaz.
pub const MAX_TCS: usize = 8;
/// `IEEE_8021QAZ_TSA_STRICT`.
pub const TSA_STRICT: u8 = 0;
/// `IEEE_8021QAZ_TSA_ETS`.
pub const TSA_ETS: u8 = 2;
/// `IEEE_8021QAZ_APP_SEL_ETHERTYPE`.
pub const APP_SEL_ETHERTYPE: u8 = 1;
/// `IEEE_8021QAZ_APP_SEL_DGRAM`: a UDP (or DCCP) port.
pub const APP_SEL_DGRAM: u8 = 3;
/// `IEEE_8021QAZ_APP_SEL_DSCP`.
pub const APP_SEL_DSCP: u8 = 5;

/// `struct ieee_ets`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IeeeEts {
    /// Willing to take the peer's configuration (DCBX).
    pub willing: u8,
    /// Traffic classes the device supports.
    pub ets_cap: u8,
    /// Credit-based shaper supported.
    pub cbs: u8,
    /// Transmit bandwidth percent of each traffic class.
    pub tc_tx_bw: Vec<u8>,
    /// Receive bandwidth percent of each traffic class.
    pub tc_rx_bw: Vec<u8>,
    /// Transmission selection algorithm of each traffic class (0 strict, 2 ets).
    pub tc_tsa: Vec<u8>,
    /// Traffic class of each priority 0..=7.
    pub prio_tc: Vec<u8>,
    /// Recommended bandwidth (DCBX recommendation TLV).
    pub tc_reco_bw: Vec<u8>,
    /// Recommended algorithm.
    pub tc_reco_tsa: Vec<u8>,
    /// Recommended priority map.
    pub reco_prio_tc: Vec<u8>,
}

/// `struct ieee_pfc`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IeeePfc {
    /// Priorities that may have PFC at once.
    pub pfc_cap: u8,
    /// Bitmap of the priorities with PFC on.
    pub pfc_en: u8,
    /// `MACsec` bypass capability.
    pub mbc: u8,
    /// Round-trip allowance in bits.
    pub delay: u16,
    /// PFC frames sent, per priority (we asked the peer to pause).
    pub requests: Vec<u64>,
    /// PFC frames received, per priority (the peer asked us to pause).
    pub indications: Vec<u64>,
}

impl IeeePfc {
    /// The priorities with PFC on.
    pub fn enabled(&self) -> Vec<u8> {
        (0..MAX_TCS as u8)
            .filter(|p| self.pfc_en & (1 << p) != 0)
            .collect()
    }
}

/// `struct dcb_app`: traffic matching `selector`/`protocol` gets `priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DcbApp {
    /// What `protocol` is: 1 ethertype, 2 TCP port, 3 UDP port, 4 any port, 5 DSCP.
    pub selector: u8,
    /// Priority 0..=7.
    pub priority: u8,
    /// The ethertype, port or DSCP value.
    pub protocol: u16,
}

/// The IEEE DCB state of an interface (`DCB_CMD_IEEE_GET`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcbState {
    /// Hardware ETS.
    #[serde(default)]
    pub ets: Option<IeeeEts>,
    /// PFC.
    #[serde(default)]
    pub pfc: Option<IeeePfc>,
    /// APP table.
    #[serde(default)]
    pub apps: Vec<DcbApp>,
    /// DCBX mode bits (`DCB_ATTR_DCBX`).
    #[serde(default)]
    pub dcbx: Option<u8>,
}

impl DcbState {
    /// The priority DSCP `dscp` maps to in the APP table.
    pub fn dscp_priority(&self, dscp: u16) -> Option<u8> {
        self.apps
            .iter()
            .find(|a| a.selector == APP_SEL_DSCP && a.protocol == dscp)
            .map(|a| a.priority)
    }
}

/// The text form of a PFC priority set, as plans and the journal carry it: `"3"`, `"3 4"`,
/// `"none"`.
pub fn pfc_text(pfc_en: u8) -> String {
    let p: Vec<String> = (0..MAX_TCS as u8)
        .filter(|p| pfc_en & (1 << p) != 0)
        .map(|p| p.to_string())
        .collect();
    if p.is_empty() {
        "none".into()
    } else {
        p.join(" ")
    }
}

/// Parses [`pfc_text`] (also with commas) into the `pfc_en` bitmap.
pub fn parse_pfc_text(t: &str) -> Result<u8, String> {
    let t = t.trim();
    if t == "none" {
        return Ok(0);
    }
    let mut bits = 0u8;
    for w in t
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let p: u8 = w
            .parse()
            .ok()
            .filter(|p: &u8| usize::from(*p) < MAX_TCS)
            .ok_or_else(|| format!("{w:?} is not a priority 0 to 7"))?;
        bits |= 1 << p;
    }
    if bits == 0 {
        return Err("no priority (write none for PFC off)".into());
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pfc_text_round_trips() {
        assert_eq!(pfc_text(0x08), "3");
        assert_eq!(pfc_text(0x18), "3 4");
        assert_eq!(pfc_text(0), "none");
        assert_eq!(parse_pfc_text("3 4"), Ok(0x18));
        assert_eq!(parse_pfc_text("4,3"), Ok(0x18));
        assert_eq!(parse_pfc_text("none"), Ok(0));
        assert!(parse_pfc_text("8").is_err());
        assert!(parse_pfc_text("").is_err());
    }
}
