//! CPU sets in the kernel's two text forms: lists (`0-3,8`) and masks (`ff,00000001`).
//!
//! Masks are hexadecimal, most significant group first, in comma-separated 32-bit groups for any
//! CPU count (see `bitmap_parse` / `cpumask_parse` in lib/bitmap.c and
//! Documentation/networking/scaling.rst for `rps_cpus` and `xps_cpus`).

use std::fmt::{self, Write as _};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of CPU numbers.
///
/// Kept as sorted, disjoint, non-adjacent inclusive ranges: `0-8191` costs one range, not 8192
/// numbers, so a set read from a file never takes more memory than its text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CpuSet {
    ranges: Vec<(u32, u32)>,
}

impl PartialOrd for CpuSet {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Ordered like the ascending lists of CPUs.
impl Ord for CpuSet {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

/// Why a CPU list or mask could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CPU {kind} {text:?}: {why}")]
pub struct CpuSetError {
    kind: &'static str,
    text: String,
    why: String,
}

/// Highest CPU number accepted by the parsers (the kernel's `NR_CPUS` maximum is 8192).
pub const MAX_CPU: u32 = 8191;

/// Longest CPU list or mask text accepted by the parsers.
const MAX_TEXT: usize = crate::input::MAX_CPU_TEXT;
const TOO_LONG: &str = "longer than the 64 KiB limit for CPU lists and masks";

/// Sorts and merges inclusive ranges into disjoint, non-adjacent ones.
fn fold(ranges: &mut Vec<(u32, u32)>) {
    ranges.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges.iter() {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    *ranges = out;
}

/// One bit per possible CPU (1 KiB), for parsing a list: a part costs a word per 64 CPUs it
/// covers (a pattern one range per group), and repeated or overlapping parts cost no memory.
struct Bitmap([u64; (MAX_CPU as usize + 1) / 64]);

impl Bitmap {
    fn new() -> Self {
        Self([0; (MAX_CPU as usize + 1) / 64])
    }

    /// Sets the CPUs `lo..=hi` (`hi` at most `MAX_CPU`), a word at a time.
    fn set(&mut self, lo: u32, hi: u32) {
        let (mut c, end) = (lo as usize, hi as usize + 1);
        while c < end {
            let (w, b) = (c / 64, c % 64);
            let n = (64 - b).min(end - c);
            self.0[w] |= if n == 64 {
                u64::MAX
            } else {
                ((1u64 << n) - 1) << b
            };
            c += n;
        }
    }

    /// The runs of set bits as inclusive ranges.
    fn ranges(&self) -> Vec<(u32, u32)> {
        let mut out: Vec<(u32, u32)> = Vec::new();
        for (w, &word) in self.0.iter().enumerate() {
            let mut x = word;
            let base = w as u32 * 64;
            while x != 0 {
                let lo = x.trailing_zeros();
                let run = (x >> lo).trailing_ones();
                let (a, b) = (base + lo, base + lo + run - 1);
                match out.last_mut() {
                    Some(last) if last.1 + 1 == a => last.1 = b,
                    _ => out.push((a, b)),
                }
                x = if lo + run >= 64 {
                    0
                } else {
                    x & !(((1u64 << run) - 1) << lo)
                };
            }
        }
        out
    }
}

impl CpuSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set from any CPU numbers.
    pub fn from_cpus(cpus: impl IntoIterator<Item = u32>) -> Self {
        let mut ranges: Vec<(u32, u32)> = cpus.into_iter().map(|c| (c, c)).collect();
        fold(&mut ranges);
        Self { ranges }
    }

    /// Parses a CPU list like `0-3,8,10-11` (whitespace around it ignored; empty = no CPU).
    ///
    /// Also accepts the kernel's group form `a-b:used/group` (the first `used` CPUs of every
    /// `group` from `a` to `b`; Documentation/admin-guide/kernel-parameters.rst, "cpu lists")
    /// and the stride shorthand `a-b:step`, which is `a-b:1/step`. As in the kernel's
    /// `bitmap_parselist`, a pattern needs a range: `3:2` is rejected.
    pub fn parse_list(text: &str) -> Result<Self, CpuSetError> {
        let err = |why: &str| CpuSetError {
            kind: "list",
            text: crate::input::excerpt(text),
            why: why.to_string(),
        };
        if text.len() > MAX_TEXT {
            return Err(err(TOO_LONG));
        }
        let mut bits = Bitmap::new();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(Self::new());
        }
        for part in trimmed.split(',') {
            let part = part.trim();
            let (range, pattern) = match part.split_once(':') {
                Some((r, p)) => (r, Some(p)),
                None => (part, None),
            };
            let (lo, hi) = match range.split_once('-') {
                Some((a, b)) => (
                    parse_cpu(a).ok_or_else(|| err("bad number"))?,
                    parse_cpu(b).ok_or_else(|| err("bad number"))?,
                ),
                None if pattern.is_some() => return Err(err("a :pattern needs a range")),
                None => {
                    let c = parse_cpu(range).ok_or_else(|| err("bad number"))?;
                    (c, c)
                }
            };
            if lo > hi {
                return Err(err("range end below start"));
            }
            if hi > MAX_CPU {
                return Err(err("CPU number above 8191"));
            }
            let (used, group) = match pattern {
                None => (1, 1),
                Some(p) => match p.split_once('/') {
                    Some((u, g)) => (
                        parse_cpu(u).ok_or_else(|| err("bad used size"))?,
                        parse_cpu(g).ok_or_else(|| err("bad group size"))?,
                    ),
                    None => (1, parse_cpu(p).ok_or_else(|| err("bad stride"))?),
                },
            };
            if group == 0 {
                return Err(err("group size 0"));
            }
            if used > group {
                return Err(err("used size above group size"));
            }
            if used == group {
                bits.set(lo, hi);
            } else if used > 0 {
                for start in (lo..=hi).step_by(group as usize) {
                    bits.set(start, (start + used - 1).min(hi));
                }
            }
        }
        Ok(Self {
            ranges: bits.ranges(),
        })
    }

