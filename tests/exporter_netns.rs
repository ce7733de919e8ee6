//! `dpuctl exporter` in a network namespace the test creates: profile compliance as series
//! that follow the node, HTTP answers (404, 400 on an oversized head, a silent client that
//! does not hold up scrapes), clean exit on SIGTERM, and bad input refused with exit 2.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::http::{http_get, http_raw, in_netns};
use common::Netns;

const ADDR: &str = "127.0.0.1:9059";

fn value(body: &str, series: &str) -> Option<String> {
    body.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')))
        .map(str::to_string)
}

fn scrape(ns: &Netns) -> Option<String> {
    in_netns(ns, || http_get(ADDR, "/metrics"))
        .ok()
        .filter(|(c, _)| *c == 200)
        .map(|(_, b)| b)
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Stops the child with SIGTERM by its PID and returns its status (SIGKILL after 20 s).
fn stop(mut child: Child) -> std::process::ExitStatus {
    common::run("kill", &["-TERM", &child.id().to_string()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", &child.id().to_string()])
                .status();
            let _ = child.wait();
            panic!("dpuctl exporter did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn(ns: &Netns, state: &Path, args: &[&str]) -> Child {
    Command::new("ip")
        .args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_dpuctl")])
        .args(["--state-dir", state.to_str().expect("utf-8")])
        .arg("exporter")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dpuctl exporter")
}

#[test]
fn compliance_series_follow_the_node_and_http_stays_bounded() {
    let ns = Netns::new("exp-check");
    ns.veth("a", "b", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("site.yaml");
    std::fs::write(
        &profile,
        "name: site\ndescription: exporter check test\ninterfaces:\n  - match: {name: a}\n    \
         mtu: 9000\n    txqueuelen: 1000\n    rings: {rx: 512}\n",
    )
    .expect("write profile");
    let p = profile.to_str().expect("utf-8");
    let child = spawn(
        &ns,
        dir.path(),
        &[
            "--check",
            p,
            "--check-interval",
            "1s",
            "--sample-interval",
            "10ms",
        ],
    );
    let series = |m: &str| format!("{m}{{profile=\"{p}\"}}");
    // mtu differs, txqueuelen as wanted, rings n/a on veth.
    let body = wait_for("the first scrape", 30, || scrape(&ns));
    assert_eq!(
        value(&body, &series("dpuctl_profile_check_ok")).as_deref(),
        Some("1")
    );
    assert_eq!(
        value(&body, &series("dpuctl_profile_drifted_settings")).as_deref(),
        Some("1"),
        "{body}"
    );
    assert_eq!(
        value(&body, &series("dpuctl_profile_compared_settings")).as_deref(),
        Some("2")
    );
    assert_eq!(
        value(&body, &series("dpuctl_profile_skipped_settings")).as_deref(),
        Some("1")
    );
    // The node comes into line: the next evaluation says so.
    ns.ip(&["link", "set", "dev", "a", "mtu", "9000"]);
    wait_for("the drift to clear", 30, || {
        scrape(&ns).filter(|b| {
            value(b, &series("dpuctl_profile_drifted_settings")).as_deref() == Some("0")
        })
    });

    // A client that connects and says nothing holds one worker until its timeout; scrapes
    // still answer meanwhile.
    let silent = in_netns(&ns, || TcpStream::connect(ADDR)).expect("connect");
    let body = scrape(&ns).expect("a scrape beside a silent client");
    assert!(body.contains("dpuctl_network_receive_bytes_total{interface=\"a\"}"));
    drop(silent);
    // A request head larger than the bound is refused, an unknown path is 404, POST is 405.
    let mut big = b"GET /metrics HTTP/1.1\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 20_000));
    let (code, _) = in_netns(&ns, || http_raw(ADDR, &big)).expect("oversized request");
    assert_eq!(code, 400);
    let (code, _) = in_netns(&ns, || http_get(ADDR, "/metrics/x")).expect("GET");
    assert_eq!(code, 404);
    let (code, _) =
        in_netns(&ns, || http_raw(ADDR, b"POST /metrics HTTP/1.0\r\n\r\n")).expect("POST");
    assert_eq!(code, 405);

    let status = stop(child);
    assert!(status.success(), "exit status {status} on SIGTERM");
}

#[test]
fn bad_input_is_refused_with_exit_2() {
    let ns = Netns::new("exp-bad");
    ns.veth("a", "b", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "name: bad\ndescription: x\nnot_a_key: 1\n").expect("write");
    for (args, want) in [
        (vec!["--check", bad.to_str().expect("utf-8")], "bad.yaml"),
        (vec!["nosuch0"], "nosuch0"),
        (vec!["--listen", "not-an-address"], "not-an-address"),
    ] {
        let o = ns.dpuctl(
            &[
                &[
                    "--state-dir",
                    dir.path().to_str().expect("utf-8"),
                    "exporter",
                ][..],
                &args[..],
            ]
            .concat(),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // The port is taken: a one-line error, exit 2.
    let holder = in_netns(&ns, || std::net::TcpListener::bind(ADDR)).expect("bind");
    let o = ns.dpuctl(&[
        "--state-dir",
        dir.path().to_str().expect("utf-8"),
        "exporter",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("failed to listen on 127.0.0.1:9059"), "{err}");
    drop(holder);
    let _ = std::io::stderr().flush();
}
