//! CPU, NUMA and GPU layout from sysfs.
//!
//! CPUs: Documentation/ABI/stable/sysfs-devices-system-cpu and
//! Documentation/admin-guide/cputopology.rst; NUMA nodes: Documentation/ABI/stable/
//! sysfs-devices-node; GPUs: PCI class codes from the PCI Code and ID Assignment
//! specification (base class 03h, display controller).

use std::fs;
use std::io;

use crate::model::{Cpu, CpuSet, Gpu, NumaNode, Topology};

use super::sysfs::{
    devices_relative, is_pci_address, link_basename, parse_numa_node, read_attr, read_num_opt,
    with_path,
};
use super::SysRoot;

/// PCI class (base class and subclass, `class >> 8`) of a VGA-compatible controller.
pub const CLASS_VGA: u32 = 0x0300;
/// PCI class of a 3D controller (data-centre GPUs without display outputs).
pub const CLASS_3D: u32 = 0x0302;
/// PCI class "other display controller" (AMD Instinct accelerators report this one).
pub const CLASS_DISPLAY_OTHER: u32 = 0x0380;

/// Display adapters that are not GPUs: the BMC's VGA on servers and the emulated adapters of
/// virtual machines. Vendor id, and device id when only some of the vendor's devices are.
const NOT_GPUS: &[(&str, Option<&str>)] = &[
    ("0x1a03", None),           // ASPEED (AST2400/2500/2600 BMC VGA)
    ("0x102b", None),           // Matrox (G200e family BMC VGA)
    ("0x19e5", Some("0x1711")), // Huawei iBMC Hi171x VGA
    ("0x1234", None),           // QEMU/Bochs standard VGA
    ("0x1013", None),           // Cirrus Logic (QEMU cirrus-vga)
    ("0x1b36", None),           // Red Hat QXL
    ("0x1af4", None),           // virtio-gpu
    ("0x15ad", None),           // VMware SVGA
    ("0x1414", None),           // Microsoft Hyper-V synthetic video
];

/// True when a PCI device with this class, vendor and device id counts as a GPU.
pub fn is_gpu(class: u32, vendor: &str, device: &str) -> bool {
    let sub = class >> 8;
    if sub != CLASS_VGA && sub != CLASS_3D && sub != CLASS_DISPLAY_OTHER {
        return false;
    }
    !NOT_GPUS.iter().any(|(v, d)| {
        v.eq_ignore_ascii_case(vendor) && d.is_none_or(|d| d.eq_ignore_ascii_case(device))
    })
}

/// A PCI class attribute (`0x030200`).
pub fn parse_pci_class(text: &str) -> Option<u32> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    u32::from_str_radix(t, 16).ok()
}

/// Reads the CPU, NUMA and GPU layout.
///
/// `devices/system/cpu/online` must exist; without `devices/system/node/` (kernels without
/// `CONFIG_NUMA`) all online CPUs form node 0. CPUs whose topology files are missing count as
/// their own core on package 0.
pub fn read(root: &SysRoot) -> io::Result<Topology> {
    let online_path = root.sys("devices/system/cpu/online");
    let online_text = read_attr(&online_path).map_err(with_path(&online_path))?;
    let online_cpus = CpuSet::parse_list(&online_text)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;

    let mut numa_nodes: Vec<NumaNode> = Vec::new();
    if let Ok(rd) = fs::read_dir(root.sys("devices/system/node")) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(id) = name
                .strip_prefix("node")
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let cpus = read_attr(&e.path().join("cpulist"))
                .ok()
                .and_then(|s| CpuSet::parse_list(&s).ok())
                .unwrap_or_default();
            numa_nodes.push(NumaNode { id, cpus });
        }
    }
    numa_nodes.sort_by_key(|n| n.id);
    if numa_nodes.is_empty() {
        numa_nodes.push(NumaNode {
            id: 0,
            cpus: online_cpus.clone(),
        });
    }

    let cpus = online_cpus
        .iter()
        .map(|id| {
            let t = root.sys(format!("devices/system/cpu/cpu{id}/topology"));
            Cpu {
                id,
                package: read_num_opt(&t.join("physical_package_id")).unwrap_or(0),
                core: read_num_opt(&t.join("core_id")).unwrap_or(id),
                siblings: read_attr(&t.join("thread_siblings_list"))
                    .ok()
                    .and_then(|s| CpuSet::parse_list(&s).ok())
                    .unwrap_or_else(|| CpuSet::from_cpus([id])),
            }
        })
        .collect();

    Ok(Topology {
        online_cpus,
        numa_nodes,
        cpus,
        gpus: gpus(root),
    })
}

