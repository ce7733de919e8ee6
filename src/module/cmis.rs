//! CMIS 4.0/5.x: QSFP-DD, OSFP and other CMIS modules, up to 8 lanes per bank.
//!
//! Lower page (CMIS 5.2 section 8.3): byte 2 bit 7 flat memory, module flags byte 9
//! (temperature bits 0-3, Vcc bits 4-7: high alarm, low alarm, high warning, low warning),
//! temperature 14-15, Vcc 16-17, media type 85 (1 MMF, 2 SMF, 3 passive copper, 4 active
//! cable, 5 BASE-T). Page 00h (section 8.4): vendor 129-144, part number 148-163, revision
//! 164-165, serial 166-181, date 182-189, cable assembly length 202 (bits 7-6 multiplier
//! 0.1/1/10/100 m, bits 5-0 value), connector 203, media interface technology 212. Page 01h
//! (section 8.5): link lengths 132-136, wavelength 138-139 (0.05 nm), banks 142 bits 1-0,
//! monitors advertised 160 (bias multiplier bits 4-3). Page 02h (section 8.6): thresholds of
//! temperature 128, Vcc 136, Tx power 176, Tx bias 184, Rx power 192. Page 11h (section
//! 8.9): lane flags (Tx power 139-142, Tx bias 143-146, Rx power 149-152, one bit per
//! lane), Tx power 154-169, Tx bias 170-185, Rx power 186-201, lanes 1-8.

use crate::model::module::{CableClass, Module, ModuleEeprom, Standard, Thresholds, I2C_ID};

use super::units;
use super::{connector_name, empty_dom, identifier_name, lane, Page};
use crate::model::module::Flags;

/// Lower page byte 2: bit 7 set means flat memory (page 00h only).
pub const MEMORY_MODEL: u8 = 2;
/// The flat-memory bit of [`MEMORY_MODEL`].
pub const FLAT_MEM: u8 = 1 << 7;
/// Page 01h byte 142: banks supported in bits 1-0 (0: bank 0, 1: banks 0-1, 2: banks 0-3).
pub const BANKS_ADVERTISED: u8 = 142;
/// Lanes in one bank.
pub const LANES_PER_BANK: u8 = 8;

/// The number of banks page 01h byte 142 advertises.
pub fn banks(byte_142: u8) -> u8 {
    match byte_142 & 0x03 {
        0 => 1,
        1 => 2,
        _ => 4,
    }
}

/// CMIS byte 212 (same codes as SFF-8636 byte 147, table 8-40).
fn technology(code: u8) -> &'static str {
    match code {
        0x00 => "850 nm VCSEL",
        0x01 => "1310 nm VCSEL",
        0x02 => "1550 nm VCSEL",
        0x03 => "1310 nm FP",
        0x04 => "1310 nm DFB",
        0x05 => "1550 nm DFB",
        0x06 => "1310 nm EML",
        0x07 => "1550 nm EML",
        0x09 => "1490 nm DFB",
        0x0a => "copper cable, unequalized",
        0x0b => "copper cable, passive equalized",
        0x0c..=0x0f => "copper cable, active equalizers",
        _ => "other",
    }
}

/// Cable assembly length byte 202: multiplier in bits 7-6, value in bits 5-0.
pub fn cable_length_m(b: u8) -> f64 {
    let mult = match b >> 6 {
        0 => 0.1,
        1 => 1.0,
        2 => 10.0,
        _ => 100.0,
    };
    f64::from(b & 0x3f) * mult
}

/// Decodes a CMIS module.
pub fn decode(e: &ModuleEeprom) -> Module {
    let p0 = Page::new(e, I2C_ID, 0, 0);
    let p1 = Page::new(e, I2C_ID, 1, 0);
    let id = p0.u8(0).unwrap_or(0);
    let tech = p0.u8(212).unwrap_or(0xff);
    let copper_tech = (0x0a..=0x0f).contains(&tech);
    let cable = match p0.u8(85).unwrap_or(0) {
        0x01 => CableClass::Mmf,
        0x02 => CableClass::Smf,
        0x03 => CableClass::Dac,
        0x04 if copper_tech => CableClass::Acc,
        0x04 => CableClass::Aoc,
        0x05 => CableClass::BaseT,
        _ => CableClass::Unknown,
    };
    let b = |o: u8| p1.u8(o).filter(|&v| v != 0);
    let length_m = match cable {
        CableClass::Dac | CableClass::Acc | CableClass::Aoc => {
            p0.u8(202).filter(|&v| v != 0).map(cable_length_m)
        }
        // Byte 132: multiplier bits 7-6 (0.1 km, 1 km), value bits 5-0.
        CableClass::Smf => b(132).map(|v| {
            let km = if v >> 6 == 0 { 0.1 } else { 1.0 };
            f64::from(v & 0x3f) * km * 1000.0
        }),
        // OM5 133, OM4 134, OM3 135 (2 m units), OM2 136 (1 m): the longest.
        CableClass::Mmf => [
            b(133).map(|v| f64::from(v) * 2.0),
            b(134).map(|v| f64::from(v) * 2.0),
            b(135).map(|v| f64::from(v) * 2.0),
            b(136).map(f64::from),
        ]
        .into_iter()
        .flatten()
        .reduce(f64::max),
        CableClass::BaseT | CableClass::Unknown => None,
    };
    let wavelength_nm = if cable.is_optical() {
        p1.u16(138).filter(|&w| w != 0).map(|w| f64::from(w) / 20.0)
    } else {
        None
    };
    Module {
        standard: Standard::Cmis,
        identifier_code: id,
        identifier: identifier_name(id).to_string(),
        connector: connector_name(p0.u8(203).unwrap_or(0)),
        vendor: p0.text(129, 16),
        part_number: p0.text(148, 16),
        revision: p0.text(164, 2),
        serial: p0.text(166, 16),
        date: p0.date(182),
        cable,
        media: p0.present(212).then(|| technology(tech).to_string()),
        length_m,
        wavelength_nm,
        dom: dom(e, cable),
    }
}

