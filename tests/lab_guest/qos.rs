//! Traffic classes on the real drivers of the lab guest (whose kernel has `sch_ets`): a
//! profile's `qos:` block applied as the root ets qdisc on virtio0 and igb0, witnessed by
//! `tc`, traffic marked per priority counted in its band, drift found by `check`, rollback
//! back to the kernel's default root, and a failed transaction that leaves the tree as it was.

use std::path::Path;
use std::process::{Command, Output};

use crate::{in_lab, tool};

fn dpuctl(state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env("DPUCTL_STATE_DIR", state)
        .env("DPUCTL_PROFILE_DIR", state.join("profiles.d"))
        .output()
        .expect("run dpuctl")
}

fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn qdiscs(iface: &str) -> String {
    tool("tc", &["qdisc", "show", "dev", iface])
}

/// Five classes, band 0 with 25%: priority 6 (`ping -Q 0x10`) in band 0, 4 (`-Q 0x18`) in
/// band 1, 2 (`-Q 0x08`) in band 2, 1 in band 3, the rest in band 4.
const CLASSES: &str = "      classes:\n\
    \x20       - {priorities: [6], share: 25}\n\
    \x20       - {priorities: [4], share: 20}\n\
    \x20       - {priorities: [2], share: 20}\n\
    \x20       - {priorities: [1], share: 20}\n\
    \x20       - {priorities: [0], share: 15}\n";

fn write_profile(dir: &Path, name: &str, body: &str) -> String {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &file,
        format!("name: {name}\ndescription: traffic classes in the lab\ninterfaces:\n{body}"),
    )
    .expect("write profile");
    file.to_str().expect("path").to_string()
}

/// Packets of the class `N` of the root qdisc (`tc -s class show`), by class minor number.
fn class_packets(iface: &str) -> Vec<(u32, u64)> {
    let j = tool("tc", &["-s", "-j", "class", "show", "dev", iface]);
    let v: serde_json::Value = serde_json::from_str(&j).expect("tc json");
    v.as_array()
        .expect("array")
        .iter()
        .filter_map(|c| {
            let h = c["handle"].as_str()?;
            let minor = u32::from_str_radix(h.rsplit(':').next()?, 16).ok()?;
            Some((minor, c["packets"].as_u64()?))
        })
        .collect()
}

/// Sends three pings with each of these TOS values out of `iface` to a neighbour that is
/// not there (a static entry, so no ARP): every packet passes the root qdisc.
fn marked_traffic(iface: &str, net: &str) {
    let addr = format!("{net}.2/24");
    let peer = format!("{net}.9");
    tool("ip", &["addr", "add", &addr, "dev", iface]);
    tool(
        "ip",
        &[
            "neigh",
            "replace",
            &peer,
            "lladdr",
            "02:00:00:00:00:09",
            "dev",
            iface,
        ],
    );
    for tos in ["0x10", "0x18", "0x08"] {
        // No answer comes: ping exits 1, which is expected.
        let _ = Command::new("ping")
            .args([
                "-c", "3", "-i", "0.2", "-W", "1", "-Q", tos, "-I", iface, &peer,
            ])
            .output()
            .expect("ping");
    }
    tool("ip", &["neigh", "del", &peer, "dev", iface]);
    tool("ip", &["addr", "del", &addr, "dev", iface]);
}

