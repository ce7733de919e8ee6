//! Module EEPROM fixtures, built here byte by byte from the standards' layouts, and the
//! goldens of what `show` makes of them.
//!
//! No machine here has a pluggable module, so the pages are written from the layouts:
//! SFF-8636 rev 2.10 (QSFP28: lower page, upper pages 00h and 03h), SFF-8472 rev 12.4
//! (SFP: A0h and A2h with external calibration), OIF CMIS 5.2 (QSFP-DD: lower page, pages
//! 00h, 01h, 02h, 11h) and SFF-8024 (identifier, connector and compliance codes). Every byte
//! set below names its offset and meaning; all others are zero. The generator writes
//! `tests/fixtures/module/optics-node.json` (a snapshot: four interfaces on the
//! `tests/fixtures/show/stats-node.json` node, one per module kind); `DPUCTL_BLESS=1`
//! rewrites it and the goldens, and without it the test fails if either differs.
//!
//! Each golden's values were checked by hand against these bytes (worked out in the
//! comments: raw word, unit, value).

mod common;

use common::golden::golden;
use std::path::PathBuf;
use std::process::{Command, Output};

use dpuctl::model::module::{ModuleEeprom, RawPage, I2C_DIAG, I2C_ID};
use dpuctl::model::{Avail, NodeState};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A half page with `fields` (offset as the standard numbers it, bytes) set.
fn half(i2c: u8, page: u8, offset: u8, fields: &[(usize, &[u8])]) -> RawPage {
    let base = usize::from(offset);
    let mut data = vec![0u8; 128];
    for (o, b) in fields {
        let at = o - base;
        data[at..at + b.len()].copy_from_slice(b);
    }
    RawPage {
        i2c,
        page,
        bank: 0,
        offset,
        data,
    }
}

fn eeprom(pages: Vec<RawPage>) -> ModuleEeprom {
    ModuleEeprom {
        source: "netlink".into(),
        pages,
    }
}

