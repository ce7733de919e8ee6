//! The monitor's slow reads on real drivers: driver counters (names and values from one full
//! read, then the values alone) agree with `ethtool -S`, and the tx queue files and counter
//! names follow a channel change in the next round.

use std::sync::Arc;

use dpuctl::monitor::sampler::{SamplerConfig, SlowReader, SlowRound};
use dpuctl::sys::ethtool::Ethtool;

use super::{in_lab, set_combined, tool};

/// `ethtool -S IFACE` as (name, value), in order; `None` when the driver has no statistics.
fn ethtool_s(iface: &str) -> Option<Vec<(String, u64)>> {
    let o = std::process::Command::new("ethtool")
        .args(["-S", iface])
        .output()
        .expect("run ethtool");
    if !o.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    Some(
        text.lines()
            .skip_while(|l| !l.starts_with("NIC statistics:"))
            .skip(1)
            .filter_map(|l| {
                let (k, v) = l.rsplit_once(':')?;
                Some((k.trim().to_string(), v.trim().parse().ok()?))
            })
            .collect(),
    )
}

fn reader(iface: &str) -> SlowReader {
    SlowReader::new(&SamplerConfig {
        ifaces: vec![iface.to_string()],
        ..SamplerConfig::default()
    })
}

fn tx_queues(iface: &str) -> usize {
    tool("ls", &[&format!("/sys/class/net/{iface}/queues")])
        .lines()
        .filter(|l| l.starts_with("tx-"))
        .count()
}

#[test]
fn slow_reads_agree_with_ethtool_s_on_every_nic() {
    in_lab();
    for iface in super::NICS {
        let before = ethtool_s(iface);
        let mut slow = reader(iface);
        let r1 = slow.read().expect("round 1");
        let r2 = slow.read().expect("round 2");
        let after = ethtool_s(iface);
        let s = |r: &SlowRound| r.ifaces[0].1.clone();
        let (s1, s2) = (s(&r1), s(&r2));
        assert_eq!(s1.tx_timeouts.len(), tx_queues(iface), "{iface}");
        let Some((before, after)) = before.zip(after) else {
            // No statistics from the driver: n/a with the reason, never numbers.
            assert!(s1.driver_stats.is_none(), "{iface}");
            assert!(s1.driver_stats_na.is_some(), "{iface}: no reason given");
            continue;
        };
        let (d1, d2) = (
            s1.driver_stats.expect("driver counters"),
            s2.driver_stats.expect("driver counters"),
        );
        let names: Vec<&str> = before.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            d1.names.iter().map(String::as_str).collect::<Vec<_>>(),
            names,
            "{iface}"
        );
        // The second round asked for the values alone and kept the names it had.
        assert!(
            Arc::ptr_eq(&d1.names, &d2.names),
            "{iface}: names read again"
        );
        for d in [&d1, &d2] {
            assert_eq!(d.values.len(), names.len(), "{iface}");
            for (i, v) in d.values.iter().enumerate() {
                let (lo, hi) = (before[i].1, after[i].1);
                // Counters only grow: each value lies between the witness reads around it.
                if lo <= hi {
                    assert!(
                        (lo..=hi).contains(v),
                        "{iface} {}: {v} not within {lo}..={hi}",
                        names[i]
                    );
                }
            }
        }
    }
}

#[test]
fn slow_reads_follow_a_channel_change_of_a_real_nic_in_the_next_round() {
    in_lab();
    let mut e = Ethtool::open().expect("ethtool netlink");
    for iface in ["virtio0", "igb0"] {
        let old = e.channels(iface).expect("channels");
        let want = if old.combined == Some(2) { 3 } else { 2 };
        let mut slow = reader(iface);
        let r1 = slow.read().expect("round 1");
        let n1 = r1.ifaces[0].1.driver_stats.clone().expect("counters").names;
        set_combined(&mut e, iface, Some(want));
        let r2 = slow.read().expect("round 2");
        let witness = ethtool_s(iface).expect("ethtool -S");
        set_combined(&mut e, iface, old.combined);
        let s2 = &r2.ifaces[0].1;
        assert_eq!(
            s2.tx_timeouts.len(),
            want as usize,
            "{iface}: tx queue files"
        );
        let n2 = &s2.driver_stats.as_ref().expect("counters").names;
        assert_ne!(
            &n1, n2,
            "{iface}: per-queue counters changed with the channels"
        );
        let names: Vec<&str> = witness.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            n2.iter().map(String::as_str).collect::<Vec<_>>(),
            names,
            "{iface}"
        );
    }
}
