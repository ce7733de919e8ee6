//! Stage two: from the raw file to validated types, one small `validate_*` function per kind
//! of value. Everything that can be checked without a node is checked here; what needs the
//! node (device maxima, CPU policies, GPUs) is left to [`super::resolve`].
//!
//! Ranges (documented in profiles/README.md):
//!
//! | value | range |
//! |---|---|
//! | ring size | 1 to 1048576, and at most the device maximum (checked at resolve time) |
//! | channel count | 1 to 4096, and at most the device maximum (checked at resolve time) |
//! | percentage of max | 1% to 100% |
//! | mtu | 68 to 65535 |
//! | txqueuelen | 1 to 1000000 |
//! | rps flow_cnt | 0 to 1048576 (0 turns RFS off on the queue) |
//! | coalesce `*usecs*` fields | 0 to 1000000 (one second) |
//! | other coalesce numbers | 0 to 4294967295 |
//! | min_speed_mbps | 1 to 10000000 |

use std::collections::BTreeMap;
use std::fmt;

use crate::model::knobs::{self, is_pci_address, FieldKind, KnobKind};
use crate::model::{CpuSet, Value};

use super::glob;
use super::outline::{At, KeyPath, Outline, Pos};
use super::raw::{Names, RawBlock, RawIrq, RawMatch, RawProfile, RawRps, RawXps, Scalar};
use super::suggest;
use super::Problem;

/// Largest ring size a profile may ask for.
pub const RING_MAX: u32 = 1 << 20;
/// Largest channel count a profile may ask for.
pub const CHANNEL_MAX: u32 = 4096;
/// MTU range (RFC 791 minimum for IPv4 to the largest IP packet).
pub const MTU_RANGE: (u32, u32) = (68, 65535);
/// Largest txqueuelen.
pub const TXQUEUELEN_MAX: u32 = 1_000_000;
/// Largest `rps_flow_cnt`.
pub const FLOW_CNT_MAX: u32 = 1 << 20;
/// Largest coalescing time in microseconds.
pub const COALESCE_USECS_MAX: u32 = 1_000_000;
/// Largest `min_speed_mbps`.
pub const SPEED_MAX: u32 = 10_000_000;

/// Which count an [`Amount`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountKind {
    /// A ring size.
    Ring,
    /// A channel count.
    Channel,
}

/// A ring size or channel count as the profile asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Amount {
    /// Exactly this many; above the device maximum is an error.
    Exact(u32),
    /// The device maximum.
    Max,
    /// This percentage of the device maximum, rounded down, at least 1.
    Percent(u32),
    /// One per physical core of the NIC's NUMA node (channels only), capped at the maximum.
    PerLocalCore,
    /// The smaller of two amounts: `min(4096, max)` is 4096 or the maximum if lower.
    Min(Box<Amount>, Box<Amount>),
    /// At least this amount (rings only, `">= 4096"`): a larger current value stays.
    AtLeast(Box<Amount>),
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Exact(n) => write!(f, "{n}"),
            Amount::Max => f.write_str("max"),
            Amount::Percent(p) => write!(f, "{p}%"),
            Amount::PerLocalCore => f.write_str("per-local-core"),
            Amount::Min(a, b) => write!(f, "min({a}, {b})"),
            Amount::AtLeast(a) => write!(f, ">= {a}"),
        }
    }
}

/// A CPU set as the profile writes it: literal, or a policy resolved on the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuSpec {
    /// A literal list or mask.
    Set(CpuSet),
    /// All online CPUs.
    All,
    /// No CPU (turns RPS or XPS off).
    None,
    /// The CPUs of the NIC's NUMA node.
    NicNuma,
    /// The CPUs of the NUMA node of the GPU nearest the NIC, or of the GPU at this PCI
    /// address.
    GpuNuma(Option<String>),
}

impl fmt::Display for CpuSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpuSpec::Set(s) if s.is_empty() => f.write_str("none"),
            CpuSpec::Set(s) => write!(f, "{s}"),
            CpuSpec::All => f.write_str("all"),
            CpuSpec::None => f.write_str("none"),
            CpuSpec::NicNuma => f.write_str("nic-numa"),
            CpuSpec::GpuNuma(None) => f.write_str("gpu-numa"),
            CpuSpec::GpuNuma(Some(a)) => write!(f, "gpu-numa:{a}"),
        }
    }
}

/// How XPS maps transmit queues to CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XpsMode {
    /// One CPU per queue, round-robin over the set in spread order (the default).
    Spread,
    /// The whole set on every queue.
    All,
}

/// Which interfaces a block applies to; every given criterion must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// Interface name globs; one must match.
    pub names: Vec<String>,
    /// Driver name globs; one must match.
    pub drivers: Vec<String>,
    /// Has a PCI device (true) or has none (false).
    pub pci: Option<bool>,
    /// PCI vendor id.
    pub pci_vendor: Option<u16>,
    /// PCI device id.
    pub pci_device: Option<u16>,
    /// Link speed at least this (Mb/s).
    pub min_speed_mbps: Option<u32>,
}

impl fmt::Display for Selector {
    /// The criteria as a profile writes them: `name: vO`, `driver: [ice, mlx5_*], pci: true`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[String]| match v {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        let mut parts = Vec::new();
        if !self.names.is_empty() {
            parts.push(format!("name: {}", list(&self.names)));
        }
        if !self.drivers.is_empty() {
            parts.push(format!("driver: {}", list(&self.drivers)));
        }
        if let Some(p) = self.pci {
            parts.push(format!("pci: {p}"));
        }
        if let Some(v) = self.pci_vendor {
            parts.push(format!("pci_vendor: 0x{v:04x}"));
        }
        if let Some(d) = self.pci_device {
            parts.push(format!("pci_device: 0x{d:04x}"));
        }
        if let Some(m) = self.min_speed_mbps {
            parts.push(format!("min_speed_mbps: {m}"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// `rps:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpsSpec {
    /// CPUs for every receive queue.
    pub cpus: Option<CpuSpec>,
    /// CPUs taken out of `cpus`.
    pub exclude: Option<CpuSpec>,
    /// `rps_flow_cnt` for every receive queue.
    pub flow_cnt: Option<u32>,
}

/// `xps:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XpsSpec {
    /// CPUs to spread the transmit queues over.
    pub cpus: Option<CpuSpec>,
    /// CPUs taken out of `cpus`.
    pub exclude: Option<CpuSpec>,
    /// Spread (default) or all.
    pub mode: Option<XpsMode>,
}

/// `irq_affinity:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IrqSpec {
    /// CPUs for the queue IRQs.
    pub cpus: Option<CpuSpec>,
    /// CPUs taken out of `cpus`.
    pub exclude: Option<CpuSpec>,
    /// One IRQ per CPU (default true), or the whole set on every IRQ.
    pub spread: Option<bool>,
}

/// The settings of one block, or of every block an interface matched, merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Ring sizes by field (`rx`, `tx`, `rx_mini`, `rx_jumbo`).
    pub rings: BTreeMap<String, Amount>,
    /// Channel counts by field (`combined`, `rx`, `tx`, `other`).
    pub channels: BTreeMap<String, Amount>,
    /// Coalescing fields (numbers or booleans) by [`Coalesce`] field name.
    pub coalesce: BTreeMap<String, Value>,
    /// Pause fields (`autoneg`, `rx`, `tx`).
    pub pause: BTreeMap<String, bool>,
    /// Features by kernel name.
    pub features: BTreeMap<String, bool>,
    /// MTU.
    pub mtu: Option<u32>,
    /// txqueuelen.
    pub txqueuelen: Option<u32>,
    /// RPS.
    pub rps: Option<RpsSpec>,
    /// XPS.
    pub xps: Option<XpsSpec>,
    /// Queue IRQ affinity.
    pub irq: Option<IrqSpec>,
    /// Expectations about the pluggable module (checked, never written).
    pub module: Option<ModuleSpec>,
    /// Traffic classes (the root qdisc); a later block's `qos` replaces an earlier one whole.
    pub qos: Option<crate::model::qos::QosSpec>,
    /// Priorities with PFC on (empty: PFC off); a later block's list replaces an earlier one.
    pub pfc: Option<Vec<u8>>,
    /// Where the `qos` classes go; set and replaced with `qos`.
    pub qos_offload: crate::model::dcb::QosOffload,
    /// DSCP to priority (DCB APP table entries); merged entry by entry.
    pub dscp: BTreeMap<u8, u8>,
    /// The APP trust order (selectors, most trusted first); a later block's replaces.
    pub trust: Option<Vec<u8>>,
    /// `rdma_cm` defaults of the RDMA devices on the interface; merged key by key.
    pub rdma: Option<RdmaSpec>,
}

