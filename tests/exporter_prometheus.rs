//! `dpuctl exporter` scraped by a real Prometheus (Debian's `prometheus` package).
//!
//! Two namespaces joined by a veth pair; the exporter watches the receiving end `b` and
//! Prometheus scrapes it every second, both inside the receiving namespace. A known train of
//! UDP bursts crosses the pair, and the test asks Prometheus (its HTTP query API, over a
//! plain `TcpStream` from a thread that entered the namespace) whether `increase()` of the
//! burst counter equals the bursts sent and whether the byte counters match `ip -s link`.
//! A scrape passes `promtool check metrics`; the shipped rules pass `promtool check rules`
//! and their unit tests, and every expression of the rules and of the Grafana dashboard is
//! accepted by the running Prometheus.

mod common;

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::http::{http_get, in_netns};
use common::traffic::{self, wait_sent, BurstTrain};
use common::Netns;
use serde_json::Value;

const EXPORTER: &str = "127.0.0.1:9059";
const PROMETHEUS: &str = "127.0.0.1:9090";
const BURSTS: u32 = 5;

/// A child process the test started, stopped with SIGTERM (by its PID) when dropped.
struct Proc {
    child: Child,
    what: &'static str,
}

impl Proc {
    /// Stops it with SIGTERM and returns its exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        common::run("kill", &["-TERM", &self.child.id().to_string()]);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop within 20 s of SIGTERM",
                self.what
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-KILL", &self.child.id().to_string()])
                .status();
            let _ = self.child.wait();
        }
    }
}

/// Percent-encoding of a query parameter.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A Prometheus instant query; the JSON answer (status "success" asserted unless `may_fail`).
fn query(ns: &Netns, expr: &str, time: Option<&str>) -> Value {
    let mut path = format!("/api/v1/query?query={}", enc(expr));
    if let Some(t) = time {
        let _ = write!(path, "&time={t}");
    }
    let (code, body) = in_netns(ns, || http_get(PROMETHEUS, &path)).expect("query prometheus");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{expr}: {e}: {body}"));
    assert_eq!(code, 200, "query {expr} answered {code}: {body}");
    assert_eq!(v["status"], "success", "query {expr}: {body}");
    v
}

