//! Tuning engine: plan (pure diff), apply with journal and rollback, confirm timeout, history.
//!
//! A [`Session`] holds the state directory's lock, so transactions run one at a time; every
//! change is journaled before it is made ([`journal`]), applied in order and undone in reverse
//! order on a failure ([`apply`]). A run killed half-way leaves its journal in `applying`; the
//! next `tune` reverts it before anything else and `rollback` reverts it on request.

pub mod apply;
#[cfg(test)]
mod dcb_tests;
pub mod journal;
pub mod plan;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};

use crate::model::{Avail, Knob, NodeState, Setting, Sysctl};
use crate::sys::write::{irqbalance_pid, process_alive, process_start};
use crate::sys::{sysctl, SysRoot};

pub use apply::{apply_steps, revert, same_value, verify, Applier, ApplyError, Unrestored};
pub use journal::{LockError, Store, Transaction, TxState};
pub use plan::{check, current_value, plan, CheckReport, Drift, Plan, Skipped, Step};

/// How often the confirm-timeout watcher reads the journal.
pub const WATCH_POLL: Duration = Duration::from_millis(200);

/// How long `confirm` waits for the lock (a watcher may be reverting).
const CONFIRM_LOCK_WAIT: Duration = Duration::from_secs(10);

/// An exclusive tuning session: the state directory with its lock held until dropped.
#[derive(Debug)]
pub struct Session {
    store: Store,
    _lock: journal::Lock,
}

impl Session {
    /// Takes the lock of the state directory `dir` (creating it), failing at once with
    /// "another dpuctl tune is running (pid N)" while another process holds it.
    pub fn begin(dir: impl Into<PathBuf>) -> Result<Self, LockError> {
        let store = Store::new(dir);
        let lock = store.lock()?;
        Ok(Self { store, _lock: lock })
    }

    /// Like [`Session::begin`], waiting up to `timeout` for the lock.
    pub fn begin_wait(dir: impl Into<PathBuf>, timeout: Duration) -> Result<Self, LockError> {
        let store = Store::new(dir);
        let lock = store.lock_wait(timeout)?;
        Ok(Self { store, _lock: lock })
    }

    /// The state directory.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The transaction waiting for `dpuctl confirm`, if any.
    pub fn pending_confirmation(&self) -> anyhow::Result<Option<Transaction>> {
        Ok(self
            .store
            .list()?
            .into_iter()
            .find(|t| t.state == TxState::ConfirmPending))
    }

    /// Fails while a transaction awaits `dpuctl confirm`: a new one would mix with what its
    /// watcher may revert.
    pub fn ensure_no_pending(&self) -> anyhow::Result<()> {
        if let Some(p) = self.pending_confirmation()? {
            bail!(
                "transaction {} awaits confirmation until {}: run `dpuctl confirm` to keep it \
                 or `dpuctl rollback` to undo it first",
                p.id,
                p.deadline_ms.map_or_else(|| "?".into(), journal::rfc3339)
            );
        }
        Ok(())
    }

    /// What earlier runs left behind, with what [`Session::recover`] will make of each:
    /// transactions still `pending`/`applying` (their process died: this session holds the
    /// lock they held) and confirm-pending ones past their deadline whose watchers are gone
    /// are reverted; those of an earlier boot are closed as [`TxState::Rebooted`], since
    /// nothing of them survived the reboot.
    pub fn stale(&self) -> anyhow::Result<Vec<(Transaction, TxState)>> {
        let boot = journal::boot_id();
        let mut out = Vec::new();
        for tx in self.store.list()? {
            let pending = tx.state == TxState::ConfirmPending;
            if !(tx.state.in_progress() || pending) {
                continue;
            }
            if earlier_boot(&tx, boot.as_deref()) {
                out.push((tx, TxState::Rebooted));
            } else if tx.state.in_progress() {
                out.push((tx, TxState::RolledBack));
            } else if tx.deadline_ms.is_some_and(|d| journal::now_ms() >= d) && !watcher_alive(&tx)
            {
                out.push((tx, TxState::Expired));
            }
        }
        Ok(out)
    }

