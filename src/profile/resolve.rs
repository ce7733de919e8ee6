//! Stage three: what a profile means on one node.
//!
//! Sysctls come first, then every interface in name order with its knobs in a stable order
//! (rings, channels, coalesce, pause, features, mtu, txqueuelen, rps, `rps_flow_cnt`, xps, IRQ
//! affinity). A knob the node reports as n/a, or a field the driver leaves out, is not an
//! error: it is left out of the settings and listed in [`Resolved::skipped`] with the reason.
//! An interface block that matches no interface of the node is an error unless the block is
//! `optional: true`. Every error is collected, so one run reports them all.

use serde::Serialize;

use crate::model::{Avail, Dir, Interface, Knob, NodeState, Queue, Setting, SkippedSetting, Value};

use super::cpus::{nic_node_cpus, physical_cores, resolve_with_exclude, spread_order};
use super::glob;
use super::validate::{sysctl_floor, Amount, Block, Selector, Settings, XpsMode};
use super::Profile;

/// What a profile resolves to on a node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    /// The profile's name.
    pub profile: String,
    /// Settings: sysctls first (by name), then per interface (by name) in knob order.
    pub settings: Vec<Setting>,
    /// How policies and blocks were resolved, in the same order.
    pub notes: Vec<String>,
    /// Settings the profile asks for that are left out on this node, with the reason.
    pub skipped: Vec<SkippedSetting>,
    /// Settings a rule adds to what the profile names, each with why (`eth2: pause rx/tx
    /// off: pfc is on ...`); also in `notes`. `tune` prints them with the plan.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub implied: Vec<String>,
    /// What `check` expects of the pluggable modules, per interface (never written).
    pub modules: Vec<ModuleExpect>,
}

