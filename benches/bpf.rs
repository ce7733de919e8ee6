//! Benchmark (not a test): CPU of the eBPF source (`--source bpf`, 10 us bins) against the
//! counter sampler at 1 ms and 100 us, at idle and under a UDP flood at about 100 kpps (and
//! as fast as one sender goes) on a veth pair in network namespaces this program creates and
//! deletes; and the per-packet cost of the eBPF program from the kernel's run-time
//! statistics (`run_time_ns / run_cnt`), turned on with `BPF_ENABLE_STATS` for this process
//! only (the global `kernel.bpf_stats_enabled` sysctl is never touched). Needs root and
//! python3 (the flood).
//!
//!     cargo bench --bench bpf
//!     DPUCTL_BENCH_SECS=10 cargo bench --bench bpf    # longer runs (default 3 s a case)
//!
//! CPU is read from `/proc/self/task/TID/schedstat` of the source's threads (`dpuctl-bpf`;
//! `dpuctl-sampler` and `dpuctl-slow`) over wall time: "% of one core". The program's own
//! cost runs in the kernel on the CPUs that handle the packets (softirq of the sender here)
//! and is not in that figure: it is the per-packet ns times the packet rate.
//! Goal: under 2% of a core at idle, under the 1 ms sampler's cost at 100 kpps.

use std::fmt::Write as _;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpuctl::monitor::bpf_source::{self, Source};
use dpuctl::monitor::sampler::{self, SamplerConfig, SamplerMsg};

const INNER: &str = "DPUCTL_BENCH_BPF";
const TX: &str = "dpb-bpf-tx";
const RX: &str = "dpb-bpf-rx";

