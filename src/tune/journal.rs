//! The state directory: the lock that keeps tune transactions one at a time, and the journal
//! of every transaction with the old and new value of each step.
//!
//! Layout (default `/var/lib/dpuctl`, `--state-dir` / `DPUCTL_STATE_DIR`):
//!
//! ```text
//! lock                  flock(2)ed by the running tune/rollback/confirm; holds its pid
//! journal/<id>.json     one transaction: profile, state, steps with old/new values, progress
//! ```
//!
//! A journal file is replaced atomically (written to `<id>.json.tmp`, fsynced, renamed, the
//! directory fsynced), before the first write and after each applied step, so that after a
//! crash or power loss it tells exactly which changes may be in place.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::model::{CpuSet, Knob, Value};

use super::plan::Step;

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxState {
    /// Journaled, nothing written yet.
    Pending,
    /// Steps are being written; `applied` of them are done.
    Applying,
    /// Every step is in place.
    Applied,
    /// Every step is in place until the deadline, then reverted unless confirmed.
    ConfirmPending,
    /// Confirmed in time: the changes stay.
    Confirmed,
    /// Not confirmed in time: reverted by the watcher.
    Expired,
    /// Reverted by `dpuctl rollback` (or after an interrupted run).
    RolledBack,
    /// A step failed; the applied ones were reverted (see `unrestored` for any that could not).
    Failed,
}

impl TxState {
    /// The name used in the journal and by `history`.
    pub fn as_str(self) -> &'static str {
        match self {
            TxState::Pending => "pending",
            TxState::Applying => "applying",
            TxState::Applied => "applied",
            TxState::ConfirmPending => "confirm-pending",
            TxState::Confirmed => "confirmed",
            TxState::Expired => "expired",
            TxState::RolledBack => "rolled-back",
            TxState::Failed => "failed",
        }
    }

    /// True when a transaction may go from `self` to `to`.
    pub fn can_become(self, to: TxState) -> bool {
        use TxState::{
            Applied, Applying, ConfirmPending, Confirmed, Expired, Failed, Pending, RolledBack,
        };
        matches!(
            (self, to),
            (Pending, Applying | Failed | RolledBack)
                | (Applying, Applied | ConfirmPending | Failed | RolledBack)
                | (Applied | Confirmed | Failed, RolledBack)
                | (ConfirmPending, Confirmed | Expired | RolledBack)
        )
    }

    /// True while a process is (or was, if it died) writing the node.
    pub fn in_progress(self) -> bool {
        matches!(self, TxState::Pending | TxState::Applying)
    }
}

impl std::fmt::Display for TxState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A [`Value`] with its type spelled out (`{"num": 4096}`, `{"cpus": "0-3"}`,
/// `{"text": "1"}`), so that a journal reads back exactly: the untagged form cannot tell the
/// sysctl text `"1"` from the CPU list `"1"`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Tagged {
    Bool(bool),
    Num(u64),
    Cpus(CpuSet),
    Text(String),
}

mod tagged {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Tagged, Value};

    pub fn serialize<S: Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
        let t = match v {
            Value::Bool(b) => Tagged::Bool(*b),
            Value::Num(n) => Tagged::Num(*n),
            Value::Cpus(c) => Tagged::Cpus(c.clone()),
            Value::Text(t) => Tagged::Text(t.clone()),
        };
        t.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        Ok(match Tagged::deserialize(d)? {
            Tagged::Bool(b) => Value::Bool(b),
            Tagged::Num(n) => Value::Num(n),
            Tagged::Cpus(c) => Value::Cpus(c),
            Tagged::Text(t) => Value::Text(t),
        })
    }
}

/// One step as journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalStep {
    /// The knob.
    #[serde(flatten)]
    pub knob: Knob,
    /// The value before the transaction.
    #[serde(with = "tagged")]
    pub old: Value,
    /// The value the transaction sets.
    #[serde(with = "tagged")]
    pub new: Value,
    /// Changing it resets the link.
    pub resets_link: bool,
}

