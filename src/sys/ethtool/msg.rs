//! Pure encoding of ethtool netlink requests and decoding of their replies, so that every
//! message layout can be tested on plain bytes.
//!
//! Message layouts follow Documentation/networking/ethtool-netlink.rst (sections `RINGS_GET`,
//! `CHANNELS_GET`, `COALESCE_GET`, `PAUSE_GET`, `FEATURES_GET`/`_SET`, `LINKINFO_GET`,
//! `LINKMODES_GET`, `LINKSTATE_GET`, `FEC_GET`, `STATS_GET`, `STRSET_GET` and the `_SET`
//! counterparts). A `_SET`
//! request has the layout of the `_GET` reply and carries only the attributes to change.

use std::collections::HashMap;

use crate::model::{Channels, Coalesce, Feature, Fec, NamedCounter, Pause, PauseStats, Rings};
use crate::sys::nl::{parse_u64, AttrBuf, Attrs};

use super::abi::{
    A_CHANNELS_COMBINED_COUNT, A_CHANNELS_COMBINED_MAX, A_CHANNELS_OTHER_COUNT,
    A_CHANNELS_OTHER_MAX, A_CHANNELS_RX_COUNT, A_CHANNELS_RX_MAX, A_CHANNELS_TX_COUNT,
    A_CHANNELS_TX_MAX, A_COALESCE_PKT_RATE_HIGH, A_COALESCE_PKT_RATE_LOW,
    A_COALESCE_RATE_SAMPLE_INTERVAL, A_COALESCE_RX_MAX_FRAMES, A_COALESCE_RX_MAX_FRAMES_HIGH,
    A_COALESCE_RX_MAX_FRAMES_IRQ, A_COALESCE_RX_MAX_FRAMES_LOW, A_COALESCE_RX_USECS,
    A_COALESCE_RX_USECS_HIGH, A_COALESCE_RX_USECS_IRQ, A_COALESCE_RX_USECS_LOW,
    A_COALESCE_STATS_BLOCK_USECS, A_COALESCE_TX_AGGR_MAX_BYTES, A_COALESCE_TX_AGGR_MAX_FRAMES,
    A_COALESCE_TX_AGGR_TIME_USECS, A_COALESCE_TX_MAX_FRAMES, A_COALESCE_TX_MAX_FRAMES_HIGH,
    A_COALESCE_TX_MAX_FRAMES_IRQ, A_COALESCE_TX_MAX_FRAMES_LOW, A_COALESCE_TX_USECS,
    A_COALESCE_TX_USECS_HIGH, A_COALESCE_TX_USECS_IRQ, A_COALESCE_TX_USECS_LOW,
    A_COALESCE_USE_ADAPTIVE_RX, A_COALESCE_USE_ADAPTIVE_TX, A_COALESCE_USE_CQE_MODE_RX,
    A_COALESCE_USE_CQE_MODE_TX, A_FEATURES_ACTIVE, A_FEATURES_HW, A_FEATURES_NOCHANGE,
    A_FEATURES_WANTED, A_FEC_ACTIVE, A_FEC_AUTO, A_FEC_MODES, A_FEC_STATS, A_FEC_STAT_CORRECTED,
    A_FEC_STAT_UNCORR, A_HEADER, A_HEADER_DEV_INDEX, A_HEADER_DEV_NAME, A_HEADER_FLAGS,
    A_LINKINFO_PORT, A_LINKMODES_AUTONEG, A_LINKMODES_DUPLEX, A_LINKMODES_LANES, A_LINKMODES_OURS,
    A_LINKMODES_PEER, A_LINKMODES_SPEED, A_LINKSTATE_LINK, A_PAUSE_AUTONEG, A_PAUSE_RX,
    A_PAUSE_STATS, A_PAUSE_STAT_RX_FRAMES, A_PAUSE_STAT_TX_FRAMES, A_PAUSE_TX, A_RINGS_CQE_SIZE,
    A_RINGS_RX, A_RINGS_RX_BUF_LEN, A_RINGS_RX_JUMBO, A_RINGS_RX_JUMBO_MAX, A_RINGS_RX_MAX,
    A_RINGS_RX_MINI, A_RINGS_RX_MINI_MAX, A_RINGS_RX_PUSH, A_RINGS_TX, A_RINGS_TX_MAX,
    A_RINGS_TX_PUSH, A_STATS_GROUPS, A_STATS_GRP, A_STATS_GRP_HIST_BKT_HI,
    A_STATS_GRP_HIST_BKT_LOW, A_STATS_GRP_HIST_RX, A_STATS_GRP_HIST_TX, A_STATS_GRP_HIST_VAL,
    A_STATS_GRP_ID, A_STATS_GRP_SS_ID, A_STATS_GRP_STAT, A_STRINGSETS_STRINGSET, A_STRINGSET_COUNT,
    A_STRINGSET_ID, A_STRINGSET_STRINGS, A_STRINGS_STRING, A_STRING_INDEX, A_STRING_VALUE,
    A_STRSET_STRINGSETS, DUPLEX_FULL, DUPLEX_HALF, SPEED_UNKNOWN, STATS_GROUPS,
};
use super::bitset::Bitset;

/// A request whose header attribute `header` names the device (`ETHTOOL_A_HEADER_DEV_NAME`)
/// and, when non-zero, carries the request flags (`ETHTOOL_A_HEADER_FLAGS`).
pub fn request(header: u16, ifname: &str, flags: u32) -> AttrBuf {
    let mut b = AttrBuf::new();
    b.begin(header).str(A_HEADER_DEV_NAME, ifname);
    if flags != 0 {
        b.u32(A_HEADER_FLAGS, flags);
    }
    b.end();
    b
}

/// A dump request (`NLM_F_DUMP`) of every device: the header attribute `header` carries only
/// `flags` (0 for none).
pub fn dump_request(header: u16, flags: u32) -> AttrBuf {
    let mut b = AttrBuf::new();
    b.begin(header);
    if flags != 0 {
        b.u32(A_HEADER_FLAGS, flags);
    }
    b.end();
    b
}

/// The interface index in the header attribute `header` of a reply
/// (`ETHTOOL_A_HEADER_DEV_INDEX`); each message of a dump describes one device.
pub fn reply_ifindex(header: u16, data: &[u8]) -> Option<u32> {
    Attrs::new(data).nested(header)?.u32(A_HEADER_DEV_INDEX)
}

