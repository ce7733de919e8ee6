//! The checks: pure functions of [`Inputs`], each producing findings with severity, evidence,
//! an explanation and a fix.
//!
//! A check that needs counter rates and has no window (a snapshot) gives one n/a finding with
//! the reason; checks over the node state alone always run. Thresholds are named constants
//! with the reason for their value next to them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::evidence::{Inputs, Window};
use crate::model::{Avail, Counters, CpuSet, Dir, Interface};
use crate::monitor::microburst::{self, BurstConfig, BurstSummary};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// The check could not run (the reason is in the title).
    #[serde(rename = "n/a")]
    Na,
    /// Nothing wrong.
    #[serde(rename = "ok")]
    Ok,
    /// Worth knowing, not a problem by itself.
    #[serde(rename = "info")]
    Info,
    /// A problem that costs latency or throughput.
    #[serde(rename = "warn")]
    Warn,
    /// A problem that loses packets or the link.
    #[serde(rename = "crit")]
    Crit,
}

impl Severity {
    /// The label shown in text output.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Na => "n/a",
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warn => "WARN",
            Severity::Crit => "CRIT",
        }
    }

    /// True for warn and crit: what makes the exit code 1.
    pub fn is_problem(self) -> bool {
        self >= Severity::Warn
    }
}

/// A step of the decision tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// Check queue backlog.
    Backlog,
    /// Adjust IRQ affinity.
    Irq,
    /// Check throughput.
    Throughput,
    /// Verify link bandwidth.
    Link,
    /// Capture analysis.
    Capture,
    /// Locate protocol errors.
    Proto,
}

impl Step {
    /// The step's title as the tree names it.
    pub fn title(self) -> &'static str {
        match self {
            Step::Backlog => "check queue backlog",
            Step::Irq => "adjust IRQ affinity",
            Step::Throughput => "check throughput",
            Step::Link => "verify link bandwidth",
            Step::Capture => "capture analysis",
            Step::Proto => "locate protocol errors",
        }
    }
}

/// One value a finding rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What was measured (`rx_missed_errors`, `net.core.netdev_max_backlog`).
    pub what: String,
    /// The value (at the end of the window for counters).
    pub value: String,
    /// Change over the window, for counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<u64>,
    /// Change per second over the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

/// The suggested fix: a dpuctl command, and the profile it applies when it is not a shipped
/// one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// What the fix does, one line.
    pub summary: String,
    /// The command to run.
    pub command: String,
    /// A profile to save as `troubleshoot-fix.yaml` first (the command applies it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// File name (without `.yaml`) the suggested profiles are saved under; the `name:` key of a
/// profile must equal it.
pub const FIX_PROFILE: &str = "troubleshoot-fix";

impl Fix {
    /// A shipped profile applied to one interface.
    pub fn tune(profile: &str, iface: &str, summary: &str) -> Self {
        Self {
            summary: summary.to_string(),
            command: format!("dpuctl tune {profile} --iface {iface}"),
            profile: None,
        }
    }

    /// A profile of interface settings (`body`: the keys of one interface block, indented by
    /// 4) for the named interfaces.
    pub fn iface_profile(ifaces: &[&str], summary: &str, body: &str) -> Self {
        let names = ifaces.join(", ");
        let mut yaml = format!(
            "name: {FIX_PROFILE}\ndescription: {summary}\ninterfaces:\n  - match: {{name: [{names}]}}\n"
        );
        yaml.push_str(body);
        let iface_args: String = ifaces.iter().fold(String::new(), |mut s, i| {
            let _ = write!(s, " --iface {i}");
            s
        });
        Self {
            summary: summary.to_string(),
            command: format!("dpuctl tune ./{FIX_PROFILE}.yaml{iface_args}"),
            profile: Some(yaml),
        }
    }

    /// A profile of sysctls (`body`: `name: value` lines indented by 2).
    pub fn sysctl_profile(summary: &str, body: &str) -> Self {
        Self {
            summary: summary.to_string(),
            command: format!("dpuctl tune ./{FIX_PROFILE}.yaml"),
            profile: Some(format!(
                "name: {FIX_PROFILE}\ndescription: {summary}\nsysctl:\n{body}"
            )),
        }
    }
}

/// One result of one check for one subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Check id, e.g. `backlog.softnet`.
    pub id: String,
    /// Step of the tree it belongs to.
    pub step: Step,
    /// What it is about: an interface name, or `node`.
    pub subject: String,
    /// How bad.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// The values it rests on.
    pub evidence: Vec<Evidence>,
    /// One paragraph: why it matters.
    pub explanation: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

impl Finding {
    fn new(check: &Check, subject: &str, severity: Severity, title: impl Into<String>) -> Self {
        Self {
            id: check.id.to_string(),
            step: check.step,
            subject: subject.to_string(),
            severity,
            title: title.into(),
            evidence: Vec::new(),
            explanation: check.explanation.to_string(),
            fix: None,
        }
    }

    fn ev(mut self, what: impl Into<String>, value: impl std::fmt::Display) -> Self {
        self.evidence.push(Evidence {
            what: what.into(),
            value: value.to_string(),
            delta: None,
            rate: None,
        });
        self
    }

    fn ev_delta(mut self, what: impl Into<String>, value: u64, delta: u64, secs: f64) -> Self {
        self.evidence.push(Evidence {
            what: what.into(),
            value: value.to_string(),
            delta: Some(delta),
            rate: Some(delta as f64 / secs),
        });
        self
    }

    fn fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
}

/// A check: its id, step, and the function that runs it.
pub struct Check {
    /// Stable id (`step.name`).
    pub id: &'static str,
    /// Step of the tree.
    pub step: Step,
    /// True when it only makes sense with a counter window.
    pub needs_window: bool,
    /// Why it matters (the explanation of its findings).
    pub explanation: &'static str,
    run: fn(&Check, &Ctx) -> Vec<Finding>,
}

/// What the checks share: the inputs, the interfaces under examination, and counter deltas.
pub struct Ctx<'a> {
    /// All inputs.
    pub inputs: &'a Inputs,
    /// The interfaces examined (lo left out unless it is the only one).
    pub ifaces: Vec<&'a Interface>,
}

impl<'a> Ctx<'a> {
    /// A context over these inputs.
    pub fn new(inputs: &'a Inputs) -> Self {
        let mut ifaces: Vec<&Interface> = inputs
            .node
            .interfaces
            .iter()
            .filter(|i| i.name != "lo")
            .collect();
        if ifaces.is_empty() {
            ifaces = inputs.node.interfaces.iter().collect();
        }
        Self { inputs, ifaces }
    }

    /// The window, if there is one.
    pub fn window(&self) -> Option<&'a Window> {
        self.inputs.window.get()
    }

    fn secs(&self) -> f64 {
        self.window().map_or(1.0, Window::seconds)
    }

    /// Counter changes of one interface over the window.
    pub fn counters_delta(&self, name: &str) -> Option<(Counters, Counters)> {
        let w = self.window()?;
        let (a, b) = (w.start.iface(name)?, w.end.iface(name)?);
        Some((sub_counters(&b.counters, &a.counters), b.counters))
    }

    /// Driver counter changes of one interface over the window, with the end values.
    pub fn driver_delta(&self, name: &str) -> BTreeMap<String, (u64, u64)> {
        let Some(w) = self.window() else {
            return BTreeMap::new();
        };
        let (Some(a), Some(b)) = (w.start.iface(name), w.end.iface(name)) else {
            return BTreeMap::new();
        };
        b.driver
            .iter()
            .filter_map(|(k, &end)| {
                let start = a.driver.get(k)?;
                Some((k.clone(), (end.saturating_sub(*start), end)))
            })
            .collect()
    }

    /// Change of a protocol counter over the window, with its end value.
    pub fn proto_delta(&self, name: &str) -> Option<(u64, u64)> {
        let w = self.window()?;
        let (a, b) = (w.start.proto.get(name)?, w.end.proto.get(name)?);
        Some((b.saturating_sub(*a), *b))
    }
}

macro_rules! sub_fields {
    ($a:expr, $b:expr, $($f:ident),*) => {
        Counters { $($f: $a.$f.saturating_sub($b.$f)),* }
    };
}

/// `a - b` field by field (saturating: a counter that went backwards was reset).
pub fn sub_counters(a: &Counters, b: &Counters) -> Counters {
    sub_fields!(
        a,
        b,
        rx_packets,
        tx_packets,
        rx_bytes,
        tx_bytes,
        rx_errors,
        tx_errors,
        rx_dropped,
        tx_dropped,
        multicast,
        collisions,
        rx_length_errors,
        rx_over_errors,
        rx_crc_errors,
        rx_frame_errors,
        rx_fifo_errors,
        rx_missed_errors,
        tx_aborted_errors,
        tx_carrier_errors,
        tx_fifo_errors,
        tx_heartbeat_errors,
        tx_window_errors,
        rx_compressed,
        tx_compressed,
        rx_nohandler
    )
}

