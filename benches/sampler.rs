//! Benchmark (not a test): CPU of the monitor's sampler threads at 1 ms and 100 us sample
//! intervals for 4, 16 and 64 veth interfaces, each set in a network namespace this program
//! creates and deletes; the cost of one `RTM_GETSTATS` dump against per-interface requests;
//! and the peak RSS of `dpuctl stats`. Needs root.
//!
//!     cargo bench --bench sampler
//!     DPUCTL_BENCH_SECS=10 cargo bench --bench sampler    # longer runs
//!     DPUCTL_BENCH_ROUNDS=9 cargo bench --bench sampler   # more rounds of the target case
//!
//! The target case (16 interfaces at 1 ms) is then run in several rounds, each next to a
//! sleep-only baseline and to the floor of the design (sleep, then one `RTM_GETSTATS` dump,
//! nothing else), and the medians are printed: on a virtual machine the cost of every
//! wake-up moves with what the host does, by a third and more over minutes.
//!
//! CPU is read from `/proc/self/task/TID/schedstat` (ns on CPU) of the two sampler threads
//! (`dpuctl-sampler`, `dpuctl-slow`), over wall time: "% of one core".
//! Target: 1 ms on 16 interfaces under 3% of one core.

#[path = "common/mod.rs"]
mod common;

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpuctl::monitor::sampler::{self, Clock as _, SamplerConfig, SamplerMsg};
use dpuctl::sys::netlink::Rtnl;

const INNER: &str = "DPUCTL_BENCH_SAMPLER";

