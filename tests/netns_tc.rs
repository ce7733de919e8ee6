//! The traffic-control layer (`sys::tc`) against the real kernel, with `tc` as the independent
//! witness: qdisc dumps, replacing the root qdisc, and putting the previous root back exactly
//! (the kernel's default root included), in network namespaces the tests create.
//!
//! This kernel may lack `sch_ets` and `sch_mqprio`; the ETS and mqprio paths run in the lab
//! tier (`tests/lab_guest/qos.rs`). What runs here uses qdiscs every kernel has: the default
//! roots (noqueue on veth, mq with `pfifo_fast` children), pfifo, bfifo, `pfifo_fast`, mq, htb.
//!
//! Needs root and iproute2's `ip` and `tc`.

mod common;

use common::http::in_netns;
use common::Netns;

use dpuctl::model::qos::{QdiscOptions, TC_H_ROOT};
use dpuctl::sys::netlink::Rtnl;
use dpuctl::sys::tc::Tc;

/// A namespace with a veth pair `a`/`b` (four queues each, both up).
fn setup(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.veth("a", "b", 4);
    ns
}

/// `tc qdisc show dev DEV` inside the namespace: the witness of the whole root tree, without
/// htb's `direct_packets_stat` (a counter: IPv6 neighbour discovery moves it).
fn tc_show(ns: &Netns, dev: &str) -> String {
    without_counters(&ns.exec_ok("tc", &["qdisc", "show", "dev", dev]))
}

/// `text` without the value after `direct_packets_stat`.
fn without_counters(text: &str) -> String {
    let mut out = Vec::new();
    let mut skip = false;
    for w in text.split(' ') {
        if skip {
            skip = false;
            out.push("N");
            continue;
        }
        skip = w == "direct_packets_stat";
        out.push(w);
    }
    out.join(" ")
}

fn tc(ns: &Netns, args: &[&str]) {
    ns.exec_ok("tc", args);
}

fn ifindex(name: &str) -> u32 {
    Rtnl::open()
        .expect("rtnetlink")
        .links()
        .expect("links")
        .into_iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no interface {name}"))
        .ifindex
}

#[test]
fn default_root_is_replaced_and_comes_back_exactly() {
    let ns = setup("tcdef");
    let before = tc_show(&ns, "a");
    assert!(before.contains("noqueue 0: root"), "{before}");

    let prev = in_netns(&ns, || {
        let i = ifindex("a");
        let mut tc = Tc::open().expect("tc socket");
        let prev = tc.restorable_root(i).expect("dump").expect("restorable");
        assert!(prev.is_default());
        assert_eq!(prev.kind, "noqueue");
        tc.replace_root(i, "pfifo", &QdiscOptions::Fifo { limit: 77 })
            .expect("replace root");
        let qs = tc.qdiscs(i).expect("dump");
        let root = qs.iter().find(|q| q.is_root()).expect("a root");
        assert_eq!(root.kind, "pfifo");
        assert_eq!(root.options, QdiscOptions::Fifo { limit: 77 });
        assert_ne!(root.handle, 0);
        prev
    });
    let during = tc_show(&ns, "a");
    assert!(
        during.contains("qdisc pfifo 8") && during.contains("limit 77p"),
        "{during}"
    );

    in_netns(&ns, || {
        let mut tc = Tc::open().expect("tc socket");
        tc.restore_root(ifindex("a"), &prev).expect("restore");
        // Restoring twice is a no-op, not an error (deleting a default root is refused).
        tc.restore_root(ifindex("a"), &prev).expect("restore again");
    });
    assert_eq!(tc_show(&ns, "a"), before);
}

#[test]
fn explicit_roots_come_back_with_handle_and_options() {
    let ns = setup("tcexp");
    for setup_cmd in [
        &[
            "qdisc", "add", "dev", "a", "root", "handle", "5:", "bfifo", "limit", "30000",
        ][..],
        &["qdisc", "replace", "dev", "a", "root", "handle", "7:", "mq"][..],
        &[
            "qdisc",
            "replace",
            "dev",
            "a",
            "root",
            "handle",
            "9:",
            "pfifo_fast",
        ][..],
    ] {
        tc(&ns, setup_cmd);
        let before = tc_show(&ns, "a");
        let prev = in_netns(&ns, || {
            let i = ifindex("a");
            let mut tc = Tc::open().expect("tc socket");
            let prev = tc.restorable_root(i).expect("dump").expect("restorable");
            assert!(!prev.is_default());
            tc.replace_root(i, "pfifo", &QdiscOptions::Fifo { limit: 5 })
                .expect("replace root");
            prev
        });
        assert_ne!(
            tc_show(&ns, "a"),
            before,
            "{setup_cmd:?}: root not replaced"
        );
        in_netns(&ns, || {
            Tc::open()
                .expect("tc socket")
                .restore_root(ifindex("a"), &prev)
                .expect("restore");
        });
        assert_eq!(tc_show(&ns, "a"), before, "{setup_cmd:?}");
    }
    // bfifo's limit decodes as tc prints it.
    tc(
        &ns,
        &[
            "qdisc", "replace", "dev", "a", "root", "handle", "5:", "bfifo", "limit", "30000",
        ],
    );
    let opts = in_netns(&ns, || {
        Tc::open()
            .expect("tc socket")
            .restorable_root(ifindex("a"))
            .expect("dump")
            .expect("restorable")
    });
    assert_eq!((opts.kind.as_str(), opts.handle), ("bfifo", 0x0005_0000));
    assert_eq!(opts.options, QdiscOptions::Fifo { limit: 30000 });
}

