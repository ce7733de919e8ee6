//! Stage three: what a profile means on one node.
//!
//! Sysctls come first, then every interface in name order with its knobs in a stable order
//! (rings, channels, coalesce, pause, features, mtu, txqueuelen, rps, `rps_flow_cnt`, xps, IRQ
//! affinity). A knob the node reports as n/a, or a field the driver leaves out, is not an
//! error: it is left out of the settings with a note saying why.

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::{Avail, Dir, Interface, Knob, NodeState, Queue, Setting, Value};

use super::cpus::{nic_node_cpus, physical_cores, resolve_with_exclude, spread_order};
use super::glob;
use super::validate::{Amount, Block, Selector, Settings, XpsMode};
use super::Profile;

/// What a profile resolves to on a node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    /// The profile's name.
    pub profile: String,
    /// Settings: sysctls first (by name), then per interface (by name) in knob order.
    pub settings: Vec<Setting>,
    /// How policies were resolved and what was skipped, in the same order.
    pub notes: Vec<String>,
}

/// Why a profile cannot be resolved on this node. One line each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// `--iface` named an interface the node does not have.
    #[error("no interface '{name}' on this node (have: {known})")]
    UnknownInterface {
        /// The name given.
        name: String,
        /// The interfaces there are.
        known: String,
    },
    /// A number above what the device supports.
    #[error("{iface}: {knob} {value} is above the device maximum {max}")]
    AboveMax {
        /// Interface.
        iface: String,
        /// `rings rx`, `channels combined`.
        knob: String,
        /// The value asked for.
        value: u32,
        /// The device's maximum.
        max: u32,
    },
    /// `gpu-numa` on a node without GPUs.
    #[error("{iface}: {what}: gpu-numa, but the node has no GPU")]
    NoGpu {
        /// Interface.
        iface: String,
        /// The setting.
        what: String,
    },
    /// `gpu-numa:ADDR` naming a GPU that is not there.
    #[error("{iface}: {what}: no GPU at {addr} (GPUs: {known})")]
    UnknownGpu {
        /// Interface.
        iface: String,
        /// The setting.
        what: String,
        /// The address given.
        addr: String,
        /// The GPUs there are.
        known: String,
    },
    /// A CPU set that comes out empty where CPUs are needed.
    #[error("{iface}: {what} resolves to no CPU ({detail})")]
    NoCpu {
        /// Interface.
        iface: String,
        /// The setting.
        what: String,
        /// How it came out empty.
        detail: String,
    },
    /// A literal CPU set naming CPUs the node does not have online.
    #[error("{iface}: {what} names CPUs that are not online: {cpus} (online: {online})")]
    Offline {
        /// Interface.
        iface: String,
        /// The setting.
        what: String,
        /// The CPUs not online.
        cpus: String,
        /// The online CPUs.
        online: String,
    },
    /// `xps` or `irq_affinity` without `cpus` in any block the interface matched.
    #[error("{iface}: {what} has no cpus in the blocks that match {iface}")]
    MissingCpus {
        /// Interface.
        iface: String,
        /// The section.
        what: String,
    },
}

/// Whether a block applies to an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Yes,
    No,
    /// A criterion could not be evaluated on this node state.
    Unknown(String),
}

/// PCI vendor and device id of the interface's device (`None` for virtual devices, or a
/// snapshot from before they were recorded: then `pci_vendor` / `pci_device` selectors cannot
/// be decided, see `Verdict`).
fn pci_ids(iface: &Interface) -> Option<(u16, u16)> {
    let hex = |v: &Option<String>| {
        let t = v.as_deref()?.trim();
        u16::from_str_radix(t.trim_start_matches("0x"), 16).ok()
    };
    Some((hex(&iface.pci_vendor)?, hex(&iface.pci_device)?))
}

fn select(sel: &Selector, iface: &Interface) -> Verdict {
    if !sel.names.is_empty() && !sel.names.iter().any(|p| glob::matches(p, &iface.name)) {
        return Verdict::No;
    }
    if let Some(want) = sel.pci {
        if iface.pci_address.is_some() != want {
            return Verdict::No;
        }
    }
    if !sel.drivers.is_empty() {
        let Avail::Ok(d) = &iface.driver else {
            return Verdict::No;
        };
        if !sel.drivers.iter().any(|p| glob::matches(p, &d.driver)) {
            return Verdict::No;
        }
    }
    if sel.pci_vendor.is_some() || sel.pci_device.is_some() {
        if iface.pci_address.is_none() {
            return Verdict::No;
        }
        match pci_ids(iface) {
            Some((v, d)) => {
                if sel.pci_vendor.is_some_and(|x| x != v) || sel.pci_device.is_some_and(|x| x != d)
                {
                    return Verdict::No;
                }
            }
            None => return Verdict::Unknown("its PCI ids are not known".to_string()),
        }
    }
    if let Some(min) = sel.min_speed_mbps {
        match iface.link.get().and_then(|l| l.speed_mbps) {
            Some(s) if s >= min => {}
            Some(_) => return Verdict::No,
            None => return Verdict::Unknown("its link speed is not known".to_string()),
        }
    }
    Verdict::Yes
}