/// The single value of an instant vector, as text.
fn single(v: &Value) -> Option<(String, String)> {
    let r = v["data"]["result"].as_array()?;
    if r.len() != 1 {
        return None;
    }
    let pair = r[0]["value"].as_array()?;
    Some((
        pair[0].as_f64().map(|t| format!("{t:.3}"))?,
        pair[1].as_str()?.to_string(),
    ))
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
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> PathBuf {
    let p = Path::new("/usr/bin").join(name);
    assert!(
        p.exists(),
        "{name} is missing: install Debian's prometheus package (tests/run-all.sh does)"
    );
    p
}

/// Sends `body` to `promtool ARGS` on stdin; panics with its output unless it succeeds.
fn promtool(args: &[&str], stdin: Option<&str>) -> String {
    let mut c = Command::new(tool("promtool"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn promtool");
    {
        let mut i = c.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            i.write_all(s.as_bytes()).expect("write promtool stdin");
        }
    }
    let o = c.wait_with_output().expect("promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// Two namespaces joined by a veth pair: `a` (10.78.0.1) in `tx`, `b` (10.78.0.2) in `rx`.
/// IPv6 is off in both, so nothing but the test's traffic moves the counters.
fn pair() -> (Netns, Netns) {
    let tx = Netns::new("exp-tx");
    let rx = Netns::new("exp-rx");
    for ns in [&tx, &rx] {
        for k in ["all", "default"] {
            ns.exec_ok(
                "sh",
                &[
                    "-c",
                    &format!("echo 1 > /proc/sys/net/ipv6/conf/{k}/disable_ipv6"),
                ],
            );
        }
    }
    tx.veth("a", "b", 1);
    tx.ip(&["link", "set", "dev", "b", "netns", &rx.name]);
    tx.ip(&["addr", "add", "10.78.0.1/24", "dev", "a"]);
    rx.ip(&["addr", "add", "10.78.0.2/24", "dev", "b"]);
    rx.ip(&["link", "set", "dev", "b", "address", "02:78:00:00:00:02"]);
    rx.ip(&["link", "set", "dev", "b", "up"]);
    tx.ip(&[
        "neigh",
        "replace",
        "10.78.0.2",
        "lladdr",
        "02:78:00:00:00:02",
        "dev",
        "a",
        "nud",
        "permanent",
    ]);
    (tx, rx)
}

/// Every `PromQL` expression of the rules file (`expr:` of each rule).
fn rule_exprs(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect("read rules");
    let y: yaml_serde::Value = yaml_serde::from_str(&text).expect("rules YAML");
    let mut out = Vec::new();
    for g in y["groups"].as_sequence().expect("groups") {
        for r in g["rules"].as_sequence().expect("rules") {
            let name = r
                .get("alert")
                .or_else(|| r.get("record"))
                .and_then(yaml_serde::Value::as_str)
                .expect("alert or record name");
            let expr = r["expr"].as_str().expect("expr");
            out.push((name.to_string(), expr.to_string()));
        }
    }
    out
}

/// Every `expr` of the dashboard's panels, with `$node`/`$interface`/`$__rate_interval`
/// substituted as Grafana would, and the variables' queries.
fn dashboard_exprs(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect("read dashboard");
    let d: Value = serde_json::from_str(&text).expect("dashboard JSON");
    let mut out = Vec::new();
    for p in d["panels"].as_array().expect("panels") {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"].as_str() {
                out.push((
                    p["title"].as_str().unwrap_or("?").to_string(),
                    e.to_string(),
                ));
            }
        }
    }
    for v in d["templating"]["list"].as_array().expect("variables") {
        if v["type"] == "datasource" {
            continue;
        }
        let q = v["query"]
            .as_str()
            .or_else(|| v["query"]["query"].as_str())
            .expect("variable query");
        // label_values(METRIC, LABEL) is Grafana's, not PromQL: its metric selector is.
        let sel = q
            .strip_prefix("label_values(")
            .and_then(|r| r.rsplit_once(','))
            .map_or(q, |(m, _)| m);
        out.push((format!("variable {}", v["name"]), sel.to_string()));
    }
    out.into_iter()
        .map(|(n, e)| {
            let e = e
                .replace("$__rate_interval", "1m")
                .replace("$__interval", "15s")
                .replace("$node", ".*")
                .replace("$interface", ".*");
            (n, e)
        })
        .collect()
}

#[test]
fn prometheus_scrapes_the_exporter_and_counts_every_burst() {
    traffic::sender_hook();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (tx, rx) = pair();
    let exporter = Proc {
        child: Command::new("ip")
            .args([
                "netns",
                "exec",
                &rx.name,
                env!("CARGO_BIN_EXE_dpuctl"),
                "exporter",
                "b",
            ])
            .args(["--line-rate", "100M", "--sample-interval", "20ms"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(tmp.path().join("exporter.err")).expect("log"))
            .spawn()
            .expect("spawn dpuctl exporter"),
        what: "dpuctl exporter",
    };
    // The default address answers once the sampler runs.
    let scrape = wait_for("the exporter's /metrics", 30, || {
        in_netns(&rx, || http_get(EXPORTER, "/metrics"))
            .ok()
            .filter(|(c, b)| *c == 200 && b.contains("dpuctl_network_receive_bytes_total"))
            .map(|(_, b)| b)
    });
    promtool(&["check", "metrics"], Some(&scrape));
    let (code, page) = in_netns(&rx, || http_get(EXPORTER, "/")).expect("GET /");
    assert!(code == 200 && page.contains("/metrics"), "{code} {page}");
    let (code, _) = in_netns(&rx, || http_get(EXPORTER, "/nope")).expect("GET /nope");
    assert_eq!(code, 404);

    let rules = repo().join("dist/prometheus/dpuctl-rules.yml");
    let config = tmp.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {}\n\
             scrape_configs:\n  - job_name: dpuctl\n    static_configs:\n      - targets: ['{EXPORTER}']\n",
            rules.display()
        ),
    )
    .expect("write prometheus.yml");
    let data = tmp.path().join("data");
    let prom = Proc {
        child: Command::new("ip")
            .args(["netns", "exec", &rx.name])
            .arg(tool("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address={PROMETHEUS}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(tmp.path().join("prometheus.err")).expect("log"))
            .spawn()
            .expect("spawn prometheus"),
        what: "prometheus",
    };
    // Scraping, with a few samples of the burst counter at 0 before the train.
    wait_for("prometheus to scrape the exporter", 60, || {
        let ok = in_netns(&rx, || http_get(PROMETHEUS, "/-/ready")).is_ok_and(|(c, _)| c == 200);
        if !ok {
            return None;
        }
        let v = query(
            &rx,
            "count_over_time(dpuctl_microbursts_total{interface=\"b\",direction=\"rx\"}[1m])",
            None,
        );
        single(&v).filter(|(_, n)| n.parse::<f64>().unwrap_or(0.0) >= 3.0)
    });

    let sent = wait_sent(traffic::spawn_bursts(
        &tx,
        &BurstTrain {
            dst: "10.78.0.2:9".into(),
            bursts: BURSTS,
            packets: 300,
            payload: 1400,
            gap: Duration::from_millis(400),
            lead: Duration::from_millis(0),
        },
    ));
    assert_eq!(sent.len(), BURSTS as usize, "the sender reported {sent:?}");
    // Two scrapes after the last burst ended (it ends on the next sample interval).
    std::thread::sleep(Duration::from_millis(2500));

    // increase() at the time of the newest sample over a window that holds the series from
    // its first sample (0): Prometheus extrapolates neither end, so it is exact.
    let sel = "dpuctl_microbursts_total{interface=\"b\",direction=\"rx\"}";
    let (_, t_last) = single(&query(&rx, &format!("timestamp({sel})"), None)).expect("timestamp");
    let (_, inc) =
        single(&query(&rx, &format!("increase({sel}[10m])"), Some(&t_last))).expect("increase");
    let inc: f64 = inc.parse().expect("number");
    assert!(
        (inc - f64::from(BURSTS)).abs() < 1e-9,
        "increase() of the burst counter is {inc}, {BURSTS} bursts were sent: {sent:?}"
    );
    // Every burst in the duration histogram, with its bytes.
    let (_, n) = single(&query(
        &rx,
        "dpuctl_microburst_duration_seconds_count{interface=\"b\",direction=\"rx\"}",
        None,
    ))
    .expect("histogram count");
    assert_eq!(n, BURSTS.to_string());
    let (_, bytes) = single(&query(
        &rx,
        "dpuctl_microburst_bytes_total{interface=\"b\",direction=\"rx\"}",
        None,
    ))
    .expect("burst bytes");
    let burst_bytes: u64 = bytes.parse().expect("integer");

    // Byte and packet counters equal what `ip -s link` shows (nothing else moves them).
    let ip_stats = || {
        let j: Value =
            serde_json::from_str(&rx.ip(&["-s", "-j", "link", "show", "dev", "b"])).expect("ip -j");
        let s = &j[0]["stats64"];
        (
            s["rx"]["bytes"].as_u64().expect("rx bytes"),
            s["rx"]["packets"].as_u64().expect("rx packets"),
            s["tx"]["bytes"].as_u64().expect("tx bytes"),
        )
    };
    let want = ip_stats();
    std::thread::sleep(Duration::from_millis(2500));
    let got = |m: &str| -> u64 {
        single(&query(&rx, &format!("{m}{{interface=\"b\"}}"), None))
            .expect(m)
            .1
            .parse()
            .expect("integer")
    };
    let have = (
        got("dpuctl_network_receive_bytes_total"),
        got("dpuctl_network_receive_packets_total"),
        got("dpuctl_network_transmit_bytes_total"),
    );
    assert_eq!(ip_stats(), want, "the counters moved during the comparison");
    assert_eq!(
        have, want,
        "Prometheus (rx bytes, rx packets, tx bytes) vs ip -s link"
    );
    // The train is all the traffic: bursts carry most of the bytes received (frames in edge
    // intervals below the threshold are outside them), never more.
    assert!(
        burst_bytes <= want.0 && burst_bytes * 2 >= want.0,
        "bursts carried {burst_bytes} bytes of {} received",
        want.0
    );
    // The train crossed the pair (some frames of a burst may be dropped at the veth).
    assert!(want.1 >= u64::from(BURSTS), "{want:?}");

    // The shipped rules: checked, unit-tested, loaded, and every expression of the rules and
    // the dashboard is accepted by this Prometheus.
    promtool(&["check", "rules", rules.to_str().expect("utf-8")], None);
    let tests = repo().join("dist/prometheus/dpuctl-rules.test.yml");
    promtool(&["test", "rules", tests.to_str().expect("utf-8")], None);
    let loaded = in_netns(&rx, || http_get(PROMETHEUS, "/api/v1/rules")).expect("rules API");
    let exprs = rule_exprs(&rules);
    assert!(exprs.len() >= 8, "{exprs:?}");
    for (name, _) in &exprs {
        assert!(
            loaded.1.contains(&format!("\"{name}\"")),
            "rule {name} not loaded"
        );
    }
    let dash = dashboard_exprs(&repo().join("dist/grafana/dpuctl.json"));
    assert!(dash.len() >= 8, "{dash:?}");
    for (name, e) in exprs.iter().chain(&dash) {
        let v = query(&rx, e, None);
        assert_eq!(v["status"], "success", "{name}: {e}");
    }

    let status = exporter.stop();
    assert!(
        status.success(),
        "dpuctl exporter exited with {status} on SIGTERM"
    );
    let _ = prom.stop();
}
