//! Pluggable modules (SFP, QSFP, QSFP-DD/OSFP): the raw EEPROM pages `sys` read, and the
//! decoded view of them that `crate::module` computes.
//!
//! Only the raw pages are part of a snapshot ([`ModuleEeprom`]); the decoded [`Module`] is
//! computed from them whenever it is shown, so that an old snapshot gains what a newer
//! decoder understands.

use serde::{Deserialize, Serialize};

/// The I2C address of the identification data (SFF-8472 "A0h", and every QSFP/CMIS page).
pub const I2C_ID: u8 = 0x50;
/// The I2C address of the SFF-8472 diagnostics ("A2h").
pub const I2C_DIAG: u8 = 0x51;

/// The module EEPROM pages read from a port, as the module gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleEeprom {
    /// How they were read: `netlink` (`ETHTOOL_MSG_MODULE_EEPROM_GET`) or `ioctl`
    /// (`ETHTOOL_GMODULEEEPROM`).
    pub source: String,
    /// The half pages read, in reading order.
    pub pages: Vec<RawPage>,
}

/// One read of at most 128 bytes: the lower half (offset 0, page and bank 0) or the upper
/// half (offset 128) of a page of one bank at one I2C address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPage {
    /// I2C address (7-bit: 0x50 or 0x51).
    pub i2c: u8,
    /// Page number (0 for the lower half).
    pub page: u8,
    /// Bank number (CMIS; 0 elsewhere).
    pub bank: u8,
    /// Offset of the first byte: 0 (lower half) or 128 (upper half).
    pub offset: u8,
    /// The bytes, hex in JSON.
    #[serde(with = "hex_bytes")]
    pub data: Vec<u8>,
}

impl ModuleEeprom {
    /// The byte at `offset` (0..=255 as the standards number them) of `page`/`bank` at I2C
    /// address `i2c`; bytes below 128 are the lower half, shared by all pages.
    pub fn byte(&self, i2c: u8, page: u8, bank: u8, offset: u8) -> Option<u8> {
        let (want_page, want_bank, base) = if offset < 128 {
            (0, 0, 0)
        } else {
            (page, bank, 128)
        };
        self.pages
            .iter()
            .filter(|p| p.i2c == i2c && p.page == want_page && p.bank == want_bank)
            .filter(|p| p.offset == base)
            .find_map(|p| p.data.get(usize::from(offset - base)).copied())
    }

    /// True when the half page holding `offset` of `page`/`bank` at `i2c` was read.
    pub fn has(&self, i2c: u8, page: u8, bank: u8, offset: u8) -> bool {
        self.byte(i2c, page, bank, offset).is_some()
    }
}

/// Serde for bytes as one lower-case hex string.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::fmt::Write as _;

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(v.len() * 2);
        for b in v {
            let _ = write!(out, "{b:02x}");
        }
        s.serialize_str(&out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Parses a hex string (white space ignored) into bytes, at most 128 of them.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("hex page data has an odd number of digits".to_string());
    }
    if digits.len() > 256 {
        return Err("hex page data is longer than 128 bytes".to_string());
    }
    digits
        .chunks(2)
        .map(|c| {
            let hi = (c[0] as char).to_digit(16);
            let lo = (c[1] as char).to_digit(16);
            match (hi, lo) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(format!(
                    "hex page data has a non-hex digit in {:?}",
                    String::from_utf8_lossy(c)
                )),
            }
        })
        .collect()
}

/// Which management standard a module follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standard {
    /// SFF-8079/SFF-8472 (SFP, SFP+, SFP28).
    Sff8472,
    /// SFF-8636/SFF-8436 (QSFP+, QSFP28).
    Sff8636,
    /// CMIS 4.0/5.x (QSFP-DD, OSFP, QSFP112).
    Cmis,
}

impl Standard {
    /// The standard's name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Standard::Sff8472 => "SFF-8472",
            Standard::Sff8636 => "SFF-8636",
            Standard::Cmis => "CMIS",
        }
    }
}

