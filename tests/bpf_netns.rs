//! The eBPF source on a real kernel: a veth pair between two namespaces the tests create, two
//! senders with different ports sending known trains of UDP bursts (`common::traffic`),
//! `dpuctl stats --source bpf` and `dpuctl capture` on the receiving side. The bursts found
//! live from the in-kernel bins must be the bursts `capture analyze` finds in the capture of
//! the same traffic, and each burst's top flow the flow that sent it. Without privilege,
//! `--source auto` says why in one line and samples counters. Needs root.

mod common;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::http::{http_get, in_netns};
use common::traffic::{self, wait_sent, BurstTrain};
use common::Netns;

const BIN_NS: u64 = 10_000;

fn link() -> common::Link {
    common::link("bpf", 78)
}

/// `dpuctl ARGS` in `ns`, once its first line says it runs (see [`common::ready`]).
fn spawn_ready(
    ns: &Netns,
    args: &[&str],
    ready_on_stdout: bool,
    ready: &str,
) -> (Child, std::thread::JoinHandle<String>) {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_dpuctl")])
        .args(args);
    common::ready::spawn_ready(cmd, ready_on_stdout, ready)
}

/// Packets of a capture as (epoch ns, destination port), read by tshark.
fn tshark_packets(file: &std::path::Path) -> Vec<(u64, u16)> {
    let file = file.to_str().expect("utf-8");
    common::ready::packets(&common::run("tshark", &common::ready::tshark_args(file)))
}

fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().expect("unsigned number")
}

fn train(port: u16, packets: u32) -> BurstTrain {
    BurstTrain {
        dst: format!("10.78.0.2:{port}"),
        bursts: 4,
        packets,
        payload: 1000,
        gap: Duration::from_millis(20),
        lead: Duration::from_millis(50),
    }
}

#[test]
fn bursts_from_bpf_bins_match_the_capture_and_name_their_flow() {
    traffic::sender_hook();
    let l = link();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bursts.pcap");
    // 1 Gbit/s line, 50%: 625 bytes in a 10 us bin; one 1042-byte frame makes a bin hot, so a
    // burst is a run of busy bins, in the capture's analysis and in the kernel's bins alike.
    let (cap, cap_err) = spawn_ready(
        &l.rx,
        &[
            "capture",
            "r0",
            "--filter",
            "udp",
            "-w",
            file.to_str().expect("utf-8"),
            "--resolution",
            "10us",
            "--line-rate",
            "1G",
            "--duration",
            "60s",
            "-f",
            "json",
        ],
        false,
        "capturing on r0",
    );
    let (stats, stats_out) = spawn_ready(
        &l.rx,
        &[
            "stats",
            "r0",
            "--source",
            "bpf",
            "--bin-width",
            "10us",
            "--line-rate",
            "1G",
            "--interval",
            "100ms",
            "--format",
            "jsonl",
        ],
        true,
        "\"type\":\"interval\"",
    );
    // Two senders, one after the other, bursts of 20 and 60 datagrams (about 40 and 150 us).
    let first = wait_sent(traffic::spawn_bursts(&l.tx, &train(9001, 20)));
    let second = wait_sent(traffic::spawn_bursts(&l.tx, &train(9002, 60)));
    assert_eq!((first.len(), second.len()), (4, 4));
    // Let the drain (every 50 ms) see the last bins, then stop both as a service manager would.
    std::thread::sleep(Duration::from_millis(400));
    for c in [&stats, &cap] {
        common::run("kill", &["-TERM", &c.id().to_string()]);
    }
    let so = stats.wait_with_output().expect("stats");
    let stats_text = stats_out.join().expect("stats stdout");
    assert!(so.status.success(), "stats: {stats_text}");
    let co = cap.wait_with_output().expect("capture");
    let cap_text = cap_err.join().expect("capture stderr");
    assert!(co.status.success(), "capture: {cap_text}");

    // The capture, analyzed at the bin width.
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["capture", "analyze", file.to_str().expect("utf-8")])
        .args(["--resolution", "10us", "--line-rate", "1G", "-f", "json"])
        .output()
        .expect("dpuctl capture analyze");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let want: Vec<(u64, u64)> = v[0]["bursts"]
        .as_array()
        .expect("bursts")
        .iter()
        .map(|b| (u(&b["start_ns"]), u(&b["duration_ns"])))
        .collect();
    let packets = tshark_packets(&file);
    let sent: u64 = first.iter().chain(&second).map(|s| s.packets).sum();
    assert_eq!(packets.len() as u64, sent, "capture holds every datagram");

    // The bursts of the eBPF source, in time order (the receiving side: rx).
    let got: Vec<serde_json::Value> = stats_text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .filter(|j| j["type"] == "burst" && j["dir"] == "rx")
        .collect();
    let starts: Vec<(u64, u64)> = got
        .iter()
        .map(|j| (u(&j["start_ns"]), u(&j["duration_ns"])))
        .collect();
    assert!(want.len() >= 8, "capture analysis: {want:?}");
    assert_eq!(
        got.len(),
        want.len(),
        "bpf bursts {starts:?} vs capture bursts {want:?}"
    );
    // The two clocks differ by a constant (sampler origin vs epoch): take the median.
    let mut diffs: Vec<i128> = starts
        .iter()
        .zip(&want)
        .map(|(g, w)| i128::from(g.0) - i128::from(w.0))
        .collect();
    diffs.sort_unstable();
    let off = diffs[diffs.len() / 2];
    for (g, w) in starts.iter().zip(&want) {
        let ds = i128::from(g.0) - off - i128::from(w.0);
        let dd = i128::from(g.1) - i128::from(w.1);
        assert!(
            ds.abs() <= i128::from(BIN_NS) && dd.abs() <= i128::from(BIN_NS),
            "burst {g:?} (start shifted by {off}) vs capture {w:?}: start off by {ds} ns, \
             duration by {dd} ns; all: {starts:?} vs {want:?}"
        );
    }
    // Each burst's top flow is the flow whose packets the capture holds in it.
    for (j, w) in got.iter().zip(&want) {
        let port = packets
            .iter()
            .find(|(t, _)| *t >= w.0 && *t < w.0 + w.1)
            .map_or_else(|| panic!("no packet in capture burst {w:?}"), |(_, p)| *p);
        let top = &j["top_flows"][0];
        assert_eq!(
            (u(&top["dport"]), top["proto"].as_u64(), top["dst"].as_str()),
            (u64::from(port), Some(17), Some("10.78.0.2")),
            "top flow of {j}"
        );
    }
}

