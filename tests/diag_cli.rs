//! `dpuctl troubleshoot` through the built binary on snapshot fixtures: exit codes, JSON,
//! reports, errors. No kernel involved (`--from`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn dpuctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .output()
        .expect("run dpuctl")
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn snapshot() -> String {
    fixture("diag/snapshot-only/node.json")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn problems_found_exit_1_and_text_says_why() {
    let snap = snapshot();
    let o = dpuctl(&["troubleshoot", "--from", &snap, "--symptom", "latency"]);
    let (stdout, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.is_empty(),
        "no progress line without a terminal: {stderr}"
    );
    assert!(
        stdout.contains("counter window: n/a (read from a snapshot"),
        "{stdout}"
    );
    assert!(
        stdout.contains("== step 2/4: adjust IRQ affinity =="),
        "{stdout}"
    );
    assert!(stdout.contains("WARN  irq.numa-remote"), "{stdout}");
    assert!(
        stdout.contains("dpuctl tune ./troubleshoot-fix.yaml --iface eth2"),
        "{stdout}"
    );
    assert!(stdout.lines().all(|l| l.chars().count() <= 100), "{stdout}");
}

/// A snapshot has no counter window: the checks of drops and rates cannot run, so a walk
/// without problems is inconclusive (exit 3), never "No problems found"; the summary says how
/// many checks could not run and why.
#[test]
fn no_problems_from_a_snapshot_is_inconclusive_exit_3() {
    let node = fixture("diag/clean-auto/node.json");
    let args = [
        "troubleshoot",
        "--from",
        node.to_str().expect("utf-8"),
        "--symptom",
        "throughput",
    ];
    let o = dpuctl(&args);
    let (stdout, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(3), "{stdout}{stderr}");
    assert!(!stdout.contains("No problems found"), "{stdout}");
    assert!(stdout.contains("8 checks could not run:"), "{stdout}");
    assert!(
        stdout.contains("5 x no counter rates: read from a snapshot"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Inconclusive: no problem found"),
        "{stdout}"
    );
    let o = dpuctl(&[&args[..], &["-f", "json"]].concat());
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["verdict"], "inconclusive");
    let not_run = v["not_run"].as_array().expect("not_run");
    assert_eq!(
        not_run[0]["reason"],
        "no counter rates: read from a snapshot"
    );
    assert_eq!(not_run[0]["count"], 5);
    let total: u64 = not_run
        .iter()
        .map(|g| g["count"].as_u64().expect("count"))
        .sum();
    assert_eq!(total, 8);
}

#[test]
fn json_and_both_report_formats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("ticket.md");
    let js = dir.path().join("ticket.json");
    let snap = snapshot();
    for (report, extra) in [
        (&md, None),
        (&js, None),
        (&dir.path().join("t.txt"), Some("json")),
    ] {
        let mut args = vec![
            "troubleshoot",
            "--from",
            &snap,
            "--symptom",
            "auto",
            "--format",
            "json",
            "--report",
            report.to_str().expect("utf-8"),
        ];
        if let Some(f) = extra {
            args.extend(["--report-format", f]);
        }
        let o = dpuctl(&args);
        assert_eq!(o.status.code(), Some(1), "{}", out(&o).1);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout json");
        assert_eq!(v["decision"]["auto"], true);
        assert_eq!(v["decision"]["symptom"], "latency");
        assert_eq!(
            v["path"],
            serde_json::json!(["backlog", "irq", "capture", "proto"])
        );
        assert!(v["window_na"]
            .as_str()
            .expect("window_na")
            .contains("snapshot"));
    }
    let text = std::fs::read_to_string(&md).expect("md report");
    assert!(
        text.starts_with("# dpuctl troubleshoot: gpu-node-07"),
        "{text}"
    );
    assert!(text.contains("## Step 2: adjust IRQ affinity"), "{text}");
    assert!(
        text.contains("| WARN | `irq.numa-remote` | eth2 |"),
        "{text}"
    );
    assert!(
        text.contains("| irq 127 (mlx5_comp6@pci:0000:81:00.0) | 0 |"),
        "{text}"
    );
    assert!(
        text.contains("```yaml\n# troubleshoot-fix.yaml\nname: troubleshoot-fix"),
        "{text}"
    );
    for f in [&js, &dir.path().join("t.txt")] {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f).expect("json report")).expect("json");
        let evidence = v["steps"][1]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["id"] == "irq.numa-remote" && f["subject"] == "eth2")
            .expect("finding")["evidence"]
            .clone();
        assert_eq!(evidence[0]["what"], "irq 127 (mlx5_comp6@pci:0000:81:00.0)");
    }
}

