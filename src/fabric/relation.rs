//! The `PCIe` relation of two devices in the classes of `nvidia-smi topo -m`, from their sysfs
//! device paths (`pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:00.0/0000:18:00.0`: host
//! bridge, then every bridge down to the function).
//!
//! A `PCIe` switch shows in sysfs as an upstream port with its downstream ports below it; it
//! counts as one bridge, as NCCL and nvidia-smi count it. Below a root port the bridges
//! alternate: upstream port (odd depth), downstream ports (even depth).

use serde::{Deserialize, Serialize};

use crate::model::knobs::is_pci_address;

/// How far apart two PCI devices are, nearest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PcieRel {
    /// Through at most one `PCIe` bridge (one switch).
    Pix,
    /// Through several bridges, not through the host bridge.
    Pxb,
    /// Through a host bridge (the CPU's root complex).
    Phb,
    /// Across host bridges of one NUMA node.
    Node,
    /// Across NUMA nodes (the CPUs' interconnect).
    Sys,
}

impl PcieRel {
    /// The name nvidia-smi prints.
    pub fn as_str(self) -> &'static str {
        match self {
            PcieRel::Pix => "PIX",
            PcieRel::Pxb => "PXB",
            PcieRel::Phb => "PHB",
            PcieRel::Node => "NODE",
            PcieRel::Sys => "SYS",
        }
    }

    /// What the class means, for legends.
    pub fn meaning(self) -> &'static str {
        match self {
            PcieRel::Pix => "through at most one PCIe bridge (one switch)",
            PcieRel::Pxb => "through several PCIe bridges, not the host bridge",
            PcieRel::Phb => "through a PCIe host bridge (the CPU)",
            PcieRel::Node => "across PCIe host bridges of one NUMA node",
            PcieRel::Sys => "across NUMA nodes (the CPUs' interconnect)",
        }
    }
}

impl std::fmt::Display for PcieRel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A device path split into its host bridge and the PCI functions below it; `None` when it
/// is not a PCI path.
fn split(path: &str) -> Option<(&str, Vec<&str>)> {
    let mut parts = path.split('/');
    let host = parts.next().filter(|h| h.starts_with("pci"))?;
    let below: Vec<&str> = parts.collect();
    if below.is_empty() || !below.iter().all(|p| is_pci_address(p)) {
        return None;
    }
    Some((host, below))
}

/// The switch a bridge at depth `i` (0 = root port) below the host bridge belongs to: the
/// path up to its upstream port (a root port is its own).
fn switch_key(parts: &[&str], i: usize) -> String {
    let up = if i == 0 { 0 } else { 2 * i.div_ceil(2) - 1 };
    parts[..=up].join("/")
}

