//! `dpuctl show` on the real kernel, inside network namespaces the test creates: what it reports
//! for veth interfaces must agree with `ethtool -i/-l/-k/-S` and with sysfs, the independent
//! witnesses. Needs root.

mod common;

use common::Netns;
use serde_json::Value;

/// Two namespaces joined by a veth pair `a` (in the first) / `b` (in the second), 4 queues each,
/// addressed, IPv6 off so no background traffic moves the counters.
fn pair() -> (Netns, Netns) {
    let n1 = Netns::new("show1");
    let n2 = Netns::new("show2");
    n1.veth("a", "b", 4);
    n1.ip(&["link", "set", "dev", "b", "netns", &n2.name]);
    for (ns, dev, addr) in [(&n1, "a", "198.18.5.1/24"), (&n2, "b", "198.18.5.2/24")] {
        ns.exec_ok(
            "sh",
            &["-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6"],
        );
        ns.ip(&["addr", "add", addr, "dev", dev]);
        ns.ip(&["link", "set", "dev", dev, "up"]);
    }
    (n1, n2)
}

fn show(ns: &Netns, iface: &str) -> Value {
    let o = ns.dpuctl(&["show", iface, "--format", "json"]);
    assert!(
        o.status.success(),
        "show: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let ifs = v["interfaces"].as_array().expect("interfaces");
    assert_eq!(ifs.len(), 1);
    ifs[0].clone()
}

/// `key: value` lines of ethtool output, trimmed.
fn kv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn get<'a>(kv: &'a [(String, String)], key: &str) -> &'a str {
    kv.iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn show_agrees_with_ethtool_and_sysfs_on_veth() {
    let (n1, _n2) = pair();
    // Known traffic: 40 UDP datagrams from a to b (bash's /dev/udp needs no extra tool).
    n1.exec_ok(
        "bash",
        &[
            "-c",
            "for i in $(seq 40); do echo dpuctl > /dev/udp/198.18.5.2/9; done",
        ],
    );
    // A steering setting to read back.
    n1.exec_ok(
        "sh",
        &["-c", "echo 3 > /sys/class/net/a/queues/rx-1/rps_cpus"],
    );
    let i = show(&n1, "a");

    // ethtool -i
    let info = kv(&n1.exec_ok("ethtool", &["-i", "a"]));
    assert_eq!(i["driver"]["driver"], get(&info, "driver"));
    assert_eq!(i["driver"]["version"], get(&info, "version"));

    // ethtool -l: the first block is the maximum, the second the current setting.
    let l = n1.exec_ok("ethtool", &["-l", "a"]);
    let (max, cur) = l
        .split_once("Current hardware settings:")
        .expect("two blocks");
    let (max, cur) = (kv(max), kv(cur));
    assert_eq!(i["channels"]["rx_max"].to_string(), get(&max, "RX"));
    assert_eq!(i["channels"]["tx_max"].to_string(), get(&max, "TX"));
    assert_eq!(i["channels"]["rx"].to_string(), get(&cur, "RX"));
    assert_eq!(i["channels"]["tx"].to_string(), get(&cur, "TX"));

    // ethtool -k, on the features ethtool names the same way or by its legacy names.
    let k = kv(&n1.exec_ok("ethtool", &["-k", "a"]));
    let feats = i["features"].as_array().expect("features");
    let feat = |name: &str| feats.iter().find(|f| f["name"] == name).expect(name);
    for (kernel, legacy) in [
        ("rx-gro", "generic-receive-offload"),
        ("rx-lro", "large-receive-offload"),
        ("rx-gro-hw", "rx-gro-hw"),
        ("rx-udp-gro-forwarding", "rx-udp-gro-forwarding"),
        ("tx-tcp-segmentation", "tx-tcp-segmentation"),
        ("rx-checksum", "rx-checksumming"),
    ] {
        let want = get(&k, legacy);
        let f = feat(kernel);
        assert!(
            want.starts_with(if f["active"] == true { "on" } else { "off" }),
            "{kernel}: {want}"
        );
        assert_eq!(
            want.contains("[fixed]"),
            f["fixed"] == true,
            "{kernel}: {want}"
        );
    }

    // ethtool -S: the same counters in the same order.
    let s = n1.exec_ok("ethtool", &["-S", "a"]);
    let names: Vec<String> = kv(&s)
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| k != "NIC statistics")
        .collect();
    let ours: Vec<String> = i["driver_stats"]
        .as_array()
        .expect("driver stats")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(ours, names);
    assert!(!ours.is_empty());

    // veth has no rings, pause or coalescing: n/a with a reason, not an error or a zero.
    for knob in ["rings", "pause", "coalesce"] {
        let why = i[knob]["n/a"]
            .as_str()
            .unwrap_or_else(|| panic!("{knob} not n/a: {}", i[knob]));
        assert!(why.contains("not supported"), "{knob}: {why}");
    }

    // sysfs witnesses: mtu, queues, rps, counters.
    let cat = |p: &str| {
        n1.exec_ok("cat", &[&format!("/sys/class/net/a/{p}")])
            .trim()
            .to_string()
    };
    assert_eq!(i["mtu"].to_string(), cat("mtu"));
    assert_eq!(i["txqueuelen"].to_string(), cat("tx_queue_len"));
    assert_eq!(i["ifindex"].to_string(), cat("ifindex"));
    let queues = i["queues"].as_array().expect("queues");
    assert_eq!(queues.iter().filter(|q| q["dir"] == "rx").count(), 4);
    assert_eq!(queues.iter().filter(|q| q["dir"] == "tx").count(), 4);
    let rx1 = queues
        .iter()
        .find(|q| q["dir"] == "rx" && q["index"] == 1)
        .expect("rx-1");
    assert_eq!(rx1["rps_cpus"], "0-1");
    for c in [
        "tx_packets",
        "tx_bytes",
        "rx_packets",
        "rx_bytes",
        "tx_dropped",
    ] {
        assert_eq!(
            i["counters"][c].to_string(),
            cat(&format!("statistics/{c}")),
            "{c}"
        );
    }
    assert!(i["counters"]["tx_packets"].as_u64().expect("tx") >= 40);
    assert_eq!(i["kind"], "veth");
}

