//! `dpuctl stats` through the built binary on recordings and bad input (no root needed).

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/monitor")
        .join(name)
}

fn dpuctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .output()
        .expect("run dpuctl")
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

fn jsonl(out: &Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn close(v: &serde_json::Value, want: f64) -> bool {
    v.as_f64()
        .is_some_and(|g| (g - want).abs() <= want.abs() * 1e-6 + 1e-9)
}

/// `burst.rec`: eth9 (1 Gbit/s) carries 1000 bytes per ms, except 100 kB per ms (80% of the
/// line) in the three intervals after t=2ms, with 5 packets missed in the last of them; the
/// virtio driver counters say queue 0 received 240 packets and dropped 5 in the first 6 ms.
#[test]
fn replay_streams_intervals_bursts_and_queues_as_json_lines() {
    let path = fixture("burst.rec");
    let out = dpuctl(&[
        "stats",
        "--replay",
        path.to_str().expect("path"),
        "-f",
        "jsonl",
        "--interval",
        "5ms",
    ]);
    let lines = jsonl(&out);
    let types: Vec<&str> = lines
        .iter()
        .map(|l| l["type"].as_str().expect("type"))
        .collect();
    assert_eq!(types, ["interval", "burst", "interval"], "{lines:?}");
    let first = &lines[0]["ifaces"][0];
    assert_eq!(first["name"], "eth9");
    assert_eq!(first["line_rate_bps"], 1_000_000_000u64);
    // 302000 bytes and 230 packets in 5 ms.
    assert!(close(&first["rx_bps"], 302_000.0 * 8.0 / 0.005), "{first}");
    assert!(close(&first["rx_pps"], 230.0 / 0.005), "{first}");
    assert!(close(&first["rx_missed"], 5.0 / 0.005), "{first}");
    let b = &lines[1];
    assert_eq!(
        (b["iface"].as_str(), b["dir"].as_str()),
        (Some("eth9"), Some("rx"))
    );
    assert_eq!(b["start_ns"], 2_000_000u64);
    assert_eq!(b["duration_ns"], 3_000_000u64);
    assert_eq!(b["intervals"], 3);
    assert_eq!(b["bytes"], 300_000u64);
    assert_eq!(b["packets"], 210);
    assert_eq!(b["drops"], 5);
    assert!(close(&b["peak_util"], 0.8), "{b}");
    // One interval inside at 100 B/us; 202000 bytes at the edges (the two hot edge
    // intervals and the 1000 bytes before and after): 1 ms + 2.02 ms.
    assert_eq!(b["duration_est_ns"], 3_020_000u64);
    let second = &lines[2]["ifaces"][0];
    assert!(close(&second["rx_bps"], 5_000.0 * 8.0 / 0.005), "{second}");
    assert_eq!(second["rx_bursts"], 1);
    let q = second["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .find(|q| q["dir"] == "rx" && q["index"] == 0)
        .expect("rx queue 0");
    assert!(close(&q["pps"], 240.0 / 0.006), "{q}");
    assert!(close(&q["drops"], 5.0 / 0.006), "{q}");
}

#[test]
fn replay_table_lists_bursts_as_they_end() {
    let path = fixture("burst.rec");
    let out = dpuctl(&[
        "stats",
        "--replay",
        path.to_str().expect("path"),
        "--interval",
        "5ms",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("eth9 rx bursts: 1 (longest 3.0ms)"), "{text}");
    assert!(text.contains("0.002000"), "{text}");
    // One token per cell, so that awk picks columns: the header's fields line up with the
    // values', and the rate is 483.20M bit/s.
    let lines: Vec<&str> = text.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.trim_start().starts_with("iface"))
        .expect("header");
    let names: Vec<&str> = lines[head].split_whitespace().collect();
    let row: Vec<&str> = lines[head + 1].split_whitespace().collect();
    assert_eq!(names.len(), row.len(), "{text}");
    let col = |n: &str| row[names.iter().position(|h| *h == n).expect(n)];
    assert_eq!(col("iface"), "eth9");
    assert_eq!(col("rx_bit/s"), "483.20M");
    assert_eq!(col("util_rx/tx"), "48%/0%");
    assert_eq!(col("drops/s"), "1000");
    let bursts = lines
        .iter()
        .position(|l| l.trim_start().starts_with("start_s"))
        .expect("bursts header");
    let names: Vec<&str> = lines[bursts].split_whitespace().collect();
    let row: Vec<&str> = lines[bursts + 1].split_whitespace().collect();
    assert_eq!(names.len(), row.len(), "{text}");
    assert_eq!(
        row[names.iter().position(|h| *h == "bytes").expect("bytes")],
        "300000"
    );
}

#[test]
fn a_malformed_recording_names_file_line_and_column() {
    let path = fixture("malformed.rec");
    let err = one_line_error(&dpuctl(&[
        "stats",
        "--replay",
        path.to_str().expect("path"),
    ]));
    assert!(err.contains("malformed.rec:9:"), "{err}");
    assert!(err.contains("invalid counter field 42"), "{err}");
}

#[test]
fn a_bad_config_file_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("mon.yaml");
    std::fs::write(
        &cfg,
        "thresholds:\n  rx_fifo_errors: 10\n  rx_fifo_erors: 1\n",
    )
    .expect("write");
    let rec = fixture("burst.rec");
    let err = one_line_error(&dpuctl(&[
        "stats",
        "--replay",
        rec.to_str().expect("path"),
        "--config",
        cfg.to_str().expect("path"),
    ]));
    assert!(err.contains("mon.yaml:3:3:"), "{err}");
    assert!(
        err.contains("unknown threshold metric \"rx_fifo_erors\""),
        "{err}"
    );
    std::fs::write(
        &cfg,
        "counter_classes:\n  mynic:\n    \"q{q}_drop\": drops\n",
    )
    .expect("write");
    let err = one_line_error(&dpuctl(&[
        "stats",
        "--replay",
        rec.to_str().expect("path"),
        "--config",
        cfg.to_str().expect("path"),
    ]));
    assert!(err.contains("mon.yaml:3:"), "{err}");
    assert!(err.contains("unknown class \"drops\""), "{err}");
}

#[test]
fn flags_out_of_range_are_refused() {
    let rec = fixture("burst.rec");
    let rec = rec.to_str().expect("path");
    for args in [
        ["--sample-interval", "50us"],
        ["--line-rate", "fast"],
        ["--burst-threshold", "0%"],
        ["--threshold", "bogus=1"],
    ] {
        let mut a = vec!["stats", "--replay", rec];
        a.extend(args);
        let out = dpuctl(&a);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
    let err = one_line_error(&dpuctl(&["stats", "--replay", rec, "eth0"]));
    assert!(
        err.contains("no interface \"eth0\" in the recording"),
        "{err}"
    );
}

/// Socket-level drops of a recording (`P` lines, read with the slow reads) come out of
/// `stats` as a `sockets` line per interval in tables, a `sockets` object in JSON lines, and
/// an alert when a threshold asks for one.
#[test]
fn replay_streams_socket_level_drops() {
    let rec = fixture("socket_drops.rec");
    let rec = rec.to_str().expect("utf-8");
    let out = dpuctl(&["stats", "--replay", rec, "--interval", "500ms"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let socket_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("sockets ")).collect();
    assert_eq!(socket_lines.len(), 6, "{text}");
    assert_eq!(
        socket_lines[2],
        "sockets udp_rcvbuf_errors/s 2600 udp_in_errors/s 2600 tcp_backlog_drop/s 0 \
         tcp_listen_drops/s 0 tcp_listen_overflows/s 0"
    );
    // One token per value, for awk.
    let v: Vec<&str> = socket_lines[2].split(' ').collect();
    assert_eq!((v[1], v[2]), ("udp_rcvbuf_errors/s", "2600"));
    assert!(
        !text.contains("ALERT"),
        "no alert without a threshold: {text}"
    );

    let lines = jsonl(&dpuctl(&[
        "stats",
        "--replay",
        rec,
        "--interval",
        "500ms",
        "-f",
        "jsonl",
        "--threshold",
        "udp_rcvbuf_errors=0",
    ]));
    let rates: Vec<f64> = lines
        .iter()
        .filter(|l| l["type"] == "interval")
        .map(|l| l["sockets"]["udp_rcvbuf_errors"].as_f64().expect("rate"))
        .collect();
    assert_eq!(rates.len(), 6);
    assert!(close(
        &lines
            .iter()
            .filter(|l| l["type"] == "interval")
            .nth(2)
            .expect("third")["sockets"]["udp_rcvbuf_errors"],
        2600.0
    ));
    assert!(rates[0] < 0.5 && rates[5] < 0.5, "{rates:?}");
    let alerts: Vec<&serde_json::Value> = lines.iter().filter(|l| l["type"] == "alert").collect();
    assert_eq!(alerts.len(), 1, "{lines:?}");
    assert_eq!(alerts[0]["iface"], "sockets");
    assert_eq!(alerts[0]["metric"], "udp_rcvbuf_errors");
}

/// `rdma_retransmits.rec`: eth2 (100 Gbit/s) with `mlx5_0` port 1 on it; the RDMA hardware
/// counters come with every fifth sample (the slow reads, every 500 ms): `roce_adp_retrans`
/// rises by 60, `local_ack_timeout_err` by 15 (from 1000) and `out_of_sequence` by 5 in each,
/// so 120 retransmits, 30 timeouts and 10 sequence errors per second; `rx_write_requests` (no
/// class) by 1000 (2000/s).
#[test]
fn replay_streams_rdma_counter_rates_by_class() {
    let rec = fixture("rdma_retransmits.rec");
    let rec = rec.to_str().expect("utf-8");
    let out = dpuctl(&["stats", "--replay", rec, "--interval", "1s"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("rdma ")).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[1],
        "rdma mlx5_0/1 netdev eth2 retransmits/s 120 timeouts/s 30 sequence_errors/s 10 \
         cnp_sent/s 0"
    );

    let lines = jsonl(&dpuctl(&[
        "stats",
        "--replay",
        rec,
        "--interval",
        "1s",
        "-f",
        "jsonl",
        "eth2",
    ]));
    let ports: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["type"] == "interval")
        .map(|l| &l["rdma"][0])
        .collect();
    assert_eq!(ports.len(), 3, "{lines:?}");
    let p = ports[2];
    assert_eq!(p["device"], "mlx5_0");
    assert_eq!(p["port"], 1);
    assert_eq!(p["netdev"], "eth2");
    assert_eq!(p["driver"], "mlx5_core");
    let class = |name: &str| {
        p["classes"]
            .as_array()
            .expect("classes")
            .iter()
            .find(|c| c["class"] == name)
            .unwrap_or_else(|| panic!("no class {name}: {p}"))
            .clone()
    };
    assert!(close(&class("retransmits")["rate"], 120.0), "{p}");
    assert_eq!(class("retransmits")["total"], 360);
    assert!(close(&class("timeouts")["rate"], 30.0), "{p}");
    assert_eq!(class("timeouts")["total"], 1090);
    // Each counter with its class; the unclassified one raw (it moved).
    let counters = p["counters"].as_array().expect("counters");
    let c = |n: &str| {
        counters
            .iter()
            .find(|c| c["counter"] == n)
            .unwrap_or_else(|| panic!("no {n}: {p}"))
    };
    assert_eq!(c("roce_adp_retrans")["class"], "retransmits");
    assert_eq!(c("rx_write_requests")["class"], "raw");
    assert!(close(&c("rx_write_requests")["rate"], 2000.0));
}

/// A recording made before RDMA counters were recorded loads as before, with no RDMA ports.
#[test]
fn an_old_recording_without_rdma_counters_still_replays() {
    let rec = fixture("burst.rec");
    let text = std::fs::read_to_string(&rec).expect("read");
    assert!(
        !text.contains("\"R\""),
        "burst.rec must stay a recording without R lines"
    );
    let lines = jsonl(&dpuctl(&[
        "stats",
        "--replay",
        rec.to_str().expect("utf-8"),
        "-f",
        "jsonl",
        "--interval",
        "5ms",
    ]));
    let intervals: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["type"] == "interval").collect();
    assert!(!intervals.is_empty());
    assert!(
        intervals.iter().all(|l| l.get("rdma").is_none()),
        "{lines:?}"
    );
    let out = dpuctl(&["stats", "--replay", rec.to_str().expect("utf-8")]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("rdma "));
}