/// A per-queue driver counter name: `rx_queue_3_drops` (igb, ice, virtio-net, veth),
/// `rx3_packets` (mlx5), `[3]: rx_ucast_packets` (bnxt) -> direction, queue and the rest.
pub fn queue_counter(name: &str) -> Option<(Dir, u32, &str)> {
    if let Some(rest) = name.strip_prefix('[') {
        let (q, rest) = rest.split_once("]: ")?;
        let q = q.parse().ok()?;
        let (dir, rest) = if let Some(r) = rest.strip_prefix("rx_") {
            (Dir::Rx, r)
        } else {
            (Dir::Tx, rest.strip_prefix("tx_")?)
        };
        return Some((dir, q, rest));
    }
    for (prefix, dir) in [
        ("rx_queue_", Dir::Rx),
        ("tx_queue_", Dir::Tx),
        ("rx-", Dir::Rx),
        ("tx-", Dir::Tx),
        ("rx", Dir::Rx),
        ("tx", Dir::Tx),
    ] {
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        let q = rest[..digits].parse().ok()?;
        let tail = rest[digits..]
            .strip_prefix('_')
            .or_else(|| rest[digits..].strip_prefix('.'))?;
        return Some((dir, q, tail));
    }
    None
}

/// True for a per-queue counter of packets lost for lack of room (not XDP verdicts).
fn is_drop_counter(rest: &str) -> bool {
    !rest.contains("xdp")
        && (rest.contains("drop") || rest.contains("discard") || rest.contains("miss"))
}

/// The fastest speed among `modes` (`100000baseCR4/Full`), Mb/s.
pub fn best_mode_speed(modes: &[String]) -> Option<u32> {
    modes
        .iter()
        .filter_map(|m| {
            let digits: String = m.chars().take_while(char::is_ascii_digit).collect();
            (m[digits.len()..].starts_with("base")).then(|| digits.parse().ok())?
        })
        .max()
}

/// Bits per second as `9.41 Gb/s`.
pub fn fmt_bps(bps: f64) -> String {
    if bps >= 1e9 {
        format!("{:.2} Gb/s", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{:.2} Mb/s", bps / 1e6)
    } else if bps >= 1e3 {
        format!("{:.1} kb/s", bps / 1e3)
    } else {
        format!("{bps:.0} b/s")
    }
}

/// Line rate in bits per second; none for virtual devices, whose reported speed (veth says
/// 10000) limits nothing.
pub fn speed_bps(i: &Interface) -> Option<u64> {
    if i.kind.is_some() {
        return None;
    }
    i.link
        .get()
        .and_then(|l| l.speed_mbps)
        .filter(|&s| s > 0 && s != u32::MAX)
        .map(|s| u64::from(s) * 1_000_000)
}

fn sysctl<'s>(ctx: &'s Ctx, name: &str) -> Option<&'s Avail<String>> {
    ctx.inputs
        .node
        .sysctls
        .iter()
        .find(|s| s.name == name)
        .map(|s| &s.value)
}

fn sysctl_num(ctx: &Ctx, name: &str, field: usize) -> Option<u64> {
    sysctl(ctx, name)?
        .get()?
        .split_whitespace()
        .nth(field)?
        .parse()
        .ok()
}

fn na_window(check: &Check, ctx: &Ctx) -> Finding {
    let reason = ctx
        .inputs
        .window
        .reason()
        .unwrap_or("no counter window")
        .to_string();
    Finding::new(
        check,
        "node",
        Severity::Na,
        format!("no counter rates: {reason}"),
    )
}

fn queue_irqs(i: &Interface) -> impl Iterator<Item = &crate::model::Irq> {
    i.irqs.iter().filter(|q| q.queue.is_some())
}

// ---- queue backlog ------------------------------------------------------------------------

/// Suggested rx ring: the device maximum.
const RINGS_MAX_BODY: &str = "    rings: {rx: max}\n";

fn nic_drops(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let Some((d, end)) = ctx.counters_delta(&i.name) else {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "not in the counter window",
            ));
            continue;
        };
        let nic = d.rx_missed_errors + d.rx_fifo_errors + d.rx_over_errors;
        let f = if nic > 0 {
            Finding::new(
                c,
                &i.name,
                Severity::Crit,
                format!("the NIC dropped {nic} packets: receive ring or FIFO full"),
            )
            .fix(Fix::iface_profile(
                &[&i.name],
                "receive ring at the device maximum",
                RINGS_MAX_BODY,
            ))
        } else if d.rx_dropped > 0 {
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!("{} packets dropped on receive by the kernel", d.rx_dropped),
            )
        } else {
            Finding::new(c, &i.name, Severity::Ok, "no receive drops")
        };
        out.push(
            f.ev_delta(
                "rx_missed_errors",
                end.rx_missed_errors,
                d.rx_missed_errors,
                secs,
            )
            .ev_delta("rx_fifo_errors", end.rx_fifo_errors, d.rx_fifo_errors, secs)
            .ev_delta("rx_over_errors", end.rx_over_errors, d.rx_over_errors, secs)
            .ev_delta("rx_dropped", end.rx_dropped, d.rx_dropped, secs),
        );
    }
    out
}

fn queue_drops(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let deltas = ctx.driver_delta(&i.name);
        let drops: Vec<_> = deltas
            .iter()
            .filter(|(k, _)| queue_counter(k).is_some_and(|(_, _, r)| is_drop_counter(r)))
            .collect();
        if drops.is_empty() {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "the driver has no per-queue drop counters",
            ));
            continue;
        }
        let rising: Vec<_> = drops.iter().filter(|(_, (d, _))| *d > 0).copied().collect();
        let mut f = if rising.is_empty() {
            Finding::new(c, &i.name, Severity::Ok, "no per-queue drops")
        } else {
            let total: u64 = rising.iter().map(|(_, (d, _))| d).sum();
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!("{total} drops on {} queue counters", rising.len()),
            )
            .fix(Fix::iface_profile(
                &[&i.name],
                "receive ring at the device maximum",
                RINGS_MAX_BODY,
            ))
        };
        for (k, (d, end)) in if rising.is_empty() { &drops } else { &rising } {
            f = f.ev_delta(k.as_str(), *end, *d, secs);
        }
        out.push(f);
    }
    out
}

fn rings(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let Some(r) = i.rings.get() else {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                format!("rings: {}", i.rings.reason().unwrap_or("n/a")),
            ));
            continue;
        };
        let (Some(rx), Some(max)) = (r.rx, r.rx_max) else {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "no rx ring size reported",
            ));
            continue;
        };
        let dropping = ctx
            .counters_delta(&i.name)
            .is_some_and(|(d, _)| d.rx_missed_errors + d.rx_fifo_errors + d.rx_over_errors > 0);
        let f = if rx >= max {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("rx ring at its maximum {max}"),
            )
        } else {
            Finding::new(
                c,
                &i.name,
                if dropping {
                    Severity::Warn
                } else {
                    Severity::Info
                },
                format!("rx ring {rx} of {max}: room for a longer burst"),
            )
            .fix(Fix::iface_profile(
                &[&i.name],
                "receive ring at the device maximum",
                RINGS_MAX_BODY,
            ))
        };
        out.push(f.ev("rx ring", rx).ev("rx ring max", max));
    }
    out
}

fn softnet(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let Some(w) = ctx.window() else {
        return vec![na_window(c, ctx)];
    };
    let secs = ctx.secs();
    let (mut dropped, mut squeezed) = (Vec::new(), Vec::new());
    for e in &w.end.softnet {
        let Some(s) = w.start.softnet.iter().find(|s| s.cpu == e.cpu) else {
            continue;
        };
        let dd = e.dropped.saturating_sub(s.dropped);
        let dq = e.time_squeeze.saturating_sub(s.time_squeeze);
        if dd > 0 {
            dropped.push((e.cpu, dd, e.dropped));
        }
        if dq > 0 {
            squeezed.push((e.cpu, dq, e.time_squeeze));
        }
    }
    let backlog = sysctl_num(ctx, "net.core.netdev_max_backlog", 0);
    let total_drop: u64 = dropped.iter().map(|x| x.1).sum();
    let total_sq: u64 = squeezed.iter().map(|x| x.1).sum();
    let mut f = if total_drop > 0 {
        let target = backlog.map_or(16384, |b| (b * 4).max(16384));
        Finding::new(
            c,
            "node",
            Severity::Crit,
            format!(
                "{total_drop} packets dropped: per-CPU backlog full on {} CPU(s)",
                dropped.len()
            ),
        )
        .fix(Fix::sysctl_profile(
            "larger per-CPU backlog",
            &format!("  net.core.netdev_max_backlog: {target}\n"),
        ))
    } else if total_sq > 0 {
        Finding::new(
            c,
            "node",
            Severity::Warn,
            format!("softirq ran out of budget {total_sq} times (time_squeeze)"),
        )
        .fix(Fix::sysctl_profile(
            "larger softirq budget",
            "  net.core.netdev_budget: 600\n  net.core.netdev_budget_usecs: 8000\n",
        ))
    } else {
        Finding::new(c, "node", Severity::Ok, "no backlog drops, no time squeeze")
    };
    for (cpu, d, v) in dropped.iter().take(8) {
        f = f.ev_delta(format!("cpu{cpu} dropped"), *v, *d, secs);
    }
    for (cpu, d, v) in squeezed.iter().take(8) {
        f = f.ev_delta(format!("cpu{cpu} time_squeeze"), *v, *d, secs);
    }
    if let Some(b) = backlog {
        f = f.ev("net.core.netdev_max_backlog", b);
    }
    vec![f]
}

