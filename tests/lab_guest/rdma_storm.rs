//! A RoCE retransmit storm on Soft-RoCE: rxe on a veth pair split across two network
//! namespaces sends and never receives (the 6.12 kernel's rxe listens on UDP 4791 in the
//! initial namespace only, so what reaches the far end finds no socket). An RC queue pair
//! (`ibv_rc_pingpong`, rdma-core's `ibverbs-utils`) connected to a peer queue pair that does
//! not exist then retransmits forever (rxe treats a retry count of 7 as unlimited), and
//! `completer_retry_err` rises. `dpuctl stats` must show the retransmits class rising for the
//! rxe port, and `dpuctl troubleshoot` must find them (`proto.rdma-errors`), with sysfs and
//! `rdma statistic show` (iproute2) as witnesses.
//!
//! `ibv_rc_pingpong` exchanges queue pair numbers over TCP before it sends: the test answers
//! that exchange itself on loopback with a made-up peer (QPN 0x123 at the far end's RoCE v2
//! GID), in the format of rdma-core's `libibverbs/examples/rc_pingpong.c`
//! (`"%04x:%06x:%06x:%s"`, LID, QPN, PSN and the GID as 32 hex digits in wire order, sent as
//! a 52-byte string with its NUL), after which the client sends `"done"`.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Ipv6Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{in_lab, tool};

const DEV: &str = "rxes0";
const NS: &str = "rstorm";
const NEAR: &str = "rs0";
const FAR: &str = "rs1";
const NEAR_IP: &str = "10.77.0.1";
const FAR_IP: &str = "10.77.0.2";
const HW: &str = "/sys/class/infiniband/rxes0/ports/1/hw_counters";

/// The storm's namespace, veth pair, rxe device and client process: all undone when dropped
/// (the client is killed by its PID), panics included.
struct Storm {
    client: Option<Child>,
}

impl Storm {
    fn setup() -> Self {
        tool("modprobe", &["rdma_rxe"]);
        // The verbs device file (/dev/infiniband/uverbsN) comes with ib_uverbs.
        tool("modprobe", &["ib_uverbs"]);
        let storm = Storm { client: None };
        tool("ip", &["netns", "add", NS]);
        tool(
            "ip",
            &[
                "link", "add", "name", NEAR, "type", "veth", "peer", "name", FAR, "netns", NS,
            ],
        );
        tool(
            "ip",
            &["addr", "add", &format!("{NEAR_IP}/24"), "dev", NEAR],
        );
        tool("ip", &["link", "set", "dev", NEAR, "up"]);
        tool(
            "ip",
            &["-n", NS, "addr", "add", &format!("{FAR_IP}/24"), "dev", FAR],
        );
        tool("ip", &["-n", NS, "link", "set", "dev", FAR, "up"]);
        tool("rdma", &["link", "add", DEV, "type", "rxe", "netdev", NEAR]);
        storm
    }
}

