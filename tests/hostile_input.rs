//! Hostile inputs through the built binary: every input is generated here, small and
//! deterministic, and every run is held under a memory limit (`prlimit --as`) and killed after
//! a generous time limit, so that a regression to unbounded memory, a crash or a hang fails
//! the test instead of the machine or CI.
//!
//! Each test names the bound or the failure mode it guards (README.md, "Input limits").

// The generated inputs read best as strings appended to.
#![allow(clippy::format_push_string)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "fixtures/capture/build.rs"]
mod build;

/// Address-space limit of every run: far above what dpuctl needs for these inputs, far below
/// what the unbounded code paths allocated (gigabytes).
const MEMORY_LIMIT: u64 = 1 << 30;
/// Seconds before a run is killed; a run here takes well under a second.
const TIME_LIMIT_S: u32 = 60;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/two-socket")
}

/// dpuctl on the fixture tree (or `sysfs` when given), in `cwd`, under the memory and time
/// limits, with an empty user profile directory.
fn run_in(cwd: &Path, sysfs: Option<&Path>, args: &[&str]) -> Output {
    let f = fixture();
    Command::new("timeout")
        .args(["-s", "KILL", &TIME_LIMIT_S.to_string(), "prlimit"])
        .arg(format!("--as={MEMORY_LIMIT}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .current_dir(cwd)
        .env(
            "DPUCTL_SYSFS",
            sysfs.map_or_else(|| f.join("sys"), Path::to_path_buf),
        )
        .env("DPUCTL_PROCFS", f.join("proc"))
        .env("DPUCTL_PROFILE_DIR", cwd.join("no-such-profile-dir"))
        .env("DPUCTL_STATE_DIR", cwd.join("state"))
        .env("COLUMNS", "100")
        .output()
        .expect("run timeout/prlimit/dpuctl")
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    run_in(cwd, None, args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 2 (not a signal, not the time limit) with a one-line error containing `needle`.
fn refused(o: &Output, needle: &str) -> String {
    let e = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "want exit 2 (137: killed at the time limit or by a signal); got {}\nstderr: {}",
        o.status,
        &e[..e.len().min(2000)]
    );
    assert!(e.contains(needle), "stderr lacks {needle:?}: {e}");
    assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
    e
}

/// Success (exit 0), not killed.
fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "dpuctl failed: {}\nstderr: {}",
        o.status,
        stderr(o)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A snapshot of the fixture node, as JSON to tamper with.
fn fixture_snapshot(dir: &Path) -> serde_json::Value {
    let out = run(dir, &["snapshot"]);
    serde_json::from_str(&ok(&out)).expect("snapshot json")
}

fn write_json(path: &Path, v: &serde_json::Value) {
    std::fs::write(path, serde_json::to_vec(v).expect("json")).expect("write");
}

/// Copies a directory tree, symlinks as symlinks.
fn copy_tree(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(st.success(), "cp -a failed");
}

// Item: a queue index of 2^31 in a snapshot, or an empty `queues/rx-30000000` directory,
// made the queue table loop (and allocate) up to the index.

#[test]
fn a_huge_queue_index_in_a_snapshot_is_refused_naming_the_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut snap = fixture_snapshot(dir.path());
    let eth2 = snap["interfaces"]
        .as_array_mut()
        .expect("interfaces")
        .iter_mut()
        .find(|i| i["name"] == "eth2")
        .expect("eth2");
    eth2["queues"][0]["index"] = 2_147_483_648u64.into();
    let p = dir.path().join("snap.json");
    write_json(&p, &snap);
    let e = refused(
        &run(dir.path(), &["show", "--from", "snap.json", "eth2"]),
        "queue index 2147483648 is above the limit of 65535",
    );
    assert!(e.contains("snap.json:1:"), "{e}");
}

#[test]
fn queue_indexes_with_gaps_show_only_the_queues_there_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut snap = fixture_snapshot(dir.path());
    let eth2 = snap["interfaces"]
        .as_array_mut()
        .expect("interfaces")
        .iter_mut()
        .find(|i| i["name"] == "eth2")
        .expect("eth2");
    eth2["queues"][0]["index"] = 65_535.into();
    write_json(&dir.path().join("snap.json"), &snap);
    let out = ok(&run(dir.path(), &["show", "--from", "snap.json", "eth2"]));
    let rows = out
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .count();
    assert!(out.contains("65535"), "{out}");
    assert!(rows < 100, "a row per index up to 65535: {rows} rows");
}

#[test]
fn an_empty_queue_directory_with_a_huge_index_is_no_queue() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixture(), &dir.path().join("fx"));
    let sys = dir.path().join("fx/sys");
    let eth2 = std::fs::canonicalize(sys.join("class/net/eth2")).expect("eth2 dir");
    std::fs::create_dir(eth2.join("queues/rx-30000000")).expect("mkdir");
    let out = ok(&run_in(dir.path(), Some(&sys), &["show", "eth2"]));
    assert!(!out.contains("30000000"), "{out}");
}