#[test]
fn trees_that_cannot_be_rebuilt_are_refused_and_left_alone() {
    let ns = setup("tcref");
    tc(
        &ns,
        &["qdisc", "add", "dev", "a", "root", "handle", "1:", "htb"],
    );
    tc(
        &ns,
        &[
            "class", "add", "dev", "a", "parent", "1:", "classid", "1:1", "htb", "rate", "1mbit",
        ],
    );
    let before = tc_show(&ns, "a");
    let why = in_netns(&ns, || {
        Tc::open()
            .expect("tc socket")
            .restorable_root(ifindex("a"))
            .expect("dump")
            .expect_err("htb is not restorable")
    });
    assert!(
        why.contains("htb 1: is a kind dpuctl cannot restore"),
        "{why}"
    );

    // An mq whose child was replaced by hand.
    tc(
        &ns,
        &["qdisc", "replace", "dev", "a", "root", "handle", "7:", "mq"],
    );
    tc(
        &ns,
        &[
            "qdisc", "add", "dev", "a", "parent", "7:2", "handle", "20:", "pfifo", "limit", "9",
        ],
    );
    let why = in_netns(&ns, || {
        Tc::open()
            .expect("tc socket")
            .restorable_root(ifindex("a"))
            .expect("dump")
            .expect_err("grafted child is not restorable")
    });
    assert!(why.contains("child qdisc pfifo 20: under 7:2"), "{why}");
    assert_ne!(tc_show(&ns, "a"), before);
}

#[test]
fn a_refused_replace_leaves_the_tree_as_it_was() {
    let ns = setup("tcbad");
    tc(
        &ns,
        &[
            "qdisc", "add", "dev", "a", "root", "handle", "5:", "pfifo", "limit", "12",
        ],
    );
    let before = tc_show(&ns, "a");
    let err = in_netns(&ns, || {
        // Queue 0..=7 on a four-queue device: refused by mqprio's checks, or by a kernel
        // without mqprio at all; either way the kernel answers with an error.
        let m = dpuctl::model::qos::MqprioOptions {
            num_tc: 2,
            prio_tc_map: vec![0, 1],
            hw: 0,
            count: vec![4, 4],
            offset: vec![0, 4],
        };
        Tc::open()
            .expect("tc socket")
            .replace_root(ifindex("a"), "mqprio", &QdiscOptions::Mqprio(m))
            .expect_err("refused")
            .to_string()
    });
    assert!(!err.is_empty());
    assert_eq!(tc_show(&ns, "a"), before);
}

#[test]
fn qdisc_counters_agree_with_tc() {
    let ns = setup("tcstat");
    tc(
        &ns,
        &[
            "qdisc", "add", "dev", "a", "root", "handle", "5:", "pfifo", "limit", "100",
        ],
    );
    ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "a"]);
    ns.ip(&[
        "neigh",
        "add",
        "10.77.0.2",
        "lladdr",
        "02:00:00:00:00:02",
        "dev",
        "a",
    ]);
    let witness = |ns: &Netns| -> u64 {
        let j = ns.exec_ok("tc", &["-s", "-j", "qdisc", "show", "dev", "a"]);
        let v: serde_json::Value = serde_json::from_str(&j).expect("tc json");
        v.as_array()
            .expect("array")
            .iter()
            .find(|q| q["root"] == true)
            .and_then(|q| q["packets"].as_u64())
            .expect("root packets")
    };
    let (ours, w0) = in_netns(&ns, || {
        let sock = std::net::UdpSocket::bind("10.77.0.1:0").expect("bind");
        for _ in 0..20 {
            sock.send_to(&[0u8; 100], "10.77.0.2:9").expect("send");
        }
        let w0 = witness(&ns);
        let qs = Tc::open().expect("tc").qdiscs(ifindex("a")).expect("dump");
        let root = qs
            .into_iter()
            .find(|q| q.parent == TC_H_ROOT)
            .expect("root");
        (root.stats, w0)
    });
    let w1 = witness(&ns);
    // Other packets (IPv6 neighbour discovery) may pass too; ours lies between two reads.
    assert!(ours.packets >= 20, "{ours:?}");
    assert!(
        w0 <= ours.packets && ours.packets <= w1,
        "{w0} {ours:?} {w1}"
    );
    assert!(ours.bytes >= 20 * 128, "{ours:?}");
    assert_eq!(ours.drops, 0);
}

