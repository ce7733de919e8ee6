//! SFF-8636 (and SFF-8436): QSFP+ and QSFP28 modules, four lanes.
//!
//! Lower page (SFF-8636 rev 2.10 section 6.2): byte 2 bit 2 "flat memory" (no upper pages
//! beyond 00h), module flags 6-7 (temperature, Vcc: bits 7-4 = high alarm, low alarm, high
//! warning, low warning), lane flags 9-14 (Rx power, Tx bias, Tx power: two lanes per byte,
//! lane 1 in bits 7-4), temperature 22-23, Vcc 26-27, Rx power 34-41, Tx bias 42-49, Tx
//! power 50-57. Upper page 00h (section 6.3): identifier 128, connector 130, compliance
//! 131-138 and 192, lengths 142-146, device technology 147, vendor 148-163, part number
//! 168-183, revision 184-185, wavelength 186-187 (0.05 nm), serial 196-211, date 212-219,
//! diagnostic type 220. Upper page 03h (section 6.4): thresholds for temperature 128,
//! Vcc 144, Rx power 176, Tx bias 184, Tx power 192 (high alarm, low alarm, high warning,
//! low warning each).

use crate::model::module::{CableClass, Module, ModuleEeprom, Standard, Thresholds, I2C_ID};

use super::units;
use super::{connector_name, empty_dom, flags, identifier_name, lane, Page};

/// Lower page byte 2: flat memory (bit 2 set: upper page 00h only).
pub const STATUS: u8 = 2;
/// The flat-memory bit of [`STATUS`].
pub const FLAT_MEM: u8 = 1 << 2;

/// SFF-8636 byte 147 bits 7-4, transmitter technology (table 6-19).
fn technology(code: u8) -> &'static str {
    match code >> 4 {
        0x0 => "850 nm VCSEL",
        0x1 => "1310 nm VCSEL",
        0x2 => "1550 nm VCSEL",
        0x3 => "1310 nm FP",
        0x4 => "1310 nm DFB",
        0x5 => "1550 nm DFB",
        0x6 => "1310 nm EML",
        0x7 => "1550 nm EML",
        0x9 => "1490 nm DFB",
        0xa => "copper cable, unequalized",
        0xb => "copper cable, passive equalized",
        0xc..=0xf => "copper cable, active equalizers",
        _ => "other",
    }
}

fn classify(p0: Page<'_>) -> (CableClass, Option<String>) {
    let b = |o: u8| p0.u8(o).unwrap_or(0);
    let comp = b(131);
    let tech = b(147) >> 4;
    // SFF-8024 table 4-4, extended compliance (byte 192, valid when byte 131 bit 7 is set).
    if comp & 0x80 != 0 {
        let (c, m) = match b(192) {
            0x01 | 0x18 => (CableClass::Aoc, "100G AOC"),
            0x02 => (CableClass::Mmf, "100GBASE-SR4"),
            0x03 => (CableClass::Smf, "100GBASE-LR4"),
            0x04 => (CableClass::Smf, "100GBASE-ER4"),
            0x05 => (CableClass::Mmf, "100GBASE-SR10"),
            0x06 => (CableClass::Smf, "100G CWDM4"),
            0x07 => (CableClass::Smf, "100G PSM4"),
            0x08 | 0x19 => (CableClass::Acc, "100G ACC"),
            0x0b => (CableClass::Dac, "100GBASE-CR4"),
            0x0c | 0x0d => (CableClass::Dac, "25GBASE-CR"),
            _ => (CableClass::Unknown, ""),
        };
        if c != CableClass::Unknown {
            return (c, Some(m.to_string()));
        }
    }
    if comp & 0x08 != 0 {
        return (CableClass::Dac, Some("40GBASE-CR4".into()));
    }
    if comp & 0x04 != 0 {
        return (CableClass::Mmf, Some("40GBASE-SR4".into()));
    }
    if comp & 0x02 != 0 {
        return (CableClass::Smf, Some("40GBASE-LR4".into()));
    }
    let class = match tech {
        0xa | 0xb => CableClass::Dac,
        0xc..=0xf => CableClass::Acc,
        0x0 => CableClass::Mmf,
        0x1..=0x9 => CableClass::Smf,
        _ => CableClass::Unknown,
    };
    (class, None)
}

