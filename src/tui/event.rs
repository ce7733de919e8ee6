//! The one event type of the screen and the threads that produce it.
//!
//! Every source of change (the sampler, the terminal, the refresh ticker, signals) sends
//! [`Event`]s down one channel; the loop owns the app state and applies them in order, so no
//! state is shared between threads.

use std::sync::mpsc::Sender;
use std::time::Duration;

use crossterm::event::KeyEvent;

use super::feed::Batch;

/// Everything that can change the screen.
#[derive(Debug)]
pub enum Event {
    /// A batch of counter samples from the sampler thread.
    Samples(Batch),
    /// A key was pressed.
    Key(KeyEvent),
    /// The terminal was resized to (columns, rows).
    Resize(u16, u16),
    /// Time to refresh the screen (every `--refresh`).
    Tick,
    /// SIGTERM, SIGINT or SIGHUP arrived (its number).
    Signal(i32),
    /// The sampler failed (it stops; the screen stays with the last view).
    SamplerError(String),
}

/// Starts the thread that turns terminal input into [`Event::Key`] and [`Event::Resize`].
/// It ends when the receiver is gone or the terminal cannot be read.
pub fn spawn_input(tx: Sender<Event>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("watch-input".into())
        .spawn(move || loop {
            // Blocks without polling: no CPU while no key is pressed.
            let ev = match crossterm::event::read() {
                Ok(crossterm::event::Event::Key(k)) => Event::Key(k),
                Ok(crossterm::event::Event::Resize(w, h)) => Event::Resize(w, h),
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.send(ev).is_err() {
                return;
            }
        })
        .map(|_| ())
}

/// Starts the thread that sends [`Event::Tick`] every `period`.
pub fn spawn_ticker(tx: Sender<Event>, period: Duration) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("watch-tick".into())
        .spawn(move || {
            let start = std::time::Instant::now();
            let mut n: u32 = 0;
            loop {
                // Ticks on a fixed grid so a slow frame does not make the refresh drift.
                n = n.saturating_add(1);
                let due = start + period * n;
                if let Some(wait) = due.checked_duration_since(std::time::Instant::now()) {
                    std::thread::sleep(wait);
                }
                if tx.send(Event::Tick).is_err() {
                    return;
                }
            }
        })
        .map(|_| ())
}

/// Starts the thread that turns SIGTERM, SIGINT and SIGHUP into [`Event::Signal`], so the
/// loop ends normally and restores the terminal instead of dying with it in raw mode.
pub fn spawn_signals(tx: Sender<Event>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new()
        .name("watch-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if tx.send(Event::Signal(sig)).is_err() {
                    return;
                }
            }
        })
        .map(|_| ())
}
