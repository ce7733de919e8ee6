//! Soft-RoCE (`rdma_rxe`) on virtio0: `show --rdma` against the kernel's own view, with `rdma`
//! (iproute2) and sysfs as witnesses, and the `NETLINK_RDMA` queries against sysfs.

use crate::dpuctl;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use super::{in_lab, tool};

const DEV: &str = "rxe0";
const PORT_DIR: &str = "/sys/class/infiniband/rxe0/ports/1";

/// Creates rxe0 on virtio0 (the test's setup; dpuctl itself never runs `rdma`) and deletes
/// it when dropped, so later tests find the guest as it was.
struct Rxe;

impl Rxe {
    fn add() -> Self {
        tool("modprobe", &["rdma_rxe"]);
        if !Path::new("/sys/class/infiniband/rxe0").exists() {
            tool(
                "rdma",
                &["link", "add", DEV, "type", "rxe", "netdev", "virtio0"],
            );
        }
        Rxe
    }
}

impl Drop for Rxe {
    fn drop(&mut self) {
        // configfs directories go with rmdir (their attribute files cannot be unlinked).
        let cm = Path::new("/sys/kernel/config/rdma_cm/rxe0");
        if cm.exists() {
            let _ = std::fs::remove_dir(cm);
        }
        let _ = Command::new("rdma").args(["link", "delete", DEV]).status();
    }
}

fn show_rdma(args: &[&str]) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["show", "--rdma", "--format", "json"])
        .args(args)
        .output()
        .expect("run dpuctl");
    assert!(
        o.status.success(),
        "dpuctl show --rdma: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("json")
}

/// The non-empty GIDs as sysfs lists them: index -> (GID text, type). Empty slots read as
/// the zero GID and their type file answers EINVAL.
fn sysfs_gids() -> BTreeMap<u32, (std::net::Ipv6Addr, String)> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(format!("{PORT_DIR}/gids")).expect("gids") {
        let e = e.expect("entry");
        let i: u32 = e.file_name().to_string_lossy().parse().expect("index");
        let gid: std::net::Ipv6Addr = std::fs::read_to_string(e.path())
            .expect("gid")
            .trim()
            .parse()
            .expect("gid text");
        let ty = std::fs::read_to_string(format!("{PORT_DIR}/gid_attrs/types/{i}"));
        if gid.is_unspecified() {
            assert!(ty.is_err(), "an empty slot {i} has a type: {ty:?}");
            continue;
        }
        out.insert(
            i,
            (gid, ty.expect("type of a used slot").trim().to_string()),
        );
    }
    out
}

