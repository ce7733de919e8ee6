//! The tuning engine on the real kernel, inside network namespaces the tests create and delete,
//! with `ip`, `ethtool` and the sysfs/procfs files as independent witnesses.
//!
//! Each test makes a namespace with a veth pair `a`/`b` (4 queues each, up) and a temporary
//! state directory; only per-namespace sysctls and the veth pair are ever written. Two ways in:
//!
//! - the engine as a library, in a child process started with `ip netns exec NS <this test
//!   binary> --exact <the same test>` that runs the body named in `DPUCTL_TEST_INNER` (so
//!   every socket and file it opens belongs to the namespace), with settings built here as `Vec<Setting>`: every knob kind a veth has,
//!   failures injected at every step, a slowed-down applier to kill or race;
//! - the `dpuctl` binary (`tune` with a profile file, `check`, `rollback`, `confirm`,
//!   `history`, `snapshot`), run with `ip netns exec`, in tmux where a terminal is needed.
//!
//! Needs root, `ip` (iproute2), `ethtool`, `tmux` and `setpriv` (util-linux); without them
//! the tests fail with a message saying so.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::Netns;
use dpuctl::model::{CpuSet, Knob, Setting, Value};
use dpuctl::sys::write::{process_alive, WriteError, Writer};
use dpuctl::sys::{collect, SysRoot};
use dpuctl::tune::{self, Applier, ApplyError, Plan, Session, Step, Store, TxState};

/// Set in the child to the namespace its parent made for it.
const NS_ENV: &str = "DPUCTL_TEST_NETNS";
/// The state directory of the test.
const STATE_ENV: &str = "DPUCTL_TEST_STATE";
/// Delay before each write of the slow applier, in milliseconds.
const DELAY_ENV: &str = "DPUCTL_TEST_DELAY_MS";
/// Pid the second tune expects in the lock message.
const HOLDER_ENV: &str = "DPUCTL_TEST_HOLDER_PID";

const DPUCTL: &str = env!("CARGO_BIN_EXE_dpuctl");

// ---------------------------------------------------------------------------------------------
// Shared helpers.

/// Fails unless the witness tools are there.
fn require_tools() {
    for (tool, arg, pkg) in [
        ("ip", "-V", "iproute2"),
        ("ethtool", "--version", "ethtool"),
        ("tmux", "-V", "tmux"),
        ("setpriv", "--version", "util-linux"),
    ] {
        let ok = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        assert!(
            ok,
            "the netns_tune tests need `{tool}` on PATH (Debian package {pkg})"
        );
    }
}

/// A fresh namespace with the veth pair and a state directory.
fn setup(tag: &str) -> (Netns, tempfile::TempDir) {
    common::require_root();
    require_tools();
    let ns = Netns::new(tag);
    ns.veth("a", "b", 4);
    let dir = tempfile::tempdir().expect("state dir");
    (ns, dir)
}

/// Names the body a re-run test runs inside the namespace.
const INNER_ENV: &str = "DPUCTL_TEST_INNER";

/// `ip netns exec NS <this test binary> --exact <the running test>`, with the body to run
/// there named in the environment (libtest names each test's thread after the test).
fn inner_command(ns: &Netns, inner: &str, state: &Path) -> Command {
    let exe = std::env::current_exe().expect("current test binary");
    let test = std::thread::current()
        .name()
        .expect("libtest names the test thread")
        .to_string();
    let mut c = Command::new("ip");
    c.args(["netns", "exec", &ns.name])
        .arg(exe)
        .args(["--exact", &test, "--nocapture", "--test-threads=1"])
        .env(NS_ENV, &ns.name)
        .env(STATE_ENV, state)
        .env(INNER_ENV, inner);
    c
}

/// Inside the namespace (a re-run of the outer test), runs the body the environment names
/// and returns true; outside, returns false and the outer test goes on.
fn inner_run() -> bool {
    let Ok(inner) = std::env::var(INNER_ENV) else {
        return false;
    };
    match inner.as_str() {
        "inner_tune_check_drift_rollback" => inner_tune_check_drift_rollback(),
        "inner_failure_at_every_step" => inner_failure_at_every_step(),
        "inner_slow_apply" => inner_slow_apply(),
        "inner_second_tune" => inner_second_tune(),
        "inner_apply" => inner_apply(),
        "inner_fault_injection" => inner_fault_injection(),
        other => panic!("no inner body {other:?}"),
    }
    true
}

/// Runs the inner test and fails with its output unless it passed.
fn run_inner(ns: &Netns, inner: &str, state: &Path, env: &[(&str, String)]) {
    let mut c = inner_command(ns, inner, state);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run ip netns exec");
    check_inner(inner, ns, &out);
}

fn check_inner(inner: &str, ns: &Netns, out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{inner} failed inside netns {}:\n{stdout}\n{stderr}",
        ns.name
    );
    assert!(
        stdout.contains("1 passed"),
        "{inner} did not run inside netns {}:\n{stdout}",
        ns.name
    );
    print!("{stdout}");
}

/// The node state as JSON without what changes by itself (time, counters, carrier flaps).
fn normalize(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("taken_at_ms");
        o.remove("softnet");
    }
    if let Some(ifs) = v["interfaces"].as_array_mut() {
        for i in ifs {
            if let Some(o) = i.as_object_mut() {
                for k in ["counters", "std_stats", "driver_stats", "carrier_changes"] {
                    o.remove(k);
                }
            }
            // Qdisc and class counters move with any packet (IPv6 neighbour discovery).
            for list in ["qdiscs", "classes"] {
                if let Some(items) = i["tc"][list].as_array_mut() {
                    for it in items {
                        if let Some(o) = it.as_object_mut() {
                            o.remove("stats");
                        }
                    }
                }
            }
            for (list, key) in [("irqs", "count"), ("queues", "tx_timeout")] {
                if let Some(items) = i[list].as_array_mut() {
                    for it in items {
                        if let Some(o) = it.as_object_mut() {
                            o.remove(key);
                        }
                    }
                }
            }
        }
    }
    v
}

