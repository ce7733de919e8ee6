//! `dpuctl capture` through the built binary: analysis of files (table golden, JSON), errors
//! with byte offsets and exit codes, and the live-capture errors that need no traffic.
//!
//! `DPUCTL_BLESS=1` rewrites the golden text output.

mod common;

use common::golden::golden;
#[path = "fixtures/capture/build.rs"]
mod build;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use build::{Pkt, Tcp, ACK};

const T0: u64 = 1_700_000_000 * 1_000_000_000;

fn dpuctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env("COLUMNS", "100")
        .output()
        .expect("run dpuctl")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A train: three bursts of 20 UDP frames of 1000 B, 1 us apart (8 Gbit/s while they last),
/// 1 ms apart, plus a slow TCP flow with one retransmission every 100 us.
fn train() -> Vec<Pkt> {
    let mut v = Vec::new();
    for b in 0..3u64 {
        for i in 0..20u64 {
            v.push(Pkt {
                ts_ns: T0 + b * 1_000_000 + 200_000 + i * 1_000,
                data: build::udp4([10, 0, 0, 1], 4791, [10, 0, 0, 2], 4791, 1000),
            });
        }
    }
    for i in 0..30u64 {
        // Sequence numbers advance by 100; every tenth segment repeats the one before.
        let seq = if i % 10 == 9 {
            1 + (i as u32 - 1) * 100
        } else {
            1 + i as u32 * 100
        };
        v.push(Pkt {
            ts_ns: T0 + i * 100_000 + 50_000,
            data: build::tcp4(
                [10, 0, 0, 3],
                [10, 0, 0, 4],
                Tcp {
                    sport: 33000,
                    dport: 22,
                    seq,
                    flags: ACK,
                    window: 1000,
                },
                100,
            ),
        });
    }
    v.sort_by_key(|p| p.ts_ns);
    v
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write capture file");
    p
}

#[test]
fn analyze_table_shows_bursts_chart_flows_and_tcp_hints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(
        dir.path(),
        "train.pcap",
        &build::pcap(&train(), true, false),
    );
    let o = dpuctl(&[
        "capture",
        "analyze",
        f.to_str().expect("utf-8"),
        "--line-rate",
        "10G",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "stderr: {}", text(&o.stderr));
    let out = text(&o.stdout).replace(dir.path().to_str().expect("utf-8"), "DIR");
    // The facts, asserted directly; the golden file keeps the layout.
    assert!(out.contains("90 packets"), "{out}");
    assert!(out.contains("bursts: 3 (longest 20.0us"), "{out}");
    // A capture cannot see drops: no drops column, a line that says why.
    let head = out
        .lines()
        .find(|l| l.contains("start_s"))
        .expect("bursts table");
    assert!(!head.contains("drops"), "{out}");
    assert!(out.contains("drops: not in a capture"), "{out}");
    assert!(out.contains("tcp  retransmissions 3  out-of-order 0  zero windows 0  resets 0"));
    assert!(out.contains("10.0.0.1:4791 > 10.0.0.2:4791"));
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.trim_start().starts_with('^'))
            .count(),
        1
    );
    golden("tests/fixtures/capture/train.analyze.txt", &out);
}

