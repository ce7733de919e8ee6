//! Hostile inputs through the built binary: every input is generated here, small and
//! deterministic, and every run is held under a memory limit (`prlimit --as`) and killed after
//! a generous time limit, so that a regression to unbounded memory, a crash or a hang fails
//! the test instead of the machine or CI.
//!
//! Each test names the bound or the failure mode it guards (README.md, "Input limits").

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Address-space limit of every run: far above what dpuctl needs for these inputs, far below
/// what the unbounded code paths allocated (gigabytes).
const MEMORY_LIMIT: u64 = 1 << 30;
/// Seconds before a run is killed; a run here takes well under a second.
const TIME_LIMIT_S: u32 = 60;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/two-socket")
}

/// dpuctl on the fixture tree (or `sysfs` when given), in `cwd`, under the memory and time
/// limits, with an empty user profile directory.
fn run_in(cwd: &Path, sysfs: Option<&Path>, args: &[&str]) -> Output {
    let f = fixture();
    Command::new("timeout")
        .args(["-s", "KILL", &TIME_LIMIT_S.to_string(), "prlimit"])
        .arg(format!("--as={MEMORY_LIMIT}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .current_dir(cwd)
        .env(
            "DPUCTL_SYSFS",
            sysfs.map_or_else(|| f.join("sys"), Path::to_path_buf),
        )
        .env("DPUCTL_PROCFS", f.join("proc"))
        .env("DPUCTL_PROFILE_DIR", cwd.join("no-such-profile-dir"))
        .env("DPUCTL_STATE_DIR", cwd.join("state"))
        .env("COLUMNS", "100")
        .output()
        .expect("run timeout/prlimit/dpuctl")
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    run_in(cwd, None, args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 2 (not a signal, not the time limit) with a one-line error containing `needle`.
fn refused(o: &Output, needle: &str) -> String {
    let e = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "want exit 2 (137: killed at the time limit or by a signal); got {}\nstderr: {}",
        o.status,
        &e[..e.len().min(2000)]
    );
    assert!(e.contains(needle), "stderr lacks {needle:?}: {e}");
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    e
}

/// Success (exit 0), not killed.
fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "dpuctl failed: {}\nstderr: {}",
        o.status,
        stderr(o)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A snapshot of the fixture node, as JSON to tamper with.
fn fixture_snapshot(dir: &Path) -> serde_json::Value {
    let out = run(dir, &["snapshot"]);
    serde_json::from_str(&ok(&out)).expect("snapshot json")
}

fn write_json(path: &Path, v: &serde_json::Value) {
    std::fs::write(path, serde_json::to_vec(v).expect("json")).expect("write");
}

/// Copies a directory tree, symlinks as symlinks.
fn copy_tree(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(st.success(), "cp -a failed");
}

// Item: a queue index of 2^31 in a snapshot, or an empty `queues/rx-30000000` directory,
// made the queue table loop (and allocate) up to the index.

#[test]
fn a_huge_queue_index_in_a_snapshot_is_refused_naming_the_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut snap = fixture_snapshot(dir.path());
    let eth2 = snap["interfaces"]
        .as_array_mut()
        .expect("interfaces")
        .iter_mut()
        .find(|i| i["name"] == "eth2")
        .expect("eth2");
    eth2["queues"][0]["index"] = 2_147_483_648u64.into();
    let p = dir.path().join("snap.json");
    write_json(&p, &snap);
    let e = refused(
        &run(dir.path(), &["show", "--from", "snap.json", "eth2"]),
        "queue index 2147483648 is above the limit of 65535",
    );
    assert!(e.contains("snap.json:1:"), "{e}");
}

#[test]
fn queue_indexes_with_gaps_show_only_the_queues_there_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut snap = fixture_snapshot(dir.path());
    let eth2 = snap["interfaces"]
        .as_array_mut()
        .expect("interfaces")
        .iter_mut()
        .find(|i| i["name"] == "eth2")
        .expect("eth2");
    eth2["queues"][0]["index"] = 65_535.into();
    write_json(&dir.path().join("snap.json"), &snap);
    let out = ok(&run(dir.path(), &["show", "--from", "snap.json", "eth2"]));
    let rows = out
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .count();
    assert!(out.contains("65535"), "{out}");
    assert!(rows < 100, "a row per index up to 65535: {rows} rows");
}

#[test]
fn an_empty_queue_directory_with_a_huge_index_is_no_queue() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixture(), &dir.path().join("fx"));
    let sys = dir.path().join("fx/sys");
    let eth2 = std::fs::canonicalize(sys.join("class/net/eth2")).expect("eth2 dir");
    std::fs::create_dir(eth2.join("queues/rx-30000000")).expect("mkdir");
    let out = ok(&run_in(dir.path(), Some(&sys), &["show", "eth2"]));
    assert!(!out.contains("30000000"), "{out}");
}

// Item: CPU lists expanded every part before deduplication (32 KiB per `0-8191`).

#[test]
fn repeated_cpu_ranges_in_a_snapshot_take_no_memory_per_part() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut snap = fixture_snapshot(dir.path());
    // 9000 parts (63 KiB, under the 64 KiB bound) in each of four sets: expanded, each set
    // was 295 MB of CPU numbers.
    let list = vec!["0-8191"; 9000].join(",");
    let eth2 = snap["interfaces"]
        .as_array_mut()
        .expect("interfaces")
        .iter_mut()
        .find(|i| i["name"] == "eth2")
        .expect("eth2");
    for q in 0..4 {
        eth2["queues"][q]["rps_cpus"] = list.clone().into();
    }
    write_json(&dir.path().join("snap.json"), &snap);
    let out = ok(&run(dir.path(), &["show", "--from", "snap.json", "eth2"]));
    assert!(out.contains("0-8191"), "{out}");
}

#[test]
fn an_over_long_cpu_list_is_refused_naming_the_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut snap = fixture_snapshot(dir.path());
    snap["interfaces"][0]["queues"][0]["rps_cpus"] = vec!["0-8191"; 20_000].join(",").into();
    write_json(&dir.path().join("snap.json"), &snap);
    let e = refused(
        &run(dir.path(), &["show", "--from", "snap.json"]),
        "64 KiB limit for CPU lists",
    );
    assert!(e.len() < 400, "the list is quoted: {e}");
}
