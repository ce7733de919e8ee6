//! `dpuctl capture IFACE` (live, libpcap) and `dpuctl capture analyze FILE...`.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use crate::capture::analyze::{Analysis, Analyzer, Options};
use crate::capture::live::{self, KernelStats, LiveConfig, LiveError};
use crate::capture::{report, FileResult, Format as FileFormat, RateSource};
use crate::capture::{Input, Stream};
use crate::cli::{AnalysisArgs, CaptureArgs, CaptureCommand, Format, GlobalArgs, LiveCaptureArgs};
use crate::monitor::microburst::BurstConfig;
use crate::output::human_bytes;
use crate::sys::root::SysRoot;

/// Files smaller than this are read too fast for a progress bar to help.
const PROGRESS_MIN_BYTES: usize = 64 << 20;

/// Runs `dpuctl capture`.
pub fn run(_global: &GlobalArgs, root: &SysRoot, args: &CaptureArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        Some(CaptureCommand::Analyze {
            files,
            merge: true,
            analysis,
        }) => analyze_merged(files, analysis),
        Some(CaptureCommand::Analyze {
            files, analysis, ..
        }) => analyze(files, analysis),
        // `capture -r FILE`, as tcpdump -r: the analysis of the file.
        None if args.live.read.is_some() => {
            let file = args.live.read.clone().into_iter().collect::<Vec<_>>();
            analyze(&file, &args.analysis)
        }
        None => capture_live(root, &args.live, &args.analysis),
    }
}

fn options(a: &AnalysisArgs, line_rate_bps: u64) -> Options {
    Options {
        resolution_ns: a.resolution,
        burst: BurstConfig {
            line_rate_bps,
            threshold: a.burst_threshold,
        },
        top: a.top,
        keep_bins: a.bins && a.format != Format::Table,
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
struct Bar {
    on: bool,
    label: String,
    last: Instant,
}

impl Bar {
    fn new(on: bool, label: String) -> Self {
        Self {
            on,
            label,
            last: Instant::now(),
        }
    }

    fn file(&mut self, done: usize, total: usize) {
        if !self.on || self.last.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.last = Instant::now();
        let frac = done as f64 / total.max(1) as f64;
        let width = 30;
        let fill = ((frac * f64::from(width)) as usize).min(width as usize);
        let _ = write!(
            std::io::stderr().lock(),
            "\r\x1b[K{} [{}{}] {:3.0}% {} of {}",
            self.label,
            "#".repeat(fill),
            " ".repeat(width as usize - fill),
            frac * 100.0,
            human_bytes(done as u64),
            human_bytes(total as u64)
        );
    }

    fn line(&mut self, text: &str) {
        if self.on {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K{text}");
        }
    }

    fn clear(&mut self) {
        if self.on {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
        }
    }
}

/// One file in the JSON output (or, with `--merge`, all of them).
#[derive(Serialize)]
struct FileReport<'a> {
    /// The file; with `--merge`, the first of them.
    file: String,
    /// With `--merge`: every file, in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<String>,
    format: FileFormat,
    /// True when reading stopped at an error: the results cover the packets before it.
    partial: bool,
    error: Option<String>,
    error_offset: Option<u64>,
    line_rate_source: RateSource,
    #[serde(flatten)]
    analysis: &'a Analysis,
}

fn render(format: Format, v: &impl Serialize) -> anyhow::Result<String> {
    match format {
        Format::Yaml => crate::output::yaml(v),
        _ => crate::output::json(v),
    }
}

fn analyze(files: &[PathBuf], a: &AnalysisArgs) -> anyhow::Result<ExitCode> {
    let mut results: Vec<(String, FileResult)> = Vec::new();
    let mut failures = Vec::new();
    let tty = a.format == Format::Table && std::io::stderr().is_terminal();
    for path in files {
        let name = path.display().to_string();
        let stream = match Stream::open(path) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("failed to open capture file {name}: {e}"));
                continue;
            }
        };
        let size = stream.size() as usize;
        let mut bar = Bar::new(tty && size >= PROGRESS_MIN_BYTES, name.clone());
        let r = crate::capture::analyze_input(
            Input::Stream(stream),
            a.line_rate,
            None,
            |rate| options(a, rate),
            |done, total| bar.file(done, total),
        );
        bar.clear();
        match r {
            Ok(res) => {
                if let Some(e) = &res.error {
                    failures.push(format!(
                        "failed to read capture file {name}: {e} (results cover the {} packets before it)",
                        res.analysis.packets
                    ));
                }
                if a.format == Format::Table {
                    // Print as we go: a long list of files shows results early.
                    crate::output::write_stdout(text_of_file(&name, &res).as_bytes())?;
                }
                results.push((name, res));
            }
            Err(e) => failures.push(format!("failed to read capture file {name}: {e}")),
        }
    }
    if a.format != Format::Table {
        let reports: Vec<FileReport> = results
            .iter()
            .map(|(name, r)| FileReport {
                file: name.clone(),
                files: Vec::new(),
                format: r.format,
                partial: r.error.is_some(),
                error: r.error.as_ref().map(ToString::to_string),
                error_offset: r.error.as_ref().map(crate::capture::ReadError::offset),
                line_rate_source: r.rate_source,
                analysis: &r.analysis,
            })
            .collect();
        crate::output::write_stdout(render(a.format, &reports)?.as_bytes())?;
    }
    Ok(exit_with(&failures))
}

