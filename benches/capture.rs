//! `cargo bench --bench capture`: packets per second of `dpuctl capture analyze` against
//! `tshark -q -z io,stat,0.00001` and `capinfos` on the same generated file, in one run.
//!
//! The traffic (default 1,000,000 packets, `DPUCTL_BENCH_PACKETS`) is a realistic mix: 200
//! flows (TCP with some retransmissions, RoCEv2-like UDP, some of it VLAN-tagged or IPv6, and
//! ARP) sending trains of 1-8 frames as segmentation offload does, frames of 66 to 9000
//! bytes, a background of about 9 Gbit/s and a line-rate burst of 50-400 packets every 2 ms
//! on a 25 Gbit/s line. It is written twice: full frames (about
//! 1.2 GB) and cut to 128 bytes as a header capture is. dpuctl and capinfos run several times
//! each (`DPUCTL_BENCH_RUNS`, default 7); tshark once, on the headers-only file, as it takes
//! minutes (`DPUCTL_BENCH_TSHARK_RUNS`, `DPUCTL_BENCH_TSHARK_FULL=1`). Minimum and median of
//! wall and CPU time (user + system) are printed: on a shared machine the CPU time is the
//! fairer measure of one core's work. dpuctl runs single-threaded; the in-process figure is
//! the reader and analysis alone, on a file mapped once (no process start, no page faults
//! after the first run, no output). `DPUCTL_BENCH_TOOLS=0` skips capinfos and tshark;
//! `DPUCTL_BENCH_KEEP=1` keeps the files in `$TMPDIR`.

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dpuctl::capture::analyze::Options;
use dpuctl::capture::reader::Mapped;
use dpuctl::capture::write::PcapWriter;
use dpuctl::capture::{Input, Stream};
use dpuctl::monitor::microburst::BurstConfig;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, so every run measures the same file.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Flow {
    kind: u8, // 0 tcp4, 1 udp4 roce, 2 tcp4 vlan, 3 udp6
    src: [u8; 16],
    dst: [u8; 16],
    sport: u16,
    dport: u16,
    seq: u32,
    last_seq: u32,
}

fn frame(f: &mut Flow, size: usize, rng: &mut Rng, buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]);
    let v6 = f.kind == 3;
    if f.kind == 2 {
        buf.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]);
    }
    buf.extend_from_slice(if v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
    let l3 = buf.len();
    let tcp = matches!(f.kind, 0 | 2);
    let l4_hdr = if tcp { 20 } else { 8 };
    let ip_hdr = if v6 { 40 } else { 20 };
    let payload = size.saturating_sub(l3 + ip_hdr + l4_hdr);
    let l4_len = l4_hdr + payload;
    if v6 {
        buf.extend_from_slice(&[0x60, 0, 0, 0]);
        buf.extend_from_slice(&(l4_len as u16).to_be_bytes());
        buf.extend_from_slice(&[17, 64]);
        buf.extend_from_slice(&f.src);
        buf.extend_from_slice(&f.dst);
    } else {
        buf.extend_from_slice(&[0x45, 0]);
        buf.extend_from_slice(&((20 + l4_len) as u16).to_be_bytes());
        buf.extend_from_slice(&[0, 0, 0x40, 0, 64, if tcp { 6 } else { 17 }, 0, 0]);
        buf.extend_from_slice(&f.src[..4]);
        buf.extend_from_slice(&f.dst[..4]);
    }
    buf.extend_from_slice(&f.sport.to_be_bytes());
    buf.extend_from_slice(&f.dport.to_be_bytes());
    if tcp {
        // One segment in 500 repeats the previous one: a retransmission.
        let seq = if rng.below(500) == 0 {
            f.last_seq
        } else {
            f.seq
        };
        f.last_seq = seq;
        if seq == f.seq {
            f.seq = f.seq.wrapping_add(payload as u32);
        }
        buf.extend_from_slice(&seq.to_be_bytes());
        buf.extend_from_slice(&1u32.to_be_bytes());
        buf.extend_from_slice(&[0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]);
    } else {
        buf.extend_from_slice(&(l4_len as u16).to_be_bytes());
        buf.extend_from_slice(&[0, 0]);
    }
    buf.resize(size.max(buf.len()), 0x5a);
}

