//! Helpers shared by the real-kernel tests: network namespaces the tests create and delete.

#![allow(dead_code)]

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

pub mod golden;
pub mod http;
pub mod ready;
pub mod tmux;
pub mod traffic;

/// Fails loudly when not root: real-kernel tests never skip in silence.
pub fn require_root() {
    // The real uid is the first field of the Uid line; no libc call needed.
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("Uid line");
    assert_eq!(
        uid, "0",
        "this real-kernel test needs root (it creates network namespaces); run the test suite as root"
    );
}

/// Runs a command, panicking with its stderr when it fails.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let o = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        o.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A network namespace created for one test and deleted when dropped, panics included.
pub struct Netns {
    /// Its name.
    pub name: String,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

impl Netns {
    /// Creates a uniquely named namespace with lo up.
    pub fn new(tag: &str) -> Self {
        require_root();
        let name = format!(
            "dpt-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        run("ip", &["netns", "add", &name]);
        let ns = Self { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NS ARGS`.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut a = vec!["-n", self.name.as_str()];
        a.extend_from_slice(args);
        run("ip", &a)
    }

    /// A veth pair `a`/`b` inside the namespace with `queues` rx and tx queues, both up.
    pub fn veth(&self, a: &str, b: &str, queues: u32) {
        let q = queues.to_string();
        // "name"/"dev" keep ip from reading a short name such as "a" as a keyword prefix.
        self.ip(&[
            "link",
            "add",
            "name",
            a,
            "numtxqueues",
            &q,
            "numrxqueues",
            &q,
            "type",
            "veth",
            "peer",
            "name",
            b,
            "numtxqueues",
            &q,
            "numrxqueues",
            &q,
        ]);
        self.ip(&["link", "set", "dev", a, "up"]);
        self.ip(&["link", "set", "dev", b, "up"]);
    }

    /// Runs a program inside the namespace (sysfs remounted for it by `ip netns exec`).
    pub fn exec(&self, cmd: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name, cmd])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("ip netns exec {cmd}: {e}"))
    }

    /// Like [`Netns::exec`], panicking on failure, returning stdout.
    pub fn exec_ok(&self, cmd: &str, args: &[&str]) -> String {
        let o = self.exec(cmd, args);
        assert!(
            o.status.success(),
            "{cmd} {args:?} in {} failed: {}",
            self.name,
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// dpuctl (the binary under test) inside the namespace.
    pub fn dpuctl(&self, args: &[&str]) -> Output {
        self.exec(env!("CARGO_BIN_EXE_dpuctl"), args)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Two namespaces joined by a veth pair: `s0` (10.NET.0.1) in `tx`, `r0` (10.NET.0.2) in `rx`,
/// with a permanent neighbour entry on `s0`, so that no ARP packet joins (or delays) the
/// traffic a test sends.
pub struct Link {
    /// The sending side.
    pub tx: Netns,
    /// The receiving side.
    pub rx: Netns,
}

/// Makes a [`Link`]: namespaces `<tag>tx` and `<tag>rx`, addresses in 10.`net`.0.0/24.
pub fn link(tag: &str, net: u8) -> Link {
    let tx = Netns::new(&format!("{tag}tx"));
    let rx = Netns::new(&format!("{tag}rx"));
    tx.veth("s0", "r0", 1);
    tx.ip(&["link", "set", "dev", "r0", "netns", &rx.name]);
    tx.ip(&["addr", "add", &format!("10.{net}.0.1/24"), "dev", "s0"]);
    rx.ip(&["addr", "add", &format!("10.{net}.0.2/24"), "dev", "r0"]);
    rx.ip(&["link", "set", "dev", "r0", "up"]);
    let mac = rx.exec_ok("cat", &["/sys/class/net/r0/address"]);
    tx.ip(&[
        "neigh",
        "replace",
        &format!("10.{net}.0.2"),
        "lladdr",
        mac.trim(),
        "dev",
        "s0",
        "nud",
        "permanent",
    ]);
    Link { tx, rx }
}