/// `capture analyze --merge`: every file opened first (a missing one is an error before any
/// work: the merge would be incomplete), then one analysis of all.
fn analyze_merged(files: &[PathBuf], a: &AnalysisArgs) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let mut inputs = Vec::with_capacity(files.len());
    let mut total = 0usize;
    for (path, name) in files.iter().zip(&names) {
        let s =
            Stream::open(path).with_context(|| format!("failed to open capture file {name}"))?;
        total += s.size() as usize;
        inputs.push(Input::Stream(s));
    }
    let tty = a.format == Format::Table && std::io::stderr().is_terminal();
    let label = format!("{} files", files.len());
    let mut bar = Bar::new(tty && total >= PROGRESS_MIN_BYTES, label);
    let r = crate::capture::analyze_inputs(
        inputs,
        a.line_rate,
        None,
        |rate| options(a, rate),
        |done, total| bar.file(done, total),
    );
    bar.clear();
    let m = r.map_err(|(i, e)| anyhow::anyhow!("failed to read capture file {}: {e}", names[i]))?;
    let failures: Vec<String> = m
        .errors
        .iter()
        .map(|(i, e)| {
            format!(
                "failed to read capture file {}: {e} (the merge covers its packets before it)",
                names[*i]
            )
        })
        .collect();
    let first_error = m.errors.first().map(|(_, e)| e);
    if a.format == Format::Table {
        let shown = if names.len() <= 4 {
            names.join(", ")
        } else {
            format!(
                "{}, {}, ..., {}",
                names[0],
                names[1],
                names[names.len() - 1]
            )
        };
        let mut title = format!("== merged: {shown} ({} files) ==  {}", names.len(), {
            let mut f: Vec<&str> = m.formats.iter().map(|f| format_name(*f)).collect();
            f.dedup();
            f.join("+")
        });
        if !failures.is_empty() {
            let _ = write!(
                title,
                "\nPARTIAL: {} file(s) ended early; results cover the packets read",
                failures.len()
            );
        }
        let mut s = report::render(&title, m.rate_source.note(), &m.analysis);
        s.push('\n');
        crate::output::write_stdout(s.as_bytes())?;
    } else {
        let report = FileReport {
            file: names[0].clone(),
            files: names.clone(),
            format: m.formats[0],
            partial: first_error.is_some(),
            error: first_error.map(ToString::to_string),
            error_offset: first_error.map(crate::capture::ReadError::offset),
            line_rate_source: m.rate_source,
            analysis: &m.analysis,
        };
        crate::output::write_stdout(render(a.format, &[report])?.as_bytes())?;
    }
    Ok(exit_with(&failures))
}

/// Exit 0, or each failure on a line of its own on stderr and exit 2.
fn exit_with(failures: &[String]) -> ExitCode {
    if failures.is_empty() {
        return ExitCode::SUCCESS;
    }
    let mut err = std::io::stderr().lock();
    for f in failures {
        let _ = writeln!(err, "dpuctl: {f}");
    }
    ExitCode::from(2)
}

fn format_name(f: FileFormat) -> &'static str {
    match f {
        FileFormat::Pcap => "pcap",
        FileFormat::Pcapng => "pcapng",
    }
}

fn text_of_file(name: &str, r: &FileResult) -> String {
    let mut title = format!("== {name} ==  {}", format_name(r.format));
    if let Some(e) = &r.error {
        let _ = write!(title, "\nPARTIAL: {e}; results cover the packets before it");
    }
    let mut s = report::render(&title, r.rate_source.note(), &r.analysis);
    s.push('\n');
    s
}

/// The link speed of `iface` in bits/s, when the kernel knows it.
fn link_speed_bps(root: &SysRoot, iface: &str) -> Option<u64> {
    if !root.is_live() || iface == "any" {
        return None;
    }
    let mut eth = crate::sys::ethtool::Ethtool::open().ok()?;
    let info = eth.link_info(iface).ok()?;
    info.speed_mbps
        .filter(|&s| s > 0 && s != u32::MAX)
        .map(|s| u64::from(s) * 1_000_000)
}