/// `rdma:` validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RdmaSpec {
    /// RDMA device name globs; `None`: every RDMA device on the interface.
    pub device: Option<Vec<String>>,
    /// `default_roce_mode` as `rdma_cm` spells it (`IB/RoCE v1`, `RoCE v2`).
    pub roce_mode: Option<String>,
    /// `default_roce_tos`.
    pub tos: Option<u8>,
}

/// `module:` validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleSpec {
    /// The cable or optic class wanted.
    pub cable: Option<crate::model::module::CableClass>,
    /// The least receive power of every lane, in hundredths of a dBm.
    pub min_rx_power_cdbm: Option<i32>,
}

/// The lowest and highest `min_rx_power_dbm` (what a module can measure, about -40 dBm, to
/// far above any receiver's overload).
const RX_POWER_DBM_RANGE: (f64, f64) = (-40.0, 10.0);

fn or_later<T: Clone>(earlier: &mut Option<T>, later: Option<&T>) {
    if let Some(l) = later {
        *earlier = Some(l.clone());
    }
}

impl Settings {
    /// Applies a later block over this one, key by key: a key the later block sets wins,
    /// keys it leaves out keep their value.
    pub fn merge(&mut self, later: &Settings) {
        self.rings.extend(later.rings.clone());
        self.channels.extend(later.channels.clone());
        self.coalesce.extend(later.coalesce.clone());
        self.pause.extend(later.pause.clone());
        self.features.extend(later.features.clone());
        or_later(&mut self.mtu, later.mtu.as_ref());
        or_later(&mut self.txqueuelen, later.txqueuelen.as_ref());
        or_later(&mut self.qos, later.qos.as_ref());
        if later.qos.is_some() {
            self.qos_offload = later.qos_offload;
        }
        or_later(&mut self.pfc, later.pfc.as_ref());
        self.dscp.extend(later.dscp.clone());
        or_later(&mut self.trust, later.trust.as_ref());
        if let Some(l) = &later.rdma {
            let e = self.rdma.get_or_insert_with(RdmaSpec::default);
            or_later(&mut e.device, l.device.as_ref());
            or_later(&mut e.roce_mode, l.roce_mode.as_ref());
            or_later(&mut e.tos, l.tos.as_ref());
        }
        if let Some(l) = &later.rps {
            let e = self.rps.get_or_insert_with(RpsSpec::default);
            or_later(&mut e.cpus, l.cpus.as_ref());
            or_later(&mut e.exclude, l.exclude.as_ref());
            or_later(&mut e.flow_cnt, l.flow_cnt.as_ref());
        }
        if let Some(l) = &later.xps {
            let e = self.xps.get_or_insert_with(XpsSpec::default);
            or_later(&mut e.cpus, l.cpus.as_ref());
            or_later(&mut e.exclude, l.exclude.as_ref());
            or_later(&mut e.mode, l.mode.as_ref());
        }
        if let Some(l) = &later.module {
            let e = self.module.get_or_insert_with(ModuleSpec::default);
            or_later(&mut e.cable, l.cable.as_ref());
            or_later(&mut e.min_rx_power_cdbm, l.min_rx_power_cdbm.as_ref());
        }
        if let Some(l) = &later.irq {
            let e = self.irq.get_or_insert_with(IrqSpec::default);
            or_later(&mut e.cpus, l.cpus.as_ref());
            or_later(&mut e.exclude, l.exclude.as_ref());
            or_later(&mut e.spread, l.spread.as_ref());
        }
    }
}

/// One validated `interfaces:` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Which interfaces.
    pub selector: Selector,
    /// What to set on them.
    pub settings: Settings,
    /// Where it was written: `throughput interfaces[0]`.
    pub origin: String,
    /// May match no interface (`optional: true`); a block that is not optional and matches
    /// no interface of the node is an error when the profile is resolved.
    pub optional: bool,
}

/// One validated file, before inheritance.
#[derive(Debug, Clone)]
pub struct FileProfile {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Parents in order, with where each is named.
    pub extends: Vec<(String, Pos)>,
    /// Blocks.
    pub blocks: Vec<Block>,
    /// Sysctls, values with whitespace folded.
    pub sysctls: BTreeMap<String, String>,
    /// The file as written.
    pub raw: RawProfile,
}

/// Collects problems with their paths while validating one file.
struct Cx<'a> {
    outline: &'a Outline,
    out: &'a mut Vec<Problem>,
}

impl Cx<'_> {
    fn err(&mut self, path: &KeyPath, at: At, message: String) {
        self.out.push(Problem {
            path: path.clone(),
            at,
            message,
        });
    }

    /// True when a problem was already reported at `path` or above it (so that a value
    /// dropped for a type error is not also reported missing).
    fn reported(&self, path: &KeyPath) -> bool {
        self.out.iter().any(|p| path.0.starts_with(&p.path.0))
    }

    /// True when a problem was already reported at `path` or below it.
    fn reported_within(&self, path: &KeyPath) -> bool {
        self.out.iter().any(|p| p.path.0.starts_with(&path.0))
    }

    /// True when an unknown key next to `path` was reported as a likely misspelling of it
    /// (`descripton`): then `path` is not also reported missing.
    fn suggested(&self, path: &KeyPath) -> bool {
        let Some(super::outline::Seg::Key(k)) = path.0.last() else {
            return false;
        };
        let parent = path.parent();
        let hint = format!("did you mean '{k}'?");
        self.out
            .iter()
            .any(|p| p.path.parent() == parent && p.message.ends_with(&hint))
    }

    /// Reports `Err` at the value of `path`, prefixed with the path.
    fn take<T>(&mut self, path: &KeyPath, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.err(path, At::Value, format!("{path}: {e}"));
                None
            }
        }
    }

    /// The scalar as written, for numbers whose spelling matters (`0x3f`).
    fn written(&self, path: &KeyPath, s: &Scalar) -> String {
        match s {
            Scalar::Int(_) => self
                .outline
                .scalar(path)
                .map_or_else(|| s.to_string(), str::to_string),
            other => other.to_string(),
        }
    }
}

/// A profile name: lower-case letters, digits, `-`, `_` and `.`, starting with a letter or
/// digit, at most 64 characters.
pub fn validate_profile_name(name: &str) -> Result<(), String> {
    let ok_first = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !ok_first
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
    {
        return Err(format!(
            "invalid profile name '{name}': use lower-case letters, digits, '-', '_' and '.', \
             starting with a letter or digit, at most 64 characters"
        ));
    }
    Ok(())
}

fn amount_words(kind: AmountKind) -> &'static str {
    match kind {
        AmountKind::Ring => {
            "a number, 'max', a percentage of max like '50%', 'min(A, B)', or '>= A' (at least)"
        }
        AmountKind::Channel => {
            "a number, 'max', a percentage of max like '50%', 'per-local-core', or 'min(A, B)'"
        }
    }
}

