//! Netlink attribute parsing of kernel replies (`src/sys/nl.rs`): every attribute, nested
//! ones to a few levels, read as each typed getter reads it, and the `rtnl_link_stats64`
//! decoder of the sampler.
#![no_main]

use dpuctl::sys::netlink::counters_from_stats64;
use dpuctl::sys::nl::{parse_str, parse_u16, parse_u32, parse_u64, Attrs};
use libfuzzer_sys::fuzz_target;

fn walk(a: Attrs<'_>, depth: u32) {
    for (kind, v) in a.clone() {
        let _ = (parse_u16(v), parse_u32(v), parse_u64(v), parse_str(v));
        let _ = (
            a.u8(kind),
            a.u16(kind),
            a.u32(kind),
            a.u64(kind),
            a.str(kind),
        );
        let _ = counters_from_stats64(v);
        if depth < 4 {
            if let Some(n) = a.nested(kind) {
                walk(n, depth + 1);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    walk(Attrs::new(data), 0);
    let _ = counters_from_stats64(data);
});
