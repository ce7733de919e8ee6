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

use std::fs::{self, File};
use std::io::{self, Read as _, Seek as _, Write as _};
use std::os::fd::OwnedFd;
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
    /// A step failed or did not hold; the applied ones were reverted (see `unrestored` for
    /// any that could not).
    Failed,
    /// The node rebooted while the transaction was in progress or awaited confirmation: its
    /// changes did not survive the reboot, so there was nothing to revert.
    Rebooted,
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
            TxState::Rebooted => "rebooted",
        }
    }

    /// True when a transaction may go from `self` to `to`.
    pub fn can_become(self, to: TxState) -> bool {
        use TxState::{
            Applied, Applying, ConfirmPending, Confirmed, Expired, Failed, Pending, Rebooted,
            RolledBack,
        };
        matches!(
            (self, to),
            (Pending, Applying | Failed | RolledBack | Rebooted)
                | (
                    Applying,
                    Applied | ConfirmPending | Failed | RolledBack | Rebooted
                )
                | (Applied | Confirmed | Failed, RolledBack)
                | (ConfirmPending, Confirmed | Expired | RolledBack | Rebooted)
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
    /// Kernel state the steps change as a side effect, as it was before: restored by every
    /// revert after the steps themselves.
    #[serde(default)]
    pub derived: Vec<Derived>,
    /// `/proc/sys/kernel/random/boot_id` when the transaction started: a transaction of an
    /// earlier boot has nothing left in the kernel to revert.
    #[serde(default)]
    pub boot_id: Option<String>,
    /// The second confirm-timeout watcher (each one restarts the other if it dies).
    #[serde(default)]
    pub guard_pid: Option<u32>,
    /// Start time of the second watcher (clock ticks after boot).
    #[serde(default)]
    pub guard_start: Option<u64>,
    /// With `--best-effort`: the steps that did not take or did not hold, one line each.
    #[serde(default)]
    pub not_applied: Vec<String>,
}

/// Kernel state a transaction may change besides its steps' own values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Derived {
    /// The *wanted* offload bits of an interface (`ethtool -k` shows them as `[requested
    /// on]`): setting one feature can leave another's wanted bit set while a dependency keeps
    /// it inactive, and it turns on later when the dependency does. Every changeable
    /// feature's wanted bit, by kernel name.
    FeaturesWanted {
        /// The interface.
        iface: String,
        /// Feature name to wanted bit.
        wanted: std::collections::BTreeMap<String, bool>,
    },
}

impl Derived {
    /// The interface the state belongs to.
    pub fn iface(&self) -> &str {
        match self {
            Derived::FeaturesWanted { iface, .. } => iface,
        }
    }
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
            derived: Vec::new(),
            boot_id: boot_id(),
            guard_pid: None,
            guard_start: None,
            not_applied: Vec::new(),
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
            TxState::Expired | TxState::RolledBack | TxState::Rebooted => false,
        }
    }

    /// Checks every step with the rules a profile's settings get: a known network sysctl
    /// with a value of its shape, a valid interface name, a settable field, a value of the
    /// knob's type, bounded queue and IRQ numbers. A journal is input like a profile is: one
    /// step outside these rules refuses the whole transaction.
    pub fn validate(&self) -> Result<(), String> {
        if !valid_id(&self.id) {
            return Err(format!("invalid transaction id {:?}", short(&self.id)));
        }
        if self.applied > self.steps.len() {
            return Err(format!(
                "{} steps applied of {}",
                self.applied,
                self.steps.len()
            ));
        }
        for (i, s) in self.steps.iter().enumerate() {
            for v in [&s.old, &s.new] {
                validate_step(&s.knob, v).map_err(|e| format!("step {}: {e}", i + 1))?;
            }
            if s.resets_link != s.knob.resets_link() {
                return Err(format!("step {}: wrong resets_link", i + 1));
            }
        }
        for d in &self.derived {
            let Derived::FeaturesWanted { iface, wanted } = d;
            if !crate::model::knobs::valid_ifname(iface) {
                return Err(format!("invalid interface name {:?}", short(iface)));
            }
            if !self
                .steps
                .iter()
                .any(|s| matches!(&s.knob, Knob::Feature { iface: i, .. } if i == iface))
            {
                return Err(format!(
                    "offload state of {iface}, which no step of the transaction changes"
                ));
            }
            for name in wanted.keys() {
                validate_step(
                    &Knob::Feature {
                        iface: iface.clone(),
                        name: name.clone(),
                    },
                    &Value::Bool(true),
                )?;
            }
        }
        Ok(())
    }
}