fn flag(a: &Attrs<'_>, kind: u16) -> Option<bool> {
    a.u8(kind).map(|v| v != 0)
}

fn put_u32s(b: &mut AttrBuf, fields: &[(u16, Option<u32>)]) {
    for &(kind, v) in fields {
        if let Some(v) = v {
            b.u32(kind, v);
        }
    }
}

fn put_bools(b: &mut AttrBuf, fields: &[(u16, Option<bool>)]) {
    for &(kind, v) in fields {
        if let Some(v) = v {
            b.u8(kind, u8::from(v));
        }
    }
}

/// Decodes a `RINGS_GET` reply.
pub fn parse_rings(data: &[u8]) -> Rings {
    let a = Attrs::new(data);
    Rings {
        rx_max: a.u32(A_RINGS_RX_MAX),
        rx_mini_max: a.u32(A_RINGS_RX_MINI_MAX),
        rx_jumbo_max: a.u32(A_RINGS_RX_JUMBO_MAX),
        tx_max: a.u32(A_RINGS_TX_MAX),
        rx: a.u32(A_RINGS_RX),
        rx_mini: a.u32(A_RINGS_RX_MINI),
        rx_jumbo: a.u32(A_RINGS_RX_JUMBO),
        tx: a.u32(A_RINGS_TX),
        rx_buf_len: a.u32(A_RINGS_RX_BUF_LEN),
        cqe_size: a.u32(A_RINGS_CQE_SIZE),
        tx_push: flag(&a, A_RINGS_TX_PUSH),
        rx_push: flag(&a, A_RINGS_RX_PUSH),
    }
}

/// Appends the `RINGS_SET` attributes for the set fields of `r`. The `*_max` fields are
/// read-only limits and never sent.
pub fn put_rings(b: &mut AttrBuf, r: &Rings) {
    put_u32s(
        b,
        &[
            (A_RINGS_RX, r.rx),
            (A_RINGS_RX_MINI, r.rx_mini),
            (A_RINGS_RX_JUMBO, r.rx_jumbo),
            (A_RINGS_TX, r.tx),
            (A_RINGS_RX_BUF_LEN, r.rx_buf_len),
            (A_RINGS_CQE_SIZE, r.cqe_size),
        ],
    );
    put_bools(
        b,
        &[(A_RINGS_TX_PUSH, r.tx_push), (A_RINGS_RX_PUSH, r.rx_push)],
    );
}

/// Decodes a `CHANNELS_GET` reply. The kernel leaves out a kind of channel whose maximum is 0.
pub fn parse_channels(data: &[u8]) -> Channels {
    let a = Attrs::new(data);
    Channels {
        rx_max: a.u32(A_CHANNELS_RX_MAX),
        tx_max: a.u32(A_CHANNELS_TX_MAX),
        other_max: a.u32(A_CHANNELS_OTHER_MAX),
        combined_max: a.u32(A_CHANNELS_COMBINED_MAX),
        rx: a.u32(A_CHANNELS_RX_COUNT),
        tx: a.u32(A_CHANNELS_TX_COUNT),
        other: a.u32(A_CHANNELS_OTHER_COUNT),
        combined: a.u32(A_CHANNELS_COMBINED_COUNT),
    }
}

/// Appends the `CHANNELS_SET` counts that are set in `c` (the maxima are never sent).
pub fn put_channels(b: &mut AttrBuf, c: &Channels) {
    put_u32s(
        b,
        &[
            (A_CHANNELS_RX_COUNT, c.rx),
            (A_CHANNELS_TX_COUNT, c.tx),
            (A_CHANNELS_OTHER_COUNT, c.other),
            (A_CHANNELS_COMBINED_COUNT, c.combined),
        ],
    );
}

/// The u32 fields of [`Coalesce`] with their attribute types.
fn coalesce_u32s(c: &Coalesce) -> [(u16, Option<u32>); 23] {
    [
        (A_COALESCE_RX_USECS, c.rx_usecs),
        (A_COALESCE_RX_MAX_FRAMES, c.rx_max_frames),
        (A_COALESCE_RX_USECS_IRQ, c.rx_usecs_irq),
        (A_COALESCE_RX_MAX_FRAMES_IRQ, c.rx_max_frames_irq),
        (A_COALESCE_TX_USECS, c.tx_usecs),
        (A_COALESCE_TX_MAX_FRAMES, c.tx_max_frames),
        (A_COALESCE_TX_USECS_IRQ, c.tx_usecs_irq),
        (A_COALESCE_TX_MAX_FRAMES_IRQ, c.tx_max_frames_irq),
        (A_COALESCE_STATS_BLOCK_USECS, c.stats_block_usecs),
        (A_COALESCE_PKT_RATE_LOW, c.pkt_rate_low),
        (A_COALESCE_RX_USECS_LOW, c.rx_usecs_low),
        (A_COALESCE_RX_MAX_FRAMES_LOW, c.rx_max_frames_low),
        (A_COALESCE_TX_USECS_LOW, c.tx_usecs_low),
        (A_COALESCE_TX_MAX_FRAMES_LOW, c.tx_max_frames_low),
        (A_COALESCE_PKT_RATE_HIGH, c.pkt_rate_high),
        (A_COALESCE_RX_USECS_HIGH, c.rx_usecs_high),
        (A_COALESCE_RX_MAX_FRAMES_HIGH, c.rx_max_frames_high),
        (A_COALESCE_TX_USECS_HIGH, c.tx_usecs_high),
        (A_COALESCE_TX_MAX_FRAMES_HIGH, c.tx_max_frames_high),
        (A_COALESCE_RATE_SAMPLE_INTERVAL, c.rate_sample_interval),
        (A_COALESCE_TX_AGGR_MAX_BYTES, c.tx_aggr_max_bytes),
        (A_COALESCE_TX_AGGR_MAX_FRAMES, c.tx_aggr_max_frames),
        (A_COALESCE_TX_AGGR_TIME_USECS, c.tx_aggr_time_usecs),
    ]
}

