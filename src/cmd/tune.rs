//! `dpuctl tune|check|rollback|confirm|history` and the hidden `confirm-watch`.

use std::fmt::Write as _;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde::Serialize;

use crate::cli::{CheckArgs, Format, GlobalArgs, HistoryArgs, RollbackArgs, TuneArgs};
use crate::model::NodeState;
use crate::output;
use crate::profile::{Catalog, ProfileError, ResolveErrors, Resolved};
use crate::sys::write::Writer;
use crate::sys::SysRoot;
use crate::tune::{self, journal, Plan, Session, Store, Transaction, TxState, WatcherCommand};

/// The error for a profile that cannot be resolved on this node: the one problem, or each
/// problem on its own line of stderr (every one found, not only the first) and a count.
pub(crate) fn resolve_failure(name: &str, errs: &ResolveErrors) -> anyhow::Error {
    match errs.0.as_slice() {
        [one] => anyhow::anyhow!("profile {name}: {one}"),
        many => {
            for e in many {
                eprintln!("dpuctl: profile {name}: {e}");
            }
            anyhow::anyhow!(
                "profile {name} cannot be resolved on this node ({} problems above)",
                many.len()
            )
        }
    }
}

/// Loads a profile and resolves it on this node: the one call into the profile resolver.
fn load_resolved(
    g: &GlobalArgs,
    name: &str,
    state: &NodeState,
    ifaces: &[String],
) -> anyhow::Result<Resolved> {
    let profile = match Catalog::new(&g.profile_dir).load(name) {
        Ok(p) => p,
        Err(ProfileError::Invalid(diagnostics)) => {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            bail!(
                "profile {name} is invalid ({} problem{} above); nothing was changed",
                diagnostics.len(),
                if diagnostics.len() == 1 { "" } else { "s" }
            );
        }
        Err(e) => return Err(e.into()),
    };
    crate::profile::resolve(&profile, state, ifaces).map_err(|e| resolve_failure(&profile.name, &e))
}

/// Fails (exit 2, nothing changed) unless this process may change network settings; on a
/// fixture tree the files' permissions decide instead.
fn require_privilege(root: &SysRoot) -> anyhow::Result<()> {
    if root.is_live() {
        crate::sys::write::require_privilege()
            .map_err(anyhow::Error::new)
            .context("nothing was changed")?;
    }
    Ok(())
}

fn warn(msg: &str) {
    output::warning(msg);
}

fn render<T: Serialize>(format: Format, v: &T) -> anyhow::Result<String> {
    match format {
        Format::Yaml => output::yaml(v),
        _ => output::json(v),
    }
}

/// Asks "apply N changes? [y/N]" on the terminal; refuses without one.
fn ask(n: usize) -> anyhow::Result<()> {
    ask_to(&format!(
        "apply {n} change{}",
        if n == 1 { "" } else { "s" }
    ))
}

/// Asks "WHAT? [y/N]" on the terminal; refuses without one.
fn ask_to(what: &str) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing to {what} without --yes: stdin is not a terminal; nothing was changed");
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{what}? [y/N] ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if !matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        bail!("not confirmed; nothing was changed");
    }
    Ok(())
}

/// What `tune --format json|yaml` prints: the plan, then what became of it.
#[derive(Serialize)]
struct TuneOutput<'a> {
    profile: &'a str,
    dry_run: bool,
    /// True when the node was changed (and stays changed: a failed run is reverted).
    changed: bool,
    /// The transaction, when one ran.
    transaction: Option<TxSummary<'a>>,
    #[serde(flatten)]
    plan: &'a Plan,
    /// Settings the profile asks for that this node cannot have (no such device feature,
    /// section or file), with the reason; `skipped` holds those the plan found n/a.
    profile_skipped: &'a [crate::model::SkippedSetting],
    warnings: &'a [String],
    /// Settings a rule of the profile format added, each with why (pause off with PFC).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    implied: &'a [String],
}