    /// Handles what [`Session::stale`] lists. Returns one message per transaction handled.
    pub fn recover(&self, applier: &mut dyn Applier) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for (mut tx, fate) in self.stale()? {
            let what = describe_stale(&tx);
            if fate == TxState::Rebooted {
                tx.set_state(TxState::Rebooted)?;
                tx.applied = 0;
                self.store.save(&mut tx)?;
                out.push(format!(
                    "{what}; the node has rebooted since, so none of its changes is left: \
                     closed as rebooted"
                ));
                continue;
            }
            let n = self.revert(applier, &mut tx, fate).with_context(|| {
                format!("{what}; reverting it failed, the node may be half-tuned")
            })?;
            out.push(format!(
                "{what}; reverted it ({n} setting{} restored)",
                if n == 1 { "" } else { "s" }
            ));
        }
        Ok(out)
    }

    /// Journals and applies `plan` as profile `profile`; with `confirm`, the transaction ends
    /// confirm-pending with a deadline that far ahead (the caller starts the watcher).
    pub fn run_transaction(
        &self,
        applier: &mut dyn Applier,
        profile: &str,
        plan: &Plan,
        confirm: Option<Duration>,
    ) -> anyhow::Result<Transaction> {
        self.run_transaction_with(
            applier,
            profile,
            plan,
            &TxOptions {
                confirm,
                best_effort: false,
            },
        )
    }

    /// Journals and applies `plan` as profile `profile`.
    ///
    /// Every step is checked first ([`Applier::preflight`]: privilege, files): a failure there
    /// changes nothing and writes no journal. The kernel state the steps may change as a side
    /// effect (offload *wanted* bits) is read and journaled with the old values. After the
    /// last step every setting of the transaction is read back: a step that failed, or a
    /// setting that does not hold (a driver that took a value and ignored it, a feature
    /// another step turned off), reverts the whole transaction, side effects included, and
    /// the old values are read back in turn; the error says what failed and whether the node
    /// is back where it was. With `best_effort` nothing is reverted: what took stays and the
    /// rest is listed in [`Transaction::not_applied`].
    pub fn run_transaction_with(
        &self,
        applier: &mut dyn Applier,
        profile: &str,
        plan: &Plan,
        opts: &TxOptions,
    ) -> anyhow::Result<Transaction> {
        self.ensure_no_pending()?;
        for s in &plan.steps {
            applier
                .preflight(&s.knob, &s.new)
                .map_err(anyhow::Error::new)
                .context("nothing was changed")?;
        }
        let derived = applier
            .derived(&plan.steps)
            .map_err(anyhow::Error::new)
            .context("cannot read the offload state to journal; nothing was changed")?;
        let store = &self.store;
        let now = journal::now_ms();
        let mut tx = Transaction::new(store.new_id(now), profile, &plan.steps, now);
        tx.derived = derived;
        store
            .save(&mut tx)
            .context("cannot write the journal; nothing was changed")?;
        tx.set_state(TxState::Applying)?;
        store
            .save(&mut tx)
            .context("cannot write the journal; nothing was changed")?;
        let steps = &plan.steps;
        let result = if opts.best_effort {
            let mut failed = Vec::new();
            for s in steps {
                if let Err(e) = applier.apply(&s.knob, &s.new) {
                    failed.push(format!("{}: {e}", s.knob));
                }
            }
            tx.applied = steps.len();
            let held = verify(applier, steps, |s| &s.new);
            tx.not_applied = failed;
            for u in held {
                let line = format!("{}: {}", u.knob, u.cause);
                if !tx
                    .not_applied
                    .iter()
                    .any(|f| f.starts_with(&format!("{}:", u.knob)))
                {
                    tx.not_applied.push(line);
                }
            }
            Ok(())
        } else {
            let tx = &mut tx;
            // Counted in memory only: the journal on disk already holds every old value, and
            // recovery of a run that stops here reverts all of them (see `revert_count`).
            apply_steps(applier, steps, &mut |i| {
                tx.applied = i + 1;
                Ok(())
            })
            .and_then(|()| {
                let held = verify(applier, steps, |s| &s.new);
                match held.first() {
                    None => Ok(()),
                    Some(first) => {
                        let index = steps.iter().position(|s| s.knob == first.knob).unwrap_or(0);
                        Err(Box::new(ApplyError {
                            index,
                            total: steps.len(),
                            knob: first.knob.clone(),
                            value: first.value.clone(),
                            cause: not_held_cause(&held),
                            permission: false,
                            applied: steps.len(),
                            unrestored: revert(applier, steps),
                        }))
                    }
                }
            })
        };
        match result {
            Ok(()) => {
                match opts.confirm {
                    Some(t) => {
                        tx.deadline_ms =
                            Some(journal::now_ms().saturating_add(t.as_millis() as u64));
                        tx.set_state(TxState::ConfirmPending)?;
                    }
                    None => tx.set_state(TxState::Applied)?,
                }
                store.save(&mut tx)?;
                Ok(tx)
            }
            Err(e) => {
                let mut e = *e;
                // The steps were put back, last first; now the side effects, then the proof:
                // every setting of the transaction read back at its old value.
                e.unrestored = settle(applier, steps, &tx.derived, &e.unrestored);
                tx.applied = if e.unrestored.is_empty() {
                    0
                } else {
                    steps.len()
                };
                tx.error = Some(e.to_string());
                tx.unrestored = e.unrestored.iter().map(ToString::to_string).collect();
                tx.set_state(TxState::Failed)?;
                let saved = store.save(&mut tx);
                let err = anyhow::Error::new(e);
                match saved {
                    Ok(()) => Err(err),
                    Err(j) => Err(err.context(format!("also failed to journal the failure: {j}"))),
                }
            }
        }
    }

    /// Records the watcher of a confirm-pending transaction.
    pub fn set_watcher(&self, id: &str, pid: u32) -> anyhow::Result<()> {
        let mut tx = self.store.load(id)?;
        tx.watcher_pid = Some(pid);
        tx.watcher_start = process_start(pid);
        self.store.save(&mut tx)?;
        Ok(())
    }

    /// Records both watchers of a confirm-pending transaction.
    pub fn set_watchers(&self, id: &str, first: u32, second: u32) -> anyhow::Result<()> {
        let mut tx = self.store.load(id)?;
        tx.watcher_pid = Some(first);
        tx.watcher_start = process_start(first);
        tx.guard_pid = Some(second);
        tx.guard_start = process_start(second);
        self.store.save(&mut tx)?;
        Ok(())
    }

    /// Restores the old values of `tx`'s applied steps, last first, and moves it to `fate`.
    /// Every setting is tried even when one fails; then the journal keeps the state and lists
    /// what could not be restored, and the error says the same. Returns the number of settings
    /// restored.
    pub fn revert(
        &self,
        applier: &mut dyn Applier,
        tx: &mut Transaction,
        fate: TxState,
    ) -> anyhow::Result<usize> {
        if !tx.state.can_become(fate) {
            bail!(
                "transaction {} is {}; it cannot become {fate}",
                tx.id,
                tx.state
            );
        }
        let steps = tx.plan_steps();
        let todo = &steps[..tx.revert_count()];
        for s in todo {
            applier
                .preflight(&s.knob, &s.old)
                .map_err(anyhow::Error::new)
                .context("nothing was changed")?;
        }
        let first = revert(applier, todo);
        let unrestored = settle(applier, todo, &tx.derived, &first);
        if unrestored.is_empty() {
            tx.set_state(fate)?;
            tx.applied = 0;
            tx.unrestored.clear();
            self.store.save(tx)?;
            return Ok(todo.len());
        }
        let list: Vec<String> = unrestored.iter().map(ToString::to_string).collect();
        tx.error = Some(format!("rollback incomplete: {}", list.join("; ")));
        tx.unrestored.clone_from(&list);
        self.store.save(tx)?;
        Err(anyhow!(
            "could not restore {} of {} settings of transaction {}, which are NOT back where \
             they were: {}",
            unrestored.len(),
            todo.len(),
            tx.id,
            list.join("; ")
        ))
    }

    /// Rolls back transaction `id`, or the newest one with something to restore, and marks it
    /// rolled-back.
    pub fn rollback(
        &self,
        applier: &mut dyn Applier,
        id: Option<&str>,
    ) -> anyhow::Result<(Transaction, usize)> {
        let mut tx = match id {
            Some(id) => self.store.load(id)?,
            None => self
                .store
                .list()?
                .into_iter()
                .find(Transaction::revertible)
                .ok_or_else(|| anyhow!("no transaction to roll back (see `dpuctl history`)"))?,
        };
        if !tx.revertible() {
            bail!(
                "transaction {} is {}: nothing to roll back",
                tx.id,
                tx.state
            );
        }
        let n = self.revert(applier, &mut tx, TxState::RolledBack)?;
        Ok((tx, n))
    }

    /// Rolls back transaction `id`, or the newest one with something to restore.
    ///
    /// A transaction is not rolled back while a newer one that is still in effect changed
    /// any of the same settings (or the offloads of the same interface): its old values
    /// would overwrite what the newer one set, and rolling back the newer one later would
    /// restore the older one's values, a state nobody asked for. That is refused, naming the
    /// newer transactions, unless `cascade`: then they are rolled back first, newest first.
    /// Returns what was rolled back, in order; empty with the reason when there is nothing
    /// to do (no transaction, or it is already rolled back), which is not an error.
    pub fn rollback_with(
        &self,
        applier: &mut dyn Applier,
        id: Option<&str>,
        cascade: bool,
    ) -> anyhow::Result<RollbackOutcome> {
        let all = self.store.list()?;
        let target = match id {
            Some(id) => {
                let tx = self.store.load(id)?;
                if !tx.revertible() {
                    return Ok(RollbackOutcome::Nothing(format!(
                        "transaction {} is {}: nothing to roll back",
                        tx.id, tx.state
                    )));
                }
                tx
            }
            None => match all.iter().find(|t| t.revertible()) {
                Some(t) => t.clone(),
                None => {
                    return Ok(RollbackOutcome::Nothing(
                        "no transaction to roll back (see `dpuctl history`)".into(),
                    ))
                }
            },
        };
        let newer: Vec<Transaction> = all
            .iter()
            .take_while(|t| t.id != target.id)
            .filter(|t| t.revertible() && overlap(t, &target))
            .cloned()
            .collect();
        if !newer.is_empty() && !cascade {
            let names: Vec<String> = newer
                .iter()
                .map(|t| format!("{} ({}, profile {})", t.id, t.state, t.profile))
                .collect();
            bail!(
                "transaction {} cannot be rolled back while newer transaction{} {} changed the \
                 same settings: roll {} back first (newest first), or pass --cascade; nothing \
                 was changed",
                target.id,
                if newer.len() == 1 { "" } else { "s" },
                names.join(", "),
                if newer.len() == 1 { "it" } else { "them" }
            );
        }
        let mut done = Vec::new();
        for mut tx in newer.into_iter().chain(std::iter::once(target)) {
            let n = self.revert(applier, &mut tx, TxState::RolledBack)?;
            done.push((tx, n));
        }
        Ok(RollbackOutcome::Done(done))
    }

    /// Marks the newest confirm-pending transaction (or `id`) confirmed, if its deadline has
    /// not passed.
    pub fn confirm(&self, id: Option<&str>) -> anyhow::Result<Transaction> {
        let mut tx = match id {
            Some(id) => self.store.load(id)?,
            None => self
                .pending_confirmation()?
                .ok_or_else(|| anyhow!("no transaction awaits confirmation"))?,
        };
        if tx.state != TxState::ConfirmPending {
            bail!(
                "transaction {} is {}; only a confirm-pending one can be confirmed",
                tx.id,
                tx.state
            );
        }
        if tx.deadline_ms.is_some_and(|d| journal::now_ms() >= d) {
            bail!(
                "too late: transaction {} passed its deadline {} and is being reverted",
                tx.id,
                tx.deadline_ms.map_or_else(String::new, journal::rfc3339)
            );
        }
        tx.set_state(TxState::Confirmed)?;
        self.store.save(&mut tx)?;
        Ok(tx)
    }
}