/// The boolean (u8 on the wire) fields of [`Coalesce`] with their attribute types.
fn coalesce_bools(c: &Coalesce) -> [(u16, Option<bool>); 4] {
    [
        (A_COALESCE_USE_ADAPTIVE_RX, c.use_adaptive_rx),
        (A_COALESCE_USE_ADAPTIVE_TX, c.use_adaptive_tx),
        (A_COALESCE_USE_CQE_MODE_TX, c.use_cqe_mode_tx),
        (A_COALESCE_USE_CQE_MODE_RX, c.use_cqe_mode_rx),
    ]
}

/// Decodes a `COALESCE_GET` reply. The kernel sends only the parameters the driver declares
/// in `supported_coalesce_params`, so an absent attribute is an unsupported field.
pub fn parse_coalesce(data: &[u8]) -> Coalesce {
    let a = Attrs::new(data);
    let u = |k| a.u32(k);
    let f = |k| flag(&a, k);
    Coalesce {
        rx_usecs: u(A_COALESCE_RX_USECS),
        rx_max_frames: u(A_COALESCE_RX_MAX_FRAMES),
        rx_usecs_irq: u(A_COALESCE_RX_USECS_IRQ),
        rx_max_frames_irq: u(A_COALESCE_RX_MAX_FRAMES_IRQ),
        tx_usecs: u(A_COALESCE_TX_USECS),
        tx_max_frames: u(A_COALESCE_TX_MAX_FRAMES),
        tx_usecs_irq: u(A_COALESCE_TX_USECS_IRQ),
        tx_max_frames_irq: u(A_COALESCE_TX_MAX_FRAMES_IRQ),
        stats_block_usecs: u(A_COALESCE_STATS_BLOCK_USECS),
        use_adaptive_rx: f(A_COALESCE_USE_ADAPTIVE_RX),
        use_adaptive_tx: f(A_COALESCE_USE_ADAPTIVE_TX),
        pkt_rate_low: u(A_COALESCE_PKT_RATE_LOW),
        rx_usecs_low: u(A_COALESCE_RX_USECS_LOW),
        rx_max_frames_low: u(A_COALESCE_RX_MAX_FRAMES_LOW),
        tx_usecs_low: u(A_COALESCE_TX_USECS_LOW),
        tx_max_frames_low: u(A_COALESCE_TX_MAX_FRAMES_LOW),
        pkt_rate_high: u(A_COALESCE_PKT_RATE_HIGH),
        rx_usecs_high: u(A_COALESCE_RX_USECS_HIGH),
        rx_max_frames_high: u(A_COALESCE_RX_MAX_FRAMES_HIGH),
        tx_usecs_high: u(A_COALESCE_TX_USECS_HIGH),
        tx_max_frames_high: u(A_COALESCE_TX_MAX_FRAMES_HIGH),
        rate_sample_interval: u(A_COALESCE_RATE_SAMPLE_INTERVAL),
        use_cqe_mode_tx: f(A_COALESCE_USE_CQE_MODE_TX),
        use_cqe_mode_rx: f(A_COALESCE_USE_CQE_MODE_RX),
        tx_aggr_max_bytes: u(A_COALESCE_TX_AGGR_MAX_BYTES),
        tx_aggr_max_frames: u(A_COALESCE_TX_AGGR_MAX_FRAMES),
        tx_aggr_time_usecs: u(A_COALESCE_TX_AGGR_TIME_USECS),
    }
}

/// Appends the `COALESCE_SET` attributes for every set field of `c`. The kernel refuses the
/// whole request if one of them is not supported by the driver, so callers send only the
/// fields they mean to change.
pub fn put_coalesce(b: &mut AttrBuf, c: &Coalesce) {
    put_u32s(b, &coalesce_u32s(c));
    put_bools(b, &coalesce_bools(c));
}

/// Decodes a `PAUSE_GET` reply. With `ETHTOOL_FLAG_STATS` the kernel always adds the
/// `ETHTOOL_A_PAUSE_STATS` nest but leaves out counters the driver did not fill in, so an
/// empty nest means "no statistics".
pub fn parse_pause(data: &[u8]) -> Pause {
    let a = Attrs::new(data);
    let stats = a.nested(A_PAUSE_STATS).and_then(|s| {
        let st = PauseStats {
            tx_pause_frames: s.u64(A_PAUSE_STAT_TX_FRAMES),
            rx_pause_frames: s.u64(A_PAUSE_STAT_RX_FRAMES),
        };
        (st.tx_pause_frames.is_some() || st.rx_pause_frames.is_some()).then_some(st)
    });
    Pause {
        autoneg: flag(&a, A_PAUSE_AUTONEG).unwrap_or(false),
        rx: flag(&a, A_PAUSE_RX).unwrap_or(false),
        tx: flag(&a, A_PAUSE_TX).unwrap_or(false),
        stats,
    }
}

/// Appends the `PAUSE_SET` attributes that are given.
pub fn put_pause(b: &mut AttrBuf, autoneg: Option<bool>, rx: Option<bool>, tx: Option<bool>) {
    put_bools(
        b,
        &[
            (A_PAUSE_AUTONEG, autoneg),
            (A_PAUSE_RX, rx),
            (A_PAUSE_TX, tx),
        ],
    );
}

/// Decodes a `FEATURES_GET` reply into one [`Feature`] per name of the `ETH_SS_FEATURES`
/// string set (`names`, indexed by feature bit). Bits without a name are skipped.
///
/// `HW` holds the features user space may change, `WANTED` the requested ones, `ACTIVE` the
/// current ones and `NOCHANGE` those the kernel never lets change; a feature is fixed when it
/// is not changeable or never changes (the rule `ethtool -k` uses for "[fixed]").
pub fn parse_features(data: &[u8], names: &[String]) -> Vec<Feature> {
    let a = Attrs::new(data);
    let set = |kind| a.get(kind).map(Bitset::parse).unwrap_or_default();
    let (hw, wanted, active, nochange) = (
        set(A_FEATURES_HW),
        set(A_FEATURES_WANTED),
        set(A_FEATURES_ACTIVE),
        set(A_FEATURES_NOCHANGE),
    );
    // Names from the string set, or from the verbose bitsets when the set is shorter.
    let mut by_index: Vec<(u32, String)> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.is_empty())
        .map(|(i, n)| (i as u32, n.clone()))
        .collect();
    for s in [&hw, &wanted, &active, &nochange] {
        for b in &s.bits {
            if b.index as usize >= names.len() {
                if let Some(n) = &b.name {
                    if !by_index.iter().any(|(i, _)| *i == b.index) {
                        by_index.push((b.index, n.clone()));
                    }
                }
            }
        }
    }
    by_index.sort_by_key(|(i, _)| *i);
    // Set bits as flags by index: a lookup per feature and set would be quadratic, and
    // `show` parses this for every interface.
    let len = by_index.last().map_or(0, |(i, _)| *i as usize + 1);
    let (hw, wanted, active, nochange) = (
        hw.flags(len),
        wanted.flags(len),
        active.flags(len),
        nochange.flags(len),
    );
    by_index
        .into_iter()
        .map(|(i, name)| {
            let i = i as usize;
            Feature {
                name,
                active: active[i],
                wanted: wanted[i],
                fixed: !hw[i] || nochange[i],
            }
        })
        .collect()
}

