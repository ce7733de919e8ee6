//! `topo` and `nccl` through the built binary on the GPU node fixture
//! (tests/fixtures/gen-gpu-node.sh): golden output and the facts the tree was built to show.
//!
//! Set `DPUCTL_BLESS=1` to rewrite the golden files after an intended change.

mod common;

use common::golden::golden;
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
    let text = stdout(&o);
    assert!(text.contains("0 GPU(s), 0 NIC(s)"), "{text}");
    // Not a "no" the node never said: GPUDirect is n/a with the reason.
    assert!(
        text.contains(
            "GPUDirect RDMA: n/a (the snapshot has no PCI data (recorded by an older dpuctl))"
        ),
        "{text}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["topo", "--format", "json", "--from"])
        .arg(&snap)
        .output()
        .expect("run");
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(j["gpudirect"]["status"], "n/a");
}

#[test]
fn nccl_outputs_match_goldens() {
    let env = stdout(&dpuctl(&["nccl"]));
    golden("tests/golden/gpu-node.nccl.env", &env);
    // mlx5_3's IPv4 GID is index 5, the others' 3: no single NCCL_IB_GID_INDEX.
    assert!(!env.contains("export NCCL_IB_GID_INDEX"), "{env}");
    assert!(env.contains("mlx5_3:1=5"), "{env}");
    assert!(env.contains("export NCCL_IB_ROCE_VERSION_NUM='2'"), "{env}");
    let conf = stdout(&dpuctl(&[
        "nccl", "--gpu", "0", "--gpu", "1", "--format", "conf",
    ]));
    golden("tests/golden/gpu-node.nccl-gpu0-1.conf", &conf);
    assert!(conf.contains("\nNCCL_IB_HCA==mlx5_0:1\n"), "{conf}");
    assert!(conf.contains("\nNCCL_IB_GID_INDEX=3\n"), "{conf}");
    assert!(conf.contains("\nNCCL_IB_TC=106\n"), "{conf}");
    assert!(conf.contains("\nNCCL_NET_GDR_LEVEL=PIX\n"), "{conf}");
    let json = stdout(&dpuctl(&["nccl", "--gpu", "6", "--format", "json"]));
    golden("tests/golden/gpu-node.nccl-gpu6.json", &json);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["nics"], serde_json::json!(["mlx5_3"]));
}

