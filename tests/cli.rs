//! The CLI through the built binary, on the recorded two-socket fixture tree: golden output,
//! snapshots, errors and exit codes, and generated files that must not drift.
//!
//! Set `DPUCTL_BLESS=1` to rewrite golden and generated files after an intended change.

mod common;

use common::golden::golden;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/two-socket")
}

/// dpuctl pointed at the fixture tree.
fn dpuctl(args: &[&str]) -> Output {
    let f = fixture();
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env("DPUCTL_SYSFS", f.join("sys"))
        .env("DPUCTL_PROCFS", f.join("proc"))
        .env("COLUMNS", "100")
        .output()
        .expect("run dpuctl")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "dpuctl failed: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

/// The JSON with the read time zeroed, so goldens compare.
fn stable_json(text: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(text).expect("json");
    v["taken_at_ms"] = 0.into();
    v
}

#[test]
fn show_json_of_the_fixture_matches_golden() {
    let out = stdout(&dpuctl(&["show", "--all", "--format", "json"]));
    let v = stable_json(&out);
    golden(
        "tests/golden/two-socket.show.json",
        &(serde_json::to_string_pretty(&v).expect("json") + "\n"),
    );
    // The facts the fixture was built to show, asserted directly as well.
    let eth2 = v["interfaces"]
        .as_array()
        .expect("interfaces")
        .iter()
        .find(|i| i["name"] == "eth2")
        .expect("eth2");
    assert_eq!(eth2["numa_node"], 1);
    assert_eq!(eth2["local_cpus"], "4-7,12-15");
    assert!(eth2["rings"]["n/a"]
        .as_str()
        .expect("n/a reason")
        .contains("running kernel"));
    let irqs = eth2["irqs"].as_array().expect("irqs");
    assert!(irqs.iter().any(|i| i["nic_local"] == false), "a remote IRQ");
    assert!(irqs.iter().any(|i| i["nic_local"] == true), "a local IRQ");
    let gpus = v["topology"]["gpus"].as_array().expect("gpus");
    assert_eq!(gpus.len(), 1, "the BMC's VGA is not a GPU");
}

#[test]
fn show_table_of_the_fixture_matches_golden_and_fits_100_columns() {
    // Through a pipe: not wrapped, one line per fact (for grep), whatever its length.
    let out = stdout(&dpuctl(&["show"]));
    assert!(!out.contains("== lo =="), "lo only with --all or by name");
    assert!(
        out.contains("DEGRADED"),
        "the fixture's PCIe link runs at x8 of x16"
    );
    assert!(
        out.lines().any(|l| l.starts_with(" link ")
            && l.ends_with("n/a (ethtool reads the running kernel, not a --sysfs-root tree)")),
        "the link line is whole:\n{out}"
    );
    golden("tests/golden/two-socket.show.txt", &out);
    // The same view for a terminal wraps at 100 columns, and is the same text otherwise.
    let f = fixture();
    let root = dpuctl::sys::SysRoot::new(f.join("sys"), f.join("proc"));
    let mut state = dpuctl::source::load(&root, None, &[]).expect("load the fixture");
    state.interfaces.retain(|i| i.name != "lo");
    dpuctl::output::set_wrap(true);
    let wrapped = dpuctl::output::show_table(&state);
    for line in wrapped.lines() {
        assert!(
            line.chars().count() <= 100,
            "line over 100 columns: {line:?}"
        );
    }
    assert!(wrapped.lines().count() > out.lines().count(), "{wrapped}");
    // A cell wrapped over two lines moves its words after the cells beside it: the same
    // words, in another order.
    let words = |t: &str| {
        let mut w = t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        w.sort();
        w
    };
    assert_eq!(words(&wrapped), words(&out), "only the line breaks differ");
    dpuctl::output::set_wrap(false);
    assert_eq!(dpuctl::output::show_table(&state), out);
}

/// `show -S` lists every driver counter of a snapshot, grouped by class, non-zero first in
/// each group; JSON carries them with or without the flag.
#[test]
fn show_stats_groups_driver_counters_by_class_non_zero_first() {
    let snap = root().join("tests/fixtures/show/stats-node.json");
    let snap = snap.display().to_string();
    let out = stdout(&dpuctl(&["show", "-S", "--from", &snap, "eth2"]));
    golden("tests/golden/stats-node.show-stats.txt", &out);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip_while(|l| !l.starts_with(" driver counters (ethtool -S): 10 non-zero of 16"))
        .skip(2)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 16, "{out}");
    assert_eq!(
        rows[0],
        [
            "rx",
            "buffer_exhaustion",
            "rx1_buff_alloc_err",
            "(queue",
            "1)",
            "3"
        ]
    );
    assert_eq!(rows[1][2], "rx_out_of_buffer", "zero after non-zero");
    assert_eq!(rows[3], ["rx", "fifo_overflow", "rx_discards_phy", "1250"]);
    assert_eq!(rows[11][..2], ["other", "rx_packets"]);
    assert_eq!(rows[15][..3], ["other", "ch_poll", "0"]);
    // Without -S: the count only, and a pointer to -S.
    let plain = stdout(&dpuctl(&["show", "--from", &snap, "eth2"]));
    assert!(plain.contains("16 driver counters (ethtool -S), 10 non-zero; show -S lists them"));
    assert!(!plain.contains("rx_discards_phy"));
    // An interface without driver counters says so.
    let eno1 = stdout(&dpuctl(&["show", "--stats", "--from", &snap, "eno1"]));
    assert!(eno1.contains(" driver counters: none"), "{eno1}");
}

