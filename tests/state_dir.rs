//! The state directory as hostile input: a directory another user owns or may write, planted
//! symbolic links and FIFOs, unreadable and crafted journals. Every command runs through the
//! built binary, as root, on a copy of the recorded fixture tree (`--sysfs-root`/`--procfs-root`
//! through the environment), so that what a crafted journal would write lands in the copy and
//! is seen there; nothing outside the test's temporary directory is touched. Each run has a
//! time limit, so that a command that blocks on a FIFO fails the test instead of hanging it.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dpuctl::model::{Knob, Value};
use dpuctl::tune::{Step, Store, Transaction, TxState};

const DPUCTL: &str = env!("CARGO_BIN_EXE_dpuctl");

/// A temporary node: a copy of the fixture tree, a state directory path, a victim file.
struct Node {
    tmp: tempfile::TempDir,
}

impl Node {
    fn new() -> Self {
        common::require_root();
        let tmp = tempfile::tempdir().expect("tempdir");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two-socket");
        common::run(
            "cp",
            &[
                "-a",
                src.to_str().expect("utf-8"),
                tmp.path().join("node").to_str().expect("utf-8"),
            ],
        );
        std::fs::write(tmp.path().join("victim"), "root's secret\n").expect("victim");
        std::fs::set_permissions(
            tmp.path().join("victim"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod");
        Self { tmp }
    }

    fn state(&self) -> PathBuf {
        self.tmp.path().join("state")
    }

    fn victim(&self) -> PathBuf {
        self.tmp.path().join("victim")
    }

    fn victim_intact(&self) {
        assert_eq!(
            std::fs::read_to_string(self.victim()).expect("victim"),
            "root's secret\n",
            "the file behind a planted link was written"
        );
    }

    fn proc_file(&self, rel: &str) -> String {
        std::fs::read_to_string(self.tmp.path().join("node/proc").join(rel)).expect("proc file")
    }

    /// dpuctl on the copied tree with this state directory, killed after 30 s.
    fn run(&self, args: &[&str]) -> Output {
        let node = self.tmp.path().join("node");
        let mut child = Command::new(DPUCTL)
            .arg("--state-dir")
            .arg(self.state())
            .args(args)
            .env("DPUCTL_SYSFS", node.join("sys"))
            .env("DPUCTL_PROCFS", node.join("proc"))
            .env("DPUCTL_PROFILE_DIR", self.tmp.path().join("profiles"))
            .env("COLUMNS", "200")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dpuctl");
        let start = Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("dpuctl {args:?} hung (killed after 30 s)");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("output")
    }

    /// A profile file setting one sysctl of the fixture.
    fn profile(&self) -> String {
        let p = self.tmp.path().join("somax.yaml");
        std::fs::write(
            &p,
            "name: somax\ndescription: one sysctl\nsysctl:\n  net.core.somaxconn: 1234\n",
        )
        .expect("profile");
        p.to_str().expect("utf-8").to_string()
    }
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Exit 2 and a one-line error containing every one of `wants`.
fn refused(o: &Output, wants: &[&str]) {
    let (out, err) = text(o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    for w in wants {
        assert!(err.contains(w), "{w:?} not in {err}");
    }
}

#[test]
fn a_state_directory_another_user_owns_or_may_write_is_refused() {
    let n = Node::new();
    let o = n.run(&["tune", &n.profile(), "--yes"]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(n.proc_file("sys/net/core/somaxconn").trim(), "1234");
    let state = n.state();
    let s = state.to_str().expect("utf-8");

    common::run("chown", &["65534", s]);
    for args in [&["rollback"][..], &["history"], &["confirm"]] {
        let o = n.run(args);
        refused(&o, &["owned by uid 65534", "chown root"]);
    }
    assert_eq!(
        n.proc_file("sys/net/core/somaxconn").trim(),
        "1234",
        "a refused rollback wrote"
    );
    common::run("chown", &["0", s]);
    common::run("chmod", &["0777", s]);
    refused(
        &n.run(&["rollback"]),
        &["writable by group or others", "chmod go-w"],
    );
    common::run("chmod", &["0700", s]);
    // The journal directory and a journal file are held to the same rule.
    common::run("chmod", &["0722", &format!("{s}/journal")]);
    refused(&n.run(&["rollback"]), &["journal directory", "chmod go-w"]);
    common::run("chmod", &["0700", &format!("{s}/journal")]);
    let file = std::fs::read_dir(state.join("journal"))
        .expect("journal")
        .next()
        .expect("one journal")
        .expect("entry")
        .path();
    common::run("chown", &["65534", file.to_str().expect("utf-8")]);
    let o = n.run(&["rollback"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.starts_with("no transaction to roll back"), "{out}");
    assert!(err.contains("owned by uid 65534"), "{err}");
    assert_eq!(n.proc_file("sys/net/core/somaxconn").trim(), "1234");
    common::run("chown", &["0", file.to_str().expect("utf-8")]);
    let o = n.run(&["rollback"]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(n.proc_file("sys/net/core/somaxconn").trim(), "4096");
}

#[test]
fn planted_links_in_the_state_directory_are_never_followed() {
    let n = Node::new();
    let state = n.state();
    std::fs::create_dir_all(state.join("journal")).expect("mkdir");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    // The lock as a link to a root-owned file: refused, the file untouched.
    std::os::unix::fs::symlink(n.victim(), state.join("lock")).expect("symlink");
    refused(
        &n.run(&["tune", &n.profile(), "--yes"]),
        &["lock is a symbolic link"],
    );
    refused(&n.run(&["rollback"]), &["lock is a symbolic link"]);
    n.victim_intact();
    std::fs::remove_file(state.join("lock")).expect("rm");

    // Links where the old code put its temporary journal (`ID.json.tmp`, with predictable
    // ids: the time and a counter) for the next seconds: the journal is still written, as a
    // regular file, and the links' target is untouched.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let store = Store::new(&state);
    for s in 0..5 {
        let base = store.new_id(now + s * 1000);
        let base = base.rsplit_once('-').expect("id").0.to_string();
        for k in 1..4 {
            let _ = std::os::unix::fs::symlink(
                n.victim(),
                state.join(format!("journal/{base}-{k}.json.tmp")),
            );
        }
    }
    let o = n.run(&["tune", &n.profile(), "--yes"]);
    assert!(o.status.success(), "{}", text(&o).1);
    n.victim_intact();
    let txs = store.list().expect("list");
    assert_eq!(txs.len(), 1);
    let meta = std::fs::symlink_metadata(state.join(format!("journal/{}.json", txs[0].id)))
        .expect("journal file");
    assert!(meta.file_type().is_file());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

#[test]
fn bad_journal_entries_are_listed_and_skipped_never_followed_or_read_unbounded() {
    let n = Node::new();
    let o = n.run(&["tune", &n.profile(), "--yes"]);
    assert!(o.status.success(), "{}", text(&o).1);
    let j = n.state().join("journal");
    std::fs::write(j.join("not valid.json"), "{").expect("write");
    std::fs::write(j.join("20990101-000000-1.json"), "{ not json").expect("write");
    common::run(
        "mkfifo",
        &[j.join("20990101-000000-2.json").to_str().expect("utf-8")],
    );
    std::os::unix::fs::symlink("/dev/zero", j.join("20990101-000000-3.json")).expect("link");
    std::os::unix::fs::symlink(n.victim(), j.join("20990101-000000-4.json")).expect("link");

    let o = n.run(&["history"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(out.matches("unreadable").count(), 5, "{out}");
    assert_eq!(out.lines().count(), 7, "one line per entry: {out}");
    assert!(out.contains("symbolic link"), "{out}");
    assert!(out.contains("not a regular file"), "{out}");
    assert!(
        out.contains("somax"),
        "the good transaction is listed: {out}"
    );
    let o = n.run(&["history", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["unreadable"].as_array().map(Vec::len), Some(5));
    assert_eq!(v["transactions"].as_array().map(Vec::len), Some(1));

    // Journal commands still work, and do what they do with the good transaction.
    let o = n.run(&["check", &n.profile(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let o = n.run(&["tune", &n.profile(), "--dry-run"]);
    assert!(o.status.success(), "{}", text(&o).1);
    let o = n.run(&["rollback"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.starts_with("rolled back transaction"), "{out}");
    assert!(err.contains("skipped"), "{err}");
    assert_eq!(n.proc_file("sys/net/core/somaxconn").trim(), "4096");
    n.victim_intact();
}

/// A journal as an attacker would plant it: a transaction in progress (so that recovery
/// reverts it unasked) whose old values are what the attacker wants written.
fn plant(n: &Node, steps: &[(Knob, Value, Value)], edit: impl FnOnce(&mut serde_json::Value)) {
    let store = Store::new(n.state());
    store.create().expect("create");
    let steps: Vec<Step> = steps
        .iter()
        .map(|(k, old, new)| Step {
            resets_link: k.resets_link(),
            knob: k.clone(),
            old: old.clone(),
            new: new.clone(),
        })
        .collect();
    let mut tx = Transaction::new(store.new_id(1_000), "t1", &steps, 1_000);
    tx.state = TxState::Applying;
    tx.pid = u32::MAX - 1;
    tx.pid_start = None;
    store.save(&mut tx).expect("save");
    let path = n.state().join(format!("journal/{}.json", tx.id));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    edit(&mut v);
    std::fs::write(&path, serde_json::to_string(&v).expect("json")).expect("write");
}

#[test]
fn a_crafted_journal_outside_the_knob_rules_is_refused_whole() {
    for (what, edit) in [
        (
            "a sysctl no profile may set",
            Box::new(|v: &mut serde_json::Value| {
                v["steps"][1]["name"] = "net.ipv4.ip_forward".into();
            }) as Box<dyn Fn(&mut serde_json::Value)>,
        ),
        (
            "an interface name that climbs out of sysfs",
            Box::new(|v: &mut serde_json::Value| {
                v["steps"][0]["knob"] = "rps".into();
                v["steps"][0]["iface"] = "../../../tmp/x".into();
                v["steps"][0]["queue"] = 0.into();
                v["steps"][0]["old"] = serde_json::json!({"cpus": "0"});
                v["steps"][0]["new"] = serde_json::json!({"cpus": "1"});
                v["steps"][0]["resets_link"] = false.into();
            }),
        ),
        (
            "a ring size as text",
            Box::new(|v: &mut serde_json::Value| {
                v["steps"][0]["knob"] = "ring".into();
                v["steps"][0]["iface"] = "eth2".into();
                v["steps"][0]["field"] = "rx".into();
                v["steps"][0]["old"] = serde_json::json!({"text": "1"});
                v["steps"][0]["resets_link"] = true.into();
            }),
        ),
    ] {
        let n = Node::new();
        let ip_forward = n.proc_file("sys/net/core/somaxconn");
        plant(
            &n,
            &[
                (
                    Knob::Sysctl {
                        name: "net.core.somaxconn".into(),
                    },
                    Value::Text("1".into()),
                    Value::Text("4096".into()),
                ),
                (
                    Knob::Sysctl {
                        name: "net.core.rmem_max".into(),
                    },
                    Value::Text("1".into()),
                    Value::Text("212992".into()),
                ),
            ],
            edit,
        );
        for args in [&["rollback"][..], &["tune", &n.profile(), "--yes"]] {
            let o = n.run(args);
            let (_, err) = text(&o);
            assert!(
                err.contains("not a dpuctl journal: step"),
                "{what}: {args:?}: {err}"
            );
        }
        assert_eq!(
            n.proc_file("sys/net/core/somaxconn").trim(),
            "1234",
            "{what}: the planted old value was written"
        );
        assert_ne!(n.proc_file("sys/net/core/rmem_max").trim(), "1", "{what}");
        let _ = ip_forward;
        assert!(
            !Path::new("/tmp/x").exists(),
            "{what}: a path outside sysfs was created"
        );
    }
}

#[test]
fn recovery_says_what_it_reverts_and_asks_like_the_tune() {
    let n = Node::new();
    plant(
        &n,
        &[(
            Knob::Sysctl {
                name: "net.core.somaxconn".into(),
            },
            Value::Text("777".into()),
            Value::Text("4096".into()),
        )],
        |_| {},
    );
    // No terminal and no --yes: refused before anything is written, the revert named.
    let o = n.run(&["tune", &n.profile()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is left behind and is reverted first: sysctl net.core.somaxconn -> 777"),
        "{err}"
    );
    assert!(
        err.contains("refusing to revert 1 setting left by an earlier run without --yes"),
        "{err}"
    );
    assert_eq!(n.proc_file("sys/net/core/somaxconn").trim(), "4096");
    // With --yes: the revert, then the tune.
    let o = n.run(&["tune", &n.profile(), "--yes"]);
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("reverted it (1 setting restored)"), "{err}");
    assert_eq!(n.proc_file("sys/net/core/somaxconn").trim(), "1234");
}
