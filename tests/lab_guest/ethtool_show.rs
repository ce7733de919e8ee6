//! `dpuctl show` agrees with ethtool -g/-l/-a/-c/-k/-S and /proc/interrupts on every lab NIC.

use crate::{get, in_lab, kv, max_and_current, show, tool, NICS};
use serde_json::Value;
use std::process::Command;

/// ethtool's text for one of our optional numbers: "n/a" for absent.
fn eth_num(v: &Value) -> String {
    if v.is_null() {
        "n/a".to_string()
    } else {
        v.to_string()
    }
}

fn on_off(v: &Value) -> &'static str {
    if v == true {
        "on"
    } else {
        "off"
    }
}

/// ethtool's output for a query, or None when ethtool says the device can't do it.
fn ethtool_opt(flag: &str, iface: &str) -> Option<String> {
    let o = Command::new("ethtool")
        .args([flag, iface])
        .output()
        .expect("ethtool");
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Which knobs each lab NIC supports (the lab's read/write matrix): a knob that regresses to
/// n/a, or turns up where the driver has none, fails the test.
fn supported(iface: &str, knob: &str) -> bool {
    matches!(
        (iface, knob),
        ("nsim0", "rings" | "pause" | "channels" | "coalesce")
            | (
                "virtio0",
                "rings" | "channels" | "coalesce" | "driver_stats"
            )
            | (
                "igb0",
                "rings" | "pause" | "channels" | "coalesce" | "driver_stats"
            )
            | ("e1000e0", "rings" | "pause" | "coalesce" | "driver_stats")
    )
}

#[test]
fn show_knobs_agree_with_ethtool_on_every_nic() {
    in_lab();
    for iface in NICS {
        let i = show(iface);
        for knob in ["rings", "pause", "channels", "coalesce", "driver_stats"] {
            assert_eq!(
                i[knob].get("n/a").is_none(),
                supported(iface, knob),
                "{iface} {knob}: {}",
                i[knob]
            );
        }

        let flag_of = [("rings", "-g"), ("channels", "-l")];
        for (knob, flag) in flag_of {
            let Some(out) = ethtool_opt(flag, iface) else {
                continue;
            };
            let (max, cur) = max_and_current(&out);
            let fields: &[(&str, &str)] = if knob == "rings" {
                &[
                    ("RX", "rx"),
                    ("RX Mini", "rx_mini"),
                    ("RX Jumbo", "rx_jumbo"),
                    ("TX", "tx"),
                ]
            } else {
                &[
                    ("RX", "rx"),
                    ("TX", "tx"),
                    ("Other", "other"),
                    ("Combined", "combined"),
                ]
            };
            for (label, field) in fields {
                let k = &i[knob];
                assert_eq!(
                    eth_num(&k[format!("{field}_max")]),
                    get(&max, label),
                    "{iface} {knob} max {label}"
                );
                // ethtool prints n/a for a current value whose maximum is 0.
                let want = get(&cur, label);
                if want != "n/a" {
                    assert_eq!(eth_num(&k[*field]), want, "{iface} {knob} {label}");
                }
            }
        }

        if let Some(out) = ethtool_opt("-a", iface) {
            let a = kv(&out);
            let p = &i["pause"];
            assert_eq!(on_off(&p["autoneg"]), get(&a, "Autonegotiate"), "{iface}");
            assert_eq!(on_off(&p["rx"]), get(&a, "RX"), "{iface}");
            assert_eq!(on_off(&p["tx"]), get(&a, "TX"), "{iface}");
        }

        if let Some(out) = ethtool_opt("-c", iface) {
            let c = kv(&out);
            let co = &i["coalesce"];
            for (label, field) in [
                ("rx-usecs", "rx_usecs"),
                ("rx-frames", "rx_max_frames"),
                ("tx-usecs", "tx_usecs"),
                ("tx-frames", "tx_max_frames"),
                ("rx-usecs-irq", "rx_usecs_irq"),
                ("tx-frames-irq", "tx_max_frames_irq"),
                ("stats-block-usecs", "stats_block_usecs"),
                ("pkt-rate-low", "pkt_rate_low"),
                ("rx-usecs-high", "rx_usecs_high"),
            ] {
                assert_eq!(
                    eth_num(&co[field]),
                    get(&c, label),
                    "{iface} coalesce {label}"
                );
            }
            // "Adaptive RX: on  TX: off" is one line.
            let adaptive = get(&c, "Adaptive RX");
            if !co["use_adaptive_rx"].is_null() {
                assert!(
                    adaptive.starts_with(on_off(&co["use_adaptive_rx"])),
                    "{iface} {adaptive}"
                );
            }
        }

        let k = kv(&tool("ethtool", &["-k", iface]));
        let feats = i["features"].as_array().expect("features");
        for (kernel, legacy) in [
            ("rx-gro", "generic-receive-offload"),
            ("rx-lro", "large-receive-offload"),
            ("rx-gro-hw", "rx-gro-hw"),
            ("rx-checksum", "rx-checksumming"),
            ("tx-tcp-segmentation", "tx-tcp-segmentation"),
            ("rx-hashing", "receive-hashing"),
        ] {
            let want = get(&k, legacy);
            match feats.iter().find(|f| f["name"] == kernel) {
                Some(f) => {
                    assert!(
                        want.starts_with(on_off(&f["active"])),
                        "{iface} {kernel}: {want}"
                    );
                    assert_eq!(
                        want.contains("[fixed]"),
                        f["fixed"] == true,
                        "{iface} {kernel}"
                    );
                }
                None => assert!(want.is_empty(), "{iface}: ethtool knows {legacy}, we don't"),
            }
        }

        if let Some(out) = ethtool_opt("-S", iface) {
            let names: Vec<String> = kv(&out)
                .into_iter()
                .map(|(k, _)| k)
                .filter(|k| k != "NIC statistics")
                .collect();
            let ours: Vec<&str> = i["driver_stats"]
                .as_array()
                .unwrap_or_else(|| panic!("{iface}: ethtool -S works, ours {}", i["driver_stats"]))
                .iter()
                .map(|c| c["name"].as_str().expect("name"))
                .collect();
            assert_eq!(ours, names, "{iface} ethtool -S");
        }
    }
}

#[test]
fn show_irqs_agree_with_proc_interrupts() {
    in_lab();
    let interrupts = tool("cat", &["/proc/interrupts"]);
    let name_of = |irq: u64| -> Option<String> {
        interrupts.lines().find_map(|l| {
            let (n, rest) = l.trim_start().split_once(':')?;
            (n.trim().parse::<u64>().ok()? == irq)
                .then(|| rest.split_whitespace().last().unwrap_or("").to_string())
        })
    };
    for (iface, min_queues) in [("virtio0", 4), ("igb0", 4), ("e1000e0", 1), ("nsim0", 0)] {
        let i = show(iface);
        let irqs = i["irqs"].as_array().expect("irqs");
        for irq in irqs {
            let n = irq["irq"].as_u64().expect("irq");
            assert_eq!(
                name_of(n).as_deref(),
                irq["name"].as_str(),
                "{iface} irq {n}"
            );
            let aff = tool("cat", &[&format!("/proc/irq/{n}/smp_affinity_list")]);
            assert_eq!(
                irq["affinity"].as_str(),
                Some(aff.trim()),
                "{iface} irq {n}"
            );
        }
        let mut queues: Vec<u64> = irqs.iter().filter_map(|x| x["queue"].as_u64()).collect();
        queues.sort_unstable();
        queues.dedup();
        assert!(
            queues.len() >= min_queues,
            "{iface}: queue IRQs {queues:?} in {irqs:?}"
        );
        if iface == "nsim0" {
            assert!(irqs.is_empty(), "netdevsim has no IRQs");
        }
    }
}