#[test]
fn analyze_json_for_scripts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(
        dir.path(),
        "train.pcap",
        &build::pcap(&train(), false, true),
    );
    let o = dpuctl(&[
        "capture",
        "analyze",
        f.to_str().expect("utf-8"),
        "--line-rate",
        "10gbit",
        "--resolution",
        "5us",
        "-f",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let r = &v[0];
    assert_eq!(r["partial"], false);
    assert_eq!(r["format"], "pcap");
    assert_eq!(r["line_rate_source"], "flag");
    assert_eq!(r["packets"], 90);
    assert_eq!(r["resolution_ns"], 5_000);
    // 5 us bins: each burst of 20 frames 1 us apart spans 20 us = 4 bins of 5 frames
    // (5000 B in 5 us = 8 Gbit/s, 80% of the line).
    let bursts = r["bursts"].as_array().expect("bursts");
    assert_eq!(bursts.len(), 3);
    for (i, b) in bursts.iter().enumerate() {
        assert_eq!(b["start_ns"], T0 + i as u64 * 1_000_000 + 200_000);
        assert_eq!(b["duration_ns"], 20_000);
        assert_eq!(b["packets"], 20);
        assert_eq!(b["bytes"], 20_000);
        assert!((b["peak_util"].as_f64().expect("peak") - 0.8).abs() < 1e-9);
        assert!(b["drops"].is_null(), "a capture cannot see drops: {b}");
    }
    assert!(r["burst_summary"]["drops"].is_null());
    assert_eq!(r["tcp"]["retransmissions"], 3);
    assert_eq!(
        r["top_by_bytes"][0]["flow"],
        "10.0.0.1:4791 > 10.0.0.2:4791"
    );
    assert_eq!(r["top_by_bytes"][0]["bytes"], 60_000);
    assert_eq!(r["top_by_packets"][0]["packets"], 60);
    assert!(r.get("bins").is_none(), "bins only with --bins");
}

#[test]
fn truncated_file_names_the_byte_offset_and_flags_partial_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pkts = train();
    let mut bytes = build::pcap(&pkts, true, false);
    let offsets = build::pcap_record_offsets(&pkts);
    // Cut the 50th record in the middle of its data.
    let cut = offsets[49] + 16 + 10;
    bytes.truncate(cut);
    let f = write(dir.path(), "cut.pcap", &bytes);
    let name = f.to_str().expect("utf-8");
    let o = dpuctl(&["capture", "analyze", name, "-f", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "dpuctl: failed to read capture file {name}: truncated packet record at byte offset {}",
            offsets[49]
        )),
        "{err}"
    );
    assert!(err.contains("49 packets before it"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v[0]["partial"], true);
    assert_eq!(v[0]["error_offset"], offsets[49]);
    assert_eq!(v[0]["packets"], 49);

    // The table says so too.
    let o = dpuctl(&["capture", "analyze", name]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stdout).contains(&format!(
        "PARTIAL: truncated packet record at byte offset {}",
        offsets[49]
    )));
}

#[test]
fn malformed_and_missing_files_are_one_line_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = write(
        dir.path(),
        "junk.pcap",
        b"this is not a capture file at all",
    );
    let o = dpuctl(&["capture", "analyze", junk.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("not a pcap or pcapng file"), "{err}");
    assert_eq!(err.lines().count(), 1);

    // A record claiming 1 GiB of data.
    let mut bytes = build::pcap(&train()[..2], false, false);
    let second = build::pcap_record_offsets(&train()[..2])[1];
    bytes[second + 8..second + 12].copy_from_slice(&(1u32 << 30).to_le_bytes());
    let bad = write(dir.path(), "bad.pcap", &bytes);
    let o = dpuctl(&["capture", "analyze", bad.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("malformed packet record at byte offset {second}")),
        "{err}"
    );

    let o = dpuctl(&["capture", "analyze", "/nonexistent/x.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("dpuctl: failed to open capture file /nonexistent/x.pcap: "),
        "{err}"
    );
}

#[test]
fn bad_values_are_usage_errors() {
    for args in [
        ["capture", "analyze", "x.pcap", "--line-rate", "10X"],
        ["capture", "analyze", "x.pcap", "--resolution", "10"],
        ["capture", "analyze", "x.pcap", "--burst-threshold", "0"],
    ] {
        let o = dpuctl(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            text(&o.stderr).contains("invalid value"),
            "{}",
            text(&o.stderr)
        );
    }
}

#[test]
fn live_capture_on_a_missing_interface_is_one_clear_line() {
    let o = dpuctl(&["capture", "nosuchif0", "--count", "1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert_eq!(
        err,
        "dpuctl: failed to open capture on nosuchif0: no such interface\n"
    );
}

#[test]
fn live_capture_without_privilege_names_cap_net_raw() {
    // Run as nobody with no capabilities (setpriv from util-linux); lo always exists.
    let bin = env!("CARGO_BIN_EXE_dpuctl");
    let o = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            bin,
            "capture",
            "lo",
            "--count",
            "1",
        ])
        .output()
        .expect("setpriv (util-linux)");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("CAP_NET_RAW"), "{err}");
    assert!(
        err.starts_with("dpuctl: failed to open capture on lo: permission denied"),
        "{err}"
    );
}

fn json_of(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json")
}