#[test]
fn rxe_on_virtio0_shows_what_rdma_and_sysfs_list() {
    in_lab();
    let _rxe = Rxe::add();

    let v = show_rdma(&["virtio0"]);
    let devs = v.as_array().expect("list");
    assert_eq!(devs.len(), 1, "{v}");
    let d = &devs[0];
    assert_eq!(d["name"], DEV);
    assert_eq!(d["node_type"], "CA");
    let p = &d["ports"][0];
    assert_eq!(p["port"], 1);

    // Witness: `rdma -j link show rxe0/1` (iproute2 over the same netlink family).
    let link: serde_json::Value =
        serde_json::from_str(&tool("rdma", &["-j", "link", "show", "rxe0/1"])).expect("rdma json");
    let l = &link[0];
    assert_eq!(p["state"], l["state"], "{p}\n{l}");
    assert_eq!(l["physical_state"], "LINK_UP");
    assert_eq!(p["phys_state"], "LinkUp");
    assert_eq!(p["netdev"], l["netdev"]);
    assert_eq!(
        p["netdev_index"], l["netdev_index"],
        "netlink's netdev index"
    );
    assert_eq!(p["link_layer"], "Ethernet");
    let mtu: u32 = tool("cat", &["/sys/class/net/virtio0/mtu"])
        .trim()
        .parse()
        .expect("mtu");
    assert_eq!(
        p["active_mtu"],
        dpuctl::sys::rdma::roce_active_mtu(mtu).expect("mtu")
    );

    // The GID table: the same used slots, types and netdevs as sysfs.
    let want = sysfs_gids();
    assert!(!want.is_empty());
    let got: BTreeMap<u32, (std::net::Ipv6Addr, String)> = p["gids"]
        .as_array()
        .expect("gids")
        .iter()
        .map(|g| {
            assert_eq!(g["netdev"], "virtio0", "{g}");
            (
                u32::try_from(g["index"].as_u64().expect("index")).expect("u32"),
                (
                    g["gid"].as_str().expect("gid").parse().expect("ip"),
                    g["kind"].as_str().expect("kind").to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(got, want);
    // The RoCE v2 GID holding virtio0's IPv4 address is the one NCCL wants.
    let v4: std::net::Ipv6Addr = "::ffff:198.18.0.2".parse().expect("ip");
    let (idx, _) = want
        .iter()
        .find(|(_, (g, t))| *g == v4 && t == "RoCE v2")
        .expect("a RoCE v2 GID for 198.18.0.2");
    let table = dpuctl::output::rdma_table(
        &serde_json::from_value::<Vec<dpuctl::model::rdma::RdmaDevice>>(v.clone()).expect("model"),
    );
    assert!(
        table.contains(&format!("roce v2 ipv4 gid {idx}")),
        "{table}"
    );

    // hw_counters: every counter file sysfs has (lifespan is a setting).
    let files: BTreeSet<String> = std::fs::read_dir(format!("{PORT_DIR}/hw_counters"))
        .expect("hw_counters")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lifespan")
        .collect();
    let keys: BTreeSet<String> = p["hw_counters"]
        .as_object()
        .expect("hw_counters")
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, files);

    // NETLINK_RDMA on its own: the device, its port and the STAT_GET counters.
    let mut nl = dpuctl::sys::rdma_nl::RdmaNl::open().expect("NETLINK_RDMA");
    let nd = nl
        .devices()
        .expect("device dump")
        .into_iter()
        .find(|x| x.name == DEV)
        .expect("rxe0 over netlink");
    assert_eq!(nd.ports, 1);
    assert_eq!(nd.protocol.as_deref(), Some("roce"));
    let ports = nl.ports(nd.index).expect("port dump");
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0].netdev.as_deref(), Some("virtio0"));
    let stats = nl.hw_counters(nd.index, 1).expect("STAT_GET");
    let names: BTreeSet<String> = stats.keys().cloned().collect();
    assert_eq!(names, files, "netlink and sysfs name the same counters");
}

#[test]
fn rxe_rdma_cm_defaults_come_from_configfs() {
    in_lab();
    let _rxe = Rxe::add();
    // configfs creates its mount point /sys/kernel/config when it loads.
    tool("modprobe", &["configfs"]);
    let mounted = std::fs::read_to_string("/proc/mounts")
        .expect("mounts")
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/sys/kernel/config"));
    if !mounted {
        tool("mount", &["-t", "configfs", "none", "/sys/kernel/config"]);
    }
    tool("modprobe", &["rdma_cm"]);
    assert!(
        Path::new("/sys/kernel/config/rdma_cm").is_dir(),
        "rdma_cm registers its configfs directory"
    );
    // Before the directory exists rdma_cm has no per-device settings to show.
    let before = show_rdma(&["rxe0"]);
    assert_eq!(
        before[0]["ports"][0]["default_roce_tos"],
        serde_json::Value::Null
    );

    tool("mkdir", &["-p", "/sys/kernel/config/rdma_cm/rxe0"]);
    let tos = "/sys/kernel/config/rdma_cm/rxe0/ports/1/default_roce_tos";
    std::fs::write(tos, "106\n").expect("write tos");
    let after = show_rdma(&["rxe0"]);
    let p = &after[0]["ports"][0];
    assert_eq!(p["default_roce_tos"], 106);
    assert_eq!(
        p["default_roce_mode"],
        tool(
            "cat",
            &["/sys/kernel/config/rdma_cm/rxe0/ports/1/default_roce_mode"]
        )
        .trim()
    );
}

/// configfs mounted on /sys/kernel/config (as a node's init does) and `rdma_cm` loaded: the
/// test's setup, never dpuctl's.
fn configfs_with_rdma_cm() {
    tool("modprobe", &["configfs"]);
    let mounted = std::fs::read_to_string("/proc/mounts")
        .expect("mounts")
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/sys/kernel/config"));
    if !mounted {
        tool("mount", &["-t", "configfs", "none", "/sys/kernel/config"]);
    }
    tool("modprobe", &["rdma_cm"]);
    assert!(Path::new("/sys/kernel/config/rdma_cm").is_dir());
}

fn code(o: &std::process::Output) -> (Option<i32>, String) {
    (
        o.status.code(),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

const CM_DIR: &str = "/sys/kernel/config/rdma_cm/rxe0";
const CM_TOS: &str = "/sys/kernel/config/rdma_cm/rxe0/ports/1/default_roce_tos";
const CM_MODE: &str = "/sys/kernel/config/rdma_cm/rxe0/ports/1/default_roce_mode";

/// What `rdma_cm` holds for rxe0 port 1, read by the test itself: the directory is made for
/// the reading and removed again when it was not there (the kernel keeps the defaults
/// without it), so the reading leaves the node as it found it.
fn rdma_cm_defaults() -> (bool, String, String) {
    let existed = Path::new(CM_DIR).is_dir();
    if !existed {
        std::fs::create_dir(CM_DIR).expect("mkdir rdma_cm/rxe0");
    }
    let tos = std::fs::read_to_string(CM_TOS)
        .expect("tos")
        .trim()
        .to_string();
    let mode = std::fs::read_to_string(CM_MODE)
        .expect("mode")
        .trim()
        .to_string();
    if !existed {
        std::fs::remove_dir(CM_DIR).expect("rmdir rdma_cm/rxe0");
    }
    (existed, tos, mode)
}

/// A state directory whose `profiles.d` holds profile `name`: an `rdma` block `rdma` on
/// virtio0.
fn state_with_profile(name: &str, description: &str, rdma: &str) -> tempfile::TempDir {
    let state = tempfile::tempdir().expect("tempdir");
    let profiles = state.path().join("profiles.d");
    std::fs::create_dir_all(&profiles).expect("mkdir");
    std::fs::write(
        profiles.join(format!("{name}.yaml")),
        format!(
            "name: {name}\ndescription: {description}\ninterfaces:\n  - match: {{name: virtio0}}\n    rdma: {rdma}\n"
        ),
    )
    .expect("profile");
    state
}

#[test]
fn profile_rdma_tos_applies_checks_drifts_and_rolls_back() {
    in_lab();
    let _rxe = Rxe::add();
    configfs_with_rdma_cm();
    let state = state_with_profile("roce-tos", "RoCE traffic class", "{tos: 106}");
    let before = rdma_cm_defaults();
    assert_eq!(before, (false, "0".into(), "RoCE v2".into()));

    let (c, out) = code(&dpuctl(state.path(), &["tune", "roce-tos", "--dry-run"]));
    assert_eq!(c, Some(0), "{out}");
    assert!(out.contains("rxe0 rdma_cm directory"), "{out}");
    assert!(out.contains("default_roce_tos"), "{out}");
    let (c, out) = code(&dpuctl(state.path(), &["tune", "roce-tos", "--yes"]));
    assert_eq!(c, Some(0), "tune: {out}");
    assert!(Path::new(CM_DIR).is_dir(), "dpuctl made rdma_cm/rxe0");
    assert_eq!(std::fs::read_to_string(CM_TOS).expect("tos").trim(), "106");
    assert_eq!(show_rdma(&["rxe0"])[0]["ports"][0]["default_roce_tos"], 106);
    let (c, out) = code(&dpuctl(state.path(), &["check", "roce-tos"]));
    assert_eq!(c, Some(0), "check after tune: {out}");

    // Drift: another ToS written behind dpuctl's back.
    std::fs::write(CM_TOS, "32\n").expect("write tos");
    let (c, out) = code(&dpuctl(state.path(), &["check", "roce-tos"]));
    assert_eq!(c, Some(1), "check after drift: {out}");
    assert!(out.contains("default_roce_tos"), "{out}");
    std::fs::write(CM_TOS, "106\n").expect("write tos");

    let (c, out) = code(&dpuctl(state.path(), &["rollback"]));
    assert_eq!(c, Some(0), "rollback: {out}");
    assert!(!Path::new(CM_DIR).exists(), "rollback removes rdma_cm/rxe0");
    assert_eq!(rdma_cm_defaults(), before, "rollback restores rdma_cm");
    assert_eq!(
        show_rdma(&["rxe0"])[0]["ports"][0]["default_roce_tos"],
        serde_json::Value::Null
    );
}

#[test]
fn profile_rdma_failing_later_step_leaves_rdma_cm_as_before() {
    in_lab();
    let _rxe = Rxe::add();
    configfs_with_rdma_cm();
    // rxe speaks RoCE v2 only: rdma_cm refuses RoCE v1 (EINVAL) at apply time, a step after
    // dpuctl made the directory (steps of a device: the directory, then its port's
    // default_roce_mode, default_roce_tos).
    let state = state_with_profile(
        "roce-v1",
        "RoCE v1 on rxe",
        "{tos: 106, roce_mode: RoCE v1}",
    );
    let before = rdma_cm_defaults();
    assert_eq!(before, (false, "0".into(), "RoCE v2".into()));
    let (c, out) = code(&dpuctl(state.path(), &["tune", "roce-v1", "--yes"]));
    assert_eq!(c, Some(2), "tune: {out}");
    assert!(out.contains("default_roce_mode"), "{out}");
    assert!(
        !Path::new(CM_DIR).exists(),
        "the revert removes rdma_cm/rxe0"
    );
    assert_eq!(rdma_cm_defaults(), before, "a failed tune left changes");

    // With the directory there before (made by someone else, with a ToS of its own), the
    // revert keeps both.
    std::fs::create_dir(CM_DIR).expect("mkdir");
    std::fs::write(CM_TOS, "7\n").expect("write tos");
    let (c, out) = code(&dpuctl(state.path(), &["tune", "roce-v1", "--yes"]));
    assert_eq!(c, Some(2), "tune: {out}");
    assert_eq!(
        rdma_cm_defaults(),
        (true, "7".into(), "RoCE v2".into()),
        "a failed tune left changes"
    );
    std::fs::write(CM_TOS, "0\n").expect("write tos");
}