/// Writes the benchmark file; returns the packet count.
fn generate(path: &Path, packets: u64, snaplen: u32) -> u64 {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut flows: Vec<Flow> = (0..200u32)
        .map(|i| {
            let mut src = [0u8; 16];
            let mut dst = [0u8; 16];
            src[..4].copy_from_slice(&[10, 1, (i >> 8) as u8, i as u8]);
            dst[..4].copy_from_slice(&[10, 2, 0, (i % 7) as u8]);
            Flow {
                kind: (i % 4) as u8,
                src,
                dst,
                sport: 30000 + i as u16,
                dport: if i % 4 == 1 { 4791 } else { 443 },
                seq: i * 7919,
                last_seq: i * 7919,
            }
        })
        .collect();
    let file = std::fs::File::create(path).expect("create bench file");
    let mut w =
        PcapWriter::new(BufWriter::with_capacity(1 << 22, file), 1, snaplen).expect("pcap header");
    let line_bps = 25e9;
    let mut t: u64 = 1_700_000_000 * 1_000_000_000;
    let mut next_burst = t + 2_000_000;
    let mut buf = Vec::with_capacity(9100);
    let mut n = 0;
    // Mostly ACK-sized and MTU-sized frames, as on a busy server port; some jumbo frames.
    let sizes = [
        66usize, 66, 66, 66, 66, 90, 128, 128, 576, 576, 1514, 1514, 1514, 1514, 1514, 1514, 1514,
        1514, 1514, 9000,
    ];
    let (mut cur, mut train_left) = (0usize, 0u64);
    while n < packets {
        if t >= next_burst {
            // A burst: one flow at line rate.
            let f = rng.below(200) as usize;
            for _ in 0..(50 + rng.below(350)) {
                let size = 1514;
                frame(&mut flows[f], size, &mut rng, &mut buf);
                w.write(t, size as u32, &buf).expect("write");
                t += (size as f64 * 8e9 / line_bps) as u64 + 1;
                n += 1;
            }
            next_burst = t + 2_000_000;
            continue;
        }
        if rng.below(1000) == 0 {
            buf.clear();
            buf.extend_from_slice(&[0xff; 6]);
            buf.extend_from_slice(&[0x02, 0, 0, 0, 0, 9, 0x08, 0x06]);
            buf.resize(60, 0);
            w.write(t, 60, &buf).expect("write");
        } else {
            // Senders with segmentation offload put trains of frames of one flow on the wire
            // back to back: 1 to 8 frames here, then another flow.
            if train_left == 0 {
                cur = rng.below(200) as usize;
                train_left = 1 + rng.below(8);
            }
            train_left -= 1;
            let size = sizes[rng.below(sizes.len() as u64) as usize];
            frame(&mut flows[cur], size, &mut rng, &mut buf);
            w.write(t, size as u32, &buf).expect("write");
        }
        n += 1;
        // About 9 Gbit/s of 1.2 KB average frames: a packet every ~1.1 us, jittered.
        t += 100 + rng.below(2_000);
    }
    w.finish().expect("flush bench file");
    n
}

/// Wall time and CPU time (user + system, from bash's `times`) of one run of a command.
fn time_cmd(cmd: &str, args: &[&str]) -> Option<(Duration, Duration)> {
    let t = Instant::now();
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#""$@" >/dev/null 2>&1; s=$?; times; exit $s"#)
        .arg("bash")
        .arg(cmd)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let wall = t.elapsed();
    if !out.status.success() {
        return None;
    }
    // Second line: user and system time of the children, "0m1.234s 0m0.056s".
    let text = String::from_utf8_lossy(&out.stdout);
    let cpu = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .map(|f| {
            let (m, s) = f.trim_end_matches('s').split_once('m')?;
            Some(m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
        })
        .sum::<Option<f64>>()?;
    Some((wall, Duration::from_secs_f64(cpu)))
}

/// CPU time of this thread so far (first field of schedstat, ns).
fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        s.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

fn stats(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[0], v[v.len() / 2])
}