/// How [`Session::run_transaction_with`] runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxOptions {
    /// Revert unless `dpuctl confirm` runs within this time.
    pub confirm: Option<Duration>,
    /// Keep what took when a step fails or does not hold, and list the rest.
    pub best_effort: bool,
}

/// The cause of a transaction whose settings did not all hold after the last step.
fn not_held_cause(held: &[Unrestored]) -> String {
    let list: Vec<String> = held
        .iter()
        .map(|u| {
            format!(
                "{} (set to {}) {}",
                u.knob,
                plan::render_value(&u.value),
                u.cause
            )
        })
        .collect();
    format!(
        "{} setting{} did not hold after the last step: {}",
        held.len(),
        if held.len() == 1 { "" } else { "s" },
        list.join("; ")
    )
}

/// After the steps of a revert: puts the derived state back, reads every step's knob, and
/// for those not at their old value writes it once more (last first) with the derived state
/// after it, since restoring one setting can depend on another being restored first. Returns
/// what is still not back, by the read-back, with the failures of `first` that it confirms.
fn settle(
    applier: &mut dyn Applier,
    steps: &[Step],
    derived: &[journal::Derived],
    first: &[Unrestored],
) -> Vec<Unrestored> {
    let restore = |applier: &mut dyn Applier| -> Vec<Unrestored> {
        derived
            .iter()
            .filter_map(|d| {
                let e = applier.restore(d).err()?;
                let s = steps.iter().find(|s| {
                    s.knob.object() == d.iface() && matches!(s.knob, Knob::Feature { .. })
                })?;
                Some(Unrestored {
                    knob: s.knob.clone(),
                    value: s.old.clone(),
                    cause: format!("offload state not restored: {e}"),
                })
            })
            .collect()
    };
    let mut derived_failed = restore(applier);
    let mut bad = verify(applier, steps, |s| &s.old);
    if !bad.is_empty() {
        let again: Vec<Step> = steps
            .iter()
            .filter(|s| bad.iter().any(|b| b.knob == s.knob))
            .cloned()
            .collect();
        let _ = revert(applier, &again);
        derived_failed = restore(applier);
        bad = verify(applier, steps, |s| &s.old);
    }
    // A write error whose setting now reads right was a transient refusal; keep its
    // message where the setting is still wrong.
    for u in &mut bad {
        if let Some(f) = first.iter().find(|f| f.knob == u.knob) {
            u.cause = format!("{}; {}", f.cause, u.cause);
        }
    }
    for d in derived_failed {
        if !bad.iter().any(|b| b.knob == d.knob) {
            bad.push(d);
        }
    }
    bad
}

