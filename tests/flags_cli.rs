//! One vocabulary of flags, through the built binary on the recorded two-socket fixture tree:
//! interfaces as arguments or `-i/--iface` in every command, `--format` by kind of output,
//! `capture -r/-w`, one spelling of the burst threshold, `-q`/`-v`, durations with units, and
//! completions of subcommands, interface names and profile names.

#[path = "fixtures/capture/build.rs"]
mod build;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clap::Parser as _;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/two-socket")
}

/// dpuctl on the fixture tree, with a state and a profile directory of its own.
fn dpuctl_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let f = fixture();
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .env("DPUCTL_SYSFS", f.join("sys"))
        .env("DPUCTL_PROCFS", f.join("proc"))
        .env("DPUCTL_STATE_DIR", dir.join("state"))
        .env("DPUCTL_PROFILE_DIR", dir.join("profiles"))
        .env_remove("COMPLETE")
        .envs(env.iter().copied())
        .output()
        .expect("run dpuctl")
}

fn dpuctl(dir: &Path, args: &[&str]) -> Output {
    dpuctl_env(dir, args, &[])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Stdout as JSON, with the read time zeroed; the exit code must be `code`.
fn json(o: &Output, code: i32) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(code), "{}", text(&o.stderr));
    let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    if v.get("taken_at_ms").is_some() {
        v["taken_at_ms"] = 0.into();
    }
    v
}