/// The class of cable or optic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CableClass {
    /// Passive direct-attach copper (DAC).
    Dac,
    /// Active copper cable (ACC/AEC).
    Acc,
    /// Active optical cable.
    Aoc,
    /// Optical transceiver for multi-mode fibre.
    Mmf,
    /// Optical transceiver for single-mode fibre.
    Smf,
    /// Twisted-pair copper (BASE-T).
    BaseT,
    /// The module does not say.
    Unknown,
}

impl CableClass {
    /// The short name a profile uses (`dac`, `acc`, `aoc`, `mmf`, `smf`, `base-t`).
    pub fn as_str(self) -> &'static str {
        match self {
            CableClass::Dac => "dac",
            CableClass::Acc => "acc",
            CableClass::Aoc => "aoc",
            CableClass::Mmf => "mmf",
            CableClass::Smf => "smf",
            CableClass::BaseT => "base-t",
            CableClass::Unknown => "unknown",
        }
    }

    /// The class with this short name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            CableClass::Dac,
            CableClass::Acc,
            CableClass::Aoc,
            CableClass::Mmf,
            CableClass::Smf,
            CableClass::BaseT,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// True for optics (transceivers and active optical cables).
    pub fn is_optical(self) -> bool {
        matches!(self, CableClass::Aoc | CableClass::Mmf | CableClass::Smf)
    }
}

/// A decoded module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// Management standard.
    pub standard: Standard,
    /// SFF-8024 identifier byte.
    pub identifier_code: u8,
    /// Identifier as text, e.g. `QSFP28`.
    pub identifier: String,
    /// SFF-8024 connector, e.g. `MPO 1x12`.
    pub connector: String,
    /// Vendor name (trailing spaces removed).
    pub vendor: String,
    /// Vendor part number.
    pub part_number: String,
    /// Vendor revision.
    pub revision: String,
    /// Vendor serial number.
    pub serial: String,
    /// Manufacturing date `20YY-MM-DD`, when the date code is digits.
    pub date: Option<String>,
    /// Cable or optic class.
    pub cable: CableClass,
    /// Media or application, e.g. `100GBASE-SR4`, when the module advertises one.
    pub media: Option<String>,
    /// Cable length or supported link length in metres.
    pub length_m: Option<f64>,
    /// Nominal wavelength in nanometres (optics).
    pub wavelength_nm: Option<f64>,
    /// Digital diagnostics, `None` when the module implements none.
    pub dom: Option<Dom>,
}

/// Digital diagnostic monitoring (DOM/DDM) values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dom {
    /// `internal` or `external` (SFF-8472 only; the others are always internal).
    pub calibration: String,
    /// Module temperature in degrees Celsius.
    pub temperature_c: Option<f64>,
    /// Supply voltage in volts.
    pub vcc_v: Option<f64>,
    /// Per-lane values, lane 1 first.
    pub lanes: Vec<Lane>,
    /// The module's own alarm and warning thresholds, when it has them.
    pub thresholds: Thresholds,
    /// Module-level flags (temperature, supply voltage).
    pub temperature_flags: Flags,
    /// Supply voltage flags.
    pub vcc_flags: Flags,
}

/// One lane's monitors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    /// Lane number, from 1.
    pub lane: u8,
    /// Laser bias current in milliamperes.
    pub bias_ma: Option<f64>,
    /// Transmit optical power in milliwatts.
    pub tx_power_mw: Option<f64>,
    /// Transmit optical power in dBm (`None` at zero power).
    pub tx_power_dbm: Option<f64>,
    /// Receive optical power in milliwatts.
    pub rx_power_mw: Option<f64>,
    /// Receive optical power in dBm (`None` at zero power).
    pub rx_power_dbm: Option<f64>,
    /// Bias flags.
    pub bias_flags: Flags,
    /// Transmit power flags.
    pub tx_power_flags: Flags,
    /// Receive power flags.
    pub rx_power_flags: Flags,
}

/// Alarm and warning levels of one monitor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Levels {
    /// High alarm.
    pub high_alarm: f64,
    /// Low alarm.
    pub low_alarm: f64,
    /// High warning.
    pub high_warning: f64,
    /// Low warning.
    pub low_warning: f64,
}

