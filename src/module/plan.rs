//! Which module EEPROM pages to read, decided from what has been read so far.
//!
//! `ETHTOOL_MSG_MODULE_EEPROM_GET` (Documentation/networking/ethtool-netlink.rst) reads at
//! most 128 bytes at once, never across offset 128, and pages other than 0 (and banks other
//! than 0) only in the upper half (offsets 128-255); the lower half is the same for every
//! page. The plan starts with the lower half at I2C address 0x50, whose identifier byte
//! names the standard, and adds what that standard keeps elsewhere:
//! - SFF-8472: A2h's lower half (0x51, thresholds, calibration and monitors) when A0h byte
//!   92 advertises diagnostics without an address change;
//! - SFF-8636: upper page 00h, and upper page 03h (thresholds) unless memory is flat;
//! - CMIS: upper page 00h and, unless memory is flat, pages 01h (advertising), 02h
//!   (thresholds) and 11h of bank 0 (lane monitors of lanes 1-8).

use crate::model::module::{ModuleEeprom, RawPage, Standard, I2C_DIAG, I2C_ID};

use super::{cmis, sff8472, sff8636, standard_of};

/// The most bytes one read returns, and the size of a half page.
pub const HALF_PAGE: u8 = 128;

/// One read request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRead {
    /// I2C address.
    pub i2c: u8,
    /// Page.
    pub page: u8,
    /// Bank.
    pub bank: u8,
    /// First byte: 0 (lower half) or 128 (upper half).
    pub offset: u8,
    /// Bytes to read, 1-128.
    pub length: u8,
}

impl PageRead {
    /// The lower half at `i2c`.
    pub const fn lower(i2c: u8) -> Self {
        Self {
            i2c,
            page: 0,
            bank: 0,
            offset: 0,
            length: HALF_PAGE,
        }
    }

    /// The upper half of `page` in `bank` at 0x50.
    pub const fn upper(page: u8, bank: u8) -> Self {
        Self {
            i2c: I2C_ID,
            page,
            bank,
            offset: HALF_PAGE,
            length: HALF_PAGE,
        }
    }

    /// True when the kernel accepts it: 1-128 bytes, within one half, and a page or bank
    /// other than 0 only in the upper half.
    pub fn is_valid(&self) -> bool {
        let end = u16::from(self.offset) + u16::from(self.length);
        let limit = if self.offset < HALF_PAGE { 128 } else { 256 };
        self.length >= 1
            && self.length <= HALF_PAGE
            && end <= limit
            && (self.offset >= HALF_PAGE || (self.page == 0 && self.bank == 0))
            && self.i2c <= 0x7f
    }

    /// True when `p` holds the bytes of this read.
    fn done_by(self, p: &RawPage) -> bool {
        p.i2c == self.i2c && p.page == self.page && p.bank == self.bank && p.offset == self.offset
    }
}

/// Every read the standard wants, given the bytes read so far.
fn wanted(have: &ModuleEeprom) -> Vec<PageRead> {
    let Some(id) = have.byte(I2C_ID, 0, 0, 0) else {
        return vec![PageRead::lower(I2C_ID)];
    };
    let lower = |off: u8| have.byte(I2C_ID, 0, 0, off).unwrap_or(0);
    let mut out = vec![PageRead::lower(I2C_ID)];
    match standard_of(id) {
        Some(Standard::Sff8472) => {
            if sff8472::has_diagnostics(lower(92)) {
                out.push(PageRead::lower(I2C_DIAG));
            }
        }
        Some(Standard::Sff8636) => {
            out.push(PageRead::upper(0, 0));
            if lower(sff8636::STATUS) & sff8636::FLAT_MEM == 0 {
                out.push(PageRead::upper(3, 0));
            }
        }
        Some(Standard::Cmis) => {
            out.push(PageRead::upper(0, 0));
            if lower(cmis::MEMORY_MODEL) & cmis::FLAT_MEM == 0 {
                out.push(PageRead::upper(1, 0));
                out.push(PageRead::upper(2, 0));
                out.push(PageRead::upper(0x11, 0));
            }
        }
        None => out.push(PageRead::upper(0, 0)),
    }
    out
}

/// The reads still to make: what the standard wants less what `have` holds.
pub fn next_reads(have: &ModuleEeprom) -> Vec<PageRead> {
    wanted(have)
        .into_iter()
        .filter(|r| !have.pages.iter().any(|p| r.done_by(p)))
        .collect()
}

