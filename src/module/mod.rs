//! Decoding of module EEPROM pages (SFF-8472, SFF-8636, CMIS) into a [`Module`], and the
//! plan of which pages to read for each standard.
//!
//! Pure functions over bytes `sys` read (or a snapshot holds); nothing here touches the
//! kernel. Layouts follow SFF-8024 (identifier and connector codes), SFF-8472 rev 12
//! (SFP: A0h and A2h), SFF-8636 rev 2.10 (QSFP+/QSFP28: lower page, upper pages 00h and
//! 03h) and OIF CMIS 4.0/5.2 (QSFP-DD/OSFP: lower page, pages 00h, 01h, 02h, 11h). Every
//! field is optional: a short or missing page leaves the fields it holds unknown, never a
//! panic.

pub mod cmis;
pub mod plan;
pub mod sff8472;
pub mod sff8636;
pub mod units;

use crate::model::module::{Dom, Flags, Lane, Levels, Module, ModuleEeprom, Standard, I2C_ID};

/// Why a module could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The identifier byte (offset 0) was not read.
    #[error("module EEPROM has no identifier byte")]
    NoIdentifier,
    /// The identifier names a module none of the decoders knows.
    #[error("module identifier {0:#04x} ({1}) is not SFF-8472, SFF-8636 or CMIS")]
    UnknownStandard(u8, &'static str),
}

/// The standard that manages a module with this SFF-8024 identifier.
pub fn standard_of(identifier: u8) -> Option<Standard> {
    match identifier {
        0x02 | 0x03 => Some(Standard::Sff8472),
        0x0c | 0x0d | 0x11 => Some(Standard::Sff8636),
        0x18 | 0x19 | 0x1b..=0x1f => Some(Standard::Cmis),
        _ => None,
    }
}

/// SFF-8024 table 4-1: identifier names.
pub fn identifier_name(id: u8) -> &'static str {
    match id {
        0x00 => "unknown",
        0x01 => "GBIC",
        0x02 => "soldered module",
        0x03 => "SFP/SFP+/SFP28",
        0x06 => "XFP",
        0x0c => "QSFP",
        0x0d => "QSFP+",
        0x0e => "CXP",
        0x11 => "QSFP28",
        0x18 => "QSFP-DD",
        0x19 => "OSFP",
        0x1a => "SFP-DD",
        0x1b => "DSFP",
        0x1c => "MiniLink/OcuLink",
        0x1d => "QSFP+ (x8)",
        0x1e => "QSFP+ (CMIS)",
        0x1f => "SFP-DD (CMIS)",
        _ => "other",
    }
}

/// SFF-8024 table 4-3: connector names.
pub fn connector_name(code: u8) -> String {
    match code {
        0x00 => "unknown".into(),
        0x01 => "SC".into(),
        0x07 => "LC".into(),
        0x0b => "optical pigtail".into(),
        0x0c => "MPO 1x12".into(),
        0x0d => "MPO 2x16".into(),
        0x21 => "copper pigtail".into(),
        0x22 => "RJ45".into(),
        0x23 => "no separable connector".into(),
        0x24 => "MXC 2x16".into(),
        0x25 => "CS".into(),
        0x26 => "SN".into(),
        0x27 => "MPO 2x12".into(),
        0x28 => "MPO 1x16".into(),
        other => format!("{other:#04x}"),
    }
}

/// Decodes the pages of one module.
pub fn decode(e: &ModuleEeprom) -> Result<Module, DecodeError> {
    let id = e.byte(I2C_ID, 0, 0, 0).ok_or(DecodeError::NoIdentifier)?;
    match standard_of(id) {
        Some(Standard::Sff8472) => Ok(sff8472::decode(e)),
        Some(Standard::Sff8636) => Ok(sff8636::decode(e)),
        Some(Standard::Cmis) => Ok(cmis::decode(e)),
        None => Err(DecodeError::UnknownStandard(id, identifier_name(id))),
    }
}

/// Reads bytes of one page (lower half plus one upper page) of one I2C address.
#[derive(Clone, Copy)]
pub(crate) struct Page<'a> {
    e: &'a ModuleEeprom,
    i2c: u8,
    num: u8,
    bank: u8,
}

impl<'a> Page<'a> {
    pub(crate) fn new(e: &'a ModuleEeprom, i2c: u8, page: u8, bank: u8) -> Self {
        Self {
            e,
            i2c,
            num: page,
            bank,
        }
    }

    pub(crate) fn u8(self, off: u8) -> Option<u8> {
        self.e.byte(self.i2c, self.num, self.bank, off)
    }

    pub(crate) fn present(self, off: u8) -> bool {
        self.u8(off).is_some()
    }

    pub(crate) fn u16(self, off: u8) -> Option<u16> {
        Some(units::be_u16(self.u8(off)?, self.u8(off.checked_add(1)?)?))
    }

