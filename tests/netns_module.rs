//! Module EEPROM reads on the real kernel, inside a network namespace the test creates: veth
//! has no module, so the live path must answer n/a with the reason, the same refusal
//! `ethtool -m` (the witness) gets; without `CAP_NET_ADMIN` the reason names it. Needs root.

mod common;

use common::Netns;
use serde_json::Value;

fn module_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "show: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["interfaces"][0]["module"].clone()
}

#[test]
fn veth_module_is_na_because_the_driver_has_no_module_eeprom() {
    let ns = Netns::new("mod1");
    ns.veth("a", "b", 1);
    // The witness: ethtool -m is refused as unsupported too.
    let witness = ns.exec("ethtool", &["-m", "a"]);
    assert!(!witness.status.success(), "ethtool -m on veth succeeded");
    let err = String::from_utf8_lossy(&witness.stderr).to_lowercase();
    assert!(err.contains("not supported"), "ethtool -m said: {err}");

    let m = module_of(&ns.dpuctl(&["show", "a", "--format", "json"]));
    assert_eq!(
        m,
        serde_json::json!({"n/a": "driver has no module EEPROM access"})
    );

    // `show --module` prints the same reason for the interface.
    let o = ns.dpuctl(&["show", "a", "--module"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("n/a (driver has no module EEPROM access)"),
        "{text}"
    );
}

#[test]
fn without_cap_net_admin_the_reason_names_it() {
    let ns = Netns::new("mod2");
    ns.veth("a", "b", 1);
    // An unprivileged user (uid/gid 65534, no capabilities at all).
    let out = ns.exec(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            env!("CARGO_BIN_EXE_dpuctl"),
            "show",
            "a",
            "--format",
            "json",
        ],
    );
    let m = module_of(&out);
    assert_eq!(m, serde_json::json!({"n/a": "needs CAP_NET_ADMIN"}));
}