/// What [`Session::rollback_with`] did.
#[derive(Debug)]
pub enum RollbackOutcome {
    /// Transactions rolled back, in order, with the number of settings each restored.
    Done(Vec<(Transaction, usize)>),
    /// Nothing to do, and why.
    Nothing(String),
}

/// True when two transactions touch a common setting, or the offloads of one interface (a
/// revert restores an interface's wanted offload bits as a whole).
fn overlap(a: &Transaction, b: &Transaction) -> bool {
    let feature_ifaces = |t: &Transaction| -> Vec<String> {
        t.steps
            .iter()
            .filter(|s| matches!(s.knob, Knob::Feature { .. }))
            .map(|s| s.knob.object().to_string())
            .collect()
    };
    let fa = feature_ifaces(a);
    a.steps
        .iter()
        .any(|x| b.steps.iter().any(|y| x.knob == y.knob))
        || feature_ifaces(b).iter().any(|i| fa.contains(i))
}

/// True when `tx` started in another boot than `boot` (both known).
fn earlier_boot(tx: &Transaction, boot: Option<&str>) -> bool {
    matches!((tx.boot_id.as_deref(), boot), (Some(a), Some(b)) if a != b)
}

/// Confirms the pending transaction: waits briefly for the lock, since a watcher may be busy.
pub fn confirm(dir: &Path, id: Option<&str>) -> anyhow::Result<Transaction> {
    // Read first: with nothing to confirm, nothing is created (no state directory, no lock).
    if id.is_none()
        && !Store::new(dir)
            .list()?
            .iter()
            .any(|t| t.state == TxState::ConfirmPending)
    {
        bail!("no transaction awaits confirmation");
    }
    Session::begin_wait(dir, CONFIRM_LOCK_WAIT)?.confirm(id)
}

/// True while either confirm-timeout watcher of `tx` runs.
fn watcher_alive(tx: &Transaction) -> bool {
    tx.watcher_pid
        .is_some_and(|p| process_alive(p, tx.watcher_start))
        || tx
            .guard_pid
            .is_some_and(|p| process_alive(p, tx.guard_start))
}

/// How a transaction left behind reads in a message.
fn describe_stale(tx: &Transaction) -> String {
    if tx.state.in_progress() {
        format!(
            "transaction {} (profile {}) was interrupted while applying its {} changes (dpuctl pid {} is gone)",
            tx.id,
            tx.profile,
            tx.steps.len(),
            tx.pid
        )
    } else {
        format!(
            "transaction {} (profile {}) was not confirmed by {} and its watchers are gone",
            tx.id,
            tx.profile,
            tx.deadline_ms.map_or_else(|| "?".into(), journal::rfc3339)
        )
    }
}

/// Warnings about transactions left behind, for commands that do not take the lock (`check`,
/// `history`): runs whose process died mid-way, confirm-pending ones whose watchers are gone,
/// and those of an earlier boot. An unsafe state directory gives none (the command that
/// reads the journal reports it).
pub fn stale_warnings(store: &Store) -> Vec<String> {
    store.list().map(|all| stale_of(&all)).unwrap_or_default()
}

/// [`stale_warnings`] and [`bad_entry_warnings`] from one read of the journal.
pub fn journal_warnings(store: &Store) -> Vec<String> {
    let Ok((all, bad)) = store.list_all() else {
        return Vec::new();
    };
    let mut out = stale_of(&all);
    out.extend(bad_of(store, &bad));
    out
}