impl From<&Step> for JournalStep {
    fn from(s: &Step) -> Self {
        Self {
            knob: s.knob.clone(),
            old: s.old.clone(),
            new: s.new.clone(),
            resets_link: s.resets_link,
        }
    }
}

impl From<&JournalStep> for Step {
    fn from(s: &JournalStep) -> Self {
        Self {
            knob: s.knob.clone(),
            old: s.old.clone(),
            new: s.new.clone(),
            resets_link: s.resets_link,
        }
    }
}

/// One tune transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// Id, sortable by time: `YYYYMMDD-HHMMSS-N` (UTC).
    pub id: String,
    /// The profile applied.
    pub profile: String,
    /// Start time, RFC 3339 UTC.
    pub started: String,
    /// Start time, milliseconds since the Unix epoch.
    pub started_ms: u64,
    /// Last journal update, milliseconds since the Unix epoch.
    pub updated_ms: u64,
    /// Where it stands.
    pub state: TxState,
    /// Pid of the dpuctl that applied it.
    pub pid: u32,
    /// Start time of that process (clock ticks after boot), to tell it from a later process
    /// with the same pid.
    pub pid_start: Option<u64>,
    /// The changes, in the order they are applied.
    pub steps: Vec<JournalStep>,
    /// How many steps have been applied (the first `applied` of `steps`).
    pub applied: usize,
    /// With a confirm timeout: when the watcher reverts, milliseconds since the Unix epoch.
    pub deadline_ms: Option<u64>,
    /// Pid of the confirm-timeout watcher.
    pub watcher_pid: Option<u32>,
    /// Start time of the watcher (clock ticks after boot).
    pub watcher_start: Option<u64>,
    /// The last failure, if any.
    pub error: Option<String>,
    /// Settings that could not be restored, one line each.
    pub unrestored: Vec<String>,
}

impl Transaction {
    /// A pending transaction of `steps`, applied by this process.
    pub fn new(id: String, profile: &str, steps: &[Step], now_ms: u64) -> Self {
        let pid = std::process::id();
        Self {
            id,
            profile: profile.to_string(),
            started: rfc3339(now_ms),
            started_ms: now_ms,
            updated_ms: now_ms,
            state: TxState::Pending,
            pid,
            pid_start: crate::sys::write::process_start(pid),
            steps: steps.iter().map(JournalStep::from).collect(),
            applied: 0,
            deadline_ms: None,
            watcher_pid: None,
            watcher_start: None,
            error: None,
            unrestored: Vec::new(),
        }
    }

    /// Moves to `to`, refusing transitions the state machine does not have.
    pub fn set_state(&mut self, to: TxState) -> Result<(), JournalError> {
        if !self.state.can_become(to) {
            return Err(JournalError::Transition {
                id: self.id.clone(),
                from: self.state,
                to,
            });
        }
        self.state = to;
        Ok(())
    }

    /// The steps as plan steps.
    pub fn plan_steps(&self) -> Vec<Step> {
        self.steps.iter().map(Step::from).collect()
    }

    /// How many of the first steps may be in place and need reverting: all applied ones, and
    /// every step of a run that stopped in progress. Progress is not journaled step by step (a
    /// full rewrite and fsync per step made a 512-step run take a second); putting back an old
    /// value that was never changed writes what is already there.
    pub fn revert_count(&self) -> usize {
        if self.state.in_progress() {
            self.steps.len()
        } else {
            self.applied.min(self.steps.len())
        }
    }

    /// True when a rollback has something to restore.
    pub fn revertible(&self) -> bool {
        match self.state {
            TxState::Pending
            | TxState::Applying
            | TxState::Applied
            | TxState::ConfirmPending
            | TxState::Confirmed => true,
            TxState::Failed => self.applied > 0,
            TxState::Expired | TxState::RolledBack => false,
        }
    }
}

