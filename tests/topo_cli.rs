//! `topo` and `nccl` through the built binary on the GPU node fixture
//! (tests/fixtures/gen-gpu-node.sh): golden output and the facts the tree was built to show.
//!
//! Set `DPUCTL_BLESS=1` to rewrite the golden files after an intended change.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/gpu-node")
}

/// dpuctl pointed at the GPU node fixture.
fn dpuctl(args: &[&str]) -> Output {
    let f = fixture();
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env("DPUCTL_SYSFS", f.join("sys"))
        .env("DPUCTL_PROCFS", f.join("proc"))
        .env("COLUMNS", "100")
        .env_remove("NCCL_SOCKET_IFNAME")
        .env_remove("NCCL_IB_HCA")
        .env_remove("NCCL_IB_GID_INDEX")
        .env_remove("NCCL_IB_TC")
        .env_remove("NCCL_NET_GDR_LEVEL")
        .output()
        .expect("run dpuctl")
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

fn golden(rel: &str, actual: &str) {
    let path = root().join(rel);
    if std::env::var_os("DPUCTL_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (DPUCTL_BLESS=1 creates it)", path.display()));
    assert!(
        want == actual,
        "{} differs from the output (DPUCTL_BLESS=1 to accept):\n--- want\n{want}\n--- got\n{actual}",
        path.display()
    );
}

#[test]
fn topo_table_matches_golden() {
    let out = stdout(&dpuctl(&["topo"]));
    golden("tests/golden/gpu-node.topo.txt", &out);
    assert!(
        out.contains("GPUDirect RDMA: yes (nvidia_peermem loaded)"),
        "{out}"
    );
    assert!(out.contains("GPU2 - mlx5_1: 0000:37:00.0"), "{out}");
    assert!(
        out.contains("16.0 GT/s x16 of 32.0 GT/s x16 DEGRADED"),
        "{out}"
    );
}

#[test]
fn topo_json_matches_golden_with_every_class() {
    let out = stdout(&dpuctl(&["topo", "--format", "json"]));
    golden("tests/golden/gpu-node.topo.json", &out);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let gpus = v["gpus"].as_array().expect("gpus");
    assert_eq!(gpus.len(), 8);
    let nics: Vec<&str> = v["nics"]
        .as_array()
        .expect("nics")
        .iter()
        .map(|n| n["name"].as_str().expect("name"))
        .collect();
    assert_eq!(nics, ["eno1", "mlx5_0", "mlx5_1", "mlx5_2", "mlx5_3"]);
    let rel = |g: usize, nic: &str| {
        gpus[g]["pairs"]
            .as_array()
            .expect("pairs")
            .iter()
            .find(|p| p["nic"] == nic)
            .expect("pair")["relation"]
            .clone()
    };
    assert_eq!(rel(0, "mlx5_0"), "PIX");
    assert_eq!(rel(2, "mlx5_1"), "PXB");
    assert_eq!(rel(6, "mlx5_3"), "PHB");
    assert_eq!(rel(0, "mlx5_1"), "NODE");
    assert_eq!(rel(0, "mlx5_2"), "SYS");
    assert_eq!(gpus[7]["nearest_relation"], "NODE");
    assert_eq!(gpus[7]["nearest"], serde_json::json!(["mlx5_2", "mlx5_3"]));
    // The management NIC is nobody's nearest where RDMA NICs exist.
    assert!(gpus.iter().all(|g| !g["nearest"]
        .as_array()
        .expect("nearest")
        .contains(&"eno1".into())));
    assert_eq!(gpus[0]["nic_gbps"], 200.0);
    assert_eq!(
        gpus[2]["pairs"][2]["acs_redirect"],
        serde_json::json!(["0000:37:00.0"])
    );
}

#[test]
fn topo_from_a_snapshot_is_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("snap.json");
    let o = dpuctl(&["snapshot", "-o", snap.to_str().expect("path")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let live = stdout(&dpuctl(&["topo", "--format", "json"]));
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["topo", "--format", "json", "--from"])
        .arg(&snap)
        .env("DPUCTL_SYSFS", "/nonexistent")
        .output()
        .expect("run");
    assert_eq!(stdout(&o), live);
    // The snapshot holds the bridges and their ACS state, and reads back in old form: a
    // snapshot without the `pci` field still loads.
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).expect("read")).expect("json");
    let acs = v["pci"]["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .find(|f| f["address"] == "0000:37:00.0")
        .expect("bridge")["acs"]
        .clone();
    assert_eq!(acs["request_redirect"], true);
    let eno_bridge = v["pci"]["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .find(|f| f["address"] == "0000:00:1c.0")
        .expect("root port")["acs"]["n/a"]
        .clone();
    assert!(
        eno_bridge
            .as_str()
            .expect("reason")
            .contains("no PCIe extended config space"),
        "{eno_bridge}"
    );
    v.as_object_mut().expect("object").remove("pci");
    std::fs::write(&snap, v.to_string()).expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["topo", "--from"])
        .arg(&snap)
        .output()
        .expect("run");
    assert!(stdout(&o).contains("0 GPU(s), 0 NIC(s)"));
}
