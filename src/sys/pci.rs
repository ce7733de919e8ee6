//! The PCI functions of GPUs and NICs and the bridges above them, from sysfs
//! (Documentation/ABI/testing/sysfs-bus-pci), ACS from each bridge's config space
//! (`PCIe` base specification 7.7.8, `PCI_EXT_CAP_ID_ACS` in `include/uapi/linux/pci_regs.h`),
//! and the `GPUDirect` RDMA prerequisites from `/sys/module` and `/proc/driver/nvidia`.

use std::collections::BTreeMap;
use std::fs;

use crate::model::pci::{Acs, GpuDirect, PciFabric, PciFunction, PciRole};
use crate::model::rdma::RdmaDevice;
use crate::model::{Avail, CpuSet, Gpu, Interface};

use super::sysfs::{
    is_pci_address, link_basename, parse_numa_node, parse_pcie_link, pci_function, read_attr,
};
use super::SysRoot;

/// PCI class (base class and subclass) of a PCI-to-PCI bridge.
const CLASS_PCI_BRIDGE: u32 = 0x0604;
/// ACS extended capability id.
const EXT_CAP_ACS: u32 = 0x000d;
/// ACS control: P2P Request Redirect.
const ACS_RR: u16 = 0x0004;
/// ACS control: P2P Completion Redirect.
const ACS_CR: u16 = 0x0008;
/// Size of the config space the kernel gives readers without `CAP_SYS_ADMIN`
/// (`pci_read_config` in drivers/pci/pci-sysfs.c).
const UNPRIVILEGED_CONFIG: usize = 64;
/// Size of the conventional PCI config space; the extended space starts here.
const CONVENTIONAL_CONFIG: usize = 256;

/// One endpoint found before reading attributes.
#[derive(Default)]
struct Endpoint {
    path: String,
    gpu: bool,
    netdevs: Vec<String>,
    rdma: Vec<String>,
}

/// Reads the PCI side of the fabric: the GPUs' and NICs' functions (NICs: functions with a
/// netdev among `interfaces` or an RDMA device among `rdma`; a software RDMA device such as
/// rxe counts on the function of its netdev), every bridge above them, and the `GPUDirect`
/// RDMA prerequisites. Unreadable attributes become n/a or `None`; this never fails as a
/// whole.
pub fn read(
    root: &SysRoot,
    interfaces: &[Interface],
    gpus: &[Gpu],
    rdma: &[RdmaDevice],
) -> PciFabric {
    let mut ends: BTreeMap<String, Endpoint> = BTreeMap::new();
    for g in gpus {
        if let Some((path, addr)) = pci_function(&g.pci_path) {
            let e = ends.entry(addr.to_string()).or_default();
            e.path = path.to_string();
            e.gpu = true;
        }
    }
    for i in interfaces {
        let Some((path, addr)) = i.device_path.as_deref().and_then(pci_function) else {
            continue;
        };
        let e = ends.entry(addr.to_string()).or_default();
        e.path = path.to_string();
        e.netdevs.push(i.name.clone());
    }
    for dev in rdma {
        let own = dev.device_path.as_deref().and_then(pci_function);
        let via_netdev = || {
            dev.netdevs().into_iter().find_map(|n| {
                interfaces
                    .iter()
                    .find(|i| i.name == n)
                    .and_then(|i| i.device_path.as_deref())
                    .and_then(pci_function)
            })
        };
        if let Some((path, addr)) = own.or_else(via_netdev) {
            let e = ends.entry(addr.to_string()).or_default();
            e.path = path.to_string();
            e.rdma.push(dev.name.clone());
        }
    }

    let mut bridges: BTreeMap<String, String> = BTreeMap::new();
    for e in ends.values() {
        let parts: Vec<&str> = e.path.split('/').collect();
        for (i, p) in parts.iter().enumerate().take(parts.len().saturating_sub(1)) {
            if is_pci_address(p) && !ends.contains_key(*p) {
                bridges.insert((*p).to_string(), parts[..=i].join("/"));
            }
        }
    }

    let mut functions: Vec<PciFunction> = Vec::with_capacity(ends.len() + bridges.len());
    for (addr, e) in &ends {
        let role = if e.gpu { PciRole::Gpu } else { PciRole::Nic };
        let mut f = function(root, addr, &e.path, role);
        f.netdevs.clone_from(&e.netdevs);
        f.netdevs.sort();
        f.rdma.clone_from(&e.rdma);
        f.rdma.sort();
        f.speed_mbps = f
            .netdevs
            .iter()
            .filter_map(|n| read_attr(&root.sys(format!("class/net/{n}/speed"))).ok())
            .filter_map(|s| s.trim().parse::<i64>().ok())
            .filter_map(|v| u64::try_from(v).ok().filter(|v| *v > 0))
            .max();
        functions.push(f);
    }
    for (addr, path) in &bridges {
        functions.push(function(root, addr, path, PciRole::Bridge));
    }
    functions.sort_by(|a, b| a.address.cmp(&b.address));
    PciFabric {
        functions,
        gpudirect: gpudirect(root, !gpus.is_empty()),
    }
}

