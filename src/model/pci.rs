//! The PCI side of the GPU fabric: the functions of GPUs and NICs, the bridges above them,
//! their PCI Express links, ACS redirect, and whether `GPUDirect` RDMA can work.
//!
//! Plain data; `sys::pci` fills it, `fabric` computes relations over it.

use serde::{Deserialize, Serialize};

use super::{Avail, CpuSet, PcieLink};

/// GPUs, NIC functions and the bridges on their paths to the host bridge.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PciFabric {
    /// GPU functions, NIC functions (those with a netdev or an RDMA device) and every bridge
    /// above them, sorted by PCI address.
    pub functions: Vec<PciFunction>,
    /// Whether `GPUDirect` RDMA can work on this node.
    pub gpudirect: GpuDirect,
}

impl PciFabric {
    /// What a snapshot without PCI data loads as: no functions, and `GPUDirect` "n/a" with
    /// the reason (not an empty status, not a "no" the node never said).
    pub fn not_recorded() -> Self {
        PciFabric {
            functions: Vec::new(),
            gpudirect: GpuDirect {
                status: "n/a".into(),
                reason: "the snapshot has no PCI data (recorded by an older dpuctl)".into(),
                ..GpuDirect::default()
            },
        }
    }

    /// The function at this PCI address.
    pub fn function(&self, address: &str) -> Option<&PciFunction> {
        self.functions.iter().find(|f| f.address == address)
    }
}

/// What a PCI function is, for the fabric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PciRole {
    /// A GPU (PCI display or 3D controller).
    Gpu,
    /// A network function: it has a netdev or an RDMA device.
    Nic,
    /// A PCI-to-PCI bridge (root port, switch port).
    Bridge,
}

/// One PCI function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PciFunction {
    /// PCI address, e.g. `0000:1a:00.0`.
    pub address: String,
    /// The sysfs device path below `devices/`: host bridge first, then every bridge.
    pub path: String,
    /// What it is.
    pub role: PciRole,
    /// PCI class code, e.g. `0x030200`.
    pub class: String,
    /// Vendor id, e.g. `0x10de`.
    pub vendor: String,
    /// Device id.
    pub device: String,
    /// Bound driver.
    pub driver: Option<String>,
    /// NUMA node; `None` when the platform reports none (-1).
    pub numa_node: Option<i32>,
    /// CPUs local to the function (`local_cpulist`).
    pub local_cpus: Option<CpuSet>,
    /// PCI Express link: current vs maximum speed and width.
    pub link: Avail<PcieLink>,
    /// ACS control of a bridge (peer-to-peer redirect); n/a for endpoints and where the
    /// config space cannot be read, with the reason.
    pub acs: Avail<Acs>,
    /// Netdevs on this function.
    #[serde(default)]
    pub netdevs: Vec<String>,
    /// RDMA devices on this function.
    #[serde(default)]
    pub rdma: Vec<String>,
    /// Link speed of the netdev in Mb/s (sysfs `speed`), where known.
    #[serde(default)]
    pub speed_mbps: Option<u64>,
}

impl PciFunction {
    /// True when this bridge redirects peer-to-peer requests or completions upstream.
    pub fn acs_redirect(&self) -> bool {
        self.acs.get().is_some_and(Acs::redirects)
    }
}

/// The ACS extended capability (`PCIe` base spec 7.7.8; `PCI_EXT_CAP_ID_ACS` = 0x000D).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acs {
    /// The function has the ACS capability at all.
    pub capability: bool,
    /// ACS control register (offset 6 of the capability).
    pub control: u16,
    /// P2P Request Redirect enabled (`PCI_ACS_RR`, bit 2).
    pub request_redirect: bool,
    /// P2P Completion Redirect enabled (`PCI_ACS_CR`, bit 3).
    pub completion_redirect: bool,
}

impl Acs {
    /// True when peer-to-peer traffic through this port is sent up to the root complex.
    pub fn redirects(&self) -> bool {
        self.request_redirect || self.completion_redirect
    }
}

/// `GPUDirect` RDMA: can the NIC read and write GPU memory directly?
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuDirect {
    /// The peer-memory module loaded (`nvidia_peermem`, or the legacy `nv_peer_mem`).
    pub peermem: Option<String>,
    /// NVIDIA kernel driver version (`/proc/driver/nvidia/version`), where loaded.
    pub nvidia_driver: Option<String>,
    /// True when the NVIDIA driver is the open kernel module (required for dma-buf).
    pub open_kernel_module: Option<bool>,
    /// `yes`, `dma-buf`, `no`, or `n/a` (not recorded in a snapshot).
    pub status: String,
    /// Why.
    pub reason: String,
}
