//! `dpuctl watch` on a real terminal: tmux runs it inside a network namespace the test
//! creates (veth pairs `wa`/`wb` and `xa`/`xb`), the test types keys with `send-keys` and reads
//! the screen with `capture-pane`. After quitting, and after SIGTERM, SIGINT and SIGHUP sent
//! to the watch process, the terminal must be back to normal: the alternate screen left
//! (`#{alternate_on}` 0, the screen no longer shows the interface table), the cursor shown
//! and the line discipline cooked again (`stty` in the same terminal reports `icanon`).
//!
//! Needs root, `ip` (iproute2) and `tmux`; without them the tests fail saying so.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::Netns;

const DPUCTL: &str = env!("CARGO_BIN_EXE_dpuctl");

fn require_tools() {
    for (tool, arg, pkg) in [("ip", "-V", "iproute2"), ("tmux", "-V", "tmux")] {
        let ok = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        assert!(
            ok,
            "the watch_tmux tests need `{tool}` on PATH (Debian package {pkg})"
        );
    }
}

/// The namespace with two veth pairs.
fn setup(tag: &str) -> Netns {
    common::require_root();
    require_tools();
    let ns = Netns::new(tag);
    ns.veth("wa", "wb", 2);
    ns.veth("xa", "xb", 2);
    ns
}

/// The shell command of the pane: watch, then its exit code and the terminal mode, then a
/// shell-like pause so that the pane stays to be read.
fn script(ns: &Netns, args: &str) -> String {
    format!(
        "ip netns exec {ns} {DPUCTL} watch {args}; echo \"exit=$?\"; \
         stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; \
         echo; echo done; sleep 600",
        ns = ns.name
    )
}

/// Checks that the terminal is back to normal after watch ended with `code`.
fn assert_restored(t: &Tmux, code: i32) {
    let s = t.wait_for("done");
    assert!(
        s.contains(&format!("exit={code}")),
        "exit code {code} expected:\n{s}"
    );
    assert_eq!(
        t.format("#{alternate_on}"),
        "0",
        "still on the alternate screen:\n{s}"
    );
    assert_eq!(t.format("#{cursor_flag}"), "1", "the cursor stays hidden");
    assert!(
        s.contains("icanon echo") && !s.contains("-icanon") && !s.contains("-echo"),
        "the terminal is left in raw mode:\n{s}"
    );
    assert!(
        !s.contains("interfaces ("),
        "the screen of watch is still there:\n{s}"
    );
}

#[test]
fn keys_drive_the_screen_and_quit_restores_the_terminal() {
    let ns = setup("keys");
    let t = Tmux::start("keys", 80, 24, &script(&ns, "--line-rate 1G"));
    let s = t.wait_for("interfaces (4)");
    assert_eq!(
        t.format("#{alternate_on}"),
        "1",
        "watch draws on the alternate screen"
    );
    for name in ["wa", "wb", "xa", "xb"] {
        assert!(
            s.lines().any(|l| l.starts_with(&format!("│{name} "))),
            "{name} missing:\n{s}"
        );
    }
    assert!(!s.contains("│lo "), "lo is left out by default:\n{s}");
    assert!(
        s.contains("q quit") && s.contains("? help"),
        "no key footer:\n{s}"
    );

    // Help, and Esc closes it.
    t.keys(&["?"]);
    t.wait_for("reset rates, bursts and alerts");
    t.keys(&["Escape"]);
    t.wait("the help closed", |s| {
        !s.contains("reset rates, bursts and alerts")
    });

    // Sort: the header names the column, and by name wa..xb are in order.
    t.keys(&["s"]);
    let s = t.wait_for("sort:name");
    let order = |s: &str| -> Vec<String> {
        s.lines()
            .filter_map(|l| l.strip_prefix('│'))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| ["wa", "wb", "xa", "xb"].contains(n))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(order(&s), ["wa", "wb", "xa", "xb"], "{s}");
    // S reverses the order; S again restores it.
    t.keys(&["S"]);
    let s = t.wait_for("sort:name reversed");
    assert_eq!(order(&s), ["xb", "xa", "wb", "wa"], "{s}");
    t.keys(&["S"]);
    t.wait("the order restored", |s| {
        s.contains("sort:name") && !s.contains("reversed")
    });

    // Filter: only the x pair stays.
    t.keys(&["/", "x"]);
    t.wait_for("filter: x_");
    t.keys(&["Enter"]);
    let s = t.wait_for("interfaces (2 of 4");
    assert!(!s.lines().any(|l| l.starts_with("│wa ")), "{s}");

    // Zoom into the selected (first listed) interface, and back.
    t.keys(&["Enter"]);
    let s = t.wait_for("xa queues");
    assert!(s.contains("Esc back"), "{s}");
    t.keys(&["j"]);
    t.wait_for("xb queues");
    t.keys(&["Escape"]);
    t.wait_for("interfaces (2 of 4");

    // Pause shows in the header.
    t.keys(&["Space"]);
    t.wait_for("PAUSED");
    t.keys(&["q"]);
    assert_restored(&t, 0);
}