/// The kernel's default `netdev_max_backlog`.
const DEFAULT_BACKLOG: u64 = 1000;

fn max_backlog(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let name = "net.core.netdev_max_backlog";
    let f = match sysctl(ctx, name) {
        None => Finding::new(c, "node", Severity::Na, format!("{name} was not read")),
        Some(Avail::Na(r)) => {
            Finding::new(c, "node", Severity::Na, format!("{name}: {}", r.reason))
        }
        Some(Avail::Ok(_)) => match sysctl_num(ctx, name, 0) {
            Some(v) if v < DEFAULT_BACKLOG => Finding::new(
                c,
                "node",
                Severity::Warn,
                format!("{name} is {v}, below the kernel default {DEFAULT_BACKLOG}"),
            )
            .ev(name, v)
            .fix(Fix::sysctl_profile(
                "per-CPU backlog at least the kernel default",
                &format!("  {name}: 16384\n"),
            )),
            Some(v) => Finding::new(c, "node", Severity::Ok, format!("{name} is {v}")).ev(name, v),
            None => Finding::new(c, "node", Severity::Na, format!("{name} is not a number")),
        },
    };
    vec![f]
}

/// Busiest queue over the mean above which receive side scaling counts as lopsided.
const RSS_IMBALANCE: f64 = 2.0;
/// Fewest packets in the window for an imbalance to mean anything.
const RSS_MIN_PACKETS: u64 = 1000;

fn rss(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let per_q: BTreeMap<u32, (u64, u64)> = ctx
            .driver_delta(&i.name)
            .iter()
            .filter_map(|(k, v)| match queue_counter(k) {
                Some((Dir::Rx, q, "packets")) => Some((q, *v)),
                _ => None,
            })
            .collect();
        if per_q.len() < 2 {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "fewer than two receive queues with packet counters",
            ));
            continue;
        }
        let total: u64 = per_q.values().map(|v| v.0).sum();
        let max = per_q.values().map(|v| v.0).max().unwrap_or(0);
        let mean = total as f64 / per_q.len() as f64;
        let ratio = if mean > 0.0 { max as f64 / mean } else { 0.0 };
        let mut f = if total < RSS_MIN_PACKETS {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("too little traffic to judge ({total} packets)"),
            )
        } else if ratio > RSS_IMBALANCE {
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!(
                    "busiest receive queue has {ratio:.1}x the mean: flows hash onto few queues"
                ),
            )
        } else {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("queues balanced (busiest {ratio:.1}x the mean)"),
            )
        };
        for (q, (d, end)) in &per_q {
            f = f.ev_delta(format!("rx queue {q} packets"), *end, *d, secs);
        }
        out.push(f);
    }
    out
}

// ---- IRQ affinity ---------------------------------------------------------------------------

const IRQ_NIC_NUMA_BODY: &str = "    irq_affinity: {cpus: nic-numa, spread: true}\n";

/// The new affinity of an IRQ whose effective CPUs lie outside its affinity: the kernel
/// moves such an IRQ at its next interrupt (x86 without interrupt remapping).
fn pending_move(q: &crate::model::Irq) -> Option<&CpuSet> {
    let (aff, eff) = (q.affinity.as_ref()?, q.effective.as_ref()?);
    (!aff.is_empty() && !eff.is_empty() && !eff.is_subset(aff)).then_some(aff)
}

fn numa_remote(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let irqs: Vec<_> = queue_irqs(i).collect();
        if irqs.is_empty() {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Ok,
                "no queue IRQs (software device)",
            ));
            continue;
        }
        if i.numa_node.is_none() || irqs.iter().all(|q| q.nic_local.is_none()) {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "the NIC's NUMA node is unknown (no numa_node in sysfs)",
            ));
            continue;
        }
        let node = i.numa_node.unwrap_or_default();
        let node_cpus = ctx.inputs.node.topology.cpus_of_node(node);
        let remote: Vec<_> = irqs
            .iter()
            .filter(|q| match (node_cpus, pending_move(q)) {
                // A move the kernel has not done yet (it happens at the next interrupt):
                // the new affinity is where the queue will be served.
                (Some(n), Some(aff)) => !aff.is_subset(n),
                _ => q.nic_local == Some(false),
            })
            .collect();
        let mut f = if remote.is_empty() {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("all {} queue IRQs on NUMA node {node}", irqs.len()),
            )
        } else {
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!(
                    "{} of {} queue IRQs served off the NIC's NUMA node {node}",
                    remote.len(),
                    irqs.len()
                ),
            )
            .fix(Fix::iface_profile(
                &[&i.name],
                "queue IRQs on the NIC's NUMA node",
                IRQ_NIC_NUMA_BODY,
            ))
        };
        for q in remote.iter().take(16) {
            let list = |c: Option<&CpuSet>| c.map_or("?".to_string(), CpuSet::to_list);
            let value = if pending_move(q).is_some() {
                format!(
                    "{} (served on {} until its next interrupt)",
                    list(q.affinity.as_ref()),
                    list(q.effective.as_ref())
                )
            } else {
                list(q.effective.as_ref().or(q.affinity.as_ref()))
            };
            f = f.ev(format!("irq {} ({})", q.irq, q.name), value);
        }
        if let Some(cpus) = ctx.inputs.node.topology.cpus_of_node(node) {
            f = f.ev(format!("node {node} CPUs"), cpus.to_list());
        }
        out.push(f);
    }
    out
}

fn gpu_far(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    if ctx.inputs.node.topology.gpus.is_empty() {
        return vec![Finding::new(c, "node", Severity::Na, "no GPU on this node")];
    }
    for i in &ctx.ifaces {
        let irqs: Vec<_> = queue_irqs(i).filter(|q| q.gpu_local.is_some()).collect();
        if irqs.is_empty() {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "no queue IRQs with a GPU node to compare",
            ));
            continue;
        }
        let far: Vec<_> = irqs.iter().filter(|q| q.gpu_local == Some(false)).collect();
        let mut f = if far.is_empty() {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                "queue IRQs on the nearest GPU's NUMA node",
            )
        } else {
            Finding::new(
                c,
                &i.name,
                Severity::Info,
                format!(
                    "{} of {} queue IRQs off the nearest GPU's NUMA node",
                    far.len(),
                    irqs.len()
                ),
            )
            .fix(Fix::iface_profile(
                &[&i.name],
                "queue IRQs on the nearest GPU's NUMA node",
                "    irq_affinity: {cpus: gpu-numa, spread: true}\n",
            ))
        };
        for q in far.iter().take(16) {
            f = f.ev(
                format!("irq {} ({})", q.irq, q.name),
                q.affinity.as_ref().map_or("?".to_string(), CpuSet::to_list),
            );
        }
        out.push(f);
    }
    out
}

fn stacked(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let irqs: Vec<_> = queue_irqs(i).collect();
        // By queue, not by IRQ: drivers with separate rx and tx vectors per queue (igb) put
        // both of a queue's vectors on one CPU on purpose.
        let queues: BTreeSet<u32> = irqs.iter().filter_map(|q| q.queue).collect();
        if queues.len() < 2 {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Ok,
                "fewer than two queues with IRQs",
            ));
            continue;
        }
        let mut per_cpu: BTreeMap<u32, (BTreeSet<u32>, Vec<u32>)> = BTreeMap::new();
        for q in &irqs {
            if let (Some(e), Some(queue)) = (q.effective.as_ref().or(q.affinity.as_ref()), q.queue)
            {
                if e.len() == 1 {
                    let e = per_cpu
                        .entry(e.iter().next().unwrap_or_default())
                        .or_default();
                    e.0.insert(queue);
                    e.1.push(q.irq);
                }
            }
        }
        let local = i
            .local_cpus
            .as_ref()
            .map_or(ctx.inputs.node.topology.online_cpus.len(), CpuSet::len);
        let distinct = per_cpu.len();
        let worst = per_cpu.iter().max_by_key(|(_, v)| v.0.len());
        let f = match worst {
            // Sharing is only avoidable when there are more CPUs than used so far.
            Some((cpu, (qs, v))) if qs.len() >= 2 && distinct < queues.len().min(local) => {
                Finding::new(
                    c,
                    &i.name,
                    Severity::Warn,
                    format!(
                        "{} queues' IRQs share CPU {cpu} while other local CPUs are free",
                        qs.len()
                    ),
                )
                .ev(
                    format!("cpu{cpu} IRQs"),
                    v.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
                )
                .ev("CPUs serving queue IRQs", distinct)
                .ev("queues with IRQs", queues.len())
                .fix(Fix::iface_profile(
                    &[&i.name],
                    "one queue IRQ per CPU on the NIC's node",
                    IRQ_NIC_NUMA_BODY,
                ))
            }
            _ => Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("{} queues' IRQs over {distinct} CPUs", queues.len()),
            ),
        };
        out.push(f);
    }
    out
}