/// The attributes of one function at `path` (below `devices/`).
fn function(root: &SysRoot, addr: &str, path: &str, role: PciRole) -> PciFunction {
    let dir = root.sys("devices").join(path);
    let attr = |f: &str| read_attr(&dir.join(f)).ok();
    let class = attr("class").unwrap_or_default();
    let is_bridge =
        super::topology::parse_pci_class(&class).is_some_and(|c| c >> 8 == CLASS_PCI_BRIDGE);
    let link = match (
        attr("current_link_speed"),
        attr("max_link_speed"),
        attr("current_link_width"),
        attr("max_link_width"),
    ) {
        (Some(cs), Some(ms), Some(cw), Some(mw)) => parse_pcie_link(&cs, &ms, &cw, &mw).into(),
        _ => Avail::na("no PCIe link attributes (conventional PCI or virtual)"),
    };
    let acs = if role != PciRole::Bridge {
        Avail::na("not a bridge")
    } else if !is_bridge {
        Avail::na(format!("class {class} is not a PCI bridge"))
    } else {
        match fs::read(dir.join("config")) {
            Ok(bytes) => parse_acs(&bytes).into(),
            Err(e) => Avail::na(format!("config space unreadable: {e}")),
        }
    };
    PciFunction {
        address: addr.to_string(),
        path: path.to_string(),
        role,
        class,
        vendor: attr("vendor").unwrap_or_default().to_ascii_lowercase(),
        device: attr("device").unwrap_or_default().to_ascii_lowercase(),
        driver: link_basename(&dir.join("driver")),
        numa_node: attr("numa_node").and_then(|s| parse_numa_node(&s)),
        local_cpus: attr("local_cpulist").and_then(|s| CpuSet::parse_list(&s).ok()),
        link,
        acs,
        netdevs: Vec::new(),
        rdma: Vec::new(),
        speed_mbps: None,
    }
}

