//! The decision tree as data, the choice of branch, and the walkers: one that runs every step
//! (scripts, `--symptom`), and an interactive one over any line-based input and output.
//!
//! ```text
//! performance drop -> latency up?
//!   yes: queue backlog -> IRQ affinity -> capture analysis -> protocol errors
//!   no:  throughput    -> link bandwidth -> capture analysis -> protocol errors
//! ```

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use super::checks::{self, Ctx, Finding, Fix, Severity, Step};
use super::evidence::Inputs;
use super::render;

/// The answer to the tree's question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Symptom {
    /// Latency is up.
    Latency,
    /// Throughput is down.
    Throughput,
}

/// One branch of the tree.
#[derive(Debug)]
pub struct Branch {
    /// The answer that leads here.
    pub symptom: Symptom,
    /// Its steps, in order.
    pub steps: &'static [Step],
}

/// The question at the root of the tree.
pub const QUESTION: &str = "Is latency up (slow or jittery responses)? If not, throughput is down.";

/// The tree: the question's two answers and their steps.
pub static TREE: [Branch; 2] = [
    Branch {
        symptom: Symptom::Latency,
        steps: &[Step::Backlog, Step::Irq, Step::Capture, Step::Proto],
    },
    Branch {
        symptom: Symptom::Throughput,
        steps: &[Step::Throughput, Step::Link, Step::Capture, Step::Proto],
    },
];

/// The steps of the branch for `symptom`.
pub fn path(symptom: Symptom) -> &'static [Step] {
    TREE.iter()
        .find(|b| b.symptom == symptom)
        .map_or(&[], |b| b.steps)
}

/// Which branch, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The branch taken.
    pub symptom: Symptom,
    /// True when decided from the evidence (`--symptom auto`).
    pub auto: bool,
    /// Why this branch.
    pub reason: String,
}

impl Decision {
    /// The user named the symptom.
    pub fn given(symptom: Symptom) -> Self {
        Self {
            symptom,
            auto: false,
            reason: "given".to_string(),
        }
    }
}

/// Utilization from which the link itself counts as the limit when choosing a branch.
const BUSY_LINK: f64 = 0.7;

/// Decides the branch from the evidence: drops and backlog in the window mean packets wait in
/// queues (latency); a link near its line rate without them means the link is the limit
/// (throughput).
pub fn decide(inputs: &Inputs) -> Decision {
    let ctx = Ctx::new(inputs);
    let Some(w) = ctx.window() else {
        return Decision {
            symptom: Symptom::Latency,
            auto: true,
            reason: format!(
                "no counter rates ({}), so no drops or utilization to compare; the latency \
                 branch checks the static causes (queues, IRQ placement) first",
                inputs.window.reason().unwrap_or("no window")
            ),
        };
    };
    let (mut sn_drop, mut sn_sq) = (0, 0);
    for e in &w.end.softnet {
        if let Some(s) = w.start.softnet.iter().find(|s| s.cpu == e.cpu) {
            sn_drop += e.dropped.saturating_sub(s.dropped);
            sn_sq += e.time_squeeze.saturating_sub(s.time_squeeze);
        }
    }
    let (mut nic_drop, mut tx_drop) = (0, 0);
    let mut busiest: Option<(String, f64)> = None;
    for i in &ctx.ifaces {
        if let Some((d, _)) = ctx.counters_delta(&i.name) {
            nic_drop += d.rx_missed_errors + d.rx_fifo_errors + d.rx_over_errors + d.rx_dropped;
            tx_drop += d.tx_dropped;
            if let Some(line) = ctx.line_rate(i) {
                let u = (d.rx_bytes.max(d.tx_bytes) as f64 * 8.0 / w.seconds()) / line as f64;
                if busiest.as_ref().is_none_or(|b| u > b.1) {
                    busiest = Some((i.name.clone(), u));
                }
            }
        }
    }
    let busy = busiest.as_ref().map_or_else(
        || "no link with a known line rate (a virtual device's speed is nominal; --line-rate sets one)".to_string(),
        |(n, u)| format!("busiest link {n} at {:.0}% of line rate", u * 100.0),
    );
    if sn_drop + sn_sq + nic_drop + tx_drop > 0 {
        Decision {
            symptom: Symptom::Latency,
            auto: true,
            reason: format!(
                "packets waited or were dropped in queues during the window (softnet drops \
                 {sn_drop}, time squeezes {sn_sq}, interface receive drops {nic_drop}, \
                 transmit drops {tx_drop}; {busy}): latency branch"
            ),
        }
    } else if busiest.as_ref().is_some_and(|b| b.1 >= BUSY_LINK) {
        Decision {
            symptom: Symptom::Throughput,
            auto: true,
            reason: format!(
                "no drops or backlog during the window and the {busy}: the link is the limit, \
                 throughput branch"
            ),
        }
    } else {
        Decision {
            symptom: Symptom::Latency,
            auto: true,
            reason: format!(
                "no drops or backlog and no link above {:.0}% ({busy}); the latency branch \
                 checks queues and IRQ placement, which cost both",
                BUSY_LINK * 100.0
            ),
        }
    }
}

