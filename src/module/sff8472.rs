//! SFF-8079/SFF-8472: SFP, SFP+ and SFP28 modules.
//!
//! Identification data is at I2C address 0x50 ("A0h") bytes 0-95; diagnostics at 0x51
//! ("A2h"): thresholds in bytes 0-39, external calibration constants in 56-91, the
//! monitors in 96-105, alarm flags in 112-113 and warning flags in 116-117 (SFF-8472
//! rev 12.4, sections 4 and 9). A0h byte 92 tells whether diagnostics exist (bit 6) and
//! whether they are internally (bit 5) or externally (bit 4) calibrated; with external
//! calibration the A2h words are raw A/D values that the slopes and offsets (and for Rx
//! power a 4th-degree polynomial) turn into the standard units, thresholds included.

use crate::model::module::{
    CableClass, Module, ModuleEeprom, Standard, Thresholds, I2C_DIAG, I2C_ID,
};

use super::units::{self, be_f32, calibrate_signed, calibrate_unsigned, rx_power_poly};
use super::{connector_name, empty_dom, flags, identifier_name, lane, Page};

/// A0h byte 92, diagnostic monitoring type.
const DIAG_TYPE: u8 = 92;
const DDM_IMPLEMENTED: u8 = 1 << 6;
const INTERNAL_CAL: u8 = 1 << 5;
const EXTERNAL_CAL: u8 = 1 << 4;
/// "Address change required": A2h is not at 0x51 without a page-switch sequence; it is
/// not read.
pub const ADDR_CHANGE: u8 = 1 << 2;

/// True when the module has diagnostics at A2h that can be read directly.
pub fn has_diagnostics(a0_byte_92: u8) -> bool {
    a0_byte_92 & DDM_IMPLEMENTED != 0 && a0_byte_92 & ADDR_CHANGE == 0
}

/// External calibration constants (A2h bytes 56-91).
#[derive(Debug, Clone, Copy)]
struct Calibration {
    rx: [f64; 5],
    bias: (f64, f64),
    tx: (f64, f64),
    temp: (f64, f64),
    vcc: (f64, f64),
}

impl Calibration {
    /// Identity: internal calibration.
    const NONE: Calibration = Calibration {
        rx: [0.0, 0.0, 0.0, 1.0, 0.0],
        bias: (1.0, 0.0),
        tx: (1.0, 0.0),
        temp: (1.0, 0.0),
        vcc: (1.0, 0.0),
    };

    fn read(a2: Page<'_>) -> Option<Calibration> {
        let f = |off: u8| -> Option<f64> {
            let b = a2.bytes(off, 4)?;
            Some(be_f32([b[0], b[1], b[2], b[3]]))
        };
        let so = |off: u8| -> Option<(f64, f64)> {
            Some((
                units::slope(a2.u8(off)?, a2.u8(off + 1)?),
                units::offset(a2.u8(off + 2)?, a2.u8(off + 3)?),
            ))
        };
        Some(Calibration {
            // Rx_PWR(4) at 56 down to Rx_PWR(0) at 72.
            rx: [f(56)?, f(60)?, f(64)?, f(68)?, f(72)?],
            bias: so(76)?,
            tx: so(80)?,
            temp: so(84)?,
            vcc: so(88)?,
        })
    }

    fn temp(&self, raw: i16) -> f64 {
        units::temperature_c(calibrate_signed(raw, self.temp.0, self.temp.1))
    }
    fn vcc(&self, raw: u16) -> f64 {
        units::vcc_v(calibrate_unsigned(raw, self.vcc.0, self.vcc.1))
    }
    fn bias(&self, raw: u16) -> u16 {
        calibrate_unsigned(raw, self.bias.0, self.bias.1)
    }
    fn tx(&self, raw: u16) -> u16 {
        calibrate_unsigned(raw, self.tx.0, self.tx.1)
    }
    fn rx(&self, raw: u16) -> u16 {
        rx_power_poly(raw, self.rx)
    }
}