/// At most 40 characters of untrusted text, for messages.
fn short(t: &str) -> String {
    let mut s: String = t.chars().take(40).collect();
    if s.len() < t.len() {
        s.push_str("...");
    }
    s
}

/// The highest queue index and IRQ number a journal step may name.
const MAX_QUEUE: u32 = 1 << 16;
const MAX_IRQ: u32 = 1 << 20;

/// One knob and value, by the rules profiles follow (see [`Transaction::validate`]).
pub fn validate_step(knob: &Knob, value: &Value) -> Result<(), String> {
    use crate::sys::write::{settable_field, FieldKind};
    let ty = |want: &str| format!("{knob}: expects {want}, not {value}");
    if let Knob::Sysctl { name } = knob {
        let Value::Text(t) = value else {
            return Err(ty("text"));
        };
        return crate::profile::validate::validate_sysctl(
            name,
            &crate::profile::raw::Scalar::Text(t.clone()),
        )
        .map(drop)
        .map_err(|e| format!("sysctl {}: {e}", short(name)));
    }
    let iface = knob.object();
    if let Knob::RdmaCm { .. } | Knob::RdmaCmDir { .. } = knob {
        if !crate::sys::rdma::valid_device_name(iface) {
            return Err(format!("invalid RDMA device name {:?}", short(iface)));
        }
    } else if !crate::model::knobs::valid_ifname(iface) {
        return Err(format!("invalid interface name {:?}", short(iface)));
    }
    match knob {
        Knob::Sysctl { .. } => Ok(()),
        Knob::Ring { .. } | Knob::Channel { .. } | Knob::Coalesce { .. } | Knob::Pause { .. } => {
            let (group, field) =
                crate::sys::write::knob_field(knob).ok_or_else(|| ty("a field"))?;
            match (settable_field(group, field), value) {
                (Some(FieldKind::Num), Value::Num(n)) if u32::try_from(*n).is_ok() => Ok(()),
                (Some(FieldKind::Bool), Value::Bool(_)) => Ok(()),
                (Some(_), _) => Err(ty("a value of the field's type")),
                (None, _) => Err(format!("{group} has no settable field {:?}", short(field))),
            }
        }
        Knob::Feature { name, .. } => {
            let ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(format!("invalid feature name {:?}", short(name)));
            }
            match value {
                Value::Bool(_) => Ok(()),
                _ => Err(ty("on or off")),
            }
        }
        Knob::Mtu { .. } | Knob::TxQueueLen { .. } => match value {
            Value::Num(n) if u32::try_from(*n).is_ok() => Ok(()),
            _ => Err(ty("a number")),
        },
        Knob::RpsFlowCnt { queue, .. } => match value {
            Value::Num(n) if u32::try_from(*n).is_ok() && *queue < MAX_QUEUE => Ok(()),
            _ => Err(ty("a number on a queue below 65536")),
        },
        Knob::Rps { queue, .. } | Knob::Xps { queue, .. } => match value {
            Value::Cpus(_) if *queue < MAX_QUEUE => Ok(()),
            _ => Err(ty("a CPU list on a queue below 65536")),
        },
        Knob::RdmaCm { port, field, .. } => match (field.as_str(), value) {
            _ if *port == 0 || *port > 255 => Err(ty("a port 1 to 255")),
            (crate::model::rdma::ROCE_MODE, Value::Text(t)) => {
                crate::model::rdma::parse_roce_mode(t)
                    .map(drop)
                    .map_err(|e| format!("{knob}: {e}"))
            }
            (crate::model::rdma::ROCE_TOS, Value::Num(n)) if *n <= 255 => Ok(()),
            (crate::model::rdma::ROCE_TOS, _) => Err(ty("a number 0 to 255")),
            (crate::model::rdma::ROCE_MODE, _) => Err(ty("a RoCE mode")),
            _ => Err(format!("no rdma_cm field {:?}", short(field))),
        },
        Knob::RdmaCmDir { .. } => match value {
            Value::Bool(_) => Ok(()),
            _ => Err(ty("true or false")),
        },
        Knob::Pfc { .. } => match value {
            Value::Text(t) => crate::model::dcb::parse_pfc_text(t)
                .map(drop)
                .map_err(|e| format!("{knob}: {e}")),
            _ => Err(ty("priorities")),
        },
        Knob::DcbEts { .. } => match value {
            Value::Text(t) => crate::model::dcb::EtsSpec::parse(t)
                .map(drop)
                .map_err(|e| format!("{knob}: {e}")),
            _ => Err(ty("an ets")),
        },
        Knob::DcbApp {
            selector, protocol, ..
        } => match value {
            _ if *selector == crate::model::dcb::APP_SEL_DSCP && *protocol > 63 => {
                Err(ty("a DSCP 0 to 63"))
            }
            Value::Text(t) => crate::model::dcb::parse_pfc_text(t)
                .map(drop)
                .map_err(|e| format!("{knob}: {e}")),
            _ => Err(ty("priorities")),
        },
        Knob::DcbTrust { .. } => match value {
            Value::Text(t) => crate::model::dcb::parse_trust_text(t)
                .map(drop)
                .map_err(|e| format!("{knob}: {e}")),
            _ => Err(ty("selectors")),
        },
        Knob::Qdisc { .. } => match value {
            Value::Text(t) => crate::model::qos::QdiscSpec::parse(t)
                .map(drop)
                .map_err(|e| format!("{knob}: {e}")),
            _ => Err(ty("a qdisc")),
        },
        Knob::IrqAffinity { irq, .. } => match value {
            Value::Cpus(c) if *irq < MAX_IRQ && !c.is_empty() => Ok(()),
            _ => Err(ty("a non-empty CPU list on an IRQ below 1048576")),
        },
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
    /// A journal file does not parse, or holds a step no profile could have made.
    #[error("{}: not a dpuctl journal: {why}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parser's or validator's complaint.
        why: String,
    },
    /// The state directory or a file in it is not safe to trust: another user owns it, others
    /// may write it, or it is not what it should be (a link, a FIFO, a device).
    #[error("refusing {}: {why}", path.display())]
    Unsafe {
        /// The directory or file.
        path: PathBuf,
        /// What is wrong, and the fix.
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

fn errno_err(path: &Path) -> impl FnOnce(rustix::io::Errno) -> JournalError + '_ {
    move |e| JournalError::Io {
        path: path.to_path_buf(),
        source: e.into(),
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
    /// The state directory is not safe to use.
    #[error(transparent)]
    Journal(#[from] JournalError),
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

/// The largest journal file read, in bytes: a transaction of 10,000 steps is about 3 MB.
pub const MAX_JOURNAL_BYTES: u64 = 16 << 20;

/// An entry of `journal/` that is not a readable transaction: reported, skipped, never
/// followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadEntry {
    /// The file name in `journal/`.
    pub name: String,
    /// Why it was skipped.
    pub why: String,
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
    !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('-')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`), `None` where it cannot be read.
pub fn boot_id() -> Option<String> {
    let t = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let t = t.trim();
    (!t.is_empty() && t.len() <= 64).then(|| t.to_string())
}

/// The effective uid of this process (from `/proc/self/status`; root when unreadable, which
/// only makes the ownership rule stricter).
fn euid() -> u32 {
    crate::sys::write::privilege().map_or(0, |p| p.euid)
}

/// Refuses an object of the state directory that another user owns or that group or others
/// may write: whoever can write there can make root's `rollback` write what they choose.
fn check_trust(path: &Path, st: &rustix::fs::Stat, what: &str) -> Result<(), JournalError> {
    let uid = st.st_uid;
    let me = euid();
    if uid != 0 && uid != me {
        return Err(JournalError::Unsafe {
            path: path.to_path_buf(),
            why: format!(
                "the {what} is owned by uid {uid}, not by root{}; fix: chown root {}",
                if me == 0 {
                    String::new()
                } else {
                    format!(" or uid {me}")
                },
                path.display()
            ),
        });
    }
    let mode = st.st_mode & 0o7777;
    if mode & 0o022 != 0 {
        return Err(JournalError::Unsafe {
            path: path.to_path_buf(),
            why: format!(
                "the {what} is writable by group or others (mode {mode:04o}); fix: chmod go-w {}",
                path.display()
            ),
        });
    }
    Ok(())
}

fn is_kind(st: &rustix::fs::Stat, kind: rustix::fs::FileType) -> bool {
    rustix::fs::FileType::from_raw_mode(st.st_mode) == kind
}

/// Opens a directory without following a link in its last component, and checks it.
fn open_dir_at(
    at: impl std::os::fd::AsFd,
    name: &Path,
    shown: &Path,
    what: &str,
) -> Result<Option<OwnedFd>, JournalError> {
    use rustix::fs::{openat, Mode, OFlags};
    let fd = match openat(
        at,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP) => {
            return Err(JournalError::Unsafe {
                path: shown.to_path_buf(),
                why: format!("the {what} is a symbolic link or not a directory"),
            })
        }
        Err(e) => return Err(errno_err(shown)(e)),
    };
    let st = rustix::fs::fstat(&fd).map_err(errno_err(shown))?;
    check_trust(shown, &st, what)?;
    Ok(Some(fd))
}

/// A random hex suffix for temporary names, from the standard library's OS-seeded hasher.
fn random_suffix() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(u128::from(now_ms()) << 32 | u128::from(std::process::id()));
    format!("{:016x}", h.finish())
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

    /// The state directory, checked (not a link, owned by root or this user, not writable by
    /// others); `None` when it does not exist.
    fn open_state(&self) -> Result<Option<OwnedFd>, JournalError> {
        open_dir_at(rustix::fs::CWD, &self.dir, &self.dir, "state directory")
    }

    /// `journal/`, checked like the state directory; `None` when either does not exist.
    fn open_journal(&self) -> Result<Option<OwnedFd>, JournalError> {
        let Some(state) = self.open_state()? else {
            return Ok(None);
        };
        open_dir_at(
            &state,
            Path::new("journal"),
            &self.journal_dir(),
            "journal directory",
        )
    }

    /// Creates the directory and its `journal/` subdirectory (mode 0700), and checks both.
    pub fn create(&self) -> Result<(), JournalError> {
        use std::os::unix::fs::DirBuilderExt as _;
        if let Some(parent) = self.dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let mkdir = |p: &Path| match fs::DirBuilder::new().mode(0o700).create(p) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(io_err(p)(e)),
            _ => Ok(()),
        };
        mkdir(&self.dir)?;
        let state = self.open_state()?.ok_or_else(|| JournalError::Io {
            path: self.dir.clone(),
            source: io::ErrorKind::NotFound.into(),
        })?;
        match rustix::fs::mkdirat(&state, "journal", rustix::fs::Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(errno_err(&self.journal_dir())(e)),
        }
        open_dir_at(
            &state,
            Path::new("journal"),
            &self.journal_dir(),
            "journal directory",
        )?;
        Ok(())
    }

    /// Takes the lock or fails at once, naming the holder's pid.
    pub fn lock(&self) -> Result<Lock, LockError> {
        use rustix::fs::{openat, Mode, OFlags};
        self.create()?;
        let state = self.open_state()?.ok_or_else(|| JournalError::Io {
            path: self.dir.clone(),
            source: io::ErrorKind::NotFound.into(),
        })?;
        let path = self.dir.join("lock");
        let fd = match openat(
            &state,
            "lock",
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::LOOP) => {
                return Err(JournalError::Unsafe {
                    path,
                    why: "the lock is a symbolic link".into(),
                }
                .into())
            }
            Err(e) => return Err(errno_err(&path)(e).into()),
        };
        let st = rustix::fs::fstat(&fd).map_err(errno_err(&path))?;
        if !is_kind(&st, rustix::fs::FileType::RegularFile) {
            return Err(JournalError::Unsafe {
                path,
                why: "the lock is not a regular file".into(),
            }
            .into());
        }
        check_trust(&path, &st, "lock file")?;
        let mut f = File::from(fd);
        match f.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(LockError::Busy {
                    pid: read_holder(&mut f),
                })
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&path)(e).into()),
        }
        // The pid is for the message another process prints; the lock itself is the flock.
        let pid = std::process::id().to_string();
        f.set_len(0)
            .and_then(|()| f.rewind())
            .and_then(|()| f.write_all(pid.as_bytes()))
            .map_err(io_err(&path))?;
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
            .find(|id| fs::symlink_metadata(self.path_of(id)).is_err())
            .unwrap_or(base)
    }

    /// Writes a transaction durably: a temporary file with an unpredictable name created
    /// exclusively (`O_EXCL`, so nothing planted is followed or reused), fsync, rename over
    /// `<id>.json` inside the opened journal directory, fsync of the directory.
    pub fn save(&self, tx: &mut Transaction) -> Result<(), JournalError> {
        use rustix::fs::{openat, renameat, unlinkat, AtFlags, Mode, OFlags};
        tx.updated_ms = now_ms();
        let path = self.path_of(&tx.id);
        if !valid_id(&tx.id) {
            return Err(JournalError::NotFound(tx.id.clone()));
        }
        let mut text = serde_json::to_string_pretty(tx).map_err(|e| JournalError::Corrupt {
            path: path.clone(),
            why: e.to_string(),
        })?;
        text.push('\n');
        let dir = self.open_journal()?.ok_or_else(|| JournalError::Io {
            path: self.journal_dir(),
            source: io::ErrorKind::NotFound.into(),
        })?;
        let tmp_name = format!(".{}.{}.tmp", tx.id, random_suffix());
        let tmp = self.journal_dir().join(&tmp_name);
        let fd = openat(
            &dir,
            tmp_name.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(errno_err(&tmp))?;
        let mut f = File::from(fd);
        let written = f
            .write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(io_err(&tmp))
            .and_then(|()| {
                renameat(&dir, tmp_name.as_str(), &dir, format!("{}.json", tx.id))
                    .map_err(errno_err(&path))
            });
        if let Err(e) = written {
            let _ = unlinkat(&dir, tmp_name.as_str(), AtFlags::empty());
            return Err(e);
        }
        rustix::fs::fsync(&dir).map_err(errno_err(&self.journal_dir()))
    }

    /// Reads `journal/<name>` from the opened directory: never through a link, never a FIFO
    /// or device, never more than [`MAX_JOURNAL_BYTES`]; then validates it.
    fn read_entry(&self, dir: &OwnedFd, name: &str) -> Result<Transaction, JournalError> {
        use rustix::fs::{openat, Mode, OFlags};
        let path = self.journal_dir().join(name);
        let fd = match openat(
            dir,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::LOOP) => {
                return Err(JournalError::Unsafe {
                    path,
                    why: "a symbolic link in the journal, not followed".into(),
                })
            }
            Err(e) => return Err(errno_err(&path)(e)),
        };
        let st = rustix::fs::fstat(&fd).map_err(errno_err(&path))?;
        if !is_kind(&st, rustix::fs::FileType::RegularFile) {
            return Err(JournalError::Unsafe {
                path,
                why: "not a regular file".into(),
            });
        }
        check_trust(&path, &st, "journal file")?;
        if st.st_size as u64 > MAX_JOURNAL_BYTES {
            return Err(JournalError::Corrupt {
                path,
                why: format!(
                    "{} bytes, above the limit of {MAX_JOURNAL_BYTES}",
                    st.st_size
                ),
            });
        }
        let mut text = String::new();
        File::from(fd)
            .take(MAX_JOURNAL_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io_err(&path))?;
        let tx: Transaction = serde_json::from_str(&text).map_err(|e| JournalError::Corrupt {
            path: path.clone(),
            why: short_json_error(&e),
        })?;
        if format!("{}.json", tx.id) != name {
            return Err(JournalError::Corrupt {
                path,
                why: format!(
                    "it holds transaction {:?}, not the one its name says",
                    tx.id
                ),
            });
        }
        tx.validate()
            .map_err(|why| JournalError::Corrupt { path, why })?;
        Ok(tx)
    }

    /// Reads one transaction.
    pub fn load(&self, id: &str) -> Result<Transaction, JournalError> {
        if !valid_id(id) {
            return Err(JournalError::NotFound(id.to_string()));
        }
        let Some(dir) = self.open_journal()? else {
            return Err(JournalError::NotFound(id.to_string()));
        };
        match self.read_entry(&dir, &format!("{id}.json")) {
            Err(JournalError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Err(JournalError::NotFound(id.to_string()))
            }
            other => other,
        }
    }

    /// Every transaction, newest first, and the entries of `journal/` that are not readable
    /// transactions (each with the reason). A missing state directory has none. An unsafe
    /// state or journal directory is an error.
    pub fn list_all(&self) -> Result<(Vec<Transaction>, Vec<BadEntry>), JournalError> {
        let Some(dir) = self.open_journal()? else {
            return Ok((Vec::new(), Vec::new()));
        };
        let jdir = self.journal_dir();
        let dup = rustix::io::dup(&dir).map_err(errno_err(&jdir))?;
        let entries = rustix::fs::Dir::new(dup).map_err(errno_err(&jdir))?;
        let mut out = Vec::new();
        let mut bad = Vec::new();
        for e in entries {
            let e = e.map_err(errno_err(&jdir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "." || name == ".." || name.starts_with('.') {
                continue;
            }
            let id_ok = name.strip_suffix(".json").is_some_and(valid_id);
            if !id_ok {
                bad.push(BadEntry {
                    name,
                    why: "not a transaction file name (ID.json)".into(),
                });
                continue;
            }
            match self.read_entry(&dir, &name) {
                Ok(tx) => out.push(tx),
                Err(err) => bad.push(BadEntry {
                    why: match err {
                        JournalError::Corrupt { why, .. } => format!("not a dpuctl journal: {why}"),
                        JournalError::Unsafe { why, .. } => why,
                        other => other.to_string(),
                    },
                    name,
                }),
            }
        }
        out.sort_by(|a, b| {
            b.started_ms
                .cmp(&a.started_ms)
                .then_with(|| id_order(&b.id).cmp(&id_order(&a.id)))
        });
        bad.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((out, bad))
    }

    /// Every readable transaction, newest first (see [`Store::list_all`] for the rest).
    pub fn list(&self) -> Result<Vec<Transaction>, JournalError> {
        Ok(self.list_all()?.0)
    }
}

/// A serde error without the input it quotes: the line and column, and the kind of problem.
fn short_json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    // serde_json's messages quote at most a field name or a short token; cut anything long.
    let msg: String = msg.chars().take(160).collect();
    msg
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
