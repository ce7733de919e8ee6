//! Data Center Bridging state of an interface (IEEE 802.1Qaz): hardware ETS, PFC with its
//! per-priority pause counters, and the APP table (DSCP or port to priority), as dcbnl reports
//! them. Plain data; `sys::dcb` reads and writes it. Layouts: `struct ieee_ets`,
//! `struct ieee_pfc`, `struct dcb_app` in `include/uapi/linux/dcbnl.h`.

use serde::{Deserialize, Serialize};

/// `IEEE_8021QAZ_MAX_TCS`: priorities and traffic classes of 802.1Qaz.
pub const MAX_TCS: usize = 8;
/// `IEEE_8021QAZ_TSA_STRICT`.
pub const TSA_STRICT: u8 = 0;
/// `IEEE_8021QAZ_TSA_CB_SHAPER`.
pub const TSA_CBS: u8 = 1;
/// `IEEE_8021QAZ_TSA_ETS`.
pub const TSA_ETS: u8 = 2;
/// `IEEE_8021QAZ_TSA_VENDOR`.
pub const TSA_VENDOR: u8 = 255;
/// `IEEE_8021QAZ_APP_SEL_ETHERTYPE`.
pub const APP_SEL_ETHERTYPE: u8 = 1;
/// `IEEE_8021QAZ_APP_SEL_DGRAM`: a UDP (or DCCP) port.
pub const APP_SEL_DGRAM: u8 = 3;
/// `IEEE_8021QAZ_APP_SEL_DSCP`.
pub const APP_SEL_DSCP: u8 = 5;
/// `DCB_APP_SEL_PCP`: the 802.1p priority of a VLAN tag (not a standard selector; for the
/// APP trust order).
pub const APP_SEL_PCP: u8 = 255;

/// `struct ieee_ets`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IeeeEts {
    /// Willing to take the peer's configuration (DCBX).
    pub willing: u8,
    /// Traffic classes the device supports.
    pub ets_cap: u8,
    /// Credit-based shaper supported.
    pub cbs: u8,
    /// Transmit bandwidth percent of each traffic class.
    pub tc_tx_bw: Vec<u8>,
    /// Receive bandwidth percent of each traffic class.
    pub tc_rx_bw: Vec<u8>,
    /// Transmission selection algorithm of each traffic class (0 strict, 2 ets).
    pub tc_tsa: Vec<u8>,
    /// Traffic class of each priority 0..=7.
    pub prio_tc: Vec<u8>,
    /// Recommended bandwidth (DCBX recommendation TLV).
    pub tc_reco_bw: Vec<u8>,
    /// Recommended algorithm.
    pub tc_reco_tsa: Vec<u8>,
    /// Recommended priority map.
    pub reco_prio_tc: Vec<u8>,
}

/// `struct ieee_pfc`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IeeePfc {
    /// Priorities that may have PFC at once.
    pub pfc_cap: u8,
    /// Bitmap of the priorities with PFC on.
    pub pfc_en: u8,
    /// `MACsec` bypass capability.
    pub mbc: u8,
    /// Round-trip allowance in bits.
    pub delay: u16,
    /// PFC frames sent, per priority (we asked the peer to pause).
    pub requests: Vec<u64>,
    /// PFC frames received, per priority (the peer asked us to pause).
    pub indications: Vec<u64>,
}

impl IeeePfc {
    /// The priorities with PFC on.
    pub fn enabled(&self) -> Vec<u8> {
        (0..MAX_TCS as u8)
            .filter(|p| self.pfc_en & (1 << p) != 0)
            .collect()
    }
}

/// `struct dcb_app`: traffic matching `selector`/`protocol` gets `priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DcbApp {
    /// What `protocol` is: 1 ethertype, 2 TCP port, 3 UDP port, 4 any port, 5 DSCP.
    pub selector: u8,
    /// Priority 0..=7.
    pub priority: u8,
    /// The ethertype, port or DSCP value.
    pub protocol: u16,
}

