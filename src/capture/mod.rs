//! Packet capture and microsecond burst analysis (`dpuctl capture`).
//!
//! [`reader`] walks pcap and pcapng files without copying; [`decode`] finds each packet's
//! flow; [`analyze`] bins, detects bursts (with the definition `dpuctl watch` uses,
//! [`crate::monitor::microburst`]), and gathers inter-arrival statistics, flows and TCP hints
//! in one pass; [`report`] renders the results; [`live`] captures through libpcap.

pub mod analyze;
pub mod decode;
pub mod hash;
pub mod live;
pub mod reader;
pub mod report;
pub mod write;

use serde::Serialize;

pub use analyze::{Analysis, Analyzer, Options};
pub use reader::{Format, Packet, ReadError, Reader, ReaderState, Stream};

/// Line rate assumed for files when neither `--line-rate` nor the file says (pcapng
/// `if_speed`): 10 Gbit/s, the most common server port below the GPU fabric.
pub const DEFAULT_LINE_RATE_BPS: u64 = 10_000_000_000;

/// Where the line rate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RateSource {
    /// `--line-rate`.
    Flag,
    /// The file's `if_speed` option.
    File,
    /// The link speed of the capture interface.
    Interface,
    /// [`DEFAULT_LINE_RATE_BPS`].
    Default,
}

impl RateSource {
    /// For the text output.
    pub fn note(self) -> &'static str {
        match self {
            Self::Flag => "--line-rate",
            Self::File => "if_speed of the file",
            Self::Interface => "link speed of the interface",
            Self::Default => "assumed; set --line-rate",
        }
    }
}

/// Results of reading and analyzing one capture file.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// File format.
    pub format: Format,
    /// What the packets read show.
    pub analysis: Analysis,
    /// Where the line rate came from.
    pub rate_source: RateSource,
    /// The error that stopped reading early, if any (the analysis covers what came before).
    pub error: Option<ReadError>,
}

/// The bytes of a capture: in memory, or read from a file in windows ([`Stream`]).
#[derive(Debug)]
pub enum Input<'a> {
    /// All of it, in memory.
    Bytes(&'a [u8]),
    /// A file read as it is analyzed.
    Stream(Stream),
}

impl Input<'_> {
    fn window(&self) -> &[u8] {
        match self {
            Self::Bytes(b) => b,
            Self::Stream(s) => s.window(),
        }
    }

    fn more(&self) -> bool {
        matches!(self, Self::Stream(s) if s.more())
    }

    fn total(&self) -> usize {
        match self {
            Self::Bytes(b) => b.len(),
            Self::Stream(s) => s.size() as usize,
        }
    }

    fn start(&mut self) -> Result<ReaderState, ReadError> {
        match self {
            Self::Bytes(b) => Reader::new(b).map(Reader::state),
            Self::Stream(s) => s.start(),
        }
    }

    /// The next window after `state` stopped at the end of this one.
    fn refill(&mut self, state: &mut ReaderState) -> Result<(), ReadError> {
        let Self::Stream(s) = self else {
            return Ok(());
        };
        let consumed = state.consumed();
        s.refill(consumed).map_err(|e| ReadError::Io {
            offset: s.base() + s.window().len() as u64,
            why: e.to_string(),
        })?;
        state.moved(s.base());
        Ok(())
    }
}

/// One input being read: its bytes and where its reader stands.
struct Src<'a> {
    input: Input<'a>,
    state: Option<ReaderState>,
}

impl Src<'_> {
    fn state(&mut self) -> ReaderState {
        self.state.take().unwrap_or_else(ReaderState::finished)
    }

    /// The next packet, copied into `out`; `Ok(false)` at the end.
    fn next_into(&mut self, out: &mut Owned) -> Result<bool, ReadError> {
        loop {
            let st = self.state();
            let mut r = Reader::resume(self.input.window(), st, self.input.more());
            let res = r.next_packet();
            if let Ok(Some(p)) = &res {
                out.fill(p);
            }
            let starved = r.starved();
            let got = matches!(res, Ok(Some(_)));
            let mut st = r.state();
            if starved {
                let refilled = self.input.refill(&mut st);
                self.state = Some(st);
                refilled?;
                continue;
            }
            self.state = Some(st);
            return res.map(|_| got);
        }
    }

    /// Feeds the rest of the input to `an` ([`walk`] over each window). Returns the fault
    /// that ended it early, if any.
    fn walk(&mut self, an: &mut Analyzer, mut progress: impl FnMut(usize)) -> Option<ReadError> {
        loop {
            let st = self.state();
            let mut r = Reader::resume(self.input.window(), st, self.input.more());
            let err = walk(&mut r, an, &mut progress);
            let starved = r.starved();
            let mut st = r.state();
            if err.is_some() || !starved {
                self.state = Some(st);
                return err;
            }
            let refilled = self.input.refill(&mut st);
            self.state = Some(st);
            if let Err(e) = refilled {
                return Some(e);
            }
        }
    }

    fn position(&self) -> usize {
        self.state.as_ref().map_or(0, ReaderState::position)
    }
}

