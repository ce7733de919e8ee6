//! The eBPF source on real drivers (virtio-net and igb, real NAPI, Debian's 6.12 kernel with
//! BTF and tcx): trains of UDP bursts sent out of each NIC by two senders with different
//! ports; `dpuctl stats --source bpf` and `dpuctl capture` on the NIC; the tx bursts found
//! live from the in-kernel bins must be the bursts `capture analyze` finds in the capture,
//! each burst's top flow the sender's. The guest is emulated (TCG): a sender puts out about
//! one datagram per 10-50 us, so the bins are 100 us wide here (10 us on the host's veth test,
//! `tests/bpf_netns.rs`).

use std::io::{BufRead, BufReader, Read};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{in_lab, tool};

const BIN: &str = "100us";
const BIN_NS: i128 = 100_000;

fn spawn_ready(
    args: &[&str],
    on_stdout: bool,
    ready: &str,
) -> (Child, std::thread::JoinHandle<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dpuctl");
    let stream: Box<dyn Read + Send> = if on_stdout {
        Box::new(child.stdout.take().expect("stdout"))
    } else {
        Box::new(child.stderr.take().expect("stderr"))
    };
    let mut r = BufReader::new(stream);
    let mut first = String::new();
    r.read_line(&mut first).expect("first line");
    assert!(
        first.contains(ready),
        "dpuctl {args:?} did not start: {first}"
    );
    let rest = std::thread::spawn(move || {
        let mut s = first;
        let _ = r.read_to_string(&mut s);
        s
    });
    (child, rest)
}

fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().expect("unsigned number")
}

/// Sends `bursts` bursts of `packets` datagrams to `dst`, 20 ms apart.
fn send(dst: &str, bursts: u32, packets: u32) {
    let s = UdpSocket::bind("0.0.0.0:0").expect("bind");
    s.connect(dst).expect("connect");
    let buf = [0x5a_u8; 1000];
    for _ in 0..bursts {
        for _ in 0..packets {
            let _ = s.send(&buf);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn one_nic(iface: &str, peer: &str) {
    let file = format!("/tmp/bpf-{iface}.pcap");
    // The route and the neighbour are resolved before the trains.
    send(&format!("{peer}:9000"), 1, 1);
    std::thread::sleep(Duration::from_millis(300));
    let (cap, cap_err) = spawn_ready(
        &[
            "capture",
            iface,
            "--filter",
            "udp and dst port 9001 or udp and dst port 9002",
            "-w",
            &file,
            "--duration",
            "60s",
            "-f",
            "json",
        ],
        false,
        &format!("capturing on {iface}"),
    );
    let (stats, stats_out) = spawn_ready(
        &[
            "stats",
            iface,
            "--source",
            "bpf",
            "--bin-width",
            BIN,
            "--line-rate",
            "100M",
            "--interval",
            "100ms",
            "--format",
            "jsonl",
        ],
        true,
        "\"type\":\"interval\"",
    );
    send(&format!("{peer}:9001"), 4, 5);
    send(&format!("{peer}:9002"), 4, 15);
    std::thread::sleep(Duration::from_millis(500));
    for c in [&stats, &cap] {
        tool("kill", &["-TERM", &c.id().to_string()]);
    }
    let so = stats.wait_with_output().expect("stats");
    let stats_text = stats_out.join().expect("stats out");
    assert!(so.status.success(), "{iface} stats: {stats_text}");
    let co = cap.wait_with_output().expect("capture");
    let cap_text = cap_err.join().expect("capture err");
    assert!(co.status.success(), "{iface} capture: {cap_text}");
    let an = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args([
            "capture",
            "analyze",
            &file,
            "--resolution",
            BIN,
            "--line-rate",
            "100M",
        ])
        .args(["-f", "json"])
        .output()
        .expect("capture analyze");
    assert!(an.status.success(), "{}", String::from_utf8_lossy(&an.stderr));
    let report: serde_json::Value = serde_json::from_slice(&an.stdout).expect("json");
    let want: Vec<(u64, u64)> = report[0]["bursts"]
        .as_array()
        .expect("bursts")
        .iter()
        .map(|b| (u(&b["start_ns"]), u(&b["duration_ns"])))
        .collect();
    // Destination port of each captured packet, by tshark.
    let pk: Vec<(u64, u16)> = tool(
        "tshark",
        &[
            "-r",
            &file,
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "udp.dstport",
        ],
    )
    .lines()
    .map(|l| {
        let (t, p) = l.split_once('\t').expect("two fields");
        let (s, f) = t.trim().split_once('.').expect("seconds.fraction");
        let frac: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
        (
            s.parse::<u64>().expect("s") * 1_000_000_000 + frac.parse::<u64>().expect("ns"),
            p.trim().parse().expect("port"),
        )
    })
    .collect();
    assert_eq!(pk.len(), 4 * 5 + 4 * 15, "{iface}: every datagram captured");
    let got: Vec<serde_json::Value> = stats_text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .filter(|j| j["type"] == "burst" && j["dir"] == "tx")
        .collect();
    let starts: Vec<(u64, u64)> = got
        .iter()
        .map(|j| (u(&j["start_ns"]), u(&j["duration_ns"])))
        .collect();
    assert!(want.len() >= 8, "{iface}: capture analysis {want:?}");
    assert_eq!(
        got.len(),
        want.len(),
        "{iface}: bpf {starts:?} vs capture {want:?}"
    );
    let mut diffs: Vec<i128> = starts
        .iter()
        .zip(&want)
        .map(|(g, w)| i128::from(g.0) - i128::from(w.0))
        .collect();
    diffs.sort_unstable();
    let off = diffs[diffs.len() / 2];
    for ((g, w), j) in starts.iter().zip(&want).zip(&got) {
        let ds = i128::from(g.0) - off - i128::from(w.0);
        let dd = i128::from(g.1) - i128::from(w.1);
        assert!(
            ds.abs() <= BIN_NS && dd.abs() <= BIN_NS,
            "{iface}: {g:?} vs {w:?} (start {ds} ns, duration {dd} ns off); {starts:?} vs {want:?}"
        );
        let port = pk
            .iter()
            .find(|(t, _)| *t >= w.0 && *t < w.0 + w.1)
            .map_or_else(|| panic!("no packet in {w:?}"), |(_, p)| *p);
        assert_eq!(
            u(&j["top_flows"][0]["dport"]),
            u64::from(port),
            "{iface}: {j}"
        );
    }
}

#[test]
fn bpf_bursts_match_the_capture_on_virtio_and_igb() {
    in_lab();
    // What the source needs from the guest kernel.
    assert!(
        std::path::Path::new("/sys/kernel/btf/vmlinux").exists(),
        "the lab kernel has no BTF"
    );
    one_nic("virtio0", "198.18.0.1");
    // igb0 has no address: one for the test, and a permanent neighbour (nothing answers
    // ARP behind the tap), both removed after.
    tool("ip", &["addr", "add", "198.19.0.2/24", "dev", "igb0"]);
    tool(
        "ip",
        &[
            "neigh",
            "replace",
            "198.19.0.1",
            "lladdr",
            "02:00:00:00:19:01",
            "dev",
            "igb0",
            "nud",
            "permanent",
        ],
    );
    let r = std::panic::catch_unwind(|| one_nic("igb0", "198.19.0.1"));
    let _ = Command::new("ip")
        .args(["neigh", "del", "198.19.0.1", "dev", "igb0"])
        .status();
    let _ = Command::new("ip")
        .args(["addr", "del", "198.19.0.2/24", "dev", "igb0"])
        .status();
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}