/// 100GBASE-SR4 QSFP28 optic with diagnostics (SFF-8636).
fn sr4_qsfp28() -> ModuleEeprom {
    eeprom(vec![
        half(
            I2C_ID,
            0,
            0,
            &[
                (0, &[0x11]), // identifier: QSFP28
                (1, &[0x08]), // revision compliance: SFF-8636 rev 2.7+
                (2, &[0x00]), // status: paged memory (flat_mem bit 2 clear), data ready
                // 22-23 temperature 0x2140 = 8512 / 256 = 33.25 C
                (22, &[0x21, 0x40]),
                // 26-27 Vcc 0x811a = 33050 x 100 uV = 3.305 V
                (26, &[0x81, 0x1a]),
                // 34-41 Rx power lanes 1-4 (0.1 uW): 8000 = 0.8 mW (-0.97 dBm), 7500 = 0.75,
                // 7000 = 0.70, 6500 = 0.65 mW (-1.87 dBm)
                (34, &[0x1f, 0x40, 0x1d, 0x4c, 0x1b, 0x58, 0x19, 0x64]),
                // 42-49 Tx bias lanes 1-4 (2 uA): 3500 = 7.0 mA, 3600 = 7.2, 3400 = 6.8,
                // 3550 = 7.1 mA
                (42, &[0x0d, 0xac, 0x0e, 0x10, 0x0d, 0x48, 0x0d, 0xde]),
                // 50-57 Tx power lanes 1-4: 5000 = 0.5 mW (-3.01 dBm), 5200, 4800, 4900
                (50, &[0x13, 0x88, 0x14, 0x50, 0x12, 0xc0, 0x13, 0x24]),
            ],
        ),
        half(
            I2C_ID,
            0,
            128,
            &[
                (128, &[0x11]),             // identifier: QSFP28
                (130, &[0x0c]),             // connector: MPO 1x12
                (131, &[0x80]),             // compliance: extended (see 192)
                (143, &[35]),               // length OM3: 35 x 2 m = 70 m
                (146, &[50]),               // length OM4: 50 x 2 m = 100 m
                (147, &[0x00]),             // device technology: 850 nm VCSEL
                (148, b"ACME OPTICS     "), // vendor name
                (165, &[0x00, 0x17, 0x6a]), // vendor OUI
                (168, b"Q28-SR4-100G    "), // part number
                (184, b"A0"),               // revision
                (186, &[0x42, 0x68]),       // wavelength 17000 x 0.05 nm = 850 nm
                (192, &[0x02]),             // extended compliance: 100GBASE-SR4
                (196, b"AQ24013100017   "), // serial number
                (212, b"240131  "),         // date code: 2024-01-31
                (220, &[0x3c]),             // diagnostics: temp, Vcc, Rx average, Tx power
            ],
        ),
        half(
            I2C_ID,
            3,
            128,
            &[
                // 128-135 temperature HA 75 C, LA -5 C, HW 70 C, LW 0 C
                (128, &[0x4b, 0x00, 0xfb, 0x00, 0x46, 0x00, 0x00, 0x00]),
                // 144-151 Vcc HA 3.63 V, LA 2.97 V, HW 3.465 V, LW 3.135 V
                (144, &[0x8d, 0xcc, 0x74, 0x04, 0x87, 0x5a, 0x7a, 0x76]),
                // 176-183 Rx power HA 2.1878 mW (3.40 dBm), LA 0.0575 mW (-12.40 dBm),
                // HW 1.7378 mW (2.40 dBm), LW 0.0912 mW (-10.40 dBm)
                (176, &[0x55, 0x76, 0x02, 0x3f, 0x43, 0xe2, 0x03, 0x90]),
                // 184-191 Tx bias HA 13 mA, LA 3 mA, HW 12 mA, LW 4 mA
                (184, &[0x19, 0x64, 0x05, 0xdc, 0x17, 0x70, 0x07, 0xd0]),
                // 192-199 Tx power HA 1.7378 mW, LA 0.1445 mW, HW 1.3804 mW, LW 0.182 mW
                (192, &[0x43, 0xe2, 0x05, 0xa5, 0x35, 0xec, 0x07, 0x1c]),
            ],
        ),
    ])
}

/// 100GBASE-CR4 passive copper cable, 3 m, flat memory, no diagnostics (SFF-8636).
fn dac_qsfp28() -> ModuleEeprom {
    eeprom(vec![
        half(
            I2C_ID,
            0,
            0,
            &[
                (0, &[0x11]), // identifier: QSFP28
                (1, &[0x08]),
                (2, &[0x04]), // status: flat memory (bit 2): no page 03h
            ],
        ),
        half(
            I2C_ID,
            0,
            128,
            &[
                (128, &[0x11]),
                (130, &[0x23]),             // connector: no separable connector
                (131, &[0x80]),             // compliance: extended (see 192)
                (146, &[3]),                // cable length 3 m
                (147, &[0xa0]),             // technology: copper cable, unequalized
                (148, b"ACME CABLES     "), // vendor name
                (168, b"Q28-DAC-3M      "), // part number
                (184, b"B0"),               // revision
                (186, &[0x05, 0x0b]),       // copper attenuation 5 dB @2.5 GHz, 11 dB @5 GHz
                (192, &[0x0b]),             // extended compliance: 100GBASE-CR4
                (196, b"CB23061500042   "), // serial number
                (212, b"230615  "),         // date code: 2023-06-15
                (220, &[0x00]),             // diagnostics: none
            ],
        ),
    ])
}

