//! What the benchmarks share: a network namespace of veth pairs that the benchmark creates
//! and deletes, and running the benchmark's own binary inside it (with an environment
//! variable that tells the child which step to run).

#![allow(dead_code)]

use std::fmt::Write as _;
use std::process::Command;

/// Runs `ip ARGS`, panicking when it fails (the benchmarks need root).
pub fn ip(args: &[&str]) {
    let ok = Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ip {args:?} failed (the benchmark needs root)");
}

/// A namespace named `<tag>-<pid>` with `pairs` veth pairs `va<i>`/`vb<i>`, up, each end with
/// `queues` rx and tx queues; deleted on drop.
pub struct VethNs {
    /// The namespace's name.
    pub name: String,
}

impl VethNs {
    /// Creates it; all links in one `ip -batch` so that setup stays fast.
    pub fn new(tag: &str, pairs: usize, queues: usize) -> Self {
        let name = format!("{tag}-{}", std::process::id());
        ip(&["netns", "add", &name]);
        let ns = Self { name };
        // Loopback up: the exporter bench scrapes 127.0.0.1 inside the namespace.
        let mut batch = String::from("link set dev lo up\n");
        for i in 0..pairs {
            let _ = write!(
                batch,
                "link add name va{i} numtxqueues {queues} numrxqueues {queues} type veth peer \
                 name vb{i} numtxqueues {queues} numrxqueues {queues}\nlink set dev va{i} up\n\
                 link set dev vb{i} up\n"
            );
        }
        let file = std::env::temp_dir().join(format!("{}.batch", ns.name));
        std::fs::write(&file, batch).expect("write batch");
        let built = Command::new("ip")
            .args(["-n", &ns.name, "-batch", file.to_str().expect("path")])
            .status()
            .is_ok_and(|s| s.success());
        let _ = std::fs::remove_file(&file);
        // On failure the namespace is deleted by the drop.
        assert!(built, "creating the veth pairs failed");
        ns
    }

    /// This benchmark's binary inside the namespace with `key=value` in its environment, its
    /// output going straight to ours; panics when it fails.
    pub fn run_self(&self, key: &str, value: &str) {
        let exe = std::env::current_exe().expect("self");
        let ok = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(exe)
            .env(key, value)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "benchmark step {value} failed");
    }

    /// Like [`VethNs::run_self`], returning what the step printed.
    pub fn run_self_output(&self, key: &str, value: &str) -> String {
        let exe = std::env::current_exe().expect("self");
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(exe)
            .env(key, value)
            .output()
            .expect("run the benchmark inside the namespace");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "benchmark step {value} failed:\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

impl Drop for VethNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}