/// A packet copied out of its window, for the merge (which holds one packet of each file
/// while it reads the others).
#[derive(Debug, Default)]
struct Owned {
    ts_ns: u64,
    origlen: u32,
    data: Vec<u8>,
    linktype: u16,
    iface: u32,
}

impl Owned {
    fn fill(&mut self, p: &Packet<'_>) {
        self.ts_ns = p.ts_ns;
        self.origlen = p.origlen;
        self.data.clear();
        self.data.extend_from_slice(p.data);
        self.linktype = p.linktype;
        self.iface = p.iface;
    }

    fn packet(&self) -> Packet<'_> {
        Packet {
            ts_ns: self.ts_ns,
            origlen: self.origlen,
            data: &self.data,
            linktype: self.linktype,
            iface: self.iface,
        }
    }
}

/// Analyzes the bytes of a capture file. `line_rate` is `--line-rate` if given; else the
/// file's `if_speed`, else `iface_rate` (the link speed of the interface the capture is known
/// to be from), else [`DEFAULT_LINE_RATE_BPS`]; `make` builds the options from the line rate
/// decided. `progress(done, total)` is called every
/// 64Ki packets. Only an unreadable file header is an `Err`; later faults end the analysis
/// and come back in [`FileResult::error`].
pub fn analyze_bytes(
    buf: &[u8],
    line_rate: Option<u64>,
    iface_rate: Option<u64>,
    make: impl FnOnce(u64) -> Options,
    progress: impl FnMut(usize, usize),
) -> Result<FileResult, ReadError> {
    analyze_input(Input::Bytes(buf), line_rate, iface_rate, make, progress)
}

/// [`analyze_bytes`] of any [`Input`]: a capture file is analyzed as a [`Stream`].
pub fn analyze_input(
    input: Input<'_>,
    line_rate: Option<u64>,
    iface_rate: Option<u64>,
    make: impl FnOnce(u64) -> Options,
    progress: impl FnMut(usize, usize),
) -> Result<FileResult, ReadError> {
    let m =
        analyze_inputs(vec![input], line_rate, iface_rate, make, progress).map_err(|(_, e)| e)?;
    Ok(FileResult {
        format: m.formats[0],
        analysis: m.analysis,
        rate_source: m.rate_source,
        error: m.errors.into_iter().next().map(|(_, e)| e),
    })
}

/// Feeds the rest of `r` to `an`: the hot loop, kept in a small function of its own so that
/// the per-packet work is inlined into it. `progress(position)` every 64Ki packets. Returns
/// the fault that ended the file early, if any.
#[inline(never)]
fn walk(
    r: &mut Reader<'_>,
    an: &mut Analyzer,
    mut progress: impl FnMut(usize),
) -> Option<ReadError> {
    let mut n = 0u32;
    loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                an.push(&p);
                n += 1;
                if n == 1 << 16 {
                    n = 0;
                    progress(r.position());
                }
            }
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
}

/// One packet of the merge loop, in a function of its own so that the per-packet work is
/// inlined into [`walk`] and here, not called from a large function.
#[inline(never)]
fn push_one(an: &mut Analyzer, p: &Packet<'_>) {
    an.push(p);
}

/// Results of analyzing several capture files as one stream.
#[derive(Debug, Clone)]
pub struct MergedResult {
    /// Format of each file, in the order given.
    pub formats: Vec<Format>,
    /// What the packets of all files show.
    pub analysis: Analysis,
    /// Where the line rate came from.
    pub rate_source: RateSource,
    /// Faults that ended a file's packets early, with the file's index; the other files
    /// were read to their end.
    pub errors: Vec<(usize, ReadError)>,
}