/// 400GBASE-SR8 QSFP-DD with 8 lanes, lane 6 0.5 dB above its low Rx power warning (CMIS).
fn cmis_400g_sr8() -> ModuleEeprom {
    eeprom(vec![
        half(
            I2C_ID,
            0,
            0,
            &[
                (0, &[0x18]), // identifier: QSFP-DD
                (1, &[0x50]), // CMIS 5.0
                (2, &[0x00]), // memory model: paged (bit 7 clear)
                (3, &[0x06]), // module state (bits 3-1): 3 = ModuleReady
                (9, &[0x00]), // module flags: none
                // 14-15 temperature 0x2880 = 10368 / 256 = 40.5 C
                (14, &[0x28, 0x80]),
                // 16-17 Vcc 0x8098 = 32920 x 100 uV = 3.292 V
                (16, &[0x80, 0x98]),
                (85, &[0x01]), // media type: MMF
                // 86-89 application 1: host 400GAUI-8 C2M (0x11), media 400GBASE-SR8
                // (0x10), 8 host and 8 media lanes, host lane 1 (not decoded)
                (86, &[0x11, 0x10, 0x88, 0x01]),
            ],
        ),
        half(
            I2C_ID,
            0,
            128,
            &[
                (128, &[0x18]),
                (129, b"ACME OPTICS     "), // vendor name
                (145, &[0x00, 0x17, 0x6a]), // vendor OUI
                (148, b"QDD-400G-SR8    "), // part number
                (164, b"B1"),               // revision
                (166, b"AD25061500008   "), // serial number
                (182, b"250615  "),         // date code: 2025-06-15
                (200, &[0xa0]),             // power class 6
                (203, &[0x28]),             // connector: MPO 1x16
                (212, &[0x00]),             // media technology: 850 nm VCSEL
            ],
        ),
        half(
            I2C_ID,
            1,
            128,
            &[
                (128, &[0x02, 0x05]), // firmware 2.5
                (134, &[50]),         // length OM4: 50 x 2 m = 100 m
                (135, &[35]),         // length OM3: 35 x 2 m = 70 m
                (138, &[0x42, 0x68]), // wavelength 850 nm
                (142, &[0x00]),       // banks: bank 0 only
                (160, &[0x07]),       // monitors: Tx bias, Tx power, Rx power; bias x1
            ],
        ),
        half(
            I2C_ID,
            2,
            128,
            &[
                // 128-135 temperature HA 75 C, LA -5 C, HW 70 C, LW 0 C
                (128, &[0x4b, 0x00, 0xfb, 0x00, 0x46, 0x00, 0x00, 0x00]),
                // 136-143 Vcc HA 3.63 V, LA 2.97 V, HW 3.465 V, LW 3.135 V
                (136, &[0x8d, 0xcc, 0x74, 0x04, 0x87, 0x5a, 0x7a, 0x76]),
                // 176-183 Tx power HA 1.7378 mW, LA 0.1445 mW, HW 1.3804 mW, LW 0.182 mW
                (176, &[0x43, 0xe2, 0x05, 0xa5, 0x35, 0xec, 0x07, 0x1c]),
                // 184-191 Tx bias HA 13 mA, LA 3 mA, HW 12 mA, LW 4 mA
                (184, &[0x19, 0x64, 0x05, 0xdc, 0x17, 0x70, 0x07, 0xd0]),
                // 192-199 Rx power HA 2.1878 mW, LA 0.0575 mW (-12.40 dBm), HW 1.7378 mW,
                // LW 0.0912 mW (-10.40 dBm)
                (192, &[0x55, 0x76, 0x02, 0x3f, 0x43, 0xe2, 0x03, 0x90]),
            ],
        ),
        half(
            I2C_ID,
            0x11,
            128,
            &[
                (128, &[0x44, 0x44, 0x44, 0x44]), // data path state: activated
                // 154-169 Tx power lanes 1-8: 5000 = 0.5 mW each but lane 8 5200
                (
                    154,
                    &[
                        0x13, 0x88, 0x13, 0x88, 0x13, 0x88, 0x13, 0x88, 0x13, 0x88, 0x13, 0x88,
                        0x13, 0x88, 0x14, 0x50,
                    ],
                ),
                // 170-185 Tx bias lanes 1-8: 3500 x 2 uA = 7.0 mA each
                (
                    170,
                    &[
                        0x0d, 0xac, 0x0d, 0xac, 0x0d, 0xac, 0x0d, 0xac, 0x0d, 0xac, 0x0d, 0xac,
                        0x0d, 0xac, 0x0d, 0xac,
                    ],
                ),
                // 186-201 Rx power lanes 1-8: 8000 (0.8 mW, -0.97 dBm), 7500, 7000, 6500,
                // 6000, 1023 (0.1023 mW = -9.90 dBm: 0.50 dB above the -10.40 dBm low
                // warning), 5500, 5000 (0.5 mW, -3.01 dBm)
                (
                    186,
                    &[
                        0x1f, 0x40, 0x1d, 0x4c, 0x1b, 0x58, 0x19, 0x64, 0x17, 0x70, 0x03, 0xff,
                        0x15, 0x7c, 0x13, 0x88,
                    ],
                ),
            ],
        ),
    ])
}

