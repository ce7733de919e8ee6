//! Traffic classes: the root qdisc of an interface and its classes, as rtnetlink reports
//! them (`tc -s qdisc show` / `tc -s class show`), and the pure computations over them
//! (ETS quanta from bandwidth shares, which root qdiscs dpuctl can put back exactly).
//!
//! Plain data with serde, no I/O: `sys::tc` fills these from the kernel and writes them back.
//! Layouts follow `include/uapi/linux/pkt_sched.h` and `net/sched/sch_ets.c`.

use serde::{Deserialize, Serialize};

/// `TC_H_ROOT`: the parent of a root qdisc.
pub const TC_H_ROOT: u32 = 0xFFFF_FFFF;
/// `TC_H_INGRESS` (also `TC_H_CLSACT`): the parent of the ingress and clsact qdiscs.
pub const TC_H_INGRESS: u32 = 0xFFFF_FFF1;
/// `TCQ_ETS_MAX_BANDS`.
pub const ETS_MAX_BANDS: usize = 16;
/// `TC_PRIO_MAX + 1`: the socket priorities a priomap maps (0..=15).
pub const PRIO_COUNT: usize = 16;
/// `TC_QOPT_MAX_QUEUE`: the most traffic classes of an mqprio qdisc.
pub const MQPRIO_MAX_TC: usize = 16;

/// Byte counters of a qdisc or class (`TCA_STATS2`: `TCA_STATS_BASIC` + `TCA_STATS_QUEUE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcStats {
    /// Bytes sent.
    pub bytes: u64,
    /// Packets sent.
    pub packets: u64,
    /// Packets dropped.
    pub drops: u32,
    /// Times the qdisc was over its limit (a shaper held packets back).
    pub overlimits: u32,
    /// Packets put back for a later try (driver busy).
    pub requeues: u32,
    /// Bytes queued now.
    pub backlog: u32,
    /// Packets queued now.
    pub qlen: u32,
}

/// Options of an `ets` qdisc (`TCA_ETS_*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtsOptions {
    /// Number of bands (1..=16).
    pub nbands: u8,
    /// The first `nstrict` bands are strict priority, served before any bandwidth band.
    pub nstrict: u8,
    /// DRR quanta in bytes of the bandwidth bands (`nbands - nstrict` of them), in band order.
    pub quanta: Vec<u32>,
    /// Band of each socket priority 0..=15.
    pub priomap: Vec<u8>,
}

impl EtsOptions {
    /// Checks the rules `ets_qdisc_change` enforces, so a bad request fails before the kernel
    /// sees it (and a bad snapshot is refused).
    pub fn validate(&self) -> Result<(), String> {
        let n = usize::from(self.nbands);
        if n == 0 || n > ETS_MAX_BANDS {
            return Err(format!("ets needs 1 to {ETS_MAX_BANDS} bands, not {n}"));
        }
        if self.nstrict > self.nbands {
            return Err(format!("ets has {} strict bands of {n}", self.nstrict));
        }
        if self.quanta.len() != n - usize::from(self.nstrict) {
            return Err(format!(
                "ets with {n} bands, {} strict, needs {} quanta, not {}",
                self.nstrict,
                n - usize::from(self.nstrict),
                self.quanta.len()
            ));
        }
        if self.quanta.contains(&0) {
            return Err("an ets quantum cannot be zero".into());
        }
        if self.priomap.len() > PRIO_COUNT {
            return Err(format!(
                "an ets priomap maps at most {PRIO_COUNT} priorities, not {}",
                self.priomap.len()
            ));
        }
        if let Some(b) = self.priomap.iter().find(|&&b| b >= self.nbands) {
            return Err(format!("priomap names band {b} of an ets with {n} bands"));
        }
        Ok(())
    }
}

/// Options of an `mqprio` qdisc (`struct tc_mqprio_qopt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MqprioOptions {
    /// Number of traffic classes.
    pub num_tc: u8,
    /// Traffic class of each socket priority 0..=15.
    pub prio_tc_map: Vec<u8>,
    /// Offloaded to the hardware (1) or kept in software (0). Software mqprio maps
    /// priorities to queues only; it gives no bandwidth shares.
    pub hw: u8,
    /// Queue count of each traffic class.
    pub count: Vec<u16>,
    /// First queue of each traffic class.
    pub offset: Vec<u16>,
}

