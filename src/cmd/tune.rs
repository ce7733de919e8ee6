//! `dpuctl tune|check|rollback|confirm|history` and the hidden `confirm-watch`.

use std::fmt::Write as _;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde::Serialize;

use crate::cli::{CheckArgs, Format, GlobalArgs, HistoryArgs, RollbackArgs, TuneArgs};
use crate::model::{NodeState, Setting};
use crate::output;
use crate::profile::{Catalog, ProfileError, ResolveErrors, Resolved};
use crate::sys::write::Writer;
use crate::sys::SysRoot;
use crate::tune::{self, journal, Plan, Session, Store, Transaction, TxState, WatcherCommand};

/// The settings a profile asks for on this node. Its notes (how policies resolved, knobs
/// skipped) go to stderr unless `quiet`.
fn resolve_profile(
    g: &GlobalArgs,
    name: &str,
    state: &NodeState,
    ifaces: &[String],
    quiet: bool,
) -> anyhow::Result<Vec<Setting>> {
    let resolved = load_resolved(g, name, state, ifaces)?;
    if !quiet {
        for n in &resolved.notes {
            eprintln!("dpuctl: note: {n}");
        }
        for s in &resolved.skipped {
            eprintln!("dpuctl: note: skipped {s}");
        }
    }
    Ok(resolved.settings)
}

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
    eprintln!("dpuctl: warning: {msg}");
}

/// The plan as `tune` prints it.
#[derive(Serialize)]
struct PlanOutput<'a> {
    profile: &'a str,
    #[serde(flatten)]
    plan: &'a Plan,
    warnings: &'a [String],
    dry_run: bool,
}

fn render<T: Serialize>(format: Format, v: &T) -> anyhow::Result<String> {
    match format {
        Format::Yaml => output::yaml(v),
        _ => output::json(v),
    }
}

/// Asks "apply N changes? [y/N]" on the terminal; refuses without one.
fn ask(n: usize) -> anyhow::Result<()> {
    let what = format!("{n} change{}", if n == 1 { "" } else { "s" });
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to apply {what} without --yes: stdin is not a terminal; nothing was changed"
        );
    }
    let mut err = std::io::stderr().lock();
    write!(err, "apply {what}? [y/N] ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if !matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        bail!("not confirmed; nothing was changed");
    }
    Ok(())
}