/// 10GBASE-SR SFP+ with externally calibrated diagnostics (SFF-8472): A2h holds raw A/D
/// values and the constants that turn them into units.
fn sfp_external_cal() -> ModuleEeprom {
    eeprom(vec![
        half(
            I2C_ID,
            0,
            0,
            &[
                (0, &[0x03]),              // identifier: SFP
                (1, &[0x04]),              // extended identifier: serial ID
                (2, &[0x07]),              // connector: LC
                (3, &[0x10]),              // 10G compliance: 10GBASE-SR
                (11, &[0x06]),             // encoding: 64B/66B
                (12, &[0x67]),             // nominal rate 103 x 100 MBd
                (16, &[8]),                // OM2: 8 x 10 m = 80 m
                (17, &[3]),                // OM1: 3 x 10 m = 30 m
                (19, &[30]),               // OM3: 30 x 10 m = 300 m
                (20, b"ACME OPTICS     "), // vendor name
                (37, &[0x00, 0x17, 0x6a]), // vendor OUI
                (40, b"SFP-10G-SR-EC   "), // part number
                (56, b"1.0 "),             // revision
                (60, &[0x03, 0x52]),       // wavelength 850 nm
                (68, b"AS22030100311   "), // serial number
                (84, b"220301  "),         // date code: 2022-03-01
                // 92 diagnostics: implemented (bit 6), externally calibrated (bit 4), Rx
                // power average (bit 3); no address change (bit 2 clear)
                (92, &[0x58]),
                (94, &[0x08]), // SFF-8472 rev 12.3
            ],
        ),
        half(
            I2C_DIAG,
            0,
            0,
            &[
                // Thresholds, raw (calibrated like the monitors):
                // 0-7 temperature raw 0x5500, 0xfb00, 0x5000, 0x0000 -> x1 - 1280:
                // 80 C, -10 C, 75 C, -5 C
                (0, &[0x55, 0x00, 0xfb, 0x00, 0x50, 0x00, 0x00, 0x00]),
                // 8-15 Vcc (slope 1): 3.6 V, 3.0 V, 3.5 V, 3.1 V
                (8, &[0x8c, 0xa0, 0x75, 0x30, 0x88, 0xb8, 0x79, 0x18]),
                // 16-23 bias raw 3000, 500, 2750, 750 x slope 2 = 6000, 1000, 5500, 1500
                // x 2 uA: 12 mA, 2 mA, 11 mA, 3 mA
                (16, &[0x0b, 0xb8, 0x01, 0xf4, 0x0a, 0xbe, 0x02, 0xee]),
                // 24-31 Tx power raw 8080, 880, 6480, 1280 x 1.25 - 100 = 10000, 1000,
                // 8000, 1500 x 0.1 uW: 1.0, 0.1, 0.8, 0.15 mW
                (24, &[0x1f, 0x90, 0x03, 0x70, 0x19, 0x50, 0x05, 0x00]),
                // 32-39 Rx power raw 6660, 260, 5330, 660 x 1.5 + 10 = 10000, 400, 8005,
                // 1000 x 0.1 uW: 1.0, 0.04, 0.8005, 0.1 mW (-10.00 dBm)
                (32, &[0x1a, 0x04, 0x01, 0x04, 0x14, 0xd2, 0x02, 0x94]),
                // 56-75 Rx power polynomial, IEEE 754 floats: c4 = c3 = c2 = 0, c1 = 1.5
                // (0x3fc00000), c0 = 10.0 (0x41200000)
                (68, &[0x3f, 0xc0, 0x00, 0x00]),
                (72, &[0x41, 0x20, 0x00, 0x00]),
                // 76-79 bias slope 2.0 (0x0200), offset 0
                (76, &[0x02, 0x00, 0x00, 0x00]),
                // 80-83 Tx power slope 1.25 (0x0140), offset -100 (0xff9c)
                (80, &[0x01, 0x40, 0xff, 0x9c]),
                // 84-87 temperature slope 1.0, offset -1280 (0xfb00, -5 C)
                (84, &[0x01, 0x00, 0xfb, 0x00]),
                // 88-91 Vcc slope 1.0, offset 0
                (88, &[0x01, 0x00, 0x00, 0x00]),
                // 96-97 temperature raw 0x2300 = 8960 - 1280 = 7680 / 256 = 30.0 C
                (96, &[0x23, 0x00]),
                // 98-99 Vcc 0x8138 = 33080 -> 3.308 V
                (98, &[0x81, 0x38]),
                // 100-101 bias raw 1500 x 2 = 3000 x 2 uA = 6.0 mA
                (100, &[0x05, 0xdc]),
                // 102-103 Tx power raw 4000 x 1.25 - 100 = 4900 -> 0.49 mW (-3.10 dBm)
                (102, &[0x0f, 0xa0]),
                // 104-105 Rx power raw 3000 x 1.5 + 10 = 4510 -> 0.451 mW (-3.46 dBm)
                (104, &[0x0b, 0xb8]),
            ],
        ),
    ])
}

