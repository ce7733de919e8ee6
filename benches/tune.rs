//! Benchmark (not a test): a full `dpuctl tune --yes` transaction (plan, journal, 512 writes)
//! and a `dpuctl check` of the same profile, through the built binary, on 64 veth interfaces
//! with 4 rx and 4 tx queues each, in a network namespace this program creates and deletes.
//! Needs root and at least 2 online CPUs.
//!
//!     cargo bench --bench tune
//!
//! Cargo builds `dpuctl` (release profile) before the benchmark and hands over its path.
//! Two profiles, written to a temporary directory, set RPS on every receive queue and XPS on
//! every transmit queue of the 64 interfaces: one to CPU 0, the other to CPU 1, so that every
//! run, alternating between them, changes all 512 files. Each run gets a fresh state directory
//! (`DPUCTL_STATE_DIR`) under the temporary directory (`TMPDIR`, default /tmp), so the journal
//! is fsynced on the file system that holds it. A second series runs in one state directory
//! that keeps every transaction, as a node's `/var/lib/dpuctl` does.
//!
//! Targets: under 100 ms for the transaction; `check` is reported alongside.

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const INNER: &str = "DPUCTL_BENCH_NETNS";
const PAIRS: usize = 32;
const QUEUES: usize = 4;
/// Measured runs of each kind.
const RUNS: usize = 10;
/// Runs in the state directory that keeps its history.
const HISTORY_RUNS: usize = 20;
const DPUCTL: &str = env!("CARGO_BIN_EXE_dpuctl");

fn main() {
    if let Ok(ns) = std::env::var(INNER) {
        inner(&ns);
        return;
    }
    let ns = common::VethNs::new("dptune", PAIRS, QUEUES);
    ns.run_self(INNER, &ns.name);
}

/// A profile setting RPS and XPS of every queue of every `v*` interface to `cpu`.
fn profile(dir: &Path, name: &str, cpu: u32) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let text = format!(
        "name: {name}\n\
         description: benchmark, RPS and XPS of every queue on CPU {cpu}\n\
         interfaces:\n  \
           - match:\n      \
               name: \"v*\"\n    \
             rps:\n      \
               cpus: \"{cpu}\"\n    \
             xps:\n      \
               cpus: \"{cpu}\"\n      \
               mode: all\n"
    );
    std::fs::write(&path, text).expect("write profile");
    path
}

/// Runs dpuctl with `state` as its state directory; returns the output and the wall time.
fn dpuctl(state: &Path, empty: &Path, args: &[&str]) -> (Output, Duration) {
    let mut c = Command::new(DPUCTL);
    c.args(args)
        .env("DPUCTL_STATE_DIR", state)
        .env("DPUCTL_PROFILE_DIR", empty)
        .env_remove("DPUCTL_SYSFS")
        .env_remove("DPUCTL_PROCFS")
        .stdin(Stdio::null());
    let t = Instant::now();
    let out = c.output().expect("run dpuctl");
    (out, t.elapsed())
}

fn fail(what: &str, out: &Output) -> ! {
    panic!(
        "{what} exited with {}:\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One `tune --yes`; returns its wall time and the number of changes it reports.
fn tune(state: &Path, empty: &Path, profile: &Path) -> (Duration, usize) {
    let (out, dt) = dpuctl(
        state,
        empty,
        &["tune", profile.to_str().expect("utf-8"), "--yes"],
    );
    if !out.status.success() {
        fail("dpuctl tune", &out);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let n = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("applied "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| fail("dpuctl tune (no \"applied N changes\")", &out));
    (dt, n)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median and minimum, in milliseconds.
fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let n = v.len();
    let median = if n % 2 == 1 {
        ms(v[n / 2])
    } else {
        f64::midpoint(ms(v[n / 2 - 1]), ms(v[n / 2]))
    };
    (median, ms(v[0]))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn inner(ns: &str) {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    assert!(
        cpus >= 2,
        "the benchmark needs 2 CPUs (it moves RPS/XPS between CPU 0 and 1)"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let empty = tmp.path().join("no-profiles");
    std::fs::create_dir(&empty).expect("mkdir");
    let profiles = [
        profile(tmp.path(), "bench-rps-xps-a", 0),
        profile(tmp.path(), "bench-rps-xps-b", 1),
    ];
    let n_if = 2 * PAIRS;
    let want = n_if * 2 * QUEUES;
    println!(
        "dpuctl {DPUCTL}\n{n_if} veth interfaces x {QUEUES} rx + {QUEUES} tx queues in {ns}; \
         state directories under {}; {cpus} CPUs, load average {} before",
        tmp.path().display(),
        loadavg()
    );

    // Warm-up (page cache, first write of every file); both profiles once.
    for (i, p) in profiles.iter().enumerate() {
        let (_, n) = tune(&tmp.path().join(format!("warm-{i}")), &empty, p);
        assert_eq!(n, want, "the warm-up changed {n} settings, not {want}");
    }

    // Fresh state directory per run.
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let (dt, n) = tune(
            &tmp.path().join(format!("run-{i}")),
            &empty,
            &profiles[i % 2],
        );
        assert_eq!(n, want, "run {i} changed {n} settings, not {want}");
        times.push(dt);
    }
    let (median, min) = stats(times);
    println!(
        "tune --yes ({want} steps: RPS + XPS, fresh state directory): median {median:.1} ms, \
         min {min:.1} ms over {RUNS} runs (target: under 100 ms)"
    );
    let last = &profiles[(RUNS - 1) % 2];
    let other = &profiles[RUNS % 2];
    let last_s = last.to_str().expect("utf-8");

    // The same, without the journal and the writes: read the node, resolve, plan, print.
    let state = tmp.path().join("dry");
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (out, dt) = dpuctl(
            &state,
            &empty,
            &["tune", other.to_str().expect("utf-8"), "--dry-run"],
        );
        if !out.status.success() {
            fail("dpuctl tune --dry-run", &out);
        }
        times.push(dt);
    }
    let (median, min) = stats(times);
    println!(
        "tune --dry-run (the same {want} steps planned, nothing written): median {median:.1} ms, \
         min {min:.1} ms"
    );

    // check of the profile just applied: compliant, exit 0.
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (out, dt) = dpuctl(&state, &empty, &["check", last_s, "--quiet"]);
        if out.status.code() != Some(0) {
            fail("dpuctl check (expected compliant)", &out);
        }
        times.push(dt);
    }
    let (median, min) = stats(times);
    println!("check (no drift, {want} settings compared): median {median:.1} ms, min {min:.1} ms");

    // One state directory keeping every transaction (each tune lists the journal).
    let state = tmp.path().join("history");
    let mut times = Vec::with_capacity(HISTORY_RUNS);
    for i in 0..HISTORY_RUNS {
        let (dt, n) = tune(&state, &empty, &profiles[i % 2]);
        assert_eq!(n, want, "history run {i} changed {n} settings, not {want}");
        times.push(dt);
    }
    let tail: Vec<Duration> = times[HISTORY_RUNS - RUNS..].to_vec();
    let (median, min) = stats(tail);
    println!(
        "tune --yes with {}..{} earlier {want}-step transactions in the state directory: median \
         {median:.1} ms, min {min:.1} ms",
        HISTORY_RUNS - RUNS,
        HISTORY_RUNS - 1
    );
    println!("load average after: {}", loadavg());
}
