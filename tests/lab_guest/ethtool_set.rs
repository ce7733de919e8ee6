//! Every SET of dpuctl's ethtool layer writes on the real drivers and reads back via ethtool.

use dpuctl::model::{Coalesce, Rings};
use dpuctl::sys::ethtool::Ethtool;

use crate::{get, in_lab, kv, max_and_current, set_combined, tool};

fn eth() -> Ethtool {
    Ethtool::open().expect("ethtool netlink")
}

fn current(flag: &str, iface: &str, label: &str) -> String {
    let (_, cur) = max_and_current(&tool("ethtool", &[flag, iface]));
    get(&cur, label).to_string()
}

#[test]
fn rings_set_reads_back() {
    in_lab();
    let mut e = eth();
    for iface in ["nsim0", "virtio0", "igb0", "e1000e0"] {
        let old = e.rings(iface).expect("rings");
        let want = if old.rx == Some(256) { 512 } else { 256 };
        e.set_rings(
            iface,
            &Rings {
                rx: Some(want),
                ..Rings::default()
            },
        )
        .unwrap_or_else(|err| panic!("{iface}: {err}"));
        assert_eq!(current("-g", iface, "RX"), want.to_string(), "{iface}");
        if let Some(rx) = old.rx.filter(|&r| r > 0) {
            e.set_rings(
                iface,
                &Rings {
                    rx: Some(rx),
                    ..Rings::default()
                },
            )
            .expect("restore");
            assert_eq!(
                current("-g", iface, "RX"),
                rx.to_string(),
                "{iface} restored"
            );
        }
    }
}

#[test]
fn channels_set_reads_back() {
    in_lab();
    let mut e = eth();
    for iface in ["nsim0", "virtio0", "igb0"] {
        let old = e.channels(iface).expect("channels");
        let want = if old.combined == Some(2) { 3 } else { 2 };
        set_combined(&mut e, iface, Some(want));
        assert_eq!(
            current("-l", iface, "Combined"),
            want.to_string(),
            "{iface}"
        );
        set_combined(&mut e, iface, old.combined);
    }
    // e1000e has a single queue: the layer reports it as unsupported, not as a failure.
    let err = e.channels("e1000e0").expect_err("e1000e has no channels");
    assert!(err.is_unsupported(), "{err}");
}

/// `ethtool -a` once it shows `RX: want`, or after 5 s. igb reports the flow control mode in
/// force, which it sets again when the link comes back from the reset a pause change causes
/// (carrier takes 1-2 s here), so a read right after the change can still show the old mode.
fn pause_settled(iface: &str, want_rx: &str) -> Vec<(String, String)> {
    let start = std::time::Instant::now();
    loop {
        let a = kv(&tool("ethtool", &["-a", iface]));
        if get(&a, "RX") == want_rx || start.elapsed() > std::time::Duration::from_secs(5) {
            return a;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn pause_set_reads_back() {
    in_lab();
    let mut e = eth();
    for iface in ["nsim0", "igb0", "e1000e0"] {
        let old = e.pause(iface).expect("pause");
        // Pause can be forced only with pause autonegotiation off.
        e.set_pause(iface, Some(false), Some(!old.rx), None)
            .unwrap_or_else(|err| panic!("{iface}: {err}"));
        let want_rx = if old.rx { "off" } else { "on" };
        let a = pause_settled(iface, want_rx);
        assert_eq!(get(&a, "Autonegotiate"), "off", "{iface}");
        assert_eq!(get(&a, "RX"), want_rx, "{iface}");
        e.set_pause(iface, Some(old.autoneg), Some(old.rx), Some(old.tx))
            .expect("restore");
        pause_settled(iface, if old.rx { "on" } else { "off" });
    }
    let err = e.pause("virtio0").expect_err("virtio has no pause");
    assert!(err.is_unsupported(), "{err}");
}

#[test]
fn coalesce_set_reads_back() {
    in_lab();
    let mut e = eth();
    for iface in ["nsim0", "igb0", "e1000e0"] {
        let old = e.coalesce(iface).expect("coalesce");
        let want = if old.rx_usecs == Some(30) { 60 } else { 30 };
        e.set_coalesce(
            iface,
            &Coalesce {
                rx_usecs: Some(want),
                ..Coalesce::default()
            },
        )
        .unwrap_or_else(|err| panic!("{iface}: {err}"));
        let c = kv(&tool("ethtool", &["-c", iface]));
        assert_eq!(get(&c, "rx-usecs"), want.to_string(), "{iface}");
        e.set_coalesce(
            iface,
            &Coalesce {
                rx_usecs: old.rx_usecs,
                ..Coalesce::default()
            },
        )
        .expect("restore");
    }
}

#[test]
fn features_set_reads_back() {
    in_lab();
    let mut e = eth();
    for iface in ["nsim0", "virtio0", "igb0", "e1000e0"] {
        let gro = e
            .features(iface)
            .expect("features")
            .into_iter()
            .find(|f| f.name == "rx-gro")
            .expect("rx-gro");
        e.set_features(iface, &[("rx-gro", !gro.active)])
            .unwrap_or_else(|err| panic!("{iface}: {err}"));
        let k = kv(&tool("ethtool", &["-k", iface]));
        let want = if gro.active { "off" } else { "on" };
        assert!(
            get(&k, "generic-receive-offload").starts_with(want),
            "{iface}"
        );
        e.set_features(iface, &[("rx-gro", gro.active)])
            .expect("restore");
    }
    // LRO is fixed off on these drivers: asking for it is an error naming the feature.
    let err = e
        .set_features("virtio0", &[("rx-lro", true)])
        .expect_err("lro fixed");
    assert!(err.to_string().contains("rx-lro"), "{err}");
}