/// The fixture snapshot: the stats-node node with one interface per module kind.
fn optics_node() -> NodeState {
    let base = dpuctl::source::load_snapshot(&root().join("tests/fixtures/show/stats-node.json"))
        .expect("stats-node.json");
    let template = base.interface("eth2").expect("eth2").clone();
    let mut node = base;
    node.interfaces.clear();
    for (n, (name, m)) in [
        ("sr4", sr4_qsfp28()),
        ("dac", dac_qsfp28()),
        ("qdd", cmis_400g_sr8()),
        ("sfp", sfp_external_cal()),
    ]
    .into_iter()
    .enumerate()
    {
        let mut i = template.clone();
        i.name = name.to_string();
        i.ifindex = 10 + n as u32;
        i.module = Avail::Ok(m);
        node.interfaces.push(i);
    }
    node
}

const SNAPSHOT: &str = "tests/fixtures/module/optics-node.json";

fn dpuctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env("COLUMNS", "100")
        .output()
        .expect("run dpuctl")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "dpuctl failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_fixture_snapshot_is_what_the_generator_builds() {
    let text = serde_json::to_string_pretty(&optics_node()).expect("json") + "\n";
    golden(SNAPSHOT, &text);
}

fn snap() -> String {
    root().join(SNAPSHOT).display().to_string()
}

#[test]
fn show_module_goldens_for_each_module_kind() {
    for kind in ["sr4", "dac", "qdd", "sfp"] {
        let out = stdout(&dpuctl(&["show", "--module", "--from", &snap(), kind]));
        golden(&format!("tests/golden/module/{kind}.show-module.txt"), &out);
    }
    let json = stdout(&dpuctl(&[
        "show",
        "--module",
        "--format",
        "json",
        "--from",
        &snap(),
    ]));
    golden("tests/golden/module/optics-node.show-module.json", &json);
}

#[test]
fn show_has_one_module_line_per_interface() {
    let out = stdout(&dpuctl(&["show", "--from", &snap()]));
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("module "))
        .collect();
    golden(
        "tests/golden/module/optics-node.module-lines.txt",
        &(lines.join("\n") + "\n"),
    );
    assert_eq!(lines.len(), 4, "{out}");
}

