//! Traffic classes on the real drivers of the lab guest (whose kernel has `sch_ets`): a
//! profile's `qos:` block applied as the root ets qdisc on virtio0 and igb0, witnessed by
//! `tc`, traffic marked per priority counted in its band, drift found by `check`, rollback
//! back to the kernel's default root, and a failed transaction that leaves the tree as it was.

use std::path::Path;

use crate::{dpuctl, in_lab, ok, tool};

/// `tc qdisc show dev IFACE` without htb's `direct_packets_stat` (a counter that traffic on
/// the link moves).
fn qdiscs(iface: &str) -> String {
    let text = tool("tc", &["qdisc", "show", "dev", iface]);
    let mut out = Vec::new();
    let mut skip = false;
    for w in text.split(' ') {
        out.push(if skip { "N" } else { w });
        skip = w == "direct_packets_stat";
    }
    out.join(" ")
}

/// Five classes, band 0 with 25%: priority 6 in band 0, 4 in band 1, 2 in band 2, 1 in band
/// 3, the rest in band 4.
const CLASSES: &str = "      classes:\n\
    \x20       - {priorities: [6], share: 25}\n\
    \x20       - {priorities: [4], share: 20}\n\
    \x20       - {priorities: [2], share: 20}\n\
    \x20       - {priorities: [1], share: 20}\n\
    \x20       - {priorities: [0], share: 15}\n";

fn write_profile(dir: &Path, name: &str, body: &str) -> String {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &file,
        format!("name: {name}\ndescription: traffic classes in the lab\ninterfaces:\n{body}"),
    )
    .expect("write profile");
    file.to_str().expect("path").to_string()
}

/// Packets of each class of the root qdisc by class minor number, and the quantum `tc`
/// prints for it (none for a strict band), from `tc -s class show`:
/// `class ets 8001:2 root quantum 2020` then ` Sent 294 bytes 3 pkt (...)`.
fn classes(iface: &str) -> Vec<(u32, u64, Option<u32>)> {
    let text = tool("tc", &["-s", "class", "show", "dev", iface]);
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        let Some(rest) = l.strip_prefix("class ets ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let minor = words
            .first()
            .and_then(|h| h.rsplit(':').next())
            .and_then(|m| u32::from_str_radix(m, 16).ok())
            .unwrap_or_else(|| panic!("class line {l:?}"));
        let quantum = words
            .iter()
            .position(|w| *w == "quantum")
            .and_then(|i| words.get(i + 1)?.parse().ok());
        let sent = lines.next().unwrap_or_default();
        let pkts = sent
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[1] == "pkt")
            .and_then(|w| w[0].parse().ok())
            .unwrap_or_else(|| panic!("no packet count in {sent:?}"));
        out.push((minor, pkts, quantum));
    }
    out.sort_unstable();
    out
}

/// Sends three UDP datagrams with each of the socket priorities 6, 4 and 2 (`SO_PRIORITY`,
/// set by python3's socket module: the guest has no ping) out of `iface` to a neighbour that
/// is not there (a static entry, so no ARP): every datagram passes the root qdisc.
fn marked_traffic(iface: &str, net: &str) {
    let addr = format!("{net}.2/24");
    let peer = format!("{net}.9");
    tool("ip", &["addr", "add", &addr, "dev", iface]);
    tool(
        "ip",
        &[
            "neigh",
            "replace",
            &peer,
            "lladdr",
            "02:00:00:00:00:09",
            "dev",
            iface,
        ],
    );
    let script = format!(
        "import socket\n\
         for prio in (6, 4, 2):\n\
         \x20   s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         \x20   s.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, prio)\n\
         \x20   for _ in range(3):\n\
         \x20       s.sendto(b'qos', ('{peer}', 9))\n"
    );
    tool("python3", &["-c", &script]);
    tool("ip", &["neigh", "del", &peer, "dev", iface]);
    tool("ip", &["addr", "del", &addr, "dev", iface]);
}

