//! RDMA devices (InfiniBand and RoCE) as the kernel's RDMA core shows them: plain data.
//!
//! Filled by `sys::rdma` from `/sys/class/infiniband` (`Documentation/ABI/stable/sysfs-class-infiniband`),
//! the RDMA netlink family (`include/uapi/rdma/rdma_netlink.h`) and the `rdma_cm` configfs
//! defaults (`Documentation/ABI/testing/configfs-rdma_cm`).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// One RDMA device (`/sys/class/infiniband/<name>`), e.g. `mlx5_0` or `rxe0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdmaDevice {
    /// Device name, e.g. `mlx5_0`.
    pub name: String,
    /// Node type as the kernel names it (`node_type` "1: CA" gives `CA`; also `RNIC`, `switch`).
    pub node_type: String,
    /// Firmware version (`fw_ver`); `None` when the driver does not report one.
    #[serde(default)]
    pub fw_ver: Option<String>,
    /// Node GUID (`node_guid`), e.g. `b8ce:f603:00a1:b2c4`.
    #[serde(default)]
    pub node_guid: Option<String>,
    /// System image GUID (`sys_image_guid`).
    #[serde(default)]
    pub sys_image_guid: Option<String>,
    /// HCA type / board id (`hca_type`, `board_id`), when present.
    #[serde(default)]
    pub hca_type: Option<String>,
    /// Kernel driver of the device (basename of `device/driver`, e.g. `mlx5_core`), or the
    /// RDMA driver name from netlink (`rxe`).
    #[serde(default)]
    pub driver: Option<String>,
    /// PCI function the device sits on, e.g. `0000:81:00.0` (found by walking up from
    /// `device` to the PCI function, like netdevs); `None` for software devices (rxe).
    #[serde(default)]
    pub pci_address: Option<String>,
    /// The device's `device` directory relative to sysfs `devices/` (for the PCI Express relations).
    #[serde(default)]
    pub device_path: Option<String>,
    /// Ports, by port number.
    pub ports: Vec<RdmaPort>,
    /// The `rdma_cm` configfs directory of the device: `None` when there is no `rdma_cm`
    /// in configfs (configfs not mounted on `/sys/kernel/config`, or `rdma_cm` not loaded),
    /// `Some(false)` when `rdma_cm/<name>` does not exist (yet: it is made by `mkdir`),
    /// `Some(true)` when it does.
    #[serde(default)]
    pub rdma_cm_dir: Option<bool>,
}

/// The `rdma_cm` configfs file of the default RoCE mode.
pub const ROCE_MODE: &str = "default_roce_mode";
/// The `rdma_cm` configfs file of the default type of service.
pub const ROCE_TOS: &str = "default_roce_tos";

/// A RoCE mode in the spelling `rdma_cm` reads and writes (`IB/RoCE v1`, `RoCE v2`), from
/// that spelling or a short one: `RoCE v1`, `v1`, `RoCE v2`, `v2` (any case).
pub fn parse_roce_mode(text: &str) -> Result<&'static str, String> {
    let t: String = text
        .trim()
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match t.as_str() {
        "v1" | "1" | "roce v1" | "ib/roce v1" => Ok("IB/RoCE v1"),
        "v2" | "2" | "roce v2" => Ok("RoCE v2"),
        _ => Err(format!(
            "{:?} is not a RoCE mode (RoCE v1, RoCE v2)",
            text.trim()
        )),
    }
}

impl RdmaDevice {
    /// The port with this number.
    pub fn port(&self, port: u32) -> Option<&RdmaPort> {
        self.ports.iter().find(|p| p.port == port)
    }

