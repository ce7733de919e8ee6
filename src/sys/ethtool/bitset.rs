//! Ethtool netlink bitsets: parsing both reply forms and building the verbose request form.
//!
//! Layout and semantics follow the "Bit sets" section of
//! Documentation/networking/ethtool-netlink.rst: a nested attribute either in compact form
//! (`SIZE` + `VALUE` [+ `MASK`] as arrays of host-order u32 words) or bit by bit (`BITS` with
//! one `BITS_BIT` nest per bit carrying `INDEX`, `NAME` and a `VALUE` flag). With `NOMASK` the
//! set is a plain list of set bits; without it, the listed bits (or `MASK`) are the valid
//! ones and `VALUE` tells which of them are set.

use crate::sys::nl::{parse_u32, AttrBuf, Attrs};

use super::abi::{
    A_BITSET_BITS, A_BITSET_BITS_BIT, A_BITSET_BIT_INDEX, A_BITSET_BIT_NAME, A_BITSET_BIT_VALUE,
    A_BITSET_MASK, A_BITSET_NOMASK, A_BITSET_SIZE, A_BITSET_VALUE,
};

/// One bit a bitset lists: a valid bit (value/mask form) or a set bit (`NOMASK` form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bit {
    /// Bit index.
    pub index: u32,
    /// Name, when the kernel sent the verbose form.
    pub name: Option<String>,
    /// Whether the bit is set.
    pub value: bool,
}

/// A parsed bitset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bitset {
    /// `ETHTOOL_A_BITSET_SIZE`, 0 when absent (it is optional in the verbose form).
    pub size: u32,
    /// `ETHTOOL_A_BITSET_NOMASK`: a single bitmap rather than a value/mask pair.
    pub nomask: bool,
    /// Listed bits, in index order for the compact form and kernel order otherwise.
    pub bits: Vec<Bit>,
}

impl Bitset {
    /// Parses a bitset attribute's payload, in either form.
    pub fn parse(data: &[u8]) -> Self {
        let a = Attrs::new(data);
        let size = a.u32(A_BITSET_SIZE).unwrap_or(0);
        let nomask = a.get(A_BITSET_NOMASK).is_some();
        let mut bits = Vec::new();
        if let Some(list) = a.nested(A_BITSET_BITS) {
            for (t, bit) in list {
                if t != A_BITSET_BITS_BIT {
                    continue;
                }
                let b = Attrs::new(bit);
                let Some(index) = b.u32(A_BITSET_BIT_INDEX) else {
                    continue;
                };
                bits.push(Bit {
                    index,
                    name: b.str(A_BITSET_BIT_NAME),
                    // In the NOMASK form every listed bit is set and VALUE is not used.
                    value: nomask || b.get(A_BITSET_BIT_VALUE).is_some(),
                });
            }
        } else if let Some(value) = a.get(A_BITSET_VALUE) {
            let mask = a.get(A_BITSET_MASK);
            // Bits past both the VALUE and the MASK words are clear and unlisted: a SIZE
            // larger than the data (a reply can claim 2^32 bits) costs nothing.
            let words = value.len().max(mask.map_or(0, <[u8]>::len));
            let n = size.min(u32::try_from(words.saturating_mul(8)).unwrap_or(u32::MAX));
            for index in 0..n {
                let set = word_bit(value, index);
                let listed = if nomask {
                    set
                } else {
                    mask.is_some_and(|m| word_bit(m, index))
                };
                if listed {
                    bits.push(Bit {
                        index,
                        name: None,
                        value: set,
                    });
                }
            }
        }
        Self { size, nomask, bits }
    }

    /// Whether each bit below `len` is set, by index (one pass, for callers that ask about
    /// every bit).
    pub fn flags(&self, len: usize) -> Vec<bool> {
        let mut v = vec![false; len];
        for b in self.bits.iter().filter(|b| b.value) {
            if let Some(f) = v.get_mut(b.index as usize) {
                *f = true;
            }
        }
        v
    }

    /// Names of all listed bits, in the order listed.
    pub fn listed_names(&self, names: &[String]) -> Vec<String> {
        self.bits
            .iter()
            .filter_map(|b| bit_name(b, names))
            .collect()
    }

    /// Names of the listed bits whose value matches `value`, taking the name from the kernel's
    /// verbose form or else from `names` (the bitset's string set) by index.
    pub fn names(&self, value: bool, names: &[String]) -> Vec<String> {
        self.bits
            .iter()
            .filter(|b| b.value == value)
            .filter_map(|b| bit_name(b, names))
            .collect()
    }
}

/// A bit's name from the verbose form, or else from its string set by index.
fn bit_name(b: &Bit, names: &[String]) -> Option<String> {
    b.name
        .clone()
        .or_else(|| names.get(b.index as usize).cloned())
        .filter(|n| !n.is_empty())
}

/// Bit `index` of an array of host-order u32 words.
fn word_bit(words: &[u8], index: u32) -> bool {
    let at = (index / 32) as usize * 4;
    words
        .get(at..at + 4)
        .and_then(parse_u32)
        .is_some_and(|w| w & (1 << (index % 32)) != 0)
}

