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
        code == 0 || code == 1 || code == 3,
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

/// The evidence `what` of a finding.
fn evidence<'a>(f: &'a Value, what: &str) -> Option<&'a Value> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .find(|e| e["what"] == what)
}

/// A veth pair as `ip link add` makes it without options (the kernel's default queues).
fn default_veth(ns: &Netns) {
    ns.ip(&[
        "link", "add", "name", "a", "type", "veth", "peer", "name", "b",
    ]);
    ns.ip(&["link", "set", "dev", "a", "up"]);
    ns.ip(&["link", "set", "dev", "b", "up"]);
}

#[test]
fn a_healthy_default_veth_gives_no_warning_on_either_branch() {
    let ns = Netns::new("tshealthy");
    default_veth(&ns);
    // Witnesses: RPS off, GRO off (veth defaults), no IRQ of its own.
    let v = ns.exec_ok("cat", &["/sys/class/net/a/queues/rx-0/rps_cpus"]);
    assert!(v.trim().chars().all(|c| c == '0' || c == ','), "{v}");
    let k = ns.exec_ok("ethtool", &["-k", "a"]);
    assert!(k.contains("generic-receive-offload: off"), "{k}");
    for symptom in ["latency", "throughput"] {
        let (r, code) = troubleshoot(&ns, &["--symptom", symptom, "--iface", "a"]);
        let problems: Vec<&Value> = r["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .flat_map(|s| s["findings"].as_array().expect("findings"))
            .filter(|f| f["severity"] == "warn" || f["severity"] == "crit")
            .collect();
        assert!(problems.is_empty(), "{symptom}: {problems:#?}");
        assert_eq!(code, 0, "{symptom}: {r:#}");
        assert_eq!(r["verdict"], "no-problems", "{symptom}");
    }
    let (r, _) = troubleshoot(&ns, &["--symptom", "latency", "--iface", "a"]);
    let rps = one(&r, "irq.rps", "a");
    assert_eq!(rps["severity"], "ok", "{rps:#}");
    assert!(
        rps["title"].as_str().expect("title").contains("senders"),
        "{rps:#}"
    );
    let (r, _) = troubleshoot(&ns, &["--symptom", "throughput", "--iface", "a"]);
    let off = one(&r, "throughput.offloads", "a");
    assert_eq!(off["severity"], "ok", "{off:#}");
    assert_eq!(evidence(off, "rx-gro").expect("rx-gro")["value"], "off");
    assert!(off.get("fix").is_none(), "{off:#}");
    // The plain text says so.
    let o = ns.dpuctl(&[
        "troubleshoot",
        "--symptom",
        "throughput",
        "--iface",
        "a",
        "--window",
        "300ms",
    ]);
    let (out, _) = text(&o);
    assert!(out.contains("No problems found."), "{out}");
}

#[test]
fn rps_off_on_a_multiqueue_veth_is_not_a_problem() {
    let ns = Netns::new("tsrps");
    ns.veth("a", "b", 4);
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
    // Four receive queues without RPS: a veth receives on the CPUs of its senders, so
    // no single CPU does all its receive work.
    let (r, _) = troubleshoot(&ns, &["--symptom", "latency", "--iface", "a"]);
    let f = one(&r, "irq.rps", "a");
    assert_eq!(f["severity"], "ok", "{f:#}");
    assert!(f.get("fix").is_none(), "{f:#}");
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

/// In the sender child (this test binary re-run inside a namespace, `var` set to the spec):
/// sends COUNT datagrams after a lead of 1.5 s, prints how many went out on a line of its
/// own, and exits.
fn sender_child(var: &str) {
    let Ok(spec) = std::env::var(var) else {
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
    sender_child(SEND_ENV);
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
    tmux.keys(&["y"]);
    let s = tmux.wait_history("step 1/4: check queue backlog", 1);
    assert!(s.contains("measured counters over 0.3 s"), "{s}");
    tmux.keys(&["d"]);
    let s = tmux.wait_history("step 2/4: adjust IRQ affinity", 1);
    assert!(
        s.contains("info  irq.xps") && s.contains("a: XPS unset on 4 transmit queues"),
        "{s}"
    );
    tmux.keys(&["b"]);
    tmux.wait_history("step 1/4: check queue backlog", 2);
    tmux.keys(&["d"]);
    tmux.wait_history("step 2/4: adjust IRQ affinity", 2);
    tmux.keys(&["q"]);
    let s = tmux.wait_history("exit=", 1);
    assert!(s.contains("Summary:"), "{s}");
    assert!(s.contains("Suggested fixes"), "{s}");
    assert!(s.contains("xps: {cpus: nic-numa}"), "{s}");
    assert!(s.contains("exit=0"), "notes only: {s}");
    assert!(!s.contains("step 3/4"), "quit before step 3: {s}");
    // The report holds the steps walked, no more.
    let md = std::fs::read_to_string(&report).expect("report");
    assert!(md.contains("## Step 2: adjust IRQ affinity"), "{md}");
    assert!(md.contains("| info | `irq.xps` | a |"), "{md}");
    assert!(!md.contains("## Step 3"), "{md}");
}

#[test]
fn progress_line_on_a_terminal_stderr_only() {
    let ns = Netns::new("tsprog");
    ns.veth("a", "b", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.txt");
    // stdout to a file, stderr on the terminal: the report has no progress in it, the
    // terminal shows it while the window runs. The line lives only while the window runs, so
    // a screen poll can miss it on a loaded machine: every byte the pane receives is copied to
    // a file (pipe-pane), set up before the command starts (it waits for `go`).
    let go = dir.path().join("go");
    let raw = dir.path().join("pane.raw");
    let script = format!(
        "while [ ! -e {} ]; do sleep 0.05; done; ip netns exec {} {} troubleshoot --symptom latency --window 3s > {}; echo \"exit=$?\"; sleep 600",
        go.display(),
        ns.name,
        env!("CARGO_BIN_EXE_dpuctl"),
        out.display()
    );
    let tmux = Tmux::start("tsp", 120, 20, &script);
    let o = tmux.cmd(&["pipe-pane", "-t", "s", &format!("cat >> {}", raw.display())]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(&go, "").expect("go");
    let s = tmux.wait_history("exit=", 1);
    assert!(
        !s.contains("measuring counters"),
        "the progress line is cleared: {s}"
    );
    assert!(s.contains("exit="), "{s}");
    // The pipe's copy may trail the screen by a moment.
    let mut shown = String::new();
    for _ in 0..100 {
        shown = String::from_utf8_lossy(&std::fs::read(&raw).unwrap_or_default()).into_owned();
        if shown.contains("exit=") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        shown.contains("measuring counters:") && shown.contains("of 3.0 s"),
        "the terminal was shown the progress line: {shown:?}"
    );
    let report = std::fs::read_to_string(&out).expect("report");
    assert!(report.contains("counter window: 3.0 s"), "{report}");
    assert!(!report.contains("measuring"), "{report}");
}

#[test]
fn a_veth_peer_in_another_namespace_is_read_there_not_taken_from_this_one() {
    let ns = Netns::new("tspeer");
    let far = Netns::new("tspeer-far");
    ns.veth("a", "b", 1);
    ns.ip(&["link", "set", "dev", "b", "netns", &far.name]);
    far.ip(&["link", "set", "dev", "b", "mtu", "1000", "up"]);
    // The peer's index in its namespace, as `ip` shows it ("a@if7").
    let b_index: u32 = far
        .exec_ok("cat", &["/sys/class/net/b/ifindex"])
        .trim()
        .parse()
        .expect("ifindex");
    let link = ns.ip(&["-o", "link", "show", "dev", "a"]);
    assert!(link.contains(&format!("a@if{b_index}")), "{link}");
    // An unrelated interface of this namespace with that very index, at MTU 9000.
    let idx = b_index.to_string();
    ns.ip(&[
        "link", "add", "name", "x", "index", &idx, "type", "veth", "peer", "name", "y",
    ]);
    ns.ip(&["link", "set", "dev", "x", "mtu", "9000", "up"]);
    ns.ip(&["link", "set", "dev", "y", "mtu", "9000", "up"]);
    let (r, code) = troubleshoot(&ns, &["--symptom", "throughput", "--iface", "a"]);
    let f = one(&r, "throughput.mtu", "a");
    // The peer is b at MTU 1000 in the other namespace, not x at 9000 here.
    assert_eq!(f["severity"], "warn", "{f:#}");
    let title = f["title"].as_str().expect("title");
    assert!(
        title.contains("1000 on the veth peer b (in another network namespace"),
        "{title}"
    );
    assert!(!title.contains("9000") && !title.contains(" x"), "{title}");
    assert!(f.get("fix").is_none(), "no fix to apply here: {f:#}");
    assert_eq!(code, 1);
    // Without CAP_NET_ADMIN over the peer's namespace it cannot be read there: n/a with the
    // reason, still never x.
    let o = ns.exec(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_dpuctl"),
            "troubleshoot",
            "--symptom",
            "throughput",
            "--iface",
            "a",
            "--window",
            "300ms",
            "--format",
            "json",
        ],
    );
    let (out, err) = text(&o);
    let r: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let f = one(&r, "throughput.mtu", "a");
    assert_eq!(f["severity"], "n/a", "{f:#}");
    let title = f["title"].as_str().expect("title");
    assert!(
        title.contains(&format!(
            "the peer (ifindex {b_index}) is in another network namespace"
        )) && title.contains("could not be read"),
        "{title}"
    );
    // A snapshot does not record the peer's namespace: x has b's index but does not name a
    // as its peer, so the comparison is n/a with the reason, not a wrong warning.
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("node.json");
    let o = ns.dpuctl(&["snapshot", "-o", snap.to_str().expect("utf-8")]);
    assert!(o.status.success(), "{}", text(&o).1);
    let o = ns.dpuctl(&[
        "troubleshoot",
        "--from",
        snap.to_str().expect("utf-8"),
        "--symptom",
        "throughput",
        "--iface",
        "a",
        "--format",
        "json",
    ]);
    let r: Value = serde_json::from_slice(&o.stdout).expect("json");
    let f = one(&r, "throughput.mtu", "a");
    assert_eq!(f["severity"], "n/a", "{f:#}");
    assert!(
        f["title"]
            .as_str()
            .expect("title")
            .contains(&format!("the peer (ifindex {b_index})")),
        "{f:#}"
    );
    assert!(f.get("fix").is_none(), "{f:#}");
}

/// Set in the re-run sender child of the tx-drop test: `ADDR:PORT,COUNT,PAYLOAD`.
const TXDROP_ENV: &str = "DPUCTL_TEST_TS_TXDROP";

#[test]
fn transmit_drops_are_evidence_of_drops() {
    sender_child(TXDROP_ENV);
    let ns = Netns::new("tstxdrop");
    // No IPv6: its link-up chatter (solicitations, MLD) would add drops of its own.
    for conf in ["all", "default"] {
        ns.exec_ok(
            "sh",
            &[
                "-c",
                &format!("echo 1 > /proc/sys/net/ipv6/conf/{conf}/disable_ipv6"),
            ],
        );
    }
    ns.veth("a", "b", 1);
    // b down: what a sends, its peer cannot take; veth counts it in a's tx_dropped.
    ns.ip(&["link", "set", "dev", "b", "down"]);
    ns.ip(&["addr", "add", "10.78.0.1/24", "dev", "a"]);
    ns.ip(&[
        "neigh",
        "add",
        "10.78.0.2",
        "lladdr",
        "02:00:00:00:00:02",
        "dev",
        "a",
    ]);
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "transmit_drops_are_evidence_of_drops",
            "--nocapture",
        ])
        .env(TXDROP_ENV, "10.78.0.2:9,300,100")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn sender");
    let o = ns.dpuctl(&[
        "troubleshoot",
        "--symptom",
        "auto",
        "--iface",
        "a",
        "--window",
        "4s",
        "--format",
        "json",
    ]);
    let code = o.status.code().expect("exit code");
    let (out, err) = text(&o);
    let r: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let child = child.wait_with_output().expect("sender");
    assert!(child.status.success(), "sender failed");
    let sent: u64 = String::from_utf8_lossy(&child.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("SENT "))
        .expect("SENT line")
        .parse()
        .expect("count");
    assert_eq!(sent, 300);
    // Witness: ip counts them as a's transmit drops.
    let stats = ns.ip(&["-s", "-j", "link", "show", "dev", "a"]);
    let ipj: Value = serde_json::from_str(&stats).expect("ip -j");
    assert!(
        ipj[0]["stats64"]["tx"]["dropped"]
            .as_u64()
            .expect("dropped")
            >= sent,
        "{stats}"
    );
    let decision = &r["decision"];
    assert_eq!(decision["symptom"], "latency", "{decision:#}");
    assert!(
        decision["reason"]
            .as_str()
            .expect("reason")
            .contains(&format!("transmit drops {sent}")),
        "{decision:#}"
    );
    let f = one(&r, "backlog.nic-drops", "a");
    assert_eq!(f["severity"], "warn", "{f:#}");
    assert_eq!(
        evidence(f, "tx_dropped").expect("tx_dropped")["delta"],
        sent,
        "{f:#}"
    );
    assert!(
        f["title"]
            .as_str()
            .expect("title")
            .contains(&format!("{sent} on transmit")),
        "{f:#}"
    );
    assert_eq!(code, 1);
}

#[test]
fn a_virtual_device_has_no_line_rate_unless_given() {
    let ns = Netns::new("tsrate");
    default_veth(&ns);
    // veth reports a nominal speed; it is no line rate.
    let e = ns.exec_ok("ethtool", &["a"]);
    assert!(e.contains("Speed: 10000Mb/s"), "{e}");
    let (r, _) = troubleshoot(&ns, &["--symptom", "throughput", "--iface", "a"]);
    let u = one(&r, "throughput.utilization", "a");
    assert_eq!(u["severity"], "n/a", "{u:#}");
    assert!(
        u["title"].as_str().expect("title").contains("--line-rate"),
        "{u:#}"
    );
    assert!(!u["title"].as_str().expect("title").contains('%'), "{u:#}");
    let sb = one(&r, "throughput.socket-buffers", "node");
    assert_eq!(sb["severity"], "n/a", "{sb:#}");
    assert!(
        sb["evidence"]
            .as_array()
            .expect("evidence")
            .iter()
            .all(|e| !e["what"].as_str().expect("what").contains("needed")),
        "no hidden floor: {sb:#}"
    );
    assert_eq!(one(&r, "capture.microbursts", "a")["severity"], "n/a");
    // With --line-rate, utilization and the buffer need are judged against it.
    let (r, _) = troubleshoot(
        &ns,
        &[
            "--symptom",
            "throughput",
            "--iface",
            "a",
            "--line-rate",
            "25G",
        ],
    );
    let u = one(&r, "throughput.utilization", "a");
    assert_eq!(u["severity"], "ok", "{u:#}");
    assert!(
        u["title"]
            .as_str()
            .expect("title")
            .contains("of 25.00 Gb/s"),
        "{u:#}"
    );
    let sb = one(&r, "throughput.socket-buffers", "node");
    assert_ne!(sb["severity"], "n/a", "{sb:#}");
    assert_eq!(
        evidence(sb, "line rate").expect("line rate")["value"],
        "25.00 Gb/s"
    );
}

#[test]
fn the_socket_buffer_fix_raises_only_what_is_short_and_never_lowers() {
    let ns = Netns::new("tsbuf");
    default_veth(&ns);
    // Per-namespace sysctls: receive ceiling 32 MiB already, send ceiling 64 KiB.
    ns.exec_ok(
        "sh",
        &[
            "-c",
            "echo '4096 131072 33554432' > /proc/sys/net/ipv4/tcp_rmem && \
             echo '4096 16384 65536' > /proc/sys/net/ipv4/tcp_wmem",
        ],
    );
    let dir = tempfile::tempdir().expect("state dir");
    // 100 Gb/s x 1 ms = 12.5 MB: tcp_wmem is short, tcp_rmem is not.
    let (r, code) = troubleshoot(
        &ns,
        &[
            "--symptom",
            "throughput",
            "--iface",
            "a",
            "--line-rate",
            "100G",
        ],
    );
    assert_eq!(code, 1);
    let f = one(&r, "throughput.socket-buffers", "node");
    assert_eq!(f["severity"], "warn", "{f:#}");
    let profile = f["fix"]["profile"].as_str().expect("profile");
    assert!(
        profile.contains("net.ipv4.tcp_wmem: \"4096 16384 16777216\""),
        "{profile}"
    );
    assert!(
        !profile.contains("tcp_rmem"),
        "tcp_rmem is not short: {profile}"
    );
    apply_fix(&ns, dir.path(), f);
    let rmem = ns.exec_ok("cat", &["/proc/sys/net/ipv4/tcp_rmem"]);
    let wmem = ns.exec_ok("cat", &["/proc/sys/net/ipv4/tcp_wmem"]);
    assert_eq!(
        rmem.split_whitespace().collect::<Vec<_>>(),
        ["4096", "131072", "33554432"]
    );
    assert_eq!(
        wmem.split_whitespace().collect::<Vec<_>>(),
        ["4096", "16384", "16777216"]
    );
    // What is left short are the global ceilings, read-only in a namespace: noted for the
    // host, never in a fix that could not apply here.
    let (r, code) = troubleshoot(
        &ns,
        &[
            "--symptom",
            "throughput",
            "--iface",
            "a",
            "--line-rate",
            "100G",
        ],
    );
    let f = one(&r, "throughput.socket-buffers", "node");
    assert!(f.get("fix").is_none(), "{f:#}");
    assert_ne!(f["severity"], "warn", "{f:#}");
    let host_max: u64 = ns
        .exec_ok("cat", &["/proc/sys/net/core/rmem_max"])
        .trim()
        .parse()
        .expect("rmem_max");
    if host_max < 12_500_000 {
        assert_eq!(f["severity"], "info", "{f:#}");
        assert!(
            evidence(f, "net.core.rmem_max (read-only in this network namespace)").is_some(),
            "{f:#}"
        );
    }
    assert_eq!(code, 0, "{r:#}");
}