/// `setpriv` as nobody with no capabilities, inside `ns`.
fn unprivileged(ns: &Netns, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .args([
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            env!("CARGO_BIN_EXE_dpuctl"),
        ])
        .args(args)
        .output()
        .expect("setpriv dpuctl")
}

#[test]
fn without_privilege_auto_says_why_and_samples_counters() {
    let ns = Netns::new("bpfnopriv");
    ns.veth("u0", "u1", 1);
    let o = unprivileged(
        &ns,
        &[
            "stats",
            "u0",
            "--source",
            "auto",
            "--interval",
            "100ms",
            "--count",
            "2",
            "--format",
            "jsonl",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        vec![
            "dpuctl: --source auto: sampling counters (eBPF source: no CAP_BPF and CAP_NET_ADMIN)"
        ],
        "one line that says why"
    );
    let intervals = out
        .lines()
        .filter(|l| l.contains("\"type\":\"interval\""))
        .count();
    assert_eq!(intervals, 2, "{out}");
    // The counter sampler ran: 1 ms samples, about 100 per interval.
    assert!(out.contains("\"samples\":"), "{out}");
    // troubleshoot takes the same flag with the same meaning.
    let o = unprivileged(
        &ns,
        &[
            "troubleshoot",
            "u0",
            "--source",
            "auto",
            "--window",
            "200ms",
            "--symptom",
            "latency",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        vec![
            "dpuctl: --source auto: sampling counters (eBPF source: no CAP_BPF and CAP_NET_ADMIN)"
        ]
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("counter window: 0.2 s"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // --source bpf does not fall back: exit 2, the same reason.
    let o = unprivileged(&ns, &["stats", "u0", "--source", "bpf", "--count", "1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no CAP_BPF and CAP_NET_ADMIN") && err.lines().count() == 1,
        "{err}"
    );
}

fn tc_state(ns: &Netns, dev: &str) -> String {
    let mut out = ns.exec_ok("tc", &["qdisc", "show", "dev", dev]);
    for dir in ["ingress", "egress"] {
        out += &ns.exec_ok("tc", &["filter", "show", "dev", dev, dir]);
    }
    out
}

#[test]
fn attaching_leaves_tc_as_it_was_and_a_killed_run_leaves_nothing() {
    let ns = Netns::new("bpfkill");
    ns.veth("k0", "k1", 1);
    // Someone's tc set-up: a root qdisc, clsact, and a filter on each hook.
    ns.exec_ok(
        "tc",
        &[
            "qdisc", "replace", "dev", "k0", "root", "pfifo", "limit", "77",
        ],
    );
    ns.exec_ok("tc", &["qdisc", "add", "dev", "k0", "clsact"]);
    for dir in ["ingress", "egress"] {
        ns.exec_ok(
            "tc",
            &[
                "filter", "add", "dev", "k0", dir, "pref", "7", "u32", "match", "u32", "0", "0",
            ],
        );
    }
    let before = tc_state(&ns, "k0");
    let (mut stats, _out) = spawn_ready(
        &ns,
        &[
            "stats",
            "k0",
            "--source",
            "bpf",
            "--interval",
            "100ms",
            "--format",
            "jsonl",
        ],
        true,
        "\"type\":\"interval\"",
    );
    // The kernel's word (fdinfo of the process's link descriptors): a tcx link on each hook
    // of k0, nothing else attached.
    let ifindex: u32 = ns
        .exec_ok("cat", &["/sys/class/net/k0/ifindex"])
        .trim()
        .parse()
        .expect("ifindex");
    let links = tcx_links(stats.id());
    let mut hooks: Vec<(u32, String)> = links.iter().map(|l| (l.0, l.1.clone())).collect();
    hooks.sort();
    assert_eq!(
        hooks,
        vec![
            (ifindex, "egress".to_string()),
            (ifindex, "ingress".to_string())
        ],
        "{links:?}"
    );
    // bpftool sees the programs, by the names of the object.
    for (_, _, prog) in &links {
        let p = common::run("bpftool", &["prog", "show", "id", &prog.to_string()]);
        assert!(p.contains("name dpuctl_bins_"), "{p}");
    }
    assert_eq!(
        tc_state(&ns, "k0"),
        before,
        "tc filters and qdiscs untouched"
    );
    // SIGKILL: no exit path runs; the links die with the process's descriptors, and the
    // programs with their last reference.
    stats.kill().expect("SIGKILL");
    stats.wait().expect("reap");
    for (_, _, prog) in &links {
        let mut gone = false;
        for _ in 0..50 {
            let o = Command::new("bpftool")
                .args(["prog", "show", "id", &prog.to_string()])
                .output()
                .expect("bpftool");
            if !o.status.success() {
                gone = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(gone, "program {prog} still loaded after SIGKILL");
        let l = all_links();
        assert!(
            !l.lines()
                .any(|x| x.trim_end().ends_with(&format!("prog {prog}"))),
            "a link to program {prog} is left: {l}"
        );
    }
    assert_eq!(tc_state(&ns, "k0"), before);
}

/// `bpftool link show`: every link of the system. Enumerating races with links that other
/// processes (the other tests of this file, running in parallel) are releasing: bpftool then
/// fails with EAGAIN for a link id that is going away. Such a failure is retried.
fn all_links() -> String {
    let mut last = String::new();
    for _ in 0..50 {
        let o = Command::new("bpftool")
            .args(["link", "show"])
            .output()
            .expect("run bpftool (Debian package bpftool)");
        if o.status.success() {
            return String::from_utf8_lossy(&o.stdout).into_owned();
        }
        last = String::from_utf8_lossy(&o.stderr).into_owned();
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("bpftool link show failed 50 times: {last}");
}

/// The tcx links a process holds, as (ifindex, "ingress"/"egress", program id), from the
/// kernel's fdinfo of its descriptors.
fn tcx_links(pid: u32) -> Vec<(u32, String, u32)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fdinfo")).expect("fdinfo") {
        let Ok(text) = std::fs::read_to_string(e.expect("entry").path()) else {
            continue;
        };
        let field = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().to_string())
        };
        if field("link_type:").as_deref() != Some("tcx") {
            continue;
        }
        let dir = field("attach_type:").expect("attach_type");
        let dir = dir
            .split_once('(')
            .map(|(_, d)| d.trim_end_matches(')').to_string())
            .expect("attach type name");
        out.push((
            field("ifindex:").expect("ifindex").parse().expect("num"),
            dir,
            field("prog_id:").expect("prog_id").parse().expect("num"),
        ));
    }
    out
}

#[test]
fn the_exporter_counts_the_bursts_of_the_bpf_source() {
    traffic::sender_hook();
    let l = link();
    let dir = tempfile::tempdir().expect("tempdir");
    let addr = "127.0.0.1:9061";
    let mut exp = Command::new("ip")
        .args(["netns", "exec", &l.rx.name, env!("CARGO_BIN_EXE_dpuctl")])
        .args(["--state-dir", dir.path().to_str().expect("utf-8")])
        .args([
            "exporter",
            "r0",
            "--source",
            "bpf",
            "--line-rate",
            "1G",
            "--listen",
            addr,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn exporter");
    let series = "dpuctl_microbursts_total{interface=\"r0\",direction=\"rx\"}";
    let scrape = || {
        in_netns(&l.rx, || http_get(addr, "/metrics"))
            .ok()
            .filter(|(c, _)| *c == 200)
            .map(|(_, b)| b)
    };
    let count = |b: &str| -> Option<u64> {
        b.lines()
            .find_map(|x| x.strip_prefix(series))
            .and_then(|v| v.trim().parse().ok())
    };
    // The series shows once the first samples are in: no burst yet.
    let mut first = None;
    for _ in 0..100 {
        first = scrape().and_then(|b| count(&b));
        if first.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(first, Some(0), "the exporter serves the rx burst count");
    let sent = wait_sent(traffic::spawn_bursts(&l.tx, &train(9003, 30)));
    assert_eq!(sent.len(), 4);
    // Bursts are counted once they end and the drain (50-100 ms) has seen them.
    let mut n = 0;
    for _ in 0..50 {
        n = scrape().and_then(|b| count(&b)).unwrap_or(0);
        if n >= 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(n >= 4, "bursts counted: {n}");
    common::run("kill", &["-TERM", &exp.id().to_string()]);
    let st = exp.wait().expect("exporter");
    let mut err = String::new();
    let _ = exp.stderr.take().expect("stderr").read_to_string(&mut err);
    assert!(st.success(), "{err}");
}
