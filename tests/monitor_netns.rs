//! Real-kernel tests of `dpuctl stats`: a known train of UDP bursts crosses a veth pair
//! between two namespaces the test creates; `dpuctl stats` (the built binary) samples the
//! receiving end every millisecond and must report each burst, with its duration within one
//! sample interval of what the sender measured.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::traffic::{self, BurstTrain, Sent};
use common::Netns;

/// Ethernet + IPv4 + UDP headers: veth counts frames, the sender counts payload.
const HEADERS: u64 = 14 + 20 + 8;
const PAYLOAD: usize = 1400;
const INTERVAL_NS: u64 = 1_000_000;

/// Two namespaces joined by a veth pair: `a` (10.77.0.1) in `tx`, `b` (10.77.0.2) in `rx`.
fn pair() -> (Netns, Netns) {
    let tx = Netns::new("mon-tx");
    let rx = Netns::new("mon-rx");
    tx.veth("a", "b", 1);
    tx.ip(&["link", "set", "dev", "b", "netns", &rx.name]);
    tx.ip(&["addr", "add", "10.77.0.1/24", "dev", "a"]);
    rx.ip(&["addr", "add", "10.77.0.2/24", "dev", "b"]);
    rx.ip(&["link", "set", "dev", "b", "address", "02:77:00:00:00:02"]);
    rx.ip(&["link", "set", "dev", "b", "up"]);
    // A permanent neighbour: no ARP exchange holds back the first burst.
    tx.ip(&[
        "neigh",
        "replace",
        "10.77.0.2",
        "lladdr",
        "02:77:00:00:00:02",
        "dev",
        "a",
        "nud",
        "permanent",
    ]);
    (tx, rx)
}

fn train(bursts: u32, packets: u32, gap_ms: u64, lead_ms: u64) -> BurstTrain {
    BurstTrain {
        dst: "10.77.0.2:9".into(),
        bursts,
        packets,
        payload: PAYLOAD,
        gap: Duration::from_millis(gap_ms),
        lead: Duration::from_millis(lead_ms),
    }
}

/// Bits per second the sender achieved inside its bursts (frames on the wire), median.
fn sender_rate(sent: &[Sent]) -> u64 {
    let mut r: Vec<u64> = sent
        .iter()
        .filter(|s| s.duration_ns() > 0)
        .map(|s| (s.bytes + s.packets * HEADERS) * 8 * 1_000_000_000 / s.duration_ns())
        .collect();
    r.sort_unstable();
    r[r.len() / 2]
}