fn ets_cycle(iface: &str, net: &str) {
    let state = tempfile::tempdir().expect("tempdir");
    let before = qdiscs(iface);
    let p = write_profile(
        state.path(),
        "labqos",
        &format!("  - match: {{name: {iface}}}\n    qos:\n{CLASSES}"),
    );
    let plan = ok(&dpuctl(state.path(), &["tune", &p, "--dry-run"]), "dry run");
    assert!(plan.contains(&format!("{iface} qos root qdisc")), "{plan}");
    ok(&dpuctl(state.path(), &["tune", &p, "--yes"]), "tune");

    // The witness: bands, quanta (shares 25/20/20/20/15 at MTU 1500) and priomap.
    let now = qdiscs(iface);
    let root = now
        .lines()
        .find(|l| l.starts_with("qdisc ets ") && l.contains(" root "))
        .unwrap_or_else(|| panic!("no root ets on {iface}:\n{now}"));
    assert!(root.contains("bands 5 "), "{root}");
    assert!(!root.contains("strict"), "{root}");
    assert!(root.contains("quanta 2525 2020 2020 2020 1515 "), "{root}");
    assert!(
        root.contains("priomap 4 3 2 4 1 4 0 4 4 4 4 4 4 4 4 4"),
        "{root}"
    );
    let c0 = classes(iface);
    let quanta: Vec<(u32, Option<u32>)> = c0.iter().map(|c| (c.0, c.2)).collect();
    assert_eq!(
        quanta,
        [
            (1, Some(2525)),
            (2, Some(2020)),
            (3, Some(2020)),
            (4, Some(2020)),
            (5, Some(1515))
        ],
        "{c0:?}"
    );

    // Marked traffic lands in its band; nothing is marked with priority 1 (band 3, class :4).
    marked_traffic(iface, net);
    let c1 = classes(iface);
    let delta = |minor: u32| {
        let get =
            |v: &[(u32, u64, Option<u32>)]| v.iter().find(|c| c.0 == minor).map_or(0, |x| x.1);
        get(&c1) - get(&c0)
    };
    for minor in 1..=3 {
        assert!(delta(minor) >= 3, "class :{minor}: {c0:?} -> {c1:?}");
    }
    assert_eq!(delta(4), 0, "{c0:?} -> {c1:?}");

    // dpuctl's own show has the same tree.
    let o = ok(
        &dpuctl(state.path(), &["show", iface, "--format", "json"]),
        "show",
    );
    let v: serde_json::Value = serde_json::from_str(&o).expect("show json");
    let tc = &v["interfaces"][0]["tc"];
    assert_eq!(tc["qdiscs"][0]["kind"], "ets", "{tc}");
    assert_eq!(tc["classes"].as_array().map(Vec::len), Some(5), "{tc}");

    checks_drifts_and_rolls_back(state.path(), iface, &p, &before);
}

/// After a `qos` profile `p` applied on `iface`: `check` passes, drift (someone replaces the
/// root qdisc) is found, and `rollback` restores the qdiscs to `before` exactly.
fn checks_drifts_and_rolls_back(state: &std::path::Path, iface: &str, p: &str, before: &str) {
    let o = dpuctl(state, &["check", p]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Drift: someone replaces the root qdisc.
    tool(
        "tc",
        &[
            "qdisc", "replace", "dev", iface, "root", "handle", "9:", "pfifo", "limit", "100",
        ],
    );
    let o = dpuctl(state, &["check", p]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("{iface} qos root qdisc")), "{out}");

    ok(&dpuctl(state, &["rollback"]), "rollback");
    assert_eq!(qdiscs(iface), before, "rollback did not restore the qdiscs");
}

#[test]
fn qos_ets_on_virtio_applies_counts_per_band_drifts_and_rolls_back() {
    in_lab();
    ets_cycle("virtio0", "198.19.1");
}

#[test]
fn qos_ets_on_igb_applies_counts_per_band_drifts_and_rolls_back() {
    in_lab();
    ets_cycle("igb0", "198.19.2");
}