    /// Netdevs the device's ports sit on, in port order, without repeats.
    pub fn netdevs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in &self.ports {
            let names = p
                .netdev
                .as_deref()
                .into_iter()
                .chain(p.gids.iter().filter_map(|g| g.netdev.as_deref()));
            for n in names {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }
}

/// One port of an RDMA device (`ports/<n>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdmaPort {
    /// Port number (from 1).
    pub port: u32,
    /// Logical state: `DOWN`, `INIT`, `ARMED`, `ACTIVE`, `ACTIVE_DEFER` (`state` "4: ACTIVE").
    pub state: String,
    /// Physical state, e.g. `LinkUp`, `Disabled`, `Polling` (`phys_state` "5: `LinkUp`").
    pub phys_state: String,
    /// Rate as the kernel writes it, e.g. `100 Gb/sec (4X EDR)`.
    pub rate: String,
    /// The rate in Gb/s when the text parses.
    #[serde(default)]
    pub rate_gbps: Option<f64>,
    /// `InfiniBand` or `Ethernet` (RoCE).
    pub link_layer: String,
    /// Active MTU in bytes (256..4096) where known.
    #[serde(default)]
    pub active_mtu: Option<u32>,
    /// The netdev this port sits on (RoCE), from netlink or the GID table.
    #[serde(default)]
    pub netdev: Option<String>,
    /// Interface index of that netdev, from netlink.
    #[serde(default)]
    pub netdev_index: Option<u32>,
    /// Non-empty GID table entries, by index.
    #[serde(default)]
    pub gids: Vec<Gid>,
    /// Driver hardware counters (`hw_counters/*`, e.g. mlx5 `out_of_buffer`, rxe
    /// `completer_retry_err`).
    #[serde(default)]
    pub hw_counters: BTreeMap<String, u64>,
    /// Port counters (`counters/*`, the IB PMA set: `port_xmit_data`, `symbol_error`...).
    #[serde(default)]
    pub counters: BTreeMap<String, u64>,
    /// `rdma_cm` default RoCE mode for new connections (`default_roce_mode` in configfs, e.g.
    /// `RoCE v2`); `None` when the `rdma_cm` configfs directory does not exist.
    #[serde(default)]
    pub default_roce_mode: Option<String>,
    /// `rdma_cm` default type of service (`default_roce_tos`, 0..255); `None` like above.
    #[serde(default)]
    pub default_roce_tos: Option<u8>,
}

impl RdmaPort {
    /// True on a RoCE port (link layer Ethernet).
    pub fn is_roce(&self) -> bool {
        self.link_layer.eq_ignore_ascii_case("ethernet")
    }

    /// The GID at this index.
    pub fn gid(&self, index: u32) -> Option<&Gid> {
        self.gids.iter().find(|g| g.index == index)
    }

    /// The first RoCE v2 GID holding an IPv4 address: the index `NCCL_IB_GID_INDEX` wants.
    pub fn roce_v2_ipv4_gid(&self) -> Option<&Gid> {
        self.gids
            .iter()
            .find(|g| g.kind == GidKind::RoceV2 && g.ipv4().is_some())
    }

    /// Whether the port is ACTIVE.
    pub fn is_active(&self) -> bool {
        self.state == "ACTIVE"
    }
}

/// One entry of a port's GID table (`gids/<i>`, `gid_attrs/types/<i>`, `gid_attrs/ndevs/<i>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gid {
    /// Index in the GID table.
    pub index: u32,
    /// The GID as an IPv6 address (an IPv4 address maps to `::ffff:a.b.c.d`).
    pub gid: Ipv6Addr,
    /// GID type.
    pub kind: GidKind,
    /// The netdev the GID belongs to (RoCE).
    #[serde(default)]
    pub netdev: Option<String>,
}

impl Gid {
    /// The IPv4 address of an IPv4-mapped GID (`::ffff:a.b.c.d`).
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        let s = self.gid.segments();
        (s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff).then(|| {
            let o = self.gid.octets();
            Ipv4Addr::new(o[12], o[13], o[14], o[15])
        })
    }

    /// The IP address the GID stands for: IPv4 for mapped GIDs, else the IPv6 address.
    pub fn ip(&self) -> std::net::IpAddr {
        match self.ipv4() {
            Some(v4) => v4.into(),
            None => self.gid.into(),
        }
    }
}

/// GID type (`gid_attrs/types/<i>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GidKind {
    /// An InfiniBand GID (type "IB/RoCE v1" on an InfiniBand link layer).
    #[serde(rename = "IB")]
    Ib,
    /// RoCE v1 (type "IB/RoCE v1" on an Ethernet link layer): layer 2 only.
    #[serde(rename = "RoCE v1")]
    RoceV1,
    /// RoCE v2 (type "RoCE v2"): routable over UDP/IP.
    #[serde(rename = "RoCE v2")]
    RoceV2,
}

impl GidKind {
    /// The kernel's type text and the port's link layer to a kind; `None` for unknown text.
    pub fn from_sysfs(text: &str, link_layer: &str) -> Option<Self> {
        match text.trim() {
            "RoCE v2" => Some(GidKind::RoceV2),
            "IB/RoCE v1" | "IB" | "RoCE v1" => {
                Some(if link_layer.eq_ignore_ascii_case("ethernet") {
                    GidKind::RoceV1
                } else {
                    GidKind::Ib
                })
            }
            _ => None,
        }
    }

    /// The name as `show` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            GidKind::Ib => "IB",
            GidKind::RoceV1 => "RoCE v1",
            GidKind::RoceV2 => "RoCE v2",
        }
    }
}