/// Appends a verbose bitset naming its bits: with `nomask` a plain list of the bits to set
/// (the kernel clears the rest), otherwise a value/mask change of only the listed bits.
pub fn put_named(buf: &mut AttrBuf, attr: u16, bits: &[(&str, bool)], nomask: bool) {
    buf.begin(attr);
    if nomask {
        buf.flag(A_BITSET_NOMASK);
    }
    buf.begin(A_BITSET_BITS);
    for &(name, value) in bits {
        if nomask && !value {
            continue;
        }
        buf.begin(A_BITSET_BITS_BIT).str(A_BITSET_BIT_NAME, name);
        if value && !nomask {
            buf.flag(A_BITSET_BIT_VALUE);
        }
        buf.end();
    }
    buf.end().end();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verbose(nomask: bool, bits: &[(u32, &str, bool)]) -> Vec<u8> {
        let mut b = AttrBuf::new();
        if nomask {
            b.flag(A_BITSET_NOMASK);
        }
        b.u32(A_BITSET_SIZE, 64).begin(A_BITSET_BITS);
        for &(i, n, v) in bits {
            b.begin(A_BITSET_BITS_BIT)
                .u32(A_BITSET_BIT_INDEX, i)
                .str(A_BITSET_BIT_NAME, n);
            if v {
                b.flag(A_BITSET_BIT_VALUE);
            }
            b.end();
        }
        b.end();
        b.bytes().to_vec()
    }

    #[test]
    fn verbose_value_mask_lists_valid_bits_and_their_values() {
        let data = verbose(false, &[(3, "a", true), (40, "b", false)]);
        let s = Bitset::parse(&data);
        assert!(!s.nomask);
        assert_eq!(s.size, 64);
        let f = s.flags(41);
        assert!(f[3] && !f[40] && !f[4]);
        assert_eq!(s.listed_names(&[]), ["a", "b"]);
        assert_eq!(s.names(true, &[]), ["a"]);
        assert_eq!(s.names(false, &[]), ["b"]);
    }

    #[test]
    fn a_size_larger_than_the_words_costs_nothing() {
        // A reply claiming 2^32 - 1 bits with one word of value: the bits past the word are
        // clear, and parsing does not walk four billion indexes.
        let mut b = AttrBuf::new();
        b.flag(A_BITSET_NOMASK)
            .u32(A_BITSET_SIZE, u32::MAX)
            .u32(A_BITSET_VALUE, 0b1010);
        let s = Bitset::parse(b.bytes());
        assert_eq!(s.size, u32::MAX);
        let set: Vec<u32> = s.bits.iter().filter(|b| b.value).map(|b| b.index).collect();
        assert_eq!(set, [1, 3]);
    }

    #[test]
    fn verbose_nomask_bits_are_set_without_value_flags() {
        let data = verbose(true, &[(1, "x", false), (2, "y", false)]);
        let s = Bitset::parse(&data);
        let f = s.flags(3);
        assert!(s.nomask && f[1] && f[2] && !f[0]);
    }

    #[test]
    fn compact_form_uses_words_and_names_from_the_string_set() {
        let mut b = AttrBuf::new();
        let value: Vec<u8> = [0b1010u32, 1]
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect();
        let mask: Vec<u8> = [0b1110u32, 1]
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect();
        b.u32(A_BITSET_SIZE, 33)
            .put(A_BITSET_VALUE, &value)
            .put(A_BITSET_MASK, &mask);
        let s = Bitset::parse(b.bytes());
        let listed: Vec<(u32, bool)> = s.bits.iter().map(|b| (b.index, b.value)).collect();
        assert_eq!(listed, [(1, true), (2, false), (3, true), (32, true)]);
        let names: Vec<String> = (0..40).map(|i| format!("n{i}")).collect();
        assert_eq!(s.names(true, &names), ["n1", "n3", "n32"]);
    }

    #[test]
    fn named_request_bitset_round_trips() {
        let mut b = AttrBuf::new();
        put_named(&mut b, 7, &[("rx-gro", true), ("rx-lro", false)], false);
        let outer = Attrs::new(b.bytes()).get(7).expect("bitset");
        let s = Bitset::parse(outer);
        assert!(!s.nomask);
        // Requests name bits; there is no index to parse, so look at names directly.
        let names: Vec<(Option<String>, bool)> = Attrs::new(outer)
            .nested(A_BITSET_BITS)
            .expect("bits")
            .map(|(_, bit)| {
                let a = Attrs::new(bit);
                (
                    a.str(A_BITSET_BIT_NAME),
                    a.get(A_BITSET_BIT_VALUE).is_some(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (Some("rx-gro".into()), true),
                (Some("rx-lro".into()), false)
            ]
        );

        let mut b = AttrBuf::new();
        put_named(&mut b, 7, &[("RS", true), ("BASER", false)], true);
        let outer = Attrs::new(b.bytes()).get(7).expect("bitset");
        let a = Attrs::new(outer);
        assert!(a.get(A_BITSET_NOMASK).is_some());
        assert_eq!(a.nested(A_BITSET_BITS).expect("bits").count(), 1);
    }
}