/// A journal failure.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading or writing the state directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A journal file does not parse.
    #[error("{}: not a dpuctl journal: {why}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        why: String,
    },
    /// No transaction with this id.
    #[error("no transaction {0:?} (see `dpuctl history`)")]
    NotFound(String),
    /// A transition the state machine does not allow.
    #[error("transaction {id} is {from}; it cannot become {to}")]
    Transition {
        /// The transaction.
        id: String,
        /// Its state.
        from: TxState,
        /// The state asked for.
        to: TxState,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("another dpuctl tune is running (pid {})", pid.map_or_else(|| "unknown".to_string(), |p| p.to_string()))]
    Busy {
        /// Its pid, as it wrote it into the lock file.
        pid: Option<u32>,
    },
    /// The lock file could not be opened.
    #[error("cannot open the lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The held lock of a state directory; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// A state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    dir: PathBuf,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian), after Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn utc_parts(ms: u64) -> (i64, u32, u32, u64, u64, u64) {
    let secs = ms / 1000;
    let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    (y, mo, d, t / 3600, t / 60 % 60, t % 60)
}

/// RFC 3339 UTC time of a Unix time in milliseconds: `2025-06-11T14:22:33Z`.
pub fn rfc3339(ms: u64) -> String {
    let (y, mo, d, h, mi, s) = utc_parts(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// True when `id` can be a transaction id (and so a file name).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Store {
    /// The state directory at `dir` (nothing is created yet).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn journal_dir(&self) -> PathBuf {
        self.dir.join("journal")
    }

    fn path_of(&self, id: &str) -> PathBuf {
        self.journal_dir().join(format!("{id}.json"))
    }

    /// Creates the directory and its `journal/` subdirectory.
    pub fn create(&self) -> Result<(), JournalError> {
        let j = self.journal_dir();
        fs::create_dir_all(&j).map_err(io_err(&j))
    }

    /// Takes the lock or fails at once, naming the holder's pid.
    pub fn lock(&self) -> Result<Lock, LockError> {
        self.create().map_err(|e| LockError::Io {
            path: self.dir.clone(),
            source: match e {
                JournalError::Io { source, .. } => source,
                other => io::Error::other(other.to_string()),
            },
        })?;
        let path = self.dir.join("lock");
        let lerr = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(lerr)?;
        match f.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(LockError::Busy {
                    pid: read_holder(&mut f),
                })
            }
            Err(fs::TryLockError::Error(e)) => return Err(lerr(e)),
        }
        // The pid is for the message another process prints; the lock itself is the flock.
        let pid = std::process::id().to_string();
        f.set_len(0)
            .and_then(|()| f.rewind())
            .and_then(|()| f.write_all(pid.as_bytes()))
            .map_err(lerr)?;
        Ok(Lock { _file: f })
    }

    /// Takes the lock, retrying for up to `timeout` while another process holds it.
    pub fn lock_wait(&self, timeout: Duration) -> Result<Lock, LockError> {
        let start = Instant::now();
        loop {
            match self.lock() {
                Err(LockError::Busy { .. }) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    /// A new transaction id for a transaction starting at `now_ms`.
    pub fn new_id(&self, now_ms: u64) -> String {
        let (y, mo, d, h, mi, s) = utc_parts(now_ms);
        let base = format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}");
        (1..=u32::MAX)
            .map(|n| format!("{base}-{n}"))
            .find(|id| !self.path_of(id).exists())
            .unwrap_or(base)
    }

    /// Writes a transaction durably: temp file, fsync, rename, fsync of the directory.
    pub fn save(&self, tx: &mut Transaction) -> Result<(), JournalError> {
        tx.updated_ms = now_ms();
        let dir = self.journal_dir();
        let path = self.path_of(&tx.id);
        let tmp = dir.join(format!("{}.json.tmp", tx.id));
        let mut text = serde_json::to_string_pretty(tx).map_err(|e| JournalError::Corrupt {
            path: path.clone(),
            why: e.to_string(),
        })?;
        text.push('\n');
        {
            let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
            f.write_all(text.as_bytes()).map_err(io_err(&tmp))?;
            f.sync_all().map_err(io_err(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&dir))
    }

    /// Reads one transaction.
    pub fn load(&self, id: &str) -> Result<Transaction, JournalError> {
        if !valid_id(id) {
            return Err(JournalError::NotFound(id.to_string()));
        }
        let path = self.path_of(id);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(JournalError::NotFound(id.to_string()))
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        serde_json::from_str(&text).map_err(|e| JournalError::Corrupt {
            path,
            why: e.to_string(),
        })
    }

    /// Every transaction, newest first. A missing state directory has none.
    pub fn list(&self) -> Result<Vec<Transaction>, JournalError> {
        let dir = self.journal_dir();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut out = Vec::new();
        for e in rd {
            let e = e.map_err(io_err(&dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".json") {
                out.push(self.load(id)?);
            }
        }
        out.sort_by(|a, b| {
            b.started_ms
                .cmp(&a.started_ms)
                .then_with(|| id_order(&b.id).cmp(&id_order(&a.id)))
        });
        Ok(out)
    }
}

/// Sort key of an id: its time part, then its counter as a number.
fn id_order(id: &str) -> (String, u64) {
    match id.rsplit_once('-') {
        Some((base, n)) => (base.to_string(), n.parse().unwrap_or(0)),
        None => (id.to_string(), 0),
    }
}

/// The pid a lock holder wrote, retried briefly: it writes right after taking the lock.
fn read_holder(f: &mut File) -> Option<u32> {
    for _ in 0..5 {
        let mut s = String::new();
        if f.rewind().is_ok() && f.read_to_string(&mut s).is_ok() {
            if let Ok(pid) = s.trim().parse() {
                return Some(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps() -> Vec<Step> {
        vec![
            Step {
                knob: Knob::Sysctl {
                    name: "net.core.somaxconn".into(),
                },
                old: Value::Text("1".into()),
                new: Value::Text("8192".into()),
                resets_link: false,
            },
            Step {
                knob: Knob::Rps {
                    iface: "a".into(),
                    queue: 0,
                },
                old: Value::Cpus(CpuSet::from_cpus([1])),
                new: Value::Cpus(CpuSet::new()),
                resets_link: false,
            },
            Step {
                knob: Knob::Channel {
                    iface: "a".into(),
                    field: "rx".into(),
                },
                old: Value::Num(4),
                new: Value::Num(2),
                resets_link: true,
            },
            Step {
                knob: Knob::Feature {
                    iface: "a".into(),
                    name: "rx-gro".into(),
                },
                old: Value::Bool(false),
                new: Value::Bool(true),
                resets_link: false,
            },
        ]
    }

    #[test]
    fn state_machine() {
        use TxState::*;
        let all = [
            Pending,
            Applying,
            Applied,
            ConfirmPending,
            Confirmed,
            Expired,
            RolledBack,
            Failed,
        ];
        let allowed: Vec<(TxState, TxState)> = all
            .iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            [
                (Pending, Applying),
                (Pending, RolledBack),
                (Pending, Failed),
                (Applying, Applied),
                (Applying, ConfirmPending),
                (Applying, RolledBack),
                (Applying, Failed),
                (Applied, RolledBack),
                (ConfirmPending, Confirmed),
                (ConfirmPending, Expired),
                (ConfirmPending, RolledBack),
                (Confirmed, RolledBack),
                (Failed, RolledBack),
            ]
        );
        let mut tx = Transaction::new("x-1".into(), "p", &steps(), 0);
        assert_eq!(tx.state, Pending);
        tx.set_state(Applying).expect("applying");
        tx.set_state(ConfirmPending).expect("confirm-pending");
        let e = tx.set_state(Applied).expect_err("no way back");
        assert_eq!(
            e.to_string(),
            "transaction x-1 is confirm-pending; it cannot become applied"
        );
        tx.set_state(Expired).expect("expired");
        assert!(!tx.revertible());
        for s in all {
            assert!(!Expired.can_become(s) && !RolledBack.can_become(s));
        }
    }

    #[test]
    fn revert_counts() {
        let mut tx = Transaction::new("x-1".into(), "p", &steps(), 0);
        // Pending and applying runs may have changed any step: all are reverted.
        assert_eq!(tx.revert_count(), 4);
        tx.state = TxState::Applying;
        tx.applied = 2;
        assert_eq!(tx.revert_count(), 4);
        tx.applied = 4;
        assert_eq!(tx.revert_count(), 4);
        tx.state = TxState::Applied;
        assert_eq!(tx.revert_count(), 4);
        tx.state = TxState::Failed;
        tx.applied = 0;
        assert!(!tx.revertible());
        assert_eq!(tx.revert_count(), 0);
    }

    #[test]
    fn journal_round_trips_every_value_type() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path().join("state"));
        store.create().expect("create");
        let id = store.new_id(1_718_115_753_000);
        assert_eq!(id, "20240611-142233-1");
        let mut tx = Transaction::new(id.clone(), "throughput", &steps(), 1_718_115_753_000);
        tx.deadline_ms = Some(1_718_115_755_000);
        store.save(&mut tx).expect("save");
        assert_eq!(store.new_id(1_718_115_753_000), "20240611-142233-2");
        let back = store.load(&id).expect("load");
        assert_eq!(back, tx);
        // The sysctl text "1" stays text; it is not read back as CPU 1.
        assert_eq!(back.steps[0].old, Value::Text("1".into()));
        assert_eq!(back.plan_steps(), steps());

        let raw: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(tmp.path().join(format!("state/journal/{id}.json"))).expect("read"),
        )
        .expect("json");
        assert_eq!(raw["state"], "pending");
        assert_eq!(raw["started"], "2024-06-11T14:22:33Z");
        assert_eq!(raw["steps"][0]["knob"], "sysctl");
        assert_eq!(raw["steps"][0]["name"], "net.core.somaxconn");
        assert_eq!(raw["steps"][0]["old"], serde_json::json!({"text": "1"}));
        assert_eq!(raw["steps"][1]["old"], serde_json::json!({"cpus": "1"}));
        assert_eq!(raw["steps"][1]["new"], serde_json::json!({"cpus": ""}));
        assert_eq!(raw["steps"][2]["new"], serde_json::json!({"num": 2}));
        assert_eq!(raw["steps"][3]["new"], serde_json::json!({"bool": true}));
        assert_eq!(raw["applied"], 0);
        assert!(!tmp
            .path()
            .join(format!("state/journal/{id}.json.tmp"))
            .exists());

        for s in [
            TxState::ConfirmPending,
            TxState::RolledBack,
            TxState::Applying,
        ] {
            let v = serde_json::to_value(s).expect("ser");
            assert_eq!(v, s.as_str());
            assert_eq!(serde_json::from_value::<TxState>(v).expect("de"), s);
        }
    }

    #[test]
    fn history_is_newest_first_and_ids_are_checked() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path());
        assert!(store.list().expect("empty").is_empty());
        store.create().expect("create");
        let mut ids = Vec::new();
        for t in [5_000u64, 1_000, 9_000, 9_000] {
            let id = store.new_id(t);
            let mut tx = Transaction::new(id.clone(), "p", &[], t);
            store.save(&mut tx).expect("save");
            ids.push(id);
        }
        let listed: Vec<String> = store
            .list()
            .expect("list")
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(listed, [&*ids[3], &*ids[2], &*ids[0], &*ids[1]]);
        assert!(matches!(
            store.load("../../etc/passwd"),
            Err(JournalError::NotFound(_))
        ));
        assert!(matches!(store.load("nope"), Err(JournalError::NotFound(_))));
        fs::write(tmp.path().join("journal/bad.json"), "{").expect("write");
        let e = store.load("bad").expect_err("corrupt");
        assert!(e.to_string().contains("not a dpuctl journal"), "{e}");
    }

    #[test]
    fn second_lock_fails_fast_with_the_holder_pid() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path());
        let held = store.lock().expect("first");
        let start = Instant::now();
        let e = store.lock().expect_err("second");
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(
            e.to_string(),
            format!(
                "another dpuctl tune is running (pid {})",
                std::process::id()
            )
        );
        let e = store
            .lock_wait(Duration::from_millis(250))
            .expect_err("still held");
        assert!(matches!(e, LockError::Busy { .. }));
        drop(held);
        let _again = store.lock().expect("free after drop");
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799_000), "2099-12-31T23:59:59Z");
        assert!(valid_id("20240611-142233-1"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id(""));
    }
}
