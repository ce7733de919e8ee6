//! `dpuctl watch`: the live triage screen, on this node or on a recording.

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;

use crate::cli::{GlobalArgs, WatchArgs};
use crate::monitor::config;
use crate::monitor::engine::Engine;
use crate::monitor::record::{Header, Reader, Recorder};
use crate::monitor::sampler::{self, SamplerMsg};
use crate::sys::root::SysRoot;
use crate::tui::app::App;
use crate::tui::event::{self, Event};
use crate::tui::feed::Feed;
use crate::tui::sources::{self, LiveFeed, ReplayFeed};
use crate::tui::term::{self, Guard};
use crate::tui::Exit;

/// Runs `dpuctl watch`.
pub fn run(_global: &GlobalArgs, root: &SysRoot, args: &WatchArgs) -> anyhow::Result<ExitCode> {
    // Bad flags, config files and recordings are reported first, terminal or not.
    let settings = config::settings(&super::monitor_options(&args.monitor), root)?;
    let refresh = settings.refresh;
    let extent = args.replay.as_deref().map(sources::scan).transpose()?;
    if !term::is_terminal() {
        anyhow::bail!(
            "dpuctl watch needs a terminal (stdout is not a tty); \
             use `dpuctl stats` for the same rates, bursts and alerts as text or JSON lines"
        );
    }
    let (tx, rx) = mpsc::channel();
    if let (Some(path), Some(extent)) = (&args.replay, extent) {
        let reader = Reader::open(path)?;
        let step = (refresh.as_nanos() as f64 * args.speed) as u64;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let feed = ReplayFeed::new(Engine::new(settings.engine), reader, extent, step, name)?;
        let mut app = App::new(feed);
        return screen(&mut app, &tx, &rx, refresh);
    }
    let mut scfg = settings.sampler;
    scfg.ifaces.clone_from(&args.ifaces);
    let interval_ns = scfg.interval_ns;
    let host = crate::sys::procfs::hostname(root).unwrap_or_default();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let origin = Header::new(host.trim(), &args.ifaces, now_ms, interval_ns);
    let stx = tx.clone();
    let sampler = sampler::spawn(scfg, move |msg| {
        let ev = match msg {
            SamplerMsg::Batch(b) => Event::Samples(b),
            SamplerMsg::Error(e) => Event::SamplerError(e.to_string()),
        };
        stx.send(ev).is_ok()
    })
    .context("failed to start the sampler")?;
    // After the sampler: a missing interface leaves no empty recording behind. Samples wait
    // in the channel meanwhile.
    let recorder = match &settings.record {
        Some(path) => Some(Recorder::create(path, &origin)?),
        None => None,
    };
    // What actually runs: with `--source auto` the eBPF source may have fallen back.
    let label = match sampler.bin_ns {
        Some(bin) => format!(
            "live, eBPF bins {}, refresh {}",
            short_duration(bin),
            short_duration(refresh.as_nanos() as u64)
        ),
        None => format!(
            "live, sample {}, refresh {}",
            short_duration(interval_ns),
            short_duration(refresh.as_nanos() as u64)
        ),
    };
    let feed = LiveFeed::new(
        Engine::new(settings.engine),
        recorder,
        label,
        origin,
        std::path::PathBuf::from("."),
    );
    let mut app = App::new(feed);
    let code = screen(&mut app, &tx, &rx, refresh);
    sampler.join();
    // Samples still in the channel belong in the recording too.
    while let Ok(ev) = rx.try_recv() {
        if let Event::Samples(_) = ev {
            app.update(ev);
        }
    }
    app.feed_mut()
        .finish()
        .context("failed to finish the recording")?;
    code
}

/// Opens the screen, runs the loop, restores the terminal, and turns the end into an exit
/// code (128 + the signal's number when a signal ended it, as shells report).
fn screen<F: Feed>(
    app: &mut App<F>,
    tx: &mpsc::Sender<Event>,
    rx: &mpsc::Receiver<Event>,
    refresh: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    // Signals first: from here on SIGTERM/SIGINT/SIGHUP become events, never a dead process
    // with the terminal in raw mode.
    event::spawn_signals(tx.clone()).context("failed to install the signal handlers")?;
    let mut guard = Guard::enter().context("failed to set up the terminal")?;
    event::spawn_input(tx.clone()).context("failed to start the input thread")?;
    event::spawn_ticker(tx.clone(), refresh).context("failed to start the refresh timer")?;
    let exit = crate::tui::run(guard.terminal(), app, rx);
    drop(guard);
    Ok(match exit? {
        Exit::Quit => ExitCode::SUCCESS,
        Exit::Signal(sig) => ExitCode::from((128 + sig).clamp(0, 255) as u8),
    })
}

/// A flag-like duration: "1ms", "100us", "250ms", "1.5s".
fn short_duration(ns: u64) -> String {
    if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) && ns < 10_000_000_000 {
        format!("{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) && ns < 10_000_000 {
        format!("{}us", ns / 1_000)
    } else {
        crate::monitor::microburst::fmt_duration(ns)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_like_the_flags() {
        assert_eq!(super::short_duration(1_000_000), "1ms");
        assert_eq!(super::short_duration(250_000_000), "250ms");
        assert_eq!(super::short_duration(100_000), "100us");
        assert_eq!(super::short_duration(2_000_000_000), "2s");
        assert_eq!(super::short_duration(1_500_000_000), "1500ms");
    }
}
