//! A profile file: parsed and validated on its own (`profile validate`), then loaded with its
//! inheritance applied when it extends shipped profiles only (a path in `extends` would make
//! the run read files of this machine).
#![no_main]

use dpuctl::profile::Profile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    dpuctl::fuzzing::profile_file("fuzz", text);
    if !text.contains('/') && !text.contains(".y") {
        let _ = Profile::from_yaml("fuzz", text);
    }
});