fn ip(args: &[&str]) {
    let o = Command::new("ip").args(args).output().expect("ip");
    assert!(
        o.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn setup() {
    let _ = Command::new("ip").args(["netns", "del", TX]).output();
    let _ = Command::new("ip").args(["netns", "del", RX]).output();
    ip(&["netns", "add", TX]);
    ip(&["netns", "add", RX]);
    ip(&[
        "-n", TX, "link", "add", "s0", "type", "veth", "peer", "name", "r0",
    ]);
    ip(&["-n", TX, "link", "set", "r0", "netns", RX]);
    ip(&["-n", TX, "addr", "add", "10.79.0.1/24", "dev", "s0"]);
    ip(&["-n", RX, "addr", "add", "10.79.0.2/24", "dev", "r0"]);
    for (ns, dev) in [(TX, "s0"), (RX, "r0"), (TX, "lo"), (RX, "lo")] {
        ip(&["-n", ns, "link", "set", dev, "up"]);
    }
}

fn teardown() {
    let _ = Command::new("ip").args(["netns", "del", TX]).output();
    let _ = Command::new("ip").args(["netns", "del", RX]).output();
}

/// A UDP flood from the tx namespace at `pps` (0: as fast as it goes) for `secs`.
fn flood(pps: u64, secs: u64) -> Child {
    let script = format!(
        "import socket,time\n\
         s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
         a=('10.79.0.2',9000)\n\
         b=b'x'*64\n\
         pps={pps}\n\
         end=time.monotonic()+{secs}\n\
         n=0\n\
         t0=time.monotonic()\n\
         while time.monotonic()<end:\n\
         \x20if pps:\n\
         \x20\x20due=int((time.monotonic()-t0)*pps)\n\
         \x20\x20while n<due:\n\
         \x20\x20\x20s.sendto(b,a); n+=1\n\
         \x20\x20time.sleep(0.0005)\n\
         \x20else:\n\
         \x20\x20for _ in range(1000): s.sendto(b,a)\n\
         \x20\x20n+=1000\n\
         print(n)\n"
    );
    Command::new("ip")
        .args(["netns", "exec", TX, "python3", "-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 flood")
}

fn thread_cpu_ns(names: &[&str]) -> u64 {
    let mut total = 0;
    for t in std::fs::read_dir("/proc/self/task")
        .expect("tasks")
        .flatten()
    {
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

/// Runs one source for `secs` with or without a flood; prints CPU and, for bpf, the
/// program's cost per packet.
fn case(source: Source, interval_ns: u64, pps: Option<u64>, secs: u64) {
    let cfg = SamplerConfig {
        ifaces: vec!["r0".into()],
        interval_ns,
        source,
        line_rate_bps: Some(10_000_000_000),
        ..SamplerConfig::default()
    };
    let samples = Arc::new(AtomicU64::new(0));
    let n = samples.clone();
    let sink = move |m: SamplerMsg| {
        if let SamplerMsg::Batch(b) = m {
            n.fetch_add(b.samples.len() as u64, Ordering::Relaxed);
        }
        true
    };
    let (handle, ids, stats_fd) = if source == Source::Bpf {
        let p = bpf_source::prepare(&cfg).expect("eBPF source");
        let ids: Vec<u32> = p.program_ids().into_iter().map(|(_, id)| id).collect();
        let fd = dpuctl::sys::bpf::enable_run_stats().expect("BPF_ENABLE_STATS");
        (p.start(sink).expect("start"), ids, Some(fd))
    } else {
        (
            sampler::spawn(cfg, sink).expect("sampler"),
            Vec::new(),
            None,
        )
    };
    std::thread::sleep(Duration::from_millis(300));
    let names = ["dpuctl-bpf", "dpuctl-sampler", "dpuctl-slow"];
    let before = dpuctl::sys::bpf::program_run_stats(&ids);
    let c0 = thread_cpu_ns(&names);
    let t0 = Instant::now();
    let fl = pps.map(|p| flood(p, secs));
    std::thread::sleep(Duration::from_secs(secs));
    let c1 = thread_cpu_ns(&names);
    let wall = t0.elapsed().as_nanos() as f64;
    let after = dpuctl::sys::bpf::program_run_stats(&ids);
    let sent = fl.map(|c| {
        let o = c.wait_with_output().expect("flood");
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
    });
    handle.join();
    drop(stats_fd);
    let label = match (source, interval_ns) {
        (Source::Bpf, _) => "bpf 10us bins".to_string(),
        (_, i) if i >= 1_000_000 => "counters 1ms".to_string(),
        _ => "counters 100us".to_string(),
    };
    let load = match (pps, sent) {
        (None, _) => "idle".to_string(),
        (Some(_), Some(s)) => format!("{:.0} kpps", s as f64 / secs as f64 / 1e3),
        _ => "?".into(),
    };
    let mut line = format!(
        "{label:<16} {load:>10}: {:>6.2}% of one core, {} samples",
        (c1 - c0) as f64 / wall * 100.0,
        samples.load(Ordering::Relaxed)
    );
    let (mut ns, mut cnt) = (0u64, 0u64);
    for (id, t, c) in &after {
        if let Some((_, t0, c0)) = before.iter().find(|b| b.0 == *id) {
            ns += t - t0;
            cnt += c - c0;
        }
    }
    if cnt > 0 {
        let _ = write!(
            line,
            "; program {:.0} ns per packet over {cnt} runs",
            ns as f64 / cnt as f64
        );
    }
    println!("{line}");
}

fn main() {
    if std::env::var_os(INNER).is_some() {
        let secs: u64 = std::env::var("DPUCTL_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3);
        for pps in [None, Some(100_000), Some(0)] {
            case(Source::Counters, 1_000_000, pps, secs);
            case(Source::Counters, 100_000, pps, secs);
            case(Source::Bpf, 1_000_000, pps, secs);
        }
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    setup();
    let exe = std::env::current_exe().expect("bench binary");
    let st = Command::new("ip")
        .args(["netns", "exec", RX])
        .arg(exe)
        .env(INNER, "1")
        .status();
    teardown();
    assert!(st.expect("run inner").success(), "bench failed");
}