/// Decodes an SFF-8636 module.
pub fn decode(e: &ModuleEeprom) -> Module {
    let lo = Page::new(e, I2C_ID, 0, 0);
    let p0 = lo;
    let id = p0.u8(128).or_else(|| lo.u8(0)).unwrap_or(0);
    let (cable, media) = classify(p0);
    let b = |o: u8| p0.u8(o).filter(|&v| v != 0).map(f64::from);
    let length_m = match cable {
        CableClass::Dac | CableClass::Acc | CableClass::Aoc => b(146),
        CableClass::Smf => b(142).map(|km| km * 1000.0),
        // OM4 (146, 2 m units), OM3 (143, 2 m), OM2 (144, 1 m), OM1 (145, 1 m): the longest.
        CableClass::Mmf => [
            b(146).map(|v| v * 2.0),
            b(143).map(|v| v * 2.0),
            b(144),
            b(145),
        ]
        .into_iter()
        .flatten()
        .reduce(f64::max),
        CableClass::BaseT | CableClass::Unknown => None,
    };
    let tech = p0.u8(147).unwrap_or(0);
    let wavelength_nm = if tech >> 4 >= 0xa {
        None
    } else {
        p0.u16(186).filter(|&w| w != 0).map(|w| f64::from(w) / 20.0)
    };
    let media = media.or_else(|| p0.present(147).then(|| technology(tech).to_string()));
    Module {
        standard: Standard::Sff8636,
        identifier_code: id,
        identifier: identifier_name(id).to_string(),
        connector: connector_name(p0.u8(130).unwrap_or(0)),
        vendor: p0.text(148, 16),
        part_number: p0.text(168, 16),
        revision: p0.text(184, 2),
        serial: p0.text(196, 16),
        date: p0.date(212),
        cable,
        media,
        length_m,
        wavelength_nm,
        dom: dom(e),
    }
}