// Item: CPU lists expanded every part before deduplication (32 KiB per `0-8191`).

#[test]
fn repeated_cpu_ranges_in_a_snapshot_take_no_memory_per_part() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut snap = fixture_snapshot(dir.path());
    // 9000 parts (63 KiB, under the 64 KiB bound) in each of four sets: expanded, each set
    // was 295 MB of CPU numbers.
    let list = vec!["0-8191"; 9000].join(",");
    let eth2 = snap["interfaces"]
        .as_array_mut()
        .expect("interfaces")
        .iter_mut()
        .find(|i| i["name"] == "eth2")
        .expect("eth2");
    for q in 0..4 {
        eth2["queues"][q]["rps_cpus"] = list.clone().into();
    }
    write_json(&dir.path().join("snap.json"), &snap);
    let out = ok(&run(dir.path(), &["show", "--from", "snap.json", "eth2"]));
    assert!(out.contains("0-8191"), "{out}");
}

#[test]
fn an_over_long_cpu_list_is_refused_naming_the_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut snap = fixture_snapshot(dir.path());
    snap["interfaces"][0]["queues"][0]["rps_cpus"] = vec!["0-8191"; 20_000].join(",").into();
    write_json(&dir.path().join("snap.json"), &snap);
    let e = refused(
        &run(dir.path(), &["show", "--from", "snap.json"]),
        "64 KiB limit for CPU lists",
    );
    assert!(e.len() < 400, "the list is quoted: {e}");
}

/// A profile file `name.yaml` in `dir` with one interface block, extending `parents`.
fn profile(dir: &Path, name: &str, parents: &[String]) {
    let extends = if parents.is_empty() {
        String::new()
    } else {
        format!("extends: [{}]\n", parents.join(", "))
    };
    std::fs::write(
        dir.join(format!("{name}.yaml")),
        format!(
            "name: {name}\ndescription: d\n{extends}interfaces:\n  - match: {{name: {name}}}\n    mtu: 1500\n"
        ),
    )
    .expect("write profile");
}