fn irqbalance(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let f = match &ctx.inputs.irqbalance {
        Avail::Na(r) => Finding::new(c, "node", Severity::Na, format!("irqbalance: {}", r.reason)),
        Avail::Ok(None) => Finding::new(c, "node", Severity::Ok, "irqbalance is not running"),
        Avail::Ok(Some(pid)) => Finding::new(
            c,
            "node",
            Severity::Warn,
            format!("irqbalance (pid {pid}) rewrites IRQ affinities every few seconds"),
        )
        .ev("irqbalance pid", pid),
    };
    vec![f]
}

fn moved(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let Some(w) = ctx.window() else {
        return vec![na_window(c, ctx)];
    };
    let mut f = Finding::new(
        c,
        "node",
        Severity::Ok,
        "no IRQ affinity changed during the window",
    );
    let mut n = 0;
    for (irq, end) in &w.end.irq_affinity {
        if let Some(start) = w.start.irq_affinity.get(irq) {
            if start != end {
                n += 1;
                f = f.ev(
                    format!("irq {irq}"),
                    format!("{} -> {}", start.to_list(), end.to_list()),
                );
            }
        }
    }
    if n > 0 {
        f.severity = Severity::Warn;
        f.title = format!("{n} IRQ affinities changed during the window (irqbalance or a script)");
    }
    vec![f]
}

fn rps(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let rx: Vec<_> = i.queues.iter().filter(|q| q.dir == Dir::Rx).collect();
        let set: Vec<_> = rx
            .iter()
            .filter_map(|q| q.rps_cpus.as_ref().filter(|s| !s.is_empty()))
            .collect();
        // A device with IRQs of its own (or a PCI function) spreads receive work by RSS.
        let has_irqs = !i.irqs.is_empty() || i.pci_address.is_some();
        let node_cpus = i
            .numa_node
            .and_then(|n| ctx.inputs.node.topology.cpus_of_node(n));
        let f = if rx.len() > 1 && !has_irqs && set.is_empty() {
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!("RPS off on {} receive queues without queue IRQs: one CPU does all receive work", rx.len()),
            )
            .ev("receive queues", rx.len())
            .ev("rps_cpus", "none")
            .fix(Fix::iface_profile(&[&i.name], "receive packet steering over the local CPUs", "    rps: {cpus: nic-numa}\n"))
        } else if let Some(remote) = node_cpus.and_then(|n| set.iter().find(|s| !s.is_subset(n))) {
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                "RPS steers packets to CPUs off the NIC's NUMA node",
            )
            .ev("rps_cpus", remote.to_list())
            .fix(Fix::iface_profile(
                &[&i.name],
                "receive packet steering on the NIC's node",
                "    rps: {cpus: nic-numa}\n",
            ))
        } else if set.is_empty() {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                if has_irqs {
                    "RPS off; RSS spreads receive work over the queue IRQs"
                } else {
                    "single receive queue"
                },
            )
        } else {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("RPS on {} of {} receive queues", set.len(), rx.len()),
            )
        };
        out.push(f);
    }
    out
}

fn xps(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let tx: Vec<_> = i.queues.iter().filter(|q| q.dir == Dir::Tx).collect();
        if tx.len() < 2 {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Ok,
                "single transmit queue",
            ));
            continue;
        }
        if tx.iter().all(|q| q.xps_cpus.is_none()) {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "xps_cpus not readable (kernel without XPS)",
            ));
            continue;
        }
        let sets: Vec<(u32, &CpuSet)> = tx
            .iter()
            .filter_map(|q| {
                q.xps_cpus
                    .as_ref()
                    .filter(|s| !s.is_empty())
                    .map(|s| (q.index, s))
            })
            .collect();
        let mut overlap = BTreeSet::new();
        for (n, (qa, a)) in sets.iter().enumerate() {
            for (qb, b) in &sets[n + 1..] {
                if a.intersects(b) {
                    overlap.insert((*qa, *qb));
                }
            }
        }
        let fix = || {
            Fix::iface_profile(
                &[&i.name],
                "one transmit queue per CPU (XPS)",
                "    xps: {cpus: nic-numa}\n",
            )
        };
        let f = if sets.is_empty() {
            Finding::new(
                c,
                &i.name,
                Severity::Info,
                format!(
                    "XPS unset on {} transmit queues: the queue is picked by flow hash",
                    tx.len()
                ),
            )
            .fix(fix())
        } else if !overlap.is_empty() {
            let mut f = Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!("XPS CPU sets overlap between {} queue pairs: a CPU's traffic spreads over several queues", overlap.len()),
            )
            .fix(fix());
            for (qa, qb) in overlap.iter().take(8) {
                f = f.ev(format!("tx-{qa} / tx-{qb}"), "overlap");
            }
            f
        } else {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("XPS set on {} of {} transmit queues", sets.len(), tx.len()),
            )
        };
        out.push(f);
    }
    out
}

// ---- throughput -----------------------------------------------------------------------------

/// Utilization above which the link itself is the limit.
const SATURATED: f64 = 0.9;

fn utilization(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let Some((d, end)) = ctx.counters_delta(&i.name) else {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "not in the counter window",
            ));
            continue;
        };
        let rx = d.rx_bytes as f64 * 8.0 / secs;
        let tx = d.tx_bytes as f64 * 8.0 / secs;
        let mut f = match speed_bps(i) {
            Some(line) => {
                let u = rx.max(tx) / line as f64;
                let sev = if u >= SATURATED {
                    Severity::Warn
                } else {
                    Severity::Ok
                };
                Finding::new(
                    c,
                    &i.name,
                    sev,
                    format!(
                        "rx {} tx {} of {} ({:.0}%)",
                        fmt_bps(rx),
                        fmt_bps(tx),
                        fmt_bps(line as f64),
                        u * 100.0
                    ),
                )
            }
            None => Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("rx {} tx {} (line rate unknown)", fmt_bps(rx), fmt_bps(tx)),
            ),
        };
        f = f
            .ev_delta("rx_bytes", end.rx_bytes, d.rx_bytes, secs)
            .ev_delta("tx_bytes", end.tx_bytes, d.tx_bytes, secs)
            .ev_delta("rx_packets", end.rx_packets, d.rx_packets, secs)
            .ev_delta("tx_packets", end.tx_packets, d.tx_packets, secs);
        out.push(f);
    }
    out
}