impl MqprioOptions {
    /// Checks the shape (`mqprio_parse_opt` checks the queues against the device).
    pub fn validate(&self) -> Result<(), String> {
        let n = usize::from(self.num_tc);
        if n == 0 || n > MQPRIO_MAX_TC {
            return Err(format!(
                "mqprio needs 1 to {MQPRIO_MAX_TC} classes, not {n}"
            ));
        }
        if self.prio_tc_map.len() > PRIO_COUNT {
            return Err(format!(
                "an mqprio map maps at most {PRIO_COUNT} priorities, not {}",
                self.prio_tc_map.len()
            ));
        }
        if let Some(t) = self.prio_tc_map.iter().find(|&&t| t >= self.num_tc) {
            return Err(format!("map names class {t} of an mqprio with {n} classes"));
        }
        if self.count.len() != n || self.offset.len() != n {
            return Err(format!("mqprio with {n} classes needs {n} queue ranges"));
        }
        if self.count.contains(&0) {
            return Err("an mqprio class needs at least one queue".into());
        }
        Ok(())
    }
}

/// The options of a qdisc, for the kinds dpuctl decodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum QdiscOptions {
    /// No options (noqueue, mq), or none dpuctl decodes.
    #[default]
    None,
    /// `ets`.
    Ets(EtsOptions),
    /// `mqprio`.
    Mqprio(MqprioOptions),
    /// `pfifo` (packets) or `bfifo` (bytes): `struct tc_fifo_qopt`.
    Fifo {
        /// Queue limit.
        limit: u32,
    },
    /// `prio` and `pfifo_fast`: `struct tc_prio_qopt`.
    Prio {
        /// Number of bands.
        bands: u32,
        /// Band of each priority 0..=15.
        priomap: Vec<u8>,
    },
}

/// One qdisc (`RTM_NEWQDISC` in a dump).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qdisc {
    /// Kind (`ets`, `mq`, `noqueue`, ...).
    pub kind: String,
    /// Handle (major number in the upper 16 bits); 0 for the qdiscs the kernel made itself.
    pub handle: u32,
    /// Parent: [`TC_H_ROOT`], [`TC_H_INGRESS`] or a class.
    pub parent: u32,
    /// Options, where dpuctl decodes them.
    #[serde(default)]
    pub options: QdiscOptions,
    /// Counters.
    #[serde(default)]
    pub stats: TcStats,
}

impl Qdisc {
    /// True for the root qdisc.
    pub fn is_root(&self) -> bool {
        self.parent == TC_H_ROOT
    }

    /// True for a qdisc the kernel created itself (handle 0): the root the device got when it
    /// came up, or the children a classful qdisc made for its classes.
    pub fn is_default(&self) -> bool {
        self.handle == 0
    }
}

/// One class (`RTM_NEWTCLASS` in a dump).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcClass {
    /// Kind of the qdisc owning the class.
    pub kind: String,
    /// Class id (`1:3` is `0x0001_0003`).
    pub handle: u32,
    /// Parent.
    pub parent: u32,
    /// DRR quantum of an ets bandwidth band (`TCA_ETS_QUANTA_BAND`); `None` for a strict band.
    #[serde(default)]
    pub quantum: Option<u32>,
    /// Counters.
    #[serde(default)]
    pub stats: TcStats,
}

/// `major:minor` as `tc` prints a handle (`root`, `ingress`, `8001:`, `1:3`).
pub fn handle_str(h: u32) -> String {
    match h {
        TC_H_ROOT => "root".into(),
        TC_H_INGRESS => "ingress".into(),
        _ if h.trailing_zeros() >= 16 => format!("{:x}:", h >> 16),
        _ => format!("{:x}:{:x}", h >> 16, h & 0xFFFF),
    }
}

/// The root qdisc of an interface as dpuctl can put it back: the default (the kernel makes
/// it again when the root is deleted), or an explicit qdisc of a kind whose whole state is
/// its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootQdisc {
    /// Kind.
    pub kind: String,
    /// Handle; 0 for the kernel's default root.
    pub handle: u32,
    /// Options.
    #[serde(default)]
    pub options: QdiscOptions,
}

impl RootQdisc {
    /// True for the kernel's default root qdisc.
    pub fn is_default(&self) -> bool {
        self.handle == 0
    }
}

/// The kinds whose whole state is their kind and options (with the children the kernel makes
/// for them), so that creating them again restores them exactly.
pub const RESTORABLE_KINDS: &[&str] = &[
    "noqueue",
    "pfifo_fast",
    "pfifo",
    "bfifo",
    "mq",
    "ets",
    "mqprio",
];