#[test]
fn qos_a_failed_transaction_leaves_the_qdisc_tree_as_it_was() {
    in_lab();
    let state = tempfile::tempdir().expect("tempdir");
    let before = qdiscs("igb0");
    // igb0's qdisc is set first (interfaces in name order), then virtio0's adaptive rx, which
    // virtio takes and ignores: the read-back fails and the whole transaction is reverted.
    let p = write_profile(
        state.path(),
        "labqosfail",
        &format!(
            "  - match: {{name: igb0}}\n    qos:\n{CLASSES}\
             \x20 - match: {{name: virtio0}}\n    coalesce: {{adaptive-rx: on}}\n"
        ),
    );
    let o = dpuctl(state.path(), &["tune", &p, "--yes"]);
    assert!(!o.status.success(), "tune should fail");
    assert_eq!(qdiscs("igb0"), before);

    // A root dpuctl cannot rebuild is refused before anything changes, exit 2.
    tool(
        "tc",
        &[
            "qdisc", "replace", "dev", "igb0", "root", "handle", "1:", "htb",
        ],
    );
    let held = qdiscs("igb0");
    let p = write_profile(
        state.path(),
        "labqoshtb",
        &format!("  - match: {{name: igb0}}\n    qos:\n{CLASSES}"),
    );
    let o = dpuctl(state.path(), &["tune", &p, "--yes"]);
    assert_eq!(o.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(all.contains("cannot restore exactly"), "{all}");
    assert_eq!(qdiscs("igb0"), held);
    tool("tc", &["qdisc", "del", "dev", "igb0", "root"]);
    assert_eq!(qdiscs("igb0"), before);
}

/// No lab driver implements DCB: dcbnl answers "not supported", shown as n/a with the reason.
#[test]
fn qos_dcb_is_na_with_the_reason_on_lab_nics() {
    in_lab();
    for (iface, driver) in [
        ("igb0", "igb"),
        ("virtio0", "virtio_net"),
        ("nsim0", "netdevsim"),
    ] {
        let i = crate::show(iface);
        assert_eq!(
            i["dcb"]["n/a"],
            format!("no DCB (dcbnl) in {driver}").as_str(),
            "{iface}: {}",
            i["dcb"]
        );
        assert!(
            i["tc"]["qdiscs"][0]["kind"].is_string(),
            "{iface}: {}",
            i["tc"]
        );
    }
}

/// The shipped `roce-lossless` profile on the lab NICs: PFC is skipped with the reason (no
/// DCB in the driver), the plan still has the rest, and a dry run changes nothing.
#[test]
fn qos_roce_lossless_says_na_with_the_reason_on_lab_nics() {
    in_lab();
    let state = tempfile::tempdir().expect("state");
    for (iface, driver) in [("igb0", "igb"), ("virtio0", "virtio_net")] {
        let before = qdiscs(iface);
        let out = ok(
            &dpuctl(
                state.path(),
                &["tune", "roce-lossless", iface, "--dry-run", "-f", "json"],
            ),
            "dry run",
        );
        let plan: serde_json::Value = serde_json::from_str(&out).expect("plan json");
        let skipped = plan["skipped"].as_array().expect("skipped").clone();
        assert!(
            skipped.iter().any(|s| s["knob"] == "pfc"
                && s["iface"] == iface
                && s["reason"] == format!("no DCB (dcbnl) in {driver}").as_str()),
            "{iface}: {plan}"
        );
        // The root qdisc is planned as a step (sch_ets is in the lab kernel).
        assert!(out.contains("\"qdisc\""), "{iface}: {plan}");
        assert_eq!(
            qdiscs(iface),
            before,
            "{iface}: a dry run changed the qdisc"
        );
    }
}

/// The settings of the lab NICs in a `dpuctl snapshot`, counters left out (they move): per
/// interface its MTU, txqueuelen, rings, channels, coalescing, pause, features, DCB state and
/// qdiscs (kind, handle, parent, options), and every network sysctl.
fn node_settings(state: &Path) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("stats");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let snap: serde_json::Value =
        serde_json::from_str(&ok(&dpuctl(state, &["snapshot"]), "snapshot")).expect("json");
    let mut out = serde_json::Map::new();
    for i in snap["interfaces"].as_array().expect("interfaces") {
        let name = i["name"].as_str().expect("name");
        if !crate::NICS.contains(&name) {
            continue;
        }
        let mut keep = serde_json::Map::new();
        for k in [
            "mtu",
            "txqueuelen",
            "rings",
            "channels",
            "coalesce",
            "pause",
            "features",
            "dcb",
        ] {
            keep.insert(k.into(), i[k].clone());
        }
        keep.insert("qdiscs".into(), i["tc"]["qdiscs"].clone());
        let mut v = serde_json::Value::Object(keep);
        strip(&mut v);
        out.insert(name.into(), v);
    }
    out.insert("sysctls".into(), snap["sysctls"].clone());
    serde_json::Value::Object(out)
}

