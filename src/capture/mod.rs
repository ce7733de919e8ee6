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
pub use reader::{Format, Packet, ReadError, Reader};

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
    let m = analyze_merged(&[buf], line_rate, iface_rate, make, progress).map_err(|(_, e)| e)?;
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
    mut progress: impl FnMut(usize, usize),
) -> Result<MergedResult, (usize, ReadError)> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut readers = Vec::with_capacity(bufs.len());
    for (i, b) in bufs.iter().enumerate() {
        readers.push(Reader::new(b).map_err(|e| (i, e))?);
    }
    let formats: Vec<Format> = readers.iter().map(Reader::format).collect();
    let (rate, rate_source) = if let Some(v) = line_rate {
        (v, RateSource::Flag)
    } else {
        // pcapng interfaces are described before their packets: reading the first packet
        // on a copy of the reader has parsed them.
        let file_speed = readers.iter().find_map(|r| {
            let mut peek = r.clone();
            let _ = peek.next_packet();
            peek.speed_bps().filter(|&s| s > 0)
        });
        match (file_speed, iface_rate) {
            (Some(s), _) => (s, RateSource::File),
            (None, Some(s)) => (s, RateSource::Interface),
            (None, None) => (DEFAULT_LINE_RATE_BPS, RateSource::Default),
        }
    };
    let mut an = Analyzer::new(make(rate));
    let total: usize = readers.iter().map(Reader::len).sum();
    let mut errors = Vec::new();
    let mut n = 0u32;
    // The head packet of each file, and a heap of (timestamp, file) over the heads.
    let mut heads: Vec<Option<Packet>> = vec![None; readers.len()];
    let mut heap = BinaryHeap::new();
    for (i, r) in readers.iter_mut().enumerate() {
        match r.next_packet() {
            Ok(Some(p)) => {
                heap.push(Reverse((p.ts_ns, i)));
                heads[i] = Some(p);
            }
            Ok(None) => {}
            Err(e) => errors.push((i, e)),
        }
    }
    while heap.len() > 1 {
        let Some(Reverse((_, i))) = heap.pop() else {
            break;
        };
        if let Some(p) = heads[i].take() {
            push_one(&mut an, &p);
        }
        n += 1;
        if n == 1 << 16 {
            n = 0;
            progress(readers.iter().map(Reader::position).sum(), total);
        }
        match readers[i].next_packet() {
            Ok(Some(p)) => {
                heap.push(Reverse((p.ts_ns, i)));
                heads[i] = Some(p);
            }
            Ok(None) => {}
            Err(e) => errors.push((i, e)),
        }
    }
    // One file left (the only one, usually): no merging, the plain walk of the hot path.
    if let Some(Reverse((_, i))) = heap.pop() {
        if let Some(p) = heads[i].take() {
            push_one(&mut an, &p);
        }
        let others: usize = readers
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, r)| r.position())
            .sum();
        let mut r = readers.swap_remove(i);
        if let Some(e) = walk(&mut r, &mut an, |done| progress(others + done, total)) {
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