/// Features a `FEATURES_SET` reply says did not end up as requested.
///
/// Its `ETHTOOL_A_FEATURES_WANTED` is a diff limited to the request's bits: the mask holds
/// the requested bits whose result differs from the request, the value their requested
/// values. Returns `(name, requested value)` for each.
pub fn features_not_applied(data: &[u8], names: &[String]) -> Vec<(String, bool)> {
    let a = Attrs::new(data);
    let Some(diff) = a.get(A_FEATURES_WANTED).map(Bitset::parse) else {
        return Vec::new();
    };
    diff.bits
        .iter()
        .filter_map(|b| {
            let name = b
                .name
                .clone()
                .or_else(|| names.get(b.index as usize).cloned())?;
            Some((name, b.value))
        })
        .collect()
}

/// The link settings of `LINKMODES_GET`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkModes {
    pub autoneg: Option<bool>,
    pub speed_mbps: Option<u32>,
    pub duplex: Option<String>,
    pub lanes: Option<u32>,
    pub supported: Vec<String>,
    pub advertised: Vec<String>,
    pub peer: Vec<String>,
}

/// Decodes a `LINKMODES_GET` reply. `ETHTOOL_A_LINKMODES_OURS` carries the advertised modes
/// as value and the supported ones as mask; `link_modes` names them when the kernel sent the
/// compact form. `SPEED_UNKNOWN` (and 0, which `ethtool` also shows as unknown) and
/// `DUPLEX_UNKNOWN` become `None`.
pub fn parse_linkmodes(data: &[u8], link_modes: &[String]) -> LinkModes {
    let a = Attrs::new(data);
    let ours = a
        .get(A_LINKMODES_OURS)
        .map(Bitset::parse)
        .unwrap_or_default();
    LinkModes {
        autoneg: flag(&a, A_LINKMODES_AUTONEG),
        speed_mbps: a
            .u32(A_LINKMODES_SPEED)
            .filter(|&s| s != SPEED_UNKNOWN && s != 0 && s != u32::from(u16::MAX)),
        duplex: a.u8(A_LINKMODES_DUPLEX).and_then(|d| match d {
            DUPLEX_HALF => Some("half".to_string()),
            DUPLEX_FULL => Some("full".to_string()),
            _ => None,
        }),
        lanes: a.u32(A_LINKMODES_LANES).filter(|&l| l != 0),
        advertised: ours.names(true, link_modes),
        supported: ours.listed_names(link_modes),
        // The link partner's advertisement, where the driver knows it (autonegotiation).
        peer: a
            .get(A_LINKMODES_PEER)
            .map(Bitset::parse)
            .map(|p| p.names(true, link_modes))
            .unwrap_or_default(),
    }
}

/// Whether a `LINKMODES_GET` reply has unnamed link modes (a compact bitset), which then
/// need the `ETH_SS_LINK_MODES` string set.
pub fn linkmodes_need_names(data: &[u8]) -> bool {
    Attrs::new(data)
        .get(A_LINKMODES_OURS)
        .map(Bitset::parse)
        .is_some_and(|s| s.bits.iter().any(|b| b.name.is_none()))
}

/// The port type of a `LINKINFO_GET` reply (`PORT_*` of include/uapi/linux/ethtool.h).
pub fn parse_linkinfo_port(data: &[u8]) -> Option<String> {
    let port = Attrs::new(data).u8(A_LINKINFO_PORT)?;
    let name = match port {
        0x00 => "tp",
        0x01 => "aui",
        0x02 => "mii",
        0x03 => "fibre",
        0x04 => "bnc",
        0x05 => "da",
        0xef => "none",
        0xff => "other",
        _ => return Some(format!("unknown ({port})")),
    };
    Some(name.to_string())
}

/// The link state of a `LINKSTATE_GET` reply.
pub fn parse_linkstate(data: &[u8]) -> Option<bool> {
    flag(&Attrs::new(data), A_LINKSTATE_LINK)
}

/// Decodes a `FEC_GET` reply. `ETHTOOL_A_FEC_MODES` lists the configured modes as link-mode
/// bits (named `None`, `RS`, `BASER`, `LLRS` in `ETH_SS_LINK_MODES`), `ETHTOOL_A_FEC_AUTO`
/// adds automatic selection and `ETHTOOL_A_FEC_ACTIVE` is the active mode's link-mode bit.
/// Each statistic is an array of u64 whose first entry is the total over lanes (the kernel
/// sums per-lane counters into it).
pub fn parse_fec(data: &[u8], link_modes: &[String]) -> Fec {
    let a = Attrs::new(data);
    let mut configured = Vec::new();
    if flag(&a, A_FEC_AUTO) == Some(true) {
        configured.push("Auto".to_string());
    }
    if let Some(modes) = a.get(A_FEC_MODES).map(Bitset::parse) {
        configured.extend(modes.names(true, link_modes));
    }
    let active = a
        .u32(A_FEC_ACTIVE)
        .and_then(|bit| link_modes.get(bit as usize).cloned());
    let stats = a.nested(A_FEC_STATS);
    let total = |kind| stats.as_ref().and_then(|s| s.get(kind)).and_then(parse_u64);
    Fec {
        configured,
        active,
        corrected: total(A_FEC_STAT_CORRECTED),
        uncorrectable: total(A_FEC_STAT_UNCORR),
    }
}