/// The root qdisc of an interface as a [`RootQdisc`] that dpuctl can put back exactly, or why
/// not. `qdiscs` are the interface's qdiscs, `root_filters` the number of filters attached to
/// the root qdisc or its classes.
pub fn restorable_root(qdiscs: &[Qdisc], root_filters: usize) -> Result<RootQdisc, String> {
    let root = qdiscs
        .iter()
        .find(|q| q.is_root())
        .ok_or_else(|| "the interface has no root qdisc".to_string())?;
    // The ingress/clsact qdisc hangs outside the root tree and is left alone.
    let extra: Vec<&Qdisc> = qdiscs
        .iter()
        .filter(|q| !q.is_root() && q.parent != TC_H_INGRESS && !q.is_default())
        .collect();
    if !root.is_default() {
        if !RESTORABLE_KINDS.contains(&root.kind.as_str()) {
            return Err(format!(
                "the root qdisc {} {} is a kind dpuctl cannot restore exactly (it restores {})",
                root.kind,
                handle_str(root.handle),
                RESTORABLE_KINDS.join(", ")
            ));
        }
        if matches!(root.kind.as_str(), "ets" | "mqprio") && root.options == QdiscOptions::None {
            return Err(format!(
                "the options of the root qdisc {} {} could not be read",
                root.kind,
                handle_str(root.handle)
            ));
        }
    }
    if let Some(q) = extra.first() {
        return Err(format!(
            "the root qdisc has a child qdisc {} {} under {} that dpuctl cannot restore",
            q.kind,
            handle_str(q.handle),
            handle_str(q.parent)
        ));
    }
    if root_filters > 0 {
        return Err(format!(
            "the root qdisc {} {} has {root_filters} filter(s) that dpuctl cannot restore",
            root.kind,
            handle_str(root.handle)
        ));
    }
    // pfifo_fast's priomap is fixed: its kind says all.
    let options = if root.kind == "pfifo_fast" {
        QdiscOptions::None
    } else {
        root.options.clone()
    };
    Ok(RootQdisc {
        kind: root.kind.clone(),
        handle: root.handle,
        options,
    })
}

/// The traffic-control state of one interface: its qdiscs and classes with their counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcState {
    /// Qdiscs, root first (the ingress/clsact qdisc included when there is one).
    pub qdiscs: Vec<Qdisc>,
    /// Classes of the root qdisc.
    #[serde(default)]
    pub classes: Vec<TcClass>,
    /// Filters attached to the root qdisc.
    #[serde(default)]
    pub root_filters: usize,
}

impl TcState {
    /// The root qdisc.
    pub fn root(&self) -> Option<&Qdisc> {
        self.qdiscs.iter().find(|q| q.is_root())
    }

    /// The root qdisc as the tune engine reads it, or why dpuctl could not put it back.
    pub fn root_spec(&self) -> Result<QdiscSpec, String> {
        restorable_root(&self.qdiscs, self.root_filters).map(|r| QdiscSpec::from(&r))
    }
}

/// What the tune engine reads and writes for the root qdisc of an interface: a kind with
/// options, and the handle when it names one qdisc to put back (`None` in what a profile
/// asks for: the kernel picks the handle).
///
/// Carried as one line of text in plans and the journal, in `tc`'s words:
/// `ets bands 5 strict 0 quanta 2525 2020 2020 2020 1515 priomap 0 1 2 3 4 4 4 4 4 4 4 4 4 4 4 4`,
/// `pfifo 5: limit 30000`, `noqueue default` (the kernel's own root, put back by deleting the
/// root), `mqprio num_tc 2 map 0 0 0 1 queues 1@0 3@1 hw 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QdiscSpec {
    /// Kind.
    pub kind: String,
    /// `Some(0)`: the kernel's default root; `Some(h)`: the qdisc with handle `h`; `None`:
    /// any handle.
    pub handle: Option<u32>,
    /// Options.
    pub options: QdiscOptions,
}

impl From<&RootQdisc> for QdiscSpec {
    fn from(r: &RootQdisc) -> Self {
        QdiscSpec {
            kind: r.kind.clone(),
            handle: Some(r.handle),
            options: if r.is_default() {
                QdiscOptions::None
            } else {
                r.options.clone()
            },
        }
    }
}

