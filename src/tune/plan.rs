//! Plans: what a list of desired settings would change on a node, read from a [`NodeState`].
//!
//! Pure: no I/O. A setting equal to the current value is not a step; a knob the device does
//! not have (or the driver does not support) is skipped with the reason; a value of the wrong
//! type for its knob is invalid. A floor ([`Setting::at_least`]) is met by any current value
//! at or above it, number by number, and otherwise becomes a step to the concrete value that
//! raises each number to the floor's. A step that makes any number smaller is marked
//! ([`Step::lowers`]).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize, Serializer};

use crate::model::knobs::{
    expand_feature_name, field_value, fold_whitespace, knob_field, settable_field, sysctl_text,
    valid_ifname, validate_sysctl_name, FieldKind,
};
use crate::model::qos::QdiscSpec;
use crate::model::{Avail, CpuSet, Dir, Knob, NodeState, Setting, SkippedSetting, Value};

/// One change: a knob from its current value to the wanted one. Serialized with a `lowers`
/// field ([`Step::lowers`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Step {
    /// What changes.
    #[serde(flatten)]
    pub knob: Knob,
    /// The value now (restored by a rollback).
    pub old: Value,
    /// The value wanted.
    pub new: Value,
    /// Changing it briefly resets the link on most drivers.
    pub resets_link: bool,
}

impl Step {
    /// True when the step makes a number smaller: a ring, a limit, a count, or any number of
    /// a sysctl such as `tcp_rmem`'s maximum.
    pub fn lowers(&self) -> bool {
        lowers(&self.old, &self.new)
    }
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            knob: &'a Knob,
            old: &'a Value,
            new: &'a Value,
            resets_link: bool,
            lowers: bool,
        }
        Out {
            knob: &self.knob,
            old: &self.old,
            new: &self.new,
            resets_link: self.resets_link,
            lowers: self.lowers(),
        }
        .serialize(s)
    }
}

/// The numbers of a value: a number, or the numbers of a sysctl (`"4096 131072 6291456"`).
/// `None` for anything else (on/off, CPU sets, words).
fn numbers(v: &Value) -> Option<Vec<i64>> {
    match v {
        Value::Num(n) => i64::try_from(*n).ok().map(|n| vec![n]),
        Value::Text(t) => t
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<Vec<i64>, _>>()
            .ok()
            .filter(|v| !v.is_empty()),
        _ => None,
    }
}

/// True when going from `old` to `new` makes any number smaller.
pub fn lowers(old: &Value, new: &Value) -> bool {
    match (numbers(old), numbers(new)) {
        (Some(o), Some(n)) if o.len() == n.len() => o.iter().zip(&n).any(|(a, b)| b < a),
        _ => false,
    }
}

/// The value that meets the floor `floor` from `current`: every number raised to the floor's
/// where it is below it, the others kept (`"4096 131072 33554432"` with the floor
/// `"4096 87380 16777216"` stays as it is). An error when the two are not numbers of the same
/// count.
pub fn raise_to(current: &Value, floor: &Value) -> Result<Value, String> {
    let (Some(c), Some(f)) = (numbers(current), numbers(floor)) else {
        return Err(format!(
            "'>=' compares numbers; the floor is {} and the current value {}",
            render_value(floor),
            render_value(current)
        ));
    };
    if c.len() != f.len() {
        return Err(format!(
            "the floor {} has {} number{}, the current value {} has {}",
            render_value(floor),
            f.len(),
            plural(f.len()),
            render_value(current),
            c.len()
        ));
    }
    let raised: Vec<i64> = c.iter().zip(&f).map(|(a, b)| *a.max(b)).collect();
    Ok(match current {
        Value::Num(_) => Value::Num(raised[0].unsigned_abs()),
        _ => Value::Text(
            raised
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        ),
    })
}

/// A floor as the plan and check show it: `>= 16777216`.
fn floor_text(v: &Value) -> String {
    format!(">= {}", render_value(v).trim_matches('"'))
}

/// One line per setting left out of a plan or a check: `LABEL: knob value: reason`.
fn push_left_out(out: &mut String, label: &str, items: &[Skipped]) {
    for s in items {
        let _ = writeln!(
            out,
            "{label}: {} {}: {}",
            s.knob,
            render_value(&s.value),
            s.reason
        );
    }
}
/// A setting left out of the plan, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The knob.
    #[serde(flatten)]
    pub knob: Knob,
    /// The value that was wanted.
    pub value: Value,
    /// Why it is left out (e.g. "not supported by the driver").
    pub reason: String,
}

/// What applying a list of settings would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Changes: those that reset a link first, then the others, each group in the order of
    /// the settings (see [`plan`]).
    pub steps: Vec<Step>,
    /// Settings whose knob is n/a on this node.
    pub skipped: Vec<Skipped>,
    /// Settings whose value does not fit the knob (a profile error).
    pub invalid: Vec<Skipped>,
    /// Settings already at the wanted value.
    pub unchanged: usize,
}

impl Plan {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Steps that reset a link.
    pub fn link_resets(&self) -> usize {
        self.steps.iter().filter(|s| s.resets_link).count()
    }

    /// The plan as a diff, one line per change, grouped by object (interface or `sysctl`) in
    /// order of first appearance, then skipped and invalid settings and a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut objects: Vec<&str> = Vec::new();
        for s in &self.steps {
            if !objects.contains(&s.knob.object()) {
                objects.push(s.knob.object());
            }
        }
        for obj in objects {
            for s in self.steps.iter().filter(|s| s.knob.object() == obj) {
                let _ = write!(
                    out,
                    "{} {} -> {}",
                    s.knob,
                    render_value(&s.old),
                    render_value(&s.new)
                );
                let marks: Vec<&str> = [(s.lowers(), "lowers"), (s.resets_link, "resets link")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, m)| *m)
                    .collect();
                if !marks.is_empty() {
                    let _ = write!(out, "  ({})", marks.join(", "));
                }
                out.push('\n');
            }
        }
        push_left_out(&mut out, "skipped", &self.skipped);
        push_left_out(&mut out, "invalid", &self.invalid);
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// One line: how many changes, link resets, skipped and unchanged settings.
    pub fn summary(&self) -> String {
        let n = self.steps.len();
        let mut parts = vec![if n == 0 {
            "nothing to change".to_string()
        } else {
            format!("{n} change{}", plural(n))
        }];
        let lower = self.steps.iter().filter(|s| s.lowers()).count();
        if lower > 0 {
            parts.push(format!(
                "{lower} lower{} a value",
                if lower == 1 { "s" } else { "" }
            ));
        }
        let resets = self.link_resets();
        if resets > 0 {
            parts.push(format!(
                "{resets} reset{} a link",
                if resets == 1 { "s" } else { "" }
            ));
        }
        if !self.skipped.is_empty() {
            parts.push(format!("{} skipped (n/a)", self.skipped.len()));
        }
        if !self.invalid.is_empty() {
            parts.push(format!("{} invalid", self.invalid.len()));
        }
        if self.unchanged > 0 {
            parts.push(format!("{} already set", self.unchanged));
        }
        parts.join(", ")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A value as a plan line shows it: text quoted only when it has blanks or is empty.
pub fn render_value(v: &Value) -> String {
    match v {
        Value::Text(t) if t.is_empty() || t.contains(char::is_whitespace) => format!("{t:?}"),
        Value::Text(t) => t.clone(),
        other => other.to_string(),
    }
}

/// The kind of value a knob takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Num,
    Bool,
    Cpus,
    Text,
}

/// The kind of value `knob` takes, or why the knob itself is invalid.
fn kind_of(knob: &Knob) -> Result<Kind, String> {
    if let Knob::Sysctl { name } = knob {
        validate_sysctl_name(name)?;
        return Ok(Kind::Text);
    }
    let iface = knob.object();
    if let Knob::RdmaCm { .. } | Knob::RdmaCmDir { .. } = knob {
        if !crate::sys::rdma::valid_device_name(iface) {
            return Err(format!("invalid RDMA device name {iface:?}"));
        }
    } else if !valid_ifname(iface) {
        return Err(format!("invalid interface name {iface:?}"));
    }
    if let Some((group, field)) = knob_field(knob) {
        return match settable_field(group, field) {
            Some(FieldKind::Num) => Ok(Kind::Num),
            Some(FieldKind::Bool) => Ok(Kind::Bool),
            None => Err(format!("{group} has no settable field {field:?}")),
        };
    }
    Ok(match knob {
        Knob::Feature { .. } | Knob::RdmaCmDir { .. } => Kind::Bool,
        Knob::Rps { .. } | Knob::Xps { .. } | Knob::IrqAffinity { .. } => Kind::Cpus,
        Knob::Qdisc { .. }
        | Knob::Pfc { .. }
        | Knob::DcbEts { .. }
        | Knob::DcbApp { .. }
        | Knob::DcbTrust { .. } => Kind::Text,
        Knob::RdmaCm { field, .. } if field == crate::model::rdma::ROCE_MODE => Kind::Text,
        _ => Kind::Num,
    })
}