/// Cable class, media name and length (metres) from the A0h compliance and length bytes.
fn classify(a0: Page<'_>) -> (CableClass, Option<String>, Option<f64>) {
    let b = |o: u8| a0.u8(o).unwrap_or(0);
    let eth10g = b(3);
    let eth = b(6);
    let sfp_plus_cable = b(8);
    let fc_media = b(9);
    let ext = b(36);
    let copper_len = a0.u8(18).filter(|&v| v != 0).map(f64::from);
    let smf_len = a0
        .u8(14)
        .filter(|&v| v != 0)
        .map(|km| f64::from(km) * 1000.0)
        .or_else(|| a0.u8(15).filter(|&v| v != 0).map(|v| f64::from(v) * 100.0));
    // OM4 (byte 18, 10 m units for optics), OM3 (19), OM2 (16), OM1 (17): the longest.
    let mmf_len = [18u8, 19, 16, 17]
        .iter()
        .filter_map(|&o| a0.u8(o).filter(|&v| v != 0))
        .map(|v| f64::from(v) * 10.0)
        .reduce(f64::max);
    // SFF-8024 table 4-4 (extended compliance) for 25G and later modules.
    let (ext_class, ext_media) = match ext {
        0x01 | 0x18 => (Some(CableClass::Aoc), Some("25GAUI C2M AOC")),
        0x02 => (Some(CableClass::Mmf), Some("25GBASE-SR")),
        0x03 => (Some(CableClass::Smf), Some("25GBASE-LR")),
        0x04 => (Some(CableClass::Smf), Some("25GBASE-ER")),
        0x08 | 0x19 => (Some(CableClass::Acc), Some("25GAUI C2M ACC")),
        0x0b..=0x0d => (Some(CableClass::Dac), Some("25GBASE-CR")),
        0x16 => (Some(CableClass::BaseT), Some("10GBASE-T")),
        _ => (None, None),
    };
    let (class, media) = if let Some(c) = ext_class {
        (c, ext_media.map(str::to_string))
    } else if sfp_plus_cable & 0x04 != 0 {
        (CableClass::Dac, Some("SFP+ passive cable".to_string()))
    } else if sfp_plus_cable & 0x08 != 0 {
        // An active cable with an optical connector code is an AOC.
        let optical = matches!(a0.u8(2), Some(0x07 | 0x0b | 0x23)) && fc_media & 0x0d != 0;
        if optical {
            (
                CableClass::Aoc,
                Some("SFP+ active optical cable".to_string()),
            )
        } else {
            (CableClass::Acc, Some("SFP+ active cable".to_string()))
        }
    } else if eth10g & 0x10 != 0 {
        (CableClass::Mmf, Some("10GBASE-SR".to_string()))
    } else if eth10g & 0x40 != 0 {
        (CableClass::Mmf, Some("10GBASE-LRM".to_string()))
    } else if eth10g & 0x20 != 0 {
        (CableClass::Smf, Some("10GBASE-LR".to_string()))
    } else if eth10g & 0x80 != 0 {
        (CableClass::Smf, Some("10GBASE-ER".to_string()))
    } else if eth & 0x01 != 0 {
        (CableClass::Mmf, Some("1000BASE-SX".to_string()))
    } else if eth & 0x02 != 0 {
        (CableClass::Smf, Some("1000BASE-LX".to_string()))
    } else if eth & 0x08 != 0 {
        (CableClass::BaseT, Some("1000BASE-T".to_string()))
    } else if eth & 0x04 != 0 {
        (CableClass::Dac, Some("1000BASE-CX".to_string()))
    } else if fc_media & 0x01 != 0 {
        (CableClass::Smf, None)
    } else if fc_media & 0x0c != 0 {
        (CableClass::Mmf, None)
    } else {
        (CableClass::Unknown, None)
    };
    let length = match class {
        CableClass::Dac | CableClass::Acc | CableClass::Aoc => copper_len,
        CableClass::Smf => smf_len,
        CableClass::Mmf => mmf_len,
        CableClass::BaseT | CableClass::Unknown => None,
    };
    (class, media, length)
}