fn join<T: std::fmt::Display>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl std::fmt::Display for QdiscSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.kind)?;
        match self.handle {
            Some(0) => return f.write_str(" default"),
            Some(h) => write!(f, " {}", handle_str(h))?,
            None => {}
        }
        match &self.options {
            QdiscOptions::None | QdiscOptions::Prio { .. } => Ok(()),
            QdiscOptions::Fifo { limit } => write!(f, " limit {limit}"),
            QdiscOptions::Ets(e) => {
                write!(f, " bands {} strict {}", e.nbands, e.nstrict)?;
                if !e.quanta.is_empty() {
                    write!(f, " quanta {}", join(&e.quanta))?;
                }
                if !e.priomap.is_empty() {
                    write!(f, " priomap {}", join(&e.priomap))?;
                }
                Ok(())
            }
            QdiscOptions::Mqprio(m) => {
                let queues: Vec<String> = m
                    .count
                    .iter()
                    .zip(&m.offset)
                    .map(|(c, o)| format!("{c}@{o}"))
                    .collect();
                write!(
                    f,
                    " num_tc {} map {} queues {} hw {}",
                    m.num_tc,
                    join(&m.prio_tc_map),
                    queues.join(" "),
                    m.hw
                )
            }
        }
    }
}

const SPEC_WORDS: &[&str] = &[
    "bands", "strict", "quanta", "priomap", "limit", "num_tc", "map", "queues", "hw",
];

impl QdiscSpec {
    /// Parses the text form ([`QdiscSpec`]'s `Display`), checking the options as the kernel
    /// would.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut toks = text.split_whitespace().peekable();
        let kind = toks.next().ok_or("an empty qdisc")?.to_string();
        let kind_ok = kind.len() <= 16
            && kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !kind_ok {
            return Err(format!("{kind:?} is not a qdisc kind"));
        }
        let mut handle = None;
        if let Some(t) = toks.peek() {
            if *t == "default" {
                handle = Some(0);
                toks.next();
            } else if let Some(maj) = t.strip_suffix(':') {
                let m = u32::from_str_radix(maj, 16)
                    .ok()
                    .filter(|m| *m > 0 && *m <= 0xFFFF)
                    .ok_or_else(|| format!("bad handle {t:?}"))?;
                handle = Some(m << 16);
                toks.next();
            }
        }
        let mut words: std::collections::BTreeMap<&str, Vec<&str>> =
            std::collections::BTreeMap::default();
        let mut cur: Option<&str> = None;
        for t in toks {
            if SPEC_WORDS.contains(&t) {
                if words.insert(t, Vec::new()).is_some() {
                    return Err(format!("{t} given twice"));
                }
                cur = Some(t);
            } else if let Some(c) = cur {
                words.entry(c).or_default().push(t);
            } else {
                return Err(format!("unexpected {t:?} after {kind}"));
            }
        }
        let nums = |w: &str| -> Result<Vec<u32>, String> {
            words.get(w).map_or(Ok(Vec::new()), |v| {
                v.iter()
                    .map(|x| {
                        x.parse::<u32>()
                            .map_err(|_| format!("{w}: {x:?} is not a number"))
                    })
                    .collect()
            })
        };
        let one = |w: &str| -> Result<Option<u32>, String> {
            match nums(w)?.as_slice() {
                [] if !words.contains_key(w) => Ok(None),
                [n] => Ok(Some(*n)),
                _ => Err(format!("{w} takes one number")),
            }
        };
        let small = |v: Vec<u32>, w: &str| -> Result<Vec<u8>, String> {
            v.into_iter()
                .map(|x| u8::try_from(x).map_err(|_| format!("{w}: {x} is too large")))
                .collect()
        };
        let u8_of = |v: Option<u32>, w: &str| -> Result<u8, String> {
            u8::try_from(v.unwrap_or(0)).map_err(|_| format!("{w} is too large"))
        };
        let options = match kind.as_str() {
            _ if handle == Some(0) => {
                if !words.is_empty() {
                    return Err("a default root takes no options".into());
                }
                QdiscOptions::None
            }
            "ets" => {
                let e = EtsOptions {
                    nbands: u8_of(one("bands")?, "bands")?,
                    nstrict: u8_of(one("strict")?, "strict")?,
                    quanta: nums("quanta")?,
                    priomap: small(nums("priomap")?, "priomap")?,
                };
                e.validate()?;
                QdiscOptions::Ets(e)
            }
            "mqprio" => {
                let mut count = Vec::new();
                let mut offset = Vec::new();
                for q in words.get("queues").into_iter().flatten() {
                    let (c, o) = q
                        .split_once('@')
                        .and_then(|(c, o)| Some((c.parse().ok()?, o.parse().ok()?)))
                        .ok_or_else(|| format!("queues: {q:?} is not COUNT@OFFSET"))?;
                    count.push(c);
                    offset.push(o);
                }
                let m = MqprioOptions {
                    num_tc: u8_of(one("num_tc")?, "num_tc")?,
                    prio_tc_map: small(nums("map")?, "map")?,
                    hw: u8_of(one("hw")?, "hw")?,
                    count,
                    offset,
                };
                m.validate()?;
                QdiscOptions::Mqprio(m)
            }
            "pfifo" | "bfifo" => QdiscOptions::Fifo {
                limit: one("limit")?.ok_or("a fifo needs a limit")?,
            },
            _ if words.is_empty() => QdiscOptions::None,
            _ => return Err(format!("{kind} takes no options here")),
        };
        Ok(QdiscSpec {
            kind,
            handle,
            options,
        })
    }

    /// True when a qdisc reading as `self` satisfies `want`: same kind and options, and the
    /// same handle when `want` names one.
    pub fn satisfies(&self, want: &QdiscSpec) -> bool {
        self.kind == want.kind
            && self.options == want.options
            && want.handle.is_none_or(|h| self.handle == Some(h))
    }
}

