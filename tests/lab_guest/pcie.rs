//! `dpuctl topo` and `dpuctl snapshot` on the lab's PCI Express tree (tests/lab/README.md):
//! the relations between the NICs, their links and the root port's below its capability,
//! and ACS read from config space. Witnesses: the sysfs device paths and `numa_node` read
//! here, and `lspci -vv` (port types, `LnkCap`/`LnkSta`, `ACSCtl`); `setpci` turns ACS redirect on.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{in_lab, tool};

/// The PCI functions from the host bridge down to `iface`'s PCI function, as sysfs paths.
fn chain(iface: &str) -> Vec<PathBuf> {
    let dev = fs::canonicalize(format!("/sys/class/net/{iface}/device"))
        .unwrap_or_else(|e| panic!("{iface}: device: {e}"));
    let is_pci = |p: &Path| {
        fs::read_link(p.join("subsystem")).is_ok_and(|s| s.file_name().is_some_and(|n| n == "pci"))
    };
    let mut v: Vec<PathBuf> = dev
        .ancestors()
        .skip_while(|p| !is_pci(p))
        .take_while(|p| is_pci(p))
        .map(Path::to_path_buf)
        .collect();
    assert!(
        !v.is_empty(),
        "{iface}: no PCI function above {}",
        dev.display()
    );
    v.reverse();
    v
}

fn name(p: &Path) -> String {
    p.file_name()
        .unwrap_or_else(|| panic!("{}", p.display()))
        .to_string_lossy()
        .into_owned()
}

/// The host bridge (`pci0000:80`) above a chain.
fn host(chain: &[PathBuf]) -> String {
    name(chain[0].parent().expect("host bridge"))
}

fn numa_node(p: &Path) -> i64 {
    let s = fs::read_to_string(p.join("numa_node")).expect("numa_node");
    s.trim().parse().expect("numa_node")
}

/// `lspci -vv` of one function (root reads the extended capabilities).
fn lspci(addr: &str) -> String {
    let out = tool("lspci", &["-vv", "-s", addr]);
    assert!(!out.trim().is_empty(), "lspci knows no {addr}");
    out
}

/// The PCI Express port type lspci names: "Root Port", "Upstream Port", "Downstream Port",
/// "Endpoint".
fn port_type(lspci: &str) -> &'static str {
    let line = lspci
        .lines()
        .find(|l| l.contains("] Express ("))
        .unwrap_or_else(|| panic!("no Express capability:\n{lspci}"));
    ["Root Port", "Upstream Port", "Downstream Port", "Endpoint"]
        .into_iter()
        .find(|t| line.contains(t))
        .unwrap_or_else(|| panic!("port type of {line}"))
}

/// Speed in GT/s and width of lspci's `LnkCap:` or `LnkSta:` line
/// (`LnkSta: Speed 2.5GT/s, Width x1` after a tab).
fn link(lspci: &str, what: &str) -> (f64, u64) {
    let line = lspci
        .lines()
        .find_map(|l| l.trim().strip_prefix(what))
        .unwrap_or_else(|| panic!("no {what} in\n{lspci}"));
    let mut speed = None;
    let mut width = None;
    for part in line.split(',') {
        let part = part.trim();
        if let Some(s) = part.strip_prefix("Speed ") {
            speed = s.split("GT/s").next().and_then(|s| s.parse().ok());
        } else if let Some(w) = part.strip_prefix("Width x") {
            width = w.split_whitespace().next().and_then(|w| w.parse().ok());
        }
    }
    (
        speed.unwrap_or_else(|| panic!("speed in {line}")),
        width.unwrap_or_else(|| panic!("width in {line}")),
    )
}

/// dpuctl's link object: (current GT/s, current width), (max GT/s, max width). Speeds read
/// `8.0 GT/s PCIe` as sysfs words them.
fn dpuctl_link(v: &serde_json::Value) -> ((f64, u64), (f64, u64)) {
    let gts = |s: &serde_json::Value| -> f64 {
        let s = s.as_str().unwrap_or_else(|| panic!("speed {v}"));
        s.split(" GT/s")
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("speed {s:?}"))
    };
    let w = |s: &serde_json::Value| s.as_u64().unwrap_or_else(|| panic!("width {v}"));
    (
        (gts(&v["current_speed"]), w(&v["current_width"])),
        (gts(&v["max_speed"]), w(&v["max_width"])),
    )
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .output()
        .expect("run dpuctl");
    assert!(
        o.status.success(),
        "dpuctl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("json")
}