/// The module's thresholds, each in the unit its name ends with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Temperature, degrees Celsius.
    pub temperature_c: Option<Levels>,
    /// Supply voltage, volts.
    pub vcc_v: Option<Levels>,
    /// Bias current, milliamperes.
    pub bias_ma: Option<Levels>,
    /// Transmit power, milliwatts.
    pub tx_power_mw: Option<Levels>,
    /// Receive power, milliwatts.
    pub rx_power_mw: Option<Levels>,
}

/// Latched alarm and warning flags of one monitor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    /// High alarm.
    pub high_alarm: bool,
    /// Low alarm.
    pub low_alarm: bool,
    /// High warning.
    pub high_warning: bool,
    /// Low warning.
    pub low_warning: bool,
}

impl Flags {
    /// True when any flag is set.
    pub fn any(self) -> bool {
        self.high_alarm || self.low_alarm || self.high_warning || self.low_warning
    }

    /// The set flags as words: `high alarm, low warning`.
    pub fn describe(self) -> String {
        [
            (self.high_alarm, "high alarm"),
            (self.low_alarm, "low alarm"),
            (self.high_warning, "high warning"),
            (self.low_warning, "low warning"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, w)| *w)
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// What the monitor keeps of a module between its slow reads: temperature, per-lane optical
/// power (at most 8 lanes) and the module's warning thresholds, in the units of the names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModuleReading {
    /// Module temperature, degrees Celsius.
    pub temperature_c: Option<f64>,
    /// The module's high temperature warning.
    pub temperature_high_warning_c: Option<f64>,
    /// The module's low receive power warning, dBm.
    pub rx_power_low_warning_dbm: Option<f64>,
    /// The module's low transmit power warning, dBm.
    pub tx_power_low_warning_dbm: Option<f64>,
    /// Lanes, lane 1 first, at most 8.
    pub lanes: Vec<LaneReading>,
}

/// Optical power of one lane.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LaneReading {
    /// Lane number, from 1.
    pub lane: u8,
    /// Receive power, dBm (`None`: no light, or not monitored).
    pub rx_power_dbm: Option<f64>,
    /// Transmit power, dBm.
    pub tx_power_dbm: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eeprom() -> ModuleEeprom {
        ModuleEeprom {
            source: "netlink".into(),
            pages: vec![
                RawPage {
                    i2c: I2C_ID,
                    page: 0,
                    bank: 0,
                    offset: 0,
                    data: (0..128).collect(),
                },
                RawPage {
                    i2c: I2C_ID,
                    page: 3,
                    bank: 0,
                    offset: 128,
                    data: vec![0xab; 128],
                },
            ],
        }
    }

    #[test]
    fn bytes_below_128_come_from_the_lower_half_of_any_page() {
        let e = eeprom();
        assert_eq!(e.byte(I2C_ID, 3, 0, 5), Some(5));
        assert_eq!(e.byte(I2C_ID, 0, 0, 127), Some(127));
        assert_eq!(e.byte(I2C_ID, 3, 0, 128), Some(0xab));
        assert_eq!(e.byte(I2C_ID, 0, 0, 128), None, "upper page 0 was not read");
        assert_eq!(e.byte(I2C_ID, 3, 1, 200), None, "bank 1 was not read");
        assert_eq!(e.byte(I2C_DIAG, 0, 0, 0), None);
    }

    #[test]
    fn pages_round_trip_through_json_as_hex() {
        let e = eeprom();
        let j = serde_json::to_string(&e).expect("a value");
        assert!(j.contains("\"data\":\"000102"), "{j}");
        let back: ModuleEeprom = serde_json::from_str(&j).expect("a value");
        assert_eq!(back, e);
    }

    #[test]
    fn bad_hex_is_refused() {
        assert!(parse_hex("0").is_err());
        assert!(parse_hex("zz").is_err());
        assert!(parse_hex(&"00".repeat(129)).is_err());
        assert_eq!(parse_hex("0a FF").expect("a value"), vec![0x0a, 0xff]);
    }

    #[test]
    fn cable_class_names_round_trip() {
        for c in ["dac", "acc", "aoc", "mmf", "smf", "base-t"] {
            assert_eq!(CableClass::parse(c).expect("a value").as_str(), c);
        }
        assert_eq!(CableClass::parse("fibre"), None);
    }
}