/// The interface blocks of a profile with its inheritance applied (`profile show -f json`),
/// by the name each block matches, in the order they apply.
fn blocks(shown: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(shown).expect("profile show -f json");
    v["interfaces"]
        .as_array()
        .expect("interfaces")
        .iter()
        .map(|b| b["match"]["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

// Item: `extends: [p, p]` over 20 files doubled the blocks per level (3.5 GB); a diamond the
// same.

#[test]
fn a_parent_named_twice_or_reached_twice_applies_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    profile(d, "p0", &[]);
    for i in 1..=24 {
        let p = format!("./p{}.yaml", i - 1);
        profile(d, &format!("p{i}"), &[p.clone(), p]);
    }
    let out = ok(&run(d, &["profile", "show", "./p24.yaml", "-f", "json"]));
    assert_eq!(blocks(&out).len(), 25, "{}", &out[..out.len().min(2000)]);
    // A diamond: each top_i extends left_i and right_i, both of which extend top_(i-1).
    profile(d, "top0", &[]);
    for i in 1..=15 {
        let below = format!("./top{}.yaml", i - 1);
        profile(d, &format!("left{i}"), std::slice::from_ref(&below));
        profile(d, &format!("right{i}"), &[below]);
        profile(
            d,
            &format!("top{i}"),
            &[format!("./left{i}.yaml"), format!("./right{i}.yaml")],
        );
    }
    let out = ok(&run(d, &["profile", "show", "./top15.yaml", "-f", "json"]));
    let order = blocks(&out);
    assert_eq!(order.len(), 1 + 15 * 3);
    assert_eq!(order[..5], ["top0", "left1", "right1", "top1", "left2"]);
    ok(&run(
        d,
        &["profile", "validate", "./top15.yaml", "./p24.yaml"],
    ));
}

// Item: a chain of 20,000 `extends` overflowed the stack; 5,000 took more than 20 s.
// The walk is a loop now, so a chain of 5,000 stands for both.

#[test]
fn a_long_extends_chain_is_refused_at_the_depth_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    profile(d, "c0", &[]);
    for i in 1..5_000 {
        profile(d, &format!("c{i}"), &[format!("./c{}.yaml", i - 1)]);
    }
    let o = run(d, &["profile", "validate", "./c4999.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
    assert!(
        out.contains("extends: more than 32 levels (the limit for extends chains)"),
        "{}",
        &out[..out.len().min(2000)]
    );
    assert!(out.lines().count() < 100, "{} lines", out.lines().count());
    // 32 levels below a profile are fine.
    let o = run(d, &["profile", "show", "./c32.yaml", "-f", "json"]);
    assert_eq!(blocks(&ok(&o)).len(), 33);
    refused(
        &run(d, &["profile", "show", "./c33.yaml"]),
        "more than 32 levels",
    );
}

// Item: `extends:` read any file: /dev/zero until memory ran out, /dev/urandom and a FIFO
// hung.

#[test]
fn extends_reads_only_bounded_regular_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    rustix::fs::mkfifoat(rustix::fs::CWD, d.join("fifo.yaml"), 0o600.into()).expect("mkfifo");
    std::fs::write(
        d.join("big.yaml"),
        format!("name: big\ndescription: d\n#{}\n", "x".repeat(2 << 20)),
    )
    .expect("write");
    for (target, why) in [
        ("/dev/zero", "is a character device, not a regular file"),
        ("/dev/urandom", "is a character device, not a regular file"),
        ("./fifo.yaml", "is a FIFO, not a regular file"),
        ("/tmp", "is a directory, not a regular file"),
        ("./big.yaml", "is larger than the 1 MiB limit for profiles"),
    ] {
        std::fs::write(
            d.join("x.yaml"),
            format!("name: x\ndescription: d\nextends: {target}\n"),
        )
        .expect("write");
        let o = run(d, &["profile", "validate", "./x.yaml"]);
        assert_eq!(o.status.code(), Some(2), "{target}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
        assert!(out.contains(why), "{target}: {out}");
        // Named directly, the same.
        let o = run(d, &["profile", "validate", target]);
        assert_eq!(o.status.code(), Some(2), "{target}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
        assert!(out.contains(why), "{target}: {out}");
    }
}

// Item: replaying a recording with 200,000 queue counters was quadratic (`stats --replay` of
// a few MB did not finish).

#[test]
fn replaying_two_hundred_thousand_queue_counters_is_linear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queues = 65_536;
    let mut names = Vec::new();
    for i in 0..queues {
        names.push(format!("\"rx_queue_{i}_packets\""));
        names.push(format!("\"tx_queue_{i}_packets\""));
        names.push(format!("\"rx_queue_{i}_drops\""));
    }
    let zeros = vec!["0"; names.len()].join(",");
    let fives = vec!["5"; names.len()].join(",");
    let mut rec = String::from(
        "{\"dpuctl_recording\":1,\"host\":\"x\",\"interfaces\":[\"eth9\"],\"start_wall_ms\":1700000000000,\"sample_interval_ns\":1000000}\n{\"L\":[7,\"eth9\",1,1000]}\n",
    );
    rec += &format!("{{\"N\":[0,[{}]]}}\n", names.join(","));
    rec += &format!(
        "{{\"D\":{{\"i\":7,\"drv\":\"virtio_net\",\"n\":0,\"v\":[{zeros}],\"to\":[[0,0]]}}}}\n"
    );
    rec += "{\"F\":[0,0,0]}\n";
    for t in 0..10u64 {
        if t == 5 {
            rec += &format!("{{\"D\":{{\"i\":7,\"drv\":\"virtio_net\",\"n\":0,\"v\":[{fives}],\"to\":[[0,0]]}}}}\n");
        }
        rec += &format!(
            "{{\"S\":{{\"t\":{},\"w\":{},\"i\":[[7,2,1000,0,10]]}}}}\n",
            t * 1_000_000,
            1_700_000_000_000u64 + t
        );
    }
    std::fs::write(dir.path().join("q.rec"), rec).expect("write");
    let out = ok(&run(dir.path(), &["stats", "--replay", "q.rec"]));
    assert!(out.contains("eth9"), "{out}");
}

#[test]
fn a_recording_must_be_a_regular_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    rustix::fs::mkfifoat(rustix::fs::CWD, dir.path().join("r.rec"), 0o600.into()).expect("mkfifo");
    refused(
        &run(dir.path(), &["stats", "--replay", "r.rec"]),
        "is a FIFO, not a regular file",
    );
}

// Item: `--config` counter patterns backtracked exponentially (`*a*a*a*a*a*a*a*a*a*a*b` on a
// 40-character counter name took 19.5 s, two more `*a` minutes).

#[test]
fn counter_patterns_with_many_stars_match_in_linear_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pattern = format!("{}b", "*a".repeat(14));
    std::fs::write(
        dir.path().join("c.yaml"),
        format!("counter_classes:\n  virtio_net:\n    \"{pattern}\": rx buffer_exhaustion\n"),
    )
    .expect("write");
    let name = "a".repeat(40);
    let rec = format!(
        "{{\"dpuctl_recording\":1,\"host\":\"x\",\"interfaces\":[\"eth9\"],\"start_wall_ms\":0,\"sample_interval_ns\":1000000}}\n\
         {{\"L\":[7,\"eth9\",1,1000]}}\n\
         {{\"N\":[0,[\"{name}\",\"{name}b\"]]}}\n\
         {{\"D\":{{\"i\":7,\"drv\":\"virtio_net\",\"n\":0,\"v\":[0,0]}}}}\n\
         {{\"S\":{{\"t\":0,\"w\":0,\"i\":[[7]]}}}}\n\
         {{\"D\":{{\"i\":7,\"drv\":\"virtio_net\",\"n\":0,\"v\":[5,5]}}}}\n\
         {{\"S\":{{\"t\":1000000,\"w\":1,\"i\":[[7,2,1000]]}}}}\n"
    );
    std::fs::write(dir.path().join("r.rec"), rec).expect("write");
    let out = ok(&run(
        dir.path(),
        &[
            "stats", "--replay", "r.rec", "--config", "c.yaml", "-f", "jsonl",
        ],
    ));
    assert!(out.contains("buffer_exhaustion"), "{out}");
}

#[test]
fn a_config_must_be_a_bounded_regular_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("r.rec"), "").expect("write");
    refused(
        &run(
            dir.path(),
            &["stats", "--replay", "r.rec", "--config", "/dev/zero"],
        ),
        "is a character device, not a regular file",
    );
}

