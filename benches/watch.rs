//! Benchmark (not a test): CPU and peak memory of the `dpuctl watch` process at its default
//! settings (1 ms samples, 250 ms refresh) on 16 veth interfaces, in a network namespace this
//! program creates and deletes. The screen runs in tmux (a real terminal, 120x40); the CPU
//! time of the process (utime + stime from /proc/PID/stat, all its threads: sampler, engine,
//! drawing) is read over a measured window after a warm-up, and the peak RSS is `VmHWM` from
//! /proc/PID/status at the end. Needs root, `ip` and `tmux`.
//!
//!     cargo bench --bench watch                  # 20 s window
//!     DPUCTL_BENCH_SECS=60 cargo bench --bench watch
//!     DPUCTL_BENCH_ARGS="--sample-interval 250ms" cargo bench --bench watch   # screen only
//!     DPUCTL_BENCH_BIN=/tmp/dpuctl-old cargo bench --bench watch   # another build, for A/B
//!
//! Targets: under 2% of one core; peak RSS under 30 MB.

#[path = "common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

const PAIRS: usize = 8;

fn tmux(sock: &str, args: &[&str]) -> String {
    let o = Command::new("tmux")
        .arg("-L")
        .arg(sock)
        .args(args)
        .output()
        .expect("run tmux (Debian package tmux)");
    assert!(
        o.status.success(),
        "tmux {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    ticks_of(&format!("/proc/{pid}/stat"))
}

/// utime + stime of each thread of a process by thread name, in clock ticks.
fn thread_ticks(pid: u32) -> Vec<(String, u64)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("tasks")
        .flatten()
    {
        let dir = e.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let stat = dir.join("stat");
        if let Some(path) = stat.to_str() {
            v.push((name.trim().to_string(), ticks_of(path)));
        }
    }
    v.sort();
    v
}

fn ticks_of(path: &str) -> u64 {
    let stat = std::fs::read_to_string(path).expect("read stat");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
}

fn status_kb(pid: u32, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("status field")
}

fn main() {
    let secs: u64 = std::env::var("DPUCTL_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    // Another build of dpuctl to compare with (A/B back to back on a shared machine).
    let dpuctl = std::env::var("DPUCTL_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_dpuctl").to_string());
    let veth = common::VethNs::new("dpwatch", PAIRS, 4);
    let ns = &veth.name;

    let sock = format!("dpwatch-{}", std::process::id());
    // Extra watch flags, to compare against the defaults (e.g. "--sample-interval 250ms" leaves
    // mostly the screen's own work).
    let extra = std::env::var("DPUCTL_BENCH_ARGS").unwrap_or_default();
    let script = format!("ip netns exec {ns} {dpuctl} watch {extra}; sleep 600");
    tmux(
        &sock,
        &[
            "new-session",
            "-d",
            "-s",
            "w",
            "-x",
            "120",
            "-y",
            "40",
            &script,
        ],
    );
    let result = std::panic::catch_unwind(|| measure(&sock, secs, &extra));
    let _ = Command::new("tmux")
        .args(["-L", &sock, "kill-server"])
        .status();
    drop(veth);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

fn measure(sock: &str, secs: u64, extra: &str) {
    let shell: u32 = tmux(sock, &["display-message", "-p", "#{pane_pid}"])
        .trim()
        .parse()
        .expect("pane pid");
    let start = Instant::now();
    let pid: u32 = loop {
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_default();
        let found = children.split_whitespace().find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "dpuctl")
        });
        if let Some(p) = found {
            break p.parse().expect("pid");
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "watch did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Warm-up: the first views, the first slow reads, the screen drawn a few times.
    std::thread::sleep(Duration::from_secs(3));
    let screen = tmux(sock, &["capture-pane", "-p"]);
    assert!(
        screen.contains("interfaces (16)"),
        "watch does not show the 16 interfaces:\n{screen}"
    );
    // /proc/PID/stat counts in USER_HZ, which the kernel fixes at 100 for user space.
    let hz = 100.0;
    let t0 = Instant::now();
    let c0 = cpu_ticks(pid);
    let th0 = thread_ticks(pid);
    std::thread::sleep(Duration::from_secs(secs));
    let c1 = cpu_ticks(pid);
    let th1 = thread_ticks(pid);
    let wall = t0.elapsed().as_secs_f64();
    let hwm = status_kb(pid, "VmHWM:");
    let rss = status_kb(pid, "VmRSS:");
    let threads = status_kb(pid, "Threads:");
    tmux(sock, &["send-keys", "q"]);
    let cpu = (c1 - c0) as f64 / hz / wall * 100.0;
    println!(
        "dpuctl watch {}, 16 veth interfaces, 120x40 tmux, {wall:.1} s window: \
         CPU {cpu:.2}% of one core ({} ticks), peak RSS (VmHWM) {:.1} MB, RSS now {:.1} MB, \
         {threads} threads",
        if extra.is_empty() {
            "(defaults)"
        } else {
            extra
        },
        c1 - c0,
        hwm as f64 / 1024.0,
        rss as f64 / 1024.0,
    );
    // Per thread: the sampler's threads against the screen's (main: engine, views, drawing).
    let mut parts = Vec::new();
    for (name, t1) in &th1 {
        let t0 = th0.iter().find(|(n, _)| n == name).map_or(0, |(_, t)| *t);
        parts.push(format!(
            "{name} {:.2}%",
            t1.saturating_sub(t0) as f64 / hz / wall * 100.0
        ));
    }
    println!("  by thread: {}", parts.join(", "));
}