#[test]
fn show_table_and_errors_on_the_live_kernel() {
    let (n1, _n2) = pair();
    let o = n1.dpuctl(&["show"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("== a ==  veth"));
    assert!(text.contains("rings     n/a ("), "{text}");
    // Through a pipe nothing is wrapped (100 columns is for a terminal, tests/cli.rs): no
    // continuation line of a wrapped cell.
    assert!(
        !text.lines().any(|l| l.starts_with("           ")),
        "{text}"
    );
    let o = n1.dpuctl(&["show", "nope0"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no interface \"nope0\"") && err.contains("(have: "),
        "{err}"
    );
}

#[test]
fn snapshot_of_a_namespace_reads_back_offline() {
    let (n1, _n2) = pair();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("snap.json");
    let p = path.to_str().expect("path");
    let o = n1.dpuctl(&["snapshot", "-o", p]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Read back outside the namespace: interface "a" exists only in the snapshot.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["show", "a", "--from", p, "-f", "json"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["interfaces"][0]["name"], "a");
    assert_eq!(v["interfaces"][0]["driver"]["driver"], "veth");
}

#[test]
fn show_works_without_privilege() {
    // Drop to nobody: reading links, counters, ethtool settings and sysfs needs no privilege.
    let (n1, _n2) = pair();
    let o = n1.exec(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            env!("CARGO_BIN_EXE_dpuctl"),
            "show",
            "a",
            "--format",
            "json",
        ],
    );
    assert!(
        o.status.success(),
        "unprivileged show: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let a = &v["interfaces"][0];
    assert_eq!(a["driver"]["driver"], "veth");
    assert!(
        a["channels"]["rx_max"].as_u64().is_some(),
        "{}",
        a["channels"]
    );
    assert!(!a["driver_stats"].as_array().expect("stats").is_empty());
}

/// A down interface has no carrier in the kernel's eyes (sysfs `carrier` refuses with EINVAL),
/// whatever `IFLA_CARRIER` last said: `show` says so instead of a stale `yes` or a bare `-`.
#[test]
fn a_down_interface_shows_no_carrier_and_why() {
    common::require_root();
    let ns = Netns::new("carrier");
    ns.veth("a", "b", 1);
    ns.ip(&["link", "set", "dev", "a", "up"]);
    ns.ip(&["link", "set", "dev", "b", "down"]);
    // The witness: the kernel refuses to tell a carrier for the down end.
    let o = ns.exec("cat", &["/sys/class/net/b/carrier"]);
    assert!(!o.status.success(), "sysfs carrier of a down link reads");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Invalid argument"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = ns.dpuctl(&["show", "b"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("down, carrier no (interface down"), "{text}");
    let b = {
        let o = ns.dpuctl(&["show", "b", "--format", "json"]);
        let v: Value = serde_json::from_slice(&o.stdout).expect("json");
        v["interfaces"][0].clone()
    };
    assert_eq!(b["operstate"], "down");
    assert!(b["carrier"].is_null(), "{b}");
    // The other end is up, without carrier (its peer is down): a plain `no`.
    let o = ns.dpuctl(&["show", "a"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(", carrier no ("), "{text}");
    assert!(!text.contains("interface down"), "{text}");
}

/// `show -S` lists every `ethtool -S` counter with ethtool's value, grouped by class
/// (veth's per-queue XDP counters as queue counters), non-zero first in each group.
#[test]
fn show_stats_lists_every_driver_counter_by_class() {
    let (n1, _n2) = pair();
    let o = n1.dpuctl(&["show", "-S", "a"]);
    assert!(
        o.status.success(),
        "show -S: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let start = text
        .find(" driver counters (ethtool -S): ")
        .unwrap_or_else(|| panic!("no driver counter table:\n{text}"));
    // Rows: class words, counter, value; the table ends at the blank line.
    let rows: Vec<(String, String, u64)> = text[start..]
        .lines()
        .skip(2)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let value = w[w.len() - 1].parse().expect("value");
            // "rx queue_packets rx_queue_0_xdp_packets (queue 0) 0" or "other peer_ifindex 5".
            let at = if w[w.len() - 2].ends_with(')') {
                w.len() - 4
            } else {
                w.len() - 2
            };
            let counter = w[at].to_string();
            (w[..at].join(" "), counter, value)
        })
        .collect();
    let witness = n1.exec_ok("ethtool", &["-S", "a"]);
    let want: Vec<(String, u64)> = kv(&witness)
        .into_iter()
        .filter(|(k, _)| k != "NIC statistics")
        .map(|(k, v)| (k, v.parse().expect("ethtool value")))
        .collect();
    assert_eq!(rows.len(), want.len(), "every counter once:\n{text}");
    for (k, v) in &want {
        let r = rows
            .iter()
            .find(|r| &r.1 == k)
            .unwrap_or_else(|| panic!("{k} missing:\n{text}"));
        if k == "peer_ifindex" {
            assert_eq!(r.2, *v, "{k}");
        }
    }
    let class_of = |name: &str| rows.iter().find(|r| r.1 == name).map(|r| r.0.clone());
    assert_eq!(
        class_of("rx_queue_0_xdp_packets").as_deref(),
        Some("rx queue_packets")
    );
    assert_eq!(class_of("peer_ifindex").as_deref(), Some("other"));
    // Within each group, no zero before a non-zero.
    for g in rows.windows(2) {
        if g[0].0 == g[1].0 {
            assert!(!(g[0].2 == 0 && g[1].2 > 0), "zero before non-zero: {g:?}");
        }
    }
}