/// The decoded values, checked against the bytes above (the goldens print them rounded).
#[test]
fn decoded_values_match_the_layouts() {
    let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-6);
    let sr4 = dpuctl::module::decode(&sr4_qsfp28()).expect("sr4");
    assert_eq!(sr4.media.as_deref(), Some("100GBASE-SR4"));
    assert_eq!(sr4.length_m, Some(100.0));
    let d = sr4.dom.as_ref().expect("dom");
    assert!(close(d.temperature_c, 33.25));
    assert!(close(d.vcc_v, 3.305));
    assert!(close(d.lanes[3].rx_power_mw, 0.65));
    assert!(close(d.lanes[1].bias_ma, 7.2));
    let (weak, margin) = dpuctl::module::weakest_rx_lane(&sr4).expect("lane");
    assert_eq!(weak.lane, 4);
    // -1.871 dBm - -10.400 dBm
    assert!((margin.expect("margin") - 8.529).abs() < 0.001);

    let dac = dpuctl::module::decode(&dac_qsfp28()).expect("dac");
    assert_eq!(dac.cable.as_str(), "dac");
    assert_eq!(dac.length_m, Some(3.0));
    assert_eq!(dac.dom, None);

    let qdd = dpuctl::module::decode(&cmis_400g_sr8()).expect("qdd");
    let d = qdd.dom.as_ref().expect("dom");
    assert_eq!(d.lanes.len(), 8);
    assert!(close(d.temperature_c, 40.5));
    assert!(close(d.lanes[0].bias_ma, 7.0));
    let (weak, margin) = dpuctl::module::weakest_rx_lane(&qdd).expect("lane");
    assert_eq!(weak.lane, 6);
    assert!(
        (margin.expect("margin") - 0.499).abs() < 0.002,
        "{margin:?}"
    );
    assert!(
        !weak.rx_power_flags.low_warning,
        "near, not over, the warning"
    );

    let sfp = dpuctl::module::decode(&sfp_external_cal()).expect("sfp");
    let d = sfp.dom.as_ref().expect("dom");
    assert_eq!(d.calibration, "external");
    assert!(close(d.temperature_c, 30.0));
    assert!(close(d.vcc_v, 3.308));
    assert!(close(d.lanes[0].bias_ma, 6.0));
    assert!(close(d.lanes[0].tx_power_mw, 0.49));
    assert!(close(d.lanes[0].rx_power_mw, 0.451));
    let t = d.thresholds.temperature_c.expect("temp thresholds");
    assert_eq!(
        (t.high_alarm, t.low_alarm, t.high_warning, t.low_warning),
        (80.0, -10.0, 75.0, -5.0)
    );
    let rx = d.thresholds.rx_power_mw.expect("rx thresholds");
    assert!((rx.low_warning - 0.1).abs() < 1e-9);
    assert!((rx.high_warning - 0.8005).abs() < 1e-9);
    let bias = d.thresholds.bias_ma.expect("bias thresholds");
    assert!((bias.high_alarm - 12.0).abs() < 1e-9);
    let tx = d.thresholds.tx_power_mw.expect("tx thresholds");
    assert!((tx.low_warning - 0.15).abs() < 1e-9);
}

/// A snapshot taken before modules were read still loads; its module is n/a.
#[test]
fn old_snapshots_without_modules_still_load() {
    let out = stdout(&dpuctl(&[
        "show",
        "--module",
        "--from",
        &root()
            .join("tests/fixtures/show/stats-node.json")
            .display()
            .to_string(),
        "eth2",
    ]));
    assert_eq!(out, "== eth2 ==  module n/a (not in this snapshot)\n");
}

fn profile_file(dir: &std::path::Path, body: &str) -> String {
    let p = dir.join("optics.yaml");
    std::fs::write(
        &p,
        format!("name: optics\ndescription: module expectations\n{body}"),
    )
    .expect("write profile");
    p.display().to_string()
}