fn stale_of(all: &[Transaction]) -> Vec<String> {
    let boot = journal::boot_id();
    all.iter()
        .filter_map(|tx| {
            let open = tx.state.in_progress() || tx.state == TxState::ConfirmPending;
            if open && earlier_boot(tx, boot.as_deref()) {
                Some(format!(
                    "transaction {} (profile {}) was {} when the node rebooted: none of its \
                     changes survived, and the next `dpuctl tune` closes it as rebooted",
                    tx.id, tx.profile, tx.state
                ))
            } else if tx.state.in_progress() && !process_alive(tx.pid, tx.pid_start) {
                Some(format!(
                    "{}: `dpuctl rollback` restores the old values (`dpuctl tune` does so first)",
                    describe_stale(tx)
                ))
            } else if tx.state == TxState::ConfirmPending && !watcher_alive(tx) {
                let passed = tx.deadline_ms.is_none_or(|d| journal::now_ms() >= d);
                Some(if passed {
                    format!(
                        "{}: `dpuctl rollback` reverts it (`dpuctl tune` does so first)",
                        describe_stale(tx)
                    )
                } else {
                    format!(
                        "transaction {} awaits confirmation until {} but its watchers are gone, \
                         so nothing will revert it: `dpuctl confirm` keeps it, `dpuctl \
                         rollback` undoes it",
                        tx.id,
                        tx.deadline_ms.map_or_else(String::new, journal::rfc3339)
                    )
                })
            } else {
                None
            }
        })
        .collect()
}

/// One warning per entry of `journal/` that is not a readable transaction (skipped).
pub fn bad_entry_warnings(store: &Store) -> Vec<String> {
    store
        .list_all()
        .map(|(_, bad)| bad_of(store, &bad))
        .unwrap_or_default()
}

fn bad_of(store: &Store, bad: &[journal::BadEntry]) -> Vec<String> {
    bad.iter()
        .map(|b| {
            format!(
                "skipped {}: {}",
                store.dir().join("journal").join(&b.name).display(),
                b.why
            )
        })
        .collect()
}

/// The confirm-timeout watcher: reads the journal every `poll` until the transaction leaves
/// confirm-pending (confirmed or rolled back: nothing to do) or its deadline passes; then takes
/// the lock, and if it is still pending, reverts it and marks it expired. Returns the final
/// state.
///
/// Two watchers run for each transaction, each recorded in the journal; with `respawn`, each
/// one starts a new partner when it finds the other dead (killed, even with SIGKILL), so the
/// revert happens on time unless both die at once; then the next `dpuctl tune` reverts the
/// overdue transaction, and `check` and `history` warn about it.
pub fn watch(
    dir: &Path,
    id: &str,
    applier: &mut dyn Applier,
    poll: Duration,
    respawn: Option<&WatcherCommand>,
) -> anyhow::Result<TxState> {
    let store = Store::new(dir);
    let me = std::process::id();
    loop {
        let tx = store.load(id)?;
        if tx.state != TxState::ConfirmPending {
            return Ok(tx.state);
        }
        let deadline = tx.deadline_ms.unwrap_or(0);
        let now = journal::now_ms();
        if now >= deadline {
            // confirm and rollback hold the lock only briefly; wait for them.
            let session = Session::begin_wait(dir, Duration::from_secs(24 * 3600))?;
            let mut tx = store.load(id)?;
            if tx.state != TxState::ConfirmPending {
                return Ok(tx.state);
            }
            session.revert(applier, &mut tx, TxState::Expired)?;
            return Ok(TxState::Expired);
        }
        if let Some(cmd) = respawn {
            let partner = if tx.watcher_pid == Some(me) {
                Some((tx.guard_pid, tx.guard_start, false))
            } else if tx.guard_pid == Some(me) {
                Some((tx.watcher_pid, tx.watcher_start, true))
            } else {
                None
            };
            if let Some((Some(pid), start, first)) = partner {
                if !process_alive(pid, start) {
                    replace_partner(dir, id, cmd, first);
                }
            }
        }
        std::thread::sleep(poll.min(Duration::from_millis(deadline - now)));
    }
}

/// Starts a new watcher in place of a dead one and records it (under the lock, briefly: if
/// the lock is busy, the next round tries again).
fn replace_partner(dir: &Path, id: &str, cmd: &WatcherCommand, first: bool) {
    let Ok(session) = Session::begin_wait(dir, Duration::from_millis(500)) else {
        return;
    };
    let Ok(mut tx) = session.store.load(id) else {
        return;
    };
    if tx.state != TxState::ConfirmPending {
        return;
    }
    let Ok(pid) = spawn_watcher(cmd, id) else {
        return;
    };
    let start = process_start(pid);
    if first {
        tx.watcher_pid = Some(pid);
        tx.watcher_start = start;
    } else {
        tx.guard_pid = Some(pid);
        tx.guard_start = start;
    }
    let _ = session.store.save(&mut tx);
}

/// How to start the watcher: the dpuctl binary and the global options it must share with the
/// `tune` that starts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherCommand {
    /// The dpuctl binary.
    pub exe: PathBuf,
    /// `--state-dir`.
    pub state_dir: PathBuf,
    /// `--sysfs-root`, when given.
    pub sysfs_root: Option<PathBuf>,
    /// `--procfs-root`, when given.
    pub procfs_root: Option<PathBuf>,
}

impl WatcherCommand {
    /// The command line `dpuctl [globals] confirm-watch ID`.
    pub fn command(&self, id: &str) -> Command {
        let mut c = Command::new(&self.exe);
        c.arg("--state-dir").arg(&self.state_dir);
        if let Some(s) = &self.sysfs_root {
            c.arg("--sysfs-root").arg(s);
        }
        if let Some(p) = &self.procfs_root {
            c.arg("--procfs-root").arg(p);
        }
        c.arg("confirm-watch").arg(id);
        c
    }
}

