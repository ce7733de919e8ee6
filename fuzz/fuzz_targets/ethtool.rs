//! Replies of the ethtool netlink family, through every reply decoder of
//! `src/sys/ethtool/msg.rs` (rings, channels, coalesce, pause, features and their bitsets,
//! link modes, link info and state, FEC, standard statistics, string sets).
//!
//! The decoders are public functions of a private module, so the module's source files are
//! compiled here under the same paths (`crate::sys::…`, `crate::model`) they use in dpuctl,
//! with `nl` and `model` taken from the library itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod model {
    pub use dpuctl::model::*;
}

// `src/sys`, seen from this file; `nl` is the library's own.
#[path = "../../src/sys"]
#[allow(dead_code, unused_imports, clippy::all)]
mod sys {
    pub mod nl {
        pub use dpuctl::sys::nl::*;
    }
    pub mod ethtool {
        pub mod abi;
        pub mod bitset;
        pub mod msg;
    }
}

use sys::ethtool::msg;

/// Names for bitsets in compact form (the kernel's `netdev-features` / `link-modes` sets
/// stand-ins); names the reply's own string sets add come first.
const NAMES: &[&str] = &[
    "tx-scatter-gather",
    "tx-checksum-ipv4",
    "rx-gro",
    "rx-checksum",
    "10baseT/Half",
    "10baseT/Full",
    "25000baseCR/Full",
    "None",
    "RS",
    "BaseR",
];

fuzz_target!(|data: &[u8]| {
    let sets = msg::parse_strsets(data);
    let mut names: Vec<String> = sets.values().flatten().take(64).cloned().collect();
    names.extend(NAMES.iter().map(|s| (*s).to_string()));
    let _ = msg::reply_ifindex(1, data);
    let _ = msg::parse_rings(data);
    let _ = msg::parse_channels(data);
    let _ = msg::parse_coalesce(data);
    let _ = msg::parse_pause(data);
    let _ = msg::parse_features(data, &names);
    let _ = msg::features_not_applied(data, &names);
    let _ = msg::linkmodes_need_names(data);
    let _ = msg::parse_linkmodes(data, &names);
    let _ = msg::parse_linkinfo_port(data);
    let _ = msg::parse_linkstate(data);
    let _ = msg::parse_fec(data, &names);
    for g in msg::parse_stats(data) {
        let _ = msg::name_group(&g, &names);
    }
});