/// The pid of the `dpuctl watch` process in the pane (the child of the pane's shell).
fn watch_pid(t: &Tmux) -> u32 {
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
fn signals_to_the_watch_process_restore_the_terminal() {
    let ns = setup("sig");
    for (sig, num) in [("TERM", 15), ("INT", 2), ("HUP", 1)] {
        let t = Tmux::start(&format!("sig{sig}"), 100, 30, &script(&ns, ""));
        t.wait_for("interfaces (4)");
        let pid = watch_pid(&t);
        common::run("kill", &[&format!("-{sig}"), &pid.to_string()]);
        assert_restored(&t, 128 + num);
    }
}

/// Set in the re-run of the panic test that runs on the tmux terminal.
const PANIC_ENV: &str = "DPUCTL_TEST_PANIC_ON_SCREEN";

#[test]
fn a_panic_restores_the_terminal_before_its_message() {
    if std::env::var_os(PANIC_ENV).is_some() {
        // On the tmux terminal: open the screen, draw, then panic like a bug in a widget.
        let mut g = dpuctl::tui::term::Guard::enter().expect("screen");
        g.terminal()
            .draw(|f| f.render_widget(ratatui::widgets::Paragraph::new("interfaces (x)"), f.area()))
            .expect("draw");
        std::thread::sleep(Duration::from_millis(300));
        panic!("a widget bug");
    }
    require_tools();
    let exe = std::env::current_exe().expect("test binary");
    let test = std::thread::current()
        .name()
        .expect("test name")
        .to_string();
    let script = format!(
        "RUST_BACKTRACE=0 {PANIC_ENV}=1 {exe} --exact {test} --nocapture --test-threads=1; \
         echo \"exit=$?\"; \
         stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; \
         echo; echo done; sleep 600",
        exe = exe.display()
    );
    let t = Tmux::start("panic", 80, 24, &script);
    t.wait_for("interfaces (x)");
    assert_eq!(t.format("#{alternate_on}"), "1");
    // libtest exits with 101 after a failed test.
    assert_restored(&t, 101);
    let s = t.screen();
    assert!(
        s.contains("panicked at") && s.contains("a widget bug"),
        "no panic message on the normal screen:\n{s}"
    );
}

#[test]
fn a_recording_of_watch_replays_to_its_end_and_waits_for_q() {
    let ns = setup("replay");
    let dir = tempfile::tempdir().expect("tmp");
    let rec = dir.path().join("w.rec");
    let rec_s = rec.to_str().expect("utf-8");
    let t = Tmux::start(
        "rec",
        100,
        30,
        &format!(
            "cd {} && {}",
            dir.path().display(),
            script(&ns, &format!("--line-rate 1G --record {rec_s}"))
        ),
    );
    t.wait_for("interfaces (4)");
    std::thread::sleep(Duration::from_millis(1500));
    // w saves the flight recorder's samples next to where watch runs.
    t.keys(&["w"]);
    let s = t.wait_for("saved the last");
    assert!(
        s.contains("to ./dpuctl-") && s.contains(".rec (for --replay)"),
        "{s}"
    );
    t.keys(&["q"]);
    assert_restored(&t, 0);
    drop(t);
    let header = std::fs::read_to_string(&rec).expect("recording written");
    assert!(
        header.starts_with("{\"dpuctl_recording\":1"),
        "{}",
        &header[..80.min(header.len())]
    );
    let recorded = dpuctl::tui::sources::scan(&rec).expect("the recording reads back");
    // About 1.5 s and more at 1 ms samples.
    assert!(recorded.samples > 1000, "{recorded:?}");
    let saved: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("dpuctl-"))
        })
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let history = dpuctl::tui::sources::scan(&saved[0]).expect("the saved history reads back");
    assert!(
        history.samples > 1000 && history.samples <= recorded.samples,
        "{history:?} vs {recorded:?}"
    );

    let t = Tmux::start(
        "replay",
        100,
        30,
        &script(&ns, &format!("--replay {rec_s} --speed 4 --line-rate 1G")),
    );
    let s = t.wait_for("replay finished");
    assert!(s.contains("replay w.rec"), "{s}");
    assert!(s.contains("interfaces (4)"), "{s}");
    // The screen stays until q.
    std::thread::sleep(Duration::from_millis(600));
    assert!(t.screen().contains("replay finished"));
    t.keys(&["q"]);
    assert_restored(&t, 0);
}

