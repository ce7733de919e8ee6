//! Unit conversions shared by the SFF-8472, SFF-8636 and CMIS decoders.
//!
//! All three standards store monitors as big-endian 16-bit words with the same units
//! (SFF-8472 section 9.2, SFF-8636 section 6.2.4, CMIS 5.x section 8.2.5 and 8.9):
//! temperature signed in 1/256 degree C, supply voltage unsigned in 100 uV, laser bias
//! unsigned in 2 uA, optical power unsigned in 0.1 uW.

/// A big-endian unsigned word from two bytes.
pub fn be_u16(hi: u8, lo: u8) -> u16 {
    u16::from_be_bytes([hi, lo])
}

/// A big-endian signed word from two bytes.
pub fn be_i16(hi: u8, lo: u8) -> i16 {
    i16::from_be_bytes([hi, lo])
}

/// Temperature word (signed, 1/256 degree C) in degrees Celsius.
pub fn temperature_c(raw: i16) -> f64 {
    f64::from(raw) / 256.0
}

/// Supply voltage word (100 uV) in volts.
pub fn vcc_v(raw: u16) -> f64 {
    f64::from(raw) / 10_000.0
}

/// Bias word (2 uA) in milliamperes; CMIS scales it by a multiplier of 1, 2 or 4.
pub fn bias_ma(raw: u16) -> f64 {
    f64::from(raw) * 0.002
}

/// Optical power word (0.1 uW) in milliwatts.
pub fn power_mw(raw: u16) -> f64 {
    f64::from(raw) / 10_000.0
}

/// Milliwatts in dBm; `None` for zero or negative power (no light: minus infinity).
pub fn mw_to_dbm(mw: f64) -> Option<f64> {
    (mw > 0.0).then(|| 10.0 * mw.log10())
}

/// dBm in milliwatts.
pub fn dbm_to_mw(dbm: f64) -> f64 {
    10f64.powf(dbm / 10.0)
}

/// An SFF-8472 external-calibration slope: unsigned fixed point, 8 integer and 8 fraction
/// bits (section 9.3).
pub fn slope(hi: u8, lo: u8) -> f64 {
    f64::from(be_u16(hi, lo)) / 256.0
}

/// An SFF-8472 external-calibration offset: signed, in the unit of the monitor it corrects.
pub fn offset(hi: u8, lo: u8) -> f64 {
    f64::from(be_i16(hi, lo))
}

/// An IEEE 754 single-precision float, big-endian (the SFF-8472 Rx power coefficients).
pub fn be_f32(b: [u8; 4]) -> f64 {
    f64::from(f32::from_be_bytes(b))
}

/// `slope * raw + offset` for an unsigned monitor (bias, Tx power, Vcc), kept in
/// `0..=65535` like the 16-bit result the standard defines.
pub fn calibrate_unsigned(raw: u16, slope: f64, offset: f64) -> u16 {
    let v = slope * f64::from(raw) + offset;
    v.clamp(0.0, 65_535.0) as u16
}

/// `slope * raw + offset` for the signed temperature, kept in `i16`.
pub fn calibrate_signed(raw: i16, slope: f64, offset: f64) -> i16 {
    let v = slope * f64::from(raw) + offset;
    v.clamp(-32_768.0, 32_767.0) as i16
}

/// The SFF-8472 Rx power polynomial `c4 x^4 + c3 x^3 + c2 x^2 + c1 x + c0` (coefficients
/// `[c4, c3, c2, c1, c0]`), in 0.1 uW, kept in `0..=65535`; a non-finite result (NaN
/// coefficients) reads as 0.
pub fn rx_power_poly(raw: u16, c: [f64; 5]) -> u16 {
    let x = f64::from(raw);
    let v = (((c[0] * x + c[1]) * x + c[2]) * x + c[3]) * x + c[4];
    if v.is_finite() {
        v.clamp(0.0, 65_535.0) as u16
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn temperature_is_signed_in_256ths() {
        assert!(close(temperature_c(be_i16(0x19, 0x80)), 25.5));
        assert!(close(temperature_c(be_i16(0xff, 0x00)), -1.0));
        assert!(close(temperature_c(be_i16(0xd8, 0x00)), -40.0));
        assert!(close(temperature_c(be_i16(0x7f, 0xff)), 127.996_093_75));
    }

    #[test]
    fn vcc_is_100_microvolts() {
        assert!(close(vcc_v(be_u16(0x80, 0xe8)), 3.3));
        assert!(close(vcc_v(0xffff), 6.5535));
    }

    #[test]
    fn bias_is_2_microamperes() {
        assert!(close(bias_ma(3750), 7.5));
        assert!(close(bias_ma(1), 0.002));
    }

    #[test]
    fn power_is_tenth_microwatts_and_dbm_is_log() {
        assert!(close(power_mw(10_000), 1.0));
        assert!(close(mw_to_dbm(power_mw(10_000)).expect("a value"), 0.0));
        assert!(close(mw_to_dbm(power_mw(1_000)).expect("a value"), -10.0));
        assert!((mw_to_dbm(power_mw(5_012)).expect("a value") - (-3.0)).abs() < 0.001);
        assert_eq!(mw_to_dbm(0.0), None);
        assert!(close(dbm_to_mw(-10.0), 0.1));
        // 0.1 uW, the smallest step: -40 dBm.
        assert!(close(mw_to_dbm(power_mw(1)).expect("a value"), -40.0));
    }

    #[test]
    fn slopes_are_8_8_fixed_point_and_offsets_signed() {
        assert!(close(slope(0x01, 0x00), 1.0));
        assert!(close(slope(0x01, 0x80), 1.5));
        assert!(close(slope(0x00, 0x40), 0.25));
        assert!(close(offset(0xff, 0xf6), -10.0));
        assert!(close(offset(0x00, 0x64), 100.0));
    }

    #[test]
    fn calibration_applies_slope_and_offset_and_clamps() {
        assert_eq!(calibrate_unsigned(1000, 2.0, 100.0), 2100);
        assert_eq!(calibrate_unsigned(10, 1.0, -100.0), 0);
        assert_eq!(calibrate_unsigned(60_000, 2.0, 0.0), 65_535);
        assert_eq!(calibrate_signed(-256, 1.5, 128.0), -256);
        assert_eq!(calibrate_signed(6400, 1.0, -512.0), 5888);
    }

    #[test]
    fn rx_power_polynomial_and_floats() {
        // 1.0 as a big-endian float.
        assert!(close(be_f32([0x3f, 0x80, 0x00, 0x00]), 1.0));
        assert!(close(be_f32([0xc0, 0x00, 0x00, 0x00]), -2.0));
        // Linear: 2x + 5.
        assert_eq!(rx_power_poly(100, [0.0, 0.0, 0.0, 2.0, 5.0]), 205);
        // Quadratic term: 0.001 x^2 + x at x = 1000 -> 2000.
        assert_eq!(rx_power_poly(1000, [0.0, 0.0, 0.001, 1.0, 0.0]), 2000);
        // Quartic and cubic terms count too: 1e-9 x^4 + 1e-6 x^3 at x = 100 -> 0.1 + 1.
        assert_eq!(rx_power_poly(100, [1e-3, 1e-6, 0.0, 0.0, 0.0]), 65_535);
        assert_eq!(rx_power_poly(10, [1e-4, 1e-3, 0.0, 0.0, 0.0]), 2);
        assert_eq!(rx_power_poly(10, [f64::NAN, 0.0, 0.0, 0.0, 0.0]), 0);
        assert_eq!(rx_power_poly(10, [0.0, 0.0, 0.0, -5.0, 0.0]), 0);
    }
}