/// The IEEE DCB state of an interface (`DCB_CMD_IEEE_GET`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcbState {
    /// Hardware ETS.
    #[serde(default)]
    pub ets: Option<IeeeEts>,
    /// PFC.
    #[serde(default)]
    pub pfc: Option<IeeePfc>,
    /// APP table.
    #[serde(default)]
    pub apps: Vec<DcbApp>,
    /// DCBX mode bits (`DCB_ATTR_DCBX`).
    #[serde(default)]
    pub dcbx: Option<u8>,
    /// The APP trust order (`DCB_ATTR_DCB_APP_TRUST_TABLE`, Linux 6.3+): the selectors the
    /// port classifies incoming traffic by, first match wins; `None` where the driver has no
    /// `dcbnl_getapptrust`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<Vec<u8>>,
}

impl DcbState {
    /// The priority DSCP `dscp` maps to in the APP table.
    pub fn dscp_priority(&self, dscp: u16) -> Option<u8> {
        self.apps
            .iter()
            .find(|a| a.selector == APP_SEL_DSCP && a.protocol == dscp)
            .map(|a| a.priority)
    }

    /// The priorities the APP table gives `selector`/`protocol`, as a bitmap (the kernel's
    /// table may hold several entries for one protocol).
    pub fn app_priorities(&self, selector: u8, protocol: u16) -> u8 {
        self.apps
            .iter()
            .filter(|a| a.selector == selector && a.protocol == protocol)
            .fold(0, |b, a| {
                b | (1u8.checked_shl(u32::from(a.priority)).unwrap_or(0))
            })
    }
}

/// The text form of a PFC priority set, as plans and the journal carry it: `"3"`, `"3 4"`,
/// `"none"`.
pub fn pfc_text(pfc_en: u8) -> String {
    let p: Vec<String> = (0..MAX_TCS as u8)
        .filter(|p| pfc_en & (1 << p) != 0)
        .map(|p| p.to_string())
        .collect();
    if p.is_empty() {
        "none".into()
    } else {
        p.join(" ")
    }
}

/// Parses [`pfc_text`] (also with commas) into the `pfc_en` bitmap.
pub fn parse_pfc_text(t: &str) -> Result<u8, String> {
    let t = t.trim();
    if t == "none" {
        return Ok(0);
    }
    let mut bits = 0u8;
    for w in t
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let p: u8 = w
            .parse()
            .ok()
            .filter(|p: &u8| usize::from(*p) < MAX_TCS)
            .ok_or_else(|| format!("{w:?} is not a priority 0 to 7"))?;
        bits |= 1 << p;
    }
    if bits == 0 {
        return Err("no priority (write none for PFC off)".into());
    }
    Ok(bits)
}

// ---------------------------------------------------------------------------------------------
// Hardware ETS, APP entries and APP trust as knob values. The words are iproute2's (`dcb ets`,
// `dcb app`, `dcb apptrust`), so that what a user types there reads the same here.

/// APP selectors by the names of iproute2's `dcb app` / `dcb apptrust`.
pub const SELECTORS: &[(u8, &str)] = &[
    (APP_SEL_ETHERTYPE, "ethtype"),
    (2, "stream-port"),
    (APP_SEL_DGRAM, "dgram-port"),
    (4, "port"),
    (APP_SEL_DSCP, "dscp"),
    (APP_SEL_PCP, "pcp"),
];

/// The name of an APP selector (`dscp`), or its number where it has none.
pub fn selector_name(selector: u8) -> String {
    SELECTORS
        .iter()
        .find(|(s, _)| *s == selector)
        .map_or_else(|| selector.to_string(), |(_, n)| (*n).to_string())
}

/// The selector named `name` ([`SELECTORS`]).
pub fn parse_selector(name: &str) -> Option<u8> {
    SELECTORS.iter().find(|(_, n)| *n == name).map(|(s, _)| *s)
}

/// The text form of an APP trust order, as plans and the journal carry it: `"dscp pcp"`,
/// `"none"` (nothing trusted: every frame gets the port's default priority).
pub fn trust_text(selectors: &[u8]) -> String {
    if selectors.is_empty() {
        return "none".into();
    }
    selectors
        .iter()
        .map(|s| selector_name(*s))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses [`trust_text`] (also with commas): known selector names, each once.
pub fn parse_trust_text(t: &str) -> Result<Vec<u8>, String> {
    let t = t.trim();
    if t == "none" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for w in t
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let s = parse_selector(w).ok_or_else(|| {
            let names: Vec<&str> = SELECTORS.iter().map(|(_, n)| *n).collect();
            format!("{w:?} is not a selector ({})", names.join(", "))
        })?;
        if out.contains(&s) {
            return Err(format!("{w} is trusted twice"));
        }
        out.push(s);
    }
    if out.is_empty() {
        return Err("no selector (write none to trust nothing)".into());
    }
    Ok(out)
}