/// `module:` expectations are verified by `check` from the decoded modules: a DAC where the
/// profile asks for AOC and a lane below the receive power floor are drift (exit 1).
#[test]
fn check_verifies_module_expectations_read_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = profile_file(
        dir.path(),
        "interfaces:
  - match: {name: dac}
    module: {cable: aoc}
  - match: {name: qdd}
    module: {min_rx_power_dbm: -8}
  - match: {name: sr4}
    module: {cable: mmf, min_rx_power_dbm: -8}
",
    );
    let o = dpuctl(&["check", &p, "--from", &snap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for line in [
        "module dac: cable want aoc, have dac (ACME CABLES Q28-DAC-3M): DRIFT",
        "module qdd: min_rx_power_dbm want >= -8 dBm, have -9.90 dBm (lane 6): DRIFT",
        "module sr4: cable want mmf, have mmf (ACME OPTICS Q28-SR4-100G): ok",
        "module sr4: min_rx_power_dbm want >= -8 dBm, have -1.87 dBm (lane 4): ok",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    let j = dpuctl(&["check", &p, "--from", &snap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).expect("json");
    assert_eq!(v["status"], "drift");
    assert_eq!(v["modules"].as_array().expect("modules").len(), 4);

    // As wanted: compliant, exit 0.
    let ok = profile_file(
        dir.path(),
        "interfaces:\n  - match: {name: sr4}\n    module: {cable: mmf, min_rx_power_dbm: -8}\n",
    );
    let o = dpuctl(&["check", &ok, "--from", &snap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // A module without diagnostics cannot show its power: nothing compared, exit 2.
    let dac = profile_file(
        dir.path(),
        "interfaces:\n  - match: {name: dac}\n    module: {min_rx_power_dbm: -8}\n",
    );
    let o = dpuctl(&["check", &dac, "--from", &snap()]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Both summaries name what was left out: never "0 skipped" for an expectation not compared.
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.ends_with(
            "not compliant: no setting could be compared on this node, \
             1 module expectation not compared\n"
        ),
        "{out}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no setting could be compared on this node (0 skipped, 1 module expectation not compared)"),
        "{err}"
    );
}

/// A bad `module:` value is a one-line error with `file:line:column`, exit 2.
#[test]
fn bad_module_expectations_name_the_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = profile_file(
        dir.path(),
        "interfaces:\n  - match: {name: dac}\n    module: {cable: fibre, min_rx_power_dbm: -80}\n",
    );
    let o = dpuctl(&["check", &p, "--from", &snap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("optics.yaml:5:")
            && err.contains("expected one of dac, acc, aoc, mmf, smf, base-t, got 'fibre'"),
        "{err}"
    );
    assert!(
        err.contains("min_rx_power_dbm -80 is out of range"),
        "{err}"
    );
    let p = profile_file(
        dir.path(),
        "interfaces:\n  - match: {name: dac}\n    module: {kind: aoc}\n",
    );
    let o = dpuctl(&["check", &p, "--from", &snap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("kind"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The first object with `id` link.optics anywhere in a report.
fn find(v: &serde_json::Value) -> Option<serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => {
            if m.get("id").and_then(|x| x.as_str()) == Some("link.optics") {
                return Some(v.clone());
            }
            m.values().find_map(find)
        }
        serde_json::Value::Array(a) => a.iter().find_map(find),
        _ => None,
    }
}

/// The troubleshoot finding "CRC errors with RX power near its threshold", as the report
/// gives it (title, evidence, explanation), from the scenario snapshot.
#[test]
fn crc_errors_with_rx_power_near_its_threshold_finding_golden() {
    let node = root().join("tests/fixtures/diag/optic-crc-near-threshold/node.json");
    let o = dpuctl(&[
        "troubleshoot",
        "--from",
        &node.display().to_string(),
        "--symptom",
        "throughput",
        "-f",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let f = find(&v).expect("link.optics finding");
    assert_eq!(f["severity"], "crit");
    let text = serde_json::to_string_pretty(&f).expect("json") + "\n";
    golden(
        "tests/golden/module/optic-crc-near-threshold.finding.json",
        &text,
    );
}
