//! The NCCL settings that follow from the node (`dpuctl nccl`), and the check of an
//! nccl.conf or environment against them.
//!
//! Variables as the NCCL documentation (docs.nvidia.com/deeplearning/nccl, "Environment
//! Variables") defines them: `NCCL_SOCKET_IFNAME` and `NCCL_IB_HCA` take a comma list, `^` to
//! exclude, `=` for exact names (else prefixes: `mlx5_1` would also match `mlx5_10`);
//! `NCCL_IB_HCA` entries are `dev[:port]`; `NCCL_NET_GDR_LEVEL` is a path type (LOC, PIX, PXB,
//! PHB, SYS); `NCCL_IB_TC` is the traffic class byte; `NCCL_IB_GID_INDEX` one index for every
//! device, and since NCCL 2.21, when it is unset, `NCCL_IB_ROCE_VERSION_NUM` and
//! `NCCL_IB_ADDR_FAMILY` pick each device's GID.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::rdma::GidKind;
use crate::model::NodeState;

use super::topo::TopoReport;
use super::PcieRel;

/// The type of a GID table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GidType {
    /// InfiniBand or RoCE v1 (`IB/RoCE v1`).
    IbRoceV1,
    /// RoCE v2 (UDP/IP encapsulated).
    RoceV2,
}

/// One non-empty GID table entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GidEntry {
    /// Index in the port's table.
    pub index: u32,
    /// Type.
    pub kind: GidType,
    /// True for an IPv4-mapped GID (`::ffff:a.b.c.d`).
    pub ipv4: bool,
}

/// An RDMA port as NCCL sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HcaPort {
    /// RDMA device, e.g. `mlx5_0`.
    pub device: String,
    /// Port number (from 1).
    pub port: u32,
    /// Port state is ACTIVE.
    pub active: bool,
    /// True for RoCE (link layer Ethernet), false for InfiniBand.
    pub roce: bool,
    /// Non-empty GID entries.
    pub gids: Vec<GidEntry>,
    /// `rdma_cm` `default_roce_tos` of the port, where set.
    pub roce_tos: Option<u8>,
}

impl HcaPort {
    /// `dev:port`.
    pub fn name(&self) -> String {
        format!("{}:{}", self.device, self.port)
    }

    /// The index of the RoCE v2 IPv4 GID.
    pub fn roce_v2_ipv4(&self) -> Option<u32> {
        self.gids
            .iter()
            .find(|g| g.kind == GidType::RoceV2 && g.ipv4)
            .map(|g| g.index)
    }
}

/// The RDMA ports of the node as NCCL sees them.
pub fn hca_ports(state: &NodeState) -> Vec<HcaPort> {
    state
        .rdma
        .iter()
        .flat_map(|d| {
            d.ports.iter().map(|p| HcaPort {
                device: d.name.clone(),
                port: p.port,
                active: p.is_active(),
                roce: p.is_roce(),
                gids: p
                    .gids
                    .iter()
                    .map(|g| GidEntry {
                        index: g.index,
                        kind: if g.kind == GidKind::RoceV2 {
                            GidType::RoceV2
                        } else {
                            GidType::IbRoceV1
                        },
                        ipv4: g.ipv4().is_some(),
                    })
                    .collect(),
                roce_tos: p.default_roce_tos,
            })
        })
        .collect()
}

/// One NCCL variable and why it has that value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcclSetting {
    /// Variable name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Why.
    pub why: String,
}

/// What `nccl` derives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NcclPlan {
    /// The GPUs it is for.
    pub gpus: Vec<String>,
    /// The NICs nearest to them.
    pub nics: Vec<String>,
    /// Settings, in a fixed order.
    pub settings: Vec<NcclSetting>,
    /// What was left out or needs a look.
    pub notes: Vec<String>,
}

impl NcclPlan {
    /// The value of a setting.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value.as_str())
    }
}

