//! The `dpuctl watch` screen.
//!
//! One [`event::Event`] enum travels down one channel: sample batches from the sampler
//! thread, keys and resizes from the terminal, refresh ticks, signals and sampler errors. The
//! loop ([`run`]) owns the [`app::App`] and feeds it every event; [`app::App::update`] is pure
//! (no I/O, no clock), so every key and every refresh is tested on plain data. Rendering
//! ([`ui::draw`]) is a pure function of [`app::State`], one file per widget under
//! [`widgets`]. Where the views come from (the live engine or a recording) hides behind
//! [`feed::Feed`]. [`term`] puts the terminal into raw mode and the alternate screen and always
//! restores it: on quit, on a signal, on an error and on a panic.

pub mod app;
pub mod event;
pub mod feed;
pub mod sources;
pub mod term;
pub mod ui;
pub mod widgets;

use std::sync::mpsc::Receiver;

use anyhow::Context;

use self::app::App;
use self::event::Event;
use self::feed::Feed;

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The user quit (q, Ctrl-C) or every event source went away.
    Quit,
    /// A signal ended the screen (its number).
    Signal(i32),
}

/// Runs the screen until the user quits or a signal arrives: receives events, updates the
/// app, redraws when something visible changed. The terminal stays as the caller set it up.
pub fn run<B, F>(
    terminal: &mut ratatui::Terminal<B>,
    app: &mut App<F>,
    events: &Receiver<Event>,
) -> anyhow::Result<Exit>
where
    B: ratatui::backend::Backend,
    B::Error: std::error::Error + Send + Sync + 'static,
    F: Feed,
{
    terminal
        .draw(|f| ui::draw(f, app.state()))
        .context("failed to draw the screen")?;
    while let Ok(ev) = events.recv() {
        let redraw = app.update(ev);
        if let Some(exit) = app.exit() {
            return Ok(exit);
        }
        if redraw {
            terminal
                .draw(|f| ui::draw(f, app.state()))
                .context("failed to draw the screen")?;
        }
    }
    Ok(Exit::Quit)
}