fn exact(n: i64, kind: AmountKind) -> Result<Amount, String> {
    let (what, hi) = match kind {
        AmountKind::Ring => ("ring size", RING_MAX),
        AmountKind::Channel => ("channel count", CHANNEL_MAX),
    };
    match u32::try_from(n) {
        Ok(v) if (1..=hi).contains(&v) => Ok(Amount::Exact(v)),
        _ => Err(format!("{what} {n} is out of range (1 to {hi})")),
    }
}

/// A ring size or channel count: a number, `max`, `N%`, `per-local-core` (channels), or
/// `min(A, B)` of two of those.
pub fn validate_amount(s: &Scalar, kind: AmountKind) -> Result<Amount, String> {
    match s {
        Scalar::Int(n) => exact(*n, kind),
        Scalar::Text(t) => parse_amount(t.trim(), kind, true),
        other => Err(format!("expected {}, got '{other}'", amount_words(kind))),
    }
}

fn parse_amount(t: &str, kind: AmountKind, allow_min: bool) -> Result<Amount, String> {
    if let Some(rest) = t.strip_prefix(">=") {
        if kind == AmountKind::Channel {
            return Err(
                "'>=' (at least) is for ring sizes and sysctls, not channel counts".to_string(),
            );
        }
        if !allow_min {
            return Err("'>=' goes before the whole amount, like '>= min(4096, max)'".to_string());
        }
        let rest = rest.trim();
        if rest.starts_with(">=") {
            return Err(format!("'{t}': '>=' is given twice"));
        }
        return Ok(Amount::AtLeast(Box::new(parse_amount(rest, kind, true)?)));
    }
    if t == "max" {
        return Ok(Amount::Max);
    }
    if t == "per-local-core" {
        return match kind {
            AmountKind::Channel => Ok(Amount::PerLocalCore),
            AmountKind::Ring => Err("'per-local-core' is for channels, not rings".to_string()),
        };
    }
    if let Some(p) = t.strip_suffix('%') {
        return match p.trim().parse::<u32>() {
            Ok(v) if (1..=100).contains(&v) => Ok(Amount::Percent(v)),
            Ok(v) => Err(format!("percentage {v}% is out of range (1% to 100%)")),
            Err(_) => Err(format!("'{t}' is not a whole percentage like '50%'")),
        };
    }
    if let Some(inner) = t.strip_prefix("min(").and_then(|r| r.strip_suffix(')')) {
        if inner.contains(">=") {
            return Err("'>=' goes before the whole amount, like '>= min(4096, max)'".to_string());
        }
        if !allow_min {
            return Err("min() cannot be nested".to_string());
        }
        if inner.contains("min(") {
            return Err("min() cannot be nested".to_string());
        }
        let Some((a, b)) = inner.split_once(',') else {
            return Err(format!(
                "'{t}': min() takes two amounts, like 'min(4096, max)'"
            ));
        };
        let a = parse_amount(a.trim(), kind, false)?;
        let b = parse_amount(b.trim(), kind, false)?;
        return Ok(Amount::Min(Box::new(a), Box::new(b)));
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return match t.parse::<i64>() {
            Ok(n) => exact(n, kind),
            Err(_) => exact(i64::MAX, kind),
        };
    }
    Err(format!("expected {}, got '{t}'", amount_words(kind)))
}

const CPU_WORDS: &[&str] = &["all", "none", "nic-numa", "gpu-numa"];

/// A CPU set: a list (`0-5,12`), a mask (`0x3f`, comma groups allowed for more than 32
/// CPUs), or a policy: `all`, `none`, `nic-numa`, `gpu-numa`, `gpu-numa:PCI-ADDRESS`.
/// `written` is the text as it appears in the file (YAML reads an unquoted `0x3f` as 63).
pub fn validate_cpu_spec(written: &str) -> Result<CpuSpec, String> {
    let t = written.trim();
    match t {
        "all" => return Ok(CpuSpec::All),
        "none" => return Ok(CpuSpec::None),
        "nic-numa" => return Ok(CpuSpec::NicNuma),
        "gpu-numa" => return Ok(CpuSpec::GpuNuma(None)),
        _ => {}
    }
    if let Some(addr) = t.strip_prefix("gpu-numa:") {
        let addr = addr.trim().to_ascii_lowercase();
        if !is_pci_address(&addr) {
            return Err(format!(
                "'{addr}' is not a PCI address like 0000:c1:00.0 (in '{t}')"
            ));
        }
        return Ok(CpuSpec::GpuNuma(Some(addr)));
    }
    if t.starts_with("0x") || t.starts_with("0X") {
        return CpuSet::parse_mask(t)
            .map(CpuSpec::Set)
            .map_err(|e| e.to_string());
    }
    if t.chars().any(|c| c.is_ascii_alphabetic()) {
        let hint = suggest::did_you_mean(t, CPU_WORDS.iter().copied())
            .map_or_else(String::new, |s| format!(", did you mean '{s}'?"));
        return Err(format!(
            "unknown CPU policy '{t}'{hint} (expected a CPU list like 0-5,12, a mask like \
             0x3f, or all, none, nic-numa, gpu-numa, gpu-numa:PCI-ADDRESS)"
        ));
    }
    CpuSet::parse_list(t)
        .map(CpuSpec::Set)
        .map_err(|e| e.to_string())
}

/// A PCI vendor or device id in hexadecimal (`0x15b3` or `15b3`).
pub fn validate_pci_id(written: &str) -> Result<u16, String> {
    let t = written.trim();
    let h = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if h.is_empty() || h.len() > 4 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "'{t}' is not a PCI id (1 to 4 hexadecimal digits, like 0x15b3)"
        ));
    }
    u16::from_str_radix(h, 16).map_err(|e| e.to_string())
}

/// A number in a range, for the u64 fields of the raw structs.
pub fn validate_range(what: &str, v: u64, lo: u32, hi: u32) -> Result<u32, String> {
    match u32::try_from(v) {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(format!("{what} {v} is out of range ({lo} to {hi})")),
    }
}

/// The canonical name of a knob of `kind` written as `name` (the kernel name, or an alias
/// such as the `ethtool` name or the name `show` prints), or an error that suggests only
/// names of the same kind.
pub fn knob_name(kind: KnobKind, name: &str) -> Result<&'static str, String> {
    if let Some(c) = knobs::canonical(kind, name) {
        return Ok(c);
    }
    // A name of another kind of knob (`rx-frames` under features:) is pointed to its
    // section rather than matched to a look-alike of this kind (`rx-fcs`).
    if let Some(other) = knobs::kind_of_name(name).filter(|k| *k != kind) {
        return Err(format!(
            "unknown {} '{name}': '{name}' is a {}, under '{}:'",
            kind.noun(),
            other.noun(),
            other.section()
        ));
    }
    let hint = suggest::did_you_mean(name, knobs::names(kind))
        .map_or_else(String::new, |s| format!(", did you mean '{s}'?"));
    Err(format!("unknown {} '{name}'{hint}", kind.noun()))
}

/// A feature name, short or kernel, to its kernel name.
pub fn validate_feature(name: &str) -> Result<String, String> {
    knob_name(KnobKind::Feature, name).map(str::to_string)
}

/// One coalescing field by any of its names: a number, or on/off for the `use_*` fields.
/// Returns the canonical field name and the value.
pub fn validate_coalesce(name: &str, v: &Scalar) -> Result<(&'static str, Value), String> {
    let canonical = knob_name(KnobKind::Coalesce, name)?;
    validate_coalesce_value(canonical, v).map(|v| (canonical, v))
}