    pub(crate) fn i16(self, off: u8) -> Option<i16> {
        Some(units::be_i16(self.u8(off)?, self.u8(off.checked_add(1)?)?))
    }

    /// `len` bytes from `off` (all of them, or `None`).
    pub(crate) fn bytes(self, off: u8, len: u8) -> Option<Vec<u8>> {
        (0..len)
            .map(|i| off.checked_add(i).and_then(|o| self.u8(o)))
            .collect()
    }

    /// An ASCII field with its trailing spaces (and NULs) removed; non-printable bytes
    /// become `?`.
    pub(crate) fn text(self, off: u8, len: u8) -> String {
        let Some(b) = self.bytes(off, len) else {
            return String::new();
        };
        let s: String = b
            .iter()
            .map(|&c| {
                if c.is_ascii_graphic() || c == b' ' {
                    c as char
                } else if c == 0 {
                    ' '
                } else {
                    '?'
                }
            })
            .collect();
        s.trim_end().to_string()
    }

    /// The SFF date code `YYMMDD` (plus lot) at `off` as `20YY-MM-DD`, if it is digits.
    pub(crate) fn date(self, off: u8) -> Option<String> {
        let b = self.bytes(off, 6)?;
        if !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let s = String::from_utf8(b).ok()?;
        Some(format!("20{}-{}-{}", &s[0..2], &s[2..4], &s[4..6]))
    }

    /// Four consecutive words (high alarm, low alarm, high warning, low warning) at `off`,
    /// each converted by `f`.
    pub(crate) fn levels(self, off: u8, f: impl Fn(u16) -> f64) -> Option<Levels> {
        Some(Levels {
            high_alarm: f(self.u16(off)?),
            low_alarm: f(self.u16(off.checked_add(2)?)?),
            high_warning: f(self.u16(off.checked_add(4)?)?),
            low_warning: f(self.u16(off.checked_add(6)?)?),
        })
    }
}

/// Flags from four bits of one byte: `bits` = masks of high alarm, low alarm, high
/// warning, low warning.
pub(crate) fn flags(byte: Option<u8>, bits: [u8; 4]) -> Flags {
    let b = byte.unwrap_or(0);
    Flags {
        high_alarm: b & bits[0] != 0,
        low_alarm: b & bits[1] != 0,
        high_warning: b & bits[2] != 0,
        low_warning: b & bits[3] != 0,
    }
}

/// A lane from raw words (bias in 2 uA times `bias_mult`, powers in 0.1 uW).
pub(crate) fn lane(lane: u8, bias: Option<u16>, tx: Option<u16>, rx: Option<u16>) -> Lane {
    let tx_mw = tx.map(units::power_mw);
    let rx_mw = rx.map(units::power_mw);
    Lane {
        lane,
        bias_ma: bias.map(units::bias_ma),
        tx_power_mw: tx_mw,
        tx_power_dbm: tx_mw.and_then(units::mw_to_dbm),
        rx_power_mw: rx_mw,
        rx_power_dbm: rx_mw.and_then(units::mw_to_dbm),
        bias_flags: Flags::default(),
        tx_power_flags: Flags::default(),
        rx_power_flags: Flags::default(),
    }
}

/// The lane whose receive power is closest to (or furthest below) the module's low
/// warning threshold, with that margin in dB (negative: below the warning).
pub fn weakest_rx_lane(m: &Module) -> Option<(&Lane, Option<f64>)> {
    let dom = m.dom.as_ref()?;
    let low_warn_dbm = dom
        .thresholds
        .rx_power_mw
        .and_then(|l| units::mw_to_dbm(l.low_warning));
    let margin =
        |l: &Lane| -> Option<f64> { Some(l.rx_power_dbm.unwrap_or(-40.0) - low_warn_dbm?) };
    dom.lanes
        .iter()
        .filter(|l| l.rx_power_mw.is_some())
        .min_by(|a, b| {
            let ka = margin(a).unwrap_or(a.rx_power_dbm.unwrap_or(-40.0));
            let kb = margin(b).unwrap_or(b.rx_power_dbm.unwrap_or(-40.0));
            ka.total_cmp(&kb).then(a.lane.cmp(&b.lane))
        })
        .map(|l| (l, margin(l)))
}

/// The most lanes a module reading keeps (one CMIS bank).
pub const MAX_LANES: usize = 8;