/// `tc-tsa` words of iproute2's `dcb ets`.
const TSA_NAMES: &[(u8, &str)] = &[
    (TSA_STRICT, "strict"),
    (TSA_CBS, "cbs"),
    (TSA_ETS, "ets"),
    (TSA_VENDOR, "vendor"),
];

/// The fields of [`IeeeEts`] as [`EtsSpec`] names them, in `struct ieee_ets` order.
const ETS_ARRAYS: &[&str] = &[
    "tc-bw",
    "pg-bw",
    "tc-tsa",
    "prio-tc",
    "reco-tc-bw",
    "reco-tc-tsa",
    "reco-prio-tc",
];

/// Hardware ETS as a knob value: some or all fields of `struct ieee_ets`, by the names of
/// iproute2's `dcb ets` (`tc-bw` is `tc_tx_bw`, `pg-bw` is `tc_rx_bw`). What a profile asks
/// for names `tc-tsa`, `tc-bw` and `prio-tc` only, and a write changes only the fields named,
/// on top of what the device reports; what the journal keeps of a device names every field,
/// so that putting it back writes the whole `struct ieee_ets` as it was.
///
/// Text form: `willing 0 ets-cap 8 cbs 0 tc-bw 50 50 0 0 0 0 0 0 tc-tsa ets ets strict ...`,
/// eight numbers (or `tc-tsa` words: strict, cbs, ets, vendor) after each array name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EtsSpec {
    /// `willing`.
    pub willing: Option<u8>,
    /// `ets_cap` (reported by the driver; written back as read).
    pub ets_cap: Option<u8>,
    /// `cbs`.
    pub cbs: Option<u8>,
    /// The arrays in [`ETS_ARRAYS`] order: `tc_tx_bw`, `tc_rx_bw`, `tc_tsa`, `prio_tc`,
    /// `tc_reco_bw`, `tc_reco_tsa`, `reco_prio_tc`.
    pub arrays: [Option<[u8; MAX_TCS]>; 7],
}

fn arr8(v: &[u8]) -> [u8; MAX_TCS] {
    let mut a = [0u8; MAX_TCS];
    for (d, s) in a.iter_mut().zip(v) {
        *d = *s;
    }
    a
}

impl EtsSpec {
    /// Index of `tc-bw` in [`EtsSpec::arrays`].
    pub const TC_BW: usize = 0;
    /// Index of `tc-tsa`.
    pub const TC_TSA: usize = 2;
    /// Index of `prio-tc`.
    pub const PRIO_TC: usize = 3;

    /// Every field of a device's `struct ieee_ets`.
    pub fn from_ets(e: &IeeeEts) -> Self {
        Self {
            willing: Some(e.willing),
            ets_cap: Some(e.ets_cap),
            cbs: Some(e.cbs),
            arrays: [
                Some(arr8(&e.tc_tx_bw)),
                Some(arr8(&e.tc_rx_bw)),
                Some(arr8(&e.tc_tsa)),
                Some(arr8(&e.prio_tc)),
                Some(arr8(&e.tc_reco_bw)),
                Some(arr8(&e.tc_reco_tsa)),
                Some(arr8(&e.reco_prio_tc)),
            ],
        }
    }

    /// `base` with the fields this spec names replaced: the `struct ieee_ets` to write.
    pub fn apply_to(&self, base: &IeeeEts) -> IeeeEts {
        let mut e = base.clone();
        if let Some(v) = self.willing {
            e.willing = v;
        }
        if let Some(v) = self.ets_cap {
            e.ets_cap = v;
        }
        if let Some(v) = self.cbs {
            e.cbs = v;
        }
        let dst = [
            &mut e.tc_tx_bw,
            &mut e.tc_rx_bw,
            &mut e.tc_tsa,
            &mut e.prio_tc,
            &mut e.tc_reco_bw,
            &mut e.tc_reco_tsa,
            &mut e.reco_prio_tc,
        ];
        for (d, a) in dst.into_iter().zip(&self.arrays) {
            if let Some(a) = a {
                *d = a.to_vec();
            }
        }
        e
    }