/// The relation nvidia-smi would print for two NICs, from the witnesses alone: different
/// host bridges are SYS across NUMA nodes (NODE within one); under one host bridge the lab
/// has only the two downstream ports of one switch (one bridge apart: PIX).
fn witnessed_relation(a: &[PathBuf], b: &[PathBuf]) -> &'static str {
    if host(a) != host(b) {
        let (na, nb) = (numa_node(&a[a.len() - 1]), numa_node(&b[b.len() - 1]));
        assert!(na >= 0 && nb >= 0, "unknown NUMA node");
        return if na == nb { "NODE" } else { "SYS" };
    }
    let (pa, pb) = (&a[a.len() - 2], &b[b.len() - 2]);
    let (ua, ub) = (&a[a.len() - 3], &b[b.len() - 3]);
    assert_eq!(ua, ub, "one switch above both");
    assert_eq!(port_type(&lspci(&name(ua))), "Upstream Port");
    for p in [pa, pb] {
        assert_eq!(
            port_type(&lspci(&name(p))),
            "Downstream Port",
            "{}",
            p.display()
        );
    }
    "PIX"
}

#[test]
fn topo_relates_the_nics_as_the_pcie_tree_places_them() {
    in_lab();
    let nics = ["virtio0", "igb0", "e1000e0"];
    let chains: Vec<Vec<PathBuf>> = nics.iter().map(|n| chain(n)).collect();
    let v = json(&["topo", "--format", "json"]);
    let listed = v["nics"].as_array().expect("nics");
    assert_eq!(listed.len(), 3, "{v:#}");
    let mut seen = Vec::new();
    for (i, iface) in nics.iter().enumerate() {
        let addr = name(chains[i].last().expect("function"));
        let n = listed
            .iter()
            .find(|n| n["netdevs"] == serde_json::json!([iface]))
            .unwrap_or_else(|| panic!("{iface} not in topo: {v:#}"));
        assert_eq!(n["name"], *iface);
        assert_eq!(n["address"], addr.as_str());
        assert_eq!(
            n["numa_node"],
            numa_node(chains[i].last().expect("function"))
        );
        // The NIC's own link: QEMU's endpoints link at 2.5 GT/s x1, their capability.
        let l = lspci(&addr);
        let (cur, max) = dpuctl_link(&n["link"]);
        assert_eq!(cur, link(&l, "LnkSta:"), "{iface}");
        assert_eq!(max, link(&l, "LnkCap:"), "{iface}");
        assert_eq!(cur, max, "{iface} is not degraded");
        // `show` reads the same link for the interface.
        assert_eq!(
            dpuctl_link(&crate::show(iface)["pcie"]),
            (cur, max),
            "{iface}: show"
        );
        // One pair per other NIC, each the relation the tree gives.
        let pairs = n["pairs"].as_array().expect("pairs");
        assert_eq!(pairs.len(), 2, "{n:#}");
        for (j, other) in nics.iter().enumerate().filter(|(j, _)| *j != i) {
            let p = pairs
                .iter()
                .find(|p| p["nic"] == *other)
                .unwrap_or_else(|| panic!("{iface} - {other}: {n:#}"));
            let want = witnessed_relation(&chains[i], &chains[j]);
            assert_eq!(p["relation"], want, "{iface} - {other}");
            assert_eq!(
                p["acs_redirect"],
                serde_json::json!([]),
                "{iface} - {other}"
            );
            seen.push(want);
        }
    }
    // The lab has both a switch pair and a cross-node pair.
    assert!(seen.contains(&"PIX") && seen.contains(&"SYS"), "{seen:?}");

    // The table's NIC rows.
    let table = tool(env!("CARGO_BIN_EXE_dpuctl"), &["topo"]);
    let row = |iface: &str| -> Vec<String> {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(iface) && l.contains(" X"))
            .unwrap_or_else(|| panic!("no {iface} row:\n{table}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let mut sorted = nics.to_vec();
    sorted.sort_unstable();
    let header: Vec<&str> = table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<&str>>())
        .find(|w| {
            let mut w = w.clone();
            w.sort_unstable();
            w == sorted
        })
        .unwrap_or_else(|| panic!("no matrix header:\n{table}"));
    let virtio = row("virtio0");
    let col = |nic: &str| 1 + header.iter().position(|h| *h == nic).expect("column");
    assert_eq!(virtio[col("virtio0")], "X", "{table}");
    assert_eq!(virtio[col("igb0")], "PIX", "{table}");
    assert_eq!(virtio[col("e1000e0")], "SYS", "{table}");
    assert_eq!(row("e1000e0")[col("igb0")], "SYS", "{table}");
}

#[test]
fn snapshot_reads_the_root_ports_link_below_its_capability() {
    in_lab();
    let snap = json(&["snapshot"]);
    let functions = snap["pci"]["functions"].as_array().expect("functions");
    let function = |addr: &str| {
        functions
            .iter()
            .find(|f| f["address"] == addr)
            .unwrap_or_else(|| panic!("{addr} not in the snapshot: {functions:#?}"))
    };
    // virtio0's root port (node 1) can do more than the x1 device behind its switch;
    // e1000e0's (node 0) can do exactly what its device does.
    for (iface, degraded) in [("virtio0", true), ("e1000e0", false)] {
        let rp = name(&chain(iface)[0]);
        let l = lspci(&rp);
        assert_eq!(port_type(&l), "Root Port", "{rp}");
        let f = function(&rp);
        assert_eq!(f["role"], "bridge");
        let (cur, max) = dpuctl_link(&f["link"]);
        assert_eq!(cur, link(&l, "LnkSta:"), "{rp}");
        assert_eq!(max, link(&l, "LnkCap:"), "{rp}");
        assert_eq!(cur != max, degraded, "{rp}: {cur:?} of {max:?}");
        if degraded {
            assert_eq!(
                (cur, max),
                ((2.5, 1), (8.0, 4)),
                "{rp}: lab.sh sets x-speed=8,x-width=4"
            );
        }
    }
}

/// An ACS control register value, put back when dropped (panics included).
struct AcsCtl {
    addr: String,
    saved: String,
}

/// setpci's name for the ACS control register: extended capability 0x000d, offset 6.
const ACS_CTRL: &str = "ECAP000d+6.w";

impl AcsCtl {
    fn set(addr: &str, value: u16) -> Self {
        let saved = tool("setpci", &["-s", addr, ACS_CTRL]).trim().to_string();
        let guard = AcsCtl {
            addr: addr.to_string(),
            saved,
        };
        tool("setpci", &["-s", addr, &format!("{ACS_CTRL}={value:04x}")]);
        guard
    }
}

impl Drop for AcsCtl {
    fn drop(&mut self) {
        let _ = Command::new("setpci")
            .args(["-s", &self.addr, &format!("{ACS_CTRL}={}", self.saved)])
            .status();
    }
}

/// lspci's `ACSCtl:` flags that are on (`ReqRedir+` -> `ReqRedir`).
fn acs_ctl_on(lspci: &str) -> Vec<String> {
    let line = lspci
        .lines()
        .find_map(|l| l.trim().strip_prefix("ACSCtl:"))
        .unwrap_or_else(|| panic!("no ACSCtl in\n{lspci}"));
    line.split_whitespace()
        .filter_map(|f| f.strip_suffix('+'))
        .map(str::to_string)
        .collect()
}

#[test]
fn acs_is_read_from_config_space_and_redirect_seen_when_set() {
    in_lab();
    let virtio = chain("virtio0");
    let (rp, switch) = (name(&virtio[0]), [name(&virtio[1]), name(&virtio[2])]);
    let acs = |addr: &str| -> serde_json::Value {
        let snap = json(&["snapshot"]);
        snap["pci"]["functions"]
            .as_array()
            .expect("functions")
            .iter()
            .find(|f| f["address"] == addr)
            .unwrap_or_else(|| panic!("{addr} not in the snapshot"))["acs"]
            .clone()
    };
    // The switch ports have no ACS capability (QEMU's xio3130 has none).
    for port in &switch {
        assert!(
            !lspci(port).contains("Access Control Services"),
            "{port} has ACS now: update this test and the README"
        );
        assert_eq!(acs(port)["capability"], false, "{port}");
    }
    // The root port has one, every control off (no IOMMU asked the kernel for them).
    let text = lspci(&rp);
    assert!(text.contains("Access Control Services"), "{text}");
    assert!(acs_ctl_on(&text).is_empty(), "{text}");
    let a = acs(&rp);
    assert_eq!(a["capability"], true, "{a}");
    assert_eq!(a["control"], 0, "{a}");
    assert_eq!(a["request_redirect"], false);

    // P2P Request Redirect and Completion Redirect on: the register, lspci and dpuctl agree.
    let guard = AcsCtl::set(&rp, 0x000c);
    let on = acs_ctl_on(&lspci(&rp));
    assert_eq!(on, ["ReqRedir", "CmpltRedir"], "{rp}");
    let a = acs(&rp);
    assert_eq!(a["control"], 0x0c, "{a}");
    assert_eq!(a["request_redirect"], true, "{a}");
    assert_eq!(a["completion_redirect"], true, "{a}");
    // Traffic between the two NICs of the switch turns in the switch: the root port's
    // redirect is not on their path.
    let v = json(&["topo", "--format", "json"]);
    let n = v["nics"]
        .as_array()
        .expect("nics")
        .iter()
        .find(|n| n["name"] == "virtio0")
        .unwrap_or_else(|| panic!("virtio0: {v:#}"))
        .clone();
    let p = n["pairs"]
        .as_array()
        .expect("pairs")
        .iter()
        .find(|p| p["nic"] == "igb0")
        .unwrap_or_else(|| panic!("{n:#}"))
        .clone();
    assert_eq!(p["relation"], "PIX");
    assert_eq!(p["acs_redirect"], serde_json::json!([]), "{p:#}");
    drop(guard);
    assert!(acs_ctl_on(&lspci(&rp)).is_empty(), "{rp}: ACS not restored");
    assert_eq!(acs(&rp)["control"], 0);
}