fn spawn_stats(ns: &Netns, args: &[&str]) -> Child {
    Command::new("chrt")
        .args(["-f", "20", "ip", "netns", "exec", &ns.name])
        .args([env!("CARGO_BIN_EXE_dpuctl"), "stats"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dpuctl stats")
}

/// Stops `dpuctl stats` with SIGTERM (it prints its last interval and exits 0) and returns
/// its JSON lines.
fn stop_stats(child: Child) -> Vec<serde_json::Value> {
    common::run("kill", &["-TERM", &child.id().to_string()]);
    let out = child.wait_with_output().expect("wait for dpuctl stats");
    assert!(
        out.status.success(),
        "dpuctl stats failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

#[test]
fn stats_reports_each_burst_of_a_known_train() {
    traffic::sender_hook();
    let (tx, rx) = pair();
    // This machine is shared and busy: at normal priority the sender and the sampler are
    // both descheduled for milliseconds at times, which would blur bursts of a few ms. Give
    // this process (hence the sender it starts) real-time priority, and the sampler a higher
    // one, as one would on a production node (`chrt -f 20 dpuctl stats ...`). The kernel's
    // RT throttling keeps 5% of each CPU for everything else.
    common::run(
        "chrt",
        &["-a", "-f", "-p", "10", &std::process::id().to_string()],
    );
    // Calibrate: the sender's rate on this machine now, so that the line rate given to
    // dpuctl makes a full interval of burst ~100% and the edges of a burst count only when
    // they carry more than half an interval of it.
    let cal = wait_sent(traffic::spawn_bursts(&tx, &train(5, 3000, 20, 0)));
    let rate = sender_rate(&cal);
    // Bursts of about 4 ms: several sample intervals each, short enough that the sender is
    // rarely descheduled in the middle of one.
    let packets = u32::try_from((rate / 8 / (PAYLOAD as u64 + HEADERS)) * 4 / 1000)
        .expect("packets")
        .max(200);
    let line_rate = rate.to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = dir.path().join("train.rec");
    let rec_arg = rec.to_str().expect("utf-8 path");
    let stats = spawn_stats(
        &rx,
        &[
            "b",
            "--line-rate",
            &line_rate,
            "--sample-interval",
            "1ms",
            "-f",
            "jsonl",
            "-i",
            "100ms",
            "--record",
            rec_arg,
        ],
    );
    let sent = wait_sent(traffic::spawn_bursts(&tx, &train(BURSTS, packets, 40, 600)));
    std::thread::sleep(Duration::from_millis(200));
    let lines = stop_stats(stats);
    assert_eq!(sent.len(), BURSTS as usize, "the sender reported {sent:?}");
    let intervals = lines.iter().filter(|l| l["type"] == "interval").count();
    assert!(intervals > 5, "dpuctl printed {intervals} intervals");
    let detected: Vec<Detected> = lines
        .iter()
        .filter(|l| l["type"] == "burst" && l["dir"] == "rx" && l["iface"] == "b")
        .map(|b| Detected {
            start_ns: b["start_ns"].as_u64().expect("start_ns"),
            duration_ns: b["duration_ns"].as_u64().expect("duration_ns"),
            duration_est_ns: b["duration_est_ns"].as_u64().expect("duration_est_ns"),
            bytes: b["bytes"].as_u64().expect("bytes"),
        })
        .collect();
    let frame = PAYLOAD as u64 + HEADERS;
    // What a burst takes at the calibrated rate; a sent burst that took an interval longer
    // was interrupted (the sender was descheduled on this shared machine) and may show as
    // several bursts on the wire.
    let nominal_ns = u64::from(packets) * frame * 8 * 1_000_000_000 / rate;
    eprintln!("line rate {rate} bit/s, {packets} packets per burst, nominal {nominal_ns} ns");
    eprintln!("sent:     {sent:?}");
    eprintln!("detected: {detected:?}");
    let groups = group(&sent, &detected);
    let mut problems = Vec::new();
    for (i, (s, g)) in sent.iter().zip(&groups).enumerate() {
        let (Some(first), Some(last)) = (g.first(), g.last()) else {
            problems.push(format!("burst {i} ({s:?}) was not detected"));
            continue;
        };
        if g.len() > 1 && s.duration_ns() <= nominal_ns + INTERVAL_NS {
            problems.push(format!(
                "burst {i} was split into {} although the sender was not interrupted \
                 ({} ns for a nominal {nominal_ns} ns)",
                g.len(),
                s.duration_ns()
            ));
        }
        // The estimate places the edges within a fraction of an interval.
        let est = last.start_ns + last.duration_est_ns.max(last.duration_ns) - first.start_ns;
        let est = if g.len() == 1 {
            first.duration_est_ns
        } else {
            est
        };
        if est.abs_diff(s.duration_ns()) > INTERVAL_NS {
            problems.push(format!(
                "burst {i}: estimated {est} ns, sent {} ns: more than one interval apart",
                s.duration_ns()
            ));
        }
        // Whole intervals: each edge interval counts when more than half of it is burst at
        // the line rate, so the count is within one interval at each edge.
        let span = last.start_ns + last.duration_ns - first.start_ns;
        if span.abs_diff(s.duration_ns()) > 2 * INTERVAL_NS {
            problems.push(format!(
                "burst {i}: {span} ns of intervals, sent {} ns",
                s.duration_ns()
            ));
        }
        // Every frame of the burst is counted in it, give or take the edge intervals.
        let bytes: u64 = g.iter().map(|d| d.bytes).sum();
        let wire = s.bytes + s.packets * HEADERS;
        let edge = rate / 8 / 1000;
        if bytes + 2 * edge < wire || bytes > wire + 2 * edge {
            problems.push(format!("burst {i}: {bytes} bytes detected, {wire} sent"));
        }
    }
    if !problems.is_empty() {
        let keep = std::env::temp_dir().join(format!("monitor-netns-{}.rec", std::process::id()));
        let _ = std::fs::copy(&rec, &keep);
        panic!(
            "{}\nsent: {sent:?}\ndetected: {detected:?}\nrecording kept in {}",
            problems.join("\n"),
            keep.display()
        );
    }
    // The recording replays to the same bursts.
    let replay = rx.dpuctl(&[
        "stats",
        "--replay",
        rec_arg,
        "--line-rate",
        &line_rate,
        "-f",
        "jsonl",
        "-i",
        "100ms",
    ]);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let replayed: Vec<(u64, u64, u64)> = String::from_utf8_lossy(&replay.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("replay JSON"))
        .filter(|l| l["type"] == "burst" && l["dir"] == "rx" && l["iface"] == "b")
        .map(|b| {
            let f = |k: &str| b[k].as_u64().expect("field");
            (f("start_ns"), f("duration_ns"), f("bytes"))
        })
        .collect();
    let live: Vec<(u64, u64, u64)> = detected
        .iter()
        .map(|d| (d.start_ns, d.duration_ns, d.bytes))
        .collect();
    assert_eq!(replayed, live, "replayed bursts differ from the live ones");
    let grouped: usize = groups.iter().map(Vec::len).sum();
    assert_eq!(
        grouped,
        detected.len(),
        "bursts detected outside any sent burst: {detected:?}"
    );
}

const BURSTS: u32 = 8;

#[derive(Debug, Clone, Copy)]
struct Detected {
    start_ns: u64,
    duration_ns: u64,
    duration_est_ns: u64,
    bytes: u64,
}

/// Assigns detected bursts to the sent burst whose time span holds them. The two clocks have
/// different origins: the first detected burst starts within an interval of the first sent
/// one, which fixes the offset.
fn group<'a>(sent: &[Sent], detected: &'a [Detected]) -> Vec<Vec<&'a Detected>> {
    let mut groups = vec![Vec::new(); sent.len()];
    let Some(first) = detected.first() else {
        return groups;
    };
    let offset = first.start_ns.saturating_sub(sent[0].start_ns);
    for d in detected {
        let start = d.start_ns - offset;
        let end = start + d.duration_ns;
        let slack = 2 * INTERVAL_NS;
        if let Some(i) = sent
            .iter()
            .position(|s| start + slack >= s.start_ns && end <= s.end_ns + slack)
        {
            groups[i].push(d);
        }
    }
    groups
}

/// Like `traffic::wait_sent`, but finds the sender's lines anywhere in its output: with
/// `--nocapture` libtest prints "test NAME ... " without a newline right before the first
/// one.
fn wait_sent(child: Child) -> Vec<Sent> {
    let out = child.wait_with_output().expect("wait for burst sender");
    assert!(
        out.status.success(),
        "burst sender failed: {:?}",
        out.status
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once("SENT ").map(|(_, r)| r))
        .map(|l| {
            let v: Vec<u64> = l
                .split(',')
                .map(|x| x.trim().parse().expect("sender line"))
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

#[test]
fn stats_rejects_a_missing_interface_with_exit_2() {
    let ns = Netns::new("mon-miss");
    let out = ns.dpuctl(&["stats", "nosuch0", "-c", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("\"nosuch0\": no such interface"), "{err}");
}
