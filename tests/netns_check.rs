//! `dpuctl check` and the profile rules it shares with `tune`, through the built binary run
//! inside network namespaces the tests create and delete: blocks that match nothing, skipped
//! settings, checks that compare nothing, the JSON report, floors (`">= N"`) on the
//! per-namespace sysctls `net.ipv4.tcp_rmem` and `net.core.somaxconn`, and resolve errors
//! reported all at once. `cat`, `ip` and `ethtool` are the independent witnesses.
//!
//! Needs root and `ip` (iproute2); without them the tests fail with a message saying so.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::Netns;
use serde_json::Value;

/// A namespace with the veth pair `a`/`b` (4 queues each) and a state directory.
fn setup(tag: &str) -> (Netns, tempfile::TempDir) {
    common::require_root();
    let ns = Netns::new(tag);
    ns.veth("a", "b", 4);
    (ns, tempfile::tempdir().expect("state dir"))
}

/// Writes profile `name` (the file name must match) into `dir`.
fn profile(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!("name: {name}\ndescription: netns check test\n{body}"),
    )
    .expect("write profile");
    p
}

/// dpuctl inside the namespace with the test's state directory.
fn dpuctl(ns: &Netns, state: &Path, args: &[&str]) -> Output {
    let mut a = vec!["--state-dir", state.to_str().expect("utf-8 path")];
    a.extend_from_slice(args);
    ns.dpuctl(&a)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", text(o)))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A sysctl inside the namespace, read by `cat`, whitespace folded.
fn sysctl(ns: &Netns, name: &str) -> String {
    let file = format!("/proc/sys/{}", name.replace('.', "/"));
    ns.exec_ok("cat", &[&file])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes a sysctl inside the namespace with the shell, and checks it took.
fn set_sysctl(ns: &Netns, name: &str, value: &str) {
    let file = format!("/proc/sys/{}", name.replace('.', "/"));
    ns.exec_ok("sh", &["-c", &format!("echo '{value}' > {file}")]);
    assert_eq!(sysctl(ns, name), value, "{name} did not take {value}");
}

fn mtu_of_a(ns: &Netns) -> String {
    let link = ns.ip(&["-o", "link", "show", "dev", "a"]);
    link.split_whitespace()
        .skip_while(|w| *w != "mtu")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// A typo in `match:` is an error for check and tune alike (exit 2, the block and its
/// selector named, nothing changed); `optional: true` makes the same block acceptable.
#[test]
fn a_block_that_matches_no_interface_is_an_error_unless_optional() {
    let (ns, dir) = setup("nomatch");
    let typo = profile(
        dir.path(),
        "typo",
        "interfaces:\n  - match: {name: vO}\n    mtu: 1400\n",
    );
    let want = "dpuctl: profile typo: interfaces[0] (match name: vO) matches no interface; mark \
                the block 'optional: true' where not every node has one\n";
    for args in [
        &["check", path(&typo)][..],
        &["check", path(&typo), "--format", "json"],
        &["tune", path(&typo), "--dry-run"],
        &["tune", path(&typo), "--yes"],
    ] {
        let o = dpuctl(&ns, dir.path(), args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        assert!(err.ends_with(want), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} printed a result: {out}");
    }
    assert_eq!(mtu_of_a(&ns), "1500", "a refused tune changed the MTU");
    let h = json(&dpuctl(&ns, dir.path(), &["history", "--format", "json"]));
    assert_eq!(
        h["transactions"],
        Value::Array(Vec::new()),
        "nothing journaled"
    );

    // Optional: the block is left out; the other block is checked and tuned.
    let fleet = profile(
        dir.path(),
        "fleet",
        "interfaces:\n  - match: {name: vO}\n    optional: true\n    mtu: 1400\n  \
         - match: {name: a}\n    mtu: 1500\n",
    );
    let o = dpuctl(&ns, dir.path(), &["check", path(&fleet)]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert_eq!(out, "compliant: 1 setting as wanted\n");
    let o = dpuctl(&ns, dir.path(), &["tune", path(&fleet), "--yes"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("nothing to change"), "{:?}", text(&o));
}

/// Settings the veth cannot take are listed with their reason in the text and the JSON, and
/// a check that compared nothing is not compliant (exit 2).
#[test]
fn skipped_settings_are_reported_and_nothing_compared_is_not_compliant() {
    let (ns, dir) = setup("skipped");
    let body = "interfaces:\n  - match: {name: a}\n    rings: {rx: 4096}\n    \
                coalesce: {rx_usecs: 8}\n    irq_affinity: {cpus: '0'}\n";
    let p = profile(dir.path(), "veth-nic", body);
    let o = dpuctl(&ns, dir.path(), &["check", path(&p)]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("skipped: a rings rx 4096: "), "{out}");
    assert!(
        lines[1].starts_with("skipped: a coalesce rx_usecs 8: "),
        "{out}"
    );
    assert_eq!(
        lines[2],
        "skipped: a irq_affinity 0: no per-queue IRQs found"
    );
    assert_eq!(
        lines[3],
        "not compliant: no setting could be compared on this node, 3 skipped"
    );
    assert!(
        err.contains("dpuctl: profile veth-nic: no setting could be compared on this node"),
        "{err}"
    );
    let o = dpuctl(&ns, dir.path(), &["check", path(&p), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let r = json(&o);
    assert_eq!(r["status"], "nothing-compared");
    assert_eq!(r["compliant"], false);
    assert_eq!(r["compared"], Value::Array(Vec::new()));
    let skipped = r["skipped"].as_array().expect("skipped");
    let settings: Vec<&str> = skipped
        .iter()
        .map(|s| s["setting"].as_str().expect("setting"))
        .collect();
    assert_eq!(
        settings,
        ["a rings rx", "a coalesce rx_usecs", "a irq_affinity"]
    );
    assert!(skipped
        .iter()
        .all(|s| s["reason"].as_str().is_some_and(|r| !r.is_empty())));
    assert_eq!(skipped[0]["knob"], "ring");
    assert_eq!(skipped[0]["iface"], "a");
    assert_eq!(skipped[0]["field"], "rx");
    assert_eq!(skipped[0]["want"], "4096");
    // --quiet: the exit code alone.
    let o = dpuctl(&ns, dir.path(), &["check", path(&p), "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{:?}", text(&o));

    // One setting that can be compared: compliant, and the skipped ones still listed.
    let p = profile(dir.path(), "veth-nic", &format!("{body}    mtu: 1500\n"));
    let o = dpuctl(&ns, dir.path(), &["check", path(&p)]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.ends_with("compliant: 1 setting as wanted, 3 skipped\n"),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("skipped: ")).count(),
        3
    );
}

/// The JSON report names the profile and the host, and lists what was compared, what
/// drifted and what was skipped.
#[test]
fn check_json_carries_profile_host_compared_drift_and_skipped() {
    let (ns, dir) = setup("json");
    let p = profile(
        dir.path(),
        "site",
        "sysctl:\n  net.core.somaxconn: '>= 1'\ninterfaces:\n  - match: {name: a}\n    \
         mtu: 9000\n    txqueuelen: 1000\n    rings: {rx: 512}\n",
    );
    let o = dpuctl(&ns, dir.path(), &["check", path(&p), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    let r = json(&o);
    assert_eq!(r["profile"], "site");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    assert_eq!(r["host"], host.trim());
    assert_eq!(r["status"], "drift");
    assert_eq!(r["compliant"], false);
    let compared: Vec<(String, bool)> = r["compared"]
        .as_array()
        .expect("compared")
        .iter()
        .map(|c| {
            (
                format!("{} {}", c["knob"].as_str().expect("knob"), c["want"]),
                c["ok"].as_bool().expect("ok"),
            )
        })
        .collect();
    assert_eq!(
        compared,
        [
            ("sysctl \"1\"".to_string(), true),
            ("mtu 9000".to_string(), false),
            ("tx_queue_len 1000".to_string(), true),
        ]
    );
    assert_eq!(r["compared"][0]["at_least"], true);
    assert_eq!(r["compared"][1]["have"], 1500);
    let drift = r["drift"].as_array().expect("drift");
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0]["knob"], "mtu");
    assert_eq!(drift[0]["want"], 9000);
    assert_eq!(drift[0]["have"], 1500);
    assert_eq!(r["skipped"][0]["setting"], "a rings rx");
    assert_eq!(r["compliant_settings"], 2);
}

/// Floors on per-namespace sysctls: a value above the floor is compliant and left alone; a
/// value below it is raised number by number to a concrete value that the journal records
/// and a rollback restores; an exact value that lowers is marked in the plan.
#[test]
fn sysctl_floors_check_tune_and_rollback() {
    let (ns, dir) = setup("floor");
    let rmem = "net.ipv4.tcp_rmem";
    set_sysctl(&ns, rmem, "4096 131072 33554432");
    set_sysctl(&ns, "net.core.somaxconn", "4096");
    let floors = profile(
        dir.path(),
        "floors",
        "sysctl:\n  net.ipv4.tcp_rmem: \">= 4096 87380 16777216\"\n  \
         net.core.somaxconn: \">= 1024\"\n",
    );
    let f = path(&floors);
    // Above the floors: compliant, nothing to change.
    let o = dpuctl(&ns, dir.path(), &["check", f]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = dpuctl(&ns, dir.path(), &["tune", f, "--dry-run"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(text(&o).0, "nothing to change, 2 already set\n");

    // The exact value the old profiles wrote lowers the maximum: the plan says so.
    let exact = profile(
        dir.path(),
        "exact",
        "sysctl:\n  net.ipv4.tcp_rmem: \"4096 87380 16777216\"\n",
    );
    let o = dpuctl(&ns, dir.path(), &["tune", path(&exact), "--dry-run"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains(
            "sysctl net.ipv4.tcp_rmem \"4096 131072 33554432\" -> \"4096 87380 16777216\"  \
             (lowers)\n"
        ),
        "{out}"
    );
    assert!(out.ends_with("1 change, 1 lowers a value\n"), "{out}");
    let o = dpuctl(
        &ns,
        dir.path(),
        &["tune", path(&exact), "--dry-run", "--format", "json"],
    );
    assert_eq!(json(&o)["steps"][0]["lowers"], true);
    assert_eq!(sysctl(&ns, rmem), "4096 131072 33554432", "dry run");

    // Below the floor in two numbers: drift shows the floor; tune raises each number to
    // the floor's and keeps the one above it.
    set_sysctl(&ns, rmem, "8192 65536 8388608");
    let o = dpuctl(&ns, dir.path(), &["check", f]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let row = out
        .lines()
        .find(|l| l.contains("sysctl net.ipv4.tcp_rmem"))
        .expect("drift row");
    assert!(
        row.contains(">= 4096 87380 16777216") && row.contains("\"8192 65536 8388608\""),
        "{out}"
    );
    let o = dpuctl(&ns, dir.path(), &["check", f, "--format", "json"]);
    let r = json(&o);
    assert_eq!(r["drift"][0]["at_least"], true);
    assert_eq!(r["drift"][0]["want"], "4096 87380 16777216");
    let o = dpuctl(&ns, dir.path(), &["tune", f, "--yes"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains(
            "sysctl net.ipv4.tcp_rmem \"8192 65536 8388608\" -> \"8192 87380 16777216\"\n"
        ),
        "{out}"
    );
    assert_eq!(sysctl(&ns, rmem), "8192 87380 16777216");
    let o = dpuctl(&ns, dir.path(), &["check", f]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    // The journal holds the concrete values.
    let h = json(&dpuctl(&ns, dir.path(), &["history", "--format", "json"]));
    let step = &h["transactions"][0]["steps"][0];
    let shown = step.to_string();
    assert!(
        shown.contains("8192 65536 8388608") && shown.contains("8192 87380 16777216"),
        "{shown}"
    );
    assert!(!shown.contains(">="), "{shown}");
    let o = dpuctl(&ns, dir.path(), &["rollback"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(sysctl(&ns, rmem), "8192 65536 8388608");
    assert_eq!(sysctl(&ns, "net.core.somaxconn"), "4096");
}

/// Every resolve-time error is reported in one run, each on its own line, then a count.
#[test]
fn every_resolve_error_is_reported_in_one_run() {
    let (ns, dir) = setup("errors");
    let p = profile(
        dir.path(),
        "broken",
        "interfaces:\n  - match: {name: vO}\n    mtu: 9000\n  - match: {name: a}\n    \
         channels: {rx: 64}\n    xps: {mode: all}\n  - match: {driver: mlx5_core}\n    \
         mtu: 9000\n",
    );
    for args in [&["check", path(&p)][..], &["tune", path(&p), "--yes"]] {
        let cmd = args[0];
        let o = dpuctl(&ns, dir.path(), args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {out}{err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 5, "{cmd}: {err}");
        assert!(
            lines[0].starts_with(
                "dpuctl: profile broken: a: channels rx 64 is above the device maximum "
            ),
            "{err}"
        );
        assert_eq!(
            lines[1],
            "dpuctl: profile broken: a: xps has no cpus in the blocks that match a"
        );
        assert!(
            lines[2].starts_with(
                "dpuctl: profile broken: interfaces[0] (match name: vO) matches no interface"
            ),
            "{err}"
        );
        assert!(
            lines[3].starts_with(
                "dpuctl: profile broken: interfaces[2] (match driver: mlx5_core) matches no interface"
            ),
            "{err}"
        );
        assert_eq!(
            lines[4],
            "dpuctl: profile broken cannot be resolved on this node (4 problems above)"
        );
    }
    assert_eq!(mtu_of_a(&ns), "1500");
}
