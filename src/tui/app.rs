//! Screen state and how events change it. [`App::update`] does no I/O and reads no clock:
//! keys, ticks and samples in, state out, so the whole behaviour is tested on plain data.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::event::Event;
use super::feed::Feed;
use super::Exit;
use crate::monitor::{IfaceView, View};

/// Which screen is shown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mode {
    /// All interfaces in a table, with the charts, bursts and alerts of the selected one.
    #[default]
    Overview,
    /// One interface: its queues, counter classes and charts.
    Zoom(String),
}

/// Column the interface table is sorted by (`s` cycles through them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Interface index (the kernel's order).
    #[default]
    Index,
    /// Name, ascending.
    Name,
    /// Received bits per second, highest first.
    RxBps,
    /// Transmitted bits per second, highest first.
    TxBps,
    /// Received packets per second, highest first.
    RxPps,
    /// Transmitted packets per second, highest first.
    TxPps,
    /// Higher of rx and tx utilization, highest first.
    Util,
    /// All drop and error rates summed, highest first.
    Drops,
    /// Bursts so far (rx + tx), most first.
    Bursts,
}

impl SortKey {
    /// The next key in the cycle.
    pub fn next(self) -> Self {
        match self {
            Self::Index => Self::Name,
            Self::Name => Self::RxBps,
            Self::RxBps => Self::TxBps,
            Self::TxBps => Self::RxPps,
            Self::RxPps => Self::TxPps,
            Self::TxPps => Self::Util,
            Self::Util => Self::Drops,
            Self::Drops => Self::Bursts,
            Self::Bursts => Self::Index,
        }
    }

    /// How the header names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Index => "ifindex",
            Self::Name => "name",
            Self::RxBps => "rx bps",
            Self::TxBps => "tx bps",
            Self::RxPps => "rx pps",
            Self::TxPps => "tx pps",
            Self::Util => "util",
            Self::Drops => "drops",
            Self::Bursts => "bursts",
        }
    }

    /// The number a row is sorted by (higher first), or `None` for the keys sorted otherwise.
    fn metric(self, i: &IfaceView) -> Option<f64> {
        let r = &i.rates;
        Some(match self {
            Self::Index | Self::Name => return None,
            Self::RxBps => r.rx_bps,
            Self::TxBps => r.tx_bps,
            Self::RxPps => r.rx_pps,
            Self::TxPps => r.tx_pps,
            Self::Util => r.rx_util.unwrap_or(0.0).max(r.tx_util.unwrap_or(0.0)),
            Self::Drops => drops_per_sec(i),
            Self::Bursts => (i.rx_bursts.count + i.tx_bursts.count) as f64,
        })
    }
}

/// All drop and error rates of an interface summed, per second.
pub fn drops_per_sec(i: &IfaceView) -> f64 {
    let r = &i.rates;
    r.rx_missed + r.rx_fifo + r.rx_crc + r.rx_dropped + r.rx_over + r.tx_dropped + r.tx_timeout
}

/// Everything the renderers read. Plain data: tests build it by hand to render frames.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// The view shown (frozen while paused).
    pub view: View,
    /// What the header says about the source.
    pub source: String,
    /// Which screen.
    pub mode: Mode,
    /// The help overlay is open.
    pub help: bool,
    /// The display is frozen (a recording also stops its clock).
    pub paused: bool,
    /// Sort column of the interface table.
    pub sort: SortKey,
    /// Only interfaces whose name contains this are listed.
    pub filter: String,
    /// Keys go to the filter (after `/`, until Enter or Esc).
    pub editing_filter: bool,
    /// The selected interface, by name (names survive reordering; indexes do not).
    pub selected: Option<String>,
    /// The source has no more views (end of a recording).
    pub finished: bool,
    /// The sampler failed with this message.
    pub error: Option<String>,
}

impl State {
    /// The interfaces the table lists: filtered, then sorted.
    pub fn rows(&self) -> Vec<&IfaceView> {
        let mut rows: Vec<&IfaceView> = self
            .view
            .ifaces
            .iter()
            .filter(|i| self.filter.is_empty() || i.name.contains(&self.filter))
            .collect();
        match self.sort {
            SortKey::Index => rows.sort_by_key(|i| i.ifindex),
            SortKey::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
            key => rows.sort_by(|a, b| {
                let (x, y) = (key.metric(a), key.metric(b));
                // Highest first; ties keep the kernel's order so rows do not jump around.
                y.partial_cmp(&x)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.ifindex.cmp(&b.ifindex))
            }),
        }
        rows
    }

    /// Position of the selected interface in [`State::rows`].
    pub fn selected_index(&self) -> Option<usize> {
        let name = self.selected.as_deref()?;
        self.rows().iter().position(|i| i.name == name)
    }

    /// The selected interface, if it is listed.
    pub fn selected_iface(&self) -> Option<&IfaceView> {
        let name = self.selected.as_deref()?;
        self.rows().into_iter().find(|i| i.name == name)
    }

    /// The interface of the zoom screen (it may have vanished from the view after a reset).
    pub fn zoomed(&self) -> Option<&IfaceView> {
        match &self.mode {
            Mode::Zoom(name) => self.view.ifaces.iter().find(|i| &i.name == name),
            Mode::Overview => None,
        }
    }

    /// Keeps the selection on a listed interface: the first one when it is not.
    fn fix_selection(&mut self) {
        if self.selected_index().is_none() {
            self.selected = self.rows().first().map(|i| i.name.clone());
        }
    }

    /// Moves the selection by `delta` rows, staying inside the table.
    fn move_selection(&mut self, delta: isize) {
        let rows = self.rows();
        if rows.is_empty() {
            return;
        }
        let cur = self.selected_index().unwrap_or(0) as isize;
        let next = (cur + delta).clamp(0, rows.len() as isize - 1) as usize;
        self.selected = Some(rows[next].name.clone());
    }
}

