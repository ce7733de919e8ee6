//! Interactive `dpuctl troubleshoot` on a real terminal (tmux), on the recorded two-socket
//! fixture tree: answers are single keys, without Enter, and the terminal is back in its
//! normal mode (`stty` reports `icanon echo`) after quitting and after a signal that arrives
//! while it waits for a key.
//!
//! Needs `tmux`; without it the tests fail saying so.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::tmux::Tmux;

const DPUCTL: &str = env!("CARGO_BIN_EXE_dpuctl");

fn require_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        ok,
        "the troubleshoot_tmux tests need `tmux` on PATH (Debian package tmux)"
    );
}

/// The pane's command: troubleshoot on the fixture, then its exit code and the terminal mode,
/// then a pause so that the pane stays to be read.
fn script() -> String {
    require_tmux();
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two-socket");
    format!(
        "DPUCTL_SYSFS={sys} DPUCTL_PROCFS={proc} {DPUCTL} troubleshoot; echo \"exit=$?\"; \
         stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; \
         echo; echo done; sleep 600",
        sys = f.join("sys").display(),
        proc = f.join("proc").display()
    )
}

fn assert_restored(t: &Tmux, code: i32) -> String {
    let s = t.wait_for("done");
    assert!(
        s.contains(&format!("exit={code}")),
        "exit code {code} expected:\n{s}"
    );
    assert!(
        s.contains("icanon echo") && !s.contains("-icanon") && !s.contains("-echo"),
        "the terminal is left in raw mode:\n{s}"
    );
    s
}

#[test]
fn single_keys_walk_the_tree_without_enter() {
    let t = Tmux::start("ts-keys", 100, 50, &script());
    t.history_limit(2000);
    t.wait_for("[q] quit:");
    // "n": throughput, one key, no Enter.
    t.keys(&["n"]);
    t.wait_history("== step 1/5: check throughput ==", 1);
    t.wait_for("[d] deeper (verify link bandwidth)");
    t.keys(&["d"]);
    t.wait_history("== step 2/5: verify link bandwidth ==", 1);
    // Back, then the first step again.
    t.keys(&["b"]);
    t.wait_history("== step 1/5: check throughput ==", 2);
    t.keys(&["q"]);
    let s = assert_restored(&t, 1);
    let h = t.history();
    assert!(
        h.contains("[q] quit: n"),
        "the key is echoed after its prompt:\n{h}"
    );
    assert!(
        !h.contains("please answer"),
        "every key was taken as typed:\n{h}\n{s}"
    );
}

/// The pid of the dpuctl process in the pane (the child of the pane's shell).
fn dpuctl_pid(t: &Tmux) -> u32 {
    let shell: u32 = t.format("#{pane_pid}").parse().expect("pane pid");
    let start = Instant::now();
    loop {
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_default();
        for pid in children.split_whitespace() {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "dpuctl" {
                return pid.parse().expect("pid");
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no dpuctl under the shell"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_signal_while_waiting_for_a_key_restores_the_terminal() {
    for (sig, num) in [("TERM", 15), ("HUP", 1), ("INT", 2)] {
        let t = Tmux::start(&format!("ts-sig{sig}"), 100, 50, &script());
        t.wait_for("[q] quit:");
        let pid = dpuctl_pid(&t);
        common::run("kill", &[&format!("-{sig}"), &pid.to_string()]);
        assert_restored(&t, 128 + num);
    }
}

#[test]
fn ctrl_c_on_the_question_quits_and_restores_the_terminal() {
    let t = Tmux::start("ts-ctrlc", 100, 50, &script());
    t.wait_for("[q] quit:");
    t.keys(&["C-c"]);
    let s = assert_restored(&t, 0);
    assert!(s.contains("nothing checked."), "{s}");
}

/// The pane's command for a walk on this node (read-only) with a long counter window.
fn script_live() -> String {
    require_tmux();
    format!(
        "{DPUCTL} troubleshoot --window 60s; echo \"exit=$?\"; \
         stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; \
         echo; echo done; sleep 600"
    )
}

#[test]
fn a_signal_after_the_first_answer_still_ends_the_walk_and_restores_the_terminal() {
    // Before, the signals were caught only around each key wait and left caught with no
    // action afterwards: while the counters were measured after the first answer, SIGTERM
    // and SIGHUP did nothing.
    for (sig, num) in [("TERM", 15), ("HUP", 1)] {
        let t = Tmux::start(&format!("ts-late{sig}"), 100, 50, &script_live());
        t.wait_for("[q] quit:");
        t.keys(&["n"]);
        t.wait_for("measuring counters");
        let pid = dpuctl_pid(&t);
        common::run("kill", &[&format!("-{sig}"), &pid.to_string()]);
        assert_restored(&t, 128 + num);
    }
}

/// Whether the process is gone (or a zombie waiting for its parent).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

#[test]
fn a_terminal_that_goes_away_ends_the_walk_instead_of_spinning() {
    // Before, the key reader retried a read that answered 0 bytes without end once the
    // terminal was gone: the process stayed, at a share of a core, until SIGKILL.
    for answered in [false, true] {
        let t = Tmux::start(&format!("ts-gone{answered}"), 100, 50, &script());
        t.wait_for("[q] quit:");
        if answered {
            t.keys(&["n"]);
            t.wait_for("[d] deeper (verify link bandwidth)");
        }
        let pid = dpuctl_pid(&t);
        let _ = t.cmd(&["kill-server"]);
        let start = Instant::now();
        while !ended(pid) && start.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let left = !ended(pid);
        if left {
            // This test started it: end it so that it does not outlive the test.
            common::run("kill", &["-KILL", &pid.to_string()]);
        }
        assert!(
            !left,
            "dpuctl troubleshoot (answered: {answered}) still ran 15 s after its terminal went away"
        );
    }
}
