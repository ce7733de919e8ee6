//! A snapshot (`snapshot -o`, read back by `--from`): parsed like `load_snapshot` does, then
//! shown as `show --from` does (table and JSON).
#![no_main]

use dpuctl::model::{NodeState, SNAPSHOT_SCHEMA};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(state) = serde_json::from_slice::<NodeState>(data) else {
        return;
    };
    if state.schema != SNAPSHOT_SCHEMA {
        return;
    }
    let _ = dpuctl::output::show_table(&state);
    let _ = dpuctl::output::json(&state);
});
