//! Benchmark (not a test): `dpuctl exporter` at its default settings (1 ms samples) on 64 veth
//! interfaces (32 pairs, 4 queues each) in a network namespace this program creates and
//! deletes. It measures the exporter's CPU at rest (no scrapes; utime + stime of all its
//! threads from /proc/PID/stat over a window after a warm-up), then the latency of
//! back-to-back `GET /metrics` scrapes (median, 99th percentile, maximum) and the CPU each
//! scrape adds (CPU during the scrapes minus the rate at rest), the body size, and the peak
//! RSS (`VmHWM`). Needs root and `ip`.
//!
//!     cargo bench --bench exporter
//!     DPUCTL_BENCH_SECS=60 DPUCTL_BENCH_SCRAPES=2000 cargo bench --bench exporter
//!     DPUCTL_BENCH_BIN=/tmp/dpuctl-old cargo bench --bench exporter   # another build (A/B)
//!
//! Targets: a scrape under 10 ms on 64 interfaces; at rest the CPU of `dpuctl stats`.

#[path = "common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PAIRS: usize = 32;
const ADDR: &str = "127.0.0.1:9059";

fn ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read stat");
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
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

fn scrape() -> std::io::Result<usize> {
    let mut c = TcpStream::connect(ADDR)?;
    c.set_read_timeout(Some(Duration::from_secs(10)))?;
    c.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")?;
    let mut buf = Vec::with_capacity(1 << 20);
    c.read_to_end(&mut buf)?;
    if !buf.starts_with(b"HTTP/1.1 200") {
        return Err(std::io::Error::other("not 200"));
    }
    Ok(buf.len())
}

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let secs = env_u64("DPUCTL_BENCH_SECS", 20);
    let scrapes = env_u64("DPUCTL_BENCH_SCRAPES", 500);
    let dpuctl = std::env::var("DPUCTL_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_dpuctl").to_string());
    let veth = common::VethNs::new("dpexp", PAIRS, 4);
    let mut child = Command::new("ip")
        .args(["netns", "exec", &veth.name, &dpuctl, "exporter"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dpuctl exporter");
    let pid = child.id();
    // This thread joins the namespace to reach the exporter's loopback address.
    let fd = std::fs::File::open(format!("/run/netns/{}", veth.name)).expect("netns");
    rustix::thread::move_into_link_name_space(
        fd.as_fd(),
        Some(rustix::thread::LinkNameSpaceType::Network),
    )
    .expect("setns");
    let result = std::panic::catch_unwind(|| measure(pid, secs, scrapes));
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    drop(veth);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

fn measure(pid: u32, secs: u64, scrapes: u64) {
    let start = Instant::now();
    while scrape().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the exporter did not answer"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Warm-up: the first slow reads (driver counters, queue files) of every interface.
    std::thread::sleep(Duration::from_secs(3));
    // USER_HZ is 100 for user space.
    let hz = 100.0;
    let t0 = Instant::now();
    let c0 = ticks(pid);
    std::thread::sleep(Duration::from_secs(secs));
    let rest_ticks = ticks(pid) - c0;
    let rest_wall = t0.elapsed().as_secs_f64();
    let rest = rest_ticks as f64 / hz / rest_wall;

    let mut lat = Vec::with_capacity(scrapes as usize);
    let mut size = 0;
    let t1 = Instant::now();
    let c1 = ticks(pid);
    for _ in 0..scrapes {
        let s = Instant::now();
        size = scrape().expect("scrape");
        lat.push(s.elapsed());
    }
    let busy_ticks = ticks(pid) - c1;
    let busy_wall = t1.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    let per_scrape = (busy_ticks as f64 / hz - rest * busy_wall) / scrapes as f64 * 1e3;
    println!(
        "dpuctl exporter (defaults), {} veth interfaces: at rest {:.2}% of one core \
         ({rest_ticks} ticks over {rest_wall:.1} s)",
        PAIRS * 2,
        rest * 100.0
    );
    println!(
        "  {scrapes} scrapes back to back, {size} bytes each: latency median {:.2} ms, p99 \
         {:.2} ms, max {:.2} ms; exporter CPU per scrape {per_scrape:.2} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "  peak RSS (VmHWM) {:.1} MB, RSS now {:.1} MB",
        status_kb(pid, "VmHWM:") as f64 / 1024.0,
        status_kb(pid, "VmRSS:") as f64 / 1024.0
    );
}