/// The findings of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// The step.
    pub step: Step,
    /// Its title.
    pub title: String,
    /// Its findings, in check order.
    pub findings: Vec<Finding>,
}

/// Runs one step.
pub fn run_step(inputs: &Inputs, step: Step) -> StepResult {
    StepResult {
        step,
        title: step.title().to_string(),
        findings: checks::run_step(&Ctx::new(inputs), step),
    }
}

/// The whole result: branch, the steps walked, and what they found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Host the evidence came from.
    pub hostname: String,
    /// Its kernel release.
    pub kernel: String,
    /// Interfaces examined.
    pub interfaces: Vec<String>,
    /// Length of the counter window in seconds, when there was one.
    pub window_seconds: Option<f64>,
    /// Why there was no window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_na: Option<String>,
    /// The branch and why.
    pub decision: Decision,
    /// The branch's steps.
    pub path: Vec<Step>,
    /// The steps walked, in order (all of them unless the user quit early).
    pub steps: Vec<StepResult>,
    /// The raw counter readings at the start and end of the window, for `--report` files
    /// (left out of the stdout JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counters: Option<super::evidence::Window>,
    /// The outcome: problems, no problems, or inconclusive (see [`Verdict`]).
    pub verdict: Verdict,
    /// The checks that could not run (n/a findings), grouped by reason, most frequent first.
    pub not_run: Vec<NotRun>,
}

/// The outcome of a walk, and the exit code it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A warn or crit finding: exit 1.
    Problems,
    /// No problem, and the checks that matter ran: exit 0.
    NoProblems,
    /// No problem found, but the checks that matter could not run: exit 3. The checks that
    /// matter are those that see a performance problem happen (drops, backlog, rates,
    /// protocol errors): they need a counter window, which a snapshot (`--from`) or a
    /// `--sysfs-root` tree does not have. The static checks alone show risks, not a cause.
    Inconclusive,
}

impl Verdict {
    /// The exit code of `troubleshoot`.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::NoProblems => 0,
            Verdict::Problems => 1,
            Verdict::Inconclusive => 3,
        }
    }
}

/// Checks that could not run for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotRun {
    /// The reason (the title of the n/a findings).
    pub reason: String,
    /// How many findings gave it.
    pub count: usize,
    /// `check subject` of each.
    pub checks: Vec<String>,
}

impl Report {
    fn new(inputs: &Inputs, decision: Decision) -> Self {
        let ctx = Ctx::new(inputs);
        Self {
            hostname: inputs.node.hostname.clone(),
            kernel: inputs.node.kernel.clone(),
            counters: inputs.window.get().cloned(),
            interfaces: ctx.ifaces.iter().map(|i| i.name.clone()).collect(),
            window_seconds: inputs.window.get().map(super::evidence::Window::seconds),
            window_na: inputs.window.reason().map(str::to_string),
            path: {
                let mut p = path(decision.symptom).to_vec();
                // GPU nodes get the fabric step at the end of either branch.
                if inputs
                    .node
                    .pci
                    .functions
                    .iter()
                    .any(|f| f.role == crate::model::pci::PciRole::Gpu)
                {
                    p.push(Step::Fabric);
                }
                p
            },
            decision,
            steps: Vec::new(),
            verdict: Verdict::Inconclusive,
            not_run: Vec::new(),
        }
    }