/// The bridges traffic between `a` and `b` passes, as their paths (below `devices/`): for
/// devices under one host bridge, the deepest common bridge and those below it on each side;
/// across host bridges, every bridge of both paths.
pub fn bridges_between(a: &str, b: &str) -> Vec<String> {
    let (Some((ha, pa)), Some((hb, pb))) = (split(a), split(b)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |host: &str, parts: &[&str], from: usize| {
        for i in from..parts.len().saturating_sub(1) {
            let p = format!("{host}/{}", parts[..=i].join("/"));
            if !out.contains(&p) {
                out.push(p);
            }
        }
    };
    if ha == hb {
        let k = common(&pa, &pb);
        let from = k.saturating_sub(1);
        push(ha, &pa, from);
        push(hb, &pb, from);
    } else {
        push(ha, &pa, 0);
        push(hb, &pb, 0);
    }
    out
}

fn common(a: &[&str], b: &[&str]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The relation of two devices from their device paths and NUMA nodes.
///
/// Devices under different host bridges are `SYS` when both NUMA nodes are known and differ,
/// `NODE` otherwise (a platform that reports no node has one). `None` when either path is
/// not below a PCI host bridge, or both are the same device.
pub fn relation(a: &str, a_node: Option<i32>, b: &str, b_node: Option<i32>) -> Option<PcieRel> {
    let (ha, pa) = split(a)?;
    let (hb, pb) = split(b)?;
    if ha != hb {
        return Some(match (a_node, b_node) {
            (Some(x), Some(y)) if x != y => PcieRel::Sys,
            _ => PcieRel::Node,
        });
    }
    if pa == pb {
        return None;
    }
    let k = common(&pa, &pb);
    if k == 0 {
        return Some(PcieRel::Phb);
    }
    // The deepest common bridge, then the bridges below it on each side (the functions
    // themselves are not bridges).
    let mut switches: Vec<String> = Vec::new();
    let mut add = |parts: &[&str], i: usize| {
        let key = switch_key(parts, i);
        if !switches.contains(&key) {
            switches.push(key);
        }
    };
    if k < pa.len() && k < pb.len() {
        add(&pa, k - 1);
    }
    for i in k..pa.len().saturating_sub(1) {
        add(&pa, i);
    }
    for i in k..pb.len().saturating_sub(1) {
        add(&pb, i);
    }
    Some(if switches.len() <= 1 {
        PcieRel::Pix
    } else {
        PcieRel::Pxb
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Host bridge pci0000:15 (node 0): root port 15:01.0 -> switch (up 16:00.0, down
    // 17:00.0, 17:01.0, 17:02.0); below 17:00.0 a second switch (up 18:00.0, down 19:00.0,
    // 19:01.0). Root port 15:02.0 holds one device. 00:05.0 sits on the root bus itself.
    const SW_A: &str = "pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:01.0/0000:1a:00.0";
    const SW_B: &str = "pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:02.0/0000:1b:00.0";
    const NESTED: &str =
        "pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:00.0/0000:18:00.0/0000:19:00.0/0000:1c:00.0";
    const NESTED2: &str =
        "pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:00.0/0000:18:00.0/0000:19:01.0/0000:1d:00.0";
    const RP2: &str = "pci0000:15/0000:15:02.0/0000:20:00.0";
    const ROOT_BUS: &str = "pci0000:15/0000:15:05.0";
    const OTHER_HB: &str = "pci0000:35/0000:35:01.0/0000:36:00.0";
    const OTHER_NODE: &str = "pci0000:97/0000:97:01.0/0000:98:00.0";

    #[test]
    fn every_class() {
        // Two downstream ports of one switch: one bridge.
        assert_eq!(relation(SW_A, Some(0), SW_B, Some(0)), Some(PcieRel::Pix));
        // Two downstream ports of the nested switch.
        assert_eq!(
            relation(NESTED, Some(0), NESTED2, Some(0)),
            Some(PcieRel::Pix)
        );
        // Nested switch to the upper switch: two switches.
        assert_eq!(relation(NESTED, Some(0), SW_B, Some(0)), Some(PcieRel::Pxb));
        // Different root ports of one host bridge.
        assert_eq!(relation(SW_A, Some(0), RP2, Some(0)), Some(PcieRel::Phb));
        // Other host bridge, same node; unknown nodes count as one.
        assert_eq!(
            relation(SW_A, Some(0), OTHER_HB, Some(0)),
            Some(PcieRel::Node)
        );
        assert_eq!(
            relation(SW_A, None, OTHER_NODE, Some(1)),
            Some(PcieRel::Node)
        );
        // Other node.
        assert_eq!(
            relation(SW_A, Some(0), OTHER_NODE, Some(1)),
            Some(PcieRel::Sys)
        );
        // Symmetric.
        for (a, b) in [(SW_A, NESTED), (RP2, NESTED2), (ROOT_BUS, SW_B)] {
            assert_eq!(
                relation(a, Some(0), b, Some(0)),
                relation(b, Some(0), a, Some(0))
            );
        }
    }

    #[test]
    fn root_bus_devices_meet_at_the_host_bridge() {
        assert_eq!(
            relation(ROOT_BUS, Some(0), SW_A, Some(0)),
            Some(PcieRel::Phb)
        );
        assert_eq!(
            relation(ROOT_BUS, None, "pci0000:15/0000:15:06.0", None),
            Some(PcieRel::Phb)
        );
        // The same device, a virtual one, or a malformed path: no relation.
        assert_eq!(relation(SW_A, Some(0), SW_A, Some(0)), None);
        assert_eq!(relation("virtual/net/veth0", None, SW_A, Some(0)), None);
        assert_eq!(relation("pci0000:15/bogus", None, SW_A, Some(0)), None);
        // Multi-function: two functions of one device behind one root port.
        assert_eq!(
            relation(
                "pci0000:15/0000:15:02.0/0000:20:00.0",
                Some(0),
                "pci0000:15/0000:15:02.0/0000:20:00.1",
                Some(0)
            ),
            Some(PcieRel::Pix)
        );
    }

    #[test]
    fn bridges_on_the_route() {
        assert_eq!(
            bridges_between(SW_A, SW_B),
            vec![
                "pci0000:15/0000:15:01.0/0000:16:00.0",
                "pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:01.0",
                "pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:02.0",
            ]
        );
        assert_eq!(
            bridges_between(ROOT_BUS, RP2),
            vec!["pci0000:15/0000:15:02.0"]
        );
        assert_eq!(
            bridges_between(RP2, OTHER_HB),
            vec!["pci0000:15/0000:15:02.0", "pci0000:35/0000:35:01.0"]
        );
        assert!(bridges_between("virtual", SW_A).is_empty());
        assert!(PcieRel::Pix < PcieRel::Pxb && PcieRel::Node < PcieRel::Sys);
    }
}
