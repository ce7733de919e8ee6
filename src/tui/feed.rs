//! Where views come from: the live engine fed by the sampler, a recording, or (in tests) a
//! list of views. The app only knows this trait, so the source is swapped in one place.

use std::collections::VecDeque;

use crate::monitor::View;

pub use crate::monitor::sampler::Batch;

/// A source of views for the screen.
pub trait Feed {
    /// Takes a batch of samples from the sampler thread (live feeds; others ignore it).
    fn ingest(&mut self, batch: Batch);
    /// One refresh period passed. Returns the view to show, if there is a new one. A live
    /// feed computes rates even while `paused` (the screen just keeps the old view); a
    /// recording stops its clock while paused.
    fn tick(&mut self, paused: bool) -> Option<View>;
    /// Forgets rates, bursts and alerts so far (the `r` key).
    fn reset(&mut self);
    /// True when no more views will come (the end of a recording).
    fn finished(&self) -> bool;
    /// Writes the samples of the last minutes (the flight recorder) to a recording file;
    /// returns what to tell the user, or why nothing was written.
    fn save_history(&mut self) -> Result<String, String> {
        Err("this source keeps no history to save".into())
    }
    /// A problem to show once (a recording that cannot be written or read on).
    fn take_error(&mut self) -> Option<String> {
        None
    }
    /// What the header says about the source ("live, sample 1ms", "replay FILE 12.0/60.0 s").
    fn describe(&self) -> String;
}

/// A fixed list of views, one per tick: for tests and demos of the screens.
#[derive(Debug, Clone, Default)]
pub struct ScriptedFeed {
    views: VecDeque<View>,
    shown: usize,
    total: usize,
    resets: usize,
}

impl ScriptedFeed {
    /// A feed that hands out `views` in order, one per tick, then finishes.
    pub fn new(views: Vec<View>) -> Self {
        let total = views.len();
        Self {
            views: views.into(),
            shown: 0,
            total,
            resets: 0,
        }
    }

    /// How many times [`Feed::reset`] was called.
    pub fn resets(&self) -> usize {
        self.resets
    }
}

impl Feed for ScriptedFeed {
    fn ingest(&mut self, _batch: Batch) {}

    fn tick(&mut self, paused: bool) -> Option<View> {
        if paused {
            return None;
        }
        let v = self.views.pop_front()?;
        self.shown += 1;
        Some(v)
    }

    fn reset(&mut self) {
        self.resets += 1;
    }

    fn finished(&self) -> bool {
        self.views.is_empty()
    }

    fn describe(&self) -> String {
        format!("script {}/{}", self.shown, self.total)
    }
}
