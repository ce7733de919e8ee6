//! One vocabulary: every knob name `show` prints is a name a profile takes, through the built
//! binary. A snapshot of the two-socket fixture, given the ethtool settings of a NIC (the
//! fixture tree has none: ethtool reads the running kernel), is shown; the names of its rings,
//! channels, coalescing, pause and offload rows become a profile that `profile validate`
//! accepts and `check --from` compares, setting by setting.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two-socket")
}

fn dpuctl(args: &[&str]) -> Output {
    let f = fixture();
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env("DPUCTL_SYSFS", f.join("sys"))
        .env("DPUCTL_PROCFS", f.join("proc"))
        .env("COLUMNS", "100")
        .output()
        .expect("run dpuctl")
}

fn text(o: &Output) -> String {
    format!(
        "exit {}\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A snapshot of the fixture where `eth2` has every ethtool setting `show` lists: all four
/// ring sizes, channels, coalescing with adaptive rx but no adaptive tx (n/a), pause, and the
/// offloads of the view (one fixed).
fn snapshot(dir: &Path) -> PathBuf {
    let raw = dir.join("raw.json");
    let o = dpuctl(&["snapshot", "-o", s(&raw)]);
    assert!(o.status.success(), "{}", text(&o));
    let mut snap: Value =
        serde_json::from_slice(&std::fs::read(&raw).expect("read")).expect("snapshot json");
    let eth2 = snap["interfaces"]
        .as_array_mut()
        .expect("interfaces")
        .iter_mut()
        .find(|i| i["name"] == "eth2")
        .expect("eth2 in the fixture");
    eth2["rings"] = json!({"rx_max": 8192, "rx_mini_max": 1024, "rx_jumbo_max": 4096,
        "tx_max": 8192, "rx": 1024, "rx_mini": 256, "rx_jumbo": 512, "tx": 2048});
    eth2["channels"] = json!({"rx_max": 16, "tx_max": 16, "other_max": 1, "combined_max": 63,
        "rx": 2, "tx": 2, "other": 1, "combined": 8});
    eth2["coalesce"] = json!({"rx_usecs": 8, "rx_max_frames": 128, "tx_usecs": 16,
        "tx_max_frames": 32, "use_adaptive_rx": true});
    eth2["pause"] = json!({"autoneg": false, "rx": true, "tx": true,
        "stats": {"tx_pause_frames": 3, "rx_pause_frames": 5}});
    let features: Vec<Value> = [
        "rx-gro",
        "rx-lro",
        "rx-gro-hw",
        "tx-tcp-segmentation",
        "tx-generic-segmentation",
        "rx-hashing",
        "rx-checksum",
        "tx-checksum-ip-generic",
        "rx-ntuple-filter",
        "rx-udp-gro-forwarding",
        "rx-fcs",
    ]
    .iter()
    .map(|n| {
        let on = !matches!(*n, "rx-lro" | "rx-fcs" | "rx-ntuple-filter");
        json!({"name": n, "active": on, "wanted": on, "fixed": *n == "rx-lro"})
    })
    .collect();
    eth2["features"] = Value::Array(features);
    let path = dir.join("node.json");
    std::fs::write(&path, serde_json::to_vec(&snap).expect("json")).expect("write");
    path
}

/// The rows of one interface section of `show`, wrapped lines joined: label -> text.
fn rows(show: &str, iface: &str) -> Vec<(String, String)> {
    let head = format!("== {iface} ==");
    let mut out: Vec<(String, String)> = Vec::new();
    let mut inside = false;
    for line in show.lines() {
        if line.starts_with("== ") {
            inside = line.starts_with(&head);
            continue;
        }
        if !inside || line.trim().is_empty() {
            continue;
        }
        if line.starts_with("  ") {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((label, rest)) = line.trim().split_once(' ') {
            out.push((label.to_string(), rest.trim().to_string()));
        }
    }
    out
}

/// `name value` pairs of a settings row (`rx 1024 (max 8192), rx-mini 256 ...`), up to a `;`.
fn pairs(row: &str) -> Vec<(String, String)> {
    let settings = row.split(';').next().unwrap_or(row);
    settings
        .split(", ")
        .filter_map(|item| {
            let mut w = item.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect()
}

/// A profile value for what `show` printed: the number, on/off, or `off` where it said n/a.
fn value(shown: &str) -> String {
    match shown {
        "n/a" => "off".to_string(),
        v => v.to_string(),
    }
}

#[test]
fn every_name_show_prints_is_taken_by_a_profile_and_compared_by_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = snapshot(dir.path());
    let o = dpuctl(&["show", "eth2", "--from", s(&snap)]);
    assert!(o.status.success(), "{}", text(&o));
    let show = String::from_utf8(o.stdout).expect("utf-8");
    let rows = rows(&show, "eth2");
    let section = |label: &str| -> Vec<(String, String)> {
        let row = rows
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("no {label} row in\n{show}"));
        pairs(&row.1)
    };

    let mut yaml = String::from(
        "name: names\ndescription: the names show prints\ninterfaces:\n  - match: {name: eth2}\n",
    );
    let mut shown_names = 0;
    let mut na = Vec::new();
    for (label, key) in [
        ("rings", "rings"),
        ("channels", "channels"),
        ("coalesce", "coalesce"),
        ("pause", "pause"),
        ("offloads", "features"),
    ] {
        let entries = section(label);
        assert!(!entries.is_empty(), "{label}: nothing shown\n{show}");
        let _ = writeln!(yaml, "    {key}:");
        for (name, shown) in entries {
            if shown == "n/a" {
                na.push(name.clone());
            }
            let _ = writeln!(yaml, "      {name}: {}", value(&shown));
            shown_names += 1;
        }
    }
    // The view as the fixture has it: every kind, the ethtool names, adaptive-tx n/a.
    for name in [
        "rx-mini:",
        "rx-frames:",
        "adaptive-rx:",
        "rx-csum:",
        "udp-gro-fwd:",
        "gro-hw:",
    ] {
        assert!(yaml.contains(name), "{name} not shown:\n{show}");
    }
    assert_eq!(na, ["adaptive-tx"], "{show}");

    let profile = dir.path().join("names.yaml");
    std::fs::write(&profile, &yaml).expect("write profile");
    let o = dpuctl(&["profile", "validate", s(&profile)]);
    assert!(o.status.success(), "{yaml}\n{}", text(&o));

    let o = dpuctl(&["check", s(&profile), "--from", s(&snap), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{yaml}\n{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("check json");
    assert_eq!(report["status"], "compliant", "{report:#}");
    let compared = report["compared"].as_array().expect("compared");
    let skipped = report["skipped"].as_array().expect("skipped");
    // Every name is one setting: compared (as wanted), or skipped where show said n/a.
    assert_eq!(compared.len() + skipped.len(), shown_names, "{report:#}");
    assert_eq!(skipped.len(), 1, "{report:#}");
    assert_eq!(skipped[0]["field"], "use_adaptive_tx", "{report:#}");
    assert!(compared.iter().all(|c| c["ok"] == true), "{report:#}");
    // JSON carries the kernel names only.
    let knobs: BTreeSet<String> = compared
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["knob"].as_str().expect("knob"),
                c["field"].as_str().or(c["name"].as_str()).expect("field")
            )
        })
        .collect();
    for k in [
        "ring rx_mini",
        "ring rx_jumbo",
        "coalesce rx_max_frames",
        "coalesce use_adaptive_rx",
        "feature rx-checksum",
        "feature rx-udp-gro-forwarding",
        "feature rx-gro-hw",
        "feature rx-gro",
        "pause autoneg",
        "channel combined",
    ] {
        assert!(knobs.contains(k), "{k} not compared: {knobs:?}");
    }

    // check compares what the aliases name: a different value is drift on that knob.
    let drifted = dir.path().join("drifted.yaml");
    std::fs::write(
        &drifted,
        "name: drifted\ndescription: aliases that drift\ninterfaces:\n  - match: {name: eth2}\n    \
         rings: {rx-jumbo: 1024}\n    coalesce: {rx-frames: 64}\n    features: {rx-csum: off}\n",
    )
    .expect("write");
    let o = dpuctl(&["check", s(&drifted), "--from", s(&snap), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("check json");
    let bad: BTreeSet<String> = report["compared"]
        .as_array()
        .expect("compared")
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            c["field"]
                .as_str()
                .or(c["name"].as_str())
                .expect("f")
                .to_string()
        })
        .collect();
    assert_eq!(
        bad,
        BTreeSet::from([
            "rx_jumbo".into(),
            "rx_max_frames".into(),
            "rx-checksum".into()
        ]),
        "{report:#}"
    );
}

#[test]
fn a_name_given_twice_or_of_another_kind_is_refused_with_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("twice.yaml");
    std::fs::write(
        &p,
        "name: twice\ndescription: two names of one knob\ninterfaces:\n  - match: {name: eth2}\n    \
         coalesce: {rx-frames: 64, rx_max_frames: 64}\n    features: {rx-frames: on, rx-csm: on}\n",
    )
    .expect("write");
    let o = dpuctl(&["profile", "validate", s(&p)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let file = s(&p);
    for want in [
        format!(
            "{file}:5:31: coalesce field 'rx_max_frames' is given twice in \
             interfaces[0].coalesce, as 'rx-frames' and 'rx_max_frames'"
        ),
        format!(
            "{file}:6:16: unknown feature 'rx-frames': 'rx-frames' is a coalesce field, \
             under 'coalesce:'"
        ),
        format!("{file}:6:31: unknown feature 'rx-csm', did you mean 'rx-csum'?"),
    ] {
        assert!(err.contains(&want), "missing {want:?} in\n{err}");
    }
}