/// Starts `dpuctl confirm-watch ID` detached: its own process group (a hangup of the
/// terminal that ran `tune` does not reach it), stdio on /dev/null, not waited for. Returns
/// its pid.
pub fn spawn_watcher(cmd: &WatcherCommand, id: &str) -> std::io::Result<u32> {
    use std::os::unix::process::CommandExt as _;
    let mut c = cmd.command(id);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    // Not waited for on purpose: it outlives this process and is reaped by init.
    #[allow(clippy::zombie_processes)]
    let child = c.spawn()?;
    Ok(child.id())
}

/// Adds to `state` the sysctls `settings` name that it lacks (those outside
/// [`sysctl::KNOWN`]), read from `root`, so that the plan sees their current values.
pub fn augment_sysctls(root: &SysRoot, state: &mut NodeState, settings: &[Setting]) {
    for s in settings {
        if let Knob::Sysctl { name } = &s.knob {
            if !state.sysctls.iter().any(|x| &x.name == name) {
                state.sysctls.push(Sysctl {
                    name: name.clone(),
                    value: Avail::from(sysctl::read(root, name)),
                });
            }
        }
    }
}

/// A warning when irqbalance runs and `knobs` include IRQ affinities: it moves IRQs every
/// few seconds and undoes them.
pub fn irqbalance_warning<'a>(
    root: &SysRoot,
    knobs: impl IntoIterator<Item = &'a Knob>,
) -> Option<String> {
    let irqs = knobs
        .into_iter()
        .filter(|k| matches!(k, Knob::IrqAffinity { .. }))
        .count();
    if irqs == 0 {
        return None;
    }
    let pid = irqbalance_pid(root)?;
    Some(format!(
        "irqbalance (pid {pid}) is running and conflicts with the {irqs} IRQ affinit{} set here: \
         it will move them back; stop it (systemctl disable --now irqbalance) or ban these IRQs \
         (irqbalance --banirq)",
        if irqs == 1 { "y" } else { "ies" }
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::apply::fake::FakeNode;
    use super::*;
    use crate::model::{CpuSet, Value};

    fn node_and_plan() -> (FakeNode, Plan) {
        let mut node = FakeNode::default();
        let mut p = Plan::default();
        for (k, old, new) in [
            (
                Knob::Sysctl {
                    name: "net.core.somaxconn".into(),
                },
                Value::Text("4096".into()),
                Value::Text("8192".into()),
            ),
            (
                Knob::Mtu { iface: "a".into() },
                Value::Num(1500),
                Value::Num(9000),
            ),
            (
                Knob::Xps {
                    iface: "a".into(),
                    queue: 1,
                },
                Value::Cpus(CpuSet::new()),
                Value::Cpus(CpuSet::from_cpus([1])),
            ),
            (
                Knob::Channel {
                    iface: "a".into(),
                    field: "tx".into(),
                },
                Value::Num(4),
                Value::Num(2),
            ),
        ] {
            node.values.insert(k.clone(), old.clone());
            p.steps.push(Step {
                resets_link: k.resets_link(),
                knob: k,
                old,
                new,
            });
        }
        (node, p)
    }

    fn values_of(p: &Plan, new: bool) -> BTreeMap<Knob, Value> {
        p.steps
            .iter()
            .map(|s| {
                (
                    s.knob.clone(),
                    if new { s.new.clone() } else { s.old.clone() },
                )
            })
            .collect()
    }

    #[test]
    fn transaction_applies_journals_and_rolls_back() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut node, p) = node_and_plan();
        let s = Session::begin(tmp.path()).expect("lock");
        let tx = s
            .run_transaction(&mut node, "throughput", &p, None)
            .expect("apply");
        assert_eq!(tx.state, TxState::Applied);
        assert_eq!(tx.applied, 4);
        assert_eq!(node.values, values_of(&p, true));
        let on_disk = s.store().load(&tx.id).expect("load");
        assert_eq!(on_disk, tx);

        let (rolled, n) = s.rollback(&mut node, None).expect("rollback");
        assert_eq!(n, 4);
        assert_eq!(rolled.id, tx.id);
        assert_eq!(rolled.state, TxState::RolledBack);
        assert_eq!(node.values, values_of(&p, false));
        // The revert ran last step first.
        let back: Vec<&Knob> = node.log[4..].iter().map(|(k, _)| k).collect();
        let want: Vec<&Knob> = p.steps.iter().rev().map(|s| &s.knob).collect();
        assert_eq!(back, want);
        let e = s.rollback(&mut node, None).expect_err("nothing left");
        assert!(e.to_string().contains("no transaction to roll back"), "{e}");
        let e = s.rollback(&mut node, Some(&tx.id)).expect_err("done");
        assert!(
            e.to_string()
                .ends_with("is rolled-back: nothing to roll back"),
            "{e}"
        );
    }

    #[test]
    fn failure_at_every_step_is_journaled_as_failed_with_the_node_unchanged() {
        let (initial, p) = node_and_plan();
        for k in 0..p.steps.len() {
            let tmp = tempfile::tempdir().expect("tempdir");
            let s = Session::begin(tmp.path()).expect("lock");
            let mut node = initial.clone();
            node.fail = vec![(p.steps[k].knob.clone(), p.steps[k].new.clone())];
            let e = s
                .run_transaction(&mut node, "p", &p, None)
                .expect_err("injected");
            assert_eq!(node.values, initial.values, "step {k}");
            let ae = e.downcast_ref::<ApplyError>().expect("apply error");
            assert_eq!(ae.index, k);
            let txs = s.store().list().expect("list");
            assert_eq!(txs.len(), 1);
            assert_eq!(txs[0].state, TxState::Failed);
            assert_eq!(txs[0].applied, 0);
            assert!(txs[0]
                .error
                .as_deref()
                .is_some_and(|m| m.contains("injected failure")));
        }
    }

    #[test]
    fn a_silent_non_application_at_every_step_fails_and_reverts_everything() {
        let (initial, p) = node_and_plan();
        for k in 0..p.steps.len() {
            let tmp = tempfile::tempdir().expect("tempdir");
            let s = Session::begin(tmp.path()).expect("lock");
            let mut node = initial.clone();
            node.silent = vec![(p.steps[k].knob.clone(), p.steps[k].new.clone())];
            let e = s
                .run_transaction(&mut node, "p", &p, None)
                .expect_err("did not hold");
            assert_eq!(node.values, initial.values, "step {k}");
            let ae = e.downcast_ref::<ApplyError>().expect("apply error");
            assert!(ae.cause.contains("1 setting did not hold"), "{ae}");
            assert!(ae.cause.contains(&p.steps[k].knob.to_string()), "{ae}");
            assert!(ae.unrestored.is_empty(), "{ae}");
            let tx = &s.store().list().expect("list")[0];
            assert_eq!(tx.state, TxState::Failed);
            assert_eq!(tx.applied, 0);
        }
        // --best-effort keeps what took and lists the rest.
        let tmp = tempfile::tempdir().expect("tempdir");
        let s = Session::begin(tmp.path()).expect("lock");
        let mut node = initial.clone();
        node.silent = vec![(p.steps[1].knob.clone(), p.steps[1].new.clone())];
        node.fail = vec![(p.steps[2].knob.clone(), p.steps[2].new.clone())];
        let opts = TxOptions {
            confirm: None,
            best_effort: true,
        };
        let tx = s
            .run_transaction_with(&mut node, "p", &p, &opts)
            .expect("best effort");
        assert_eq!(tx.state, TxState::Applied);
        assert_eq!(tx.not_applied.len(), 2, "{:?}", tx.not_applied);
        assert_eq!(node.values[&p.steps[0].knob], p.steps[0].new);
        assert_eq!(node.values[&p.steps[3].knob], p.steps[3].new);
    }

    fn one_step(knob: &Knob, old: u64, new: u64) -> Plan {
        Plan {
            steps: vec![Step {
                resets_link: knob.resets_link(),
                knob: knob.clone(),
                old: Value::Num(old),
                new: Value::Num(new),
            }],
            ..Plan::default()
        }
    }

    #[test]
    #[allow(clippy::many_single_char_names)]
    fn rollback_never_passes_over_a_newer_transaction_on_the_same_setting() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let q = Knob::TxQueueLen { iface: "a".into() };
        let m = Knob::Mtu { iface: "a".into() };
        let mut node = FakeNode::default();
        node.values.insert(q.clone(), Value::Num(1000));
        node.values.insert(m.clone(), Value::Num(1500));
        let s = Session::begin(tmp.path()).expect("lock");
        let a = s
            .run_transaction(&mut node, "a", &one_step(&q, 1000, 5000), None)
            .expect("a");
        let b = s
            .run_transaction(&mut node, "b", &one_step(&q, 5000, 3000), None)
            .expect("b");
        let c = s
            .run_transaction(&mut node, "c", &one_step(&m, 1500, 9000), None)
            .expect("c");
        let e = s
            .rollback_with(&mut node, Some(&a.id), false)
            .expect_err("b is newer");
        let msg = e.to_string();
        assert!(msg.contains(&b.id) && !msg.contains(&c.id), "{msg}");
        assert_eq!(node.values[&q], Value::Num(3000));
        let RollbackOutcome::Done(done) = s
            .rollback_with(&mut node, Some(&a.id), true)
            .expect("cascade")
        else {
            panic!("nothing done");
        };
        let ids: Vec<&str> = done.iter().map(|(t, _)| t.id.as_str()).collect();
        assert_eq!(ids, [b.id.as_str(), a.id.as_str()]);
        assert_eq!(node.values[&q], Value::Num(1000));
        assert_eq!(node.values[&m], Value::Num(9000));
        assert!(matches!(
            s.rollback_with(&mut node, Some(&a.id), false),
            Ok(RollbackOutcome::Nothing(_))
        ));
        let RollbackOutcome::Done(done) = s.rollback_with(&mut node, None, false).expect("c")
        else {
            panic!("c not rolled back");
        };
        assert_eq!(done[0].0.id, c.id);
        assert!(matches!(
            s.rollback_with(&mut node, None, false),
            Ok(RollbackOutcome::Nothing(_))
        ));
    }

    #[test]
    fn transactions_of_an_earlier_boot_are_closed_not_reverted() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut node, p) = node_and_plan();
        let store = Store::new(tmp.path());
        store.create().expect("create");
        for state in [TxState::Applying, TxState::ConfirmPending] {
            let mut tx = Transaction::new(store.new_id(1_000), "p", &p.steps, 1_000);
            tx.state = state;
            tx.boot_id = Some("an-earlier-boot".into());
            tx.deadline_ms = Some(2_000);
            store.save(&mut tx).expect("save");
        }
        let w = stale_warnings(&store);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w.iter().all(|m| m.contains("when the node rebooted")),
            "{w:?}"
        );
        let s = Session::begin(tmp.path()).expect("lock");
        let before = node.values.clone();
        let msgs = s.recover(&mut node).expect("recover");
        assert_eq!(msgs.len(), 2);
        assert!(
            msgs.iter().all(|m| m.ends_with("closed as rebooted")),
            "{msgs:?}"
        );
        assert_eq!(node.values, before);
        assert!(node.log.is_empty(), "nothing is written");
        assert!(s
            .store()
            .list()
            .expect("list")
            .iter()
            .all(|t| t.state == TxState::Rebooted));
    }

    #[test]
    fn preflight_failure_changes_nothing_and_journals_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut node, p) = node_and_plan();
        node.deny = vec![p.steps[2].knob.clone()];
        let before = node.values.clone();
        let s = Session::begin(tmp.path()).expect("lock");
        let e = s
            .run_transaction(&mut node, "p", &p, None)
            .expect_err("denied");
        assert_eq!(
            format!("{e:#}"),
            "nothing was changed: failed to set a tx-1 xps_cpus: permission denied (needs root \
             or CAP_NET_ADMIN)"
        );
        assert_eq!(node.values, before);
        assert!(node.log.is_empty());
        assert!(s.store().list().expect("list").is_empty());
    }

    #[test]
    fn interrupted_run_is_reported_and_reverted_by_the_next_session() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut node, p) = node_and_plan();
        let initial = node.values.clone();
        // A run killed after writing 3 of its 4 steps.
        let store = Store::new(tmp.path());
        store.create().expect("create");
        let mut tx = Transaction::new(store.new_id(1_000), "p", &p.steps, 1_000);
        tx.state = TxState::Applying;
        tx.applied = 2;
        tx.pid = u32::MAX - 1;
        tx.pid_start = None;
        store.save(&mut tx).expect("save");
        for s in &p.steps[..3] {
            node.values.insert(s.knob.clone(), s.new.clone());
        }
        let warnings = stale_warnings(&store);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("was interrupted while applying its 4 changes"),
            "{}",
            warnings[0]
        );

        let s = Session::begin(tmp.path()).expect("lock");
        let msgs = s.recover(&mut node).expect("recover");
        assert_eq!(msgs.len(), 1);
        assert!(
            msgs[0].ends_with("reverted it (4 settings restored)"),
            "{}",
            msgs[0]
        );
        assert_eq!(node.values, initial);
        assert_eq!(
            s.store().load(&tx.id).expect("load").state,
            TxState::RolledBack
        );
        assert!(s.recover(&mut node).expect("again").is_empty());
        assert!(stale_warnings(s.store()).is_empty());
    }

    #[test]
    fn confirm_timeout_expires_unless_confirmed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut node, p) = node_and_plan();
        let initial = node.values.clone();
        let tx = {
            let s = Session::begin(tmp.path()).expect("lock");
            let tx = s
                .run_transaction(&mut node, "p", &p, Some(Duration::from_millis(300)))
                .expect("apply");
            assert_eq!(tx.state, TxState::ConfirmPending);
            // Another tune is refused while it waits.
            let e = s
                .run_transaction(&mut node, "p", &p, None)
                .expect_err("pending");
            assert!(e.to_string().contains("awaits confirmation"), "{e}");
            tx
        };
        let fate = watch(
            tmp.path(),
            &tx.id,
            &mut node,
            Duration::from_millis(20),
            None,
        )
        .expect("watch");
        assert_eq!(fate, TxState::Expired);
        assert_eq!(node.values, initial);
        let e = confirm(tmp.path(), Some(&tx.id)).expect_err("expired");
        assert!(e.to_string().contains("only a confirm-pending"), "{e}");

        // Confirmed in time: the watcher leaves it alone.
        let tx = Session::begin(tmp.path())
            .expect("lock")
            .run_transaction(&mut node, "p", &p, Some(Duration::from_secs(30)))
            .expect("apply");
        let confirmed = confirm(tmp.path(), None).expect("confirm");
        assert_eq!(confirmed.id, tx.id);
        assert_eq!(confirmed.state, TxState::Confirmed);
        let fate = watch(
            tmp.path(),
            &tx.id,
            &mut node,
            Duration::from_millis(20),
            None,
        )
        .expect("watch");
        assert_eq!(fate, TxState::Confirmed);
        assert_eq!(node.values, values_of(&p, true));
        let e = confirm(tmp.path(), None).expect_err("none pending");
        assert_eq!(e.to_string(), "no transaction awaits confirmation");
    }

    #[test]
    fn a_dead_watcher_past_its_deadline_is_reverted_by_recover() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut node, p) = node_and_plan();
        let initial = node.values.clone();
        let s = Session::begin(tmp.path()).expect("lock");
        let tx = s
            .run_transaction(&mut node, "p", &p, Some(Duration::ZERO))
            .expect("apply");
        s.set_watcher(&tx.id, u32::MAX - 1).expect("watcher");
        let w = stale_warnings(s.store());
        assert!(w[0].contains("was not confirmed by"), "{w:?}");
        let msgs = s.recover(&mut node).expect("recover");
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert_eq!(node.values, initial);
        assert_eq!(
            s.store().load(&tx.id).expect("load").state,
            TxState::Expired
        );
    }

    #[test]
    fn irqbalance_is_reported_only_for_irq_knobs() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path().join("4242");
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("comm"), "irqbalance\n").expect("write");
        let root = SysRoot::new(tmp.path(), tmp.path());
        let irq = Knob::IrqAffinity {
            iface: "eth2".into(),
            irq: 45,
        };
        let mtu = Knob::Mtu {
            iface: "eth2".into(),
        };
        assert_eq!(irqbalance_warning(&root, [&mtu]), None);
        let w = irqbalance_warning(&root, [&mtu, &irq]).expect("warning");
        assert!(w.starts_with("irqbalance (pid 4242) is running"), "{w}");
        assert!(w.contains("1 IRQ affinity"), "{w}");
    }
}