/// The ACS capability from a function's config space bytes, walking the extended
/// capability list from offset 0x100 (each header: id in bits 0-15, version 16-19, next
/// offset 20-31). A list without ACS gives `capability: false`; a config space too short to
/// hold the extended list gives the reason.
pub fn parse_acs(config: &[u8]) -> Result<Acs, String> {
    if config.len() <= UNPRIVILEGED_CONFIG {
        return Err(format!(
            "only {} bytes of config space readable (the extended space needs root: CAP_SYS_ADMIN)",
            config.len()
        ));
    }
    if config.len() <= CONVENTIONAL_CONFIG {
        return Err(
            "no PCIe extended config space (conventional PCI, or the platform gives no access)"
                .to_string(),
        );
    }
    let u32_at = |off: usize| -> Option<u32> {
        config
            .get(off..off + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut off = CONVENTIONAL_CONFIG;
    // Each capability takes at least 4 bytes: more steps than that is a loop.
    for _ in 0..(config.len() - CONVENTIONAL_CONFIG) / 4 {
        let Some(header) = u32_at(off) else { break };
        if header == 0 || header == u32::MAX {
            break;
        }
        if header & 0xffff == EXT_CAP_ACS {
            let ctrl = config
                .get(off + 6..off + 8)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .ok_or_else(|| "ACS capability cut off at the end of config space".to_string())?;
            return Ok(Acs {
                capability: true,
                control: ctrl,
                request_redirect: ctrl & ACS_RR != 0,
                completion_redirect: ctrl & ACS_CR != 0,
            });
        }
        let next = ((header >> 20) & 0xffc) as usize;
        if next < CONVENTIONAL_CONFIG {
            break;
        }
        off = next;
    }
    Ok(Acs::default())
}

/// `GPUDirect` RDMA: the peer-memory module, else dma-buf with the open NVIDIA kernel module.
fn gpudirect(root: &SysRoot, have_gpus: bool) -> GpuDirect {
    let peermem = ["nvidia_peermem", "nv_peer_mem"]
        .into_iter()
        .find(|m| root.sys(format!("module/{m}")).is_dir())
        .map(str::to_string);
    let version = read_attr(&root.proc("driver/nvidia/version")).ok();
    let (nvidia_driver, open_kernel_module) = match &version {
        Some(text) => {
            let (v, open) = parse_nvidia_version(text);
            (v, Some(open))
        }
        None => (None, None),
    };
    let nvidia_loaded = version.is_some() || root.sys("module/nvidia").is_dir();
    let (status, reason) = if !have_gpus {
        ("no", "no GPU on this node".to_string())
    } else if let Some(m) = &peermem {
        ("yes", format!("{m} loaded"))
    } else if !nvidia_loaded {
        (
            "no",
            "the nvidia driver is not loaded (no /sys/module/nvidia)".to_string(),
        )
    } else if open_kernel_module == Some(true) {
        (
            "dma-buf",
            "no peer-memory module; the open NVIDIA kernel module exports GPU memory as \
             dma-buf, which NCCL uses with CUDA 11.7+, Linux 5.12+ and an RDMA driver with \
             dma-buf support (mlx5)"
                .to_string(),
        )
    } else {
        (
            "no",
            "neither nvidia_peermem nor nv_peer_mem is loaded (modprobe nvidia_peermem), and \
             the NVIDIA driver is not the open kernel module that dma-buf needs"
                .to_string(),
        )
    };
    GpuDirect {
        peermem,
        nvidia_driver,
        open_kernel_module,
        status: status.to_string(),
        reason,
    }
}

/// The driver version and whether it is the open kernel module, from the first line of
/// `/proc/driver/nvidia/version` (`NVRM version: NVIDIA UNIX Open Kernel Module for x86_64
/// 550.54.15  Release Build ...`).
pub fn parse_nvidia_version(text: &str) -> (Option<String>, bool) {
    let line = text.lines().next().unwrap_or_default();
    let open = line.contains("Open Kernel Module");
    let version = line
        .split_whitespace()
        .find(|w| {
            w.contains('.')
                && w.split('.').count() >= 2
                && w.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_string);
    (version, open)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4096-byte config space with the given extended capabilities (id, body bytes),
    /// chained from 0x100.
    fn config(caps: &[(u16, &[u8])]) -> Vec<u8> {
        let mut c = vec![0u8; 4096];
        let mut off = 0x100;
        for (i, (id, body)) in caps.iter().enumerate() {
            let next = if i + 1 < caps.len() { off + 0x40 } else { 0 };
            let header = u32::from(*id) | (1 << 16) | ((next as u32) << 20);
            c[off..off + 4].copy_from_slice(&header.to_le_bytes());
            c[off + 4..off + 4 + body.len()].copy_from_slice(body);
            off = next;
        }
        c
    }

    #[test]
    fn acs_redirect_bits_after_other_capabilities() {
        // AER (1), then ACS with capability 0x005f and control RR|CR|SV = 0x000d.
        let c = config(&[(0x0001, &[0; 8]), (0x000d, &[0x5f, 0x00, 0x0d, 0x00])]);
        let a = parse_acs(&c).expect("acs");
        assert!(a.capability);
        assert_eq!(a.control, 0x000d);
        assert!(a.request_redirect && a.completion_redirect && a.redirects());
        // Only source validation: no redirect.
        let c = config(&[(0x000d, &[0x5f, 0x00, 0x01, 0x00])]);
        let a = parse_acs(&c).expect("acs");
        assert!(a.capability && !a.redirects());
        // Only completion redirect.
        let c = config(&[(0x000d, &[0x5f, 0x00, 0x08, 0x00])]);
        let a = parse_acs(&c).expect("acs");
        assert!(!a.request_redirect && a.completion_redirect);
    }

    #[test]
    fn acs_absent_short_or_looping_config() {
        let c = config(&[(0x0001, &[0; 8]), (0x0010, &[0; 4])]);
        assert_eq!(parse_acs(&c), Ok(Acs::default()));
        assert_eq!(parse_acs(&vec![0u8; 4096]), Ok(Acs::default()));
        assert_eq!(parse_acs(&vec![0xffu8; 4096]), Ok(Acs::default()));
        let e = parse_acs(&[0u8; 64]).expect_err("unprivileged");
        assert!(e.contains("CAP_SYS_ADMIN"), "{e}");
        let e = parse_acs(&[0u8; 256]).expect_err("conventional");
        assert!(e.contains("conventional PCI"), "{e}");
        // A capability whose next pointer points at itself ends without hanging.
        let mut c = vec![0u8; 4096];
        let h: u32 = 0x0001 | (0x100 << 20);
        c[0x100..0x104].copy_from_slice(&h.to_le_bytes());
        assert_eq!(parse_acs(&c), Ok(Acs::default()));
        // ACS header in the last four bytes: the control register is cut off.
        let mut c = vec![0u8; 260];
        c[0x100..0x104].copy_from_slice(&0x000d_u32.to_le_bytes());
        assert!(parse_acs(&c).is_err());
    }

    #[test]
    fn gpu_node_fixture_functions_bridges_and_gpudirect() {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gpu-node");
        let root = SysRoot::new(base.join("sys"), base.join("proc"));
        let state = crate::sys::collect::collect(&root, &[]).expect("collect");
        let f = &state.pci;
        let count = |r: PciRole| f.functions.iter().filter(|x| x.role == r).count();
        assert_eq!(count(PciRole::Gpu), 8);
        assert_eq!(count(PciRole::Nic), 5, "4 mlx5 and eno1");
        // Every bridge above a GPU or NIC: 7 root ports, 4 upstream and 10 downstream
        // switch ports.
        assert_eq!(count(PciRole::Bridge), 7 + 4 + 10, "{:#?}", f.functions);
        let mlx5_1 = f.function("0000:3c:00.0").expect("mlx5_1");
        assert_eq!(mlx5_1.netdevs, ["eth1"]);
        assert_eq!(mlx5_1.rdma, ["mlx5_1"]);
        assert_eq!(mlx5_1.speed_mbps, Some(400_000));
        assert_eq!(mlx5_1.numa_node, Some(0));
        let acs = f
            .function("0000:37:00.0")
            .expect("bridge")
            .acs
            .get()
            .copied();
        assert_eq!(acs.map(|a| a.control), Some(0x0d));
        assert!(f
            .function("0000:37:01.0")
            .is_some_and(|b| !b.acs_redirect()));
        let rp = f.function("0000:00:1c.0").expect("eno1's root port");
        assert!(rp
            .acs
            .reason()
            .is_some_and(|r| r.contains("conventional PCI")));
        assert!(f
            .function("0000:18:00.0")
            .is_some_and(|g| g.acs.reason() == Some("not a bridge")));
        assert_eq!(f.gpudirect.status, "yes");
        assert_eq!(f.gpudirect.peermem.as_deref(), Some("nvidia_peermem"));
        assert_eq!(f.gpudirect.nvidia_driver.as_deref(), Some("550.90.07"));
        assert_eq!(f.gpudirect.open_kernel_module, Some(false));
    }

    /// The fabric read `topo` and `nccl` use (no ethtool, IRQs, queues or sysctls; for
    /// `topo` GID tables only as far as each port's netdev) gives the same PCI fabric and
    /// the same report as the full read, on the GPU node.
    #[test]
    fn the_fabric_read_gives_the_full_reads_report() {
        use crate::fabric::topo::report;
        use crate::sys::rdma::RdmaReads;
        for name in ["gpu-node"] {
            let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name);
            let root = SysRoot::new(base.join("sys"), base.join("proc"));
            let full = crate::sys::collect::collect(&root, &[]).expect("collect");
            assert!(!full.pci.functions.is_empty(), "{name}");
            for reads in [RdmaReads::All, RdmaReads::Fabric] {
                let light = crate::sys::collect::collect_fabric(&root, reads).expect("fabric");
                assert_eq!(light.pci, full.pci, "{name} {reads:?}");
                assert_eq!(report(&light), report(&full), "{name} {reads:?}");
                let names = |s: &crate::model::NodeState| {
                    s.interfaces
                        .iter()
                        .map(|i| (i.name.clone(), i.device_path.clone()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(names(&light), names(&full), "{name}");
                assert!(
                    light.sysctls.is_empty() && light.interfaces.iter().all(|i| i.irqs.is_empty())
                );
            }
            let all = crate::sys::collect::collect_fabric(&root, RdmaReads::All).expect("fabric");
            assert_eq!(
                all.rdma, full.rdma,
                "{name}: all GIDs read as by the full read"
            );
        }
    }

    #[test]
    fn nvidia_version_lines() {
        let (v, open) = parse_nvidia_version(
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.15  Release Build  (dvs-builder@U16-I3-B03-4-3)  Tue Mar  5 22:15:33 UTC 2024\nGCC version:  gcc version 12.3.0",
        );
        assert_eq!(v.as_deref(), Some("550.54.15"));
        assert!(open);
        let (v, open) = parse_nvidia_version(
            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023",
        );
        assert_eq!(v.as_deref(), Some("535.104.05"));
        assert!(!open);
        assert_eq!(parse_nvidia_version(""), (None, false));
    }
}