    /// Sets the verdict and the n/a tally from the steps walked.
    fn finish(&mut self) {
        let mut groups: Vec<NotRun> = Vec::new();
        for f in self.findings().filter(|f| f.severity == Severity::Na) {
            let name = format!("{} {}", f.id, f.subject);
            match groups.iter_mut().find(|g| g.reason == f.title) {
                Some(g) => {
                    g.count += 1;
                    g.checks.push(name);
                }
                None => groups.push(NotRun {
                    reason: f.title.clone(),
                    count: 1,
                    checks: vec![name],
                }),
            }
        }
        groups.sort_by_key(|g| std::cmp::Reverse(g.count));
        let window_checks_ran = self.window_seconds.is_some()
            || !self.steps.iter().any(|s| {
                checks::CHECKS
                    .iter()
                    .any(|c| c.needs_window && c.step == s.step)
            });
        self.verdict = if self.has_problems() {
            Verdict::Problems
        } else if window_checks_ran {
            Verdict::NoProblems
        } else {
            Verdict::Inconclusive
        };
        self.not_run = groups;
    }

    /// Every finding of the walked steps.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.steps.iter().flat_map(|s| &s.findings)
    }

    /// True when a warn or crit finding exists (exit code 1).
    pub fn has_problems(&self) -> bool {
        self.findings().any(|f| f.severity.is_problem())
    }

    /// Count of findings of a severity.
    pub fn count(&self, sev: Severity) -> usize {
        self.findings().filter(|f| f.severity == sev).count()
    }

    /// The fixes of problem and info findings, worst first, each fix once.
    pub fn fixes(&self) -> Vec<(&Finding, &Fix)> {
        let mut out: Vec<(&Finding, &Fix)> = Vec::new();
        let mut all: Vec<&Finding> = self
            .findings()
            .filter(|f| f.severity >= Severity::Info)
            .collect();
        all.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in all {
            if let Some(fix) = &f.fix {
                if !out.iter().any(|(_, x)| *x == fix) {
                    out.push((f, fix));
                }
            }
        }
        out
    }
}

/// Walks every step of the branch (the non-interactive mode).
pub fn walk(inputs: &Inputs, decision: Decision) -> Report {
    let mut r = Report::new(inputs, decision);
    r.steps = r.path.iter().map(|&s| run_step(inputs, s)).collect();
    r.finish();
    r
}

/// Reads one answer: the first character of the next line, lower-cased; `None` at EOF.
fn answer<R: BufRead>(input: &mut R) -> std::io::Result<Option<char>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(
        line.trim()
            .chars()
            .next()
            .map_or('\n', |c| c.to_ascii_lowercase()),
    ))
}