    /// True when a device reading as `self` has every field `want` names.
    pub fn satisfies(&self, want: &EtsSpec) -> bool {
        let one = |h: Option<u8>, w: Option<u8>| w.is_none() || h == w;
        one(self.willing, want.willing)
            && one(self.ets_cap, want.ets_cap)
            && one(self.cbs, want.cbs)
            && self
                .arrays
                .iter()
                .zip(&want.arrays)
                .all(|(h, w)| w.is_none() || h == w)
    }

    /// Parses the text form, checking each number's range.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut spec = EtsSpec::default();
        let mut toks = text.split_whitespace().peekable();
        if toks.peek().is_none() {
            return Err("an empty ets".into());
        }
        while let Some(w) = toks.next() {
            let mut one = |slot: &mut Option<u8>| -> Result<(), String> {
                if slot.is_some() {
                    return Err(format!("{w} given twice"));
                }
                let v = toks.next().ok_or_else(|| format!("{w} needs a number"))?;
                *slot = Some(
                    v.parse()
                        .map_err(|_| format!("{w}: {v:?} is not 0 to 255"))?,
                );
                Ok(())
            };
            match w {
                "willing" => one(&mut spec.willing)?,
                "ets-cap" => one(&mut spec.ets_cap)?,
                "cbs" => one(&mut spec.cbs)?,
                _ => {
                    let idx = ETS_ARRAYS
                        .iter()
                        .position(|n| *n == w)
                        .ok_or_else(|| format!("unexpected {w:?} in an ets"))?;
                    if spec.arrays[idx].is_some() {
                        return Err(format!("{w} given twice"));
                    }
                    let mut a = [0u8; MAX_TCS];
                    for (j, slot) in a.iter_mut().enumerate() {
                        let v = toks
                            .next()
                            .ok_or_else(|| format!("{w} needs {MAX_TCS} values, got {j}"))?;
                        *slot = if w.ends_with("tsa") {
                            TSA_NAMES
                                .iter()
                                .find(|(_, n)| *n == v)
                                .map(|(t, _)| *t)
                                .or_else(|| v.parse().ok())
                                .ok_or_else(|| {
                                    format!("{w}: {v:?} is not strict, cbs, ets or vendor")
                                })?
                        } else {
                            let n: u8 = v
                                .parse()
                                .map_err(|_| format!("{w}: {v:?} is not a number"))?;
                            if w.ends_with("bw") && n > 100 {
                                return Err(format!("{w}: {n} is not a percentage"));
                            }
                            if w.ends_with("prio-tc") && usize::from(n) >= MAX_TCS {
                                return Err(format!("{w}: {n} is not a traffic class 0 to 7"));
                            }
                            n
                        };
                    }
                    spec.arrays[idx] = Some(a);
                }
            }
        }
        Ok(spec)
    }

    /// Checks what a write of `e` would be refused for (802.1Q-2018 as iproute2's `dcb ets`
    /// enforces it): the `tc-bw` of a configuration with an ets class adds up to 100, of an
    /// all-strict one to 0 or 100.
    pub fn check_bandwidth(e: &IeeeEts) -> Result<(), String> {
        let sum: u32 = e.tc_tx_bw.iter().map(|b| u32::from(*b)).sum();
        let has_ets = e.tc_tsa.contains(&TSA_ETS);
        if sum == 100 || (!has_ets && sum == 0) {
            Ok(())
        } else {
            Err(format!(
                "tc-bw adds up to {sum}, not {}",
                if has_ets { "100" } else { "0 or 100" }
            ))
        }
    }
}

impl std::fmt::Display for EtsSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut words: Vec<String> = Vec::new();
        for (name, v) in [
            ("willing", self.willing),
            ("ets-cap", self.ets_cap),
            ("cbs", self.cbs),
        ] {
            if let Some(v) = v {
                words.push(format!("{name} {v}"));
            }
        }
        for (name, a) in ETS_ARRAYS.iter().zip(&self.arrays) {
            let Some(a) = a else { continue };
            let vals: Vec<String> = a
                .iter()
                .map(|v| {
                    if name.ends_with("tsa") {
                        TSA_NAMES
                            .iter()
                            .find(|(t, _)| t == v)
                            .map_or_else(|| v.to_string(), |(_, n)| (*n).to_string())
                    } else {
                        v.to_string()
                    }
                })
                .collect();
            words.push(format!("{name} {}", vals.join(" ")));
        }
        f.write_str(&words.join(" "))
    }
}