/// Every DCB key of a profile on the lab NICs, whose drivers have no DCB: the plan says n/a
/// with the reason for each (hardware ETS with `offload: dcb` included, so no software qdisc
/// either), pause is left alone with a note saying why, and a tune changes nothing on the
/// node: its settings before and after compare equal in full.
#[test]
fn qos_dcb_keys_say_na_with_the_reason_and_change_nothing_on_lab_nics() {
    in_lab();
    let state = tempfile::tempdir().expect("state");
    let before = node_settings(state.path());
    let p = write_profile(
        state.path(),
        "labdcb",
        "  - match: {name: [igb0, virtio0, nsim0]}\n    pfc: [3]\n\
         \x20   dscp: {26: 3, 48: 6}\n    trust: dscp\n    qos:\n      offload: dcb\n\
         \x20     classes:\n        - {priorities: [6], strict: true}\n\
         \x20       - {priorities: [3], share: 50}\n        - {priorities: [0], share: 50}\n",
    );
    // Nothing applies on these NICs: the plan is printed, then exit 2.
    let o = dpuctl(state.path(), &["tune", &p, "--dry-run", "-f", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).expect("plan json");
    assert_eq!(plan["steps"].as_array().map(Vec::len), Some(0), "{plan}");
    // n/a from the plan (pfc, APP, trust) and from the resolver (hardware ETS).
    let mut skipped = plan["skipped"].as_array().expect("skipped").clone();
    skipped.extend(
        plan["profile_skipped"]
            .as_array()
            .expect("profile_skipped")
            .clone(),
    );
    for (iface, driver) in [
        ("igb0", "igb"),
        ("virtio0", "virtio_net"),
        ("nsim0", "netdevsim"),
    ] {
        let reason = format!("no DCB (dcbnl) in {driver}");
        for knob in ["pfc", "dcb_ets", "dcb_app", "dcb_trust"] {
            assert!(
                skipped.iter().any(|s| s["knob"] == knob
                    && s["iface"] == iface
                    && s["reason"] == reason.as_str()),
                "{iface} {knob}: {plan}"
            );
        }
        assert_eq!(
            skipped
                .iter()
                .filter(|s| s["knob"] == "dcb_app" && s["iface"] == iface)
                .count(),
            2,
            "{iface}: {plan}"
        );
    }
    assert!(
        !plan.to_string().contains("\"qdisc\""),
        "offload dcb never falls back to the qdisc: {plan}"
    );
    let o = dpuctl(state.path(), &["tune", &p, "--dry-run", "-v"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("igb0: pause left as it is: pfc is n/a (no DCB (dcbnl) in igb)"),
        "{err}"
    );
    let o = dpuctl(state.path(), &["tune", &p, "--yes"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no setting applies to this node"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // check has nothing it could compare: exit 2, not compliance.
    assert_eq!(dpuctl(state.path(), &["check", &p]).status.code(), Some(2));
    assert_eq!(
        node_settings(state.path()),
        before,
        "a profile of DCB keys changed the node"
    );
}

/// Sends `count` UDP datagrams of `size` bytes with each socket priority of `sends`
/// (`SO_PRIORITY`, set by python3's socket module) out of `iface` to a neighbour that is not
/// there (a static entry, so no ARP). A datagram the qdisc drops is sent again never:
/// `ENOBUFS` is ignored.
fn send_marked(iface: &str, net: &str, sends: &[(u8, u32, usize)]) {
    let addr = format!("{net}.2/24");
    let peer = format!("{net}.9");
    tool("ip", &["addr", "add", &addr, "dev", iface]);
    tool(
        "ip",
        &[
            "neigh",
            "replace",
            &peer,
            "lladdr",
            "02:00:00:00:00:09",
            "dev",
            iface,
        ],
    );
    let list: Vec<String> = sends
        .iter()
        .map(|(p, n, size)| format!("({p}, {n}, {size})"))
        .collect();
    let script = format!(
        "import socket\n\
         for prio, n, size in [{}]:\n\
         \x20   s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         \x20   s.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, prio)\n\
         \x20   for _ in range(n):\n\
         \x20       try:\n\
         \x20           s.sendto(b'q' * size, ('{peer}', 9))\n\
         \x20       except OSError:\n\
         \x20           pass\n",
        list.join(", ")
    );
    tool("python3", &["-c", &script]);
    tool("ip", &["neigh", "del", &peer, "dev", iface]);
    tool("ip", &["addr", "del", &addr, "dev", iface]);
}

/// Drops and backlog of each class of the root qdisc by class id, from `tc -s class show`:
/// ` Sent 294 bytes 3 pkt (dropped 17, overlimits 0 requeues 0)`, ` backlog 2084b 2p ...`.
fn class_drops(iface: &str) -> Vec<(String, u64, u64)> {
    let text = tool("tc", &["-s", "class", "show", "dev", iface]);
    let mut out: Vec<(String, u64, u64)> = Vec::new();
    for l in text.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        let num = |i: usize| -> u64 {
            w.get(i)
                .map(|s| s.trim_end_matches([',', 'b', 'p', ')']))
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("no number at {i} in {l:?}"))
        };
        match w.first() {
            Some(&"class") => out.push((w[2].to_string(), 0, 0)),
            Some(&"Sent") => out.last_mut().expect("class line").1 = num(6),
            Some(&"backlog") => out.last_mut().expect("class line").2 = num(2),
            _ => {}
        }
    }
    out
}

/// `dpuctl stats` on an interface with the lab's 5-band ets root: traffic marked with
/// priorities 6 and 4 shows as packets in bands 0 and 1, nothing in band 3 (priority 1, not
/// sent); band 2 (priority 2) has a slow tbf below it (8 kbit/s, 3000 bytes), so its
/// datagrams queue and drop there, and `stats` reports that band's drops (the total is
/// `tc -s class show`'s) and backlog. The root goes back to the kernel's default after.
#[test]
fn qos_stats_counts_marked_traffic_drops_and_backlog_per_ets_band() {
    use std::io::BufRead;
    in_lab();
    let iface = "igb0";
    let before = qdiscs(iface);
    tool(
        "tc",
        &[
            "qdisc", "replace", "dev", iface, "root", "handle", "1:", "ets", "bands", "5",
            "quanta", "2525", "2020", "2020", "2020", "1515", "priomap", "4", "3", "2", "4", "1",
            "4", "0", "4", "4", "4", "4", "4", "4", "4", "4", "4",
        ],
    );
    tool(
        "tc",
        &[
            "qdisc", "add", "dev", iface, "parent", "1:3", "handle", "30:", "tbf", "rate", "8kbit",
            "burst", "1600", "limit", "3000",
        ],
    );
    // Stopped with SIGTERM once the traffic is out and a few intervals have passed: python
    // alone may take seconds to start in the emulated guest. Lines are read as they come
    // (a full pipe would stall the stream).
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["stats", iface, "--format", "jsonl", "--interval", "250ms"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn dpuctl stats");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("dpuctl stats printed nothing for 60 s");
    send_marked(
        iface,
        "198.19.3",
        &[(6, 20, 100), (4, 20, 100), (2, 20, 1000)],
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    tool("kill", &["-TERM", &child.id().to_string()]);
    assert!(child.wait().expect("wait").success(), "dpuctl stats failed");
    reader.join().expect("reader thread");
    let mut all = vec![first];
    all.extend(rx.try_iter());
    let w = class_drops(iface);
    tool("tc", &["qdisc", "del", "dev", iface, "root"]);
    assert_eq!(qdiscs(iface), before, "the default root did not come back");

    let intervals: Vec<serde_json::Value> = all
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .filter(|v: &serde_json::Value| v["type"] == "interval")
        .collect();
    let band = |v: &serde_json::Value, class: &str| -> serde_json::Value {
        v["ifaces"][0]["bands"]
            .as_array()
            .and_then(|b| b.iter().find(|x| x["class"] == class).cloned())
            .unwrap_or_else(|| panic!("no band {class} in {v}"))
    };
    let any = |class: &str, field: &str| {
        intervals
            .iter()
            .any(|v| band(v, class)[field].as_f64().is_some_and(|x| x > 0.0))
    };
    let classes: Vec<String> = intervals[0]["ifaces"][0]["bands"]
        .as_array()
        .expect("bands")
        .iter()
        .map(|b| format!("{}={}", b["class"].as_str().unwrap_or("?"), b["band"]))
        .collect();
    assert_eq!(classes, ["1:1=0", "1:2=1", "1:3=2", "1:4=3", "1:5=4"]);
    assert!(any("1:1", "pps") && any("1:2", "pps"), "{all:?}");
    assert!(!any("1:4", "pps"), "band 3 carried traffic: {all:?}");
    assert!(any("1:3", "drops"), "{all:?}");
    assert!(any("1:3", "backlog_packets"), "{all:?}");
    let wd = w
        .iter()
        .find(|c| c.0 == "1:3")
        .unwrap_or_else(|| panic!("no class 1:3 in {w:?}"))
        .1;
    assert!(wd > 0, "{w:?}");
    let last = intervals.last().expect("intervals");
    assert_eq!(
        band(last, "1:3")["drops_total"].as_u64(),
        Some(wd),
        "{last}"
    );
}

/// A profile whose `qos:` block only maps priorities to transmit queues: software mqprio
/// (`hw 0`) on igb0's four queues. `tc qdisc show` agrees on the classes, the map and the
/// queues; neither the plan nor `show` speak of bandwidth shares, quanta or strict bands;
/// `check` passes; a replaced root is drift; rollback puts the kernel's default root back.
#[test]
fn qos_mqprio_maps_priorities_to_queues_checks_drifts_and_rolls_back() {
    in_lab();
    let iface = "igb0";
    let state = tempfile::tempdir().expect("tempdir");
    let before = qdiscs(iface);
    let p = write_profile(
        state.path(),
        "labmqprio",
        &format!(
            "  - match: {{name: {iface}}}\n    qos:\n      mode: mqprio\n      classes:\n\
             \x20       - {{priorities: [0, 1, 2, 3]}}\n\
             \x20       - {{priorities: [4, 5]}}\n\
             \x20       - {{priorities: [6]}}\n\
             \x20       - {{priorities: [7]}}\n"
        ),
    );
    let plan = ok(&dpuctl(state.path(), &["tune", &p, "--dry-run"]), "dry run");
    let line = plan
        .lines()
        .find(|l| l.contains(&format!("{iface} qos root qdisc")))
        .unwrap_or_else(|| panic!("no qos step in:\n{plan}"));
    assert!(
        line.contains(
            "mqprio num_tc 4 map 0 0 0 0 1 1 2 3 3 3 3 3 3 3 3 3 queues 1@0 1@1 1@2 1@3 hw 0"
        ),
        "{line}"
    );
    for word in ["quanta", "share", "%", "strict", "bands"] {
        assert!(!line.contains(word), "the plan claims {word}: {line}");
    }
    ok(&dpuctl(state.path(), &["tune", &p, "--yes"]), "tune");

    // The witness: `qdisc mqprio 8001: root tc 4 map 0 0 0 0 1 1 2 3 3 3 ...` and
    // `queues:(0:0) (1:1) (2:2) (3:3)` (one queue each).
    let now = qdiscs(iface);
    let flat = now.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("qdisc mqprio "), "{now}");
    assert!(flat.contains(" root "), "{now}");
    assert!(
        flat.contains("tc 4 map 0 0 0 0 1 1 2 3 3 3 3 3 3 3 3 3"),
        "{now}"
    );
    assert!(flat.contains("queues:(0:0) (1:1) (2:2) (3:3)"), "{now}");

    let i = crate::show(iface);
    let root = &i["tc"]["qdiscs"][0];
    assert_eq!(root["kind"], "mqprio", "{root}");
    assert_eq!(root["options"]["num_tc"], 4, "{root}");
    assert_eq!(root["options"]["hw"], 0, "{root}");
    let o = ok(&dpuctl(state.path(), &["show", iface]), "show");
    let qdisc_row = o
        .lines()
        .find(|l| l.split_whitespace().next() == Some("qdisc"))
        .unwrap_or_else(|| panic!("no qdisc row in:\n{o}"));
    // `qdisc  mqprio 8004: num_tc 4 map ... hw 0; sent ...`
    assert!(qdisc_row.contains(" mqprio "), "{qdisc_row}");
    assert!(
        qdisc_row
            .contains("num_tc 4 map 0 0 0 0 1 1 2 3 3 3 3 3 3 3 3 3 queues 1@0 1@1 1@2 1@3 hw 0"),
        "{qdisc_row}"
    );
    for l in o.lines().filter(|l| l.contains("mqprio")) {
        for word in ["quanta", "share", "%", "strict"] {
            assert!(!l.contains(word), "show claims {word}: {l}");
        }
    }

    checks_drifts_and_rolls_back(state.path(), iface, &p, &before);
}
