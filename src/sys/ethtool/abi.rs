//! Numbers of the ethtool generic-netlink ABI that dpuctl uses.
//!
//! Values follow `include/uapi/linux/ethtool_netlink.h` (since 6.14 generated into
//! `ethtool_netlink_generated.h` from `Documentation/netlink/specs/ethtool.yaml`) and
//! `include/uapi/linux/ethtool.h`. They are part of the stable user-space ABI: the kernel only
//! appends to these enums.

/// Family name and version (`ETHTOOL_GENL_NAME`, `ETHTOOL_GENL_VERSION`).
pub const FAMILY: &str = "ethtool";
/// `ETHTOOL_GENL_VERSION`.
pub const VERSION: u8 = 1;

// Message types user space sends (`ETHTOOL_MSG_*`).
pub const MSG_STRSET_GET: u8 = 1;
pub const MSG_LINKINFO_GET: u8 = 2;
pub const MSG_LINKMODES_GET: u8 = 4;
pub const MSG_LINKSTATE_GET: u8 = 6;
pub const MSG_FEATURES_GET: u8 = 11;
pub const MSG_FEATURES_SET: u8 = 12;
pub const MSG_RINGS_GET: u8 = 15;
pub const MSG_RINGS_SET: u8 = 16;
pub const MSG_CHANNELS_GET: u8 = 17;
pub const MSG_CHANNELS_SET: u8 = 18;
pub const MSG_COALESCE_GET: u8 = 19;
pub const MSG_COALESCE_SET: u8 = 20;
pub const MSG_PAUSE_GET: u8 = 21;
pub const MSG_PAUSE_SET: u8 = 22;
pub const MSG_FEC_GET: u8 = 29;
pub const MSG_FEC_SET: u8 = 30;
pub const MSG_STATS_GET: u8 = 32;

// Request header (`ETHTOOL_A_HEADER_*`).
/// The header attribute of most messages (`ETHTOOL_A_RINGS_HEADER` and the like).
pub const A_HEADER: u16 = 1;
/// `ETHTOOL_A_STATS_HEADER`: `STATS_GET` has `ETHTOOL_A_STATS_PAD` first.
pub const A_STATS_HEADER: u16 = 2;
pub const A_HEADER_DEV_INDEX: u16 = 1;
pub const A_HEADER_DEV_NAME: u16 = 2;
pub const A_HEADER_FLAGS: u16 = 3;
/// The header attribute of message `cmd`.
pub const fn header_attr(cmd: u8) -> u16 {
    if cmd == MSG_STATS_GET {
        A_STATS_HEADER
    } else {
        A_HEADER
    }
}
/// `ETHTOOL_FLAG_COMPACT_BITSETS`: bitsets as u32 word arrays; names come from the cached
/// string sets instead of every reply (a feature reply shrinks from kilobytes to ~100 bytes).
pub const FLAG_COMPACT_BITSETS: u32 = 1 << 0;
/// `ETHTOOL_FLAG_STATS`: include optional device statistics.
pub const FLAG_STATS: u32 = 1 << 2;

// Bitsets (`ETHTOOL_A_BITSET_*`).
pub const A_BITSET_NOMASK: u16 = 1;
pub const A_BITSET_SIZE: u16 = 2;
pub const A_BITSET_BITS: u16 = 3;
pub const A_BITSET_VALUE: u16 = 4;
pub const A_BITSET_MASK: u16 = 5;
pub const A_BITSET_BITS_BIT: u16 = 1;
pub const A_BITSET_BIT_INDEX: u16 = 1;
pub const A_BITSET_BIT_NAME: u16 = 2;
pub const A_BITSET_BIT_VALUE: u16 = 3;

