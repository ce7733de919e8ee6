//! `dpuctl troubleshoot` on the real kernel, in network namespaces the tests create: each test
//! makes a condition on a veth pair, sees troubleshoot find it, applies the fix troubleshoot
//! suggests with `dpuctl tune`, and sees the finding go away. `ip` and the sysfs files are the
//! witnesses. The interactive walk runs in tmux, driven by send-keys and read by capture-pane.
//!
//! `net.core.netdev_max_backlog` is global (not per namespace: it is absent from
//! `/proc/sys/net/core` inside one), so the backlog flood scenario runs in the lab guest
//! (`tests/lab_guest/troubleshoot.rs`), never here.
//!
//! Needs root, `ip` (iproute2) and `tmux`.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::tmux::Tmux;
use common::Netns;
use serde_json::Value;

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `dpuctl troubleshoot ... --format json` in the namespace: the report and the exit code.
fn troubleshoot(ns: &Netns, args: &[&str]) -> (Value, i32) {
    let mut a = vec!["troubleshoot", "--format", "json", "--window", "300ms"];
    a.extend_from_slice(args);
    let o = ns.dpuctl(&a);
    let (out, err) = text(&o);
    let code = o.status.code().expect("exit code");
    assert!(
        code == 0 || code == 1,
        "troubleshoot {args:?}: exit {code}\n{err}"
    );
    (serde_json::from_str(&out).expect("json report"), code)
}

/// The findings with this id and subject.
fn findings<'a>(report: &'a Value, id: &str, subject: &str) -> Vec<&'a Value> {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|s| s["findings"].as_array().expect("findings"))
        .filter(|f| f["id"] == id && f["subject"] == subject)
        .collect()
}

fn one<'a>(report: &'a Value, id: &str, subject: &str) -> &'a Value {
    let f = findings(report, id, subject);
    assert_eq!(f.len(), 1, "{id} {subject}: {report:#}");
    f[0]
}