/// The IRQ table says where interrupts are meant to go (affinity), where the kernel sends
/// them (effective, marked where it differs) and which CPUs took them (/proc/interrupts).
#[test]
fn show_tells_configured_and_effective_affinity_and_the_cpus_that_took_the_interrupts() {
    let out = stdout(&dpuctl(&["show", "eth2"]));
    let row = |irq: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(irq))
            .unwrap_or_else(|| panic!("no IRQ {irq} row:\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        out.contains(" irq  queue  affinity  effective  locality"),
        "{out}"
    );
    // Affinity 0-15, effective CPU 1; it ran on CPU 4 before: both CPUs counted.
    assert_eq!(
        row("128"),
        "128 7 0-15 1* nic REMOTE gpu REMOTE 662.0k 1 98%, 4 2%"
    );
    // Affinity and effective agree: no mark.
    assert_eq!(row("121"), "121 0 4 4 nic local gpu local 1.5M 4 100%");
    assert!(
        out.contains("* the kernel routes the IRQ to fewer CPUs"),
        "{out}"
    );
    // JSON carries every CPU that took an interrupt.
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&dpuctl(&["show", "eth2", "-f", "json"]))).expect("json");
    let irq = v["interfaces"][0]["irqs"]
        .as_array()
        .expect("irqs")
        .iter()
        .find(|i| i["irq"] == 128)
        .expect("irq 128");
    assert_eq!(irq["affinity"], "0-15");
    assert_eq!(irq["effective"], "1");
    assert_eq!(
        irq["per_cpu"],
        serde_json::json!([{"cpu": 1, "count": 650_000}, {"cpu": 4, "count": 12_000}])
    );
}

#[test]
fn yaml_and_json_carry_the_same_state() {
    let j: serde_json::Value =
        serde_json::from_str(&stdout(&dpuctl(&["show", "eth2", "-f", "json"]))).expect("json");
    let y: serde_json::Value =
        yaml_serde::from_str(&stdout(&dpuctl(&["show", "eth2", "-f", "yaml"]))).expect("yaml");
    assert_eq!(j["interfaces"], y["interfaces"]);
    assert_eq!(j["interfaces"].as_array().map(Vec::len), Some(1));
}

#[test]
fn snapshot_then_show_from_it_gives_the_same_view() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("node.json");
    let o = dpuctl(&["snapshot", "-o", snap.to_str().expect("path")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let live = stable_json(&stdout(&dpuctl(&["show", "--all", "-f", "json"])));
    // The snapshot is read with no fixture root at all: it is self-contained.
    let from = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args([
            "show",
            "--all",
            "-f",
            "json",
            "--from",
            snap.to_str().expect("path"),
        ])
        .env("DPUCTL_SYSFS", "/nonexistent")
        .output()
        .expect("run");
    assert_eq!(stable_json(&stdout(&from)), live);
}

fn assert_one_line_error(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "exit code of an error");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
    assert!(o.stdout.is_empty());
}

#[test]
fn unknown_interface_is_one_line_and_exit_2() {
    let o = dpuctl(&["show", "eth9"]);
    assert_one_line_error(&o, "no interface \"eth9\"");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("eth2"),
        "lists known interfaces"
    );
}

#[test]
fn bad_snapshot_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"schema\": 1,\n  \"hostname\": [\n}").expect("write");
    let o = dpuctl(&["show", "--from", bad.to_str().expect("path")]);
    assert_one_line_error(&o, &format!("{}:3:14: invalid type", bad.display()));
    let o = dpuctl(&["show", "--from", "/nonexistent/snap.json"]);
    assert_one_line_error(&o, "failed to read snapshot /nonexistent/snap.json");
}

#[test]
fn usage_errors_exit_2_and_help_teaches() {
    let o = dpuctl(&["show", "--format", "xml"]);
    assert_eq!(o.status.code(), Some(2));
    let help = stdout(&dpuctl(&["show", "--help"]));
    assert!(help.contains("Examples:"));
    assert!(help.contains("--from"));
    let help = stdout(&dpuctl(&["--help"]));
    assert!(help.contains("Exit codes"));
}

/// Regenerates completions and man pages and compares them with the committed files.
#[test]
fn generated_completions_and_man_pages_do_not_drift() {
    let mut checked = 0;
    for (shell, file) in [
        ("bash", "dpuctl.bash"),
        ("zsh", "_dpuctl"),
        ("fish", "dpuctl.fish"),
    ] {
        let out = stdout(&dpuctl(&["completions", shell]));
        golden(&format!("completions/{file}"), &out);
        checked += 1;
    }
    let pages = dpuctl::cmd::man_pages();
    assert!(pages.len() > 3);
    for page in &pages {
        let sub: Vec<&str> = page.strip_prefix("dpuctl-").into_iter().collect();
        let mut args = vec!["man"];
        args.extend(sub);
        let out = stdout(&dpuctl(&args));
        assert!(out.contains(".TH"), "roff page");
        golden(&format!("man/{page}.1"), &out);
        checked += 1;
    }
    // Nothing stale: every committed man page is one the binary still generates.
    for e in std::fs::read_dir(root().join("man")).expect("man/") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        let stem = name.trim_end_matches(".1");
        assert!(pages.iter().any(|p| p == stem), "stale man page {name}");
    }
    assert_eq!(checked, 3 + pages.len());
    assert!(Path::new(&root().join("man/dpuctl.1")).exists());
}