/// The wanted value in the form the knob reads back as: numbers for sizes and counts, on/off
/// for features and flags, CPU sets for steering and affinity, whitespace-folded text for
/// sysctls. Lenient about the spelling (`"on"`, `1`, `"0-3"`, a numeric sysctl).
pub fn normalize(knob: &Knob, value: &Value) -> Result<Value, String> {
    let kind = kind_of(knob)?;
    if let Knob::Pfc { .. } = knob {
        return match value {
            Value::Text(t) => crate::model::dcb::parse_pfc_text(t)
                .map(|b| Value::Text(crate::model::dcb::pfc_text(b))),
            Value::Num(n) => u8::try_from(*n)
                .ok()
                .filter(|n| *n < 8)
                .map(|n| Value::Text(n.to_string()))
                .ok_or_else(|| format!("expects priorities 0 to 7, got {n}")),
            _ => Err(format!("expects priorities, got {}", render_value(value))),
        };
    }
    if let Some(v) = normalize_dcb(knob, value) {
        return v;
    }
    if let Knob::RdmaCm { field, .. } = knob {
        return match (field.as_str(), value) {
            (crate::model::rdma::ROCE_MODE, Value::Text(t)) => {
                crate::model::rdma::parse_roce_mode(t).map(|m| Value::Text(m.to_string()))
            }
            (crate::model::rdma::ROCE_TOS, Value::Num(n)) if *n <= 255 => Ok(Value::Num(*n)),
            (crate::model::rdma::ROCE_TOS, Value::Text(t)) => t
                .trim()
                .parse::<u8>()
                .map(|n| Value::Num(u64::from(n)))
                .map_err(|_| format!("expects a number 0 to 255, got {t:?}")),
            (crate::model::rdma::ROCE_TOS, v) => Err(format!(
                "expects a number 0 to 255, got {}",
                render_value(v)
            )),
            (f, _) => Err(format!("no rdma_cm field {f:?}")),
        };
    }
    if let Knob::Qdisc { .. } = knob {
        return match value {
            Value::Text(t) => QdiscSpec::parse(t).map(|q| Value::Text(q.to_string())),
            _ => Err(format!("expects a qdisc, got {}", render_value(value))),
        };
    }
    let bad = |what: &str| Err(format!("expects {what}, got {}", render_value(value)));
    match (kind, value) {
        (Kind::Text, v) => Ok(Value::Text(sysctl_text(v))),
        (Kind::Num, Value::Num(n)) if u32::try_from(*n).is_ok() => Ok(Value::Num(*n)),
        (Kind::Num, Value::Num(_)) => bad("a number up to 4294967295"),
        (Kind::Num, Value::Text(t)) => match t.trim().parse::<u32>() {
            Ok(n) => Ok(Value::Num(u64::from(n))),
            Err(_) => bad("a number"),
        },
        (Kind::Num, _) => bad("a number"),
        (Kind::Bool, Value::Bool(b)) => Ok(Value::Bool(*b)),
        (Kind::Bool, Value::Num(n @ (0 | 1))) => Ok(Value::Bool(*n == 1)),
        (Kind::Bool, Value::Text(t)) if matches!(t.as_str(), "on" | "true") => {
            Ok(Value::Bool(true))
        }
        (Kind::Bool, Value::Text(t)) if matches!(t.as_str(), "off" | "false") => {
            Ok(Value::Bool(false))
        }
        (Kind::Bool, _) => bad("on or off"),
        (Kind::Cpus, Value::Cpus(c)) => Ok(Value::Cpus(c.clone())),
        (Kind::Cpus, Value::Text(t)) => CpuSet::parse_any(t)
            .map(Value::Cpus)
            .map_err(|e| e.to_string()),
        (Kind::Cpus, _) => bad("a CPU list"),
    }
}

/// The normalized value of a DCB knob (hardware ETS, APP entry, APP trust), `None` for other
/// knobs.
fn normalize_dcb(knob: &Knob, value: &Value) -> Option<Result<Value, String>> {
    use crate::model::dcb;
    let text = |what: &str| match value {
        Value::Text(t) => Ok(t.clone()),
        Value::Num(n) => Ok(n.to_string()),
        _ => Err(format!("expects {what}, got {}", render_value(value))),
    };
    Some(match knob {
        Knob::DcbEts { .. } => {
            text("an ets").and_then(|t| dcb::EtsSpec::parse(&t).map(|e| Value::Text(e.to_string())))
        }
        Knob::DcbApp {
            selector, protocol, ..
        } => {
            if *selector == dcb::APP_SEL_DSCP && *protocol > 63 {
                return Some(Err(format!("DSCP {protocol} is not 0 to 63")));
            }
            text("priorities")
                .and_then(|t| dcb::parse_pfc_text(&t).map(|b| Value::Text(dcb::pfc_text(b))))
        }
        Knob::DcbTrust { .. } => text("selectors")
            .and_then(|t| dcb::parse_trust_text(&t).map(|s| Value::Text(dcb::trust_text(&s)))),
        _ => return None,
    })
}

/// The DCB state of an interface, or why there is none to read or write.
fn dcb_of(i: &crate::model::Interface) -> Result<&crate::model::dcb::DcbState, String> {
    match i.dcb.as_ref() {
        None => Err("DCB not read (a --sysfs-root tree or an older snapshot)".to_string()),
        Some(Avail::Na(r)) => Err(r.reason.clone()),
        Some(Avail::Ok(d)) => Ok(d),
    }
}

/// The value a knob reads back as after `value` (normalized) was written: the kernel rounds
/// `rps_flow_cnt` up to a power of two.
pub fn effective(knob: &Knob, value: &Value) -> Value {
    match (knob, value) {
        (Knob::RpsFlowCnt { .. }, Value::Num(n)) if *n > 0 => {
            Value::Num(n.checked_next_power_of_two().unwrap_or(*n))
        }
        _ => value.clone(),
    }
}

/// True when a knob whose current value is `current` already has the (normalized) `wanted`.
pub fn satisfied(knob: &Knob, current: &Value, wanted: &Value) -> bool {
    if let (Knob::Qdisc { .. }, Value::Text(c), Value::Text(w)) = (knob, current, wanted) {
        // A qdisc the profile asks for names no handle: any handle the kernel gave it will do.
        return match (QdiscSpec::parse(c), QdiscSpec::parse(w)) {
            (Ok(c), Ok(w)) => c.satisfies(&w),
            _ => c == w,
        };
    }
    if let (Knob::DcbEts { .. }, Value::Text(c), Value::Text(w)) = (knob, current, wanted) {
        // A profile names tc-tsa, tc-bw and prio-tc; the rest of the device's ETS may be
        // anything.
        use crate::model::dcb::EtsSpec;
        return match (EtsSpec::parse(c), EtsSpec::parse(w)) {
            (Ok(c), Ok(w)) => c.satisfies(&w),
            _ => c == w,
        };
    }
    current == &effective(knob, wanted)
}

/// Why a knob must not be changed on this node at all: the root qdisc of an interface that
/// dpuctl could not put back exactly (a tree with classes, filters or child qdiscs it does
/// not rebuild). The plan refuses such a setting outright instead of skipping it.
fn refused(state: &NodeState, knob: &Knob) -> Option<String> {
    let Knob::Qdisc { iface } = knob else {
        return None;
    };
    let tc = state.interface(iface)?.tc.as_ref()?;
    tc.root_spec()
        .err()
        .map(|why| format!("{why}; replace it by hand first, or leave qos out for {iface}"))
}