/// The interactive walk: asks the tree's question (unless `symptom` is given), gathers the
/// evidence through `gather` (which may print progress), shows each step as it is run, and
/// lets the user go deeper, back, or quit; ends with the summary and the suggested fixes.
///
/// Line-based on purpose: any `BufRead`/`Write` pair drives it, a terminal or a test.
pub fn interactive<R, W, G>(
    input: &mut R,
    out: &mut W,
    symptom: Option<Symptom>,
    gather: G,
) -> anyhow::Result<Option<Report>>
where
    R: BufRead,
    W: Write,
    G: FnOnce(&mut W) -> anyhow::Result<Inputs>,
{
    writeln!(
        out,
        "dpuctl troubleshoot: a performance drop, step by step."
    )?;
    let choice = if let Some(s) = symptom {
        Some(s)
    } else {
        loop {
            write!(
                out,
                "{QUESTION}\n  [y] yes, latency  [n] no, throughput  [a] decide from the counters  [q] quit: "
            )?;
            out.flush()?;
            match answer(input)? {
                Some('y') => break Some(Symptom::Latency),
                Some('n') => break Some(Symptom::Throughput),
                Some('a') => break None,
                Some('q') | None => {
                    writeln!(out, "\nnothing checked.")?;
                    return Ok(None);
                }
                Some(_) => writeln!(out, "please answer y, n, a or q.")?,
            }
        }
    };
    let inputs = gather(out)?;
    let decision = choice.map_or_else(|| decide(&inputs), Decision::given);
    if decision.auto {
        let name = match decision.symptom {
            Symptom::Latency => "latency",
            Symptom::Throughput => "throughput",
        };
        out.write_all(
            render::wrap(&format!("branch: {name} ({})", decision.reason), "").as_bytes(),
        )?;
    }
    let mut report = Report::new(&inputs, decision);
    let path = report.path.clone();
    let mut results: Vec<Option<StepResult>> = vec![None; path.len()];
    let mut pos = 0;
    loop {
        let result = results[pos].get_or_insert_with(|| run_step(&inputs, path[pos]));
        out.write_all(render::step_text(result, pos, path.len()).as_bytes())?;
        let next = path
            .get(pos + 1)
            .map_or("summary".to_string(), |s| s.title().to_string());
        loop {
            write!(out, "[d] deeper ({next})  [b] back  [q] quit: ")?;
            out.flush()?;
            match answer(input)? {
                Some('d' | '\n') => {
                    pos += 1;
                    break;
                }
                Some('b') if pos > 0 => {
                    pos -= 1;
                    break;
                }
                Some('b') => writeln!(out, "this is the first step.")?,
                Some('q') | None => {
                    pos = path.len();
                    break;
                }
                Some(_) => writeln!(out, "please answer d, b or q.")?,
            }
        }
        if pos >= path.len() {
            break;
        }
    }
    report.steps = results.into_iter().flatten().collect();
    report
        .steps
        .sort_by_key(|s| path.iter().position(|p| *p == s.step));
    report.finish();
    out.write_all(render::summary_text(&report).as_bytes())?;
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Avail, NodeState, Topology};

    fn inputs() -> Inputs {
        Inputs {
            node: NodeState {
                schema: 1,
                hostname: "h".into(),
                kernel: "k".into(),
                taken_at_ms: 0,
                topology: Topology::default(),
                interfaces: vec![],
                sysctls: vec![],
                softnet: vec![],
                rdma: vec![],
                pci: crate::model::pci::PciFabric::default(),
            },
            window: Avail::na("from a snapshot"),
            irqbalance: Avail::Ok(Some(42)),
            capture: vec![],
            peers: Avail::na("from a snapshot"),
            line_rate_bps: None,
            read_only_sysctls: Vec::new(),
            nccl_conf: None,
        }
    }

    fn drive(keys: &str, symptom: Option<Symptom>) -> (String, Option<Report>) {
        let mut input = keys.as_bytes();
        let mut out = Vec::new();
        let r = interactive(&mut input, &mut out, symptom, |o| {
            writeln!(o, "measuring")?;
            Ok(inputs())
        })
        .expect("walk");
        (String::from_utf8(out).expect("utf8"), r)
    }

    #[test]
    fn tree_branches_end_in_capture_and_protocol_errors() {
        assert_eq!(path(Symptom::Latency)[..2], [Step::Backlog, Step::Irq]);
        assert_eq!(
            path(Symptom::Throughput)[..2],
            [Step::Throughput, Step::Link]
        );
        for b in &TREE {
            assert_eq!(b.steps[2..], [Step::Capture, Step::Proto]);
        }
    }

    #[test]
    fn deeper_back_and_quit() {
        // yes (latency), deeper, back, deeper, quit: backlog and irq were shown.
        let (text, r) = drive("y\nd\nb\nd\nq\n", None);
        let r = r.expect("report");
        assert_eq!(r.decision.symptom, Symptom::Latency);
        let steps: Vec<_> = r.steps.iter().map(|s| s.step).collect();
        assert_eq!(steps, [Step::Backlog, Step::Irq]);
        assert_eq!(
            text.matches("step 1/4: check queue backlog").count(),
            2,
            "{text}"
        );
        assert_eq!(
            text.matches("step 2/4: adjust IRQ affinity").count(),
            2,
            "{text}"
        );
        assert!(text.contains("measuring"));
        assert!(text.contains("irq.irqbalance"), "{text}");
        assert!(text.contains("Summary"), "{text}");
    }

    #[test]
    fn throughput_branch_to_the_end_and_bad_keys() {
        let (text, r) = drive("x\nn\nb\nz\nd\nd\nd\nd\n", None);
        assert!(text.contains("please answer y, n, a or q."));
        assert!(text.contains("this is the first step."));
        assert!(text.contains("please answer d, b or q."));
        let r = r.expect("report");
        assert_eq!(r.decision.symptom, Symptom::Throughput);
        assert_eq!(r.steps.len(), 4);
    }

    #[test]
    fn quit_at_the_question_checks_nothing() {
        let (text, r) = drive("q\n", None);
        assert!(r.is_none());
        assert!(text.contains("nothing checked"));
        let (_, r) = drive("", None);
        assert!(r.is_none(), "EOF quits");
    }

    #[test]
    fn auto_without_a_window_says_why() {
        let d = decide(&inputs());
        assert!(d.auto);
        assert_eq!(d.symptom, Symptom::Latency);
        assert!(d.reason.contains("from a snapshot"), "{}", d.reason);
    }
}