/// Saves the fix's profile in `dir` and applies it with `dpuctl tune --yes` in the namespace.
fn apply_fix(ns: &Netns, dir: &Path, finding: &Value) {
    let fix = &finding["fix"];
    let profile = fix["profile"].as_str().expect("fix with a profile");
    let path = dir.join("troubleshoot-fix.yaml");
    std::fs::write(&path, profile).expect("write fix");
    let cmd = fix["command"].as_str().expect("command");
    assert!(
        cmd.starts_with("dpuctl tune ./troubleshoot-fix.yaml"),
        "{cmd}"
    );
    // The suggested command, with the saved file's real path and without the prompt.
    let mut args = vec![
        "--state-dir".to_string(),
        dir.to_string_lossy().into_owned(),
    ];
    args.extend(cmd.split_whitespace().skip(1).map(|a| {
        if a.starts_with("./") {
            path.to_string_lossy().into_owned()
        } else {
            a.to_string()
        }
    }));
    args.push("--yes".to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = ns.dpuctl(&args);
    assert!(o.status.success(), "{args:?}: {}", text(&o).1);
}

#[test]
fn rps_off_on_a_multiqueue_veth_is_found_and_the_fix_clears_it() {
    let ns = Netns::new("tsrps");
    ns.veth("a", "b", 4);
    let dir = tempfile::tempdir().expect("state dir");
    // Witness: RPS is off on every receive queue of a.
    for q in 0..4 {
        let v = ns.exec_ok(
            "cat",
            &[&format!("/sys/class/net/a/queues/rx-{q}/rps_cpus")],
        );
        assert!(
            v.trim().chars().all(|c| c == '0' || c == ','),
            "rx-{q}: {v}"
        );
    }
    let (r, code) = troubleshoot(&ns, &["--symptom", "latency", "--iface", "a"]);
    let f = one(&r, "irq.rps", "a");
    assert_eq!(f["severity"], "warn", "{f:#}");
    assert_eq!(code, 1, "a warning makes exit code 1");
    apply_fix(&ns, dir.path(), f);
    for q in 0..4 {
        let v = ns.exec_ok(
            "cat",
            &[&format!("/sys/class/net/a/queues/rx-{q}/rps_cpus")],
        );
        assert!(
            v.trim().chars().any(|c| c != '0' && c != ','),
            "rx-{q} still off: {v}"
        );
    }
    let (r, _) = troubleshoot(&ns, &["--symptom", "latency", "--iface", "a"]);
    assert_eq!(one(&r, "irq.rps", "a")["severity"], "ok", "{r:#}");
}

#[test]
fn mtu_mismatch_between_veth_ends_is_found_and_the_fix_clears_it() {
    let ns = Netns::new("tsmtu");
    ns.veth("a", "b", 1);
    ns.ip(&["link", "set", "dev", "b", "mtu", "9000"]);
    let dir = tempfile::tempdir().expect("state dir");
    let (r, code) = troubleshoot(&ns, &["--symptom", "throughput"]);
    assert_eq!(code, 1);
    let fa = one(&r, "throughput.mtu", "a");
    let fb = one(&r, "throughput.mtu", "b");
    assert_eq!(
        (&fa["severity"], &fb["severity"]),
        (&"warn".into(), &"warn".into())
    );
    assert!(
        fa["title"].as_str().expect("title").contains("1500"),
        "{fa:#}"
    );
    // The fix raises the smaller end to the larger MTU.
    apply_fix(&ns, dir.path(), fa);
    let link = ns.ip(&["-o", "link", "show", "dev", "a"]);
    assert!(link.contains("mtu 9000"), "ip link: {link}");
    let (r, _) = troubleshoot(&ns, &["--symptom", "throughput"]);
    assert_eq!(one(&r, "throughput.mtu", "a")["severity"], "ok", "{r:#}");
    assert_eq!(one(&r, "throughput.mtu", "b")["severity"], "ok", "{r:#}");
}

/// Set in the re-run sender child: `ADDR:PORT,COUNT,PAYLOAD`.
const SEND_ENV: &str = "DPUCTL_TEST_TS_SEND";

/// In the sender child (this test binary re-run inside a namespace): sends COUNT datagrams
/// after a lead of 1.5 s, prints how many went out on a line of its own, and exits.
fn sender_child() {
    let Ok(spec) = std::env::var(SEND_ENV) else {
        return;
    };
    let f: Vec<&str> = spec.split(',').collect();
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").expect("bind");
    sock.connect(f[0]).expect("connect");
    let buf = vec![0x5a_u8; f[2].parse().expect("payload")];
    // Long enough for troubleshoot to read the node and start its window first, even on a
    // loaded machine.
    std::thread::sleep(Duration::from_millis(1500));
    let mut sent = 0;
    for _ in 0..f[1].parse::<u32>().expect("count") {
        if sock.send(&buf).is_ok() {
            sent += 1;
        }
    }
    // libtest has printed "test NAME ... " without a newline: start a fresh line.
    println!("\nSENT {sent}");
    std::process::exit(0);
}

#[test]
fn window_counts_what_crossed_the_veth() {
    sender_child();
    let ns = Netns::new("tswin");
    let far = Netns::new("tswin-far");
    // No IPv6 on the pair: its link-up chatter (solicitations, MLD) would add packets.
    for n in [&ns, &far] {
        for conf in ["all", "default"] {
            n.exec_ok(
                "sh",
                &[
                    "-c",
                    &format!("echo 1 > /proc/sys/net/ipv6/conf/{conf}/disable_ipv6"),
                ],
            );
        }
    }
    ns.veth("a", "b", 1);
    ns.ip(&["link", "set", "dev", "b", "netns", &far.name]);
    far.ip(&["link", "set", "dev", "b", "up"]);
    ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "a"]);
    far.ip(&["addr", "add", "10.77.0.2/24", "dev", "b"]);
    // To an address nobody has, through a static neighbour entry: the datagrams cross the
    // veth and the far side drops them silently (no forwarding), so no ARP and no ICMP add
    // packets of their own.
    let mac = far.exec_ok("cat", &["/sys/class/net/b/address"]);
    ns.ip(&[
        "neigh",
        "add",
        "10.77.0.3",
        "lladdr",
        mac.trim(),
        "dev",
        "a",
    ]);
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "window_counts_what_crossed_the_veth",
            "--nocapture",
        ])
        .env(SEND_ENV, "10.77.0.3:9,1000,1000")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn sender");
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("ticket.json");
    let o = far.dpuctl(&[
        "troubleshoot",
        "--symptom",
        "throughput",
        "--iface",
        "b",
        "--window",
        "4s",
        "--format",
        "json",
        "--report",
        report.to_str().expect("utf-8"),
    ]);
    let child = child.wait_with_output().expect("sender");
    assert!(child.status.success(), "sender failed");
    let sent: u64 = String::from_utf8_lossy(&child.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("SENT "))
        .expect("SENT line")
        .parse()
        .expect("count");
    let (out, err) = text(&o);
    let r: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let f = one(&r, "throughput.utilization", "b");
    let rx = f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .find(|e| e["what"] == "rx_packets")
        .expect("rx_packets evidence");
    let delta = rx["delta"].as_u64().expect("delta");
    // Everything sent arrived inside the window (a 1.5 s lead, then a few ms of sending),
    // and nothing else crossed.
    assert_eq!(sent, 1000, "the sender sent every datagram");
    assert_eq!(delta, sent, "rx_packets of b over the window");
    assert!(
        (r["window_seconds"].as_f64().expect("seconds") - 4.0).abs() < 0.5,
        "{r:#}"
    );
    // The report file carries the raw readings too; stdout does not.
    assert!(r.get("counters").is_none(), "stdout JSON stays lean");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    let rx = |at: &str| file["counters"][at]["interfaces"][0]["counters"]["rx_packets"].as_u64();
    assert_eq!(file["counters"]["end"]["interfaces"][0]["name"], "b");
    assert_eq!(rx("end").unwrap_or(0) - rx("start").unwrap_or(0), delta);
}