fn main() {
    if let Ok(what) = std::env::var(INNER) {
        inner(&what);
        return;
    }
    let secs: u64 = std::env::var("DPUCTL_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    println!("sampler CPU, {secs} s per run (the machine is shared: figures are upper bounds)");
    // What sleeping to 1 ms / 100 us deadlines alone costs here (timer wake-ups; expensive
    // under virtualization), to read the figures below against.
    for interval in ["1ms", "100us"] {
        inner(&format!("baseline,{interval},{secs}"));
    }
    for n in [4usize, 16, 64] {
        let ns = Ns::new(n);
        for interval in ["1ms", "100us"] {
            ns.run(&format!("cpu,{interval},{secs}"));
        }
        if n == 16 {
            ns.run("requests");
            ns.rss(secs);
            target_rounds(&ns, secs);
        }
    }
}

/// The target case in rounds, each with a baseline next to it; prints the medians.
fn target_rounds(ns: &Ns, secs: u64) {
    let rounds: usize = std::env::var("DPUCTL_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let pct = |line: &str| -> f64 {
        line.split("% of one core")
            .next()
            .and_then(|s| s.rsplit(':').next())
            .and_then(|s| s.trim().parse().ok())
            .expect("a figure")
    };
    let (mut cpu, mut base, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        base.push(pct(&ns.run_out(&format!("baseline,1ms,{secs}"))));
        floor.push(pct(&ns.run_out(&format!("floor,1ms,{secs}"))));
        cpu.push(pct(&ns.run_out(&format!("cpu,1ms,{secs}"))));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "target, 16 interfaces at 1ms, {rounds} rounds:\n  sampler (both threads) {} (median \
         {:.2}% of one core)\n  floor: sleep + one dump {} (median {:.2}%)\n  sleep-only \
         baseline {} (median {:.2}%)",
        fmt(&cpu),
        median(&mut cpu.clone()),
        fmt(&floor),
        median(&mut floor.clone()),
        fmt(&base),
        median(&mut base.clone()),
    );
}

/// A namespace with `n` veth interfaces (n/2 pairs, one queue each).
struct Ns {
    ns: common::VethNs,
    name: String,
}

impl Ns {
    fn new(n: usize) -> Self {
        let ns = common::VethNs::new(&format!("dpbench-smp-{n}"), n / 2, 1);
        let name = ns.name.clone();
        Self { ns, name }
    }

    fn run(&self, what: &str) {
        print!("{}", self.run_out(what));
    }

    /// Runs a step inside the namespace; returns what it printed.
    fn run_out(&self, what: &str) -> String {
        self.ns.run_self_output(INNER, what)
    }

    /// Peak RSS of `dpuctl stats` on every interface at 100 us, with the flight recorder.
    fn rss(&self, secs: u64) {
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/dpuctl");
        let bin = std::env::var("CARGO_TARGET_DIR")
            .map_or(bin, |d| std::path::Path::new(&d).join("release/dpuctl"));
        if !bin.exists() {
            println!("peak RSS: skipped, build the release binary first (cargo build --release)");
            return;
        }
        let out = Command::new("/usr/bin/time")
            .arg("-v")
            .args(["ip", "netns", "exec", &self.name])
            .arg(&bin)
            .args([
                "stats",
                "--sample-interval",
                "100us",
                "--line-rate",
                "10G",
                "-f",
                "jsonl",
                "--interval",
                "1s",
                "-c",
                &secs.to_string(),
            ])
            .output()
            .expect("run dpuctl stats");
        let err = String::from_utf8_lossy(&out.stderr);
        let rss = err
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .unwrap_or("?");
        let cpu = err
            .lines()
            .find_map(|l| l.trim().strip_prefix("Percent of CPU this job got: "))
            .unwrap_or("?");
        println!(
            "dpuctl stats, 16 interfaces, 100us, jsonl every 1s for {secs}s: peak RSS {rss} kB, \
             CPU {cpu} of one core (whole process)"
        );
    }
}

/// ns on CPU of this process's threads with these names.
fn thread_cpu_ns(names: &[&str]) -> u64 {
    let mut total = 0;
    let Ok(rd) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    for t in rd.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if !names.contains(&comm.trim()) {
            continue;
        }
        let s = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
        total += s
            .split_whitespace()
            .next()
            .and_then(|x| x.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

fn inner(what: &str) {
    let f: Vec<&str> = what.split(',').collect();
    match f[0] {
        "cpu" => cpu(f[1], f[2].parse().expect("secs")),
        "requests" => requests(),
        "baseline" => baseline(f[1], f[2].parse().expect("secs")),
        "floor" => floor(f[1], f[2].parse().expect("secs")),
        _ => panic!("unknown step {what}"),
    }
}

fn cpu(interval: &str, secs: u64) {
    let iv = dpuctl::monitor::config::parse_sample_interval(interval).expect("interval");
    let cfg = SamplerConfig {
        interval_ns: iv.as_nanos() as u64,
        ..SamplerConfig::default()
    };
    let samples = Arc::new(AtomicU64::new(0));
    let missed = Arc::new(AtomicU64::new(0));
    let ifaces = Arc::new(AtomicU64::new(0));
    let (s2, m2, i2) = (samples.clone(), missed.clone(), ifaces.clone());
    // As in `dpuctl stats` and `watch`: batches go over a channel to another thread, which
    // counts and drops them (so the sample memory is freed there, not on the sampler).
    let (tx, rx) = std::sync::mpsc::channel::<SamplerMsg>();
    let h = sampler::spawn(cfg, move |m| tx.send(m).is_ok()).expect("sampler");
    let consumer = std::thread::spawn(move || {
        for m in rx {
            if let SamplerMsg::Batch(b) = m {
                s2.fetch_add(b.samples.len() as u64, Ordering::Relaxed);
                m2.fetch_add(b.missed, Ordering::Relaxed);
                if let Some(s) = b.samples.last() {
                    i2.store(s.ifaces.len() as u64, Ordering::Relaxed);
                }
            }
        }
    });
    // Let it settle (first slow reads), then measure.
    std::thread::sleep(Duration::from_millis(500));
    let names = ["dpuctl-sampler", "dpuctl-slow"];
    let c0 = thread_cpu_ns(&names);
    let f0 = thread_cpu_ns(&["dpuctl-sampler"]);
    let s0 = samples.load(Ordering::Relaxed);
    let m0 = missed.load(Ordering::Relaxed);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let wall = t0.elapsed().as_nanos() as f64;
    let c1 = thread_cpu_ns(&names);
    let f1 = thread_cpu_ns(&["dpuctl-sampler"]);
    let n = samples.load(Ordering::Relaxed) - s0;
    let m = missed.load(Ordering::Relaxed) - m0;
    h.join();
    let _ = consumer.join();
    let pct = (c1 - c0) as f64 / wall * 100.0;
    let fast = (f1 - f0) as f64 / wall * 100.0;
    println!(
        "{:>2} interfaces, {interval:>5}: {pct:5.2}% of one core ({fast:.2}% counters, {:.2}% slow \
         reads), {:.1} us CPU per sample, {n} samples, {m} deadlines missed ({:.2}%)",
        ifaces.load(Ordering::Relaxed),
        pct - fast,
        (f1 - f0) as f64 / 1e3 / n.max(1) as f64,
        m as f64 * 100.0 / (n + m).max(1) as f64,
    );
}

/// Only sleeping to the deadline grid, as the sampler does, reading nothing.
fn baseline(interval: &str, secs: u64) {
    let iv = dpuctl::monitor::config::parse_sample_interval(interval).expect("interval");
    let iv_ns = iv.as_nanos() as u64;
    let own = || {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let c0 = own();
    let start = Instant::now();
    let mut sched = sampler::Schedule::new(0, iv_ns);
    let (mut n, mut missed) = (0u64, 0u64);
    while start.elapsed() < Duration::from_secs(secs) {
        let now = start.elapsed().as_nanos() as u64;
        if sched.deadline() > now {
            std::thread::sleep(Duration::from_nanos(sched.deadline() - now));
        }
        n += 1;
        missed += sched.advance(start.elapsed().as_nanos() as u64);
    }
    let pct = (own() - c0) as f64 / start.elapsed().as_nanos() as f64 * 100.0;
    println!(
        "baseline (sleep to deadlines only), {interval:>5}: {pct:5.2}% of one core,          {:.1} us CPU per wake-up, {missed} deadlines missed",
        (own() - c0) as f64 / 1e3 / n.max(1) as f64
    );
}

/// The least a sampler of this design does: sleep to each deadline and take one counter dump
/// into a reused buffer, nothing else (no sample built, no hand-over, no slow reads).
fn floor(interval: &str, secs: u64) {
    let iv_ns = dpuctl::monitor::config::parse_sample_interval(interval)
        .expect("interval")
        .as_nanos() as u64;
    let own = || {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut rtnl = Rtnl::open_for_samples().expect("rtnetlink");
    let mut buf = Vec::with_capacity(128);
    let mut clock = sampler::SystemClock::default();
    let c0 = own();
    let start = clock.now_ns();
    let mut sched = sampler::Schedule::new(start, iv_ns);
    let mut n = 0u64;
    while clock.now_ns() - start < secs * 1_000_000_000 {
        clock.sleep_until(sched.deadline());
        rtnl.sample_all(&mut buf).expect("dump");
        n += 1;
        sched.advance(clock.now_ns());
    }
    let pct = (own() - c0) as f64 / (clock.now_ns() - start) as f64 * 100.0;
    println!(
        "floor (sleep + one dump, nothing else), {} interfaces, {interval:>5}: {pct:5.2}% of one \
         core, {:.1} us CPU per sample",
        buf.len(),
        (own() - c0) as f64 / 1e3 / n.max(1) as f64
    );
}

/// One dump of all interfaces against one request per interface.
fn requests() {
    let mut rtnl = Rtnl::open().expect("rtnetlink");
    let links = rtnl.links().expect("links");
    let mut buf = Vec::new();
    let iters = 5_000u32;
    for _ in 0..500 {
        rtnl.sample_all(&mut buf).expect("dump");
    }
    let t = Instant::now();
    for _ in 0..iters {
        rtnl.sample_all(&mut buf).expect("dump");
    }
    let dump = t.elapsed().as_secs_f64() * 1e6 / f64::from(iters);
    // The sampler's socket: a receive length that keeps each dump datagram in the slab.
    let mut small = Rtnl::open_for_samples().expect("rtnetlink");
    for _ in 0..500 {
        small.sample_all(&mut buf).expect("dump");
    }
    let t = Instant::now();
    for _ in 0..iters {
        small.sample_all(&mut buf).expect("dump");
    }
    let dump_small = t.elapsed().as_secs_f64() * 1e6 / f64::from(iters);
    let idx = links
        .iter()
        .find(|l| l.name != "lo")
        .map_or(1, |l| l.ifindex);
    let t = Instant::now();
    for _ in 0..iters {
        rtnl.sample(idx).expect("one");
    }
    let one = t.elapsed().as_secs_f64() * 1e6 / f64::from(iters);
    // The slow thread's link table, once per round.
    let t = Instant::now();
    for _ in 0..iters / 10 {
        rtnl.links().expect("links");
    }
    let link_dump = t.elapsed().as_secs_f64() * 1e6 / f64::from(iters / 10);
    let mut session = dpuctl::sys::ethtool::ioctl::Session::open().expect("ioctl socket");
    let name = links
        .iter()
        .find(|l| l.name != "lo")
        .map_or("lo", |l| l.name.as_str())
        .to_string();
    let n = session.stats(&name).expect("driver counters").len();
    let t = Instant::now();
    for _ in 0..iters / 10 {
        session.values(&name, n).expect("values");
    }
    let values = t.elapsed().as_secs_f64() * 1e6 / f64::from(iters / 10);
    let t = Instant::now();
    for _ in 0..iters / 10 {
        session.stats(&name).expect("stats");
    }
    let full = t.elapsed().as_secs_f64() * 1e6 / f64::from(iters / 10);
    println!(
        "slow reads: link table dump {link_dump:.1} us; driver counters of {name} ({n}): values \
         alone {values:.1} us, names and values {full:.1} us"
    );
    println!(
        "RTM_GETSTATS with {} interfaces: one dump {dump:.1} us ({dump_small:.1} us with the \
         sampler's receive length), one per-interface request {one:.1} us (a dump beats {:.1} \
         requests)",
        links.len(),
        dump / one
    );
}