/// Where a profile's `qos:` classes go (`qos: {offload: ...}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QosOffload {
    /// Hardware ETS through DCB where the driver has it, else the software qdisc.
    #[default]
    Auto,
    /// Hardware ETS only: where the driver has no DCB the plan says n/a, nothing else is set.
    Dcb,
    /// The software root qdisc only (`ets` or `mqprio`), DCB left alone.
    Software,
}

impl QosOffload {
    /// Parses the profile word.
    pub fn parse(w: &str) -> Option<Self> {
        match w {
            "auto" => Some(Self::Auto),
            "dcb" => Some(Self::Dcb),
            "software" => Some(Self::Software),
            _ => None,
        }
    }
}

/// The hardware ETS for a profile's classes, on a device with `ets_cap` traffic classes (0:
/// not reported, taken as 8).
///
/// Class `i` of `n` becomes traffic class `n - 1 - i`: among strict traffic classes 802.1Qaz
/// serves the highest number first, as `sch_ets` serves its first band first, so the order
/// of the classes keeps its meaning, and the last class (where unnamed priorities go) is
/// traffic class 0. Shares become `tc-bw`, strict classes `tc-tsa strict`; traffic classes
/// no class uses get `ets` with 0% (or `strict` when no class has a share, so that the
/// bandwidth adds up as 802.1Q asks). Only priorities 0 to 7 exist on the wire (802.1p); a
/// class's priorities 8 to 15 are socket priorities of the software qdisc only.
pub fn ets_from_classes(
    classes: &[(Vec<u8>, Option<u32>, bool)],
    ets_cap: u8,
) -> Result<EtsSpec, String> {
    let n = classes.len();
    let cap = if ets_cap == 0 {
        MAX_TCS
    } else {
        usize::from(ets_cap).min(MAX_TCS)
    };
    if n == 0 {
        return Err("no classes".into());
    }
    if n > cap {
        return Err(format!(
            "{n} classes, the device has {cap} hardware traffic classes"
        ));
    }
    let any_share = classes.iter().any(|c| c.1.is_some());
    let mut bw = [0u8; MAX_TCS];
    let mut tsa = [if any_share { TSA_ETS } else { TSA_STRICT }; MAX_TCS];
    for (i, (_, share, strict)) in classes.iter().enumerate() {
        let tc = n - 1 - i;
        if *strict {
            tsa[tc] = TSA_STRICT;
        } else {
            tsa[tc] = TSA_ETS;
            bw[tc] = share
                .and_then(|s| u8::try_from(s).ok())
                .filter(|s| *s <= 100)
                .ok_or_else(|| format!("classes[{i}]: a share of 1 to 100 percent"))?;
        }
    }
    let mut prio_tc = [0u8; MAX_TCS];
    for (p, slot) in prio_tc.iter_mut().enumerate() {
        let i = classes
            .iter()
            .position(|c| c.0.contains(&(p as u8)))
            .unwrap_or(n - 1);
        *slot = (n - 1 - i) as u8;
    }
    let mut s = EtsSpec::default();
    s.arrays[EtsSpec::TC_BW] = Some(bw);
    s.arrays[EtsSpec::TC_TSA] = Some(tsa);
    s.arrays[EtsSpec::PRIO_TC] = Some(prio_tc);
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pfc_text_round_trips() {
        assert_eq!(pfc_text(0x08), "3");
        assert_eq!(pfc_text(0x18), "3 4");
        assert_eq!(pfc_text(0), "none");
        assert_eq!(parse_pfc_text("3 4"), Ok(0x18));
        assert_eq!(parse_pfc_text("4,3"), Ok(0x18));
        assert_eq!(parse_pfc_text("none"), Ok(0));
        assert!(parse_pfc_text("8").is_err());
        assert!(parse_pfc_text("").is_err());
    }

    #[test]
    fn trust_text_uses_the_dcb_apptrust_words() {
        assert_eq!(trust_text(&[APP_SEL_DSCP, APP_SEL_PCP]), "dscp pcp");
        assert_eq!(trust_text(&[]), "none");
        assert_eq!(parse_trust_text("dscp, pcp"), Ok(vec![5, 255]));
        assert_eq!(parse_trust_text("none"), Ok(vec![]));
        assert!(parse_trust_text("dscp dscp").is_err());
        assert!(parse_trust_text("tos").expect_err("bad").contains("dscp"));
        for (s, n) in SELECTORS {
            assert_eq!(parse_selector(n), Some(*s));
            assert_eq!(selector_name(*s), *n);
        }
    }

    #[test]
    fn ets_spec_round_trips_and_compares_only_what_it_names() {
        let dev = IeeeEts {
            willing: 1,
            ets_cap: 8,
            cbs: 0,
            tc_tx_bw: vec![12, 13, 12, 13, 12, 13, 12, 13],
            tc_rx_bw: vec![0; 8],
            tc_tsa: vec![TSA_ETS; 8],
            prio_tc: vec![1, 0, 2, 3, 4, 5, 6, 7],
            tc_reco_bw: vec![0; 8],
            tc_reco_tsa: vec![0; 8],
            reco_prio_tc: vec![0; 8],
        };
        let full = EtsSpec::from_ets(&dev);
        let text = full.to_string();
        assert!(
            text.starts_with("willing 1 ets-cap 8 cbs 0 tc-bw 12 13 "),
            "{text}"
        );
        assert!(text.contains("tc-tsa ets ets ets ets ets ets ets ets prio-tc 1 0 2 3"));
        assert_eq!(EtsSpec::parse(&text), Ok(full.clone()));
        // Written back whole, it is the device's struct exactly.
        assert_eq!(full.apply_to(&IeeeEts::default()), dev);

        // Three classes: CNP strict, RoCE 50%, the rest 50%.
        let want = ets_from_classes(
            &[
                (vec![6], None, true),
                (vec![3], Some(50), false),
                (vec![0], Some(50), false),
            ],
            8,
        )
        .expect("fits");
        assert_eq!(
            want.to_string(),
            "tc-bw 50 50 0 0 0 0 0 0 tc-tsa ets ets strict ets ets ets ets ets \
             prio-tc 0 0 0 1 0 0 2 0"
        );
        assert!(!full.satisfies(&want));
        let written = want.apply_to(&dev);
        assert_eq!(written.willing, 1, "fields the profile does not name stay");
        assert_eq!(EtsSpec::check_bandwidth(&written), Ok(()));
        assert!(EtsSpec::from_ets(&written).satisfies(&want));
        // Too many classes for the device, and bad text.
        let nine: Vec<_> = (0..9).map(|p| (vec![p], None, true)).collect();
        assert!(ets_from_classes(&nine, 8)
            .expect_err("9")
            .contains("8 hardware"));
        assert!(ets_from_classes(&nine[..4], 3).is_err());
        assert!(EtsSpec::parse("tc-bw 1 2 3").is_err());
        assert!(EtsSpec::parse("tc-bw 101 0 0 0 0 0 0 0").is_err());
        assert!(EtsSpec::parse("prio-tc 8 0 0 0 0 0 0 0").is_err());
        assert!(EtsSpec::parse("tc-tsa ets ets ets ets ets ets ets fast").is_err());
        assert!(EtsSpec::parse("willing 1 willing 0").is_err());
        // All strict: bandwidth 0 is fine, otherwise it must add up to 100.
        let strict =
            ets_from_classes(&[(vec![1], None, true), (vec![0], None, true)], 8).expect("strict");
        assert_eq!(EtsSpec::check_bandwidth(&strict.apply_to(&dev)), Ok(()));
        let mut bad = written;
        bad.tc_tx_bw[0] = 10;
        assert!(EtsSpec::check_bandwidth(&bad).is_err());
    }

    #[test]
    fn app_priorities_collect_every_entry_of_a_protocol() {
        let d = DcbState {
            apps: vec![
                DcbApp {
                    selector: APP_SEL_DSCP,
                    priority: 3,
                    protocol: 26,
                },
                DcbApp {
                    selector: APP_SEL_DSCP,
                    priority: 2,
                    protocol: 26,
                },
                DcbApp {
                    selector: APP_SEL_DGRAM,
                    priority: 5,
                    protocol: 26,
                },
            ],
            ..DcbState::default()
        };
        assert_eq!(pfc_text(d.app_priorities(APP_SEL_DSCP, 26)), "2 3");
        assert_eq!(d.app_priorities(APP_SEL_DSCP, 48), 0);
    }
}
