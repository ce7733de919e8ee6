//! Text and markdown renderings of steps and reports (JSON is the serde form of the report).

use std::fmt::Write as _;

use super::checks::{Evidence, Finding, Severity};
use super::flow::{Report, StepResult, Symptom, Verdict};

/// Width text output wraps at.
const WIDTH: usize = 100;

/// Words of `text` wrapped to `WIDTH`, every line starting with `indent`.
pub fn wrap(text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.len() + 1 + word.len() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `prefix` kept as it is, then the words of `text` wrapped to `WIDTH`, continuation lines
/// starting with `indent`.
fn wrap_after(prefix: &str, text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = prefix.to_string();
    let mut fresh = true;
    for word in text.split_whitespace() {
        if !fresh && line.len() + 1 + word.len() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

fn evidence_text(e: &Evidence) -> String {
    let mut s = format!("{} = {}", e.what, e.value);
    if let Some(d) = e.delta {
        let _ = write!(s, " (+{d}");
        if let Some(r) = e.rate {
            let _ = write!(s, ", {r:.1}/s");
        }
        s.push(')');
    }
    s
}

fn symptom_name(s: Symptom) -> &'static str {
    match s {
        Symptom::Latency => "latency",
        Symptom::Throughput => "throughput",
    }
}

/// One finding: a line, and for anything but ok and n/a its evidence, why, and the fix.
fn finding_text(out: &mut String, f: &Finding) {
    let prefix = format!(" {:<5} {:<26} {}: ", f.severity.label(), f.id, f.subject);
    out.push_str(&wrap_after(&prefix, &f.title, "       "));
    if f.severity < Severity::Info {
        return;
    }
    for e in &f.evidence {
        let _ = writeln!(out, "       {}", evidence_text(e));
    }
    out.push_str(&wrap(&format!("why: {}", f.explanation), "       "));
    if let Some(fix) = &f.fix {
        let _ = writeln!(out, "       fix: {}", fix.summary);
        if let Some(p) = &fix.profile {
            let _ = writeln!(out, "            save as troubleshoot-fix.yaml:");
            for l in p.lines() {
                let _ = writeln!(out, "              {l}");
            }
        }
        let _ = writeln!(out, "            $ {}", fix.command);
    }
}

/// A step as the walkers show it.
pub fn step_text(s: &StepResult, index: usize, total: usize) -> String {
    let mut out = format!("\n== step {}/{total}: {} ==\n", index + 1, s.title);
    let mut sorted: Vec<&Finding> = s.findings.iter().collect();
    // Problems first; within a severity, check order.
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in sorted {
        finding_text(&mut out, f);
    }
    out
}

/// The summary line and the suggested fixes.
pub fn summary_text(r: &Report) -> String {
    let mut out = String::new();
    let path: Vec<&str> = r.steps.iter().map(|s| s.title.as_str()).collect();
    out.push('\n');
    out.push_str(&wrap(
        &format!(
            "Summary: {} critical, {} warnings, {} notes, {} n/a ({}: {})",
            r.count(Severity::Crit),
            r.count(Severity::Warn),
            r.count(Severity::Info),
            r.count(Severity::Na),
            symptom_name(r.decision.symptom),
            path.join(" -> ")
        ),
        "",
    ));
    let problems: Vec<&Finding> = r.findings().filter(|f| f.severity.is_problem()).collect();
    for f in &problems {
        let _ = writeln!(
            out,
            "  {:<5} {} {}: {}",
            f.severity.label(),
            f.id,
            f.subject,
            f.title
        );
    }
    out.push_str(&not_run_text(r));
    let fixes = r.fixes();
    if fixes.is_empty() {
        return out;
    }
    out.push_str(
        "Suggested fixes (profiles: save, apply one at a time; `--dry-run` shows the plan):\n",
    );
    for (n, (f, fix)) in fixes.iter().enumerate() {
        let _ = writeln!(out, "  {}. {} ({} {})", n + 1, fix.summary, f.id, f.subject);
        if let Some(p) = &fix.profile {
            for l in p.lines() {
                let _ = writeln!(out, "       {l}");
            }
        }
        let _ = writeln!(out, "     $ {}", fix.command);
    }
    out
}

/// How many checks could not run and why, then the verdict when there is no problem.
fn not_run_text(r: &Report) -> String {
    let mut out = String::new();
    let n: usize = r.not_run.iter().map(|g| g.count).sum();
    if n > 0 {
        let _ = writeln!(out, "{n} checks could not run:");
        for g in &r.not_run {
            out.push_str(&wrap_after(
                &format!("  {:>3} x ", g.count),
                &g.reason,
                "          ",
            ));
        }
    }
    match r.verdict {
        Verdict::Problems => {}
        Verdict::NoProblems => out.push_str("No problems found.\n"),
        Verdict::Inconclusive => out.push_str(&wrap(
            &format!(
                "Inconclusive: no problem found by the checks that ran, but the checks of \
                 drops, backlog, rates and protocol errors need a counter window ({}). Run \
                 troubleshoot on the node for them.",
                r.window_na.as_deref().unwrap_or("none")
            ),
            "",
        )),
    }
    out
}

/// The whole report as text (non-interactive mode).
pub fn report_text(r: &Report) -> String {
    let mut out = format!(
        "troubleshoot {} ({}): {} branch",
        r.hostname,
        r.interfaces.join(", "),
        symptom_name(r.decision.symptom)
    );
    if r.decision.auto {
        let _ = write!(out, ", decided from the evidence: {}", r.decision.reason);
    }
    out = wrap(&out, "");
    if let Some(w) = window_line(r) {
        let _ = writeln!(out, "{w}");
    }
    for (n, s) in r.steps.iter().enumerate() {
        out.push_str(&step_text(s, n, r.path.len()));
    }
    out.push_str(&summary_text(r));
    out
}

/// "counter window: 5.0 s", or why there is none.
fn window_line(r: &Report) -> Option<String> {
    match (r.window_seconds, &r.window_na) {
        (Some(s), _) => Some(format!("counter window: {s:.1} s")),
        (None, Some(why)) => Some(format!("counter window: n/a ({why})")),
        (None, None) => None,
    }
}

/// The whole report as markdown, for a ticket.
pub fn report_markdown(r: &Report) -> String {
    let mut out = format!(
        "# dpuctl troubleshoot: {}\n\n- kernel: {}\n- interfaces: {}\n- branch: {}{}\n",
        r.hostname,
        r.kernel,
        r.interfaces.join(", "),
        symptom_name(r.decision.symptom),
        if r.decision.auto {
            format!(" (decided from the evidence: {})", r.decision.reason)
        } else {
            String::new()
        }
    );
    if let Some(w) = window_line(r) {
        let _ = writeln!(out, "- {w}");
    }
    let _ = writeln!(
        out,
        "- result: {} critical, {} warnings, {} notes, {} n/a: {}",
        r.count(Severity::Crit),
        r.count(Severity::Warn),
        r.count(Severity::Info),
        r.count(Severity::Na),
        match r.verdict {
            Verdict::Problems => "problems found",
            Verdict::NoProblems => "no problems found",
            Verdict::Inconclusive =>
                "inconclusive (no counter window: the checks of drops, backlog, rates and \
                 protocol errors could not run)",
        }
    );
    for g in &r.not_run {
        let _ = writeln!(out, "- could not run ({}x): {}", g.count, g.reason);
    }
    for (n, s) in r.steps.iter().enumerate() {
        let _ = writeln!(out, "\n## Step {}: {}\n", n + 1, s.title);
        out.push_str("| severity | check | subject | finding |\n|---|---|---|---|\n");
        for f in &s.findings {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                f.severity.label(),
                f.id,
                f.subject,
                f.title.replace('|', "\\|")
            );
        }
        for f in s.findings.iter().filter(|f| f.severity >= Severity::Info) {
            let _ = writeln!(
                out,
                "\n### {} `{}` {}: {}\n",
                f.severity.label(),
                f.id,
                f.subject,
                f.title
            );
            let _ = writeln!(out, "{}\n", f.explanation);
            if !f.evidence.is_empty() {
                out.push_str("| evidence | value | delta | per second |\n|---|---|---|---|\n");
                for e in &f.evidence {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} |",
                        e.what,
                        e.value,
                        e.delta.map_or(String::new(), |d| d.to_string()),
                        e.rate.map_or(String::new(), |r| format!("{r:.1}"))
                    );
                }
            }
            if let Some(fix) = &f.fix {
                let _ = writeln!(out, "\nFix: {}\n", fix.summary);
                if let Some(p) = &fix.profile {
                    let _ = writeln!(out, "```yaml\n# troubleshoot-fix.yaml\n{p}```\n");
                }
                let _ = writeln!(out, "```sh\n{}\n```", fix.command);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_lines_within_the_width() {
        let text = "word ".repeat(60);
        let w = wrap(&text, "    ");
        assert!(w.lines().all(|l| l.len() <= WIDTH && l.starts_with("    ")));
        assert_eq!(w.split_whitespace().count(), 60);
    }

    #[test]
    fn wrap_after_keeps_the_prefix() {
        let w = wrap_after(" n/a   x.y      node: ", &"word ".repeat(30), "       ");
        assert!(w.starts_with(" n/a   x.y      node: word"), "{w}");
        assert!(
            w.lines().skip(1).all(|l| l.starts_with("       word")),
            "{w}"
        );
        assert!(w.lines().all(|l| l.len() <= WIDTH), "{w}");
    }

    #[test]
    fn evidence_with_delta_and_rate() {
        let e = Evidence {
            what: "rx_dropped".into(),
            value: "10".into(),
            delta: Some(4),
            rate: Some(2.0),
        };
        assert_eq!(evidence_text(&e), "rx_dropped = 10 (+4, 2.0/s)");
    }
}