#[test]
fn merge_counts_a_burst_split_by_a_rotation_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Rotated in the middle of the second burst (its 10th frame).
    let cut = T0 + 1_000_000 + 210_000;
    let (a, b): (Vec<Pkt>, Vec<Pkt>) = train().into_iter().partition(|p| p.ts_ns < cut);
    let fa = write(dir.path(), "cap.pcap0", &build::pcap(&a, true, false));
    let fb = write(dir.path(), "cap.pcap1", &build::pcap(&b, true, false));
    let (sa, sb) = (fa.to_str().expect("utf-8"), fb.to_str().expect("utf-8"));
    let common = ["--line-rate", "10G", "--resolution", "5us", "-f", "json"];

    // One report per file: the split burst is two, each half as long.
    let mut args = vec!["capture", "analyze", sa, sb];
    args.extend(common);
    let v = json_of(&dpuctl(&args));
    let per_file: Vec<usize> = (0..2)
        .map(|i| v[i]["bursts"].as_array().expect("bursts").len())
        .collect();
    assert_eq!(per_file, [2, 2]);

    // Merged, whatever order the files are named in: three bursts of 20 frames.
    for order in [[sa, sb], [sb, sa]] {
        let mut args = vec!["capture", "analyze", "--merge", order[0], order[1]];
        args.extend(common);
        let v = json_of(&dpuctl(&args));
        assert_eq!(v.as_array().expect("one report").len(), 1);
        let r = &v[0];
        assert_eq!(r["files"], serde_json::json!(order));
        assert_eq!(r["packets"], 90);
        assert_eq!(r["timestamps_backwards"], 0);
        let bursts = r["bursts"].as_array().expect("bursts");
        assert_eq!(bursts.len(), 3, "{r:#}");
        assert!(bursts.iter().all(|b| b["packets"] == 20), "{r:#}");
        assert_eq!(r["tcp"]["retransmissions"], 3);
    }

    // The text report names the files and shows the same three bursts.
    let o = dpuctl(&[
        "capture",
        "analyze",
        "--merge",
        sa,
        sb,
        "--line-rate",
        "10G",
        "--resolution",
        "5us",
    ]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}{}", text(&o.stderr));
    assert!(
        out.contains("== merged: ") && out.contains("(2 files)"),
        "{out}"
    );
    assert!(out.contains("bursts: 3 (longest 20.0us"), "{out}");
}

#[test]
fn merge_interleaves_captures_taken_side_by_side() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Every other packet in each file: timestamps overlap all along.
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (i, p) in train().into_iter().enumerate() {
        if i % 2 == 0 {
            a.push(p);
        } else {
            b.push(p);
        }
    }
    let fa = write(dir.path(), "a.pcap", &build::pcap(&a, true, false));
    let fb = write(dir.path(), "b.pcap", &build::pcap(&b, false, true));
    let (sa, sb) = (fa.to_str().expect("utf-8"), fb.to_str().expect("utf-8"));
    let v = json_of(&dpuctl(&[
        "capture",
        "analyze",
        "--merge",
        sa,
        sb,
        "--line-rate",
        "10G",
        "--resolution",
        "5us",
        "-f",
        "json",
    ]));
    let r = &v[0];
    assert_eq!(r["packets"], 90);
    assert_eq!(r["timestamps_backwards"], 0, "merged in time order");
    let bursts = r["bursts"].as_array().expect("bursts");
    assert_eq!(bursts.len(), 3);
    assert!(bursts.iter().all(|b| b["packets"] == 20), "{r:#}");
}

#[test]
fn merge_refuses_a_missing_file_before_any_work_and_reports_a_truncated_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let whole = write(dir.path(), "a.pcap", &build::pcap(&train(), true, false));
    let s = whole.to_str().expect("utf-8");
    let missing = dir.path().join("nosuch.pcap");
    let o = dpuctl(&[
        "capture",
        "analyze",
        "--merge",
        s,
        missing.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "{}", text(&o.stdout));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("nosuch.pcap"), "{err}");

    // A second file cut inside a record: the merge covers everything before the cut, says
    // partial, and names the file and offset on stderr.
    let mut cut = build::pcap(&train(), true, false);
    let len = cut.len();
    cut.truncate(len - 10);
    let t = write(dir.path(), "cut.pcap", &cut);
    let o = dpuctl(&[
        "capture",
        "analyze",
        "--merge",
        s,
        t.to_str().expect("utf-8"),
        "-f",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v[0]["partial"], true);
    assert_eq!(v[0]["packets"], 90 + 89);
    let err = text(&o.stderr);
    assert!(
        err.contains("cut.pcap") && err.contains("byte offset"),
        "{err}"
    );
}

/// A host-side capture of one TCP flow with GSO: super-frames of 9054 B (9000 B of payload,
/// six 1500-byte wire frames) every 100 us, each handed to the device 6 us into a 10 us bin.
/// At 10 Gbit/s a bin carries 12500 B; one such frame takes 7.24 us on the wire.
fn gso_flow(frames: u64, payload: usize, every_ns: u64, offset_ns: u64) -> Vec<Pkt> {
    (0..frames)
        .map(|i| Pkt {
            ts_ns: T0 + i * every_ns + offset_ns,
            data: build::tcp4(
                [10, 0, 0, 5],
                [10, 0, 0, 6],
                Tcp {
                    sport: 40000,
                    dport: 5201,
                    seq: 1 + (i as usize * payload) as u32,
                    flags: ACK,
                    window: 1000,
                },
                payload,
            ),
        })
        .collect()
}