    /// Parses a hexadecimal mask, in 32-bit comma groups or as one run of digits, with an
    /// optional `0x` prefix: `ff`, `0x3f`, `00000000,00000001`.
    pub fn parse_mask(text: &str) -> Result<Self, CpuSetError> {
        let err = |why: &str| CpuSetError {
            kind: "mask",
            text: crate::input::excerpt(text),
            why: why.to_string(),
        };
        if text.len() > MAX_TEXT {
            return Err(err(TOO_LONG));
        }
        let t = text.trim();
        let t = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t);
        if t.is_empty() {
            return Err(err("empty"));
        }
        let groups: Vec<&str> = t.split(',').collect();
        if groups.len() > 1 && groups.iter().any(|g| g.is_empty() || g.len() > 8) {
            return Err(err("comma groups must have 1 to 8 hex digits"));
        }
        // Walk the digits from the least significant end; each hex digit is 4 CPUs.
        let digits: String = groups.concat();
        let mut cpus = Vec::new();
        let mut base = 0u32;
        // With groups, each group covers exactly 32 CPUs even when written short ("1,0").
        let chunks: Vec<(u32, &str)> = if groups.len() > 1 {
            groups
                .iter()
                .rev()
                .enumerate()
                .map(|(i, g)| ((i as u32).saturating_mul(32), *g))
                .collect()
        } else {
            vec![(0, digits.as_str())]
        };
        for (start, chunk) in chunks {
            base = start;
            for c in chunk.chars().rev() {
                let v = c.to_digit(16).ok_or_else(|| err("not a hex digit"))?;
                for bit in 0..4 {
                    if v & (1 << bit) != 0 {
                        let cpu = base.saturating_add(bit);
                        if cpu > MAX_CPU {
                            return Err(err("CPU number above 8191"));
                        }
                        cpus.push(cpu);
                    }
                }
                // Saturating: a long run of zero digits must not overflow.
                base = base.saturating_add(4);
            }
        }
        let _ = base;
        Ok(Self::from_cpus(cpus))
    }

    /// Parses either form: a mask when it starts with `0x`, otherwise a list.
    pub fn parse_any(text: &str) -> Result<Self, CpuSetError> {
        let t = text.trim();
        if t.starts_with("0x") || t.starts_with("0X") {
            Self::parse_mask(t)
        } else {
            Self::parse_list(t)
        }
    }

    /// The list form, ranges folded: `0-3,8`. Empty string for the empty set.
    pub fn to_list(&self) -> String {
        let mut out = String::new();
        for &(start, end) in &self.ranges {
            if !out.is_empty() {
                out.push(',');
            }
            if start == end {
                let _ = write!(out, "{start}");
            } else {
                let _ = write!(out, "{start}-{end}");
            }
        }
        out
    }

