//! A monitor `--config` file: parsed, its thresholds applied, and its counter-class tables
//! merged with the built-in ones and matched against counter names (a few real ones and the
//! patterns' own texts), as `stats` and `watch` do.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use dpuctl::monitor::classes::ClassTables;
use dpuctl::monitor::config::parse_config;
use dpuctl::monitor::thresholds::Thresholds;
use libfuzzer_sys::fuzz_target;

const COUNTERS: &[&str] = &[
    "rx_queue_3_drops",
    "tx_timeout",
    "rx_missed_errors",
    "port.rx_dropped",
    "rx7_cache_full",
    "tx_queue_15_restart",
    "rx_vport_unicast_packets_and_more_and_more",
];

fuzz_target!(|data: &[u8]| {
    static BUILTIN: OnceLock<ClassTables> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = parse_config(text, Path::new("fuzz.yaml")) else {
        return;
    };
    let mut t = Thresholds::default();
    for (name, limit) in &cfg.thresholds {
        let _ = t.set(name, *limit);
    }
    if let Some(user) = cfg.classes {
        // The user's drivers only: the built-in patterns are fixed, the user's are the input.
        let drivers: Vec<String> = user.drivers().map(str::to_string).collect();
        // Counter names come from drivers; the patterns' own texts stand in for names the
        // input chooses.
        let mut names: Vec<String> = COUNTERS.iter().map(|s| (*s).to_string()).collect();
        names.extend(
            drivers
                .iter()
                .filter_map(|d| user.table(d))
                .flat_map(|t| t.rules.iter().map(|(p, _)| p.as_str().to_string()))
                .take(16),
        );
        let mut tables = BUILTIN.get_or_init(ClassTables::builtin).clone();
        tables.extend_with(user);
        for d in &drivers {
            for c in &names {
                let _ = tables.classify(d, c);
            }
        }
    }
});