/// The value of the coalescing field `name` (canonical).
fn validate_coalesce_value(name: &str, v: &Scalar) -> Result<Value, String> {
    if knobs::settable_field("coalesce", name) == Some(FieldKind::Bool) {
        return match v {
            Scalar::Bool(b) => Ok(Value::Bool(*b)),
            Scalar::Text(t) if t == "on" => Ok(Value::Bool(true)),
            Scalar::Text(t) if t == "off" => Ok(Value::Bool(false)),
            other => Err(format!("expected on/off or true/false, got '{other}'")),
        };
    }
    let hi = if name.contains("usecs") {
        COALESCE_USECS_MAX
    } else {
        u32::MAX
    };
    match v {
        Scalar::Int(n) => match u32::try_from(*n) {
            Ok(x) if x <= hi => Ok(Value::Num(u64::from(x))),
            _ => Err(format!("{name} {n} is out of range (0 to {hi})")),
        },
        other => Err(format!("expected a whole number, got '{other}'")),
    }
}

/// How a sysctl's value must look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One integer (may be negative: `tcp_adv_win_scale`).
    Int,
    /// N non-negative integers in ascending order (`tcp_rmem`: min default max).
    Ascending(usize),
    /// A word such as a qdisc or congestion control name.
    Word,
}

fn shape_of(name: &str) -> Shape {
    match name {
        "net.ipv4.tcp_rmem" | "net.ipv4.tcp_wmem" | "net.ipv4.tcp_mem" | "net.ipv4.udp_mem" => {
            Shape::Ascending(3)
        }
        "net.ipv4.ip_local_port_range" => Shape::Ascending(2),
        "net.core.default_qdisc" | "net.ipv4.tcp_congestion_control" => Shape::Word,
        _ => Shape::Int,
    }
}

/// The floor of a sysctl value written `">= N"` (`">= 4096 87380 16777216"`), or `None` for
/// an exact value. Validated sysctl values keep the prefix as `">= "`, whitespace folded.
pub fn sysctl_floor(value: &str) -> Option<&str> {
    value.strip_prefix(">= ")
}

/// A sysctl: a known network sysctl ([`knobs::SYSCTLS`]) and a value of the right shape, or a
/// floor (`">= 16777216"`, `">= 4096 87380 16777216"`) for the numeric ones. Returns the
/// value as text, whitespace folded; a floor as `">= "` and the numbers.
pub fn validate_sysctl(name: &str, v: &Scalar) -> Result<String, String> {
    knobs::validate_sysctl_name(name).map_err(|e| e.replace('"', "'"))?;
    if !knobs::is_known_sysctl(name) {
        let hint = suggest::closest(name, knobs::SYSCTLS.iter().copied())
            .map_or_else(String::new, |s| format!(", did you mean '{s}'?"));
        return Err(format!("unknown sysctl '{name}'{hint}"));
    }
    let text = match v {
        Scalar::Int(n) => n.to_string(),
        Scalar::Text(t) => knobs::fold_whitespace(t),
        other => return Err(format!("{name}: expected a number or text, got '{other}'")),
    };
    if let Some(rest) = text.strip_prefix(">=") {
        let rest = rest.trim();
        if shape_of(name) == Shape::Word {
            return Err(format!(
                "{name}: '>=' (at least) needs numbers, and {name} takes a word"
            ));
        }
        if rest.starts_with(">=") {
            return Err(format!("{name}: '>=' is given twice in '{text}'"));
        }
        let floor = check_sysctl_shape(name, rest.to_string())?;
        return Ok(format!(">= {floor}"));
    }
    check_sysctl_shape(name, text)
}

/// `text` (whitespace folded) if it has the shape of `name`'s values.
fn check_sysctl_shape(name: &str, text: String) -> Result<String, String> {
    match shape_of(name) {
        Shape::Int => {
            if text.parse::<i64>().is_err() {
                return Err(format!("{name}: expected one whole number, got '{text}'"));
            }
        }
        Shape::Ascending(n) => {
            let nums: Vec<u64> = text
                .split(' ')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|_| format!("{name}: expected {n} whole numbers, got '{text}'"))?;
            if nums.len() != n {
                return Err(format!("{name}: expected {n} whole numbers, got '{text}'"));
            }
            if nums.windows(2).any(|w| w[0] > w[1]) {
                return Err(format!(
                    "{name}: the numbers must not decrease, got '{text}'"
                ));
            }
        }
        Shape::Word => {
            if !text.starts_with(|c: char| c.is_ascii_lowercase())
                || !text
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(format!("{name}: expected one word, got '{text}'"));
            }
        }
    }
    Ok(text)
}

fn names(cx: &mut Cx, path: &KeyPath, n: &Names) -> Vec<String> {
    let mut out = Vec::new();
    for (i, item) in n.items.iter().enumerate() {
        let p = if n.list { path.index(i) } else { path.clone() };
        if let Some(()) = cx.take(&p, glob::validate(item)) {
            out.push(item.clone());
        }
    }
    if n.items.is_empty() {
        cx.err(path, At::Value, format!("{path}: empty list"));
    }
    out
}

fn validate_match(cx: &mut Cx, path: &KeyPath, m: Option<&RawMatch>) -> Selector {
    let Some(m) = m else {
        if cx.reported(path) || cx.suggested(path) {
            return Selector::default();
        }
        cx.err(
            &path.parent(),
            At::Key,
            format!(
                "{}: a block needs 'match:' with at least one of name, driver, pci, \
                 pci_vendor, pci_device, min_speed_mbps",
                path.parent()
            ),
        );
        return Selector::default();
    };
    let mut s = Selector::default();
    if let Some(n) = &m.name {
        s.names = names(cx, &path.key("name"), n);
    }
    if let Some(n) = &m.driver {
        s.drivers = names(cx, &path.key("driver"), n);
    }
    s.pci = m.pci;
    for (key, raw, slot) in [
        ("pci_vendor", &m.pci_vendor, &mut s.pci_vendor),
        ("pci_device", &m.pci_device, &mut s.pci_device),
    ] {
        if let Some(v) = raw {
            let p = path.key(key);
            let w = cx.written(&p, v);
            *slot = cx.take(&p, validate_pci_id(&w));
        }
    }
    if let Some(v) = m.min_speed_mbps {
        let p = path.key("min_speed_mbps");
        s.min_speed_mbps = cx.take(&p, validate_range("min_speed_mbps", v, 1, SPEED_MAX));
    }
    let empty = m.name.is_none()
        && m.driver.is_none()
        && m.pci.is_none()
        && m.pci_vendor.is_none()
        && m.pci_device.is_none()
        && m.min_speed_mbps.is_none();
    if empty && !cx.reported_within(path) {
        cx.err(
            path,
            At::Key,
            format!(
                "{path}: give at least one of name, driver, pci, pci_vendor, pci_device, \
                 min_speed_mbps"
            ),
        );
    }
    s
}

/// The entries of a knob section (`rings:`, `coalesce:`, `features:`, ...) by canonical name,
/// each with its path as written. An unknown name is reported at its key with a suggestion
/// of the same kind; a knob given twice (by two of its names) is reported at the second.
fn knob_entries<'a, V>(
    cx: &mut Cx,
    path: &KeyPath,
    kind: KnobKind,
    map: &'a BTreeMap<String, V>,
) -> Vec<(&'static str, KeyPath, &'a V)> {
    let mut out: Vec<(&'static str, KeyPath, &'a V)> = Vec::new();
    let mut seen: BTreeMap<&'static str, &str> = BTreeMap::new();
    for (k, v) in map {
        let p = path.key(k);
        match knob_name(kind, k) {
            Ok(c) => {
                if let Some(first) = seen.get(c) {
                    cx.err(
                        &p,
                        At::Key,
                        format!(
                            "{} '{c}' is given twice in {path}, as '{first}' and '{k}'",
                            kind.noun()
                        ),
                    );
                } else {
                    seen.insert(c, k);
                    out.push((c, p, v));
                }
            }
            Err(e) => cx.err(&p, At::Key, e),
        }
    }
    out
}

