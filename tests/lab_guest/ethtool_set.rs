//! Every SET of dpuctl's ethtool layer writes on the real drivers and reads back via ethtool.

use dpuctl::model::{Coalesce, Rings};
use dpuctl::sys::ethtool::Ethtool;

use crate::{get, in_lab, kv, max_and_current, set_combined, tool, wait_carrier};

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

/// The NICs whose pause settings the lab can change; igb and e1000e have a PHY whose
/// link-up resolves flow control again.
const PAUSE_NICS: [&str; 3] = ["nsim0", "igb0", "e1000e0"];

/// Waits for carrier on the NICs that have a PHY (netdevsim has none).
fn link_settled(iface: &str) {
    if iface != "nsim0" {
        wait_carrier(iface);
    }
}

#[test]
fn pause_set_reads_back() {
    in_lab();
    let mut e = eth();
    for iface in PAUSE_NICS {
        // The tests before may have reset the link: start from a settled one.
        link_settled(iface);
        let old = e.pause(iface).expect("pause");
        // Pause can be forced only with pause autonegotiation off.
        e.set_pause(iface, Some(false), Some(!old.rx), None)
            .unwrap_or_else(|err| panic!("{iface}: {err}"));
        // set_pause returns once the device reports the change: no waiting here.
        let a = kv(&tool("ethtool", &["-a", iface]));
        assert_eq!(get(&a, "Autonegotiate"), "off", "{iface}: Autonegotiate");
        let want_rx = if old.rx { "off" } else { "on" };
        assert_eq!(get(&a, "RX"), want_rx, "{iface}: RX");
        e.set_pause(iface, Some(old.autoneg), Some(old.rx), Some(old.tx))
            .expect("restore");
        // Pause autonegotiation on resets igb and e1000e: let the next test find a link.
        link_settled(iface);
        let a = kv(&tool("ethtool", &["-a", iface]));
        assert_eq!(
            get(&a, "Autonegotiate"),
            if old.autoneg { "on" } else { "off" },
            "{iface}: restored"
        );
    }
    let err = e.pause("virtio0").expect_err("virtio has no pause");
    assert!(err.is_unsupported(), "{err}");
}

/// igb and e1000e set the flow control mode from the autonegotiation result whenever the
/// link comes up, pause autonegotiation off or not. A mode forced while the link still
/// negotiates after a reset (here a ring change, as a profile with rings and pause makes)
/// must still be in force once the link is up: `set_pause` waits for the link.
#[test]
fn pause_forced_during_a_link_reset_holds_once_the_link_is_up() {
    in_lab();
    let mut e = eth();
    for iface in ["igb0", "e1000e0"] {
        wait_carrier(iface);
        let old = e.pause(iface).expect("pause");
        let rings = e.rings(iface).expect("rings");
        let rx_ring = rings.rx.expect("rx ring size");
        let reset_to = if rx_ring == 256 { 512 } else { 256 };
        let ring = |rx| Rings {
            rx: Some(rx),
            ..Rings::default()
        };
        // The ring change resets the NIC: its link is down and negotiating right after.
        e.set_rings(iface, &ring(reset_to))
            .unwrap_or_else(|err| panic!("{iface}: rings: {err}"));
        e.set_pause(iface, Some(false), Some(!old.rx), None)
            .unwrap_or_else(|err| panic!("{iface}: {err}"));
        wait_carrier(iface);
        let a = kv(&tool("ethtool", &["-a", iface]));
        assert_eq!(get(&a, "Autonegotiate"), "off", "{iface}: Autonegotiate");
        let want_rx = if old.rx { "off" } else { "on" };
        assert_eq!(
            get(&a, "RX"),
            want_rx,
            "{iface}: RX once the link is up ({a:?})"
        );
        e.set_pause(iface, Some(old.autoneg), Some(old.rx), Some(old.tx))
            .expect("restore pause");
        e.set_rings(iface, &ring(rx_ring)).expect("restore rings");
        wait_carrier(iface);
        assert_eq!(current("-g", iface, "RX"), rx_ring.to_string(), "{iface}");
    }
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
