//! `dpuctl troubleshoot`: the decision tree, interactive on a terminal, else all steps of one
//! branch at once.

use std::io::{BufRead, IsTerminal as _, Read, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};

use crate::cli::{
    GlobalArgs, TroubleshootArgs, TroubleshootFormat, TroubleshootReportFormat, TroubleshootSymptom,
};
use crate::diag::evidence::{CaptureEvidence, Inputs};
use crate::diag::flow::{self, Decision, Report, Symptom};
use crate::diag::{gather, render};
use crate::model::{Avail, NodeState};
use crate::sys::root::SysRoot;

/// Single-key answers on a terminal: each read waits for one key press in raw mode (no Enter
/// needed), echoes it, and hands it to the line-based flow as a line of its own. Raw mode
/// lasts only while waiting for the key, and is ended on every way out of the wait: the key,
/// an error, a panic, or SIGTERM, SIGHUP and SIGINT (after which the signal takes its default
/// course). Ctrl-C, Ctrl-D and Esc quit.
#[derive(Default)]
struct Keys {
    line: Vec<u8>,
    pos: usize,
}

/// Raw mode, and the termination signals caught, until dropped.
struct RawKey {
    signal: Arc<AtomicUsize>,
    ids: Vec<signal_hook::SigId>,
}

impl RawKey {
    fn enter() -> std::io::Result<Self> {
        let signal = Arc::new(AtomicUsize::new(0));
        let mut ids = Vec::new();
        for sig in [
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
            signal_hook::consts::SIGINT,
        ] {
            ids.push(signal_hook::flag::register_usize(
                sig,
                Arc::clone(&signal),
                sig as usize,
            )?);
        }
        let guard = Self { signal, ids };
        crossterm::terminal::enable_raw_mode()?;
        Ok(guard)
    }
}

impl Drop for RawKey {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// One key press: `Some("d")`, `Some("")` for Enter, `None` to quit.
fn read_key() -> std::io::Result<Option<String>> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    let raw = RawKey::enter()?;
    let key = loop {
        let sig = raw.signal.load(Ordering::SeqCst);
        if sig != 0 {
            drop(raw);
            println!();
            signal_hook::low_level::emulate_default_handler(sig as i32)?;
            break None;
        }
        if !event::poll(Duration::from_millis(100))? {
            continue;
        }
        let Event::Key(k) = event::read()? else {
            continue;
        };
        if k.kind != KeyEventKind::Press {
            continue;
        }
        match k.code {
            KeyCode::Char('c' | 'd') if k.modifiers.contains(KeyModifiers::CONTROL) => break None,
            KeyCode::Esc => break None,
            KeyCode::Enter => break Some(String::new()),
            KeyCode::Char(c) => break Some(c.to_string()),
            _ => {}
        }
    };
    let mut out = std::io::stdout().lock();
    // The key as typed, then the end of the prompt's line.
    writeln!(out, "{}", key.as_deref().unwrap_or("q"))?;
    out.flush()?;
    Ok(key)
}

