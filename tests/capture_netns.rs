//! Live capture on a real kernel: a veth pair between two namespaces the tests create, a known
//! train of UDP bursts sent from one side (`common::traffic`), `dpuctl capture` on the other.
//! The analysis must find each burst the sender reports, and the file written with `-w` must
//! hold as many packets as `capinfos` (an independent reader) counts. Needs root.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::traffic::{self, wait_sent, BurstTrain, Sent};
use common::Netns;

fn link() -> common::Link {
    common::link("cap", 77)
}

/// Starts `dpuctl capture` in `ns` and returns once it says it is capturing, with a thread
/// collecting the rest of its stderr.
fn start_capture(ns: &Netns, args: &[&str]) -> (Child, std::thread::JoinHandle<String>) {
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            env!("CARGO_BIN_EXE_dpuctl"),
            "capture",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dpuctl capture");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    err.read_line(&mut first).expect("read stderr");
    assert!(
        first.starts_with("capturing on r0"),
        "dpuctl did not start capturing: {first}"
    );
    let rest = std::thread::spawn(move || {
        let mut s = first;
        let _ = err.read_to_string(&mut s);
        s
    });
    (child, rest)
}

fn train() -> BurstTrain {
    BurstTrain {
        dst: "10.77.0.2:9999".into(),
        bursts: 5,
        packets: 100,
        payload: 1000,
        gap: Duration::from_millis(40),
        lead: Duration::from_millis(100),
    }
}

fn capinfos_count(path: &std::path::Path) -> u64 {
    let out = common::run("capinfos", &["-M", "-c", path.to_str().expect("utf-8")]);
    out.lines()
        .find_map(|l| l.strip_prefix("Number of packets:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("capinfos output: {out}"))
}

/// Packet timestamps (ns since the epoch) of a capture file, read by tshark: an independent
/// witness of when each packet crossed the interface.
fn tshark_times(file: &std::path::Path) -> Vec<u64> {
    let out = common::run(
        "tshark",
        &[
            "-r",
            file.to_str().expect("utf-8"),
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
        ],
    );
    out.lines()
        .map(|l| {
            // "1795437639.019400123": split, as an f64 cannot hold epoch nanoseconds.
            let (s, f) = l.trim().split_once('.').expect("seconds.fraction");
            let frac: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
            s.parse::<u64>().expect("seconds") * 1_000_000_000
                + frac.parse::<u64>().expect("fraction")
        })
        .collect()
}

/// Checks the bursts found against the bursts sent, at bin width `res`.
///
/// The packets are stamped on the sender's CPU as it sends (veth delivers in the sender's
/// context), so a sender descheduled in the middle of a burst leaves a real gap in the
/// traffic, and on a loaded machine a sent burst may show as two bursts found; the sender's
/// own window (clock reads around its sends) may also be longer than its packets' span. So:
/// packets (timestamps from tshark) and bursts found are grouped by the burst sent whose time
/// they fall in. Every burst sent must be found, by bursts carrying exactly its packets and
/// starting and ending within one bin of its first and last packet as tshark sees them; the
/// packets' span must fit in the sender's window; no burst may be found outside the train.
fn check_bursts(found: &[serde_json::Value], sent: &[Sent], times: &[u64], res: u64) -> usize {
    assert!(!found.is_empty(), "no bursts found; sent {sent:?}");
    // Sent times count from the first burst's start, captured ones from the first packet.
    let t0 = times[0];
    let slack = res + 300_000;
    let within = |t: u64, s: &Sent| t + slack >= s.start_ns && t <= s.end_ns + slack;
    let mut used = 0;
    for s in sent {
        let pk: Vec<u64> = times
            .iter()
            .map(|t| t - t0)
            .filter(|&t| within(t, s))
            .collect();
        assert_eq!(
            pk.len() as u64,
            s.packets,
            "packets captured in the window of {s:?}"
        );
        let (first, last) = (pk[0], pk[pk.len() - 1]);
        assert!(
            last - first <= s.duration_ns() + 100_000,
            "packets span {first}..{last}, longer than the sender's window {s:?}"
        );
        let mine: Vec<&serde_json::Value> = found
            .iter()
            .filter(|b| within(u(&b["start_ns"]).saturating_sub(t0), s))
            .collect();
        assert!(!mine.is_empty(), "no burst found for {s:?}: {found:#?}");
        used += mine.len();
        let packets: u64 = mine.iter().map(|b| u(&b["packets"])).sum();
        assert_eq!(packets, s.packets, "{s:?}: {mine:#?}");
        let start = u(&mine[0]["start_ns"]);
        let lastb = mine.last().expect("one");
        let end = u(&lastb["start_ns"]) + u(&lastb["duration_ns"]);
        // Bins are aligned to multiples of `res`: the first bin starts at most one bin before
        // the first packet, the last ends at most one bin after the last packet.
        let (pf, pl) = (t0 + first, t0 + last);
        assert!(
            start <= pf && pf - start < res && end > pl && end - pl <= res,
            "bursts {start}..{end} vs packets {pf}..{pl} of {s:?} at {res} ns bins"
        );
    }
    assert_eq!(used, found.len(), "bursts outside the train: {found:#?}");
    used
}

fn analyze_file(file: &std::path::Path, res: &str) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["capture", "analyze", file.to_str().expect("utf-8")])
        .args(["--resolution", res, "--line-rate", "10M", "-f", "json"])
        .output()
        .expect("dpuctl capture analyze");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v[0].clone()
}

fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().expect("unsigned number")
}

#[test]
fn live_capture_finds_each_burst_and_agrees_with_capinfos() {
    traffic::sender_hook();
    let l = link();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("live.pcap");
    // 10 Mbit/s line: one 1042-byte frame in a bin of 100 us or more is above half of it,
    // so every bin with a packet of the train is hot and a burst is a run of busy bins.
    let (child, stderr) = start_capture(
        &l.rx,
        &[
            "r0",
            "--filter",
            "udp and dst port 9999",
            "-w",
            file.to_str().expect("utf-8"),
            "--resolution",
            "1ms",
            "--line-rate",
            "10M",
            "--duration",
            "60s",
            "-f",
            "json",
        ],
    );
    let sent: Vec<Sent> = wait_sent(traffic::spawn_bursts(&l.tx, &train()));
    assert_eq!(sent.len(), 5);
    // Let the last packets reach the capture, then stop it the way a service manager would.
    std::thread::sleep(Duration::from_millis(300));
    common::run("kill", &["-TERM", &child.id().to_string()]);
    let out = child.wait_with_output().expect("dpuctl capture");
    let err = stderr.join().expect("stderr thread");
    assert!(out.status.success(), "dpuctl capture failed: {err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");

    assert_eq!(v["stopped_by"], "signal", "{err}");
    assert_eq!(v["precision"], "nano");
    assert_eq!(v["kernel"]["dropped"], 0, "{err}");
    let total: u64 = sent.iter().map(|s| s.packets).sum();
    assert_eq!(v["packets"], total, "{err}");
    assert_eq!(capinfos_count(&file), total);
    // The file carries the nanosecond magic (little-endian a1b23c4d).
    let head = std::fs::read(&file).expect("read capture");
    assert_eq!(&head[..4], &[0x4d, 0x3c, 0xb2, 0xa1]);

    // The live analysis (1 ms bins) finds every burst sent; the same file analyzed offline
    // at the same resolution gives the same bursts, and at 100 us as well.
    let bursts = v["bursts"].as_array().expect("bursts");
    let times = tshark_times(&file);
    assert_eq!(times.len() as u64, total);
    let n = check_bursts(bursts, &sent, &times, 1_000_000);
    assert!(n >= sent.len());
    let same = analyze_file(&file, "1ms");
    assert_eq!(same["bursts"], v["bursts"]);
    assert_eq!(same["packets"], v["packets"]);
    let fine = analyze_file(&file, "100us");
    check_bursts(
        fine["bursts"].as_array().expect("bursts"),
        &sent,
        &times,
        100_000,
    );
}