fn offloads(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let Some(feats) = i.features.get() else {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                format!("features: {}", i.features.reason().unwrap_or("n/a")),
            ));
            continue;
        };
        let mut off = Vec::new();
        let mut f = Finding::new(c, &i.name, Severity::Ok, "GRO, TSO and GSO on");
        for (kernel, short) in [
            ("rx-gro", "gro"),
            ("tx-tcp-segmentation", "tso"),
            ("tx-generic-segmentation", "gso"),
            ("rx-lro", "lro"),
        ] {
            if let Some(ft) = feats.iter().find(|x| x.name == kernel) {
                f = f.ev(
                    kernel,
                    if ft.active {
                        "on"
                    } else if ft.fixed {
                        "off [fixed]"
                    } else {
                        "off"
                    },
                );
                // LRO off is a choice (it breaks forwarding), not a problem.
                if !ft.active && !ft.fixed && short != "lro" {
                    off.push(short);
                }
            }
        }
        if !off.is_empty() {
            f.severity = Severity::Warn;
            f.title = format!(
                "{} off: every packet costs a trip through the stack",
                off.join(", ")
            );
            let body = format!(
                "    features: {{{}}}\n",
                off.iter()
                    .map(|s| format!("{s}: on"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            f = f.fix(Fix::iface_profile(
                &[&i.name],
                "segmentation and receive offloads on",
                &body,
            ));
        }
        out.push(f);
    }
    out
}

/// Round trip the socket buffers must cover at line rate (a loaded data-center path).
const BDP_RTT_MS: u64 = 1;
/// Smallest buffer ceiling worth suggesting.
const MIN_BUFFER: u64 = 4 << 20;

fn socket_buffers(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let fastest = ctx.ifaces.iter().filter_map(|i| speed_bps(i)).max();
    let need = fastest.map_or(MIN_BUFFER, |bps| {
        (bps / 8 * BDP_RTT_MS / 1000).max(MIN_BUFFER)
    });
    let mut f = Finding::new(
        c,
        "node",
        Severity::Ok,
        "socket buffer ceilings cover the bandwidth-delay product",
    );
    f = f.ev(
        "needed (line rate x 1 ms)",
        crate::output::human_bytes(need),
    );
    let mut small = Vec::new();
    for (name, field) in [
        ("net.ipv4.tcp_rmem", 2),
        ("net.ipv4.tcp_wmem", 2),
        ("net.core.rmem_max", 0),
        ("net.core.wmem_max", 0),
    ] {
        if let Some(v) = sysctl_num(ctx, name, field) {
            f = f.ev(name, v);
            if v < need {
                small.push(name);
            }
        }
    }
    let overflows = ["Udp.RcvbufErrors", "TcpExt.TCPRcvQDrop"]
        .iter()
        .filter_map(|n| ctx.proto_delta(n).map(|d| (*n, d)))
        .collect::<Vec<_>>();
    let secs = ctx.secs();
    let mut overflowed = 0;
    for (n, (d, end)) in &overflows {
        f = f.ev_delta(*n, *end, *d, secs);
        overflowed += d;
    }
    if !small.is_empty() || overflowed > 0 {
        let target = need.next_power_of_two().max(16 << 20);
        f.severity = if small.iter().any(|n| n.contains("tcp_")) || overflowed > 0 {
            Severity::Warn
        } else {
            Severity::Info
        };
        f.title = if overflowed > 0 {
            format!("{overflowed} packets dropped for full socket receive buffers")
        } else {
            format!(
                "{} below {}",
                small.join(", "),
                crate::output::human_bytes(need)
            )
        };
        f = f.fix(Fix::sysctl_profile(
            "socket buffer ceilings for the bandwidth-delay product",
            &format!(
                "  net.core.rmem_max: {target}\n  net.core.wmem_max: {target}\n  net.ipv4.tcp_rmem: \"4096 131072 {target}\"\n  net.ipv4.tcp_wmem: \"4096 16384 {target}\"\n"
            ),
        ));
    }
    vec![f]
}

fn peer_ifindex(i: &Interface) -> Option<u32> {
    i.driver_stats
        .get()?
        .iter()
        .find(|c| c.name == "peer_ifindex")
        .and_then(|c| u32::try_from(c.value).ok())
}

fn mtu(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let mut f =
            Finding::new(c, &i.name, Severity::Ok, format!("MTU {}", i.mtu)).ev("mtu", i.mtu);
        let peer = peer_ifindex(i)
            .and_then(|p| ctx.inputs.node.interfaces.iter().find(|x| x.ifindex == p));
        if let Some(p) = peer {
            f = f.ev(format!("peer {} mtu", p.name), p.mtu);
            if p.mtu != i.mtu {
                f.severity = Severity::Warn;
                f.title = format!(
                    "MTU {} here, {} on the veth peer {}: larger frames are dropped",
                    i.mtu, p.mtu, p.name
                );
                if i.mtu < p.mtu {
                    let body = format!("    mtu: {}\n", p.mtu);
                    f = f.fix(Fix::iface_profile(
                        &[&i.name],
                        "the same MTU on both ends",
                        &body,
                    ));
                }
            }
        }
        if let Some((d, end)) = ctx.counters_delta(&i.name) {
            f = f.ev_delta(
                "rx_length_errors",
                end.rx_length_errors,
                d.rx_length_errors,
                secs,
            );
            if d.rx_length_errors > 0 && f.severity < Severity::Warn {
                f.severity = Severity::Warn;
                f.title = format!(
                    "{} frames longer than the MTU {} arrived: the far end uses a larger MTU",
                    d.rx_length_errors, i.mtu
                );
            }
        }
        out.push(f);
    }
    out
}

// ---- link bandwidth -------------------------------------------------------------------------

fn virtual_na(c: &Check, i: &Interface, kind: &str) -> Finding {
    Finding::new(
        c,
        &i.name,
        Severity::Na,
        format!("virtual device ({kind}): no physical link"),
    )
}

fn link_speed(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        if let Some(kind) = &i.kind {
            out.push(virtual_na(c, i, kind));
            continue;
        }
        let Some(l) = i.link.get() else {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                format!("link: {}", i.link.reason().unwrap_or("n/a")),
            ));
            continue;
        };
        let Some(speed) = l.speed_mbps.filter(|&s| s > 0 && s != u32::MAX) else {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "the driver reports no link speed",
            ));
            continue;
        };
        let best = best_mode_speed(&l.supported_modes);
        let mut f = Finding::new(
            c,
            &i.name,
            Severity::Ok,
            format!("{speed} Mb/s {}", l.duplex.as_deref().unwrap_or("")),
        )
        .ev("speed (Mb/s)", speed)
        .ev("duplex", l.duplex.as_deref().unwrap_or("unknown"));
        if let Some(b) = best {
            f = f.ev("best supported (Mb/s)", b);
        }
        if l.duplex.as_deref() == Some("half") {
            f.severity = Severity::Crit;
            f.title = "half duplex: collisions and a fraction of the bandwidth".to_string();
        } else if let Some(b) = best.filter(|&b| b > speed) {
            f.severity = Severity::Warn;
            f.title = format!("negotiated {speed} Mb/s, the NIC supports {b} Mb/s: check cable, optic and peer port");
        }
        out.push(f);
    }
    out
}

fn autoneg(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    ctx.ifaces
        .iter()
        .map(|i| match i.link.get().and_then(|l| l.autoneg) {
            _ if i.kind.is_some() => virtual_na(c, i, i.kind.as_deref().unwrap_or_default()),
            None => Finding::new(c, &i.name, Severity::Na, "autonegotiation not reported"),
            Some(true) => Finding::new(c, &i.name, Severity::Ok, "autonegotiation on"),
            Some(false) => Finding::new(
                c,
                &i.name,
                Severity::Info,
                "autonegotiation off: speed and duplex forced; both ends must agree",
            )
            .ev("autoneg", "off"),
        })
        .collect()
}

/// Speed from which links need FEC (25G and faster lanes).
const FEC_SPEED: u32 = 25_000;

fn fec(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let Some(fec) = i.fec.get() else {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                format!("FEC: {}", i.fec.reason().unwrap_or("n/a")),
            ));
            continue;
        };
        let active = fec.active.clone().unwrap_or_else(|| "unknown".to_string());
        let mut f =
            Finding::new(c, &i.name, Severity::Ok, format!("FEC {active}")).ev("active", &active);
        if let Some(n) = fec.corrected {
            f = f.ev("corrected blocks", n);
        }
        if let Some(n) = fec.uncorrectable {
            f = f.ev("uncorrectable blocks", n);
        }
        let speed = i.link.get().and_then(|l| l.speed_mbps).unwrap_or(0);
        if fec.uncorrectable.unwrap_or(0) > 0 {
            f.severity = Severity::Warn;
            f.title = format!(
                "{} uncorrectable FEC blocks: the link loses frames",
                fec.uncorrectable.unwrap_or(0)
            );
        } else if speed >= FEC_SPEED
            && speed != u32::MAX
            && matches!(active.to_ascii_lowercase().as_str(), "off" | "none")
        {
            f.severity = Severity::Warn;
            f.title = format!("FEC off at {speed} Mb/s: bit errors become lost frames");
        }
        out.push(f);
    }
    out
}

fn pcie(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    ctx.ifaces
        .iter()
        .map(|i| match &i.pcie {
            Avail::Na(r) => {
                Finding::new(c, &i.name, Severity::Na, format!("PCIe link: {}", r.reason))
            }
            Avail::Ok(p) => {
                let f = Finding::new(
                    c,
                    &i.name,
                    if p.degraded() {
                        Severity::Warn
                    } else {
                        Severity::Ok
                    },
                    if p.degraded() {
                        format!(
                            "PCIe link x{} {} below its capability x{} {}",
                            p.current_width, p.current_speed, p.max_width, p.max_speed
                        )
                    } else {
                        format!("PCIe link x{} {}", p.current_width, p.current_speed)
                    },
                );
                f.ev(
                    "current",
                    format!("x{} {}", p.current_width, p.current_speed),
                )
                .ev("capability", format!("x{} {}", p.max_width, p.max_speed))
            }
        })
        .collect()
}

/// Carrier changes since creation above which a link counts as unstable: up once is 1 or 2.
const FLAPPY: u32 = 4;

fn carrier(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let mut f = Finding::new(c, &i.name, Severity::Ok, "carrier stable");
        if let Some(n) = i.carrier_changes {
            f = f.ev("carrier_changes since creation", n);
            if n > FLAPPY {
                f.severity = Severity::Info;
                f.title = format!("{n} carrier changes since the device was created");
            }
        }
        if let Some(w) = ctx.window() {
            if let (Some(a), Some(b)) = (
                w.start.iface(&i.name).and_then(|s| s.carrier_changes),
                w.end.iface(&i.name).and_then(|s| s.carrier_changes),
            ) {
                let d = u64::from(b.saturating_sub(a));
                f = f.ev_delta("carrier_changes", u64::from(b), d, secs);
                if d > 0 {
                    f.severity = Severity::Crit;
                    f.title = format!("the link flapped during the window ({d} carrier changes)");
                }
            }
        }
        if i.carrier == Some(false) {
            f.severity = Severity::Crit;
            f.title = "no carrier: the link is down".to_string();
        }
        out.push(f);
    }
    out
}

/// Pause frames per second above which flow control dominates the link.
const PAUSE_STORM: f64 = 1000.0;