/// One bit per lane in each of four bytes (high alarm, low alarm, high warning, low
/// warning) starting at `off`.
fn lane_flags(p: Page<'_>, off: u8, lane0: u8) -> Flags {
    let bit = 1u8 << lane0;
    let on = |o: u8| p.u8(o).is_some_and(|b| b & bit != 0);
    Flags {
        high_alarm: on(off),
        low_alarm: on(off + 1),
        high_warning: on(off + 2),
        low_warning: on(off + 3),
    }
}

fn dom(e: &ModuleEeprom, cable: CableClass) -> Option<crate::model::module::Dom> {
    let lo = Page::new(e, I2C_ID, 0, 0);
    let flat = lo.u8(MEMORY_MODEL).unwrap_or(0) & FLAT_MEM != 0;
    // Passive copper has no monitors worth showing (CMIS makes them optional; a flat-memory
    // DAC reads zeros).
    if cable == CableClass::Dac && flat {
        return None;
    }
    let mut d = empty_dom("internal");
    d.temperature_c = lo.i16(14).map(units::temperature_c);
    d.vcc_v = lo.u16(16).map(units::vcc_v);
    let f = lo.u8(9).unwrap_or(0);
    d.temperature_flags = super::flags(Some(f), [0x01, 0x02, 0x04, 0x08]);
    d.vcc_flags = super::flags(Some(f), [0x10, 0x20, 0x40, 0x80]);
    if flat {
        return Some(d);
    }
    let p1 = Page::new(e, I2C_ID, 1, 0);
    let adv = p1.u8(160).unwrap_or(0);
    let bias_mult = match (adv >> 3) & 0x03 {
        0 => 1.0,
        1 => 2.0,
        _ => 4.0,
    };
    let p2 = Page::new(e, I2C_ID, 2, 0);
    d.thresholds = Thresholds {
        temperature_c: p2.levels(128, |r| units::temperature_c(r as i16)),
        vcc_v: p2.levels(136, units::vcc_v),
        tx_power_mw: p2.levels(176, units::power_mw),
        bias_ma: p2.levels(184, |r| units::bias_ma(r) * bias_mult),
        rx_power_mw: p2.levels(192, units::power_mw),
    };
    // Bank 0 only: lanes 1-8.
    let p11 = Page::new(e, I2C_ID, 0x11, 0);
    if p11.present(154) {
        for i in 0..LANES_PER_BANK {
            let mut l = lane(
                i + 1,
                p11.u16(170 + 2 * i),
                p11.u16(154 + 2 * i),
                p11.u16(186 + 2 * i),
            );
            l.bias_ma = l.bias_ma.map(|b| b * bias_mult);
            l.tx_power_flags = lane_flags(p11, 139, i);
            l.bias_flags = lane_flags(p11, 143, i);
            l.rx_power_flags = lane_flags(p11, 149, i);
            d.lanes.push(l);
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::module::RawPage;

    /// Bytes to set: (offset, bytes).
    type Fields<'a> = &'a [(usize, &'a [u8])];

    fn cmis(lower: Fields<'_>, pages: &[(u8, Fields<'_>)]) -> Module {
        let mut lo = vec![0u8; 256];
        lo[0] = 0x18;
        lo[128] = 0x18;
        for (o, b) in lower {
            lo[*o..*o + b.len()].copy_from_slice(b);
        }
        let mut out = vec![
            RawPage {
                i2c: I2C_ID,
                page: 0,
                bank: 0,
                offset: 0,
                data: lo[..128].to_vec(),
            },
            RawPage {
                i2c: I2C_ID,
                page: 0,
                bank: 0,
                offset: 128,
                data: lo[128..].to_vec(),
            },
        ];
        for (page, fields) in pages {
            let mut d = vec![0u8; 128];
            for (o, b) in *fields {
                d[*o - 128..*o - 128 + b.len()].copy_from_slice(b);
            }
            out.push(RawPage {
                i2c: I2C_ID,
                page: *page,
                bank: 0,
                offset: 128,
                data: d,
            });
        }
        decode(&ModuleEeprom {
            source: "test".into(),
            pages: out,
        })
    }

    #[test]
    fn cable_length_multipliers() {
        assert!((cable_length_m(0x05) - 0.5).abs() < 1e-9);
        assert!((cable_length_m(0x43) - 3.0).abs() < 1e-9);
        assert!((cable_length_m(0x82) - 20.0).abs() < 1e-9);
        assert!((cable_length_m(0xc1) - 100.0).abs() < 1e-9);
        assert_eq!(banks(0), 1);
        assert_eq!(banks(1), 2);
        assert_eq!(banks(2), 4);
    }

    #[test]
    fn eight_lanes_with_bias_multiplier_flags_and_thresholds() {
        let mut rx = Vec::new();
        for i in 0..8u16 {
            rx.extend_from_slice(&(5000 - i * 100).to_be_bytes());
        }
        let m = cmis(
            &[
                (9, &[0x00]),
                (14, &[0x28, 0x80]),
                (16, &[0x80, 0xe8]),
                (85, &[0x01]),
                (129, b"ACME            "),
                (148, b"QDD-400G-SR8    "),
                (182, b"25061500"),
                (203, &[0x0c]),
                (212, &[0x00]),
            ],
            &[
                (
                    1,
                    &[
                        (134, &[50]),
                        (135, &[35]),
                        (138, &[0x42, 0x68]),
                        (160, &[0x0f]),
                    ],
                ),
                (
                    2,
                    &[
                        (184, &[0x1f, 0x40, 0x03, 0xe8, 0x1b, 0x58, 0x07, 0xd0]),
                        (192, &[0x4d, 0x8a, 0x00, 0x8a, 0x27, 0x10, 0x02, 0xb6]),
                    ],
                ),
                (0x11, &[(152, &[0x80]), (170, &[0x0f, 0xa0]), (186, &rx)]),
            ],
        );
        assert_eq!(m.identifier, "QSFP-DD");
        assert_eq!(m.vendor, "ACME");
        assert_eq!(m.part_number, "QDD-400G-SR8");
        assert_eq!(m.date.as_deref(), Some("2025-06-15"));
        assert_eq!(m.connector, "MPO 1x12");
        assert_eq!(m.cable, CableClass::Mmf);
        assert_eq!(m.length_m, Some(100.0));
        assert_eq!(m.wavelength_nm, Some(850.0));
        let d = m.dom.expect("a value");
        assert!((d.temperature_c.expect("a value") - 40.5).abs() < 1e-9);
        assert_eq!(d.lanes.len(), 8);
        // Multiplier bits 4-3 of 0x0f = 01: x2. 4000 x 2 uA x 2 = 16 mA.
        assert!((d.lanes[0].bias_ma.expect("a value") - 16.0).abs() < 1e-9);
        assert!((d.thresholds.bias_ma.expect("a value").high_alarm - 32.0).abs() < 1e-9);
        assert!((d.lanes[7].rx_power_mw.expect("a value") - 0.43).abs() < 1e-9);
        assert!(d.lanes[7].rx_power_flags.low_warning);
        assert!(!d.lanes[6].rx_power_flags.low_warning);
        assert!((d.thresholds.rx_power_mw.expect("a value").low_warning - 0.0694).abs() < 1e-9);
    }

    #[test]
    fn module_flags_are_low_bits_first() {
        let m = cmis(&[(2, &[FLAT_MEM]), (9, &[0x84]), (85, &[0x02])], &[]);
        let d = m.dom.expect("a value");
        assert!(d.temperature_flags.high_warning);
        assert!(!d.temperature_flags.high_alarm);
        assert!(d.vcc_flags.low_warning);
        assert!(d.lanes.is_empty(), "flat memory has no page 11h");
    }

    #[test]
    fn active_cables_split_by_technology_and_flat_dac_has_no_dom() {
        let aoc = cmis(&[(85, &[0x04]), (212, &[0x00]), (202, &[0x4a])], &[]);
        assert_eq!(aoc.cable, CableClass::Aoc);
        assert_eq!(aoc.length_m, Some(10.0));
        let acc = cmis(&[(85, &[0x04]), (212, &[0x0d])], &[]);
        assert_eq!(acc.cable, CableClass::Acc);
        let dac = cmis(&[(2, &[FLAT_MEM]), (85, &[0x03]), (202, &[0x42])], &[]);
        assert_eq!(dac.cable, CableClass::Dac);
        assert_eq!(dac.length_m, Some(2.0));
        assert_eq!(dac.dom, None);
    }
}