/// One standard statistics group of a `STATS_GET` reply, before naming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawGroup {
    /// `ETHTOOL_STATS_*` group id.
    pub id: u32,
    /// String set naming the counters.
    pub ss_id: Option<u32>,
    /// `(statistic id, value)`.
    pub stats: Vec<(u16, u64)>,
    /// RMON histogram buckets: `(rx, low, high, value)`.
    pub hist: Vec<(bool, u32, u32, u64)>,
}

/// Decodes a `STATS_GET` reply. Each `ETHTOOL_A_STATS_GRP_STAT` nest holds one u64 attribute
/// whose type is the statistic's index in the group's string set; counters the driver did
/// not fill in are left out by the kernel.
pub fn parse_stats(data: &[u8]) -> Vec<RawGroup> {
    Attrs::new(data)
        .filter(|(t, _)| *t == A_STATS_GRP)
        .filter_map(|(_, g)| {
            let a = Attrs::new(g);
            let id = a.u32(A_STATS_GRP_ID)?;
            let mut stats = Vec::new();
            let mut hist = Vec::new();
            for (t, v) in a.clone() {
                match t {
                    A_STATS_GRP_STAT => {
                        stats.extend(Attrs::new(v).filter_map(|(k, x)| Some((k, parse_u64(x)?))));
                    }
                    A_STATS_GRP_HIST_RX | A_STATS_GRP_HIST_TX => {
                        let h = Attrs::new(v);
                        if let (Some(lo), Some(val)) =
                            (h.u32(A_STATS_GRP_HIST_BKT_LOW), h.u64(A_STATS_GRP_HIST_VAL))
                        {
                            let hi = h.u32(A_STATS_GRP_HIST_BKT_HI).unwrap_or(0);
                            hist.push((t == A_STATS_GRP_HIST_RX, lo, hi, val));
                        }
                    }
                    _ => {}
                }
            }
            Some(RawGroup {
                id,
                ss_id: a.u32(A_STATS_GRP_SS_ID),
                stats,
                hist,
            })
        })
        .collect()
}

/// Names a group's counters with its string set; a statistic without a name keeps its
/// index (`stat-N`). Histogram buckets are named `rx-pkts<low>to<high>` (`...plus` for an
/// open-ended last bucket), since the string set has no names for them.
pub fn name_group(g: &RawGroup, names: &[String]) -> Vec<NamedCounter> {
    let mut out: Vec<NamedCounter> = g
        .stats
        .iter()
        .map(|&(k, value)| NamedCounter {
            name: names
                .get(usize::from(k))
                .filter(|n| !n.is_empty())
                .cloned()
                .unwrap_or_else(|| format!("stat-{k}")),
            value,
        })
        .collect();
    for &(rx, lo, hi, value) in &g.hist {
        let dir = if rx { "rx" } else { "tx" };
        let name = if hi == 0 {
            format!("{dir}-pkts{lo}plus")
        } else {
            format!("{dir}-pkts{lo}to{hi}")
        };
        out.push(NamedCounter { name, value });
    }
    out
}

/// A `STRSET_GET` request for one global string set. The header names no device but must be
/// there: current kernels refuse the request without it.
pub fn strset_request(id: u32) -> AttrBuf {
    let mut b = AttrBuf::new();
    b.begin(A_HEADER).end();
    b.begin(A_STRSET_STRINGSETS)
        .begin(A_STRINGSETS_STRINGSET)
        .u32(A_STRINGSET_ID, id)
        .end()
        .end();
    b
}

/// Decodes a `STRSET_GET` reply into the strings of each set, indexed by string index.
pub fn parse_strsets(data: &[u8]) -> HashMap<u32, Vec<String>> {
    let mut out = HashMap::new();
    let Some(sets) = Attrs::new(data).nested(A_STRSET_STRINGSETS) else {
        return out;
    };
    for (t, set) in sets {
        if t != A_STRINGSETS_STRINGSET {
            continue;
        }
        let a = Attrs::new(set);
        let Some(id) = a.u32(A_STRINGSET_ID) else {
            continue;
        };
        let count = a.u32(A_STRINGSET_COUNT).unwrap_or(0) as usize;
        // A kernel bug or a hostile reply must not make us allocate without bound.
        let mut names = vec![String::new(); count.min(1 << 16)];
        for (t, s) in a.nested(A_STRINGSET_STRINGS).into_iter().flatten() {
            if t != A_STRINGS_STRING {
                continue;
            }
            let s = Attrs::new(s);
            if let (Some(i), Some(v)) = (s.u32(A_STRING_INDEX), s.str(A_STRING_VALUE)) {
                let i = i as usize;
                if i >= names.len() && i < 1 << 16 {
                    names.resize(i + 1, String::new());
                }
                if let Some(slot) = names.get_mut(i) {
                    *slot = v;
                }
            }
        }
        out.insert(id, names);
    }
    out
}

/// Appends the `ETHTOOL_A_STATS_GROUPS` bitset asking for all four standard groups by name
/// (names from the `ETH_SS_STATS_STD` string set).
pub fn put_stats_groups(b: &mut AttrBuf) {
    let groups: Vec<(&str, bool)> = STATS_GROUPS.iter().map(|&(_, n)| (n, true)).collect();
    super::bitset::put_named(b, A_STATS_GROUPS, &groups, true);
}

#[cfg(test)]
mod tests {
    use super::super::abi::{
        header_attr, A_BITSET_BITS, A_BITSET_BITS_BIT, A_BITSET_BIT_INDEX, A_BITSET_BIT_NAME,
        A_BITSET_BIT_VALUE, A_BITSET_NOMASK, ETH_SS_FEATURES, ETH_SS_LINK_MODES, FLAG_STATS,
        MSG_RINGS_GET, MSG_STATS_GET,
    };
    use super::*;

    fn u64_attr(b: &mut AttrBuf, kind: u16, v: u64) {
        b.put(kind, &v.to_ne_bytes());
    }