fn pause(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    if ctx.window().is_none() {
        return vec![na_window(c, ctx)];
    }
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let counters: Vec<_> = ctx
            .driver_delta(&i.name)
            .into_iter()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                (k.contains("pause") || k.contains("xoff")) && !k.contains("duration")
            })
            .collect();
        if counters.is_empty() {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "the driver has no pause frame counters",
            ));
            continue;
        }
        let mut f = Finding::new(c, &i.name, Severity::Ok, "no pause storm");
        let mut worst: Option<(String, f64)> = None;
        for (k, (d, end)) in &counters {
            f = f.ev_delta(k.as_str(), *end, *d, secs);
            let r = *d as f64 / secs;
            if r > worst.as_ref().map_or(0.0, |w| w.1) {
                worst = Some((k.clone(), r));
            }
        }
        if let Some((k, r)) = worst.filter(|w| w.1 >= PAUSE_STORM) {
            f.severity = Severity::Warn;
            f.title = if k.contains("tx") {
                format!("this NIC sends {r:.0} pause frames/s: its receive side cannot keep up")
            } else {
                format!(
                    "the peer sends {r:.0} pause frames/s: congestion upstream throttles this link"
                )
            };
        }
        out.push(f);
    }
    out
}

// ---- capture analysis -----------------------------------------------------------------------

/// How fine a counter series is: its number of intervals, their mean and longest length.
fn series_resolution(s: &super::evidence::Series) -> String {
    let span: u64 = s.rx.iter().map(|iv| iv.dur_ns).sum();
    let longest = s.rx.iter().map(|iv| iv.dur_ns).max().unwrap_or(0);
    format!(
        "{} intervals, {} on average, longest {}",
        s.rx.len(),
        microburst::fmt_duration(span / s.rx.len().max(1) as u64),
        microburst::fmt_duration(longest)
    )
}

fn microbursts(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let mut summaries: Vec<(String, BurstSummary)> = Vec::new();
        for cap in ctx
            .inputs
            .capture
            .iter()
            .filter(|x| x.iface.as_deref() == Some(i.name.as_str()))
        {
            summaries.push((cap.source.clone(), BurstSummary::of(&cap.bursts)));
        }
        let series = ctx.window().and_then(|w| w.series.get(&i.name));
        let mut resolution = None;
        match (series, speed_bps(i)) {
            (Some(s), Some(line)) => {
                let cfg = BurstConfig::new(line);
                resolution = Some(series_resolution(s));
                summaries.push((
                    "rx counters".to_string(),
                    BurstSummary::of(&microburst::detect(&s.rx, cfg)),
                ));
                summaries.push((
                    "tx counters".to_string(),
                    BurstSummary::of(&microburst::detect(&s.tx, cfg)),
                ));
            }
            (Some(s), None) if summaries.is_empty() => {
                out.push(
                    Finding::new(
                        c,
                        &i.name,
                        Severity::Na,
                        "line rate unknown (no link speed): bursts need one",
                    )
                    .ev("counter series", series_resolution(s)),
                );
                continue;
            }
            (None, _) if summaries.is_empty() => {
                let why = ctx
                    .inputs
                    .window
                    .reason()
                    .unwrap_or("no fine counter series for this interface");
                out.push(Finding::new(
                    c,
                    &i.name,
                    Severity::Na,
                    format!("no capture and no counter series: {why}"),
                ));
                continue;
            }
            _ => {}
        }
        let count: u64 = summaries.iter().map(|s| s.1.count).sum();
        let drops: u64 = summaries.iter().map(|s| s.1.drops).sum();
        let mut f = Finding::new(
            c,
            &i.name,
            Severity::Ok,
            "no microbursts above 50% of line rate",
        );
        if let Some(r) = resolution {
            f = f.ev("counter series", r);
        }
        for (src, s) in &summaries {
            f = f.ev(
                format!("{src}: bursts"),
                format!(
                    "{} (longest {}, peak {:.0}%, {} drops)",
                    s.count,
                    microburst::fmt_duration(s.longest_ns),
                    s.peak_util * 100.0,
                    s.drops
                ),
            );
        }
        if drops > 0 {
            f.severity = Severity::Crit;
            f.title = format!(
                "{count} microbursts, {drops} drops during them: queues overflow in bursts"
            );
            f = f.fix(Fix::iface_profile(
                &[&i.name],
                "receive ring at the device maximum",
                RINGS_MAX_BODY,
            ));
        } else if count > 0 {
            f.severity = Severity::Info;
            f.title = format!("{count} microbursts above 50% of line rate, no drops during them");
        }
        out.push(f);
    }
    out
}

/// Retransmitted share of TCP segments that costs throughput (warn) or collapses it (crit).
const RETRANS_WARN: f64 = 0.01;
const RETRANS_CRIT: f64 = 0.05;
/// Fewest segments for a retransmit ratio to mean anything.
const MIN_SEGMENTS: u64 = 1000;

fn retrans_finding(c: &Check, subject: &str, retrans: u64, segs: u64) -> Finding {
    let ratio = if segs > 0 {
        retrans as f64 / segs as f64
    } else {
        0.0
    };
    let sev = if segs < MIN_SEGMENTS {
        Severity::Ok
    } else if ratio >= RETRANS_CRIT {
        Severity::Crit
    } else if ratio >= RETRANS_WARN {
        Severity::Warn
    } else {
        Severity::Ok
    };
    let title = if segs < MIN_SEGMENTS {
        format!("too little TCP traffic to judge ({segs} segments)")
    } else {
        format!("{:.2}% of TCP segments retransmitted", ratio * 100.0)
    };
    Finding::new(c, subject, sev, title)
}

fn capture_retrans(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let caps: Vec<_> = ctx
        .inputs
        .capture
        .iter()
        .filter(|x| x.tcp_retransmissions.is_some() && x.tcp_segments.is_some())
        .collect();
    if caps.is_empty() {
        return vec![Finding::new(
            c,
            "node",
            Severity::Na,
            "no capture analysis given (node-wide TCP retransmits: proto.tcp-retrans)",
        )];
    }
    caps.iter()
        .map(|x| {
            let (r, s) = (
                x.tcp_retransmissions.unwrap_or(0),
                x.tcp_segments.unwrap_or(0),
            );
            retrans_finding(c, x.iface.as_deref().unwrap_or("node"), r, s)
                .ev("capture", &x.source)
                .ev("retransmissions", r)
                .ev("segments", s)
        })
        .collect()
}

// ---- protocol errors ------------------------------------------------------------------------

fn tcp_retrans(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let (Some((r, rv)), Some((s, sv))) = (
        ctx.proto_delta("Tcp.RetransSegs"),
        ctx.proto_delta("Tcp.OutSegs"),
    ) else {
        if ctx.window().is_none() {
            return vec![na_window(c, ctx)];
        }
        return vec![Finding::new(
            c,
            "node",
            Severity::Na,
            "no TCP counters (/proc/net/snmp) in the window",
        )];
    };
    let secs = ctx.secs();
    let mut f = retrans_finding(c, "node", r, s)
        .ev_delta("Tcp.RetransSegs", rv, r, secs)
        .ev_delta("Tcp.OutSegs", sv, s, secs);
    if let Some((d, v)) = ctx.proto_delta("TcpExt.TCPTimeouts") {
        f = f.ev_delta("TcpExt.TCPTimeouts", v, d, secs);
    }
    vec![f]
}

/// Resets per second above which connections are being torn down, not closed.
const RESETS_PER_SEC: f64 = 10.0;

fn tcp_resets(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    if ctx.window().is_none() {
        return vec![na_window(c, ctx)];
    }
    let secs = ctx.secs();
    let mut f = Finding::new(c, "node", Severity::Ok, "few TCP resets");
    let mut total = 0;
    for n in ["Tcp.EstabResets", "Tcp.OutRsts", "Tcp.AttemptFails"] {
        if let Some((d, v)) = ctx.proto_delta(n) {
            f = f.ev_delta(n, v, d, secs);
            if n != "Tcp.AttemptFails" {
                total += d;
            }
        }
    }
    if f.evidence.is_empty() {
        return vec![Finding::new(
            c,
            "node",
            Severity::Na,
            "no TCP counters (/proc/net/snmp) in the window",
        )];
    }
    let rate = total as f64 / secs;
    if rate >= RESETS_PER_SEC {
        f.severity = Severity::Warn;
        f.title = format!("{rate:.0} TCP resets/s: connections are torn down (timeouts, full queues, a middlebox)");
    }
    vec![f]
}

fn checksum(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    if ctx.window().is_none() {
        return vec![na_window(c, ctx)];
    }
    let secs = ctx.secs();
    let mut f = Finding::new(c, "node", Severity::Ok, "no checksum errors");
    let mut total = 0;
    for n in [
        "Tcp.InCsumErrors",
        "Udp.InCsumErrors",
        "UdpLite.InCsumErrors",
        "Icmp.InCsumErrors",
    ] {
        if let Some((d, v)) = ctx.proto_delta(n) {
            f = f.ev_delta(n, v, d, secs);
            total += d;
        }
    }
    if f.evidence.is_empty() {
        return vec![Finding::new(
            c,
            "node",
            Severity::Na,
            "no checksum counters in the window",
        )];
    }
    if total > 0 {
        f.severity = Severity::Warn;
        f.title = format!(
            "{total} packets with bad checksums: corruption on the path or a broken offload"
        );
    }
    vec![f]
}

