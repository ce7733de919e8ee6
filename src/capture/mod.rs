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
    mut progress: impl FnMut(usize, usize),
) -> Result<FileResult, ReadError> {
    let mut r = Reader::new(buf)?;
    let format = r.format();
    let (rate, rate_source) = if let Some(v) = line_rate {
        (v, RateSource::Flag)
    } else {
        // pcapng interfaces are described before their packets: reading the first packet
        // on a copy of the reader has parsed them.
        let mut peek = r.clone();
        let _ = peek.next_packet();
        match (peek.speed_bps().filter(|&s| s > 0), iface_rate) {
            (Some(s), _) => (s, RateSource::File),
            (None, Some(s)) => (s, RateSource::Interface),
            (None, None) => (DEFAULT_LINE_RATE_BPS, RateSource::Default),
        }
    };
    let mut an = Analyzer::new(make(rate));
    let mut n = 0u32;
    let error = loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                an.push(&p);
                n += 1;
                if n == 1 << 16 {
                    n = 0;
                    progress(r.position(), r.len());
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    Ok(FileResult {
        format,
        analysis: an.finish(),
        rate_source,
        error,
    })
}