/// Bursts as a naive binning finds them: each frame's bytes in the bin of its timestamp
/// (what dpuctl did before spreading GSO frames), bins above 50% of the line rate.
fn lumped_hot_bins(pkts: &[Pkt], bin_ns: u64, line_bps: u64) -> (usize, f64) {
    let mut bins = std::collections::BTreeMap::<u64, u64>::new();
    for p in pkts {
        *bins.entry(p.ts_ns / bin_ns).or_default() += p.data.len() as u64;
    }
    let util = |b: u64| b as f64 * 8e9 / (bin_ns as f64 * line_bps as f64);
    let hot = bins.values().filter(|&&b| util(b) > 0.5).count();
    let peak = bins.values().map(|&b| util(b)).fold(0.0, f64::max);
    (hot, peak)
}

fn analyze_json(f: &Path, extra: &[&str]) -> serde_json::Value {
    let mut a = vec![
        "capture",
        "analyze",
        f.to_str().expect("utf-8"),
        "-f",
        "json",
    ];
    a.extend_from_slice(extra);
    let o = dpuctl(&a);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v[0].clone()
}

#[test]
fn gso_super_frames_make_no_false_bursts_and_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pkts = gso_flow(50, 9000, 100_000, 6_000);
    assert_eq!(pkts[0].data.len(), 9054);
    // Taken as wire frames, each super-frame fills 72% of its bin: 50 "bursts".
    let (hot, peak) = lumped_hot_bins(&pkts, 10_000, 10_000_000_000);
    assert_eq!(hot, 50);
    assert!((peak - 0.72432).abs() < 1e-9, "{peak}");
    let f = write(dir.path(), "gso.pcap", &build::pcap(&pkts, true, false));
    let r = analyze_json(&f, &["--line-rate", "10G", "--resolution", "10us"]);
    // On the wire each one takes 7.24 us from 6 us into its bin: 5000 B (40%) in it, the
    // other 4054 B (32%) in the next. No bin above 50%: no burst.
    assert_eq!(r["bursts"].as_array().expect("bursts").len(), 0, "{r:#}");
    assert_eq!(r["gso"]["frames"], 50, "{r:#}");
    assert_eq!(r["gso"]["largest"], 9054);
    assert_eq!(r["gso"]["bytes"], 50 * 9054);
    assert_eq!(r["bytes"], 50 * 9054, "spreading keeps every byte");
    assert_eq!(r["nonempty_bins"], 100);
    assert_eq!(r["peak_bin"]["bytes"], 5000);
    // The text report says so.
    let o = dpuctl(&[
        "capture",
        "analyze",
        f.to_str().expect("utf-8"),
        "--line-rate",
        "10G",
    ]);
    let out = text(&o.stdout);
    assert!(
        out.contains("GSO frames: 50 longer than a wire frame"),
        "{out}"
    );
    assert!(out.contains("bursts: none above 50%"), "{out}");
}

#[test]
fn gso_super_frames_never_exceed_the_line_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 64 KiB super-frames (45 segments) every 131 us: 4 Gbit/s on average. Binned at their
    // timestamps each would put 524% of 10 Gbit/s into one 10 us bin.
    let pkts = gso_flow(40, 65_000, 131_000, 0);
    let (hot, peak) = lumped_hot_bins(&pkts, 10_000, 10_000_000_000);
    assert_eq!(hot, 40);
    assert!(peak > 5.0, "{peak}");
    let f = write(dir.path(), "gso64k.pcap", &build::pcap(&pkts, true, false));
    let r = analyze_json(&f, &["--line-rate", "10G", "--resolution", "10us"]);
    // Serialized at the line rate, each is a train of 52 us at 100%: a real burst of five
    // or six 10 us bins (as the train falls on the bins), never above the line rate.
    let bursts = r["bursts"].as_array().expect("bursts");
    assert_eq!(bursts.len(), 40, "{r:#}");
    for b in bursts {
        let peak = b["peak_util"].as_f64().expect("peak");
        assert!(peak <= 1.0 + 1e-9, "{b}");
        let d = b["duration_ns"].as_u64().expect("duration");
        assert!(d == 50_000 || d == 60_000, "{b}");
    }
    assert_eq!(r["gso"]["frames"], 40);
    assert_eq!(r["bytes"], 40 * 65_054);
}
