//! Module EEPROM on the lab NICs: none of them has a pluggable module (emulated NICs and
//! netdevsim), so `show` must report n/a with the kernel's reason, the same refusal that
//! `ethtool -m` (the witness) gets.

use crate::{in_lab, show, NICS};
use std::process::Command;

#[test]
fn module_eeprom_is_na_with_the_reason_ethtool_m_gets() {
    in_lab();
    for iface in NICS {
        let witness = Command::new("ethtool")
            .args(["-m", iface])
            .output()
            .expect("ethtool");
        assert!(
            !witness.status.success(),
            "{iface}: ethtool -m succeeded; the lab has no module"
        );
        let said = String::from_utf8_lossy(&witness.stderr).to_lowercase();
        let m = &show(iface)["module"];
        let reason = m["n/a"]
            .as_str()
            .unwrap_or_else(|| panic!("{iface}: module is not n/a: {m}"));
        if said.contains("not supported") {
            assert_eq!(reason, "driver has no module EEPROM access", "{iface}");
        } else {
            // Another errno (a driver that has the operation but no module behind it):
            // the same words as the witness.
            let words = reason.split(':').next().unwrap_or(reason).to_lowercase();
            assert!(
                said.contains(&words),
                "{iface}: dpuctl says {reason:?}, ethtool -m says {said:?}"
            );
        }
        // Drivers without the module operations at all.
        if matches!(iface, "nsim0" | "virtio0" | "e1000e0") {
            assert_eq!(reason, "driver has no module EEPROM access", "{iface}");
        }
    }
}