fn amounts(
    cx: &mut Cx,
    path: &KeyPath,
    kind: AmountKind,
    map: &BTreeMap<String, Scalar>,
) -> BTreeMap<String, Amount> {
    let knob_kind = match kind {
        AmountKind::Ring => KnobKind::Ring,
        AmountKind::Channel => KnobKind::Channel,
    };
    let mut out = BTreeMap::new();
    for (c, p, v) in knob_entries(cx, path, knob_kind, map) {
        if let Some(a) = cx.take(&p, validate_amount(v, kind)) {
            out.insert(c.to_string(), a);
        }
    }
    out
}

fn cpu_spec(cx: &mut Cx, path: &KeyPath, v: Option<&Scalar>) -> Option<CpuSpec> {
    let v = v?;
    let w = cx.written(path, v);
    if matches!(v, Scalar::Bool(_) | Scalar::Float(_)) {
        cx.err(
            path,
            At::Value,
            format!("{path}: expected a CPU list, mask or policy, got '{w}'"),
        );
        return None;
    }
    cx.take(path, validate_cpu_spec(&w))
}

fn validate_block(cx: &mut Cx, path: &KeyPath, b: &RawBlock, origin: String) -> Block {
    let selector = validate_match(cx, &path.key("match"), b.selector.as_ref());
    let mut s = Settings::default();
    if let Some(r) = &b.rings {
        s.rings = amounts(cx, &path.key("rings"), AmountKind::Ring, r);
    }
    if let Some(c) = &b.channels {
        s.channels = amounts(cx, &path.key("channels"), AmountKind::Channel, c);
    }
    if let Some(c) = &b.coalesce {
        for (k, p, v) in knob_entries(cx, &path.key("coalesce"), KnobKind::Coalesce, c) {
            if let Some(val) = cx.take(&p, validate_coalesce_value(k, v)) {
                s.coalesce.insert(k.to_string(), val);
            }
        }
    }
    if let Some(pz) = &b.pause {
        for (k, _, v) in knob_entries(cx, &path.key("pause"), KnobKind::Pause, pz) {
            s.pause.insert(k.to_string(), v.0);
        }
    }
    if let Some(f) = &b.features {
        for (k, _, v) in knob_entries(cx, &path.key("features"), KnobKind::Feature, f) {
            s.features.insert(k.to_string(), v.0);
        }
    }
    if let Some(v) = b.mtu {
        let p = path.key("mtu");
        s.mtu = cx.take(&p, validate_range("mtu", v, MTU_RANGE.0, MTU_RANGE.1));
    }
    if let Some(v) = b.txqueuelen {
        let p = path.key("txqueuelen");
        s.txqueuelen = cx.take(&p, validate_range("txqueuelen", v, 1, TXQUEUELEN_MAX));
    }
    if let Some(m) = &b.module {
        let p = path.key("module");
        let cable = m.cable.as_deref().and_then(|c| {
            let q = p.key("cable");
            cx.take(
                &q,
                crate::model::module::CableClass::parse(c).ok_or_else(|| {
                    format!("expected one of dac, acc, aoc, mmf, smf, base-t, got '{c}'")
                }),
            )
        });
        let min_rx_power_cdbm = m.min_rx_power_dbm.and_then(|v| {
            let q = p.key("min_rx_power_dbm");
            let (lo, hi) = RX_POWER_DBM_RANGE;
            cx.take(
                &q,
                if (lo..=hi).contains(&v) {
                    Ok((v * 100.0).round() as i32)
                } else {
                    Err(format!(
                        "min_rx_power_dbm {v} is out of range ({lo} to {hi})"
                    ))
                },
            )
        });
        s.module = Some(ModuleSpec {
            cable,
            min_rx_power_cdbm,
        });
    }
    if let Some(RawRps {
        cpus,
        exclude,
        flow_cnt,
    }) = &b.rps
    {
        let p = path.key("rps");
        let spec = RpsSpec {
            cpus: cpu_spec(cx, &p.key("cpus"), cpus.as_ref()),
            exclude: cpu_spec(cx, &p.key("exclude"), exclude.as_ref()),
            flow_cnt: flow_cnt.and_then(|v| {
                cx.take(
                    &p.key("flow_cnt"),
                    validate_range("flow_cnt", v, 0, FLOW_CNT_MAX),
                )
            }),
        };
        s.rps = Some(spec);
    }
    if let Some(RawXps {
        cpus,
        exclude,
        mode,
    }) = &b.xps
    {
        let p = path.key("xps");
        let mode = mode.as_deref().and_then(|m| match m {
            "spread" => Some(XpsMode::Spread),
            "all" => Some(XpsMode::All),
            other => {
                let q = p.key("mode");
                cx.err(
                    &q,
                    At::Value,
                    format!("{q}: expected 'spread' or 'all', got '{other}'"),
                );
                None
            }
        });
        s.xps = Some(XpsSpec {
            cpus: cpu_spec(cx, &p.key("cpus"), cpus.as_ref()),
            exclude: cpu_spec(cx, &p.key("exclude"), exclude.as_ref()),
            mode,
        });
    }
    if let Some(RawIrq {
        cpus,
        exclude,
        spread,
    }) = &b.irq_affinity
    {
        let p = path.key("irq_affinity");
        s.irq = Some(IrqSpec {
            cpus: cpu_spec(cx, &p.key("cpus"), cpus.as_ref()),
            exclude: cpu_spec(cx, &p.key("exclude"), exclude.as_ref()),
            spread: spread.map(|t| t.0),
        });
    }
    if let Some(q) = &b.qos {
        s.qos = validate_qos(cx, &path.key("qos"), q);
        if let Some(w) = &q.offload {
            let p = path.key("qos").key("offload");
            match crate::model::dcb::QosOffload::parse(w) {
                None => cx.err(
                    &p,
                    At::Value,
                    format!("{p}: expected 'auto', 'dcb' or 'software', got '{w}'"),
                ),
                Some(crate::model::dcb::QosOffload::Dcb) if q.mode.as_deref() == Some("mqprio") => {
                    cx.err(
                        &p,
                        At::Value,
                        format!(
                            "{p}: mqprio maps priorities to queues in software; hardware ETS \
                             (dcb) needs mode ets"
                        ),
                    );
                }
                Some(crate::model::dcb::QosOffload::Dcb)
                    if q.classes.as_ref().is_some_and(|c| c.len() > 8) =>
                {
                    cx.err(
                        &p,
                        At::Value,
                        format!("{p}: hardware ETS has at most 8 traffic classes"),
                    );
                }
                Some(o) => s.qos_offload = o,
            }
        }
    }
    if let Some(list) = &b.pfc {
        let p = path.key("pfc");
        let mut prios = Vec::new();
        for &v in list {
            match u8::try_from(v).ok().filter(|v| *v <= 7) {
                Some(v) if !prios.contains(&v) => prios.push(v),
                Some(_) => cx.err(&p, At::Value, format!("{p}: priority {v} is given twice")),
                None => cx.err(
                    &p,
                    At::Value,
                    format!("{p}: priority {v} is out of range (0 to 7)"),
                ),
            }
        }
        prios.sort_unstable();
        // 802.3x pause stops every priority of the link, PFC one at a time: with both on, a
        // congested lossless class pauses the lossy ones too.
        if !prios.is_empty() {
            for (k, on) in b.pause.iter().flatten() {
                let field = crate::model::knobs::canonical(KnobKind::Pause, k);
                if on.0 && matches!(field, Some("rx" | "tx")) {
                    let q = path.key("pause").key(k);
                    cx.err(
                        &q,
                        At::Value,
                        format!(
                            "{q}: pause on with pfc on priorities {}: link-level pause stops \
                             every priority; leave pause out (pfc turns it off)",
                            crate::model::dcb::pfc_text(
                                prios.iter().fold(0u8, |b, p| b | (1 << p))
                            )
                        ),
                    );
                }
            }
        }
        s.pfc = Some(prios);
    }
    validate_dcb_keys(cx, path, b, &mut s);
    if let Some(r) = &b.rdma {
        let p = path.key("rdma");
        let mut spec = RdmaSpec {
            device: r.device.as_ref().map(|d| names(cx, &p.key("device"), d)),
            ..RdmaSpec::default()
        };
        if let Some(m) = &r.roce_mode {
            let pm = p.key("roce_mode");
            match crate::model::rdma::parse_roce_mode(m) {
                Ok(m) => spec.roce_mode = Some(m.to_string()),
                Err(e) => cx.err(&pm, At::Value, format!("{pm}: {e}")),
            }
        }
        if let Some(t) = r.tos {
            let pt = p.key("tos");
            match u8::try_from(t) {
                Ok(t) => spec.tos = Some(t),
                Err(_) => cx.err(
                    &pt,
                    At::Value,
                    format!("{pt}: {t} is out of range (0 to 255)"),
                ),
            }
        }
        if r.roce_mode.is_none() && r.tos.is_none() {
            cx.err(
                &p,
                At::Value,
                format!("{p}: nothing to set (roce_mode, tos)"),
            );
        }
        s.rdma = Some(spec);
    }
    Block {
        selector,
        settings: s,
        origin,
        optional: b.optional.unwrap_or(false),
    }
}

