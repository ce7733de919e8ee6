//! Benchmark (not a test): one counter sample of every interface, and a full `show`, on 64 veth
//! interfaces in a network namespace this program creates and deletes. Needs root.
//!
//!     cargo bench --bench sample
//!
//! Targets: under 2 us per interface for a counter sample; under 20 ms for a full `show`.
//! The namespace holds 32 veth pairs (64 interfaces) plus its loopback; `show` reads all 65.
//!
//! On a machine shared with other work the wall times mostly measure that work; the CPU time
//! per show does not. To see the wall time without it, run the built benchmark at a
//! real-time priority: `chrt -f 10 target/release/deps/sample-<hash>`.

#[path = "common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use dpuctl::sys::{collect, netlink::Rtnl, SysRoot};

const INNER: &str = "DPUCTL_BENCH_NETNS";
const PAIRS: usize = 32;

fn main() {
    if let Ok(ns) = std::env::var(INNER) {
        inner(&ns);
        return;
    }
    let ns = common::VethNs::new("dpbench", PAIRS, 4);
    ns.run_self(INNER, &ns.name);
}

fn per_iter(total: Duration, n: u32) -> f64 {
    total.as_secs_f64() * 1e6 / f64::from(n)
}

fn inner(ns: &str) {
    let mut rtnl = Rtnl::open().expect("rtnetlink");
    let links = rtnl.links().expect("links");
    let n_if = links.len();
    let mut buf = Vec::with_capacity(n_if);
    for _ in 0..1000 {
        rtnl.sample_all(&mut buf).expect("sample");
    }
    assert_eq!(buf.len(), n_if);
    let iters = 20_000;
    let t = Instant::now();
    for _ in 0..iters {
        rtnl.sample_all(&mut buf).expect("sample");
    }
    let us = per_iter(t.elapsed(), iters);
    println!(
        "counter sample (RTM_GETSTATS dump, {n_if} interfaces in {ns}): {us:.1} us per sample, \
         {:.2} us per interface",
        us / n_if as f64
    );

    // The sysfs way, for comparison: what node_exporter-style collectors read.
    let files = [
        "rx_bytes",
        "rx_packets",
        "tx_bytes",
        "tx_packets",
        "rx_dropped",
        "tx_dropped",
    ];
    let iters = 200;
    let t = Instant::now();
    for _ in 0..iters {
        for l in &links {
            for f in files {
                let _ =
                    std::fs::read_to_string(format!("/sys/class/net/{}/statistics/{f}", l.name));
            }
        }
    }
    let us = per_iter(t.elapsed(), iters);
    println!(
        "sysfs statistics files (6 per interface): {us:.0} us per sample, {:.1} us per interface",
        us / n_if as f64
    );

    let root = SysRoot::live();
    let mut state = collect::collect(&root, &[]).expect("collect");
    // The machine may be shared: the minimum is the cost of the work itself, the median what
    // a run typically takes here, and the CPU time (all threads) the work done per show.
    let iters = 50;
    let cpu0 = cpu_ms();
    let mut ms = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        state = collect::collect(&root, &[]).expect("collect");
        let text = dpuctl::output::show_table(&state);
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(!text.is_empty());
    }
    let cpu = (cpu_ms() - cpu0) / iters as f64;
    ms.sort_by(f64::total_cmp);
    println!(
        "full show ({} interfaces, collect + table): min {:.2} ms, median {:.2} ms, \
         {cpu:.1} ms CPU per show ({iters} runs)",
        state.interfaces.len(),
        ms[0],
        ms[iters / 2],
    );

    // The same through the binary, as a user runs it: process start and output included.
    let exe = env!("CARGO_BIN_EXE_dpuctl");
    let mut ms = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        let out = Command::new(exe)
            .arg("show")
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run dpuctl");
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(out.success());
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "`dpuctl show` process ({} interfaces): min {:.2} ms, median {:.2} ms ({iters} runs)",
        state.interfaces.len(),
        ms[0],
        ms[iters / 2],
    );
}

/// CPU time this process has used so far, all threads, user and system, in milliseconds
/// (`utime` + `stime` of /proc/self/stat, in clock ticks of 10 ms).
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|v| v.parse().expect("tick count"))
        .collect();
    (f[0] + f[1]) * 1000.0 / 100.0
}