fn crc(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let total = i.counters.rx_crc_errors + i.counters.rx_frame_errors;
        let mut f = Finding::new(c, &i.name, Severity::Ok, "no CRC or frame errors");
        if let Some((d, end)) = ctx.counters_delta(&i.name) {
            f = f
                .ev_delta("rx_crc_errors", end.rx_crc_errors, d.rx_crc_errors, secs)
                .ev_delta(
                    "rx_frame_errors",
                    end.rx_frame_errors,
                    d.rx_frame_errors,
                    secs,
                );
            let dd = d.rx_crc_errors + d.rx_frame_errors;
            if dd > 0 {
                f.severity = Severity::Crit;
                f.title = format!("{dd} CRC/frame errors during the window: cable, optic or port");
            }
        } else {
            f = f
                .ev("rx_crc_errors", i.counters.rx_crc_errors)
                .ev("rx_frame_errors", i.counters.rx_frame_errors);
        }
        if f.severity == Severity::Ok && total > 0 {
            f.severity = Severity::Info;
            f.title = if ctx.window().is_some() {
                format!("{total} CRC/frame errors since boot (none during the window)")
            } else {
                format!(
                    "{total} CRC/frame errors since boot (no window to tell if they are recent)"
                )
            };
        }
        out.push(f);
    }
    out
}

fn tx_timeout(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let secs = ctx.secs();
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let since_boot: Option<u64> = i
            .queues
            .iter()
            .filter_map(|q| q.tx_timeout)
            .reduce(|a, b| a + b);
        let mut f = Finding::new(c, &i.name, Severity::Ok, "no transmit timeouts");
        if let Some(n) = since_boot {
            f = f.ev("tx_timeout since boot", n);
            if n > 0 {
                f.severity = Severity::Warn;
                f.title =
                    format!("{n} transmit timeouts since boot: the driver reset a stuck queue");
            }
        }
        if let Some(w) = ctx.window() {
            if let (Some(a), Some(b)) = (
                w.start.iface(&i.name).and_then(|s| s.tx_timeouts),
                w.end.iface(&i.name).and_then(|s| s.tx_timeouts),
            ) {
                f = f.ev_delta("tx_timeout", b, b.saturating_sub(a), secs);
                if b > a {
                    f.severity = Severity::Crit;
                    f.title = format!(
                        "{} transmit timeouts during the window: a queue stalls",
                        b - a
                    );
                }
            }
        }
        if since_boot.is_none() && f.evidence.is_empty() {
            f.severity = Severity::Na;
            f.title = "no tx_timeout counters (no transmit queues in sysfs)".to_string();
        }
        out.push(f);
    }
    out
}

/// Every check, in the order the steps run them.
pub static CHECKS: &[Check] = &[
    Check { id: "backlog.nic-drops", step: Step::Backlog, needs_window: true, run: nic_drops,
        explanation: "When the receive ring is full the NIC drops packets before the kernel sees them (rx_missed/rx_fifo/rx_over). A queue that backs up that far adds its whole length to every packet's latency before it drops; a longer ring absorbs bursts, faster IRQ service (affinity, coalescing) drains it." },
    Check { id: "backlog.queue-drops", step: Step::Backlog, needs_window: true, run: queue_drops,
        explanation: "Per-queue drop counters of the driver show which receive queue overflows. One queue dropping while others idle points at RSS imbalance or a slow CPU behind that queue's IRQ; all queues dropping points at ring size or total load." },
    Check { id: "backlog.rings", step: Step::Backlog, needs_window: false, run: rings,
        explanation: "The receive ring is the NIC's buffer for packets the CPU has not collected yet. A ring below the device maximum overflows sooner under bursts; a longer ring trades a little memory (and cache footprint) for fewer drops." },
    Check { id: "backlog.softnet", step: Step::Backlog, needs_window: true, run: softnet,
        explanation: "Packets handed to a CPU's backlog (RPS, veth, tunnels, netif_rx) wait in a per-CPU queue of net.core.netdev_max_backlog packets; when it is full they are dropped (softnet_stat column 2). time_squeeze counts softirq rounds that ran out of budget with work left: packets waited for the next round." },
    Check { id: "backlog.max-backlog", step: Step::Backlog, needs_window: false, run: max_backlog,
        explanation: "net.core.netdev_max_backlog bounds each CPU's input backlog. Below the kernel default of 1000 even modest bursts through RPS or virtual devices overflow it and drop packets." },
    Check { id: "backlog.rss", step: Step::Backlog, needs_window: true, run: rss,
        explanation: "Receive side scaling hashes flows onto queues. When one queue carries most packets, its CPU saturates and its ring backs up while the others idle: few large flows, a hash key or indirection table that ignores ports, or traffic the NIC cannot hash (tunnels)." },
    Check { id: "irq.numa-remote", step: Step::Irq, needs_window: false, run: numa_remote,
        explanation: "A queue IRQ served by a CPU on the other socket makes every descriptor and packet cross the inter-socket link: higher latency, lower throughput, and remote memory for the socket buffers. Queue IRQs belong on the NIC's NUMA node." },
    Check { id: "irq.gpu-far", step: Step::Irq, needs_window: false, run: gpu_far,
        explanation: "For GPU traffic the data ends in GPU memory: queue IRQs and the threads they wake are best on the NUMA node of the GPU nearest the NIC, so the copy to the GPU does not cross sockets." },
    Check { id: "irq.stacked", step: Step::Irq, needs_window: false, run: stacked,
        explanation: "Several queue IRQs on one CPU serialize their queues: the CPU serves them in turn while other local CPUs idle, so the queues back up under load. One queue IRQ per core keeps queues independent." },
    Check { id: "irq.irqbalance", step: Step::Irq, needs_window: false, run: irqbalance,
        explanation: "irqbalance rewrites IRQ affinities every few seconds by its own load heuristics, undoing a tuned placement and moving queues between CPUs (cold caches, reordering). Stop it, or exclude the NIC's IRQs (IRQBALANCE_BANNED_CPUS / --banirq), before tuning affinity." },
    Check { id: "irq.moved", step: Step::Irq, needs_window: true, run: moved,
        explanation: "An IRQ whose affinity changes while traffic flows moves its queue to another CPU: caches go cold and packets of one flow may be processed out of order for a moment. Something on the node (irqbalance, a script) is rewriting affinities." },
    Check { id: "irq.rps", step: Step::Irq, needs_window: false, run: rps,
        explanation: "Receive packet steering (Documentation/networking/scaling.rst) spreads receive processing over CPUs in software. Devices without per-queue IRQs (veth, tunnels, single-IRQ NICs) process all received packets on one CPU unless RPS is set; RPS pointing off the NIC's node adds a cross-socket hop per packet." },
    Check { id: "irq.xps", step: Step::Irq, needs_window: false, run: xps,
        explanation: "Transmit packet steering (XPS) maps CPUs to transmit queues so a CPU sends on its own queue and completes on its own IRQ. Unset, the queue is picked by flow hash; overlapping CPU sets send one CPU's traffic through several queues and contend on their locks." },
    Check { id: "throughput.utilization", step: Step::Throughput, needs_window: true, run: utilization,
        explanation: "Bits per second over the window against the line rate. A link near its rate is the bottleneck itself (more links or a faster port); a link far below it while the application is slow points at the host: offloads, buffers, CPU placement." },
    Check { id: "throughput.offloads", step: Step::Throughput, needs_window: false, run: offloads,
        explanation: "GRO merges received segments, TSO and GSO let the stack hand the NIC 64 KiB at a time. With them off every 1500-byte packet goes through the stack alone and throughput hits the per-packet CPU cost long before the line rate." },
    Check { id: "throughput.socket-buffers", step: Step::Throughput, needs_window: false, run: socket_buffers,
        explanation: "A TCP flow can only have one receive window of data in flight; the window is capped by net.ipv4.tcp_rmem/tcp_wmem (and rmem_max/wmem_max for applications that size their buffers). Below the bandwidth-delay product a single flow cannot fill the link; overflowing receive buffers drop packets." },
    Check { id: "throughput.mtu", step: Step::Throughput, needs_window: false, run: mtu,
        explanation: "Both ends of a link must agree on the MTU: frames larger than the receiver's MTU are dropped (rx_length_errors), which looks like a black hole for large packets while small ones pass. Jumbo frames cut per-packet cost where every hop supports them." },
    Check { id: "link.speed", step: Step::Link, needs_window: false, run: link_speed,
        explanation: "The negotiated speed is the ceiling of the link. A speed below the best mode both NIC and cable support usually means a cable or optic of a lower class, a peer port configured lower, or lanes down; half duplex means a negotiation failure." },
    Check { id: "link.autoneg", step: Step::Link, needs_window: false, run: autoneg,
        explanation: "With autonegotiation off, speed and duplex are forced; a peer that still negotiates falls back to half duplex or a lower speed, and a later cable or optic change is not adapted to." },
    Check { id: "link.fec", step: Step::Link, needs_window: false, run: fec,
        explanation: "Forward error correction repairs bit errors on fast links (25G lanes and up). Without it, or with uncorrectable blocks counting up, bit errors become CRC errors and lost frames, which TCP pays for with retransmits." },
    Check { id: "link.pcie", step: Step::Link, needs_window: false, run: pcie,
        explanation: "The NIC's PCIe link trained below its capability (fewer lanes or a lower generation) caps what the NIC can move to memory, often below the network line rate: a card in the wrong slot, a riser, or a BIOS setting." },
    Check { id: "link.carrier", step: Step::Link, needs_window: false, run: carrier,
        explanation: "Each carrier change is the link going down or up. Flaps drop everything in flight, reset TCP congestion windows and can trigger bond or routing failovers; a flapping link points at the cable, optic, or peer port." },
    Check { id: "link.pause", step: Step::Link, needs_window: true, run: pause,
        explanation: "Ethernet pause frames stop the sender for a while. A steady stream of them (a pause storm) means a receiver cannot keep up and throttles the whole link, every flow on it, not just the one causing it." },
    Check { id: "capture.microbursts", step: Step::Capture, needs_window: true, run: microbursts,
        explanation: "Microbursts are runs of milliseconds or less at a large share of line rate. Averages over seconds hide them, yet they fill rings and backlogs in an instant; bursts with drops during them are the cause of the drops." },
    Check { id: "capture.retransmissions", step: Step::Capture, needs_window: false, run: capture_retrans,
        explanation: "Retransmissions seen on the wire show loss on the path of the captured flows: each one costs a round trip or a timeout and shrinks the sender's congestion window." },
    Check { id: "proto.tcp-retrans", step: Step::Proto, needs_window: true, run: tcp_retrans,
        explanation: "TCP retransmits segments it believes lost. Above about 1% of segments, loss dominates throughput (congestion window cuts) and latency (a round trip or a timeout per loss); find the drop point in the earlier steps." },
    Check { id: "proto.tcp-resets", step: Step::Proto, needs_window: true, run: tcp_resets,
        explanation: "Resets tear connections down without the normal close: a full listen queue, an application closing with unread data, a timeout, or a middlebox. Each costs a new handshake and whatever was in flight." },
    Check { id: "proto.checksum", step: Step::Proto, needs_window: true, run: checksum,
        explanation: "Packets that arrive with a bad checksum are dropped by the stack. They come from corruption the link CRC did not catch (a bad switch, memory), or from a broken checksum offload." },
    Check { id: "proto.crc", step: Step::Proto, needs_window: false, run: crc,
        explanation: "CRC and frame errors are frames damaged on the wire: a dirty or damaged fiber, a failing optic or cable, or a port in trouble. They are dropped by the NIC and count as loss for the protocols above." },
    Check { id: "proto.tx-timeout", step: Step::Proto, needs_window: false, run: tx_timeout,
        explanation: "A transmit timeout is the kernel's watchdog finding a transmit queue stopped for seconds; the driver then resets the queue or the device, losing what was queued. Usually firmware or driver trouble, or the link paused for long." },
];