/// A `module:` expectation resolved for one interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModuleExpect {
    /// The interface.
    pub iface: String,
    /// The cable or optic class wanted.
    pub cable: Option<crate::model::module::CableClass>,
    /// The least receive power every lane must have, dBm.
    pub min_rx_power_dbm: Option<f64>,
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
    #[error("{iface}: {knob} {value} is above the device maximum {max}{hint}")]
    AboveMax {
        /// Interface.
        iface: String,
        /// `rings rx`, `channels combined`.
        knob: String,
        /// The value asked for.
        value: u32,
        /// The device's maximum.
        max: u32,
        /// Empty, or how to write the setting so that it fits.
        hint: String,
    },
    /// A `qos:` block that does not fit the interface (mqprio classes needing more transmit
    /// queues than it has).
    #[error("{iface}: qos: {reason}")]
    Qos {
        /// Interface.
        iface: String,
        /// Why.
        reason: String,
    },
    /// PFC on and global pause on for one interface, from two blocks (one block asking for
    /// both is refused when the file is read, with its position).
    #[error(
        "{iface}: pfc on priorities {pfc} ({pfc_block}) and global pause {field} on \
         ({pause_block}): link-level pause stops every priority, lossy traffic with the \
         lossless; leave pause out (pfc turns it off) or set it off"
    )]
    PfcWithPause {
        /// Interface.
        iface: String,
        /// The PFC priorities.
        pfc: String,
        /// The block that turns PFC on.
        pfc_block: String,
        /// `rx` or `tx`.
        field: String,
        /// The block that turns pause on.
        pause_block: String,
    },
    /// A block that is not `optional: true` and matches no interface of the node.
    #[error(
        "{block} (match {selector}) matches no interface{detail}; mark the block \
         'optional: true' where not every node has one"
    )]
    NoMatch {
        /// Where the block is written: `interfaces[0]`, or `throughput interfaces[0]` for a
        /// parent's block.
        block: String,
        /// The criteria, as written.
        selector: String,
        /// Empty, or ` (undecided on eth2: its link speed is not known)`.
        detail: String,
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

/// Every reason a profile cannot be resolved on a node, one line each, in profile order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ResolveErrors(pub Vec<ResolveError>);

/// The block's place without the profile name when it is the profile's own block
/// (`interfaces[0]`); a parent's block keeps its profile (`throughput interfaces[0]`).
fn block_place(profile: &str, origin: &str) -> String {
    origin
        .strip_prefix(profile)
        .and_then(|r| r.strip_prefix(' '))
        .unwrap_or(origin)
        .to_string()
}

/// Resolves a profile on a node. `only_ifaces` restricts the interfaces (all when empty);
/// sysctls are node-wide and always included. Every error is collected; with `only_ifaces`,
/// a block that matches none of them is not an error (the node's other interfaces were not
/// read).
pub fn resolve(
    profile: &Profile,
    state: &NodeState,
    only_ifaces: &[String],
) -> Result<Resolved, ResolveErrors> {
    let mut out = Out::default();
    for n in only_ifaces {
        if state.interface(n).is_none() {
            out.errors.push(ResolveError::UnknownInterface {
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
    if !out.errors.is_empty() {
        return Err(ResolveErrors(out.errors));
    }
    for (name, value) in &profile.sysctls {
        let knob = Knob::Sysctl { name: name.clone() };
        match state
            .sysctls
            .iter()
            .find(|s| s.name == *name)
            .map(|s| &s.value)
        {
            Some(Avail::Na(r)) => {
                out.skipped
                    .push(SkippedSetting::knob(knob, value.clone(), r.reason.clone()));
            }
            _ => match sysctl_floor(value) {
                Some(floor) => out
                    .settings
                    .push(Setting::at_least(knob, Value::Text(floor.to_string()))),
                None => out.push(knob, Value::Text(value.clone())),
            },
        }
    }
    // Per block: matched some interface, and why it was undecided where it was.
    let mut block_hits: Vec<(bool, Vec<String>)> = vec![(false, Vec::new()); profile.blocks.len()];
    let mut ifaces: Vec<&Interface> = state
        .interfaces
        .iter()
        .filter(|i| only_ifaces.is_empty() || only_ifaces.contains(&i.name))
        .collect();
    ifaces.sort_by(|a, b| a.name.cmp(&b.name));
    for iface in ifaces {
        let mut matched: Vec<&Block> = Vec::new();
        for (b, hit) in profile.blocks.iter().zip(block_hits.iter_mut()) {
            match select(&b.selector, iface) {
                Verdict::Yes => {
                    hit.0 = true;
                    matched.push(b);
                }
                Verdict::No => {}
                Verdict::Unknown(why) => {
                    out.notes
                        .push(format!("{}: {} not applied, {why}", iface.name, b.origin));
                    out.skipped.push(SkippedSetting::section(
                        &iface.name,
                        &b.origin,
                        "",
                        format!("block not applied, {why}"),
                    ));
                    hit.1.push(format!("{}: {why}", iface.name));
                }
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
        if let Some(e) = pfc_with_pause(&profile.name, iface, &matched, &s) {
            out.errors.push(e);
            continue;
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
        pause_off_with_pfc(&mut out, iface, &mut s);
        resolve_iface(&mut out, state, iface, &s);
    }
    if only_ifaces.is_empty() {
        for (b, (hit, undecided)) in profile.blocks.iter().zip(&block_hits) {
            if !hit && !b.optional {
                out.errors.push(ResolveError::NoMatch {
                    block: block_place(&profile.name, &b.origin),
                    selector: b.selector.to_string(),
                    detail: if undecided.is_empty() {
                        String::new()
                    } else {
                        format!(" (undecided on {})", undecided.join(", "))
                    },
                });
            }
        }
    }
    if !out.errors.is_empty() {
        return Err(ResolveErrors(out.errors));
    }
    out.settings
        .sort_by(|a, b| sort_key(&a.knob).cmp(&sort_key(&b.knob)));
    Ok(Resolved {
        profile: profile.name.clone(),
        settings: out.settings,
        notes: out.notes,
        skipped: out.skipped,
        implied: out.implied,
        modules: out.modules,
    })
}

/// PFC on (from one block) with global pause rx or tx on (from another) for `iface`.
fn pfc_with_pause(
    profile: &str,
    iface: &Interface,
    matched: &[&Block],
    s: &Settings,
) -> Option<ResolveError> {
    let pfc = s.pfc.as_ref().filter(|p| !p.is_empty())?;
    let field = ["rx", "tx"]
        .into_iter()
        .find(|f| s.pause.get(*f) == Some(&true))?;
    let last = |f: &dyn Fn(&Block) -> bool| {
        matched
            .iter()
            .rev()
            .find(|b| f(b))
            .map(|b| block_place(profile, &b.origin))
            .unwrap_or_default()
    };
    Some(ResolveError::PfcWithPause {
        iface: iface.name.clone(),
        pfc: crate::model::dcb::pfc_text(pfc.iter().fold(0u8, |b, p| b | (1 << p))),
        pfc_block: last(&|b| b.settings.pfc.is_some()),
        field: field.to_string(),
        pause_block: last(&|b| b.settings.pause.contains_key(field)),
    })
}

/// Where a profile turns PFC on and says nothing of global pause rx/tx, pause goes off with
/// it (802.3x pause stops every priority; PFC's point is stopping only the lossless one), on
/// interfaces whose driver has PFC. Told in a note, which the plan prints.
fn pause_off_with_pfc(out: &mut Out, iface: &Interface, s: &mut Settings) {
    let Some(pfc) = s.pfc.as_ref().filter(|p| !p.is_empty()) else {
        return;
    };
    if s.pause.contains_key("rx") || s.pause.contains_key("tx") {
        return;
    }
    let prios = crate::model::dcb::pfc_text(pfc.iter().fold(0u8, |b, p| b | (1 << p)));
    match iface.dcb.as_ref() {
        Some(Avail::Ok(d)) if d.pfc.is_some() => {
            s.pause.insert("rx".into(), false);
            s.pause.insert("tx".into(), false);
            let why = format!(
                "{}: pause rx/tx off: pfc is on for priorities {prios}, and link-level pause \
                 would stop every priority",
                iface.name
            );
            out.notes.push(why.clone());
            out.implied.push(why);
        }
        Some(Avail::Na(r)) => out.notes.push(format!(
            "{}: pause left as it is: pfc is n/a ({})",
            iface.name, r.reason
        )),
        _ => {}
    }
}

/// Hardware ETS for the `qos` classes on `iface`, or why there is none.
fn hardware_ets(
    iface: &Interface,
    q: &crate::model::qos::QosSpec,
) -> Result<crate::model::dcb::EtsSpec, String> {
    let classes: Vec<(Vec<u8>, Option<u32>, bool)> = q
        .classes
        .iter()
        .map(|c| (c.priorities.clone(), c.share, c.strict))
        .collect();
    let d = match iface.dcb.as_ref() {
        None => return Err("DCB not read (a --sysfs-root tree or an older snapshot)".into()),
        Some(Avail::Na(r)) => return Err(r.reason.clone()),
        Some(Avail::Ok(d)) => d,
    };
    let e = d.ets.as_ref().ok_or("the driver reports no ETS")?;
    crate::model::dcb::ets_from_classes(&classes, e.ets_cap)
}

/// The `qos` classes of `iface`: hardware ETS, the software root qdisc, or both n/a, as
/// `offload` says.
fn resolve_qos(out: &mut Out, iface: &Interface, s: &Settings, q: &crate::model::qos::QosSpec) {
    use crate::model::dcb::QosOffload;
    let name = &iface.name;
    let ets_knob = Knob::DcbEts {
        iface: name.clone(),
    };
    let software = |out: &mut Out| match q.qdisc(s.mtu.unwrap_or(iface.mtu), iface.num_tx_queues) {
        // The quanta follow the MTU the interface will have: the profile's, or its own.
        Ok(spec) => out.push(
            Knob::Qdisc {
                iface: name.clone(),
            },
            Value::Text(spec.to_string()),
        ),
        Err(reason) => out.errors.push(ResolveError::Qos {
            iface: name.clone(),
            reason,
        }),
    };
    let mqprio = q.mode == crate::model::qos::QosMode::Mqprio;
    match s.qos_offload {
        QosOffload::Software => software(out),
        QosOffload::Auto if mqprio => software(out),
        QosOffload::Dcb | QosOffload::Auto => match hardware_ets(iface, q) {
            Ok(e) => out.push(ets_knob, Value::Text(e.to_string())),
            Err(why) if s.qos_offload == QosOffload::Dcb => {
                out.skip(ets_knob, &"qos classes", why);
            }
            Err(why) => {
                if iface.dcb.is_some() {
                    out.skip(
                        ets_knob,
                        &"qos classes",
                        format!("{why}; the software qdisc carries the classes"),
                    );
                }
                software(out);
            }
        },
    }
}

fn sort_key(k: &Knob) -> (bool, &str, &Knob) {
    (!matches!(k, Knob::Sysctl { .. }), k.object(), k)
}

#[derive(Default)]
struct Out {
    settings: Vec<Setting>,
    notes: Vec<String>,
    skipped: Vec<SkippedSetting>,
    errors: Vec<ResolveError>,
    modules: Vec<ModuleExpect>,
    implied: Vec<String>,
}

impl Out {
    fn push(&mut self, knob: Knob, value: Value) {
        self.settings.push(Setting::new(knob, value));
    }

    fn skip(&mut self, knob: Knob, want: &impl ToString, reason: impl Into<String>) {
        self.skipped
            .push(SkippedSetting::knob(knob, want.to_string(), reason));
    }

    fn skip_section(&mut self, iface: &str, section: &str, want: String, reason: String) {
        self.skipped
            .push(SkippedSetting::section(iface, section, want, reason));
    }

    /// Keeps the error and goes on, so that one run reports every error.
    fn fail<T>(&mut self, r: Result<T, ResolveError>) -> Option<T> {
        r.map_err(|e| self.errors.push(e)).ok()
    }
}

/// The `rdma_cm` defaults of the RDMA devices whose ports sit on `iface` (and whose name
/// matches `device`): for each device the configfs directory first (made by `mkdir` where
/// it does not exist, which the journal records), then the defaults of each such port.
fn resolve_rdma(
    out: &mut Out,
    state: &NodeState,
    iface: &str,
    r: &crate::profile::validate::RdmaSpec,
) {
    let mut wanted = Vec::new();
    if let Some(t) = r.tos {
        wanted.push((crate::model::rdma::ROCE_TOS, Value::Num(u64::from(t))));
    }
    if let Some(m) = &r.roce_mode {
        wanted.push((crate::model::rdma::ROCE_MODE, Value::Text(m.clone())));
    }
    let mut found = false;
    for dev in &state.rdma {
        let by_name = r.device.as_ref().is_none_or(|globs| {
            globs
                .iter()
                .any(|g| crate::profile::glob::matches(g, &dev.name))
        });
        let ports: Vec<u32> = dev
            .ports
            .iter()
            .filter(|p| {
                p.netdev.as_deref() == Some(iface)
                    || p.gids.iter().any(|g| g.netdev.as_deref() == Some(iface))
            })
            .map(|p| p.port)
            .collect();
        if !by_name || ports.is_empty() {
            continue;
        }
        found = true;
        let dir = Knob::RdmaCmDir {
            device: dev.name.clone(),
        };
        // A device on two matched interfaces gets its settings once.
        if out.settings.iter().any(|s| s.knob == dir) {
            continue;
        }
        out.push(dir, Value::Bool(true));
        for port in ports {
            for (field, v) in &wanted {
                out.push(
                    Knob::RdmaCm {
                        device: dev.name.clone(),
                        port,
                        field: (*field).to_string(),
                    },
                    v.clone(),
                );
            }
        }
    }
    if !found {
        let want: Vec<String> = wanted
            .iter()
            .map(|(f, v)| format!("{f} {}", crate::tune::plan::render_value(v)))
            .collect();
        let which = match &r.device {
            Some(g) => format!("no RDMA device {} on {iface}", g.join(", ")),
            None => format!("no RDMA device on {iface}"),
        };
        out.skip_section(iface, "rdma", want.join(", "), which);
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
        Amount::AtLeast(a) => eval(a, max, local_cores),
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
) -> bool {
    let name = &iface.name;
    let mut changes_count = false;
    for (f, amount) in wanted {
        let (cur, max) = field(f);
        if (cur.is_none() && max.is_none()) || max == Some(0) {
            out.skip(knob(f.clone()), amount, "not supported by the driver");
            continue;
        }
        let Some(v) = eval(amount, max, local_cores) else {
            out.skip(knob(f.clone()), amount, "the driver reports no maximum");
            continue;
        };
        let floor = matches!(amount, Amount::AtLeast(_));
        if let Some(m) = max {
            if v > m {
                out.errors.push(ResolveError::AboveMax {
                    iface: name.clone(),
                    knob: format!("{group} {f}"),
                    value: v,
                    max: m,
                    hint: if floor {
                        format!(" (write '>= min({v}, max)' to settle for the maximum)")
                    } else {
                        String::new()
                    },
                });
                continue;
            }
        }
        let plain = match amount {
            Amount::Exact(_) => true,
            Amount::AtLeast(a) => matches!(**a, Amount::Exact(_)),
            _ => false,
        };
        if !plain {
            out.notes
                .push(format!("{name}: {group} {f} '{amount}' = {v}"));
        }
        if floor {
            if cur.is_none_or(|c| c < v) {
                changes_count = true;
            }
            out.settings
                .push(Setting::at_least(knob(f.clone()), Value::Num(u64::from(v))));
        } else {
            if cur != Some(v) {
                changes_count = true;
            }
            out.push(knob(f.clone()), Value::Num(u64::from(v)));
        }
    }
    changes_count
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

/// Resolves one interface's merged settings into `out`; errors go to `out.errors` and the
/// section they concern is left out.
fn resolve_iface(out: &mut Out, state: &NodeState, iface: &Interface, s: &Settings) {
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
            Avail::Na(r) => {
                for (f, a) in &s.rings {
                    out.skip(
                        Knob::Ring {
                            iface: name.clone(),
                            field: f.clone(),
                        },
                        a,
                        r.reason.clone(),
                    );
                }
            }
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
                );
            }
        }
    }
    if !s.channels.is_empty() {
        match &iface.channels {
            Avail::Na(r) => {
                for (f, a) in &s.channels {
                    out.skip(
                        Knob::Channel {
                            iface: name.clone(),
                            field: f.clone(),
                        },
                        a,
                        r.reason.clone(),
                    );
                }
            }
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
                );
            }
        }
    }
    if !s.coalesce.is_empty() {
        let coal = |f: &String| Knob::Coalesce {
            iface: name.clone(),
            field: f.clone(),
        };
        match &iface.coalesce {
            Avail::Na(r) => {
                for (f, v) in &s.coalesce {
                    out.skip(coal(f), v, r.reason.clone());
                }
            }
            Avail::Ok(c) => {
                let cur = serde_json::to_value(c).unwrap_or_default();
                for (f, v) in &s.coalesce {
                    if cur.get(f).is_none_or(serde_json::Value::is_null) {
                        out.skip(coal(f), v, "not supported by the driver");
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
            Avail::Na(r) => {
                for (f, v) in &s.pause {
                    out.skip(
                        Knob::Pause {
                            iface: name.clone(),
                            field: f.clone(),
                        },
                        &Value::Bool(*v),
                        r.reason.clone(),
                    );
                }
            }
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
        let feat = |f: &String| Knob::Feature {
            iface: name.clone(),
            name: f.clone(),
        };
        match &iface.features {
            Avail::Na(r) => {
                for (f, on) in &s.features {
                    out.skip(feat(f), &Value::Bool(*on), r.reason.clone());
                }
            }
            Avail::Ok(list) => {
                for (f, on) in &s.features {
                    match list.iter().find(|x| x.name == *f) {
                        None => {
                            out.skip(feat(f), &Value::Bool(*on), "not offered by the driver");
                        }
                        Some(x) if x.fixed && x.active != *on => out.skip(
                            feat(f),
                            &Value::Bool(*on),
                            format!(
                                "fixed {} on this device",
                                if x.active { "on" } else { "off" }
                            ),
                        ),
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
    if let Some(p) = &s.pfc {
        let bits = p.iter().fold(0u8, |b, p| b | (1 << p));
        out.push(
            Knob::Pfc {
                iface: name.clone(),
            },
            Value::Text(crate::model::dcb::pfc_text(bits)),
        );
    }
    if let Some(r) = &s.rdma {
        resolve_rdma(out, state, name.as_str(), r);
    }
    if let Some(q) = &s.qos {
        resolve_qos(out, iface, s, q);
    }
    for (dscp, prio) in &s.dscp {
        out.push(
            Knob::DcbApp {
                iface: name.clone(),
                selector: crate::model::dcb::APP_SEL_DSCP,
                protocol: u16::from(*dscp),
            },
            Value::Text(prio.to_string()),
        );
    }
    if let Some(t) = &s.trust {
        out.push(
            Knob::DcbTrust {
                iface: name.clone(),
            },
            Value::Text(crate::model::dcb::trust_text(t)),
        );
    }
    if let Some(m) = &s.module {
        out.modules.push(ModuleExpect {
            iface: name.clone(),
            cable: m.cable,
            min_rx_power_dbm: m.min_rx_power_cdbm.map(|c| f64::from(c) / 100.0),
        });
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
            let want = r.cpus.as_ref().map(ToString::to_string).unwrap_or_default();
            out.skip_section(&name, "rps", want, "no receive queues".to_string());
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
            );
            if let Some(set) = out.fail(set) {
                for q in &rx {
                    let knob = Knob::Rps {
                        iface: name.clone(),
                        queue: q.index,
                    };
                    if q.rps_cpus.is_some() {
                        out.push(knob, Value::Cpus(set.clone()));
                    } else {
                        out.skip(knob, &Value::Cpus(set.clone()), NO_RPS);
                    }
                }
            }
        } else if r.exclude.is_some() {
            out.errors.push(ResolveError::MissingCpus {
                iface: name.clone(),
                what: "rps".to_string(),
            });
        }
        if let Some(n) = r.flow_cnt {
            for q in &rx {
                let knob = Knob::RpsFlowCnt {
                    iface: name.clone(),
                    queue: q.index,
                };
                if q.rps_flow_cnt.is_some() {
                    out.push(knob, Value::Num(u64::from(n)));
                } else {
                    out.skip(knob, &n, NO_RPS);
                }
            }
        }
    }
    if let Some(x) = &s.xps {
        resolve_xps(out, topo, iface, x, keep_tx);
    }
    if let Some(i) = &s.irq {
        resolve_irq(out, topo, iface, i, queue_count_changes);
    }
}

/// Why a receive queue has no RPS file.
const NO_RPS: &str = "not available on this queue (kernel without CONFIG_RPS)";

fn resolve_xps(
    out: &mut Out,
    topo: &crate::model::Topology,
    iface: &Interface,
    x: &super::XpsSpec,
    keep_tx: u32,
) {
    let name = iface.name.clone();
    let Some(spec) = &x.cpus else {
        out.errors.push(ResolveError::MissingCpus {
            iface: name,
            what: "xps".to_string(),
        });
        return;
    };
    let set = resolve_with_exclude(
        spec,
        x.exclude.as_ref(),
        true,
        topo,
        iface,
        "xps cpus",
        &mut out.notes,
    );
    let Some(set) = out.fail(set) else {
        return;
    };
    let order = spread_order(topo, &set);
    let tx: Vec<&Queue> = queues(iface, Dir::Tx)
        .into_iter()
        .filter(|q| q.index < keep_tx)
        .collect();
    if tx.is_empty() {
        out.skip_section(
            &name,
            "xps",
            spec.to_string(),
            "no transmit queues".to_string(),
        );
    }
    let mut k = 0usize;
    for q in &tx {
        if q.xps_cpus.is_none() {
            out.skip(
                Knob::Xps {
                    iface: name.clone(),
                    queue: q.index,
                },
                spec,
                "xps_cpus unreadable (single-queue device, traffic classes or no CONFIG_XPS)",
            );
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
}

fn resolve_irq(
    out: &mut Out,
    topo: &crate::model::Topology,
    iface: &Interface,
    i: &super::IrqSpec,
    queue_count_changes: bool,
) {
    let name = iface.name.clone();
    let Some(spec) = &i.cpus else {
        out.errors.push(ResolveError::MissingCpus {
            iface: name,
            what: "irq_affinity".to_string(),
        });
        return;
    };
    let set = resolve_with_exclude(
        spec,
        i.exclude.as_ref(),
        false,
        topo,
        iface,
        "irq_affinity cpus",
        &mut out.notes,
    );
    let Some(set) = out.fail(set) else {
        return;
    };
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
        out.skip_section(
            &name,
            "irq_affinity",
            spec.to_string(),
            "left for the next run: the channel change re-allocates IRQ vectors".to_string(),
        );
        irqs.clear();
    } else if irqs.is_empty() {
        out.skip_section(
            &name,
            "irq_affinity",
            spec.to_string(),
            "no per-queue IRQs found".to_string(),
        );
    }
    irqs.sort_unstable();
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
                per_cpu: Vec::new(),
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
            rdma: Vec::new(),
            pci: crate::model::pci::PciFabric::default(),
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
        let skipped: Vec<String> = r.skipped.iter().map(ToString::to_string).collect();
        for s in [
            "sysctl net.core.busy_poll 50: absent in this network namespace or kernel",
            "eth2 rings rx_jumbo 100: not supported by the driver",
            "eth2 channels rx 4: not supported by the driver",
            "eth2 coalesce rx_usecs_irq 2: not supported by the driver",
            "eth2 feature rx-gro-hw on: fixed off on this device",
            "eth2 feature rx-ntuple-filter on: not offered by the driver",
            "eno1 rings rx max: x",
            "eno1 rings rx_jumbo 100: x",
            "eno1 channels rx 4: x",
            "eno1 pause rx off: x",
        ] {
            assert!(skipped.contains(&s.to_string()), "{s:?} in {skipped:#?}");
        }
        // Each names its knob, for scripts.
        assert!(r.skipped.iter().all(|s| s.knob.is_some()), "{skipped:#?}");
        assert!(
            !r.notes.iter().any(|n| n.contains("skipped")),
            "skips are not notes: {:#?}",
            r.notes
        );
    }

    #[test]
    fn selection_merging_and_only_ifaces() {
        let mut lo = nic("lo", None);
        lo.pci_address = None;
        let st = state(vec![eth2(), lo, nic("eno1", Some(0))]);
        let p = profile(
            "interfaces:\n  - match: {pci: true}\n    mtu: 9000\n    txqueuelen: 5000\n  - match: {name: eth2, min_speed_mbps: 25000}\n    mtu: 4200\n  - match: {driver: igb}\n    optional: true\n    mtu: 1500\n",
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
        // Unknown link speed: the block is not applied, with a note and a skip; as it then
        // matches nothing, that is an error that says why.
        let mut slow = eth2();
        slow.link = Avail::na("x");
        let e = resolve(&p, &state(vec![slow.clone()]), &[]).expect_err("no match");
        assert_eq!(
            e.to_string(),
            "interfaces[1] (match name: eth2, min_speed_mbps: 25000) matches no interface \
             (undecided on eth2: its link speed is not known); mark the block 'optional: true' \
             where not every node has one"
        );
        let p = profile(
            "interfaces:\n  - match: {pci: true}\n    mtu: 9000\n    txqueuelen: 5000\n  - match: {name: eth2, min_speed_mbps: 25000}\n    optional: true\n    mtu: 4200\n",
        );
        let r = resolve(&p, &state(vec![slow]), &[]).expect("resolve");
        assert_eq!(lines(&r), ["eth2 mtu = 9000", "eth2 txqueuelen = 5000"]);
        assert!(r.notes.contains(
            &"eth2: t interfaces[1] not applied, its link speed is not known".to_string()
        ));
        assert_eq!(
            r.skipped
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["eth2 t interfaces[1]: block not applied, its link speed is not known"]
        );
    }

    /// A block that matches nothing is an error naming the block and its selector, unless
    /// it is optional; with --iface only the named interfaces were read, so it is not.
    #[test]
    fn a_block_matching_no_interface_is_an_error_unless_optional() {
        let st = state(vec![eth2()]);
        let p = profile("interfaces:\n  - match: {name: vO}\n    mtu: 9000\n");
        let e = resolve(&p, &st, &[]).expect_err("typo");
        assert_eq!(e.0.len(), 1);
        assert_eq!(
            e.to_string(),
            "interfaces[0] (match name: vO) matches no interface; mark the block \
             'optional: true' where not every node has one"
        );
        let p = profile(
            "interfaces:\n  - match: {name: vO}\n    optional: true\n    mtu: 9000\n  - match: {name: eth2}\n    mtu: 1500\n",
        );
        let r = resolve(&p, &st, &[]).expect("optional");
        assert_eq!(lines(&r), ["eth2 mtu = 1500"]);
        let p = profile(
            "interfaces:\n  - match: {name: [ens*, eno*], driver: ice, pci: true}\n    mtu: 9000\n",
        );
        assert_eq!(
            resolve(&p, &st, &["eth2".to_string()]).map(|r| r.settings.len()),
            Ok(0),
            "with --iface"
        );
        let e = resolve(&p, &st, &[]).expect_err("no ice");
        assert!(
            e.to_string()
                .starts_with("interfaces[0] (match name: [ens*, eno*], driver: ice, pci: true)"),
            "{e}"
        );
    }

    /// Every error of a resolution is reported, not only the first.
    #[test]
    fn every_resolve_error_is_collected() {
        let st = state(vec![eth2(), nic("eno1", Some(0))]);
        let p = profile(
            "interfaces:\n  - match: {name: eth2}\n    rings: {rx: 16384, tx: '>= 9000'}\n    \
             channels: {combined: 64}\n    irq_affinity: {spread: false}\n    \
             xps: {cpus: gpu-numa:0000:00:01.0}\n  - match: {name: typo0}\n    mtu: 9000\n",
        );
        let e = resolve(&p, &st, &[]).expect_err("errors");
        let lines: Vec<String> = e.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "eth2: rings rx 16384 is above the device maximum 8192",
                "eth2: rings tx 9000 is above the device maximum 8192 (write '>= min(9000, max)' \
                 to settle for the maximum)",
                "eth2: channels combined 64 is above the device maximum 63",
                "eth2: xps cpus: no GPU at 0000:00:01.0 (GPUs: 0000:c1:00.0)",
                "eth2: irq_affinity has no cpus in the blocks that match eth2",
                "interfaces[1] (match name: typo0) matches no interface; mark the block \
                 'optional: true' where not every node has one",
            ]
        );
    }

    /// Floors: `>= N` on rings and sysctls resolves to an at-least setting of the number.
    #[test]
    fn floors_resolve_to_at_least_settings() {
        let st = state(vec![eth2()]);
        let p = profile(
            "interfaces:\n  - match: {name: eth2}\n    rings: {rx: '>= 4096', tx: '>= min(16384, max)'}\n\
             sysctl:\n  net.core.rmem_max: '>= 16777216'\n  net.ipv4.tcp_rmem: '>=4096  87380 16777216'\n",
        );
        let r = resolve(&p, &st, &[]).expect("resolve");
        let got: Vec<(String, String, bool)> = r
            .settings
            .iter()
            .map(|s| (s.knob.to_string(), s.value.to_string(), s.at_least))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "sysctl net.core.rmem_max".into(),
                    "\"16777216\"".into(),
                    true
                ),
                (
                    "sysctl net.ipv4.tcp_rmem".into(),
                    "\"4096 87380 16777216\"".into(),
                    true
                ),
                ("eth2 rings rx".into(), "4096".into(), true),
                ("eth2 rings tx".into(), "8192".into(), true),
            ]
        );
        assert!(r
            .notes
            .contains(&"eth2: rings tx '>= min(16384, max)' = 8192".to_string()));
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
            resolve(&p, &st, &[]).expect_err("no cpu").0.as_slice(),
            [ResolveError::NoCpu { .. }]
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

    #[test]
    fn rdma_block_selects_devices_by_netdev_and_name() {
        use crate::model::rdma::test_device;
        let mut st = state(vec![eth2()]);
        st.rdma = vec![
            test_device("mlx5_0", "eth2", Some(false)),
            test_device("rxe0", "eth2", Some(true)),
            test_device("mlx5_1", "eth9", Some(false)),
        ];
        let p =
            profile("interfaces:\n  - match: {name: eth2}\n    rdma: {roce_mode: v2, tos: 106}\n");
        let r = resolve(&p, &st, &[]).expect("resolve");
        assert_eq!(
            lines(&r),
            [
                "mlx5_0 rdma_cm directory = on",
                "mlx5_0 port 1 rdma_cm default_roce_mode = \"RoCE v2\"",
                "mlx5_0 port 1 rdma_cm default_roce_tos = 106",
                "rxe0 rdma_cm directory = on",
                "rxe0 port 1 rdma_cm default_roce_mode = \"RoCE v2\"",
                "rxe0 port 1 rdma_cm default_roce_tos = 106",
            ]
        );
        // By name: only rxe*; a later block overrides the tos key by key.
        let p = profile(
            "interfaces:\n  - match: {name: eth2}\n    rdma: {device: rxe*, roce_mode: RoCE v1, tos: 106}\n  - match: {name: eth*}\n    rdma: {tos: 96}\n",
        );
        let r = resolve(&p, &st, &[]).expect("resolve");
        assert_eq!(
            lines(&r),
            [
                "rxe0 rdma_cm directory = on",
                "rxe0 port 1 rdma_cm default_roce_mode = \"IB/RoCE v1\"",
                "rxe0 port 1 rdma_cm default_roce_tos = 96",
            ]
        );
        // The names `show --rdma -f json` prints are keys too.
        let q = profile(
            "interfaces:\n  - match: {name: eth2}\n    rdma: {device: rxe0, default_roce_tos: 96}\n",
        );
        let r = resolve(&q, &st, &[]).expect("resolve");
        assert_eq!(
            lines(&r),
            [
                "rxe0 rdma_cm directory = on",
                "rxe0 port 1 rdma_cm default_roce_tos = 96",
            ]
        );
        // No RDMA device on the interface: skipped with the reason, nothing to write.
        let p = profile("interfaces:\n  - match: {name: eth2}\n    rdma: {device: ib*, tos: 1}\n");
        let r = resolve(&p, &st, &[]).expect("resolve");
        assert!(r.settings.is_empty(), "{:?}", lines(&r));
        assert_eq!(r.skipped.len(), 1);
        assert!(
            r.skipped[0].reason.contains("no RDMA device ib* on eth2"),
            "{:?}",
            r.skipped
        );
    }

    #[test]
    fn rdma_block_errors_name_the_line_and_column() {
        for (yaml, want) in [
            ("    rdma: {tos: 256}\n", "t.yaml:5:"),
            ("    rdma: {roce_mode: v3}\n", "is not a RoCE mode"),
            ("    rdma: {tos: 1, mode: v2}\n", "t.yaml:5:"),
            ("    rdma: {device: rxe0}\n", "nothing to set"),
        ] {
            let text = format!(
                "name: t\ndescription: test\ninterfaces:\n  - match: {{name: eth2}}\n{yaml}"
            );
            let e = Profile::from_yaml("t", &text).expect_err(yaml).to_string();
            assert!(e.contains(want), "{yaml}: {e}");
        }
    }
}
