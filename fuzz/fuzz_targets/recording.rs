//! A recording (`stats --record`, read by `--replay`): the header and every sample decoded,
//! and the samples fed to the monitor engine as a replay does.
#![no_main]

use std::path::Path;

use dpuctl::monitor::record::Reader;
use dpuctl::monitor::{Engine, EngineConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = Reader::new(data, Path::new("fuzz.rec")) else {
        return;
    };
    let mut engine = Engine::new(EngineConfig::default());
    let mut n = 0u32;
    while let Ok(Some(s)) = r.next_sample() {
        engine.ingest(&s);
        n += 1;
        if n % 8 == 0 {
            let _ = engine.view();
        }
    }
    let _ = engine.view();
    engine.finish();
});