/// How a profile's classes become a root qdisc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosMode {
    /// `ets` (`sch_ets`, Linux 5.6+): strict classes first, then bandwidth shares.
    Ets,
    /// Software `mqprio` (`hw 0`): priorities to transmit queues only, no bandwidth shares.
    Mqprio,
}

/// One traffic class of a profile's `qos:` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QosClass {
    /// Socket priorities (`SO_PRIORITY`, 0..=15) that go to this class.
    pub priorities: Vec<u8>,
    /// Bandwidth share in percent (ets); `None` for a strict class or under mqprio.
    pub share: Option<u32>,
    /// Served before every bandwidth class (ets).
    pub strict: bool,
    /// Transmit queues of the class (mqprio), consecutive.
    pub queues: u16,
}

/// A profile's `qos:` block, validated on its own (no node needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QosSpec {
    /// ets or mqprio.
    pub mode: QosMode,
    /// Classes in band order.
    pub classes: Vec<QosClass>,
}

impl QosSpec {
    /// Checks the classes: 1 to 16 of them, each priority 0..=15 in at most one class, and
    /// for ets strict classes first and the shares of the others summing to 100; mqprio takes
    /// no shares (software mqprio only maps priorities to queues).
    pub fn validate(&self) -> Result<(), String> {
        let n = self.classes.len();
        if n == 0 || n > ETS_MAX_BANDS {
            return Err(format!("qos needs 1 to {ETS_MAX_BANDS} classes, not {n}"));
        }
        let mut seen = [None; PRIO_COUNT];
        for (i, c) in self.classes.iter().enumerate() {
            for &p in &c.priorities {
                let slot = seen
                    .get_mut(usize::from(p))
                    .ok_or_else(|| format!("classes[{i}]: priority {p} is above 15"))?;
                if let Some(j) = *slot {
                    return Err(format!(
                        "classes[{i}]: priority {p} is already in classes[{j}]"
                    ));
                }
                *slot = Some(i);
            }
        }
        match self.mode {
            QosMode::Mqprio => {
                if let Some(i) = self
                    .classes
                    .iter()
                    .position(|c| c.share.is_some() || c.strict)
                {
                    return Err(format!(
                        "classes[{i}]: software mqprio gives no bandwidth shares or strict \
                         priority; use mode ets"
                    ));
                }
                if let Some(i) = self.classes.iter().position(|c| c.queues == 0) {
                    return Err(format!("classes[{i}]: a class needs at least one queue"));
                }
            }
            QosMode::Ets => {
                let mut strict_done = false;
                let mut sum = 0u32;
                for (i, c) in self.classes.iter().enumerate() {
                    match (c.strict, c.share) {
                        (true, Some(_)) => {
                            return Err(format!("classes[{i}]: a strict class takes no share"))
                        }
                        (false, None) => {
                            return Err(format!(
                                "classes[{i}]: needs a share (percent) or strict: true"
                            ))
                        }
                        (true, None) if strict_done => {
                            return Err(format!(
                                "classes[{i}]: strict classes come first (ets serves its \
                                 strict bands before the others)"
                            ))
                        }
                        (true, None) => {}
                        (false, Some(0)) => {
                            return Err(format!("classes[{i}]: a share cannot be 0"))
                        }
                        (false, Some(s)) => {
                            strict_done = true;
                            sum = sum.saturating_add(s);
                        }
                    }
                }
                if self.classes.iter().any(|c| !c.strict) && sum != 100 {
                    return Err(format!("the shares add up to {sum}, not 100"));
                }
            }
        }
        Ok(())
    }