/// Resolves a profile on a node. `only_ifaces` restricts the interfaces (all when empty);
/// sysctls are node-wide and always included.
pub fn resolve(
    profile: &Profile,
    state: &NodeState,
    only_ifaces: &[String],
) -> Result<Resolved, ResolveError> {
    for n in only_ifaces {
        if state.interface(n).is_none() {
            return Err(ResolveError::UnknownInterface {
                name: n.clone(),
                known: state
                    .interfaces
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let mut out = Out::default();
    for (name, value) in &profile.sysctls {
        match state
            .sysctls
            .iter()
            .find(|s| s.name == *name)
            .map(|s| &s.value)
        {
            Some(Avail::Na(r)) => out
                .notes
                .push(format!("sysctl {name}: skipped, {}", r.reason)),
            _ => out.push(
                Knob::Sysctl { name: name.clone() },
                Value::Text(value.clone()),
            ),
        }
    }
    let mut ifaces: Vec<&Interface> = state
        .interfaces
        .iter()
        .filter(|i| only_ifaces.is_empty() || only_ifaces.contains(&i.name))
        .collect();
    ifaces.sort_by(|a, b| a.name.cmp(&b.name));
    for iface in ifaces {
        let mut matched: Vec<&Block> = Vec::new();
        for b in &profile.blocks {
            match select(&b.selector, iface) {
                Verdict::Yes => matched.push(b),
                Verdict::No => {}
                Verdict::Unknown(why) => out
                    .notes
                    .push(format!("{}: {} not applied, {why}", iface.name, b.origin)),
            }
        }
        if matched.is_empty() {
            out.notes
                .push(format!("{}: skipped, matched no block", iface.name));
            continue;
        }
        let mut s = Settings::default();
        for b in &matched {
            s.merge(&b.settings);
        }
        out.notes.push(format!(
            "{}: uses {}",
            iface.name,
            matched
                .iter()
                .map(|b| b.origin.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        resolve_iface(&mut out, state, iface, &s)?;
    }
    out.settings
        .sort_by(|a, b| sort_key(&a.knob).cmp(&sort_key(&b.knob)));
    Ok(Resolved {
        profile: profile.name.clone(),
        settings: out.settings,
        notes: out.notes,
    })
}

fn sort_key(k: &Knob) -> (bool, &str, &Knob) {
    (!matches!(k, Knob::Sysctl { .. }), k.object(), k)
}

#[derive(Default)]
struct Out {
    settings: Vec<Setting>,
    notes: Vec<String>,
}

impl Out {
    fn push(&mut self, knob: Knob, value: Value) {
        self.settings.push(Setting { knob, value });
    }
}

/// A current value and a maximum, each `None` where the driver leaves it out.
type CurMax = (Option<u32>, Option<u32>);

/// Current value and maximum of a ring field.
fn ring_field(r: &crate::model::Rings, f: &str) -> CurMax {
    match f {
        "rx" => (r.rx, r.rx_max),
        "tx" => (r.tx, r.tx_max),
        "rx_mini" => (r.rx_mini, r.rx_mini_max),
        "rx_jumbo" => (r.rx_jumbo, r.rx_jumbo_max),
        _ => (None, None),
    }
}

/// Current value and maximum of a channel field.
fn channel_field(c: &crate::model::Channels, f: &str) -> CurMax {
    match f {
        "combined" => (c.combined, c.combined_max),
        "rx" => (c.rx, c.rx_max),
        "tx" => (c.tx, c.tx_max),
        "other" => (c.other, c.other_max),
        _ => (None, None),
    }
}

/// The number an amount stands for, given the device maximum (if known) and the number of
/// physical cores local to the NIC. `None` when it needs a maximum that is not known.
pub(crate) fn eval(a: &Amount, max: Option<u32>, local_cores: u32) -> Option<u32> {
    match a {
        Amount::Exact(n) => Some(*n),
        Amount::Max => max,
        Amount::Percent(p) => max.map(|m| ((u64::from(m) * u64::from(*p) / 100) as u32).max(1)),
        Amount::PerLocalCore => Some(max.map_or(local_cores, |m| local_cores.min(m)).max(1)),
        Amount::Min(a, b) => Some(eval(a, max, local_cores)?.min(eval(b, max, local_cores)?)),
    }
}

/// Rings or channels: each field against the device's current value and maximum.
fn counts(
    out: &mut Out,
    iface: &Interface,
    group: &str,
    wanted: &std::collections::BTreeMap<String, Amount>,
    field: &dyn Fn(&str) -> CurMax,
    local_cores: u32,
    knob: &dyn Fn(String) -> Knob,
) -> Result<bool, ResolveError> {
    let name = &iface.name;
    let mut changes_count = false;
    for (f, amount) in wanted {
        let (cur, max) = field(f);
        if (cur.is_none() && max.is_none()) || max == Some(0) {
            out.notes.push(format!(
                "{name}: {group} {f} not supported by the driver, skipped"
            ));
            continue;
        }
        let Some(v) = eval(amount, max, local_cores) else {
            out.notes.push(format!(
                "{name}: {group} {f} '{amount}' skipped, the driver reports no maximum"
            ));
            continue;
        };
        if let Some(m) = max {
            if v > m {
                return Err(ResolveError::AboveMax {
                    iface: name.clone(),
                    knob: format!("{group} {f}"),
                    value: v,
                    max: m,
                });
            }
        }
        if !matches!(amount, Amount::Exact(_)) {
            out.notes
                .push(format!("{name}: {group} {f} '{amount}' = {v}"));
        }
        if cur != Some(v) {
            changes_count = true;
        }
        out.push(knob(f.clone()), Value::Num(u64::from(v)));
    }
    Ok(changes_count)
}

fn queues(iface: &Interface, dir: Dir) -> Vec<&Queue> {
    let mut q: Vec<&Queue> = iface.queues.iter().filter(|q| q.dir == dir).collect();
    q.sort_by_key(|q| q.index);
    q
}

/// Receive and transmit queue counts after this interface's channel settings in `out`:
/// `combined` plus the dedicated `rx` / `tx` channels (the kernel's `real_num_rx/tx_queues`).
fn surviving_queues(out: &Out, iface: &Interface) -> (u32, u32) {
    let cur = |f: &str| match &iface.channels {
        Avail::Ok(c) => channel_field(c, f).0.unwrap_or(0),
        Avail::Na(_) => 0,
    };
    let want = |f: &str| {
        out.settings
            .iter()
            .find_map(|st| match (&st.knob, &st.value) {
                (Knob::Channel { iface: i, field }, Value::Num(n))
                    if *i == iface.name && field == f =>
                {
                    u32::try_from(*n).ok()
                }
                _ => None,
            })
            .unwrap_or_else(|| cur(f))
    };
    let combined = want("combined");
    (combined + want("rx"), combined + want("tx"))
}

fn resolve_iface(
    out: &mut Out,
    state: &NodeState,
    iface: &Interface,
    s: &Settings,
) -> Result<(), ResolveError> {
    let name = iface.name.clone();
    let topo = &state.topology;
    let local_cores = {
        let mut scratch = Vec::new();
        let node = nic_node_cpus(topo, iface, "per-local-core", &mut scratch);
        physical_cores(topo, &node) as u32
    };
    let mut queue_count_changes = false;

    if !s.rings.is_empty() {
        match &iface.rings {
            Avail::Na(r) => out
                .notes
                .push(format!("{name}: rings skipped, {}", r.reason)),
            Avail::Ok(r) => {
                counts(
                    out,
                    iface,
                    "rings",
                    &s.rings,
                    &|f| ring_field(r, f),
                    local_cores,
                    &|field| Knob::Ring {
                        iface: name.clone(),
                        field,
                    },
                )?;
            }
        }
    }
    if !s.channels.is_empty() {
        match &iface.channels {
            Avail::Na(r) => out
                .notes
                .push(format!("{name}: channels skipped, {}", r.reason)),
            Avail::Ok(c) => {
                queue_count_changes = counts(
                    out,
                    iface,
                    "channels",
                    &s.channels,
                    &|f| channel_field(c, f),
                    local_cores,
                    &|field| Knob::Channel {
                        iface: name.clone(),
                        field,
                    },
                )?;
            }
        }
    }
    if !s.coalesce.is_empty() {
        match &iface.coalesce {
            Avail::Na(r) => out
                .notes
                .push(format!("{name}: coalesce skipped, {}", r.reason)),
            Avail::Ok(c) => {
                let cur = serde_json::to_value(c).unwrap_or_default();
                for (f, v) in &s.coalesce {
                    if cur.get(f).is_none_or(serde_json::Value::is_null) {
                        out.notes.push(format!(
                            "{name}: coalesce {f} not supported by the driver, skipped"
                        ));
                    } else {
                        out.push(
                            Knob::Coalesce {
                                iface: name.clone(),
                                field: f.clone(),
                            },
                            v.clone(),
                        );
                    }
                }
            }
        }
    }
    if !s.pause.is_empty() {
        match &iface.pause {
            Avail::Na(r) => out
                .notes
                .push(format!("{name}: pause skipped, {}", r.reason)),
            Avail::Ok(_) => {
                for (f, v) in &s.pause {
                    out.push(
                        Knob::Pause {
                            iface: name.clone(),
                            field: f.clone(),
                        },
                        Value::Bool(*v),
                    );
                }
            }
        }
    }
    if !s.features.is_empty() {
        match &iface.features {
            Avail::Na(r) => out
                .notes
                .push(format!("{name}: features skipped, {}", r.reason)),
            Avail::Ok(list) => {
                for (f, on) in &s.features {
                    match list.iter().find(|x| x.name == *f) {
                        None => out.notes.push(format!(
                            "{name}: feature {f} not offered by the driver, skipped"
                        )),
                        Some(x) if x.fixed && x.active != *on => out.notes.push(format!(
                            "{name}: feature {f} is fixed {}, skipped",
                            if x.active { "on" } else { "off" }
                        )),
                        Some(_) => out.push(
                            Knob::Feature {
                                iface: name.clone(),
                                name: f.clone(),
                            },
                            Value::Bool(*on),
                        ),
                    }
                }
            }
        }
    }
    if let Some(m) = s.mtu {
        out.push(
            Knob::Mtu {
                iface: name.clone(),
            },
            Value::Num(u64::from(m)),
        );
    }
    if let Some(q) = s.txqueuelen {
        out.push(
            Knob::TxQueueLen {
                iface: name.clone(),
            },
            Value::Num(u64::from(q)),
        );
    }
    // Queues that exist once the profile's own channel settings are applied: steering for
    // queues a channel change removes would fail at apply time.
    let (keep_rx, keep_tx) = if queue_count_changes {
        surviving_queues(out, iface)
    } else {
        (u32::MAX, u32::MAX)
    };
    let steering = s.rps.is_some() || s.xps.is_some() || s.irq.is_some();
    if queue_count_changes && steering {
        out.notes.push(format!(
            "{name}: channels change the queue count; rps, xps and IRQ settings cover the \
             {keep_rx} rx / {keep_tx} tx queues that remain"
        ));
    }
    if let Some(r) = &s.rps {
        let rx: Vec<&Queue> = queues(iface, Dir::Rx)
            .into_iter()
            .filter(|q| q.index < keep_rx)
            .collect();
        if rx.is_empty() {
            out.notes
                .push(format!("{name}: rps skipped, no receive queues"));
        }
        if let Some(spec) = &r.cpus {
            let set = resolve_with_exclude(
                spec,
                r.exclude.as_ref(),
                true,
                topo,
                iface,
                "rps cpus",
                &mut out.notes,
            )?;
            let mut missing = Vec::new();
            for q in &rx {
                if q.rps_cpus.is_some() {
                    out.push(
                        Knob::Rps {
                            iface: name.clone(),
                            queue: q.index,
                        },
                        Value::Cpus(set.clone()),
                    );
                } else {
                    missing.push(q.index);
                }
            }
            note_missing(out, &name, "rps_cpus", "rx", &missing);
        } else if r.exclude.is_some() {
            return Err(ResolveError::MissingCpus {
                iface: name,
                what: "rps".to_string(),
            });
        }
        if let Some(n) = r.flow_cnt {
            let mut missing = Vec::new();
            for q in &rx {
                if q.rps_flow_cnt.is_some() {
                    out.push(
                        Knob::RpsFlowCnt {
                            iface: name.clone(),
                            queue: q.index,
                        },
                        Value::Num(u64::from(n)),
                    );
                } else {
                    missing.push(q.index);
                }
            }
            note_missing(out, &name, "rps_flow_cnt", "rx", &missing);
        }
    }
    if let Some(x) = &s.xps {
        let Some(spec) = &x.cpus else {
            return Err(ResolveError::MissingCpus {
                iface: name,
                what: "xps".to_string(),
            });
        };
        let set = resolve_with_exclude(
            spec,
            x.exclude.as_ref(),
            true,
            topo,
            iface,
            "xps cpus",
            &mut out.notes,
        )?;
        let order = spread_order(topo, &set);
        let tx: Vec<&Queue> = queues(iface, Dir::Tx)
            .into_iter()
            .filter(|q| q.index < keep_tx)
            .collect();
        if tx.is_empty() {
            out.notes
                .push(format!("{name}: xps skipped, no transmit queues"));
        }
        let mut missing = Vec::new();
        let mut k = 0usize;
        for q in &tx {
            if q.xps_cpus.is_none() {
                missing.push(q.index);
                continue;
            }
            let v = match x.mode.unwrap_or(XpsMode::Spread) {
                XpsMode::All => set.clone(),
                XpsMode::Spread if order.is_empty() => set.clone(),
                XpsMode::Spread => crate::model::CpuSet::from_cpus([order[k % order.len()]]),
            };
            k += 1;
            out.push(
                Knob::Xps {
                    iface: name.clone(),
                    queue: q.index,
                },
                Value::Cpus(v),
            );
        }
        note_missing(out, &name, "xps_cpus", "tx", &missing);
    }
    if let Some(i) = &s.irq {
        let Some(spec) = &i.cpus else {
            return Err(ResolveError::MissingCpus {
                iface: name,
                what: "irq_affinity".to_string(),
            });
        };
        let set = resolve_with_exclude(
            spec,
            i.exclude.as_ref(),
            false,
            topo,
            iface,
            "irq_affinity cpus",
            &mut out.notes,
        )?;
        let mut irqs: Vec<(u32, u32)> = iface
            .irqs
            .iter()
            .filter_map(|q| q.queue.map(|n| (n, q.irq)))
            .collect();
        if queue_count_changes {
            // Drivers re-allocate their vectors when the queue count changes (igb frees and
            // requests all of them): today's IRQ numbers say nothing about tomorrow's.
            out.notes.push(format!(
                "{name}: irq_affinity left for the next run: the channel change re-allocates \
                 IRQ vectors; run the same `dpuctl tune` again to place them"
            ));
            irqs.clear();
        }
        irqs.sort_unstable();
        if irqs.is_empty() {
            out.notes.push(format!(
                "{name}: irq_affinity skipped, no per-queue IRQs found"
            ));
        }
        let order = spread_order(topo, &set);
        // By queue index, not position: a NIC with separate rx and tx vectors per queue
        // (igb, ixgbe) keeps each queue's pair on one CPU instead of all rx IRQs on one CPU.
        for (queue, irq) in &irqs {
            let v = if i.spread.unwrap_or(true) {
                crate::model::CpuSet::from_cpus([order[*queue as usize % order.len()]])
            } else {
                set.clone()
            };
            out.push(
                Knob::IrqAffinity {
                    iface: name.clone(),
                    irq: *irq,
                },
                Value::Cpus(v),
            );
        }
    }
    Ok(())
}

fn note_missing(out: &mut Out, name: &str, file: &str, dir: &str, missing: &[u32]) {
    if missing.is_empty() {
        return;
    }
    let mut list = String::new();
    for (i, q) in missing.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        let _ = write!(list, "{q}");
    }
    out.notes.push(format!(
        "{name}: {file} not available on {dir} queue(s) {list}, skipped"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Channels, Coalesce, CpuSet, Feature, Irq, LinkInfo, Pause, Rings, Sysctl};
    use crate::profile::cpus::tests::{nic, topology};

    fn queue(dir: Dir, index: u32) -> Queue {
        Queue {
            dir,
            index,
            rps_cpus: (dir == Dir::Rx).then(CpuSet::new),
            rps_flow_cnt: (dir == Dir::Rx).then_some(0),
            xps_cpus: (dir == Dir::Tx).then(CpuSet::new),
            tx_timeout: None,
        }
    }

    /// eth2 like the fixture's (node 1, 8 queues and queue IRQs 121-128), but with the
    /// ethtool settings a live mlx5 reports.
    fn eth2() -> Interface {
        let mut i = nic("eth2", Some(1));
        i.rings = Avail::Ok(Rings {
            rx_max: Some(8192),
            tx_max: Some(8192),
            rx: Some(1024),
            tx: Some(1024),
            ..Rings::default()
        });
        i.channels = Avail::Ok(Channels {
            combined_max: Some(63),
            combined: Some(8),
            rx_max: Some(0),
            tx_max: Some(0),
            other_max: Some(0),
            ..Channels::default()
        });
        i.coalesce = Avail::Ok(Coalesce {
            rx_usecs: Some(8),
            tx_usecs: Some(16),
            use_adaptive_rx: Some(true),
            use_adaptive_tx: Some(true),
            ..Coalesce::default()
        });
        i.pause = Avail::Ok(Pause::default());
        i.features = Avail::Ok(
            [
                ("rx-gro", false),
                ("rx-lro", false),
                ("tx-tcp-segmentation", false),
            ]
            .iter()
            .map(|(n, fixed)| Feature {
                name: (*n).to_string(),
                active: true,
                wanted: true,
                fixed: *fixed,
            })
            .chain([Feature {
                name: "rx-gro-hw".into(),
                active: false,
                wanted: false,
                fixed: true,
            }])
            .collect(),
        );
        i.link = Avail::Ok(LinkInfo {
            speed_mbps: Some(100_000),
            ..LinkInfo::default()
        });
        i.queues = (0..8)
            .map(|q| queue(Dir::Rx, q))
            .chain((0..8).map(|q| queue(Dir::Tx, q)))
            .collect();
        i.irqs = std::iter::once((120, None))
            .chain((0..8).map(|q| (121 + q, Some(q))))
            .map(|(irq, queue)| Irq {
                irq,
                name: format!("mlx5_comp{irq}"),
                queue,
                count: 0,
                affinity: None,
                effective: None,
                nic_local: None,
                gpu_local: None,
            })
            .collect();
        i
    }

    fn state(ifaces: Vec<Interface>) -> NodeState {
        NodeState {
            schema: crate::model::SNAPSHOT_SCHEMA,
            hostname: "h".into(),
            kernel: "6.12".into(),
            taken_at_ms: 0,
            topology: topology(2, 4, &[("0000:c1:00.0", 1)]),
            interfaces: ifaces,
            sysctls: vec![
                Sysctl {
                    name: "net.core.rmem_max".into(),
                    value: Avail::Ok("212992".into()),
                },
                Sysctl {
                    name: "net.core.busy_poll".into(),
                    value: Avail::na("absent in this network namespace or kernel"),
                },
            ],
            softnet: Vec::new(),
        }
    }

    fn profile(blocks: &str) -> Profile {
        let text = format!("name: t\ndescription: test\n{blocks}");
        Profile::from_yaml("t", &text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn lines(r: &Resolved) -> Vec<String> {
        r.settings
            .iter()
            .map(|s| format!("{} = {}", s.knob, s.value))
            .collect()
    }

    #[test]
    fn max_fractions_min_and_per_local_core() {
        let st = state(vec![eth2()]);
        let p = profile(
            "interfaces:\n  - match: {name: eth*}\n    rings: {rx: max, tx: 25%}\n    channels: {combined: per-local-core}\n",
        );
        let r = resolve(&p, &st, &[]).expect("resolve");
        assert_eq!(
            lines(&r),
            [
                "eth2 rings rx = 8192",
                "eth2 rings tx = 2048",
                "eth2 channels combined = 4"
            ]
        );
        assert!(r.notes.contains(&"eth2: rings rx 'max' = 8192".to_string()));
        assert!(r
            .notes
            .contains(&"eth2: channels combined 'per-local-core' = 4".to_string()));
        // min(4096, max): 4096 where the NIC can, its maximum where it cannot.
        let p =
            profile("interfaces:\n  - match: {name: eth*}\n    rings: {rx: 'min(4096, max)'}\n");
        let r = resolve(&p, &st, &[]).expect("resolve");
        assert_eq!(lines(&r), ["eth2 rings rx = 4096"]);
        let mut small = eth2();
        if let Avail::Ok(rings) = &mut small.rings {
            rings.rx_max = Some(2047);
        }
        let r = resolve(&p, &state(vec![small]), &[]).expect("resolve");
        assert_eq!(lines(&r), ["eth2 rings rx = 2047"]);
        // per-local-core is capped at the maximum.
        let mut few = eth2();
        if let Avail::Ok(c) = &mut few.channels {
            c.combined_max = Some(2);
        }
        let p = profile(
            "interfaces:\n  - match: {name: eth*}\n    channels: {combined: per-local-core}\n",
        );
        let r = resolve(&p, &state(vec![few]), &[]).expect("resolve");
        assert_eq!(lines(&r), ["eth2 channels combined = 2"]);
    }

    #[test]
    fn steering_covers_only_the_queues_a_channel_change_keeps() {
        let p = profile(
            "interfaces:\n  - match: {name: eth2}\n    channels: {combined: 2}\n    \
             xps: {cpus: '4-5'}\n    rps: {cpus: '4-5'}\n    irq_affinity: {cpus: '4-5'}\n",
        );
        let r = resolve(&p, &state(vec![eth2()]), &[]).expect("resolve");
        for s in &r.settings {
            match &s.knob {
                Knob::Rps { queue, .. }
                | Knob::Xps { queue, .. }
                | Knob::RpsFlowCnt { queue, .. } => {
                    assert!(*queue < 2, "{} planned for a removed queue", s.knob);
                }
                _ => {}
            }
        }
        let xps = r
            .settings
            .iter()
            .filter(|s| matches!(s.knob, Knob::Xps { .. }))
            .count();
        assert_eq!(xps, 2, "{:?}", lines(&r));
        let irqs: Vec<u32> = r
            .settings
            .iter()
            .filter_map(|s| match s.knob {
                Knob::IrqAffinity { irq, .. } => Some(irq),
                _ => None,
            })
            .collect();
        assert!(
            irqs.is_empty(),
            "IRQ numbers change with the queue count: {irqs:?}"
        );
        assert!(r
            .notes
            .iter()
            .any(|n| n.contains("irq_affinity left for the next run")));
    }

    #[test]
    fn above_max_is_an_error_naming_interface_and_max() {
        let st = state(vec![eth2()]);
        let p = profile("interfaces:\n  - match: {name: eth2}\n    rings: {rx: 16384}\n");
        assert_eq!(
            resolve(&p, &st, &[]).expect_err("too big").to_string(),
            "eth2: rings rx 16384 is above the device maximum 8192"
        );
        let p = profile("interfaces:\n  - match: {name: eth2}\n    channels: {combined: 64}\n");
        assert_eq!(
            resolve(&p, &st, &[]).expect_err("too big").to_string(),
            "eth2: channels combined 64 is above the device maximum 63"
        );
    }

    #[test]
    fn unsupported_knobs_are_skipped_with_a_note() {
        let st = state(vec![eth2(), nic("eno1", Some(0))]);
        let p = profile(
            "interfaces:\n  - match: {pci: true}\n    rings: {rx: max, rx_jumbo: 100}\n    channels: {rx: 4}\n    coalesce: {rx_usecs: 0, rx_usecs_irq: 2}\n    features: {gro: off, rx-gro-hw: on, ntuple: on}\n    pause: {rx: off}\nsysctl:\n  net.core.rmem_max: 16777216\n  net.core.busy_poll: 50\n",
        );
        let r = resolve(&p, &st, &[]).expect("resolve");
        assert_eq!(
            lines(&r),
            [
                "sysctl net.core.rmem_max = \"16777216\"",
                "eth2 rings rx = 8192",
                "eth2 coalesce rx_usecs = 0",
                "eth2 pause rx = off",
                "eth2 feature rx-gro = off",
            ]
        );
        for note in [
            "sysctl net.core.busy_poll: skipped, absent in this network namespace or kernel",
            "eth2: rings rx_jumbo not supported by the driver, skipped",
            "eth2: channels rx not supported by the driver, skipped",
            "eth2: coalesce rx_usecs_irq not supported by the driver, skipped",
            "eth2: feature rx-gro-hw is fixed off, skipped",
            "eth2: feature rx-ntuple-filter not offered by the driver, skipped",
            "eno1: rings skipped, x",
            "eno1: channels skipped, x",
        ] {
            assert!(
                r.notes.contains(&note.to_string()),
                "{note:?} in {:#?}",
                r.notes
            );
        }
    }

    #[test]
    fn selection_merging_and_only_ifaces() {
        let mut lo = nic("lo", None);
        lo.pci_address = None;
        let st = state(vec![eth2(), lo, nic("eno1", Some(0))]);
        let p = profile(
            "interfaces:\n  - match: {pci: true}\n    mtu: 9000\n    txqueuelen: 5000\n  - match: {name: eth2, min_speed_mbps: 25000}\n    mtu: 4200\n  - match: {driver: igb}\n    mtu: 1500\n",
        );
        let r = resolve(&p, &st, &[]).expect("resolve");
        assert_eq!(
            lines(&r),
            [
                "eno1 mtu = 9000",
                "eno1 txqueuelen = 5000",
                "eth2 mtu = 4200",
                "eth2 txqueuelen = 5000",
            ]
        );
        assert!(r
            .notes
            .contains(&"lo: skipped, matched no block".to_string()));
        assert!(r
            .notes
            .contains(&"eth2: uses t interfaces[0], t interfaces[1]".to_string()));
        assert!(!r.notes.contains(
            &"eno1: t interfaces[1] not applied, its link speed is not known".to_string()
        ));
        let r = resolve(&p, &st, &["eno1".to_string()]).expect("resolve");
        assert_eq!(lines(&r), ["eno1 mtu = 9000", "eno1 txqueuelen = 5000"]);
        assert_eq!(
            resolve(&p, &st, &["eth9".to_string()])
                .expect_err("unknown")
                .to_string(),
            "no interface 'eth9' on this node (have: eth2, lo, eno1)"
        );
        // Unknown link speed: the block is not applied, with a note.
        let mut slow = eth2();
        slow.link = Avail::na("x");
        let r = resolve(&p, &state(vec![slow]), &[]).expect("resolve");
        assert_eq!(lines(&r), ["eth2 mtu = 9000", "eth2 txqueuelen = 5000"]);
        assert!(r.notes.contains(
            &"eth2: t interfaces[1] not applied, its link speed is not known".to_string()
        ));
    }

    #[test]
    fn irqs_spread_over_physical_cores_first_and_xps_and_rps() {
        let st = state(vec![eth2()]);
        let p = profile(
            "interfaces:\n  - match: {name: eth2}\n    irq_affinity: {cpus: nic-numa, exclude: '7', spread: true}\n    xps: {cpus: gpu-numa}\n    rps: {cpus: none, flow_cnt: 0}\n",
        );
        let r = resolve(&p, &st, &[]).expect("resolve");
        let irq: Vec<String> = r
            .settings
            .iter()
            .filter(|s| matches!(s.knob, Knob::IrqAffinity { .. }))
            .map(|s| format!("{} = {}", s.knob, s.value))
            .collect();
        // Node 1 is 4-7,12-15; without 7: cores 4,5,6 and 15 (7's sibling) first.
        assert_eq!(
            irq,
            [
                "eth2 irq 121 affinity = 4",
                "eth2 irq 122 affinity = 5",
                "eth2 irq 123 affinity = 6",
                "eth2 irq 124 affinity = 15",
                "eth2 irq 125 affinity = 12",
                "eth2 irq 126 affinity = 13",
                "eth2 irq 127 affinity = 14",
                "eth2 irq 128 affinity = 4",
            ]
        );
        let xps: Vec<String> = r
            .settings
            .iter()
            .filter(|s| matches!(s.knob, Knob::Xps { .. }))
            .map(|s| s.value.to_string())
            .collect();
        assert_eq!(xps, ["4", "5", "6", "7", "12", "13", "14", "15"]);
        let rps = r
            .settings
            .iter()
            .filter(|s| matches!(s.knob, Knob::Rps { .. }))
            .count();
        assert_eq!(rps, 8);
        assert!(r
            .settings
            .iter()
            .any(|s| s.knob.to_string() == "eth2 rx-0 rps_cpus" && s.value.to_string() == "none"));
        assert!(r.notes.contains(
            &"eth2: xps cpus gpu-numa = 4-7,12-15 (node 1 of GPU 0000:c1:00.0)".to_string()
        ));
        // Whole set per IRQ; xps mode all.
        let p = profile(
            "interfaces:\n  - match: {name: eth2}\n    irq_affinity: {cpus: '0-3', spread: false}\n    xps: {cpus: all, mode: all}\n",
        );
        let r = resolve(&p, &st, &[]).expect("resolve");
        assert!(r
            .settings
            .iter()
            .filter(|s| matches!(s.knob, Knob::IrqAffinity { .. }))
            .all(|s| s.value.to_string() == "0-3"));
        assert!(r
            .settings
            .iter()
            .filter(|s| matches!(s.knob, Knob::Xps { .. }))
            .all(|s| s.value.to_string() == "0-15"));
        // IRQ affinity without cpus anywhere, and an empty IRQ set, are errors.
        let p =
            profile("interfaces:\n  - match: {name: eth2}\n    irq_affinity: {spread: false}\n");
        assert_eq!(
            resolve(&p, &st, &[]).expect_err("no cpus").to_string(),
            "eth2: irq_affinity has no cpus in the blocks that match eth2"
        );
        let p = profile("interfaces:\n  - match: {name: eth2}\n    irq_affinity: {cpus: none}\n");
        assert!(matches!(
            resolve(&p, &st, &[]),
            Err(ResolveError::NoCpu { .. })
        ));
    }

    #[test]
    fn settings_are_ordered_sysctls_first_then_by_interface() {
        let st = state(vec![eth2(), nic("eno1", Some(0))]);
        let p = profile(
            "interfaces:\n  - match: {pci: true}\n    mtu: 9000\n    irq_affinity: {cpus: nic-numa}\n    rings: {rx: 512}\nsysctl:\n  net.core.wmem_max: 1\n  net.core.rmem_max: 2\n",
        );
        let r = resolve(&p, &st, &[]).expect("resolve");
        let objects: Vec<&str> = r.settings.iter().map(|s| s.knob.object()).collect();
        assert_eq!(objects[..3], ["sysctl", "sysctl", "eno1"]);
        assert_eq!(r.settings[0].knob.to_string(), "sysctl net.core.rmem_max");
        let eth2: Vec<String> = r
            .settings
            .iter()
            .filter(|s| s.knob.object() == "eth2")
            .map(|s| s.knob.to_string())
            .take(3)
            .collect();
        assert_eq!(eth2, ["eth2 rings rx", "eth2 mtu", "eth2 irq 121 affinity"]);
    }

    #[test]
    fn eval_amounts() {
        assert_eq!(eval(&Amount::Percent(50), Some(8192), 4), Some(4096));
        assert_eq!(
            eval(&Amount::Percent(1), Some(50), 4),
            Some(1),
            "at least 1"
        );
        assert_eq!(eval(&Amount::Max, None, 4), None);
        assert_eq!(eval(&Amount::PerLocalCore, None, 4), Some(4));
        assert_eq!(eval(&Amount::PerLocalCore, Some(2), 4), Some(2));
        let m = Amount::Min(Box::new(Amount::Exact(4096)), Box::new(Amount::Max));
        assert_eq!(eval(&m, Some(1024), 4), Some(1024));
        assert_eq!(eval(&m, None, 4), None);
    }
}
