//! `show --rdma` and the RDMA section of `show` through the built binary, on the RDMA fixture
//! tree (tests/fixtures/gen-rdma-node.sh): golden output, selection by device or netdev,
//! errors, and the snapshot round trip.
//!
//! Set `DPUCTL_BLESS=1` to rewrite golden files after an intended change.

mod common;

use common::golden::golden;
use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn dpuctl_on(fixture: &str, args: &[&str]) -> Output {
    let f = root().join("tests/fixtures").join(fixture);
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env("DPUCTL_SYSFS", f.join("sys"))
        .env("DPUCTL_PROCFS", f.join("proc"))
        .env("COLUMNS", "100")
        .output()
        .expect("run dpuctl")
}

fn dpuctl(args: &[&str]) -> Output {
    dpuctl_on("rdma-node", args)
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "dpuctl failed: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

#[test]
fn show_rdma_table_matches_golden() {
    let out = stdout(&dpuctl(&["show", "--rdma"]));
    golden("tests/golden/rdma-node.show-rdma.txt", &out);
    // mlx5 interleaves v1/v2 per address: the RoCE v2 IPv4 GID is index 3, rxe's is 1.
    assert!(out.contains("   3*   RoCE v2  eth2"), "{out}");
    assert!(
        out.contains("   1*   RoCE v2  virtio0  198.18.0.2"),
        "{out}"
    );
    assert!(out.contains("rdma_cm roce_mode RoCE v2  tos 106"), "{out}");
    // Non-zero hw_counters with their class (rdma_classes.yaml), unclassified ones after.
    assert!(
        out.contains("    completer_retry_err 7 (retransmits)\n    sent_pkts 1200\n"),
        "{out}"
    );
    for line in out.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
}

#[test]
fn show_rdma_json_carries_the_gid_table_and_counters() {
    let out = stdout(&dpuctl(&["show", "--rdma", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let devs = v.as_array().expect("list");
    let names: Vec<&str> = devs
        .iter()
        .map(|d| d["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["mlx5_0", "mlx5_1", "rxe0"]);
    let mlx = &devs[0]["ports"][0];
    // Slots 4..15 hold the zero GID: empty, not listed.
    assert_eq!(mlx["gids"].as_array().expect("gids").len(), 4);
    assert_eq!(mlx["gids"][3]["kind"], "RoCE v2");
    assert_eq!(mlx["gids"][3]["gid"], "::ffff:10.0.0.1");
    assert_eq!(mlx["active_mtu"], 4096);
    assert!(
        mlx["hw_counters"].get("lifespan").is_none(),
        "a setting, not a counter"
    );
    assert_eq!(devs[1]["ports"][0]["gids"][0]["kind"], "IB");
    assert_eq!(devs[1]["ports"][0]["netdev"], serde_json::Value::Null);
    assert_eq!(devs[2]["ports"][0]["hw_counters"]["completer_retry_err"], 7);
    assert_eq!(devs[2]["ports"][0]["default_roce_tos"], 106);
    let yaml = stdout(&dpuctl(&["show", "--rdma", "--format", "yaml"]));
    assert!(yaml.contains("kind: RoCE v2"), "{yaml}");
}

#[test]
fn names_select_by_device_or_netdev() {
    let by_netdev = stdout(&dpuctl(&["show", "--rdma", "virtio0"]));
    assert!(by_netdev.starts_with("== rxe0 =="), "{by_netdev}");
    assert!(!by_netdev.contains("mlx5"), "{by_netdev}");
    let by_name = stdout(&dpuctl(&["show", "--rdma", "-i", "mlx5_1"]));
    assert!(by_name.starts_with("== mlx5_1 =="), "{by_name}");
    assert_eq!(
        by_name.lines().filter(|l| l.starts_with("== ")).count(),
        1,
        "{by_name}"
    );

    let bad = dpuctl(&["show", "--rdma", "eth9"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no RDMA device \"eth9\""), "{err}");
    assert!(err.contains("rxe0 (virtio0)"), "{err}");
}

#[test]
fn a_tree_without_rdma_shows_none_and_show_is_unchanged() {
    let out = stdout(&dpuctl_on("two-socket", &["show", "--rdma"]));
    assert_eq!(out, "no RDMA devices\n");
    let json = stdout(&dpuctl_on(
        "two-socket",
        &["show", "--all", "--format", "json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert!(
        v.get("rdma").is_none(),
        "no key without devices: old goldens hold"
    );
}

/// A snapshot carries the RDMA devices: the two-socket snapshot with the RDMA tree's devices
/// in it shows them offline, in `show --rdma` and in `show`'s section.
#[test]
fn snapshots_carry_rdma_devices() {
    let devs: serde_json::Value =
        serde_json::from_str(&stdout(&dpuctl(&["show", "--rdma", "--format", "json"])))
            .expect("json");
    let snap_text = stdout(&dpuctl_on("two-socket", &["snapshot"]));
    let mut snap: serde_json::Value = serde_json::from_str(&snap_text).expect("snapshot");
    snap["rdma"] = devs;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("snap.json");
    std::fs::write(&file, serde_json::to_string(&snap).expect("json")).expect("write");
    let f = file.to_str().expect("utf-8 path");

    let offline = stdout(&dpuctl_on("two-socket", &["show", "--rdma", "--from", f]));
    let live = stdout(&dpuctl(&["show", "--rdma"]));
    assert_eq!(offline, live);
    let show = stdout(&dpuctl_on("two-socket", &["show", "--from", f]));
    let section = show.split_once("\nrdma\n").expect("an rdma section").1;
    assert_eq!(section, live);
    // Naming an interface keeps the RDMA devices on it only.
    let eth2 = stdout(&dpuctl_on("two-socket", &["show", "eth2", "--from", f]));
    assert!(eth2.contains("== mlx5_0 =="), "{eth2}");
    assert!(!eth2.contains("== rxe0 =="), "{eth2}");
}