    /// The band of each priority 0..=15: its class, or the last class for a priority no
    /// class names (as the kernel does for ets).
    fn priomap(&self) -> Vec<u8> {
        let last = self.classes.len().saturating_sub(1) as u8;
        (0..PRIO_COUNT as u8)
            .map(|p| {
                self.classes
                    .iter()
                    .position(|c| c.priorities.contains(&p))
                    .map_or(last, |i| i as u8)
            })
            .collect()
    }

    /// The root qdisc for an interface with this MTU and this many transmit queues.
    pub fn qdisc(&self, mtu: u32, tx_queues: u32) -> Result<QdiscSpec, String> {
        self.validate()?;
        let options = match self.mode {
            QosMode::Ets => {
                let shares: Vec<u32> = self.classes.iter().filter_map(|c| c.share).collect();
                let nstrict = self.classes.iter().filter(|c| c.strict).count() as u8;
                QdiscOptions::Ets(EtsOptions {
                    nbands: self.classes.len() as u8,
                    nstrict,
                    quanta: if shares.is_empty() {
                        Vec::new()
                    } else {
                        quanta_from_shares(&shares, mtu)?
                    },
                    priomap: self.priomap(),
                })
            }
            QosMode::Mqprio => {
                let mut offset = Vec::new();
                let mut next = 0u32;
                for c in &self.classes {
                    offset.push(next as u16);
                    next += u32::from(c.queues);
                }
                if next > tx_queues {
                    return Err(format!(
                        "the classes need {next} transmit queues, the interface has {tx_queues}"
                    ));
                }
                QdiscOptions::Mqprio(MqprioOptions {
                    num_tc: self.classes.len() as u8,
                    prio_tc_map: self.priomap(),
                    hw: 0,
                    count: self.classes.iter().map(|c| c.queues).collect(),
                    offset,
                })
            }
        };
        let kind = match self.mode {
            QosMode::Ets => "ets",
            QosMode::Mqprio => "mqprio",
        };
        Ok(QdiscSpec {
            kind: kind.into(),
            handle: None,
            options,
        })
    }
}

/// Ethernet header bytes on top of the MTU: a full frame as a DRR quantum counts it.
pub const ETH_HLEN: u32 = 14;

