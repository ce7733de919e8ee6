//! The only code that talks to the kernel: netlink, the ethtool family and ioctl, sysfs, procfs.
//!
//! Every reader takes a [`SysRoot`], so the whole tool can be pointed at a fixture tree.

pub mod bpf;
pub mod collect;
pub mod dcb;
pub mod dcb_write;
pub mod ethtool;
pub mod irq;
pub mod netlink;
pub mod nl;
pub mod pci;
pub mod procfs;
pub mod rdma;
pub mod rdma_counters;
pub mod rdma_nl;
pub mod root;
pub mod snmp;
pub mod sysctl;
pub mod sysfs;
pub mod tc;
pub mod topology;
pub mod write;

pub use root::SysRoot;