/// A transaction as `tune`'s JSON reports it.
#[derive(Serialize)]
struct TxSummary<'a> {
    id: &'a str,
    state: TxState,
    deadline: Option<String>,
    error: Option<&'a str>,
    not_applied: &'a [String],
    unrestored: &'a [String],
}

impl<'a> TxSummary<'a> {
    fn of(tx: &'a Transaction) -> Self {
        Self {
            id: &tx.id,
            state: tx.state,
            deadline: tx.deadline_ms.map(journal::rfc3339),
            error: tx.error.as_deref(),
            not_applied: &tx.not_applied,
            unrestored: &tx.unrestored,
        }
    }
}

/// Lists the transactions an earlier run left behind and what `tune` does with each, and
/// asks before reverting any (as for the tune itself): they are input from the state
/// directory, and a revert writes to the node.
fn recover_first(
    session: &Session,
    writer: &mut Writer,
    yes: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    for w in tune::bad_entry_warnings(session.store()) {
        warn(&w);
    }
    let stale = session.stale()?;
    let reverts: usize = stale
        .iter()
        .filter(|(_, f)| *f != TxState::Rebooted)
        .map(|(t, _)| t.revert_count())
        .sum();
    if !quiet || reverts > 0 {
        for (tx, fate) in &stale {
            if *fate == TxState::Rebooted {
                continue;
            }
            let steps = tx.plan_steps();
            let list: Vec<String> = steps[..tx.revert_count()]
                .iter()
                .take(12)
                .map(|s| format!("{} -> {}", s.knob, tune::plan::render_value(&s.old)))
                .collect();
            eprintln!(
                "dpuctl: transaction {} (profile {}, {}) is left behind and is reverted first: {}{}",
                tx.id,
                tx.profile,
                tx.state,
                list.join(", "),
                if tx.revert_count() > 12 { ", ..." } else { "" }
            );
        }
    }
    if reverts > 0 && !yes {
        ask_to(&format!(
            "revert {reverts} setting{} left by an earlier run",
            if reverts == 1 { "" } else { "s" }
        ))?;
    }
    for m in session.recover(writer)? {
        eprintln!("dpuctl: {m}");
    }
    Ok(())
}

