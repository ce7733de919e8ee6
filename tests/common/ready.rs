//! Shared by the host and lab eBPF tests: a dpuctl child that has said it runs, and the
//! packets of a capture as tshark reads them. Kept free of the other helpers so that the lab
//! test binary can include this file alone.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

/// Spawns `cmd` and waits until its first line (on stdout, else stderr) contains `ready`, so
/// the test knows it is running; returns the child and a thread collecting the rest of that
/// stream.
pub fn spawn_ready(mut cmd: Command, on_stdout: bool, ready: &str) -> (Child, JoinHandle<String>) {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dpuctl");
    let stream: Box<dyn Read + Send> = if on_stdout {
        Box::new(child.stdout.take().expect("stdout"))
    } else {
        Box::new(child.stderr.take().expect("stderr"))
    };
    let mut r = BufReader::new(stream);
    let mut first = String::new();
    r.read_line(&mut first).expect("read first line");
    assert!(first.contains(ready), "{what} did not start: {first}");
    let rest = std::thread::spawn(move || {
        let mut s = first;
        let _ = r.read_to_string(&mut s);
        s
    });
    (child, rest)
}

/// The arguments of `tshark -r FILE` that print each packet's epoch time and UDP destination
/// port, for [`packets`].
pub fn tshark_args(file: &str) -> [&str; 8] {
    [
        "-r",
        file,
        "-T",
        "fields",
        "-e",
        "frame.time_epoch",
        "-e",
        "udp.dstport",
    ]
}

/// Packets as (epoch ns, destination port) from what `tshark` printed with [`tshark_args`].
pub fn packets(tshark_out: &str) -> Vec<(u64, u16)> {
    tshark_out
        .lines()
        .map(|l| {
            let (t, p) = l.split_once('\t').expect("two fields");
            let (s, f) = t.trim().split_once('.').expect("seconds.fraction");
            let frac: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
            (
                s.parse::<u64>().expect("seconds") * 1_000_000_000
                    + frac.parse::<u64>().expect("fraction"),
                p.trim().parse().expect("port"),
            )
        })
        .collect()
}