fn ets_cycle(iface: &str, net: &str) {
    let state = tempfile::tempdir().expect("tempdir");
    let before = qdiscs(iface);
    let p = write_profile(
        state.path(),
        "labqos",
        &format!("  - match: {{name: {iface}}}\n    qos:\n{CLASSES}"),
    );
    let plan = ok(&dpuctl(state.path(), &["tune", &p, "--dry-run"]), "dry run");
    assert!(plan.contains(&format!("{iface} qos root qdisc")), "{plan}");
    ok(&dpuctl(state.path(), &["tune", &p, "--yes"]), "tune");

    // The witness: bands, quanta (shares 25/20/20/20/15 at MTU 1500) and priomap.
    let now = qdiscs(iface);
    let root = now
        .lines()
        .find(|l| l.starts_with("qdisc ets ") && l.contains(" root "))
        .unwrap_or_else(|| panic!("no root ets on {iface}:\n{now}"));
    assert!(root.contains("bands 5 "), "{root}");
    assert!(!root.contains("strict"), "{root}");
    assert!(root.contains("quanta 2525 2020 2020 2020 1515 "), "{root}");
    assert!(
        root.contains("priomap 4 3 2 4 1 4 0 4 4 4 4 4 4 4 4 4"),
        "{root}"
    );
    let classes = tool("tc", &["class", "show", "dev", iface]);
    assert_eq!(
        classes.lines().filter(|l| l.contains("class ets")).count(),
        5
    );

    // Marked traffic lands in its band; nothing is marked with priority 1 (band 3, class :4).
    let c0 = class_packets(iface);
    marked_traffic(iface, net);
    let c1 = class_packets(iface);
    let delta = |minor: u32| {
        let get = |v: &[(u32, u64)]| v.iter().find(|(m, _)| *m == minor).map_or(0, |x| x.1);
        get(&c1) - get(&c0)
    };
    for minor in 1..=3 {
        assert!(delta(minor) >= 3, "class :{minor}: {c0:?} -> {c1:?}");
    }
    assert_eq!(delta(4), 0, "{c0:?} -> {c1:?}");

    // dpuctl's own show has the same tree.
    let o = ok(
        &dpuctl(state.path(), &["show", iface, "--format", "json"]),
        "show",
    );
    let v: serde_json::Value = serde_json::from_str(&o).expect("show json");
    let tc = &v["interfaces"][0]["tc"];
    assert_eq!(tc["qdiscs"][0]["kind"], "ets", "{tc}");
    assert_eq!(tc["classes"].as_array().map(Vec::len), Some(5), "{tc}");

    let o = dpuctl(state.path(), &["check", &p]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Drift: someone replaces the root qdisc.
    tool(
        "tc",
        &[
            "qdisc", "replace", "dev", iface, "root", "handle", "9:", "pfifo", "limit", "100",
        ],
    );
    let o = dpuctl(state.path(), &["check", &p]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("{iface} qos root qdisc")), "{out}");

    ok(&dpuctl(state.path(), &["rollback"]), "rollback");
    assert_eq!(qdiscs(iface), before, "rollback did not restore the qdiscs");
}

#[test]
fn qos_ets_on_virtio_applies_counts_per_band_drifts_and_rolls_back() {
    in_lab();
    ets_cycle("virtio0", "198.19.1");
}

#[test]
fn qos_ets_on_igb_applies_counts_per_band_drifts_and_rolls_back() {
    in_lab();
    ets_cycle("igb0", "198.19.2");
}

#[test]
fn qos_a_failed_transaction_leaves_the_qdisc_tree_as_it_was() {
    in_lab();
    let state = tempfile::tempdir().expect("tempdir");
    let before = qdiscs("igb0");
    // igb0's qdisc is set first (interfaces in name order), then virtio0's adaptive rx, which
    // virtio takes and ignores: the read-back fails and the whole transaction is reverted.
    let p = write_profile(
        state.path(),
        "labqosfail",
        &format!(
            "  - match: {{name: igb0}}\n    qos:\n{CLASSES}\
             \x20 - match: {{name: virtio0}}\n    coalesce: {{adaptive-rx: on}}\n"
        ),
    );
    let o = dpuctl(state.path(), &["tune", &p, "--yes"]);
    assert!(!o.status.success(), "tune should fail");
    assert_eq!(qdiscs("igb0"), before);

    // A root dpuctl cannot rebuild is refused before anything changes, exit 2.
    tool(
        "tc",
        &[
            "qdisc", "replace", "dev", "igb0", "root", "handle", "1:", "htb",
        ],
    );
    let held = qdiscs("igb0");
    let p = write_profile(
        state.path(),
        "labqoshtb",
        &format!("  - match: {{name: igb0}}\n    qos:\n{CLASSES}"),
    );
    let o = dpuctl(state.path(), &["tune", &p, "--yes"]);
    assert_eq!(o.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(all.contains("cannot restore exactly"), "{all}");
    assert_eq!(qdiscs("igb0"), held);
    tool("tc", &["qdisc", "del", "dev", "igb0", "root"]);
    assert_eq!(qdiscs("igb0"), before);
}