/// Runs `tune`: exit 0 applied or nothing to change (JSON `changed` tells which), 1 applied
/// with `--best-effort` but some settings did not take, 2 error (the node as it was).
pub fn tune(g: &GlobalArgs, root: &SysRoot, a: &TuneArgs) -> anyhow::Result<ExitCode> {
    let mut writer = Writer::new(root.clone());
    // Without --dry-run: take the lock, and revert what an interrupted run left, before
    // reading the node.
    let session = if a.dry_run {
        let store = Store::new(&g.state_dir);
        for w in tune::journal_warnings(&store) {
            warn(&w);
        }
        None
    } else {
        require_privilege(root)?;
        let sess = Session::begin(&g.state_dir)
            .with_context(|| format!("cannot start a transaction in {}", g.state_dir.display()))?;
        recover_first(&sess, &mut writer, a.yes, g.quiet)?;
        sess.ensure_no_pending()?;
        Some(sess)
    };

    let mut state = crate::source::load(root, None, &a.ifaces)?;
    let resolved = load_resolved(g, &a.profile, &state, &a.ifaces)?;
    // How the profile was resolved (which block each interface uses, what `max` came to):
    // behind -v.
    for n in &resolved.notes {
        output::detail(n);
    }
    if a.format == Format::Table {
        for s in &resolved.skipped {
            output::note(&format!("skipped {s}"));
        }
        for n in &resolved.implied {
            output::note(n);
        }
    }
    let settings = &resolved.settings;
    tune::augment_sysctls(root, &mut state, settings);
    let plan = tune::plan(settings, &state);
    let warnings: Vec<String> = tune::irqbalance_warning(root, plan.steps.iter().map(|s| &s.knob))
        .into_iter()
        .collect();
    let structured = a.format != Format::Table;
    let print_json = |changed: bool, tx: Option<&Transaction>| -> anyhow::Result<()> {
        output::write_stdout(
            render(
                a.format,
                &TuneOutput {
                    profile: &a.profile,
                    dry_run: a.dry_run,
                    changed,
                    transaction: tx.map(TxSummary::of),
                    plan: &plan,
                    profile_skipped: &resolved.skipped,
                    warnings: &warnings,
                    implied: &resolved.implied,
                },
            )?
            .as_bytes(),
        )?;
        Ok(())
    };

    if structured {
        for w in &warnings {
            warn(w);
        }
    } else {
        output::write_stdout(plan.render().as_bytes())?;
        for w in &warnings {
            warn(w);
        }
    }
    if !plan.invalid.is_empty() {
        if structured {
            print_json(false, None)?;
        }
        bail!(
            "profile {} has {} invalid setting{} (listed above); nothing was changed",
            a.profile,
            plan.invalid.len(),
            if plan.invalid.len() == 1 { "" } else { "s" }
        );
    }
    if plan.steps.is_empty() && plan.unchanged == 0 {
        if structured {
            print_json(false, None)?;
        }
        bail!(
            "profile {}: no setting applies to this node ({} skipped); nothing was changed",
            resolved.profile,
            plan.skipped.len() + resolved.skipped.len()
        );
    }
    let Some(session) = session else {
        if structured {
            print_json(false, None)?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    if plan.is_empty() {
        if structured {
            print_json(false, None)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Refuse before asking when a change is sure to fail.
    for s in &plan.steps {
        writer
            .preflight(&s.knob, &s.new)
            .map_err(anyhow::Error::new)
            .context("nothing was changed")?;
    }
    if !a.yes {
        ask(plan.steps.len())?;
    }
    let opts = tune::TxOptions {
        confirm: a.confirm_timeout,
        best_effort: a.best_effort,
    };
    let tx = match session.run_transaction_with(&mut writer, &a.profile, &plan, &opts) {
        Ok(tx) => tx,
        Err(e) => {
            if structured {
                // The failed transaction as journaled, for scripts.
                if let Some(tx) = session
                    .store()
                    .list()
                    .ok()
                    .and_then(|l| l.into_iter().next())
                {
                    if tx.state == TxState::Failed && tx.profile == a.profile {
                        print_json(!tx.unrestored.is_empty(), Some(&tx))?;
                    }
                }
            }
            return Err(e);
        }
    };
    let count = tx.steps.len();
    let changes = format!("{count} change{}", if count == 1 { "" } else { "s" });
    let msg = if tx.state == TxState::ConfirmPending {
        let cmd = WatcherCommand {
            exe: std::env::current_exe().context("cannot find the dpuctl binary")?,
            state_dir: g.state_dir.clone(),
            sysfs_root: g.sysfs_root.clone(),
            procfs_root: g.procfs_root.clone(),
        };
        let spawned = tune::spawn_watcher(&cmd, &tx.id)
            .and_then(|p| tune::spawn_watcher(&cmd, &tx.id).map(|q| (p, q)));
        match spawned {
            Ok((p, q)) => session.set_watchers(&tx.id, p, q)?,
            Err(e) => {
                let mut tx = tx;
                let reverted = session.revert(&mut writer, &mut tx, TxState::RolledBack);
                let fate = match reverted {
                    Ok(_) => "the changes were reverted".to_string(),
                    Err(r) => format!("{r:#}"),
                };
                bail!("cannot start the confirm-timeout watchers: {e}; {fate}");
            }
        }
        format!(
            "applied {changes} (transaction {}); they are reverted at {} unless `dpuctl \
             confirm` runs",
            tx.id,
            tx.deadline_ms.map_or_else(String::new, journal::rfc3339)
        )
    } else {
        format!(
            "applied {changes} (transaction {}); `dpuctl rollback` restores the old values",
            tx.id
        )
    };
    let partial = !tx.not_applied.is_empty();
    if structured {
        print_json(true, Some(&tx))?;
        eprintln!("dpuctl: {msg}");
    } else {
        output::write_stdout(format!("{msg}\n").as_bytes())?;
    }
    if partial {
        for n in &tx.not_applied {
            warn(&format!("not applied (--best-effort): {n}"));
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `check`: exit 0 compliant, 1 drift, 2 error, invalid settings or nothing compared.
/// Every setting left out, by the resolver or the plan, is in the report with its reason.
pub fn check(g: &GlobalArgs, root: &SysRoot, a: &CheckArgs) -> anyhow::Result<ExitCode> {
    let live = a.from.is_none();
    if live {
        for w in tune::stale_warnings(&Store::new(&g.state_dir)) {
            warn(&w);
        }
    }
    let mut state = crate::source::load(root, a.from.as_deref(), &a.ifaces)?;
    let resolved = load_resolved(g, &a.profile, &state, &a.ifaces)?;
    for n in &resolved.notes {
        output::detail(n);
    }
    let settings = &resolved.settings;
    if live {
        tune::augment_sysctls(root, &mut state, settings);
    }
    let mut report = tune::check(settings, &state)
        .with_skipped(resolved.skipped.clone())
        .with_modules(tune::plan::check_modules(&resolved.modules, &state));
    report.profile.clone_from(&resolved.profile);
    if live {
        report.warnings.extend(tune::irqbalance_warning(
            root,
            settings.iter().map(|s| &s.knob),
        ));
    }
    if !g.quiet {
        let text = match a.format {
            Format::Table => report.render(),
            f => render(f, &report)?,
        };
        output::write_stdout(text.as_bytes())?;
        if report.status == tune::plan::CheckStatus::NothingCompared {
            eprintln!(
                "dpuctl: profile {}: no setting could be compared on this node ({}); \
                 not compliant",
                resolved.profile,
                report.left_out_summary()
            );
        }
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// The compliance report of `dpuctl check PROFILE` on the live node (or `root`), without
/// printing: for the exporter's `--check`, which re-evaluates it every few seconds.
pub(crate) fn check_report(
    g: &GlobalArgs,
    root: &SysRoot,
    profile: &str,
    ifaces: &[String],
) -> anyhow::Result<tune::plan::CheckReport> {
    let mut state = crate::source::load(root, None, ifaces)?;
    let resolved = load_resolved(g, profile, &state, ifaces)?;
    let settings = &resolved.settings;
    tune::augment_sysctls(root, &mut state, settings);
    let mut report = tune::check(settings, &state)
        .with_skipped(resolved.skipped.clone())
        .with_modules(tune::plan::check_modules(&resolved.modules, &state));
    report.profile.clone_from(&resolved.profile);
    Ok(report)
}

/// Runs `rollback`: exit 0 when the node is back, or when there was nothing to roll back
/// (an idempotent pipeline step); 2 when refused or failed.
pub fn rollback(g: &GlobalArgs, root: &SysRoot, a: &RollbackArgs) -> anyhow::Result<ExitCode> {
    require_privilege(root)?;
    let session = Session::begin(&g.state_dir)
        .with_context(|| format!("cannot roll back in {}", g.state_dir.display()))?;
    for w in tune::journal_warnings(session.store()) {
        warn(&w);
    }
    let mut writer = Writer::new(root.clone());
    match session.rollback_with(&mut writer, a.id.as_deref(), a.cascade)? {
        tune::RollbackOutcome::Nothing(why) => {
            output::write_stdout(format!("{why}\n").as_bytes())?;
        }
        tune::RollbackOutcome::Done(done) => {
            let mut out = String::new();
            for (tx, n) in done {
                let _ = writeln!(
                    out,
                    "rolled back transaction {} (profile {}): {n} setting{} restored",
                    tx.id,
                    tx.profile,
                    if n == 1 { "" } else { "s" }
                );
            }
            output::write_stdout(out.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `confirm`.
pub fn confirm(g: &GlobalArgs, _root: &SysRoot) -> anyhow::Result<ExitCode> {
    let tx = tune::confirm(&g.state_dir, None)?;
    output::write_stdout(
        format!(
            "confirmed transaction {} (profile {}): the changes stay\n",
            tx.id, tx.profile
        )
        .as_bytes(),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn history_table(txs: &[Transaction], bad: &[journal::BadEntry]) -> String {
    if txs.is_empty() && bad.is_empty() {
        return "no tune transactions\n".to_string();
    }
    let boot = journal::boot_id();
    // Not wrapped for pipes and files (output::table): one transaction per line.
    let mut t = output::table(&["ID", "STARTED", "PROFILE", "STATE", "CHANGES", "NOTE"]);
    for tx in txs {
        let changes = if tx.state.in_progress() {
            format!("{}/{}", tx.applied, tx.steps.len())
        } else {
            tx.steps.len().to_string()
        };
        let open = tx.state.in_progress() || tx.state == TxState::ConfirmPending;
        let rebooted = open
            && matches!((tx.boot_id.as_deref(), boot.as_deref()), (Some(x), Some(y)) if x != y);
        let overdue = tx.state == TxState::ConfirmPending
            && tx.deadline_ms.is_some_and(|d| journal::now_ms() >= d);
        let note = match tx.state {
            _ if rebooted => "the node rebooted since: none of it is left".to_string(),
            TxState::ConfirmPending if overdue => format!(
                "OVERDUE since {}: not reverted yet (`dpuctl rollback` reverts it)",
                tx.deadline_ms.map_or_else(String::new, journal::rfc3339)
            ),
            TxState::ConfirmPending => format!(
                "reverts at {}",
                tx.deadline_ms.map_or_else(String::new, journal::rfc3339)
            ),
            _ if !tx.unrestored.is_empty() => {
                format!("NOT restored: {}", tx.unrestored.join("; "))
            }
            _ if !tx.not_applied.is_empty() => {
                format!("not applied: {}", tx.not_applied.join("; "))
            }
            TxState::Failed => tx.error.clone().unwrap_or_default(),
            _ => String::new(),
        };
        t.add_row(vec![
            tx.id.clone(),
            tx.started.clone(),
            tx.profile.clone(),
            tx.state.to_string(),
            changes,
            note,
        ]);
    }
    for b in bad {
        t.add_row(vec![
            b.name.clone(),
            String::new(),
            String::new(),
            "unreadable".to_string(),
            String::new(),
            format!("skipped: {}", b.why),
        ]);
    }
    let mut out = String::new();
    for line in t.lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// What `history --format json|yaml` prints.
#[derive(Serialize)]
struct HistoryOutput<'a> {
    transactions: &'a [Transaction],
    unreadable: &'a [journal::BadEntry],
}

/// Runs `history`: transactions newest first, and the journal entries that could not be read.
pub fn history(g: &GlobalArgs, a: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let store = Store::new(&g.state_dir);
    for w in tune::stale_warnings(&store) {
        warn(&w);
    }
    let (txs, bad) = store.list_all()?;
    let text = match a.format {
        Format::Table => history_table(&txs, &bad),
        f => render(
            f,
            &HistoryOutput {
                transactions: &txs,
                unreadable: &bad,
            },
        )?,
    };
    output::write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Waits out a confirm timeout and reverts (started detached by `tune --confirm-timeout`, two
/// at a time: each restarts the other if it dies). Termination signals are ignored: the
/// transaction ends by `dpuctl confirm`, `dpuctl rollback` or its deadline, not by a signal.
pub fn confirm_watch(g: &GlobalArgs, root: &SysRoot, id: &str) -> anyhow::Result<ExitCode> {
    let ignored = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, std::sync::Arc::clone(&ignored))
            .context("cannot set up the watcher's signal handling")?;
    }
    let cmd = WatcherCommand {
        exe: std::env::current_exe().context("cannot find the dpuctl binary")?,
        state_dir: g.state_dir.clone(),
        sysfs_root: g.sysfs_root.clone(),
        procfs_root: g.procfs_root.clone(),
    };
    let mut writer = Writer::new(root.clone());
    tune::watch(&g.state_dir, id, &mut writer, tune::WATCH_POLL, Some(&cmd))?;
    Ok(ExitCode::SUCCESS)
}