// String sets (`ETHTOOL_A_STRSET_*`, `_STRINGSETS_*`, `_STRINGSET_*`, `_STRINGS_*`, `_STRING_*`).
pub const A_STRSET_STRINGSETS: u16 = 2;
pub const A_STRINGSETS_STRINGSET: u16 = 1;
pub const A_STRINGSET_ID: u16 = 1;
pub const A_STRINGSET_COUNT: u16 = 2;
pub const A_STRINGSET_STRINGS: u16 = 3;
pub const A_STRINGS_STRING: u16 = 1;
pub const A_STRING_INDEX: u16 = 1;
pub const A_STRING_VALUE: u16 = 2;

// String set ids (`enum ethtool_stringset`).
pub const ETH_SS_FEATURES: u32 = 4;
pub const ETH_SS_LINK_MODES: u32 = 9;

// Rings (`ETHTOOL_A_RINGS_*`).
pub const A_RINGS_RX_MAX: u16 = 2;
pub const A_RINGS_RX_MINI_MAX: u16 = 3;
pub const A_RINGS_RX_JUMBO_MAX: u16 = 4;
pub const A_RINGS_TX_MAX: u16 = 5;
pub const A_RINGS_RX: u16 = 6;
pub const A_RINGS_RX_MINI: u16 = 7;
pub const A_RINGS_RX_JUMBO: u16 = 8;
pub const A_RINGS_TX: u16 = 9;
pub const A_RINGS_RX_BUF_LEN: u16 = 10;
pub const A_RINGS_CQE_SIZE: u16 = 12;
pub const A_RINGS_TX_PUSH: u16 = 13;
pub const A_RINGS_RX_PUSH: u16 = 14;

// Channels (`ETHTOOL_A_CHANNELS_*`).
pub const A_CHANNELS_RX_MAX: u16 = 2;
pub const A_CHANNELS_TX_MAX: u16 = 3;
pub const A_CHANNELS_OTHER_MAX: u16 = 4;
pub const A_CHANNELS_COMBINED_MAX: u16 = 5;
pub const A_CHANNELS_RX_COUNT: u16 = 6;
pub const A_CHANNELS_TX_COUNT: u16 = 7;
pub const A_CHANNELS_OTHER_COUNT: u16 = 8;
pub const A_CHANNELS_COMBINED_COUNT: u16 = 9;

// Coalescing (`ETHTOOL_A_COALESCE_*`), in enum order from RX_USECS (2) on.
pub const A_COALESCE_RX_USECS: u16 = 2;
pub const A_COALESCE_RX_MAX_FRAMES: u16 = 3;
pub const A_COALESCE_RX_USECS_IRQ: u16 = 4;
pub const A_COALESCE_RX_MAX_FRAMES_IRQ: u16 = 5;
pub const A_COALESCE_TX_USECS: u16 = 6;
pub const A_COALESCE_TX_MAX_FRAMES: u16 = 7;
pub const A_COALESCE_TX_USECS_IRQ: u16 = 8;
pub const A_COALESCE_TX_MAX_FRAMES_IRQ: u16 = 9;
pub const A_COALESCE_STATS_BLOCK_USECS: u16 = 10;
pub const A_COALESCE_USE_ADAPTIVE_RX: u16 = 11;
pub const A_COALESCE_USE_ADAPTIVE_TX: u16 = 12;
pub const A_COALESCE_PKT_RATE_LOW: u16 = 13;
pub const A_COALESCE_RX_USECS_LOW: u16 = 14;
pub const A_COALESCE_RX_MAX_FRAMES_LOW: u16 = 15;
pub const A_COALESCE_TX_USECS_LOW: u16 = 16;
pub const A_COALESCE_TX_MAX_FRAMES_LOW: u16 = 17;
pub const A_COALESCE_PKT_RATE_HIGH: u16 = 18;
pub const A_COALESCE_RX_USECS_HIGH: u16 = 19;
pub const A_COALESCE_RX_MAX_FRAMES_HIGH: u16 = 20;
pub const A_COALESCE_TX_USECS_HIGH: u16 = 21;
pub const A_COALESCE_TX_MAX_FRAMES_HIGH: u16 = 22;
pub const A_COALESCE_RATE_SAMPLE_INTERVAL: u16 = 23;
pub const A_COALESCE_USE_CQE_MODE_TX: u16 = 24;
pub const A_COALESCE_USE_CQE_MODE_RX: u16 = 25;
pub const A_COALESCE_TX_AGGR_MAX_BYTES: u16 = 26;
pub const A_COALESCE_TX_AGGR_MAX_FRAMES: u16 = 27;
pub const A_COALESCE_TX_AGGR_TIME_USECS: u16 = 28;