/// ETS quanta (bytes) from bandwidth shares (percent, or any weights).
///
/// DRR gives each band its quantum per round, so bandwidth splits in the ratio of the quanta.
/// The shares are first reduced by their greatest common divisor; the smallest reduced share
/// then gets one full frame (`mtu + 14`, Ethernet header included) per round, and the others
/// get that unit times their reduced share: the ratio of the shares exactly, and every band
/// sends at least a whole frame per round (a quantum below a frame makes a band wait rounds).
/// Shares 25/20/20/20/15 at MTU 1500 give 2525/2020/2020/2020/1515.
pub fn quanta_from_shares(shares: &[u32], mtu: u32) -> Result<Vec<u32>, String> {
    if shares.is_empty() {
        return Err("no shares".into());
    }
    if shares.contains(&0) {
        return Err("a share cannot be zero (use a strict class, or leave the class out)".into());
    }
    let g = shares.iter().copied().fold(0, gcd);
    let reduced: Vec<u32> = shares.iter().map(|s| s / g).collect();
    let min = reduced.iter().copied().min().unwrap_or(1);
    let frame = mtu.saturating_add(ETH_HLEN);
    let unit = frame.div_ceil(min);
    reduced
        .iter()
        .map(|r| {
            r.checked_mul(unit)
                .ok_or_else(|| format!("quantum for share {r} overflows"))
        })
        .collect()
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(kind: &str, handle: u32, parent: u32, options: QdiscOptions) -> Qdisc {
        Qdisc {
            kind: kind.into(),
            handle,
            parent,
            options,
            stats: TcStats::default(),
        }
    }

    #[test]
    fn quanta_keep_the_share_ratio_and_a_frame_for_the_smallest() {
        assert_eq!(
            quanta_from_shares(&[25, 20, 20, 20, 15], 1500).expect("valid"),
            vec![2525, 2020, 2020, 2020, 1515]
        );
        // Equal shares: one frame each, whatever the percentages.
        assert_eq!(
            quanta_from_shares(&[50, 50], 9000).expect("valid"),
            vec![9014, 9014]
        );
        // Coprime shares: the smallest still gets a whole frame (rounded up).
        let q = quanta_from_shares(&[70, 30], 1500).expect("valid");
        assert_eq!(q, vec![7 * 505, 3 * 505]);
        assert!(q[1] >= 1514);
        assert!(quanta_from_shares(&[60, 0, 40], 1500).is_err());
        assert!(quanta_from_shares(&[], 1500).is_err());
    }

    #[test]
    fn ets_options_follow_the_kernel_rules() {
        let ok = EtsOptions {
            nbands: 3,
            nstrict: 1,
            quanta: vec![1514, 1514],
            priomap: vec![2, 1, 0],
        };
        ok.validate().expect("valid");
        let mut bad = ok.clone();
        bad.quanta.push(10);
        assert!(bad
            .validate()
            .expect_err("refused")
            .contains("needs 2 quanta"));
        let mut bad = ok.clone();
        bad.priomap[0] = 3;
        assert!(bad.validate().expect_err("refused").contains("band 3"));
        let mut bad = ok.clone();
        bad.quanta[0] = 0;
        assert!(bad.validate().is_err());
        let mut bad = ok;
        bad.nbands = 17;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn default_root_and_simple_kinds_are_restorable() {
        let r =
            restorable_root(&[q("noqueue", 0, TC_H_ROOT, QdiscOptions::None)], 0).expect("valid");
        assert!(r.is_default());
        let mq = [
            q("mq", 0, TC_H_ROOT, QdiscOptions::None),
            q("pfifo_fast", 0, 0xFFFF_0001, QdiscOptions::None),
        ];
        assert!(restorable_root(&mq, 0).expect("valid").is_default());
        let fifo = [
            q(
                "pfifo",
                0x8001_0000,
                TC_H_ROOT,
                QdiscOptions::Fifo { limit: 77 },
            ),
            q("clsact", 0xFFFF_0000, TC_H_INGRESS, QdiscOptions::None),
        ];
        let r = restorable_root(&fifo, 0).expect("valid");
        assert_eq!((r.kind.as_str(), r.handle), ("pfifo", 0x8001_0000));
        assert_eq!(r.options, QdiscOptions::Fifo { limit: 77 });
    }

    #[test]
    fn trees_dpuctl_cannot_rebuild_are_refused() {
        let htb = [q("htb", 0x0001_0000, TC_H_ROOT, QdiscOptions::None)];
        assert!(restorable_root(&htb, 0)
            .expect_err("refused")
            .contains("htb 1: is a kind dpuctl cannot restore"));
        let child = [
            q("mq", 0x0001_0000, TC_H_ROOT, QdiscOptions::None),
            q(
                "pfifo",
                0x8002_0000,
                0x0001_0001,
                QdiscOptions::Fifo { limit: 5 },
            ),
        ];
        assert!(restorable_root(&child, 0)
            .expect_err("refused")
            .contains("child qdisc pfifo 8002: under 1:1"));
        let ets = EtsOptions {
            nbands: 2,
            nstrict: 0,
            quanta: vec![1514, 1514],
            priomap: vec![],
        };
        let filtered = [q("ets", 0x0001_0000, TC_H_ROOT, QdiscOptions::Ets(ets))];
        assert!(restorable_root(&filtered, 2)
            .expect_err("refused")
            .contains("2 filter(s)"));
        assert!(restorable_root(&filtered, 0).is_ok());
        // An ets whose options did not decode cannot be rebuilt.
        let blind = [q("ets", 0x0001_0000, TC_H_ROOT, QdiscOptions::None)];
        assert!(restorable_root(&blind, 0).is_err());
        assert!(restorable_root(&[], 0).is_err());
    }

    #[test]
    fn spec_text_round_trips() {
        for t in [
            "ets bands 5 strict 0 quanta 2525 2020 2020 2020 1515 priomap 0 1 2 3 4 4 4 4 4 4 4 4 4 4 4 4",
            "ets 8001: bands 3 strict 1 quanta 1514 1514 priomap 2 1 0",
            "noqueue default",
            "pfifo 5: limit 30000",
            "mq 7:",
            "mqprio num_tc 2 map 0 0 0 1 queues 1@0 3@1 hw 0",
        ] {
            let s = QdiscSpec::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(s.to_string(), t);
        }
        let s = QdiscSpec::parse("ets 8001: bands 2 strict 0 quanta 9 9").expect("valid");
        assert_eq!(s.handle, Some(0x8001_0000));
        for bad in [
            "",
            "ets bands 2 quanta 1",
            "ets bands 2 strict 0 quanta 1 1 priomap 2",
            "pfifo",
            "noqueue default limit 3",
            "ets bands 2 bands 2",
            "ETS",
            "ets 0: bands 1 strict 1",
            "mqprio num_tc 1 queues 1-0 map 0",
            "ets oops",
        ] {
            assert!(QdiscSpec::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn a_wanted_spec_without_handle_matches_any_handle() {
        let want = QdiscSpec::parse("pfifo limit 5").expect("valid");
        assert!(QdiscSpec::parse("pfifo 8001: limit 5")
            .expect("valid")
            .satisfies(&want));
        assert!(!QdiscSpec::parse("pfifo 8001: limit 6")
            .expect("valid")
            .satisfies(&want));
        assert!(!QdiscSpec::parse("bfifo 8001: limit 5")
            .expect("valid")
            .satisfies(&want));
        let exact = QdiscSpec::parse("pfifo 5: limit 5").expect("valid");
        assert!(!QdiscSpec::parse("pfifo 8001: limit 5")
            .expect("valid")
            .satisfies(&exact));
        let def = QdiscSpec::parse("noqueue default").expect("valid");
        assert!(def.satisfies(&def));
        assert!(!QdiscSpec::parse("noqueue 8001:")
            .expect("valid")
            .satisfies(&def));
    }

    fn class(prios: &[u8], share: Option<u32>, strict: bool) -> QosClass {
        QosClass {
            priorities: prios.to_vec(),
            share,
            strict,
            queues: 1,
        }
    }

    #[test]
    fn five_classes_become_an_ets_with_quanta_and_priomap() {
        let q = QosSpec {
            mode: QosMode::Ets,
            classes: vec![
                class(&[4], Some(25), false),
                class(&[3], Some(20), false),
                class(&[2], Some(20), false),
                class(&[1], Some(20), false),
                class(&[0], Some(15), false),
            ],
        };
        assert_eq!(
            q.qdisc(1500, 1).expect("valid").to_string(),
            "ets bands 5 strict 0 quanta 2525 2020 2020 2020 1515 \
             priomap 4 3 2 1 0 4 4 4 4 4 4 4 4 4 4 4"
        );
        // A strict class first, the rest by share.
        let q = QosSpec {
            mode: QosMode::Ets,
            classes: vec![class(&[6, 7], None, true), class(&[0], Some(100), false)],
        };
        assert_eq!(
            q.qdisc(9000, 1).expect("valid").to_string(),
            "ets bands 2 strict 1 quanta 9014 priomap 1 1 1 1 1 1 0 0 1 1 1 1 1 1 1 1"
        );
    }

    #[test]
    fn bad_class_sets_are_refused() {
        let ets = |classes| QosSpec {
            mode: QosMode::Ets,
            classes,
        };
        let e = |q: QosSpec| q.validate().expect_err("refused");
        assert!(e(ets(vec![
            class(&[0], Some(50), false),
            class(&[1], Some(40), false)
        ]))
        .contains("add up to 90"));
        assert!(e(ets(vec![
            class(&[0], Some(50), false),
            class(&[0], Some(50), false)
        ]))
        .contains("priority 0 is already in classes[0]"));
        assert!(e(ets(vec![class(&[16], Some(100), false)])).contains("above 15"));
        assert!(e(ets(vec![
            class(&[0], Some(100), false),
            class(&[1], None, true)
        ]))
        .contains("strict classes come first"));
        assert!(e(ets(vec![class(&[0], None, false)])).contains("needs a share"));
        assert!(e(ets(vec![])).contains("1 to 16"));
        let mq = QosSpec {
            mode: QosMode::Mqprio,
            classes: vec![class(&[0], Some(100), false)],
        };
        assert!(e(mq).contains("no bandwidth shares"));
    }

    #[test]
    fn mqprio_maps_priorities_to_consecutive_queues() {
        let mut c1 = class(&[3], None, false);
        c1.queues = 3;
        let q = QosSpec {
            mode: QosMode::Mqprio,
            classes: vec![class(&[0, 1, 2], None, false), c1],
        };
        assert_eq!(
            q.qdisc(1500, 4).expect("valid").to_string(),
            "mqprio num_tc 2 map 0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 queues 1@0 3@1 hw 0"
        );
        assert!(q
            .qdisc(1500, 3)
            .expect_err("refused")
            .contains("need 4 transmit queues"));
    }

    #[test]
    fn handles_print_as_tc_does() {
        assert_eq!(handle_str(TC_H_ROOT), "root");
        assert_eq!(handle_str(0x8001_0000), "8001:");
        assert_eq!(handle_str(0x0001_0003), "1:3");
        assert_eq!(handle_str(0), "0:");
    }
}