/// Retries `take` until it equals `want` (link state settles asynchronously after a carrier
/// flap), failing with both after 5 s.
fn assert_state_eventually(
    want: &serde_json::Value,
    mut take: impl FnMut() -> serde_json::Value,
    what: &str,
) {
    let start = Instant::now();
    loop {
        let got = take();
        if &got == want {
            return;
        }
        if start.elapsed() > Duration::from_secs(5) {
            let w = serde_json::to_string_pretty(want).unwrap_or_default();
            let g = serde_json::to_string_pretty(&got).unwrap_or_default();
            let diff: Vec<String> = w
                .lines()
                .zip(g.lines())
                .filter(|(a, b)| a != b)
                .take(20)
                .map(|(a, b)| format!("want {a}\n got {b}"))
                .collect();
            panic!(
                "{what}: the namespace is not as it was:\n{}",
                diff.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `dpuctl snapshot` inside the namespace, normalized.
fn outer_snapshot(ns: &Netns) -> serde_json::Value {
    let o = ns.dpuctl(&["snapshot"]);
    assert!(
        o.status.success(),
        "snapshot: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    normalize(serde_json::from_slice(&o.stdout).expect("snapshot json"))
}

/// dpuctl inside the namespace with the test's state directory.
fn outer_dpuctl(ns: &Netns, state: &Path, args: &[&str]) -> Output {
    let mut a = vec!["--state-dir", state.to_str().expect("utf-8 path")];
    a.extend_from_slice(args);
    ns.dpuctl(&a)
}

/// Polls the journal until `pred` holds for the newest transaction (10 s at most).
fn wait_journal(
    state: &Path,
    what: &str,
    pred: impl Fn(&tune::Transaction) -> bool,
) -> tune::Transaction {
    let store = Store::new(state);
    let start = Instant::now();
    loop {
        if let Some(tx) = store.list().ok().and_then(|l| l.into_iter().next()) {
            if pred(&tx) {
                return tx;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for the journal: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn_inner(ns: &Netns, inner: &str, state: &Path, env: &[(&str, String)]) -> Child {
    let mut c = inner_command(ns, inner, state);
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn inner test")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// Outer side: runs on the host, owns the namespace.

#[test]
fn tune_check_drift_and_rollback_on_veth() {
    if inner_run() {
        return;
    }
    let (ns, dir) = setup("tune");
    run_inner(&ns, "inner_tune_check_drift_rollback", dir.path(), &[]);
}

#[test]
fn failure_at_every_step_leaves_the_namespace_as_it_was() {
    if inner_run() {
        return;
    }
    let (ns, dir) = setup("fail");
    run_inner(&ns, "inner_failure_at_every_step", dir.path(), &[]);
}

#[test]
fn a_failure_or_a_silent_non_application_at_every_step_leaves_the_namespace_as_it_was() {
    if inner_run() {
        return;
    }
    let (ns, dir) = setup("fault");
    run_inner(&ns, "inner_fault_injection", dir.path(), &[]);
}

/// The offload dependency through the binary, with the profile's keys in both orders: the
/// tune fails, and `ethtool -k` and the snapshot are as before (the *wanted* bit of TSO
/// included, which once stayed set and turned TSO on when checksumming came back).
#[test]
fn dependent_offloads_fail_and_leave_ethtool_k_as_it_was_in_both_key_orders() {
    if inner_run() {
        return;
    }
    let (ns, dir) = setup("feat");
    ns.exec_ok("ethtool", &["-K", "a", "tso", "off"]);
    let before = outer_snapshot(&ns);
    let before_k = ns.exec_ok("ethtool", &["-k", "a"]);
    for (i, keys) in [
        "{tx-checksum-ip-generic: off, tx-tcp-segmentation: on}",
        "{tx-tcp-segmentation: on, tx-checksum-ip-generic: off}",
    ]
    .iter()
    .enumerate()
    {
        let name = format!("feat{i}");
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!(
                "name: {name}\ndescription: offloads that depend on each other\n\
                 interfaces:\n  - match: {{name: a}}\n    features: {keys}\n"
            ),
        )
        .expect("profile");
        let state = dir.path().join(format!("state{i}"));
        let o = outer_dpuctl(
            &ns,
            &state,
            &["tune", path.to_str().expect("utf-8"), "--yes"],
        );
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{keys}: {out}\n{err}");
        assert!(err.contains("tx-tcp-segmentation"), "{keys}: {err}");
        assert!(err.contains("back where it was"), "{keys}: {err}");
        assert_eq!(
            ns.exec_ok("ethtool", &["-k", "a"]),
            before_k,
            "{keys}: ethtool -k differs"
        );
        assert_state_eventually(&before, || outer_snapshot(&ns), keys);
    }
}

#[test]
fn sigkill_mid_apply_then_rollback_restores() {
    if inner_run() {
        return;
    }
    let (ns, dir) = setup("kill");
    let before = outer_snapshot(&ns);
    let mut child = spawn_inner(
        &ns,
        "inner_slow_apply",
        dir.path(),
        &[(DELAY_ENV, "300".into())],
    );
    let tx = wait_journal(dir.path(), "the run started", |t| {
        t.state == TxState::Applying
    });
    // Progress is not journaled per step: give the slowed-down applier time for a few.
    std::thread::sleep(Duration::from_secs(1));
    // kill -9 the applying process by the pid it journaled.
    common::run("kill", &["-KILL", &tx.pid.to_string()]);
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the applying process was not killed");
    let tx = Store::new(dir.path()).load(&tx.id).expect("journal");
    assert_eq!(
        tx.state,
        TxState::Applying,
        "the journal must show the run cut short"
    );
    assert!(tx.applied < tx.steps.len());
    assert_ne!(
        outer_snapshot(&ns),
        before,
        "the run changed nothing before it was killed"
    );

    let (out, err) = text(&outer_dpuctl(&ns, dir.path(), &["history"]));
    assert!(out.contains(&tx.id) && out.contains("applying"), "{out}");
    assert!(
        err.contains("was interrupted while applying"),
        "history stderr: {err}"
    );

    let o = outer_dpuctl(&ns, dir.path(), &["rollback"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "rollback failed: {err}");
    assert!(
        out.starts_with(&format!("rolled back transaction {}", tx.id)),
        "{out}"
    );
    assert!(
        err.contains("was interrupted while applying"),
        "rollback stderr: {err}"
    );
    assert_state_eventually(
        &before,
        || outer_snapshot(&ns),
        "after rollback of a killed run",
    );
    let tx = Store::new(dir.path()).load(&tx.id).expect("journal");
    assert_eq!(tx.state, TxState::RolledBack);
}

#[test]
fn sigkill_mid_apply_then_the_next_tune_reverts_it_first() {
    if inner_run() {
        return;
    }
    let (ns, dir) = setup("kill2");
    let profile = write_profile(dir.path());
    let before = outer_snapshot(&ns);
    let mut child = spawn_inner(
        &ns,
        "inner_slow_apply",
        dir.path(),
        &[(DELAY_ENV, "300".into())],
    );
    let killed = wait_journal(dir.path(), "the run started", |t| {
        t.state == TxState::Applying
    });
    // Progress is not journaled per step: give the slowed-down applier time for a few.
    std::thread::sleep(Duration::from_millis(1300));
    common::run("kill", &["-KILL", &killed.pid.to_string()]);
    let _ = child.wait().expect("wait");
    // check reports it without touching it.
    let o = outer_dpuctl(
        &ns,
        dir.path(),
        &["check", profile.to_str().expect("utf-8")],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).1.contains("was interrupted while applying"),
        "{}",
        text(&o).1
    );
    assert_eq!(
        Store::new(dir.path()).load(&killed.id).expect("load").state,
        TxState::Applying
    );

    let o = outer_dpuctl(
        &ns,
        dir.path(),
        &["tune", profile.to_str().expect("utf-8"), "--yes"],
    );
    let (_, err) = text(&o);
    assert!(o.status.success(), "tune: {err}");
    assert!(
        err.contains(&format!(
            "transaction {} (profile slow) was interrupted",
            killed.id
        )) && err.contains("reverted it"),
        "{err}"
    );
    let all = Store::new(dir.path()).list().expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].id, killed.id);
    assert_eq!(all[1].state, TxState::RolledBack);
    assert_eq!(all[0].state, TxState::Applied);
    // The interrupted run's channel change is gone: only the profile's settings are in place.
    assert_eq!(
        ns.exec_ok("ethtool", &["-l", "a"])
            .matches("RX:\t\t4")
            .count(),
        2
    );
    let o = outer_dpuctl(&ns, dir.path(), &["rollback"]);
    assert!(o.status.success(), "rollback: {}", text(&o).1);
    assert_state_eventually(&before, || outer_snapshot(&ns), "after rollback");
}

#[test]
fn second_concurrent_tune_fails_fast() {
    if inner_run() {
        return;
    }
    let (ns, dir) = setup("lock");
    let before = outer_snapshot(&ns);
    let first = spawn_inner(
        &ns,
        "inner_slow_apply",
        dir.path(),
        &[(DELAY_ENV, "250".into())],
    );
    let tx = wait_journal(dir.path(), "first tune applying", |t| {
        t.state == TxState::Applying
    });
    // A second tune through the library, and rollback through the binary: both fail at once.
    run_inner(
        &ns,
        "inner_second_tune",
        dir.path(),
        &[(HOLDER_ENV, tx.pid.to_string())],
    );
    let start = Instant::now();
    let o = outer_dpuctl(&ns, dir.path(), &["rollback"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "rollback waited for the lock"
    );
    assert!(
        err.contains(&format!("another dpuctl tune is running (pid {})", tx.pid)),
        "{err}"
    );
    let out = first.wait_with_output().expect("first tune");
    check_inner("inner_slow_apply", &ns, &out);
    let o = outer_dpuctl(&ns, dir.path(), &["rollback"]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_state_eventually(&before, || outer_snapshot(&ns), "after rollback");
}

/// A profile file for the CLI tests, named after its file as profiles must be.
fn write_profile(dir: &Path) -> PathBuf {
    let last = outer_last_cpu();
    let path = dir.join("netns-test.yaml");
    std::fs::write(
        &path,
        format!(
            "name: netns-test\n\
             description: dpuctl netns test\n\
             sysctl:\n  \
               net.ipv4.tcp_rmem: \"4096 131072 6291456\"\n  \
               net.core.somaxconn: 1024\n\
             interfaces:\n  \
               - match: {{name: a}}\n    \
                 mtu: 9000\n    \
                 txqueuelen: 5000\n    \
                 features: {{gro: on}}\n    \
                 rps: {{cpus: \"{last}\", flow_cnt: 1024}}\n    \
                 xps: {{cpus: \"0-{last}\", mode: all}}\n"
        ),
    )
    .expect("write profile");
    path
}

fn outer_last_cpu() -> u32 {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").expect("online");
    CpuSet::parse_list(&online)
        .expect("online list")
        .iter()
        .last()
        .expect("a CPU")
}

fn mtu_of_a(ns: &Netns) -> String {
    let link = ns.ip(&["-o", "link", "show", "dev", "a"]);
    link.split_whitespace()
        .skip_while(|w| *w != "mtu")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn cli_tune_check_and_rollback_with_a_profile() {
    let (ns, dir) = setup("cli");
    let profile = write_profile(dir.path());
    let profile = profile.to_str().expect("utf-8");
    let before = outer_snapshot(&ns);

    // --dry-run: the plan, nothing changed, nothing journaled.
    let o = outer_dpuctl(&ns, dir.path(), &["tune", profile, "--dry-run"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("a mtu 1500 -> 9000  (resets link)\n"), "{out}");
    assert!(out.contains("sysctl net.core.somaxconn "), "{out}");
    assert_eq!(outer_snapshot(&ns), before, "--dry-run changed something");
    assert!(Store::new(dir.path()).list().expect("list").is_empty());
    // No terminal and no --yes: refused, nothing changed.
    let o = outer_dpuctl(&ns, dir.path(), &["tune", profile]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("without --yes: stdin is not a terminal; nothing was changed"),
        "{err}"
    );
    assert_eq!(
        outer_snapshot(&ns),
        before,
        "a refused tune changed something"
    );
    // check before tuning: drift, exit 1.
    let o = outer_dpuctl(&ns, dir.path(), &["check", profile, "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        o.stdout.is_empty() && o.stderr.is_empty(),
        "--quiet printed: {:?}",
        text(&o)
    );

    let o = outer_dpuctl(&ns, dir.path(), &["tune", profile, "--yes"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "tune: {err}");
    let tx = Store::new(dir.path()).list().expect("list").remove(0);
    assert_eq!(tx.state, TxState::Applied);
    assert!(
        out.contains(&format!("changes (transaction {})", tx.id)),
        "{out}"
    );
    assert_eq!(mtu_of_a(&ns), "9000");
    let gro = ns.exec_ok("ethtool", &["-k", "a"]);
    assert!(gro.contains("generic-receive-offload: on"), "{gro}");
    assert_eq!(
        ns.exec_ok("cat", &["/sys/class/net/a/queues/rx-3/rps_flow_cnt"])
            .trim(),
        "1024"
    );
    let o = outer_dpuctl(&ns, dir.path(), &["check", profile]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "check: {out}{err}");
    assert!(out.starts_with("compliant: "), "{out}");
    // Tuning again changes nothing.
    let o = outer_dpuctl(&ns, dir.path(), &["tune", profile, "--yes"]);
    assert!(o.status.success());
    assert!(text(&o).0.contains("nothing to change"), "{}", text(&o).0);
    assert_eq!(Store::new(dir.path()).list().expect("list").len(), 1);

    // Drift by hand, with the witness tools.
    ns.ip(&["link", "set", "dev", "a", "mtu", "1400"]);
    ns.exec_ok("ethtool", &["-K", "a", "gro", "off"]);
    let o = outer_dpuctl(&ns, dir.path(), &["check", profile, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("check json");
    let drift = v["drift"].as_array().expect("drift");
    assert_eq!(drift.len(), 2, "{v}");
    assert_eq!(drift[0]["knob"], "feature");
    assert_eq!(drift[0]["name"], "rx-gro");
    assert_eq!(drift[0]["want"], true);
    assert_eq!(drift[0]["have"], false);
    assert_eq!(drift[1]["knob"], "mtu");
    assert_eq!(drift[1]["want"], 9000);
    assert_eq!(drift[1]["have"], 1400);
    let o = outer_dpuctl(&ns, dir.path(), &["check", profile]);
    let out = text(&o).0;
    assert!(
        out.lines()
            .any(|l| l.contains("a mtu") && l.contains("9000") && l.contains("1400")),
        "{out}"
    );

    let o = outer_dpuctl(&ns, dir.path(), &["rollback"]);
    assert!(o.status.success(), "rollback: {}", text(&o).1);
    assert_state_eventually(&before, || outer_snapshot(&ns), "after CLI rollback");
    let o = outer_dpuctl(&ns, dir.path(), &["history"]);
    let out = text(&o).0;
    assert!(out.contains(&tx.id) && out.contains("rolled-back"), "{out}");
}

#[test]
fn the_prompt_on_a_terminal_applies_only_on_yes() {
    let (ns, dir) = setup("prompt");
    let profile = write_profile(dir.path());
    let before = outer_snapshot(&ns);
    for (answer, applied) in [("n", false), ("y", true)] {
        let script = format!(
            "ip netns exec {ns} {DPUCTL} --state-dir {state} tune {profile}; \
             echo \"exit=$?\"; sleep 600",
            ns = ns.name,
            state = dir.path().display(),
            profile = profile.display(),
        );
        let tmux = Tmux::start(&format!("prompt-{answer}"), 150, 50, &script);
        tmux.wait_for("changes? [y/N]");
        assert_eq!(outer_snapshot(&ns), before, "changed before the answer");
        tmux.keys(&[answer, "Enter"]);
        let screen = tmux.wait_for("exit=");
        if applied {
            assert!(screen.contains("exit=0"), "{screen}");
            assert_eq!(mtu_of_a(&ns), "9000");
        } else {
            assert!(
                screen.contains("not confirmed; nothing was changed"),
                "{screen}"
            );
            assert!(screen.contains("exit=2"), "{screen}");
            assert_eq!(outer_snapshot(&ns), before, "changed after answering no");
        }
    }
    let o = outer_dpuctl(&ns, dir.path(), &["rollback"]);
    assert!(o.status.success(), "rollback: {}", text(&o).1);
    assert_state_eventually(&before, || outer_snapshot(&ns), "after rollback");
}

#[test]
fn confirm_timeout_reverts_after_the_terminal_is_killed() {
    let (ns, dir) = setup("confirm");
    let profile = write_profile(dir.path());
    let before = outer_snapshot(&ns);
    // The terminal: a shell in a tmux session runs the tune, then stays (sleep) like a prompt.
    let script = format!(
        "ip netns exec {ns} {DPUCTL} --state-dir {state} tune {profile} --yes \
         --confirm-timeout 3 > {state}/tune.log 2>&1; sleep 600",
        ns = ns.name,
        state = dir.path().display(),
        profile = profile.display(),
    );
    let tmux = Tmux::start("confirm", 80, 24, &script);
    let shell: u32 = tmux.format("#{pane_pid}").parse().expect("pane pid");
    let server = text(&tmux.cmd(&["display-message", "-p", "#{pid}"]))
        .0
        .trim()
        .to_string();
    let tx = wait_journal(dir.path(), "confirm-pending with a watcher", |t| {
        t.state == TxState::ConfirmPending && t.watcher_pid.is_some()
    });
    let watcher = tx.watcher_pid.expect("watcher pid");
    assert_eq!(mtu_of_a(&ns), "9000");

    // Kill the terminal: the tmux server, by pid. The shell in it gets SIGHUP.
    common::run("kill", &["-KILL", &server]);
    let start = Instant::now();
    while process_alive(shell, None) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the shell of the killed terminal still runs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        process_alive(watcher, tx.watcher_start),
        "the watcher died with the terminal"
    );
    let now = Store::new(dir.path()).load(&tx.id).expect("journal");
    assert_eq!(
        now.state,
        TxState::ConfirmPending,
        "reverted before the terminal was gone"
    );
    assert_eq!(mtu_of_a(&ns), "9000");

    // About 3 s later the watcher has reverted, and ended.
    let tx = wait_journal(dir.path(), "expired", |t| t.state == TxState::Expired);
    assert_eq!(mtu_of_a(&ns), "1500", "not reverted");
    let somaxconn = ns.exec_ok("cat", &["/proc/sys/net/core/somaxconn"]);
    assert_ne!(somaxconn.trim(), "1024", "somaxconn not reverted");
    assert_state_eventually(&before, || outer_snapshot(&ns), "after the confirm timeout");
    let start = Instant::now();
    while process_alive(watcher, tx.watcher_start) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the watcher did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = outer_dpuctl(&ns, dir.path(), &["history"]);
    assert!(text(&out).0.contains("expired"), "{}", text(&out).0);
}

#[test]
fn confirm_keeps_the_changes() {
    let (ns, dir) = setup("keep");
    let profile = write_profile(dir.path());
    let profile = profile.to_str().expect("utf-8");
    let before = outer_snapshot(&ns);
    let o = outer_dpuctl(
        &ns,
        dir.path(),
        &["tune", profile, "--yes", "--confirm-timeout", "3"],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "tune: {err}");
    assert!(out.contains("unless `dpuctl confirm` runs"), "{out}");
    let tx = Store::new(dir.path()).list().expect("list").remove(0);
    assert_eq!(tx.state, TxState::ConfirmPending);
    let watcher = tx.watcher_pid.expect("watcher");
    assert!(process_alive(watcher, tx.watcher_start));
    // Another tune is refused while one awaits confirmation.
    let o = outer_dpuctl(&ns, dir.path(), &["tune", profile, "--yes"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("awaits confirmation"), "{}", text(&o).1);

    let o = outer_dpuctl(&ns, dir.path(), &["confirm"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "confirm: {err}");
    assert_eq!(
        out.trim(),
        format!(
            "confirmed transaction {} (profile {profile}): the changes stay",
            tx.id
        )
    );
    // Past the deadline: nothing reverted, and the watcher has left.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(mtu_of_a(&ns), "9000");
    assert_eq!(
        ns.exec_ok("cat", &["/proc/sys/net/core/somaxconn"]).trim(),
        "1024"
    );
    assert!(
        !process_alive(watcher, tx.watcher_start),
        "the watcher still runs"
    );
    assert_eq!(
        Store::new(dir.path()).load(&tx.id).expect("load").state,
        TxState::Confirmed
    );
    let o = outer_dpuctl(&ns, dir.path(), &["confirm"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("no transaction awaits confirmation"));
    let o = outer_dpuctl(&ns, dir.path(), &["rollback"]);
    assert!(o.status.success(), "rollback: {}", text(&o).1);
    assert_state_eventually(
        &before,
        || outer_snapshot(&ns),
        "after rollback of a confirmed transaction",
    );
}

#[test]
fn unprivileged_rollback_is_refused_before_any_write() {
    if inner_run() {
        return;
    }
    let (ns, dir) = setup("priv");
    let before = outer_snapshot(&ns);
    run_inner(&ns, "inner_apply", dir.path(), &[]);
    let tuned = outer_snapshot(&ns);
    assert_ne!(tuned, before);
    let state = dir.path().to_str().expect("utf-8");
    let o = ns.exec(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            DPUCTL,
            "--state-dir",
            state,
            "rollback",
        ],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("needs root or CAP_NET_ADMIN"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(
        outer_snapshot(&ns),
        tuned,
        "an unprivileged rollback changed something"
    );
    let tx = wait_journal(dir.path(), "applied", |t| t.state == TxState::Applied);
    let o = outer_dpuctl(&ns, dir.path(), &["rollback", &tx.id]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_state_eventually(&before, || outer_snapshot(&ns), "after rollback");
}

// ---------------------------------------------------------------------------------------------
// Inner side: runs inside the namespace, started by the outer tests.

/// Fails unless this process was started inside a namespace by its outer test.
fn inside() -> PathBuf {
    let ns = std::env::var(NS_ENV).unwrap_or_default();
    assert!(
        !ns.is_empty(),
        "this check only runs inside the network namespace its outer test creates; \
         run `cargo nextest run --test netns_tune` instead"
    );
    PathBuf::from(std::env::var(STATE_ENV).expect("state dir"))
}

fn cpus(list: &str) -> Value {
    Value::Cpus(CpuSet::parse_list(list).expect("cpu list"))
}

/// The highest online CPU.
fn last_cpu() -> u32 {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").expect("online");
    CpuSet::parse_list(&online)
        .expect("online list")
        .iter()
        .last()
        .expect("a CPU")
}

fn s(knob: Knob, value: Value) -> Setting {
    Setting::new(knob, value)
}

fn a() -> String {
    "a".to_string()
}

/// Every kind of knob a veth pair has, each different from its default.
fn settings() -> Vec<Setting> {
    let last = last_cpu();
    vec![
        s(
            Knob::Sysctl {
                name: "net.ipv4.tcp_rmem".into(),
            },
            Value::Text("4096 131072 6291456".into()),
        ),
        s(
            Knob::Sysctl {
                name: "net.core.somaxconn".into(),
            },
            Value::Num(1024),
        ),
        s(
            Knob::Channel {
                iface: a(),
                field: "rx".into(),
            },
            Value::Num(2),
        ),
        s(
            Knob::Channel {
                iface: a(),
                field: "tx".into(),
            },
            Value::Num(2),
        ),
        s(
            Knob::Rps {
                iface: a(),
                queue: 0,
            },
            cpus(&last.to_string()),
        ),
        s(
            Knob::Rps {
                iface: a(),
                queue: 1,
            },
            cpus(&format!("0,{last}")),
        ),
        s(
            Knob::RpsFlowCnt {
                iface: a(),
                queue: 0,
            },
            Value::Num(1024),
        ),
        s(
            Knob::Xps {
                iface: a(),
                queue: 0,
            },
            cpus("0"),
        ),
        s(
            Knob::Xps {
                iface: a(),
                queue: 1,
            },
            cpus(&last.to_string()),
        ),
        s(Knob::Mtu { iface: a() }, Value::Num(9000)),
        s(Knob::TxQueueLen { iface: a() }, Value::Num(5000)),
        s(
            Knob::Feature {
                iface: a(),
                name: "rx-gro".into(),
            },
            Value::Bool(true),
        ),
        // The root qdisc (veth's default is noqueue): put back by deleting the root.
        s(
            Knob::Qdisc { iface: a() },
            Value::Text("pfifo limit 50".into()),
        ),
    ]
}

fn live() -> SysRoot {
    SysRoot::live()
}

/// The namespace's state through the library, normalized.
fn snapshot() -> serde_json::Value {
    let st = collect::collect(&live(), &[]).expect("collect");
    normalize(serde_json::to_value(st).expect("json"))
}

/// What `dpuctl tune` plans: the node read, unknown sysctls added, diffed.
fn plan_now(settings: &[Setting]) -> Plan {
    let mut st = collect::collect(&live(), &[]).expect("collect");
    tune::augment_sysctls(&live(), &mut st, settings);
    tune::plan(settings, &st)
}

fn check_now(settings: &[Setting]) -> tune::CheckReport {
    let mut st = collect::collect(&live(), &[]).expect("collect");
    tune::augment_sysctls(&live(), &mut st, settings);
    tune::check(settings, &st)
}

/// Runs a witness tool, failing the test if it fails.
fn witness(cmd: &str, args: &[&str]) -> String {
    common::run(cmd, args)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_string()
}

/// `ethtool -l a`: current rx and tx channel counts.
fn channels_of_a() -> (String, String) {
    let out = witness("ethtool", &["-l", "a"]);
    let cur = out
        .split("Current hardware settings:")
        .nth(1)
        .expect("current settings");
    let field = |name: &str| {
        cur.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    (field("RX:"), field("TX:"))
}

fn dpuctl(state: &Path, args: &[&str]) -> Output {
    Command::new(DPUCTL)
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .output()
        .expect("run dpuctl")
}

fn inner_tune_check_drift_rollback() {
    let state = inside();
    let before = snapshot();
    let settings = settings();
    let plan = plan_now(&settings);
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
    assert!(plan.invalid.is_empty(), "{:?}", plan.invalid);
    assert_eq!(plan.steps.len(), settings.len(), "{}", plan.render());
    let rendered = plan.render();
    assert!(
        rendered.contains("a mtu 1500 -> 9000  (resets link)"),
        "{rendered}"
    );
    assert!(
        rendered.contains("a channels rx 4 -> 2  (lowers, resets link)"),
        "{rendered}"
    );

    let mut writer = Writer::new(live());
    let tx = {
        let session = Session::begin(&state).expect("lock");
        session
            .run_transaction(&mut writer, "netns-test", &plan, None)
            .expect("apply")
    };
    assert_eq!(tx.state, TxState::Applied);
    assert_eq!(tx.applied, settings.len());

    // The witnesses see every setting.
    let last = last_cpu();
    let link = witness("ip", &["-o", "link", "show", "dev", "a"]);
    assert!(link.contains("mtu 9000"), "{link}");
    assert!(link.contains("qlen 5000"), "{link}");
    assert_eq!(channels_of_a(), ("2".to_string(), "2".to_string()));
    let features = witness("ethtool", &["-k", "a"]);
    assert!(
        features.contains("generic-receive-offload: on"),
        "{features}"
    );
    assert_eq!(
        read("/proc/sys/net/ipv4/tcp_rmem")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["4096", "131072", "6291456"]
    );
    assert_eq!(read("/proc/sys/net/core/somaxconn"), "1024");
    let qdisc = witness("tc", &["qdisc", "show", "dev", "a"]);
    assert!(
        qdisc.contains("qdisc pfifo 8") && qdisc.contains("root") && qdisc.contains("limit 50p"),
        "{qdisc}"
    );
    let mask = |cpus: &[u32]| cpus.iter().fold(0u64, |m, c| m | (1 << c));
    let hex = |p: &str| u64::from_str_radix(&read(p).replace(',', ""), 16).expect("hex mask");
    let queues = "/sys/class/net/a/queues";
    assert_eq!(hex(&format!("{queues}/rx-0/rps_cpus")), mask(&[last]));
    assert_eq!(hex(&format!("{queues}/rx-1/rps_cpus")), mask(&[0, last]));
    assert_eq!(read(&format!("{queues}/rx-0/rps_flow_cnt")), "1024");
    assert_eq!(hex(&format!("{queues}/tx-0/xps_cpus")), mask(&[0]));
    assert_eq!(hex(&format!("{queues}/tx-1/xps_cpus")), mask(&[last]));
    assert!(
        !Path::new(&format!("{queues}/rx-2")).exists(),
        "rx channels not reduced"
    );

    // check: compliant.
    let report = check_now(&settings);
    assert!(report.compliant, "{}", report.render());
    assert_eq!(report.exit_code(), 0);
    // Changed by hand: drift names that setting with want and have.
    witness("ip", &["link", "set", "dev", "a", "mtu", "1400"]);
    let report = check_now(&settings);
    assert_eq!(report.exit_code(), 1, "{}", report.render());
    assert_eq!(report.drift.len(), 1, "{}", report.render());
    assert_eq!(report.drift[0].knob, Knob::Mtu { iface: a() });
    assert_eq!(report.drift[0].want, Value::Num(9000));
    assert_eq!(report.drift[0].have, Value::Num(1400));
    assert!(report
        .render()
        .lines()
        .any(|l| l.contains("a mtu") && l.contains("9000") && l.contains("1400")));
    // And through sysfs.
    std::fs::write(format!("{queues}/rx-0/rps_flow_cnt"), "0\n").expect("echo > sysfs");
    let report = check_now(&settings);
    assert_eq!(report.drift.len(), 2, "{}", report.render());
    assert!(report.drift.iter().any(|d| d.knob
        == Knob::RpsFlowCnt {
            iface: a(),
            queue: 0
        }
        && d.have == Value::Num(0)));
    // Someone replaces the root qdisc: drift, with the qdisc the node has now.
    witness(
        "tc",
        &[
            "qdisc", "replace", "dev", "a", "root", "handle", "9:", "bfifo", "limit", "7000",
        ],
    );
    let report = check_now(&settings);
    assert_eq!(report.drift.len(), 3, "{}", report.render());
    assert!(report
        .drift
        .iter()
        .any(|d| d.knob == Knob::Qdisc { iface: a() }
            && d.have == Value::Text("bfifo 9: limit 7000".into())));

    // rollback through the binary restores everything, the hand-changed values included.
    let output = dpuctl(&state, &["rollback"]);
    let (out, err) = text(&output);
    assert!(output.status.success(), "rollback: {err}");
    assert_eq!(
        out.trim(),
        format!(
            "rolled back transaction {} (profile netns-test): {} settings restored",
            tx.id,
            settings.len()
        )
    );
    assert_state_eventually(&before, snapshot, "after rollback");
    assert_eq!(channels_of_a(), ("4".to_string(), "4".to_string()));
    assert!(!check_now(&settings).compliant);

    let output = dpuctl(&state, &["history", "--format", "json"]);
    let h: serde_json::Value = serde_json::from_slice(&output.stdout).expect("history json");
    let h0 = &h["transactions"][0];
    assert_eq!(h0["id"], tx.id.as_str());
    assert_eq!(h0["state"], "rolled-back");
    assert_eq!(h0["steps"].as_array().map(Vec::len), Some(settings.len()));
    assert_eq!(h["unreadable"], serde_json::json!([]));
}

/// The plan of `settings()` with an invalid step of a different kind inserted at `k`.
fn plan_failing_at(k: usize) -> Plan {
    let mut plan = plan_now(&settings());
    let st = collect::collect(&live(), &[]).expect("collect");
    let (knob, bad) = match k % 3 {
        // ethtool: above the maximum of 4.
        0 => (
            Knob::Channel {
                iface: "b".into(),
                field: "rx".into(),
            },
            Value::Num(9),
        ),
        // rtnetlink: above the largest MTU of veth.
        1 => (Knob::Mtu { iface: "b".into() }, Value::Num(1_000_000)),
        // procfs: not a number.
        _ => (
            Knob::Sysctl {
                name: "net.ipv4.tcp_wmem".into(),
            },
            Value::Text("lots".into()),
        ),
    };
    let mut st = st;
    tune::augment_sysctls(&live(), &mut st, &[s(knob.clone(), bad.clone())]);
    let old = tune::current_value(&st, &knob).expect("current");
    plan.steps.insert(
        k,
        Step {
            resets_link: knob.resets_link(),
            knob,
            old,
            new: bad,
        },
    );
    plan
}

fn inner_failure_at_every_step() {
    let state = inside();
    let before = snapshot();
    let n = settings().len();
    for k in 0..=n {
        let plan = plan_failing_at(k);
        let mut w = Writer::new(live());
        let session = Session::begin(&state).expect("lock");
        let e = session
            .run_transaction(&mut w, "broken", &plan, None)
            .expect_err("an invalid step");
        let ae = e
            .downcast_ref::<ApplyError>()
            .unwrap_or_else(|| panic!("step {k}: not an apply error: {e:#}"));
        assert_eq!(ae.index, k, "{ae}");
        assert!(ae.unrestored.is_empty(), "{ae}");
        assert!(
            ae.to_string()
                .contains(&format!("step {} of {}", k + 1, n + 1)),
            "{ae}"
        );
        assert!(
            ae.to_string().ends_with("the node is back where it was")
                || (k == 0 && ae.to_string().ends_with("the node is as it was")),
            "{ae}"
        );
        drop(session);
        assert_state_eventually(&before, snapshot, &format!("failure at step {k}"));
        let tx = Store::new(&state).list().expect("list").remove(0);
        assert_eq!(tx.state, TxState::Failed);
        assert_eq!(tx.applied, 0);
    }
}

/// The real writer, slowed down so that a test can act in the middle of a transaction.
struct Slow {
    inner: Writer,
    delay: Duration,
}

impl Applier for Slow {
    fn apply(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        std::thread::sleep(self.delay);
        self.inner.apply(knob, value)
    }

    fn preflight(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        self.inner.preflight(knob, value)
    }

    fn read(&mut self, knobs: &[Knob]) -> Vec<Result<Value, String>> {
        self.inner.read(knobs)
    }

    fn derived(&mut self, steps: &[Step]) -> Result<Vec<tune::journal::Derived>, WriteError> {
        Applier::derived(&mut self.inner, steps)
    }

    fn restore(&mut self, d: &tune::journal::Derived) -> Result<(), WriteError> {
        Applier::restore(&mut self.inner, d)
    }
}

/// How [`Faulty`] breaks its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The write fails.
    Fail,
    /// The write succeeds and changes nothing, as a driver that ignores a value.
    Silent,
}

/// The real writer with one (knob, value) write broken.
struct Faulty {
    inner: Writer,
    at: (Knob, Value),
    fault: Fault,
}

impl Applier for Faulty {
    fn apply(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        if (knob, value) == (&self.at.0, &self.at.1) {
            return match self.fault {
                Fault::Fail => Err(WriteError::Failed {
                    object: knob.to_string(),
                    value: value.to_string(),
                    reason: "injected failure".into(),
                }),
                Fault::Silent => Ok(()),
            };
        }
        self.inner.apply(knob, value)
    }

    fn preflight(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        self.inner.preflight(knob, value)
    }

    fn read(&mut self, knobs: &[Knob]) -> Vec<Result<Value, String>> {
        self.inner.read(knobs)
    }

    fn derived(&mut self, steps: &[Step]) -> Result<Vec<tune::journal::Derived>, WriteError> {
        Applier::derived(&mut self.inner, steps)
    }

    fn restore(&mut self, d: &tune::journal::Derived) -> Result<(), WriteError> {
        Applier::restore(&mut self.inner, d)
    }
}

/// Every knob kind of a veth, plus two offloads where one depends on the other (TSO needs
/// checksumming): turning checksumming off turns TSO off as a side effect and leaves its
/// *wanted* bit as it was.
fn fault_settings() -> Vec<Setting> {
    let mut v = settings();
    v.push(s(
        Knob::Feature {
            iface: a(),
            name: "tx-tcp-segmentation".into(),
        },
        Value::Bool(true),
    ));
    v.push(s(
        Knob::Feature {
            iface: a(),
            name: "tx-checksum-ip-generic".into(),
        },
        Value::Bool(false),
    ));
    v
}

/// `ethtool -k a` and `-k b`: the offload table with its `[requested on]` marks.
fn witness_features() -> String {
    format!(
        "{}{}",
        witness("ethtool", &["-k", "a"]),
        witness("ethtool", &["-k", "b"])
    )
}

fn inner_fault_injection() {
    let state = inside();
    // TSO off to start with, so that the profile turns it on.
    witness("ethtool", &["-K", "a", "tso", "off"]);
    let before = snapshot();
    let before_k = witness_features();
    let plan = plan_now(&fault_settings());
    let n = plan.steps.len();
    assert!(n >= 12, "too few steps to test: {n}");
    for fault in [Fault::Fail, Fault::Silent] {
        for k in 0..n {
            let what = format!("{fault:?} at step {k} ({})", plan.steps[k].knob);
            let mut w = Faulty {
                inner: Writer::new(live()),
                at: (plan.steps[k].knob.clone(), plan.steps[k].new.clone()),
                fault,
            };
            let session = Session::begin(&state).expect("lock");
            let e = session
                .run_transaction(&mut w, "faulty", &plan, None)
                .expect_err(&what);
            let ae = e
                .downcast_ref::<ApplyError>()
                .unwrap_or_else(|| panic!("{what}: not an apply error: {e:#}"));
            assert!(ae.unrestored.is_empty(), "{what}: {ae}");
            if fault == Fault::Silent {
                assert!(ae.cause.contains("did not hold"), "{what}: {ae}");
            }
            drop(session);
            assert_state_eventually(&before, snapshot, &what);
            assert_eq!(witness_features(), before_k, "{what}: ethtool -k differs");
            let tx = Store::new(&state).list().expect("list").remove(0);
            assert_eq!(tx.state, TxState::Failed, "{what}");
            assert_eq!(tx.applied, 0, "{what}");
        }
    }
    // The whole plan without a fault fails too: TSO cannot hold with checksumming off, and
    // the node is left as it was, wanted bits included.
    let mut w = Writer::new(live());
    let session = Session::begin(&state).expect("lock");
    let e = session
        .run_transaction(&mut w, "dependent", &plan, None)
        .expect_err("tso cannot hold without checksumming");
    assert!(format!("{e:#}").contains("tx-tcp-segmentation"), "{e:#}");
    drop(session);
    assert_state_eventually(&before, snapshot, "no fault");
    assert_eq!(witness_features(), before_k, "no fault: ethtool -k differs");
}

fn inner_slow_apply() {
    let state = inside();
    let ms: u64 = std::env::var(DELAY_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let plan = plan_now(&settings());
    let mut w = Slow {
        inner: Writer::new(live()),
        delay: Duration::from_millis(ms),
    };
    let session = Session::begin(&state).expect("lock");
    let tx = session
        .run_transaction(&mut w, "slow", &plan, None)
        .expect("apply");
    assert_eq!(tx.state, TxState::Applied);
}

fn inner_second_tune() {
    let state = inside();
    let holder = std::env::var(HOLDER_ENV).expect("holder pid");
    let start = Instant::now();
    let e = Session::begin(&state).expect_err("the first tune holds the lock");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "waited for the lock"
    );
    assert_eq!(
        e.to_string(),
        format!("another dpuctl tune is running (pid {holder})")
    );
}

fn inner_apply() {
    let state = inside();
    let plan = plan_now(&settings());
    let mut w = Writer::new(live());
    let session = Session::begin(&state).expect("lock");
    let tx = session
        .run_transaction(&mut w, "priv", &plan, None)
        .expect("apply");
    assert_eq!(tx.state, TxState::Applied);
}

// ---------------------------------------------------------------------------------------------
// Rollback order, automation output, the confirm-timeout watchers, the state directory.

/// A one-interface profile file `NAME.yaml` in `dir` with `body` under the block of `a`.
fn small_profile(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!(
            "name: {name}\ndescription: dpuctl netns test\ninterfaces:\n  - match: {{name: a}}\n    {body}\n"
        ),
    )
    .expect("write profile");
    path.to_str().expect("utf-8").to_string()
}

fn txqueuelen_of_a(ns: &Netns) -> String {
    ns.exec_ok("cat", &["/sys/class/net/a/tx_queue_len"])
        .trim()
        .to_string()
}

fn tune_yes(ns: &Netns, state: &Path, profile: &str) -> tune::Transaction {
    let o = outer_dpuctl(ns, state, &["tune", profile, "--yes"]);
    assert!(o.status.success(), "tune {profile}: {}", text(&o).1);
    Store::new(state).list().expect("list").remove(0)
}

#[test]
fn rollback_out_of_order_is_refused_and_cascade_goes_newest_first() {
    let (ns, dir) = setup("order");
    let state = dir.path().join("state");
    let pa = small_profile(dir.path(), "qa", "txqueuelen: 5000");
    let pb = small_profile(dir.path(), "qb", "txqueuelen: 3000");
    let other = small_profile(dir.path(), "qc", "mtu: 4000");
    assert_eq!(txqueuelen_of_a(&ns), "1000");
    let ta = tune_yes(&ns, &state, &pa);
    let tb = tune_yes(&ns, &state, &pb);
    // A newer transaction on another setting does not block a rollback of `qa`'s.
    let tc = tune_yes(&ns, &state, &other);
    assert_eq!(txqueuelen_of_a(&ns), "3000");

    // qa under qb: refused, naming qb, nothing changed.
    let o = outer_dpuctl(&ns, &state, &["rollback", &ta.id]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains(&tb.id) && err.contains("--cascade"), "{err}");
    assert!(!err.contains(&tc.id), "{err}");
    assert_eq!(txqueuelen_of_a(&ns), "3000");
    let states: Vec<TxState> = Store::new(&state)
        .list()
        .expect("list")
        .iter()
        .map(|t| t.state)
        .collect();
    assert_eq!(states, [TxState::Applied; 3], "history changed");

    // --cascade: qb first, then qa; the node is back at its own value, qc stays.
    let o = outer_dpuctl(&ns, &state, &["rollback", &ta.id, "--cascade"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains(&tb.id) && lines[1].contains(&ta.id),
        "{out}"
    );
    assert_eq!(txqueuelen_of_a(&ns), "1000");
    assert_eq!(
        ns.exec_ok("cat", &["/sys/class/net/a/mtu"]).trim(),
        "4000",
        "an unrelated transaction was rolled back"
    );
    let store = Store::new(&state);
    for (id, want) in [
        (&ta.id, TxState::RolledBack),
        (&tb.id, TxState::RolledBack),
        (&tc.id, TxState::Applied),
    ] {
        assert_eq!(store.load(id).expect("load").state, want, "{id}");
    }

    // Newest first by plain rollbacks: the original value, and then nothing left is not an
    // error (an idempotent pipeline step).
    let o = outer_dpuctl(&ns, &state, &["rollback"]);
    assert!(o.status.success(), "{}", text(&o).1);
    let ta = tune_yes(&ns, &state, &pa);
    let tb = tune_yes(&ns, &state, &pb);
    for want in [&tb.id, &ta.id] {
        let o = outer_dpuctl(&ns, &state, &["rollback"]);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{err}");
        assert!(
            out.starts_with(&format!("rolled back transaction {want}")),
            "{out}"
        );
    }
    assert_eq!(txqueuelen_of_a(&ns), "1000");
    assert_eq!(ns.exec_ok("cat", &["/sys/class/net/a/mtu"]).trim(), "1500");
    let o = outer_dpuctl(&ns, &state, &["rollback"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.starts_with("no transaction to roll back"), "{out}");
    let o = outer_dpuctl(&ns, &state, &["rollback", &ta.id]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        out.contains("is rolled-back: nothing to roll back"),
        "{out}"
    );
}

#[test]
fn tune_json_reports_the_transaction_and_whether_anything_changed() {
    let (ns, dir) = setup("json");
    let state = dir.path().join("state");
    let p = small_profile(dir.path(), "qj", "txqueuelen: 4321");
    let run = |args: &[&str]| -> (Option<i32>, serde_json::Value) {
        let mut a = vec!["tune", p.as_str(), "--format", "json"];
        a.extend_from_slice(args);
        let o = outer_dpuctl(&ns, &state, &a);
        let (out, err) = text(&o);
        let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
        (o.status.code(), v)
    };
    let (code, v) = run(&["--dry-run"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["changed"], false);
    assert_eq!(v["dry_run"], true);
    assert!(v["transaction"].is_null());
    assert_eq!(v["steps"][0]["old"], 1000);
    assert_eq!(v["steps"][0]["new"], 4321);

    let (code, v) = run(&["--yes"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["changed"], true, "{v}");
    assert_eq!(v["transaction"]["state"], "applied", "{v}");
    let id = v["transaction"]["id"].as_str().expect("id").to_string();
    assert_eq!(Store::new(&state).list().expect("list")[0].id, id);
    assert_eq!(v["steps"][0]["knob"], "tx_queue_len");
    assert_eq!(v["steps"][0]["iface"], "a");

    // Again: nothing to change, the same exit code, `changed` false (Ansible's changed_when).
    let (code, v) = run(&["--yes"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["changed"], false, "{v}");
    assert!(v["transaction"].is_null());
    assert_eq!(v["steps"].as_array().map(Vec::len), Some(0));
    assert_eq!(Store::new(&state).list().expect("list").len(), 1);
}

/// Pids of the watchers the journal records for `tx`.
fn watcher_pids(tx: &tune::Transaction) -> Vec<u32> {
    tx.watcher_pid.into_iter().chain(tx.guard_pid).collect()
}

#[test]
fn a_watcher_killed_with_sigkill_still_reverts_on_time() {
    let (ns, dir) = setup("guard");
    let state = dir.path().join("state");
    let p = small_profile(dir.path(), "qw", "txqueuelen: 2222");
    let o = outer_dpuctl(
        &ns,
        &state,
        &["tune", &p, "--yes", "--confirm-timeout", "4s"],
    );
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(txqueuelen_of_a(&ns), "2222");
    let tx = wait_journal(&state, "both watchers recorded", |t| {
        t.watcher_pid.is_some() && t.guard_pid.is_some()
    });
    let first = watcher_pids(&tx);
    assert_eq!(first.len(), 2);
    // SIGKILL to the first watcher, and SIGTERM to the second: a termination signal does
    // not stop a watcher, and the survivor restarts the one killed.
    common::run("kill", &["-KILL", &first[0].to_string()]);
    common::run("kill", &["-TERM", &first[1].to_string()]);
    let replaced = wait_journal(&state, "a new first watcher", |t| {
        t.watcher_pid.is_some_and(|p| p != first[0])
    });
    assert!(process_alive(first[1], None), "SIGTERM stopped a watcher");
    let deadline = replaced.deadline_ms.expect("deadline");
    // Then the replacement dies too: the second one still reverts on time.
    common::run(
        "kill",
        &["-KILL", &replaced.watcher_pid.expect("pid").to_string()],
    );
    let start = Instant::now();
    while txqueuelen_of_a(&ns) != "1000" {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not reverted 16 s after the deadline"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let reverted_ms = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms");
    assert!(
        reverted_ms + 500 >= deadline,
        "reverted before the deadline"
    );
    let tx = wait_journal(&state, "expired", |t| t.state == TxState::Expired);
    let (out, _) = text(&outer_dpuctl(&ns, &state, &["history"]));
    assert!(out.contains(&tx.id) && out.contains("expired"), "{out}");
    // Every watcher is gone once it is over.
    let start = Instant::now();
    while watcher_pids(&Store::new(&state).load(&tx.id).expect("load"))
        .iter()
        .chain(&first)
        .any(|p| process_alive(*p, None))
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "a watcher lingers"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