#[test]
fn interfaces_are_arguments_or_dash_i_in_every_command() {
    let d = tempfile::tempdir().expect("tempdir");
    let d = d.path();
    // Each command with IFACE as an argument, as -i and as --iface: the same output.
    let cases: [(&[&str], i32); 4] = [
        (&["show", "-f", "json"], 0),
        (&["check", "latency", "-f", "json"], 1),
        (&["tune", "latency", "--dry-run", "-f", "json"], 0),
        (&["troubleshoot", "--symptom", "latency", "-f", "json"], 1),
    ];
    for (args, code) in cases {
        let with = |extra: &[&str]| {
            let mut a: Vec<&str> = args.to_vec();
            a.extend_from_slice(extra);
            json(&dpuctl(d, &a), code)
        };
        let positional = with(&["eth2"]);
        assert_eq!(with(&["-i", "eth2"]), positional, "{args:?} -i");
        assert_eq!(with(&["--iface", "eth2"]), positional, "{args:?} --iface");
        assert!(
            !positional.to_string().contains("eno1"),
            "{args:?} eth2 only: {positional}"
        );
    }
    // Both spellings name interfaces that must exist, with the same error.
    for args in [
        &["show", "-i", "eth9"][..],
        &["show", "eth9"],
        &["check", "latency", "-i", "eth9"],
        &["troubleshoot", "--symptom", "latency", "-i", "eth9"],
    ] {
        let o = dpuctl(d, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            text(&o.stderr).contains("eth9"),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
    // stats: -i is an interface, the interval is --interval only.
    let rec = root().join("tests/fixtures/monitor/burst.rec");
    let rec = rec.to_str().expect("utf-8");
    let o = dpuctl(d, &["stats", "--replay", rec, "-f", "jsonl", "-i", "5ms"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    let a = dpuctl(
        d,
        &[
            "stats",
            "--replay",
            rec,
            "-f",
            "jsonl",
            "--interval",
            "5ms",
            "eth9",
        ],
    );
    let b = dpuctl(
        d,
        &[
            "stats",
            "--replay",
            rec,
            "-f",
            "jsonl",
            "--interval",
            "5ms",
            "-i",
            "eth9",
        ],
    );
    assert!(a.status.success(), "{}", text(&a.stderr));
    assert_eq!(text(&a.stdout), text(&b.stdout));
    assert!(text(&a.stdout).contains("\"eth9\""));
}

#[test]
fn formats_follow_the_kind_of_output() {
    let d = tempfile::tempdir().expect("tempdir");
    let d = d.path();
    let rec = root().join("tests/fixtures/monitor/burst.rec");
    let rec = rec.to_str().expect("utf-8");
    // (command, formats it takes, formats it refuses)
    let cases: [(Vec<&str>, &[&str], &[&str]); 5] = [
        (
            vec!["show", "eth2"],
            &["table", "json", "yaml"],
            &["jsonl", "text", "markdown"],
        ),
        (
            vec!["history"],
            &["table", "json", "yaml"],
            &["jsonl", "text"],
        ),
        (
            vec!["check", "latency"],
            &["table", "json", "yaml"],
            &["jsonl", "markdown"],
        ),
        (
            vec!["stats", "--replay", rec, "--interval", "5ms"],
            &["table", "jsonl"],
            &["json", "yaml", "text"],
        ),
        (
            vec!["troubleshoot", "--symptom", "latency"],
            &["text", "json", "markdown"],
            &["table", "yaml", "jsonl"],
        ),
    ];
    for (args, good, bad) in cases {
        for f in good {
            let mut a = args.clone();
            a.extend_from_slice(&["-f", f]);
            let o = dpuctl(d, &a);
            assert!(
                !o.stdout.is_empty() && o.status.code() != Some(2),
                "{a:?}: {}",
                text(&o.stderr)
            );
        }
        for f in bad {
            let mut a = args.clone();
            a.extend_from_slice(&["--format", f]);
            let o = dpuctl(d, &a);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{a:?}");
            assert!(o.stdout.is_empty(), "{a:?}");
            assert!(
                err.contains(&format!("invalid value '{f}' for '--format <FORMAT>'"))
                    && err.contains("possible values"),
                "{a:?}: {err}"
            );
        }
    }
    // troubleshoot -f markdown prints what --report FILE.md writes.
    let md = d.join("r.md");
    let o = dpuctl(
        d,
        &[
            "troubleshoot",
            "--symptom",
            "latency",
            "-f",
            "markdown",
            "--report",
            md.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(
        text(&o.stdout),
        std::fs::read_to_string(&md).expect("report")
    );
    assert!(text(&o.stdout).starts_with('#'), "{}", text(&o.stdout));
}

/// Three 20-frame bursts at 8 Gbit/s (80% of 10G), 1 ms apart.
fn train_pcap(dir: &Path) -> PathBuf {
    let t0 = 1_700_000_000 * 1_000_000_000u64;
    let mut v = Vec::new();
    for b in 0..3u64 {
        for i in 0..20u64 {
            v.push(build::Pkt {
                ts_ns: t0 + b * 1_000_000 + 200_000 + i * 1_000,
                data: build::udp4([10, 0, 0, 1], 4791, [10, 0, 0, 2], 4791, 1000),
            });
        }
    }
    let p = dir.join("train.pcap");
    std::fs::write(&p, build::pcap(&v, true, false)).expect("write pcap");
    p
}

#[test]
fn capture_reads_with_r_and_takes_the_burst_threshold_of_watch() {
    let d = tempfile::tempdir().expect("tempdir");
    let d = d.path();
    let p = train_pcap(d);
    let p = p.to_str().expect("utf-8");
    let common = ["--line-rate", "10G", "-f", "json"];
    let run = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(&common);
        json(&dpuctl(d, &a), 0)
    };
    // -r FILE reads a file, as tcpdump -r: the analysis of `capture analyze FILE`.
    let analyzed = run(&["capture", "analyze", p]);
    assert_eq!(run(&["capture", "-r", p]), analyzed);
    assert_eq!(run(&["capture", "--read", p]), analyzed);
    assert_eq!(analyzed[0]["bursts"].as_array().map(Vec::len), Some(3));
    // The bin width has no short flag any more: -r with a duration is a file that is not there.
    let o = dpuctl(d, &["capture", "analyze", p, "-r", "5us"]);
    assert_eq!(o.status.code(), Some(2));
    // --burst-threshold, in 50% or 0.5, as in stats and watch; 90% finds no burst at 80%.
    let half = run(&["capture", "-r", p, "--burst-threshold", "50%"]);
    assert_eq!(half, analyzed);
    assert_eq!(
        run(&["capture", "-r", p, "--burst-threshold", "0.5"]),
        analyzed
    );
    let high = run(&["capture", "-r", p, "--burst-threshold", "90%"]);
    assert_eq!(high[0]["bursts"].as_array().map(Vec::len), Some(0));
    assert_eq!(run(&["capture", "-r", p, "--burst-threshold", "0.9"]), high);
    // The old spellings are gone: --threshold is an alert METRIC=LIMIT (stats, watch).
    for old in [&["--threshold", "0.5"][..], &["-t", "0.5"]] {
        let mut a = vec!["capture", "-r", p];
        a.extend_from_slice(old);
        let o = dpuctl(d, &a);
        assert_eq!(o.status.code(), Some(2), "{a:?}");
    }
    let rec = root().join("tests/fixtures/monitor/burst.rec");
    let rec = rec.to_str().expect("utf-8");
    let stats = |t: &str| {
        let o = dpuctl(
            d,
            &[
                "stats",
                "--replay",
                rec,
                "--interval",
                "5ms",
                "-f",
                "jsonl",
                "--burst-threshold",
                t,
            ],
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    assert_eq!(stats("50%"), stats("0.5"));
    assert_ne!(stats("50%"), stats("90%"));
}

#[test]
fn quiet_hides_notes_and_verbose_shows_how_the_profile_was_resolved() {
    let d = tempfile::tempdir().expect("tempdir");
    let d = d.path();
    let normal = dpuctl(d, &["check", "latency"]);
    let verbose = dpuctl(d, &["check", "latency", "-v"]);
    let quiet = dpuctl(d, &["check", "latency", "-q"]);
    for o in [&normal, &verbose, &quiet] {
        assert_eq!(o.status.code(), Some(1), "drift on the fixture");
    }
    let (n, v) = (text(&normal.stderr), text(&verbose.stderr));
    assert!(!n.contains("matched no block"), "{n}");
    assert!(
        v.contains("dpuctl: note: lo: skipped, matched no block"),
        "{v}"
    );
    assert!(
        v.contains("dpuctl: note: eth2: uses latency interfaces[0]"),
        "{v}"
    );
    assert_eq!(normal.stdout, verbose.stdout);
    assert!(
        quiet.stdout.is_empty() && quiet.stderr.is_empty(),
        "{}",
        text(&quiet.stderr)
    );
    // The same flags on the dry run of tune, and -q with -v is refused.
    let tv = dpuctl(d, &["tune", "latency", "--dry-run", "--verbose"]);
    assert!(text(&tv.stderr).contains("lo: skipped, matched no block"));
    let tn = dpuctl(d, &["tune", "latency", "--dry-run"]);
    assert!(
        !text(&tn.stderr).contains("matched no block"),
        "{}",
        text(&tn.stderr)
    );
    let tq = dpuctl(d, &["tune", "latency", "--dry-run", "--quiet"]);
    assert!(tq.stderr.is_empty(), "{}", text(&tq.stderr));
    assert_eq!(tq.stdout, tn.stdout);
    let o = dpuctl(d, &["check", "latency", "-q", "-v"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `watch` needs a terminal, so its arguments are checked as parsed: -i and --iface name
/// interfaces as the arguments do; `capture -i` and `-r` are one source each.
#[test]
fn watch_and_capture_take_interfaces_either_way() {
    let parse = |args: &[&str]| {
        let mut a = vec!["dpuctl"];
        a.extend_from_slice(args);
        let mut cli = dpuctl::cli::Cli::try_parse_from(a).map_err(|e| e.to_string())?;
        cli.normalize();
        Ok::<_, String>(cli.command)
    };
    let ifaces = |args: &[&str]| match parse(args).expect("parses") {
        dpuctl::cli::Command::Watch(w) => w.ifaces,
        dpuctl::cli::Command::Capture(c) => c.live.iface.into_iter().collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(ifaces(&["watch", "eth2", "-i", "eth3"]), ["eth2", "eth3"]);
    assert_eq!(ifaces(&["watch", "--iface", "eth2"]), ["eth2"]);
    assert_eq!(ifaces(&["capture", "-i", "eth2"]), ["eth2"]);
    assert_eq!(ifaces(&["capture", "eth2"]), ["eth2"]);
    for bad in [
        &["capture"][..],
        &["capture", "eth2", "-i", "eth3"],
        &["capture", "-r", "f.pcap", "-i", "eth2"],
        &["capture", "-r", "f.pcap", "-w", "g.pcap"],
        &["watch", "--replay", "x.rec", "-i", "eth2"],
    ] {
        assert!(parse(bad).is_err(), "{bad:?} is refused");
    }
}

#[test]
fn durations_take_units_in_every_flag() {
    let parse = |args: &[&str]| {
        let mut a = vec!["dpuctl"];
        a.extend_from_slice(args);
        dpuctl::cli::Cli::try_parse_from(a).map_err(|e| e.to_string())
    };
    for args in [
        &["tune", "p", "--confirm-timeout", "60s"][..],
        &["tune", "p", "--confirm-timeout", "2m"],
        &["tune", "p", "--confirm-timeout", "90"],
        &["stats", "--interval", "500ms"],
        &["stats", "--sample-interval", "100us", "--refresh", "1s"],
        &["watch", "--sample-interval", "1ms", "--refresh", "250ms"],
        &["watch", "--history", "5m"],
        &["watch", "--history", "2"],
        &[
            "capture",
            "eth0",
            "--duration",
            "10s",
            "--resolution",
            "1us",
        ],
        &["capture", "analyze", "f.pcap", "--resolution", "1ms"],
        &["troubleshoot", "--window", "1m"],
        &["troubleshoot", "--window", "500ms"],
    ] {
        assert!(parse(args).is_ok(), "{args:?}: {:?}", parse(args).err());
    }
    let minutes = |args: &[&str]| match parse(args).expect("parses").command {
        dpuctl::cli::Command::Watch(w) => w.monitor.history,
        other => panic!("{other:?}"),
    };
    assert_eq!(minutes(&["watch", "--history", "5m"]), 5);
    assert_eq!(minutes(&["watch", "--history", "90s"]), 2);
    assert_eq!(minutes(&["watch", "--history", "1h"]), 60);
    assert_eq!(minutes(&["watch", "--history", "3"]), 3);
    assert_eq!(minutes(&["watch"]), 2);
    let e = parse(&["stats", "--interval", "5"]).expect_err("a bare number");
    assert!(e.contains("needs a unit"), "{e}");
}

/// The candidates `shell` gets from `COMPLETE=SHELL dpuctl -- WORDS...` for the last word,
/// without their descriptions (fish: `value\thelp`, zsh: `value:help`).
fn complete_in(shell: &str, dir: &Path, words: &[&str]) -> Vec<String> {
    let index = (words.len() - 1).to_string();
    let mut a = vec!["--", "dpuctl"];
    a.extend_from_slice(&words[1..]);
    let o = dpuctl_env(
        dir,
        &a,
        &[
            ("COMPLETE", shell),
            ("_CLAP_COMPLETE_INDEX", &index),
            ("_CLAP_IFS", "\n"),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stdout)
        .lines()
        .map(|l| match shell {
            "fish" => l.split('\t').next().unwrap_or_default().to_string(),
            "zsh" => l.split(':').next().unwrap_or_default().to_string(),
            _ => l.to_string(),
        })
        .collect()
}

fn complete(dir: &Path, words: &[&str]) -> Vec<String> {
    complete_in("bash", dir, words)
}

#[test]
fn completions_offer_subcommands_interfaces_and_profiles_but_no_hidden_command() {
    let d = tempfile::tempdir().expect("tempdir");
    let d = d.path();
    std::fs::create_dir_all(d.join("profiles")).expect("mkdir");
    std::fs::write(
        d.join("profiles/site-rdma.yaml"),
        "description: the site's RDMA nodes\nextends: latency\n",
    )
    .expect("write profile");
    let subs = complete(d, &["dpuctl", ""]);
    assert!(
        subs.iter().any(|s| s == "show") && subs.iter().any(|s| s == "confirm"),
        "{subs:?}"
    );
    assert!(
        !subs.iter().any(|s| s.contains("confirm-watch")),
        "{subs:?}"
    );
    let c = complete(d, &["dpuctl", "conf"]);
    assert_eq!(c, ["confirm"]);
    // Interface names from sysfs (the fixture's), wherever an IFACE goes.
    for words in [
        &["dpuctl", "show", ""][..],
        &["dpuctl", "stats", "-i", ""],
        &["dpuctl", "capture", ""],
        &["dpuctl", "tune", "latency", ""],
        &["dpuctl", "troubleshoot", "--iface", ""],
    ] {
        let c = complete(d, words);
        for name in ["eno1", "eth2", "lo"] {
            assert!(c.iter().any(|s| s == name), "{words:?}: {c:?}");
        }
    }
    assert_eq!(complete(d, &["dpuctl", "show", "et"]), ["eth2"]);
    for shell in ["bash", "zsh", "fish"] {
        assert_eq!(
            complete_in(shell, d, &["dpuctl", "show", "e"]),
            ["eno1", "eth2"],
            "{shell}"
        );
        let p = complete_in(shell, d, &["dpuctl", "tune", "site"]);
        assert_eq!(p, ["site-rdma"], "{shell}");
        let c = complete_in(shell, d, &["dpuctl", "conf"]);
        assert_eq!(c, ["confirm"], "{shell}");
    }
    // Profile names: the shipped ones and the profile directory's.
    for words in [
        &["dpuctl", "tune", ""][..],
        &["dpuctl", "check", ""],
        &["dpuctl", "profile", "show", ""],
    ] {
        let c = complete(d, words);
        for name in [
            "latency",
            "throughput",
            "gpu-inference",
            "gpu-training",
            "balanced",
            "site-rdma",
        ] {
            assert!(c.iter().any(|s| s == name), "{words:?}: {c:?}");
        }
    }
}

/// The bash script, sourced by a real bash, completes through the binary on PATH.
#[test]
fn the_bash_script_completes_interface_names() {
    let d = tempfile::tempdir().expect("tempdir");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_dpuctl"));
    let script = root().join("completions/dpuctl.bash");
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let f = fixture();
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(dpuctl show e); COMP_CWORD=2; COMP_TYPE=9; \
             _clap_complete_dpuctl dpuctl e show; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .env("PATH", path)
        .env("DPUCTL_SYSFS", f.join("sys"))
        .env("DPUCTL_PROFILE_DIR", d.path())
        .output()
        .expect("run bash");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let got: Vec<String> = text(&o.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(got, ["eno1", "eth2"], "{}", text(&o.stderr));
}