/// The number in the bursts column (the last one) of an interface's row.
fn bursts_of(screen: &str, iface: &str) -> Option<u64> {
    let row = screen
        .lines()
        .find(|l| l.starts_with(&format!("│{iface} ")))?;
    row.trim_end_matches(|c: char| c == '│' || c.is_whitespace())
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

#[test]
fn bursts_sent_over_a_veth_show_on_the_screen() {
    common::traffic::sender_hook();
    let ns = setup("bursts");
    // Packets to 10.77.0.2 leave through wa and arrive on wb: the neighbour entry spares
    // ARP, and wb has no address so that nothing is delivered locally.
    ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "wa"]);
    let wb_mac = ns.exec_ok("cat", &["/sys/class/net/wb/address"]);
    ns.ip(&[
        "neigh",
        "add",
        "10.77.0.2",
        "lladdr",
        wb_mac.trim(),
        "dev",
        "wa",
        "nud",
        "permanent",
    ]);
    let t = Tmux::start("bursts", 100, 30, &script(&ns, "--line-rate 100M"));
    let s = t.wait_for("interfaces (4)");
    assert_eq!(bursts_of(&s, "wa"), Some(0), "{s}");
    // Five bursts of 300 x 1200 bytes (2.9 Mbit: 29 ms at 100 Mbit/s; a few ms on a veth),
    // 300 ms apart.
    let train = common::traffic::BurstTrain {
        dst: "10.77.0.2:9".into(),
        bursts: 5,
        packets: 300,
        payload: 1200,
        gap: Duration::from_millis(300),
        lead: Duration::from_millis(100),
    };
    let sent = common::traffic::wait_sent(common::traffic::spawn_bursts(&ns, &train));
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert!(sent.iter().all(|b| b.packets > 250), "{sent:?}");
    let s = t.wait("5 bursts on wa and wb", |s| {
        bursts_of(s, "wa").is_some_and(|n| n >= 5) && bursts_of(s, "wb").is_some_and(|n| n >= 5)
    });
    // A burst may split when the sender is descheduled mid-burst on a busy machine, but
    // never more than in two.
    for iface in ["wa", "wb"] {
        let n = bursts_of(&s, iface).expect("row");
        assert!(n <= 10, "{iface}: {n} bursts for 5 sent:\n{s}");
    }
    assert_eq!(bursts_of(&s, "xa"), Some(0), "{s}");
    // The zoom of wa has them as tx bursts.
    t.keys(&["/", "w", "a", "Enter", "Enter"]);
    let s = t.wait_for("bursts wa (line 100M)");
    let tx_line = s
        .lines()
        .find(|l| l.contains("│tx ") && l.contains('%'))
        .unwrap_or_default();
    assert!(!tx_line.is_empty(), "no tx burst line:\n{s}");
    t.keys(&["q"]);
    assert_restored(&t, 0);
}

#[test]
fn interfaces_that_appear_and_vanish_are_shown_until_reset() {
    let ns = setup("churn");
    let t = Tmux::start("churn", 100, 30, &script(&ns, ""));
    t.wait_for("interfaces (4)");
    ns.ip(&["link", "del", "dev", "xa"]);
    ns.veth("ya", "yb", 1);
    let s = t.wait("the new pair and the vanished one", |s| {
        s.contains("interfaces (6)") && s.contains("│xa gone") && s.contains("│ya ")
    });
    assert!(s.contains("│xb gone"), "{s}");
    assert!(s.contains("│wa ") && !s.contains("│wa gone"), "{s}");
    // Reset forgets what vanished.
    t.keys(&["r"]);
    let s = t.wait_for("interfaces (4)");
    assert!(!s.contains("gone"), "{s}");
    assert!(s.contains("│yb "), "{s}");
    t.keys(&["q"]);
    assert_restored(&t, 0);
}

#[test]
fn a_missing_interface_is_one_line_before_the_screen() {
    let ns = setup("missing");
    let dir = tempfile::tempdir().expect("tmp");
    let rec = dir.path().join("never.rec");
    let t = Tmux::start(
        "missing",
        100,
        30,
        &script(
            &ns,
            &format!("wa nosuch0 --record {}", rec.to_str().expect("utf-8")),
        ),
    );
    let s = t.wait_for("done");
    assert!(
        s.contains("dpuctl: failed to start the sampler: no such interface: nosuch0"),
        "{s}"
    );
    assert_restored(&t, 2);
    assert!(!rec.exists(), "an empty recording was left behind");
}

#[test]
fn the_header_names_the_source_that_runs() {
    // Before, the header said "sample 1ms" whatever the source was.
    let ns = setup("src");
    let t = Tmux::start(
        "src-bpf",
        120,
        30,
        &script(&ns, "wa wb --source bpf --bin-width 20us"),
    );
    let s = t.wait_for("interfaces (2)");
    assert!(
        s.contains("live, eBPF bins 20us") && !s.contains("sample 1ms"),
        "{s}"
    );
    t.keys(&["q"]);
    assert_restored(&t, 0);
    let t = Tmux::start("src-cnt", 120, 30, &script(&ns, "wa wb"));
    let s = t.wait_for("interfaces (2)");
    assert!(s.contains("live, sample 1ms") && !s.contains("eBPF"), "{s}");
    t.keys(&["q"]);
    assert_restored(&t, 0);
}