/// Diagnostics exist when byte 220 advertises any monitor (temperature bit 5, Vcc bit 4,
/// Tx power bit 2) or the module is an optic (byte 147 below the copper codes); passive
/// copper leaves them out.
fn dom(e: &ModuleEeprom) -> Option<crate::model::module::Dom> {
    let lo = Page::new(e, I2C_ID, 0, 0);
    let diag_type = lo.u8(220).unwrap_or(0);
    let copper = lo.u8(147).is_some_and(|t| t >> 4 >= 0xa);
    if diag_type & 0x34 == 0 && (copper || !lo.present(147)) {
        return None;
    }
    let mut d = empty_dom("internal");
    d.temperature_c = lo.i16(22).map(units::temperature_c);
    d.vcc_v = lo.u16(26).map(units::vcc_v);
    let module_bits = [0x80, 0x40, 0x20, 0x10];
    d.temperature_flags = flags(lo.u8(6), module_bits);
    d.vcc_flags = flags(lo.u8(7), module_bits);
    for i in 0..4u8 {
        let mut l = lane(
            i + 1,
            lo.u16(42 + 2 * i),
            lo.u16(50 + 2 * i),
            lo.u16(34 + 2 * i),
        );
        // Lanes 1 and 3 in bits 7-4, lanes 2 and 4 in bits 3-0.
        let byte = i / 2;
        let bits = if i % 2 == 0 {
            module_bits
        } else {
            [0x08, 0x04, 0x02, 0x01]
        };
        l.rx_power_flags = flags(lo.u8(9 + byte), bits);
        l.bias_flags = flags(lo.u8(11 + byte), bits);
        l.tx_power_flags = flags(lo.u8(13 + byte), bits);
        d.lanes.push(l);
    }
    let flat = lo.u8(STATUS).unwrap_or(0) & FLAT_MEM != 0;
    if !flat {
        let p3 = Page::new(e, I2C_ID, 3, 0);
        d.thresholds = Thresholds {
            temperature_c: p3.levels(128, |r| units::temperature_c(r as i16)),
            vcc_v: p3.levels(144, units::vcc_v),
            rx_power_mw: p3.levels(176, units::power_mw),
            bias_ma: p3.levels(184, units::bias_ma),
            tx_power_mw: p3.levels(192, units::power_mw),
        };
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::module::RawPage;

    fn qsfp(lower: &[(usize, &[u8])], page3: Option<&[(usize, &[u8])]>) -> ModuleEeprom {
        let mut data = vec![0u8; 256];
        data[0] = 0x11;
        data[128] = 0x11;
        for (o, b) in lower {
            data[*o..*o + b.len()].copy_from_slice(b);
        }
        let mut pages = vec![
            RawPage {
                i2c: I2C_ID,
                page: 0,
                bank: 0,
                offset: 0,
                data: data[..128].to_vec(),
            },
            RawPage {
                i2c: I2C_ID,
                page: 0,
                bank: 0,
                offset: 128,
                data: data[128..].to_vec(),
            },
        ];
        if let Some(p3) = page3 {
            let mut d = vec![0u8; 128];
            for (o, b) in p3 {
                d[*o - 128..*o - 128 + b.len()].copy_from_slice(b);
            }
            pages.push(RawPage {
                i2c: I2C_ID,
                page: 3,
                bank: 0,
                offset: 128,
                data: d,
            });
        }
        ModuleEeprom {
            source: "test".into(),
            pages,
        }
    }

    #[test]
    fn passive_dac_has_length_and_no_dom() {
        let m = decode(&qsfp(
            &[
                (2, &[FLAT_MEM]),
                (130, &[0x23]),
                (131, &[0x80]),
                (146, &[2]),
                (147, &[0xa0]),
                (192, &[0x0b]),
            ],
            None,
        ));
        assert_eq!(m.identifier, "QSFP28");
        assert_eq!(m.cable, CableClass::Dac);
        assert_eq!(m.media.as_deref(), Some("100GBASE-CR4"));
        assert_eq!(m.length_m, Some(2.0));
        assert_eq!(m.wavelength_nm, None);
        assert_eq!(m.dom, None);
    }

    #[test]
    fn sr4_lanes_flags_and_page_3_thresholds() {
        let m = decode(&qsfp(
            &[
                (6, &[0x00, 0x00]),
                (9, &[0x01, 0x00]),
                (22, &[0x21, 0x40]),
                (26, &[0x81, 0x1a]),
                (34, &[0x1f, 0x40, 0x1c, 0x20, 0x19, 0x00, 0x03, 0xe8]),
                (42, &[0x0f, 0xa0, 0x0f, 0xa0, 0x0f, 0xa0, 0x0f, 0xa0]),
                (50, &[0x13, 0x88, 0x13, 0x88, 0x13, 0x88, 0x13, 0x88]),
                (131, &[0x80]),
                (143, &[35]),
                (146, &[50]),
                (147, &[0x00]),
                (186, &[0x42, 0x68]),
                (192, &[0x02]),
                (220, &[0x3c]),
            ],
            Some(&[
                (128, &[0x4b, 0x00, 0xfb, 0x00, 0x46, 0x00, 0x00, 0x00]),
                (176, &[0x4d, 0x8a, 0x00, 0x8a, 0x27, 0x10, 0x02, 0xb6]),
            ]),
        ));
        assert_eq!(m.cable, CableClass::Mmf);
        assert_eq!(m.media.as_deref(), Some("100GBASE-SR4"));
        assert_eq!(m.length_m, Some(100.0));
        assert_eq!(m.wavelength_nm, Some(850.0));
        let d = m.dom.expect("a value");
        assert!((d.temperature_c.expect("a value") - 33.25).abs() < 1e-9);
        assert!((d.vcc_v.expect("a value") - 3.305).abs() < 1e-9);
        assert_eq!(d.lanes.len(), 4);
        assert!((d.lanes[0].rx_power_mw.expect("a value") - 0.8).abs() < 1e-9);
        assert!((d.lanes[3].rx_power_mw.expect("a value") - 0.1).abs() < 1e-9);
        assert!((d.lanes[3].rx_power_dbm.expect("a value") - -10.0).abs() < 1e-9);
        assert!((d.lanes[1].bias_ma.expect("a value") - 8.0).abs() < 1e-9);
        assert!((d.lanes[2].tx_power_mw.expect("a value") - 0.5).abs() < 1e-9);
        // Byte 9 = 0x01: lane 2 (bits 3-0) low warning; lane 1 clear.
        assert!(!d.lanes[0].rx_power_flags.any());
        assert!(d.lanes[1].rx_power_flags.low_warning);
        assert!(!d.lanes[1].rx_power_flags.low_alarm);
        let t = d.thresholds.temperature_c.expect("a value");
        assert!((t.high_alarm - 75.0).abs() < 1e-9);
        assert!((t.low_alarm - -5.0).abs() < 1e-9);
        let rx = d.thresholds.rx_power_mw.expect("a value");
        assert!((rx.high_alarm - 1.9850).abs() < 1e-9);
        assert!((rx.low_alarm - 0.0138).abs() < 1e-9);
        assert!((rx.low_warning - 0.0694).abs() < 1e-9);
        assert_eq!(
            d.thresholds.bias_ma,
            Some(crate::model::module::Levels {
                high_alarm: 0.0,
                low_alarm: 0.0,
                high_warning: 0.0,
                low_warning: 0.0
            })
        );
    }

    #[test]
    fn flat_memory_reads_no_page_3_thresholds() {
        let m = decode(&qsfp(
            &[(2, &[FLAT_MEM]), (147, &[0x00]), (220, &[0x30])],
            None,
        ));
        assert_eq!(m.dom.expect("a value").thresholds, Thresholds::default());
    }

    #[test]
    fn technology_codes() {
        assert_eq!(technology(0x00), "850 nm VCSEL");
        assert_eq!(technology(0x40), "1310 nm DFB");
        assert_eq!(technology(0xa0), "copper cable, unequalized");
        assert_eq!(technology(0xf0), "copper cable, active equalizers");
    }
}