/// The current value of a knob on the node, or why it is n/a there.
pub fn current_value(state: &NodeState, knob: &Knob) -> Result<Value, String> {
    if let Knob::Sysctl { name } = knob {
        let s = state
            .sysctls
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| format!("{name} was not read"))?;
        return match s.value.get() {
            Some(v) => Ok(Value::Text(fold_whitespace(v))),
            None => Err(s.value.reason().unwrap_or("n/a").to_string()),
        };
    }
    if let Knob::RdmaCm { .. } | Knob::RdmaCmDir { .. } = knob {
        return rdma_cm_value(state, knob);
    }
    let name = knob.object();
    let i = state
        .interface(name)
        .ok_or_else(|| format!("no interface {name:?}"))?;
    let from_struct = |v: Result<Option<Value>, String>, missing: &str| match v {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(missing.to_string()),
        Err(e) => Err(e),
    };
    let na = |r: Option<&str>| r.unwrap_or("n/a").to_string();
    match knob {
        Knob::Sysctl { .. } => Err("not an interface setting".into()),
        Knob::RdmaCm { .. } | Knob::RdmaCmDir { .. } => rdma_cm_value(state, knob),
        Knob::Ring { field, .. } => {
            let r = i.rings.get().ok_or_else(|| na(i.rings.reason()))?;
            from_struct(field_value(r, field), "not supported by the driver")
        }
        Knob::Channel { field, .. } => {
            let c = i.channels.get().ok_or_else(|| na(i.channels.reason()))?;
            from_struct(
                field_value(c, field),
                &format!("the device has no {field} channels"),
            )
        }
        Knob::Coalesce { field, .. } => {
            let c = i.coalesce.get().ok_or_else(|| na(i.coalesce.reason()))?;
            from_struct(field_value(c, field), "not supported by the driver")
        }
        Knob::Pause { field, .. } => {
            let p = i.pause.get().ok_or_else(|| na(i.pause.reason()))?;
            if field == "stats" {
                return Err(format!("pause has no settable field {field:?}"));
            }
            from_struct(field_value(p, field), "not supported by the driver")
        }
        Knob::Feature { name, .. } => {
            let fs = i.features.get().ok_or_else(|| na(i.features.reason()))?;
            if let Some(f) = fs.iter().find(|f| &f.name == name) {
                return Ok(Value::Bool(f.active));
            }
            // A legacy ethtool name (gro, tso) stands for its group: on when all members are.
            let known: Vec<String> = fs.iter().map(|f| f.name.clone()).collect();
            let members = expand_feature_name(name, &known);
            if members.is_empty() {
                return Err(format!("the device has no feature {name:?}"));
            }
            Ok(Value::Bool(
                fs.iter()
                    .filter(|f| members.contains(&f.name))
                    .all(|f| f.active),
            ))
        }
        Knob::Mtu { .. } => Ok(Value::Num(u64::from(i.mtu))),
        Knob::TxQueueLen { .. } => Ok(Value::Num(u64::from(i.txqueuelen))),
        Knob::Rps { queue, .. } | Knob::RpsFlowCnt { queue, .. } => {
            let q = i
                .queues
                .iter()
                .find(|q| q.dir == Dir::Rx && q.index == *queue)
                .ok_or_else(|| format!("no receive queue rx-{queue}"))?;
            if matches!(knob, Knob::Rps { .. }) {
                q.rps_cpus
                    .clone()
                    .map(Value::Cpus)
                    .ok_or_else(|| "no rps_cpus (kernel without CONFIG_RPS)".to_string())
            } else {
                q.rps_flow_cnt
                    .map(|n| Value::Num(u64::from(n)))
                    .ok_or_else(|| "no rps_flow_cnt (kernel without CONFIG_RPS)".to_string())
            }
        }
        Knob::Xps { queue, .. } => {
            let q = i
                .queues
                .iter()
                .find(|q| q.dir == Dir::Tx && q.index == *queue)
                .ok_or_else(|| format!("no transmit queue tx-{queue}"))?;
            q.xps_cpus.clone().map(Value::Cpus).ok_or_else(|| {
                "xps_cpus unreadable (single-queue device, traffic classes or no CONFIG_XPS)"
                    .to_string()
            })
        }
        Knob::Pfc { .. } => match i.dcb.as_ref() {
            None => Err("DCB not read (a --sysfs-root tree or an older snapshot)".to_string()),
            Some(Avail::Na(r)) => Err(r.reason.clone()),
            Some(Avail::Ok(d)) => d
                .pfc
                .as_ref()
                .map(|p| Value::Text(crate::model::dcb::pfc_text(p.pfc_en)))
                .ok_or_else(|| "the driver reports no PFC".to_string()),
        },
        Knob::DcbEts { .. } => {
            let d = dcb_of(i)?;
            d.ets
                .as_ref()
                .map(|e| Value::Text(crate::model::dcb::EtsSpec::from_ets(e).to_string()))
                .ok_or_else(|| "the driver reports no ETS".to_string())
        }
        Knob::DcbApp {
            selector, protocol, ..
        } => dcb_of(i).map(|d| {
            Value::Text(crate::model::dcb::pfc_text(
                d.app_priorities(*selector, *protocol),
            ))
        }),
        Knob::DcbTrust { .. } => {
            let d = dcb_of(i)?;
            d.trust
                .as_deref()
                .map(|t| Value::Text(crate::model::dcb::trust_text(t)))
                .ok_or_else(|| {
                    "the driver reports no APP trust order (dcbnl apptrust, Linux 6.3+)".to_string()
                })
        }
        Knob::Qdisc { .. } => {
            let tc = i.tc.as_ref().ok_or_else(|| {
                "qdiscs not read (a --sysfs-root tree or an older snapshot)".to_string()
            })?;
            tc.root_spec().map(|q| Value::Text(q.to_string()))
        }
        Knob::IrqAffinity { irq, .. } => {
            let q = i
                .irqs
                .iter()
                .find(|q| q.irq == *irq)
                .ok_or_else(|| format!("IRQ {irq} does not belong to {name}"))?;
            q.affinity
                .clone()
                .map(Value::Cpus)
                .ok_or_else(|| format!("no smp_affinity_list for IRQ {irq}"))
        }
    }
}

/// Why a knob cannot change on this node even though it exists, e.g. a fixed feature.
fn blocked(state: &NodeState, knob: &Knob) -> Option<String> {
    if let Knob::Feature { iface, name } = knob {
        let f = state
            .interface(iface)?
            .features
            .get()?
            .iter()
            .find(|f| &f.name == name)?;
        if f.fixed {
            return Some("fixed on this device".to_string());
        }
    }
    None
}

/// The settings with duplicates folded: the last value of a knob wins, at the place of its
/// first appearance.
fn dedup(desired: &[Setting]) -> Vec<Setting> {
    let mut out: Vec<Setting> = Vec::with_capacity(desired.len());
    for s in desired {
        match out.iter_mut().find(|o| o.knob == s.knob) {
            Some(o) => {
                o.value = s.value.clone();
                o.at_least = s.at_least;
            }
            None => out.push(s.clone()),
        }
    }
    out
}

/// What one desired setting comes to on the node.
enum Outcome {
    /// The value does not fit the knob.
    Invalid(Skipped),
    /// The knob is n/a, or cannot change on this device.
    Skipped(Skipped),
    /// Compared with the node's value.
    Compared {
        /// The comparison, as `check` reports it.
        cmp: Compared,
        /// The concrete value a step would write (the floor met, or the value wanted).
        target: Value,
    },
}

/// The value a setting asks for as a [`Skipped`] shows it (`>= 16777216` for a floor).
fn wanted_value(at_least: bool, v: Value) -> Value {
    if at_least {
        Value::Text(floor_text(&v))
    } else {
        v
    }
}

/// Compares each desired setting with the node, in order, duplicates folded.
fn compare(desired: &[Setting], state: &NodeState) -> Vec<Outcome> {
    let mut out = Vec::new();
    for s in dedup(desired) {
        let new = match normalize(&s.knob, &s.value) {
            Ok(v) if s.at_least && !matches!(v, Value::Num(_) | Value::Text(_)) => {
                out.push(Outcome::Invalid(Skipped {
                    value: wanted_value(true, s.value),
                    knob: s.knob,
                    reason: "'>=' (at least) applies to numbers only".to_string(),
                }));
                continue;
            }
            Ok(v) => v,
            Err(reason) => {
                out.push(Outcome::Invalid(Skipped {
                    knob: s.knob,
                    value: wanted_value(s.at_least, s.value),
                    reason,
                }));
                continue;
            }
        };
        if let Some(reason) = refused(state, &s.knob) {
            out.push(Outcome::Invalid(Skipped {
                knob: s.knob,
                value: new,
                reason,
            }));
            continue;
        }
        let old = match current_value(state, &s.knob) {
            Err(reason) => {
                out.push(Outcome::Skipped(Skipped {
                    knob: s.knob,
                    value: wanted_value(s.at_least, new),
                    reason,
                }));
                continue;
            }
            Ok(old) => old,
        };
        let target = if s.at_least {
            match raise_to(&old, &new) {
                Ok(v) => v,
                Err(reason) => {
                    out.push(Outcome::Invalid(Skipped {
                        knob: s.knob,
                        value: wanted_value(true, new),
                        reason,
                    }));
                    continue;
                }
            }
        } else {
            new.clone()
        };
        let ok = satisfied(&s.knob, &old, &target);
        if !ok {
            if let Some(reason) = blocked(state, &s.knob) {
                out.push(Outcome::Skipped(Skipped {
                    knob: s.knob,
                    value: wanted_value(s.at_least, new),
                    reason,
                }));
                continue;
            }
        }
        out.push(Outcome::Compared {
            cmp: Compared {
                knob: s.knob,
                want: new,
                at_least: s.at_least,
                have: old,
                ok,
            },
            target,
        });
    }
    out
}

/// Why no `rdma_cm` default can be read or written where configfs has no `rdma_cm`.
pub const NO_RDMA_CM: &str = "no rdma_cm in configfs (configfs not mounted on /sys/kernel/config, or the rdma_cm module not loaded)";

/// The value of an `rdma_cm` knob. Before `rdma_cm/<device>` exists the kernel keeps its
/// defaults, which no file shows: type of service 0, and RoCE v2 where the port has a RoCE v2
/// GID (IB/RoCE v1 otherwise), as `cma_add_one` sets them.
fn rdma_cm_value(state: &NodeState, knob: &Knob) -> Result<Value, String> {
    let name = knob.object();
    let dev = state
        .rdma
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| format!("no RDMA device {name:?}"))?;
    let dir = dev.rdma_cm_dir.ok_or_else(|| NO_RDMA_CM.to_string())?;
    let Knob::RdmaCm { port, field, .. } = knob else {
        return Ok(Value::Bool(dir));
    };
    let p = dev
        .port(*port)
        .ok_or_else(|| format!("{name} has no port {port}"))?;
    let missing = || format!("{name} port {port}: {field} not in configfs");
    match field.as_str() {
        crate::model::rdma::ROCE_TOS if dir => p
            .default_roce_tos
            .map(|t| Value::Num(u64::from(t)))
            .ok_or_else(missing),
        crate::model::rdma::ROCE_TOS => Ok(Value::Num(0)),
        crate::model::rdma::ROCE_MODE if dir => p
            .default_roce_mode
            .as_deref()
            .map(|m| {
                Value::Text(
                    crate::model::rdma::parse_roce_mode(m)
                        .map_or_else(|_| m.to_string(), str::to_string),
                )
            })
            .ok_or_else(missing),
        crate::model::rdma::ROCE_MODE => {
            let v2 = p
                .gids
                .iter()
                .any(|g| g.kind == crate::model::rdma::GidKind::RoceV2);
            Ok(Value::Text(
                if v2 { "RoCE v2" } else { "IB/RoCE v1" }.to_string(),
            ))
        }
        f => Err(format!("no rdma_cm field {f:?}")),
    }
}

