//! A journal entry of the state directory (one tune transaction): parsed and validated as
//! `history`, `rollback` and the recovery in `tune` do before trusting it.
#![no_main]

use dpuctl::tune::Transaction;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(tx) = serde_json::from_slice::<Transaction>(data) else {
        return;
    };
    if tx.validate().is_ok() {
        let _ = (tx.revert_count(), tx.revertible());
    }
});