/// `dscp:` (DSCP 0-63 to priority 0-7) and `trust:` (APP selectors, each once).
fn validate_dcb_keys(cx: &mut Cx, path: &KeyPath, b: &RawBlock, s: &mut Settings) {
    if let Some(map) = &b.dscp {
        let p = path.key("dscp");
        for (key, prio_raw) in map {
            let q = p.key(&key.0);
            let dscp = key.0.parse::<u8>().ok().filter(|d| *d <= 63);
            let prio = u8::try_from(*prio_raw).ok().filter(|v| *v <= 7);
            match (dscp, prio) {
                (None, _) => cx.err(
                    &q,
                    At::Key,
                    format!("{q}: '{}' is not a DSCP value 0 to 63", key.0),
                ),
                (_, None) => cx.err(
                    &q,
                    At::Value,
                    format!("{q}: priority {prio_raw} is out of range (0 to 7)"),
                ),
                (Some(dscp), Some(prio)) => {
                    if s.dscp.insert(dscp, prio).is_some() {
                        cx.err(&q, At::Key, format!("{q}: DSCP {dscp} is given twice"));
                    }
                }
            }
        }
    }
    if let Some(t) = &b.trust {
        let p = path.key("trust");
        if t.items.is_empty() {
            cx.err(
                &p,
                At::Value,
                format!("{p}: expected a selector like dscp or a list like [dscp, pcp]"),
            );
        } else {
            match crate::model::dcb::parse_trust_text(&t.items.join(" ")) {
                Ok(sels) => s.trust = Some(sels),
                Err(e) => cx.err(&p, At::Value, format!("{p}: {e}")),
            }
        }
    }
}

/// `qos:`: the mode word, each class's numbers in range, then the classes as a whole
/// ([`crate::model::qos::QosSpec::validate`]: priorities once each, shares summing to 100,
/// strict classes first, no shares under mqprio).
fn validate_qos(
    cx: &mut Cx,
    path: &KeyPath,
    q: &super::raw::RawQos,
) -> Option<crate::model::qos::QosSpec> {
    use crate::model::qos::{QosClass, QosMode, QosSpec};
    if cx.reported_within(path) {
        return None;
    }
    let mode = match q.mode.as_deref() {
        None | Some("ets") => QosMode::Ets,
        Some("mqprio") => QosMode::Mqprio,
        Some(other) => {
            let p = path.key("mode");
            cx.err(
                &p,
                At::Value,
                format!("{p}: expected 'ets' or 'mqprio', got '{other}'"),
            );
            return None;
        }
    };
    let cp = path.key("classes");
    let Some(raw) = q.classes.as_ref().filter(|c| !c.is_empty()) else {
        cx.err(
            path,
            At::Key,
            format!("{path}: needs classes, e.g. [{{priorities: [3], share: 50}}, ...]"),
        );
        return None;
    };
    let mut classes = Vec::new();
    let mut ok = true;
    for (i, c) in raw.iter().enumerate() {
        let p = cp.index(i);
        let mut priorities = Vec::new();
        for &pr in c.priorities.iter().flatten() {
            if let Some(v) = u8::try_from(pr).ok().filter(|v| *v <= 15) {
                priorities.push(v);
            } else {
                {
                    let q = p.key("priorities");
                    cx.err(
                        &q,
                        At::Value,
                        format!("{q}: priority {pr} is out of range (0 to 15)"),
                    );
                    ok = false;
                }
            }
        }
        if c.priorities.as_ref().is_none_or(Vec::is_empty) {
            cx.err(
                &p,
                At::Value,
                format!("{p}: needs priorities, e.g. priorities: [3]"),
            );
            ok = false;
        }
        let share = match c.share {
            None => None,
            Some(v) => {
                let q = p.key("share");
                let r = validate_range("share", v, 1, 100);
                ok &= r.is_ok();
                cx.take(&q, r)
            }
        };
        let queues = match c.queues {
            None => 1,
            Some(v) => {
                let q = p.key("queues");
                let r = validate_range("queues", v, 1, 4096).map(|v| v as u16);
                ok &= r.is_ok();
                cx.take(&q, r).unwrap_or(1)
            }
        };
        if c.queues.is_some() && mode == QosMode::Ets {
            let q = p.key("queues");
            cx.err(
                &q,
                At::Key,
                format!("{q}: queues apply to mode mqprio only"),
            );
            ok = false;
        }
        classes.push(QosClass {
            priorities,
            share,
            strict: c.strict.unwrap_or(false),
            queues,
        });
    }
    if !ok {
        return None;
    }
    let spec = QosSpec { mode, classes };
    match spec.validate() {
        Ok(()) => Some(spec),
        Err(e) => {
            cx.err(&cp, At::Key, format!("{cp}: {e}"));
            None
        }
    }
}