/// What applying `desired` to the node in `state` would change. A floor that the current
/// value does not meet is a step to the concrete raised value, which the journal records.
pub fn plan(desired: &[Setting], state: &NodeState) -> Plan {
    let mut p = Plan::default();
    for o in compare(desired, state) {
        match o {
            Outcome::Invalid(x) => p.invalid.push(x),
            Outcome::Skipped(x) => p.skipped.push(x),
            Outcome::Compared { cmp, .. } if cmp.ok => p.unchanged += 1,
            Outcome::Compared { cmp, target } => p.steps.push(Step {
                resets_link: cmp.knob.resets_link(),
                knob: cmp.knob,
                old: cmp.have,
                new: target,
            }),
        }
    }
    // Changes that reset a link (rings, channels, MTU) go first: a reset renegotiates the
    // link and can undo what was set before it on the same interface (igb drops a pause
    // setting made before an MTU change), and new queues from a channel change must exist
    // before their RPS/XPS masks and IRQ affinities are written. A stable sort keeps the
    // profile's order within each group.
    p.steps.sort_by_key(|s| !s.resets_link);
    p
}

/// A setting compared with the node by `check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compared {
    /// The knob.
    #[serde(flatten)]
    pub knob: Knob,
    /// The value the profile wants, or the floor when `at_least`.
    pub want: Value,
    /// `want` is a floor: any value at or above it, number by number, is as wanted.
    pub at_least: bool,
    /// The value the node has.
    pub have: Value,
    /// As wanted.
    pub ok: bool,
}

/// A setting that is not as wanted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The knob.
    #[serde(flatten)]
    pub knob: Knob,
    /// The value the profile wants, or the floor when `at_least`.
    pub want: Value,
    /// `want` is a floor the node's value is below.
    pub at_least: bool,
    /// The value the node has.
    pub have: Value,
}

/// The verdict of `dpuctl check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// Every setting that could be compared is as wanted, and at least one could.
    Compliant,
    /// Some setting differs.
    Drift,
    /// No setting of the profile could be compared on this node (all skipped): nothing was
    /// verified, which is not compliance.
    NothingCompared,
    /// Some setting does not fit its knob (a profile error).
    Invalid,
}

impl CheckStatus {
    /// The exit code of `dpuctl check`: 0 compliant, 1 drift, 2 invalid or nothing compared.
    pub fn exit_code(self) -> u8 {
        match self {
            CheckStatus::Compliant => 0,
            CheckStatus::Drift => 1,
            CheckStatus::NothingCompared | CheckStatus::Invalid => 2,
        }
    }
}

/// The result of comparing a node with a list of settings (`dpuctl check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The profile checked (empty when the settings came from elsewhere).
    pub profile: String,
    /// The node's host name.
    pub host: String,
    /// The verdict.
    pub status: CheckStatus,
    /// True when the status is compliant.
    pub compliant: bool,
    /// Every setting compared, as wanted or not.
    pub compared: Vec<Compared>,
    /// Settings that differ.
    pub drift: Vec<Drift>,
    /// Settings left out on this node, with the reason: n/a on the device, or dropped when the
    /// profile was resolved (a field the driver lacks, no queues or IRQs).
    pub skipped: Vec<SkippedSetting>,
    /// Settings whose value does not fit the knob.
    pub invalid: Vec<Skipped>,
    /// Settings as wanted.
    pub compliant_settings: usize,
    /// Warnings (e.g. irqbalance undoing IRQ affinities).
    pub warnings: Vec<String>,
    /// The profile's `module:` expectations, compared with the modules read (read only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<ModuleCheck>,
}

/// One `module:` expectation compared with the interface's module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleCheck {
    /// The interface.
    pub iface: String,
    /// `cable` or `min_rx_power_dbm`.
    pub expect: String,
    /// What the profile wants.
    pub want: String,
    /// What the module has (or why it could not be read).
    pub have: String,
    /// True as wanted, false different, `None` not compared (no module, no diagnostics).
    pub ok: Option<bool>,
}

/// Compares `module:` expectations with the modules in `state`: the cable class as decoded,
/// and the weakest lane's receive power against the floor.
pub fn check_modules(
    expects: &[crate::profile::ModuleExpect],
    state: &NodeState,
) -> Vec<ModuleCheck> {
    let mut out = Vec::new();
    for e in expects {
        let decoded = state
            .interface(&e.iface)
            .ok_or_else(|| "no such interface".to_string())
            .and_then(|i| match &i.module {
                crate::model::Avail::Ok(raw) => {
                    crate::module::decode(raw).map_err(|x| x.to_string())
                }
                crate::model::Avail::Na(r) => Err(format!("n/a ({})", r.reason)),
            });
        let row = |expect: &str, want: String, have: String, ok: Option<bool>| ModuleCheck {
            iface: e.iface.clone(),
            expect: expect.to_string(),
            want,
            have,
            ok,
        };
        if let Some(c) = e.cable {
            out.push(match &decoded {
                Ok(m) => row(
                    "cable",
                    c.as_str().into(),
                    format!("{} ({} {})", m.cable.as_str(), m.vendor, m.part_number),
                    Some(m.cable == c),
                ),
                Err(why) => row("cable", c.as_str().into(), why.clone(), None),
            });
        }
        if let Some(floor) = e.min_rx_power_dbm {
            let want = format!(">= {floor} dBm");
            out.push(match &decoded {
                Ok(m) => match crate::module::weakest_rx_lane(m) {
                    Some((lane, _)) => {
                        let p = lane.rx_power_dbm.unwrap_or(-40.0);
                        row(
                            "min_rx_power_dbm",
                            want,
                            format!("{p:.2} dBm (lane {})", lane.lane),
                            Some(p >= floor),
                        )
                    }
                    None => row(
                        "min_rx_power_dbm",
                        want,
                        "n/a (the module reports no receive power)".into(),
                        None,
                    ),
                },
                Err(why) => row("min_rx_power_dbm", want, why.clone(), None),
            });
        }
    }
    out
}

impl CheckReport {
    /// Adds the `module:` comparisons and settles the status again.
    #[must_use]
    pub fn with_modules(mut self, modules: Vec<ModuleCheck>) -> Self {
        self.modules = modules;
        self.settle();
        self
    }

    /// The exit code of `dpuctl check`: 0 compliant, 1 drift, 2 invalid settings or nothing
    /// compared.
    pub fn exit_code(&self) -> u8 {
        self.status.exit_code()
    }

    /// Adds settings skipped before the comparison (by the profile resolver) and settles the
    /// status again: they come first, in the resolver's order.
    #[must_use]
    pub fn with_skipped(mut self, mut before: Vec<SkippedSetting>) -> Self {
        before.append(&mut self.skipped);
        self.skipped = before;
        self.settle();
        self
    }

    fn settle(&mut self) {
        self.status = if !self.invalid.is_empty() {
            CheckStatus::Invalid
        } else if self.compared.is_empty() && self.modules.iter().all(|m| m.ok.is_none()) {
            CheckStatus::NothingCompared
        } else if !self.drift.is_empty() || self.modules.iter().any(|m| m.ok == Some(false)) {
            CheckStatus::Drift
        } else {
            CheckStatus::Compliant
        };
        self.compliant = self.status == CheckStatus::Compliant;
    }

    /// A table of the drifted settings (SETTING, WANT, HAVE; a floor wanted as `>= N`), then
    /// skipped and invalid settings, warnings and a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if !self.drift.is_empty() {
            let mut t = crate::output::table(&["SETTING", "WANT", "HAVE"]);
            for d in &self.drift {
                t.add_row(vec![
                    d.knob.to_string(),
                    if d.at_least {
                        floor_text(&d.want)
                    } else {
                        render_value(&d.want)
                    },
                    render_value(&d.have),
                ]);
            }
            crate::output::push_table(&mut out, &t);
        }
        for m in &self.modules {
            let verdict = match m.ok {
                Some(true) => "ok",
                Some(false) => "DRIFT",
                None => "not compared",
            };
            let _ = writeln!(
                out,
                "module {}: {} want {}, have {}: {verdict}",
                m.iface, m.expect, m.want, m.have
            );
        }
        for s in &self.skipped {
            let _ = writeln!(out, "skipped: {s}");
        }
        push_left_out(&mut out, "invalid", &self.invalid);
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
        let n = self.drift.len();
        let ok = self.compliant_settings;
        let _ = match self.status {
            CheckStatus::Compliant => {
                write!(out, "compliant: {ok} setting{} as wanted", plural(ok))
            }
            CheckStatus::Drift => write!(
                out,
                "drift: {n} setting{} differ{}, {ok} as wanted",
                plural(n),
                if n == 1 { "s" } else { "" },
            ),
            CheckStatus::NothingCompared => write!(
                out,
                "not compliant: no setting could be compared on this node"
            ),
            CheckStatus::Invalid => {
                let k = self.invalid.len();
                write!(
                    out,
                    "invalid: {k} setting{} do{} not fit {}, {n} differ, {ok} as wanted",
                    plural(k),
                    if k == 1 { "es" } else { "" },
                    if k == 1 { "its knob" } else { "their knobs" }
                )
            }
        };
        if !self.skipped.is_empty() {
            let _ = write!(out, ", {} skipped", self.skipped.len());
        }
        let m = self.modules_not_compared();
        if m > 0 {
            let _ = write!(out, ", {m} module expectation{} not compared", plural(m));
        }
        out.push('\n');
        out
    }

    /// How many `module:` expectations could not be compared (the module or the value it
    /// needs is n/a): they are left out like skipped settings, never counted as met.
    pub fn modules_not_compared(&self) -> usize {
        self.modules.iter().filter(|m| m.ok.is_none()).count()
    }

    /// What the one-line summary on standard error says was left out: skipped settings and
    /// module expectations that could not be compared.
    pub fn left_out_summary(&self) -> String {
        let mut s = format!("{} skipped", self.skipped.len());
        let m = self.modules_not_compared();
        if m > 0 {
            let _ = write!(s, ", {m} module expectation{} not compared", plural(m));
        }
        s
    }
}