/// Decodes an SFF-8472 module.
pub fn decode(e: &ModuleEeprom) -> Module {
    let a0 = Page::new(e, I2C_ID, 0, 0);
    let id = a0.u8(0).unwrap_or(0);
    let (cable, media, length_m) = classify(a0);
    // Bytes 60-61 are the laser wavelength unless the module is a cable (byte 8 bits 2-3).
    let wavelength_nm = if a0.u8(8).unwrap_or(0) & 0x0c == 0 {
        a0.u16(60).filter(|&w| w != 0).map(f64::from)
    } else {
        None
    };
    let diag = a0.u8(DIAG_TYPE).unwrap_or(0);
    let dom = if has_diagnostics(diag) && e.has(I2C_DIAG, 0, 0, 0) {
        Some(dom(e, diag))
    } else {
        None
    };
    Module {
        standard: Standard::Sff8472,
        identifier_code: id,
        identifier: identifier_name(id).to_string(),
        connector: connector_name(a0.u8(2).unwrap_or(0)),
        vendor: a0.text(20, 16),
        part_number: a0.text(40, 16),
        revision: a0.text(56, 4),
        serial: a0.text(68, 16),
        date: a0.date(84),
        cable,
        media,
        length_m,
        wavelength_nm,
        dom,
    }
}

#[allow(clippy::many_single_char_names)]
fn dom(e: &ModuleEeprom, diag: u8) -> crate::model::module::Dom {
    let a2 = Page::new(e, I2C_DIAG, 0, 0);
    let external = diag & EXTERNAL_CAL != 0 && diag & INTERNAL_CAL == 0;
    let cal = if external {
        Calibration::read(a2).unwrap_or(Calibration::NONE)
    } else {
        Calibration::NONE
    };
    let mut d = empty_dom(if external { "external" } else { "internal" });
    d.temperature_c = a2.i16(96).map(|r| cal.temp(r));
    d.vcc_v = a2.u16(98).map(|r| cal.vcc(r));
    let mut l = lane(
        1,
        a2.u16(100).map(|r| cal.bias(r)),
        a2.u16(102).map(|r| cal.tx(r)),
        a2.u16(104).map(|r| cal.rx(r)),
    );
    // Alarm flags: byte 112 bits 7-0 = temp hi/lo, vcc hi/lo, bias hi/lo, tx hi/lo;
    // byte 113 bits 7-6 = rx hi/lo. Warnings the same in 116-117.
    let (a, w) = (a2.u8(112).unwrap_or(0), a2.u8(116).unwrap_or(0));
    let (a_rx, w_rx) = (a2.u8(113).unwrap_or(0), a2.u8(117).unwrap_or(0));
    let pick = |alarm: u8, warn: u8, hi: u8, lo: u8| {
        let mut f = flags(Some(alarm), [hi, lo, 0, 0]);
        let g = flags(Some(warn), [0, 0, hi, lo]);
        f.high_warning = g.high_warning;
        f.low_warning = g.low_warning;
        f
    };
    d.temperature_flags = pick(a, w, 0x80, 0x40);
    d.vcc_flags = pick(a, w, 0x20, 0x10);
    l.bias_flags = pick(a, w, 0x08, 0x04);
    l.tx_power_flags = pick(a, w, 0x02, 0x01);
    l.rx_power_flags = pick(a_rx, w_rx, 0x80, 0x40);
    d.lanes.push(l);
    // Thresholds: temperature at 0, vcc 8, bias 16, tx power 24, rx power 32; with external
    // calibration they are raw A/D values too.
    d.thresholds = Thresholds {
        temperature_c: a2.levels(0, |r| cal.temp(r as i16)),
        vcc_v: a2.levels(8, |r| cal.vcc(r)),
        bias_ma: a2.levels(16, |r| units::bias_ma(cal.bias(r))),
        tx_power_mw: a2.levels(24, |r| units::power_mw(cal.tx(r))),
        rx_power_mw: a2.levels(32, |r| units::power_mw(cal.rx(r))),
    };
    d
}

#[cfg(test)]
#[allow(clippy::many_single_char_names)]
mod tests {
    use super::*;
    use crate::model::module::RawPage;