fn report(name: &str, times: &[(Duration, Duration)], packets: u64) {
    if times.is_empty() {
        println!("{name}\n    not run (tool missing or failed)");
        return;
    }
    let runs = times.len();
    let (wmin, wmed) = stats(times.iter().map(|t| t.0).collect());
    let (cmin, cmed) = stats(times.iter().map(|t| t.1).collect());
    let rate = |d: Duration| {
        let r = packets as f64 / d.as_secs_f64().max(1e-9);
        if r >= 1e5 {
            format!("{:.2} M", r / 1e6)
        } else {
            format!("{:.2} k", r / 1e3)
        }
    };
    println!(
        "{name} ({runs} runs)\n    wall min {:>8.3} s median {:>8.3} s = {:>8} / {:>8} pkt/s\n    \
         cpu  min {:>8.3} s median {:>8.3} s = {:>8} / {:>8} pkt/s",
        wmin.as_secs_f64(),
        wmed.as_secs_f64(),
        rate(wmin),
        rate(wmed),
        cmin.as_secs_f64(),
        cmed.as_secs_f64(),
        rate(cmin),
        rate(cmed),
    );
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes --bench; nothing else is accepted.
    let packets = env_u64("DPUCTL_BENCH_PACKETS", 1_000_000);
    let runs = env_u64("DPUCTL_BENCH_RUNS", 7).max(1) as usize;
    let tools = std::env::var("DPUCTL_BENCH_TOOLS").map_or(true, |v| v != "0");
    // The same traffic twice: full frames, and cut to 128 bytes as `dpuctl capture -s 128`
    // or `tcpdump -s 128` write it for header analysis. Each record costs the reader one
    // cache miss it cannot hide (the next record's place is in the one before), so the
    // full-frame file measures memory latency as much as code.
    for (label, snaplen) in [
        ("full frames", 262_144u32),
        ("headers only, snaplen 128", 128),
    ] {
        let path: PathBuf =
            std::env::temp_dir().join(format!("dpuctl-capture-bench-{packets}-{snaplen}.pcap"));
        let t = Instant::now();
        let n = generate(&path, packets, snaplen);
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        println!(
            "\n== {label}: {} : {n} packets, {:.1} MiB, generated in {:.1} s",
            path.display(),
            size as f64 / 1_048_576.0,
            t.elapsed().as_secs_f64()
        );
        bench_file(&path, n, runs, tools, snaplen < 1024);
        if std::env::var_os("DPUCTL_BENCH_KEEP").is_none() {
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn bench_file(path: &Path, n: u64, runs: usize, tools: bool, headers_only: bool) {
    let file = path.to_str().expect("utf-8 path");
    let dpuctl = env!("CARGO_BIN_EXE_dpuctl");

    // In process: the reader and the analysis alone, on the mapped file (warm page cache),
    // and read in windows as the command does (copies from the page cache, no mapping).
    let map = Mapped::open(path).expect("map bench file");
    let mut inproc = Vec::new();
    let mut streamed = Vec::new();
    for run in 0..runs * 2 {
        let t = Instant::now();
        let c = thread_cpu();
        let input = if run % 2 == 0 {
            Input::Bytes(map.bytes())
        } else {
            Input::Stream(Stream::open(path).expect("open bench file"))
        };
        let r = dpuctl::capture::analyze_input(
            input,
            Some(25_000_000_000),
            None,
            |rate| Options {
                resolution_ns: 10_000,
                burst: BurstConfig {
                    line_rate_bps: rate,
                    threshold: 0.5,
                },
                top: 10,
                keep_bins: false,
            },
            |_, _| {},
        )
        .expect("analyze");
        let took = (t.elapsed(), thread_cpu().saturating_sub(c));
        if run % 2 == 0 {
            inproc.push(took);
        } else {
            streamed.push(took);
        }
        assert_eq!(r.analysis.packets, n);
        assert!(r.error.is_none());
        assert!(r.analysis.burst_summary.count > 0);
    }
    drop(map);

    let mut dp = Vec::new();
    let mut dpj = Vec::new();
    for _ in 0..runs {
        dp.extend(time_cmd(
            dpuctl,
            &["capture", "analyze", file, "--line-rate", "25G"],
        ));
        dpj.extend(time_cmd(
            dpuctl,
            &[
                "capture",
                "analyze",
                file,
                "--line-rate",
                "25G",
                "-f",
                "json",
            ],
        ));
    }
    let runs_tools = if tools { runs } else { 0 };
    let mut cap = Vec::new();
    let mut capc = Vec::new();
    for _ in 0..runs_tools {
        cap.extend(time_cmd("capinfos", &[file]));
        capc.extend(time_cmd("capinfos", &["-c", "-M", file]));
    }
    // tshark's io,stat at 10 us takes minutes per million packets: one run, on the
    // headers-only file only unless DPUCTL_BENCH_TSHARK_FULL=1 (same packets either way).
    let tshark_runs =
        if tools && (headers_only || std::env::var_os("DPUCTL_BENCH_TSHARK_FULL").is_some()) {
            env_u64("DPUCTL_BENCH_TSHARK_RUNS", 1).max(1)
        } else {
            0
        };
    let mut ts = Vec::new();
    for _ in 0..tshark_runs {
        ts.extend(time_cmd(
            "tshark",
            &["-q", "-z", "io,stat,0.00001", "-r", file],
        ));
    }
    report(
        "in-process reader + analysis, mapped (one core)",
        &inproc,
        n,
    );
    report(
        "in-process reader + analysis, read in windows",
        &streamed,
        n,
    );
    report("dpuctl capture analyze (table)", &dp, n);
    report("dpuctl capture analyze -f json", &dpj, n);
    report("capinfos FILE (all statistics, incl. hashes)", &cap, n);
    report("capinfos -c -M FILE (packet count only)", &capc, n);
    report("tshark -q -z io,stat,0.00001 -r FILE", &ts, n);
}