/// Validates a raw profile read from a file named `stem`.yaml. Problems go to `out`.
pub fn validate(
    raw: RawProfile,
    stem: &str,
    outline: &Outline,
    out: &mut Vec<Problem>,
) -> FileProfile {
    let mut cx = Cx { outline, out };
    let root = KeyPath::default();
    let name = match &raw.name {
        None if cx.reported(&root.key("name")) || cx.suggested(&root.key("name")) => {
            stem.to_string()
        }
        None => {
            cx.err(
                &root.key("name"),
                At::Key,
                format!("missing key 'name' (the file name without .yaml: '{stem}')"),
            );
            stem.to_string()
        }
        Some(n) => {
            let p = root.key("name");
            if let Err(e) = validate_profile_name(n) {
                cx.err(&p, At::Value, e);
            } else if n != stem {
                cx.err(
                    &p,
                    At::Value,
                    format!("name '{n}' differs from the file name '{stem}.yaml'"),
                );
            }
            n.clone()
        }
    };
    let description = match &raw.description {
        Some(d) if !d.trim().is_empty() => d.trim().to_string(),
        Some(_) => {
            cx.err(
                &root.key("description"),
                At::Value,
                "description is empty".to_string(),
            );
            String::new()
        }
        None if cx.reported(&root.key("description")) || cx.suggested(&root.key("description")) => {
            String::new()
        }
        None => {
            cx.err(
                &root.key("description"),
                At::Key,
                "missing key 'description'".to_string(),
            );
            String::new()
        }
    };
    let mut extends = Vec::new();
    if let Some(n) = &raw.extends {
        let p = root.key("extends");
        for (i, item) in n.items.iter().enumerate() {
            let ip = if n.list { p.index(i) } else { p.clone() };
            let pos = outline.locate(&ip, At::Value);
            if item.trim().is_empty() {
                cx.err(&ip, At::Value, "extends: empty profile name".to_string());
            } else {
                extends.push((item.trim().to_string(), pos));
            }
        }
    }
    let mut blocks = Vec::new();
    for (i, b) in raw.interfaces.iter().flatten().enumerate() {
        let p = root.key("interfaces").index(i);
        blocks.push(validate_block(
            &mut cx,
            &p,
            b,
            format!("{name} interfaces[{i}]"),
        ));
    }
    let mut sysctls = BTreeMap::new();
    for (k, v) in raw.sysctl.iter().flatten() {
        let p = root.key("sysctl").key(k);
        match validate_sysctl(k, v) {
            Ok(text) => {
                sysctls.insert(k.clone(), text);
            }
            Err(e) if e.starts_with("unknown") || e.starts_with("sysctl") => {
                cx.err(&p, At::Key, e);
            }
            Err(e) => cx.err(&p, At::Value, e),
        }
    }
    FileProfile {
        name,
        description,
        extends,
        blocks,
        sysctls,
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(s: &str, kind: AmountKind) -> Result<Amount, String> {
        validate_amount(&Scalar::Text(s.to_string()), kind)
    }

    #[test]
    fn amounts() {
        use AmountKind::{Channel, Ring};
        assert_eq!(
            validate_amount(&Scalar::Int(4096), Ring),
            Ok(Amount::Exact(4096))
        );
        assert_eq!(amount("4096", Ring), Ok(Amount::Exact(4096)));
        assert_eq!(amount("max", Ring), Ok(Amount::Max));
        assert_eq!(amount("50%", Ring), Ok(Amount::Percent(50)));
        assert_eq!(amount("100%", Channel), Ok(Amount::Percent(100)));
        assert_eq!(amount("per-local-core", Channel), Ok(Amount::PerLocalCore));
        assert_eq!(
            amount("min(4096, max)", Ring),
            Ok(Amount::Min(
                Box::new(Amount::Exact(4096)),
                Box::new(Amount::Max)
            ))
        );
        assert_eq!(
            amount("min(per-local-core,8)", Channel).map(|a| a.to_string()),
            Ok("min(per-local-core, 8)".to_string())
        );
        for (bad, why) in [
            ("0", "ring size 0 is out of range (1 to 1048576)"),
            ("2000000", "ring size 2000000 is out of range (1 to 1048576)"),
            ("99999999999999999999999", "ring size 9223372036854775807 is out of range (1 to 1048576)"),
            ("0%", "percentage 0% is out of range (1% to 100%)"),
            ("150%", "percentage 150% is out of range (1% to 100%)"),
            ("half%", "'half%' is not a whole percentage like '50%'"),
            ("per-local-core", "'per-local-core' is for channels, not rings"),
            ("min(1)", "'min(1)': min() takes two amounts, like 'min(4096, max)'"),
            ("min(min(1, 2), 3)", "min() cannot be nested"),
            ("fast", "expected a number, 'max', a percentage of max like '50%', 'min(A, B)', or '>= A' (at least), got 'fast'"),
            ("min(>= 1, 2)", "'>=' goes before the whole amount, like '>= min(4096, max)'"),
            (">= >= 1", "'>= >= 1': '>=' is given twice"),
            (">= 0", "ring size 0 is out of range (1 to 1048576)"),
        ] {
            assert_eq!(amount(bad, Ring).expect_err(bad), why, "{bad}");
        }
        // At least: rings only, around any other amount.
        assert_eq!(
            amount(">= 4096", Ring),
            Ok(Amount::AtLeast(Box::new(Amount::Exact(4096))))
        );
        assert_eq!(
            amount(">=min(4096, max)", Ring).map(|a| a.to_string()),
            Ok(">= min(4096, max)".to_string())
        );
        assert_eq!(
            amount(">= 8", Channel).expect_err("channels"),
            "'>=' (at least) is for ring sizes and sysctls, not channel counts"
        );
        assert_eq!(
            validate_amount(&Scalar::Int(5000), Channel).expect_err("big"),
            "channel count 5000 is out of range (1 to 4096)"
        );
        assert!(validate_amount(&Scalar::Int(-1), Channel).is_err());
        assert!(validate_amount(&Scalar::Bool(true), Channel).is_err());
    }

    #[test]
    fn cpu_specs() {
        assert_eq!(validate_cpu_spec("nic-numa"), Ok(CpuSpec::NicNuma));
        assert_eq!(validate_cpu_spec("gpu-numa"), Ok(CpuSpec::GpuNuma(None)));
        assert_eq!(
            validate_cpu_spec("gpu-numa:0000:C1:00.0"),
            Ok(CpuSpec::GpuNuma(Some("0000:c1:00.0".into())))
        );
        assert_eq!(validate_cpu_spec("all"), Ok(CpuSpec::All));
        assert_eq!(validate_cpu_spec("none"), Ok(CpuSpec::None));
        assert_eq!(
            validate_cpu_spec("0-5,12"),
            Ok(CpuSpec::Set(CpuSet::from_cpus([0, 1, 2, 3, 4, 5, 12])))
        );
        assert_eq!(
            validate_cpu_spec("0x3f"),
            Ok(CpuSpec::Set(CpuSet::from_cpus(0..6)))
        );
        // A mask beyond 64 CPUs, in kernel comma groups.
        assert_eq!(
            validate_cpu_spec("0x1,00000000,00000000,00000001"),
            Ok(CpuSpec::Set(CpuSet::from_cpus([0, 96])))
        );
        assert_eq!(
            validate_cpu_spec("nic-numaa").expect_err("typo"),
            "unknown CPU policy 'nic-numaa', did you mean 'nic-numa'? (expected a CPU list like \
             0-5,12, a mask like 0x3f, or all, none, nic-numa, gpu-numa, gpu-numa:PCI-ADDRESS)"
        );
        assert!(validate_cpu_spec("gpu-numa:c1:00.0").is_err());
        assert!(validate_cpu_spec("5-3").is_err());
        assert!(validate_cpu_spec("0xzz").is_err());
    }

    #[test]
    fn pci_ids_features_coalesce_ranges() {
        assert_eq!(validate_pci_id("0x15b3"), Ok(0x15b3));
        assert_eq!(validate_pci_id("8086"), Ok(0x8086));
        assert!(validate_pci_id("0x12345").is_err());
        assert!(validate_pci_id("intel").is_err());
        assert_eq!(validate_feature("gro").as_deref(), Ok("rx-gro"));
        assert_eq!(
            validate_feature("tso").as_deref(),
            Ok("tx-tcp-segmentation")
        );
        assert_eq!(validate_feature("rx-gro-hw").as_deref(), Ok("rx-gro-hw"));
        assert_eq!(
            validate_feature("rx-udp-gro-forwarding").as_deref(),
            Ok("rx-udp-gro-forwarding")
        );
        // The names `show` prints are aliases of the knob, not typos of another one.
        assert_eq!(validate_feature("gro-hw").as_deref(), Ok("rx-gro-hw"));
        assert_eq!(validate_feature("rx-csum").as_deref(), Ok("rx-checksum"));
        assert_eq!(
            validate_feature("udp-gro-fwd").as_deref(),
            Ok("rx-udp-gro-forwarding")
        );
        assert_eq!(
            validate_feature("gro-hww").expect_err("unknown"),
            "unknown feature 'gro-hww', did you mean 'gro-hw'?"
        );
        assert_eq!(
            validate_coalesce("rx_usecs", &Scalar::Int(8)),
            Ok(("rx_usecs", Value::Num(8)))
        );
        assert_eq!(
            validate_coalesce("rx-frames", &Scalar::Int(32)),
            Ok(("rx_max_frames", Value::Num(32)))
        );
        assert_eq!(
            validate_coalesce("use_adaptive_rx", &Scalar::Text("off".into())),
            Ok(("use_adaptive_rx", Value::Bool(false)))
        );
        assert_eq!(
            validate_coalesce("adaptive-rx", &Scalar::Bool(true)),
            Ok(("use_adaptive_rx", Value::Bool(true)))
        );
        assert_eq!(
            validate_coalesce("rx_usec", &Scalar::Int(8)).expect_err("typo"),
            "unknown coalesce field 'rx_usec', did you mean 'rx_usecs'?"
        );
        assert!(validate_coalesce("rx_usecs", &Scalar::Int(2_000_000)).is_err());
        assert!(validate_coalesce("rx-usecs", &Scalar::Int(2_000_000)).is_err());
        assert!(validate_coalesce("rx_max_frames", &Scalar::Int(2_000_000)).is_ok());
        assert!(validate_coalesce("use_adaptive_tx", &Scalar::Int(1)).is_err());
        assert_eq!(validate_range("mtu", 9000, 68, 65535), Ok(9000));
        assert_eq!(
            validate_range("mtu", 70000, 68, 65535).expect_err("big"),
            "mtu 70000 is out of range (68 to 65535)"
        );
        assert!(validate_profile_name("gpu-inference").is_ok());
        assert!(validate_profile_name("Bad Name").is_err());
        assert!(validate_profile_name("").is_err());
    }

    #[test]
    fn suggestions_stay_within_the_kind_of_knob() {
        // A coalesce typo is never offered a feature or ring name, and the reverse.
        assert_eq!(
            knob_name(KnobKind::Coalesce, "rx-frame").expect_err("typo"),
            "unknown coalesce field 'rx-frame', did you mean 'rx-frames'?"
        );
        assert_eq!(
            knob_name(KnobKind::Feature, "rx-frames").expect_err("not a feature"),
            "unknown feature 'rx-frames': 'rx-frames' is a coalesce field, under 'coalesce:'"
        );
        assert_eq!(
            knob_name(KnobKind::Ring, "rx-usecs").expect_err("not a ring"),
            "unknown ring field 'rx-usecs': 'rx-usecs' is a coalesce field, under 'coalesce:'"
        );
        assert_eq!(
            knob_name(KnobKind::Coalesce, "gro").expect_err("not coalescing"),
            "unknown coalesce field 'gro': 'gro' is a feature, under 'features:'"
        );
        assert_eq!(
            knob_name(KnobKind::Pause, "auto").expect_err("typo"),
            "unknown pause field 'auto', did you mean 'autoneg'?"
        );
        assert_eq!(knob_name(KnobKind::Ring, "rx-jumbo"), Ok("rx_jumbo"));
        assert_eq!(knob_name(KnobKind::Channel, "combined"), Ok("combined"));
        // Every accepted name resolves to itself or to a knob of its kind, never a neighbour.
        for kind in [
            KnobKind::Ring,
            KnobKind::Channel,
            KnobKind::Coalesce,
            KnobKind::Pause,
            KnobKind::Feature,
        ] {
            for n in knobs::names(kind) {
                assert_eq!(
                    knob_name(kind, n),
                    Ok(knobs::canonical(kind, n).expect("known"))
                );
            }
        }
    }

    #[test]
    fn sysctls() {
        let t = |s: &str| Scalar::Text(s.to_string());
        assert_eq!(
            validate_sysctl("net.core.rmem_max", &Scalar::Int(16_777_216)).as_deref(),
            Ok("16777216")
        );
        assert_eq!(
            validate_sysctl("net.ipv4.tcp_rmem", &t("4096  87380\t16777216")).as_deref(),
            Ok("4096 87380 16777216")
        );
        assert_eq!(
            validate_sysctl("net.core.rmem_maxx", &Scalar::Int(1)).expect_err("unknown"),
            "unknown sysctl 'net.core.rmem_maxx', did you mean 'net.core.rmem_max'?"
        );
        assert!(validate_sysctl("kernel.pid_max", &Scalar::Int(1)).is_err());
        assert!(validate_sysctl("net.ipv4.tcp_rmem", &t("4096 87380")).is_err());
        assert_eq!(
            validate_sysctl("net.ipv4.tcp_wmem", &t("65536 4096 16777216")).expect_err("order"),
            "net.ipv4.tcp_wmem: the numbers must not decrease, got '65536 4096 16777216'"
        );
        assert!(validate_sysctl("net.core.rmem_max", &t("big")).is_err());
        // Floors: the same shapes after '>=', kept as '>= ' and the numbers.
        assert_eq!(
            validate_sysctl("net.core.rmem_max", &t(">=16777216")).as_deref(),
            Ok(">= 16777216")
        );
        assert_eq!(
            validate_sysctl("net.ipv4.tcp_rmem", &t(" >=  4096 87380\t16777216")).as_deref(),
            Ok(">= 4096 87380 16777216")
        );
        assert_eq!(
            sysctl_floor(">= 4096 87380 16777216"),
            Some("4096 87380 16777216")
        );
        assert_eq!(sysctl_floor("16777216"), None);
        assert_eq!(
            validate_sysctl("net.ipv4.tcp_rmem", &t(">= 4096 87380")).expect_err("two"),
            "net.ipv4.tcp_rmem: expected 3 whole numbers, got '4096 87380'"
        );
        assert_eq!(
            validate_sysctl("net.ipv4.tcp_congestion_control", &t(">= bbr")).expect_err("word"),
            "net.ipv4.tcp_congestion_control: '>=' (at least) needs numbers, and \
             net.ipv4.tcp_congestion_control takes a word"
        );
        assert!(validate_sysctl("net.core.rmem_max", &t(">= >= 1")).is_err());
        assert!(validate_sysctl("net.core.rmem_max", &Scalar::Bool(true)).is_err());
        assert_eq!(
            validate_sysctl("net.core.default_qdisc", &t("fq")).as_deref(),
            Ok("fq")
        );
        assert!(validate_sysctl("net.core.default_qdisc", &t("f q;")).is_err());
        assert!(validate_sysctl("net.core.default_qdisc", &Scalar::Int(5)).is_err());
        assert_eq!(
            validate_sysctl("net.ipv4.tcp_congestion_control", &t("bbr")).as_deref(),
            Ok("bbr")
        );
        assert_eq!(
            validate_sysctl("net.ipv4.tcp_adv_win_scale", &Scalar::Int(-2)).as_deref(),
            Ok("-2")
        );
    }

    #[test]
    fn later_blocks_override_key_by_key() {
        let mut a = Settings::default();
        a.rings.insert("rx".into(), Amount::Max);
        a.rings.insert("tx".into(), Amount::Max);
        a.irq = Some(IrqSpec {
            cpus: Some(CpuSpec::NicNuma),
            exclude: None,
            spread: Some(true),
        });
        let mut b = Settings::default();
        b.rings.insert("rx".into(), Amount::Exact(1024));
        b.irq = Some(IrqSpec {
            cpus: Some(CpuSpec::GpuNuma(None)),
            ..IrqSpec::default()
        });
        b.mtu = Some(9000);
        a.merge(&b);
        assert_eq!(a.rings["rx"], Amount::Exact(1024));
        assert_eq!(a.rings["tx"], Amount::Max);
        let irq = a.irq.expect("irq");
        assert_eq!(irq.cpus, Some(CpuSpec::GpuNuma(None)));
        assert_eq!(irq.spread, Some(true), "kept from the earlier block");
        assert_eq!(a.mtu, Some(9000));
    }
}
