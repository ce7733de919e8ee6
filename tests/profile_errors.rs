//! Golden error tests for profiles, through the built binary: every file of the bad-profile
//! corpus (`tests/fixtures/profiles/bad/*.yaml`) fails `dpuctl profile validate` with exit
//! code 2 and exactly the lines of its `.expected` file, each with `FILE:LINE:COLUMN`.
//!
//! Set `DPUCTL_BLESS=1` to rewrite the `.expected` files after an intended change.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bad_dir() -> PathBuf {
    root().join("tests/fixtures/profiles/bad")
}

/// dpuctl run from the repository root (so file names in messages are relative), with an
/// empty user profile directory.
fn dpuctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .current_dir(root())
        .env(
            "DPUCTL_PROFILE_DIR",
            root().join("tests/fixtures/profiles/no-such-dir"),
        )
        .env("COLUMNS", "100")
        .output()
        .expect("run dpuctl")
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("utf-8")
}

fn corpus() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(bad_dir())
        .expect("bad dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root())
        .expect("under the repo")
        .display()
        .to_string()
}

/// `FILE:LINE:COLUMN: message` with a non-empty message starting lower-case.
fn assert_located(line: &str, file: &str) {
    let rest = line
        .strip_prefix(file)
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or_else(|| panic!("{line:?} does not start with {file}:"));
    let mut parts = rest.splitn(3, ':');
    let l = parts.next().expect("line");
    let c = parts.next().expect("column");
    let msg = parts.next().expect("message");
    assert!(l.parse::<usize>().is_ok_and(|n| n > 0), "line in {line:?}");
    assert!(
        c.parse::<usize>().is_ok_and(|n| n > 0),
        "column in {line:?}"
    );
    let first = msg.trim_start().chars().next().expect("message");
    assert!(!first.is_uppercase(), "message starts lower-case: {line:?}");
}

#[test]
fn the_corpus_covers_every_kind_of_problem() {
    let names: Vec<String> = corpus()
        .iter()
        .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
        .collect();
    for kind in [
        "syntax",
        "unknown-key",
        "wrong-type",
        "out-of-range",
        "cycle-a",
        "cycle-b",
        "unknown-sysctl",
        "unknown-parent",
        "bad-cpus",
        "bad-selector",
        "many-errors",
    ] {
        assert!(names.iter().any(|n| n == kind), "no bad/{kind}.yaml");
    }
}

#[test]
fn every_bad_profile_fails_with_its_expected_located_errors() {
    let bless = std::env::var_os("DPUCTL_BLESS").is_some();
    for path in corpus() {
        let file = rel(&path);
        let o = dpuctl(&["profile", "validate", &file]);
        assert_eq!(o.status.code(), Some(2), "{file}: exit code");
        assert_eq!(text(&o.stdout), "", "{file}: no ok line");
        let stderr = text(&o.stderr);
        assert!(!stderr.is_empty(), "{file}: no error printed");
        for line in stderr.lines() {
            // Cycles are reported at the file that starts them, which is this one.
            assert_located(line, &file);
        }
        let expected = path.with_extension("expected");
        if bless {
            std::fs::write(&expected, &stderr).expect("bless");
            continue;
        }
        let want = std::fs::read_to_string(&expected)
            .unwrap_or_else(|e| panic!("{}: {e} (DPUCTL_BLESS=1 creates it)", expected.display()));
        assert!(
            want == stderr,
            "{file}: errors differ from {} (DPUCTL_BLESS=1 to accept):\n--- want\n{want}--- got\n{stderr}",
            expected.display()
        );
    }
}

#[test]
fn the_golden_messages_say_what_the_issue_asks_for() {
    let read = |n: &str| {
        std::fs::read_to_string(bad_dir().join(format!("{n}.expected"))).expect("expected")
    };
    assert!(read("unknown-key").contains(
        "unknown-key.yaml:6:5: unknown key 'ring' in interfaces[0], did you mean 'rings'?"
    ));
    assert!(read("cycle-a")
        .contains("cycle-a.yaml:3:10: inheritance cycle: cycle-a -> cycle-b -> cycle-a"));
    assert!(read("unknown-sysctl")
        .contains("unknown sysctl 'net.core.rmem_maxx', did you mean 'net.core.rmem_max'?"));
    assert!(read("unknown-parent").contains(
        "unknown profile 'thruput' (known: balanced, gpu-inference, gpu-training, latency, \
         roce-lossless, throughput), did you mean 'throughput'?"
    ));
    assert!(read("out-of-range").contains("mtu 70000 is out of range (68 to 65535)"));
    assert!(read("syntax").contains("syntax.yaml:5:8: invalid YAML: "));
    assert!(read("wrong-type").contains("interfaces[0].mtu: expected a whole number"));
    // One file, many problems: every one is reported, not only the first.
    assert!(read("many-errors").lines().count() >= 10);
}

#[test]
fn validating_everything_at_once_reports_every_error_in_every_file() {
    let mut args: Vec<String> = vec!["profile".into(), "validate".into()];
    let shipped: Vec<String> = [
        "balanced",
        "gpu-inference",
        "gpu-training",
        "latency",
        "throughput",
    ]
    .iter()
    .map(|n| format!("profiles/{n}.yaml"))
    .collect();
    args.extend(shipped.iter().cloned());
    let bad: Vec<String> = corpus().iter().map(|p| rel(p)).collect();
    args.extend(bad.iter().cloned());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = dpuctl(&a);
    assert_eq!(o.status.code(), Some(2));
    let ok: Vec<String> = shipped.iter().map(|f| format!("ok: {f}")).collect();
    assert_eq!(text(&o.stdout).lines().collect::<Vec<_>>(), ok);
    let stderr = text(&o.stderr);
    // Every expected line of every file, except that the cycle between cycle-a and cycle-b
    // is reported once.
    let mut want = 0;
    for f in &bad {
        let exp =
            std::fs::read_to_string(root().join(f).with_extension("expected")).expect("expected");
        for line in exp.lines() {
            if line.contains("inheritance cycle") {
                continue;
            }
            want += 1;
            assert!(stderr.contains(line), "missing {line:?}");
        }
    }
    let cycles = stderr
        .lines()
        .filter(|l| l.contains("inheritance cycle"))
        .count();
    assert_eq!(cycles, 1, "{stderr}");
    assert_eq!(stderr.lines().count(), want + 1);
}

#[test]
fn valid_files_exit_zero_and_missing_files_are_reported() {
    let o = dpuctl(&["profile", "validate", "profiles/latency.yaml", "throughput"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "ok: profiles/latency.yaml\nok: <shipped>/throughput.yaml\n"
    );
    let o = dpuctl(&[
        "profile",
        "validate",
        "profiles/latency.yaml",
        "nope/missing.yaml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(text(&o.stdout), "ok: profiles/latency.yaml\n");
    assert!(text(&o.stderr).starts_with("nope/missing.yaml: cannot read: "));
}

#[test]
fn show_of_an_invalid_profile_prints_its_errors_and_exits_2() {
    let o = dpuctl(&[
        "profile",
        "show",
        "tests/fixtures/profiles/bad/unknown-key.yaml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(text(&o.stdout), "");
    assert_eq!(
        text(&o.stderr),
        "tests/fixtures/profiles/bad/unknown-key.yaml:6:5: unknown key 'ring' in interfaces[0], \
         did you mean 'rings'?\n"
    );
    let o = dpuctl(&["profile", "show", "thruput"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        "dpuctl: unknown profile 'thruput' (known: balanced, gpu-inference, gpu-training, \
         latency, roce-lossless, throughput), did you mean 'throughput'?\n"
    );
}