/// GPUs among `bus/pci/devices/*`, sorted by PCI address.
pub fn gpus(root: &SysRoot) -> Vec<Gpu> {
    let Ok(rd) = fs::read_dir(root.sys("bus/pci/devices")) else {
        return Vec::new();
    };
    let mut out: Vec<Gpu> = rd
        .flatten()
        .filter_map(|e| {
            let addr = e.file_name().to_string_lossy().into_owned();
            if !is_pci_address(&addr) {
                return None;
            }
            let dir = e.path();
            let attr = |f: &str| read_attr(&dir.join(f)).ok();
            let class = parse_pci_class(&attr("class")?)?;
            // Most functions are no display controller: their ids need not be read.
            if !is_gpu(class, "", "") {
                return None;
            }
            let vendor = attr("vendor")?.to_ascii_lowercase();
            let device = attr("device").unwrap_or_default().to_ascii_lowercase();
            if !is_gpu(class, &vendor, &device) {
                return None;
            }
            Some(Gpu {
                pci_path: devices_relative(root, &dir).unwrap_or_else(|| addr.clone()),
                pci_address: addr,
                vendor,
                device,
                driver: link_basename(&dir.join("driver")),
                numa_node: attr("numa_node").and_then(|s| parse_numa_node(&s)),
            })
        })
        .collect();
    out.sort_by(|a, b| a.pci_address.cmp(&b.pci_address));
    out
}