/// Analyzes several capture files as one stream in time order: rotated files of one capture
/// (`tcpdump -C`/`-G`), or captures of one link taken side by side. Packets are merged by
/// timestamp across the files (ties in file order), so a burst that spans a rotation is one
/// burst. The line rate is chosen as in [`analyze_bytes`], from the first file that has an
/// `if_speed`. A file whose header cannot be read is an `Err` with its index.
pub fn analyze_merged(
    bufs: &[&[u8]],
    line_rate: Option<u64>,
    iface_rate: Option<u64>,
    make: impl FnOnce(u64) -> Options,
    progress: impl FnMut(usize, usize),
) -> Result<MergedResult, (usize, ReadError)> {
    let inputs = bufs.iter().map(|b| Input::Bytes(b)).collect();
    analyze_inputs(inputs, line_rate, iface_rate, make, progress)
}

/// [`analyze_merged`] of any [`Input`]s.
pub fn analyze_inputs(
    inputs: Vec<Input<'_>>,
    line_rate: Option<u64>,
    iface_rate: Option<u64>,
    make: impl FnOnce(u64) -> Options,
    mut progress: impl FnMut(usize, usize),
) -> Result<MergedResult, (usize, ReadError)> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut srcs = Vec::with_capacity(inputs.len());
    for (i, mut input) in inputs.into_iter().enumerate() {
        let state = input.start().map_err(|e| (i, e))?;
        srcs.push(Src {
            input,
            state: Some(state),
        });
    }
    let formats: Vec<Format> = srcs
        .iter()
        .map(|s| s.state.as_ref().map_or(Format::Pcap, ReaderState::format))
        .collect();
    let (rate, rate_source) = if let Some(v) = line_rate {
        (v, RateSource::Flag)
    } else {
        // pcapng interfaces are described before their packets: reading the first packet
        // on a copy of the reader (within the first window) has parsed them.
        let file_speed = srcs.iter().find_map(|s| {
            let st = s.state.clone()?;
            let mut peek = Reader::resume(s.input.window(), st, s.input.more());
            let _ = peek.next_packet();
            peek.speed_bps().filter(|&v| v > 0)
        });
        match (file_speed, iface_rate) {
            (Some(s), _) => (s, RateSource::File),
            (None, Some(s)) => (s, RateSource::Interface),
            (None, None) => (DEFAULT_LINE_RATE_BPS, RateSource::Default),
        }
    };
    let mut an = Analyzer::new(make(rate));
    let total: usize = srcs.iter().map(|s| s.input.total()).sum();
    let mut errors = Vec::new();
    let mut n = 0u32;
    // The head packet of each file, and a heap of (timestamp, file) over the heads.
    let mut heads: Vec<Owned> = srcs.iter().map(|_| Owned::default()).collect();
    let mut heap = BinaryHeap::new();
    let mut live = vec![false; srcs.len()];
    if srcs.len() > 1 {
        for (i, s) in srcs.iter_mut().enumerate() {
            match s.next_into(&mut heads[i]) {
                Ok(true) => {
                    heap.push(Reverse((heads[i].ts_ns, i)));
                    live[i] = true;
                }
                Ok(false) => {}
                Err(e) => errors.push((i, e)),
            }
        }
    }
    while heap.len() > 1 {
        let Some(Reverse((_, i))) = heap.pop() else {
            break;
        };
        push_one(&mut an, &heads[i].packet());
        live[i] = false;
        n += 1;
        if n == 1 << 16 {
            n = 0;
            progress(srcs.iter().map(Src::position).sum(), total);
        }
        match srcs[i].next_into(&mut heads[i]) {
            Ok(true) => {
                heap.push(Reverse((heads[i].ts_ns, i)));
                live[i] = true;
            }
            Ok(false) => {}
            Err(e) => errors.push((i, e)),
        }
    }
    // One file left (the only one, usually): no merging, the plain walk of the hot path.
    let last = if srcs.len() == 1 {
        Some(0)
    } else {
        heap.pop().map(|Reverse((_, i))| i)
    };
    if let Some(i) = last {
        if live[i] {
            push_one(&mut an, &heads[i].packet());
        }
        let others: usize = srcs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, s)| s.position())
            .sum();
        if let Some(e) = srcs[i].walk(&mut an, |done| progress(others + done, total)) {
            errors.push((i, e));
        }
    }
    errors.sort_by_key(|(i, _)| *i);
    Ok(MergedResult {
        formats,
        analysis: an.finish(),
        rate_source,
        errors,
    })
}
