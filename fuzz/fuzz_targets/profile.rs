//! A profile file: parsed and validated on its own (`profile validate`), then loaded with its
//! inheritance applied when it extends shipped profiles only (a path in `extends` would make
//! the run read files of this machine), resolved on a recorded node and planned against it
//! (`check`, `tune --dry-run`).
#![no_main]

use std::sync::OnceLock;

use dpuctl::model::NodeState;
use dpuctl::profile::{resolve, Profile};
use libfuzzer_sys::fuzz_target;

fn node() -> &'static NodeState {
    static N: OnceLock<NodeState> = OnceLock::new();
    N.get_or_init(|| {
        serde_json::from_str(include_str!("../../tests/fixtures/profiles/node.json"))
            .expect("the fixture snapshot parses")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    dpuctl::fuzzing::profile_file("fuzz", text);
    if text.contains('/') || text.contains(".y") {
        return;
    }
    if let Ok(p) = Profile::from_yaml("fuzz", text) {
        if let Ok(r) = resolve(&p, node(), &[]) {
            let _ = dpuctl::tune::check(&r.settings, node());
        }
    }
});