// Pause (`ETHTOOL_A_PAUSE_*`, `ETHTOOL_A_PAUSE_STAT_*`).
pub const A_PAUSE_AUTONEG: u16 = 2;
pub const A_PAUSE_RX: u16 = 3;
pub const A_PAUSE_TX: u16 = 4;
pub const A_PAUSE_STATS: u16 = 5;
pub const A_PAUSE_STAT_TX_FRAMES: u16 = 2;
pub const A_PAUSE_STAT_RX_FRAMES: u16 = 3;

// Features (`ETHTOOL_A_FEATURES_*`).
pub const A_FEATURES_HW: u16 = 2;
pub const A_FEATURES_WANTED: u16 = 3;
pub const A_FEATURES_ACTIVE: u16 = 4;
pub const A_FEATURES_NOCHANGE: u16 = 5;

// Link info, modes and state (`ETHTOOL_A_LINKINFO_*`, `_LINKMODES_*`, `_LINKSTATE_*`).
pub const A_LINKINFO_PORT: u16 = 2;
pub const A_LINKMODES_AUTONEG: u16 = 2;
pub const A_LINKMODES_OURS: u16 = 3;
/// `ETHTOOL_A_LINKMODES_PEER`: the link partner's advertised modes (no mask).
pub const A_LINKMODES_PEER: u16 = 4;
pub const A_LINKMODES_SPEED: u16 = 5;
pub const A_LINKMODES_DUPLEX: u16 = 6;
pub const A_LINKMODES_LANES: u16 = 9;
pub const A_LINKSTATE_LINK: u16 = 2;

// FEC (`ETHTOOL_A_FEC_*`, `ETHTOOL_A_FEC_STAT_*`).
pub const A_FEC_MODES: u16 = 2;
pub const A_FEC_AUTO: u16 = 3;
pub const A_FEC_ACTIVE: u16 = 4;
pub const A_FEC_STATS: u16 = 5;
pub const A_FEC_STAT_CORRECTED: u16 = 2;
pub const A_FEC_STAT_UNCORR: u16 = 3;

// Standard statistics (`ETHTOOL_A_STATS_*`, `ETHTOOL_A_STATS_GRP_*`).
pub const A_STATS_GROUPS: u16 = 3;
pub const A_STATS_GRP: u16 = 4;
pub const A_STATS_GRP_ID: u16 = 2;
pub const A_STATS_GRP_SS_ID: u16 = 3;
pub const A_STATS_GRP_STAT: u16 = 4;
pub const A_STATS_GRP_HIST_RX: u16 = 5;
pub const A_STATS_GRP_HIST_TX: u16 = 6;
pub const A_STATS_GRP_HIST_BKT_LOW: u16 = 7;
pub const A_STATS_GRP_HIST_BKT_HI: u16 = 8;
pub const A_STATS_GRP_HIST_VAL: u16 = 9;

/// Standard statistics groups by `ETHTOOL_STATS_*` id, with the names the kernel gives them in
/// the `ETH_SS_STATS_STD` string set (used to request them by name).
pub const STATS_GROUPS: [(u32, &str); 4] =
    [(0, "eth-phy"), (1, "eth-mac"), (2, "eth-ctrl"), (3, "rmon")];

/// `SPEED_UNKNOWN` as the u32 the kernel sends.
pub const SPEED_UNKNOWN: u32 = u32::MAX;
/// `DUPLEX_HALF`, `DUPLEX_FULL` (`DUPLEX_UNKNOWN` is 0xff).
pub const DUPLEX_HALF: u8 = 0;
pub const DUPLEX_FULL: u8 = 1;