/// Runs `tune`.
pub fn tune(g: &GlobalArgs, root: &SysRoot, a: &TuneArgs) -> anyhow::Result<ExitCode> {
    let mut writer = Writer::new(root.clone());
    // Without --dry-run: take the lock, and revert what an interrupted run left, before
    // reading the node.
    let session = if a.dry_run {
        for w in tune::stale_warnings(&Store::new(&g.state_dir)) {
            warn(&w);
        }
        None
    } else {
        require_privilege(root)?;
        let sess = Session::begin(&g.state_dir)
            .with_context(|| format!("cannot start a transaction in {}", g.state_dir.display()))?;
        for m in sess.recover(&mut writer)? {
            eprintln!("dpuctl: {m}");
        }
        sess.ensure_no_pending()?;
        Some(sess)
    };

    let mut state = crate::source::load(root, None, &a.ifaces)?;
    let settings = resolve_profile(g, &a.profile, &state, &a.ifaces, false)?;
    tune::augment_sysctls(root, &mut state, &settings);
    let plan = tune::plan(&settings, &state);
    let warnings: Vec<String> = tune::irqbalance_warning(root, plan.steps.iter().map(|s| &s.knob))
        .into_iter()
        .collect();

    match a.format {
        Format::Table => {
            output::write_stdout(plan.render().as_bytes())?;
            for w in &warnings {
                warn(w);
            }
        }
        other => output::write_stdout(
            render(
                other,
                &PlanOutput {
                    profile: &a.profile,
                    plan: &plan,
                    warnings: &warnings,
                    dry_run: a.dry_run,
                },
            )?
            .as_bytes(),
        )?,
    }
    if !plan.invalid.is_empty() {
        bail!(
            "profile {} has {} invalid setting{} (listed above); nothing was changed",
            a.profile,
            plan.invalid.len(),
            if plan.invalid.len() == 1 { "" } else { "s" }
        );
    }
    let Some(session) = session else {
        return Ok(ExitCode::SUCCESS);
    };
    if plan.is_empty() {
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
    let confirm = a.confirm_timeout.map(std::time::Duration::from_secs);
    let tx = session.run_transaction(&mut writer, &a.profile, &plan, confirm)?;
    let count = tx.steps.len();
    let changes = format!("{count} change{}", if count == 1 { "" } else { "s" });
    let msg = if tx.state == TxState::ConfirmPending {
        let cmd = WatcherCommand {
            exe: std::env::current_exe().context("cannot find the dpuctl binary")?,
            state_dir: g.state_dir.clone(),
            sysfs_root: g.sysfs_root.clone(),
            procfs_root: g.procfs_root.clone(),
        };
        match tune::spawn_watcher(&cmd, &tx.id) {
            Ok(pid) => session.set_watcher(&tx.id, pid)?,
            Err(e) => {
                let mut tx = tx;
                let reverted = session.revert(&mut writer, &mut tx, TxState::RolledBack);
                let fate = match reverted {
                    Ok(_) => "the changes were reverted".to_string(),
                    Err(r) => format!("{r:#}"),
                };
                bail!("cannot start the confirm-timeout watcher: {e}; {fate}");
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
    if a.format == Format::Table {
        output::write_stdout(format!("{msg}\n").as_bytes())?;
    } else {
        eprintln!("dpuctl: {msg}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `check`: exit 0 compliant, 1 drift, 2 error, invalid settings or nothing compared.
/// Every setting left out, by the resolver or the plan, is in the report with its reason.
pub fn check(g: &GlobalArgs, root: &SysRoot, a: &CheckArgs) -> anyhow::Result<ExitCode> {
    let live = a.from.is_none();
    if live && !a.quiet {
        for w in tune::stale_warnings(&Store::new(&g.state_dir)) {
            warn(&w);
        }
    }
    let mut state = crate::source::load(root, a.from.as_deref(), &a.ifaces)?;
    let resolved = load_resolved(g, &a.profile, &state, &a.ifaces)?;
    if !a.quiet {
        for n in &resolved.notes {
            eprintln!("dpuctl: note: {n}");
        }
    }
    let settings = &resolved.settings;
    if live {
        tune::augment_sysctls(root, &mut state, settings);
    }
    let mut report = tune::check(settings, &state).with_skipped(resolved.skipped.clone());
    report.profile.clone_from(&resolved.profile);
    if live {
        report.warnings.extend(tune::irqbalance_warning(
            root,
            settings.iter().map(|s| &s.knob),
        ));
    }
    if !a.quiet {
        let text = match a.format {
            Format::Table => report.render(),
            f => render(f, &report)?,
        };
        output::write_stdout(text.as_bytes())?;
        if report.status == tune::plan::CheckStatus::NothingCompared {
            eprintln!(
                "dpuctl: profile {}: no setting could be compared on this node ({} skipped); \
                 not compliant",
                resolved.profile,
                report.skipped.len()
            );
        }
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// Runs `rollback`.
pub fn rollback(g: &GlobalArgs, root: &SysRoot, a: &RollbackArgs) -> anyhow::Result<ExitCode> {
    require_privilege(root)?;
    let session = Session::begin(&g.state_dir)
        .with_context(|| format!("cannot roll back in {}", g.state_dir.display()))?;
    for w in tune::stale_warnings(session.store()) {
        warn(&w);
    }
    let mut writer = Writer::new(root.clone());
    let (tx, n) = session.rollback(&mut writer, a.id.as_deref())?;
    output::write_stdout(
        format!(
            "rolled back transaction {} (profile {}): {n} setting{} restored\n",
            tx.id,
            tx.profile,
            if n == 1 { "" } else { "s" }
        )
        .as_bytes(),
    )?;
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

fn history_table(txs: &[Transaction]) -> String {
    if txs.is_empty() {
        return "no tune transactions\n".to_string();
    }
    let mut t = output::table(&["ID", "STARTED", "PROFILE", "STATE", "CHANGES", "NOTE"]);
    for tx in txs {
        let changes = if tx.state.in_progress() {
            format!("{}/{}", tx.applied, tx.steps.len())
        } else {
            tx.steps.len().to_string()
        };
        let note = match tx.state {
            TxState::ConfirmPending => format!(
                "reverts at {}",
                tx.deadline_ms.map_or_else(String::new, journal::rfc3339)
            ),
            _ if !tx.unrestored.is_empty() => {
                format!("NOT restored: {}", tx.unrestored.join("; "))
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
    let mut out = String::new();
    for line in t.lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// Runs `history`: transactions newest first.
pub fn history(g: &GlobalArgs, a: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let store = Store::new(&g.state_dir);
    for w in tune::stale_warnings(&store) {
        warn(&w);
    }
    let txs = store.list()?;
    let text = match a.format {
        Format::Table => history_table(&txs),
        f => render(f, &txs)?,
    };
    output::write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Waits out a confirm timeout and reverts (started detached by `tune --confirm-timeout`).
pub fn confirm_watch(g: &GlobalArgs, root: &SysRoot, id: &str) -> anyhow::Result<ExitCode> {
    let mut writer = Writer::new(root.clone());
    tune::watch(&g.state_dir, id, &mut writer, tune::WATCH_POLL)?;
    Ok(ExitCode::SUCCESS)
}