#[test]
fn live_capture_stops_at_the_count() {
    traffic::sender_hook();
    let l = link();
    let (child, stderr) = start_capture(
        &l.rx,
        &[
            "r0",
            "--filter",
            "udp",
            "--count",
            "300",
            "--duration",
            "60s",
            "-f",
            "json",
        ],
    );
    let sent = wait_sent(traffic::spawn_bursts(&l.tx, &train()));
    assert!(sent.iter().map(|s| s.packets).sum::<u64>() >= 300);
    let out = child.wait_with_output().expect("dpuctl capture");
    let err = stderr.join().expect("stderr thread");
    assert!(out.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["stopped_by"], "count");
    assert_eq!(v["packets"], 300);
    // veth reports no speed of its own in some kernels; either way the source is named.
    assert!(
        ["interface", "default"].contains(&v["line_rate_source"].as_str().expect("source")),
        "{}",
        v["line_rate_source"]
    );
    assert!(err.contains("300 packets captured"), "{err}");
}

#[test]
fn a_bad_filter_is_one_line_naming_it() {
    let l = link();
    let o =
        l.rx.dpuctl(&["capture", "r0", "--filter", "udp and bogus junk", "-c", "1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("dpuctl: failed to compile filter 'udp and bogus junk': "),
        "{err}"
    );
}

/// A capture whose terminal goes away (SIGHUP, as when an ssh session closes) stops as for
/// SIGTERM: the file written with `-w` is complete and readable, and the analysis printed.
#[test]
fn sighup_stops_a_capture_and_leaves_a_readable_file() {
    traffic::sender_hook();
    let l = link();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("hup.pcap");
    let (child, stderr) = start_capture(
        &l.rx,
        &[
            "-i",
            "r0",
            "--filter",
            "udp and dst port 9999",
            "-w",
            file.to_str().expect("utf-8"),
            "--duration",
            "60s",
            "-f",
            "json",
        ],
    );
    let sent: Vec<Sent> = wait_sent(traffic::spawn_bursts(&l.tx, &train()));
    let total: u64 = sent.iter().map(|s| s.packets).sum();
    std::thread::sleep(Duration::from_millis(300));
    common::run("kill", &["-HUP", &child.id().to_string()]);
    let out = child.wait_with_output().expect("dpuctl capture");
    let err = stderr.join().expect("stderr thread");
    assert!(out.status.success(), "dpuctl capture failed: {err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["stopped_by"], "signal", "{err}");
    assert_eq!(v["packets"], total, "{err}");
    assert_eq!(capinfos_count(&file), total);
}

/// A capture killed outright (SIGKILL: no chance to finish) still leaves a file capinfos
/// reads: the header is written at once and the packets flushed every second.
#[test]
fn a_killed_capture_leaves_the_packets_flushed_so_far() {
    traffic::sender_hook();
    let l = link();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("kill.pcap");
    let (mut child, stderr) = start_capture(
        &l.rx,
        &[
            "r0",
            "--filter",
            "udp and dst port 9999",
            "-w",
            file.to_str().expect("utf-8"),
            "--duration",
            "60s",
        ],
    );
    // The header is there before any packet.
    assert_eq!(capinfos_count(&file), 0);
    let sent: Vec<Sent> = wait_sent(traffic::spawn_bursts(&l.tx, &train()));
    let total: u64 = sent.iter().map(|s| s.packets).sum();
    // Longer than the flush period after the last packet.
    std::thread::sleep(Duration::from_millis(2500));
    // `ip netns exec` runs dpuctl in its own process (exec): the child is dpuctl itself.
    common::run("kill", &["-KILL", &child.id().to_string()]);
    let _ = child.wait();
    let _ = stderr.join();
    assert_eq!(capinfos_count(&file), total);
}