/// One live capture in the JSON output.
#[derive(Serialize)]
struct LiveReport<'a> {
    interface: &'a str,
    filter: Option<&'a str>,
    precision: &'static str,
    stopped_by: &'static str,
    kernel: KernelStats,
    written_to: Option<&'a Path>,
    line_rate_source: RateSource,
    #[serde(flatten)]
    analysis: &'a Analysis,
}

fn capture_live(root: &SysRoot, l: &LiveCaptureArgs, a: &AnalysisArgs) -> anyhow::Result<ExitCode> {
    let iface = l
        .iface
        .as_deref()
        .context("failed to start capture: no interface given")?;
    if iface != "any" {
        // libpcap reports a missing device and a missing privilege in whichever order its
        // system calls fail; check the device first so each case gets its own message.
        if let Ok(names) = crate::sys::sysfs::interfaces(root) {
            if !names.iter().any(|n| n == iface) {
                return Err(LiveError::NoDevice {
                    iface: iface.to_string(),
                }
                .into());
            }
        }
    }
    let (rate, source) = match (a.line_rate, link_speed_bps(root, iface)) {
        (Some(r), _) => (r, RateSource::Flag),
        (None, Some(s)) => (s, RateSource::Interface),
        (None, None) => (crate::capture::DEFAULT_LINE_RATE_BPS, RateSource::Default),
    };
    let stop = Arc::new(AtomicBool::new(false));
    // SIGHUP (the ssh session closed) stops the capture as SIGINT and SIGTERM do: the file
    // of -w is finished and the analysis printed where it still can be.
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        // A second signal while stopping ends the process at once.
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&stop))
            .context("failed to install signal handlers")?;
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("failed to install signal handlers")?;
    }
    let cfg = LiveConfig {
        iface: iface.to_string(),
        filter: l.filter.clone(),
        snaplen: l.snaplen,
        duration: l.duration.map(Duration::from_nanos),
        count: l.count,
        write: l.write.clone(),
    };
    let mut an = Analyzer::new(options(a, rate));
    let tty = std::io::stderr().is_terminal()
        && crate::output::verbosity() != crate::output::Verbosity::Quiet;
    let mut bar = Bar::new(tty, String::new());
    let outcome = live::capture(
        &cfg,
        &mut an,
        &stop,
        |nano| {
            if crate::output::verbosity() == crate::output::Verbosity::Quiet {
                return;
            }
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "capturing on {iface}{}, {} timestamps; Ctrl-C stops and analyzes",
                l.filter
                    .as_deref()
                    .map(|f| format!(" (filter '{f}')"))
                    .unwrap_or_default(),
                if nano { "nanosecond" } else { "microsecond" }
            );
            if !nano {
                let _ = writeln!(
                    err,
                    "note: the kernel refused nanosecond timestamps; bins under 1us are not meaningful"
                );
            }
        },
        |p| {
            bar.line(&format!(
                "{:.1}s  {} packets  {}  dropped by kernel {}  by interface {}",
                p.elapsed.as_secs_f64(),
                p.packets,
                human_bytes(p.bytes),
                p.kernel.dropped,
                p.kernel.if_dropped
            ));
        },
    )?;
    bar.clear();
    let analysis = an.finish();
    if crate::output::verbosity() >= crate::output::Verbosity::Normal {
        let _ = writeln!(
        std::io::stderr().lock(),
        "{} packets captured ({}), {} received by the filter, {} dropped by the kernel, {} by the interface; stopped by {}",
        analysis.packets,
        human_bytes(analysis.bytes),
        outcome.kernel.received,
        outcome.kernel.dropped,
        outcome.kernel.if_dropped,
        outcome.stopped_by
    );
    }
    let out = if a.format == Format::Table {
        let mut title = format!("== {iface} ==  live capture");
        if let Some(f) = &l.filter {
            let _ = write!(title, ", filter '{f}'");
        }
        let _ = write!(
            title,
            ", {} timestamps; kernel dropped {}, interface dropped {}",
            if outcome.nano {
                "nanosecond"
            } else {
                "microsecond"
            },
            outcome.kernel.dropped,
            outcome.kernel.if_dropped
        );
        report::render(&title, source.note(), &analysis)
    } else {
        render(
            a.format,
            &LiveReport {
                interface: iface,
                filter: l.filter.as_deref(),
                precision: if outcome.nano { "nano" } else { "micro" },
                stopped_by: outcome.stopped_by,
                kernel: outcome.kernel,
                written_to: l.write.as_deref(),
                line_rate_source: source,
                analysis: &analysis,
            },
        )?
    };
    crate::output::write_stdout(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
