//! CPU sets in the kernel's two text forms: lists (`0-3,8`) and masks (`ff,00000001`).
//!
//! Masks are hexadecimal, most significant group first, in comma-separated 32-bit groups for any
//! CPU count (see `bitmap_parse` / `cpumask_parse` in lib/bitmap.c and
//! Documentation/networking/scaling.rst for rps_cpus and xps_cpus).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of CPU numbers, kept sorted and without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CpuSet {
    cpus: Vec<u32>,
}

/// Why a CPU list or mask could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CPU {kind} {text:?}: {why}")]
pub struct CpuSetError {
    kind: &'static str,
    text: String,
    why: String,
}

/// Highest CPU number accepted by the parsers (the kernel's NR_CPUS maximum is 8192).
pub const MAX_CPU: u32 = 8191;

impl CpuSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set from any CPU numbers.
    pub fn from_cpus(cpus: impl IntoIterator<Item = u32>) -> Self {
        let mut cpus: Vec<u32> = cpus.into_iter().collect();
        cpus.sort_unstable();
        cpus.dedup();
        Self { cpus }
    }

    /// Parses a CPU list like `0-3,8,10-11` (whitespace around it ignored; empty = no CPU).
    /// Also accepts the kernel's stride form `0-10:2`.
    pub fn parse_list(text: &str) -> Result<Self, CpuSetError> {
        let err = |why: &str| CpuSetError {
            kind: "list",
            text: text.to_string(),
            why: why.to_string(),
        };
        let mut cpus = Vec::new();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(Self::new());
        }
        for part in trimmed.split(',') {
            let part = part.trim();
            let (range, stride) = match part.split_once(':') {
                Some((r, s)) => (r, s.parse::<u32>().map_err(|_| err("bad stride"))?),
                None => (part, 1),
            };
            if stride == 0 {
                return Err(err("stride 0"));
            }
            let (lo, hi) = match range.split_once('-') {
                Some((a, b)) => (parse_cpu(a).ok_or_else(|| err("bad number"))?, {
                    parse_cpu(b).ok_or_else(|| err("bad number"))?
                }),
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
            cpus.extend((lo..=hi).step_by(stride as usize));
        }
        Ok(Self::from_cpus(cpus))
    }

    /// Parses a hexadecimal mask, in 32-bit comma groups or as one run of digits, with an
    /// optional `0x` prefix: `ff`, `0x3f`, `00000000,00000001`.
    pub fn parse_mask(text: &str) -> Result<Self, CpuSetError> {
        let err = |why: &str| CpuSetError {
            kind: "mask",
            text: text.to_string(),
            why: why.to_string(),
        };
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
                .map(|(i, g)| (i as u32 * 32, *g))
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
                        let cpu = base + bit;
                        if cpu > MAX_CPU {
                            return Err(err("CPU number above 8191"));
                        }
                        cpus.push(cpu);
                    }
                }
                base += 4;
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
        let mut i = 0;
        while i < self.cpus.len() {
            let start = self.cpus[i];
            let mut end = start;
            while i + 1 < self.cpus.len() && self.cpus[i + 1] == end + 1 {
                i += 1;
                end = self.cpus[i];
            }
            if !out.is_empty() {
                out.push(',');
            }
            if start == end {
                out.push_str(&start.to_string());
            } else {
                out.push_str(&format!("{start}-{end}"));
            }
            i += 1;
        }
        out
    }

    /// The mask form the kernel writes and accepts: 32-bit groups of 8 hex digits, most
    /// significant first, enough groups to cover `nr_cpus` CPUs (at least one group), e.g.
    /// `00000000,00000001` for CPU 0 on a 64-CPU node.
    pub fn to_mask(&self, nr_cpus: u32) -> String {
        let top = self.cpus.last().map_or(0, |c| c + 1).max(nr_cpus).max(1);
        let groups = top.div_ceil(32) as usize;
        let mut words = vec![0u32; groups];
        for &c in &self.cpus {
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
        self.cpus.binary_search(&cpu).is_ok()
    }

    /// True when every CPU of `self` is in `other`.
    pub fn is_subset(&self, other: &CpuSet) -> bool {
        self.cpus.iter().all(|c| other.contains(*c))
    }

    /// True when the two sets share a CPU.
    pub fn intersects(&self, other: &CpuSet) -> bool {
        self.cpus.iter().any(|c| other.contains(*c))
    }

    /// Number of CPUs.
    pub fn len(&self) -> usize {
        self.cpus.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.cpus.is_empty()
    }

    /// The CPUs, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.cpus.iter().copied()
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