    fn sfp(a0: &[(usize, &[u8])], a2: Option<&[(usize, &[u8])]>) -> ModuleEeprom {
        let mut lo = vec![0u8; 128];
        lo[0] = 0x03;
        for (o, b) in a0 {
            lo[*o..*o + b.len()].copy_from_slice(b);
        }
        let mut pages = vec![RawPage {
            i2c: I2C_ID,
            page: 0,
            bank: 0,
            offset: 0,
            data: lo,
        }];
        if let Some(a2) = a2 {
            let mut d = vec![0u8; 128];
            for (o, b) in a2 {
                d[*o..*o + b.len()].copy_from_slice(b);
            }
            pages.push(RawPage {
                i2c: I2C_DIAG,
                page: 0,
                bank: 0,
                offset: 0,
                data: d,
            });
        }
        ModuleEeprom {
            source: "test".into(),
            pages,
        }
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-6)
    }

    #[test]
    fn identification_fields_and_10g_sr() {
        let e = sfp(
            &[
                (2, &[0x07]),
                (3, &[0x10]),
                (18, &[8]),
                (19, &[30]),
                (20, b"ACME OPTICS     "),
                (40, b"SFP-10G-SR      "),
                (56, b"A1  "),
                (60, &[0x03, 0x52]),
                (68, b"SN12345         "),
                (84, b"240131  "),
            ],
            None,
        );
        let m = decode(&e);
        assert_eq!(m.identifier, "SFP/SFP+/SFP28");
        assert_eq!(m.connector, "LC");
        assert_eq!(m.vendor, "ACME OPTICS");
        assert_eq!(m.part_number, "SFP-10G-SR");
        assert_eq!(m.revision, "A1");
        assert_eq!(m.serial, "SN12345");
        assert_eq!(m.date.as_deref(), Some("2024-01-31"));
        assert_eq!(m.cable, CableClass::Mmf);
        assert_eq!(m.media.as_deref(), Some("10GBASE-SR"));
        assert_eq!(m.length_m, Some(300.0), "OM3 30 x 10 m beats OM4 8 x 10 m");
        assert_eq!(m.wavelength_nm, Some(850.0));
        assert_eq!(m.dom, None, "byte 92 says no diagnostics");
    }

    #[test]
    fn passive_and_active_cables_and_lengths() {
        let dac = decode(&sfp(&[(2, &[0x21]), (8, &[0x04]), (18, &[3])], None));
        assert_eq!(dac.cable, CableClass::Dac);
        assert_eq!(dac.length_m, Some(3.0));
        assert_eq!(dac.wavelength_nm, None);
        let acc = decode(&sfp(&[(2, &[0x21]), (8, &[0x08]), (18, &[7])], None));
        assert_eq!(acc.cable, CableClass::Acc);
        let aoc = decode(&sfp(&[(2, &[0x07]), (36, &[0x01]), (18, &[10])], None));
        assert_eq!(aoc.cable, CableClass::Aoc);
        assert_eq!(aoc.length_m, Some(10.0));
        let lr = decode(&sfp(&[(3, &[0x20]), (14, &[10])], None));
        assert_eq!(lr.cable, CableClass::Smf);
        assert_eq!(lr.length_m, Some(10_000.0));
        let lr_100m = decode(&sfp(&[(3, &[0x20]), (15, &[20])], None));
        assert_eq!(lr_100m.length_m, Some(2000.0));
    }

    #[test]
    fn internal_calibration_reads_words_as_units() {
        let e = sfp(
            &[(3, &[0x10]), (92, &[0x68])],
            Some(&[
                (0, &[0x50, 0x00, 0xf6, 0x00, 0x46, 0x00, 0x00, 0x00]),
                (32, &[0x27, 0x10, 0x00, 0x64, 0x1f, 0x07, 0x00, 0xc8]),
                (96, &[0x19, 0x80]),
                (98, &[0x80, 0xe8]),
                (100, &[0x0f, 0xa0]),
                (102, &[0x17, 0x70]),
                (104, &[0x00, 0xfa]),
                (112, &[0x00, 0x00]),
                (116, &[0x00, 0x40]),
            ]),
        );
        let m = decode(&e);
        let d = m.dom.expect("a value");
        assert_eq!(d.calibration, "internal");
        assert!(close(d.temperature_c, 25.5));
        assert!(close(d.vcc_v, 3.3));
        let l = &d.lanes[0];
        assert!(close(l.bias_ma, 8.0));
        assert!(close(l.tx_power_mw, 0.6));
        assert!(close(l.rx_power_mw, 0.025));
        assert!(close(l.rx_power_dbm, 10.0 * 0.025f64.log10()));
        assert!(l.rx_power_flags.low_warning);
        assert!(!l.rx_power_flags.low_alarm);
        let t = d.thresholds.temperature_c.expect("a value");
        assert!((t.high_alarm - 80.0).abs() < 1e-9);
        assert!((t.low_alarm - -10.0).abs() < 1e-9);
        assert!((t.high_warning - 70.0).abs() < 1e-9);
        let rx = d.thresholds.rx_power_mw.expect("a value");
        assert!((rx.high_alarm - 1.0).abs() < 1e-9);
        assert!((rx.low_alarm - 0.01).abs() < 1e-9);
        assert!((rx.low_warning - 0.02).abs() < 1e-9);
    }

    #[test]
    fn external_calibration_applies_slopes_offsets_and_the_rx_polynomial() {
        // Rx: 0 x^4 + 0 x^3 + 0 x^2 + 2.0 x + 100.0; bias slope 2 offset 0; tx slope 0.5
        // offset 10; temp slope 1 offset -512 (-2 C); vcc slope 1 offset 0.
        let e = sfp(
            &[(92, &[0x58])],
            Some(&[
                (38, &[0x00, 0x32]),
                (56, &[0, 0, 0, 0]),
                (60, &[0, 0, 0, 0]),
                (64, &[0, 0, 0, 0]),
                (68, &[0x40, 0x00, 0x00, 0x00]),
                (72, &[0x42, 0xc8, 0x00, 0x00]),
                (76, &[0x02, 0x00, 0x00, 0x00]),
                (80, &[0x00, 0x80, 0x00, 0x0a]),
                (84, &[0x01, 0x00, 0xfe, 0x00]),
                (88, &[0x01, 0x00, 0x00, 0x00]),
                (96, &[0x1b, 0x80]),
                (98, &[0x80, 0xe8]),
                (100, &[0x07, 0xd0]),
                (102, &[0x2e, 0xe0]),
                (104, &[0x03, 0xe8]),
            ]),
        );
        let d = decode(&e).dom.expect("a value");
        assert_eq!(d.calibration, "external");
        // (0x1b80 = 7040) - 512 = 6528 / 256 = 25.5 C
        assert!(close(d.temperature_c, 25.5));
        assert!(close(d.vcc_v, 3.3));
        let l = &d.lanes[0];
        // 2000 * 2 = 4000 x 2 uA = 8 mA
        assert!(close(l.bias_ma, 8.0));
        // 12000 * 0.5 + 10 = 6010 x 0.1 uW = 0.601 mW
        assert!(close(l.tx_power_mw, 0.601));
        // 1000 * 2 + 100 = 2100 x 0.1 uW = 0.21 mW
        assert!(close(l.rx_power_mw, 0.21));
        // Rx low warning threshold raw 50 -> 2 * 50 + 100 = 200 -> 0.02 mW.
        assert!((d.thresholds.rx_power_mw.expect("a value").low_warning - 0.02).abs() < 1e-9);
        // Without external calibration the same words read differently.
        let mut int = e.clone();
        int.pages[0].data[92] = 0x68;
        let di = decode(&int).dom.expect("a value");
        assert!(close(di.lanes[0].rx_power_mw, 0.1));
    }

    #[test]
    fn diagnostics_behind_an_address_change_are_not_read() {
        assert!(has_diagnostics(0x68));
        assert!(!has_diagnostics(0x6c));
        assert!(!has_diagnostics(0x20));
        let e = sfp(&[(92, &[0x6c])], Some(&[(96, &[0x19, 0x00])]));
        assert_eq!(decode(&e).dom, None);
    }
}
