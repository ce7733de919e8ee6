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
    #[must_use]
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
    /// The sort order is reversed (`S`): lowest first, or names and indexes descending.
    pub sort_reversed: bool,
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
    /// The outcome of the last command (saved history), until the next key.
    pub note: Option<String>,
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
        if self.sort_reversed {
            rows.reverse();
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

    /// The source of views, to finish it (flush a recording) after the screen.
    pub fn feed_mut(&mut self) -> &mut F {
        &mut self.feed
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
                if let Some(e) = self.feed.take_error() {
                    self.state.error = Some(e);
                }
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
                self.state.error = Some(format!("sampler stopped: {msg}"));
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
        s.note = None;
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
            KeyCode::Char('S') => s.sort_reversed = !s.sort_reversed,
            KeyCode::Char('/') => s.editing_filter = true,
            KeyCode::Char('r') => {
                self.feed.reset();
                clear_history(&mut s.view);
            }
            KeyCode::Char('w') => {
                s.note = Some(match self.feed.save_history() {
                    Ok(msg) => msg,
                    Err(why) => format!("not saved: {why}"),
                });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::IfaceRates;
    use crate::tui::feed::ScriptedFeed;

    fn iface(name: &str, ifindex: u32, rx_bps: f64, drops: f64) -> IfaceView {
        IfaceView {
            name: name.into(),
            ifindex,
            present: true,
            up: true,
            rates: IfaceRates {
                rx_bps,
                rx_dropped: drops,
                ..IfaceRates::default()
            },
            ..IfaceView::default()
        }
    }

    fn view(ifaces: Vec<IfaceView>) -> View {
        View {
            ifaces,
            ..View::default()
        }
    }

    fn three() -> View {
        view(vec![
            iface("eth0", 2, 10.0, 0.0),
            iface("eth1", 3, 30.0, 5.0),
            iface("ib0", 4, 20.0, 1.0),
        ])
    }

    fn key(c: char) -> Event {
        Event::Key(KeyEvent::from(KeyCode::Char(c)))
    }

    fn code(c: KeyCode) -> Event {
        Event::Key(KeyEvent::from(c))
    }

    fn app(views: Vec<View>) -> App<ScriptedFeed> {
        let mut a = App::new(ScriptedFeed::new(views));
        a.update(Event::Tick);
        a
    }

    fn names(a: &App<ScriptedFeed>) -> Vec<String> {
        a.state().rows().iter().map(|i| i.name.clone()).collect()
    }

    #[test]
    fn the_first_tick_shows_the_first_view_and_selects_the_first_row() {
        let a = app(vec![three()]);
        assert_eq!(names(&a), ["eth0", "eth1", "ib0"]);
        assert_eq!(a.state().selected.as_deref(), Some("eth0"));
        assert_eq!(a.state().source, "script 1/1");
    }

    #[test]
    fn s_cycles_the_sort_columns() {
        let mut a = app(vec![three()]);
        assert_eq!(a.state().sort, SortKey::Index);
        a.update(key('s'));
        assert_eq!(a.state().sort, SortKey::Name);
        a.update(key('s'));
        assert_eq!(a.state().sort, SortKey::RxBps);
        assert_eq!(names(&a), ["eth1", "ib0", "eth0"]);
        for _ in 0..5 {
            a.update(key('s'));
        }
        assert_eq!(a.state().sort, SortKey::Drops);
        assert_eq!(names(&a), ["eth1", "ib0", "eth0"]);
        a.update(key('s'));
        a.update(key('s'));
        assert_eq!(a.state().sort, SortKey::Index, "the cycle wraps");
    }

    #[test]
    fn the_selection_follows_the_interface_when_rows_reorder() {
        let mut a = app(vec![three()]);
        a.update(key('j'));
        assert_eq!(a.state().selected.as_deref(), Some("eth1"));
        a.update(key('s'));
        a.update(key('s')); // rx bps: eth1 first
        assert_eq!(a.state().selected_index(), Some(0));
        assert_eq!(a.state().selected.as_deref(), Some("eth1"));
        a.update(code(KeyCode::Down));
        a.update(code(KeyCode::Down));
        a.update(code(KeyCode::Down));
        assert_eq!(
            a.state().selected.as_deref(),
            Some("eth0"),
            "stops at the end"
        );
        a.update(key('k'));
        assert_eq!(a.state().selected.as_deref(), Some("ib0"));
        a.update(key('g'));
        assert_eq!(a.state().selected.as_deref(), Some("eth1"));
        a.update(key('G'));
        assert_eq!(a.state().selected.as_deref(), Some("eth0"));
    }

    #[test]
    fn capital_s_reverses_the_order_and_keeps_the_selection() {
        let mut a = app(vec![three()]);
        a.update(key('j'));
        a.update(key('s'));
        a.update(key('s')); // rx bps, highest first
        let highest_first = names(&a);
        a.update(key('S'));
        assert!(a.state().sort_reversed);
        let mut lowest_first = highest_first.clone();
        lowest_first.reverse();
        assert_eq!(names(&a), lowest_first);
        assert_eq!(a.state().selected.as_deref(), Some("eth1"));
        a.update(key('s'));
        assert!(
            a.state().sort_reversed,
            "the direction stays with the next column"
        );
        a.update(key('S'));
        assert!(!a.state().sort_reversed);
    }

    #[test]
    fn slash_filters_by_substring_until_enter_and_esc_clears() {
        let mut a = app(vec![three()]);
        a.update(key('/'));
        assert!(a.state().editing_filter);
        for c in "ethq".chars() {
            a.update(key(c));
        }
        assert!(a.exit().is_none(), "q while typing a filter is a letter");
        assert!(names(&a).is_empty());
        a.update(code(KeyCode::Backspace));
        a.update(key('1'));
        assert_eq!(a.state().filter, "eth1");
        assert_eq!(names(&a), ["eth1"]);
        assert_eq!(a.state().selected.as_deref(), Some("eth1"));
        a.update(code(KeyCode::Enter));
        assert!(!a.state().editing_filter);
        assert_eq!(a.state().filter, "eth1", "Enter keeps the filter");
        a.update(code(KeyCode::Esc));
        assert_eq!(a.state().filter, "");
        assert_eq!(names(&a).len(), 3);
        a.update(key('/'));
        a.update(key('i'));
        a.update(code(KeyCode::Esc));
        assert!(!a.state().editing_filter);
        assert_eq!(a.state().filter, "", "Esc while typing clears");
    }

    #[test]
    fn enter_zooms_into_the_selection_and_esc_goes_back() {
        let mut a = app(vec![three()]);
        a.update(key('j'));
        a.update(code(KeyCode::Enter));
        assert_eq!(a.state().mode, Mode::Zoom("eth1".into()));
        assert_eq!(a.state().zoomed().map(|i| i.ifindex), Some(3));
        a.update(key('j'));
        assert_eq!(
            a.state().mode,
            Mode::Zoom("ib0".into()),
            "j walks the interfaces"
        );
        a.update(code(KeyCode::Esc));
        assert_eq!(a.state().mode, Mode::Overview);
        assert_eq!(a.state().selected.as_deref(), Some("ib0"));
    }

    #[test]
    fn help_opens_closes_and_swallows_other_keys() {
        let mut a = app(vec![three()]);
        a.update(key('?'));
        assert!(a.state().help);
        a.update(key('s'));
        assert_eq!(
            a.state().sort,
            SortKey::Index,
            "keys under the help do nothing"
        );
        a.update(code(KeyCode::Esc));
        assert!(!a.state().help);
        a.update(key('h'));
        assert!(a.state().help);
        a.update(key('h'));
        assert!(!a.state().help);
    }

    #[test]
    fn pause_freezes_the_view_and_stops_a_scripted_clock() {
        let mut second = three();
        second.ifaces[0].rates.rx_bps = 99.0;
        let mut a = app(vec![three(), second]);
        a.update(key(' '));
        assert!(a.state().paused);
        a.update(Event::Tick);
        assert!((a.state().view.ifaces[0].rates.rx_bps - 10.0).abs() < 1e-9);
        assert_eq!(a.state().source, "script 1/2");
        a.update(key('p'));
        assert!(!a.state().paused);
        a.update(Event::Tick);
        assert!((a.state().view.ifaces[0].rates.rx_bps - 99.0).abs() < 1e-9);
        assert!(a.state().finished);
    }

    #[test]
    fn r_resets_the_feed_and_clears_bursts_and_alerts_on_screen() {
        let mut v = three();
        v.ifaces[1].rx_bursts.count = 4;
        v.ifaces[1]
            .history
            .push(crate::monitor::RatePoint::default());
        v.alerts.push(crate::monitor::Alert {
            t_ns: 1,
            wall_ms: 1,
            iface: "eth1".into(),
            metric: "rx_fifo_errors".into(),
            value: 200.0,
            limit: 100.0,
            message: "fifo".into(),
        });
        let mut a = app(vec![v]);
        a.update(key('r'));
        assert_eq!(a.feed().resets(), 1);
        assert!(a.state().view.alerts.is_empty());
        assert_eq!(a.state().view.ifaces[1].rx_bursts.count, 0);
        assert!(a.state().view.ifaces[1].history.is_empty());
        assert_eq!(a.state().view.ifaces.len(), 3, "rows stay");
    }

    #[test]
    fn w_saves_the_history_and_says_so_until_the_next_key() {
        let mut a = app(vec![three()]);
        a.update(key('w'));
        assert_eq!(
            a.state().note.as_deref(),
            Some("not saved: this source keeps no history to save")
        );
        a.update(key('j'));
        assert_eq!(a.state().note, None);
    }

    #[test]
    fn q_ctrl_c_and_signals_end_the_screen() {
        let mut a = app(vec![three()]);
        a.update(key('x'));
        assert_eq!(a.exit(), None);
        a.update(key('q'));
        assert_eq!(a.exit(), Some(Exit::Quit));
        let mut a = app(vec![three()]);
        a.update(Event::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        )));
        assert_eq!(a.exit(), Some(Exit::Quit));
        let mut a = app(vec![three()]);
        a.update(key('/'));
        a.update(Event::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        )));
        assert_eq!(
            a.exit(),
            Some(Exit::Quit),
            "Ctrl-C quits even in the filter"
        );
        let mut a = app(vec![three()]);
        a.update(Event::Signal(15));
        assert_eq!(a.exit(), Some(Exit::Signal(15)));
    }

    #[test]
    fn interfaces_that_vanish_keep_the_selection_valid() {
        let mut gone = three();
        gone.ifaces.remove(1);
        let mut a = app(vec![three(), gone]);
        a.update(key('j'));
        a.update(code(KeyCode::Enter));
        assert_eq!(a.state().selected.as_deref(), Some("eth1"));
        a.update(Event::Tick);
        assert_eq!(a.state().selected.as_deref(), Some("eth0"));
        assert!(
            a.state().zoomed().is_none(),
            "the zoom shows the interface is gone"
        );
        a.update(code(KeyCode::Esc));
        assert_eq!(a.state().mode, Mode::Overview);
    }

    #[test]
    fn samples_do_not_redraw_and_errors_do() {
        let mut a = app(vec![three()]);
        assert!(!a.update(Event::Samples(crate::tui::feed::Batch::default())));
        assert!(a.update(Event::SamplerError("netlink: gone".into())));
        assert_eq!(
            a.state().error.as_deref(),
            Some("sampler stopped: netlink: gone")
        );
        assert!(a.update(Event::Resize(80, 24)));
        assert!(!a.update(Event::Tick), "a finished script has nothing new");
    }
}
