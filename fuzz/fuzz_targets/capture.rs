//! A capture file (pcap or pcapng, either byte order): the reader walked to its end, then the
//! analysis `capture analyze` runs over the same bytes.
#![no_main]

use dpuctl::capture::analyze::Options;
use dpuctl::capture::{analyze_bytes, Reader};
use dpuctl::monitor::microburst::BurstConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = Reader::new(data) {
        let _ = (r.format(), r.speed_bps(), r.tick_ns());
        loop {
            match r.next_packet() {
                Ok(Some(p)) => assert!(p.data.len() <= data.len()),
                Ok(None) => break,
                Err(e) => {
                    assert!(e.offset() <= data.len() as u64, "{e}: offset past the end");
                    break;
                }
            }
        }
    }
    let opts = |rate| Options {
        resolution_ns: 1_000,
        burst: BurstConfig {
            line_rate_bps: rate,
            threshold: 0.5,
        },
        top: 5,
        keep_bins: false,
    };
    let _ = analyze_bytes(data, None, None, opts, |_, _| {});
});