/// Compares the node in `state` with `desired`: every setting is compared, skipped with the
/// reason, or invalid. Floors are met by values at or above them.
pub fn check(desired: &[Setting], state: &NodeState) -> CheckReport {
    let mut r = CheckReport {
        profile: String::new(),
        host: state.hostname.clone(),
        status: CheckStatus::NothingCompared,
        compliant: false,
        compared: Vec::new(),
        drift: Vec::new(),
        skipped: Vec::new(),
        invalid: Vec::new(),
        compliant_settings: 0,
        warnings: Vec::new(),
        modules: Vec::new(),
    };
    for o in compare(desired, state) {
        match o {
            Outcome::Invalid(x) => r.invalid.push(x),
            Outcome::Skipped(x) => r.skipped.push(SkippedSetting::knob(
                x.knob,
                render_value(&x.value).trim_matches('"'),
                x.reason,
            )),
            Outcome::Compared { cmp, .. } => {
                if cmp.ok {
                    r.compliant_settings += 1;
                } else {
                    r.drift.push(Drift {
                        knob: cmp.knob.clone(),
                        want: cmp.want.clone(),
                        at_least: cmp.at_least,
                        have: cmp.have.clone(),
                    });
                }
                r.compared.push(cmp);
            }
        }
    }
    r.settle();
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Avail, Channels, Coalesce, Counters, Feature, Interface, Irq, Pause, Queue, Rings, Sysctl,
        Topology, SNAPSHOT_SCHEMA,
    };

    fn cpus(s: &str) -> CpuSet {
        CpuSet::parse_list(s).expect("cpus")
    }

    fn iface(name: &str) -> Interface {
        let rxq = |index, rps: &str, flow| Queue {
            dir: Dir::Rx,
            index,
            rps_cpus: Some(cpus(rps)),
            rps_flow_cnt: Some(flow),
            xps_cpus: None,
            tx_timeout: None,
        };
        let txq = |index, xps: Option<&str>| Queue {
            dir: Dir::Tx,
            index,
            rps_cpus: None,
            rps_flow_cnt: None,
            xps_cpus: xps.map(cpus),
            tx_timeout: Some(0),
        };
        Interface {
            name: name.to_string(),
            ifindex: 2,
            kind: None,
            driver: Avail::na("x"),
            mac: None,
            mtu: 1500,
            txqueuelen: 1000,
            operstate: "up".into(),
            carrier: Some(true),
            carrier_changes: Some(1),
            num_tx_queues: 2,
            num_rx_queues: 2,
            pci_address: None,
            pci_vendor: None,
            pci_device: None,
            device_path: None,
            numa_node: Some(0),
            local_cpus: None,
            pcie: Avail::na("virtual"),
            link: Avail::na("x"),
            rings: Avail::Ok(Rings {
                rx_max: Some(8192),
                tx_max: Some(8192),
                rx: Some(1024),
                tx: Some(1024),
                ..Rings::default()
            }),
            channels: Avail::Ok(Channels {
                combined_max: Some(16),
                combined: Some(8),
                ..Channels::default()
            }),
            coalesce: Avail::Ok(Coalesce {
                rx_usecs: Some(8),
                use_adaptive_rx: Some(true),
                ..Coalesce::default()
            }),
            pause: Avail::Ok(Pause {
                autoneg: false,
                rx: true,
                tx: true,
                stats: None,
            }),
            features: Avail::Ok(vec![
                Feature {
                    name: "rx-gro".into(),
                    active: true,
                    wanted: true,
                    fixed: false,
                },
                Feature {
                    name: "rx-lro".into(),
                    active: false,
                    wanted: false,
                    fixed: true,
                },
                Feature {
                    name: "tx-tcp-segmentation".into(),
                    active: true,
                    wanted: true,
                    fixed: false,
                },
                Feature {
                    name: "tx-tcp6-segmentation".into(),
                    active: false,
                    wanted: false,
                    fixed: false,
                },
            ]),
            fec: Avail::na("x"),
            counters: Counters::default(),
            std_stats: Avail::na("x"),
            driver_stats: Avail::na("x"),
            queues: vec![
                rxq(0, "", 0),
                rxq(1, "2-3", 4096),
                txq(0, Some("0")),
                txq(1, None),
            ],
            irqs: vec![Irq {
                irq: 45,
                name: format!("{name}-TxRx-0"),
                queue: Some(0),
                count: 0,
                per_cpu: Vec::new(),
                affinity: Some(cpus("0-39")),
                effective: Some(cpus("0")),
                nic_local: None,
                gpu_local: None,
            }],
            temperatures: Vec::new(),
            module: Avail::na("not supported by the driver"),
            tc: None,
            dcb: None,
        }
    }

    fn state() -> NodeState {
        let mut veth = iface("veth0");
        veth.rings = Avail::na("not supported by the driver");
        NodeState {
            schema: SNAPSHOT_SCHEMA,
            hostname: "n".into(),
            kernel: "6.12".into(),
            taken_at_ms: 0,
            topology: Topology::default(),
            interfaces: vec![iface("eth2"), veth],
            sysctls: vec![
                Sysctl {
                    name: "net.core.rmem_max".into(),
                    value: Avail::Ok("212992".into()),
                },
                Sysctl {
                    name: "net.ipv4.tcp_rmem".into(),
                    value: Avail::Ok("4096 131072 6291456".into()),
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

    fn eth2() -> String {
        "eth2".to_string()
    }

    fn set(knob: Knob, value: Value) -> Setting {
        Setting::new(knob, value)
    }

    #[test]
    fn link_resets_come_first_and_the_rest_keeps_the_profile_order() {
        // A pause setting written before an MTU change on the same interface is undone by
        // the renegotiation on igb; XPS of a queue must come after the channel change that
        // makes it.
        let s = state();
        let desired = vec![
            set(
                Knob::Pause {
                    iface: eth2(),
                    field: "tx".into(),
                },
                Value::Bool(false),
            ),
            set(
                Knob::Rps {
                    iface: eth2(),
                    queue: 1,
                },
                Value::Text("0-3".into()),
            ),
            set(Knob::Mtu { iface: eth2() }, Value::Num(9000)),
            set(
                Knob::Sysctl {
                    name: "net.core.rmem_max".into(),
                },
                Value::Num(16_777_216),
            ),
            set(
                Knob::Ring {
                    iface: eth2(),
                    field: "rx".into(),
                },
                Value::Num(4096),
            ),
        ];
        let p = plan(&desired, &s);
        let keys: Vec<String> = p.steps.iter().map(|s| s.knob.to_string()).collect();
        assert_eq!(
            keys,
            [
                "eth2 mtu",
                "eth2 rings rx",
                "eth2 pause tx",
                "eth2 rx-1 rps_cpus",
                "sysctl net.core.rmem_max"
            ]
        );
    }

    #[test]
    fn current_value_of_every_knob_kind() {
        let s = state();
        let cur = |k: Knob| current_value(&s, &k);
        let sysctl = |n: &str| Knob::Sysctl { name: n.into() };
        assert_eq!(
            cur(sysctl("net.core.rmem_max")),
            Ok(Value::Text("212992".into()))
        );
        assert_eq!(
            cur(sysctl("net.ipv4.tcp_rmem")),
            Ok(Value::Text("4096 131072 6291456".into()))
        );
        assert_eq!(
            cur(sysctl("net.core.busy_poll")),
            Err("absent in this network namespace or kernel".into())
        );
        assert!(cur(sysctl("net.core.nope")).is_err());
        let ring = |f: &str| Knob::Ring {
            iface: eth2(),
            field: f.into(),
        };
        assert_eq!(cur(ring("rx")), Ok(Value::Num(1024)));
        assert_eq!(
            cur(ring("rx_jumbo")),
            Err("not supported by the driver".into())
        );
        assert_eq!(
            cur(Knob::Ring {
                iface: "veth0".into(),
                field: "rx".into()
            }),
            Err("not supported by the driver".into())
        );
        let chan = |f: &str| Knob::Channel {
            iface: eth2(),
            field: f.into(),
        };
        assert_eq!(cur(chan("combined")), Ok(Value::Num(8)));
        assert_eq!(cur(chan("rx")), Err("the device has no rx channels".into()));
        let coal = |f: &str| Knob::Coalesce {
            iface: eth2(),
            field: f.into(),
        };
        assert_eq!(cur(coal("rx_usecs")), Ok(Value::Num(8)));
        assert_eq!(cur(coal("use_adaptive_rx")), Ok(Value::Bool(true)));
        assert_eq!(
            cur(coal("tx_usecs")),
            Err("not supported by the driver".into())
        );
        let pause = |f: &str| Knob::Pause {
            iface: eth2(),
            field: f.into(),
        };
        assert_eq!(cur(pause("autoneg")), Ok(Value::Bool(false)));
        assert_eq!(cur(pause("tx")), Ok(Value::Bool(true)));
        let feat = |n: &str| Knob::Feature {
            iface: eth2(),
            name: n.into(),
        };
        assert_eq!(cur(feat("rx-gro")), Ok(Value::Bool(true)));
        assert_eq!(cur(feat("rx-lro")), Ok(Value::Bool(false)));
        assert_eq!(cur(feat("gro")), Ok(Value::Bool(true)));
        // tso: one member on, one off.
        assert_eq!(cur(feat("tso")), Ok(Value::Bool(false)));
        assert!(cur(feat("rx-warp")).is_err());
        assert_eq!(cur(Knob::Mtu { iface: eth2() }), Ok(Value::Num(1500)));
        assert_eq!(
            cur(Knob::TxQueueLen { iface: eth2() }),
            Ok(Value::Num(1000))
        );
        assert_eq!(
            cur(Knob::Rps {
                iface: eth2(),
                queue: 1
            }),
            Ok(Value::Cpus(cpus("2-3")))
        );
        assert_eq!(
            cur(Knob::Rps {
                iface: eth2(),
                queue: 0
            }),
            Ok(Value::Cpus(CpuSet::new()))
        );
        assert_eq!(
            cur(Knob::Rps {
                iface: eth2(),
                queue: 5
            }),
            Err("no receive queue rx-5".into())
        );
        assert_eq!(
            cur(Knob::RpsFlowCnt {
                iface: eth2(),
                queue: 1
            }),
            Ok(Value::Num(4096))
        );
        assert_eq!(
            cur(Knob::Xps {
                iface: eth2(),
                queue: 0
            }),
            Ok(Value::Cpus(cpus("0")))
        );
        assert!(cur(Knob::Xps {
            iface: eth2(),
            queue: 1
        })
        .is_err_and(|e| e.contains("xps_cpus unreadable")));
        assert_eq!(
            cur(Knob::IrqAffinity {
                iface: eth2(),
                irq: 45
            }),
            Ok(Value::Cpus(cpus("0-39")))
        );
        assert_eq!(
            cur(Knob::IrqAffinity {
                iface: eth2(),
                irq: 46
            }),
            Err("IRQ 46 does not belong to eth2".into())
        );
        assert_eq!(
            cur(Knob::Mtu {
                iface: "eth9".into()
            }),
            Err("no interface \"eth9\"".into())
        );
    }

    #[test]
    fn equal_is_no_step_na_is_skipped_and_link_resets_are_marked() {
        let s = state();
        let desired = vec![
            set(
                Knob::Ring {
                    iface: eth2(),
                    field: "rx".into(),
                },
                Value::Num(4096),
            ),
            set(
                Knob::Sysctl {
                    name: "net.core.rmem_max".into(),
                },
                Value::Num(16_777_216),
            ),
            // Equal after whitespace folding: no step.
            set(
                Knob::Sysctl {
                    name: "net.ipv4.tcp_rmem".into(),
                },
                Value::Text("4096\t131072  6291456".into()),
            ),
            set(Knob::Mtu { iface: eth2() }, Value::Num(1500)),
            set(Knob::Mtu { iface: eth2() }, Value::Num(9000)),
            set(
                Knob::Ring {
                    iface: "veth0".into(),
                    field: "rx".into(),
                },
                Value::Num(4096),
            ),
            set(
                Knob::Feature {
                    iface: eth2(),
                    name: "rx-lro".into(),
                },
                Value::Bool(true),
            ),
            set(
                Knob::Feature {
                    iface: eth2(),
                    name: "rx-gro".into(),
                },
                Value::Text("on".into()),
            ),
            set(
                Knob::Rps {
                    iface: eth2(),
                    queue: 1,
                },
                Value::Text("0-3".into()),
            ),
            // The kernel shows 1000 as 1024: asking for 1000 when 4096 is set is a change,
            // asking for 3000 is satisfied by 4096.
            set(
                Knob::RpsFlowCnt {
                    iface: eth2(),
                    queue: 1,
                },
                Value::Num(3000),
            ),
            set(Knob::TxQueueLen { iface: eth2() }, Value::Cpus(cpus("1"))),
        ];
        let p = plan(&desired, &s);
        let keys: Vec<String> = p.steps.iter().map(|s| s.knob.to_string()).collect();
        assert_eq!(
            keys,
            [
                "eth2 rings rx",
                "eth2 mtu",
                "sysctl net.core.rmem_max",
                "eth2 rx-1 rps_cpus"
            ]
        );
        assert_eq!(p.steps[0].old, Value::Num(1024));
        assert_eq!(p.steps[0].new, Value::Num(4096));
        assert!(p.steps[0].resets_link);
        // The later mtu setting wins; link resets come first.
        assert_eq!(p.steps[1].new, Value::Num(9000));
        assert!(p.steps[1].resets_link);
        assert_eq!(p.steps[2].new, Value::Text("16777216".into()));
        assert!(!p.steps[2].resets_link);
        assert_eq!(p.steps[3].new, Value::Cpus(cpus("0-3")));
        assert_eq!(p.unchanged, 3);
        let skipped: Vec<(String, &str)> = p
            .skipped
            .iter()
            .map(|s| (s.knob.to_string(), s.reason.as_str()))
            .collect();
        assert_eq!(
            skipped,
            [
                ("veth0 rings rx".to_string(), "not supported by the driver"),
                ("eth2 feature rx-lro".to_string(), "fixed on this device"),
            ]
        );
        assert_eq!(p.invalid.len(), 1);
        assert_eq!(p.invalid[0].knob.to_string(), "eth2 txqueuelen");
        assert_eq!(p.invalid[0].reason, "expects a number, got 1");

        let text = p.render();
        assert!(
            text.contains("eth2 rings rx 1024 -> 4096  (resets link)\n"),
            "{text}"
        );
        assert!(
            text.contains("eth2 mtu 1500 -> 9000  (resets link)\n"),
            "{text}"
        );
        assert!(text.contains("eth2 rx-1 rps_cpus 2-3 -> 0-3\n"), "{text}");
        assert!(
            text.contains("sysctl net.core.rmem_max 212992 -> 16777216\n"),
            "{text}"
        );
        assert!(
            text.contains("skipped: veth0 rings rx 4096: not supported by the driver\n"),
            "{text}"
        );
        // Grouped per object: both eth2 lines come before the sysctl line.
        let pos = |needle: &str| text.find(needle).expect(needle);
        assert!(pos("eth2 rx-1") < pos("sysctl net.core"), "{text}");
        assert!(text
            .ends_with("4 changes, 2 reset a link, 2 skipped (n/a), 1 invalid, 3 already set\n"));

        let json = serde_json::to_value(&p).expect("json");
        assert_eq!(json["steps"][0]["knob"], "ring");
        assert_eq!(json["steps"][0]["iface"], "eth2");
        assert_eq!(json["steps"][0]["old"], 1024);
        assert_eq!(json["steps"][0]["new"], 4096);
        assert_eq!(json["steps"][0]["resets_link"], true);
        assert_eq!(json["unchanged"], 3);
    }

    #[test]
    fn flow_count_is_compared_as_the_kernel_rounds_it() {
        let s = state();
        let k = Knob::RpsFlowCnt {
            iface: eth2(),
            queue: 1,
        };
        assert!(satisfied(&k, &Value::Num(4096), &Value::Num(4096)));
        assert!(satisfied(&k, &Value::Num(4096), &Value::Num(2049)));
        assert!(!satisfied(&k, &Value::Num(4096), &Value::Num(2048)));
        assert!(satisfied(&k, &Value::Num(0), &Value::Num(0)));
        let p = plan(&[set(k, Value::Num(1000))], &s);
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].new, Value::Num(1000));
    }

    #[test]
    fn invalid_knobs_and_values() {
        let s = state();
        let cases = [
            (
                Knob::Ring {
                    iface: eth2(),
                    field: "rx_max".into(),
                },
                Value::Num(1),
                "rings has no settable field \"rx_max\"",
            ),
            (
                Knob::Sysctl {
                    name: "kernel.panic".into(),
                },
                Value::Num(1),
                "sysctl \"kernel.panic\" is not a network sysctl (net.*)",
            ),
            (
                Knob::Mtu {
                    iface: "a/b".into(),
                },
                Value::Num(1),
                "invalid interface name \"a/b\"",
            ),
            (
                Knob::Feature {
                    iface: eth2(),
                    name: "rx-gro".into(),
                },
                Value::Num(2),
                "expects on or off, got 2",
            ),
            (
                Knob::Mtu { iface: eth2() },
                Value::Num(1 << 40),
                "expects a number up to 4294967295, got 1099511627776",
            ),
        ];
        for (k, v, why) in cases {
            let p = plan(&[set(k.clone(), v)], &s);
            assert!(p.steps.is_empty(), "{k}");
            assert_eq!(p.invalid.len(), 1, "{k}");
            assert_eq!(p.invalid[0].reason, why, "{k}");
        }
        assert!(normalize(
            &Knob::Rps {
                iface: eth2(),
                queue: 0
            },
            &Value::Text("zz".into())
        )
        .is_err());
        assert_eq!(
            normalize(
                &Knob::Xps {
                    iface: eth2(),
                    queue: 0
                },
                &Value::Text("0x5".into())
            ),
            Ok(Value::Cpus(cpus("0,2")))
        );
    }

    #[test]
    fn check_reports_drift_with_want_and_have() {
        let s = state();
        let desired = vec![
            set(Knob::Mtu { iface: eth2() }, Value::Num(9000)),
            set(
                Knob::Sysctl {
                    name: "net.core.rmem_max".into(),
                },
                Value::Num(212_992),
            ),
            set(
                Knob::Sysctl {
                    name: "net.core.busy_poll".into(),
                },
                Value::Num(50),
            ),
        ];
        let r = check(&desired, &s);
        assert!(!r.compliant);
        assert_eq!(r.exit_code(), 1);
        assert_eq!(r.drift.len(), 1);
        assert_eq!(r.drift[0].want, Value::Num(9000));
        assert_eq!(r.drift[0].have, Value::Num(1500));
        assert_eq!(r.compliant_settings, 1);
        let text = r.render();
        assert!(text.contains("SETTING"), "{text}");
        let row = text
            .lines()
            .find(|l| l.contains("eth2 mtu"))
            .expect("drift row");
        assert!(row.contains("9000") && row.contains("1500"), "{text}");
        assert!(
            text.contains("skipped: sysctl net.core.busy_poll 50: absent in this network"),
            "{text}"
        );
        assert!(
            text.ends_with("drift: 1 setting differs, 1 as wanted, 1 skipped\n"),
            "{text}"
        );
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["drift"][0]["knob"], "mtu");
        assert_eq!(json["drift"][0]["want"], 9000);
        assert_eq!(json["drift"][0]["have"], 1500);

        let ok = check(&desired[1..], &s);
        assert!(ok.compliant);
        assert_eq!(ok.exit_code(), 0);
        assert!(ok
            .render()
            .starts_with("skipped: sysctl net.core.busy_poll"));
        let bad = check(&[set(Knob::Mtu { iface: eth2() }, Value::Bool(true))], &s);
        assert_eq!(bad.exit_code(), 2);
    }

    fn floor(knob: Knob, value: Value) -> Setting {
        Setting::at_least(knob, value)
    }

    fn sysctl(name: &str) -> Knob {
        Knob::Sysctl { name: name.into() }
    }

    /// A floor met by the current value is no step; one that is not raises to the floor,
    /// number by number, and the step holds the concrete value.
    #[test]
    fn floors_raise_only_what_is_below_them() {
        let mut s = state();
        // Above the floor already: the node, tcp_rmem max 32 MiB.
        s.sysctls[1].value = Avail::Ok("4096 131072 33554432".into());
        let rx = Knob::Ring {
            iface: eth2(),
            field: "rx".into(),
        };
        let desired = vec![
            floor(
                sysctl("net.ipv4.tcp_rmem"),
                Value::Text("4096 87380 16777216".into()),
            ),
            floor(sysctl("net.core.rmem_max"), Value::Text("16777216".into())),
            floor(rx.clone(), Value::Num(512)),
        ];
        let p = plan(&desired, &s);
        assert_eq!(p.unchanged, 2, "{}", p.render());
        assert_eq!(p.steps.len(), 1, "{}", p.render());
        assert_eq!(p.steps[0].knob, sysctl("net.core.rmem_max"));
        assert_eq!(p.steps[0].old, Value::Text("212992".into()));
        assert_eq!(p.steps[0].new, Value::Text("16777216".into()));
        assert!(!p.steps[0].lowers());
        // One number below: only that one is raised.
        s.sysctls[1].value = Avail::Ok("4096 65536 33554432".into());
        let p = plan(&desired[..1], &s);
        assert_eq!(p.steps[0].new, Value::Text("4096 87380 33554432".into()));
        // A ring below its floor is raised to it.
        let p = plan(&[floor(rx.clone(), Value::Num(4096))], &s);
        assert_eq!(p.steps[0].old, Value::Num(1024));
        assert_eq!(p.steps[0].new, Value::Num(4096));
        // The exact value lowers the maximum, and the plan says so.
        let p = plan(
            &[Setting::new(
                sysctl("net.ipv4.tcp_rmem"),
                Value::Text("4096 87380 16777216".into()),
            )],
            &s,
        );
        assert!(p.steps[0].lowers());
        let text = p.render();
        assert!(
            text.contains(
                "sysctl net.ipv4.tcp_rmem \"4096 65536 33554432\" -> \"4096 87380 16777216\"  (lowers)\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("1 change, 1 lowers a value\n"), "{text}");
        let json = serde_json::to_value(&p).expect("json");
        assert_eq!(json["steps"][0]["lowers"], true);
        let back: Plan = serde_json::from_value(json).expect("a plan reads back");
        assert_eq!(back, p);
        // A smaller ring lowers and resets the link.
        let p = plan(&[Setting::new(rx, Value::Num(512))], &s);
        assert!(p
            .render()
            .contains("eth2 rings rx 1024 -> 512  (lowers, resets link)\n"));
        assert_eq!(
            serde_json::to_value(&p).expect("json")["steps"][0]["lowers"],
            true
        );
        // A floor on something that is not a number is invalid.
        let p = plan(
            &[floor(
                Knob::Feature {
                    iface: eth2(),
                    name: "rx-gro".into(),
                },
                Value::Bool(true),
            )],
            &s,
        );
        assert_eq!(p.invalid.len(), 1);
        assert_eq!(
            p.invalid[0].reason,
            "'>=' (at least) applies to numbers only"
        );
        let p = plan(
            &[floor(
                sysctl("net.ipv4.tcp_rmem"),
                Value::Text("4096".into()),
            )],
            &s,
        );
        assert_eq!(
            p.invalid[0].reason,
            "the floor 4096 has 1 number, the current value \"4096 65536 33554432\" has 3"
        );
    }

    #[test]
    fn lowers_and_raise_to_on_plain_values() {
        let t = |s: &str| Value::Text(s.into());
        assert!(lowers(&Value::Num(8), &Value::Num(7)));
        assert!(!lowers(&Value::Num(7), &Value::Num(8)));
        assert!(lowers(&t("1 5 9"), &t("1 6 8")));
        assert!(!lowers(&t("1 5 9"), &t("1 5 9")));
        assert!(!lowers(&t("cubic"), &t("bbr")));
        assert!(!lowers(&Value::Bool(true), &Value::Bool(false)));
        assert_eq!(raise_to(&t("-2"), &t("1")), Ok(t("1")));
        assert_eq!(raise_to(&t("1 5 9"), &t("2 4 9")), Ok(t("2 5 9")));
        assert_eq!(raise_to(&Value::Num(3), &Value::Num(2)), Ok(Value::Num(3)));
        assert!(raise_to(&t("bbr"), &t("1")).is_err());
    }

    /// check: floors compared as floors; every skipped setting listed; nothing compared is
    /// not compliant; the JSON carries profile, host, compared, drift and skipped.
    #[test]
    fn check_with_floors_skips_and_nothing_compared() {
        let s = state();
        let rmem = floor(sysctl("net.core.rmem_max"), Value::Text("200000".into()));
        let r = check(std::slice::from_ref(&rmem), &s);
        assert_eq!(r.status, CheckStatus::Compliant, "{}", r.render());
        assert_eq!(r.compared.len(), 1);
        assert!(r.compared[0].ok && r.compared[0].at_least);
        let high = floor(sysctl("net.core.rmem_max"), Value::Text("16777216".into()));
        let r = check(std::slice::from_ref(&high), &s);
        assert_eq!(r.exit_code(), 1);
        assert!(r.drift[0].at_least);
        let text = r.render();
        let row = text
            .lines()
            .find(|l| l.contains("sysctl net.core.rmem_max"))
            .expect("row");
        assert!(
            row.contains(">= 16777216") && row.contains("212992"),
            "{text}"
        );

        // Only a setting the node lacks: nothing compared, exit 2, not compliant.
        let busy = Setting::new(sysctl("net.core.busy_poll"), Value::Num(50));
        let r = check(std::slice::from_ref(&busy), &s);
        assert_eq!(r.status, CheckStatus::NothingCompared);
        assert!(!r.compliant);
        assert_eq!(r.exit_code(), 2);
        assert!(
            r.render()
                .ends_with("not compliant: no setting could be compared on this node, 1 skipped\n"),
            "{}",
            r.render()
        );
        // Nothing asked at all is not compliant either.
        assert_eq!(check(&[], &s).status, CheckStatus::NothingCompared);
        // Resolver skips come first and count.
        let resolver_skip =
            SkippedSetting::section("veth0", "irq_affinity", "0-3", "no per-queue IRQs found");
        let r = check(&[rmem], &s).with_skipped(vec![resolver_skip]);
        assert_eq!(r.status, CheckStatus::Compliant);
        assert_eq!(r.skipped.len(), 1);
        let text = r.render();
        assert!(
            text.starts_with("skipped: veth0 irq_affinity 0-3: no per-queue IRQs found\n"),
            "{text}"
        );
        assert!(
            text.ends_with("compliant: 1 setting as wanted, 1 skipped\n"),
            "{text}"
        );
        let r = check(&[busy], &s).with_skipped(Vec::new());
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["host"], "n");
        assert_eq!(json["status"], "nothing-compared");
        assert_eq!(json["compliant"], false);
        assert_eq!(json["compared"], serde_json::json!([]));
        assert_eq!(json["skipped"][0]["setting"], "sysctl net.core.busy_poll");
        assert_eq!(json["skipped"][0]["knob"], "sysctl");
        assert_eq!(json["skipped"][0]["want"], "50");
        assert_eq!(
            json["skipped"][0]["reason"],
            "absent in this network namespace or kernel"
        );
    }

    #[test]
    fn values_render_plainly() {
        assert_eq!(render_value(&Value::Text("bbr".into())), "bbr");
        assert_eq!(
            render_value(&Value::Text("4096 131072".into())),
            "\"4096 131072\""
        );
        assert_eq!(render_value(&Value::Text(String::new())), "\"\"");
        assert_eq!(render_value(&Value::Cpus(CpuSet::new())), "none");
        assert_eq!(render_value(&Value::Bool(false)), "off");
        assert_eq!(render_value(&Value::Num(7)), "7");
    }

    fn with_root(mut st: NodeState, q: crate::model::qos::Qdisc) -> NodeState {
        st.interfaces[0].tc = Some(crate::model::qos::TcState {
            qdiscs: vec![q],
            classes: Vec::new(),
            root_filters: 0,
        });
        st
    }

    fn root(
        kind: &str,
        handle: u32,
        options: crate::model::qos::QdiscOptions,
    ) -> crate::model::qos::Qdisc {
        crate::model::qos::Qdisc {
            kind: kind.into(),
            handle,
            parent: crate::model::qos::TC_H_ROOT,
            options,
            stats: crate::model::qos::TcStats::default(),
        }
    }

    const ETS5: &str =
        "ets bands 5 strict 0 quanta 2525 2020 2020 2020 1515 priomap 4 3 2 1 0 4 4 4 4 4 4 4 4 4 4 4";

    fn qdisc_setting(v: &str) -> Setting {
        Setting::new(
            Knob::Qdisc {
                iface: "eth2".into(),
            },
            Value::Text(v.into()),
        )
    }

    #[test]
    fn qdisc_step_journals_the_default_root_and_check_compares_bands_quanta_priomap() {
        use crate::model::qos::{QdiscOptions, QdiscSpec};
        let st = with_root(state(), root("mq", 0, QdiscOptions::None));
        let p = plan(&[qdisc_setting(ETS5)], &st);
        assert_eq!(p.steps.len(), 1, "{}", p.render());
        assert_eq!(p.steps[0].old, Value::Text("mq default".into()));
        assert_eq!(p.steps[0].new, Value::Text(ETS5.into()));

        // The same ets under the handle the kernel picked: compliant.
        let QdiscOptions::Ets(e) = QdiscSpec::parse(ETS5).expect("spec").options else {
            panic!("ets");
        };
        let st = with_root(
            state(),
            root("ets", 0x8001_0000, QdiscOptions::Ets(e.clone())),
        );
        let r = check(&[qdisc_setting(ETS5)], &st);
        assert_eq!(r.exit_code(), 0, "{}", r.render());
        // Other quanta, another priomap or another band count: drift.
        for change in [
            |e: &mut crate::model::qos::EtsOptions| e.quanta[0] = 3030,
            |e: &mut crate::model::qos::EtsOptions| e.priomap[0] = 3,
            |e: &mut crate::model::qos::EtsOptions| {
                e.nbands = 4;
                e.quanta.pop();
                e.priomap = vec![3, 3, 2, 1, 0];
            },
        ] {
            let mut other = e.clone();
            change(&mut other);
            let st = with_root(state(), root("ets", 0x8001_0000, QdiscOptions::Ets(other)));
            let r = check(&[qdisc_setting(ETS5)], &st);
            assert_eq!(r.exit_code(), 1, "{}", r.render());
            assert_eq!(r.drift.len(), 1);
        }
    }

    #[test]
    fn qdisc_setting_on_a_root_dpuctl_cannot_rebuild_is_invalid_not_skipped() {
        use crate::model::qos::QdiscOptions;
        let st = with_root(state(), root("htb", 0x0001_0000, QdiscOptions::None));
        let p = plan(&[qdisc_setting(ETS5)], &st);
        assert!(p.steps.is_empty());
        assert_eq!(p.invalid.len(), 1, "{}", p.render());
        assert!(p.invalid[0]
            .reason
            .contains("htb 1: is a kind dpuctl cannot restore exactly"));
        // Without qdiscs read (a fixture tree), the setting is skipped with the reason.
        let p = plan(&[qdisc_setting(ETS5)], &state());
        assert_eq!(p.skipped.len(), 1);
        assert!(p.skipped[0].reason.contains("qdiscs not read"));
        // A value that is no qdisc is invalid.
        let p = plan(&[qdisc_setting("ets bands 0")], &state());
        assert_eq!(p.invalid.len(), 1);
    }

    #[test]
    fn pfc_is_a_step_where_dcb_exists_and_skipped_with_the_reason_where_not() {
        use crate::model::dcb::{DcbState, IeeePfc};
        let want = Setting::new(
            Knob::Pfc {
                iface: "eth2".into(),
            },
            Value::Text("3".into()),
        );
        let mut st = state();
        st.interfaces[0].dcb = Some(Avail::Ok(DcbState {
            pfc: Some(IeeePfc {
                pfc_cap: 8,
                ..IeeePfc::default()
            }),
            ..DcbState::default()
        }));
        let p = plan(std::slice::from_ref(&want), &st);
        assert_eq!(p.steps.len(), 1, "{}", p.render());
        assert_eq!(p.steps[0].old, Value::Text("none".into()));
        assert_eq!(p.steps[0].new, Value::Text("3".into()));
        // Already on: nothing to do; check compliant.
        if let Some(Avail::Ok(d)) = st.interfaces[0].dcb.as_mut() {
            d.pfc.as_mut().expect("pfc").pfc_en = 0x08;
        }
        assert!(plan(std::slice::from_ref(&want), &st).steps.is_empty());
        assert_eq!(check(std::slice::from_ref(&want), &st).exit_code(), 0);
        // No DCB in the driver: skipped with the reason, never a step.
        st.interfaces[0].dcb = Some(Avail::na("no DCB (dcbnl) in igb"));
        let p = plan(std::slice::from_ref(&want), &st);
        assert!(p.steps.is_empty());
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(p.skipped[0].reason, "no DCB (dcbnl) in igb");
        assert_eq!(
            normalize(&want.knob, &Value::Text("4, 3".into())),
            Ok(Value::Text("3 4".into()))
        );
        assert!(normalize(&want.knob, &Value::Text("9".into())).is_err());
    }

    #[test]
    fn rdma_cm_steps_make_the_directory_first_and_check_compares() {
        use crate::model::rdma::{test_device, ROCE_MODE, ROCE_TOS};
        let dir = Setting::new(
            Knob::RdmaCmDir {
                device: "rxe0".into(),
            },
            Value::Bool(true),
        );
        let tos = Setting::new(
            Knob::RdmaCm {
                device: "rxe0".into(),
                port: 1,
                field: ROCE_TOS.into(),
            },
            Value::Num(106),
        );
        let mode = Setting::new(
            Knob::RdmaCm {
                device: "rxe0".into(),
                port: 1,
                field: ROCE_MODE.into(),
            },
            Value::Text("RoCE v2".into()),
        );
        let want = [dir, tos, mode];
        // No directory yet: it is a step (undone by rmdir), the old defaults are the kernel's.
        let mut st = state();
        st.rdma = vec![test_device("rxe0", "eth2", Some(false))];
        let p = plan(&want, &st);
        assert_eq!(p.steps.len(), 2, "{}", p.render());
        assert_eq!(p.steps[0].knob, want[0].knob);
        assert_eq!(
            (&p.steps[0].old, &p.steps[0].new),
            (&Value::Bool(false), &Value::Bool(true))
        );
        assert_eq!(
            (&p.steps[1].old, &p.steps[1].new),
            (&Value::Num(0), &Value::Num(106))
        );
        assert_eq!(check(&want, &st).exit_code(), 1);
        // Directory there, tos as wanted: compliant; another tos: drift.
        st.rdma = vec![test_device("rxe0", "eth2", Some(true))];
        st.rdma[0].ports[0].default_roce_tos = Some(106);
        assert!(plan(&want, &st).steps.is_empty());
        assert_eq!(check(&want, &st).exit_code(), 0);
        st.rdma[0].ports[0].default_roce_tos = Some(32);
        assert_eq!(check(&want, &st).exit_code(), 1);
        // No rdma_cm in configfs: skipped with the reason, never a step.
        st.rdma[0].rdma_cm_dir = None;
        let p = plan(&want, &st);
        assert!(p.steps.is_empty());
        assert_eq!(p.skipped.len(), 3);
        assert_eq!(p.skipped[0].reason, NO_RDMA_CM);
        assert_eq!(check(&want, &st).exit_code(), 2);
        // Spellings and ranges.
        assert_eq!(
            normalize(&want[2].knob, &Value::Text("v1".into())),
            Ok(Value::Text("IB/RoCE v1".into()))
        );
        assert!(normalize(&want[1].knob, &Value::Num(256)).is_err());
        assert!(crate::tune::journal::validate_step(&want[1].knob, &Value::Num(106)).is_ok());
        assert!(crate::tune::journal::validate_step(&want[1].knob, &Value::Num(300)).is_err());
        assert!(crate::tune::journal::validate_step(&want[0].knob, &Value::Bool(false)).is_ok());
        // RDMA device names are not interface names: longer than 15 bytes is fine, a path is not.
        let long = Knob::RdmaCmDir {
            device: "rocep129s0f0np0_bond".into(),
        };
        assert!(crate::tune::journal::validate_step(&long, &Value::Bool(true)).is_ok());
        let bad = Knob::RdmaCmDir {
            device: "../x".into(),
        };
        assert!(crate::tune::journal::validate_step(&bad, &Value::Bool(true)).is_err());
        assert!(normalize(&bad, &Value::Bool(true)).is_err());
    }
}