/// Reads a module with `read`: the lower page first (its failure is the result), then what
/// [`next_reads`] asks for, each at most once; an optional page that fails is left out.
pub fn read_all<E>(
    source: &str,
    mut read: impl FnMut(PageRead) -> Result<Vec<u8>, E>,
) -> Result<ModuleEeprom, E> {
    let mut have = ModuleEeprom {
        source: source.to_string(),
        pages: Vec::new(),
    };
    let mut tried: Vec<PageRead> = Vec::new();
    // Each round adds at least one tried read; five rounds cover every plan.
    for round in 0..8 {
        let todo: Vec<PageRead> = next_reads(&have)
            .into_iter()
            .filter(|r| !tried.contains(r))
            .collect();
        if todo.is_empty() {
            break;
        }
        for r in todo {
            tried.push(r);
            debug_assert!(r.is_valid());
            match read(r) {
                Ok(mut data) => {
                    data.truncate(usize::from(r.length));
                    have.pages.push(RawPage {
                        i2c: r.i2c,
                        page: r.page,
                        bank: r.bank,
                        offset: r.offset,
                        data,
                    });
                }
                Err(e) if round == 0 && r == PageRead::lower(I2C_ID) => return Err(e),
                Err(_) => {}
            }
        }
    }
    Ok(have)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// A module as a map (i2c, page, bank, half) -> 128 bytes.
    type Image = HashMap<(u8, u8, u8, u8), Vec<u8>>;

    fn image(lower: &[(usize, u8)]) -> Image {
        let mut lo = vec![0u8; 128];
        for (o, v) in lower {
            lo[*o] = *v;
        }
        let mut m = Image::new();
        m.insert((I2C_ID, 0, 0, 0), lo);
        for page in [0u8, 1, 2, 3, 0x10, 0x11] {
            m.insert((I2C_ID, page, 0, 128), vec![page; 128]);
        }
        m.insert((I2C_DIAG, 0, 0, 0), vec![0x51; 128]);
        m
    }

    fn run(img: &Image) -> (ModuleEeprom, Vec<PageRead>) {
        let mut log = Vec::new();
        let e = read_all("test", |r: PageRead| {
            log.push(r);
            img.get(&(r.i2c, r.page, r.bank, r.offset))
                .cloned()
                .ok_or("no such page")
        })
        .expect("a value");
        (e, log)
    }

    fn pages(log: &[PageRead]) -> Vec<(u8, u8, u8)> {
        log.iter().map(|r| (r.i2c, r.page, r.offset)).collect()
    }

    #[test]
    fn sfp_with_diagnostics_reads_a0_then_a2() {
        let (_, log) = run(&image(&[(0, 0x03), (92, 0x68)]));
        assert_eq!(pages(&log), vec![(0x50, 0, 0), (0x51, 0, 0)]);
    }

    #[test]
    fn sfp_without_diagnostics_or_with_address_change_reads_a0_only() {
        let (_, log) = run(&image(&[(0, 0x03), (92, 0x00)]));
        assert_eq!(pages(&log), vec![(0x50, 0, 0)]);
        let (_, log) = run(&image(&[(0, 0x03), (92, 0x6c)]));
        assert_eq!(pages(&log), vec![(0x50, 0, 0)]);
    }

    #[test]
    fn qsfp_paged_reads_page_3_and_flat_does_not() {
        let (_, log) = run(&image(&[(0, 0x11)]));
        assert_eq!(
            pages(&log),
            vec![(0x50, 0, 0), (0x50, 0, 128), (0x50, 3, 128)]
        );
        let (_, log) = run(&image(&[(0, 0x0d), (2, 0x04)]));
        assert_eq!(pages(&log), vec![(0x50, 0, 0), (0x50, 0, 128)]);
    }

    #[test]
    fn cmis_paged_reads_1_2_and_11_and_flat_only_00() {
        let (e, log) = run(&image(&[(0, 0x18)]));
        assert_eq!(
            pages(&log),
            vec![
                (0x50, 0, 0),
                (0x50, 0, 128),
                (0x50, 1, 128),
                (0x50, 2, 128),
                (0x50, 0x11, 128)
            ]
        );
        assert_eq!(e.byte(I2C_ID, 0x11, 0, 200), Some(0x11));
        let (_, log) = run(&image(&[(0, 0x19), (2, 0x80)]));
        assert_eq!(pages(&log), vec![(0x50, 0, 0), (0x50, 0, 128)]);
    }

    #[test]
    fn unknown_identifier_reads_page_0_and_stops() {
        let (_, log) = run(&image(&[(0, 0x06)]));
        assert_eq!(pages(&log), vec![(0x50, 0, 0), (0x50, 0, 128)]);
    }

    #[test]
    fn a_failing_optional_page_is_left_out_and_not_retried() {
        let mut img = image(&[(0, 0x11)]);
        img.remove(&(I2C_ID, 3, 0, 128));
        let (e, log) = run(&img);
        assert_eq!(log.len(), 3);
        assert_eq!(e.pages.len(), 2);
    }

    #[test]
    fn a_failing_lower_page_is_the_error() {
        let r: Result<_, &str> = read_all("test", |_| Err("EOPNOTSUPP"));
        assert_eq!(r.expect_err("an error"), "EOPNOTSUPP");
    }

    #[test]
    fn validity_rules() {
        assert!(PageRead::lower(0x50).is_valid());
        assert!(PageRead::upper(3, 0).is_valid());
        // Crossing offset 128.
        assert!(!PageRead {
            offset: 100,
            length: 40,
            ..PageRead::lower(0x50)
        }
        .is_valid());
        // Page 3 in the lower half.
        assert!(!PageRead {
            page: 3,
            ..PageRead::lower(0x50)
        }
        .is_valid());
        assert!(!PageRead {
            bank: 1,
            ..PageRead::lower(0x50)
        }
        .is_valid());
        assert!(!PageRead {
            length: 0,
            ..PageRead::lower(0x50)
        }
        .is_valid());
        assert!(!PageRead {
            offset: 200,
            length: 100,
            ..PageRead::upper(0, 0)
        }
        .is_valid());
    }

    proptest! {
        #[test]
        fn every_planned_read_is_valid(lower in proptest::collection::vec(any::<u8>(), 128),
                                       id in prop_oneof![Just(3u8), Just(0x0d), Just(0x11), Just(0x18), Just(0x19), any::<u8>()]) {
            let mut img = image(&[]);
            let mut lower = lower;
            lower[0] = id;
            img.insert((I2C_ID, 0, 0, 0), lower);
            let (_, log) = run(&img);
            prop_assert!(!log.is_empty() && log.len() <= 5);
            for r in &log {
                prop_assert!(r.is_valid(), "{r:?}");
            }
        }
    }
}
