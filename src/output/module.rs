//! The module line of `show` and the `show --module` view: pluggable modules decoded from
//! the EEPROM pages the state holds (`crate::module`).

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::module::{Flags, Levels, Module};
use crate::model::{Avail, Interface, NodeState};
use crate::module::{decode, weakest_rx_lane};

use super::{push_table, table};

/// An interface's module, decoded, or why there is none.
fn decoded(i: &Interface) -> Result<Module, String> {
    match &i.module {
        Avail::Ok(e) => decode(e).map_err(|e| e.to_string()),
        Avail::Na(r) => Err(r.reason.clone()),
    }
}

fn num(v: f64, places: usize) -> String {
    format!("{v:.places$}")
}

fn opt(v: Option<f64>, places: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| num(v, places))
}

/// `mmf 100GBASE-SR4, 100 m, 850 nm`.
fn cable(m: &Module) -> String {
    let mut parts = vec![m.cable.as_str().to_string()];
    if let Some(media) = &m.media {
        parts[0] = format!("{} {media}", m.cable.as_str());
    }
    if let Some(l) = m.length_m {
        parts.push(format!("{} m", trim(l)));
    }
    if let Some(w) = m.wavelength_nm {
        parts.push(format!("{} nm", trim(w)));
    }
    parts.join(", ")
}

/// A number without a trailing `.0`.
fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

/// The `module` row of `show`: type, vendor, cable, temperature and the lane with the least
/// receive power margin to its low warning.
pub fn module_row(i: &Interface) -> String {
    let m = match decoded(i) {
        Ok(m) => m,
        Err(why) => return format!("n/a ({why})"),
    };
    let mut s = format!(
        "{} {} {} ({})",
        m.identifier,
        m.vendor,
        m.part_number,
        cable(&m)
    );
    match &m.dom {
        None => s.push_str(", no diagnostics"),
        Some(d) => {
            if let Some(t) = d.temperature_c {
                let _ = write!(s, ", {t:.1} C");
            }
            if let Some((l, margin)) = weakest_rx_lane(&m) {
                let _ = write!(
                    s,
                    ", weakest rx lane {} {}",
                    l.lane,
                    l.rx_power_dbm
                        .map_or_else(|| "no light".to_string(), |d| format!("{d:.2} dBm"))
                );
                if let Some(mg) = margin {
                    let _ = write!(s, " ({mg:+.2} dB to low warning)");
                }
            }
        }
    }
    s
}

fn flags(f: Flags) -> String {
    if f.any() {
        f.describe()
    } else {
        "-".to_string()
    }
}

fn levels(l: Option<Levels>, places: usize) -> String {
    l.map_or_else(
        || "-".to_string(),
        |l| {
            format!(
                "warn {}..{}, alarm {}..{}",
                num(l.low_warning, places),
                num(l.high_warning, places),
                num(l.low_alarm, places),
                num(l.high_alarm, places)
            )
        },
    )
}