impl Drop for Storm {
    fn drop(&mut self) {
        if let Some(mut c) = self.client.take() {
            let _ = Command::new("kill")
                .args(["-KILL", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
        let _ = Command::new("rdma").args(["link", "delete", DEV]).status();
        let _ = Command::new("ip").args(["link", "del", NEAR]).status();
        let _ = Command::new("ip").args(["netns", "del", NS]).status();
    }
}

/// The index of the RoCE v2 GID holding `ip` on rxes0 port 1, once the kernel added it
/// (GIDs follow the netdev's addresses asynchronously).
fn roce_v2_gid_index(ip: &str) -> u32 {
    let want: Ipv6Addr = format!("::ffff:{ip}").parse().expect("v4-mapped");
    let port = "/sys/class/infiniband/rxes0/ports/1";
    let start = Instant::now();
    loop {
        for e in std::fs::read_dir(format!("{port}/gids")).expect("gids") {
            let e = e.expect("entry");
            let i: u32 = e.file_name().to_string_lossy().parse().expect("index");
            let gid: Option<Ipv6Addr> = std::fs::read_to_string(e.path())
                .ok()
                .and_then(|t| t.trim().parse().ok());
            let ty = std::fs::read_to_string(format!("{port}/gid_attrs/types/{i}"));
            if gid == Some(want) && ty.is_ok_and(|t| t.trim() == "RoCE v2") {
                return i;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no RoCE v2 GID for {ip} on {DEV} after 20 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn counter(name: &str) -> u64 {
    tool("cat", &[&format!("{HW}/{name}")])
        .trim()
        .parse()
        .expect("counter value")
}

/// `completer_retry_err` as `rdma statistic show link rxes0/1` prints it.
fn rdma_statistic_retries() -> u64 {
    let text = tool("rdma", &["statistic", "show", "link", &format!("{DEV}/1")]);
    let words: Vec<&str> = text.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "completer_retry_err")
        .unwrap_or_else(|| panic!("no completer_retry_err in: {text}"));
    words[at + 1].parse().expect("value")
}

/// Answers one `ibv_rc_pingpong` exchange on `listener` with a queue pair at `far_gid` that
/// does not exist; gives up after 60 s (or when `stop` is raised).
fn fake_peer(listener: &TcpListener, far_gid: Ipv6Addr, stop: &AtomicBool) {
    listener.set_nonblocking(true).expect("nonblocking");
    let start = Instant::now();
    let mut conn = loop {
        match listener.accept() {
            Ok((c, _)) => break c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if stop.load(Ordering::Relaxed) || start.elapsed() > Duration::from_secs(60) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    conn.set_nonblocking(false).expect("blocking");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut theirs = [0u8; 52];
    conn.read_exact(&mut theirs).expect("the client's address");
    let wire = far_gid.octets().iter().fold(String::new(), |mut w, b| {
        let _ = write!(w, "{b:02x}");
        w
    });
    let mut ours = format!("0000:000123:000456:{wire}").into_bytes();
    ours.push(0);
    assert_eq!(ours.len(), 52);
    conn.write_all(&ours).expect("our address");
    let mut done = [0u8; 5];
    let _ = conn.read_exact(&mut done);
}

fn dpuctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .output()
        .expect("run dpuctl")
}

#[test]
fn rdma_retransmit_storm_shows_in_stats_and_troubleshoot_finds_it() {
    in_lab();
    assert!(
        Path::new("/usr/bin/ibv_rc_pingpong").exists(),
        "ibv_rc_pingpong is missing: install ibverbs-utils and ibverbs-providers on the host \
         (tests/lab/lab.sh does)"
    );
    let mut storm = Storm::setup();
    let gid = roce_v2_gid_index(NEAR_IP);
    let far_gid: Ipv6Addr = format!("::ffff:{FAR_IP}").parse().expect("gid");
    let retries_before = counter("completer_retry_err");

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let peer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || fake_peer(&listener, far_gid, &stop))
    };
    let log = tempfile::NamedTempFile::new().expect("log");
    storm.client = Some(
        Command::new("ibv_rc_pingpong")
            .args(["-d", DEV, "-g", &gid.to_string(), "-p", &port, "127.0.0.1"])
            .stdout(log.reopen().expect("log"))
            .stderr(log.reopen().expect("log"))
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn ibv_rc_pingpong"),
    );
    // The storm is on once the requester retries.
    let start = Instant::now();
    while counter("completer_retry_err") == retries_before {
        if let Some(c) = storm.client.as_mut() {
            if let Some(st) = c.try_wait().expect("wait") {
                panic!(
                    "ibv_rc_pingpong exited ({st}) before retrying: {}",
                    std::fs::read_to_string(log.path()).unwrap_or_default()
                );
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no completer_retry_err after 60 s: {}",
            std::fs::read_to_string(log.path()).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    peer.join().expect("fake peer");
    // Nothing comes back: the far end has no RoCE socket.
    assert_eq!(counter("rcvd_pkts"), 0, "the far end answered");
    let witness_before = rdma_statistic_retries();

    // stats: an interval line per second, the rxe port with its retransmits class.
    let o = dpuctl(&[
        "stats",
        NEAR,
        "--format",
        "jsonl",
        "--interval",
        "1s",
        "--count",
        "4",
        "--sample-interval",
        "10ms",
    ]);
    assert!(
        o.status.success(),
        "stats: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let intervals: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .filter(|l| l["type"] == "interval")
        .collect();
    assert_eq!(intervals.len(), 4, "{intervals:?}");
    let port_of = |l: &Value| -> Value {
        let ports = l["rdma"].as_array().cloned().unwrap_or_default();
        let mine: Vec<&Value> = ports.iter().filter(|p| p["device"] == DEV).collect();
        assert_eq!(mine.len(), 1, "{l}");
        mine[0].clone()
    };
    let last = port_of(&intervals[3]);
    assert_eq!(last["port"], 1, "{last}");
    assert_eq!(last["netdev"], NEAR, "{last}");
    assert_eq!(last["driver"], "rxe", "{last}");
    let class = |p: &Value, name: &str| -> (f64, u64) {
        let c = p["classes"]
            .as_array()
            .expect("classes")
            .iter()
            .find(|c| c["class"] == name)
            .unwrap_or_else(|| panic!("no class {name}: {p}"));
        (
            c["rate"].as_f64().expect("rate"),
            c["total"].as_u64().expect("total"),
        )
    };
    let (rate, total) = class(&last, "retransmits");
    assert!(rate > 0.0, "retransmits not rising: {last}");
    let (_, first_total) = class(&port_of(&intervals[1]), "retransmits");
    assert!(total > first_total, "{first_total} -> {total}");
    // The counter behind the class, classified.
    let c = last["counters"]
        .as_array()
        .expect("counters")
        .iter()
        .find(|c| c["counter"] == "completer_retry_err")
        .cloned()
        .unwrap_or_else(|| panic!("no completer_retry_err: {last}"));
    assert_eq!(c["class"], "retransmits");
    assert!(c["rate"].as_f64().expect("rate") > 0.0, "{c}");
    // Witnesses: sysfs and iproute2's `rdma statistic` saw the counter rise past what stats
    // reported.
    let witness_after = rdma_statistic_retries();
    assert!(
        witness_after > witness_before,
        "{witness_before} -> {witness_after}"
    );
    assert!(
        counter("completer_retry_err") >= c["total"].as_u64().expect("total"),
        "{c}"
    );

    // troubleshoot, non-interactively: the RDMA step names the port, its netdev and the
    // counter.
    let o = dpuctl(&[
        "troubleshoot",
        "--format",
        "json",
        "--symptom",
        "throughput",
        "--iface",
        NEAR,
        "--window",
        "2s",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "troubleshoot: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: Value = serde_json::from_slice(&o.stdout).expect("json report");
    let found: Vec<&Value> = r["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|s| s["findings"].as_array().expect("findings"))
        .filter(|f| f["id"] == "proto.rdma-errors")
        .collect();
    let f = found
        .iter()
        .find(|f| f["subject"] == format!("{DEV}/1"))
        .unwrap_or_else(|| panic!("no proto.rdma-errors for {DEV}/1: {found:#?}"));
    assert!(f["severity"] == "warn" || f["severity"] == "crit", "{f:#}");
    let title = f["title"].as_str().expect("title");
    assert!(
        title.contains("retransmits") && title.contains(NEAR),
        "{title}"
    );
    assert!(
        f["evidence"].to_string().contains("completer_retry_err"),
        "{f:#}"
    );
    assert_eq!(counter("rcvd_pkts"), 0, "the far end answered");
    drop(storm);
    assert!(!Path::new("/sys/class/infiniband/rxes0").exists());
}