// Item: `profile validate` was quadratic in the number of problems (`Outline::locate` scanned
// every key of a mapping for each): 200,000 unknown keys took more than 20 s. Under the 1 MiB
// profile bound, 110,000 unknown sysctls took minutes; now a lookup is constant time.

#[test]
fn a_hundred_thousand_unknown_keys_are_located_in_linear_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("name: big\ndescription: d\nsysctl:\n");
    let keys = 110_000;
    let digit = |n: usize| {
        char::from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[n % 62])
    };
    let key = |i: usize| format!("{}{}{}", digit(i / 3844), digit(i / 62), digit(i));
    for i in 0..keys {
        text += &format!("  {}: 1\n", key(i));
    }
    assert!(text.len() < 1 << 20);
    std::fs::write(dir.path().join("big.yaml"), text).expect("write");
    let o = run(dir.path(), &["profile", "validate", "./big.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", &stderr(&o)[..200]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
    let last = format!("./big.yaml:{}:3: sysctl '{}'", keys + 3, key(keys - 1));
    assert!(out.contains(&last), "no {last:?}");
    assert_eq!(out.matches("is not a network sysctl").count(), keys);
}

// Also: a pipe as a capture file was reported as "truncated ... 0 left" (a mapping of a pipe
// is empty). Read in windows, a pipe is read like a file.

/// Writes `bytes` into the FIFO `path` from a thread (the open blocks until dpuctl opens it).
fn feed_fifo(path: &Path, bytes: Vec<u8>) -> std::thread::JoinHandle<()> {
    rustix::fs::mkfifoat(rustix::fs::CWD, path, 0o600.into()).expect("mkfifo");
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open fifo");
        // dpuctl may stop reading early (an error): a broken pipe is fine.
        let _ = f.write_all(&bytes);
    })
}