impl Read for Keys {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let line = self.fill_buf()?;
            let n = line.len().min(buf.len());
            buf[..n].copy_from_slice(&line[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Keys {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.line.len() {
            self.pos = 0;
            self.line = match read_key()? {
                Some(k) => format!("{k}\n").into_bytes(),
                None => Vec::new(),
            };
        }
        Ok(&self.line[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
    }
}

/// The report format `--report FILE` asks for: the extension, else `--report-format`.
fn report_format(
    path: &Path,
    flag: Option<TroubleshootReportFormat>,
) -> anyhow::Result<TroubleshootReportFormat> {
    if let Some(f) = flag {
        return Ok(f);
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("md" | "markdown") => Ok(TroubleshootReportFormat::Markdown),
        Some("json") => Ok(TroubleshootReportFormat::Json),
        _ => bail!(
            "failed to choose a format for report {}: name it .md or .json, or pass \
             --report-format markdown|json",
            path.display()
        ),
    }
}

fn write_report(
    path: &Path,
    format: TroubleshootReportFormat,
    report: &Report,
) -> anyhow::Result<()> {
    let text = match format {
        TroubleshootReportFormat::Markdown => render::report_markdown(report),
        TroubleshootReportFormat::Json => crate::output::json(report)?,
    };
    std::fs::write(path, text).with_context(|| format!("failed to write report {}", path.display()))
}

/// On the live kernel, measures the window over the interfaces of `node`; adds the analyses
/// of the capture files given.
fn inputs(
    root: &SysRoot,
    args: &TroubleshootArgs,
    node: NodeState,
    captures: &[CaptureEvidence],
    progress: &mut dyn FnMut(Duration, Duration),
) -> anyhow::Result<Inputs> {
    let mut i = if args.from.is_some() {
        gather::without_window(
            node,
            "read from a snapshot",
            Avail::na("a snapshot does not record running processes"),
        )
    } else if !root.is_live() {
        gather::without_window(
            node,
            "a --sysfs-root/--procfs-root tree has no live counters",
            Avail::Ok(crate::sys::write::irqbalance_pid(root)),
        )
    } else {
        let peers = gather::peers(&node);
        let read_only = node
            .sysctls
            .iter()
            .filter(|s| crate::sys::sysctl::is_read_only(root, &s.name))
            .map(|s| s.name.clone())
            .collect();
        let mut i = gather::measure_from(
            root,
            node,
            args.window,
            progress,
            args.source,
            args.line_rate,
        )?;
        i.peers = peers;
        i.read_only_sysctls = read_only;
        i
    };
    i.capture.extend_from_slice(captures);
    i.line_rate_bps = args.line_rate;
    Ok(i)
}

/// Analyzes each `--capture` file into capture evidence. A file that cannot be read whole is
/// bad input: one line naming the file and the byte offset, before anything is measured.
fn analyze_captures(
    args: &TroubleshootArgs,
    node: &NodeState,
) -> anyhow::Result<Vec<CaptureEvidence>> {
    // With one interface examined, its line rate is the natural one: a physical link's
    // speed; a virtual device's reported speed is nominal and none.
    let iface = match node.interfaces.as_slice() {
        [one] => Some(one),
        _ => None,
    };
    let iface_rate = iface.and_then(crate::diag::checks::speed_bps);
    let mut out = Vec::new();
    for path in &args.captures {
        let name = path.display().to_string();
        let stream = crate::capture::Stream::open(path)
            .with_context(|| format!("failed to open capture file {name}"))?;
        // The flag wins, then the file's if_speed, then the examined interface's speed;
        // without any, the bursts are not judged (no assumed rate).
        let r = crate::capture::analyze_input(
            crate::capture::Input::Stream(stream),
            args.line_rate,
            iface_rate,
            |rate| crate::capture::Options {
                resolution_ns: CAPTURE_RESOLUTION_NS,
                burst: crate::monitor::BurstConfig::new(rate),
                top: 0,
                keep_bins: false,
            },
            |_, _| {},
        )
        .map_err(|e| anyhow::anyhow!("failed to read capture file {name}: {e}"))?;
        if let Some(e) = &r.error {
            bail!("failed to read capture file {name}: {e}");
        }
        let a = r.analysis;
        let judged = r.rate_source != crate::capture::RateSource::Default;
        out.push(CaptureEvidence {
            source: name,
            iface: iface.map(|i| i.name.clone()),
            seconds: a.duration_ns as f64 / 1e9,
            line_rate_bps: judged.then_some(a.line_rate_bps),
            bursts: if judged { a.bursts } else { Vec::new() },
            gso_frames: a.gso.frames,
            tcp_segments: Some(a.tcp.data_segments),
            tcp_retransmissions: Some(a.tcp.retransmissions),
        });
    }
    Ok(out)
}

/// Bin width of capture analyses for troubleshoot: the default of `capture analyze`.
const CAPTURE_RESOLUTION_NS: u64 = 10_000;

fn exit(report: &Report) -> ExitCode {
    ExitCode::from(report.verdict.exit_code())
}

/// Runs `dpuctl troubleshoot`.
pub fn run(
    _global: &GlobalArgs,
    root: &SysRoot,
    args: &TroubleshootArgs,
) -> anyhow::Result<ExitCode> {
    let report_to = match &args.report {
        Some(p) => Some((p.as_path(), report_format(p, args.report_format)?)),
        None => None,
    };
    let symptom = match args.symptom {
        Some(TroubleshootSymptom::Latency) => Some(Symptom::Latency),
        Some(TroubleshootSymptom::Throughput) => Some(Symptom::Throughput),
        Some(TroubleshootSymptom::Auto) | None => None,
    };
    // The node first: a missing interface or a bad snapshot fails before any question.
    let node = crate::source::load(root, args.from.as_deref(), &args.ifaces)?;
    let captures = analyze_captures(args, &node)?;
    let interactive = args.symptom.is_none()
        && args.format == TroubleshootFormat::Text
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal();
    let report = if interactive {
        let mut input = Keys::default();
        let mut out = std::io::stdout().lock();
        let window = args.window.as_secs_f64();
        let r = flow::interactive(&mut input, &mut out, None, |out| {
            let i = inputs(root, args, node, &captures, &mut |el, len| {
                let _ = write!(
                    out,
                    "\rmeasuring counters: {:.1} of {:.1} s",
                    el.as_secs_f64(),
                    len.as_secs_f64()
                );
                let _ = out.flush();
            })?;
            if i.window.get().is_some() {
                writeln!(out, "\rmeasured counters over {window:.1} s          ")?;
            } else {
                writeln!(
                    out,
                    "no counter window: {}",
                    i.window.reason().unwrap_or("n/a")
                )?;
            }
            Ok(i)
        })?;
        let Some(r) = r else {
            return Ok(ExitCode::SUCCESS);
        };
        r
    } else {
        let tty = std::io::stderr().is_terminal();
        let i = inputs(root, args, node, &captures, &mut |el, len| {
            if tty {
                eprint!(
                    "\rmeasuring counters: {:.1} of {:.1} s",
                    el.as_secs_f64(),
                    len.as_secs_f64()
                );
            }
        })?;
        if tty && i.window.get().is_some() {
            eprint!("\r{:40}\r", "");
        }
        let decision = symptom.map_or_else(|| flow::decide(&i), Decision::given);
        let report = flow::walk(&i, decision);
        let text = match args.format {
            TroubleshootFormat::Text => render::report_text(&report),
            TroubleshootFormat::Json => crate::output::json(&Report {
                counters: None,
                ..report.clone()
            })?,
            TroubleshootFormat::Markdown => render::report_markdown(&report),
        };
        crate::output::write_stdout(text.as_bytes())?;
        report
    };
    if let Some((path, format)) = report_to {
        write_report(path, format, &report)?;
    }
    Ok(exit(&report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_format_from_extension_or_flag() {
        let f = |p: &str, flag| report_format(Path::new(p), flag);
        assert_eq!(
            f("t.md", None).expect("md"),
            TroubleshootReportFormat::Markdown
        );
        assert_eq!(
            f("t.json", None).expect("json"),
            TroubleshootReportFormat::Json
        );
        assert_eq!(
            f("t.txt", Some(TroubleshootReportFormat::Json)).expect("flag"),
            TroubleshootReportFormat::Json
        );
        let e = f("t.txt", None).expect_err("unknown");
        assert!(e.to_string().contains("--report-format"), "{e}");
    }
}