    /// The mask form the kernel writes and accepts: 32-bit groups of 8 hex digits, most
    /// significant first, enough groups to cover `nr_cpus` CPUs (at least one group), e.g.
    /// `00000000,00000001` for CPU 0 on a 64-CPU node.
    pub fn to_mask(&self, nr_cpus: u32) -> String {
        let top = self
            .ranges
            .last()
            .map_or(0, |r| r.1 + 1)
            .max(nr_cpus)
            .max(1);
        let groups = top.div_ceil(32) as usize;
        let mut words = vec![0u32; groups];
        for c in self.iter() {
            words[(c / 32) as usize] |= 1 << (c % 32);
        }
        words
            .iter()
            .rev()
            .map(|w| format!("{w:08x}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// True when the CPU is in the set.
    pub fn contains(&self, cpu: u32) -> bool {
        let i = self.ranges.partition_point(|r| r.1 < cpu);
        self.ranges.get(i).is_some_and(|r| r.0 <= cpu)
    }

    /// True when every CPU of `self` is in `other`.
    pub fn is_subset(&self, other: &CpuSet) -> bool {
        self.ranges.iter().all(|&(lo, hi)| {
            let i = other.ranges.partition_point(|r| r.1 < lo);
            other.ranges.get(i).is_some_and(|r| r.0 <= lo && hi <= r.1)
        })
    }

    /// True when the two sets share a CPU.
    pub fn intersects(&self, other: &CpuSet) -> bool {
        self.ranges.iter().any(|&(lo, hi)| {
            let i = other.ranges.partition_point(|r| r.1 < lo);
            other.ranges.get(i).is_some_and(|r| r.0 <= hi)
        })
    }

    /// Number of CPUs.
    pub fn len(&self) -> usize {
        self.ranges
            .iter()
            .map(|&(lo, hi)| (hi - lo) as usize + 1)
            .sum()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The CPUs, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.ranges.iter().flat_map(|&(lo, hi)| lo..=hi)
    }
}

fn parse_cpu(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_list())
    }
}

impl Serialize for CpuSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_list())
    }
}