/// The screen's state and its source of views.
#[derive(Debug)]
pub struct App<F> {
    feed: F,
    state: State,
    exit: Option<Exit>,
}

impl<F: Feed> App<F> {
    /// A screen on `feed`, showing nothing until the first tick.
    pub fn new(feed: F) -> Self {
        let source = feed.describe();
        Self {
            feed,
            state: State {
                source,
                ..State::default()
            },
            exit: None,
        }
    }

    /// What the renderers read.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The source of views.
    pub fn feed(&self) -> &F {
        &self.feed
    }

    /// Set once the screen must end.
    pub fn exit(&self) -> Option<Exit> {
        self.exit
    }

    /// Applies one event; true when the screen must be redrawn.
    pub fn update(&mut self, ev: Event) -> bool {
        match ev {
            Event::Samples(batch) => {
                // Samples change nothing visible until the next tick.
                self.feed.ingest(batch);
                false
            }
            Event::Tick => {
                let was_finished = self.state.finished;
                let new = self.feed.tick(self.state.paused);
                let changed = new.is_some();
                if let Some(v) = new {
                    if !self.state.paused {
                        self.state.view = v;
                    }
                }
                self.state.finished = self.feed.finished();
                self.state.source = self.feed.describe();
                self.state.fix_selection();
                changed || was_finished != self.state.finished
            }
            Event::Key(k) => {
                self.key(k);
                true
            }
            Event::Resize(..) => true,
            Event::Signal(sig) => {
                self.exit = Some(Exit::Signal(sig));
                false
            }
            Event::SamplerError(msg) => {
                self.state.error = Some(msg);
                true
            }
        }
    }

    fn key(&mut self, k: KeyEvent) {
        if k.kind == KeyEventKind::Release {
            return;
        }
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(k.code, KeyCode::Char('c' | 'C')) {
            self.exit = Some(Exit::Quit);
            return;
        }
        let s = &mut self.state;
        if s.editing_filter {
            match k.code {
                KeyCode::Enter => s.editing_filter = false,
                KeyCode::Esc => {
                    s.editing_filter = false;
                    s.filter.clear();
                }
                KeyCode::Backspace => {
                    s.filter.pop();
                }
                KeyCode::Char(c) if !ctrl => s.filter.push(c),
                _ => {}
            }
            s.fix_selection();
            return;
        }
        if s.help {
            match k.code {
                KeyCode::Char('q') => self.exit = Some(Exit::Quit),
                KeyCode::Char('?' | 'h') | KeyCode::Esc => s.help = false,
                _ => {}
            }
            return;
        }
        match k.code {
            KeyCode::Char('q') => self.exit = Some(Exit::Quit),
            KeyCode::Char('?' | 'h') => s.help = true,
            KeyCode::Char(' ' | 'p') => s.paused = !s.paused,
            KeyCode::Char('s') => {
                s.sort = s.sort.next();
            }
            KeyCode::Char('/') => s.editing_filter = true,
            KeyCode::Char('r') => {
                self.feed.reset();
                clear_history(&mut s.view);
            }
            KeyCode::Enter => {
                if let Some(name) = &s.selected {
                    s.mode = Mode::Zoom(name.clone());
                }
            }
            KeyCode::Esc => {
                if s.mode == Mode::Overview {
                    s.filter.clear();
                } else {
                    s.mode = Mode::Overview;
                }
            }
            KeyCode::Up | KeyCode::Char('k') => s.move_selection(-1),
            KeyCode::Down | KeyCode::Char('j') => s.move_selection(1),
            KeyCode::Home | KeyCode::Char('g') => s.move_selection(isize::MIN / 2),
            KeyCode::End | KeyCode::Char('G') => s.move_selection(isize::MAX / 2),
            _ => {}
        }
        // In the zoom screen the selection keys walk through the interfaces.
        if let (Mode::Zoom(z), Some(sel)) = (&s.mode, &s.selected) {
            if z != sel {
                s.mode = Mode::Zoom(sel.clone());
            }
        }
        s.fix_selection();
    }
}

/// What `r` clears on screen at once (the feed forgets it too; rows stay until the next
/// view so the screen does not blink empty).
fn clear_history(v: &mut View) {
    v.alerts.clear();
    for i in &mut v.ifaces {
        i.history.clear();
        i.recent_bursts.clear();
        i.rx_bursts = crate::monitor::BurstSummary::default();
        i.tx_bursts = crate::monitor::BurstSummary::default();
    }
}