/// `dpuctl tune` with a `qos:` profile on a root it cannot rebuild: exit 2, the reason, and
/// the tree untouched; on the default root the plan shows the ets it would set.
#[test]
fn tune_refuses_a_root_it_cannot_rebuild_and_changes_nothing() {
    let ns = setup("tcrefuse");
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("qos5.yaml");
    std::fs::write(
        &profile,
        "name: qos5\ndescription: five classes\ninterfaces:\n  - match: {name: a}\n    qos:\n      \
         classes:\n        - {priorities: [4], share: 25}\n        - {priorities: [3], share: 20}\n        \
         - {priorities: [2], share: 20}\n        - {priorities: [1], share: 20}\n        \
         - {priorities: [0], share: 15}\n",
    )
    .expect("write profile");
    let state = dir.path().join("state");
    let tune = |args: &[&str]| {
        let mut a = vec![
            "env".to_string(),
            format!("DPUCTL_STATE_DIR={}", state.display()),
            env!("CARGO_BIN_EXE_dpuctl").to_string(),
            "tune".to_string(),
            profile.display().to_string(),
        ];
        a.extend(args.iter().map(ToString::to_string));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = ns.exec(a[0], &a[1..]);
        (
            o.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    };
    let (code, out) = tune(&["--dry-run"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("a qos root qdisc \"noqueue default\" -> \"ets bands 5 strict 0 quanta 2525 2020 2020 2020 1515 priomap 4 3 2 1 0 4 4 4 4 4 4 4 4 4 4 4\""),
        "{out}"
    );

    tc(
        &ns,
        &["qdisc", "add", "dev", "a", "root", "handle", "1:", "htb"],
    );
    tc(
        &ns,
        &[
            "class", "add", "dev", "a", "parent", "1:", "classid", "1:1", "htb", "rate", "1mbit",
        ],
    );
    let before = tc_show(&ns, "a");
    let (code, out) = tune(&["--yes"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("htb 1: is a kind dpuctl cannot restore exactly"),
        "{out}"
    );
    assert!(out.contains("nothing was changed"), "{out}");
    assert_eq!(tc_show(&ns, "a"), before);
}

/// veth has no DCB: dcbnl answers "not supported", which `snapshot` records as n/a with the
/// reason; the qdiscs land in the snapshot too.
#[test]
fn dcb_is_na_on_veth_and_the_snapshot_carries_qdiscs() {
    let ns = setup("tcdcb");
    let err = in_netns(&ns, || {
        dpuctl::sys::dcb::Dcb::open()
            .expect("dcb socket")
            .ieee("a")
            .expect_err("veth has no dcbnl_ops")
    });
    assert!(err.is_unsupported(), "{err}");
    tc(
        &ns,
        &[
            "qdisc", "add", "dev", "a", "root", "handle", "5:", "pfifo", "limit", "12",
        ],
    );
    let o = ns.dpuctl(&["show", "a", "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let i = &v["interfaces"][0];
    assert_eq!(i["dcb"]["n/a"], "no DCB (dcbnl) in veth", "{i}");
    assert_eq!(i["tc"]["qdiscs"][0]["kind"], "pfifo", "{i}");
    assert_eq!(i["tc"]["qdiscs"][0]["handle"], 0x0005_0000, "{i}");
    assert_eq!(i["tc"]["qdiscs"][0]["options"]["limit"], 12, "{i}");
    // The table: the root qdisc with its counters, and why there is no DCB.
    let o = ns.dpuctl(&["show", "a"]);
    let text = String::from_utf8_lossy(&o.stdout);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no {key} row in:\n{text}"))
            .to_string()
    };
    assert!(
        line("qdisc").contains("pfifo 5: limit 12; sent "),
        "{}",
        line("qdisc")
    );
    assert!(
        line("dcb").contains("n/a (no DCB (dcbnl) in veth)"),
        "{}",
        line("dcb")
    );
    // A profile asking for PFC: the plan skips it with the reason, nothing else happens.
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("pfc3.yaml");
    std::fs::write(
        &profile,
        "name: pfc3\ndescription: pfc\ninterfaces:\n  - match: {name: a}\n    pfc: [3]\n",
    )
    .expect("write profile");
    let p = profile.display().to_string();
    let o = ns.dpuctl(&["tune", &p, "--dry-run"]);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("a dcb pfc 3: no DCB (dcbnl) in veth"), "{out}");
}