pub use crate::model::knobs::nearest_gpu;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn fixture() -> SysRoot {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two-socket");
        SysRoot::new(base.join("sys"), base.join("proc"))
    }

    fn gpu(addr: &str, path: &str, node: Option<i32>) -> Gpu {
        Gpu {
            pci_address: addr.into(),
            vendor: "0x10de".into(),
            device: "0x2330".into(),
            driver: Some("nvidia".into()),
            numa_node: node,
            pci_path: path.into(),
        }
    }

    #[test]
    fn gpu_classes() {
        assert!(is_gpu(0x03_02_00, "0x10de", "0x2330"));
        assert!(is_gpu(0x03_00_00, "0x10de", "0x1eb8"));
        assert!(is_gpu(0x03_80_00, "0x1002", "0x74a1"));
        assert!(!is_gpu(0x03_00_00, "0x1a03", "0x2000"));
        assert!(!is_gpu(0x03_00_00, "0x102b", "0x0536"));
        assert!(!is_gpu(0x03_00_00, "0x19e5", "0x1711"));
        assert!(is_gpu(0x03_02_00, "0x19e5", "0xd801"));
        assert!(!is_gpu(0x02_00_00, "0x15b3", "0x101d"));
        assert!(!is_gpu(0x12_00_00, "0x10de", "0x2330"));
        assert_eq!(parse_pci_class("0x030200\n"), Some(0x03_02_00));
        assert_eq!(parse_pci_class("bogus"), None);
    }

    #[test]
    fn nearest_gpu_prefers_the_same_switch() {
        let topo = Topology {
            gpus: vec![
                gpu(
                    "0000:1b:00.0",
                    "pci0000:16/0000:16:01.0/0000:17:00.0/0000:18:00.0/0000:1b:00.0",
                    Some(0),
                ),
                gpu(
                    "0000:1c:00.0",
                    "pci0000:16/0000:16:01.0/0000:17:00.0/0000:18:04.0/0000:1c:00.0",
                    Some(0),
                ),
                gpu(
                    "0000:c1:00.0",
                    "pci0000:c0/0000:c0:01.0/0000:c1:00.0",
                    Some(1),
                ),
            ],
            ..Topology::default()
        };
        // NIC behind the same switch port as the second GPU.
        let nic = "pci0000:16/0000:16:01.0/0000:17:00.0/0000:18:04.0/0000:1d:00.0";
        assert_eq!(
            nearest_gpu(&topo, Some(nic), Some(0)).map(|g| g.pci_address.as_str()),
            Some("0000:1c:00.0")
        );
        // Same root complex only: the first such GPU.
        let nic = "pci0000:16/0000:16:02.0/0000:20:00.0";
        assert_eq!(
            nearest_gpu(&topo, Some(nic), Some(1)).map(|g| g.pci_address.as_str()),
            Some("0000:1b:00.0")
        );
        // Another host bridge: by NUMA node.
        let nic = "pci0000:80/0000:80:01.0/0000:81:00.0";
        assert_eq!(
            nearest_gpu(&topo, Some(nic), Some(1)).map(|g| g.pci_address.as_str()),
            Some("0000:c1:00.0")
        );
        assert_eq!(
            nearest_gpu(&topo, None, Some(0)).map(|g| g.pci_address.as_str()),
            Some("0000:1b:00.0")
        );
        assert!(nearest_gpu(&topo, Some(nic), None).is_none());
        assert!(nearest_gpu(&topo, Some(nic), Some(3)).is_none());
        assert!(nearest_gpu(&Topology::default(), Some(nic), Some(0)).is_none());
    }

    #[test]
    fn fixture_topology() {
        let t = read(&fixture()).expect("topology");
        assert_eq!(t.online_cpus.to_list(), "0-15");
        assert_eq!(t.numa_nodes.len(), 2);
        assert_eq!(t.numa_nodes[0].id, 0);
        assert_eq!(t.numa_nodes[0].cpus.to_list(), "0-3,8-11");
        assert_eq!(t.numa_nodes[1].cpus.to_list(), "4-7,12-15");
        assert_eq!(t.node_of_cpu(13), Some(1));
        assert_eq!(t.cpus.len(), 16);
        assert_eq!(t.cpus[5].package, 1);
        assert_eq!(t.cpus[5].core, 1);
        assert_eq!(t.cpus[5].siblings.to_list(), "5,13");
        assert_eq!(t.cpus[13].package, 1);
        assert_eq!(t.cpus[13].core, 1);
        assert_eq!(t.cpus[8].package, 0);
        assert_eq!(t.cpus[8].siblings.to_list(), "0,8");

        assert_eq!(t.gpus.len(), 1, "the ASPEED VGA is not a GPU: {:?}", t.gpus);
        let g = &t.gpus[0];
        assert_eq!(g.pci_address, "0000:c1:00.0");
        assert_eq!(g.vendor, "0x10de");
        assert_eq!(g.device, "0x2330");
        assert_eq!(g.driver.as_deref(), Some("nvidia"));
        assert_eq!(g.numa_node, Some(1));
        assert_eq!(g.pci_path, "pci0000:c0/0000:c0:01.0/0000:c1:00.0");

        // eth2 sits behind another host bridge on the same node.
        let near = nearest_gpu(&t, Some("pci0000:80/0000:80:01.0/0000:81:00.0"), Some(1));
        assert_eq!(near.map(|g| g.pci_address.as_str()), Some("0000:c1:00.0"));
        assert!(nearest_gpu(&t, Some("pci0000:00/0000:00:1c.0/0000:02:00.0"), Some(0)).is_none());
    }

    #[test]
    fn without_numa_directory_all_cpus_are_node_0() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let cpu = tmp.path().join("devices/system/cpu");
        fs::create_dir_all(&cpu).expect("mkdir");
        fs::write(cpu.join("online"), "0-3\n").expect("write");
        let t = read(&SysRoot::new(tmp.path(), tmp.path())).expect("topology");
        assert_eq!(t.numa_nodes.len(), 1);
        assert_eq!(t.numa_nodes[0].id, 0);
        assert_eq!(t.numa_nodes[0].cpus.to_list(), "0-3");
        assert_eq!(t.cpus[2].core, 2);
        assert_eq!(t.cpus[2].siblings.to_list(), "2");
        assert!(t.gpus.is_empty());
        assert!(read(&SysRoot::new(tmp.path().join("none"), tmp.path())).is_err());
    }

    #[test]
    fn live_topology_reads() {
        if let Ok(t) = read(&SysRoot::live()) {
            assert!(!t.online_cpus.is_empty());
            assert_eq!(t.cpus.len(), t.online_cpus.len());
            assert!(!t.numa_nodes.is_empty());
        }
    }
}