#[test]
fn a_pipe_is_read_as_a_capture_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pkts: Vec<build::Pkt> = (0..2000u64)
        .map(|i| build::Pkt {
            ts_ns: 1_700_000_000_000_000_000 + i * 10_000,
            data: build::udp4(
                [10, 0, 0, 1],
                1000,
                [10, 0, 0, 2],
                4791,
                60 + (i % 3000) as usize,
            ),
        })
        .collect();
    let bytes = build::pcap(&pkts, true, false);
    let fifo = dir.path().join("whole.pcap");
    let w = feed_fifo(&fifo, bytes.clone());
    let out = ok(&run(
        dir.path(),
        &[
            "capture",
            "analyze",
            "whole.pcap",
            "-f",
            "json",
            "--line-rate",
            "10G",
        ],
    ));
    w.join().expect("writer");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["packets"], 2000, "{out}");
    // A pipe that ends inside a record: the offset of that record and what was left.
    let fifo = dir.path().join("cut.pcap");
    let cut = bytes.len() - 100;
    let w = feed_fifo(&fifo, bytes[..cut].to_vec());
    let o = run(
        dir.path(),
        &["capture", "analyze", "cut.pcap", "--line-rate", "10G"],
    );
    w.join().expect("writer");
    let last = 16 + pkts.last().map_or(0, |p| p.data.len());
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains(&format!(
            "truncated packet record at byte offset {}: {last} bytes needed, {} left",
            bytes.len() - last,
            last - 100
        )),
        "{e}"
    );
    assert!(
        e.contains("results cover the 1999 packets before it"),
        "{e}"
    );
}

// Item: `snapshot -o PATH` wrote `PATH.tmp` and renamed it over PATH: `-o /dev/full` replaced
// the device node, `-o /dev/stdout` the symlink, and a planted `PATH.tmp` symlink was
// followed.

fn file_type(p: &Path) -> std::fs::FileType {
    std::fs::symlink_metadata(p).expect("lstat").file_type()
}

#[test]
fn snapshot_output_replaces_only_regular_files_and_follows_no_planted_link() {
    use std::os::unix::fs::FileTypeExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // A victim the old temporary name points at, and a link at PATH itself.
    std::fs::write(d.join("victim"), "keep").expect("write");
    std::os::unix::fs::symlink(d.join("victim"), d.join("snap.tmp")).expect("symlink");
    std::fs::write(d.join("snap.json"), "old").expect("write");
    ok(&run(d, &["snapshot", "-o", "snap.json"]));
    assert_eq!(
        std::fs::read_to_string(d.join("victim")).expect("read"),
        "keep"
    );
    let snap: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("snap.json")).expect("read")).expect("json");
    assert!(snap["interfaces"].is_array());
    assert!(file_type(&d.join("snap.json")).is_file());
    assert!(file_type(&d.join("snap.tmp")).is_symlink());
    let names: Vec<String> = std::fs::read_dir(d)
        .expect("readdir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "a temporary file left behind: {names:?}");
    // PATH a link to a file: refused, the file untouched.
    std::os::unix::fs::symlink(d.join("victim"), d.join("link.json")).expect("symlink");
    refused(
        &run(d, &["snapshot", "-o", "link.json"]),
        "failed to write snapshot link.json: is a symbolic link to a file",
    );
    assert_eq!(
        std::fs::read_to_string(d.join("victim")).expect("read"),
        "keep"
    );
    // A device (a /dev/full of the test's own, so that a regression cannot replace the
    // host's): written in place, and its error said, never replaced.
    let full = d.join("full");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &full,
        rustix::fs::FileType::CharacterDevice,
        0o666.into(),
        rustix::fs::makedev(1, 7),
    )
    .expect("mknod (root)");
    refused(
        &run(d, &["snapshot", "-o", "full"]),
        "failed to write snapshot full: No space left on device",
    );
    assert!(file_type(&full).is_char_device());
    // A link like /dev/stdout: the JSON on stdout, the link left alone.
    let stdout = d.join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &stdout).expect("symlink");
    let out = ok(&run(d, &["snapshot", "-o", "stdout"]));
    assert!(out.contains("\"interfaces\""), "{out}");
    assert!(file_type(&stdout).is_symlink());
    // A pipe: written in place.
    let fifo = d.join("pipe.json");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, 0o600.into()).expect("mkfifo");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).expect("read fifo"))
    };
    ok(&run(d, &["snapshot", "-o", "pipe.json"]));
    let got = reader.join().expect("reader");
    assert!(serde_json::from_slice::<serde_json::Value>(&got).is_ok());
    assert!(file_type(&fifo).is_fifo());
}