/// `show --module`: every interface's module with all its lanes and thresholds.
pub fn module_view(state: &NodeState) -> String {
    let mut out = String::new();
    for (n, i) in state.interfaces.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let m = match decoded(i) {
            Ok(m) => m,
            Err(why) => {
                let _ = writeln!(out, "== {} ==  module n/a ({why})", i.name);
                continue;
            }
        };
        let _ = writeln!(
            out,
            "== {} ==  {} ({}, identifier {:#04x})",
            i.name,
            m.identifier,
            m.standard.as_str(),
            m.identifier_code
        );
        let mut t = table(&[]);
        let mut row = |k: &str, v: String| {
            t.add_row(vec![k.to_string(), v]);
        };
        row(
            "vendor",
            format!(
                "{}, part {}, rev {}, serial {}, date {}",
                m.vendor,
                m.part_number,
                m.revision,
                m.serial,
                m.date.as_deref().unwrap_or("-")
            ),
        );
        row("connector", m.connector.clone());
        row("cable", cable(&m));
        match &m.dom {
            None => row("diagnostics", "none".to_string()),
            Some(d) => {
                row("calibration", d.calibration.clone());
                row(
                    "temperature",
                    format!(
                        "{} C  ({})  flags {}",
                        opt(d.temperature_c, 2),
                        levels(d.thresholds.temperature_c, 1),
                        flags(d.temperature_flags)
                    ),
                );
                row(
                    "vcc",
                    format!(
                        "{} V  ({})  flags {}",
                        opt(d.vcc_v, 4),
                        levels(d.thresholds.vcc_v, 3),
                        flags(d.vcc_flags)
                    ),
                );
                let dbm = |l: Option<Levels>| {
                    l.map(|l| Levels {
                        high_alarm: crate::module::units::mw_to_dbm(l.high_alarm).unwrap_or(-40.0),
                        low_alarm: crate::module::units::mw_to_dbm(l.low_alarm).unwrap_or(-40.0),
                        high_warning: crate::module::units::mw_to_dbm(l.high_warning)
                            .unwrap_or(-40.0),
                        low_warning: crate::module::units::mw_to_dbm(l.low_warning)
                            .unwrap_or(-40.0),
                    })
                };
                row("bias mA", levels(d.thresholds.bias_ma, 3));
                row("tx dBm", levels(dbm(d.thresholds.tx_power_mw), 2));
                row("rx dBm", levels(dbm(d.thresholds.rx_power_mw), 2));
            }
        }
        push_table(&mut out, &t);
        if let Some(d) = &m.dom {
            if !d.lanes.is_empty() {
                let low_warn = d
                    .thresholds
                    .rx_power_mw
                    .and_then(|l| crate::module::units::mw_to_dbm(l.low_warning));
                let mut lt = table(&[
                    "lane",
                    "bias mA",
                    "tx mW",
                    "tx dBm",
                    "rx mW",
                    "rx dBm",
                    "rx margin dB",
                    "flags",
                ]);
                for l in &d.lanes {
                    let margin = low_warn
                        .zip(l.rx_power_mw)
                        .map(|(w, _)| l.rx_power_dbm.unwrap_or(-40.0) - w);
                    let mut fl = Vec::new();
                    for (name, f) in [
                        ("bias", l.bias_flags),
                        ("tx", l.tx_power_flags),
                        ("rx", l.rx_power_flags),
                    ] {
                        if f.any() {
                            fl.push(format!("{name} {}", f.describe()));
                        }
                    }
                    lt.add_row(vec![
                        l.lane.to_string(),
                        opt(l.bias_ma, 3),
                        opt(l.tx_power_mw, 4),
                        opt(l.tx_power_dbm, 2),
                        opt(l.rx_power_mw, 4),
                        opt(l.rx_power_dbm, 2),
                        margin.map_or_else(|| "-".to_string(), |m| format!("{m:+.2}")),
                        if fl.is_empty() {
                            "-".to_string()
                        } else {
                            fl.join("; ")
                        },
                    ]);
                }
                push_table(&mut out, &lt);
            }
        }
    }
    out
}

/// One interface in the JSON of `show --module`.
#[derive(Serialize)]
struct ModuleEntry {
    name: String,
    module: Avail<Module>,
    weakest_rx_lane: Option<WeakLane>,
}

#[derive(Serialize)]
struct WeakLane {
    lane: u8,
    rx_power_dbm: Option<f64>,
    margin_to_low_warning_db: Option<f64>,
}

/// The data of `show --module --format json|yaml`: the decoded module of each interface
/// (units in the field names) and its weakest receive lane.
#[derive(Serialize)]
pub struct ModulesDoc {
    interfaces: Vec<ModuleEntry>,
}

/// [`ModulesDoc`] of a state.
pub fn modules_doc(state: &NodeState) -> ModulesDoc {
    ModulesDoc {
        interfaces: state
            .interfaces
            .iter()
            .map(|i| {
                let m = decoded(i);
                let weak = m.as_ref().ok().and_then(|m| {
                    weakest_rx_lane(m).map(|(l, margin)| WeakLane {
                        lane: l.lane,
                        rx_power_dbm: l.rx_power_dbm,
                        margin_to_low_warning_db: margin,
                    })
                });
                ModuleEntry {
                    name: i.name.clone(),
                    module: m.into(),
                    weakest_rx_lane: weak,
                }
            })
            .collect(),
    }
}
