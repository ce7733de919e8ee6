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

#[test]
fn no_problems_exit_0() {
    let node = fixture("diag/clean-auto/node.json");
    let o = dpuctl(&[
        "troubleshoot",
        "--from",
        node.to_str().expect("utf-8"),
        "--symptom",
        "throughput",
    ]);
    let (stdout, stderr) = out(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("No problems found."), "{stdout}");
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
    assert_eq!(o.status.code(), Some(0), "eno1 alone has only notes");
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