/// What the monitor follows of a module: `None` when it has no diagnostics.
pub fn reading(m: &Module) -> Option<crate::model::module::ModuleReading> {
    let d = m.dom.as_ref()?;
    let dbm = |mw: f64| units::mw_to_dbm(mw);
    Some(crate::model::module::ModuleReading {
        temperature_c: d.temperature_c,
        temperature_high_warning_c: d.thresholds.temperature_c.map(|l| l.high_warning),
        rx_power_low_warning_dbm: d.thresholds.rx_power_mw.and_then(|l| dbm(l.low_warning)),
        tx_power_low_warning_dbm: d.thresholds.tx_power_mw.and_then(|l| dbm(l.low_warning)),
        lanes: d
            .lanes
            .iter()
            .take(MAX_LANES)
            .map(|l| crate::model::module::LaneReading {
                lane: l.lane,
                rx_power_dbm: l.rx_power_mw.map(|mw| dbm(mw).unwrap_or(-40.0)),
                tx_power_dbm: l.tx_power_mw.map(|mw| dbm(mw).unwrap_or(-40.0)),
            })
            .collect(),
    })
}

/// A [`Dom`] with no values yet.
pub(crate) fn empty_dom(calibration: &str) -> Dom {
    Dom {
        calibration: calibration.to_string(),
        temperature_c: None,
        vcc_v: None,
        lanes: Vec::new(),
        thresholds: crate::model::module::Thresholds::default(),
        temperature_flags: Flags::default(),
        vcc_flags: Flags::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::module::RawPage;
    use proptest::prelude::*;

    fn pages_strategy() -> impl Strategy<Value = ModuleEeprom> {
        let page = (
            prop_oneof![Just(0x50u8), Just(0x51u8)],
            prop_oneof![Just(0u8), Just(1), Just(2), Just(3), Just(0x10), Just(0x11)],
            0u8..4,
            prop_oneof![Just(0u8), Just(128u8)],
            proptest::collection::vec(any::<u8>(), 0..=128),
        )
            .prop_map(|(i2c, page, bank, offset, data)| RawPage {
                i2c,
                page,
                bank,
                offset,
                data,
            });
        (
            prop_oneof![
                Just(0x03u8),
                Just(0x0d),
                Just(0x11),
                Just(0x18),
                Just(0x19),
                any::<u8>()
            ],
            proptest::collection::vec(page, 0..8),
        )
            .prop_map(|(id, mut pages)| {
                // Most cases get a lower page that names a known standard.
                if let Some(p) = pages.first_mut() {
                    p.i2c = I2C_ID;
                    p.offset = 0;
                    p.page = 0;
                    p.bank = 0;
                    if let Some(b) = p.data.first_mut() {
                        *b = id;
                    }
                }
                ModuleEeprom {
                    source: "test".into(),
                    pages,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn arbitrary_pages_never_panic(e in pages_strategy()) {
            if let Ok(m) = decode(&e) {
                let _ = weakest_rx_lane(&m);
                let _ = serde_json::to_string(&m);
                if let Some(d) = &m.dom {
                    prop_assert!(d.lanes.len() <= 8);
                }
            }
            let _ = plan::next_reads(&e);
        }

        #[test]
        fn full_random_pages_of_each_standard_never_panic(
            id in prop_oneof![Just(0x03u8), Just(0x11), Just(0x18)],
            lower in proptest::collection::vec(any::<u8>(), 128),
            upper in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 128), 6),
        ) {
            let mut lower = lower;
            lower[0] = id;
            let mut pages = vec![RawPage { i2c: I2C_ID, page: 0, bank: 0, offset: 0, data: lower.clone() }];
            for (data, (i2c, page, offset)) in upper.into_iter().zip([
                (0x50, 0, 128), (0x50, 1, 128), (0x50, 2, 128), (0x50, 3, 128), (0x50, 0x11, 128), (0x51, 0, 0),
            ]) {
                pages.push(RawPage { i2c, page, bank: 0, offset, data });
            }
            let e = ModuleEeprom { source: "test".into(), pages };
            let m = decode(&e).expect("a value");
            let _ = weakest_rx_lane(&m);
        }
    }

    #[test]
    fn no_identifier_and_unknown_standard_are_errors() {
        let empty = ModuleEeprom::default();
        assert_eq!(decode(&empty), Err(DecodeError::NoIdentifier));
        let xfp = ModuleEeprom {
            source: "test".into(),
            pages: vec![RawPage {
                i2c: I2C_ID,
                page: 0,
                bank: 0,
                offset: 0,
                data: vec![0x06],
            }],
        };
        assert_eq!(decode(&xfp), Err(DecodeError::UnknownStandard(6, "XFP")));
    }

    #[test]
    fn identifiers_map_to_standards() {
        assert_eq!(standard_of(0x03), Some(Standard::Sff8472));
        assert_eq!(standard_of(0x0d), Some(Standard::Sff8636));
        assert_eq!(standard_of(0x11), Some(Standard::Sff8636));
        assert_eq!(standard_of(0x18), Some(Standard::Cmis));
        assert_eq!(standard_of(0x19), Some(Standard::Cmis));
        assert_eq!(standard_of(0x06), None);
        assert_eq!(connector_name(0x0c), "MPO 1x12");
        assert_eq!(connector_name(0x99), "0x99");
    }
}
