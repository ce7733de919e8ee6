//! `dpuctl troubleshoot`: the decision tree, interactive on a terminal, else all steps of one
//! branch at once.

use std::io::{BufRead, IsTerminal as _, Read, Write as _};
use std::path::Path;
use std::process::ExitCode;
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
/// an error, a panic, a terminal that hangs up, or a signal (see [`Signals`]). Ctrl-C, Ctrl-D
/// and Esc quit.
///
/// The key is read from standard input with poll(2) and read(2) rather than through the
/// terminal library's event reader: on a terminal that went away (the ssh session or the
/// tmux server ended) that reader retried a read that answers 0 bytes without end, a busy
/// loop that outlived its terminal. Here end of input or a hang-up is a quit.
#[derive(Default)]
struct Keys {
    line: Vec<u8>,
    pos: usize,
    /// Bytes read after the key that was taken (typed ahead or pasted), for the next reads.
    ahead: std::collections::VecDeque<u8>,
}

/// Raw mode until dropped.
struct RawMode;

impl RawMode {
    fn enter() -> std::io::Result<Self> {
        crossterm::terminal::enable_raw_mode()?;
        Ok(Self)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// SIGTERM, SIGHUP and SIGINT for the whole interactive walk: a thread takes them, puts the
/// terminal back in its normal mode and lets the signal take its default course (the exit
/// status says which signal). Catching them only around each key wait, as before, left them
/// caught with no action once the first wait was over: the process then ignored SIGTERM and
/// SIGHUP while it measured or printed, and a closed terminal did not end it.
struct Signals {
    handle: signal_hook::iterator::Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Signals {
    fn start() -> std::io::Result<Self> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])?;
        let handle = signals.handle();
        let thread = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    let _ = crossterm::terminal::disable_raw_mode();
                    // The line the prompt was on ends before the shell's prompt comes back.
                    // Written to the descriptor: the walk holds the lock of `stdout()`.
                    let _ = rustix::io::write(std::io::stdout(), b"\r\n");
                    let _ = signal_hook::low_level::emulate_default_handler(sig);
                }
            })?;
        Ok(Self {
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What one byte (or escape sequence) typed at the prompt means.
#[derive(Debug, PartialEq, Eq)]
enum Key {
    /// A printable key, or Enter as "".
    Answer(String),
    /// Ctrl-C, Ctrl-D, Esc, end of input or hang-up.
    Quit,
    /// Something to ignore: an arrow or function key, a control byte.
    Ignore,
}

/// Takes one key off the front of `bytes`. An escape byte followed by more bytes read at the
/// same time starts a sequence (arrow and function keys), taken whole and ignored; an escape
/// alone is Esc.
fn take_key(bytes: &mut std::collections::VecDeque<u8>) -> Option<Key> {
    let b = bytes.pop_front()?;
    Some(match b {
        0x03 | 0x04 => Key::Quit,
        0x1b if bytes.is_empty() => Key::Quit,
        0x1b => {
            // CSI / SS3: ESC [ or ESC O, parameters, then a final byte in 0x40..=0x7e.
            if matches!(bytes.front(), Some(b'[' | b'O')) {
                bytes.pop_front();
                while let Some(c) = bytes.pop_front() {
                    if (0x40..=0x7e).contains(&c) {
                        break;
                    }
                }
            } else {
                // Alt+key: the key without Alt is not an answer either.
                bytes.pop_front();
            }
            Key::Ignore
        }
        b'\r' | b'\n' => Key::Answer(String::new()),
        0x20..=0x7e => Key::Answer(char::from(b).to_string()),
        // Other control bytes, and UTF-8 (a non-ASCII key: "please answer ...").
        0x80.. => {
            while bytes.front().is_some_and(|c| (0x80..0xc0).contains(c)) {
                bytes.pop_front();
            }
            Key::Answer("?".into())
        }
        _ => Key::Ignore,
    })
}

impl Keys {
    /// One key press: `Some("d")`, `Some("")` for Enter, `None` to quit.
    fn read_key(&mut self) -> std::io::Result<Option<String>> {
        use rustix::event::{PollFd, PollFlags};
        let stdin = std::io::stdin();
        let raw = RawMode::enter()?;
        let tick = rustix::time::Timespec {
            tv_sec: 0,
            tv_nsec: 200_000_000,
        };
        let key = loop {
            if let Some(k) = take_key(&mut self.ahead) {
                match k {
                    Key::Answer(a) => break Some(a),
                    Key::Quit => break None,
                    Key::Ignore => continue,
                }
            }
            let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
            match rustix::event::poll(&mut fds, Some(&tick)) {
                Ok(0) | Err(rustix::io::Errno::INTR) => continue,
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
            let ready = fds[0].revents();
            if !ready.contains(PollFlags::IN) {
                // Hang-up or error without input: the terminal is gone.
                break None;
            }
            let mut buf = [0u8; 64];
            match rustix::io::read(&stdin, &mut buf) {
                // End of input: the terminal is gone.
                Ok(0) => break None,
                Ok(n) => self.ahead.extend(&buf[..n]),
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
                Err(e) => return Err(e.into()),
            }
        };
        drop(raw);
        let mut out = std::io::stdout().lock();
        // The key as typed, then the end of the prompt's line.
        writeln!(out, "{}", key.as_deref().unwrap_or("q"))?;
        out.flush()?;
        Ok(key)
    }
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
            self.line = match self.read_key()? {
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
        let _signals = Signals::start().context("failed to catch termination signals")?;
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

    fn keys_of(bytes: &[u8]) -> Vec<Key> {
        let mut q: std::collections::VecDeque<u8> = bytes.iter().copied().collect();
        std::iter::from_fn(|| take_key(&mut q)).collect()
    }

    #[test]
    fn bytes_typed_at_the_prompt_become_keys() {
        let a = |s: &str| Key::Answer(s.into());
        assert_eq!(keys_of(b"n"), [a("n")]);
        assert_eq!(keys_of(b"\r"), [a("")]);
        assert_eq!(keys_of(b"\n"), [a("")]);
        // Typed ahead: each key in turn.
        assert_eq!(keys_of(b"nd"), [a("n"), a("d")]);
        assert_eq!(keys_of(b"\x03"), [Key::Quit]);
        assert_eq!(keys_of(b"\x04"), [Key::Quit]);
        // Esc alone quits; an arrow key (ESC [ A), F5 (ESC [ 1 5 ~) or Alt+x does not.
        assert_eq!(keys_of(b"\x1b"), [Key::Quit]);
        assert_eq!(keys_of(b"\x1b[A"), [Key::Ignore]);
        assert_eq!(keys_of(b"\x1b[15~d"), [Key::Ignore, a("d")]);
        assert_eq!(keys_of(b"\x1bOPq"), [Key::Ignore, a("q")]);
        assert_eq!(keys_of(b"\x1bx"), [Key::Ignore]);
        // A non-ASCII key is one answer that the flow does not know, not one per byte.
        assert_eq!(keys_of("é".as_bytes()), [a("?")]);
        assert_eq!(keys_of(b"\x7f"), [Key::Ignore]);
    }
}
