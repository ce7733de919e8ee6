//! A small multiplicative hasher for the flow table (the `FxHash` of rustc).
//!
//! The flow table is looked up once per packet; `SipHash` (std's default) costs more than the
//! rest of the per-packet work. Flow keys come from capture files, not from an adversary
//! sitting on the hash table, so `HashDoS` resistance is not needed here.

use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x517c_c1b7_2722_0a95;

/// Word-at-a-time multiplicative hasher.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The table takes its control bits from the top of the hash and its bucket index from
        // the bottom; one more multiply and a fold spread the last word into both.
        let h = self.hash.wrapping_mul(K);
        h ^ (h >> 29)
    }
}

/// `BuildHasher` for [`FxHasher`].
pub type FxBuild = BuildHasherDefault<FxHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn different_keys_hash_apart_and_equal_keys_alike() {
        let b = FxBuild::default();
        let h = |v: &(u64, u64)| b.hash_one(v);
        assert_eq!(h(&(1, 2)), h(&(1, 2)));
        assert_ne!(h(&(1, 2)), h(&(2, 1)));
        // Low bits differ for keys differing in one low bit (bucket index spread).
        let lows: std::collections::HashSet<u64> = (0..64u64).map(|i| h(&(i, 0)) & 63).collect();
        assert!(lows.len() > 32, "poor spread: {}", lows.len());
    }
}