impl std::fmt::Display for GidKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gid(index: u32, text: &str, kind: GidKind) -> Gid {
        Gid {
            index,
            gid: text.parse().expect("gid"),
            kind,
            netdev: Some("eth2".into()),
        }
    }

    #[test]
    fn ipv4_mapped_gids() {
        assert_eq!(
            gid(3, "::ffff:198.18.0.2", GidKind::RoceV2).ipv4(),
            Some(Ipv4Addr::new(198, 18, 0, 2))
        );
        assert_eq!(gid(0, "fe80::1", GidKind::RoceV2).ipv4(), None);
        // ::1:ffff:... is not a mapped address.
        assert_eq!(gid(1, "::1:ffff:c612:2", GidKind::RoceV2).ipv4(), None);
    }

    #[test]
    fn roce_v2_ipv4_index_skips_v1_and_ipv6() {
        let port = RdmaPort {
            port: 1,
            state: "ACTIVE".into(),
            phys_state: "LinkUp".into(),
            rate: "100 Gb/sec (4X EDR)".into(),
            rate_gbps: Some(100.0),
            link_layer: "Ethernet".into(),
            active_mtu: Some(4096),
            netdev: Some("eth2".into()),
            netdev_index: None,
            gids: vec![
                gid(0, "fe80::1", GidKind::RoceV1),
                gid(1, "fe80::1", GidKind::RoceV2),
                gid(2, "::ffff:10.0.0.1", GidKind::RoceV1),
                gid(3, "::ffff:10.0.0.1", GidKind::RoceV2),
            ],
            hw_counters: BTreeMap::new(),
            counters: BTreeMap::new(),
            default_roce_mode: None,
            default_roce_tos: None,
        };
        assert_eq!(port.roce_v2_ipv4_gid().map(|g| g.index), Some(3));
        assert!(port.is_roce());
    }

    #[test]
    fn gid_kind_names() {
        assert_eq!(
            GidKind::from_sysfs("IB/RoCE v1", "InfiniBand"),
            Some(GidKind::Ib)
        );
        assert_eq!(
            GidKind::from_sysfs("IB/RoCE v1\n", "Ethernet"),
            Some(GidKind::RoceV1)
        );
        assert_eq!(
            GidKind::from_sysfs("RoCE v2", "Ethernet"),
            Some(GidKind::RoceV2)
        );
        assert_eq!(GidKind::from_sysfs("bogus", "Ethernet"), None);
        let json = serde_json::to_string(&GidKind::RoceV2).expect("json");
        assert_eq!(json, "\"RoCE v2\"");
    }
}

/// An rxe-like RoCE device with port 1 on `netdev` (RoCE v2 GIDs) for tests of the code
/// that uses the model; `cm`: the `rdma_cm` directory state and, where it exists, the
/// defaults the port shows.
#[cfg(test)]
pub(crate) fn test_device(name: &str, netdev: &str, cm: Option<bool>) -> RdmaDevice {
    let shown = cm == Some(true);
    RdmaDevice {
        name: name.into(),
        node_type: "CA".into(),
        fw_ver: None,
        node_guid: None,
        sys_image_guid: None,
        hca_type: None,
        driver: Some("rxe".into()),
        pci_address: None,
        device_path: None,
        ports: vec![RdmaPort {
            port: 1,
            state: "ACTIVE".into(),
            phys_state: "LinkUp".into(),
            rate: "100 Gb/sec (4X EDR)".into(),
            rate_gbps: Some(100.0),
            link_layer: "Ethernet".into(),
            active_mtu: Some(1024),
            netdev: Some(netdev.into()),
            netdev_index: None,
            gids: vec![Gid {
                index: 1,
                gid: "::ffff:198.18.0.2".parse().expect("gid"),
                kind: GidKind::RoceV2,
                netdev: Some(netdev.into()),
            }],
            hw_counters: BTreeMap::new(),
            counters: BTreeMap::new(),
            default_roce_mode: shown.then(|| "RoCE v2".into()),
            default_roce_tos: shown.then_some(0),
        }],
        rdma_cm_dir: cm,
    }
}

#[cfg(test)]
mod roce_mode_tests {
    use super::*;

    #[test]
    fn roce_mode_spellings() {
        for t in ["RoCE v2", "v2", "roce  V2", "2"] {
            assert_eq!(parse_roce_mode(t), Ok("RoCE v2"), "{t}");
        }
        for t in ["RoCE v1", "v1", "IB/RoCE v1"] {
            assert_eq!(parse_roce_mode(t), Ok("IB/RoCE v1"), "{t}");
        }
        assert!(parse_roce_mode("v3").is_err());
        assert!(parse_roce_mode("").is_err());
    }
}
