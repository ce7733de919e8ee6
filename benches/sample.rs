//! Benchmark (not a test): one counter sample of every interface, and a full `show`, on 64 veth
//! interfaces in a network namespace this program creates and deletes. Needs root.
//!
//!     cargo bench --bench sample
//!
//! Targets: under 2 us per interface for a counter sample; under 20 ms for a full `show`.

use std::fmt::Write as _;
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
    let ns = format!("dpbench-{}", std::process::id());
    let ip = |args: &[&str]| {
        let ok = Command::new("ip")
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "ip {args:?} failed (the benchmark needs root)");
    };
    ip(&["netns", "add", &ns]);
    // Build all links in one `ip -batch` so setup stays fast.
    let mut batch = String::new();
    for i in 0..PAIRS {
        let _ = write!(
            batch,
            "link add name va{i} numtxqueues 4 numrxqueues 4 type veth peer name vb{i} \
             numtxqueues 4 numrxqueues 4\nlink set dev va{i} up\nlink set dev vb{i} up\n"
        );
    }
    let file = std::env::temp_dir().join(format!("{ns}.batch"));
    std::fs::write(&file, batch).expect("write batch");
    ip(&["-n", &ns, "-batch", file.to_str().expect("path")]);
    let _ = std::fs::remove_file(&file);
    let exe = std::env::current_exe().expect("self");
    let status = Command::new("ip")
        .args(["netns", "exec", &ns])
        .arg(exe)
        .env(INNER, &ns)
        .status();
    ip(&["netns", "del", &ns]);
    assert!(status.is_ok_and(|s| s.success()), "benchmark failed");
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
    let iters = 50;
    let t = Instant::now();
    for _ in 0..iters {
        state = collect::collect(&root, &[]).expect("collect");
        let text = dpuctl::output::show_table(&state);
        assert!(!text.is_empty());
    }
    let us = per_iter(t.elapsed(), iters);
    println!(
        "full show ({} interfaces, collect + table): {:.2} ms",
        state.interfaces.len(),
        us / 1000.0
    );
}