#[test]
fn nccl_check_names_each_wrong_setting_and_exits_like_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    // What dpuctl derives for GPU0 and GPU1 passes.
    let good = dir.path().join("good.conf");
    let conf = stdout(&dpuctl(&[
        "nccl", "--gpu", "0", "--gpu", "1", "--format", "conf",
    ]));
    std::fs::write(&good, conf).expect("write");
    let o = dpuctl(&[
        "nccl",
        "--gpu",
        "0",
        "--check",
        good.to_str().expect("path"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // The doRoCE habit of NCCL_IB_GID_INDEX=3 is right on mlx5_0 but GID 2 is RoCE v1 and
    // 6 is empty; eno1 is the management NIC; mlx5_7 does not exist.
    let bad = dir.path().join("bad.conf");
    std::fs::write(
        &bad,
        "# site defaults\nNCCL_IB_GID_INDEX=2\nNCCL_SOCKET_IFNAME==eno1\n\
         NCCL_IB_HCA==mlx5_0:1,mlx5_7:1\nNCCL_IB_TC=96\nNCCL_DEBUG=INFO\n",
    )
    .expect("write");
    let o = dpuctl(&["nccl", "--gpu", "0", "--check", bad.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("WRONG NCCL_IB_GID_INDEX=2 (")
            && out.contains(":2): index 2 is a RoCE v1 GID on mlx5_0:1 (RoCE v2 IPv4: 3)"),
        "{out}"
    );
    assert!(out.contains("eno1 is far from the GPUs"), "{out}");
    assert!(out.contains("no RDMA device \"mlx5_7\""), "{out}");
    assert!(out.contains("the node's RoCE ToS is 106"), "{out}");
    assert!(out.contains("4 compared, 4 wrong"), "{out}");
    std::fs::write(&bad, "NCCL_IB_GID_INDEX=6\n").expect("write");
    let o = dpuctl(&["nccl", "--gpu", "0", "--check", bad.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("index 6 is an empty slot on mlx5_0:1"));
    // The environment.
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["nccl", "--gpu", "6", "--check-env", "--format", "json"])
        .env("DPUCTL_SYSFS", fixture().join("sys"))
        .env("DPUCTL_PROCFS", fixture().join("proc"))
        .env("NCCL_IB_GID_INDEX", "3")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["status"], "wrong");
    assert!(v["items"][0]["detail"]
        .as_str()
        .expect("detail")
        .contains("index 3 is a RoCE v2 IPv6 GID on mlx5_3:1 (RoCE v2 IPv4: 5)"));
}

#[test]
fn nccl_bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("nccl.conf");
    std::fs::write(&bad, "NCCL_IB_HCA=mlx5_0\n  oops\n").expect("write");
    let o = dpuctl(&["nccl", "--check", bad.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("nccl.conf:2:3: expected NAME=VALUE"), "{err}");
    std::fs::write(&bad, "NCCL_DEBUG=INFO\n").expect("write");
    let o = dpuctl(&["nccl", "--check", bad.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing compared"));
    let o = dpuctl(&["nccl", "--gpu", "9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no GPU 9 on this node (8 GPUs: 0-7)"));
}

/// A tree laid out as a cloud VM with one H100 passed through, seen there with
/// `nvidia-smi topo -m` and sysfs: the GPU and a virtio-net NIC on the root bus of the one
/// host bridge (no PCI Express bridges), no NUMA node (-1), the open NVIDIA kernel module without
/// `nvidia_peermem`, no RDMA device, and ifb devices.
fn vm_tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    let put = |rel: &str, text: &str| {
        let p = t.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, format!("{text}\n")).expect("write");
    };
    let link = |target: &str, rel: &str| {
        let p = t.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(target, p).expect("symlink");
    };
    put("sys/devices/system/cpu/online", "0-15");
    let gpu = "sys/devices/pci0000:00/0000:00:06.0";
    for (f, v) in [
        ("class", "0x030200"),
        ("vendor", "0x10de"),
        ("device", "0x2330"),
        ("numa_node", "-1"),
        ("local_cpulist", "0-15"),
        ("current_link_speed", "32.0 GT/s PCIe"),
        ("max_link_speed", "32.0 GT/s PCIe"),
        ("current_link_width", "16"),
        ("max_link_width", "16"),
    ] {
        put(&format!("{gpu}/{f}"), v);
    }
    link(
        "../../../devices/pci0000:00/0000:00:06.0",
        "sys/bus/pci/devices/0000:00:06.0",
    );
    let nic = "sys/devices/pci0000:00/0000:00:03.0";
    for (f, v) in [
        ("class", "0x020000"),
        ("vendor", "0x1af4"),
        ("device", "0x1000"),
        ("numa_node", "-1"),
        ("local_cpulist", "0-15"),
    ] {
        put(&format!("{nic}/{f}"), v);
    }
    link(
        "../../../devices/pci0000:00/0000:00:03.0",
        "sys/bus/pci/devices/0000:00:03.0",
    );
    let eth0 = format!("{nic}/virtio2/net/eth0");
    for (f, v) in [
        ("ifindex", "2"),
        ("mtu", "1500"),
        ("tx_queue_len", "1000"),
        ("operstate", "up"),
        ("carrier", "1"),
        ("address", "02:00:00:00:00:01"),
    ] {
        put(&format!("{eth0}/{f}"), v);
    }
    link("../../../virtio2", &format!("{eth0}/device"));
    link(
        "../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0",
        "sys/class/net/eth0",
    );
    for (i, name) in ["ifb0", "ifb1"].iter().enumerate() {
        let d = format!("sys/devices/virtual/net/{name}");
        put(&format!("{d}/ifindex"), &(10 + i).to_string());
        put(&format!("{d}/mtu"), "1500");
        put(&format!("{d}/operstate"), "down");
        put(&format!("{d}/tx_queue_len"), "32");
        put(&format!("{d}/address"), "00:00:00:00:00:00");
        link(
            &format!("../../devices/virtual/net/{name}"),
            &format!("sys/class/net/{name}"),
        );
    }
    std::fs::create_dir_all(t.path().join("sys/module/nvidia")).expect("mkdir");
    put(
        "proc/driver/nvidia/version",
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)",
    );
    put("proc/sys/kernel/hostname", "gpu-vm");
    t
}

fn dpuctl_at(t: &tempfile::TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env("DPUCTL_SYSFS", t.path().join("sys"))
        .env("DPUCTL_PROCFS", t.path().join("proc"))
        .env_remove("NCCL_IB_HCA")
        .output()
        .expect("run dpuctl")
}

#[test]
fn a_gpu_vm_without_rdma_or_bridges_gets_honest_answers() {
    let t = vm_tree();
    let out = stdout(&dpuctl_at(&t, &["topo"]));
    assert!(out.contains("1 GPU(s), 1 NIC(s)"), "{out}");
    assert!(
        out.contains("GPUDirect RDMA: dma-buf (no peer-memory module"),
        "{out}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&dpuctl_at(&t, &["topo", "--format", "json"]))).expect("json");
    let g = &v["gpus"][0];
    assert_eq!(g["address"], "0000:00:06.0");
    assert_eq!(g["numa_node"], serde_json::Value::Null);
    // Both on the root bus of one host bridge.
    assert_eq!(g["pairs"][0]["relation"], "PHB");
    assert_eq!(g["nearest"], serde_json::json!(["eth0"]));
    assert_eq!(
        v["nics"][0]["link"]["n/a"],
        "no PCIe link attributes (conventional PCI or virtual)"
    );
    assert_eq!(v["gpudirect"]["open_kernel_module"], true);
    let env = stdout(&dpuctl_at(&t, &["nccl"]));
    assert!(env.contains("export NCCL_SOCKET_IFNAME='=eth0'\n"), "{env}");
    assert!(
        env.contains("no RDMA device on the NICs near the GPUs"),
        "{env}"
    );
    assert!(!env.contains("NCCL_IB_HCA"), "{env}");
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["nccl", "--check-env"])
        .env("DPUCTL_SYSFS", t.path().join("sys"))
        .env("DPUCTL_PROCFS", t.path().join("proc"))
        .env("NCCL_IB_HCA", "mlx5")
        .env("NCCL_SOCKET_IFNAME", "eth")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("WRONG NCCL_IB_HCA=mlx5 (environment): no RDMA device \"mlx5\""),
        "{out}"
    );
    assert!(
        out.contains("ok    NCCL_SOCKET_IFNAME=eth (environment)"),
        "{out}"
    );
    assert!(stdout(&dpuctl_at(&t, &["show"])).contains("eth0"));
}