/// A GPU index that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no GPU {index} on this node ({count} GPUs: 0-{last})", last = count.saturating_sub(1))]
pub struct NoSuchGpu {
    /// The index asked for.
    pub index: usize,
    /// GPUs there are.
    pub count: usize,
}

/// NCCL's name for a relation as a GDR level: NCCL has no NODE path type; paths between
/// host bridges of one CPU go through it (PHB).
fn gdr_level(rel: PcieRel) -> &'static str {
    match rel {
        PcieRel::Pix => "PIX",
        PcieRel::Pxb => "PXB",
        PcieRel::Phb | PcieRel::Node => "PHB",
        PcieRel::Sys => "SYS",
    }
}

/// Rank of a GDR level name, or `None` for an unknown one.
fn gdr_rank(level: &str) -> Option<u8> {
    match level.trim().to_ascii_uppercase().as_str() {
        "LOC" | "0" => Some(0),
        "PIX" | "1" => Some(1),
        "PXB" | "2" => Some(2),
        "PHB" | "3" => Some(3),
        "SYS" | "4" | "5" => Some(4),
        _ => None,
    }
}

/// Derives the settings for the GPUs `gpus` (indexes; empty = all).
pub fn plan(topo: &TopoReport, ports: &[HcaPort], gpus: &[usize]) -> Result<NcclPlan, NoSuchGpu> {
    for &index in gpus {
        if index >= topo.gpus.len() {
            return Err(NoSuchGpu {
                index,
                count: topo.gpus.len(),
            });
        }
    }
    let selected: Vec<&super::topo::TopoGpu> = if gpus.is_empty() {
        topo.gpus.iter().collect()
    } else {
        topo.gpus
            .iter()
            .enumerate()
            .filter(|(i, _)| gpus.contains(i))
            .map(|(_, g)| g)
            .collect()
    };
    let mut p = NcclPlan {
        gpus: selected.iter().map(|g| g.name.clone()).collect(),
        ..NcclPlan::default()
    };
    if selected.is_empty() {
        p.notes
            .push("no GPUs on this node: nothing to derive NCCL settings from".into());
        return Ok(p);
    }
    let near: Vec<&super::topo::TopoNic> = topo
        .nics
        .iter()
        .filter(|n| selected.iter().any(|g| g.nearest.contains(&n.name)))
        .collect();
    p.nics = near.iter().map(|n| n.name.clone()).collect();
    if near.is_empty() {
        p.notes.push(
            "no NIC with a PCIe relation to the GPUs (NICs on virtual buses have none): \
             NCCL_SOCKET_IFNAME and NCCL_IB_HCA left to NCCL"
                .into(),
        );
    }
    let near_desc = || {
        selected
            .iter()
            .map(|g| {
                format!(
                    "{} -> {} ({})",
                    g.name,
                    g.nearest.join(","),
                    g.nearest_relation.map_or("-", PcieRel::as_str)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };

    let netdevs: Vec<&str> = near
        .iter()
        .flat_map(|n| n.netdevs.iter().map(String::as_str))
        .collect();
    if !netdevs.is_empty() {
        p.settings.push(NcclSetting {
            name: "NCCL_SOCKET_IFNAME".into(),
            value: format!("={}", netdevs.join(",")),
            why: format!(
                "the netdevs of the NICs nearest to the GPUs: {}",
                near_desc()
            ),
        });
    }

    let used: Vec<&HcaPort> = near
        .iter()
        .flat_map(|n| n.rdma.iter())
        .flat_map(|dev| ports.iter().filter(move |p| &p.device == dev))
        .collect();
    if used.is_empty() && !near.is_empty() {
        p.notes.push(
            "no RDMA device on the NICs near the GPUs: NCCL uses TCP sockets (NCCL_IB_* left \
             unset)"
                .into(),
        );
    }
    for port in used.iter().filter(|p| !p.active) {
        p.notes.push(format!(
            "{} is not ACTIVE: left out of NCCL_IB_HCA",
            port.name()
        ));
    }
    let active: Vec<&HcaPort> = used.iter().copied().filter(|p| p.active).collect();
    if !active.is_empty() {
        p.settings.push(NcclSetting {
            name: "NCCL_IB_HCA".into(),
            value: format!(
                "={}",
                active
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            why: "the active RDMA ports of those NICs (`=`: exact names, so mlx5_1 does not \
                  also match mlx5_10)"
                .into(),
        });
    }

    let roce: Vec<&HcaPort> = active.iter().copied().filter(|p| p.roce).collect();
    let indexes: Vec<(String, Option<u32>)> =
        roce.iter().map(|p| (p.name(), p.roce_v2_ipv4())).collect();
    for (name, idx) in &indexes {
        if idx.is_none() {
            p.notes.push(format!(
                "{name} has no RoCE v2 IPv4 GID (no IPv4 address on its netdev?)"
            ));
        }
    }
    let found: Vec<(&String, u32)> = indexes
        .iter()
        .filter_map(|(n, i)| i.map(|i| (n, i)))
        .collect();
    if let Some(&(_, first)) = found.first() {
        if found.iter().all(|(_, i)| *i == first) {
            p.settings.push(NcclSetting {
                name: "NCCL_IB_GID_INDEX".into(),
                value: first.to_string(),
                why: "the RoCE v2 IPv4 GID of every RoCE port used".into(),
            });
        } else {
            let per = found
                .iter()
                .map(|(n, i)| format!("{n}={i}"))
                .collect::<Vec<_>>()
                .join(", ");
            p.settings.push(NcclSetting {
                name: "NCCL_IB_ROCE_VERSION_NUM".into(),
                value: "2".into(),
                why: format!(
                    "the RoCE v2 IPv4 GID differs per device ({per}); NCCL_IB_GID_INDEX is \
                     one index for all, so it is left unset and NCCL 2.21+ picks each \
                     device's RoCE v2 GID"
                ),
            });
            p.settings.push(NcclSetting {
                name: "NCCL_IB_ADDR_FAMILY".into(),
                value: "AF_INET".into(),
                why: "with NCCL_IB_ROCE_VERSION_NUM: the IPv4 GID".into(),
            });
            p.notes.push(format!(
                "RoCE v2 IPv4 GID index per device: {per}; NCCL before 2.21 needs one \
                 NCCL_IB_GID_INDEX: give each rank its own environment"
            ));
        }
    }

    let tos: Vec<(String, u8)> = roce
        .iter()
        .filter_map(|p| p.roce_tos.filter(|t| *t != 0).map(|t| (p.name(), t)))
        .collect();
    if let Some((_, t)) = tos.first() {
        if tos.iter().all(|(_, x)| x == t) {
            p.settings.push(NcclSetting {
                name: "NCCL_IB_TC".into(),
                value: t.to_string(),
                why: format!(
                    "rdma_cm default_roce_tos of {}",
                    tos.iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            let without: Vec<String> = roce
                .iter()
                .filter(|p| p.roce_tos.unwrap_or(0) == 0)
                .map(|p| p.name())
                .collect();
            if !without.is_empty() {
                p.notes.push(format!(
                    "{} ha{} no default_roce_tos: rdma_cm traffic there uses class 0",
                    without.join(", "),
                    if without.len() == 1 { "s" } else { "ve" }
                ));
            }
        } else {
            p.notes.push(format!(
                "default_roce_tos differs per device ({}): NCCL_IB_TC left unset",
                tos.iter()
                    .map(|(n, t)| format!("{n}={t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }

    if topo.gpudirect.status == "no" || topo.gpudirect.status == "n/a" {
        p.notes.push(format!(
            "GPUDirect RDMA unavailable ({}): NCCL_NET_GDR_LEVEL left unset",
            topo.gpudirect.reason
        ));
    } else if !active.is_empty() {
        let worst = selected.iter().filter_map(|g| g.nearest_relation).max();
        if let Some(w) = worst {
            let level = if w == PcieRel::Sys {
                p.notes.push(
                    "a GPU's nearest NIC is across NUMA nodes: GPUDirect there is slower than \
                     staging in host memory, so the level stops at PHB"
                        .into(),
                );
                "PHB"
            } else {
                gdr_level(w)
            };
            p.settings.push(NcclSetting {
                name: "NCCL_NET_GDR_LEVEL".into(),
                value: level.into(),
                why: format!(
                    "GPUDirect RDMA ({}) up to the farthest nearest-NIC path: {}",
                    topo.gpudirect.status,
                    near_desc()
                ),
            });
        }
    }
    Ok(p)
}

/// `export` lines, notes as comments.
pub fn render_env(p: &NcclPlan) -> String {
    let mut out = String::new();
    for n in &p.notes {
        let _ = writeln!(out, "# note: {n}");
    }
    for s in &p.settings {
        let _ = writeln!(out, "export {}='{}'", s.name, s.value);
    }
    out
}

/// An nccl.conf body.
pub fn render_conf(p: &NcclPlan) -> String {
    let mut out = format!("# NCCL settings for {} (dpuctl nccl)\n", p.gpus.join(", "));
    for n in &p.notes {
        let _ = writeln!(out, "# note: {n}");
    }
    for s in &p.settings {
        let _ = writeln!(out, "{}={}", s.name, s.value);
    }
    out
}

/// A `NAME=VALUE` setting read from a file or the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GivenSetting {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Where: `file:line` or `environment`.
    pub at: String,
}

/// Parses an nccl.conf: `NAME=VALUE` lines, `#` comments, blank lines. A line without `=`
/// is an error naming `file:line:column`.
pub fn parse_conf(file: &str, text: &str) -> Result<Vec<GivenSetting>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let col = line.len() - line.trim_start().len() + 1;
        let Some((name, value)) = t.split_once('=') else {
            return Err(format!(
                "{file}:{}:{col}: expected NAME=VALUE, found {t:?}",
                i + 1
            ));
        };
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "{file}:{}:{col}: bad variable name {name:?}",
                i + 1
            ));
        }
        out.push(GivenSetting {
            name: name.to_string(),
            value: value.trim().to_string(),
            at: format!("{file}:{}", i + 1),
        });
    }
    Ok(out)
}

/// One compared setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckItem {
    /// Variable.
    pub name: String,
    /// Value given.
    pub value: String,
    /// Where it was given.
    pub at: String,
    /// True when it fits the node.
    pub ok: bool,
    /// Why not, or what it was compared with.
    pub detail: String,
}

/// What the node knows to check names against.
pub struct CheckNode<'a> {
    /// The topology.
    pub topo: &'a TopoReport,
    /// RDMA ports.
    pub ports: &'a [HcaPort],
    /// Every interface name of the node.
    pub interfaces: &'a [String],
    /// What `plan` derives.
    pub plan: &'a NcclPlan,
}

/// An NCCL name list: `^` excludes, `=` asks for exact names (else prefixes); `^=` both.
struct NameList<'a> {
    exclude: bool,
    exact: bool,
    items: Vec<&'a str>,
}

impl NameList<'_> {
    fn matches(&self, item: &str, name: &str) -> bool {
        if self.exact {
            name == item
        } else {
            name.starts_with(item)
        }
    }
}

/// Splits an NCCL list.
fn list(value: &str) -> NameList<'_> {
    let (exclude, rest) = match value.strip_prefix('^') {
        Some(r) => (true, r),
        None => (false, value),
    };
    let (exact, rest) = match rest.strip_prefix('=') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    NameList {
        exclude,
        exact,
        items: rest
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
    }
}

/// The active RoCE ports a GID index applies to: those the given `NCCL_IB_HCA` selects, else
/// those of the NICs near the GPUs, else (no GPUs, or none near a NIC) every one.
fn gid_ports<'a>(node: &CheckNode<'a>, given: &[GivenSetting]) -> Vec<&'a HcaPort> {
    let roce = node.ports.iter().filter(|p| p.roce && p.active);
    if let Some(hca) = given.iter().rev().find(|g| g.name == "NCCL_IB_HCA") {
        let l = list(&hca.value);
        let selects = |p: &HcaPort| {
            l.items.iter().any(|it| {
                let (dev, port) = match it.split_once(':') {
                    Some((d, n)) => (d, Some(n)),
                    None => (*it, None),
                };
                l.matches(dev, &p.device) && port.is_none_or(|n| n == p.port.to_string())
            })
        };
        let chosen: Vec<&'a HcaPort> = roce.clone().filter(|p| selects(p) != l.exclude).collect();
        if !chosen.is_empty() {
            return chosen;
        }
    }
    let near: Vec<&'a HcaPort> = roce
        .clone()
        .filter(|p| {
            node.topo
                .nics
                .iter()
                .any(|n| node.plan.nics.contains(&n.name) && n.rdma.contains(&p.device))
        })
        .collect();
    if near.is_empty() {
        roce.collect()
    } else {
        near
    }
}