/// Runs the checks of one step.
pub fn run_step(ctx: &Ctx, step: Step) -> Vec<Finding> {
    CHECKS
        .iter()
        .filter(|c| c.step == step)
        .flat_map(|c| {
            if c.needs_window && ctx.window().is_none() {
                vec![na_window(c, ctx)]
            } else {
                (c.run)(c, ctx)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_counter_names_of_common_drivers() {
        assert_eq!(
            queue_counter("rx_queue_3_drops"),
            Some((Dir::Rx, 3, "drops"))
        );
        assert_eq!(
            queue_counter("tx_queue_0_packets"),
            Some((Dir::Tx, 0, "packets"))
        );
        assert_eq!(
            queue_counter("rx12_packets"),
            Some((Dir::Rx, 12, "packets"))
        );
        assert_eq!(
            queue_counter("[2]: rx_ucast_packets"),
            Some((Dir::Rx, 2, "ucast_packets"))
        );
        assert_eq!(queue_counter("rx_packets"), None);
        assert_eq!(queue_counter("rx_queue_x_drops"), None);
        assert!(is_drop_counter("drops") && is_drop_counter("missed"));
        assert!(!is_drop_counter("xdp_drops") && !is_drop_counter("packets"));
    }

    #[test]
    fn best_mode_speed_reads_the_mode_names() {
        let modes = ["10000baseT/Full", "100000baseCR4/Full", "Autoneg"].map(String::from);
        assert_eq!(best_mode_speed(&modes), Some(100_000));
        assert_eq!(best_mode_speed(&[]), None);
    }

    #[test]
    fn check_ids_are_unique_and_prefixed_by_their_step() {
        let mut seen = BTreeSet::new();
        for c in CHECKS {
            assert!(seen.insert(c.id), "duplicate {}", c.id);
            let step = serde_json::to_value(c.step).expect("json");
            assert!(
                c.id.starts_with(&format!("{}.", step.as_str().expect("str"))),
                "{}",
                c.id
            );
        }
    }

    #[test]
    fn pending_move_when_effective_lies_outside_the_affinity() {
        let irq = |aff: &str, eff: &str| crate::model::Irq {
            irq: 1,
            name: "q".into(),
            queue: Some(0),
            count: 0,
            affinity: Some(CpuSet::parse_list(aff).expect("list")),
            effective: Some(CpuSet::parse_list(eff).expect("list")),
            nic_local: None,
            gpu_local: None,
        };
        assert_eq!(
            pending_move(&irq("0", "2")).map(CpuSet::to_list),
            Some("0".into())
        );
        assert_eq!(pending_move(&irq("0-3", "2")), None);
        assert_eq!(pending_move(&irq("2", "2")), None);
    }

    fn inputs_with(iface: Interface) -> Inputs {
        Inputs {
            node: crate::model::NodeState {
                schema: 1,
                hostname: "h".into(),
                kernel: "k".into(),
                taken_at_ms: 0,
                topology: serde_json::from_value(serde_json::json!({
                    "online_cpus": "0-7", "cpus": [], "gpus": [],
                    "numa_nodes": [{"id": 0, "cpus": "0-3"}, {"id": 1, "cpus": "4-7"}]
                }))
                .expect("topology"),
                interfaces: vec![iface],
                sysctls: vec![],
                softnet: vec![],
            },
            window: Avail::na("none"),
            irqbalance: Avail::Ok(None),
            capture: vec![],
        }
    }

    /// igb-style vectors: `rx-N` and `tx-N` per queue, each pair on `cpus[N]`.
    fn rx_tx_irqs(cpus: &[u32]) -> Vec<crate::model::Irq> {
        let mut v = Vec::new();
        for (q, cpu) in cpus.iter().enumerate() {
            for dir in ["rx", "tx"] {
                let set = CpuSet::from_cpus([*cpu]);
                v.push(crate::model::Irq {
                    irq: 100 + v.len() as u32,
                    name: format!("igb0-{dir}-{q}"),
                    queue: Some(q as u32),
                    count: 0,
                    affinity: Some(set.clone()),
                    effective: Some(set),
                    nic_local: Some(true),
                    gpu_local: None,
                });
            }
        }
        v
    }

    fn stacked_severity(cpus: &[u32]) -> Severity {
        let mut nic: Interface = serde_json::from_value(serde_json::json!({
            "name": "igb0", "ifindex": 2, "kind": null, "driver": {"n/a": "x"},
            "mac": null, "mtu": 1500, "txqueuelen": 1000, "operstate": "up", "carrier": true,
            "carrier_changes": 1, "num_tx_queues": 4, "num_rx_queues": 4,
            "pci_address": "0000:81:01.0", "numa_node": 1, "local_cpus": "4-7",
            "pcie": {"n/a": "x"}, "link": {"n/a": "x"}, "rings": {"n/a": "x"},
            "channels": {"n/a": "x"}, "coalesce": {"n/a": "x"}, "pause": {"n/a": "x"},
            "features": {"n/a": "x"}, "fec": {"n/a": "x"}, "counters": Counters::default(),
            "std_stats": {"n/a": "x"}, "driver_stats": {"n/a": "x"},
            "queues": [], "irqs": [], "temperatures": []
        }))
        .expect("interface");
        nic.irqs = rx_tx_irqs(cpus);
        let inputs = inputs_with(nic);
        let ctx = Ctx::new(&inputs);
        let check = CHECKS
            .iter()
            .find(|c| c.id == "irq.stacked")
            .expect("check");
        let f = (check.run)(check, &ctx);
        assert_eq!(f.len(), 1);
        f[0].severity
    }

    #[test]
    fn stacked_counts_queues_not_vectors() {
        // rx-N and tx-N together on one CPU each: fine.
        assert_eq!(stacked_severity(&[4, 5, 6, 7]), Severity::Ok);
        // Queues 0 and 1 on CPU 4 while 6 and 7 (and more node-1 CPUs) are free.
        assert_eq!(stacked_severity(&[4, 4, 6, 7]), Severity::Warn);
    }

    #[test]
    fn fmt_bps_units() {
        assert_eq!(fmt_bps(9.41e9), "9.41 Gb/s");
        assert_eq!(fmt_bps(12.0), "12 b/s");
    }
}