/// A snapshot recorded with `dpuctl snapshot` on a cloud VM with one NVIDIA H100 (open kernel
/// module, no peer-memory module, no RDMA) and one virtio NIC, MAC addresses replaced. What
/// `nvidia-smi topo -m` printed there: GPU0, CPU affinity 0-15, no NIC column (it lists RDMA
/// NICs only); `nvidia-smi -q`: bus id `00000000:00:06.0`, PCI Express generation 5, width 16.
#[test]
fn a_recorded_h100_vm_snapshot_reads_as_nvidia_smi_saw_it() {
    let snap = root().join("tests/fixtures/gpu-h100-vm.snapshot.json");
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
            .args(args)
            .arg("--from")
            .arg(&snap)
            .env("COLUMNS", "100")
            .env("DPUCTL_SYSFS", "/nonexistent")
            .output()
            .expect("run");
        stdout(&o)
    };
    let table = run(&["topo"]);
    golden("tests/golden/gpu-h100-vm.topo.txt", &table);
    let v: serde_json::Value =
        serde_json::from_str(&run(&["topo", "--format", "json"])).expect("json");
    let text = v.to_string();
    for fact in [
        "0000:00:06.0",
        "0000:00:03.0",
        "\"PHB\"",
        "32.0 GT/s",
        "dma-buf",
    ] {
        assert!(text.contains(fact), "{fact} missing from {v:#}");
    }
    assert!(
        !text.contains("\"SYS\"") && !text.contains("\"NODE\""),
        "{v:#}"
    );
}
