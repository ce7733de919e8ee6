//! A known train of UDP bursts, sent from inside a namespace by a re-run of the test binary.
//!
//! The outer test calls [`spawn_bursts`]; the child is this same test binary started with
//! `ip netns exec NS <binary> --exact <test>` and the train described in the environment.
//! Every test that uses it calls [`sender_hook`] first: in the child it sends the train, prints
//! what it actually sent (one JSON line per burst: start and end in ns after the first burst,
//! packets, bytes) and exits.

#![allow(dead_code)]

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Netns;

const ENV: &str = "DPUCTL_TEST_BURSTS";

/// A train of bursts.
#[derive(Debug, Clone)]
pub struct BurstTrain {
    /// Destination `addr:port`.
    pub dst: String,
    /// Number of bursts.
    pub bursts: u32,
    /// Datagrams per burst.
    pub packets: u32,
    /// UDP payload bytes per datagram.
    pub payload: usize,
    /// Quiet time between the end of one burst and the start of the next.
    pub gap: Duration,
    /// Quiet time before the first burst (lets the watcher start).
    pub lead: Duration,
}

/// What the sender actually sent for one burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Start, ns after the first burst started.
    pub start_ns: u64,
    /// End (after the last send returned), ns after the first burst started.
    pub end_ns: u64,
    /// Datagrams sent.
    pub packets: u64,
    /// Payload bytes sent.
    pub bytes: u64,
}

impl Sent {
    /// Duration of the burst in ns.
    pub fn duration_ns(&self) -> u64 {
        self.end_ns - self.start_ns
    }
}

/// Starts the sender inside `ns` (a re-run of the running test). Its stdout is piped: pass
/// the child to [`wait_sent`].
pub fn spawn_bursts(ns: &Netns, train: &BurstTrain) -> Child {
    let exe = std::env::current_exe().expect("current test binary");
    let test = std::thread::current()
        .name()
        .expect("libtest names the test thread")
        .to_string();
    let spec = format!(
        "{},{},{},{},{},{}",
        train.dst,
        train.bursts,
        train.packets,
        train.payload,
        train.gap.as_micros(),
        train.lead.as_micros()
    );
    Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(exe)
        .args(["--exact", &test, "--nocapture", "--test-threads=1"])
        .env(ENV, spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn burst sender")
}

/// Waits for the sender and returns what it sent.
pub fn wait_sent(child: Child) -> Vec<Sent> {
    let out = child.wait_with_output().expect("wait for burst sender");
    assert!(
        out.status.success(),
        "burst sender failed: {:?}",
        out.status
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // libtest prints "test NAME ... " without a newline before the test's own output, so
        // the first report may follow it on the same line.
        .filter_map(|l| l.find("SENT ").map(|i| &l[i + 5..]))
        .map(|l| {
            let v: Vec<u64> = l
                .split(',')
                .map(|x| x.parse().expect("sender line"))
                .collect();
            Sent {
                start_ns: v[0],
                end_ns: v[1],
                packets: v[2],
                bytes: v[3],
            }
        })
        .collect()
}

/// In the sender child: sends the train and exits the process. Elsewhere: returns at once.
pub fn sender_hook() {
    let Ok(spec) = std::env::var(ENV) else {
        return;
    };
    let f: Vec<&str> = spec.split(',').collect();
    let dst = f[0];
    let bursts: u32 = f[1].parse().expect("bursts");
    let packets: u32 = f[2].parse().expect("packets");
    let payload: usize = f[3].parse().expect("payload");
    let gap = Duration::from_micros(f[4].parse().expect("gap"));
    let lead = Duration::from_micros(f[5].parse().expect("lead"));
    let sock = UdpSocket::bind("0.0.0.0:0").expect("bind sender");
    sock.connect(dst).expect("connect sender");
    let buf = vec![0x5a_u8; payload];
    std::thread::sleep(lead);
    let t0 = Instant::now();
    let mut next = t0;
    for _ in 0..bursts {
        // Wait for the burst's start time (sleep most of it, spin the rest for precision).
        while let Some(left) = next.checked_duration_since(Instant::now()) {
            if let Some(nap) = left.checked_sub(Duration::from_millis(2)) {
                std::thread::sleep(nap);
            }
        }
        let start = t0.elapsed();
        let mut sent = 0u64;
        for _ in 0..packets {
            // ENOBUFS under pressure is part of the test's conditions: count what went out.
            if sock.send(&buf).is_ok() {
                sent += 1;
            }
        }
        let end = t0.elapsed();
        println!(
            "SENT {},{},{},{}",
            start.as_nanos(),
            end.as_nanos(),
            sent,
            sent * payload as u64
        );
        next = t0 + end + gap;
    }
    std::process::exit(0);
}

const FLOOD_ENV: &str = "DPUCTL_TEST_RCVBUF_FLOOD";

/// Runs, inside `ns`, a UDP receiver on loopback that never reads, and a sender that sends it `packets` datagrams of `payload`
/// bytes spread over `duration`: all but the first few are receive-buffer drops
/// (`Udp.RcvbufErrors`). A re-run of the running test, like [`spawn_bursts`]; returns when
/// it is done, with the number of datagrams sent.
pub fn rcvbuf_flood(ns: &Netns, packets: u32, payload: usize, duration: Duration) -> u64 {
    let exe = std::env::current_exe().expect("current test binary");
    let test = std::thread::current()
        .name()
        .expect("libtest names the test thread")
        .to_string();
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(exe)
        .args(["--exact", &test, "--nocapture", "--test-threads=1"])
        .env(
            FLOOD_ENV,
            format!("{packets},{payload},{}", duration.as_micros()),
        )
        .stderr(Stdio::inherit())
        .output()
        .expect("run the flood");
    assert!(out.status.success(), "flood failed: {:?}", out.status);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.find("FLOODED ").map(|i| l[i + 8..].trim().to_string()))
        .expect("the flood reports what it sent")
        .parse()
        .expect("count")
}

/// In the flood child: floods and exits the process. Elsewhere: returns at once.
pub fn rcvbuf_flood_hook() {
    let Ok(spec) = std::env::var(FLOOD_ENV) else {
        return;
    };
    let f: Vec<u64> = spec
        .split(',')
        .map(|x| x.parse().expect("flood spec"))
        .collect();
    let (packets, payload, duration) = (
        u32::try_from(f[0]).expect("packets"),
        f[1] as usize,
        Duration::from_micros(f[2]),
    );
    let rx = UdpSocket::bind("127.0.0.1:0").expect("bind receiver");
    // A receiver that never reads: once its buffer (net.core.rmem_default, about 200 KiB,
    // some ninety 1000-byte datagrams on loopback) is full, every datagram is a drop.
    let tx = UdpSocket::bind("127.0.0.1:0").expect("bind sender");
    tx.connect(rx.local_addr().expect("receiver address"))
        .expect("connect");
    let buf = vec![0x5a_u8; payload];
    let t0 = Instant::now();
    let mut sent = 0u64;
    for k in 0..packets {
        // Paced: the drops spread over `duration`, seen by several reads of the counters.
        let due = duration * k / packets;
        if let Some(wait) = due.checked_sub(t0.elapsed()) {
            std::thread::sleep(wait);
        }
        if tx.send(&buf).is_ok() {
            sent += 1;
        }
    }
    println!("FLOODED {sent}");
    drop(rx);
    std::process::exit(0);
}
