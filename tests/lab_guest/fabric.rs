//! `dpuctl topo` and `dpuctl nccl --check` on a soft-RoCE device (`rdma_rxe`) on virtio0.
//! Witnesses: the `rdma` tool and the GID table read straight from sysfs.

use std::fs;
use std::process::{Command, Output};

use crate::{in_lab, tool};

/// A soft-RoCE device on virtio0, deleted when dropped (panics included).
struct Rxe;

impl Rxe {
    fn add() -> Self {
        // A device left by an earlier, killed run would make `rdma link add` fail.
        let _ = Command::new("rdma")
            .args(["link", "delete", "rxe0"])
            .output();
        tool("modprobe", &["rdma_rxe"]);
        tool(
            "rdma",
            &["link", "add", "rxe0", "type", "rxe", "netdev", "virtio0"],
        );
        Rxe
    }
}

impl Drop for Rxe {
    fn drop(&mut self) {
        let _ = Command::new("rdma")
            .args(["link", "delete", "rxe0"])
            .output();
    }
}

fn dpuctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env_remove("NCCL_IB_GID_INDEX")
        .env_remove("NCCL_IB_HCA")
        .output()
        .expect("run dpuctl")
}

/// The (index, type, is IPv4-mapped) of each non-empty GID of rxe0 port 1, from sysfs.
fn gids() -> Vec<(u32, String, bool)> {
    let port = "/sys/class/infiniband/rxe0/ports/1";
    let mut out = Vec::new();
    for i in 0..32u32 {
        let Ok(gid) = fs::read_to_string(format!("{port}/gids/{i}")) else {
            break;
        };
        // Empty slots read all zeros and their type fails with EINVAL.
        let Ok(kind) = fs::read_to_string(format!("{port}/gid_attrs/types/{i}")) else {
            continue;
        };
        let gid = gid.trim();
        out.push((
            i,
            kind.trim().to_string(),
            gid.starts_with("0000:0000:0000:0000:0000:ffff:"),
        ));
    }
    out
}

#[test]
fn topo_lists_rxe_and_nccl_check_catches_a_wrong_gid_index() {
    in_lab();
    let _rxe = Rxe::add();
    let links = tool("rdma", &["link", "show"]);
    assert!(
        links.contains("rxe0/1") && links.contains("virtio0"),
        "{links}"
    );
    let table = gids();
    let v4 = table
        .iter()
        .find(|(_, kind, v4)| kind == "RoCE v2" && *v4)
        .unwrap_or_else(|| panic!("no RoCE v2 IPv4 GID on rxe0: {table:?}"))
        .0;
    let wrong = table
        .iter()
        .find(|(i, _, _)| *i != v4)
        .unwrap_or_else(|| panic!("rxe0 has only one GID: {table:?}"))
        .0;
    let empty = (0..32u32)
        .find(|i| table.iter().all(|(j, _, _)| j != i))
        .expect("an empty slot");

    // topo: rxe0 sits on virtio0's PCI function.
    let o = dpuctl(&["topo", "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let nic = v["nics"]
        .as_array()
        .expect("nics")
        .iter()
        .find(|n| {
            n["rdma"]
                .as_array()
                .is_some_and(|r| r.contains(&"rxe0".into()))
        })
        .unwrap_or_else(|| panic!("rxe0 not in topo: {v:#}"));
    assert_eq!(nic["name"], "rxe0");
    assert_eq!(nic["netdevs"], serde_json::json!(["virtio0"]));
    // virtio0's netdev device is the virtio device; its parent is the PCI function.
    let function = fs::canonicalize("/sys/class/net/virtio0/device").expect("virtio0 device");
    let address = function
        .parent()
        .and_then(|p| p.file_name())
        .expect("virtio0's PCI function")
        .to_string_lossy()
        .into_owned();
    assert_eq!(nic["address"], address.as_str());
    assert_eq!(nic["numa_node"], 1);
    // The bridges above virtio0 are PCI Express ports: ACS is read from their extended
    // config space, never n/a (tests/lab_guest/pcie.rs checks its bits against lspci).
    let o = dpuctl(&["snapshot"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let snap: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let functions = snap["pci"]["functions"].as_array().expect("functions");
    let virtio = functions
        .iter()
        .find(|f| f["address"] == address.as_str())
        .unwrap_or_else(|| panic!("virtio0's function: {functions:#?}"));
    let path = virtio["path"].as_str().expect("path");
    let bridges: Vec<&serde_json::Value> = functions
        .iter()
        .filter(|f| f["role"] == "bridge" && path.starts_with(f["path"].as_str().expect("path")))
        .collect();
    assert_eq!(bridges.len(), 3, "root port and switch: {functions:#?}");
    for b in bridges {
        let addr = b["address"].as_str().expect("address");
        let size = fs::read(format!("/sys/bus/pci/devices/{addr}/config"))
            .expect("config")
            .len();
        assert_eq!(size, 4096, "{addr}");
        assert!(b["acs"]["capability"].is_boolean(), "{b:#}");
    }
    assert_eq!(snap["pci"]["gpudirect"]["status"], "no");
    let o = dpuctl(&["topo"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains(" rxe0 "));

    // nccl --check: the right index passes, another GID and an empty slot are named.
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("nccl.conf");
    let check = |text: String| {
        fs::write(&conf, text).expect("write");
        dpuctl(&["nccl", "--check", conf.to_str().expect("path")])
    };
    let o = check(format!("NCCL_IB_HCA==rxe0:1\nNCCL_IB_GID_INDEX={v4}\n"));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let o = check(format!("NCCL_IB_HCA==rxe0:1\nNCCL_IB_GID_INDEX={wrong}\n"));
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains(&format!(
            "WRONG NCCL_IB_GID_INDEX={wrong} ({}:2): index {wrong} is a RoCE v2 IPv6 GID on rxe0:1 (RoCE v2 IPv4: {v4})",
            conf.display()
        )),
        "{out}"
    );
    let o = check(format!("NCCL_IB_GID_INDEX={empty}\n"));
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains(&format!("index {empty} is an empty slot on rxe0:1")),
        "{out}"
    );
    let o = check("NCCL_IB_HCA==rxe9\n".into());
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no RDMA device \"rxe9\""));
}