// Item: file contents leaked into diagnostics (`extends: /etc/shadow`, `check /etc/passwd`
// printed the file's lines). A secret file of the test's own stands for /etc/shadow.

#[test]
fn a_file_that_is_no_profile_is_named_not_quoted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let secret = "root:$6$SALTSALT$HASHHASHHASHHASHHASHHASH:19000:0:99999:7:::\n\
                  daemon:*:19000:0:99999:7:::\nalice:$6$OTHERSALT$SECONDHASHSECONDHASH:19000:0:99999:7:::\n";
    std::fs::write(d.join("shadow"), secret).expect("write");
    std::fs::write(
        d.join("x.yaml"),
        "name: x\ndescription: d\nextends: ./shadow\n",
    )
    .expect("write");
    // A YAML file of secrets: keys are tokens (quoted short), values never.
    let long_value = "v".repeat(500);
    std::fs::write(
        d.join("creds.yaml"),
        format!("password: hunter2-{long_value}\ntoken: {long_value}\n"),
    )
    .expect("write");
    for args in [
        &["profile", "validate", "./shadow"][..],
        &["profile", "validate", "./x.yaml"],
        &["profile", "validate", "./creds.yaml"],
        &["check", "./shadow"],
        &["tune", "./shadow", "--dry-run"],
        &["profile", "show", "./x.yaml"],
    ] {
        let o = run(d, args);
        let all = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {all}");
        for leak in [
            "SALT",
            "HASH",
            "daemon",
            "alice",
            "hunter2",
            "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
        ] {
            assert!(
                !all.contains(leak),
                "{args:?} quotes the file ({leak}): {all}"
            );
        }
        assert!(
            all.contains("shadow") || all.contains("creds.yaml"),
            "{args:?}: {all}"
        );
    }
}

// Also: errors repeated their cause ("Permission denied (os error 13): Permission denied (os
// error 13)"), and `--line-rate 1P` was refused though the range named ends at 1 Pbit/s.

#[test]
fn an_error_says_its_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &["stats", "--replay", "missing.rec"][..],
        &["profile", "show", "./missing.yaml"],
        &["show", "--from", "missing.json"],
        &[
            "stats",
            "--replay",
            "missing.rec",
            "--config",
            "missing.yaml",
        ],
    ] {
        let e = refused(
            &run(dir.path(), args),
            "No such file or directory (os error 2)",
        );
        assert_eq!(e.matches("os error 2").count(), 1, "{args:?}: {e}");
    }
}

#[test]
fn a_line_rate_of_one_petabit_is_taken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = build::pcap(
        &[build::Pkt {
            ts_ns: 1_700_000_000_000_000_000,
            data: build::udp4([10, 0, 0, 1], 1, [10, 0, 0, 2], 2, 100),
        }],
        true,
        false,
    );
    std::fs::write(dir.path().join("one.pcap"), bytes).expect("write");
    let out = ok(&run(
        dir.path(),
        &[
            "capture",
            "analyze",
            "one.pcap",
            "--line-rate",
            "1P",
            "-f",
            "json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["line_rate_bps"], 1_000_000_000_000_000u64, "{out}");
    // clap's usage error: several lines.
    let o = run(
        dir.path(),
        &["capture", "analyze", "one.pcap", "--line-rate", "2P"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("out of range (1kbit/s to 1Pbit/s)"));
}