impl<'de> Deserialize<'de> for CpuSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CpuSet::parse_list(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn list(s: &str) -> Vec<u32> {
        CpuSet::parse_list(s)
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .collect()
    }

    fn mask(s: &str) -> Vec<u32> {
        CpuSet::parse_mask(s)
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .collect()
    }

    #[test]
    fn list_forms() {
        assert_eq!(list(""), Vec::<u32>::new());
        assert_eq!(list(" \n"), Vec::<u32>::new());
        assert_eq!(list("0"), [0]);
        assert_eq!(list("0-3,8"), [0, 1, 2, 3, 8]);
        assert_eq!(list("8,0-3"), [0, 1, 2, 3, 8]);
        assert_eq!(list("0-3,2-5"), [0, 1, 2, 3, 4, 5]);
        assert_eq!(list("4-7,12-15\n"), [4, 5, 6, 7, 12, 13, 14, 15]);
        assert_eq!(list("0-10:2"), [0, 2, 4, 6, 8, 10]);
        assert_eq!(list("0-9:3"), [0, 3, 6, 9]);
        assert_eq!(list("5-5"), [5]);
        assert_eq!(list("8191"), [8191]);
        // The kernel's used/group form: the first 2 of every 8 from 0 to 15.
        assert_eq!(list("0-15:2/8"), [0, 1, 8, 9]);
        assert_eq!(
            list("100-200:2/25"),
            [100, 101, 125, 126, 150, 151, 175, 176, 200]
        );
        assert_eq!(list("0-3:0/4"), Vec::<u32>::new());
    }

    #[test]
    fn bad_lists_are_rejected() {
        for bad in [
            "a",
            "-1",
            "1-",
            "-",
            "3-1",
            "0,,1",
            "1,",
            ",1",
            "0-10:0",
            "0-10:",
            "0-10:x",
            "0-10:3/2",
            "0-10:2/0",
            "0-10:1/",
            "3:2",
            "8192",
            "0-8192",
            "1 2",
            "0x3",
            "+1",
            "1-+3",
            "0-3:+2",
            "99999999999",
        ] {
            assert!(CpuSet::parse_list(bad).is_err(), "{bad:?} was accepted");
        }
        let e = CpuSet::parse_list("3-1").expect_err("bad");
        assert_eq!(
            e.to_string(),
            "invalid CPU list \"3-1\": range end below start"
        );
    }

    #[test]
    fn mask_forms() {
        assert_eq!(mask("00000000,00000001"), [0]);
        assert_eq!(mask("ff"), [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(mask("0x3f"), [0, 1, 2, 3, 4, 5]);
        assert_eq!(mask("0X10"), [4]);
        assert_eq!(mask("f000\n"), [12, 13, 14, 15]);
        assert_eq!(mask("00f0"), [4, 5, 6, 7]);
        assert_eq!(mask("0"), Vec::<u32>::new());
        // Short leading group as the kernel prints for 33 to 63 CPUs; groups are 32 CPUs each.
        assert_eq!(mask("1,00000000"), [32]);
        assert_eq!(mask("1,0"), [32]);
        assert_eq!(mask("80000000,00000000,00000000"), [95]);
        // One long run of digits without commas.
        assert_eq!(mask("100000000"), [32]);
        assert_eq!(mask("AbCd"), mask("abcd"));
    }

    #[test]
    fn bad_masks_are_rejected() {
        for bad in [
            "",
            "0x",
            "g",
            "1,,0",
            ",1",
            "1,",
            "123456789,0",
            "1 0",
            "-1",
            "0x0x1",
        ] {
            assert!(CpuSet::parse_mask(bad).is_err(), "{bad:?} was accepted");
        }
        // CPU 8192 is past the kernel's NR_CPUS limit.
        let too_high = format!("1{}", ",00000000".repeat(256));
        assert!(CpuSet::parse_mask(&too_high).is_err());
        // A long run of zeros is fine.
        assert_eq!(CpuSet::parse_mask(&"0".repeat(10_000)), Ok(CpuSet::new()));
    }

    #[test]
    fn mask_output() {
        let cpu0 = CpuSet::from_cpus([0]);
        assert_eq!(cpu0.to_mask(64), "00000000,00000001");
        assert_eq!(cpu0.to_mask(16), "00000001");
        assert_eq!(CpuSet::new().to_mask(0), "00000000");
        assert_eq!(CpuSet::from_cpus([63]).to_mask(8), "80000000,00000000");
        let all = CpuSet::parse_list("0-255").expect("list");
        assert_eq!(all.to_mask(256), ["ffffffff"; 8].join(","));
        assert_eq!(CpuSet::from_cpus([4, 5, 6, 7]).to_mask(16), "000000f0");
    }

    #[test]
    fn list_output_and_serde() {
        let s = CpuSet::from_cpus([8, 0, 3, 2, 1, 8, 10, 11]);
        assert_eq!(s.to_list(), "0-3,8,10-11");
        assert_eq!(s.to_string(), "0-3,8,10-11");
        assert_eq!(CpuSet::new().to_list(), "");
        let json = serde_json::to_string(&s).expect("json");
        assert_eq!(json, "\"0-3,8,10-11\"");
        assert_eq!(serde_json::from_str::<CpuSet>(&json).expect("back"), s);
        assert!(serde_json::from_str::<CpuSet>("\"3-1\"").is_err());
    }

    #[test]
    fn set_operations() {
        let node1 = CpuSet::parse_list("4-7,12-15").expect("list");
        assert!(CpuSet::from_cpus([5, 13]).is_subset(&node1));
        assert!(!CpuSet::from_cpus([0, 5]).is_subset(&node1));
        assert!(CpuSet::from_cpus([0, 5]).intersects(&node1));
        assert!(!CpuSet::from_cpus([0, 8]).intersects(&node1));
        assert!(node1.contains(12) && !node1.contains(8));
        assert_eq!(node1.len(), 8);
        assert_eq!(
            CpuSet::parse_any("0xf0").expect("mask"),
            CpuSet::parse_list("4-7").expect("list")
        );
        assert_eq!(CpuSet::parse_any("4-7").expect("list").len(), 4);
    }

    #[test]
    fn repeated_parts_cost_nothing_extra() {
        // 9000 copies of the whole range: one range kept, never 9000 x 8192 CPUs.
        let text = vec!["0-8191"; 9000].join(",");
        let s = CpuSet::parse_list(&text).expect("parse");
        assert_eq!(s.ranges, [(0, 8191)]);
        assert_eq!(s.len(), 8192);
        let text = vec!["0-8191:1/2"; 200].join(",");
        let s = CpuSet::parse_list(&text).expect("parse");
        assert_eq!(s.len(), 4096);
        assert_eq!(s.ranges.len(), 4096);
        assert!(s.contains(8190) && !s.contains(8191));
    }

    #[test]
    fn over_long_text_is_refused_naming_the_bound_without_quoting_it() {
        let text = vec!["0"; 40_000].join(",");
        let e = CpuSet::parse_list(&text).expect_err("too long").to_string();
        assert!(e.contains("64 KiB limit"), "{e}");
        assert!(e.len() < 200, "{e}");
        let e = CpuSet::parse_mask(&"f".repeat(70_000))
            .expect_err("too long")
            .to_string();
        assert!(e.contains("64 KiB limit"), "{e}");
    }

    #[test]
    fn order_is_that_of_the_cpu_lists() {
        let a = CpuSet::from_cpus([0, 1, 2]);
        let b = CpuSet::from_cpus([0, 2]);
        assert!(a < b);
        assert!(CpuSet::new() < a);
        assert!(a.is_subset(&CpuSet::from_cpus(0..8)) && b.is_subset(&a) && !a.is_subset(&b));
        assert!(!CpuSet::from_cpus([3, 9]).is_subset(&CpuSet::from_cpus(0..8)));
        assert!(CpuSet::from_cpus([3, 9]).intersects(&CpuSet::from_cpus(9..12)));
        assert!(!CpuSet::from_cpus([3, 9]).intersects(&CpuSet::from_cpus(4..9)));
    }

    fn cpus(max: u32) -> impl Strategy<Value = Vec<u32>> {
        proptest::collection::vec(0..max, 0..200)
    }

    proptest! {
        #[test]
        fn mask_round_trip_256(v in cpus(256)) {
            let set = CpuSet::from_cpus(v);
            let m = set.to_mask(256);
            prop_assert_eq!(m.len(), 8 * 9 - 1);
            prop_assert_eq!(m.split(',').count(), 8);
            let back = CpuSet::parse_mask(&m).expect("own mask");
            prop_assert_eq!(&back, &set);
            prop_assert_eq!(back.to_mask(256), m);
        }

        #[test]
        fn mask_round_trip_up_to_8192(v in cpus(8192), nr in 1u32..=8192) {
            let set = CpuSet::from_cpus(v);
            let m = set.to_mask(nr);
            prop_assert_eq!(CpuSet::parse_mask(&m).expect("own mask"), set);
        }

        #[test]
        fn mask_text_round_trip(words in proptest::collection::vec(any::<u32>(), 1..=16)) {
            // Any kernel-style mask of 8-digit groups comes back identical.
            let text = words.iter().map(|w| format!("{w:08x}")).collect::<Vec<_>>().join(",");
            let set = CpuSet::parse_mask(&text).expect("mask");
            let expected: u32 = words.iter().map(|w| w.count_ones()).sum();
            prop_assert_eq!(set.len(), expected as usize);
            prop_assert_eq!(set.to_mask(words.len() as u32 * 32), text);
        }

        #[test]
        fn list_round_trip(v in cpus(8192)) {
            let set = CpuSet::from_cpus(v);
            let l = set.to_list();
            let back = CpuSet::parse_list(&l).expect("own list");
            prop_assert_eq!(&back, &set);
            prop_assert_eq!(back.to_list(), l);
        }

        #[test]
        fn list_text_round_trip(ranges in proptest::collection::vec((0u32..300, 0u32..20), 1..20)) {
            // Disjoint, non-adjacent ranges written canonically read back identical.
            let mut text = Vec::new();
            let mut next = 0u32;
            for (gap, len) in ranges {
                let lo = next + gap + u32::from(!text.is_empty());
                let hi = lo + len;
                text.push(if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") });
                next = hi + 1;
            }
            let text = text.join(",");
            prop_assume!(next <= MAX_CPU);
            let set = CpuSet::parse_list(&text).expect("list");
            prop_assert_eq!(set.to_list(), text);
        }

        #[test]
        fn list_and_mask_agree(v in cpus(1024)) {
            let set = CpuSet::from_cpus(v);
            let via_mask = CpuSet::parse_mask(&set.to_mask(1024)).expect("mask");
            let via_list = CpuSet::parse_list(&set.to_list()).expect("list");
            prop_assert_eq!(via_mask, via_list);
        }

        #[test]
        fn parsers_never_panic(s in "[0-9a-fA-Fx,:/ -]{0,40}") {
            let _ = CpuSet::parse_list(&s);
            let _ = CpuSet::parse_mask(&s);
            let _ = CpuSet::parse_any(&s);
        }
    }
}
