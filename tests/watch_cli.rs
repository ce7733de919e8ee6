//! `dpuctl watch` through the built binary, without a terminal: what it refuses and how it
//! says so (one line on stderr, exit code 2).

use std::process::{Command, Output};

const DPUCTL: &str = env!("CARGO_BIN_EXE_dpuctl");

fn watch(args: &[&str]) -> Output {
    Command::new(DPUCTL)
        .arg("watch")
        .args(args)
        .output()
        .expect("run dpuctl")
}

fn one_line_error(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(2), "exit code: {o:?}");
    assert!(
        o.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    err
}

#[test]
fn without_a_terminal_it_points_at_stats() {
    // stdout is a pipe here.
    let err = one_line_error(&watch(&[]));
    assert!(
        err.starts_with("dpuctl: dpuctl watch needs a terminal"),
        "{err}"
    );
    assert!(err.contains("`dpuctl stats`"), "{err}");
}

#[test]
fn a_malformed_recording_is_named_with_line_and_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("bad.rec");
    std::fs::write(
        &path,
        "{\"dpuctl_recording\":1,\"host\":\"n\",\"interfaces\":[],\"start_wall_ms\":0,\"sample_interval_ns\":1000000}\n{\"S\":{\"t\":\"soon\"}}\n",
    )
    .expect("write");
    let err = one_line_error(&watch(&["--replay", path.to_str().expect("utf-8")]));
    assert!(err.contains(&format!("{}:2:", path.display())), "{err}");
    let err = one_line_error(&watch(&["--replay", "/nonexistent/x.rec"]));
    assert!(err.contains("/nonexistent/x.rec"), "{err}");
}

#[test]
fn flags_that_do_not_go_together_are_refused() {
    let o = watch(&["--replay", "x.rec", "--speed", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a speed factor"));
    let o = watch(&["eth0", "--replay", "x.rec"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot be used with"));
    let o = watch(&["--speed", "2"]);
    assert_eq!(o.status.code(), Some(2), "--speed needs --replay");
    let o = watch(&["--replay", "x.rec", "--record", "y.rec"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help_teaches_the_keys_and_examples() {
    let o = watch(&["--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "Keys:",
        "/ filter",
        "Enter zoom",
        "--replay",
        "--sample-interval",
        "dpuctl stats",
    ] {
        assert!(
            help.contains(needle),
            "{needle} missing from --help:\n{help}"
        );
    }
}
