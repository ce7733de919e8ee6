//! Per-band qdisc counters in the live monitor, against the real kernel, with `tc -s class
//! show` as the witness, in network namespaces the tests create.
//!
//! This kernel has no `sch_ets`, `sch_prio` or `sch_mqprio` (the ETS bands run in the lab
//! tier, `tests/lab_guest/qos.rs`); htb is the classful qdisc it has. A root htb with two
//! classes: 1:10 fast and idle, 1:20 (the default) at 1 kbit/s with a 10-packet pfifo, so a
//! train of datagrams leaves 10 packets queued (a 1000-byte packet takes 8 s at that rate)
//! and the rest dropped, in that class only.
//!
//! Needs root and iproute2's `ip` and `tc`.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::http::in_netns;
use common::Netns;

/// A namespace with a veth pair `a`/`b`, IPv6 off (no neighbour discovery joins the
/// traffic), 10.78.0.1 on `a` and a static neighbour 10.78.0.2 that is not there: every
/// datagram to it passes `a`'s root qdisc.
fn setup(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.veth("a", "b", 1);
    for dev in ["a", "b"] {
        ns.exec_ok(
            "sysctl",
            &["-qw", &format!("net.ipv6.conf.{dev}.disable_ipv6=1")],
        );
    }
    ns.ip(&["addr", "add", "10.78.0.1/24", "dev", "a"]);
    ns.ip(&[
        "neigh",
        "add",
        "10.78.0.2",
        "lladdr",
        "02:00:00:00:00:02",
        "dev",
        "a",
    ]);
    ns
}

/// The root htb of the module comment on `a`.
fn htb(ns: &Netns) {
    let tc = |args: &[&str]| {
        ns.exec_ok("tc", args);
    };
    tc(&[
        "qdisc", "add", "dev", "a", "root", "handle", "1:", "htb", "default", "20",
    ]);
    tc(&[
        "class", "add", "dev", "a", "parent", "1:", "classid", "1:10", "htb", "rate", "100mbit",
    ]);
    tc(&[
        "class", "add", "dev", "a", "parent", "1:", "classid", "1:20", "htb", "rate", "1kbit",
        "ceil", "1kbit", "burst", "1", "cburst", "1",
    ]);
    tc(&[
        "qdisc", "add", "dev", "a", "parent", "1:20", "handle", "20:", "pfifo", "limit", "10",
    ]);
}

/// Sends `n` 1000-byte datagrams to the missing neighbour, from inside the namespace.
fn send(ns: &Netns, n: usize) {
    in_netns(ns, || {
        let sock = std::net::UdpSocket::bind("10.78.0.1:0").expect("bind");
        for _ in 0..n {
            // A full qdisc answers ENOBUFS for a dropped datagram; that is the point.
            let _ = sock.send_to(&[0u8; 1000], "10.78.0.2:9");
        }
    });
}

/// One class as `tc -s class show` prints it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Witness {
    bytes: u64,
    packets: u64,
    drops: u64,
    backlog_bytes: u64,
    backlog_packets: u64,
}

/// The classes of `dev` by id, parsed from `tc -s class show dev DEV`:
/// `class htb 1:20 root ...`, ` Sent 1042 bytes 1 pkt (dropped 89, overlimits 1 requeues 0)`,
/// ` backlog 10420b 10p requeues 0`.
fn witness(ns: &Netns, dev: &str) -> Vec<(String, Witness)> {
    let text = ns.exec_ok("tc", &["-s", "class", "show", "dev", dev]);
    let mut out: Vec<(String, Witness)> = Vec::new();
    for l in text.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        let num = |i: usize| -> u64 {
            w.get(i)
                .map(|s| s.trim_end_matches([',', 'b', 'p', ')']))
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("no number at {i} in {l:?}"))
        };
        match w.first() {
            Some(&"class") => out.push((w[2].to_string(), Witness::default())),
            Some(&"Sent") => {
                let c = &mut out.last_mut().expect("a class line first").1;
                c.bytes = num(1);
                c.packets = num(3);
                c.drops = num(6);
            }
            Some(&"backlog") => {
                let c = &mut out.last_mut().expect("a class line first").1;
                c.backlog_bytes = num(1);
                c.backlog_packets = num(2);
            }
            _ => {}
        }
    }
    out
}

fn class(all: &[(String, Witness)], id: &str) -> Witness {
    all.iter()
        .find(|(c, _)| c == id)
        .unwrap_or_else(|| panic!("no class {id} in {all:?}"))
        .1
}

/// A running `dpuctl stats --format jsonl` whose lines are read as they come.
struct Stats {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Stats {
    fn start(ns: &Netns, args: &[&str]) -> Self {
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.name,
                env!("CARGO_BIN_EXE_dpuctl"),
                "stats",
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dpuctl stats");
        let out = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next interval line (waits at most 20 s).
    fn interval(&self) -> serde_json::Value {
        loop {
            let l = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .expect("dpuctl stats printed nothing for 20 s");
            let v: serde_json::Value =
                serde_json::from_str(&l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}"));
            if v["type"] == "interval" {
                return v;
            }
        }
    }

    /// Stops it with SIGTERM; returns the interval lines it printed meanwhile.
    fn stop(mut self) -> Vec<serde_json::Value> {
        common::run("kill", &["-TERM", &self.child.id().to_string()]);
        let status = self.child.wait().expect("wait for dpuctl stats");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        assert!(status.success(), "dpuctl stats failed: {err}");
        self.lines
            .iter()
            .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
            .filter(|v: &serde_json::Value| v["type"] == "interval")
            .collect()
    }
}

fn iface<'a>(interval: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    interval["ifaces"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["name"] == name))
        .unwrap_or_else(|| panic!("no {name} in {interval}"))
}

fn band<'a>(i: &'a serde_json::Value, class: &str) -> &'a serde_json::Value {
    i["bands"]
        .as_array()
        .and_then(|a| a.iter().find(|b| b["class"] == class))
        .unwrap_or_else(|| panic!("no band {class} in {i}"))
}

fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Drops and backlog made in one class show in `stats --format jsonl` as that class's drop
/// rate, drop total and backlog, agreeing with `tc -s class show`; the idle class stays at
/// zero, and `b`, whose root (noqueue) has no classes, has no bands at all.
#[test]
fn stats_reports_drops_and_backlog_of_the_band_that_has_them() {
    let ns = setup("bands");
    htb(&ns);
    let stats = Stats::start(&ns, &["a", "b", "--format", "jsonl", "--interval", "250ms"]);
    let first = stats.interval();
    let a = iface(&first, "a");
    assert_eq!(u(&band(a, "1:20")["drops_total"]), 0, "{a}");
    assert!(
        iface(&first, "b").get("bands").is_none(),
        "{}",
        iface(&first, "b")
    );

    send(&ns, 100);
    let w0 = class(&witness(&ns, "a"), "1:20");
    assert!(w0.drops >= 80 && w0.backlog_packets == 10, "{w0:?}");
    // Two intervals: the first slow read after the train falls in one of them.
    let mid = stats.interval();
    let after = stats.interval();
    let _ = stats.stop();
    let w1 = class(&witness(&ns, "a"), "1:20");

    let a = iface(&after, "a");
    let b20 = band(a, "1:20");
    // Nothing else passes the qdisc: the drops are the witness's, exactly.
    assert_eq!(u(&b20["drops_total"]), w0.drops, "{b20}");
    assert_eq!(w1.drops, w0.drops);
    // Backlog is a gauge between the witness's two reads (1 kbit/s drains one packet in
    // about 8 s).
    let q = u(&b20["backlog_packets"]);
    assert!(w1.backlog_packets <= q && q <= w0.backlog_packets, "{b20}");
    let bytes = u(&b20["backlog_bytes"]);
    assert!(
        w1.backlog_bytes <= bytes && bytes <= w0.backlog_bytes,
        "{b20} {w0:?} {w1:?}"
    );
    assert_eq!(b20["kind"], "htb");
    assert!(
        b20.get("band").is_none(),
        "htb classes are not bands: {b20}"
    );
    // The drops were a rate in the interval that saw them.
    let rate = |v: &serde_json::Value| band(iface(v, "a"), "1:20")["drops"].as_f64();
    assert!(
        [&mid, &after]
            .iter()
            .any(|v| rate(v).is_some_and(|d| d > 0.0)),
        "{mid}\n{after}"
    );
    let b10 = band(a, "1:10");
    assert_eq!(
        (
            u(&b10["drops_total"]),
            b10["drops"].as_f64(),
            b10["bps"].as_f64()
        ),
        (0, Some(0.0), Some(0.0)),
        "{b10}"
    );
    assert!(iface(&after, "b").get("bands").is_none());
}

/// The slow reads ask dcbnl once per interface: veth answers "not supported", which is
/// remembered, so later rounds send no dcbnl request at all; the band reads go on every
/// round and agree with `tc -s class show`.
#[test]
fn slow_reads_ask_dcbnl_once_where_the_driver_has_no_dcb() {
    use dpuctl::monitor::sampler::{SamplerConfig, SlowReader};
    let ns = setup("bandsdcb");
    htb(&ns);
    send(&ns, 30);
    let (requests, bands) = in_netns(&ns, || {
        let cfg = SamplerConfig {
            ifaces: vec!["a".into(), "b".into()],
            driver_stats: false,
            ..SamplerConfig::default()
        };
        let mut slow = SlowReader::new(&cfg);
        let mut requests = Vec::new();
        let mut bands = Vec::new();
        for _ in 0..3 {
            let r = slow.read().expect("slow round");
            requests.push(slow.dcb_requests);
            for (_, s) in &r.ifaces {
                assert!(s.pfc.is_none(), "veth has no PFC counters");
            }
            bands = r
                .ifaces
                .into_iter()
                .map(|(i, s)| {
                    let l = r.links.iter().find(|l| l.ifindex == i).expect("a link");
                    (l.name.to_string(), s.bands)
                })
                .collect();
            bands.sort_by(|x: &(String, _), y| x.0.cmp(&y.0));
        }
        (requests, bands)
    });
    assert_eq!(requests, [2, 2, 2]);
    let w = class(&witness(&ns, "a"), "1:20");
    let a = bands[0].1.as_ref().expect("bands of a read");
    let ids: Vec<u32> = a.iter().map(|b| b.class).collect();
    assert_eq!(ids, [0x0001_0010, 0x0001_0020]);
    assert_eq!(a[1].kind, "htb");
    assert_eq!(u64::from(a[1].stats.drops), w.drops);
    assert!(w.drops > 0, "{w:?}");
    assert_eq!(a[1].stats.packets, w.packets);
    assert_eq!(bands[1].0, "b");
    assert_eq!(
        bands[1].1.as_deref(),
        Some(&[][..]),
        "b's noqueue root has no classes"
    );
}