    /// Attribute types present at the top level of an encoded request, header excluded.
    fn kinds(b: &AttrBuf) -> Vec<u16> {
        Attrs::new(b.bytes())
            .map(|(t, _)| t)
            .filter(|&t| t != A_HEADER)
            .collect()
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_string()).collect()
    }

    fn verbose_bits(b: &mut AttrBuf, kind: u16, nomask: bool, bits: &[(u32, &str, bool)]) {
        b.begin(kind);
        if nomask {
            b.flag(A_BITSET_NOMASK);
        }
        b.begin(A_BITSET_BITS);
        for &(i, n, v) in bits {
            b.begin(A_BITSET_BITS_BIT)
                .u32(A_BITSET_BIT_INDEX, i)
                .str(A_BITSET_BIT_NAME, n);
            if v && !nomask {
                b.flag(A_BITSET_BIT_VALUE);
            }
            b.end();
        }
        b.end().end();
    }

    #[test]
    fn header_names_the_device_and_flags() {
        let b = request(A_HEADER, "eth1", FLAG_STATS);
        let h = Attrs::new(b.bytes()).nested(A_HEADER).expect("header");
        assert_eq!(h.str(A_HEADER_DEV_NAME).as_deref(), Some("eth1"));
        assert_eq!(h.u32(A_HEADER_FLAGS), Some(FLAG_STATS));
        let b = request(A_HEADER, "eth1", 0);
        let h = Attrs::new(b.bytes()).nested(A_HEADER).expect("header");
        assert_eq!(h.u32(A_HEADER_FLAGS), None);
        // STATS_GET alone has its header at 2, after ETHTOOL_A_STATS_PAD.
        assert_eq!(header_attr(MSG_STATS_GET), 2);
        assert_eq!(header_attr(MSG_RINGS_GET), 1);
    }

    #[test]
    fn dump_request_names_no_device_and_replies_give_their_index() {
        let b = dump_request(A_HEADER, FLAG_STATS);
        let h = Attrs::new(b.bytes()).nested(A_HEADER).expect("header");
        assert_eq!(h.str(A_HEADER_DEV_NAME), None);
        assert_eq!(h.u32(A_HEADER_FLAGS), Some(FLAG_STATS));
        let b = dump_request(A_HEADER, 0);
        let h = Attrs::new(b.bytes()).nested(A_HEADER).expect("header");
        assert_eq!(h.count(), 0);

        let mut r = AttrBuf::new();
        r.begin(A_HEADER)
            .u32(A_HEADER_DEV_INDEX, 7)
            .str(A_HEADER_DEV_NAME, "eth0")
            .end()
            .u32(A_RINGS_RX, 512);
        assert_eq!(reply_ifindex(A_HEADER, r.bytes()), Some(7));
        assert_eq!(reply_ifindex(2, r.bytes()), None);
        let mut r = AttrBuf::new();
        r.u32(A_RINGS_RX, 512);
        assert_eq!(reply_ifindex(A_HEADER, r.bytes()), None);
    }

    #[test]
    fn rings_reply_parses_and_missing_fields_stay_none() {
        let mut b = request(A_HEADER, "eth0", 0);
        b.u32(A_RINGS_RX_MAX, 8192)
            .u32(A_RINGS_TX_MAX, 4096)
            .u32(A_RINGS_RX, 1024)
            .u32(A_RINGS_TX, 512)
            .u32(A_RINGS_RX_BUF_LEN, 2048)
            .u8(A_RINGS_TX_PUSH, 1)
            .u8(A_RINGS_RX_PUSH, 0)
            .u32(17, 99); // a newer attribute (HDS_THRESH) is ignored
        let r = parse_rings(b.bytes());
        assert_eq!(
            r,
            Rings {
                rx_max: Some(8192),
                tx_max: Some(4096),
                rx: Some(1024),
                tx: Some(512),
                rx_buf_len: Some(2048),
                tx_push: Some(true),
                rx_push: Some(false),
                ..Rings::default()
            }
        );
    }

    #[test]
    fn rings_set_sends_exactly_the_set_fields_and_never_maxima() {
        let r = Rings {
            rx_max: Some(8192),
            tx_max: Some(8192),
            rx: Some(4096),
            tx_push: Some(true),
            ..Rings::default()
        };
        let mut b = request(A_HEADER, "eth0", 0);
        put_rings(&mut b, &r);
        assert_eq!(kinds(&b), [A_RINGS_RX, A_RINGS_TX_PUSH]);
        let a = Attrs::new(b.bytes());
        assert_eq!(a.u32(A_RINGS_RX), Some(4096));
        assert_eq!(a.get(A_RINGS_TX_PUSH), Some(&[1u8][..]));

        let mut b = request(A_HEADER, "eth0", 0);
        put_rings(&mut b, &Rings::default());
        assert!(kinds(&b).is_empty());
    }

    #[test]
    fn channels_reply_and_set_request() {
        let mut b = request(A_HEADER, "eth0", 0);
        b.u32(A_CHANNELS_RX_MAX, 4)
            .u32(A_CHANNELS_RX_COUNT, 2)
            .u32(A_CHANNELS_TX_MAX, 4)
            .u32(A_CHANNELS_TX_COUNT, 3);
        let c = parse_channels(b.bytes());
        assert_eq!(
            c,
            Channels {
                rx_max: Some(4),
                tx_max: Some(4),
                rx: Some(2),
                tx: Some(3),
                ..Channels::default()
            }
        );
        let mut b = request(A_HEADER, "eth0", 0);
        put_channels(
            &mut b,
            &Channels {
                combined: Some(8),
                combined_max: Some(64),
                ..Channels::default()
            },
        );
        assert_eq!(kinds(&b), [A_CHANNELS_COMBINED_COUNT]);
        assert_eq!(
            Attrs::new(b.bytes()).u32(A_CHANNELS_COMBINED_COUNT),
            Some(8)
        );
    }

    #[test]
    fn coalesce_reply_parses_every_field_and_set_round_trips() {
        let full = Coalesce {
            rx_usecs: Some(1),
            rx_max_frames: Some(2),
            rx_usecs_irq: Some(3),
            rx_max_frames_irq: Some(4),
            tx_usecs: Some(5),
            tx_max_frames: Some(6),
            tx_usecs_irq: Some(7),
            tx_max_frames_irq: Some(8),
            stats_block_usecs: Some(9),
            use_adaptive_rx: Some(true),
            use_adaptive_tx: Some(false),
            pkt_rate_low: Some(10),
            rx_usecs_low: Some(11),
            rx_max_frames_low: Some(12),
            tx_usecs_low: Some(13),
            tx_max_frames_low: Some(14),
            pkt_rate_high: Some(15),
            rx_usecs_high: Some(16),
            rx_max_frames_high: Some(17),
            tx_usecs_high: Some(18),
            tx_max_frames_high: Some(19),
            rate_sample_interval: Some(20),
            use_cqe_mode_tx: Some(true),
            use_cqe_mode_rx: Some(false),
            tx_aggr_max_bytes: Some(21),
            tx_aggr_max_frames: Some(22),
            tx_aggr_time_usecs: Some(23),
        };
        // A reply is laid out like a SET request, so encoding then decoding must round-trip.
        let mut b = request(A_HEADER, "eth0", 0);
        put_coalesce(&mut b, &full);
        assert_eq!(kinds(&b).len(), 27);
        assert_eq!(parse_coalesce(b.bytes()), full);
        // Booleans travel as u8.
        assert_eq!(
            Attrs::new(b.bytes()).get(A_COALESCE_USE_ADAPTIVE_RX),
            Some(&[1u8][..])
        );

        // A driver that supports only rx-usecs and adaptive-rx.
        let mut b = request(A_HEADER, "eth0", 0);
        b.u32(A_COALESCE_RX_USECS, 50)
            .u8(A_COALESCE_USE_ADAPTIVE_RX, 0);
        let c = parse_coalesce(b.bytes());
        assert_eq!(
            c,
            Coalesce {
                rx_usecs: Some(50),
                use_adaptive_rx: Some(false),
                ..Coalesce::default()
            }
        );

        let mut b = request(A_HEADER, "eth0", 0);
        put_coalesce(
            &mut b,
            &Coalesce {
                tx_usecs: Some(64),
                use_adaptive_tx: Some(true),
                ..Coalesce::default()
            },
        );
        assert_eq!(kinds(&b), [A_COALESCE_TX_USECS, A_COALESCE_USE_ADAPTIVE_TX]);
    }

    #[test]
    fn pause_reply_with_and_without_statistics() {
        let mut b = request(A_HEADER, "eth0", 0);
        b.u8(A_PAUSE_AUTONEG, 1)
            .u8(A_PAUSE_RX, 1)
            .u8(A_PAUSE_TX, 0)
            .begin(A_PAUSE_STATS)
            .put(1, &[0; 4]); // ETHTOOL_A_PAUSE_STAT_PAD
        u64_attr(&mut b, A_PAUSE_STAT_TX_FRAMES, 7);
        u64_attr(&mut b, A_PAUSE_STAT_RX_FRAMES, 1 << 40);
        b.end();
        let p = parse_pause(b.bytes());
        assert_eq!(
            p,
            Pause {
                autoneg: true,
                rx: true,
                tx: false,
                stats: Some(PauseStats {
                    tx_pause_frames: Some(7),
                    rx_pause_frames: Some(1 << 40),
                }),
            }
        );

        // The kernel adds an empty nest when the driver has no pause statistics.
        let mut b = request(A_HEADER, "eth0", 0);
        b.u8(A_PAUSE_AUTONEG, 0)
            .u8(A_PAUSE_RX, 0)
            .u8(A_PAUSE_TX, 1)
            .begin(A_PAUSE_STATS)
            .end();
        let p = parse_pause(b.bytes());
        assert!(p.tx && !p.rx && p.stats.is_none());

        let mut b = request(A_HEADER, "eth0", 0);
        put_pause(&mut b, None, Some(true), Some(false));
        assert_eq!(kinds(&b), [A_PAUSE_RX, A_PAUSE_TX]);
        let a = Attrs::new(b.bytes());
        assert_eq!((a.u8(A_PAUSE_RX), a.u8(A_PAUSE_TX)), (Some(1), Some(0)));
    }

    #[test]
    fn features_from_verbose_nomask_bitsets() {
        let ss = names(&["tx-scatter-gather", "", "rx-gro", "rx-lro", "rx-gro-hw"]);
        let mut b = request(A_HEADER, "eth0", 0);
        verbose_bits(
            &mut b,
            A_FEATURES_HW,
            true,
            &[(0, "tx-scatter-gather", true), (2, "rx-gro", true)],
        );
        verbose_bits(
            &mut b,
            A_FEATURES_WANTED,
            true,
            &[(0, "tx-scatter-gather", true), (2, "rx-gro", true)],
        );
        verbose_bits(
            &mut b,
            A_FEATURES_ACTIVE,
            true,
            &[(0, "tx-scatter-gather", true)],
        );
        verbose_bits(
            &mut b,
            A_FEATURES_NOCHANGE,
            true,
            &[(0, "tx-scatter-gather", true)],
        );
        let f = parse_features(b.bytes(), &ss);
        let got: Vec<(&str, bool, bool, bool)> = f
            .iter()
            .map(|f| (f.name.as_str(), f.active, f.wanted, f.fixed))
            .collect();
        assert_eq!(
            got,
            [
                ("tx-scatter-gather", true, true, true), // in NOCHANGE
                ("rx-gro", false, true, false),          // wanted but not active
                ("rx-lro", false, false, true),          // not in HW
                ("rx-gro-hw", false, false, true),
            ]
        );
    }

    #[test]
    fn features_set_reply_names_what_did_not_apply() {
        let ss = names(&["a", "b", "rx-gro-hw"]);
        let mut b = request(A_HEADER, "eth0", 0);
        verbose_bits(&mut b, A_FEATURES_WANTED, false, &[(2, "rx-gro-hw", true)]);
        verbose_bits(&mut b, A_FEATURES_ACTIVE, false, &[]);
        assert_eq!(
            features_not_applied(b.bytes(), &ss),
            [("rx-gro-hw".to_string(), true)]
        );
        let b = request(A_HEADER, "eth0", 0);
        assert!(features_not_applied(b.bytes(), &ss).is_empty());
    }

    #[test]
    fn link_modes_speed_duplex_and_mode_names() {
        let mut b = request(A_HEADER, "eth0", 0);
        b.u8(A_LINKMODES_AUTONEG, 1)
            .u32(A_LINKMODES_SPEED, 100_000)
            .u8(A_LINKMODES_DUPLEX, DUPLEX_FULL)
            .u32(A_LINKMODES_LANES, 4);
        verbose_bits(
            &mut b,
            A_LINKMODES_OURS,
            false,
            &[
                (38, "100000baseKR4/Full", false),
                (39, "100000baseSR4/Full", true),
                (40, "100000baseCR4/Full", true),
            ],
        );
        let m = parse_linkmodes(b.bytes(), &[]);
        assert_eq!(m.speed_mbps, Some(100_000));
        assert_eq!(m.duplex.as_deref(), Some("full"));
        assert_eq!((m.autoneg, m.lanes), (Some(true), Some(4)));
        assert_eq!(
            m.supported,
            [
                "100000baseKR4/Full",
                "100000baseSR4/Full",
                "100000baseCR4/Full"
            ]
        );
        assert_eq!(m.advertised, ["100000baseSR4/Full", "100000baseCR4/Full"]);
        assert!(m.peer.is_empty(), "no peer attribute: no peer modes");
        // The link partner's advertisement (a bitset without mask).
        verbose_bits(
            &mut b,
            A_LINKMODES_PEER,
            true,
            &[(40, "100000baseCR4/Full", true)],
        );
        let m = parse_linkmodes(b.bytes(), &[]);
        assert_eq!(m.peer, ["100000baseCR4/Full"]);

        // No link: unknown speed and duplex, no modes.
        let mut b = request(A_HEADER, "eth0", 0);
        b.u32(A_LINKMODES_SPEED, SPEED_UNKNOWN)
            .u8(A_LINKMODES_DUPLEX, 0xff)
            .u8(A_LINKMODES_AUTONEG, 0);
        let m = parse_linkmodes(b.bytes(), &[]);
        assert_eq!(m.speed_mbps, None);
        assert_eq!(m.duplex, None);
        assert!(m.supported.is_empty() && m.advertised.is_empty());
    }

    #[test]
    fn link_info_port_and_state() {
        let mut b = request(A_HEADER, "eth0", 0);
        b.u8(A_LINKINFO_PORT, 0x05);
        assert_eq!(parse_linkinfo_port(b.bytes()).as_deref(), Some("da"));
        let mut b = request(A_HEADER, "eth0", 0);
        b.u8(A_LINKSTATE_LINK, 1);
        assert_eq!(parse_linkstate(b.bytes()), Some(true));
        assert_eq!(parse_linkstate(request(A_HEADER, "eth0", 0).bytes()), None);
    }

    #[test]
    fn fec_modes_active_and_total_counters() {
        let mut lm = vec![String::new(); 70];
        lm[49] = "None".into();
        lm[50] = "RS".into();
        lm[51] = "BASER".into();
        let mut b = request(A_HEADER, "eth0", 0);
        b.u8(A_FEC_AUTO, 1).u32(A_FEC_ACTIVE, 50);
        verbose_bits(&mut b, A_FEC_MODES, true, &[(50, "RS", true)]);
        let arr: Vec<u8> = [12u64, 5, 7].iter().flat_map(|v| v.to_ne_bytes()).collect();
        b.begin(A_FEC_STATS)
            .put(A_FEC_STAT_CORRECTED, &arr)
            .put(A_FEC_STAT_UNCORR, &3u64.to_ne_bytes())
            .end();
        let f = parse_fec(b.bytes(), &lm);
        assert_eq!(f.configured, ["Auto", "RS"]);
        assert_eq!(f.active.as_deref(), Some("RS"));
        assert_eq!((f.corrected, f.uncorrectable), (Some(12), Some(3)));
    }

    #[test]
    fn standard_stats_groups_and_histograms() {
        let mut b = request(A_HEADER, "eth0", 0);
        b.begin(A_STATS_GRP)
            .u32(A_STATS_GRP_ID, 1)
            .u32(A_STATS_GRP_SS_ID, 18)
            .begin(A_STATS_GRP_STAT);
        u64_attr(&mut b, 0, 100);
        b.end().begin(A_STATS_GRP_STAT);
        u64_attr(&mut b, 3, 5);
        b.end().end();
        b.begin(A_STATS_GRP)
            .u32(A_STATS_GRP_ID, 3)
            .u32(A_STATS_GRP_SS_ID, 20)
            .begin(A_STATS_GRP_HIST_RX)
            .u32(A_STATS_GRP_HIST_BKT_LOW, 65)
            .u32(A_STATS_GRP_HIST_BKT_HI, 127);
        u64_attr(&mut b, A_STATS_GRP_HIST_VAL, 9);
        b.end().end();
        let g = parse_stats(b.bytes());
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].id, 1);
        assert_eq!(g[0].ss_id, Some(18));
        assert_eq!(g[0].stats, [(0, 100), (3, 5)]);
        let named = name_group(&g[0], &names(&["FramesTransmittedOK", "x", "y"]));
        let named: Vec<(&str, u64)> = named.iter().map(|c| (c.name.as_str(), c.value)).collect();
        assert_eq!(named, [("FramesTransmittedOK", 100), ("stat-3", 5)]);
        let hist = name_group(&g[1], &[]);
        assert_eq!(hist[0].name, "rx-pkts65to127");
        assert_eq!(hist[0].value, 9);
    }

    #[test]
    fn strset_reply_is_indexed() {
        let mut b = AttrBuf::new();
        b.begin(A_STRSET_STRINGSETS)
            .begin(A_STRINGSETS_STRINGSET)
            .u32(A_STRINGSET_ID, ETH_SS_FEATURES)
            .u32(A_STRINGSET_COUNT, 3)
            .begin(A_STRINGSET_STRINGS);
        for (i, s) in [(2, "rx-gro"), (0, "tx-sg")] {
            b.begin(A_STRINGS_STRING)
                .u32(A_STRING_INDEX, i)
                .str(A_STRING_VALUE, s)
                .end();
        }
        b.end().end().end();
        let sets = parse_strsets(b.bytes());
        assert_eq!(sets[&ETH_SS_FEATURES], names(&["tx-sg", "", "rx-gro"]));

        let req = strset_request(ETH_SS_LINK_MODES);
        assert!(Attrs::new(req.bytes()).nested(A_HEADER).is_some());
        let id = Attrs::new(req.bytes())
            .nested(A_STRSET_STRINGSETS)
            .and_then(|s| s.nested(A_STRINGSETS_STRINGSET))
            .and_then(|s| s.u32(A_STRINGSET_ID));
        assert_eq!(id, Some(ETH_SS_LINK_MODES));
    }
}
