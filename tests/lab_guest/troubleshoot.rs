//! `dpuctl troubleshoot` on the lab guest's real drivers: queue IRQs moved onto the NUMA node
//! remote from the NICs (node 0; virtio0 and igb0 sit on node 1), and a tiny
//! `net.core.netdev_max_backlog` (a global sysctl, so only here, never on the host) under a
//! flood that overflows a CPU's backlog. Each test restores what it changed, panics included.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::Value;

use crate::{in_lab, tool};

fn troubleshoot(args: &[&str]) -> (Value, Output) {
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .arg("troubleshoot")
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("run dpuctl");
    let code = o.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "troubleshoot {args:?}: exit {code:?}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (serde_json::from_slice(&o.stdout).expect("json report"), o)
}

fn finding<'a>(r: &'a Value, id: &str, subject: &str) -> &'a Value {
    let all: Vec<&Value> = r["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|s| s["findings"].as_array().expect("findings"))
        .filter(|f| f["id"] == id && f["subject"] == subject)
        .collect();
    assert_eq!(all.len(), 1, "{id} {subject}: {r:#}");
    all[0]
}

/// Queue IRQ numbers of a NIC, from dpuctl's view of which IRQ is whose.
fn queue_irqs(iface: &str) -> Vec<u64> {
    crate::show(iface)["irqs"]
        .as_array()
        .expect("irqs")
        .iter()
        .filter(|x| !x["queue"].is_null())
        .map(|x| x["irq"].as_u64().expect("irq"))
        .collect()
}

fn affinity_path(irq: u64) -> String {
    format!("/proc/irq/{irq}/smp_affinity_list")
}

/// Writes IRQ affinities and puts the old ones back when dropped.
struct Affinities(Vec<(u64, String)>);

impl Affinities {
    fn set(irqs: &[u64], cpus: &str) -> Self {
        let saved = irqs
            .iter()
            .map(|&n| (n, tool("cat", &[&affinity_path(n)]).trim().to_string()))
            .collect();
        for &n in irqs {
            std::fs::write(affinity_path(n), cpus).expect("write smp_affinity_list");
        }
        Self(saved)
    }
}

impl Drop for Affinities {
    fn drop(&mut self) {
        for (n, cpus) in &self.0 {
            let _ = std::fs::write(affinity_path(*n), cpus);
        }
    }
}

#[test]
fn queue_irqs_on_the_nic_remote_numa_node_are_found() {
    in_lab();
    for iface in ["virtio0", "igb0"] {
        let irqs = queue_irqs(iface);
        assert!(irqs.len() >= 4, "{iface}: {irqs:?}");
        // Node 0 (CPUs 0-1) is remote from the NIC (node 1, CPUs 2-3).
        let guard = Affinities::set(&irqs, "0");
        for &n in &irqs {
            assert_eq!(tool("cat", &[&affinity_path(n)]).trim(), "0", "irq {n}");
        }
        let (r, o) = troubleshoot(&[
            "--symptom",
            "latency",
            "--iface",
            iface,
            "--window",
            "300ms",
        ]);
        let f = finding(&r, "irq.numa-remote", iface);
        assert_eq!(f["severity"], "warn", "{f:#}");
        assert_eq!(o.status.code(), Some(1));
        let ev = f["evidence"].to_string();
        for n in &irqs {
            assert!(
                ev.contains(&format!("irq {n} ")),
                "irq {n} not in the evidence: {ev}"
            );
        }
        assert!(ev.contains("node 1 CPUs") && ev.contains("2-3"), "{ev}");
        // The control: on node 1 the same check is ok.
        drop(guard);
        let guard = Affinities::set(&irqs, "2");
        let (r, _) = troubleshoot(&[
            "--symptom",
            "latency",
            "--iface",
            iface,
            "--window",
            "300ms",
        ]);
        assert_eq!(
            finding(&r, "irq.numa-remote", iface)["severity"],
            "ok",
            "{r:#}"
        );
        drop(guard);
    }
}

const BACKLOG: &str = "/proc/sys/net/core/netdev_max_backlog";

/// The flood's namespace and the saved backlog, both undone when dropped.
struct Flood {
    backlog: String,
}

impl Drop for Flood {
    fn drop(&mut self) {
        let _ = std::fs::write(BACKLOG, &self.backlog);
        let _ = Command::new("ip")
            .args(["netns", "del", "tsflood"])
            .output();
    }
}

#[test]
fn tiny_netdev_max_backlog_under_a_flood_is_found() {
    in_lab();
    let _flood = Flood {
        backlog: tool("cat", &[BACKLOG]).trim().to_string(),
    };
    std::fs::write(BACKLOG, "10").expect("set netdev_max_backlog");
    assert_eq!(tool("cat", &[BACKLOG]).trim(), "10");
    tool("ip", &["netns", "add", "tsflood"]);
    tool(
        "ip",
        &[
            "link", "add", "name", "tsa", "type", "veth", "peer", "name", "tsb", "netns", "tsflood",
        ],
    );
    tool("ip", &["addr", "add", "10.78.0.1/24", "dev", "tsa"]);
    tool("ip", &["link", "set", "dev", "tsa", "up"]);
    tool("ip", &["-n", "tsflood", "link", "set", "dev", "tsb", "up"]);
    // Every packet tsb receives is steered to CPU 0's backlog (RPS), which the senders on the
    // other CPUs fill faster than CPU 0 drains it.
    tool(
        "ip",
        &[
            "netns",
            "exec",
            "tsflood",
            "sh",
            "-c",
            "echo 1 > /sys/class/net/tsb/queues/rx-0/rps_cpus",
        ],
    );
    // To an address nobody has, through a static neighbour entry: no ARP, dropped silently on
    // the far side (no forwarding) once it made it through the backlog.
    let mac = tool(
        "ip",
        &[
            "netns",
            "exec",
            "tsflood",
            "cat",
            "/sys/class/net/tsb/address",
        ],
    );
    tool(
        "ip",
        &[
            "neigh",
            "add",
            "10.78.0.3",
            "lladdr",
            mac.trim(),
            "dev",
            "tsa",
        ],
    );
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..3)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let sock = std::net::UdpSocket::bind("10.78.0.1:0").expect("bind");
                sock.connect("10.78.0.3:9").expect("connect");
                let buf = [0x5a_u8; 64];
                let mut sent = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if sock.send(&buf).is_ok() {
                        sent += 1;
                    }
                }
                sent
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (r, o) = troubleshoot(&["--symptom", "auto", "--iface", "tsa", "--window", "2s"]);
    stop.store(true, Ordering::Relaxed);
    let sent: u64 = senders.into_iter().map(|t| t.join().expect("sender")).sum();
    assert!(sent > 10_000, "the flood sent only {sent} datagrams");
    assert_eq!(r["decision"]["symptom"], "latency", "{:#}", r["decision"]);
    let reason = r["decision"]["reason"].as_str().expect("reason");
    assert!(reason.contains("softnet drops"), "{reason}");
    let f = finding(&r, "backlog.softnet", "node");
    assert_eq!(f["severity"], "crit", "{f:#}");
    assert!(f["evidence"].to_string().contains("cpu0 dropped"), "{f:#}");
    let m = finding(&r, "backlog.max-backlog", "node");
    assert_eq!(m["severity"], "warn", "{m:#}");
    assert_eq!(o.status.code(), Some(1));
    // The suggested fix raises the backlog well above the flood's depth.
    let fix = f["fix"]["profile"].as_str().expect("fix profile");
    assert!(fix.contains("net.core.netdev_max_backlog: 16384"), "{fix}");
}
