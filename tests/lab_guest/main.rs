//! Tests that run INSIDE the lab guest (a QEMU VM with netdevsim, and virtio-net, igb and
//! e1000e on a PCI Express tree), started by `tests/lab/run-tier.sh`, which boots once and
//! runs this binary. They fail loudly anywhere else.

mod bpf;
mod ethtool_set;
mod ethtool_show;
mod fabric;
mod layout;
mod module;
mod monitor;
mod pcie;
mod qos;
mod rdma;
mod rdma_storm;
#[path = "../common/ready.rs"]
mod ready;
mod troubleshoot;
mod tune;

use std::process::Command;

/// Panics unless running inside the lab guest: a lab test must fail, never skip.
pub fn in_lab() {
    assert_eq!(
        std::env::var("DPUCTL_IN_LAB").as_deref(),
        Ok("1"),
        "lab test: run through tests/lab/run-tier.sh; DPUCTL_IN_LAB is not set"
    );
}

/// Runs a witness tool (ethtool, cat), panicking with its stderr on failure.
pub fn tool(cmd: &str, args: &[&str]) -> String {
    let o = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        o.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `key: value` pairs of ethtool output, in order, trimmed.
pub fn kv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The value of `key` in `kv` output, "" when absent.
pub fn get<'a>(kv: &'a [(String, String)], key: &str) -> &'a str {
    kv.iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// `key: value` pairs of ethtool output.
pub type Pairs = Vec<(String, String)>;

/// ethtool's "pre-set maximums" and "current" blocks of `-g` / `-l` output.
pub fn max_and_current(text: &str) -> (Pairs, Pairs) {
    let (max, cur) = text
        .split_once("Current hardware settings:")
        .unwrap_or_else(|| panic!("no current block in {text}"));
    (kv(max), kv(cur))
}

/// `dpuctl show IFACE --format json`, the interface object.
pub fn show(iface: &str) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["show", iface, "--format", "json"])
        .output()
        .expect("run dpuctl");
    assert!(
        o.status.success(),
        "dpuctl show {iface}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v["interfaces"][0].clone()
}

/// Sets the combined channel count of `iface` (`ethtool -L IFACE combined N`) through
/// dpuctl's ethtool layer, panicking with the error.
pub fn set_combined(e: &mut dpuctl::sys::ethtool::Ethtool, iface: &str, combined: Option<u32>) {
    e.set_channels(
        iface,
        &dpuctl::model::Channels {
            combined,
            ..dpuctl::model::Channels::default()
        },
    )
    .unwrap_or_else(|err| panic!("{iface}: set channels: {err}"));
}

/// Waits until `iface` reports carrier, panicking after 10 s. igb and e1000e drop carrier on
/// every reset (a ring, channel or pause autonegotiation change) and get it back 1-2 s later,
/// once their PHY has negotiated; the driver resolves flow control on that link-up, so a test
/// that forces pause settings first lets the link settle.
pub fn wait_carrier(iface: &str) {
    let path = format!("/sys/class/net/{iface}/carrier");
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&path).is_ok_and(|c| c.trim() != "1") {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{iface}: no carrier 10 s after a reset"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Reading fails only when there is no such interface.
    let c = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(c.trim(), "1", "{iface}");
}

/// The lab's NICs.
pub const NICS: [&str; 4] = ["nsim0", "virtio0", "igb0", "e1000e0"];

/// `dpuctl ARGS` with its state (journal) in `state` and its profiles in `state/profiles.d`.
pub fn dpuctl(state: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env("DPUCTL_STATE_DIR", state)
        .env("DPUCTL_PROFILE_DIR", state.join("profiles.d"))
        .output()
        .expect("run dpuctl")
}

/// The standard output of a run that must succeed (`what` names it in the failure).
pub fn ok(o: &std::process::Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}