#[test]
fn interactive_walk_in_a_terminal_goes_deeper_back_and_quits() {
    let ns = Netns::new("tstty");
    ns.veth("a", "b", 4);
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("walk.md");
    let script = format!(
        "ip netns exec {} {} troubleshoot --iface a --window 300ms --report {}; \
         echo \"exit=$?\"; sleep 600",
        ns.name,
        env!("CARGO_BIN_EXE_dpuctl"),
        report.display()
    );
    let tmux = Tmux::start("ts", 120, 50, &script);
    tmux.history_limit(5000);
    tmux.wait_history("[y] yes, latency", 1);
    tmux.keys(&["y", "Enter"]);
    let s = tmux.wait_history("step 1/4: check queue backlog", 1);
    assert!(s.contains("measured counters over 0.3 s"), "{s}");
    tmux.keys(&["d", "Enter"]);
    let s = tmux.wait_history("step 2/4: adjust IRQ affinity", 1);
    assert!(
        s.contains("WARN  irq.rps") && s.contains("a: RPS off on 4 receive queues"),
        "{s}"
    );
    tmux.keys(&["b", "Enter"]);
    tmux.wait_history("step 1/4: check queue backlog", 2);
    tmux.keys(&["d", "Enter"]);
    tmux.wait_history("step 2/4: adjust IRQ affinity", 2);
    tmux.keys(&["q", "Enter"]);
    let s = tmux.wait_history("exit=", 1);
    assert!(s.contains("Summary:"), "{s}");
    assert!(s.contains("Suggested fixes"), "{s}");
    assert!(s.contains("rps: {cpus: nic-numa}"), "{s}");
    assert!(s.contains("exit=1"), "problems found: {s}");
    assert!(!s.contains("step 3/4"), "quit before step 3: {s}");
    // The report holds the steps walked, no more.
    let md = std::fs::read_to_string(&report).expect("report");
    assert!(md.contains("## Step 2: adjust IRQ affinity"), "{md}");
    assert!(md.contains("| WARN | `irq.rps` | a |"), "{md}");
    assert!(!md.contains("## Step 3"), "{md}");
}

#[test]
fn progress_line_on_a_terminal_stderr_only() {
    let ns = Netns::new("tsprog");
    ns.veth("a", "b", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.txt");
    // stdout to a file, stderr on the terminal: the report has no progress in it, the
    // terminal shows it while the window runs.
    let script = format!(
        "ip netns exec {} {} troubleshoot --symptom latency --window 3s > {}; echo \"exit=$?\"; sleep 600",
        ns.name,
        env!("CARGO_BIN_EXE_dpuctl"),
        out.display()
    );
    let tmux = Tmux::start("tsp", 120, 20, &script);
    let s = tmux.wait_history("measuring counters:", 1);
    assert!(s.contains("of 3.0 s"), "{s}");
    let s = tmux.wait_history("exit=", 1);
    assert!(
        !s.contains("measuring counters"),
        "the progress line is cleared: {s}"
    );
    let report = std::fs::read_to_string(&out).expect("report");
    assert!(report.contains("counter window: 3.0 s"), "{report}");
    assert!(!report.contains("measuring"), "{report}");
}
