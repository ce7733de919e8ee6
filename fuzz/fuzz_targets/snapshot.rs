//! A snapshot (`snapshot -o`, read back by `--from`): parsed like `load_snapshot` does, shown
//! as `show --from` does (table and JSON), and every shipped profile resolved and planned on
//! it as `check --from` and `tune --dry-run --from` do.
#![no_main]

use std::sync::OnceLock;

use dpuctl::model::{NodeState, SNAPSHOT_SCHEMA};
use dpuctl::profile::{resolve, Catalog, Profile, SHIPPED};
use libfuzzer_sys::fuzz_target;

fn shipped() -> &'static [Profile] {
    static P: OnceLock<Vec<Profile>> = OnceLock::new();
    P.get_or_init(|| {
        let c = Catalog::shipped_only();
        SHIPPED
            .iter()
            .map(|(name, _)| c.load(name).expect("shipped profiles are valid"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(state) = serde_json::from_slice::<NodeState>(data) else {
        return;
    };
    if state.schema != SNAPSHOT_SCHEMA {
        return;
    }
    let _ = dpuctl::output::show_table(&state);
    let _ = dpuctl::output::json(&state);
    for p in shipped() {
        if let Ok(r) = resolve(p, &state, &[]) {
            let _ = dpuctl::tune::check(&r.settings, &state);
        }
    }
});