/// Compares given settings with the node: every NCCL variable dpuctl knows is judged.
pub fn check(node: &CheckNode<'_>, given: &[GivenSetting]) -> Vec<CheckItem> {
    let near_netdevs: Vec<&str> = node
        .topo
        .nics
        .iter()
        .filter(|n| node.plan.nics.contains(&n.name))
        .flat_map(|n| n.netdevs.iter().map(String::as_str))
        .collect();
    let far_netdev = |name: &str| {
        node.topo
            .nics
            .iter()
            .any(|n| !node.plan.nics.contains(&n.name) && n.netdevs.iter().any(|d| d == name))
    };
    let mut out = Vec::new();
    for g in given {
        let mut problems: Vec<String> = Vec::new();
        let mut detail = String::new();
        match g.name.as_str() {
            "NCCL_SOCKET_IFNAME" => {
                let l = list(&g.value);
                if !l.exclude {
                    for it in &l.items {
                        let matched: Vec<&String> = node
                            .interfaces
                            .iter()
                            .filter(|i| l.matches(it, i))
                            .collect();
                        if matched.is_empty() {
                            problems.push(format!("no interface {it:?} on this node"));
                        }
                        for m in matched {
                            if far_netdev(m) {
                                problems.push(format!(
                                    "{m} is far from the GPUs (near: {})",
                                    near_netdevs.join(",")
                                ));
                            }
                        }
                    }
                }
                detail = node
                    .plan
                    .get("NCCL_SOCKET_IFNAME")
                    .map(|v| format!("node: {v}"))
                    .unwrap_or_default();
            }
            "NCCL_IB_HCA" => {
                let l = list(&g.value);
                for it in &l.items {
                    let (dev, port) = match it.split_once(':') {
                        Some((d, p)) => (d, Some(p)),
                        None => (*it, None),
                    };
                    let devs: Vec<&HcaPort> = node
                        .ports
                        .iter()
                        .filter(|p| l.matches(dev, &p.device))
                        .collect();
                    if devs.is_empty() {
                        problems.push(format!("no RDMA device {dev:?} on this node"));
                        continue;
                    }
                    if let Some(port) = port {
                        if !devs.iter().any(|p| p.port.to_string() == port) {
                            problems.push(format!("{dev} has no port {port}"));
                        }
                    }
                    if !l.exclude {
                        for d in &devs {
                            let on_near = node.topo.nics.iter().any(|n| {
                                node.plan.nics.contains(&n.name) && n.rdma.contains(&d.device)
                            });
                            if !on_near && !node.plan.nics.is_empty() {
                                problems.push(format!(
                                    "{} is far from the GPUs (near: {})",
                                    d.device,
                                    node.plan.nics.join(",")
                                ));
                            }
                        }
                    }
                }
                detail = node
                    .plan
                    .get("NCCL_IB_HCA")
                    .map(|v| format!("node: {v}"))
                    .unwrap_or_default();
            }
            "NCCL_IB_GID_INDEX" => match g.value.trim().parse::<i64>() {
                Err(_) => problems.push(format!("{:?} is not a number", g.value)),
                Ok(-1) => detail = "-1: NCCL picks the GID (2.21+)".into(),
                Ok(idx) => {
                    for p in gid_ports(node, given) {
                        let want = p
                            .roce_v2_ipv4()
                            .map_or("none".to_string(), |i| i.to_string());
                        match p.gids.iter().find(|e| i64::from(e.index) == idx) {
                            None => problems.push(format!(
                                "index {idx} is an empty slot on {} (RoCE v2 IPv4: {want})",
                                p.name()
                            )),
                            Some(e) if e.kind == GidType::IbRoceV1 => problems.push(format!(
                                "index {idx} is a RoCE v1 GID on {} (RoCE v2 IPv4: {want})",
                                p.name()
                            )),
                            Some(e) if !e.ipv4 => problems.push(format!(
                                "index {idx} is a RoCE v2 IPv6 GID on {} (RoCE v2 IPv4: {want})",
                                p.name()
                            )),
                            Some(_) => {}
                        }
                    }
                }
            },
            "NCCL_IB_TC" => {
                if let Some(want) = node.plan.get("NCCL_IB_TC") {
                    if g.value.trim() != want {
                        problems.push(format!("the node's RoCE ToS is {want}"));
                    }
                    detail = format!("node: {want}");
                } else {
                    detail = "no RoCE ToS set on the node".into();
                }
            }
            "NCCL_NET_GDR_LEVEL" => match gdr_rank(&g.value) {
                None => problems.push(format!(
                    "unknown level {:?} (LOC, PIX, PXB, PHB, SYS)",
                    g.value
                )),
                Some(r) => {
                    if let Some(want) = node.plan.get("NCCL_NET_GDR_LEVEL") {
                        if gdr_rank(want).is_some_and(|w| r < w) {
                            problems.push(format!(
                                "GPUDirect RDMA is off for GPUs whose nearest NIC is {want} away"
                            ));
                        }
                        detail = format!("node: {want}");
                    }
                }
            },
            _ => continue,
        }
        let ok = problems.is_empty();
        out.push(CheckItem {
            name: g.name.clone(),
            value: g.value.clone(),
            at: g.at.clone(),
            ok,
            detail: if ok { detail } else { problems.join("; ") },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fabric::topo::{TopoGpu, TopoNic, TopoPair};
    use crate::model::pci::GpuDirect;
    use crate::model::Avail;

    fn nic(name: &str, netdev: &str) -> TopoNic {
        TopoNic {
            name: name.into(),
            address: String::new(),
            netdevs: vec![netdev.into()],
            rdma: vec![name.into()],
            numa_node: Some(0),
            local_cpus: None,
            link: Avail::na("t"),
            speed_mbps: Some(400_000),
            pairs: vec![],
        }
    }

    fn gpu(i: usize, nearest: &str, rel: PcieRel) -> TopoGpu {
        TopoGpu {
            name: format!("GPU{i}"),
            address: String::new(),
            numa_node: Some(0),
            local_cpus: None,
            link: Avail::na("t"),
            pairs: vec![TopoPair {
                nic: nearest.into(),
                relation: Some(rel),
                acs_redirect: vec![],
            }],
            nearest: vec![nearest.into()],
            nearest_relation: Some(rel),
            nic_gbps: None,
        }
    }

    fn port(dev: &str, v4: u32, tos: Option<u8>) -> HcaPort {
        let mut gids = Vec::new();
        for i in 0..=v4 {
            gids.push(GidEntry {
                index: i,
                kind: if i % 2 == 0 {
                    GidType::IbRoceV1
                } else {
                    GidType::RoceV2
                },
                ipv4: i + 1 >= v4,
            });
        }
        HcaPort {
            device: dev.into(),
            port: 1,
            active: true,
            roce: true,
            gids,
            roce_tos: tos,
        }
    }

    fn topo(status: &str) -> TopoReport {
        TopoReport {
            gpus: vec![
                gpu(0, "mlx5_0", PcieRel::Pix),
                gpu(1, "mlx5_1", PcieRel::Pxb),
                gpu(2, "mlx5_2", PcieRel::Sys),
            ],
            nics: vec![
                nic("eno1", "eno1"),
                nic("mlx5_0", "eth0"),
                nic("mlx5_1", "eth1"),
                nic("mlx5_2", "eth2"),
            ],
            gpudirect: GpuDirect {
                status: status.into(),
                reason: "r".into(),
                ..GpuDirect::default()
            },
        }
    }

    #[test]
    fn uniform_gid_and_tos() {
        let ports = [port("mlx5_0", 3, Some(106)), port("mlx5_1", 3, Some(106))];
        let p = plan(&topo("yes"), &ports, &[0, 1]).expect("plan");
        assert_eq!(p.get("NCCL_SOCKET_IFNAME"), Some("=eth0,eth1"));
        assert_eq!(p.get("NCCL_IB_HCA"), Some("=mlx5_0:1,mlx5_1:1"));
        assert_eq!(p.get("NCCL_IB_GID_INDEX"), Some("3"));
        assert_eq!(p.get("NCCL_IB_TC"), Some("106"));
        assert_eq!(p.get("NCCL_NET_GDR_LEVEL"), Some("PXB"));
        assert!(p.notes.is_empty(), "{:?}", p.notes);
        let env = render_env(&p);
        assert!(
            env.contains("export NCCL_IB_HCA='=mlx5_0:1,mlx5_1:1'\n"),
            "{env}"
        );
        let conf = render_conf(&p);
        assert!(conf.contains("\nNCCL_IB_GID_INDEX=3\n"), "{conf}");
        assert_eq!(
            plan(&topo("yes"), &ports, &[7]),
            Err(NoSuchGpu { index: 7, count: 3 })
        );
    }

    #[test]
    fn differing_gids_tos_and_no_gpudirect() {
        let ports = [
            port("mlx5_0", 3, Some(106)),
            port("mlx5_1", 5, None),
            port("mlx5_2", 3, Some(96)),
        ];
        let p = plan(&topo("no"), &ports, &[]).expect("plan");
        assert_eq!(p.get("NCCL_IB_GID_INDEX"), None);
        assert_eq!(p.get("NCCL_IB_ROCE_VERSION_NUM"), Some("2"));
        assert_eq!(p.get("NCCL_IB_ADDR_FAMILY"), Some("AF_INET"));
        assert_eq!(p.get("NCCL_IB_TC"), None);
        assert_eq!(p.get("NCCL_NET_GDR_LEVEL"), None);
        let notes = p.notes.join("\n");
        assert!(
            notes.contains("mlx5_0:1=3, mlx5_1:1=5, mlx5_2:1=3"),
            "{notes}"
        );
        assert!(notes.contains("default_roce_tos differs"), "{notes}");
        assert!(notes.contains("GPUDirect RDMA unavailable"), "{notes}");
        // With GPUDirect, a SYS-only GPU caps the level at PHB.
        let p = plan(&topo("yes"), &ports, &[2]).expect("plan");
        assert_eq!(p.get("NCCL_NET_GDR_LEVEL"), Some("PHB"));
    }

    #[test]
    fn check_names_each_wrong_setting() {
        let ports = [port("mlx5_0", 3, Some(106)), port("mlx5_1", 3, Some(106))];
        let t = topo("yes");
        let p = plan(&t, &ports, &[0, 1]).expect("plan");
        let ifaces: Vec<String> = ["lo", "eno1", "eth0", "eth1", "eth2"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        let node = CheckNode {
            topo: &t,
            ports: &ports,
            interfaces: &ifaces,
            plan: &p,
        };
        let conf = "# site\nNCCL_IB_GID_INDEX=3\nNCCL_SOCKET_IFNAME==eth0,eth1\n\
                    NCCL_IB_HCA=mlx5_0:1,mlx5_1:1\nNCCL_IB_TC=106\nNCCL_NET_GDR_LEVEL=PHB\n\
                    NCCL_DEBUG=INFO\n";
        let items = check(&node, &parse_conf("nccl.conf", conf).expect("parse"));
        assert_eq!(items.len(), 5, "NCCL_DEBUG is not judged: {items:?}");
        assert!(items.iter().all(|i| i.ok), "{items:?}");
        let bad = "NCCL_IB_GID_INDEX=2\nNCCL_SOCKET_IFNAME=eno1,ib\nNCCL_IB_HCA==mlx5_9\n\
                   NCCL_IB_TC=0\nNCCL_NET_GDR_LEVEL=LOC\n";
        let items = check(&node, &parse_conf("c", bad).expect("parse"));
        assert!(items.iter().all(|i| !i.ok), "{items:?}");
        let d = |n: &str| items.iter().find(|i| i.name == n).expect(n).detail.clone();
        assert!(d("NCCL_IB_GID_INDEX").contains("RoCE v1 GID on mlx5_0:1"));
        assert!(d("NCCL_SOCKET_IFNAME").contains("eno1 is far from the GPUs"));
        assert!(d("NCCL_SOCKET_IFNAME").contains("no interface \"ib\""));
        assert!(d("NCCL_IB_HCA").contains("no RDMA device \"mlx5_9\""));
        assert!(d("NCCL_IB_TC").contains("106"));
        assert!(d("NCCL_NET_GDR_LEVEL").contains("off"));
        let items = check(
            &node,
            &parse_conf("c", "NCCL_IB_GID_INDEX=9\n").expect("parse"),
        );
        assert!(items[0].detail.contains("empty slot"), "{items:?}");
        assert!(items[0].at == "c:1");
        // Exclusions are not judged as names to use.
        let items = check(
            &node,
            &parse_conf("c", "NCCL_SOCKET_IFNAME=^lo,docker\n").expect("p"),
        );
        assert!(items[0].ok, "{items:?}");
    }

    #[test]
    fn gid_index_without_gpus_is_judged_on_the_named_or_all_ports() {
        let ports = [port("rxe0", 1, None), port("mlx5_1", 3, None)];
        let t = TopoReport::default();
        let p = plan(&t, &ports, &[]).expect("plan");
        assert!(p.settings.is_empty() && p.notes[0].contains("no GPUs"));
        let node = CheckNode {
            topo: &t,
            ports: &ports,
            interfaces: &[],
            plan: &p,
        };
        // Index 3 is empty on rxe0 and right on mlx5_1.
        let items = check(&node, &parse_conf("c", "NCCL_IB_GID_INDEX=3\n").expect("p"));
        assert!(
            !items[0].ok && items[0].detail.contains("empty slot on rxe0:1"),
            "{items:?}"
        );
        assert!(!items[0].detail.contains("mlx5_1"), "{items:?}");
        let c = "NCCL_IB_HCA==mlx5_1\nNCCL_IB_GID_INDEX=3\n";
        let items = check(&node, &parse_conf("c", c).expect("p"));
        assert!(items.iter().all(|i| i.ok), "{items:?}");
        let c = "NCCL_IB_HCA=^mlx5\nNCCL_IB_GID_INDEX=1\n";
        let items = check(&node, &parse_conf("c", c).expect("p"));
        assert!(items.iter().all(|i| i.ok), "{items:?}");
    }

    #[test]
    fn conf_errors_name_line_and_column() {
        assert_eq!(
            parse_conf("f", "# c\n\n  NCCL_IB_HCA\n"),
            Err("f:3:3: expected NAME=VALUE, found \"NCCL_IB_HCA\"".to_string())
        );
        assert!(parse_conf("f", "NC CL=1\n")
            .expect_err("name")
            .starts_with("f:1:1:"));
    }
}