#[test]
fn one_interface_only() {
    let snap = snapshot();
    let o = dpuctl(&[
        "troubleshoot",
        "--from",
        &snap,
        "--symptom",
        "latency",
        "--iface",
        "eno1",
        "-f",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["interfaces"], serde_json::json!(["eno1"]));
    assert_eq!(
        o.status.code(),
        Some(3),
        "eno1 alone has only notes, and a snapshot no counter window"
    );
    assert_eq!(v["verdict"], "inconclusive");
}

#[test]
fn errors_exit_2_with_one_line() {
    let snap = snapshot();
    for (args, want) in [
        (vec!["--iface", "eth9"], "no interface \"eth9\""),
        (vec!["--window", "5ms"], "out of range"),
        (vec!["--window", "soon"], "not a duration"),
        (vec!["--report", "ticket.txt"], "name it .md or .json"),
        (vec!["--symptom", "slow"], "invalid value 'slow'"),
    ] {
        let mut a = vec!["troubleshoot", "--from", &snap];
        a.extend(args.iter());
        let o = dpuctl(&a);
        let (_, stderr) = out(&o);
        assert_eq!(o.status.code(), Some(2), "{a:?}: {stderr}");
        assert!(stderr.contains(want), "{a:?}: {stderr}");
    }
    let o = dpuctl(&[
        "troubleshoot",
        "--from",
        "/nonexistent.json",
        "--symptom",
        "latency",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let (_, stderr) = out(&o);
    assert!(
        stderr.contains("failed to read snapshot /nonexistent.json"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[path = "fixtures/capture/build.rs"]
mod build;

/// A capture of eth2 at 1 Gbit/s: 1100 small in-order TCP segments 1 ms apart, 100 of them
/// sent again (8% retransmitted), and one burst of 20 frames of 1000 bytes 8 us apart (each
/// takes 8 us at 1 Gbit/s: one 160 us burst at line rate, every 10 us bin at 80% or more).
fn capture_file(dir: &Path) -> PathBuf {
    const T0: u64 = 1_700_000_000 * 1_000_000_000;
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let seg = |seq: u32, payload: usize| {
        build::tcp4(
            a,
            b,
            build::Tcp {
                sport: 40000,
                dport: 80,
                seq,
                flags: build::ACK,
                window: 500,
            },
            payload,
        )
    };
    let mut pkts = Vec::new();
    for i in 0..1100u32 {
        pkts.push(build::Pkt {
            ts_ns: T0 + u64::from(i) * 1_000_000,
            data: seg(1000 + i * 100, 100),
        });
    }
    for i in 0..100u32 {
        pkts.push(build::Pkt {
            ts_ns: T0 + 1_100_000_000 + u64::from(i) * 1_000_000,
            data: seg(1000 + i * 100, 100),
        });
    }
    let base = 1000 + 1100 * 100;
    for i in 0..20u32 {
        pkts.push(build::Pkt {
            ts_ns: T0 + 1_250_000_000 + u64::from(i) * 8_000,
            data: seg(base + i * 946, 946),
        });
    }
    let path = dir.join("eth2.pcap");
    std::fs::write(&path, build::pcap(&pkts, true, false)).expect("write capture");
    path
}

fn finding<'a>(v: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|s| s["findings"].as_array().expect("findings"))
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {v:#}"))
}

#[test]
fn a_capture_file_feeds_the_capture_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cap = capture_file(dir.path());
    let snap = snapshot();
    let cap_s = cap.to_string_lossy();
    let args = [
        "troubleshoot",
        "--from",
        &snap,
        "--iface",
        "eth2",
        "--symptom",
        "latency",
        "--capture",
        &cap_s,
        "--capture-line-rate",
        "1G",
        "-f",
        "json",
    ];
    let o = dpuctl(&args);
    let (stdout, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let bursts = finding(&v, "capture.microbursts");
    assert_ne!(bursts["severity"], "n/a", "{bursts:#}");
    assert!(
        bursts["title"]
            .as_str()
            .expect("title")
            .starts_with("1 microburst"),
        "{bursts:#}"
    );
    // The capture's bursts say that drops are not in it, never "0 drops".
    let ev = bursts["evidence"].to_string();
    assert!(ev.contains("drops not in a capture"), "{bursts:#}");
    assert!(!ev.contains("0 drops"), "{bursts:#}");
    assert!(
        !bursts["title"].to_string().contains("no drops"),
        "{bursts:#}"
    );
    let retrans = finding(&v, "capture.retransmissions");
    assert_eq!(retrans["severity"], "crit", "{retrans:#}");
    let text = retrans.to_string();
    assert!(
        text.contains("1220") || text.contains("1,220"),
        "segments: {retrans:#}"
    );

    // Without the capture the same step has nothing to go on.
    let o = dpuctl(
        &args[..7]
            .iter()
            .chain(&args[11..])
            .copied()
            .collect::<Vec<_>>(),
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(finding(&v, "capture.retransmissions")["severity"], "n/a");
}

#[test]
fn a_truncated_capture_file_is_one_line_with_its_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cap = capture_file(dir.path());
    let bytes = std::fs::read(&cap).expect("read");
    std::fs::write(&cap, &bytes[..bytes.len() - 700]).expect("truncate");
    let snap = snapshot();
    let o = dpuctl(&[
        "troubleshoot",
        "--from",
        &snap,
        "--symptom",
        "latency",
        "--capture",
        &cap.to_string_lossy(),
    ]);
    let (stdout, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("eth2.pcap") && stderr.contains("offset"),
        "{stderr}"
    );
}
